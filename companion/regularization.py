r"""Regularization: dropout, weight penalties and early stopping.

Regularizers trade a little training fit for better generalization: dropout trains an
ensemble of thinned networks, L1/L2 penalties shrink the weights, early stopping limits the
number of steps. Normalization layers live in :mod:`companion.normalization` and pruning in
:mod:`companion.pruning`; their names are re-exported here so that older imports keep working.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Sequence, Union

import torch
from torch import nn

from companion import _validate as check

# Re-exports: these moved to companion.normalization and companion.pruning; importing them from
# here keeps working.
from companion.normalization import BatchNorm, LayerNorm, RMSNorm, batch_norm, batch_norm_backward, layer_norm, layer_norm_backward, rms_norm  # noqa: F401
from companion.pruning import LotteryTicketResult, apply_masks, lottery_ticket, magnitude_prune, sparsity  # noqa: F401

__all__ = [
    "Dropout",
    "EarlyStopping",
    "dropout",
    "early_stopping_epoch",
    "l1_penalty",
    "l1_penalty_grad",
    "l2_penalty",
    "l2_penalty_grad",
]


# ---------------------------------------------------------------------------------------------
# dropout


def dropout(
    x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
    generator: Optional[torch.Generator] = None,
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
    inplace : bool
        Overwrite ``x`` with the result (and return it), as torch's ``inplace=True``.
    generator : torch.Generator, optional
        Generator for the mask, on ``x``'s device. torch's dropout has no such argument;
        here it makes a mask reproducible without touching the global seed.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor, ``p`` not a number, or ``training`` or
        ``inplace`` not a bool (``training='no'`` is an error, not true).
    ValueError
        If ``p`` is outside :math:`[0, 1)`. torch also accepts ``p = 1`` (all zeros); here the
        rescaling by :math:`1/(1-p)` would divide by zero, so it is refused.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> y = dropout(torch.ones(10), p=0.5, generator=g)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(torch.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    check.float_tensor(x, "x")
    p = _drop_probability(p)
    check.boolean(training, "training")
    check.boolean(inplace, "inplace")
    check.generator(generator)
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    if inplace:
        return x.mul_(keep.to(x.dtype)).div_(1.0 - p)
    return x * keep.to(x.dtype) / (1.0 - p)


def _drop_probability(p: object) -> float:
    p = check.real(p, "p")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")
    return p


class Dropout(nn.Module):
    """Module form of :func:`dropout`: active in ``train()`` mode, the identity in ``eval()``.

    Parameters
    ----------
    p : float
        Drop probability in [0, 1).
    inplace : bool
        Overwrite the input, as :func:`dropout`'s ``inplace``.

    Examples
    --------
    >>> m = Dropout(0.25).eval()
    >>> m(torch.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _drop_probability(p)
        self.inplace = check.boolean(inplace, "inplace")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


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
        check.float_tensor(t, name)
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
    strength = check.real(strength, "strength", low=0)
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
    check.float_tensor(w, "w")
    return check.real(strength, "strength") * torch.sign(w)


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
    strength = check.real(strength, "strength", low=0)
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
    check.float_tensor(w, "w")
    return check.real(strength, "strength") * w


# ---------------------------------------------------------------------------------------------
# early stopping


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
    check.integer(patience, "patience", low=1)
    min_delta = check.real(min_delta, "min_delta", low=0)
    check.choice(mode, "mode", ("min", "max"))
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
        self.patience = check.integer(patience, "patience", low=1)
        self.min_delta = check.real(min_delta, "min_delta", low=0)
        check.any_of(monitor, "monitor", (str,), "a str")
        check.choice(mode, "mode", ("min", "max"))
        self.restore_best = check.boolean(restore_best, "restore_best")
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

