"""Argument checks shared by every module of :mod:`companion` (private).

One argument order everywhere: ``check(value, name, ...)``. Each check returns the value in the
form the caller computes with (a ``float``, an ``int``, a normalized ``dim``) and raises a
:class:`TypeError` for a value of the wrong kind or a :class:`ValueError` for a value of the
right kind out of range. Every message names the argument and says what was expected, so a
kernel's body can start with its maths after one line of checks.

Examples
--------
>>> real(0.5, "p", low=0, high=1)
0.5
>>> integer(True, "n")
Traceback (most recent call last):
...
TypeError: n must be an int, got bool
>>> real(1.5, "p", low=0, high=1, high_open=True)
Traceback (most recent call last):
...
ValueError: p must be in [0, 1), got 1.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Optional

import torch

__all__ = [
    "any_of",
    "boolean",
    "choice",
    "device",
    "dim",
    "dtype",
    "float_tensor",
    "generator",
    "integer",
    "real",
    "same_device",
    "same_shape",
    "seed",
    "shape",
    "tensor",
    "text",
]


def _kind(value: object) -> str:
    return type(value).__name__


def tensor(value: object, name: str) -> torch.Tensor:
    """A :class:`torch.Tensor` of any dtype."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_kind(value)}")
    return value


def float_tensor(value: object, name: str) -> torch.Tensor:
    """A floating-point :class:`torch.Tensor` (float16, bfloat16, float32 or float64)."""
    value = tensor(value, name)
    if not value.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    return value


def dtype(value: object, name: str = "dtype") -> torch.dtype:
    """A floating-point :class:`torch.dtype`."""
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise TypeError(f"{name} must be a floating-point torch.dtype, got {value!r}")
    return value


def generator(value: object, name: str = "generator") -> Optional[torch.Generator]:
    """``None`` or a :class:`torch.Generator`."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {_kind(value)}")
    return value


def boolean(value: object, name: str) -> bool:
    """A ``bool`` (not an int, a string or a tensor: ``training='no'`` is an error)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {_kind(value)}")
    return value


def _number_text(x: float) -> str:
    # integers exactly (2**32 - 1 reads 4294967295, not 4.29497e+09); other numbers compactly
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**63 else f"{x:g}"


def _bounds_text(low: Optional[float], high: Optional[float], low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        lo, hi = _number_text(low), _number_text(high)
        return f"in {'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_number_text(low)}"
    assert high is not None
    return f"{'<' if high_open else '<='} {_number_text(high)}"


def _in_bounds(value: float, low: Optional[float], high: Optional[float], low_open: bool, high_open: bool) -> bool:
    if low is not None and not (value > low if low_open else value >= low):
        return False
    if high is not None and not (value < high if high_open else value <= high):
        return False
    return True


def real(
    value: object,
    name: str,
    *,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """A real number (``int``, ``float`` or numpy scalar; not ``bool``), returned as ``float``.

    ``finite=True`` refuses NaN and infinities; ``low``/``high`` bound it, closed unless
    ``low_open``/``high_open``. NaN is refused whenever a bound is given.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_kind(value)}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if (low is not None or high is not None) and not _in_bounds(value, low, high, low_open, high_open):
        raise ValueError(f"{name} must be {_bounds_text(low, high, low_open, high_open)}, got {value}")
    return value


def integer(
    value: object,
    name: str,
    *,
    low: Optional[int] = None,
    high: Optional[int] = None,
) -> int:
    """An ``int`` (or numpy integer; not ``bool``) with ``low <= value <= high`` where given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_kind(value)}")
    value = int(value)
    if (low is not None or high is not None) and not _in_bounds(value, low, high, False, False):
        raise ValueError(f"{name} must be {_bounds_text(low, high, False, False)}, got {value}")
    return value


def choice(value: object, name: str, options: Sequence[str]) -> str:
    """One of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def text(value: object, name: str) -> str:
    """A non-empty string, stripped, with runs of white space collapsed to one space."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_kind(value)}")
    out = " ".join(value.split())
    if not out:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return out


def dim(value: object, x: torch.Tensor, name: str) -> int:
    """A dimension index of ``x`` (negative counts from the end), returned non-negative.

    ``name`` names the tensor. A 0-d tensor accepts ``dim`` in ``{-1, 0}`` as torch does.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"dim must be an int, got {_kind(value)}")
    value = int(value)
    ndim = max(x.dim(), 1)
    if not -ndim <= value < ndim:
        raise ValueError(f"dim={value} is out of range for {name} with {x.dim()} dimension(s)")
    return value % ndim


def same_device(value: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    """``value`` lives on ``ref``'s device."""
    if value.device != ref.device:
        raise ValueError(f"{name} is on {value.device} but {ref_name} is on {ref.device}; put both on one device")


def same_shape(value: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    """``value`` has ``ref``'s shape."""
    if value.shape != ref.shape:
        raise ValueError(f"{name} must have the shape of {ref_name}, {tuple(ref.shape)}, got {tuple(value.shape)}")


def shape(value: object, name: str = "shape") -> tuple[int, ...]:
    """A sequence of non-negative ints, returned as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence of ints, got {_kind(value)}")
    out = tuple(value)
    for n in out:
        integer(n, f"every entry of {name}")
    if any(n < 0 for n in out):
        raise ValueError(f"{name} must have non-negative entries, got {out}")
    return tuple(int(n) for n in out)


def seed(value: object, name: str = "seed") -> int:
    """A seed for numpy and torch: an int in ``[0, 2**32 - 1]``."""
    return integer(value, name, low=0, high=2**32 - 1)


def device(value: object, name: str = "device") -> Optional[torch.device]:
    """``None`` or a device that exists here: a str such as ``'cuda:0'`` or a :class:`torch.device`.

    The check is :func:`companion.get_device`'s (a :class:`TypeError` for another type, a
    :class:`ValueError` naming the devices available for an unknown or absent one), but the
    environment variable ``COMPANION_DEVICE`` does not override an explicit argument.
    """
    if value is None:
        return None
    from companion.device import _parse  # late: companion.device imports this module

    return _parse(value, name)


def any_of(value: Any, name: str, types: tuple[type, ...], expected: str) -> Any:
    """``value`` is an instance of one of ``types``; ``expected`` reads e.g. ``"a str or a Path"``."""
    if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
        raise TypeError(f"{name} must be {expected}, got {_kind(value)}")
    return value
