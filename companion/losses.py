r"""Loss functions for classification and regression, with their analytic gradients.

A classifier outputs *logits* :math:`z`; :func:`softmax` turns them into probabilities and
:func:`cross_entropy` scores those probabilities against the labels. Everything here is
computed in the log domain (log-sum-exp), so logits of magnitude :math:`10^4` give finite,
correct values. Information-theoretic quantities (:func:`entropy`, :func:`kl_divergence`)
act on probability vectors along the last dimension, in nats. Every loss sits beside its
gradient function (``*_grad``), which chapter 4's hand-written backpropagation reuses; all
functions are tensor code that runs on the device of their inputs.

This is the *formula tier*: each kernel is the formula of its docstring, written once, with
its hand-derived backward beside it. :func:`softmax`, :func:`log_softmax` and
:func:`cross_entropy` (class indices) are ``torch.autograd.Function`` s whose backward is that
formula, built from differentiable operations, so second derivatives work too.
:mod:`companion.compiled` makes the same functions fast with ``torch.compile``.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch

from companion import _validate as check

__all__ = [
    "REDUCTIONS",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "distillation_loss",
    "distillation_loss_grad",
    "entropy",
    "entropy_grad",
    "gaussian_kl",
    "gaussian_kl_grad",
    "kl_divergence",
    "kl_divergence_grad",
    "kl_divergence_logits",
    "kl_divergence_logits_grad",
    "log_softmax",
    "log_softmax_backward",
    "logsumexp",
    "mse",
    "mse_grad",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
]

#: The accepted values of every ``reduction`` argument.
REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------------------
# Argument checks that the shared ones (companion._validate) do not cover
# ---------------------------------------------------------------------------------------


def _class_dim(z: torch.Tensor, dim: object, name: str) -> int:
    """``dim`` of a tensor with at least one dimension (a 0-d tensor has no classes)."""
    if z.dim() == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d tensor")
    return check.dim(dim, z, name)


def _holds_values(x: torch.Tensor) -> bool:
    """Whether the entries of ``x`` can be read (a meta tensor has a shape but no data)."""
    return x.device.type != "meta" and x.numel() > 0


def _sum_tolerance(dtype: torch.dtype, classes: int) -> float:
    eps = torch.finfo(dtype).eps
    return max(math.sqrt(eps), 4 * classes * eps)


# The checks below read tensor values. torch.compiler.disable keeps them out of the graphs that
# companion.compiled builds: they run as plain Python, between the compiled pieces.


@torch.compiler.disable
def _check_distribution(p: torch.Tensor, name: str, dim: int = -1) -> None:
    """Entries >= 0 that sum to 1 along ``dim`` (within a dtype-dependent tolerance)."""
    if not _holds_values(p):
        return
    p = p.detach()
    if bool(torch.isnan(p).any()):
        raise ValueError(f"{name} must be probability vectors, but it contains NaN")
    if bool((p < 0).any()):
        raise ValueError(f"{name} must be probability vectors, but it has negative entries (min {float(p.min()):.3g})")
    total = p.sum(dim=dim)
    tol = _sum_tolerance(p.dtype, p.shape[dim])
    worst = float((total - 1).abs().max())
    if not worst <= tol:
        raise ValueError(
            f"{name} must be probability vectors summing to 1 along dim {dim}, "
            f"but a sum is off by {worst:.3g} (tolerance {tol:.1e})"
        )


@torch.compiler.disable
def _check_unit_interval(x: torch.Tensor, name: str) -> None:
    if not _holds_values(x):
        return
    x = x.detach()
    if bool(torch.isnan(x).any()) or bool(((x < 0) | (x > 1)).any()):
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{float(x.min()):.3g}, {float(x.max()):.3g}]")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _grad_scale(loss_numel: int, reduction: str) -> float:
    # d(mean)/d(element) = 1/n; d(sum)/d(element) = 1; for "none" we return the gradient of
    # each element's loss with respect to its own inputs, i.e. the gradient of the sum.
    return 1.0 / loss_numel if reduction == "mean" and loss_numel > 0 else 1.0


# ---------------------------------------------------------------------------------------
# Softmax, log-softmax and log-sum-exp
# ---------------------------------------------------------------------------------------


def logsumexp(z: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    r"""Log of the sum of exponentials, computed without overflow.

    .. math::
        \operatorname{LSE}(z) = \log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m},
        \qquad m = \max_j z_j .

    After subtracting the maximum every exponent is :math:`\le 0`, so no term overflows
    and the largest term is exactly 1, so the sum cannot underflow to 0.

    Parameters
    ----------
    z : torch.Tensor, shape (..., C, ...)
        Floating-point scores.
    dim : int
        The dimension to reduce.
    keepdim : bool
        Keep ``dim`` with size 1.

    Returns
    -------
    torch.Tensor
        ``z`` with ``dim`` reduced. A slice that is all :math:`-\infty` gives :math:`-\infty`,
        and so does an empty one (the log of an empty sum), as in :func:`torch.logsumexp`.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor or ``dim`` is not an int.
    ValueError
        If ``z`` is 0-d or ``dim`` is out of range.

    Examples
    --------
    >>> round(float(logsumexp(torch.tensor([1000.0, 1000.0], dtype=torch.float64))), 6)  # 1000 + log 2
    1000.693147
    """
    check.float_tensor(z, "z")
    dim = _class_dim(z, dim, "z")
    if z.shape[dim] == 0:  # no maximum to subtract: the log of an empty sum is -inf
        return torch.log(torch.exp(z).sum(dim=dim, keepdim=keepdim))
    m = z.detach().amax(dim=dim, keepdim=True)  # a constant shift: no gradient flows through it
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # all -inf slices stay -inf
    out = m + torch.log(torch.exp(z - m).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def _softmax_input(z: torch.Tensor, dim: object, dtype: Optional[torch.dtype]) -> tuple[torch.Tensor, int]:
    """Check the arguments of :func:`softmax` / :func:`log_softmax`; cast ``z`` to ``dtype`` first, as torch does.

    Without ``dtype``, ``z`` must be floating point; with it, any real tensor (integers and bools
    too) is cast. A 0-d ``z`` accepts ``dim`` in ``{-1, 0}``.
    """
    if dtype is None:
        check.float_tensor(z, "z")
    else:
        dtype = check.dtype(dtype, "dtype")
        check.tensor(z, "z")
        if z.dtype.is_complex:
            raise TypeError(f"z must be a real tensor, got {z.dtype}")
        z = z.to(dtype)  # differentiable: the gradient comes back in z's own dtype
    return z, check.dim(dim, z, "z")


def softmax(z: torch.Tensor, dim: int = -1, *, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    r"""Softmax: turn logits into probabilities along ``dim``.

    .. math::
        \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}
        = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \qquad m = \max_j z_j .

    Subtracting the maximum changes nothing mathematically (numerator and denominator are
    multiplied by :math:`e^{-m}`) but keeps every exponential in :math:`(0, 1]`. The backward
    pass is the formula of :func:`companion.losses.softmax_backward`.

    The arguments and results are those of :func:`torch.softmax`, edge cases included: a 0-d
    ``z`` is one class (result 1, or NaN for an infinite or NaN entry), an empty ``z`` gives an
    empty result, a slice that is all :math:`-\infty` gives NaN. Differences: ``dim`` defaults
    to the last dimension, where :func:`torch.nn.functional.softmax` picks one by the deprecated
    implicit rule (with a warning), and ``dim=None`` is refused; ``dtype`` is keyword-only
    (the third positional parameter is a private ``_stacklevel`` in
    :func:`torch.nn.functional.softmax`, ``dtype`` in :func:`torch.softmax`); an integer
    ``dtype`` raises :class:`TypeError` (torch: ``NotImplementedError``).

    Parameters
    ----------
    z : torch.Tensor, shape (..., C, ...) or ()
        Floating-point logits (any real dtype if ``dtype`` is given).
    dim : int
        The class dimension.
    dtype : torch.dtype, optional
        A floating-point dtype to cast ``z`` to before the operation (e.g. ``torch.float32``
        for float16 logits); also the dtype of the result. The gradient flows back through the
        cast, in ``z``'s dtype.

    Returns
    -------
    torch.Tensor, shape of ``z``
        Non-negative entries summing to 1 along ``dim``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor (a real tensor when ``dtype`` is given),
        ``dim`` is not an int, or ``dtype`` is not a floating-point ``torch.dtype``.
    ValueError
        If ``dim`` is out of range.

    Examples
    --------
    >>> softmax(torch.tensor([1.0, 2.0, 3.0]))
    tensor([0.0900, 0.2447, 0.6652])
    >>> softmax(torch.tensor([1e4, 0.0]))
    tensor([1., 0.])
    >>> softmax(torch.zeros(3, 0)).shape
    torch.Size([3, 0])
    >>> softmax(torch.tensor([1, 3]), dtype=torch.float64)
    tensor([0.1192, 0.8808], dtype=torch.float64)
    >>> softmax(torch.tensor(5.0))  # 0-d: a single class
    tensor(1.)
    """
    z, dim = _softmax_input(z, dim, dtype)
    if z.dim() == 0:
        return _Softmax.apply(z.unsqueeze(0), 0).squeeze(0)  # one class
    if z.numel() == 0:
        return z.clone()  # nothing to normalize (and no maximum to take)
    return _Softmax.apply(z, dim)


class _Softmax(torch.autograd.Function):
    """Softmax along ``dim``: forward and hand-derived backward side by side."""

    generate_vmap_rule = True  # torch.vmap batches forward and backward by itself

    @staticmethod
    def forward(z: torch.Tensor, dim: int) -> torch.Tensor:  # type: ignore[override]
        e = torch.exp(z - z.amax(dim=dim, keepdim=True))  # every exponent <= 0
        return e / e.sum(dim=dim, keepdim=True)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, int], output: torch.Tensor) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)  # the backward needs only s

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (s,) = ctx.saved_tensors
        return _softmax_vjp(grad_output, s, ctx.dim), None


def _softmax_vjp(g: torch.Tensor, s: torch.Tensor, dim: int) -> torch.Tensor:
    # dL/dz = s * (g - sum_i g_i s_i), from differentiable operations
    return s * (g - (g * s).sum(dim=dim, keepdim=True))


def softmax_backward(grad_output: torch.Tensor, output: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Vector-Jacobian product of softmax: the gradient with respect to the logits.

    With :math:`s = \operatorname{softmax}(z)` and an upstream gradient
    :math:`g = \partial L / \partial s`,

    .. math::
        \frac{\partial L}{\partial z_j} = \sum_i g_i \frac{\partial s_i}{\partial z_j}
        = s_j \Bigl(g_j - \sum_i g_i s_i\Bigr),

    which never forms the :math:`C \times C` Jacobian of :func:`softmax_jacobian`.

    Parameters
    ----------
    grad_output : torch.Tensor, shape of ``output``
        :math:`\partial L / \partial s`.
    output : torch.Tensor, shape (..., C, ...)
        The softmax probabilities :math:`s` of the forward pass.
    dim : int
        The class dimension used in the forward pass.

    Returns
    -------
    torch.Tensor, shape of ``output``
        :math:`\partial L / \partial z`.

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor.
    ValueError
        If the shapes or devices differ, or ``dim`` is out of range.

    Examples
    --------
    >>> s = softmax(torch.tensor([0.0, 0.0]))
    >>> softmax_backward(torch.tensor([1.0, 0.0]), s)
    tensor([ 0.2500, -0.2500])
    """
    check.float_tensor(grad_output, "grad_output")
    check.float_tensor(output, "output")
    check.same_shape(grad_output, "grad_output", output, "output")
    check.same_device(grad_output, "grad_output", output, "output")
    dim = _class_dim(output, dim, "output")
    return _softmax_vjp(grad_output, output, dim)


def softmax_jacobian(z: torch.Tensor) -> torch.Tensor:
    r"""The full Jacobian of softmax over the last dimension.

    .. math::
        J_{ij} = \frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j),
        \qquad J = \operatorname{diag}(s) - s s^\top .

    Its diagonal :math:`s_i(1 - s_i)` is the factor that makes squared error on softmax
    outputs learn slowly when a prediction is confident.

    Parameters
    ----------
    z : torch.Tensor, shape (..., C)
        Floating-point logits.

    Returns
    -------
    torch.Tensor, shape (..., C, C)
        ``J[..., i, j]`` is the derivative of output ``i`` with respect to logit ``j``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor.
    ValueError
        If ``z`` is 0-d.

    Examples
    --------
    >>> softmax_jacobian(torch.tensor([0.0, 0.0]))
    tensor([[ 0.2500, -0.2500],
            [-0.2500,  0.2500]])
    """
    check.float_tensor(z, "z")
    _class_dim(z, -1, "z")  # a 0-d z has no class dimension to differentiate along
    s = softmax(z, dim=-1)
    return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)



def log_softmax(z: torch.Tensor, dim: int = -1, *, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    r"""Logarithm of softmax, computed stably with log-sum-exp.

    .. math::
        \log \operatorname{softmax}(z)_i = z_i - \operatorname{LSE}(z)
        = (z_i - m) - \log \sum_j e^{z_j - m} .

    Computing ``log(softmax(z))`` instead loses everything below the smallest positive
    float: a probability that underflows to 0 has logarithm :math:`-\infty`, while this
    formula returns the exact finite value.

    The arguments and results are those of :func:`torch.log_softmax`, edge cases included (a
    0-d ``z`` gives 0, or NaN for an infinite or NaN entry); the differences (default ``dim``,
    keyword-only ``dtype``, the error for an integer ``dtype``) are those listed in
    :func:`softmax`.

    Parameters
    ----------
    z : torch.Tensor, shape (..., C, ...) or ()
        Floating-point logits (any real dtype if ``dtype`` is given).
    dim : int
        The class dimension.
    dtype : torch.dtype, optional
        A floating-point dtype to cast ``z`` to before the operation; also the dtype of the
        result.

    Returns
    -------
    torch.Tensor, shape of ``z``
        Log-probabilities (all :math:`\le 0`).

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor (a real tensor when ``dtype`` is given),
        ``dim`` is not an int, or ``dtype`` is not a floating-point ``torch.dtype``.
    ValueError
        If ``dim`` is out of range.

    Examples
    --------
    >>> log_softmax(torch.tensor([1e4, 0.0]))
    tensor([     0., -10000.])
    >>> log_softmax(torch.tensor(5.0))  # 0-d: a single class, log 1 = 0
    tensor(0.)
    """
    z, dim = _softmax_input(z, dim, dtype)
    if z.dim() == 0:
        return _LogSoftmax.apply(z.unsqueeze(0), 0).squeeze(0)  # one class
    if z.numel() == 0:
        return z.clone()
    return _LogSoftmax.apply(z, dim)


class _LogSoftmax(torch.autograd.Function):
    """Log-softmax along ``dim``: forward and hand-derived backward side by side."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: torch.Tensor, dim: int) -> torch.Tensor:  # type: ignore[override]
        shifted = z - z.amax(dim=dim, keepdim=True)  # z - m: every entry <= 0
        return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, int], output: torch.Tensor) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (ell,) = ctx.saved_tensors
        return _log_softmax_vjp(grad_output, ell, ctx.dim), None


def _log_softmax_vjp(g: torch.Tensor, ell: torch.Tensor, dim: int) -> torch.Tensor:
    # dL/dz = g - softmax(z) * sum_i g_i, with softmax(z) = e^ell
    return g - torch.exp(ell) * g.sum(dim=dim, keepdim=True)


def log_softmax_backward(grad_output: torch.Tensor, output: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Vector-Jacobian product of log-softmax.

    With :math:`\ell = \log \operatorname{softmax}(z)` and :math:`g = \partial L/\partial \ell`,

    .. math::
        \frac{\partial L}{\partial z_j} = g_j - e^{\ell_j} \sum_i g_i .

    Parameters
    ----------
    grad_output : torch.Tensor, shape of ``output``
        :math:`\partial L / \partial \ell`.
    output : torch.Tensor, shape (..., C, ...)
        The log-probabilities :math:`\ell` of the forward pass.
    dim : int
        The class dimension used in the forward pass.

    Returns
    -------
    torch.Tensor, shape of ``output``

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor.
    ValueError
        If the shapes or devices differ, or ``dim`` is out of range.

    Examples
    --------
    >>> ell = log_softmax(torch.tensor([0.0, 0.0]))
    >>> log_softmax_backward(torch.tensor([-1.0, 0.0]), ell)  # gradient of -log s_0
    tensor([-0.5000,  0.5000])
    """
    check.float_tensor(grad_output, "grad_output")
    check.float_tensor(output, "output")
    check.same_shape(grad_output, "grad_output", output, "output")
    check.same_device(grad_output, "grad_output", output, "output")
    dim = _class_dim(output, dim, "output")
    return _log_softmax_vjp(grad_output, output, dim)


# ---------------------------------------------------------------------------------------
# Cross-entropy
# ---------------------------------------------------------------------------------------


def _ce_inputs(
    logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100
) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Validate (logits, target).

    Returns the logits with classes last, and either the class indices as int64 (for an
    integer target; entries equal to ``ignore_index`` may lie outside [0, C)) or the target
    distribution with classes last (for a floating target); the other is ``None``.
    """
    check.float_tensor(logits, "logits")
    check.tensor(target, "target")
    if logits.dim() == 0:
        raise ValueError("logits must have shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    check.same_device(target, "target", logits, "logits")
    class_dim = 0 if logits.dim() == 1 else 1
    classes = logits.shape[class_dim]
    if classes == 0:
        raise ValueError("logits must have at least one class, got 0")
    z = logits.movedim(class_dim, -1)  # (..., C)
    if target.dtype == torch.bool or target.dtype.is_complex:
        raise TypeError(f"target must hold integer class indices or floating-point class probabilities, got {target.dtype}")
    if target.dtype.is_floating_point:
        if target.shape != logits.shape:
            raise ValueError(
                f"target of floating dtype holds class probabilities and must have the shape of logits, "
                f"{tuple(logits.shape)}, got {tuple(target.shape)} (use an integer tensor for class indices)"
            )
        if ignore_index >= 0:  # as PyTorch: only a negative (never matching) ignore_index
            raise ValueError(
                f"ignore_index applies to class indices only; with class probabilities (a floating "
                f"target) it must be negative, got {ignore_index}"
            )
        t = target.movedim(class_dim, -1).to(z.dtype)
        _check_distribution(t, "target")
        return z, None, t
    expected = z.shape[:-1]
    if target.shape != expected:
        if target.dim() >= 1 and z.dim() >= 2 and target.shape[0] != z.shape[0]:
            raise ValueError(
                f"target must have one class index per example: logits have batch size "
                f"{z.shape[0]}, target has {target.shape[0]}"
            )
        raise ValueError(f"target of class indices must have shape {tuple(expected)}, got {tuple(target.shape)}")
    _check_class_indices(target, classes, ignore_index)
    return z, target.long(), None


@torch.compiler.disable
def _check_class_indices(target: torch.Tensor, classes: int, ignore_index: int) -> None:
    if _holds_values(target):
        target = target[target != ignore_index]
        if target.numel() == 0:
            return
        lo, hi = int(target.min()), int(target.max())
        if lo < 0 or hi >= classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"target holds class index {bad}, out of range [0, {classes - 1}] for {classes} classes")


def _smoothed_one_hot(index: torch.Tensor, classes: int, eps: float, dtype: torch.dtype) -> torch.Tensor:
    """The target distribution of class indices: (1 - eps) at the label, plus eps / C everywhere."""
    one_hot = (torch.arange(classes, device=index.device) == index.unsqueeze(-1)).to(dtype)
    return one_hot * (1.0 - eps) + eps / classes


def _class_weights(weight: object, z: torch.Tensor) -> torch.Tensor:
    """The per-class weights of logits ``z`` (..., C): ``weight`` checked, or ones for ``None``."""
    classes = z.shape[-1]
    if weight is None:
        return torch.ones(classes, dtype=z.dtype, device=z.device)
    weight = check.float_tensor(weight, "weight")
    if weight.dtype != z.dtype:
        raise TypeError(f"weight must have the dtype of logits, {z.dtype}, got {weight.dtype}")
    check.same_device(weight, "weight", z, "logits")
    if weight.shape != (classes,):
        raise ValueError(f"weight must have shape ({classes},), one weight per class, got {tuple(weight.shape)}")
    return weight


def _nan_if_zero(total: torch.Tensor) -> torch.Tensor:
    """``total``, or NaN where it is 0: a mean over a total weight of 0 is NaN (0/0), as in PyTorch."""
    return torch.where(total != 0, total, torch.nan)


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Cross-entropy between the softmax of ``logits`` and ``target``, with optional class weights.

    For one example with logits :math:`z \in \mathbb{R}^C`, target distribution :math:`t`
    (a one-hot vector for a class index :math:`y`) and class weights :math:`w` (all 1 by
    default),

    .. math::
        \ell(z, t) = -\sum_{c=1}^{C} w_c\, t_c \log \operatorname{softmax}(z)_c
        = \Big(\sum_c w_c t_c\Big) \operatorname{LSE}(z) - \sum_c w_c t_c z_c ,
        \qquad \ell(z, y) = w_y \big(\operatorname{LSE}(z) - z_y\big) .

    Label smoothing :math:`\varepsilon` replaces :math:`t` by
    :math:`(1 - \varepsilon)\, t + \varepsilon / C` (so it weights its share of every class
    by :math:`w_c`). Examples whose class index equals ``ignore_index`` get loss 0 and do not
    count. ``reduction="mean"`` divides the summed loss by the total weight of the counted
    examples, :math:`\sum_n w_{y_n}` (their number without ``weight``; NaN if it is 0, e.g.
    when every target is ignored), for class indices, and by the number of examples
    :math:`N` for probability targets.

    These are the semantics of :func:`torch.nn.functional.cross_entropy`, with these
    differences: the arguments after ``weight`` are keyword-only and the deprecated
    ``size_average``/``reduce`` are absent; for probability targets a logit of
    :math:`-\infty` where the target puts no mass counts :math:`0 \log 0 = 0` (PyTorch
    returns NaN); ``weight`` must have the dtype of ``logits`` also for probability targets
    (PyTorch promotes there); the loss is differentiable with respect to ``weight`` also for
    class indices (PyTorch raises); ``ignore_index`` must be an ``int``; bad input raises
    ``TypeError``/``ValueError`` (PyTorch: ``RuntimeError``/``IndexError``).

    Parameters
    ----------
    logits : torch.Tensor, shape (C,), (N, C) or (N, C, d1, ..., dk)
        Floating-point scores; the class dimension is 1 (0 for a single example).
    target : torch.Tensor, shape (), (N,) or (N, d1, ..., dk) of integers, or shape of ``logits``
        Class indices in :math:`[0, C)` or equal to ``ignore_index`` (integer dtype), or
        class probabilities (floating dtype, non-negative, summing to 1 over the class
        dimension).
    weight : torch.Tensor, shape (C,), optional
        Weight :math:`w_c` of each class, of the dtype and device of ``logits`` (any real
        values, as in PyTorch). ``None`` weights every class 1.
    ignore_index : int
        Class index whose examples are skipped (class indices only; with probability
        targets it must be negative, as in PyTorch). It may be a real class.
    reduction : {"mean", "sum", "none"}
        Weighted average over examples (and positions), sum, or one loss per example.
    label_smoothing : float
        :math:`\varepsilon \in [0, 1]`.

    Returns
    -------
    torch.Tensor
        A scalar, or shape (N, d1, ..., dk) for ``reduction="none"`` (shape () for a single
        example).

    Raises
    ------
    TypeError
        If ``logits`` is not a floating-point tensor, ``target`` is not a tensor of integers
        or floats, ``weight`` is not a floating-point tensor of the dtype of ``logits``, or
        ``ignore_index`` is not an int.
    ValueError
        If the batch sizes or shapes do not match, ``weight`` does not have shape (C,) or
        lives on another device, a class index is out of range, target probabilities are
        negative or do not sum to 1, ``ignore_index`` is non-negative with probability
        targets, ``reduction`` is unknown, or ``label_smoothing`` is outside [0, 1].

    Examples
    --------
    >>> z = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> cross_entropy(z, torch.tensor([0, 2]), reduction="none")
    tensor([0.2395, 1.0986])
    >>> cross_entropy(z, torch.tensor([0, -100]))  # the second example is ignored
    tensor(0.2395)
    >>> cross_entropy(z, torch.tensor([0, 2]), torch.tensor([1.0, 1.0, 3.0]))  # (0.2395 + 3 * 1.0986) / 4
    tensor(0.8838)
    >>> cross_entropy(torch.tensor([[1e4, 0.0]]), torch.tensor([1]))
    tensor(10000.)
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    eps = check.real(label_smoothing, "label_smoothing", low=0, high=1)
    ignore_index = check.integer(ignore_index, "ignore_index")
    z, index, t = _ce_inputs(logits, target, ignore_index)
    w = _class_weights(weight, z)
    if index is not None:
        keep = index != ignore_index
        y = torch.where(keep, index, 0)  # any valid class for the ignored; their loss is set to 0
        loss = torch.where(keep, _CrossEntropy.apply(z, y, eps, w), 0.0)
        if reduction == "mean":  # divide by the total weight of the counted examples
            return loss.sum() / _nan_if_zero(torch.where(keep, w[y], 0.0).sum())
        return _reduce(loss, reduction)
    assert t is not None
    if eps > 0:
        t = t * (1.0 - eps) + eps / z.shape[-1]
    log_p = log_softmax(z, dim=-1)
    # 0 * log 0 = 0: classes with zero target mass contribute nothing, even at logit -inf
    loss = -torch.where(t > 0, w * t * log_p, torch.zeros_like(log_p)).sum(dim=-1)
    return _reduce(loss, reduction)


class _CrossEntropy(torch.autograd.Function):
    r"""Weighted cross-entropy of each example: logits ``z`` (..., C), class indices ``index`` (...), weights ``w`` (C,).

    With the smoothed target :math:`t = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/C`
    and :math:`s = \sum_c w_c t_c = (1-\varepsilon) w_y + \tfrac{\varepsilon}{C}\sum_c w_c`,

    .. math::
        \ell = s \log \sum_j e^{z_j - m} - (1-\varepsilon)\, w_y (z_y - m)
        - \tfrac{\varepsilon}{C} \sum_c w_c (z_c - m),
        \qquad \frac{\partial \ell}{\partial z} = s \operatorname{softmax}(z) - w \odot t ,
        \qquad \frac{\partial \ell}{\partial w_c} = -t_c \log \operatorname{softmax}(z)_c .

    The shift :math:`m = \max_j z_j` cancels and keeps every term exact for huge logits;
    the (..., C) one-hot target is only formed in the backward pass.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(z: torch.Tensor, index: torch.Tensor, eps: float, w: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        m = z.amax(dim=-1, keepdim=True)
        w_y = w[index].unsqueeze(-1)
        s = (1.0 - eps) * w_y + eps / z.shape[-1] * w.sum()
        loss = s * torch.log(torch.exp(z - m).sum(dim=-1, keepdim=True)) - (1.0 - eps) * w_y * (z.gather(-1, index.unsqueeze(-1)) - m)
        if eps > 0:  # (a logit of -inf on an unused class is fine without smoothing)
            loss = loss - eps / z.shape[-1] * (w * (z - m)).sum(dim=-1, keepdim=True)
        return loss.squeeze(-1)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, torch.Tensor, float, torch.Tensor], output: torch.Tensor) -> None:
        z, index, ctx.eps, w = inputs
        ctx.save_for_backward(z, index, w)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Optional[torch.Tensor], None, None, Optional[torch.Tensor]]:  # type: ignore[override]
        z, index, w = ctx.saved_tensors
        t = _smoothed_one_hot(index, z.shape[-1], ctx.eps, z.dtype)
        g = grad_output.unsqueeze(-1)
        wt = w * t
        grad_z = (wt.sum(dim=-1, keepdim=True) * _Softmax.forward(z, -1) - wt) * g if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[3]:  # -t log softmax(z), where t > 0 (0 log 0 = 0 at logit -inf)
            nll = -torch.where(t > 0, t * _LogSoftmax.forward(z, -1), 0.0) * g
            grad_w = nll.reshape(-1, z.shape[-1]).sum(dim=0)
        return grad_z, None, None, grad_w


def cross_entropy_grad(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Gradient of :func:`cross_entropy` with respect to the logits.

    Because :math:`\ell = \big(\sum_c w_c t_c\big) \operatorname{LSE}(z) - \sum_c w_c t_c z_c`,

    .. math::
        \frac{\partial \ell}{\partial z} = \Big(\sum_c w_c t_c\Big) \operatorname{softmax}(z) - w \odot t ,

    which is :math:`\operatorname{softmax}(z) - t` without ``weight`` (then
    :math:`\sum_c t_c = 1`). Ignored examples get gradient 0. For ``reduction="mean"`` it is
    divided by what the loss is divided by: the total weight :math:`\sum_n w_{y_n}` of the
    counted class indices (their number without ``weight``; for a batch of :math:`N` class
    indices, :math:`(\operatorname{softmax}(z) - \operatorname{onehot}(y)) / N`), or
    :math:`N` for probability targets. For ``reduction="none"`` each example's gradient of
    its own loss is returned (the gradient of the sum).

    Parameters
    ----------
    logits, target, weight, ignore_index, reduction, label_smoothing
        As in :func:`cross_entropy`.

    Returns
    -------
    torch.Tensor, shape of ``logits``

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy`.

    Examples
    --------
    >>> z = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> cross_entropy_grad(z, torch.tensor([0, 1]))
    tensor([[-0.2500,  0.2500],
            [ 0.2500, -0.2500]])
    >>> cross_entropy_grad(z, torch.tensor([0, 1]), ignore_index=1)
    tensor([[-0.5000,  0.5000],
            [ 0.0000,  0.0000]])
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    eps = check.real(label_smoothing, "label_smoothing", low=0, high=1)
    ignore_index = check.integer(ignore_index, "ignore_index")
    z, index, t = _ce_inputs(logits, target, ignore_index)
    w = _class_weights(weight, z)
    keep: Optional[torch.Tensor] = None
    if index is not None:
        keep = index != ignore_index
        y = torch.where(keep, index, 0)
        t = _smoothed_one_hot(y, z.shape[-1], eps, z.dtype)
        scale: Any = 1.0 / _nan_if_zero(torch.where(keep, w[y], 0.0).sum()) if reduction == "mean" else 1.0
    else:
        assert t is not None
        t = t * (1.0 - eps) + eps / z.shape[-1]
        scale = _grad_scale(z[..., 0].numel(), reduction)
    wt = w * t
    grad = (wt.sum(dim=-1, keepdim=True) * softmax(z, dim=-1) - wt) * scale
    if keep is not None:
        grad = torch.where(keep.unsqueeze(-1), grad, 0.0)
    return grad.movedim(-1, 0 if logits.dim() == 1 else 1)

# ---------------------------------------------------------------------------------------
# Binary cross-entropy and squared error
# ---------------------------------------------------------------------------------------


def _check_pair(input: torch.Tensor, target: torch.Tensor, input_name: str) -> None:
    check.float_tensor(input, input_name)
    check.float_tensor(target, "target")
    check.same_device(target, "target", input, input_name)
    check.same_shape(target, "target", input, input_name)


def _bce_weight(value: Optional[torch.Tensor], name: str, logits: torch.Tensor) -> Optional[torch.Tensor]:
    """``weight`` or ``pos_weight``: ``None``, or a real tensor on the device of ``logits`` that
    broadcasts to its shape (any real dtype, bool only for ``weight``, as torch; computed in the
    dtype of ``logits``)."""
    if value is None:
        return None
    check.tensor(value, name)
    if value.dtype.is_complex:
        raise TypeError(f"{name} must be a real tensor, got {value.dtype}")
    if name == "pos_weight" and value.dtype == torch.bool:  # as torch, which cannot compute pos_weight - 1
        raise TypeError(f"pos_weight must be a tensor of numbers, got {value.dtype}")
    check.same_device(value, name, logits, "logits")
    try:
        shape = torch.broadcast_shapes(value.shape, logits.shape)
    except RuntimeError:
        shape = None
    if shape != logits.shape:
        raise ValueError(f"{name} must broadcast to the shape of logits, {tuple(logits.shape)}, got {tuple(value.shape)}")
    return value.to(logits.dtype)


def _softplus(z: torch.Tensor) -> torch.Tensor:
    # log(1 + e^z) = max(z, 0) + log(1 + e^{-|z|}): never exponentiates a positive number.
    # max(z, 0) and -|z| are written with torch.where so that autograd gets the true derivative
    # sigma(z) also at z = 0 (clamp and abs would give the subgradients 1 and 0 there).
    positive = z >= 0
    return torch.where(positive, z, torch.zeros_like(z)) + torch.log1p(torch.exp(torch.where(positive, -z, z)))


def _mass_times(mass: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
    # mass * cost with 0 * inf = 0: a side the target puts no mass on costs nothing, even at an
    # infinite logit (masking only there keeps the derivative in the mass, cost, everywhere else)
    return torch.where((mass == 0) & torch.isinf(cost), torch.zeros_like(cost), mass * cost)


def binary_cross_entropy_with_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    *,
    reduction: str = "mean",
    pos_weight: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    r"""Binary cross-entropy of :math:`\sigma(z)` against targets in [0, 1], computed stably.

    With weight :math:`w` and positive-class weight :math:`p` (both 1 by default),

    .. math::
        \ell(z, y) = w \bigl[-p\, y \log \sigma(z) - (1 - y) \log(1 - \sigma(z))\bigr]
        = w \bigl[p\, y \operatorname{softplus}(-z) + (1 - y) \operatorname{softplus}(z)\bigr],

    with :math:`\operatorname{softplus}(x) = \log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})`,
    a form that never exponentiates a positive number. For :math:`w = p = 1` this is the
    negative log-likelihood of a Bernoulli variable with success probability :math:`\sigma(z)`;
    :math:`p > 1` makes a missed positive cost more (for rare positives, :math:`p` = negatives /
    positives balances the classes). ``"mean"`` divides the sum by the number of elements, not
    by the sum of the weights.

    The arguments and results are those of
    :func:`torch.nn.functional.binary_cross_entropy_with_logits` (shapes, broadcasting of
    ``weight`` and ``pos_weight``, reductions, an empty input: NaN for ``"mean"``, 0 for
    ``"sum"``), with these differences: there are no deprecated ``size_average`` / ``reduce``
    arguments, and ``reduction`` and ``pos_weight`` are keyword-only; a target outside [0, 1]
    raises :class:`ValueError` (torch computes the formula anyway); at an infinite logit the
    loss is its limit, 0 where the target puts no mass on the losing side and :math:`+\infty`
    elsewhere, where torch gives NaN (0 times an infinity) in all cases but
    :math:`z = +\infty, y < 1` (the gradients agree); gradients also flow into ``weight`` and
    ``pos_weight`` (torch refuses ones that require a gradient).

    Parameters
    ----------
    logits : torch.Tensor, any shape
        Floating-point scores :math:`z`.
    target : torch.Tensor, shape of ``logits``
        Labels or soft labels :math:`y \in [0, 1]`.
    weight : torch.Tensor, broadcastable to the shape of ``logits``, optional
        Weight :math:`w` of each element's loss (e.g. per example, shape (N, 1)).
    reduction : {"mean", "sum", "none"}
    pos_weight : torch.Tensor, broadcastable to the shape of ``logits``, optional
        Weight :math:`p` of the positive term; usually one per class, shape (C,), broadcast
        over the last dimension.

    Returns
    -------
    torch.Tensor
        A scalar, or the shape of ``logits`` for ``reduction="none"``.

    Raises
    ------
    TypeError
        If ``logits`` or ``target`` is not a floating-point tensor, or ``weight`` or
        ``pos_weight`` is not a real tensor.
    ValueError
        If the shapes or devices differ, ``weight`` or ``pos_weight`` does not broadcast to
        the shape of ``logits``, a target lies outside [0, 1], or ``reduction`` is unknown.

    Examples
    --------
    >>> binary_cross_entropy_with_logits(torch.tensor([0.0, 1e4, -1e4]), torch.tensor([1.0, 0.0, 0.0]), reduction="none")
    tensor([6.9315e-01, 1.0000e+04, 0.0000e+00])
    >>> z, y = torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    >>> binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=torch.tensor([3.0, 1.0]))
    tensor([[2.0794, 0.6931],
            [2.0794, 0.6931]])
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_pair(logits, target, "logits")
    _check_unit_interval(target, "target")
    w = _bce_weight(weight, "weight", logits)
    p = _bce_weight(pos_weight, "pos_weight", logits)
    positive_mass = target if p is None else p * target
    # -log sigma(z) = softplus(-z) and -log(1 - sigma(z)) = softplus(z)
    loss = _mass_times(positive_mass, _softplus(-logits)) + _mass_times(1.0 - target, _softplus(logits))
    if w is not None:
        loss = w * loss
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits_grad(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    *,
    reduction: str = "mean",
    pos_weight: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to the logits.

    Since :math:`\operatorname{softplus}'(x) = \sigma(x)`,

    .. math::
        \frac{\partial \ell}{\partial z} = w \bigl[(1 - y)\, \sigma(z) - p\, y\, \sigma(-z)\bigr]
        = w \bigl[(1 - y + p\, y)\, \sigma(z) - p\, y\bigr],

    which is :math:`\sigma(z) - y` for :math:`w = p = 1`; divided by the number of elements
    for ``reduction="mean"``. For ``reduction="none"`` each element's gradient of its own
    loss is returned (the gradient of the sum).

    Parameters
    ----------
    logits, target, weight, reduction, pos_weight
        As in :func:`binary_cross_entropy_with_logits`.

    Returns
    -------
    torch.Tensor, shape of ``logits``

    Raises
    ------
    TypeError, ValueError
        As :func:`binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
    tensor([-0.2500,  0.2500])
    >>> binary_cross_entropy_with_logits_grad(torch.tensor([0.0]), torch.tensor([1.0]), reduction="sum", pos_weight=torch.tensor([3.0]))
    tensor([-1.5000])
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_pair(logits, target, "logits")
    _check_unit_interval(target, "target")
    w = _bce_weight(weight, "weight", logits)
    p = _bce_weight(pos_weight, "pos_weight", logits)
    positive_mass = target if p is None else p * target
    grad = (1.0 - target) * torch.sigmoid(logits) - positive_mass * torch.sigmoid(-logits)
    if w is not None:
        grad = w * grad
    return grad * _grad_scale(logits.numel(), reduction)


def mse(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean squared error.

    .. math::
        \operatorname{MSE}(\hat y, y) = \frac{1}{n} \sum_{i=1}^{n} (\hat y_i - y_i)^2

    over all :math:`n` elements (``"mean"``), or the sum, or the elementwise squares
    (``"none"``), as :func:`torch.nn.functional.mse_loss`. Up to an additive constant and a
    factor, it is the negative log-likelihood of a Gaussian with mean :math:`\hat y` and
    fixed variance.

    Parameters
    ----------
    input : torch.Tensor, any shape
        Predictions :math:`\hat y`.
    target : torch.Tensor, shape of ``input``
        Targets :math:`y` (no broadcasting: a shape mismatch is an error).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    torch.Tensor
        A scalar, or the shape of ``input`` for ``reduction="none"``.

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor.
    ValueError
        If the shapes or devices differ or ``reduction`` is unknown.

    Examples
    --------
    >>> mse(torch.tensor([0.1, 0.1, 0.8]), torch.tensor([0.0, 0.0, 1.0]))
    tensor(0.0200)
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_pair(input, target, "input")
    return _reduce((input - target) ** 2, reduction)


def mse_grad(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Gradient of :func:`mse` with respect to ``input``.

    .. math::
        \frac{\partial \operatorname{MSE}}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i)

    (without the :math:`1/n` for ``"sum"`` and ``"none"``).

    Parameters
    ----------
    input, target, reduction
        As in :func:`mse`.

    Returns
    -------
    torch.Tensor, shape of ``input``

    Raises
    ------
    TypeError, ValueError
        As :func:`mse`.

    Examples
    --------
    >>> mse_grad(torch.tensor([0.1, 0.1, 0.8]), torch.tensor([0.0, 0.0, 1.0]))
    tensor([ 0.0667,  0.0667, -0.1333])
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_pair(input, target, "input")
    return 2.0 * (input - target) * _grad_scale(input.numel(), reduction)


# ---------------------------------------------------------------------------------------
# Entropy and KL divergence
# ---------------------------------------------------------------------------------------


def entropy(p: torch.Tensor) -> torch.Tensor:
    r"""Shannon entropy of probability vectors along the last dimension, in nats.

    .. math::
        H(P) = -\sum_x P(x) \log P(x), \qquad 0 \log 0 = 0 .

    Divide by :math:`\log 2` for bits.

    Parameters
    ----------
    p : torch.Tensor, shape (..., C)
        Non-negative entries summing to 1 over the last dimension.

    Returns
    -------
    torch.Tensor, shape (...)
        Between 0 (a one-hot vector) and :math:`\log C` (the uniform distribution).

    Raises
    ------
    TypeError
        If ``p`` is not a floating-point tensor.
    ValueError
        If ``p`` is 0-d, has negative entries or does not sum to 1.

    Examples
    --------
    >>> entropy(torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]]))
    tensor([0.0000, 1.3863])
    """
    check.float_tensor(p, "p")
    _class_dim(p, -1, "p")
    _check_distribution(p, "p")
    return 0.0 - torch.xlogy(p, p).sum(dim=-1)  # 0.0 - x turns -0.0 into 0.0


def entropy_grad(p: torch.Tensor) -> torch.Tensor:
    r"""Partial derivatives of :func:`entropy` with respect to each entry of ``p``.

    .. math::
        \frac{\partial H}{\partial P(x)} = -\log P(x) - 1 ,

    treating the entries as free variables (the constraint :math:`\sum_x P(x) = 1` is not
    projected out). Where :math:`P(x) = 0` the derivative is :math:`+\infty`.

    Parameters
    ----------
    p : torch.Tensor, shape (..., C)
        As in :func:`entropy`.

    Returns
    -------
    torch.Tensor, shape of ``p``

    Raises
    ------
    TypeError, ValueError
        As :func:`entropy`.

    Examples
    --------
    >>> entropy_grad(torch.tensor([0.5, 0.5]))
    tensor([-0.3069, -0.3069])
    """
    check.float_tensor(p, "p")
    _class_dim(p, -1, "p")
    _check_distribution(p, "p")
    return -torch.log(p) - 1.0


def _check_p_q(p: torch.Tensor, q: torch.Tensor) -> None:
    check.float_tensor(p, "p")
    check.float_tensor(q, "q")
    _class_dim(p, -1, "p")
    check.same_device(q, "q", p, "p")
    check.same_shape(q, "q", p, "p")
    _check_distribution(p, "p")
    _check_distribution(q, "q")


def kl_divergence(p: torch.Tensor, q: torch.Tensor, reduction: str = "none") -> torch.Tensor:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(P \,\|\, Q)` along the last dimension.

    .. math::
        \mathrm{KL}(P \,\|\, Q) = \sum_x P(x) \log \frac{P(x)}{Q(x)} = H(P, Q) - H(P),

    with :math:`0 \log(0/q) = 0` for every :math:`q` and the value :math:`+\infty` wherever
    :math:`Q(x) = 0 < P(x)`.

    Parameters
    ----------
    p : torch.Tensor, shape (..., C)
        The reference distribution :math:`P` (e.g. the labels).
    q : torch.Tensor, shape of ``p``
        The approximating distribution :math:`Q` (e.g. the model).
    reduction : {"none", "mean", "sum"}
        One divergence per distribution (``"none"``, the default), their mean over the
        distributions, or their sum. ``"mean"`` here averages over *distributions*, i.e.
        it is :func:`torch.nn.functional.kl_div`'s ``"batchmean"`` for 2-D inputs, not
        its elementwise ``"mean"``.

    Returns
    -------
    torch.Tensor
        Shape (...) for ``"none"``, else a scalar. Always :math:`\ge 0`.

    Raises
    ------
    TypeError
        If ``p`` or ``q`` is not a floating-point tensor.
    ValueError
        If the shapes or devices differ, an argument is not a probability vector, or
        ``reduction`` is unknown.

    Examples
    --------
    >>> p = torch.tensor([0.0, 0.0, 1.0, 0.0])
    >>> q = torch.tensor([0.1, 0.2, 0.6, 0.1])
    >>> kl_divergence(p, q)
    tensor(0.5108)
    >>> kl_divergence(q, p)
    tensor(inf)
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_p_q(p, q)
    kl = (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=-1)
    return _reduce(kl, reduction)


def kl_divergence_grad(p: torch.Tensor, q: torch.Tensor, reduction: str = "none") -> tuple[torch.Tensor, torch.Tensor]:
    r"""Partial derivatives of :func:`kl_divergence` with respect to ``p`` and ``q``.

    .. math::
        \frac{\partial\, \mathrm{KL}}{\partial P(x)} = \log \frac{P(x)}{Q(x)} + 1,
        \qquad
        \frac{\partial\, \mathrm{KL}}{\partial Q(x)} = -\frac{P(x)}{Q(x)},

    treating entries as free variables; divided by the number of distributions for
    ``reduction="mean"``. The derivative in :math:`P(x)` is :math:`-\infty` where
    :math:`P(x) = 0 < Q(x)`; the one in :math:`Q(x)` is 0 where :math:`P(x) = 0`.

    Parameters
    ----------
    p, q, reduction
        As in :func:`kl_divergence`.

    Returns
    -------
    grad_p, grad_q : torch.Tensor, shape of ``p``

    Raises
    ------
    TypeError, ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> kl_divergence_grad(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]))
    (tensor([1., 1.]), tensor([-1., -1.]))
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_p_q(p, q)
    scale = _grad_scale(p[..., 0].numel(), reduction)
    grad_p = (torch.log(p) - torch.log(q) + 1.0) * scale
    grad_q = -torch.where(p > 0, p / q, torch.zeros_like(p)) * scale
    return grad_p, grad_q


def _check_logit_pair(p_logits: torch.Tensor, q_logits: torch.Tensor) -> None:
    check.float_tensor(p_logits, "p_logits")
    check.float_tensor(q_logits, "q_logits")
    _class_dim(p_logits, -1, "p_logits")
    check.same_device(q_logits, "q_logits", p_logits, "p_logits")
    check.same_shape(q_logits, "q_logits", p_logits, "p_logits")


def kl_divergence_logits(p_logits: torch.Tensor, q_logits: torch.Tensor, reduction: str = "none") -> torch.Tensor:
    r"""KL divergence between the softmax distributions of two sets of logits.

    With :math:`\log P = \operatorname{log\_softmax}(a)` and
    :math:`\log Q = \operatorname{log\_softmax}(b)` along the last dimension,

    .. math::
        \mathrm{KL}(P \,\|\, Q) = \sum_x P(x) \bigl(\log P(x) - \log Q(x)\bigr),

    computed from log-probabilities, so it stays finite and accurate when a probability
    underflows (logits of magnitude :math:`10^4`).

    Parameters
    ----------
    p_logits : torch.Tensor, shape (..., C)
        Logits :math:`a` of :math:`P` (e.g. a teacher or the old policy).
    q_logits : torch.Tensor, shape of ``p_logits``
        Logits :math:`b` of :math:`Q` (e.g. a student or the new policy).
    reduction : {"none", "mean", "sum"}
        As in :func:`kl_divergence`.

    Returns
    -------
    torch.Tensor
        Shape (...) for ``"none"``, else a scalar.

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor.
    ValueError
        If the shapes or devices differ or ``reduction`` is unknown.

    Examples
    --------
    >>> a = torch.tensor([0.0, 0.0], dtype=torch.float64)
    >>> b = torch.tensor([1e4, 0.0], dtype=torch.float64)
    >>> round(float(kl_divergence_logits(a, b)), 4)  # (0 + 1e4) / 2 - log 2
    4999.3069
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_logit_pair(p_logits, q_logits)
    log_p = log_softmax(p_logits, dim=-1)
    log_q = log_softmax(q_logits, dim=-1)
    kl = (torch.exp(log_p) * (log_p - log_q)).sum(dim=-1)
    return _reduce(kl, reduction)


def kl_divergence_logits_grad(p_logits: torch.Tensor, q_logits: torch.Tensor, reduction: str = "none") -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gradients of :func:`kl_divergence_logits` with respect to both sets of logits.

    .. math::
        \frac{\partial\, \mathrm{KL}}{\partial b} = Q - P,
        \qquad
        \frac{\partial\, \mathrm{KL}}{\partial a_j} = P(j)\bigl(\log P(j) - \log Q(j)
        - \mathrm{KL}(P \,\|\, Q)\bigr),

    divided by the number of distributions for ``reduction="mean"``. The first is the
    cross-entropy gradient: with :math:`P` fixed, minimizing KL and cross-entropy in
    :math:`b` is the same problem.

    Parameters
    ----------
    p_logits, q_logits, reduction
        As in :func:`kl_divergence_logits`.

    Returns
    -------
    grad_p_logits, grad_q_logits : torch.Tensor, shape of ``p_logits``

    Raises
    ------
    TypeError, ValueError
        As :func:`kl_divergence_logits`.

    Examples
    --------
    >>> _, g = kl_divergence_logits_grad(torch.tensor([0.0, 0.0]), torch.tensor([0.0, 0.0]))
    >>> g
    tensor([0., 0.])
    """
    reduction = check.choice(reduction, "reduction", REDUCTIONS)
    _check_logit_pair(p_logits, q_logits)
    log_p = log_softmax(p_logits, dim=-1)
    log_q = log_softmax(q_logits, dim=-1)
    p, q = torch.exp(log_p), torch.exp(log_q)
    diff = log_p - log_q
    kl = (p * diff).sum(dim=-1, keepdim=True)
    scale = _grad_scale(p[..., 0].numel(), reduction)
    return p * (diff - kl) * scale, (q - p) * scale


# ---------------------------------------------------------------------------------------
# KL at work: distillation and the Gaussian KL of a VAE
# ---------------------------------------------------------------------------------------


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor,
    temperature: float = 2.0,
    alpha: float = 0.5,
) -> torch.Tensor:
    r"""Knowledge-distillation loss of Hinton, Vinyals and Dean (2015), averaged over the batch.

    With :math:`P_T = \operatorname{softmax}(t / T)` from the teacher and
    :math:`Q_T = \operatorname{softmax}(s / T)` from the student,

    .. math::
        L = \alpha\, T^2\, \mathrm{KL}(P_T \,\|\, Q_T)
            + (1 - \alpha)\, \operatorname{CE}(s, y) .

    The factor :math:`T^2` keeps the soft term's gradient, :math:`T (Q_T - P_T)`, on the
    scale of the hard term's as the temperature grows.

    Parameters
    ----------
    student_logits : torch.Tensor, shape (N, C)
        Logits :math:`s` of the student (the model being trained).
    teacher_logits : torch.Tensor, shape (N, C)
        Logits :math:`t` of the teacher (treated as constants).
    target : torch.Tensor of integers, shape (N,)
        Hard labels :math:`y`.
    temperature : float
        :math:`T > 0`; larger values soften both distributions.
    alpha : float
        Weight :math:`\alpha \in [0, 1]` of the soft (teacher) term.

    Returns
    -------
    torch.Tensor
        A scalar.

    Raises
    ------
    TypeError
        If the logits are not floating-point tensors or a number has the wrong type.
    ValueError
        If the shapes do not match, a label is out of range, ``temperature`` is not
        positive, or ``alpha`` is outside [0, 1].

    Examples
    --------
    >>> s = torch.tensor([[1.0, 0.0]]); y = torch.tensor([0])
    >>> distillation_loss(s, s, y, temperature=4.0, alpha=1.0)  # student = teacher
    tensor(0.)
    """
    temperature = check.real(temperature, "temperature", low=0, low_open=True)
    alpha = check.real(alpha, "alpha", low=0, high=1)
    check.float_tensor(student_logits, "student_logits")
    if student_logits.dim() != 2:
        raise ValueError(f"student_logits must have shape (N, C), got {tuple(student_logits.shape)}")
    check.float_tensor(teacher_logits, "teacher_logits")
    check.same_device(teacher_logits, "teacher_logits", student_logits, "student_logits")
    check.same_shape(teacher_logits, "teacher_logits", student_logits, "student_logits")
    soft = kl_divergence_logits(teacher_logits / temperature, student_logits / temperature, reduction="mean")
    hard = cross_entropy(student_logits, target, reduction="mean")
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


def distillation_loss_grad(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor,
    temperature: float = 2.0,
    alpha: float = 0.5,
) -> torch.Tensor:
    r"""Gradient of :func:`distillation_loss` with respect to the student's logits.

    .. math::
        \frac{\partial L}{\partial s} = \frac{1}{N}\Bigl(\alpha\, T\, (Q_T - P_T)
        + (1 - \alpha)\, (\operatorname{softmax}(s) - \operatorname{onehot}(y))\Bigr).

    Parameters
    ----------
    student_logits, teacher_logits, target, temperature, alpha
        As in :func:`distillation_loss`.

    Returns
    -------
    torch.Tensor, shape (N, C)

    Raises
    ------
    TypeError, ValueError
        As :func:`distillation_loss`.

    Examples
    --------
    >>> s = torch.tensor([[1.0, 0.0]]); y = torch.tensor([0])
    >>> distillation_loss_grad(s, s, y, temperature=4.0, alpha=1.0)
    tensor([[0., 0.]])
    """
    temperature = check.real(temperature, "temperature", low=0, low_open=True)
    alpha = check.real(alpha, "alpha", low=0, high=1)
    check.float_tensor(student_logits, "student_logits")
    if student_logits.dim() != 2:
        raise ValueError(f"student_logits must have shape (N, C), got {tuple(student_logits.shape)}")
    check.float_tensor(teacher_logits, "teacher_logits")
    check.same_device(teacher_logits, "teacher_logits", student_logits, "student_logits")
    check.same_shape(teacher_logits, "teacher_logits", student_logits, "student_logits")
    _, soft = kl_divergence_logits_grad(teacher_logits / temperature, student_logits / temperature, reduction="mean")
    hard = cross_entropy_grad(student_logits, target, reduction="mean")
    return alpha * temperature * soft + (1.0 - alpha) * hard


def gaussian_kl(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: Optional[torch.Tensor] = None,
    prior_logvar: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    r"""KL divergence between diagonal Gaussians, summed over the last dimension.

    For :math:`Q = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)` and
    :math:`P = \mathcal{N}(\mu_p, \operatorname{diag}\sigma_p^2)`,

    .. math::
        \mathrm{KL}(Q \,\|\, P) = \frac12 \sum_j \Bigl(
        \log\frac{\sigma_{p,j}^2}{\sigma_j^2} + \frac{\sigma_j^2 + (\mu_j - \mu_{p,j})^2}{\sigma_{p,j}^2} - 1
        \Bigr),

    which for the standard normal prior of a VAE is
    :math:`\frac12 \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)`.

    Parameters
    ----------
    mu : torch.Tensor, shape (..., D)
        Means of :math:`Q`.
    logvar : torch.Tensor, shape of ``mu``
        Log-variances :math:`\log \sigma^2` of :math:`Q`.
    prior_mu, prior_logvar : torch.Tensor, broadcastable to ``mu``, optional
        Parameters of :math:`P`; default 0 (the standard normal).

    Returns
    -------
    torch.Tensor, shape (...)

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor.
    ValueError
        If ``logvar``'s shape differs from ``mu``'s, ``mu`` is 0-d, or a prior parameter
        does not broadcast to ``mu``.

    Examples
    --------
    >>> gaussian_kl(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0]))
    tensor(0.5000)
    """
    mu_p, logvar_p = _check_gaussians(mu, logvar, prior_mu, prior_logvar)
    var_ratio = torch.exp(logvar - logvar_p)
    terms = logvar_p - logvar + var_ratio + (mu - mu_p) ** 2 * torch.exp(-logvar_p) - 1.0
    return 0.5 * terms.sum(dim=-1)


def gaussian_kl_grad(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: Optional[torch.Tensor] = None,
    prior_logvar: Optional[torch.Tensor] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gradients of :func:`gaussian_kl` with respect to ``mu`` and ``logvar``.

    .. math::
        \frac{\partial\, \mathrm{KL}}{\partial \mu_j} = \frac{\mu_j - \mu_{p,j}}{\sigma_{p,j}^2},
        \qquad
        \frac{\partial\, \mathrm{KL}}{\partial \log\sigma_j^2} = \frac12\Bigl(\frac{\sigma_j^2}{\sigma_{p,j}^2} - 1\Bigr).

    Parameters
    ----------
    mu, logvar, prior_mu, prior_logvar
        As in :func:`gaussian_kl`.

    Returns
    -------
    grad_mu, grad_logvar : torch.Tensor, shape of ``mu``

    Raises
    ------
    TypeError, ValueError
        As :func:`gaussian_kl`.

    Examples
    --------
    >>> gaussian_kl_grad(torch.tensor([1.0]), torch.tensor([0.0]))
    (tensor([1.]), tensor([0.]))
    """
    mu_p, logvar_p = _check_gaussians(mu, logvar, prior_mu, prior_logvar)
    grad_mu = (mu - mu_p) * torch.exp(-logvar_p)
    grad_logvar = 0.5 * (torch.exp(logvar - logvar_p) - 1.0)
    return grad_mu.expand_as(mu).clone(), grad_logvar.expand_as(mu).clone()


def _check_gaussians(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    prior_mu: Optional[torch.Tensor],
    prior_logvar: Optional[torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    check.float_tensor(mu, "mu")
    check.float_tensor(logvar, "logvar")
    _class_dim(mu, -1, "mu")
    check.same_device(logvar, "logvar", mu, "mu")
    check.same_shape(logvar, "logvar", mu, "mu")
    out = []
    for value, name in ((prior_mu, "prior_mu"), (prior_logvar, "prior_logvar")):
        if value is None:
            value = torch.zeros((), dtype=mu.dtype, device=mu.device)
        check.float_tensor(value, name)
        check.same_device(value, name, mu, "mu")
        try:
            shape = torch.broadcast_shapes(value.shape, mu.shape)
        except RuntimeError:
            shape = None
        if shape != mu.shape:
            raise ValueError(f"{name} must broadcast to the shape of mu, {tuple(mu.shape)}, got {tuple(value.shape)}")
        out.append(value)
    return out[0], out[1]
