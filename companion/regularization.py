r"""Regularization and normalization: dropout, weight penalties, early stopping, layer and
batch normalization, magnitude pruning and the lottery ticket.

Regularizers trade a little training fit for better generalization: dropout trains an
ensemble of thinned networks, L1/L2 penalties shrink the weights, early stopping limits the
number of steps, pruning removes the smallest weights. Layer and batch normalization are
written from their formulas with hand-derived backward passes
(:class:`torch.autograd.Function`), and reproduce ``torch.nn.functional.layer_norm`` and
``torch.nn.functional.batch_norm`` in values, gradients and running statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from companion._blocks import blocks

__all__ = [
    "BatchNorm",
    "Dropout",
    "EarlyStopping",
    "LayerNorm",
    "LotteryTicketResult",
    "apply_masks",
    "batch_norm",
    "batch_norm_backward",
    "dropout",
    "early_stopping_epoch",
    "l1_penalty",
    "l1_penalty_grad",
    "l2_penalty",
    "l2_penalty_grad",
    "layer_norm",
    "layer_norm_backward",
    "lottery_ticket",
    "magnitude_prune",
    "sparsity",
]


# ---------------------------------------------------------------------------------------------
# argument checks


def _check_float_tensor(x: Any, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_param(p: Optional[torch.Tensor], name: str, shape: tuple[int, ...], like: torch.Tensor) -> None:
    if p is None:
        return
    _check_float_tensor(p, name)
    if tuple(p.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(p.shape)}")
    if p.dtype != like.dtype or p.device != like.device:
        raise ValueError(
            f"{name} must have the dtype and device of input ({like.dtype}, {like.device}), "
            f"got {p.dtype} on {p.device}"
        )


# ---------------------------------------------------------------------------------------------
# dropout


def dropout(
    x: torch.Tensor, p: float = 0.5, training: bool = True, generator: Optional[torch.Generator] = None
) -> torch.Tensor:
    r"""Inverted dropout: zero each entry with probability ``p`` and rescale the survivors.

    .. math::

        r_i \sim \text{Bernoulli}(1 - p),\qquad y_i = \frac{r_i\, x_i}{1 - p},\qquad
        \mathbb E[y_i] = x_i.

    ``p`` is the probability of *dropping* a unit, as in :func:`torch.nn.functional.dropout`.
    Srivastava et al. (2014) write :math:`p` for the probability of *keeping* one, and scale
    the weights by it at test time; inverted dropout scales during training instead, so that
    evaluation (``training=False``) is the identity. The gradient is
    :math:`\partial y_i / \partial x_i = r_i / (1 - p)` (autograd follows the mask).

    Parameters
    ----------
    x : torch.Tensor, any shape
    p : float
        Drop probability in :math:`[0, 1)`.
    training : bool
        ``False`` returns ``x`` unchanged.
    generator : torch.Generator, optional
        Generator for the mask, on ``x``'s device.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``p`` not a number.
    ValueError
        If ``p`` is outside :math:`[0, 1)`.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> y = dropout(torch.ones(10), p=0.5, generator=g)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(torch.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    _check_float_tensor(x, "x")
    p = _check_real(p, "p")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    return x * keep.to(x.dtype) / (1.0 - p)


class Dropout(nn.Module):
    """Module form of :func:`dropout`: active in ``train()`` mode, the identity in ``eval()``.

    Parameters
    ----------
    p : float
        Drop probability in [0, 1).

    Examples
    --------
    >>> m = Dropout(0.25).eval()
    >>> m(torch.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        p = _check_real(p, "p")
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------------------------------------
# weight penalties

ParamsLike = Union[torch.Tensor, nn.Module, Iterable[torch.Tensor]]


def _penalized(params: ParamsLike, name: str = "params") -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        tensors = [params]
    elif isinstance(params, nn.Module):
        # weights of linear and convolutional layers; biases and normalization parameters
        # (1-D) are conventionally not penalized
        tensors = [p for p in params.parameters() if p.dim() >= 2]
    else:
        try:
            tensors = list(params)
        except TypeError:
            raise TypeError(
                f"{name} must be a tensor, an nn.Module or an iterable of tensors, got {type(params).__name__}"
            ) from None
    for t in tensors:
        _check_float_tensor(t, name)
    if not tensors:
        raise ValueError(f"{name} holds no tensor to penalize")
    return tensors


def l1_penalty(params: ParamsLike, strength: float = 1.0) -> torch.Tensor:
    r"""The L1 (lasso) penalty :math:`\lambda \sum_i |w_i|`.

    .. math:: \Omega_1(w) = \lambda \lVert w \rVert_1,\qquad
        \frac{\partial \Omega_1}{\partial w_i} = \lambda \operatorname{sign}(w_i)

    Its gradient has constant size, so small weights are pushed all the way to zero: L1
    gives sparse weights.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        With a module, only parameters of 2 or more dimensions (the weights of linear and
        convolutional layers) are penalized, not biases or normalization parameters.
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    torch.Tensor, shape ()
        Differentiable; add it to the loss.

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors.
    ValueError
        If ``strength < 0`` or ``params`` is empty.

    Examples
    --------
    >>> l1_penalty(torch.tensor([1.0, -2.0, 0.5]), strength=0.1)
    tensor(0.3500)
    """
    strength = _check_real(strength, "strength")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    return strength * sum(t.abs().sum() for t in _penalized(params))  # type: ignore[return-value]


def l1_penalty_grad(w: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    r"""Gradient of :func:`l1_penalty` with respect to one tensor, :math:`\lambda\operatorname{sign}(w)`.

    .. math:: \frac{\partial}{\partial w_i} \lambda \lVert w \rVert_1 = \lambda \operatorname{sign}(w_i)

    (0 at :math:`w_i = 0`, the subgradient autograd uses.)

    Parameters
    ----------
    w : torch.Tensor, any shape
    strength : float

    Returns
    -------
    torch.Tensor, shape of ``w``

    Examples
    --------
    >>> l1_penalty_grad(torch.tensor([1.0, -2.0, 0.0]), 0.1)
    tensor([ 0.1000, -0.1000,  0.0000])
    """
    _check_float_tensor(w, "w")
    return _check_real(strength, "strength") * torch.sign(w)


def l2_penalty(params: ParamsLike, strength: float = 1.0) -> torch.Tensor:
    r"""The L2 (ridge, weight-decay) penalty :math:`\frac{\lambda}{2} \sum_i w_i^2`.

    .. math:: \Omega_2(w) = \frac{\lambda}{2} \lVert w \rVert_2^2,\qquad
        \frac{\partial \Omega_2}{\partial w_i} = \lambda w_i

    The factor :math:`\tfrac12` makes the gradient :math:`\lambda w`, so adding this penalty
    to the loss is the same as ``torch.optim.SGD(..., weight_decay=strength)``. Its gradient
    vanishes with the weight: L2 shrinks weights but rarely makes them exactly zero.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        As in :func:`l1_penalty` (with a module, weights only).
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    torch.Tensor, shape ()

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors.
    ValueError
        If ``strength < 0`` or ``params`` is empty.

    Examples
    --------
    >>> l2_penalty(torch.tensor([1.0, -2.0]), strength=0.1)
    tensor(0.2500)
    """
    strength = _check_real(strength, "strength")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    return 0.5 * strength * sum(t.pow(2).sum() for t in _penalized(params))  # type: ignore[return-value]


def l2_penalty_grad(w: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    r"""Gradient of :func:`l2_penalty` with respect to one tensor, :math:`\lambda w`.

    .. math:: \frac{\partial}{\partial w_i} \frac{\lambda}{2} \lVert w \rVert_2^2 = \lambda w_i

    Parameters
    ----------
    w : torch.Tensor, any shape
    strength : float

    Returns
    -------
    torch.Tensor, shape of ``w``

    Examples
    --------
    >>> l2_penalty_grad(torch.tensor([1.0, -2.0]), 0.1)
    tensor([ 0.1000, -0.2000])
    """
    _check_float_tensor(w, "w")
    return _check_real(strength, "strength") * w


# ---------------------------------------------------------------------------------------------
# early stopping


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


def _improved(value: float, best: float, min_delta: float, mode: str) -> bool:
    if math.isnan(value):
        return False
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def early_stopping_epoch(
    values: Sequence[float], patience: int, min_delta: float = 0.0, mode: str = "min"
) -> tuple[Optional[int], int]:
    r"""Replay early stopping on a sequence of validation numbers.

    Epoch :math:`t` (1-based) improves on the best so far :math:`b` when
    :math:`v_t < b - \delta` (``mode="min"``). Training stops at the first epoch after which
    ``patience`` consecutive epochs have not improved:

    .. math:: t_\text{stop} = \min\{t : \text{no improvement in epochs } t-P+1, \dots, t\}.

    Parameters
    ----------
    values : sequence of float
        Validation loss (or accuracy with ``mode="max"``) per epoch.
    patience : int
        Epochs without improvement to tolerate, ``>= 1``.
    min_delta : float
        Smallest change that counts as an improvement, ``>= 0``.
    mode : {"min", "max"}

    Returns
    -------
    stop_epoch : int or None
        The epoch after which training stops, or ``None`` if it runs to the end.
    best_epoch : int
        The epoch whose weights early stopping keeps (restores); 0 if no epoch had a
        number (NaN never counts as an improvement).

    Raises
    ------
    ValueError
        If ``values`` is empty, ``patience < 1``, ``min_delta < 0`` or ``mode`` is unknown.

    Examples
    --------
    >>> early_stopping_epoch([1.0, 0.8, 0.7, 0.75, 0.9, 1.1], patience=2)
    (5, 3)
    >>> early_stopping_epoch([1.0, 0.8, 0.7], patience=2)
    (None, 3)
    """
    _check_int(patience, "patience", 1)
    min_delta = _check_real(min_delta, "min_delta")
    if min_delta < 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    _check_mode(mode)
    values = [float(v) for v in values]
    if not values:
        raise ValueError("values must hold at least one number")
    best = math.inf if mode == "min" else -math.inf
    best_epoch, wait = 0, 0
    for epoch, v in enumerate(values, start=1):
        if _improved(v, best, min_delta, mode):
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


class EarlyStopping:
    r"""Stop :func:`companion.train.fit` when the validation loss stops improving.

    After each epoch the callback reads ``state.logs[monitor]``. An epoch improves if
    :math:`v_t < b - \delta` (``mode="min"``; :math:`b` the best value so far); after
    ``patience`` epochs in a row without improvement it sets ``state.stop_training``. The
    weights of the best epoch are kept (a copy of the ``state_dict``) and, with
    ``restore_best``, loaded back into the model when training ends. The rule is the one
    :func:`early_stopping_epoch` replays on a list of numbers.

    Training stops when the validation loss *rises* (or stalls), not when it decreases:
    a falling validation loss means the model is still learning something that generalizes.

    .. math:: t^\star = \arg\min_{t \le t_\text{stop}} v_t

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping, ``>= 1``.
    min_delta : float
        Smallest decrease that counts as an improvement, ``>= 0``.
    restore_best : bool
        Load the best epoch's weights at the end of training.
    monitor : str
        Key of the epoch record to watch (``"val_loss"``; needs ``val_loader`` in ``fit``).
    mode : {"min", "max"}
        ``"max"`` for a number to maximize, e.g. ``"val_accuracy"``.

    Attributes
    ----------
    best : float
        Best monitored value seen.
    best_epoch : int
        Epoch (1-based) of ``best``; 0 before training.
    stopped_epoch : int or None
        Epoch after which training was stopped, ``None`` if it ran to the end.

    Raises
    ------
    ValueError
        From ``on_epoch_end`` if the record has no ``monitor`` key.

    Examples
    --------
    >>> from companion.train import fit
    >>> from companion.data import moons, loader
    >>> _ = torch.manual_seed(0)
    >>> X, y = moons(200)
    >>> model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.5)
    >>> stopper = EarlyStopping(patience=3)
    >>> h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 32), loader(X[:40], y[:40], 40),
    ...         epochs=200, callbacks=[stopper], progress=False)
    >>> h.stopped_early, stopper.best_epoch == h.best("val_loss")[0]
    (True, True)
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        monitor: str = "val_loss",
        mode: str = "min",
    ) -> None:
        self.patience = _check_int(patience, "patience", 1)
        self.min_delta = _check_real(min_delta, "min_delta")
        if self.min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {type(monitor).__name__}")
        _check_mode(mode)
        self.restore_best = bool(restore_best)
        self.monitor = monitor
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch: Optional[int] = None
        self.best_state: Optional[dict[str, torch.Tensor]] = None

    def on_train_begin(self, state: Any) -> None:
        """Forget any previous run."""
        self._reset()

    def on_epoch_end(self, state: Any) -> None:
        """Compare this epoch's number with the best; snapshot or count; maybe stop."""
        logs = getattr(state, "logs", {}) or {}
        if self.monitor not in logs:
            raise ValueError(
                f"monitor={self.monitor!r} is not in the epoch record (keys: {sorted(logs)}); "
                "pass a val_loader to fit, or choose another monitor"
            )
        value = float(logs[self.monitor])
        if _improved(value, self.best, self.min_delta, self.mode):
            self.best, self.best_epoch, self.wait = value, int(state.epoch), 0
            self.best_state = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = int(state.epoch)
                state.stop_training = True

    def on_train_end(self, state: Any) -> None:
        """Load the best epoch's weights back (with ``restore_best``)."""
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)


# ---------------------------------------------------------------------------------------------
# normalization: the layer-norm formulas (batch norm expands them per feature)


def _normalize(x: torch.Tensor, k: int, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\hat x = (x - \mu)\, r` over the last ``k`` dimensions, and :math:`r = 1/\sqrt{\sigma^2 + \epsilon}`.

    :math:`\hat x` is the one new tensor (``x - mean``, then scaled in place); ``r`` keeps the
    normalized dimensions with size 1 for broadcasting, and the variance is the biased one,
    from the squared norm of the centred values (``vector_norm`` reads them once, with no
    temporary).
    """
    dims = tuple(range(x.dim() - k, x.dim()))
    xhat = torch.sub(x, x.mean(dim=dims, keepdim=True))
    var = torch.linalg.vector_norm(xhat, dim=dims, keepdim=True).square_() / math.prod(x.shape[x.dim() - k:])
    rstd = torch.rsqrt(var + eps)
    return xhat.mul_(rstd), rstd


def _affine(xhat: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]) -> torch.Tensor:
    """gamma * xhat + beta, for ``weight`` and ``bias`` shaped to broadcast (either may be None)."""
    if weight is not None and bias is not None:
        return torch.addcmul(bias, xhat, weight)
    if weight is not None:
        return xhat * weight
    if bias is not None:
        return xhat + bias
    return xhat


def _normalize_backward(
    grad_output: torch.Tensor,
    weight: Optional[torch.Tensor],
    xhat: torch.Tensor,
    rstd: torch.Tensor,
    mean_g: torch.Tensor,
    mean_g_xhat: torch.Tensor,
) -> torch.Tensor:
    r"""dL/dx of :math:`y = \gamma \hat x + \beta`, :math:`\hat x = (x - \mu)\, r`, with :math:`\mu, r` computed from ``x``.

    With :math:`g = \gamma \odot \partial L / \partial y` and means over the :math:`M`
    normalized entries (``mean_g`` :math:`= \overline{g}`, ``mean_g_xhat``
    :math:`= \overline{g \hat x}`, from matrix-vector products with gamma),

    .. math::
        \frac{\partial L}{\partial x} = r\,\bigl(g - \overline{g} - \hat x\,\overline{g \hat x}\bigr).
    """
    # g - mean(g) in one new tensor, then times r and minus x_hat * r * mean(g x_hat) in place
    if weight is not None:
        grad_x = torch.addcmul(-mean_g, grad_output, weight)
    else:
        grad_x = grad_output - mean_g
    return grad_x.mul_(rstd).addcmul_(xhat, rstd * mean_g_xhat, value=-1)


# ---------------------------------------------------------------------------------------------
# layer norm


def _check_normalized_shape(x: torch.Tensor, normalized_shape: Union[int, Sequence[int]]) -> tuple[int, ...]:
    if isinstance(normalized_shape, bool):
        raise TypeError("normalized_shape must be an int or a sequence of ints, got bool")
    if isinstance(normalized_shape, int):
        shape: tuple[int, ...] = (normalized_shape,)
    elif isinstance(normalized_shape, (tuple, list, torch.Size)) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in normalized_shape
    ):
        shape = tuple(normalized_shape)
    else:
        raise TypeError(f"normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")
    if len(shape) == 0 or len(shape) > x.dim() or tuple(x.shape[x.dim() - len(shape):]) != shape:
        raise ValueError(
            f"normalized_shape {shape} must be the trailing dimensions of input, whose shape is {tuple(x.shape)}"
        )
    return shape


class _LayerNormFunction(torch.autograd.Function):
    """Layer norm with the hand-derived backward of :func:`layer_norm_backward`."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor], k: int, eps: float) -> torch.Tensor:  # type: ignore[override]
        xhat, rstd = _normalize(x, k, eps)
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.k = k
        return _affine(xhat, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Optional[torch.Tensor], ...]:  # type: ignore[override]
        xhat, rstd, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grads = _layer_norm_grads(grad_output, xhat, rstd, weight, ctx.k, need_x, need_w, need_b)
        return (*grads, None, None)


def _layer_norm_grads(
    grad_output: torch.Tensor, xhat: torch.Tensor, rstd: torch.Tensor, weight: Optional[torch.Tensor], k: int,
    need_x: bool = True, need_w: bool = True, need_b: bool = True,
) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]:
    lead = tuple(range(xhat.dim() - k))  # one example per index of the leading dims
    dims = tuple(range(xhat.dim() - k, xhat.dim()))
    count = math.prod(xhat.shape[xhat.dim() - k:])

    def over_examples(t: torch.Tensor) -> torch.Tensor:
        return t.sum(dim=lead) if lead else t  # sum(dim=()) would sum over everything

    g_xhat = grad_output * xhat  # dL/dy * x_hat; times gamma it is g * x_hat
    grad_w = over_examples(g_xhat) if need_w and weight is not None else None
    grad_b = over_examples(grad_output) if need_b else None
    grad_x = None
    if need_x:
        if weight is None:
            mean_g, mean_g_xhat = grad_output.mean(dim=dims, keepdim=True), g_xhat.mean(dim=dims, keepdim=True)
        else:  # sums of products with gamma over each example's block: a matrix-vector product
            keep = xhat.shape[: xhat.dim() - k] + (1,) * k
            mean_g = (torch.tensordot(grad_output, weight, dims=k) / count).reshape(keep)
            mean_g_xhat = (torch.tensordot(g_xhat, weight, dims=k) / count).reshape(keep)
        grad_x = _normalize_backward(grad_output, weight, xhat, rstd, mean_g, mean_g_xhat)
    return grad_x, grad_w, grad_b


def layer_norm(
    x: torch.Tensor,
    normalized_shape: Union[int, Sequence[int]],
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

    Same signature and values as :func:`torch.nn.functional.layer_norm`.

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
    _check_float_tensor(x, "x")
    shape = _check_normalized_shape(x, normalized_shape)
    _check_param(weight, "weight", shape, x)
    _check_param(bias, "bias", shape, x)
    eps = _check_real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    return _LayerNormFunction.apply(x, weight, bias, len(shape), eps)


def layer_norm_backward(
    grad_output: torch.Tensor,
    x: torch.Tensor,
    normalized_shape: Union[int, Sequence[int]],
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
    _check_float_tensor(grad_output, "grad_output")
    _check_float_tensor(x, "x")
    if grad_output.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of x {tuple(x.shape)}, got {tuple(grad_output.shape)}")
    shape = _check_normalized_shape(x, normalized_shape)
    _check_param(weight, "weight", shape, x)
    eps = _check_real(eps, "eps")
    xhat, rstd = _normalize(x, len(shape), eps)
    grad_x, grad_w, grad_b = _layer_norm_grads(grad_output, xhat, rstd, weight, len(shape))
    assert grad_x is not None and grad_b is not None
    return grad_x, grad_w, grad_b


class LayerNorm(nn.Module):
    r"""Module form of :func:`layer_norm`, with :math:`\gamma = 1`, :math:`\beta = 0` at start.

    Parameters
    ----------
    normalized_shape : int or sequence of int
    eps : float
    elementwise_affine : bool
        Learn :math:`\gamma` and :math:`\beta` (of shape ``normalized_shape``).

    Examples
    --------
    >>> LayerNorm((5, 2))(torch.arange(20.0).reshape(2, 5, 2)).shape
    torch.Size([2, 5, 2])
    """

    def __init__(self, normalized_shape: Union[int, Sequence[int]], eps: float = 1e-5, elementwise_affine: bool = True) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        if elementwise_affine:
            self.weight: Optional[nn.Parameter] = nn.Parameter(torch.ones(shape))
            self.bias: Optional[nn.Parameter] = nn.Parameter(torch.zeros(shape))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


# ---------------------------------------------------------------------------------------------
# batch norm


class _BatchNormFunction(torch.autograd.Function):
    r"""Batch norm with a hand-derived backward (batch statistics or fixed running ones).

    Returns the output and, for the running averages, the batch mean and biased variance
    (shape (C,), not differentiable; ``None`` with running statistics). Saves ``x`` and the
    per-feature mean and :math:`r = 1/\sqrt{\sigma^2+\epsilon}`, not :math:`\hat x`: the
    backward pass recomputes :math:`\hat x` block by block, as PyTorch's kernel does.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        weight: Optional[torch.Tensor],
        bias: Optional[torch.Tensor],
        mean: Optional[torch.Tensor],
        var: Optional[torch.Tensor],
        batch_stats: bool,
        eps: float,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
        view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
        stats: tuple[Optional[torch.Tensor], Optional[torch.Tensor]] = (None, None)
        if batch_stats:
            mean, var = _batch_mean_var(x)
            stats = (mean, var)
            ctx.mark_non_differentiable(*stats)
        else:  # copies: the running statistics change in place at the next training step
            assert mean is not None and var is not None
            mean = mean.clone()
        rstd = torch.rsqrt(var + eps)
        # y = gamma (x - mu) r + beta = x * scale + shift, per feature: one pass over x
        scale = rstd if weight is None else rstd * weight
        shift = -mean * scale if bias is None else torch.addcmul(bias, mean, scale, value=-1)
        y = torch.addcmul(shift.reshape(view), x, scale.reshape(view))
        ctx.save_for_backward(x, mean, rstd, weight)
        ctx.batch_stats = batch_stats
        return (y, *stats)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor, *_: Any) -> tuple[Optional[torch.Tensor], ...]:  # type: ignore[override]
        x, mean, rstd, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grads = _batch_norm_grads(grad_output, x, mean, rstd, weight, ctx.batch_stats, need_x, need_w, need_b)
        return (*grads, None, None, None, None)


def _batch_mean_var(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-feature mean and biased variance of ``x`` (N, C, ...), each of shape (C,).

    The variance is the mean of squared deviations (two passes, not :math:`E[x^2] - \mu^2`,
    which cancels badly), summed block by block of examples so that the deviations are a
    block-sized temporary.
    """
    dims = (0,) + tuple(range(2, x.dim()))
    view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    mean = x.mean(dim=dims)
    squares = x.new_zeros(view)
    for (xb,) in blocks(1, x):
        deviation = xb - mean.reshape(view)
        squares += deviation.mul_(deviation).sum(dim=dims, keepdim=True)
    return mean, squares.flatten() / (x.numel() // x.shape[1])


def _batch_norm_grads(
    grad_output: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor,
    weight: Optional[torch.Tensor], batch_stats: bool, need_x: bool = True, need_w: bool = True, need_b: bool = True,
) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]:
    r"""Gradients of batch norm from ``x`` and its per-feature ``mean`` and ``rstd`` (shape (C,)).

    The layer-norm formula :func:`_normalize_backward` with :math:`\gamma_c, \mu_c, r_c`
    constant over the entries each mean runs over, so that with
    :math:`S_c = \sum \partial L/\partial y` (which is :math:`\partial L/\partial\beta_c`) and
    :math:`T_c = \sum \partial L/\partial y\,\hat x` (:math:`\partial L/\partial\gamma_c`):

    .. math::
        \frac{\partial L}{\partial x} = \gamma_c r_c\,\frac{\partial L}{\partial y}
        - \frac{\gamma_c r_c}{M}\bigl(S_c + \hat x\, T_c\bigr),

    and with running statistics (which do not depend on :math:`x`) only the first term.
    Both sums and the gradient are computed block by block of examples.
    """
    dims = (0,) + tuple(range(2, x.dim()))  # every axis but the feature axis
    view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    mu, r = mean.reshape(view), rstd.reshape(view)
    gain = r if weight is None else r * weight.reshape(view)  # gamma_c r_c
    need_sums = (need_x and batch_stats) or need_b or (need_w and weight is not None)
    sum_g = sum_g_xc = None  # S_c, and T_c / r_c = sum of dL/dy (x - mu)
    if need_sums:
        sum_g, sum_g_xc = x.new_zeros(view), x.new_zeros(view)
        for gb, xb in blocks(1, grad_output, x):
            sum_g += gb.sum(dim=dims, keepdim=True)
            sum_g_xc += (xb - mu).mul_(gb).sum(dim=dims, keepdim=True)
    grad_x = None
    if need_x and not batch_stats:  # fixed statistics do not depend on x
        grad_x = grad_output * gain
    elif need_x:
        assert sum_g is not None and sum_g_xc is not None
        count = x.numel() // x.shape[1]
        grad_x = torch.empty_like(x)
        # gain * g - gain / M * (S + (x - mu) r T) = (x - mu) * a + gain * g + c, per block
        a = -gain * r * r * sum_g_xc / count
        c = -gain * sum_g / count
        for gb, xb, ob in blocks(1, grad_output, x, grad_x):
            torch.sub(xb, mu, out=ob)
            torch.addcmul(c, ob, a, out=ob).addcmul_(gb, gain)
    grad_w = (sum_g_xc * r).flatten() if need_w and weight is not None and sum_g_xc is not None else None
    grad_b = sum_g.flatten() if need_b and sum_g is not None else None
    return grad_x, grad_w, grad_b


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
    norm formula with means over the batch axes; in evaluation it is :math:`g/\sqrt{\hat\sigma^2+\epsilon}`.
    Same signature and behaviour as :func:`torch.nn.functional.batch_norm`.

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
        If a tensor argument is not a floating-point tensor.
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
    _check_float_tensor(x, "x")
    if x.dim() < 2:
        raise ValueError(f"x must have shape (N, C, *) with at least 2 dimensions, got {tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(t, name, (c,), x)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {type(training).__name__}")
    momentum = _check_real(momentum, "momentum")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    eps = _check_real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together (or both None)")
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are needed when training=False")
        return _BatchNormFunction.apply(x, weight, bias, running_mean, running_var, False, eps)[0]
    count = x.numel() // c if c else 0
    if count <= 1:
        raise ValueError(
            f"x must have more than 1 value per feature when training, got shape {tuple(x.shape)}"
        )
    y, mean, var = _BatchNormFunction.apply(x, weight, bias, None, None, True, eps)
    if running_mean is not None and running_var is not None:
        with torch.no_grad():  # the running variance averages the unbiased batch variance
            running_mean.mul_(1.0 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1.0 - momentum).add_(var, alpha=momentum * count / (count - 1))
    return y


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

    with means over the batch (and spatial) axes of each feature :math:`c`.

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
    _check_float_tensor(grad_output, "grad_output")
    _check_float_tensor(x, "x")
    if grad_output.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of x {tuple(x.shape)}, got {tuple(grad_output.shape)}")
    if x.dim() < 2:
        raise ValueError(f"x must have shape (N, C, *) with at least 2 dimensions, got {tuple(x.shape)}")
    c = x.shape[1]
    _check_param(weight, "weight", (c,), x)
    eps = _check_real(eps, "eps")
    mean, var = _batch_mean_var(x)
    grad_x, grad_w, grad_b = _batch_norm_grads(grad_output, x, mean, torch.rsqrt(var + eps), weight, True)
    assert grad_x is not None and grad_b is not None
    return grad_x, grad_w, grad_b


class BatchNorm(nn.Module):
    r"""Module form of :func:`batch_norm` for inputs (N, C, ...), like ``nn.BatchNorm1d/2d``.

    Keeps ``running_mean`` (zeros) and ``running_var`` (ones) as buffers, updated in
    ``train()`` mode and used in ``eval()`` mode; learns :math:`\gamma` (ones) and
    :math:`\beta` (zeros), one per feature.

    Parameters
    ----------
    num_features : int
        :math:`C`.
    eps : float
    momentum : float
    affine : bool

    Examples
    --------
    >>> bn = BatchNorm(5)
    >>> y = bn(torch.arange(30.0).reshape(2, 5, 3))
    >>> bn.running_mean
    tensor([0.8500, 1.1500, 1.4500, 1.7500, 2.0500])
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True) -> None:
        super().__init__()
        _check_int(num_features, "num_features", 1)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        if affine:
            self.weight: Optional[nn.Parameter] = nn.Parameter(torch.ones(num_features))
            self.bias: Optional[nn.Parameter] = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


# ---------------------------------------------------------------------------------------------
# pruning and the lottery ticket


def _prunable(model: nn.Module) -> dict[str, torch.nn.Parameter]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = {name: p for name, p in model.named_parameters() if p.dim() >= 2}
    if not params:
        raise ValueError("model has no weight with 2 or more dimensions to prune")
    return params


def magnitude_prune(model: nn.Module, fraction: float, scope: str = "global") -> dict[str, torch.Tensor]:
    r"""Zero the ``fraction`` of weights with the smallest magnitude, in place; return the masks.

    .. math::

        m_i = \mathbb 1\left[\,|\theta_i| \text{ is not among the } \lfloor f M \rceil
        \text{ smallest}\,\right],\qquad \theta \leftarrow m \odot \theta

    Only parameters with 2 or more dimensions (weights of linear and convolutional layers)
    are pruned; biases and normalization parameters are kept. With ``scope="global"`` the
    :math:`M` weights of all layers are ranked together (layers with many small weights lose
    more); with ``scope="layer"`` each layer loses the same fraction of its own weights.
    Exactly :math:`\operatorname{round}(f M)` weights are removed (ties broken by position).
    Weights already at zero rank lowest, so pruning again with a larger fraction extends the
    previous masks.

    Parameters
    ----------
    model : torch.nn.Module
    fraction : float
        Share of the prunable weights to remove, in [0, 1].
    scope : {"global", "layer"}

    Returns
    -------
    dict of str to torch.Tensor of bool
        For each pruned parameter's name, a mask of its shape, ``True`` where the weight is kept.

    Raises
    ------
    TypeError
        If ``model`` is not an ``nn.Module`` or ``fraction`` not a number.
    ValueError
        If ``fraction`` is outside [0, 1], ``scope`` is unknown, or the model has no weights.

    Examples
    --------
    >>> lin = nn.Linear(4, 2, bias=False)
    >>> with torch.no_grad():
    ...     lin.weight.copy_(torch.tensor([[1.0, -5.0, 2.0, 0.1], [3.0, -0.2, 4.0, 6.0]]))
    Parameter containing:
    tensor([[ 1.0000, -5.0000,  2.0000,  0.1000],
            [ 3.0000, -0.2000,  4.0000,  6.0000]], requires_grad=True)
    >>> masks = magnitude_prune(lin, 0.5)
    >>> masks["weight"].int().tolist()
    [[0, 1, 0, 0], [1, 0, 1, 1]]
    """
    params = _prunable(model)
    fraction = _check_real(fraction, "fraction")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")

    def keep_mask(scores: torch.Tensor) -> torch.Tensor:
        k = int(round(fraction * scores.numel()))
        keep = torch.ones_like(scores, dtype=torch.bool)
        if k > 0:
            keep[torch.topk(scores, k, largest=False, sorted=False).indices] = False
        return keep

    masks: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        if scope == "layer":
            for name, p in params.items():
                masks[name] = keep_mask(p.detach().abs().flatten()).reshape(p.shape)
        else:
            device = next(iter(params.values())).device
            scores = torch.cat([p.detach().abs().flatten().to(device=device, dtype=torch.float64) for p in params.values()])
            keep = keep_mask(scores)
            start = 0
            for name, p in params.items():
                masks[name] = keep[start:start + p.numel()].reshape(p.shape).to(p.device)
                start += p.numel()
        for name, p in params.items():
            p.mul_(masks[name].to(p.dtype))
    return masks


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> list[torch.utils.hooks.RemovableHandle]:
    r"""Zero the masked weights and keep them at zero during training.

    .. math:: \theta \leftarrow m\odot\theta,\qquad \nabla_\theta L \leftarrow m \odot \nabla_\theta L

    A gradient hook multiplies each masked parameter's gradient by its mask, so a pruned
    weight gets a zero gradient; with SGD (with or without momentum and weight decay) and
    Adam, whose updates of a zero weight with a zero gradient are zero, pruned weights stay
    exactly 0.

    Parameters
    ----------
    model : torch.nn.Module
    masks : dict of str to torch.Tensor of bool
        As returned by :func:`magnitude_prune`.

    Returns
    -------
    list of RemovableHandle
        Call ``h.remove()`` on each to stop masking the gradients.

    Raises
    ------
    ValueError
        If a mask names no parameter of ``model`` or has the wrong shape.

    Examples
    --------
    >>> lin = nn.Linear(3, 1, bias=False)
    >>> handles = apply_masks(lin, {"weight": torch.tensor([[True, False, True]])})
    >>> lin(torch.ones(1, 3)).sum().backward()
    >>> lin.weight.grad
    tensor([[1., 0., 1.]])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = dict(model.named_parameters())
    handles = []
    for name, mask in masks.items():
        if name not in params:
            raise ValueError(f"masks names {name!r}, which is not a parameter of model")
        p = params[name]
        if tuple(mask.shape) != tuple(p.shape):
            raise ValueError(f"masks[{name!r}] has shape {tuple(mask.shape)}, the parameter {tuple(p.shape)}")
        m = mask.to(device=p.device, dtype=p.dtype)
        with torch.no_grad():
            p.mul_(m)
        handles.append(p.register_hook(lambda g, m=m: g * m))
    return handles


def sparsity(model: nn.Module) -> float:
    r"""Share of exactly-zero entries among the weights (parameters with 2+ dimensions).

    .. math:: s = \frac{\#\{i : \theta_i = 0\}}{M}

    Examples
    --------
    >>> lin = nn.Linear(2, 2)
    >>> _ = magnitude_prune(lin, 0.25)
    >>> sparsity(lin)
    0.25
    """
    params = _prunable(model)
    zeros = sum(int((p == 0).sum()) for p in params.values())
    return zeros / sum(p.numel() for p in params.values())


@dataclass
class LotteryTicketResult:
    """What :func:`lottery_ticket` returns.

    Attributes
    ----------
    masks : dict of str to torch.Tensor
        The final masks (``True`` = kept).
    initial_state : dict of str to torch.Tensor
        The weights the ticket was rewound to (the model's state before any training).
    dense_result : Any
        What ``train`` returned for the unpruned network.
    round_results : list
        What ``train`` returned in each pruning round (the first is ``dense_result``).
    ticket_result : Any
        What ``train`` returned for the final pruned, rewound network.
    sparsities : list of float
        The weight sparsity after each pruning round.
    """

    masks: dict[str, torch.Tensor]
    initial_state: dict[str, torch.Tensor]
    dense_result: Any
    round_results: list[Any] = field(default_factory=list)
    ticket_result: Any = None
    sparsities: list[float] = field(default_factory=list)


def lottery_ticket(
    model: nn.Module,
    train: Callable[[nn.Module], Any],
    fraction: float,
    rounds: int = 1,
    scope: str = "global",
) -> LotteryTicketResult:
    r"""Find a winning ticket by iterative magnitude pruning with rewinding (Frankle & Carbin, 2019).

    1. Save the initial weights :math:`\theta_0`.
    2. Train; prune the smallest weights; rewind the survivors to :math:`\theta_0`.
    3. Repeat for ``rounds`` rounds, removing :math:`1 - (1-f)^{1/R}` of the remaining
       weights each round, so that the final sparsity is :math:`f`.
    4. Train the final subnetwork :math:`f(x; m \odot \theta_0)`.

    .. math:: s_r = 1 - (1 - f)^{r/R},\qquad r = 1, \dots, R

    Parameters
    ----------
    model : torch.nn.Module
        Untrained; its current weights are :math:`\theta_0`. Left holding the trained ticket.
    train : callable
        ``train(model)`` trains the model in place (building its own optimizer, since the
        set of parameters is the same but their values are rewound) and returns anything,
        e.g. a :class:`companion.train.History`.
    fraction : float
        Final share of weights removed, in [0, 1).
    rounds : int
        Number of prune-rewind rounds, ``>= 1``.
    scope : {"global", "layer"}
        As in :func:`magnitude_prune`.

    Returns
    -------
    LotteryTicketResult

    Raises
    ------
    TypeError
        If ``train`` is not callable.
    ValueError
        If ``fraction`` is outside [0, 1) or ``rounds < 1``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    >>> def train(m):
    ...     opt = torch.optim.SGD(m.parameters(), lr=0.1)
    ...     for _ in range(20):
    ...         opt.zero_grad(); loss = nn.functional.cross_entropy(m(X), y); loss.backward(); opt.step()
    ...     return loss.item()
    >>> result = lottery_ticket(model, train, fraction=0.5, rounds=2)
    >>> [round(s, 2) for s in result.sparsities], round(sparsity(model), 2)
    ([0.29, 0.5], 0.5)
    """
    _prunable(model)
    if not callable(train):
        raise TypeError(f"train must be callable, got {type(train).__name__}")
    fraction = _check_real(fraction, "fraction")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    _check_int(rounds, "rounds", 1)
    initial_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    masks: Optional[dict[str, torch.Tensor]] = None
    results: list[Any] = []
    sparsities: list[float] = []
    for r in range(1, rounds + 1):
        handles = apply_masks(model, masks) if masks is not None else []
        try:
            results.append(train(model))
        finally:
            for h in handles:
                h.remove()
        target = 1.0 - (1.0 - fraction) ** (r / rounds)
        masks = magnitude_prune(model, target, scope=scope)
        sparsities.append(1.0 - sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values()))
        model.load_state_dict(initial_state)  # rewind to theta_0
    assert masks is not None
    handles = apply_masks(model, masks)
    try:
        ticket_result = train(model)
    finally:
        for h in handles:
            h.remove()
    return LotteryTicketResult(
        masks=masks,
        initial_state=initial_state,
        dense_result=results[0],
        round_results=results,
        ticket_result=ticket_result,
        sparsities=sparsities,
    )
