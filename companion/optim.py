"""Optimizers written from their update equations: SGD, AdaGrad, RMSProp, Adam, L-BFGS and Newton.

Every first-order method here is a :class:`torch.optim.Optimizer` that takes the same
argument names and defaults as its ``torch.optim`` counterpart and follows the same
trajectory (to float64 rounding), so the code reads as the equations of chapter 2 and can
be swapped into any PyTorch training loop. :class:`Newton` is a second-order method: its
``step(closure)`` differentiates the closure's loss twice itself (a dense Hessian for small
models, or Hessian-vector products inside conjugate gradients), and it detects negative
curvature and says what it did about it in ``Newton.last_step_info``.
:func:`minimize` runs any of them on a function of a vector and returns the path taken.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Iterable, NamedTuple, Optional, Union

import torch
from torch import Tensor
from torch.optim import Optimizer

from companion import _validate

__all__ = [
    "SGD",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "AdamW",
    "Newton",
    "LBFGS",
    "Trajectory",
    "minimize",
]

Params = Union[Iterable[Tensor], Iterable[dict[str, Any]]]
Closure = Optional[Callable[[], Tensor]]


# ---------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------


def _learning_rate(value: Any) -> Union[float, Tensor]:
    """``lr`` as torch.optim takes it: a real number >= 0, or a one-element floating tensor >= 0.

    A tensor stays a tensor (0-d), so that the update does its arithmetic in the tensor's dtype
    as torch.optim's does.
    """
    if isinstance(value, Tensor):
        if not value.dtype.is_floating_point:
            raise TypeError(f"lr as a tensor must be floating point, got {value.dtype}")
        if value.numel() != 1:
            raise ValueError(f"lr as a tensor must hold one number, got shape {tuple(value.shape)}")
        _validate.real(float(value), "lr", low=0)
        return value.detach().reshape(())
    return _validate.real(value, "lr", low=0)


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = _validate.real(betas[0], "betas[0] (beta1)", low=0, high=1, high_open=True)
    b2 = _validate.real(betas[1], "betas[1] (beta2)", low=0, high=1, high_open=True)
    return b1, b2


def _step_count(state: dict[str, Any]) -> float:
    """Add one to ``state["step"]`` and return it as a Python number.

    torch.optim stores the count as a float32 tensor and computes with its value as a Python
    float; doing the same keeps a run resumed from a torch.optim checkpoint on torch's path.
    """
    state["step"] += 1
    return float(state["step"])


def _as_real(t: Tensor) -> Tensor:
    """A complex tensor as pairs (real, imaginary) sharing its memory, as torch.optim updates it."""
    return torch.view_as_real(t) if t.is_complex() else t


def _float_grad(p: Tensor, name: str) -> Tensor:
    grad = p.grad
    if grad is None:  # pragma: no cover - callers filter these out
        raise ValueError(f"{name}: parameter has no gradient")
    if grad.is_sparse:
        raise ValueError(f"{name} does not support sparse gradients")
    return grad


# ---------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    With gradient :math:`g_t` of the mini-batch loss at :math:`\theta_t`, weight decay
    :math:`\lambda`, momentum :math:`\mu` and dampening :math:`\tau`:

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_t \\
        b_t &= \mu\, b_{t-1} + (1-\tau)\, g_t \qquad (b_1 = g_1) \\
        \theta_{t+1} &= \theta_t - \eta\,\begin{cases} b_t & \text{heavy ball} \\
                        g_t + \mu\, b_t & \text{Nesterov} \end{cases}

    With ``momentum=0`` the update is plain :math:`\theta_{t+1} = \theta_t - \eta g_t`.
    The Nesterov form is PyTorch's (and Sutskever et al.'s): the look-ahead gradient is
    replaced by the gradient at the current point plus :math:`\mu b_t`, which is the same
    algorithm written in the shifted variable :math:`\theta + \eta\mu b`.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimize, or parameter groups.
    lr : float or torch.Tensor, default 1e-3
        Learning rate :math:`\eta \ge 0` (torch.optim.SGD's default); a one-element tensor
        is accepted, as by torch.optim.
    momentum : float, default 0
        Momentum :math:`\mu \ge 0`.
    dampening : float, default 0
        Dampening :math:`\tau` of the momentum buffer.
    weight_decay : float, default 0
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool, default False
        Maximize the objective: step along :math:`+g_t` (the gradient is negated first).

    Raises
    ------
    ValueError
        If ``lr``, ``momentum`` or ``weight_decay`` is negative, or ``nesterov`` is asked
        for without momentum or with dampening.
    TypeError
        If a hyperparameter is not a real number (or a switch not a bool, or a tensor ``lr``
        not floating point).

    Notes
    -----
    Differences from torch.optim: none in the arithmetic. The torch-only switches
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are not taken (there is one
    plain loop). A tensor ``lr`` is kept as a 0-d tensor and the update does its arithmetic
    with it as torch does; complex parameters are updated as pairs (real, imaginary)
    (:func:`torch.view_as_real`), as torch.optim does.

    Examples
    --------
    >>> w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()   # gradient 2w
    ...     _ = opt.step()
    >>> w.detach()
    tensor([ 0.4600, -0.9200], dtype=torch.float64)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        lr = _learning_rate(lr)
        momentum = _validate.real(momentum, "momentum", low=0)
        dampening = _validate.real(dampening, "dampening")
        weight_decay = _validate.real(weight_decay, "weight_decay", low=0)
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=_validate.boolean(nesterov, "nesterov"),
            maximize=_validate.boolean(maximize, "maximize"),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Optional[Tensor]:  # type: ignore[override]
        """Take one step; ``closure`` (optional) re-evaluates the loss and calls backward."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _float_grad(p, "SGD")
                if group.get("maximize", False):
                    g = -g
                if wd != 0:
                    g = g.add(p, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = g.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(mu).add_(g, alpha=1 - tau)
                    g = g.add(buf, alpha=mu) if nesterov else buf
                p.add_(g, alpha=-lr)
        return loss


# ---------------------------------------------------------------------------------------
# AdaGrad
# ---------------------------------------------------------------------------------------


class AdaGrad(Optimizer):
    r"""AdaGrad: a per-coordinate learning rate that shrinks with the summed squared gradients.

    .. math::

        G_t &= G_{t-1} + g_t \odot g_t \qquad (G_0 = \text{initial\_accumulator\_value}) \\
        \theta_{t+1} &= \theta_t - \frac{\eta_t}{\sqrt{G_t} + \epsilon} \odot g_t,
        \qquad \eta_t = \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}

    Coordinate :math:`i` moves with its own learning rate :math:`\eta/(\sqrt{G_t[i]}+\epsilon)`,
    which only ever decreases. :math:`\epsilon` is added to :math:`\sqrt{G_t}` (as in
    torch.optim.Adagrad), not inside the square root.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimize, or parameter groups.
    lr : float or torch.Tensor, default 1e-2
        Base learning rate :math:`\eta \ge 0` (a number or a one-element tensor).
    lr_decay : float, default 0
        Harmonic decay of the base learning rate with the step count.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of :math:`G`.
    eps : float, default 1e-10
        Added to the denominator for numerical stability.
    maximize : bool, default False
        Maximize the objective (the gradient is negated first).

    Raises
    ------
    ValueError
        If any hyperparameter is negative.
    TypeError
        If a hyperparameter is not a real number (or a switch not a bool, or a tensor ``lr``
        not floating point).

    Notes
    -----
    Differences from torch.optim: none in the arithmetic. The torch-only switches
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are not taken (there is one
    plain loop). A tensor ``lr`` is kept as a 0-d tensor and the update does its arithmetic
    with it as torch does; complex parameters are updated as pairs (real, imaginary)
    (:func:`torch.view_as_real`), as torch.optim does.

    Examples
    --------
    >>> w = torch.tensor([1.0, -100.0], dtype=torch.float64, requires_grad=True)
    >>> opt = AdaGrad([w], lr=0.5)
    >>> opt.zero_grad(); (w ** 2).sum().backward(); _ = opt.step()
    >>> w.detach()   # the first step moves every coordinate by lr, whatever its gradient
    tensor([  0.5000, -99.5000], dtype=torch.float64)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=_learning_rate(lr),
            lr_decay=_validate.real(lr_decay, "lr_decay", low=0),
            weight_decay=_validate.real(weight_decay, "weight_decay", low=0),
            initial_accumulator_value=_validate.real(initial_accumulator_value, "initial_accumulator_value", low=0),
            eps=_validate.real(eps, "eps", low=0),
            maximize=_validate.boolean(maximize, "maximize"),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Optional[Tensor]:  # type: ignore[override]
        """Take one step; ``closure`` (optional) re-evaluates the loss and calls backward."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _float_grad(p, "AdaGrad")
                if group.get("maximize", False):
                    g = -g
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    init = group["initial_accumulator_value"]  # torch.optim: init + init*1j if complex
                    state["sum"] = torch.full_like(p, complex(init, init) if p.is_complex() else init)
                t = _step_count(state)
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
                p, g, G = _as_real(p), _as_real(g), _as_real(state["sum"])
                G.addcmul_(g, g)
                denom = G.sqrt().add_(group["eps"])
                p.addcdiv_(g, denom, value=-clr)
        return loss


# ---------------------------------------------------------------------------------------
# RMSProp
# ---------------------------------------------------------------------------------------


class RMSProp(Optimizer):
    r"""RMSProp: AdaGrad with a moving average of squared gradients instead of a sum.

    .. math::

        v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t \odot g_t \qquad (v_0 = 0) \\
        \theta_{t+1} &= \theta_t - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}

    Because old gradients are forgotten at rate :math:`\alpha`, the per-coordinate learning
    rate does not decay to zero as AdaGrad's does. ``centered=True`` divides by an estimate
    of the standard deviation, :math:`\sqrt{v_t - m_t^2}` with :math:`m_t` the moving
    average of :math:`g_t`; ``momentum`` keeps a buffer
    :math:`b_t = \mu b_{t-1} + g_t/(\sqrt{v_t}+\epsilon)` and steps by :math:`\eta b_t`.
    There is no bias correction (as in torch.optim.RMSprop).

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimize, or parameter groups.
    lr : float or torch.Tensor, default 1e-2
        Learning rate :math:`\eta \ge 0` (a number or a one-element tensor).
    alpha : float, default 0.99
        Decay rate :math:`\alpha \in [0, 1)` of the squared-gradient average.
    eps : float, default 1e-8
        Added to :math:`\sqrt{v_t}`.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    momentum : float, default 0
        Momentum :math:`\mu \ge 0`.
    centered : bool, default False
        Normalise by the centred second moment.
    maximize : bool, default False
        Maximize the objective (the gradient is negated first).

    Raises
    ------
    ValueError
        If ``lr``, ``eps``, ``weight_decay`` or ``momentum`` is negative, or ``alpha`` is
        outside [0, 1).
    TypeError
        If a hyperparameter is not a real number (or a switch not a bool, or a tensor ``lr``
        not floating point).

    Notes
    -----
    Differences from torch.optim: none in the arithmetic. The torch-only switches
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are not taken (there is one
    plain loop). A tensor ``lr`` is kept as a 0-d tensor and the update does its arithmetic
    with it as torch does; complex parameters are updated as pairs (real, imaginary)
    (:func:`torch.view_as_real`), as torch.optim does.

    Examples
    --------
    >>> w = torch.tensor([1.0, -100.0], dtype=torch.float64, requires_grad=True)
    >>> opt = RMSProp([w], lr=0.01, alpha=0.99)
    >>> opt.zero_grad(); (w ** 2).sum().backward(); _ = opt.step()
    >>> w.detach()   # first step: lr / sqrt(1 - alpha) = 0.1 per coordinate
    tensor([  0.9000, -99.9000], dtype=torch.float64)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=_learning_rate(lr),
            alpha=_validate.real(alpha, "alpha", low=0, high=1, high_open=True),
            eps=_validate.real(eps, "eps", low=0),
            weight_decay=_validate.real(weight_decay, "weight_decay", low=0),
            momentum=_validate.real(momentum, "momentum", low=0),
            centered=_validate.boolean(centered, "centered"),
            maximize=_validate.boolean(maximize, "maximize"),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Optional[Tensor]:  # type: ignore[override]
        """Take one step; ``closure`` (optional) re-evaluates the loss and calls backward."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _float_grad(p, "RMSProp")
                if group.get("maximize", False):
                    g = -g
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                _step_count(state)
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                p, g, v = _as_real(p), _as_real(g), _as_real(state["square_avg"])
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    m = _as_real(state["grad_avg"])
                    m.lerp_(g, 1 - alpha)
                    denom = v.addcmul(m, m, value=-1).sqrt_().add_(eps)
                else:
                    denom = v.sqrt().add_(eps)
                if mu > 0:
                    buf = _as_real(state["momentum_buffer"])
                    buf.mul_(mu).addcdiv_(g, denom)
                    p.add_(buf, alpha=-lr)
                else:
                    p.addcdiv_(g, denom, value=-lr)
        return loss


# ---------------------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------------------


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSProp on its square, both bias-corrected.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t \qquad (m_0 = v_0 = 0) \\
        \hat m_t &= \frac{m_t}{1-\beta_1^{\,t}}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^{\,t}} \\
        \theta_{t+1} &= \theta_t - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Each moment is corrected with *its own* decay rate: :math:`m` with :math:`\beta_1`,
    :math:`v` with :math:`\beta_2` (pairing them the other way round is a common slip). With
    ``weight_decay`` :math:`\lambda`, the default adds :math:`\lambda\theta_t` to the gradient
    (L2 regularisation, torch.optim.Adam); ``decoupled_weight_decay=True`` instead shrinks the
    weights directly, :math:`\theta_t \leftarrow (1-\eta\lambda)\theta_t`, before the step
    (AdamW, Loshchilov and Hutter). ``amsgrad=True`` divides by the running maximum of
    :math:`v_t`.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimize, or parameter groups.
    lr : float or torch.Tensor, default 1e-3
        Learning rate :math:`\eta \ge 0` (a number or a one-element tensor).
    betas : tuple of float, default (0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float, default 1e-8
        Added to :math:`\sqrt{\hat v_t}` (outside the square root, as in torch.optim.Adam).
    weight_decay : float, default 0
        :math:`\lambda \ge 0`.
    amsgrad : bool, default False
        Use the AMSGrad variant.
    decoupled_weight_decay : bool, default False
        Decoupled (AdamW-style) weight decay.
    maximize : bool, default False
        Maximize the objective (the gradient is negated first).

    Raises
    ------
    ValueError
        If ``lr``, ``eps`` or ``weight_decay`` is negative or ``betas`` is not a pair in
        [0, 1).
    TypeError
        If a hyperparameter is not a real number (or a switch not a bool, or a tensor ``lr``
        not floating point).

    Notes
    -----
    Differences from torch.optim: none in the arithmetic. The torch-only switches
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are not taken (there is one
    plain loop). A tensor ``lr`` is kept as a 0-d tensor and the update does its arithmetic
    with it as torch does; complex parameters are updated as pairs (real, imaginary)
    (:func:`torch.view_as_real`), as torch.optim does.

    Examples
    --------
    >>> w = torch.tensor([1.0, -100.0], dtype=torch.float64, requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> opt.zero_grad(); (w ** 2).sum().backward(); _ = opt.step()
    >>> w.detach()   # bias correction makes the first step lr * sign(g)
    tensor([  0.9000, -99.9000], dtype=torch.float64)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=_learning_rate(lr),
            betas=_check_betas(betas),
            eps=_validate.real(eps, "eps", low=0),
            weight_decay=_validate.real(weight_decay, "weight_decay", low=0),
            amsgrad=_validate.boolean(amsgrad, "amsgrad"),
            maximize=_validate.boolean(maximize, "maximize"),
            decoupled_weight_decay=_validate.boolean(decoupled_weight_decay, "decoupled_weight_decay"),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Optional[Tensor]:  # type: ignore[override]
        """Take one step; ``closure`` (optional) re-evaluates the loss and calls backward."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _float_grad(p, "Adam")
                if group.get("maximize", False):
                    g = -g
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                t = _step_count(state)
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g.add(p, alpha=wd)
                p, g, m, v = _as_real(p), _as_real(g), _as_real(state["exp_avg"]), _as_real(state["exp_avg_sq"])
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if group["amsgrad"]:
                    v_max = _as_real(state["max_exp_avg_sq"])
                    torch.maximum(v_max, v, out=v_max)
                    v = v_max
                bias1 = 1 - beta1**t  # pairs with m (first moment, beta1)
                bias2 = 1 - beta2**t  # pairs with v (second moment, beta2)
                denom = (v.sqrt() / bias2**0.5).add_(eps)  # sqrt(v_hat) + eps
                p.addcdiv_(m, denom, value=-lr / bias1)  # lr * m_hat / (sqrt(v_hat) + eps)
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (defaults of torch.optim.AdamW).

    Same update as :class:`Adam` with ``decoupled_weight_decay=True``:

    .. math::

        \theta_t \leftarrow (1 - \eta\lambda)\,\theta_t, \qquad
        \theta_{t+1} = \theta_t - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimize, or parameter groups.
    lr : float, default 1e-3
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates, each in [0, 1).
    eps : float, default 1e-8
        Added to :math:`\sqrt{\hat v_t}`.
    weight_decay : float, default 1e-2
        Decoupled decay :math:`\lambda`.
    amsgrad : bool, default False
        Use the AMSGrad variant.
    maximize : bool, default False
        Maximize the objective (the gradient is negated first).

    Raises
    ------
    ValueError
        As :class:`Adam`.

    Examples
    --------
    >>> w = torch.zeros(3, requires_grad=True)
    >>> AdamW([w]).defaults["weight_decay"]
    0.01
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)


# ---------------------------------------------------------------------------------------
# Newton
# ---------------------------------------------------------------------------------------

_MODES = ("dense", "cg")
_NEGATIVE = ("gradient", "damp", "saddle_free", "none")


def _flat(tensors: Iterable[Tensor]) -> Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _unflat(vector: Tensor, like: list[Tensor]) -> list[Tensor]:
    out, start = [], 0
    for p in like:
        n = p.numel()
        out.append(vector[start : start + n].view_as(p))
        start += n
    return out


class Newton(Optimizer):
    r"""Newton's method with damping, a dense or a Hessian-free (conjugate-gradient) solve.

    Around :math:`\theta_t` the loss is modelled by its second-order Taylor expansion
    :math:`f(\theta_t) + g^\top d + \tfrac12 d^\top H d`; when :math:`H + \lambda I` is
    positive definite the model's minimiser gives the step

    .. math::

        (H + \lambda I)\, d = -g, \qquad \theta_{t+1} = \theta_t + \eta\, d .

    On a quadratic with positive-definite Hessian, ``lr=1`` and ``damping=0`` land on the
    minimum in one step. ``mode="dense"`` builds :math:`H` (memory :math:`O(n^2)`, solve
    :math:`O(n^3)`, for small models); ``mode="cg"`` solves by conjugate gradients using only
    Hessian-vector products :math:`Hv` (double back-propagation, memory :math:`O(n)`).

    When :math:`H + \lambda I` is not positive definite the Newton step may head for a saddle
    point or a maximum. ``negative_curvature`` says what to do instead:

    * ``"gradient"`` (default): take a gradient step :math:`d = -g`. In ``cg`` mode, negative
      curvature met after the first CG iteration stops CG and keeps the descent direction
      found so far (``"truncated cg"``), as in Newton-CG (Nocedal and Wright, Alg. 7.1).
    * ``"damp"``: increase the damping until :math:`H + \lambda I` is positive definite. Dense:
      :math:`\lambda = 2|\sigma_{\min}|`, which turns the most negative eigenvalue
      :math:`\sigma_{\min}` into :math:`|\sigma_{\min}|` (then doubled while the Cholesky
      factorisation fails, as in Nocedal and Wright's Alg. 3.3); cg: the same from the
      Rayleigh quotient of the direction where CG met negative curvature, and CG restarts.
    * ``"saddle_free"`` (dense only): replace every eigenvalue :math:`\sigma` of :math:`H` by
      :math:`|\sigma| + \lambda` (Dauphin et al., 2014), which turns away from saddles.
    * ``"none"``: take the raw Newton step anyway (to watch it converge to a saddle).

    What was done is recorded in ``last_step_info``, a dict with keys ``action``
    (``"newton"``, ``"damped"``, ``"gradient step"``, ``"truncated cg"``,
    ``"saddle-free"`` or ``"newton (indefinite)"``), ``negative_curvature`` (bool),
    ``min_eigenvalue`` (dense mode, when computed, else ``None``), ``damping`` (the
    :math:`\lambda` used), ``cg_iterations``, ``loss``, ``grad_norm`` and ``step_norm``.
    The same dict is appended to ``self.history``.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters (a single group).
    lr : float, default 1.0
        Step scale :math:`\eta > 0`.
    damping : float, default 0.0
        :math:`\lambda \ge 0` (Levenberg-Marquardt damping).
    mode : {"dense", "cg"}, default "dense"
        How to solve the Newton system.
    negative_curvature : {"gradient", "damp", "saddle_free", "none"}, default "gradient"
        What to do when :math:`H + \lambda I` is not positive definite.
    cg_max_iter : int, optional
        Maximum CG iterations (default: the number of parameters).
    cg_tol : float, default 1e-10
        CG stops when the residual norm is below ``cg_tol * ||g||``.

    Raises
    ------
    ValueError
        If ``lr <= 0``, ``damping < 0``, ``cg_tol <= 0``, ``cg_max_iter < 1``, ``mode`` or
        ``negative_curvature`` is unknown, ``"saddle_free"`` is asked with ``mode="cg"``, or
        there is more than one parameter group.

    Examples
    --------
    >>> A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> opt = Newton([x])
    >>> _ = opt.step(lambda: 0.5 * x @ A @ x - b @ x)   # the closure only returns the loss
    >>> x.detach(), torch.linalg.solve(A, b)
    (tensor([ 0.6000, -0.8000], dtype=torch.float64), tensor([ 0.6000, -0.8000], dtype=torch.float64))
    >>> opt.last_step_info["action"]
    'newton'
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        damping: float = 0.0,
        mode: str = "dense",
        negative_curvature: str = "gradient",
        cg_max_iter: Optional[int] = None,
        cg_tol: float = 1e-10,
    ) -> None:
        lr = _validate.real(lr, "lr", low=0, low_open=True)
        damping = _validate.real(damping, "damping", low=0)
        mode = _validate.choice(mode, "mode", _MODES)
        negative_curvature = _validate.choice(negative_curvature, "negative_curvature", _NEGATIVE)
        if mode == "cg" and negative_curvature == "saddle_free":
            raise ValueError("negative_curvature='saddle_free' needs the eigenvalues: use mode='dense'")
        if cg_max_iter is not None:
            cg_max_iter = _validate.integer(cg_max_iter, "cg_max_iter", low=1)
        cg_tol = _validate.real(cg_tol, "cg_tol", low=0, low_open=True)
        defaults = dict(
            lr=lr,
            damping=damping,
            mode=mode,
            negative_curvature=negative_curvature,
            cg_max_iter=cg_max_iter,
            cg_tol=cg_tol,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"Newton takes a single parameter group (params), got {len(self.param_groups)} groups")
        self.last_step_info: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []

    # -- derivatives -------------------------------------------------------------------

    @staticmethod
    def gradient(loss: Tensor, params: list[Tensor]) -> Tensor:
        r"""The flat gradient :math:`g = \nabla L(\theta)`, kept differentiable (``create_graph``).

        Parameters
        ----------
        loss : torch.Tensor, shape ()
            A scalar computed from ``params``.
        params : list of torch.Tensor
            The parameters (``n`` numbers in all); unused ones get zero gradient.

        Returns
        -------
        torch.Tensor, shape (n,)
            The gradient, concatenated in the order of ``params``, with its graph (so that
            :meth:`hvp` and :meth:`hessian` can differentiate it again).

        Examples
        --------
        >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        >>> Newton.gradient((x ** 3).sum(), [x])
        tensor([ 3., 12.], dtype=torch.float64, grad_fn=<CatBackward0>)
        """
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        return _flat(torch.zeros_like(p) if g is None else g for g, p in zip(grads, params))

    @staticmethod
    def hvp(g: Tensor, params: list[Tensor], v: Tensor) -> Tensor:
        r"""The Hessian-vector product :math:`Hv = \nabla_\theta (g^\top v)`, one back-propagation.

        Parameters
        ----------
        g : torch.Tensor, shape (n,)
            The flat gradient from :meth:`gradient`.
        params : list of torch.Tensor
            The parameters.
        v : torch.Tensor, shape (n,)
            The vector.

        Returns
        -------
        torch.Tensor, shape (n,)
            :math:`Hv`, detached.

        Examples
        --------
        >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        >>> g = Newton.gradient((x ** 3).sum(), [x])          # H = diag(6x)
        >>> Newton.hvp(g, [x], torch.tensor([1.0, 1.0], dtype=torch.float64))
        tensor([ 6., 12.], dtype=torch.float64)
        """
        if not g.requires_grad:  # the gradient does not depend on the parameters: H = 0
            return torch.zeros_like(v)
        hv = torch.autograd.grad(g, params, grad_outputs=v, retain_graph=True, allow_unused=True)
        return _flat(torch.zeros_like(p) if h is None else h for h, p in zip(hv, params)).detach()

    @staticmethod
    def hessian(g: Tensor, params: list[Tensor], chunk_size: int = 64) -> Tensor:
        r"""The dense Hessian :math:`H_{ij} = \partial g_i / \partial \theta_j`, symmetrised.

        Row :math:`i` is the Hessian-vector product :math:`H e_i`, one back-propagation
        through the gradient's graph; rows are computed ``chunk_size`` at a time with
        ``vmap`` (``is_grads_batched``), falling back to one at a time for operations that
        ``vmap`` does not support.

        .. math::

            H = \nabla^2 L(\theta) = \bigl[\, H e_1 \;\cdots\; H e_n \,\bigr]

        Parameters
        ----------
        g : torch.Tensor, shape (n,)
            The flat gradient, computed with ``create_graph=True``.
        params : list of torch.Tensor
            The parameters (``n`` numbers in all).
        chunk_size : int, default 64
            Rows per batched back-propagation (memory grows with it).

        Returns
        -------
        torch.Tensor, shape (n, n)
            The Hessian.

        Examples
        --------
        >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        >>> g = torch.autograd.grad((x[0] ** 2 * x[1]), [x], create_graph=True)[0]
        >>> Newton.hessian(g, [x])
        tensor([[4., 2.],
                [2., 0.]], dtype=torch.float64)
        """
        n = g.numel()
        if not g.requires_grad:
            return g.new_zeros(n, n)
        eye = torch.eye(n, dtype=g.dtype, device=g.device)
        blocks = []
        for start in range(0, n, chunk_size):
            seeds = eye[start : start + chunk_size]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows = torch.autograd.grad(
                        g, params, grad_outputs=seeds, retain_graph=True, allow_unused=True, is_grads_batched=True
                    )
                block = torch.cat(
                    [(torch.zeros(len(seeds), p.numel(), dtype=g.dtype, device=g.device) if r is None
                      else r.reshape(len(seeds), -1)) for r, p in zip(rows, params)],
                    dim=1,
                )
            except RuntimeError:  # an op without a batching rule: one row at a time
                block = torch.stack([Newton.hvp(g, params, v) for v in seeds])
            blocks.append(block.detach())
        H = torch.cat(blocks)
        return (H + H.T) / 2

    # -- the step: the equation ----------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Tensor:  # type: ignore[override]
        r"""Take one Newton step: solve :math:`(H + \lambda I)\, d = -g`, then :math:`\theta \leftarrow \theta + \eta d`.

        Parameters
        ----------
        closure : callable
            Returns the (scalar) loss at the current parameters, computed with autograd;
            it must NOT call ``backward`` (Newton differentiates the loss twice itself).

        Returns
        -------
        torch.Tensor
            The loss before the step (detached).

        Raises
        ------
        ValueError
            If ``closure`` is missing or does not return a scalar tensor that depends on the
            parameters.
        """
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.requires_grad]
        with torch.enable_grad():
            loss = self._evaluate(closure, params)
            g_graph = self.gradient(loss, params)  # g = grad L, kept differentiable for H
            g = g_graph.detach()
            info = self._new_info(loss, g, group)
            if group["mode"] == "dense":
                H = self.hessian(g_graph, params)  # H = grad^2 L, row i = H e_i
                d = self._solve_dense(g, H, group, info)  # (H + lambda I) d = -g
            else:
                hvp = lambda v: self.hvp(g_graph, params, v)  # noqa: E731  v -> H v
                d = self._solve_cg(g, hvp, group, info)  # the same system, by conjugate gradients
        lr = group["lr"]
        for p, dp, gp in zip(params, _unflat(d.detach(), params), _unflat(g, params)):
            p.add_(dp, alpha=lr)  # theta <- theta + lr * d
            p.grad = gp.clone()
        info["step_norm"] = float(lr * d.norm())
        self.last_step_info = info
        self.history.append(info)
        return loss.detach()

    # -- the Newton system (H + lambda I) d = -g ------------------------------------------

    def _solve_dense(self, g: Tensor, H: Tensor, group: dict[str, Any], info: dict[str, Any]) -> Tensor:
        r"""The Newton direction :math:`d = -(H + \lambda I)^{-1} g` by a Cholesky factorisation.

        When :math:`H + \lambda I` is not positive definite (Cholesky fails), the Newton step
        would not go downhill, and :meth:`_negative_curvature_dense` applies the policy.
        """
        lam = group["damping"]
        d = _cholesky_solve(H, lam, g)
        if d is not None:
            info["action"] = "newton" if lam == 0 else "damped"
            return d
        return self._negative_curvature_dense(g, H, group, info)

    def _solve_cg(self, g: Tensor, hvp: Callable[[Tensor], Tensor], group: dict[str, Any],
                  info: dict[str, Any]) -> Tensor:
        r"""The Newton direction by conjugate gradients on :math:`(H + \lambda I) d = -g`.

        CG needs only products :math:`Hv`; negative curvature met on the way is handled by
        :meth:`_negative_curvature_cg`.
        """
        lam, policy = group["damping"], group["negative_curvature"]
        d, k, negative, rayleigh = self._cg(g, hvp, lam, group, stop_on_negative=policy != "none")
        info["cg_iterations"] = k
        if not negative:
            info["action"] = "newton" if lam == 0 else "damped"
            return d
        return self._negative_curvature_cg(g, hvp, d, k, rayleigh, group, info)

    # -- bookkeeping -----------------------------------------------------------------------

    def _evaluate(self, closure: Closure, params: list[Tensor]) -> Tensor:
        """The closure's loss as a 0-d tensor, after checking it can be differentiated."""
        if closure is None:
            raise ValueError("closure is required: Newton.step(closure) with closure() returning the loss")
        if not params:
            raise ValueError("params: no parameter requires grad")
        loss = closure()
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(f"closure must return a scalar tensor, got {type(loss).__name__}")
        if not loss.requires_grad:
            raise ValueError("closure must return a loss computed from the parameters (it has no grad_fn)")
        return loss.reshape(())

    @staticmethod
    def _new_info(loss: Tensor, g: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """A fresh :attr:`last_step_info`; the solvers fill in what they did."""
        return {
            "action": None,
            "negative_curvature": False,
            "min_eigenvalue": None,
            "damping": group["damping"],
            "cg_iterations": None,
            "loss": float(loss.detach()),
            "grad_norm": float(g.norm()),
        }

    # -- negative curvature: what to do when the Newton step would not go downhill -----------

    def _negative_curvature_dense(self, g: Tensor, H: Tensor, group: dict[str, Any], info: dict[str, Any]) -> Tensor:
        """Apply ``negative_curvature`` when :math:`H + \\lambda I` is not positive definite."""
        info["negative_curvature"] = True
        eigenvalues, vectors = torch.linalg.eigh(H)
        info["min_eigenvalue"] = float(eigenvalues[0])
        lam, policy = group["damping"], group["negative_curvature"]
        if policy == "gradient":
            info["action"] = "gradient step"
            return -g
        if policy == "saddle_free":  # |sigma| + lambda in place of every eigenvalue sigma
            info["action"] = "saddle-free"
            return -(vectors @ ((vectors.T @ g) / (eigenvalues.abs() + lam).clamp_min(torch.finfo(g.dtype).tiny)))
        if policy == "damp":
            tau, d = _damp_until_definite(H, g, lam, eigenvalues)
            info["action"], info["damping"] = "damped", tau
            return d
        info["action"] = "newton (indefinite)"  # policy "none": the raw step, wherever it leads
        A = H + lam * torch.eye(g.numel(), dtype=g.dtype, device=g.device)
        try:
            return -torch.linalg.solve(A, g)
        except RuntimeError:  # singular: least-squares (minimum-norm) solution
            return -torch.linalg.lstsq(A, g.unsqueeze(1)).solution.squeeze(1)

    def _negative_curvature_cg(self, g: Tensor, hvp: Callable[[Tensor], Tensor], d: Tensor, k: int,
                               rayleigh: float, group: dict[str, Any], info: dict[str, Any]) -> Tensor:
        """Apply ``negative_curvature`` when CG met a direction with :math:`p^\\top (H + \\lambda I) p \\le 0`."""
        info["negative_curvature"] = True
        lam, policy = group["damping"], group["negative_curvature"]
        if policy == "none":
            info["action"] = "newton (indefinite)"
            return d
        if policy == "gradient":
            if k == 0:
                info["action"] = "gradient step"
                return -g
            info["action"] = "truncated cg"
            return d
        # policy == "damp": restart CG with more damping until it meets no negative curvature.
        # The Rayleigh quotient r of the offending direction bounds lambda_min(H + lam I) from
        # above, so lam - 2r mirrors that curvature to |r|; double while that is not enough.
        beta = 1e-3 * max(1.0, float(g.norm()))
        tau = max(lam, lam - 2 * rayleigh, beta)
        total = k
        for _ in range(64):
            d, k, negative, rayleigh = self._cg(g, hvp, tau, group, stop_on_negative=True)
            total += k
            if not negative:
                break
            tau = max(2 * tau, tau - 2 * rayleigh, beta)
        info["cg_iterations"], info["action"], info["damping"] = total, "damped", tau
        if negative:  # pragma: no cover - 64 doublings make any bounded Hessian definite
            info["action"] = "gradient step"
            return -g
        return d

    # -- conjugate gradients -----------------------------------------------------------------

    def _cg(self, g: Tensor, hvp: Callable[[Tensor], Tensor], lam: float, group: dict[str, Any],
            stop_on_negative: bool) -> tuple[Tensor, int, bool, float]:
        """Conjugate gradients on (H + lam I) d = -g.

        Returns (d, iterations, whether negative curvature was met, the Rayleigh quotient
        p'(H + lam I)p / p'p of the direction where it was met, else 0).
        """
        n = g.numel()
        max_iter = group["cg_max_iter"] or n
        tol = group["cg_tol"] * float(g.norm())
        d = torch.zeros_like(g)
        r = g.clone()  # residual of (H + lam I) d + g
        p = -r
        rr = r @ r
        negative, rayleigh = False, 0.0
        for k in range(max_iter):
            if math.sqrt(float(rr)) <= tol:
                return d, k, negative, rayleigh
            Ap = hvp(p) + lam * p
            curvature = p @ Ap
            if float(curvature) <= 0.0:
                if not negative:
                    negative, rayleigh = True, float(curvature / (p @ p))
                if stop_on_negative or float(curvature) == 0.0:
                    return d, k, negative, rayleigh
            alpha = rr / curvature
            d = d + alpha * p
            r = r + alpha * Ap
            rr_new = r @ r
            p = -r + (rr_new / rr) * p
            rr = rr_new
        return d, max_iter, negative, rayleigh


def _cholesky_solve(H: Tensor, lam: float, g: Tensor) -> Optional[Tensor]:
    r""":math:`-(H + \lambda I)^{-1} g` by Cholesky, or ``None`` when :math:`H + \lambda I` is not positive definite."""
    L, bad = torch.linalg.cholesky_ex(H + lam * torch.eye(g.numel(), dtype=g.dtype, device=g.device))
    if int(bad) != 0:
        return None
    return -torch.cholesky_solve(g.unsqueeze(1), L).squeeze(1)


def _damp_until_definite(H: Tensor, g: Tensor, lam: float, eigenvalues: Tensor) -> tuple[float, Tensor]:
    r"""The damping :math:`\tau` that makes :math:`H + \tau I` positive definite, and its Newton direction.

    :math:`\tau = 2|\sigma_{\min}|` turns the most negative eigenvalue into :math:`|\sigma_{\min}|`
    (at least :math:`\beta`), doubled while the Cholesky factorisation still fails (Nocedal and
    Wright, Alg. 3.3).
    """
    lam_min = float(eigenvalues[0])
    beta = 1e-3 * max(1.0, float(eigenvalues.abs().max()))
    tau = max(lam, -lam_min + max(-lam_min, beta))
    while (d := _cholesky_solve(H, tau, g)) is None:
        tau = max(2 * tau, beta)
    return tau, d


# ---------------------------------------------------------------------------------------
# L-BFGS
# ---------------------------------------------------------------------------------------


def _cubic_minimizer(
    x1: float, f1: float, g1: Any, x2: float, f2: float, g2: Any, bounds: Optional[tuple[Any, Any]] = None
) -> Any:
    r"""Minimiser of the cubic through :math:`(x_1, f_1, g_1)` and :math:`(x_2, f_2, g_2)`, clipped to ``bounds``.

    With :math:`d_1 = g_1 + g_2 - 3\frac{f_1 - f_2}{x_1 - x_2}` and
    :math:`d_2 = \sqrt{d_1^2 - g_1 g_2}` the minimiser is (Nocedal and Wright, eq. 3.59)
    :math:`x_2 - (x_2 - x_1)\frac{g_2 + d_2 - d_1}{g_2 - g_1 + 2 d_2}` for :math:`x_1 \le x_2`.
    Without a real :math:`d_2` the cubic has no minimum and the midpoint of ``bounds`` is used.
    """
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square.sqrt()
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, low), high)


def _strong_wolfe(
    evaluate: Callable[[Any], tuple[float, Tensor]],
    t: Any,
    d: Tensor,
    f: float,
    g: Tensor,
    gtd: Tensor,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Tensor, Any, int]:
    r"""Find a step :math:`t` along ``d`` satisfying the strong Wolfe conditions.

    With :math:`\phi(t) = f(x + t d)`, a step is accepted when

    .. math::

        \phi(t) \le \phi(0) + c_1 t\, \phi'(0) \quad\text{(sufficient decrease)}, \qquad
        |\phi'(t)| \le c_2\, |\phi'(0)| \quad\text{(curvature)} .

    Phase 1 grows :math:`t` (by cubic extrapolation, at most tenfold) until an interval is
    known to contain such a step; phase 2 ("zoom") shrinks that interval by cubic
    interpolation (Nocedal and Wright, Algorithms 3.5 and 3.6). This is the same search, with
    the same safeguards and the same order of operations, as ``torch.optim.LBFGS``'s (itself
    from Schmidt's minFunc). ``evaluate(t)`` returns :math:`(\phi(t), \nabla f(x + t d))`.
    Returns the loss, the gradient and the step accepted, and the number of evaluations.
    """
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    f_new, g_new = evaluate(t)
    evals, ls_iter = 1, 0
    gtd_new = g_new.dot(d)

    # phase 1: bracket a step (the end with the lower loss is the "low" end)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone(memory_format=torch.contiguous_format)], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:  # both Wolfe conditions hold: done
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:  # the slope turned positive: a minimum lies in [t_prev, t]
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.clone(memory_format=torch.contiguous_format)], [gtd_prev, gtd_new]
            break
        # still going down: extrapolate, between 1.01 t and 10 t
        t_next = _cubic_minimizer(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                  bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.clone(memory_format=torch.contiguous_format), gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: take the last step tried
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # phase 2: zoom into the bracket
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimizer(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep t at least a tenth of the bracket away from its ends
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            # no sufficient decrease: t becomes the high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.clone(memory_format=torch.contiguous_format), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # the old low end becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.clone(memory_format=torch.contiguous_format), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    r"""Limited-memory BFGS with an optional strong Wolfe line search, as ``torch.optim.LBFGS``.

    L-BFGS keeps the last :math:`m` (``history_size``) pairs
    :math:`s_i = \theta_{i+1} - \theta_i`, :math:`y_i = g_{i+1} - g_i` (with
    :math:`\rho_i = 1/y_i^\top s_i`), and applies to the gradient the inverse-Hessian estimate
    that BFGS would build from them, without forming any matrix. The **two-loop recursion**
    computes :math:`d = -H_k g_k`:

    .. math::

        &q \leftarrow -g_k; \quad \text{for } i = k-1, \dots, k-m:\;
            \alpha_i = \rho_i\, s_i^\top q,\; q \leftarrow q - \alpha_i y_i \\
        &r \leftarrow \gamma_k\, q, \quad \gamma_k = \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}} \\
        &\text{for } i = k-m, \dots, k-1:\;
            \beta_i = \rho_i\, y_i^\top r,\; r \leftarrow r + (\alpha_i - \beta_i)\, s_i; \qquad d = r .

    That is :math:`O(mn)` time and memory for :math:`n` parameters, against :math:`O(n^2)`
    memory and :math:`O(n^3)` time for Newton's method. A pair is stored only when
    :math:`y^\top s > 10^{-10}` (the curvature condition that keeps :math:`H_k` positive
    definite). The step is :math:`\theta \leftarrow \theta + t d` with :math:`t = \eta`
    (:math:`t = \eta \min(1, 1/\lVert g\rVert_1)` on the very first iteration), or, with
    ``line_search_fn="strong_wolfe"``, the :math:`t` found by a strong Wolfe line search
    started from that value.

    One call of ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` loss
    evaluations) and stops early when the largest gradient entry is at most
    ``tolerance_grad``, or when the step or the change in loss is below ``tolerance_change``.
    The closure must zero the gradients, compute the loss, call ``backward()`` and return
    the loss, as for ``torch.optim.LBFGS``. The history is kept across calls.

    The arguments, defaults and iterates are ``torch.optim.LBFGS``'s (equal in float64).
    Differences: ``lr`` must be a real number (not a tensor); complex and sparse parameters
    are not supported; an unknown ``line_search_fn`` is a :class:`ValueError` at
    construction (torch raises a ``RuntimeError`` in ``step``).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters (a single group, real floating point).
    lr : float, default 1
        Step length :math:`\eta \ge 0` (the initial step of the line search, if any).
    max_iter : int, default 20
        Maximum iterations per ``step`` call (>= 1).
    max_eval : int, optional
        Maximum closure evaluations per ``step`` call (default ``max_iter * 5 // 4``; >= 1).
    tolerance_grad : float, default 1e-7
        Stop when :math:`\max_i |g_i| \le` ``tolerance_grad`` (>= 0).
    tolerance_change : float, default 1e-9
        Stop when the step's largest entry or the change in loss is below this (>= 0).
    history_size : int, default 100
        Number :math:`m` of stored pairs :math:`(s_i, y_i)` (>= 1).
    line_search_fn : {None, "strong_wolfe"}, default None
        Line search to use.

    Raises
    ------
    TypeError
        If a number argument has the wrong type, or ``step`` gets no callable closure.
    ValueError
        If ``lr < 0``, ``max_iter``, ``max_eval`` or ``history_size`` is < 1, a tolerance is
        negative, ``line_search_fn`` is not ``None`` or ``"strong_wolfe"``, or there is more
        than one parameter group.

    Examples
    --------
    >>> A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = 0.5 * x @ A @ x - b @ x
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> torch.allclose(x.detach(), torch.linalg.solve(A, b))
    True
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: Optional[int] = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: Optional[str] = None,
    ) -> None:
        lr = _validate.real(lr, "lr", low=0)
        max_iter = _validate.integer(max_iter, "max_iter", low=1)
        max_eval = max_iter * 5 // 4 if max_eval is None else _validate.integer(max_eval, "max_eval", low=1)
        tolerance_grad = _validate.real(tolerance_grad, "tolerance_grad", low=0)
        tolerance_change = _validate.real(tolerance_change, "tolerance_change", low=0)
        history_size = _validate.integer(history_size, "history_size", low=1)
        if line_search_fn is not None:
            _validate.choice(line_search_fn, "line_search_fn", ("strong_wolfe",))
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("params must be a single parameter group: LBFGS has no per-group options")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        for p in self._params:
            if not p.is_floating_point():
                raise TypeError(f"params must be real floating-point tensors, got {p.dtype}")

    # -- flat views of the parameters and their gradient ----------------------------------

    def _flat_grad(self) -> Tensor:
        return torch.cat([p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1) for p in self._params])

    def _move(self, t: Any, d: Tensor) -> None:
        """:math:`\\theta \\leftarrow \\theta + t d` on the flat view of the parameters."""
        offset = 0
        for p in self._params:
            p.add_(d[offset : offset + p.numel()].view_as(p), alpha=t)
            offset += p.numel()

    def _evaluate_at(self, closure: Callable[[], Tensor], t: Any, d: Tensor) -> tuple[float, Tensor]:
        """Loss and gradient at :math:`\\theta + t d`, leaving the parameters unchanged."""
        saved = [p.clone(memory_format=torch.contiguous_format) for p in self._params]
        self._move(t, d)
        loss = float(closure().detach())
        grad = self._flat_grad()
        for p, value in zip(self._params, saved):
            p.copy_(value)
        return loss, grad

    @staticmethod
    def _two_loop(g: Tensor, s: list[Tensor], y: list[Tensor], rho: list[Tensor], gamma: Any) -> Tensor:
        """The two-loop recursion: :math:`d = -H g` from the stored pairs, newest last."""
        alpha = [None] * len(s)
        q = g.neg()
        for i in reversed(range(len(s))):
            alpha[i] = s[i].dot(q) * rho[i]
            q.add_(y[i], alpha=-alpha[i])
        r = torch.mul(q, gamma)
        for i in range(len(s)):
            beta = y[i].dot(r) * rho[i]
            r.add_(s[i], alpha=alpha[i] - beta)
        return r

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss before the first."""
        if not callable(closure):
            raise TypeError(f"closure must be a callable that returns the loss, got {type(closure).__name__}")
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = closure()
        loss = float(first_loss.detach())
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if g.abs().max() <= tolerance_grad:  # already stationary
            return first_loss

        d, t = state.get("d"), state.get("t")
        s, y, rho, gamma = state.get("s"), state.get("y"), state.get("rho"), state.get("gamma")
        g_prev, loss_prev = state.get("g_prev"), state.get("loss_prev")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # 1. direction: steepest descent at first, then the two-loop recursion
            if state["n_iter"] == 1:
                d, s, y, rho, gamma = g.neg(), [], [], [], 1
            else:
                y_new, s_new = g.sub(g_prev), d.mul(t)
                ys = y_new.dot(s_new)
                if ys > 1e-10:  # curvature condition: keep the pair
                    if len(s) == group["history_size"]:
                        s.pop(0), y.pop(0), rho.pop(0)
                    s.append(s_new), y.append(y_new), rho.append(1.0 / ys)
                    gamma = ys / y_new.dot(y_new)
                d = self._two_loop(g, s, y, rho, gamma)
            if g_prev is None:
                g_prev = g.clone(memory_format=torch.contiguous_format)
            else:
                g_prev.copy_(g)
            loss_prev = loss

            # 2. step length
            t = min(1.0, 1.0 / g.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = g.dot(d)  # directional derivative
            if gtd > -tolerance_change:  # not a descent direction any more
                break
            new_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                loss, g, t, new_evals = _strong_wolfe(
                    lambda step: self._evaluate_at(closure, step, d), t, d, loss, g, gtd,
                    max_ls=max_eval - evals)
                self._move(t, d)
            else:
                self._move(t, d)
                if n_iter != max_iter:  # the last iteration's loss is computed by the next call
                    with torch.enable_grad():
                        loss = float(closure().detach())
                    g = self._flat_grad()
                    new_evals = 1
            evals += new_evals
            state["func_evals"] += new_evals

            # 3. stopping tests
            if n_iter == max_iter or evals >= max_eval or g.abs().max() <= tolerance_grad:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - loss_prev) < tolerance_change:
                break

        state.update(d=d, t=t, s=s, y=y, rho=rho, gamma=gamma, g_prev=g_prev, loss_prev=loss_prev)
        return first_loss


# ---------------------------------------------------------------------------------------
# minimize
# ---------------------------------------------------------------------------------------


class Trajectory(NamedTuple):
    """The path of :func:`minimize`: ``points`` of shape (steps+1, d) and ``losses`` (steps+1,)."""

    points: Tensor
    losses: Tensor


def minimize(
    f: Callable[[Tensor], Tensor],
    x0: Tensor,
    optimizer_cls: type[Optimizer],
    steps: int,
    **kw: Any,
) -> Trajectory:
    r"""Run an optimizer on :math:`f:\mathbb{R}^d\to\mathbb{R}` from ``x0`` and record its path.

    .. math::

        x_0 \;\to\; x_1 \;\to\; \cdots \;\to\; x_{\text{steps}}, \qquad
        \text{losses}_k = f(x_k)

    Parameters
    ----------
    f : callable
        Maps a tensor of shape (d,) to a scalar tensor (differentiable with autograd).
    x0 : torch.Tensor, shape (d,)
        Starting point (floating point; it is copied, not modified).
    optimizer_cls : type
        A :class:`torch.optim.Optimizer` subclass: one of this module's, or torch.optim's
        (including ``LBFGS``). :class:`Newton` gets a closure without ``backward``.
    steps : int
        Number of optimizer steps (>= 0).
    **kw
        Passed to ``optimizer_cls`` (e.g. ``lr=0.1``).

    Returns
    -------
    Trajectory
        ``(points, losses)`` with ``points`` of shape (steps+1, d) and ``losses`` of shape
        (steps+1,), on the device and dtype of ``x0``.

    Raises
    ------
    TypeError
        If ``x0`` is not a floating-point tensor or ``optimizer_cls`` not an Optimizer class.
    ValueError
        If ``x0`` is not 1-D, ``steps`` is negative, or ``f`` does not return one number.

    Examples
    --------
    >>> f = lambda x: (x ** 2).sum()
    >>> path, losses = minimize(f, torch.tensor([1.0, 2.0], dtype=torch.float64), SGD, 2, lr=0.25)
    >>> path
    tensor([[1.0000, 2.0000],
            [0.5000, 1.0000],
            [0.2500, 0.5000]], dtype=torch.float64)
    >>> losses
    tensor([5.0000, 1.2500, 0.3125], dtype=torch.float64)
    """
    x0 = _validate.float_tensor(x0, "x0")
    if x0.dim() != 1:
        raise ValueError(f"x0 must be 1-D, shape (d,), got shape {tuple(x0.shape)}")
    if not (isinstance(optimizer_cls, type) and issubclass(optimizer_cls, Optimizer)):
        raise TypeError(f"optimizer_cls must be a torch.optim.Optimizer subclass, got {optimizer_cls!r}")
    steps = _validate.integer(steps, "steps", low=0)
    x = x0.detach().clone().requires_grad_(True)
    opt = optimizer_cls([x], **kw)
    newton = isinstance(opt, Newton)

    def value() -> Tensor:
        loss = f(x)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            got = f"shape {tuple(loss.shape)}" if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"f must return a scalar tensor (one number), got {got}")
        return loss

    def closure() -> Tensor:
        if newton:
            return value()
        opt.zero_grad()
        loss = value()
        loss.backward()
        return loss

    points, losses = [x.detach().clone()], []
    for _ in range(steps):
        losses.append(opt.step(closure).detach().reshape(()))
        points.append(x.detach().clone())
    with torch.no_grad():
        losses.append(value().detach().reshape(()))
    return Trajectory(torch.stack(points), torch.stack(losses).to(x0.dtype))
