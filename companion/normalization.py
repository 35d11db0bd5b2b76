r"""Normalization layers: layer norm, batch norm and RMS norm, from their formulas.

All three compute :math:`y = \gamma \odot \hat x + \beta` from a standardized input
:math:`\hat x = (x - \mu)\, r`, :math:`r = 1/\sqrt{\sigma^2 + \epsilon}`, and differ only in
the entries the statistics run over: each example's trailing dimensions (layer norm), each
feature over the batch (batch norm), or each example without centring (RMS norm,
:math:`\mu = 0`). So one autograd function, ``_Normalize``, serves all three, and one
hand-derived backward, ``_normalize_backward``,

.. math::
    \frac{\partial L}{\partial x} = r\,\bigl(g - \overline{g} - \hat x\,\overline{g \odot \hat x}\bigr),
    \qquad g = \gamma \odot \frac{\partial L}{\partial y},

(without :math:`\overline{g}` for RMS norm) gives their gradients. The backward is written
with differentiable operations on the saved input, so second derivatives work too. Values,
gradients and running statistics are those of ``torch.nn.functional.layer_norm``,
``batch_norm`` and ``rms_norm``; :mod:`companion.compiled` makes the same functions fast.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch
from torch import nn

from companion import _validate as check

__all__ = [
    "BatchNorm",
    "LayerNorm",
    "RMSNorm",
    "batch_norm",
    "batch_norm_backward",
    "layer_norm",
    "layer_norm_backward",
    "rms_norm",
]

Shape = Union[int, Sequence[int]]


# ---------------------------------------------------------------------------------------------
# the shared formulas: standardize, the affine map, and one backward for all three layers


def _standardize(x: torch.Tensor, dims: tuple[int, ...], eps: float, center: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\hat x = (x - \mu)\, r` and :math:`r = 1/\sqrt{\sigma^2 + \epsilon}`, statistics over ``dims``.

    The variance is the biased one, the mean of the squared centred values (two passes, not
    :math:`E[x^2] - \mu^2`, which cancels badly). ``center=False`` (RMS norm) takes
    :math:`\mu = 0`, so that :math:`\sigma^2` is the mean square.
    """
    if center:
        x = x - x.mean(dim=dims, keepdim=True)
    rstd = torch.rsqrt((x * x).mean(dim=dims, keepdim=True) + eps)
    return x * rstd, rstd


def _affine(xhat: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]) -> torch.Tensor:
    """gamma * xhat + beta, with ``weight`` and ``bias`` shaped to broadcast (either may be None)."""
    y = xhat if weight is None else xhat * weight
    return y if bias is None else y + bias


def _normalize_backward(
    g: torch.Tensor, xhat: torch.Tensor, rstd: torch.Tensor, dims: tuple[int, ...], center: bool = True
) -> torch.Tensor:
    r"""dL/dx of a normalization layer, with :math:`g = \gamma \odot \partial L / \partial y`.

    :math:`\hat x` depends on :math:`x` directly and through :math:`\mu` and :math:`r`; the
    chain rule through the two means over the :math:`M` entries of ``dims`` gives

    .. math::
        \frac{\partial L}{\partial x} = r\,\bigl(g - \overline{g} - \hat x\,\overline{g \odot \hat x}\bigr).

    :math:`-\overline{g}` comes from the mean (absent for RMS norm, ``center=False``) and
    :math:`-\hat x\,\overline{g \hat x}` from the variance.
    """
    mean_g = g.mean(dim=dims, keepdim=True) if center else 0.0
    return rstd * (g - mean_g - xhat * (g * xhat).mean(dim=dims, keepdim=True))


def _normalization_grads(
    grad_output: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor], param_shape: tuple[int, ...],
    dims: tuple[int, ...], eps: float, center: bool,
) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor]:
    r"""dL/dx, dL/d\gamma and dL/d\beta (the latter two summed to ``param_shape``)."""
    xhat, rstd = _standardize(x, dims, eps, center)  # recomputed from x: differentiable again
    g = grad_output if weight is None else grad_output * weight
    grad_x = _normalize_backward(g, xhat, rstd, dims, center)
    grad_w = None if weight is None else (grad_output * xhat).sum_to_size(param_shape)
    return grad_x, grad_w, grad_output.sum_to_size(param_shape)


class _Normalize(torch.autograd.Function):
    r""":math:`y = \gamma \hat x + \beta`, statistics over ``dims``: layer, batch and RMS norm.

    ``weight`` and ``bias`` arrive shaped to broadcast against ``x``. The backward recomputes
    :math:`\hat x` from the saved input rather than saving it: its operations are then
    recorded when a second derivative is asked for.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        x: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor],
        dims: tuple[int, ...], eps: float, center: bool,
    ) -> torch.Tensor:
        xhat, _ = _standardize(x, dims, eps, center)
        return _affine(xhat, weight, bias)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        x, weight, bias, ctx.dims, ctx.eps, ctx.center = inputs
        ctx.param_shape = tuple(weight.shape if weight is not None else bias.shape if bias is not None else ())
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Optional[torch.Tensor], ...]:  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad_x, grad_w, grad_b = _normalization_grads(grad_output, x, weight, ctx.param_shape, ctx.dims, ctx.eps, ctx.center)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        return (grad_x if need_x else None, grad_w if need_w else None, grad_b if need_b else None, None, None, None)


# ---------------------------------------------------------------------------------------------
# argument checks


def _check_param(p: Optional[torch.Tensor], name: str, shape: tuple[int, ...], like: torch.Tensor) -> None:
    if p is None:
        return
    check.float_tensor(p, name)
    if tuple(p.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(p.shape)}")
    if p.dtype != like.dtype or p.device != like.device:
        raise ValueError(
            f"{name} must have the dtype and device of input ({like.dtype}, {like.device}), "
            f"got {p.dtype} on {p.device}"
        )


def _check_normalized_shape(x: torch.Tensor, normalized_shape: Shape) -> tuple[int, ...]:
    shape = _shape_tuple(normalized_shape)
    if len(shape) == 0 or len(shape) > x.dim() or tuple(x.shape[x.dim() - len(shape):]) != shape:
        raise ValueError(
            f"normalized_shape {shape} must be the trailing dimensions of input, whose shape is {tuple(x.shape)}"
        )
    return shape


def _shape_tuple(normalized_shape: Shape) -> tuple[int, ...]:
    if isinstance(normalized_shape, bool):
        raise TypeError("normalized_shape must be an int or a sequence of ints, got bool")
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    if isinstance(normalized_shape, (tuple, list, torch.Size)) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in normalized_shape
    ):
        return tuple(normalized_shape)
    raise TypeError(f"normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")


def _trailing(x: torch.Tensor, k: int) -> tuple[int, ...]:
    return tuple(range(x.dim() - k, x.dim()))


# ---------------------------------------------------------------------------------------------
# layer norm


def layer_norm(
    x: torch.Tensor,
    normalized_shape: Shape,
    weight: Optional[torch.Tensor] = None,
    bias: Optional[torch.Tensor] = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Layer normalization over the trailing ``normalized_shape`` dimensions of each example.

    .. math::

        \mu = \frac1M \sum_{j} x_j,\qquad \sigma^2 = \frac1M \sum_j (x_j - \mu)^2,\qquad
        y_j = \gamma_j\,\frac{x_j - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_j,

    with the sums over the :math:`M` entries of one example's ``normalized_shape`` block
    (biased variance), and :math:`\gamma, \beta` of shape ``normalized_shape``. The backward
    pass, with :math:`g = \gamma \odot \partial L/\partial y`, is

    .. math::

        \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
        \left(g - \overline{g} - \hat x\, \overline{g \odot \hat x}\right),\qquad
        \frac{\partial L}{\partial \gamma} = \sum_\text{examples} \frac{\partial L}{\partial y}\odot\hat x,\qquad
        \frac{\partial L}{\partial \beta} = \sum_\text{examples} \frac{\partial L}{\partial y}.

    Same signature and values as :func:`torch.nn.functional.layer_norm`, also for second
    derivatives.

    Parameters
    ----------
    x : torch.Tensor, shape (..., D_1, ..., D_k), normalized_shape = (D_1, ..., D_k)
    normalized_shape : int or sequence of int
        The trailing dimensions to normalize over.
    weight, bias : torch.Tensor, shape normalized_shape, optional
        :math:`\gamma` and :math:`\beta`.
    eps : float
        Added to the variance, ``> 0``.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x``, ``weight`` or ``bias`` is not a floating-point tensor, or
        ``normalized_shape`` not an int or sequence of ints.
    ValueError
        If ``normalized_shape`` is not the trailing shape of ``x``, ``weight`` or ``bias``
        has the wrong shape, dtype or device, or ``eps <= 0``.

    Examples
    --------
    >>> x = torch.arange(20.0).reshape(2, 5, 2)
    >>> layer_norm(x, (5, 2))[0, 0]
    tensor([-1.5667, -1.2185])
    """
    check.float_tensor(x, "x")
    shape = _check_normalized_shape(x, normalized_shape)
    _check_param(weight, "weight", shape, x)
    _check_param(bias, "bias", shape, x)
    eps = check.real(eps, "eps", low=0, low_open=True)
    return _Normalize.apply(x, weight, bias, _trailing(x, len(shape)), eps, True)


def layer_norm_backward(
    grad_output: torch.Tensor,
    x: torch.Tensor,
    normalized_shape: Shape,
    weight: Optional[torch.Tensor] = None,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor]:
    r"""The hand-derived backward pass of :func:`layer_norm`.

    .. math::

        \frac{\partial L}{\partial x} = r\left(g - \overline{g} - \hat x\,\overline{g\odot\hat x}\right),
        \quad g = \gamma\odot\frac{\partial L}{\partial y},\quad r = (\sigma^2+\epsilon)^{-1/2},

    with the means :math:`\overline{\,\cdot\,}` over each example's normalized block.

    Parameters
    ----------
    grad_output : torch.Tensor, shape of ``x``
        :math:`\partial L / \partial y`.
    x : torch.Tensor, shape (..., D_1, ..., D_k), normalized_shape = (D_1, ..., D_k)
    normalized_shape : int or sequence of int
    weight : torch.Tensor, shape normalized_shape, optional
    eps : float

    Returns
    -------
    grad_x : torch.Tensor, shape of ``x``
    grad_weight : torch.Tensor, shape normalized_shape, or None when ``weight`` is None
    grad_bias : torch.Tensor, shape normalized_shape

    Raises
    ------
    ValueError
        If ``grad_output`` and ``x`` differ in shape, or as :func:`layer_norm`.

    Examples
    --------
    >>> x = torch.randn(3, 4)
    >>> gx, _, gb = layer_norm_backward(torch.ones(3, 4), x, 4)
    >>> bool(gx.abs().max() < 1e-5), gb.tolist()
    (True, [3.0, 3.0, 3.0, 3.0])
    """
    check.float_tensor(grad_output, "grad_output")
    check.float_tensor(x, "x")
    if grad_output.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of x {tuple(x.shape)}, got {tuple(grad_output.shape)}")
    shape = _check_normalized_shape(x, normalized_shape)
    _check_param(weight, "weight", shape, x)
    eps = check.real(eps, "eps", low=0, low_open=True)
    return _normalization_grads(grad_output, x, weight, shape, _trailing(x, len(shape)), eps, True)


class LayerNorm(nn.Module):
    r"""Module form of :func:`layer_norm`, with :math:`\gamma = 1`, :math:`\beta = 0` at start.

    Same arguments as :class:`torch.nn.LayerNorm`; its state dict loads here and back.

    Parameters
    ----------
    normalized_shape : int or sequence of int
    eps : float
    elementwise_affine : bool
        Learn :math:`\gamma` (and :math:`\beta`, of shape ``normalized_shape``).
    bias : bool
        Learn :math:`\beta` too (only with ``elementwise_affine``).
    device, dtype : optional
        Where and in which floating-point dtype to create the parameters.

    Examples
    --------
    >>> LayerNorm((5, 2))(torch.arange(20.0).reshape(2, 5, 2)).shape
    torch.Size([2, 5, 2])
    >>> LayerNorm(3, bias=False).bias is None
    True
    """

    def __init__(
        self, normalized_shape: Shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
        device: Optional[Union[str, torch.device]] = None, dtype: Optional[torch.dtype] = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = check.real(eps, "eps", low=0, low_open=True)
        self.elementwise_affine = check.boolean(elementwise_affine, "elementwise_affine")
        factory = _factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **factory)) if elementwise_affine else None
        has_bias = elementwise_affine and check.boolean(bias, "bias")
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape, **factory)) if has_bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


def _factory(device: Optional[Union[str, torch.device]], dtype: Optional[torch.dtype]) -> dict[str, Any]:
    """``device=`` and ``dtype=`` for the tensors a module creates (a floating dtype only)."""
    return {"device": device, "dtype": None if dtype is None else check.dtype(dtype)}


# ---------------------------------------------------------------------------------------------
# RMS norm


def rms_norm(
    x: torch.Tensor,
    normalized_shape: Shape,
    weight: Optional[torch.Tensor] = None,
    eps: Optional[float] = None,
) -> torch.Tensor:
    r"""RMS normalization (Zhang and Sennrich, 2019): layer norm without centring or :math:`\beta`.

    .. math::

        r = \Bigl(\frac1M \sum_j x_j^2 + \epsilon\Bigr)^{-1/2},\qquad y_j = \gamma_j\, x_j\, r,
        \qquad \frac{\partial L}{\partial x} = r\,\bigl(g - \hat x\,\overline{g \odot \hat x}\bigr),

    with :math:`\hat x = x r` and :math:`g = \gamma \odot \partial L/\partial y`: the
    normalization backward without the :math:`\overline{g}` term of the mean. Same signature and
    values as :func:`torch.nn.functional.rms_norm`; ``eps=None`` is
    ``torch.finfo(x.dtype).eps``, as there.

    Parameters
    ----------
    x : torch.Tensor, shape (..., D_1, ..., D_k), normalized_shape = (D_1, ..., D_k)
    normalized_shape : int or sequence of int
    weight : torch.Tensor, shape normalized_shape, optional
        :math:`\gamma`.
    eps : float, optional
        ``> 0``.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError, ValueError
        As :func:`layer_norm`.

    Examples
    --------
    >>> rms_norm(torch.tensor([[3.0, 4.0]]), 2, eps=1e-12)  # root mean square 3.5355
    tensor([[0.8485, 1.1314]])
    """
    check.float_tensor(x, "x")
    shape = _check_normalized_shape(x, normalized_shape)
    _check_param(weight, "weight", shape, x)
    eps = torch.finfo(x.dtype).eps if eps is None else check.real(eps, "eps", low=0, low_open=True)
    return _Normalize.apply(x, weight, None, _trailing(x, len(shape)), eps, False)


class RMSNorm(nn.Module):
    r"""Module form of :func:`rms_norm`, with :math:`\gamma = 1` at start; as :class:`torch.nn.RMSNorm`.

    Parameters
    ----------
    normalized_shape : int or sequence of int
    eps : float, optional
        ``None``: the machine epsilon of the input's dtype.
    elementwise_affine : bool
        Learn :math:`\gamma`.
    device, dtype : optional

    Examples
    --------
    >>> RMSNorm(2, eps=1e-12)(torch.tensor([[3.0, 4.0]])).detach()
    tensor([[0.8485, 1.1314]])
    """

    def __init__(
        self, normalized_shape: Shape, eps: Optional[float] = None, elementwise_affine: bool = True,
        device: Optional[Union[str, torch.device]] = None, dtype: Optional[torch.dtype] = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = None if eps is None else check.real(eps, "eps", low=0, low_open=True)
        self.elementwise_affine = check.boolean(elementwise_affine, "elementwise_affine")
        factory = _factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **factory)) if elementwise_affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


# ---------------------------------------------------------------------------------------------
# batch norm


def _batch_dims(x: torch.Tensor) -> tuple[int, ...]:
    """Every axis of (N, C, ...) but the feature axis 1."""
    return (0, *range(2, x.dim()))


def _per_feature(t: Optional[torch.Tensor], x: torch.Tensor) -> Optional[torch.Tensor]:
    """A (C,) tensor viewed as (1, C, 1, ...) to broadcast against ``x``."""
    return None if t is None else t.reshape((1, x.shape[1]) + (1,) * (x.dim() - 2))


def batch_norm(
    x: torch.Tensor,
    running_mean: Optional[torch.Tensor],
    running_var: Optional[torch.Tensor],
    weight: Optional[torch.Tensor] = None,
    bias: Optional[torch.Tensor] = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Batch normalization of each feature (channel) over the batch (and spatial positions).

    For an input of shape :math:`(N, C, \dots)` and each feature :math:`c`, with the :math:`M`
    entries :math:`x_{n c \dots}` of that feature:

    .. math::

        \mu_c = \frac1M \sum x_{nc\dots},\qquad \sigma_c^2 = \frac1M \sum (x_{nc\dots}-\mu_c)^2,
        \qquad y_{nc\dots} = \gamma_c\,\frac{x_{nc\dots} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c.

    :math:`\gamma, \beta \in \mathbb R^C` are *per feature*, not per example. With
    ``training=True`` the batch statistics are used and the running ones, when given, are
    updated in place,

    .. math::

        \hat\mu \leftarrow (1-m)\hat\mu + m\,\mu_c,\qquad
        \hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\,\frac{M}{M-1}\sigma_c^2

    (the *unbiased* variance, as PyTorch does); with ``training=False`` the running
    statistics are used and nothing is updated. The backward pass in training is the layer
    norm formula with means over the batch axes; in evaluation :math:`y` is an affine map of
    :math:`x` and autograd differentiates it. Same signature and behaviour as
    :func:`torch.nn.functional.batch_norm`, also for second derivatives.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C) or (N, C, L) or (N, C, H, W) ...
    running_mean, running_var : torch.Tensor, shape (C,), or None
        Needed when ``training=False``; updated in place when ``training=True``.
    weight, bias : torch.Tensor, shape (C,), optional
        :math:`\gamma` and :math:`\beta`.
    training : bool
    momentum : float
        :math:`m \in [0, 1]`, weight of the new batch in the running averages.
    eps : float
        ``> 0``.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If a tensor argument is not a floating-point tensor, or ``training`` is not a bool.
    ValueError
        If ``x`` has fewer than 2 dimensions, a parameter or running statistic does not have
        shape (C,), running statistics are missing with ``training=False``, a training batch
        has a single value per feature, ``momentum`` is outside [0, 1] or ``eps <= 0``.

    Examples
    --------
    >>> x = torch.arange(30.0).reshape(2, 5, 3)
    >>> rm, rv = torch.zeros(5), torch.ones(5)
    >>> batch_norm(x, rm, rv, training=True)[0, 0]
    tensor([-1.1267, -0.9941, -0.8616])
    >>> rm
    tensor([0.8500, 1.1500, 1.4500, 1.7500, 2.0500])
    """
    check.float_tensor(x, "x")
    if x.dim() < 2:
        raise ValueError(f"x must have shape (N, C, *) with at least 2 dimensions, got {tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(t, name, (c,), x)
    check.boolean(training, "training")
    momentum = check.real(momentum, "momentum", low=0, high=1)
    eps = check.real(eps, "eps", low=0, low_open=True)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together (or both None)")
    w, b = _per_feature(weight, x), _per_feature(bias, x)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are needed when training=False")
        # fixed statistics: an affine map of x, which autograd differentiates
        xhat = (x - _per_feature(running_mean, x)) * torch.rsqrt(_per_feature(running_var, x) + eps)
        return _affine(xhat, w, b)
    if x.numel() // max(c, 1) <= 1:
        raise ValueError(f"x must have more than 1 value per feature when training, got shape {tuple(x.shape)}")
    if running_mean is not None and running_var is not None:
        with torch.no_grad():  # the running variance averages the unbiased batch variance
            running_mean.mul_(1.0 - momentum).add_(x.mean(dim=_batch_dims(x)), alpha=momentum)
            running_var.mul_(1.0 - momentum).add_(x.var(dim=_batch_dims(x), correction=1), alpha=momentum)
    return _Normalize.apply(x, w, b, _batch_dims(x), eps, True)


def batch_norm_backward(
    grad_output: torch.Tensor,
    x: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor]:
    r"""The hand-derived backward pass of :func:`batch_norm` in training mode (batch statistics).

    .. math::

        \frac{\partial L}{\partial x} = r_c\left(g - \overline{g} - \hat x\,\overline{g\odot\hat x}\right),
        \quad g = \gamma_c\frac{\partial L}{\partial y},

    with means over the batch (and spatial) axes of each feature :math:`c`: the layer-norm
    formula, with other axes.

    Parameters
    ----------
    grad_output : torch.Tensor, shape of ``x``
    x : torch.Tensor, shape (N, C, ...)
    weight : torch.Tensor, shape (C,), optional
    eps : float

    Returns
    -------
    grad_x : torch.Tensor, shape of ``x``
    grad_weight : torch.Tensor, shape (C,), or None when ``weight`` is None
    grad_bias : torch.Tensor, shape (C,)

    Raises
    ------
    ValueError
        If ``grad_output`` and ``x`` differ in shape or ``x`` has fewer than 2 dimensions.

    Examples
    --------
    >>> x = torch.randn(8, 3)
    >>> gx, _, gb = batch_norm_backward(torch.ones(8, 3), x)
    >>> bool(gx.abs().max() < 1e-5), gb.tolist()
    (True, [8.0, 8.0, 8.0])
    """
    check.float_tensor(grad_output, "grad_output")
    check.float_tensor(x, "x")
    if grad_output.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of x {tuple(x.shape)}, got {tuple(grad_output.shape)}")
    if x.dim() < 2:
        raise ValueError(f"x must have shape (N, C, *) with at least 2 dimensions, got {tuple(x.shape)}")
    _check_param(weight, "weight", (x.shape[1],), x)
    eps = check.real(eps, "eps", low=0, low_open=True)
    view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    grad_x, grad_w, grad_b = _normalization_grads(grad_output, x, _per_feature(weight, x), view, _batch_dims(x), eps, True)
    return grad_x, None if grad_w is None else grad_w.flatten(), grad_b.flatten()


class BatchNorm(nn.Module):
    r"""Module form of :func:`batch_norm` for inputs (N, C, ...), like ``nn.BatchNorm1d/2d``.

    Keeps ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` as
    buffers, updated in ``train()`` mode and used in ``eval()`` mode; learns :math:`\gamma`
    (ones) and :math:`\beta` (zeros), one per feature. The arguments, buffers and state dict
    are those of :class:`torch.nn.BatchNorm1d`, whose state dict loads here. Unlike torch's
    1d/2d/3d classes, one class takes inputs of any number of dimensions from 2.

    Parameters
    ----------
    num_features : int
        :math:`C`.
    eps : float
    momentum : float or None
        Weight of each new batch in the running averages; ``None`` averages all batches
        seen so far equally (the cumulative average, weight :math:`1/t` at batch :math:`t`).
    affine : bool
        Learn :math:`\gamma` and :math:`\beta`.
    track_running_stats : bool
        Keep running statistics; without them, batch statistics are used in evaluation too.
    device, dtype : optional

    Examples
    --------
    >>> bn = BatchNorm(5)
    >>> y = bn(torch.arange(30.0).reshape(2, 5, 3))
    >>> bn.running_mean
    tensor([0.8500, 1.1500, 1.4500, 1.7500, 2.0500])
    >>> int(bn.num_batches_tracked)
    1
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1, affine: bool = True,
        track_running_stats: bool = True, device: Optional[Union[str, torch.device]] = None,
        dtype: Optional[torch.dtype] = None,
    ) -> None:
        super().__init__()
        self.num_features = check.integer(num_features, "num_features", low=1)
        self.eps = check.real(eps, "eps", low=0, low_open=True)
        self.momentum = None if momentum is None else check.real(momentum, "momentum", low=0, high=1)
        self.affine = check.boolean(affine, "affine")
        self.track_running_stats = check.boolean(track_running_stats, "track_running_stats")
        factory = _factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(num_features, **factory)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features, **factory)) if affine else None
        self.running_mean: Optional[torch.Tensor]
        self.running_var: Optional[torch.Tensor]
        self.num_batches_tracked: Optional[torch.Tensor]
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, no batch seen."""
        if self.track_running_stats:
            assert self.running_mean is not None and self.running_var is not None and self.num_batches_tracked is not None
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average: the t-th batch gets weight 1/t
                momentum = 1.0 / float(self.num_batches_tracked)
        # without running statistics, batch statistics serve in evaluation too (as in torch)
        use_batch = self.training or self.running_mean is None
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
