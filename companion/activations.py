"""Activation functions and their derivatives, written out by hand.

A neuron applies a nonlinearity :math:`\\sigma` to its pre-activation :math:`z = w^\\top x + b`.
Backpropagation needs the derivative :math:`\\sigma'(z)` evaluated at the same ``z``, so each
activation ``f`` here sits beside ``f_grad``, its derivative with respect to the input. Every
function is elementwise, runs on the device and in the dtype of its input, and stays finite
for large :math:`|x|` (the exponentials are only ever taken of non-positive numbers).
At the kinks (``x = 0``) the derivatives follow PyTorch's autograd conventions.

``ACTIVATIONS`` maps each name to its ``(fn, grad)`` pair; :func:`get_activation` looks a name
up with a helpful error. PReLU is not in it: its slope is a parameter that a layer owns and
learns, so :func:`prelu` takes it as an argument and :func:`prelu_backward` returns its gradient
beside the input's.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Tuple

import torch

from companion import _validate as check

__all__ = [
    "ACTIVATIONS",
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "get_activation",
    "leaky_relu",
    "leaky_relu_grad",
    "mish",
    "mish_grad",
    "prelu",
    "prelu_backward",
    "prelu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softplus",
    "swish",
    "swish_grad",
    "tanh",
    "tanh_grad",
]

#: The constant :math:`\alpha` of SELU (Klambauer et al., 2017), as in PyTorch.
SELU_ALPHA = 1.6732632423543772848170429916717
#: The constant :math:`\lambda` (scale) of SELU (Klambauer et al., 2017), as in PyTorch.
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# sigmoid


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid, computed without overflow.

    .. math::

        \\sigma(x) = \\frac{1}{1 + e^{-x}} =
        \\begin{cases} 1 / (1 + e^{-x}) & x \\ge 0 \\\\ e^{x} / (1 + e^{x}) & x < 0 \\end{cases}

    Both branches only exponentiate :math:`-|x| \\le 0`, so no ``inf`` appears.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input of any shape.

    Returns
    -------
    torch.Tensor, shape (*)
        Values in :math:`[0, 1]`.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> sigmoid(torch.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    check.float_tensor(x, "x")
    # e = exp(-|x|), with -|x| written as a where: autograd then differentiates each branch's own
    # formula, which gives sigma'(0) = 1/4 (through x.abs() it would give 0 at x = 0)
    e = torch.exp(torch.where(x >= 0, -x, x))
    return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of the sigmoid at ``x``.

    .. math::

        \\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x)) = \\sigma(x)\\,\\sigma(-x)

    The second form keeps full relative precision for large :math:`|x|`.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)
        Values in :math:`(0, 1/4]`, the maximum at ``x = 0``.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> sigmoid_grad(torch.tensor([0.0]))
    tensor([0.2500])
    """
    check.float_tensor(x, "x")
    return sigmoid(x) * sigmoid(-x)


# ---------------------------------------------------------------------------------------------
# tanh


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent, computed without overflow or cancellation.

    .. math::

        \\tanh(x) = \\operatorname{sign}(x)\\,\\frac{1 - e^{-2|x|}}{1 + e^{-2|x|}}
        = 2\\sigma(2x) - 1

    The numerator is computed as ``-expm1(-2|x|)`` so that small ``x`` keep their digits.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)
        Values in :math:`[-1, 1]`.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> tanh(torch.tensor([-1000.0, 0.0, 1000.0]))
    tensor([-1.,  0.,  1.])
    """
    check.float_tensor(x, "x")
    # |x| and sign(x) written as wheres, so that autograd gives tanh'(0) = 1 (through
    # torch.sign and x.abs() it would give 0 at x = 0)
    a = torch.where(x >= 0, x, -x)
    t = -torch.expm1(-2.0 * a) / (1.0 + torch.exp(-2.0 * a))
    return torch.where(x >= 0, t, -t)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of tanh at ``x``.

    .. math::

        \\tanh'(x) = 1 - \\tanh^2(x) = \\operatorname{sech}^2(x)
        = \\frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)
        Values in :math:`(0, 1]`, the maximum at ``x = 0``.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> tanh_grad(torch.tensor([0.0]))
    tensor([1.])
    """
    check.float_tensor(x, "x")
    e = torch.exp(-2.0 * x.abs())
    return 4.0 * e / (1.0 + e) ** 2


# ---------------------------------------------------------------------------------------------
# ReLU family


def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit.

    .. math::

        \\operatorname{relu}(x) = \\max(x, 0)

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> relu(torch.tensor([-2.0, 0.0, 3.0]))
    tensor([0., 0., 3.])
    """
    check.float_tensor(x, "x")
    # not x.clamp(min=0): autograd would give the derivative 1 at x = 0, where PyTorch's relu
    # (and relu_grad) give 0
    return torch.where(x <= 0, 0.0, x)


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of ReLU at ``x``; 0 at the kink ``x = 0`` (PyTorch's convention).

    .. math::

        \\operatorname{relu}'(x) = \\mathbb{1}[x > 0]

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)
        Zeros and ones, in the dtype of ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> relu_grad(torch.tensor([-2.0, 0.0, 3.0]))
    tensor([0., 0., 1.])
    """
    check.float_tensor(x, "x")
    return torch.sign(x.clamp(min=0.0))  # 1 where x > 0, else 0; no boolean temporary


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU: a small slope instead of zero for negative inputs.

    .. math::

        \\operatorname{leaky\\_relu}(x) = \\begin{cases} x & x > 0 \\\\ a x & x \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    negative_slope : float, default 0.01
        The slope :math:`a` for :math:`x \\le 0`.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``negative_slope`` is not a real number.
    ValueError
        If ``negative_slope`` is not finite.

    Examples
    --------
    >>> leaky_relu(torch.tensor([-2.0, 3.0]), negative_slope=0.1)
    tensor([-0.2000,  3.0000])
    """
    check.float_tensor(x, "x")
    a = check.real(negative_slope, "negative_slope")
    return torch.where(x > 0, x, a * x)


def leaky_relu_grad(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """Derivative of leaky ReLU at ``x``; the slope :math:`a` at ``x = 0`` (as in PyTorch).

    .. math::

        \\operatorname{leaky\\_relu}'(x) = \\begin{cases} 1 & x > 0 \\\\ a & x \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    negative_slope : float, default 0.01
        The slope :math:`a` for :math:`x \\le 0`.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``negative_slope`` is not a real number.
    ValueError
        If ``negative_slope`` is not finite.

    Examples
    --------
    >>> leaky_relu_grad(torch.tensor([-2.0, 3.0]), negative_slope=0.1)
    tensor([0.1000, 1.0000])
    """
    check.float_tensor(x, "x")
    a = check.real(negative_slope, "negative_slope")
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, a))


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit.

    .. math::

        \\operatorname{elu}(x) = \\begin{cases} x & x > 0 \\\\
        \\alpha\\,(e^{x} - 1) & x \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    alpha : float, default 1.0
        The saturation value :math:`-\\alpha` for :math:`x \\to -\\infty`.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``alpha`` is not a real number.
    ValueError
        If ``alpha`` is not finite.

    Examples
    --------
    >>> elu(torch.tensor([-1000.0, 0.0, 2.0]))
    tensor([-1.,  0.,  2.])
    """
    check.float_tensor(x, "x")
    a = check.real(alpha, "alpha")
    return torch.where(x > 0, x, a * torch.expm1(x.clamp(max=0.0)))


def elu_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Derivative of ELU at ``x``; :math:`\\alpha` at ``x = 0`` (as in PyTorch).

    .. math::

        \\operatorname{elu}'(x) = \\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    alpha : float, default 1.0
        The ELU constant.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``alpha`` is not a real number.
    ValueError
        If ``alpha`` is not finite.

    Examples
    --------
    >>> elu_grad(torch.tensor([0.0, 2.0]), alpha=0.5)
    tensor([0.5000, 1.0000])
    """
    check.float_tensor(x, "x")
    a = check.real(alpha, "alpha")
    return torch.where(x > 0, torch.ones_like(x), a * torch.exp(x.clamp(max=0.0)))


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017).

    .. math::

        \\operatorname{selu}(x) = \\lambda\\,\\operatorname{elu}_{\\alpha}(x),\\qquad
        \\alpha \\approx 1.6733,\\ \\lambda \\approx 1.0507

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> selu(torch.tensor([1.0]))
    tensor([1.0507])
    """
    check.float_tensor(x, "x")
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of SELU at ``x``; :math:`\\lambda\\alpha` at ``x = 0`` (as in PyTorch).

    .. math::

        \\operatorname{selu}'(x) = \\begin{cases} \\lambda & x > 0 \\\\
        \\lambda\\alpha e^{x} & x \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> selu_grad(torch.tensor([1.0]))
    tensor([1.0507])
    """
    check.float_tensor(x, "x")
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


# ---------------------------------------------------------------------------------------------
# smooth self-gated activations


def softplus(x: torch.Tensor, beta: float = 1.0, threshold: float = 20.0) -> torch.Tensor:
    """Softplus, a smooth ReLU, computed without overflow; torch's ``beta`` and ``threshold``.

    .. math::

        \\operatorname{softplus}(x) = \\frac{1}{\\beta}\\log(1 + e^{\\beta x})
        = \\frac{1}{\\beta}\\Bigl(\\max(\\beta x, 0) + \\log(1 + e^{-|\\beta x|})\\Bigr),

    and :math:`x` itself where :math:`\\beta x > \\text{threshold}` (there the two differ by
    less than :math:`e^{-\\text{threshold}}/\\beta`), as :func:`torch.nn.functional.softplus`.
    ``threshold=math.inf`` gives the formula everywhere. Its derivative is
    :math:`\\sigma(\\beta x)`.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    beta : float, default 1.0
        Sharpness :math:`\\beta > 0`; large values approach ReLU. (torch also takes
        :math:`\\beta \\le 0`, which turns softplus into something else; it is refused here.)
    threshold : float, default 20.0
        Where to switch to the identity.

    Returns
    -------
    torch.Tensor, shape (*)
        Positive values.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``beta`` or ``threshold`` not a real number.
    ValueError
        If ``beta`` is not a positive finite number, or ``threshold`` is NaN.

    Examples
    --------
    >>> softplus(torch.tensor([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.6931471824645996, 1000.0]
    >>> softplus(torch.tensor([20.5], dtype=torch.float64)).item()  # past the threshold: x itself
    20.5
    """
    check.float_tensor(x, "x")
    beta = check.real(beta, "beta", low=0, low_open=True)
    threshold = check.real(threshold, "threshold", finite=False)
    if threshold != threshold:
        raise ValueError("threshold must be a number, got nan")
    bx = beta * x
    # max(bx, 0) and -|bx| through torch.where, so that autograd's derivative at 0 is the true
    # sigma(0) = 1/2 (clamp and abs would give the subgradients 1 and 0 there)
    positive = bx >= 0
    smooth = (torch.where(positive, bx, 0.0) + torch.log1p(torch.exp(torch.where(positive, -bx, bx)))) / beta
    return torch.where(bx > threshold, x, smooth)


def swish(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Swish (Ramachandran et al., 2017); with :math:`\\beta = 1` it is SiLU.

    .. math::

        \\operatorname{swish}_\\beta(x) = x\\,\\sigma(\\beta x)

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    beta : float, default 1.0
        Gate sharpness; :math:`\\beta \\to \\infty` approaches ReLU, :math:`\\beta = 0`
        gives :math:`x/2`.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``beta`` is not a real number.
    ValueError
        If ``beta`` is not finite.

    Examples
    --------
    >>> swish(torch.tensor([-1000.0, 0.0, 2.0]))
    tensor([-0.0000, 0.0000, 1.7616])
    """
    check.float_tensor(x, "x")
    b = check.real(beta, "beta")
    return x * sigmoid(b * x)


def swish_grad(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Derivative of swish at ``x``.

    .. math::

        \\operatorname{swish}_\\beta'(x) = \\sigma(\\beta x) + \\beta x\\,\\sigma(\\beta x)\\,
        \\sigma(-\\beta x)

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    beta : float, default 1.0
        Gate sharpness.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``beta`` is not a real number.
    ValueError
        If ``beta`` is not finite.

    Examples
    --------
    >>> swish_grad(torch.tensor([0.0]))
    tensor([0.5000])
    """
    check.float_tensor(x, "x")
    b = check.real(beta, "beta")
    bx = b * x
    s = sigmoid(bx)
    return s + bx * s * sigmoid(-bx)


def mish(x: torch.Tensor) -> torch.Tensor:
    """Mish (Misra, 2019), built on the overflow-free :func:`softplus`.

    .. math::

        \\operatorname{mish}(x) = x \\tanh(\\operatorname{softplus}(x))

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> mish(torch.tensor([-1000.0, 0.0, 2.0]))
    tensor([-0.0000, 0.0000, 1.9440])
    """
    check.float_tensor(x, "x")
    return x * tanh(softplus(x))


def mish_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of mish at ``x``.

    .. math::

        \\operatorname{mish}'(x) = \\tanh(\\operatorname{softplus}(x))
        + x\\,\\operatorname{sech}^2(\\operatorname{softplus}(x))\\,\\sigma(x)

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.

    Examples
    --------
    >>> mish_grad(torch.tensor([0.0], dtype=torch.float64))
    tensor([0.6000], dtype=torch.float64)
    """
    check.float_tensor(x, "x")
    sp = softplus(x)
    return tanh(sp) + x * tanh_grad(sp) * sigmoid(x)


# ---------------------------------------------------------------------------------------------
# PReLU: leaky ReLU with a learned slope


def _prelu_slope(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Check ``x`` and ``weight`` as :func:`torch.nn.functional.prelu` does; ``weight`` reshaped to broadcast."""
    check.float_tensor(x, "x")
    check.float_tensor(weight, "weight")
    if weight.dim() > 1:
        raise ValueError(f"weight must be a 0-d or 1-D tensor, got shape {tuple(weight.shape)}")
    if weight.dtype != x.dtype:
        raise TypeError(f"weight must have the dtype of x, {x.dtype}, got {weight.dtype}")
    check.same_device(weight, "weight", x, "x")
    channels = x.shape[1] if x.dim() >= 2 else 1
    if weight.numel() == 1:
        return weight.reshape(())
    if weight.numel() != channels:
        raise ValueError(
            f"weight must have 1 element or one per channel (dim 1 of x, {channels} for x of shape "
            f"{tuple(x.shape)}), got {weight.numel()}"
        )
    return weight.reshape((1, channels) + (1,) * (x.dim() - 2))


def prelu(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Parametric ReLU (He et al., 2015): a leaky ReLU whose negative slope is learned.

    .. math::

        \\operatorname{prelu}(x)_{n,c,\\dots} = \\begin{cases} x_{n,c,\\dots} & x_{n,c,\\dots} > 0
        \\\\ a_c\\, x_{n,c,\\dots} & x_{n,c,\\dots} \\le 0 \\end{cases}

    The slope :math:`a` is one shared number or one number per channel, the channel being
    dimension 1 of ``x``, as in :func:`torch.nn.functional.prelu`; its gradient is given by
    :func:`prelu_backward`. With :math:`a = 0` PReLU is ReLU, with :math:`a = 1` the identity.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C, ...) or (N,) or ()
        Floating-point input. A 0-d or 1-D ``x`` has one channel (as in torch).
    weight : torch.Tensor, shape (1,) or (C,) or ()
        The slopes, in the dtype and on the device of ``x``.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x`` or ``weight`` is not a floating-point tensor, or their dtypes differ.
    ValueError
        If ``weight`` has more than one dimension, is on another device, or has neither 1 nor
        ``C`` elements.

    Examples
    --------
    >>> prelu(torch.tensor([[-2.0, 3.0], [4.0, -1.0]]), torch.tensor([0.25, 0.5]))
    tensor([[-0.5000,  3.0000],
            [ 4.0000, -0.5000]])
    """
    a = _prelu_slope(x, weight)
    return torch.where(x > 0, x, a * x)


def prelu_grad(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Derivative of PReLU with respect to its input; the slope :math:`a_c` at ``x = 0`` (as torch).

    .. math::

        \\frac{\\partial\\, \\operatorname{prelu}(x)_{n,c,\\dots}}{\\partial x_{n,c,\\dots}} =
        \\begin{cases} 1 & x_{n,c,\\dots} > 0 \\\\ a_c & x_{n,c,\\dots} \\le 0 \\end{cases}

    Parameters
    ----------
    x : torch.Tensor, shape (N, C, ...) or (N,) or ()
        Floating-point input.
    weight : torch.Tensor, shape (1,) or (C,) or ()
        The slopes.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x`` or ``weight`` is not a floating-point tensor, or their dtypes differ.
    ValueError
        If ``weight`` has a wrong shape or lives on another device.

    Examples
    --------
    >>> prelu_grad(torch.tensor([-2.0, 0.0, 3.0]), torch.tensor([0.25]))
    tensor([0.2500, 0.2500, 1.0000])
    """
    a = _prelu_slope(x, weight)
    return torch.where(x > 0, torch.ones_like(x), a.expand_as(x))


def prelu_backward(
    grad_output: torch.Tensor, x: torch.Tensor, weight: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gradients of a loss through PReLU, with respect to the input and to the learned slopes.

    With :math:`g = \\partial L / \\partial y` the upstream gradient,

    .. math::

        \\frac{\\partial L}{\\partial x} = g \\odot \\operatorname{prelu}'(x), \\qquad
        \\frac{\\partial L}{\\partial a_c} = \\sum_{n, \\dots} g_{n,c,\\dots}\\,
        x_{n,c,\\dots}\\, \\mathbb{1}[x_{n,c,\\dots} \\le 0]

    A per-channel slope collects its gradient over every axis but the channel axis (dimension
    1); a single shared slope over every element.

    Parameters
    ----------
    grad_output : torch.Tensor, shape of ``x``
        Upstream gradient :math:`g`.
    x : torch.Tensor, shape (N, C, ...) or (N,) or ()
        The input PReLU was applied to.
    weight : torch.Tensor, shape (1,) or (C,) or ()
        The slopes.

    Returns
    -------
    grad_x : torch.Tensor, shape of ``x``
    grad_weight : torch.Tensor, shape of ``weight``

    Raises
    ------
    TypeError
        If an argument is not a floating-point tensor, or the dtypes of ``x`` and ``weight``
        differ.
    ValueError
        If ``weight`` has a wrong shape, ``grad_output`` does not have the shape of ``x``, or a
        tensor lives on another device than ``x``.

    Examples
    --------
    >>> x = torch.tensor([[-2.0, 3.0], [4.0, -1.0]])
    >>> grad_x, grad_w = prelu_backward(torch.ones_like(x), x, torch.tensor([0.25, 0.5]))
    >>> grad_x
    tensor([[0.2500, 1.0000],
            [1.0000, 0.5000]])
    >>> grad_w
    tensor([-2., -1.])
    """
    check.float_tensor(grad_output, "grad_output")
    slope = prelu_grad(x, weight)  # checks x and weight
    check.same_shape(grad_output, "grad_output", x, "x")
    check.same_device(grad_output, "grad_output", x, "x")
    grad_x = grad_output * slope
    per_element = grad_output * torch.where(x > 0, torch.zeros_like(x), x)
    if weight.numel() == 1 or x.dim() < 2:
        grad_weight = per_element.sum()
    else:
        grad_weight = per_element.sum(dim=[d for d in range(x.dim()) if d != 1])
    return grad_x, grad_weight.reshape(weight.shape).to(weight.dtype)


# ---------------------------------------------------------------------------------------------
# GELU

#: :math:`\sqrt{2/\pi}`, the scale inside the tanh approximation of GELU.
_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
#: The cubic coefficient of the tanh approximation of GELU (Hendrycks and Gimpel, 2016).
_GELU_TANH_CUBIC = 0.044715


def _approximate(approximate: object) -> str:
    if not isinstance(approximate, str):
        raise TypeError(f"approximate must be a str ('none' or 'tanh'), got {type(approximate).__name__}")
    return check.choice(approximate, "approximate", ("none", "tanh"))


def gelu(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """Gaussian error linear unit (Hendrycks and Gimpel, 2016), exact or in its tanh form.

    .. math::

        \\operatorname{gelu}(x) = x\\,\\Phi(x) = \\frac{x}{2}\\,
        \\operatorname{erfc}\\!\\Bigl(-\\frac{x}{\\sqrt 2}\\Bigr), \\qquad
        \\operatorname{gelu}_{\\tanh}(x) = \\frac{x}{2}\\bigl(1 + \\tanh u\\bigr)
        = x\\,\\sigma(2u),\\quad u = \\sqrt{2/\\pi}\\,(x + 0.044715\\,x^3)

    :math:`\\Phi` is the standard normal distribution function: the unit passes :math:`x` on
    with the probability that a standard normal variable lies below :math:`x`, and
    :math:`x\\Phi(x)` is the expected output of :math:`x` times a Bernoulli(:math:`\\Phi(x)`) gate.
    The values are those of :func:`torch.nn.functional.gelu` with the same ``approximate``;
    ``erfc`` and ``sigmoid`` avoid the cancellation of :math:`1 + \\operatorname{erf}` and
    :math:`1 + \\tanh` for negative :math:`x`.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    approximate : {"none", "tanh"}, default "none"
        ``"none"`` for :math:`x\\Phi(x)`, ``"tanh"`` for the tanh approximation (as torch).

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``approximate`` is not a string.
    ValueError
        If ``approximate`` is neither ``"none"`` nor ``"tanh"``.

    Examples
    --------
    >>> gelu(torch.tensor([-1000.0, 0.0, 1.0]))
    tensor([-0.0000, 0.0000, 0.8413])
    >>> gelu(torch.tensor([1.0]), approximate="tanh")
    tensor([0.8412])
    """
    check.float_tensor(x, "x")
    if _approximate(approximate) == "tanh":
        u = _GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x * x * x)
        return x * sigmoid(2.0 * u)
    return 0.5 * x * torch.special.erfc(-x * _SQRT1_2)


def gelu_grad(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """Derivative of GELU at ``x``, exact or of the tanh form.

    .. math::

        \\operatorname{gelu}'(x) = \\Phi(x) + x\\,\\varphi(x), \\quad
        \\varphi(x) = \\frac{e^{-x^2/2}}{\\sqrt{2\\pi}};\\qquad
        \\operatorname{gelu}_{\\tanh}'(x) = \\sigma(2u) + 2x\\,u'(x)\\,\\sigma(2u)\\,\\sigma(-2u),
        \\quad u'(x) = \\sqrt{2/\\pi}\\,(1 + 3 \\cdot 0.044715\\,x^2)

    The derivative is 1/2 at 0, slightly above 1 for moderate positive :math:`x` (GELU is
    not monotonic: it dips to about :math:`-0.17` near :math:`x \\approx -0.75`) and tends to
    1 and 0 at :math:`\\pm\\infty`. Unlike torch's tanh-form backward, which returns NaN for
    :math:`|x| \\gtrsim 10^{13}` in float32 (:math:`\\infty \\cdot 0`), this one stays finite.

    Parameters
    ----------
    x : torch.Tensor, shape (*)
        Floating-point input.
    approximate : {"none", "tanh"}, default "none"
        Which GELU to differentiate.

    Returns
    -------
    torch.Tensor, shape (*)

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor or ``approximate`` is not a string.
    ValueError
        If ``approximate`` is neither ``"none"`` nor ``"tanh"``.

    Examples
    --------
    >>> gelu_grad(torch.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    check.float_tensor(x, "x")
    if _approximate(approximate) == "tanh":
        u = _GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x * x * x)
        s, s_minus = sigmoid(2.0 * u), sigmoid(-2.0 * u)
        slope = s * s_minus  # 0 where the gate is saturated; there the second term is 0 too
        du = _GELU_TANH_SCALE * (1.0 + 3.0 * _GELU_TANH_CUBIC * x * x)
        return s + torch.where(slope > 0, 2.0 * x * du * slope, torch.zeros_like(x))
    pdf = torch.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return 0.5 * torch.special.erfc(-x * _SQRT1_2) + x * pdf


# ---------------------------------------------------------------------------------------------
# registry

ActivationPair = Tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]

#: Name -> ``(fn, grad)``; ``grad(x)`` is the derivative of ``fn`` at ``x``.
ACTIVATIONS: Dict[str, ActivationPair] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "selu": (selu, selu_grad),
    "swish": (swish, swish_grad),
    "mish": (mish, mish_grad),
    "gelu": (gelu, gelu_grad),
}


def get_activation(name: str) -> ActivationPair:
    """Look up an activation and its derivative by name.

    .. math::

        \\texttt{name} \\mapsto (\\sigma, \\sigma')

    Parameters
    ----------
    name : str
        One of the keys of :data:`ACTIVATIONS` (``"silu"`` is accepted as an alias of
        ``"swish"``).

    Returns
    -------
    tuple of callable
        ``(fn, grad)``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> fn, grad = get_activation("tanh")
    >>> grad(torch.tensor([0.0]))
    tensor([1.])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = "swish" if name == "silu" else name
    if key not in ACTIVATIONS:
        raise ValueError(f"name must be one of {sorted(ACTIVATIONS)} (or 'silu'), got {name!r}")
    return ACTIVATIONS[key]
