"""A small reverse-mode automatic differentiation engine, plus dual numbers for forward mode.

Every operation records its inputs (*parents*) and how to push a gradient back to them: a
local derivative for the scalar :class:`Value`, a vector-Jacobian product for the
tensor-level :class:`Variable`. ``backward()`` sorts the graph topologically (every node
after its parents), then walks it in reverse, *adding* each node's contribution to its
parents' gradients, so a node used twice receives the sum of both paths (the multivariate
chain rule). :class:`Dual` carries a value and a tangent forward through the same operations:
one forward-mode pass gives one directional derivative, one reverse-mode pass gives the whole
gradient of a scalar.

Semantics of ``backward()``. Unlike micrograd, where a second ``backward()`` adds into the
stale gradients of the *intermediate* nodes and silently returns wrong numbers, each call
here computes fresh gradients for the whole graph. With ``accumulate=False`` (the default)
every node's ``.grad`` is overwritten with the gradient of this output, so calling it twice
gives the same numbers. With ``accumulate=True`` the gradients are *added* into the leaves'
``.grad`` (the nodes without parents), like ``torch.autograd`` does, while intermediate nodes
still receive the fresh value; :meth:`Value.zero_grad` resets a graph.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar, Union

import torch

from companion import _validate
from companion.activations import get_activation

__all__ = [
    "Dual",
    "Value",
    "Variable",
    "forward_mode_gradient",
    "reverse_mode_gradient",
    "topological_order",
    "trace",
]

Node = TypeVar("Node", "Value", "Variable")
Number = Union[int, float]


def _is_number(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def topological_order(root: Node) -> List[Node]:
    """All nodes that ``root`` depends on, each listed after all of its parents.

    .. math::

        v \\text{ is a parent of } w \\implies \\operatorname{pos}(v) < \\operatorname{pos}(w)

    An iterative depth-first search (no recursion limit on deep graphs); the root is last.
    Reverse-mode differentiation visits this list backwards.

    Parameters
    ----------
    root : Value or Variable
        The output node.

    Returns
    -------
    list
        Every node reachable from ``root`` through parents, once each.

    Raises
    ------
    TypeError
        If ``root`` is not a Value or Variable.

    Examples
    --------
    >>> x = Value(2.0, label="x")
    >>> y = x * x + x
    >>> [n.label or n.op for n in topological_order(y)]
    ['x', '*', '+']
    """
    if not isinstance(root, (Value, Variable)):
        raise TypeError(f"root must be a Value or Variable, got {type(root).__name__}")
    order: list = []
    visited: set = set()
    stack: list = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node._parents):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def trace(root: Node) -> Tuple[List[Node], List[Tuple[Node, Node]]]:
    """The computation graph of ``root``: nodes in topological order and parent->child edges.

    .. math::

        E = \\{(p, c) : p \\text{ is an input of the operation that produced } c\\}

    Parameters
    ----------
    root : Value or Variable

    Returns
    -------
    nodes : list
        As :func:`topological_order`.
    edges : list of (parent, child)
        One edge per use: ``x * x`` gives two edges from ``x``.

    Raises
    ------
    TypeError
        If ``root`` is not a Value or Variable.

    Examples
    --------
    >>> x = Value(3.0, label="x")
    >>> nodes, edges = trace(x * x)
    >>> len(nodes), len(edges)
    (2, 2)
    """
    nodes = topological_order(root)
    edges = [(p, n) for n in nodes for p in n._parents]
    return nodes, edges


def _power_derivative(a: float, p: float) -> float:
    """d(a**p)/da = p a**(p-1), with 0 for p = 0 and inf where it blows up at a = 0."""
    if p == 0:
        return 0.0
    try:
        return p * a ** (p - 1)
    except ZeroDivisionError:
        return math.copysign(math.inf, p)


def _run_backward(root: Node, seed: object, zero: Callable[[Node], object], accumulate: bool) -> None:
    order = topological_order(root)
    grads = {id(n): zero(n) for n in order}
    grads[id(root)] = seed
    for node in reversed(order):
        g = grads[id(node)]
        for parent, push in zip(node._parents, node._backward):
            grads[id(parent)] = grads[id(parent)] + push(g)
    for node in order:
        if accumulate and not node._parents:
            node.grad = node.grad + grads[id(node)]
        else:
            node.grad = grads[id(node)]


# =============================================================================================
# scalar reverse mode


class Value:
    """A scalar node of a computation graph: its value, its gradient, how it was made.

    .. math::

        \\bar v = \\frac{\\partial L}{\\partial v} = \\sum_{w \\in \\text{children}(v)}
        \\bar w \\, \\frac{\\partial w}{\\partial v}

    Supports ``+ - * / **`` (with Values or numbers on either side), :meth:`exp`,
    :meth:`log`, :meth:`tanh`, :meth:`relu` and :meth:`sigmoid`. Values use Python floats
    (double precision).

    Parameters
    ----------
    data : float
        The value.
    label : str, optional
        A name shown by :func:`trace` and ``repr``.

    Raises
    ------
    TypeError
        If ``data`` is not a real number.

    Examples
    --------
    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a          # a is used twice
    >>> c.backward()
    >>> c.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    >>> c.backward()           # a second call gives the same gradients
    >>> a.grad
    -2.0
    """

    __slots__ = ("data", "grad", "_parents", "_backward", "op", "label")

    def __init__(self, data: Number, label: str = "", *, _parents: tuple = (), _local: tuple = (), _op: str = "") -> None:
        self.data = _validate.real(data, "data", finite=False)
        _validate.any_of(label, "label", (str,), "a str")
        self.grad = 0.0
        self._parents: Tuple["Value", ...] = tuple(_parents)
        # d(self)/d(parent), evaluated in the forward pass; backward multiplies by it
        self._backward = tuple((lambda g, d=d: g * d) for d in _local)
        self.op = _op
        self.label = label

    @staticmethod
    def _lift(other: Union["Value", Number], name: str = "other") -> "Value":
        if isinstance(other, Value):
            return other
        if _is_number(other):
            return Value(other)
        raise TypeError(f"{name} must be a Value or a real number, got {type(other).__name__}")

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # -- arithmetic ----------------------------------------------------------------------

    def __add__(self, other: Union["Value", Number]) -> "Value":
        other = self._lift(other)
        return Value(self.data + other.data, _parents=(self, other), _local=(1.0, 1.0), _op="+")

    def __radd__(self, other: Number) -> "Value":
        return self._lift(other) + self

    def __neg__(self) -> "Value":
        return Value(-self.data, _parents=(self,), _local=(-1.0,), _op="neg")

    def __sub__(self, other: Union["Value", Number]) -> "Value":
        other = self._lift(other)
        return Value(self.data - other.data, _parents=(self, other), _local=(1.0, -1.0), _op="-")

    def __rsub__(self, other: Number) -> "Value":
        return self._lift(other) - self

    def __mul__(self, other: Union["Value", Number]) -> "Value":
        other = self._lift(other)
        return Value(self.data * other.data, _parents=(self, other), _local=(other.data, self.data), _op="*")

    def __rmul__(self, other: Number) -> "Value":
        return self._lift(other) * self

    def __truediv__(self, other: Union["Value", Number]) -> "Value":
        other = self._lift(other)
        if other.data == 0.0:
            raise ZeroDivisionError("division by a Value whose data is 0")
        q = self.data / other.data
        return Value(q, _parents=(self, other), _local=(1.0 / other.data, -q / other.data), _op="/")

    def __rtruediv__(self, other: Number) -> "Value":
        return self._lift(other) / self

    def __pow__(self, other: Union["Value", Number]) -> "Value":
        if isinstance(other, Value):
            out = self.data**other.data
            if isinstance(out, complex):
                raise ValueError(f"a negative base ({self.data}) to a non-integer power has no real value")
            # d(a**b)/db = a**b log a; at a = 0 torch's convention is 0 for b >= 0 (0**b is flat there)
            if self.data == 0 and other.data >= 0:
                d_exponent = 0.0
            else:
                d_exponent = out * (math.log(self.data) if self.data > 0 else math.nan)
            local = (_power_derivative(self.data, other.data), d_exponent)
            return Value(out, _parents=(self, other), _local=local, _op="**")
        if not _is_number(other):
            raise TypeError(f"exponent must be a Value or a real number, got {type(other).__name__}")
        p = float(other)
        out = self.data**p
        if isinstance(out, complex):
            raise ValueError(f"a negative base ({self.data}) to a non-integer power has no real value")
        return Value(out, _parents=(self,), _local=(_power_derivative(self.data, p),), _op=f"**{p:g}")

    def __rpow__(self, other: Number) -> "Value":
        return self._lift(other, "base") ** self

    # -- functions -----------------------------------------------------------------------

    def exp(self) -> "Value":
        """:math:`e^x`, whose derivative is itself."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf
        return Value(e, _parents=(self,), _local=(e,), _op="exp")

    def log(self) -> "Value":
        """Natural logarithm, derivative :math:`1/x`; needs positive data."""
        if self.data <= 0:
            raise ValueError(f"log needs positive data, got {self.data}")
        return Value(math.log(self.data), _parents=(self,), _local=(1.0 / self.data,), _op="log")

    def tanh(self) -> "Value":
        """:math:`\\tanh x`, derivative :math:`1 - \\tanh^2 x`."""
        t = math.tanh(self.data)
        return Value(t, _parents=(self,), _local=(1.0 - t * t,), _op="tanh")

    def relu(self) -> "Value":
        """:math:`\\max(x, 0)`, derivative :math:`\\mathbb 1[x > 0]`."""
        return Value(max(self.data, 0.0), _parents=(self,), _local=(1.0 if self.data > 0 else 0.0,), _op="relu")

    def sigmoid(self) -> "Value":
        """:math:`\\sigma(x)`, derivative :math:`\\sigma(x)\\sigma(-x)` (computed stably)."""
        e = math.exp(-abs(self.data))
        big, small = 1.0 / (1.0 + e), e / (1.0 + e)  # sigma(|x|) and sigma(-|x|)
        s = big if self.data >= 0 else small
        return Value(s, _parents=(self,), _local=(big * small,), _op="sigmoid")

    # -- gradients -----------------------------------------------------------------------

    def backward(self, accumulate: bool = False) -> None:
        """Compute :math:`\\partial\\, \\text{self} / \\partial v` for every node ``v`` of the graph.

        .. math::

            \\bar{\\text{self}} = 1, \\qquad
            \\bar v = \\sum_{w:\\, v \\in \\text{parents}(w)} \\bar w\\, \\frac{\\partial w}{\\partial v}
            \\quad \\text{in reverse topological order}

        Parameters
        ----------
        accumulate : bool, default False
            ``False``: every ``.grad`` in the graph is overwritten (calling twice is
            harmless). ``True``: leaves add the new gradient to their ``.grad`` (like
            ``torch.autograd``); intermediate nodes hold the fresh gradient.

        Raises
        ------
        TypeError
            If ``accumulate`` is not a bool.

        Examples
        --------
        >>> x = Value(3.0)
        >>> y = x * x
        >>> y.backward(); y.backward(accumulate=True)
        >>> x.grad
        12.0
        """
        accumulate = _validate.boolean(accumulate, "accumulate")
        _run_backward(self, 1.0, lambda n: 0.0, accumulate)

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on every node of this node's graph."""
        for node in topological_order(self):
            node.grad = 0.0


# =============================================================================================
# forward mode


class Dual:
    """A dual number :math:`a + b\\varepsilon` with :math:`\\varepsilon^2 = 0`, for forward mode.

    .. math::

        f(a + b\\varepsilon) = f(a) + f'(a)\\, b\\, \\varepsilon

    Seeding the tangent ``b = 1`` on one input and ``0`` on the others gives, after one pass,
    the partial derivative of the output with respect to that input.

    Parameters
    ----------
    value : float
        The primal value :math:`a`.
    tangent : float, default 0.0
        The tangent :math:`b` (a directional derivative being carried along).

    Raises
    ------
    TypeError
        If ``value`` or ``tangent`` is not a real number.

    Examples
    --------
    >>> x = Dual(2.0, 1.0)      # d/dx at x = 2
    >>> y = x * x * x
    >>> y.value, y.tangent
    (8.0, 12.0)
    """

    __slots__ = ("value", "tangent")

    def __init__(self, value: Number, tangent: Number = 0.0) -> None:
        self.value = _validate.real(value, "value", finite=False)
        tangent = _validate.real(tangent, "tangent", finite=False)
        self.tangent = float(tangent)

    @staticmethod
    def _lift(other: Union["Dual", Number], name: str = "other") -> "Dual":
        if isinstance(other, Dual):
            return other
        if _is_number(other):
            return Dual(other, 0.0)
        raise TypeError(f"{name} must be a Dual or a real number, got {type(other).__name__}")

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"

    def __add__(self, other: Union["Dual", Number]) -> "Dual":
        o = self._lift(other)
        return Dual(self.value + o.value, self.tangent + o.tangent)

    __radd__ = __add__

    def __neg__(self) -> "Dual":
        return Dual(-self.value, -self.tangent)

    def __sub__(self, other: Union["Dual", Number]) -> "Dual":
        return self + (-self._lift(other))

    def __rsub__(self, other: Number) -> "Dual":
        return self._lift(other) - self

    def __mul__(self, other: Union["Dual", Number]) -> "Dual":
        o = self._lift(other)
        return Dual(self.value * o.value, self.tangent * o.value + self.value * o.tangent)

    __rmul__ = __mul__

    def __truediv__(self, other: Union["Dual", Number]) -> "Dual":
        o = self._lift(other)
        if o.value == 0.0:
            raise ZeroDivisionError("division by a Dual whose value is 0")
        q = self.value / o.value
        return Dual(q, (self.tangent - q * o.tangent) / o.value)

    def __rtruediv__(self, other: Number) -> "Dual":
        return self._lift(other) / self

    def __pow__(self, other: Number) -> "Dual":
        if not _is_number(other):
            raise TypeError(f"exponent must be a real number, got {type(other).__name__}")
        p = float(other)
        out = self.value**p
        if isinstance(out, complex):
            raise ValueError(f"a negative base ({self.value}) to a non-integer power has no real value")
        return Dual(out, _power_derivative(self.value, p) * self.tangent)

    def exp(self) -> "Dual":
        """:math:`e^x`."""
        try:
            e = math.exp(self.value)
        except OverflowError:
            e = math.inf
        return Dual(e, e * self.tangent)

    def log(self) -> "Dual":
        """Natural logarithm; needs a positive value."""
        if self.value <= 0:
            raise ValueError(f"log needs a positive value, got {self.value}")
        return Dual(math.log(self.value), self.tangent / self.value)

    def tanh(self) -> "Dual":
        """:math:`\\tanh x`."""
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.tangent)

    def relu(self) -> "Dual":
        """:math:`\\max(x, 0)` (derivative 0 at 0)."""
        return Dual(max(self.value, 0.0), self.tangent if self.value > 0 else 0.0)

    def sigmoid(self) -> "Dual":
        """:math:`\\sigma(x)`."""
        e = math.exp(-abs(self.value))
        s = 1.0 / (1.0 + e) if self.value >= 0 else e / (1.0 + e)
        return Dual(s, s * (1.0 - s) * self.tangent)


def forward_mode_gradient(f: Callable[..., Dual], xs: Sequence[Number]) -> Tuple[float, List[float], int]:
    """Gradient of a scalar function by forward mode: one pass per input.

    .. math::

        \\frac{\\partial f}{\\partial x_i} = \\operatorname{tangent}\\big(f(x + e_i \\varepsilon)\\big),
        \\quad i = 1, \\dots, n

    Parameters
    ----------
    f : callable
        Takes ``len(xs)`` numbers (Duals) and returns a Dual, using only operations
        that Dual supports.
    xs : sequence of float, length n
        Where to differentiate.

    Returns
    -------
    value : float
    gradient : list of float, length n
    passes : int
        The number of evaluations of ``f`` (``n``).

    Raises
    ------
    TypeError
        If ``f`` does not return a Dual or ``xs`` holds a non-number.

    Examples
    --------
    >>> forward_mode_gradient(lambda x, y: x * y + y, [2.0, 3.0])
    (9.0, [3.0, 3.0], 2)
    """
    xs = [float(x) if _is_number(x) else _raise_number(x, "xs") for x in xs]
    grad: List[float] = []
    value = math.nan
    for i in range(len(xs)):
        out = f(*[Dual(x, 1.0 if j == i else 0.0) for j, x in enumerate(xs)])
        if not isinstance(out, Dual):
            raise TypeError(f"f must return a Dual, got {type(out).__name__}")
        value = out.value
        grad.append(out.tangent)
    return value, grad, len(xs)


def reverse_mode_gradient(f: Callable[..., Value], xs: Sequence[Number]) -> Tuple[float, List[float], int]:
    """Gradient of a scalar function by reverse mode: one forward and one backward pass.

    .. math::

        \\nabla f(x) = \\big(\\bar x_1, \\dots, \\bar x_n\\big) \\text{ after } \\texttt{f(x).backward()}

    Parameters
    ----------
    f : callable
        Takes ``len(xs)`` Values and returns a Value.
    xs : sequence of float, length n
        Where to differentiate.

    Returns
    -------
    value : float
    gradient : list of float, length n
    passes : int
        The number of evaluations of ``f`` (always 1).

    Raises
    ------
    TypeError
        If ``f`` does not return a Value or ``xs`` holds a non-number.

    Examples
    --------
    >>> reverse_mode_gradient(lambda x, y: x * y + y, [2.0, 3.0])
    (9.0, [3.0, 3.0], 1)
    """
    leaves = [Value(x) if _is_number(x) else _raise_number(x, "xs") for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, got {type(out).__name__}")
    out.backward()
    return out.data, [v.grad for v in leaves], 1


def _raise_number(x: object, name: str):  # type: ignore[no-untyped-def]
    raise TypeError(f"{name} must hold real numbers, got {type(x).__name__}")


# =============================================================================================
# tensor-level reverse mode


def _unbroadcast(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum a gradient over the dimensions that broadcasting expanded, back to ``shape``."""
    while grad.dim() > len(shape):
        grad = grad.sum(dim=0)
    for k, n in enumerate(shape):
        if n == 1 and grad.shape[k] != 1:
            grad = grad.sum(dim=k, keepdim=True)
    return grad


class Variable:
    """A tensor node of a computation graph, with vector-Jacobian products for backward.

    .. math::

        \\bar X = \\sum_{Z = g(X, \\dots)} \\bar Z \\cdot \\frac{\\partial Z}{\\partial X}
        \\quad \\text{(never forming the Jacobian)}

    The rules: :math:`\\bar X \\mathrel{+}= \\bar Z` for :math:`Z = X \\pm Y` (with a sign
    and summed over broadcast dimensions), :math:`\\bar X \\mathrel{+}= \\bar Z \\odot Y` for
    :math:`Z = X \\odot Y`, and :math:`\\bar X \\mathrel{+}= \\bar Z Y^\\top,\\ \\bar Y \\mathrel{+}=
    X^\\top \\bar Z` for :math:`Z = XY`, whose 4-D Jacobian :math:`\\partial Z_{ij}/\\partial
    X_{kl} = \\delta_{ik} Y_{lj}` is never built.

    Parameters
    ----------
    data : torch.Tensor
        A floating-point tensor (any device).
    label : str, optional
        A name shown by :func:`trace`.

    Raises
    ------
    TypeError
        If ``data`` is not a floating-point tensor.

    Examples
    --------
    >>> X = Variable(torch.tensor([[1.0, 2.0]]))
    >>> W = Variable(torch.tensor([[3.0], [4.0]]))
    >>> loss = (X @ W).sum()
    >>> loss.backward()
    >>> W.grad
    tensor([[1.],
            [2.]])
    """

    __slots__ = ("data", "grad", "_parents", "_backward", "op", "label")

    def __init__(self, data: torch.Tensor, label: str = "", *, _parents: tuple = (), _vjps: tuple = (), _op: str = "") -> None:
        data = _validate.float_tensor(data, "data")
        _validate.any_of(label, "label", (str,), "a str")
        self.data = data.detach()
        self.grad = torch.zeros_like(self.data)
        self._parents: Tuple["Variable", ...] = tuple(_parents)
        self._backward: Tuple[Callable[[torch.Tensor], torch.Tensor], ...] = tuple(_vjps)
        self.op = _op
        self.label = label

    def _lift(self, other: Union["Variable", torch.Tensor, Number], name: str = "other") -> "Variable":
        if isinstance(other, Variable):
            if other.data.device != self.data.device:
                raise ValueError(f"{name} is on {other.data.device}, but self is on {self.data.device}")
            return other
        if isinstance(other, torch.Tensor):
            return Variable(other.to(device=self.data.device, dtype=self.data.dtype))
        if _is_number(other):
            return Variable(torch.tensor(float(other), dtype=self.data.dtype, device=self.data.device))
        raise TypeError(f"{name} must be a Variable, a tensor or a real number, got {type(other).__name__}")

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Variable({name}shape={tuple(self.data.shape)}, op={self.op or 'leaf'!r})"

    @property
    def shape(self) -> torch.Size:
        """The shape of ``data``."""
        return self.data.shape

    def _broadcast_check(self, other: "Variable") -> None:
        try:
            torch.broadcast_shapes(self.data.shape, other.data.shape)
        except RuntimeError as err:
            raise ValueError(
                f"other has shape {tuple(other.data.shape)}, which does not broadcast with {tuple(self.data.shape)}"
            ) from err

    # -- elementwise arithmetic with broadcasting -------------------------------------------

    def __add__(self, other: Union["Variable", torch.Tensor, Number]) -> "Variable":
        o = self._lift(other)
        self._broadcast_check(o)
        a, b = self.data.shape, o.data.shape
        return Variable(self.data + o.data, _parents=(self, o), _op="+",
                        _vjps=(lambda g: _unbroadcast(g, a), lambda g: _unbroadcast(g, b)))

    def __radd__(self, other: Union[torch.Tensor, Number]) -> "Variable":
        return self._lift(other) + self

    def __neg__(self) -> "Variable":
        return Variable(-self.data, _parents=(self,), _vjps=(lambda g: -g,), _op="neg")

    def __sub__(self, other: Union["Variable", torch.Tensor, Number]) -> "Variable":
        o = self._lift(other)
        self._broadcast_check(o)
        a, b = self.data.shape, o.data.shape
        return Variable(self.data - o.data, _parents=(self, o), _op="-",
                        _vjps=(lambda g: _unbroadcast(g, a), lambda g: -_unbroadcast(g, b)))

    def __rsub__(self, other: Union[torch.Tensor, Number]) -> "Variable":
        return self._lift(other) - self

    def __mul__(self, other: Union["Variable", torch.Tensor, Number]) -> "Variable":
        o = self._lift(other)
        self._broadcast_check(o)
        x, y = self.data, o.data
        return Variable(x * y, _parents=(self, o), _op="*",
                        _vjps=(lambda g: _unbroadcast(g * y, x.shape), lambda g: _unbroadcast(g * x, y.shape)))

    def __rmul__(self, other: Union[torch.Tensor, Number]) -> "Variable":
        return self._lift(other) * self

    def __truediv__(self, other: Union["Variable", torch.Tensor, Number]) -> "Variable":
        o = self._lift(other)
        self._broadcast_check(o)
        x, y = self.data, o.data
        q = x / y
        return Variable(q, _parents=(self, o), _op="/",
                        _vjps=(lambda g: _unbroadcast(g / y, x.shape), lambda g: _unbroadcast(-g * q / y, y.shape)))

    def __rtruediv__(self, other: Union[torch.Tensor, Number]) -> "Variable":
        return self._lift(other) / self

    def __pow__(self, p: Number) -> "Variable":
        if not _is_number(p):
            raise TypeError(f"exponent must be a real number, got {type(p).__name__}")
        p = float(p)
        x = self.data
        if p == 0:  # x**0 = 1 is constant: gradient 0, also at x = 0 (where p x**(p-1) is 0 * inf)
            return Variable(torch.ones_like(x), _parents=(self,), _vjps=(torch.zeros_like,), _op="**0")
        return Variable(x**p, _parents=(self,), _vjps=(lambda g: g * p * x ** (p - 1),), _op=f"**{p:g}")

    # -- linear algebra ------------------------------------------------------------------

    def __matmul__(self, other: "Variable") -> "Variable":
        """Matrix product of 2-D operands: :math:`\\bar X = \\bar Z Y^\\top`, :math:`\\bar Y = X^\\top \\bar Z`."""
        o = self._lift(other)
        if self.data.dim() != 2:
            raise ValueError(f"matmul needs a 2-D self, got shape {tuple(self.data.shape)}")
        if o.data.dim() != 2:
            raise ValueError(f"other must be 2-D, got shape {tuple(o.data.shape)}")
        if self.data.shape[1] != o.data.shape[0]:
            raise ValueError(f"other has {o.data.shape[0]} rows, but self has {self.data.shape[1]} columns")
        x, y = self.data, o.data
        return Variable(x @ y, _parents=(self, o), _op="@", _vjps=(lambda g: g @ y.T, lambda g: x.T @ g))

    def __rmatmul__(self, other: torch.Tensor) -> "Variable":
        return self._lift(other) @ self

    @property
    def T(self) -> "Variable":
        """Transpose of a 2-D Variable."""
        if self.data.dim() != 2:
            raise ValueError(f"T needs a 2-D Variable, got shape {tuple(self.data.shape)}")
        return Variable(self.data.T, _parents=(self,), _vjps=(lambda g: g.T,), _op="T")

    def sum(self, dim: Optional[int] = None, keepdim: bool = False) -> "Variable":
        """Sum of all entries, or along ``dim``; the gradient is broadcast back."""
        x = self.data
        if dim is None:
            return Variable(x.sum(), _parents=(self,), _vjps=(lambda g: g.expand(x.shape).clone(),), _op="sum")
        d = _validate.dim(dim, x, "the Variable")
        keepdim = _validate.boolean(keepdim, "keepdim")
        out = x.sum(dim=d, keepdim=keepdim)
        if x.dim() == 0:  # torch: summing a 0-d tensor over dim 0 or -1 changes nothing
            return Variable(out, _parents=(self,), _op="sum", _vjps=(lambda g: g.clone(),))
        return Variable(out, _parents=(self,), _op="sum",
                        _vjps=(lambda g: (g if keepdim else g.unsqueeze(d)).expand(x.shape).clone(),))

    def mean(self) -> "Variable":
        """Mean of all entries."""
        return self.sum() * (1.0 / self.data.numel())

    # -- elementwise functions -----------------------------------------------------------

    def exp(self) -> "Variable":
        """:math:`e^X` elementwise."""
        e = torch.exp(self.data)
        return Variable(e, _parents=(self,), _vjps=(lambda g: g * e,), _op="exp")

    def log(self) -> "Variable":
        """Natural logarithm elementwise."""
        x = self.data
        return Variable(torch.log(x), _parents=(self,), _vjps=(lambda g: g / x,), _op="log")

    def activation(self, name: str, **kwargs: float) -> "Variable":
        """Apply an activation of :mod:`companion.activations` by name, e.g. ``"relu"``.

        .. math::

            Z = \\sigma(X), \\qquad \\bar X = \\bar Z \\odot \\sigma'(X)
        """
        fn, grad = get_activation(name)
        x = self.data
        return Variable(fn(x, **kwargs), _parents=(self,), _vjps=(lambda g: g * grad(x, **kwargs),), _op=name)

    def relu(self) -> "Variable":
        """ReLU elementwise."""
        return self.activation("relu")

    def tanh(self) -> "Variable":
        """tanh elementwise."""
        return self.activation("tanh")

    def sigmoid(self) -> "Variable":
        """Sigmoid elementwise."""
        return self.activation("sigmoid")

    def log_softmax(self, dim: int = -1) -> "Variable":
        """Log-softmax along ``dim``: :math:`\\bar X = \\bar Z - \\operatorname{softmax}(X) \\sum \\bar Z`."""
        x = self.data
        out = x - torch.logsumexp(x, dim=dim, keepdim=True)
        p = out.exp()
        return Variable(out, _parents=(self,), _op="log_softmax",
                        _vjps=(lambda g: g - p * g.sum(dim=dim, keepdim=True),))

    # -- gradients -----------------------------------------------------------------------

    def backward(self, grad: Optional[torch.Tensor] = None, accumulate: bool = False) -> None:
        """Reverse-mode pass from this node; same semantics as :meth:`Value.backward`.

        .. math::

            \\bar{\\text{self}} = \\texttt{grad} \\ (\\text{default } 1 \\text{ for a scalar})

        Parameters
        ----------
        grad : torch.Tensor, shape of ``self.data``, optional
            The upstream gradient; required when ``self`` is not a scalar.
        accumulate : bool, default False
            Add into the leaves' ``.grad`` instead of overwriting.

        Raises
        ------
        ValueError
            If ``grad`` is missing for a non-scalar output or has the wrong shape.
        TypeError
            If ``accumulate`` is not a bool or ``grad`` is not a tensor.
        """
        accumulate = _validate.boolean(accumulate, "accumulate")
        if grad is None:
            if self.data.numel() != 1:
                raise ValueError(f"grad must be given for a non-scalar output of shape {tuple(self.data.shape)}")
            grad = torch.ones_like(self.data)
        elif not isinstance(grad, torch.Tensor):
            raise TypeError(f"grad must be a torch.Tensor, got {type(grad).__name__}")
        elif grad.shape != self.data.shape:
            raise ValueError(f"grad must have shape {tuple(self.data.shape)}, got {tuple(grad.shape)}")
        _run_backward(self, grad.to(self.data), lambda n: torch.zeros_like(n.data), accumulate)

    def zero_grad(self) -> None:
        """Set ``.grad`` to zeros on every node of this node's graph."""
        for node in topological_order(self):
            node.grad = torch.zeros_like(node.data)

