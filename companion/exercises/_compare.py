"""Compare a student's result with the reference one and describe the first difference.

:func:`compare` walks both results together (tensors, NumPy arrays, Python and NumPy
numbers, tuples/lists, dicts, ``nn.Module`` state, ``None``, other objects by ``==``) and
returns a :class:`Mismatch` naming the first fault it finds, in this order: type, number
of items, shape, dtype, device, NaN/inf, value. Tensors are compared on the CPU in float64.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch

__all__ = ["Mismatch", "compare", "format_number", "short_repr"]


@dataclass
class Mismatch:
    """The first difference between an expected and a student's result.

    Attributes
    ----------
    kind : str
        One of ``"type"``, ``"length"``, ``"keys"``, ``"shape"``, ``"dtype"``, ``"device"``,
        ``"nonfinite"``, ``"value"``.
    where : str
        Path of the differing part, e.g. ``"result"`` or ``"result[1]"``.
    lines : list of str
        Human-readable details, one fact per line.
    """

    kind: str
    where: str
    lines: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- formatting


def format_number(x: Any, other: Any = None) -> str:
    """Format a scalar with as few digits as needed to tell it apart from ``other``.

    Examples
    --------
    >>> format_number(0.1 + 0.2), format_number(0.30000001, 0.3)
    ('0.3', '0.30000001')
    >>> format_number(3), format_number(float("nan")), format_number(True)
    ('3', 'nan', 'True')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (numbers.Integral, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return repr(complex(x))
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return repr(x)
    for digits in (6, 8, 10, 13, 17):
        text = f"{x:.{digits}g}"
        if other is None:
            return text
        try:
            if text != f"{float(other):.{digits}g}":
                return text
        except (TypeError, ValueError):
            return text
    return repr(x)


def _kind_name(x: Any) -> str:
    if x is None:
        return "None"
    if isinstance(x, torch.Tensor):
        return "a torch.Tensor"
    if isinstance(x, np.ndarray):
        return "a numpy.ndarray"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} item{'s' if len(x) != 1 else ''}"
    if isinstance(x, torch.nn.Module):
        return f"a {type(x).__name__} module"
    if isinstance(x, np.generic):
        return f"a numpy {type(x).__name__}"
    article = "an" if type(x).__name__[:1].lower() in "aeiou" else "a"
    return f"{article} {type(x).__name__}"


def _array_text(a: np.ndarray) -> str:
    text = np.array2string(a, separator=", ", precision=4, threshold=12, edgeitems=2, max_line_width=10**6)
    return " ".join(text.split())


def short_repr(x: Any, limit: int = 80) -> str:
    """A one-line description of a value for a verdict: small values in full, big ones by shape.

    Examples
    --------
    >>> short_repr(torch.tensor([[1.0, 2.0]]))
    'tensor([[1., 2.]])'
    >>> short_repr(torch.zeros(100, 10, dtype=torch.float64))
    'tensor of shape (100, 10), float64'
    >>> short_repr((1, 2.5, "a"))
    "(1, 2.5, 'a')"
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.layout != torch.strided:
            return f"{str(t.layout).replace('torch.', '')} tensor of shape {tuple(t.shape)}, {str(t.dtype).replace('torch.', '')}"
        extra = "" if t.dtype == torch.float32 else f", {str(t.dtype).replace('torch.', '')}"
        extra += "" if t.device.type == "cpu" else f", device='{t.device}'"
        if t.numel() <= 12 and t.dtype != torch.bfloat16 and t.device.type != "meta":  # a meta tensor has no values
            text = f"tensor({_array_text(t.cpu().resolve_conj().resolve_neg().numpy())}{extra})"
            if len(text) <= limit:
                return text
        return f"tensor of shape {tuple(t.shape)}, {str(t.dtype).replace('torch.', '')}" + (
            "" if t.device.type == "cpu" else f", on {t.device}"
        )
    if isinstance(x, np.ndarray):
        if x.size <= 12:
            text = f"array({_array_text(x)}{'' if x.dtype == np.float64 else f', dtype={x.dtype}'})"
            if len(text) <= limit:
                return text
        return f"array of shape {x.shape}, {x.dtype}"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(short_repr(v, limit) for v in x)
        text = f"({inner}{',' if len(x) == 1 else ''})" if isinstance(x, tuple) else f"[{inner}]"
        if len(text) <= limit:
            return text
        return f"{_kind_name(x)}"
    if isinstance(x, torch.nn.Module):
        text = repr(x).replace("\n", " ")
        text = " ".join(text.split())
        return text if len(text) <= limit else f"{type(x).__name__}(...)"
    if isinstance(x, torch.utils.data.DataLoader):
        try:
            size = f" over {len(x.dataset)} examples"  # type: ignore[arg-type]
        except TypeError:
            size = ""
        return f"DataLoader(batch_size={x.batch_size}{size})"
    r = reprlib.Repr()
    r.maxstring = limit
    r.maxother = limit
    return r.repr(x)


def _index_text(index: tuple[int, ...]) -> str:
    if len(index) == 0:
        return ""
    if len(index) == 1:
        return f"index {index[0]}"
    return f"index ({', '.join(str(i) for i in index)})"


def _at(where: str, index: tuple[int, ...]) -> str:
    idx = _index_text(index)
    return f"{where} at {idx}" if idx else where


# --------------------------------------------------------------------------- categories


def _is_number(x: Any) -> bool:
    if isinstance(x, np.generic):
        return x.dtype.kind in "biufc"
    return isinstance(x, numbers.Number)


def _category(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return "tensor"
    if isinstance(x, np.ndarray):
        return "ndarray"
    if _is_number(x):
        return "number"
    if x is None:
        return "none"
    if isinstance(x, (tuple, list)):
        return "sequence"
    if isinstance(x, Mapping):
        return "mapping"
    if isinstance(x, torch.nn.Module):
        return "module"
    return "object"


def _number_kind(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "b"
    if isinstance(x, np.generic):
        return x.dtype.kind
    if isinstance(x, numbers.Integral):
        return "i"
    if isinstance(x, numbers.Real):
        return "f"
    return "c"


_KIND_WORD = {"b": "a bool", "i": "an int", "u": "an int", "f": "a float", "c": "a complex number"}


def _type_hint(expected: Any, got: Any) -> Optional[str]:
    ce, cg = _category(expected), _category(got)
    if got is None:
        return "hint: did you forget the `return` statement?"
    if ce == "number" and cg == "tensor":
        if got.numel() == 1:
            return "hint: a one-element tensor is not a number; return `t.item()` (or `float(t)`)"
        return f"hint: expected one number, got a tensor of shape {tuple(got.shape)}"
    if ce == "tensor" and cg == "ndarray":
        return "hint: compute with torch instead of numpy, or convert with `torch.from_numpy(a)`"
    if ce == "ndarray" and cg == "tensor":
        return "hint: convert with `t.detach().cpu().numpy()`"
    if ce == "tensor" and cg == "number":
        return "hint: return a tensor, e.g. keep the computation in torch instead of calling .item()"
    if ce == "sequence" and cg != "sequence":
        return f"hint: return {len(expected)} results, e.g. `return a, b`"
    return None


def _shape_hint(expected: tuple[int, ...], got: tuple[int, ...]) -> Optional[str]:
    if math.prod(expected) == math.prod(got) and sorted(expected) == sorted(got):
        return "hint: same sizes in another order: transposed or permuted?"
    if tuple(d for d in got if d != 1) == tuple(d for d in expected if d != 1):
        if len(got) > len(expected):
            return "hint: extra dimension(s) of size 1: use keepdim=False, or .squeeze(dim)"
        return "hint: missing dimension(s) of size 1: use keepdim=True, or .unsqueeze(dim)"
    if len(got) < len(expected):
        return "hint: fewer dimensions than expected: reduced over the wrong dim, or over all of them?"
    if math.prod(expected) == math.prod(got):
        return "hint: same number of elements in another shape: reshaped or viewed wrongly?"
    return None


def _dtype_hint(expected: Any, got: Any) -> Optional[str]:
    e, g = str(expected).replace("torch.", ""), str(got).replace("torch.", "")
    if e.startswith("float") and g.startswith("float"):
        return (
            "hint: keep the input's dtype; a new tensor gets the default float32 unless you "
            "pass dtype=x.dtype (or use torch.zeros_like(x), x.new_tensor(...))"
        )
    if e.startswith("float") and (g.startswith("int") or g == "bool"):
        return "hint: an integer/bool result where floats are expected: convert with .to(x.dtype) or .float()"
    if e.startswith("int") and g.startswith("float"):
        return "hint: indices and counts are integers: convert with .long()"
    return None


# --------------------------------------------------------------------------- values


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu().resolve_conj().resolve_neg()
    if t.is_complex():
        return t.to(torch.complex128).numpy()
    if t.dtype.is_floating_point:
        return t.to(torch.float64).numpy()
    if t.dtype == torch.bool:
        return t.numpy()
    return t.to(torch.int64).numpy()


def _compare_arrays(e: np.ndarray, g: np.ndarray, where: str, atol: float, rtol: float) -> Optional[Mismatch]:
    """Values of two arrays of equal shape."""
    exact = e.dtype.kind in "biu" and g.dtype.kind in "biu"
    if exact:
        bad = e != g
        if not bad.any():
            return None
        flat = int(np.flatnonzero(bad)[0])
        index = tuple(int(i) for i in np.unravel_index(flat, e.shape))
        ev, gv = e[index], g[index]
        detail = ""
        if e.dtype.kind != "b" and g.dtype.kind != "b":
            detail = f" (abs error {abs(int(gv) - int(ev))})"
        lines = [f"{_at(where, index)}: expected {format_number(ev)}, got {format_number(gv)}{detail}"]
        if e.size > 1:
            lines.append(f"{int(bad.sum())} of {e.size} entries differ")
        return Mismatch("value", where, lines)

    complex_ = e.dtype.kind == "c" or g.dtype.kind == "c"
    target = np.complex128 if complex_ else np.float64
    e = e.astype(target)
    g = g.astype(target)
    with np.errstate(all="ignore"):
        same_special = (np.isnan(e) & np.isnan(g)) | (np.isinf(e) & (e == g))
        nonfinite = ~np.isfinite(g) & ~same_special
        if nonfinite.any():
            flat = int(np.flatnonzero(nonfinite)[0])
            index = tuple(int(i) for i in np.unravel_index(flat, e.shape))
            lines = [f"{_at(where, index)}: got {format_number(g[index])} where the expected value is {format_number(e[index])}"]
            if e.size > 1:
                lines.append(f"{int(nonfinite.sum())} of {e.size} entries are NaN or inf")
            lines.append("hint: typical causes are exp() overflowing (subtract the max first), log(0), 0/0")
            return Mismatch("nonfinite", where, lines)
        err = np.abs(g - e)
        tol = atol + rtol * np.abs(e)
        # an infinite expected entry makes the tolerance infinite: only the same inf matches it
        ok = ((err <= tol) & np.isfinite(e)) | same_special
        if ok.all():
            return None
        bad = ~ok
        flat = int(np.flatnonzero(bad)[0])
        index = tuple(int(i) for i in np.unravel_index(flat, e.shape))
        ev, gv = e[index], g[index]
        abs_err = float(np.abs(gv - ev)) if np.isfinite(ev) else math.inf
        detail = f"abs error {format_number(abs_err)}"
        if np.isfinite(ev) and ev != 0:
            detail += f", rel error {format_number(abs_err / float(np.abs(ev)))}"
        lines = [f"{_at(where, index)}: expected {format_number(ev, gv)}, got {format_number(gv, ev)} ({detail})"]
        if e.size > 1:
            errs = np.where(bad, np.nan_to_num(err, nan=np.inf), -1.0)
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errs)), e.shape))
            lines.append(
                f"{int(bad.sum())} of {e.size} entries differ by more than atol + rtol*|expected| "
                f"(atol={atol:g}, rtol={rtol:g}); the largest error is {format_number(float(errs[worst]))} "
                f"at {_index_text(worst)}"
            )
        return Mismatch("value", where, lines)


def _compare_tensors(e: torch.Tensor, g: torch.Tensor, where: str, atol: float, rtol: float, check_dtype: bool) -> Optional[Mismatch]:
    if g.layout != e.layout:
        layout = str(g.layout).replace("torch.", "")
        return Mismatch(
            "type",
            where,
            [
                f"{where}: expected a {str(e.layout).replace('torch.', '')} (dense) tensor, got a {layout} tensor",
                "hint: return a dense tensor (`t.to_dense()`), as the reference does",
            ],
        )
    if e.layout != torch.strided:
        e, g = e.to_dense(), g.to_dense()
    if tuple(g.shape) != tuple(e.shape):
        lines = [f"{where}: expected shape {tuple(e.shape)}, got {tuple(g.shape)}"]
        hint = _shape_hint(tuple(e.shape), tuple(g.shape))
        return Mismatch("shape", where, lines + ([hint] if hint else []))
    if check_dtype and g.dtype != e.dtype:
        hint = _dtype_hint(e.dtype, g.dtype)
        return Mismatch("dtype", where, [f"{where}: expected {e.dtype}, got {g.dtype}"] + ([hint] if hint else []))
    if g.device != e.device:
        return Mismatch(
            "device",
            where,
            [
                f"{where}: expected a tensor on {e.device}, got one on {g.device}",
                "hint: create new tensors on the input's device (device=x.device, torch.zeros_like(x), x.new_zeros(...))",
            ],
        )
    return _compare_arrays(_to_numpy(e), _to_numpy(g), where, atol, rtol)


def _compare_ndarrays(e: np.ndarray, g: np.ndarray, where: str, atol: float, rtol: float, check_dtype: bool) -> Optional[Mismatch]:
    if g.shape != e.shape:
        lines = [f"{where}: expected shape {e.shape}, got {g.shape}"]
        hint = _shape_hint(e.shape, g.shape)
        return Mismatch("shape", where, lines + ([hint] if hint else []))
    if check_dtype and g.dtype != e.dtype:
        hint = _dtype_hint(e.dtype, g.dtype)
        return Mismatch("dtype", where, [f"{where}: expected dtype {e.dtype}, got {g.dtype}"] + ([hint] if hint else []))
    if e.dtype.kind not in "biufc" or g.dtype.kind not in "biufc":
        if np.array_equal(e, g):
            return None
        return Mismatch("value", where, [f"{where}: expected {short_repr(e)}, got {short_repr(g)}"])
    return _compare_arrays(e, g, where, atol, rtol)


def _compare_numbers(e: Any, g: Any, where: str, atol: float, rtol: float, check_dtype: bool) -> Optional[Mismatch]:
    ke, kg = _number_kind(e), _number_kind(g)
    if check_dtype and ke != kg:
        allowed = (ke == "f" and kg in "iu") or (ke in "iu" and kg in "iu")
        if not allowed:
            return Mismatch("dtype", where, [f"{where}: expected {_KIND_WORD.get(ke, ke)}, got {_KIND_WORD.get(kg, kg)} ({format_number(g)})"])
    return _compare_arrays(np.asarray(e), np.asarray(g), where, atol, rtol)


def compare(
    expected: Any,
    got: Any,
    *,
    where: str = "result",
    atol: float = 1e-6,
    rtol: float = 1e-5,
    check_dtype: bool = True,
    skip_unknown: bool = False,
) -> Optional[Mismatch]:
    """Return the first difference between ``expected`` and ``got``, or ``None``.

    Parameters
    ----------
    expected, got : object
        Tensors (any device), arrays, numbers, tuples/lists, dicts, modules, ``None`` or
        other objects (compared with ``==``), nested arbitrarily.
    where : str
        Name of the top-level value in the messages.
    atol, rtol : float
        Entries agree when ``|got - expected| <= atol + rtol * |expected|``; NaN agrees with
        NaN and inf with the same inf. Integer and bool entries must be equal.
    check_dtype : bool
        Require equal dtypes (for Python numbers: an int is accepted where a float is
        expected, not the other way round).
    skip_unknown : bool
        Ignore objects of other types instead of comparing them with ``==`` (used to
        compare arguments after a call: a DataLoader or an optimizer is not compared).

    Returns
    -------
    Mismatch or None

    Examples
    --------
    >>> compare(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5])).lines[0]
    'result at index 1: expected 2, got 2.5 (abs error 0.5, rel error 0.25)'
    >>> compare((1.0, torch.ones(2)), (1.0, torch.ones(3))).kind
    'shape'
    >>> compare(0.5, 0.5) is None
    True
    """
    ce, cg = _category(expected), _category(got)
    if ce == "object" and skip_unknown:
        return None
    if ce != cg:
        lines = [f"{where}: expected {_kind_name(expected)}, got {_kind_name(got)}"]
        hint = _type_hint(expected, got)
        return Mismatch("type", where, lines + ([hint] if hint else []))
    if ce == "tensor":
        return _compare_tensors(expected, got, where, atol, rtol, check_dtype)
    if ce == "ndarray":
        return _compare_ndarrays(expected, got, where, atol, rtol, check_dtype)
    if ce == "number":
        return _compare_numbers(expected, got, where, atol, rtol, check_dtype)
    if ce == "none":
        return None
    if ce == "sequence":
        if len(expected) != len(got):
            return Mismatch(
                "length",
                where,
                [f"{where}: expected {len(expected)} item{'s' if len(expected) != 1 else ''}, got {len(got)}"],
            )
        for i, (e, g) in enumerate(zip(expected, got)):
            found = compare(e, g, where=f"{where}[{i}]", atol=atol, rtol=rtol, check_dtype=check_dtype, skip_unknown=skip_unknown)
            if found is not None:
                return found
        return None
    if ce in ("mapping", "module"):
        e_map = expected.state_dict() if ce == "module" else expected
        g_map = got.state_dict() if ce == "module" else got
        missing = [k for k in e_map if k not in g_map]
        extra = [k for k in g_map if k not in e_map]
        if missing or extra:
            lines = []
            if missing:
                lines.append(f"{where}: missing keys {missing}")
            if extra:
                lines.append(f"{where}: unexpected keys {extra}")
            return Mismatch("keys", where, lines)
        for k in e_map:
            sub = f"{where}.{k}" if ce == "module" else f"{where}[{k!r}]"
            found = compare(e_map[k], g_map[k], where=sub, atol=atol, rtol=rtol, check_dtype=check_dtype, skip_unknown=skip_unknown)
            if found is not None:
                return found
        return None
    # other objects: equality
    if type(expected) is not type(got):
        return Mismatch("type", where, [f"{where}: expected {_kind_name(expected)}, got {_kind_name(got)}"])
    try:
        equal = bool(expected == got)
    except Exception:  # noqa: BLE001 - an object whose == cannot give a bool
        equal = False
    if equal:
        return None
    return Mismatch("value", where, [f"{where}: expected {short_repr(expected)}, got {short_repr(got)}"])
