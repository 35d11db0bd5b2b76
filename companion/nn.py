"""Neural-network layers with explicit forward and backward passes, and a gradient checker.

A multilayer perceptron alternates affine maps and elementwise activations:
:math:`a^{[0]} = x,\\ z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]},\\ a^{[l]} = \\sigma(z^{[l]})`, with no
activation after the last layer. The forward pass caches every :math:`z^{[l]}` and
:math:`a^{[l]}`; the backward pass starts from :math:`\\delta^{[L]} = \\partial E/\\partial z^{[L]}`
and applies the backpropagation recursion
:math:`\\delta^{[l]} = \\sigma'(z^{[l]}) \\odot W^{[l+1]\\top} \\delta^{[l+1]}`, reading off
:math:`\\partial E/\\partial W^{[l]} = \\delta^{[l]} a^{[l-1]\\top}` and
:math:`\\partial E/\\partial b^{[l]} = \\delta^{[l]}`. Batches are stored one example per *row*,
so in code these read ``dW = delta.T @ a`` and ``delta = (delta @ W) * grad(z)``.
:func:`gradcheck` compares any analytic gradient with central differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from companion import _validate
from companion.activations import get_activation

__all__ = [
    "MLP",
    "Activation",
    "GradcheckError",
    "GradcheckResult",
    "Identity",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "gradcheck",
    "sgd_step",
]

DeviceLike = Optional[Union[str, torch.device]]

_TORCH_ACTIVATIONS: Dict[str, Callable[[], torch.nn.Module]] = {
    "identity": torch.nn.Identity,
    "linear": torch.nn.Identity,
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "leaky_relu": torch.nn.LeakyReLU,
    "elu": torch.nn.ELU,
    "selu": torch.nn.SELU,
    "swish": torch.nn.SiLU,
    "silu": torch.nn.SiLU,
    "mish": torch.nn.Mish,
    "gelu": torch.nn.GELU,
}


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _identity_grad(x: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(x)


def _activation_pair(name: str, argument: str = "activation") -> Tuple[Callable, Callable]:
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be a str, got {type(name).__name__}")
    if name in ("identity", "linear"):
        return _identity, _identity_grad
    try:
        return get_activation(name)
    except ValueError as err:
        raise ValueError(f"{argument} must be 'identity' or an activation of companion.activations, got {name!r}") from err


def _check_input(x: object, features: int, like: torch.Tensor, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != features:
        raise ValueError(f"{name} must have shape (N, {features}), got {tuple(x.shape)}")
    if x.dtype != like.dtype:
        raise TypeError(f"{name} must have dtype {like.dtype} (the parameters' dtype), got {x.dtype}")
    if x.device != like.device:
        raise ValueError(f"{name} is on {x.device}, but the parameters are on {like.device}")
    return x


def _uniform(shape: Tuple[int, ...], bound: float, dtype: torch.dtype, device: DeviceLike, generator: Optional[torch.Generator]) -> torch.Tensor:
    # drawn on the CPU in float64, so the same seed gives the same network on every device
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return ((2.0 * u - 1.0) * bound).to(device=device, dtype=dtype)


# =============================================================================================
# layers


class Linear:
    """Affine layer :math:`z = W a + b`, applied to a batch stored one example per row.

    .. math::

        Z = A W^\\top + \\mathbf 1 b^\\top, \\qquad
        \\frac{\\partial E}{\\partial W} = \\Delta^\\top A, \\quad
        \\frac{\\partial E}{\\partial b} = \\Delta^\\top \\mathbf 1, \\quad
        \\frac{\\partial E}{\\partial A} = \\Delta W

    where :math:`\\Delta = \\partial E / \\partial Z` (the :math:`\\delta` of each example, one
    per row). Parameters start as PyTorch's ``nn.Linear`` does, uniform in
    :math:`\\pm 1/\\sqrt{\\text{in\\_features}}`.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of :math:`a` and :math:`z`.
    bias : bool, default True
        Whether to add :math:`b`.
    dtype : torch.dtype, default torch.float32
    device : str or torch.device, optional
    generator : torch.Generator, optional
        A CPU generator for the initial values.

    Attributes
    ----------
    weight : torch.Tensor, shape (out_features, in_features)
    bias : torch.Tensor, shape (out_features,) or None
    grads : list of torch.Tensor
        Filled by :meth:`backward`, in the order of :attr:`params` (``[weight, bias]``).

    Raises
    ------
    TypeError, ValueError
        On sizes that are not positive ints or a non-floating dtype.

    Examples
    --------
    >>> layer = Linear(3, 2, generator=torch.Generator().manual_seed(0))
    >>> z = layer(torch.ones(4, 3))
    >>> dx = layer.backward(torch.ones(4, 2))
    >>> tuple(z.shape), tuple(dx.shape), [tuple(g.shape) for g in layer.grads]
    ((4, 2), (4, 3), [(2, 3), (2,)])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: torch.dtype = torch.float32,
        device: DeviceLike = None,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        self.in_features = _validate.integer(in_features, "in_features", low=1)
        self.out_features = _validate.integer(out_features, "out_features", low=1)
        bias, dtype = _validate.boolean(bias, "bias"), _validate.dtype(dtype)
        device, generator = _validate.device(device), _validate.generator(generator)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound, dtype, device, generator)
        self.bias: Optional[torch.Tensor] = _uniform((out_features,), bound, dtype, device, generator) if bias else None
        self.grads: List[torch.Tensor] = []
        self._input: Optional[torch.Tensor] = None

    @property
    def params(self) -> List[torch.Tensor]:
        """``[weight, bias]``, or ``[weight]`` without bias."""
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`Z = X W^\\top + b` for ``x`` of shape (N, in_features); caches ``x``."""
        x = _check_input(x, self.in_features, self.weight)
        self._input = x
        if self.bias is None:
            return x @ self.weight.T
        return torch.addmm(self.bias, x, self.weight.T)

    __call__ = forward

    def backward(self, dout: torch.Tensor) -> torch.Tensor:
        """Store the parameter gradients in ``grads`` and return :math:`\\partial E/\\partial X = \\Delta W`.

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        ValueError, TypeError
            If ``dout`` does not have shape (N, out_features) and the parameters' dtype/device.
        """
        if self._input is None:
            raise RuntimeError("backward() called before forward(): no cached input")
        dout = _check_input(dout, self.out_features, self.weight, "dout")
        if dout.shape[0] != self._input.shape[0]:
            raise ValueError(f"dout must have {self._input.shape[0]} rows (the batch of forward), got {dout.shape[0]}")
        self.grads = [dout.T @ self._input]
        if self.bias is not None:
            self.grads.append(dout.sum(dim=0))
        return dout @ self.weight


class Activation:
    """Elementwise activation layer :math:`a = \\sigma(z)` with its backward pass.

    .. math::

        \\frac{\\partial E}{\\partial z} = \\frac{\\partial E}{\\partial a} \\odot \\sigma'(z)

    Parameters
    ----------
    name : str, default "relu"
        ``"identity"`` or a key of :data:`companion.activations.ACTIVATIONS`.
    **kwargs : float
        Passed to the activation (e.g. ``negative_slope=0.1``).

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> act = Activation("relu")
    >>> act(torch.tensor([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    >>> act.backward(torch.tensor([[5.0, 5.0]]))
    tensor([[0., 5.]])
    """

    def __init__(self, name: str = "relu", **kwargs: float) -> None:
        self.params: List[torch.Tensor] = []  # an activation has no parameters
        self.grads: List[torch.Tensor] = []
        self.name = name
        self._fn, self._grad = _activation_pair(name, "name")
        self._kwargs = kwargs
        self._input: Optional[torch.Tensor] = None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """:math:`\\sigma(z)`; caches ``z``."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        self._input = z
        return self._fn(z, **self._kwargs)

    __call__ = forward

    def backward(self, dout: torch.Tensor) -> torch.Tensor:
        """:math:`\\partial E/\\partial z = \\partial E / \\partial a \\odot \\sigma'(z)`.

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        ValueError
            If ``dout`` has another shape than the cached input.
        """
        if self._input is None:
            raise RuntimeError("backward() called before forward(): no cached input")
        if not isinstance(dout, torch.Tensor) or dout.shape != self._input.shape:
            got = tuple(dout.shape) if isinstance(dout, torch.Tensor) else type(dout).__name__
            raise ValueError(f"dout must have shape {tuple(self._input.shape)}, got {got}")
        return dout * self._grad(self._input, **self._kwargs)


class Identity(Activation):
    """The identity layer (no activation)."""

    def __init__(self) -> None:
        super().__init__("identity")


class ReLU(Activation):
    """ReLU layer."""

    def __init__(self) -> None:
        super().__init__("relu")


class Tanh(Activation):
    """tanh layer."""

    def __init__(self) -> None:
        super().__init__("tanh")


class Sigmoid(Activation):
    """Sigmoid layer."""

    def __init__(self) -> None:
        super().__init__("sigmoid")


# =============================================================================================
# the MLP with the backpropagation equations written out


class MLP:
    """Multilayer perceptron with hand-written backpropagation.

    .. math::

        z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]},\\quad a^{[l]} = \\sigma(z^{[l]})\\ (l < L),
        \\quad \\hat y = z^{[L]}

        \\delta^{[L]} = \\frac{\\partial E}{\\partial z^{[L]}},\\quad
        \\delta^{[l]} = \\sigma'(z^{[l]}) \\odot W^{[l+1]\\top} \\delta^{[l+1]},\\quad
        \\frac{\\partial E}{\\partial W^{[l]}} = \\delta^{[l]} a^{[l-1]\\top},\\quad
        \\frac{\\partial E}{\\partial b^{[l]}} = \\delta^{[l]}

    summed over the examples of the batch. The output is the last pre-activation (logits
    for a classifier, predictions for a regression): the loss supplies :math:`\\delta^{[L]}`,
    e.g. :math:`(\\operatorname{softmax}(z^{[L]}) - y)/N` for the mean cross-entropy.

    Parameters
    ----------
    sizes : sequence of int, length L + 1 >= 2
        Layer widths :math:`(N^{[0]}, N^{[1]}, \\dots, N^{[L]})`, input first.
    activation : str, default "relu"
        Hidden activation: ``"identity"`` or a key of
        :data:`companion.activations.ACTIVATIONS`.
    dtype : torch.dtype, default torch.float32
    device : str or torch.device, optional
    generator : torch.Generator, optional
        A CPU generator; the same seed gives the same parameters on every device.

    Attributes
    ----------
    params : list of torch.Tensor
        ``[W1, b1, W2, b2, ...]``; :math:`W^{[l]}` has shape
        ``(sizes[l], sizes[l-1])``.
    zs, activations : list of torch.Tensor
        Cached by :meth:`forward`: :math:`z^{[1]}, \\dots, z^{[L]}` and
        :math:`a^{[0]}, \\dots, a^{[L]}` (with :math:`a^{[L]} = z^{[L]}`).
    input_grad : torch.Tensor or None
        :math:`\\partial E/\\partial x`, when ``backward(..., input_grad=True)``.

    Raises
    ------
    TypeError, ValueError
        On bad ``sizes``, ``activation`` or ``dtype``.

    Examples
    --------
    >>> net = MLP([2, 3, 1], activation="tanh", dtype=torch.float64,
    ...           generator=torch.Generator().manual_seed(0))
    >>> [tuple(p.shape) for p in net.params]
    [(3, 2), (3,), (1, 3), (1,)]
    >>> y = net(torch.ones(5, 2, dtype=torch.float64))
    >>> grads = net.backward(torch.ones(5, 1, dtype=torch.float64))
    >>> [tuple(g.shape) for g in grads] == [tuple(p.shape) for p in net.params]
    True
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        dtype: torch.dtype = torch.float32,
        device: DeviceLike = None,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {list(sizes)}")
        self.sizes = [_validate.integer(n, "every entry of sizes", low=1) for n in sizes]
        dtype, device = _validate.dtype(dtype), _validate.device(device)
        self.activation = activation
        self._fn, self._grad = _activation_pair(activation)
        self.params: List[torch.Tensor] = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            layer = Linear(n_in, n_out, dtype=dtype, device=device, generator=generator)
            self.params += [layer.weight, layer.bias]  # type: ignore[list-item]
        self.zs: List[torch.Tensor] = []
        self.activations: List[torch.Tensor] = []
        self.input_grad: Optional[torch.Tensor] = None

    @property
    def num_layers(self) -> int:
        """:math:`L`, the number of affine layers."""
        return len(self.sizes) - 1

    @property
    def weights(self) -> List[torch.Tensor]:
        """:math:`W^{[1]}, \\dots, W^{[L]}`."""
        return self.params[0::2]

    @property
    def biases(self) -> List[torch.Tensor]:
        """:math:`b^{[1]}, \\dots, b^{[L]}`."""
        return self.params[1::2]

    def num_params(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.numel() for p in self.params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forward propagation; caches :math:`z^{[l]}` and :math:`a^{[l]}`.

        Parameters
        ----------
        x : torch.Tensor, shape (N, sizes[0])
            A batch, one example per row, in the parameters' dtype and on their device.

        Returns
        -------
        torch.Tensor, shape (N, sizes[-1])
            :math:`z^{[L]}` (no activation after the last layer).

        Raises
        ------
        TypeError, ValueError
            If ``x`` has the wrong type, shape, dtype or device.
        """
        a = _check_input(x, self.sizes[0], self.params[0])
        self.activations, self.zs = [a], []
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            z = torch.addmm(b, a, W.T)  # a W^T + b in one fused call
            a = self._fn(z) if l < self.num_layers else z
            self.zs.append(z)
            self.activations.append(a)
        return a

    __call__ = forward

    def backward(self, dout: torch.Tensor, input_grad: bool = False) -> List[torch.Tensor]:
        """Backward propagation from :math:`\\delta^{[L]} = \\partial E / \\partial z^{[L]}`.

        Parameters
        ----------
        dout : torch.Tensor, shape (N, sizes[-1])
            :math:`\\delta^{[L]}` for each example (row) of the last forward batch; the
            gradient of the *total* loss, so a mean over the batch already carries its
            :math:`1/N`.
        input_grad : bool, default False
            Also compute :math:`\\partial E / \\partial x` into ``self.input_grad`` (one more
            matrix product, not needed for training).

        Returns
        -------
        list of torch.Tensor
            :math:`\\partial E/\\partial W^{[1]}, \\partial E/\\partial b^{[1]}, \\dots`, in the
            order and shapes of ``params``.

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        TypeError, ValueError
            If ``dout`` has the wrong type, shape, dtype or device.
        """
        if not self.zs:
            raise RuntimeError("backward() called before forward(): no cached activations")
        delta = _check_input(dout, self.sizes[-1], self.params[0], "dout")
        if delta.shape[0] != self.activations[0].shape[0]:
            raise ValueError(f"dout must have {self.activations[0].shape[0]} rows (the batch of forward), got {delta.shape[0]}")
        grads: List[torch.Tensor] = [torch.empty(0)] * len(self.params)
        for l in range(self.num_layers, 0, -1):  # l = L, ..., 1
            W = self.weights[l - 1]
            a_prev = self.activations[l - 1]
            grads[2 * (l - 1)] = delta.T @ a_prev  # dE/dW = delta a^T, summed over the batch
            grads[2 * (l - 1) + 1] = delta.sum(dim=0)  # dE/db = delta
            if l > 1:  # delta^{l-1} = sigma'(z^{l-1}) * W^T delta^l
                delta = (delta @ W).mul_(self._grad(self.zs[l - 2]))
        self.input_grad = delta @ self.weights[0] if input_grad else None
        return grads

    def to_torch(self) -> torch.nn.Sequential:
        """An equivalent ``torch.nn.Sequential`` holding copies of the parameters.

        Returns
        -------
        torch.nn.Sequential
            ``Linear, activation, ..., Linear`` in the parameters' dtype and device.
        """
        layers: List[torch.nn.Module] = []
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype, device=W.device)
            with torch.no_grad():
                lin.weight.copy_(W)
                lin.bias.copy_(b)
            layers.append(lin)
            if l < self.num_layers:
                layers.append(_TORCH_ACTIVATIONS[self.activation]())
        return torch.nn.Sequential(*layers)

    def flops(self, batch: int) -> Dict[str, int]:
        """Floating-point operations of one forward and one backward pass, counted by hand.

        A multiply-add counts 2; an elementwise operation 1. Forward, per layer:
        :math:`2 B n_{l-1} n_l` (matrix product) :math:`+ B n_l` (bias)
        :math:`+ B n_l` (activation, hidden layers). Backward, per layer:
        :math:`2 B n_{l-1} n_l` for :math:`\\partial E/\\partial W`, :math:`B n_l` for the bias,
        and, below the last layer, :math:`2 B n_l n_{l-1}` for :math:`W^\\top \\delta` plus
        :math:`2 B n_{l-1}` for :math:`\\sigma'(z) \\odot \\cdot`. So backward costs about
        twice the forward's matrix products, minus the first layer's input gradient.

        .. math::

            \\text{backward} \\approx 2\\,\\text{forward} - 2 B n_0 n_1

        Parameters
        ----------
        batch : int
            Number of examples :math:`B`.

        Returns
        -------
        dict
            ``forward``, ``backward`` (totals), ``forward_matmul``, ``backward_matmul``.

        Raises
        ------
        TypeError, ValueError
            If ``batch`` is not a positive int.

        Examples
        --------
        >>> MLP([64, 128, 10]).flops(1)["forward_matmul"]
        18944
        """
        B = _validate.integer(batch, "batch", low=1)
        fwd_mm = bwd_mm = fwd_ew = bwd_ew = 0
        L = self.num_layers
        for l in range(1, L + 1):
            n_in, n_out = self.sizes[l - 1], self.sizes[l]
            fwd_mm += 2 * B * n_in * n_out
            fwd_ew += B * n_out + (B * n_out if l < L else 0)
            bwd_mm += 2 * B * n_in * n_out
            bwd_ew += B * n_out
            if l > 1:
                bwd_mm += 2 * B * n_out * n_in
                bwd_ew += 2 * B * n_in
        return {
            "forward": fwd_mm + fwd_ew,
            "backward": bwd_mm + bwd_ew,
            "forward_matmul": fwd_mm,
            "backward_matmul": bwd_mm,
        }


def sgd_step(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor], lr: float) -> None:
    """Plain gradient descent, in place: :math:`\\theta \\leftarrow \\theta - \\eta\\, g`.

    .. math::

        \\theta \\leftarrow \\theta - \\eta \\nabla_\\theta E

    Parameters
    ----------
    params : sequence of torch.Tensor
        Updated in place.
    grads : sequence of torch.Tensor
        Same length and shapes as ``params``.
    lr : float
        Learning rate :math:`\\eta > 0`.

    Raises
    ------
    ValueError
        If the lengths or shapes differ, or ``lr`` is not positive and finite.

    Examples
    --------
    >>> p = [torch.tensor([1.0, 2.0])]
    >>> sgd_step(p, [torch.tensor([10.0, -10.0])], lr=0.1)
    >>> p[0]
    tensor([0., 3.])
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if len(params) != len(grads):
        raise ValueError(f"grads must have one entry per parameter ({len(params)}), got {len(grads)}")
    for i, (p, g) in enumerate(zip(params, grads)):
        if p.shape != g.shape:
            raise ValueError(f"grads[{i}] has shape {tuple(g.shape)}, but params[{i}] has {tuple(p.shape)}")
        p.sub_(lr * g)


# =============================================================================================
# gradient checking


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with finite differences."""


@dataclass
class GradcheckResult:
    """The outcome of :func:`gradcheck`; ``str()`` gives a readable report, ``bool()`` the verdict."""

    ok: bool
    checked: int
    failed: int
    max_abs_error: float
    worst_input: int
    worst_index: Tuple[int, ...]
    worst_analytic: float
    worst_numeric: float
    worst_allowed: float
    eps: float
    atol: float
    rtol: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        head = (
            f"gradcheck {verdict}: {self.failed} of {self.checked} checked entries disagree "
            f"(central differences with eps={self.eps:g}; allowed |analytic - numeric| <= "
            f"atol + rtol*|numeric| with atol={self.atol:g}, rtol={self.rtol:g})."
        )
        if self.checked == 0:
            return head
        worst = (
            f"\nworst entry: input {self.worst_input}, index {self.worst_index}: "
            f"analytic {self.worst_analytic:.6g}, numeric {self.worst_numeric:.6g}, "
            f"|difference| {abs(self.worst_analytic - self.worst_numeric):.3g} "
            f"(allowed {self.worst_allowed:.3g})"
            f"\nlargest |difference| over all checked entries: {self.max_abs_error:.3g}"
        )
        return head + worst


_DEFAULTS = {torch.float64: (1e-6, 1e-5, 1e-3), torch.float32: (1e-3, 1e-3, 1e-2)}


def gradcheck(
    fn: Callable[..., torch.Tensor],
    inputs: Sequence[torch.Tensor],
    grads: Optional[Sequence[torch.Tensor]] = None,
    *,
    eps: Optional[float] = None,
    atol: Optional[float] = None,
    rtol: Optional[float] = None,
    samples: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    raise_on_failure: bool = True,
) -> GradcheckResult:
    """Compare analytic gradients of a scalar function with central differences.

    .. math::

        \\frac{\\partial f}{\\partial x_j} \\approx \\frac{f(x + \\epsilon e_j) - f(x - \\epsilon e_j)}{2\\epsilon},
        \\qquad \\text{error } O(\\epsilon^2)

    Entry ``j`` passes when :math:`|g_j - \\hat g_j| \\le \\text{atol} + \\text{rtol}\\,|\\hat g_j|`.
    The report names the worst entry: the one that exceeds its allowance by the largest
    factor. Use float64 inputs: in float32 the rounding error of the difference quotient,
    about :math:`10^{-7} |f| / \\epsilon`, swamps small gradients.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs)`` returns a tensor with one element.
    inputs : sequence of torch.Tensor
        Floating-point tensors at which to differentiate (they are not modified).
    grads : sequence of torch.Tensor, optional
        The analytic gradients to check, one per input, same shapes. Default: computed
        by ``torch.autograd`` through ``fn``.
    eps, atol, rtol : float, optional
        Step and tolerances; defaults ``(1e-6, 1e-5, 1e-3)`` in float64 and
        ``(1e-3, 1e-3, 1e-2)`` in float32.
    samples : int, optional
        Check at most this many randomly chosen entries of each input (all by default);
        central differences cost two evaluations of ``fn`` per entry.
    generator : torch.Generator, optional
        For choosing the sampled entries.
    raise_on_failure : bool, default True
        Raise :class:`GradcheckError` with the report when an entry disagrees.

    Returns
    -------
    GradcheckResult

    Raises
    ------
    TypeError
        If ``inputs`` holds a non-floating tensor or ``fn`` does not return a tensor.
    ValueError
        If ``fn`` does not return one element, or ``grads`` does not match ``inputs``.
    GradcheckError
        If the check fails and ``raise_on_failure`` is true.

    Examples
    --------
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> print(gradcheck(lambda x: (x ** 3).sum(), [x], [3 * x ** 2]))  # doctest: +ELLIPSIS
    gradcheck passed: 0 of 2 checked entries disagree ...
    >>> r = gradcheck(lambda x: (x ** 3).sum(), [x], [2 * x ** 2], raise_on_failure=False)
    >>> r.ok, r.worst_index, round(r.worst_numeric, 6)
    (False, (1,), 12.0)
    """
    if isinstance(inputs, torch.Tensor) or not isinstance(inputs, Sequence):
        raise TypeError(f"inputs must be a sequence of tensors, got {type(inputs).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"inputs[{i}] must be a floating-point tensor, got {got}")
    work = [x.detach().clone() for x in inputs]
    d_eps, d_atol, d_rtol = _DEFAULTS.get(work[0].dtype if work else torch.float64, _DEFAULTS[torch.float32])
    eps = d_eps if eps is None else float(eps)
    atol = d_atol if atol is None else float(atol)
    rtol = d_rtol if rtol is None else float(rtol)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")

    def f(*args: torch.Tensor) -> float:
        out = fn(*args)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"fn must return a tensor, got {type(out).__name__}")
        if out.numel() != 1:
            raise ValueError(f"fn must return a tensor with one element, got shape {tuple(out.shape)}")
        return float(out.detach().reshape(()).item())

    if grads is None:
        leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
        with torch.enable_grad():
            out = fn(*leaves)
            if not isinstance(out, torch.Tensor) or out.numel() != 1:
                f(*work)  # raises the right error
            if out.requires_grad:
                analytic = list(torch.autograd.grad(out.reshape(()), leaves, allow_unused=True))
            else:  # fn does not depend on its inputs
                analytic = [None] * len(leaves)
        analytic = [torch.zeros_like(x) if g is None else g.detach() for g, x in zip(analytic, leaves)]
    else:
        if len(grads) != len(inputs):
            raise ValueError(f"grads must have one entry per input ({len(inputs)}), got {len(grads)}")
        analytic = []
        for i, (g, x) in enumerate(zip(grads, inputs)):
            if not isinstance(g, torch.Tensor) or g.shape != x.shape:
                got = tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__
                raise ValueError(f"grads[{i}] must have shape {tuple(x.shape)}, got {got}")
            analytic.append(g.detach())

    checked = failed = 0
    max_abs = 0.0
    worst = (-1.0, -1, (), math.nan, math.nan, math.nan)  # (ratio, input, index, analytic, numeric, allowed)
    for i, x in enumerate(work):
        flat = x.view(-1)
        n = flat.numel()
        if samples is not None and samples < n:
            positions = torch.randperm(n, generator=generator)[:samples].sort().values.tolist()
        else:
            positions = range(n)
        g_flat = analytic[i].reshape(-1)
        for j in positions:
            original = flat[j].item()
            flat[j] = original + eps
            f_plus = f(*work)
            flat[j] = original - eps
            f_minus = f(*work)
            flat[j] = original
            numeric = (f_plus - f_minus) / (2 * eps)
            a = float(g_flat[j].item())
            diff = abs(a - numeric)
            allowed = atol + rtol * abs(numeric)
            # NaN or inf on either side is a failure (inf - inf is NaN; inf <= atol + rtol*inf is true)
            bad = not (math.isfinite(a) and math.isfinite(numeric) and diff <= allowed)
            checked += 1
            failed += bad
            max_abs = max(max_abs, diff) if not math.isnan(diff) else math.inf
            finite = math.isfinite(diff) and math.isfinite(allowed) and allowed > 0
            ratio = diff / allowed if finite else (math.inf if bad else 0.0)
            if ratio > worst[0]:
                index = tuple(int(k) for k in torch.unravel_index(torch.tensor(j), x.shape)) if x.dim() else ()
                worst = (ratio, i, index, a, numeric, allowed)
    result = GradcheckResult(
        ok=failed == 0,
        checked=checked,
        failed=failed,
        max_abs_error=max_abs,
        worst_input=worst[1],
        worst_index=worst[2],
        worst_analytic=worst[3],
        worst_numeric=worst[4],
        worst_allowed=worst[5],
        eps=eps,
        atol=atol,
        rtol=rtol,
    )
    if raise_on_failure and not result.ok:
        raise GradcheckError(str(result))
    return result
