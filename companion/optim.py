"""Optimizers written from their update equations: SGD, AdaGrad, RMSProp, Adam and Newton.

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

__all__ = [
    "SGD",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "AdamW",
    "Newton",
    "Trajectory",
    "minimize",
]

Params = Union[Iterable[Tensor], Iterable[dict[str, Any]]]
Closure = Optional[Callable[[], Tensor]]


# ---------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    return value


def _non_negative(name: str, value: Any) -> float:
    value = _number(name, value)
    if value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _in_unit_interval(name: str, value: Any) -> float:
    value = _number(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = _in_unit_interval("betas[0] (beta1)", betas[0])
    b2 = _in_unit_interval("betas[1] (beta2)", betas[1])
    return b1, b2


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
    lr : float, default 1e-3
        Learning rate :math:`\eta \ge 0` (torch.optim.SGD's default).
    momentum : float, default 0
        Momentum :math:`\mu \ge 0`.
    dampening : float, default 0
        Dampening :math:`\tau` of the momentum buffer.
    weight_decay : float, default 0
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    Raises
    ------
    ValueError
        If ``lr``, ``momentum`` or ``weight_decay`` is negative, or ``nesterov`` is asked
        for without momentum or with dampening.
    TypeError
        If a hyperparameter is not a real number.

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
    ) -> None:
        lr = _non_negative("lr", lr)
        momentum = _non_negative("momentum", momentum)
        dampening = _number("dampening", dampening)
        weight_decay = _non_negative("weight_decay", weight_decay)
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=bool(nesterov)
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
    lr : float, default 1e-2
        Base learning rate :math:`\eta \ge 0`.
    lr_decay : float, default 0
        Harmonic decay of the base learning rate with the step count.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of :math:`G`.
    eps : float, default 1e-10
        Added to the denominator for numerical stability.

    Raises
    ------
    ValueError
        If any hyperparameter is negative.
    TypeError
        If a hyperparameter is not a real number.

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
    ) -> None:
        defaults = dict(
            lr=_non_negative("lr", lr),
            lr_decay=_non_negative("lr_decay", lr_decay),
            weight_decay=_non_negative("weight_decay", weight_decay),
            initial_accumulator_value=_non_negative("initial_accumulator_value", initial_accumulator_value),
            eps=_non_negative("eps", eps),
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
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"].addcmul_(g, g)
                denom = state["sum"].sqrt().add_(group["eps"])
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
    lr : float, default 1e-2
        Learning rate :math:`\eta \ge 0`.
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

    Raises
    ------
    ValueError
        If ``lr``, ``eps``, ``weight_decay`` or ``momentum`` is negative, or ``alpha`` is
        outside [0, 1).
    TypeError
        If a hyperparameter is not a real number.

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
    ) -> None:
        defaults = dict(
            lr=_non_negative("lr", lr),
            alpha=_in_unit_interval("alpha", alpha),
            eps=_non_negative("eps", eps),
            weight_decay=_non_negative("weight_decay", weight_decay),
            momentum=_non_negative("momentum", momentum),
            centered=bool(centered),
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
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                state["step"] += 1
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                v = state["square_avg"]
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    m = state["grad_avg"]
                    m.lerp_(g, 1 - alpha)
                    denom = v.addcmul(m, m, value=-1).sqrt_().add_(eps)
                else:
                    denom = v.sqrt().add_(eps)
                if mu > 0:
                    buf = state["momentum_buffer"]
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
    lr : float, default 1e-3
        Learning rate :math:`\eta \ge 0`.
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

    Raises
    ------
    ValueError
        If ``lr``, ``eps`` or ``weight_decay`` is negative or ``betas`` is not a pair in
        [0, 1).
    TypeError
        If a hyperparameter is not a real number.

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
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=_non_negative("lr", lr),
            betas=_check_betas(betas),
            eps=_non_negative("eps", eps),
            weight_decay=_non_negative("weight_decay", weight_decay),
            amsgrad=bool(amsgrad),
            decoupled_weight_decay=bool(decoupled_weight_decay),
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
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g.add(p, alpha=wd)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if group["amsgrad"]:
                    torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                bias1 = 1 - beta1**t  # pairs with m (first moment, beta1)
                bias2 = 1 - beta2**t  # pairs with v (second moment, beta2)
                denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)  # sqrt(v_hat) + eps
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
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)


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
        lr = _number("lr", lr)
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        damping = _non_negative("damping", damping)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        if negative_curvature not in _NEGATIVE:
            raise ValueError(f"negative_curvature must be one of {_NEGATIVE}, got {negative_curvature!r}")
        if mode == "cg" and negative_curvature == "saddle_free":
            raise ValueError("negative_curvature='saddle_free' needs the eigenvalues: use mode='dense'")
        if cg_max_iter is not None:
            if isinstance(cg_max_iter, bool) or not isinstance(cg_max_iter, int):
                raise TypeError(f"cg_max_iter must be an int or None, got {type(cg_max_iter).__name__}")
            if cg_max_iter < 1:
                raise ValueError(f"cg_max_iter must be >= 1, got {cg_max_iter}")
        cg_tol = _number("cg_tol", cg_tol)
        if cg_tol <= 0:
            raise ValueError(f"cg_tol must be > 0, got {cg_tol}")
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

    # -- solvers -----------------------------------------------------------------------

    def _solve_dense(self, g: Tensor, H: Tensor, group: dict[str, Any], info: dict[str, Any]) -> Tensor:
        n = g.numel()
        eye = torch.eye(n, dtype=g.dtype, device=g.device)
        lam = group["damping"]
        L, bad = torch.linalg.cholesky_ex(H + lam * eye)
        if int(bad) == 0:
            info["action"] = "newton" if lam == 0 else "damped"
            return -torch.cholesky_solve(g.unsqueeze(1), L).squeeze(1)
        info["negative_curvature"] = True
        eigenvalues, vectors = torch.linalg.eigh(H)
        info["min_eigenvalue"] = float(eigenvalues[0])
        policy = group["negative_curvature"]
        if policy == "gradient":
            info["action"] = "gradient step"
            return -g
        if policy == "saddle_free":
            info["action"] = "saddle-free"
            return -(vectors @ ((vectors.T @ g) / (eigenvalues.abs() + lam).clamp_min(torch.finfo(g.dtype).tiny)))
        if policy == "damp":
            # shift so that the most negative eigenvalue becomes |lambda_min| (at least beta)
            lam_min = float(eigenvalues[0])
            beta = 1e-3 * max(1.0, float(eigenvalues.abs().max()))
            tau = max(lam, -lam_min + max(-lam_min, beta))
            while True:
                L, bad = torch.linalg.cholesky_ex(H + tau * eye)
                if int(bad) == 0:
                    break
                tau = max(2 * tau, beta)
            info["action"], info["damping"] = "damped", tau
            return -torch.cholesky_solve(g.unsqueeze(1), L).squeeze(1)
        info["action"] = "newton (indefinite)"
        A = H + lam * eye
        try:
            return -torch.linalg.solve(A, g)
        except RuntimeError:  # singular: least-squares (minimum-norm) solution
            return -torch.linalg.lstsq(A, g.unsqueeze(1)).solution.squeeze(1)

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

    def _solve_cg(self, g: Tensor, g_graph: Tensor, params: list[Tensor], group: dict[str, Any],
                  info: dict[str, Any]) -> Tensor:
        lam = group["damping"]
        policy = group["negative_curvature"]
        hvp = lambda v: self.hvp(g_graph, params, v)  # noqa: E731
        d, k, negative, rayleigh = self._cg(g, hvp, lam, group, stop_on_negative=policy != "none")
        info["cg_iterations"] = k
        if not negative:
            info["action"] = "newton" if lam == 0 else "damped"
            return d
        info["negative_curvature"] = True
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

    # -- the step ----------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Closure = None) -> Tensor:  # type: ignore[override]
        """Take one Newton step.

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
        if closure is None:
            raise ValueError("closure is required: Newton.step(closure) with closure() returning the loss")
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.requires_grad]
        if not params:
            raise ValueError("params: no parameter requires grad")
        with torch.enable_grad():
            loss = closure()
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise ValueError(f"closure must return a scalar tensor, got {type(loss).__name__}")
            if not loss.requires_grad:
                raise ValueError("closure must return a loss computed from the parameters (it has no grad_fn)")
            g_graph = self.gradient(loss.reshape(()), params)
            g = g_graph.detach()
            info: dict[str, Any] = {
                "action": None,
                "negative_curvature": False,
                "min_eigenvalue": None,
                "damping": group["damping"],
                "cg_iterations": None,
                "loss": float(loss.detach()),
                "grad_norm": float(g.norm()),
            }
            if group["mode"] == "dense":
                H = self.hessian(g_graph, params)
                d = self._solve_dense(g, H, group, info)
            else:
                d = self._solve_cg(g, g_graph, params, group, info)
        d = d.detach()
        info["step_norm"] = float(group["lr"] * d.norm())
        for p, dp, gp in zip(params, _unflat(d, params), _unflat(g, params)):
            p.add_(dp, alpha=group["lr"])
            p.grad = gp.clone()
        self.last_step_info = info
        self.history.append(info)
        return loss.detach()


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
        If ``x0`` is not 1-D or ``steps`` is negative.

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
    if not isinstance(x0, Tensor) or not x0.is_floating_point():
        got = x0.dtype if isinstance(x0, Tensor) else type(x0).__name__
        raise TypeError(f"x0 must be a floating-point tensor, got {got}")
    if x0.dim() != 1:
        raise ValueError(f"x0 must be 1-D, shape (d,), got shape {tuple(x0.shape)}")
    if not (isinstance(optimizer_cls, type) and issubclass(optimizer_cls, Optimizer)):
        raise TypeError(f"optimizer_cls must be a torch.optim.Optimizer subclass, got {optimizer_cls!r}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    x = x0.detach().clone().requires_grad_(True)
    opt = optimizer_cls([x], **kw)
    newton = isinstance(opt, Newton)

    def closure() -> Tensor:
        if newton:
            return f(x)
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    points, losses = [x.detach().clone()], []
    for _ in range(steps):
        losses.append(opt.step(closure).detach().reshape(()))
        points.append(x.detach().clone())
    with torch.no_grad():
        losses.append(f(x).detach().reshape(()))
    return Trajectory(torch.stack(points), torch.stack(losses).to(x0.dtype))
