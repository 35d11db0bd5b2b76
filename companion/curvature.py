r"""Curvature of a loss without forming its Hessian: Hessian-vector products and sharpness.

The Hessian :math:`H = \nabla^2 L(\theta)` of a network with :math:`n` parameters has
:math:`n^2` entries, but its product with a vector costs about two back-propagations
(Pearlmutter's trick, "double backprop"):

.. math::

    H v = \nabla_\theta \bigl(\nabla_\theta L(\theta)^\top v\bigr).

Power iteration on these products gives the largest eigenvalue of :math:`H`, the
**sharpness** :math:`\lambda_{\max}`, which decides the stable learning rates of gradient
descent (:math:`\eta < 2/\lambda_{\max}`, chapter 2) in :math:`O(n)` memory.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence, Union

import torch
from torch import Tensor

from companion import _validate

__all__ = ["Eigenpair", "hessian_vector_product", "top_hessian_eigenvalue"]

LossOrFn = Union[Tensor, Callable[[], Tensor]]


class Eigenpair(NamedTuple):
    """An eigenvalue, a unit eigenvector (flat, shape (n,)) and the power iterations used."""

    value: float
    vector: Tensor
    iterations: int


def _check_params(params: object) -> list[Tensor]:
    if isinstance(params, Tensor):
        params = [params]
    if not isinstance(params, Sequence) and not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a sequence of tensors, got {type(params).__name__}")
    out = list(params)  # type: ignore[call-overload]
    if not out:
        raise ValueError("params must hold at least one tensor, got an empty sequence")
    for p in out:
        _validate.float_tensor(p, "every entry of params")
        if not p.requires_grad:
            raise ValueError("every entry of params must require grad (the loss is differentiated with respect to it)")
    return out


def _check_loss(loss: object) -> Tensor:
    loss = _validate.float_tensor(loss, "loss")
    if loss.numel() != 1:
        raise ValueError(f"loss must be a scalar tensor, got shape {tuple(loss.shape)}")
    if not loss.requires_grad:
        raise ValueError("loss must depend on params (it has no autograd graph)")
    return loss


def _gradient_with_graph(loss: Tensor, params: list[Tensor]) -> Tensor:
    grads = torch.autograd.grad(loss.reshape(()), params, create_graph=True, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


def _hvp(flat_grad: Tensor, params: list[Tensor], v: Tensor) -> Tensor:
    if not flat_grad.requires_grad:  # the gradient does not depend on params: H = 0
        return torch.zeros_like(flat_grad)
    hv = torch.autograd.grad(flat_grad, params, grad_outputs=v, retain_graph=True, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if h is None else h).reshape(-1) for h, p in zip(hv, params)]).detach()


def hessian_vector_product(loss: Tensor, params: Union[Tensor, Sequence[Tensor]], vector: Tensor) -> Tensor:
    r"""The product :math:`H v` of the loss's Hessian with a vector, by double back-propagation.

    .. math::

        H v = \nabla_\theta \bigl(\nabla_\theta L^\top v\bigr), \qquad
        H = \nabla^2_\theta L \in \mathbb{R}^{n \times n}

    Parameters
    ----------
    loss : torch.Tensor, shape () or (1,)
        The loss, computed from ``params`` (with its autograd graph).
    params : torch.Tensor or sequence of torch.Tensor
        The parameters :math:`\theta` (floating point, ``requires_grad=True``); together
        :math:`n` entries, flattened in order.
    vector : torch.Tensor, shape (n,)
        The vector :math:`v`.

    Returns
    -------
    torch.Tensor, shape (n,)
        :math:`H v`, without autograd history. The graph of ``loss`` is kept, so the
        function can be called again with the same loss.

    Raises
    ------
    TypeError
        If ``loss``, ``vector`` or a parameter is not a floating-point tensor.
    ValueError
        If ``loss`` is not a scalar or has no graph, a parameter does not require grad,
        ``params`` is empty, or ``vector`` does not have shape (n,).

    Examples
    --------
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> loss = x[0] ** 2 * x[1] + x[1] ** 3          # H = [[2 x1, 2 x0], [2 x0, 6 x1]]
    >>> hessian_vector_product(loss, [x], torch.tensor([1.0, 0.0], dtype=torch.float64))
    tensor([4., 2.], dtype=torch.float64)
    """
    params = _check_params(params)
    loss = _check_loss(loss)
    vector = _validate.float_tensor(vector, "vector")
    n = sum(p.numel() for p in params)
    if vector.shape != (n,):
        raise ValueError(f"vector must have shape ({n},), the number of parameters, got {tuple(vector.shape)}")
    _validate.same_device(vector, "vector", params[0], "params")
    flat_grad = _gradient_with_graph(loss, params)
    return _hvp(flat_grad, params, vector.to(flat_grad.dtype))


def _power_iteration(hvp: Callable[[Tensor], Tensor], v: Tensor, shift: float, iters: int, tol: float) -> Eigenpair:
    """Power iteration on :math:`H - \\text{shift}\\, I` from the unit vector ``v``."""
    value = float("nan")
    for k in range(1, iters + 1):
        hv = hvp(v) - shift * v
        new_value = float(v @ hv)  # Rayleigh quotient of the unit vector v
        norm = hv.norm()
        if norm == 0:  # v is in the null space: the eigenvalue is 0
            return Eigenpair(new_value, v, k)
        v = hv / norm
        if abs(new_value - value) <= tol * abs(new_value):
            return Eigenpair(new_value, v, k)
        value = new_value
    return Eigenpair(value, v, iters)


def top_hessian_eigenvalue(
    loss: LossOrFn,
    params: Union[Tensor, Sequence[Tensor]],
    iters: int = 100,
    tol: float = 1e-6,
    generator: Optional[torch.Generator] = None,
) -> Eigenpair:
    r"""The largest eigenvalue of the loss's Hessian (the sharpness), by power iteration.

    Starting from a random unit vector :math:`v_0`, power iteration repeats

    .. math::

        v_{k+1} = \frac{H v_k}{\lVert H v_k \rVert}, \qquad
        \lambda^{(k)} = v_k^\top H v_k ,

    with :math:`H v` from :func:`hessian_vector_product` (no Hessian is formed: memory
    :math:`O(n)`). It converges to the eigenvalue of largest *magnitude*, at a rate
    :math:`|\lambda_2/\lambda_1|` per iteration. If that eigenvalue is negative, a second
    run on :math:`H - \lambda_1 I` (whose eigenvalues are all :math:`\ge 0`) finds the
    largest one, :math:`\lambda_{\max}`. Iteration stops when the Rayleigh quotient
    changes by at most ``tol`` relative to its value, or after ``iters`` products.

    Parameters
    ----------
    loss : torch.Tensor, shape (), or callable
        The loss with its autograd graph, or a function of no arguments that computes it
        (called once).
    params : torch.Tensor or sequence of torch.Tensor
        The parameters (floating point, ``requires_grad=True``), :math:`n` entries in all.
    iters : int, default 100
        Maximum number of Hessian-vector products per run (>= 1).
    tol : float, default 1e-6
        Relative change of the eigenvalue estimate at which to stop (> 0).
    generator : torch.Generator, optional
        Source of the random start vector (its device's; the vector is then moved to the
        parameters' device).

    Returns
    -------
    Eigenpair
        ``(value, vector, iterations)``: :math:`\lambda_{\max}` as a float, a unit
        eigenvector of shape (n,), and the number of Hessian-vector products used.

    Raises
    ------
    TypeError
        If ``loss`` is neither a tensor nor callable, or an argument has the wrong type.
    ValueError
        If ``loss`` is not a scalar with a graph, ``params`` is empty or does not require
        grad, ``iters < 1`` or ``tol <= 0``.

    Examples
    --------
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    >>> w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> top = top_hessian_eigenvalue(lambda: 0.5 * w @ A @ w, [w], tol=1e-12,
    ...                              generator=torch.Generator().manual_seed(0))
    >>> round(top.value, 8), round(float(torch.linalg.eigvalsh(A)[-1]), 8)
    (3.61803399, 3.61803399)
    """
    params = _check_params(params)
    iters = _validate.integer(iters, "iters", low=1)
    tol = _validate.real(tol, "tol", low=0, low_open=True)
    generator = _validate.generator(generator)
    if callable(loss) and not isinstance(loss, Tensor):
        with torch.enable_grad():
            loss = loss()
    elif not isinstance(loss, Tensor):
        raise TypeError(f"loss must be a scalar tensor or a callable returning one, got {type(loss).__name__}")
    loss = _check_loss(loss)
    with torch.enable_grad():
        flat_grad = _gradient_with_graph(loss, params)
    n = flat_grad.numel()
    where = generator.device if generator is not None else flat_grad.device
    v = torch.randn(n, generator=generator, dtype=flat_grad.dtype, device=where).to(flat_grad.device)
    v = v / v.norm()

    def hvp(u: Tensor) -> Tensor:
        return _hvp(flat_grad, params, u)

    first = _power_iteration(hvp, v, 0.0, iters, tol)
    if first.value >= 0:
        return first
    # the dominant eigenvalue is negative: shift the spectrum so that the largest one dominates
    second = _power_iteration(hvp, v, first.value, iters, tol)
    return Eigenpair(second.value + first.value, second.vector, first.iterations + second.iterations)
