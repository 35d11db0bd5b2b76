"""Learning-rate schedules as multiplier functions, and the linear scaling rule.

A schedule here is a function ``step -> factor`` that multiplies the optimizer's initial
learning rate, which is exactly what :class:`torch.optim.lr_scheduler.LambdaLR` expects:
``LambdaLR(opt, cosine(100))``. Schedules compose: :func:`linear_warmup` ramps the factor up
over the first steps and then hands over to any base schedule. :func:`linear_scaling` is
the rule of Goyal et al. (2017): when the mini-batch grows by a factor :math:`k`, multiply
the learning rate by :math:`k`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from companion import _validate as check

__all__ = ["Schedule", "constant", "step_decay", "cosine", "linear_warmup", "linear_scaling"]

#: A learning-rate multiplier: step (or epoch) index ``t >= 0`` -> factor.
Schedule = Callable[[int], float]


def _step(name: str, t: Any) -> int:
    return check.integer(t, f"{name} step", low=0)


def constant(factor: float = 1.0) -> Schedule:
    r"""The constant schedule :math:`\rho(t) = c`.

    .. math::

        \eta_t = c\,\eta_0

    Parameters
    ----------
    factor : float, default 1.0
        The multiplier :math:`c > 0`.

    Returns
    -------
    callable
        ``t -> factor`` for ``t >= 0``.

    Raises
    ------
    ValueError
        If ``factor`` is not positive.

    Examples
    --------
    >>> constant()(0), constant(0.5)(1000)
    (1.0, 0.5)
    """
    c = check.real(factor, "factor", low=0)
    if c == 0.0:
        raise ValueError("factor must be > 0, got 0.0")

    def schedule(t: int) -> float:
        _step("constant", t)
        return c

    return schedule


def step_decay(step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` steps (as ``StepLR``).

    .. math::

        \rho(t) = \gamma^{\lfloor t / s \rfloor}

    Parameters
    ----------
    step_size : int
        Period :math:`s \ge 1` of the decay (in steps or epochs, whatever ``t`` counts).
    gamma : float, default 0.1
        Decay factor :math:`\gamma \in (0, 1]`.

    Returns
    -------
    callable
        ``t -> gamma ** (t // step_size)``.

    Raises
    ------
    ValueError
        If ``step_size < 1`` or ``gamma`` is outside (0, 1].

    Examples
    --------
    >>> s = step_decay(30, gamma=0.1)
    >>> [s(t) for t in (0, 29, 30, 60)]
    [1.0, 1.0, 0.1, 0.010000000000000002]
    """
    s = check.integer(step_size, "step_size", low=1)
    g = check.real(gamma, "gamma", low=0, high=1)
    if g == 0.0:
        raise ValueError("gamma must be in (0, 1], got 0.0")

    def schedule(t: int) -> float:
        return g ** (_step("step_decay", t) // s)

    return schedule


def cosine(total_steps: int, min_factor: float = 0.0) -> Schedule:
    r"""Cosine annealing from 1 down to ``min_factor`` over ``total_steps`` (as ``CosineAnnealingLR``).

    .. math::

        \rho(t) = \rho_{\min} + (1-\rho_{\min})\,\frac{1 + \cos(\pi\, t / T)}{2}
        \quad (0 \le t \le T), \qquad \rho(t) = \rho_{\min} \quad (t > T)

    Parameters
    ----------
    total_steps : int
        :math:`T \ge 1`, the step at which the factor reaches ``min_factor``.
    min_factor : float, default 0.0
        :math:`\rho_{\min} \in [0, 1]` (``eta_min / base_lr`` in PyTorch's terms).

    Returns
    -------
    callable
        The multiplier; it stays at ``min_factor`` after ``total_steps`` (PyTorch's
        scheduler would instead climb back up).

    Raises
    ------
    ValueError
        If ``total_steps < 1`` or ``min_factor`` is outside [0, 1].

    Examples
    --------
    >>> c = cosine(100)
    >>> [round(c(t), 4) for t in (0, 50, 100, 150)]
    [1.0, 0.5, 0.0, 0.0]
    """
    T = check.integer(total_steps, "total_steps", low=1)
    lo = check.real(min_factor, "min_factor", low=0, high=1)

    def schedule(t: int) -> float:
        t = min(_step("cosine", t), T)
        return lo + (1.0 - lo) * (1.0 + math.cos(math.pi * t / T)) / 2.0

    return schedule


def linear_warmup(
    warmup_steps: int,
    base: Optional[Schedule] = None,
    start_factor: float = 0.0,
    offset_base: bool = False,
) -> Schedule:
    r"""Ramp the factor linearly from ``start_factor`` to 1 over ``warmup_steps``, then follow ``base``.

    .. math::

        \rho(t) = w(t)\, \rho_{\text{base}}(t), \qquad
        w(t) = \begin{cases} s + (1-s)\, t / W & t < W \\ 1 & t \ge W \end{cases}

    Without ``base`` this equals PyTorch's ``LinearLR(start_factor=s, total_iters=W)``.
    Goyal et al. (2017) warm up from the small-batch rate :math:`\eta` to :math:`k\eta`: with
    the optimizer's rate set to :math:`k\eta`, that is ``start_factor = 1/k``.

    Parameters
    ----------
    warmup_steps : int
        :math:`W \ge 0` (0 means no warmup).
    base : callable, optional
        The schedule to follow (and multiply during warmup); default constant 1.
    start_factor : float, default 0.0
        :math:`s \in [0, 1]`, the factor at step 0.
    offset_base : bool, default False
        If True, ``base`` starts counting when warmup ends: :math:`\rho_{\text{base}}(t - W)`
        after warmup and :math:`\rho_{\text{base}}(0)` during it (so that e.g. a cosine over
        the remaining steps starts at its top).

    Returns
    -------
    callable
        The composed multiplier.

    Raises
    ------
    ValueError
        If ``warmup_steps < 0`` or ``start_factor`` is outside [0, 1].
    TypeError
        If ``base`` is not callable.

    Examples
    --------
    >>> w = linear_warmup(4, start_factor=0.0)
    >>> [w(t) for t in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    >>> w = linear_warmup(2, base=step_decay(3, gamma=0.5), start_factor=0.5)
    >>> [w(t) for t in range(7)]
    [0.5, 0.75, 1.0, 0.5, 0.5, 0.5, 0.25]
    """
    W = check.integer(warmup_steps, "warmup_steps", low=0)
    s = check.real(start_factor, "start_factor", low=0, high=1)
    if base is not None and not callable(base):
        raise TypeError(f"base must be a schedule (callable t -> factor) or None, got {type(base).__name__}")
    inner: Schedule = base if base is not None else (lambda t: 1.0)

    def schedule(t: int) -> float:
        t = _step("linear_warmup", t)
        if t < W:
            ramp = s + (1.0 - s) * t / W
            return ramp * inner(0 if offset_base else t)
        return float(inner(t - W if offset_base else t))

    return schedule


def linear_scaling(base_lr: float, base_batch: int, batch: int) -> float:
    r"""The linear scaling rule: a :math:`k` times larger mini-batch gets a :math:`k` times larger rate.

    .. math::

        \eta(B) = \eta_0\, \frac{B}{B_0}

    Goyal et al. (2017) justify it by noting that :math:`k` SGD steps of batch :math:`B_0`
    and rate :math:`\eta_0` move the weights by nearly the same amount as one step of batch
    :math:`kB_0` and rate :math:`k\eta_0`, as long as the gradient changes little over those
    :math:`k` steps (which fails early in training: hence warmup).

    Parameters
    ----------
    base_lr : float
        :math:`\eta_0 > 0`, a rate that works with batch size ``base_batch``.
    base_batch : int
        :math:`B_0 \ge 1`.
    batch : int
        :math:`B \ge 1`, the new batch size.

    Returns
    -------
    float
        The learning rate for batch size ``batch``; set it as the optimizer's ``lr`` and
        apply a multiplier schedule (e.g. :func:`linear_warmup` with ``start_factor =
        base_batch / batch``) through ``LambdaLR``.

    Raises
    ------
    ValueError
        If ``base_lr <= 0`` or a batch size is below 1.

    Examples
    --------
    >>> linear_scaling(0.1, 256, 8192)
    3.2
    """
    lr = check.real(base_lr, "base_lr", low=0)
    if lr == 0.0:
        raise ValueError("base_lr must be > 0, got 0.0")
    b0 = check.integer(base_batch, "base_batch", low=1)
    b = check.integer(batch, "batch", low=1)
    return lr * b / b0
