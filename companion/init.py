r"""Weight initialization: constant, uniform, normal, LeCun, Xavier/Glorot and Kaiming/He.

A layer :math:`z = W a` with independent zero-mean weights of variance :math:`\sigma^2` and
:math:`n_\text{in}` inputs of second moment :math:`q` gives outputs of variance
:math:`n_\text{in}\sigma^2 q`. Keeping that variance constant from layer to layer (forward) or
keeping the gradients' variance constant (backward) fixes :math:`\sigma^2` in terms of the
fans: LeCun :math:`1/n_\text{in}`, Glorot :math:`2/(n_\text{in}+n_\text{out})`, He
:math:`2/n_\text{in}` for ReLU. Every function here fills a tensor in place, under
``torch.no_grad()``, and returns it, with the signatures of :mod:`torch.nn.init`.
"""

from __future__ import annotations

import math
import warnings
from typing import Optional

import torch

from companion import _validate

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
_NONLINEARITIES = _LINEAR + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    r"""The gain that keeps the second moment of activations constant through a nonlinearity.

    For an activation :math:`\phi` and :math:`z \sim \mathcal N(0, 1)` the gain is the factor
    by which the weights' standard deviation is multiplied so that the next layer's
    pre-activations keep unit variance:

    .. math::

        \text{gain}_\text{relu} = \sqrt{2},\qquad
        \text{gain}_\text{leaky\_relu}(a) = \sqrt{\frac{2}{1 + a^2}},\qquad
        \text{gain}_\text{tanh} = \frac{5}{3},

    1 for linear layers, convolutions and the sigmoid, and 3/4 for SELU (the value
    :func:`torch.nn.init.calculate_gain` uses).

    Parameters
    ----------
    nonlinearity : str
        One of ``linear``, ``conv1d``, ``conv2d``, ``conv3d``, ``conv_transpose1d``,
        ``conv_transpose2d``, ``conv_transpose3d``, ``sigmoid``, ``tanh``, ``relu``,
        ``leaky_relu``, ``selu``.
    param : float, optional
        The negative slope of ``leaky_relu`` (default 0.01); ignored otherwise.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``nonlinearity`` is not one of the names above, or ``param`` is not a number.

    Examples
    --------
    >>> calculate_gain("relu") == math.sqrt(2)
    True
    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    >>> calculate_gain("tanh")
    1.6666666666666667
    """
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {', '.join(_NONLINEARITIES)}; got {nonlinearity!r}")
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    # leaky_relu
    if param is None:
        slope = 0.01
    elif isinstance(param, bool) or not isinstance(param, (int, float)):
        raise ValueError(f"param (the negative slope of leaky_relu) must be a number, got {param!r}")
    else:
        slope = float(param)
    return math.sqrt(2.0 / (1.0 + slope**2))


def _calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    r"""Fan-in and fan-out of a weight tensor, as torch's layers lay them out.

    A linear weight has shape ``(out_features, in_features)``; a convolution weight has shape
    ``(out_channels, in_channels, *kernel)``. With :math:`r` the product of the kernel sizes
    (1 for a linear layer),

    .. math::

        n_\text{in} = \text{in\_channels}\cdot r,\qquad n_\text{out} = \text{out\_channels}\cdot r.

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)

    Returns
    -------
    fan_in, fan_out : int

    Raises
    ------
    ValueError
        If ``tensor`` has fewer than 2 dimensions.

    Examples
    --------
    >>> _calculate_fan_in_and_fan_out(torch.empty(3, 5))
    (5, 3)
    >>> _calculate_fan_in_and_fan_out(torch.empty(16, 8, 3, 3))
    (72, 144)
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() < 2:
        raise ValueError(
            f"tensor must have at least 2 dimensions to define fan_in and fan_out, got shape {tuple(tensor.shape)}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: torch.Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _empty(tensor: torch.Tensor, warn: bool = False) -> bool:
    # A tensor with a zero-size dimension has nothing to fill (and may have a zero fan);
    # torch.nn.init's Kaiming functions warn about it, the others return silently.
    if tensor.numel() == 0:
        if warn:
            warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return True
    return False


def _fill_uniform(tensor: torch.Tensor, low: float, high: float, generator: Optional[torch.Generator]) -> torch.Tensor:
    with torch.no_grad():
        return tensor.uniform_(low, high, generator=generator)


def _fill_normal(tensor: torch.Tensor, std: float, generator: Optional[torch.Generator], mean: float = 0.0) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    r"""Fill ``tensor`` with the constant ``val``, in place.

    .. math:: w_{ij} = c

    Every hidden unit of a layer initialized this way computes the same function and
    receives the same gradient, so the units stay identical during training.

    Parameters
    ----------
    tensor : torch.Tensor, any shape
    val : float

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor or ``val`` is not a number.

    Examples
    --------
    >>> constant_(torch.empty(2, 3), 0.5)
    tensor([[0.5000, 0.5000, 0.5000],
            [0.5000, 0.5000, 0.5000]])
    """
    _validate.float_tensor(tensor, "tensor")
    val = _validate.real(val, "val")
    with torch.no_grad():
        return tensor.fill_(val)


def uniform_(
    tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: Optional[torch.Generator] = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with draws from the uniform distribution on :math:`[a, b)`, in place.

    .. math:: w_{ij} \sim \mathcal U(a, b),\qquad \operatorname{Var} w_{ij} = \frac{(b-a)^2}{12}

    Parameters
    ----------
    tensor : torch.Tensor, any shape
    a, b : float
        The bounds, ``a <= b``.
    generator : torch.Generator, optional
        The generator to draw from (on ``tensor``'s device); torch's global one by default.

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor or ``generator`` is not a generator.
    ValueError
        If ``a > b``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> w = uniform_(torch.empty(1000), -0.5, 0.5, generator=g)
    >>> bool(w.min() >= -0.5 and w.max() < 0.5)
    True
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    a, b = _validate.real(a, "a"), _validate.real(b, "b")
    if a > b:
        raise ValueError(f"a must be <= b, got a={a} and b={b}")
    return _fill_uniform(tensor, a, b, generator)


def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Optional[torch.Generator] = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with draws from :math:`\mathcal N(\text{mean}, \text{std}^2)`, in place.

    .. math:: w_{ij} \sim \mathcal N(\mu, \sigma^2)

    Parameters
    ----------
    tensor : torch.Tensor, any shape
    mean : float
    std : float
        Standard deviation (not variance), ``std >= 0``.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor or ``generator`` is not a generator.
    ValueError
        If ``std < 0``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> w = normal_(torch.empty(100_000), 0.0, 0.1, generator=g)
    >>> round(w.std().item(), 2)
    0.1
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    mean, std = _validate.real(mean, "mean"), _validate.real(std, "std")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return _fill_normal(tensor, std, generator, mean)


def lecun_uniform_(tensor: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    r"""LeCun's uniform initialization: variance :math:`1/n_\text{in}`, in place.

    .. math:: w_{ij} \sim \mathcal U\left(-\sqrt{3/n_\text{in}},\ \sqrt{3/n_\text{in}}\right)

    The same as ``kaiming_uniform_(tensor, nonlinearity="linear")``; suited to SELU networks
    and to activations with unit slope at 0 such as tanh (without its gain).

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor.
    ValueError
        If ``tensor`` has fewer than 2 dimensions.

    Examples
    --------
    >>> w = lecun_uniform_(torch.empty(64, 300))
    >>> bool(w.abs().max() <= math.sqrt(3 / 300))
    True
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    if _empty(tensor):
        return tensor
    bound = math.sqrt(3.0 / _fan(tensor, "fan_in"))
    return _fill_uniform(tensor, -bound, bound, generator)


def lecun_normal_(tensor: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    r"""LeCun's normal initialization: :math:`w_{ij} \sim \mathcal N(0, 1/n_\text{in})`, in place.

    .. math:: \operatorname{std}(w_{ij}) = \frac{1}{\sqrt{n_\text{in}}}

    The same as ``kaiming_normal_(tensor, nonlinearity="linear")``. (Keras's
    ``lecun_normal`` truncates the normal at two standard deviations; this one does not.)

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor.
    ValueError
        If ``tensor`` has fewer than 2 dimensions.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> w = lecun_normal_(torch.empty(400, 400), generator=g)
    >>> round(w.std().item() * 20, 2)
    1.0
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    if _empty(tensor):
        return tensor
    return _fill_normal(tensor, 1.0 / math.sqrt(_fan(tensor, "fan_in")), generator)


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    r"""Glorot and Bengio's uniform initialization, in place.

    .. math::

        w_{ij} \sim \mathcal U(-b, b),\qquad
        b = \text{gain}\cdot\sqrt{\frac{6}{n_\text{in} + n_\text{out}}},\qquad
        \operatorname{Var} w_{ij} = \text{gain}^2\,\frac{2}{n_\text{in} + n_\text{out}}.

    The variance is the harmonic compromise between :math:`1/n_\text{in}` (activations keep
    their variance going forward) and :math:`1/n_\text{out}` (gradients keep theirs going
    backward). Note that :math:`\mathcal U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`,
    sometimes called "Xavier", is a different range: its variance is
    :math:`1/(3 n_\text{in})` (it is PyTorch's default for ``nn.Linear``).

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    gain : float
        Scaling factor, e.g. ``calculate_gain("tanh")``.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor or ``gain`` is not a number.
    ValueError
        If ``tensor`` has fewer than 2 dimensions, or ``gain`` is negative or not finite
        (torch fails then inside ``uniform_``/``normal_`` with a message about the range).

    Examples
    --------
    >>> w = xavier_uniform_(torch.empty(20, 30))
    >>> bool(w.abs().max() <= math.sqrt(6 / 50))
    True
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    gain = _validate.real(gain, "gain", low=0)  # torch: uniform_/normal_ fail on a negative range
    if _empty(tensor):
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill_uniform(tensor, -bound, bound, generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    r"""Glorot and Bengio's normal initialization, in place.

    .. math:: w_{ij} \sim \mathcal N\left(0,\ \text{gain}^2\,\frac{2}{n_\text{in} + n_\text{out}}\right)

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    gain : float
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor or ``gain`` is not a number.
    ValueError
        If ``tensor`` has fewer than 2 dimensions, or ``gain`` is negative or not finite
        (torch fails then inside ``uniform_``/``normal_`` with a message about the range).

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> w = xavier_normal_(torch.empty(300, 500), generator=g)
    >>> round(w.std().item() / math.sqrt(2 / 800), 2)
    1.0
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    gain = _validate.real(gain, "gain", low=0)  # torch: uniform_/normal_ fail on a negative range
    if _empty(tensor):
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _fill_normal(tensor, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: torch.Tensor, a: float, mode: str, nonlinearity: str) -> float:
    a = _validate.real(a, "a")
    fan = _fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    r"""He et al.'s uniform initialization, in place.

    .. math::

        w_{ij} \sim \mathcal U(-b, b),\qquad b = \text{gain}\cdot\sqrt{\frac{3}{n}},\qquad
        \operatorname{Var} w_{ij} = \frac{\text{gain}^2}{n},

    with :math:`n` the fan-in (``mode="fan_in"``, preserves the forward variance) or the
    fan-out (``mode="fan_out"``, preserves the backward variance), and
    ``gain = calculate_gain(nonlinearity, a)``; :math:`\sqrt 2` for ReLU.

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    a : float
        Negative slope of the leaky ReLU that follows (used only with
        ``nonlinearity="leaky_relu"``, the default; ``a=0`` gives the ReLU gain).
    mode : {"fan_in", "fan_out"}
    nonlinearity : str
        A name accepted by :func:`calculate_gain`.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor.
    ValueError
        If ``mode`` or ``nonlinearity`` is unknown or ``tensor`` has fewer than 2 dimensions.

    Examples
    --------
    >>> w = kaiming_uniform_(torch.empty(50, 200), nonlinearity="relu")
    >>> bool(w.abs().max() <= math.sqrt(6 / 200))
    True
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    if _empty(tensor, warn=True):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill_uniform(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    r"""He et al.'s normal initialization, in place.

    .. math:: w_{ij} \sim \mathcal N\left(0, \frac{\text{gain}^2}{n}\right),\qquad
        \text{gain}_\text{relu} = \sqrt 2

    Parameters
    ----------
    tensor : torch.Tensor, shape (out, in, k_1, ..., k_d)
    a : float
        Negative slope of the leaky ReLU (with ``nonlinearity="leaky_relu"``).
    mode : {"fan_in", "fan_out"}
    nonlinearity : str
        A name accepted by :func:`calculate_gain`.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    TypeError
        If ``tensor`` is not a floating-point tensor.
    ValueError
        If ``mode`` or ``nonlinearity`` is unknown or ``tensor`` has fewer than 2 dimensions.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> w = kaiming_normal_(torch.empty(256, 512), nonlinearity="relu", generator=g)
    >>> round(w.std().item() / math.sqrt(2 / 512), 2)
    1.0
    """
    _validate.float_tensor(tensor, "tensor")
    _validate.generator(generator)
    if _empty(tensor, warn=True):
        return tensor
    return _fill_normal(tensor, _kaiming_std(tensor, a, mode, nonlinearity), generator)
