r"""The compiled tier: the formula tier's kernels made fast by ``torch.compile``.

Each function here *is* the function of the same name in :mod:`companion.losses` or
:mod:`companion.normalization`, passed through :func:`torch.compile`: same signature, same
checks, same hand-derived backward, no second implementation. The compiler traces the
formula (forward and backward) into a graph and fuses its operations into a few loops, so
that the data are read from memory a few times instead of once per operation (chapter 4,
*From formula to fast kernel*). On the CPU, Inductor writes C++ and builds it with the
system's compiler; on CUDA it writes Triton kernels.

Compiling happens at the first call of each function (seconds), for the shapes of that
call; a call with other shapes compiles once more, with the sizes as symbols, and later
shapes reuse that code (torch's automatic dynamic shapes). Inductor caches what it built on
disk (``TORCHINDUCTOR_CACHE_DIR``; ``make`` puts it under ``_build/inductor``).
Where compiling is impossible (no C++ compiler, a platform ``torch.compile`` does not
support), each function falls back to its formula, after one :class:`RuntimeWarning`.

Examples
--------
>>> import torch
>>> from companion import losses
>>> z = torch.randn(4, 5, dtype=torch.float64)
>>> torch.allclose(softmax(z), losses.softmax(z))
True
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, TypeVar

import torch

from companion import losses, normalization

__all__ = [
    "batch_norm",
    "cross_entropy",
    "is_compiled",
    "layer_norm",
    "log_softmax",
    "rms_norm",
    "softmax",
]

F = TypeVar("F", bound=Callable[..., Any])

_warned = False  # one warning for the whole module, not one per function


def _warn_fallback(error: BaseException) -> None:
    global _warned
    if not _warned:
        _warned = True
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        warnings.warn(
            f"companion.compiled: torch.compile cannot compile here ({type(error).__name__}: {first_line[:200]}); "
            "its functions fall back to the formula tier (companion.losses, companion.normalization), "
            "which gives the same results, more slowly.",
            RuntimeWarning,
            stacklevel=3,
        )


def _compile(formula: F) -> F:
    """``formula`` compiled by ``torch.compile`` at its first call; ``formula`` itself where that fails.

    The first shapes are compiled as constants (the fastest code for a training loop of fixed
    shapes); after a change of shape, as symbols. Python numbers (``eps``,
    ``label_smoothing``) are constants of the compiled code.
    A ``ValueError`` or ``TypeError`` is the formula's own argument check and passes through.
    """
    compiled: list[Callable[..., Any]] = []

    @functools.wraps(formula)
    def fast(*args: Any, **kwargs: Any) -> Any:
        if not compiled:
            compiled.append(torch.compile(formula))
        if compiled[0] is formula:
            return formula(*args, **kwargs)
        try:
            return compiled[0](*args, **kwargs)
        except (ValueError, TypeError):
            raise
        except Exception as error:  # no compiler, or the compiler failed: is the formula fine?
            result = formula(*args, **kwargs)  # if not, its own error is the one to see
            _warn_fallback(error)
            compiled[0] = formula
            return result

    fast.__doc__ = f"The compiled twin of :func:`{formula.__module__}.{formula.__name__}`: same arguments, results and errors."
    fast.__module__ = __name__
    fast.formula = formula  # type: ignore[attr-defined]
    fast.compiled = compiled  # type: ignore[attr-defined]
    return fast  # type: ignore[return-value]


softmax = _compile(losses.softmax)
log_softmax = _compile(losses.log_softmax)
cross_entropy = _compile(losses.cross_entropy)
layer_norm = _compile(normalization.layer_norm)
batch_norm = _compile(normalization.batch_norm)
rms_norm = _compile(normalization.rms_norm)


def is_compiled(fn: Callable[..., Any]) -> bool:
    """Whether ``fn``, one of this module's functions, runs compiled code (``False`` after a fallback or before its first call).

    Examples
    --------
    >>> _ = softmax(torch.zeros(2, 3))
    >>> is_compiled(softmax)
    True
    """
    compiled = getattr(fn, "compiled", None)
    if compiled is None:
        raise ValueError(f"fn must be a function of companion.compiled, got {fn!r}")
    return bool(compiled) and compiled[0] is not getattr(fn, "formula")
