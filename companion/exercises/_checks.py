"""The checks of the exercise notebooks (re-exported by :mod:`companion.exercises`).

Every check treats the student's code as untrusted, and the inspection of what it returned
too:

* **One time limit for the whole check of an input.** The student's call and the
  inspection of its result (comparisons, ``len``, ``==``, ``bool``, a property function)
  run together in a worker thread under the check's ``timeout``
  (:func:`companion.exercises._timeout.call_with_timeout`), so a result whose ``__len__``
  loops forever gives a "timed out" verdict instead of a hung kernel. A grader may lower
  every limit with the environment variable ``COMPANION_CHECK_TIMEOUT`` (seconds).
* **Every exception is a verdict.** Whatever student code raises, ``KeyboardInterrupt``,
  ``GeneratorExit`` and other ``BaseException`` subclasses included, and whatever breaks the
  inspection of a result (a sparse tensor, an object whose ``__eq__`` raises), becomes an
  :class:`ExerciseFailure` with a one-line verdict.
* **Bounded output.** What student code prints during a check is captured; only the first
  :data:`MAX_OUTPUT_LINES` lines (at most :data:`MAX_OUTPUT_CHARS` characters) are shown,
  followed by a note saying how much was cut.
* **Bound names.** The checks live in this private module and use the names it imported
  when it was loaded; reassigning attributes of :mod:`companion.exercises` (``compare``,
  ``call_with_timeout`` ...) does not change what they do.

What self-checks cannot resist is code running in the same process on purpose (patching
this module, torch or builtins): they help honest students, and grading relies on hidden
tests run by nbgrader (see the instructor's page of the book).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import math
import os
import random
import re
import sys
import sysconfig
import traceback
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np
import torch

from companion.exercises._compare import Mismatch, compare, short_repr
from companion.exercises._timeout import CallTimedOut, call_with_timeout

__all__ = [
    "ExerciseFailure",
    "check_function",
    "check_gradient",
    "check_property",
    "check_true",
    "check_value",
    "MAX_OUTPUT_LINES",
    "MAX_OUTPUT_CHARS",
]

#: Lines of captured output of student code shown by a check; the rest is cut, with a note.
MAX_OUTPUT_LINES = 100
#: Characters of captured output shown by a check (a 20 MB line is cut too).
MAX_OUTPUT_CHARS = 20_000

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_DIRS = tuple(
    os.path.abspath(p)
    for p in {sysconfig.get_paths().get("stdlib", ""), sysconfig.get_paths().get("platstdlib", "")}
    if p
)

_HEADLINES = {
    "type": "wrong type of result",
    "length": "wrong number of results",
    "keys": "wrong keys",
    "shape": "wrong shape",
    "dtype": "wrong dtype",
    "device": "wrong device",
    "nonfinite": "NaN or inf produced",
    "value": "wrong value",
}


class ExerciseFailure(AssertionError):
    """A wrong answer: carries the verdict, shown in Jupyter without any traceback.

    Parameters
    ----------
    verdict : str
        The message shown to the student (first line: ``✗ name: what is wrong``).
    kind : str, optional
        Machine-readable fault: ``"type"``, ``"length"``, ``"keys"``, ``"shape"``,
        ``"dtype"``, ``"device"``, ``"nonfinite"``, ``"value"``, ``"gradient"``,
        ``"exception"``, ``"not_implemented"``, ``"timeout"``, ``"inplace"``,
        ``"argument"``, ``"property"``, ``"condition"``, ``"uninspectable"`` (the result broke
        its inspection), ``"interrupted"``.

    Examples
    --------
    >>> err = ExerciseFailure("✗ f: wrong value\\n  result: expected 1, got 2", kind="value")
    >>> isinstance(err, AssertionError), err.kind
    (True, 'value')
    >>> err._render_traceback_()[1]
    '  result: expected 1, got 2'
    """

    def __init__(self, verdict: str, kind: Optional[str] = None) -> None:
        super().__init__(verdict)
        self.verdict = verdict
        self.kind = kind

    def __str__(self) -> str:
        return self.verdict

    def _render_traceback_(self) -> list[str]:
        """IPython's hook: what a Jupyter cell shows instead of a traceback (the verdict)."""
        lines = self.verdict.splitlines() or [""]
        return [f"\x1b[1;31m{lines[0]}\x1b[0m"] + lines[1:]


# --------------------------------------------------------------------------- helpers


def _fail(name: str, headline: str, lines: Sequence[str], kind: str) -> "ExerciseFailure":
    head = f"✗ {name}: {headline}"
    return ExerciseFailure("\n".join([head] + [f"  {line}" for line in lines]), kind=kind)


def _name_of(name: Optional[str], *fns: Any) -> str:
    if name:
        return str(name)
    for fn in fns:
        n = getattr(fn, "__name__", None)
        if n and n != "<lambda>":
            return n
    return "your function"


def _check_tolerances(atol: float, rtol: float) -> None:
    for label, value in (("atol", atol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{label} must be a non-negative number, got {value!r}")


def _check_timeout(timeout: Optional[float]) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")


def _check_inputs(inputs: Any) -> list[tuple[Any, ...]]:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs must be a list of argument tuples, got {type(inputs).__name__}")
    if len(inputs) == 0:
        raise ValueError("inputs must hold at least one argument tuple, got an empty list")
    out = []
    for i, args in enumerate(inputs):
        if not isinstance(args, (tuple, list)):
            raise TypeError(
                f"inputs[{i}] must be a tuple of arguments, got {type(args).__name__}; "
                "write [(x,)] for a function of one argument"
            )
        out.append(tuple(args))
    return out


def _copy(args: tuple[Any, ...], i: int) -> tuple[Any, ...]:
    try:
        return copy.deepcopy(args)
    except Exception as err:  # noqa: BLE001 - instructor-side error, re-raised with context
        raise ValueError(f"inputs[{i}] cannot be deep-copied ({err}); pass leaf tensors (e.g. x.detach())") from err


def _param_names(fn: Any, n: int) -> list[str]:
    names: list[str] = []
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            break
    while len(names) < n:
        names.append(f"arg{len(names)}")
    return names[:n]


def _describe_args(names: Sequence[str], args: Sequence[Any]) -> str:
    return ", ".join(f"{k}={short_repr(v, 60)}" for k, v in zip(names, args))


def _is_library_file(filename: str) -> bool:
    path = os.path.abspath(filename)
    if path.startswith(_PACKAGE_DIR + os.sep):
        return True
    if "site-packages" in path or "dist-packages" in path:
        return True
    return any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS)


def _user_frame(tb: Any) -> Optional[traceback.FrameSummary]:
    frames = [f for f in traceback.extract_tb(tb) if not _is_library_file(f.filename)]
    return frames[-1] if frames else None


def _raised_in_user_code(tb: Any) -> bool:
    frames = traceback.extract_tb(tb)
    return bool(frames) and not _is_library_file(frames[-1].filename)


def _message_of(err: BaseException) -> str:
    text = str(err).strip()
    if len(text) > 300:
        text = text[:297] + "..."
    lines = text.splitlines()
    if len(lines) > 3:
        text = "\n".join(lines[:3]) + " ..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _location_lines(err: BaseException) -> list[str]:
    frame = _user_frame(err.__traceback__)
    if frame is None:
        return []
    line = (frame.line or "").strip()
    return [f"in {frame.name}, line {frame.lineno}" + (f": {line}" if line else "")]


@contextlib.contextmanager
def _seeded(seed: Optional[int]) -> Iterator[None]:
    """Seed Python, NumPy and torch for one call, then restore their previous states."""
    if seed is None:
        yield
        return
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


class _StudentRaised(Exception):
    """Internal: carries any exception (``BaseException`` included) raised by student code."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


def _call_student(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """Call student code; whatever it raises, except the time limit, comes back wrapped."""
    try:
        return fn(*args)
    except CallTimedOut:
        raise
    except BaseException as err:  # noqa: BLE001 - KeyboardInterrupt, GeneratorExit ... are verdicts too
        raise _StudentRaised(err) from None


class _LimitedOutput(io.TextIOBase):
    """A text stream that keeps the first ``max_lines`` lines (and ``max_chars`` characters)."""

    def __init__(self, max_lines: int, max_chars: int) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.max_chars = max_chars
        self.kept: list[str] = []
        self.kept_chars = 0
        self.lines_seen = 0
        self.chars_seen = 0
        self.cut = False

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        text = str(text)
        self.chars_seen += len(text)
        self.lines_seen += text.count("\n")
        if not self.cut:
            room = self.max_chars - self.kept_chars
            piece = text[:room]
            newlines = [m.end() for m in re.finditer("\n", piece)]
            allowed = self.max_lines - sum(s.count("\n") for s in self.kept)  # line ends still shown
            if len(newlines) >= allowed:
                end = newlines[allowed - 1] if allowed > 0 else 0
                if end < len(text):  # something after the last line shown: cut there
                    piece = piece[:end]
                    self.cut = True
            elif len(piece) < len(text):
                self.cut = True
            self.kept.append(piece)
            self.kept_chars += len(piece)
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.kept)


@contextlib.contextmanager
def _captured_output() -> Iterator[None]:
    """Capture what the student's code prints; replay at most ``MAX_OUTPUT_LINES`` lines."""
    streams = (sys.stdout, sys.stderr)
    captured = (_LimitedOutput(MAX_OUTPUT_LINES, MAX_OUTPUT_CHARS), _LimitedOutput(MAX_OUTPUT_LINES, MAX_OUTPUT_CHARS))
    sys.stdout, sys.stderr = captured
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams
        for real, kept in zip(streams, captured):
            text = kept.text()
            if kept.cut:
                text = text + ("" if text.endswith("\n") or not text else "\n") + (
                    f"[output cut: your code printed {kept.lines_seen} line{'s' if kept.lines_seen != 1 else ''} ({kept.chars_seen} characters); "
                    f"only the first {MAX_OUTPUT_LINES} lines or {MAX_OUTPUT_CHARS} characters are shown]\n"
                )
            if text:
                try:
                    real.write(text)
                    real.flush()
                except Exception:  # noqa: BLE001 - a closed stream must not hide the verdict
                    pass


def _timeout_limit(timeout: Optional[float]) -> Optional[float]:
    """``timeout``, lowered to ``$COMPANION_CHECK_TIMEOUT`` seconds when that is set (graders)."""
    cap_text = os.environ.get("COMPANION_CHECK_TIMEOUT", "").strip()
    if not cap_text:
        return timeout
    try:
        cap = float(cap_text)
    except ValueError:
        return timeout
    if not cap > 0 or math.isinf(cap) or math.isnan(cap):
        return timeout
    return cap if timeout is None else min(timeout, cap)


def _exception_failure(err: BaseException, name: str, context: list[str]) -> "ExerciseFailure":
    if isinstance(err, NotImplementedError) and _raised_in_user_code(err.__traceback__):
        detail = str(err).strip()
        return _fail(
            name,
            "not implemented yet",
            [
                "your code raised NotImplementedError" + (f" ({detail})" if detail else ""),
                "replace the lines `# YOUR CODE HERE` and `raise NotImplementedError` by your "
                "solution, run that cell, then run this check again",
            ]
            + _location_lines(err),
            "not_implemented",
        )
    return _fail(name, "your code raised an exception", context + [_message_of(err)] + _location_lines(err), "exception")


def _guarded(
    body: Callable[[], Any],
    *,
    name: str,
    timeout: Optional[float],
    input_line: Optional[str],
) -> Any:
    """Run ``body`` (a call of student code *and* the inspection of its result) as one check.

    The time limit covers all of ``body``; what student code prints is captured and cut
    after :data:`MAX_OUTPUT_LINES` lines; every exception raised by student code
    (``BaseException`` included) or by the inspection of its result becomes an
    :class:`ExerciseFailure`. An ``ExerciseFailure`` raised by ``body`` (a verdict of the
    check) passes through.
    """
    context = [input_line] if input_line else []
    limit = _timeout_limit(timeout)
    phase = {"now": "call"}

    def run() -> Any:
        return body(phase)

    try:
        with _captured_output():
            return call_with_timeout(run, (), limit)
    except CallTimedOut as err:
        if phase["now"] == "call":
            lines = [f"did not return within {limit:g} s: an endless loop, or far more work than needed?"]
        else:
            lines = [f"the check could not finish inspecting your result within {limit:g} s (does it override __len__, __eq__ or __bool__?)"]
        if err.still_running:
            lines.append("it could not be stopped and is still running: restart the kernel before going on")
        failure = _fail(name, "too slow: timed out", context + lines, "timeout")
    except ExerciseFailure:
        raise
    except _StudentRaised as wrapped:
        failure = _exception_failure(wrapped.error, name, context)
    except KeyboardInterrupt:
        failure = _fail(name, "interrupted", context + ["the check was stopped before it finished (the stop button, or a time limit of the grader)"], "interrupted")
    except BaseException as err:  # noqa: BLE001 - the result broke the inspection: a verdict
        failure = _fail(
            name,
            "wrong result",
            context + [f"the check could not inspect your result: {_message_of(err)}"],
            "uninspectable",
        )
    raise failure from None


def _call_reference(fn: Callable[..., Any], args: Sequence[Any], i: int, label: str) -> Any:
    try:
        return fn(*args)
    except Exception as err:
        raise ValueError(f"{label} raised {_message_of(err)} on inputs[{i}]; every input must be valid for it") from err


def _raise_mismatch(name: str, m: Mismatch, input_line: str, headline: Optional[str] = None, kind: Optional[str] = None) -> None:
    raise _fail(name, headline or _HEADLINES[m.kind], [input_line] + m.lines, kind or m.kind)


def _of(i: int, n: int) -> str:
    return f"input {i + 1} of {n}"


def _success(name: str, n: Optional[int] = None) -> None:
    if n is None:
        print(f"✓ {name}: correct")
    else:
        print(f"✓ {name}: correct on {n} input{'s' if n != 1 else ''}")


def _ensure_callable(fn: Any, name: str) -> None:
    if fn is Ellipsis or fn is NotImplemented:
        raise _fail(name, "not implemented yet", ["replace `...` by your solution"], "not_implemented")
    if not callable(fn):
        raise _fail(name, "wrong type of result", [f"expected a function, got {short_repr(fn)}"], "type")


# --------------------------------------------------------------------------- checks


def check_function(
    student_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    inputs: Sequence[Sequence[Any]],
    *,
    name: Optional[str] = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    timeout: Optional[float] = 10.0,
    check_dtype: bool = True,
    check_args: bool = True,
    seed: Optional[int] = 0,
) -> None:
    r"""Check ``student_fn`` against ``reference_fn`` on every argument tuple of ``inputs``.

    For each input, both functions are called on their own deep copies of the arguments
    (so a student's in-place change cannot corrupt the reference), with the same random
    seed. Results must agree in type, number of items, shape, dtype, device and value:

    .. math::

        |\text{got} - \text{expected}| \le \text{atol} + \text{rtol}\,|\text{expected}|

    entry by entry (NaN matches NaN, integers and bools must be equal). With
    ``check_args``, the arguments after the call must agree too: a function that should
    leave its inputs alone must not change them, and one that updates an argument in place
    (a model trained for an epoch) must update it like the reference does.

    Parameters
    ----------
    student_fn : callable
        The student's function.
    reference_fn : callable
        The reference implementation (trusted; it must not fail on any input).
    inputs : list of tuple
        Argument tuples; each is called as ``fn(*args)``. Include edge cases.
    name : str, optional
        Name in the verdict (default: the student's function's ``__name__``).
    atol, rtol : float
        Absolute and relative tolerance.
    timeout : float or None
        Seconds allowed for one call of the student's function (``None``: no limit).
    check_dtype : bool
        Require the reference's dtypes.
    check_args : bool
        Compare tensor/array/module/container arguments after the call.
    seed : int or None
        Seed of Python's, NumPy's and torch's generators before each call (their states
        are restored afterwards); ``None`` leaves them alone.

    Returns
    -------
    None
        Prints ``✓ name: correct on N inputs``.

    Raises
    ------
    ExerciseFailure
        On the first wrong result, with a verdict naming the fault.
    TypeError, ValueError
        If the check itself is misused (bad ``inputs``, tolerances or timeout, or a
        reference that fails on an input).

    Examples
    --------
    >>> def double(x):
    ...     return 2 * x
    >>> check_function(double, lambda x: x + x, [(torch.tensor([1.0, -2.0]),), (torch.zeros(0),)])
    ✓ double: correct on 2 inputs
    >>> def wrong(x):
    ...     return x * x
    >>> try:
    ...     check_function(wrong, double, [(torch.tensor([1.0, 3.0]),)], name="double")
    ... except ExerciseFailure as failure:
    ...     print(failure)
    ✗ double: wrong value
      input 1 of 1: x=tensor([1., 3.])
      result at index 0: expected 2, got 1 (abs error 1, rel error 0.5)
      2 of 2 entries differ by more than atol + rtol*|expected| (atol=1e-06, rtol=1e-05); the largest error is 3 at index 1
    """
    label = _name_of(name, student_fn, reference_fn)
    _ensure_callable(student_fn, label)
    _check_tolerances(atol, rtol)
    _check_timeout(timeout)
    cases = _check_inputs(inputs)
    n = len(cases)
    for i, args in enumerate(cases):
        names = _param_names(reference_fn, len(args))
        input_line = f"{_of(i, n)}: {_describe_args(names, args)}"
        original = _copy(args, i)
        ref_args = _copy(args, i)
        with _seeded(seed):
            expected = _call_reference(reference_fn, ref_args, i, "reference_fn")
        student_args = _copy(args, i)

        def body(phase: dict[str, str], student_args: tuple[Any, ...] = student_args, expected: Any = expected,
                 ref_args: tuple[Any, ...] = ref_args, original: tuple[Any, ...] = original,
                 names: list[str] = names, input_line: str = input_line) -> None:
            with _seeded(seed):
                got = _call_student(student_fn, student_args)
            phase["now"] = "inspect"
            m = compare(expected, got, atol=atol, rtol=rtol, check_dtype=check_dtype)
            if m is not None:
                _raise_mismatch(label, m, input_line)
            if not check_args:
                return
            for j, arg_name in enumerate(names):
                m = compare(ref_args[j], student_args[j], where=f"argument {arg_name}", atol=atol, rtol=rtol, check_dtype=check_dtype, skip_unknown=True)
                if m is None:
                    continue
                untouched = compare(original[j], ref_args[j], where=arg_name, atol=0.0, rtol=0.0, skip_unknown=True) is None
                if untouched:
                    raise _fail(
                        label,
                        "changed its input in place",
                        [input_line, f"your function modified argument {arg_name}, which must stay unchanged:"]
                        + m.lines
                        + ["hint: work on a copy: write `x = x - m` rather than `x -= m`, or start from x.clone()"],
                        "inplace",
                    )
                raise _fail(
                    label,
                    f"wrong argument {arg_name} after the call (it is updated in place)",
                    [input_line] + m.lines,
                    "argument",
                )

        _guarded(body, name=label, timeout=timeout, input_line=input_line)
    _success(label, n)


def check_gradient(
    student_grad_fn: Callable[..., Any],
    fn: Callable[..., Any],
    inputs: Sequence[Sequence[Any]],
    *,
    wrt: Union[int, Sequence[int]] = 0,
    name: Optional[str] = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    timeout: Optional[float] = 10.0,
    check_dtype: bool = True,
) -> None:
    r"""Check a hand-written gradient against ``torch.autograd``.

    ``fn(*args)`` must return a scalar tensor :math:`f`; ``student_grad_fn(*args)`` must
    return :math:`\partial f / \partial x_k` for ``k = wrt`` (one tensor of the argument's
    shape), or a tuple of gradients when ``wrt`` is a tuple of argument positions.

    Parameters
    ----------
    student_grad_fn : callable
        The student's gradient, called on plain (no ``requires_grad``) deep copies.
    fn : callable
        Scalar function of the same arguments; its autograd gradient is the reference.
    inputs : list of tuple
        Argument tuples. The arguments named by ``wrt`` must be floating-point tensors.
    wrt : int or tuple of int
        Position(s) of the argument(s) to differentiate with respect to.
    name : str, optional
        Name in the verdict (default: the student's function's ``__name__``).
    atol, rtol : float
        Tolerances, as in :func:`check_function`.
    timeout : float or None
        Seconds allowed for one call of ``student_grad_fn``.
    check_dtype : bool
        Require the argument's dtype for the gradient.

    Returns
    -------
    None
        Prints ``✓ name: correct on N inputs``.

    Raises
    ------
    ExerciseFailure
        On the first wrong gradient.
    TypeError, ValueError
        If ``wrt`` does not name floating-point tensor arguments, or ``fn`` does not return
        a scalar tensor.

    Examples
    --------
    >>> def square_sum(x):
    ...     return (x ** 2).sum()
    >>> def square_sum_grad(x):
    ...     return 2 * x
    >>> check_gradient(square_sum_grad, square_sum, [(torch.tensor([1.0, -3.0]),)])
    ✓ square_sum_grad: correct on 1 input
    >>> try:
    ...     check_gradient(lambda x: x, square_sum, [(torch.tensor([1.0, -3.0]),)], name="grad")
    ... except ExerciseFailure as failure:
    ...     print(failure.verdict.splitlines()[0])
    ✗ grad: wrong gradient
    """
    label = _name_of(name, student_grad_fn)
    _ensure_callable(student_grad_fn, label)
    _check_tolerances(atol, rtol)
    _check_timeout(timeout)
    cases = _check_inputs(inputs)
    single = isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool)
    try:
        positions = [int(wrt)] if single else list(wrt)  # type: ignore[arg-type]
    except TypeError:  # not iterable (True, 1.5 ...): refused below, naming wrt
        positions = []
    if not positions or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) for k in positions):
        raise TypeError(f"wrt must be an int or a non-empty tuple of ints, got {wrt!r}")
    n = len(cases)
    for i, args in enumerate(cases):
        names = _param_names(fn, len(args))
        for k in positions:
            if not -len(args) <= k < len(args):
                raise ValueError(f"wrt={k} is out of range for inputs[{i}], which has {len(args)} arguments")
            if not (isinstance(args[k], torch.Tensor) and args[k].dtype.is_floating_point):
                raise TypeError(f"wrt={k}: argument {names[k]} of inputs[{i}] must be a floating-point tensor, got {short_repr(args[k])}")
        input_line = f"{_of(i, n)}: {_describe_args(names, args)}"
        ref_args = list(_copy(args, i))
        leaves = []
        for k in positions:
            ref_args[k] = ref_args[k].detach().clone().requires_grad_(True)
            leaves.append(ref_args[k])
        value = _call_reference(fn, ref_args, i, "fn")
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise ValueError(f"fn must return a scalar tensor, got {short_repr(value)} on inputs[{i}]")
        if value.requires_grad:
            grads = torch.autograd.grad(value.reshape(()), leaves, allow_unused=True)
        else:  # fn does not depend on any of them: every gradient is zero
            grads = (None,) * len(leaves)
        expected = [torch.zeros_like(leaf) if g is None else g.detach() for g, leaf in zip(grads, leaves)]
        student_args = _copy(args, i)

        def body(phase: dict[str, str], student_args: tuple[Any, ...] = student_args, expected: list[torch.Tensor] = expected,
                 names: list[str] = names, input_line: str = input_line) -> None:
            got = _call_student(student_grad_fn, student_args)
            phase["now"] = "inspect"
            if single:
                pairs = [(expected[0], got, positions[0])]
            else:
                if not (isinstance(got, (tuple, list)) and len(got) == len(expected)):
                    m = compare(tuple(expected), got, where="result", check_dtype=check_dtype)
                    if m is not None:
                        _raise_mismatch(label, m, input_line)
                pairs = [(e, g, k) for e, g, k in zip(expected, got, positions)]
            for e, g, k in pairs:
                m = compare(e, g, where=f"gradient w.r.t. {names[k]}", atol=atol, rtol=rtol, check_dtype=check_dtype)
                if m is None:
                    continue
                if m.kind == "value":
                    _raise_mismatch(label, m, input_line, headline="wrong gradient", kind="gradient")
                _raise_mismatch(label, m, input_line)

        _guarded(body, name=label, timeout=timeout, input_line=input_line)
    _success(label, n)


def check_property(
    student_fn: Callable[..., Any],
    prop: Callable[..., Any],
    inputs: Sequence[Sequence[Any]],
    *,
    name: Optional[str] = None,
    timeout: Optional[float] = 10.0,
    seed: Optional[int] = 0,
) -> None:
    """Check that the student's result has a property, for answers that are not unique.

    ``prop(result, *args)`` inspects the student's result (with fresh copies of the
    arguments) using ``assert condition, "message"`` statements; a failed assertion becomes
    the verdict. Use it where many answers are right (a random split, a random
    initialization) and :func:`check_function` cannot compare with one reference value.

    Parameters
    ----------
    student_fn : callable
        The student's function.
    prop : callable
        ``prop(result, *args)``; raises ``AssertionError`` with a message when the result
        is wrong.
    inputs : list of tuple
        Argument tuples.
    name : str, optional
        Name in the verdict (default: the student's function's ``__name__``).
    timeout : float or None
        Seconds allowed for one call of the student's function.
    seed : int or None
        Seed of the generators before each call, as in :func:`check_function`.

    Returns
    -------
    None
        Prints ``✓ name: correct on N inputs``.

    Raises
    ------
    ExerciseFailure
        When ``prop`` fails (or cannot use the result), or the student's code fails.

    Examples
    --------
    >>> def is_permutation(result, n):
    ...     assert sorted(result.tolist()) == list(range(n)), "not a permutation of 0..n-1"
    >>> check_property(torch.randperm, is_permutation, [(5,), (1,)])
    ✓ randperm: correct on 2 inputs
    >>> try:
    ...     check_property(lambda n: torch.zeros(n, dtype=torch.long), is_permutation, [(3,)], name="shuffle")
    ... except ExerciseFailure as failure:
    ...     print(failure)
    ✗ shuffle: wrong result
      input 1 of 1: n=3
      not a permutation of 0..n-1
    """
    label = _name_of(name, student_fn)
    _ensure_callable(student_fn, label)
    _check_timeout(timeout)
    cases = _check_inputs(inputs)
    n = len(cases)
    for i, args in enumerate(cases):
        names = _param_names(student_fn, len(args))
        input_line = f"{_of(i, n)}: {_describe_args(names, args)}"
        student_args, prop_args = _copy(args, i), _copy(args, i)

        def body(phase: dict[str, str], student_args: tuple[Any, ...] = student_args, prop_args: tuple[Any, ...] = prop_args,
                 input_line: str = input_line) -> None:
            with _seeded(seed):
                got = _call_student(student_fn, student_args)
            phase["now"] = "inspect"
            try:
                prop(got, *prop_args)
            except AssertionError as err:
                message = str(err).strip()
                if not message:
                    frames = traceback.extract_tb(err.__traceback__)
                    line = (frames[-1].line or "").strip() if frames else ""
                    message = f"this condition does not hold: {line}" if line else "a condition of the check does not hold"
                raise _fail(label, "wrong result", [input_line] + message.splitlines(), "property") from None
            except Exception as err:  # noqa: BLE001 - the result is unusable: part of the verdict
                raise _fail(
                    label,
                    "wrong result",
                    [input_line, f"the check could not use your result {short_repr(got)}: {_message_of(err)}"],
                    "property",
                ) from None

        _guarded(body, name=label, timeout=timeout, input_line=input_line)
    _success(label, n)


def check_value(
    student_value: Any,
    expected: Any,
    *,
    name: str = "value",
    atol: float = 1e-6,
    rtol: float = 1e-5,
    check_dtype: bool = True,
    timeout: Optional[float] = 10.0,
) -> None:
    """Check a value the student computed (a number, a tensor, a tuple ...).

    Parameters
    ----------
    student_value : object
        The student's answer; ``...`` means "not answered yet".
    expected : object
        The right answer.
    name : str
        Name in the verdict.
    atol, rtol : float
        Tolerances, as in :func:`check_function`.
    check_dtype : bool
        Require the expected dtype (an int is accepted where a float is expected).
    timeout : float or None
        Seconds allowed for inspecting the value (an object whose ``__eq__`` or ``__len__``
        never returns gets a verdict instead of hanging the check).

    Returns
    -------
    None
        Prints ``✓ name: correct``.

    Raises
    ------
    ExerciseFailure
        When the value differs.

    Examples
    --------
    >>> check_value(0.5108, 0.51083, name="KL", atol=1e-3)
    ✓ KL: correct
    >>> try:
    ...     check_value(3, 4, name="answer")
    ... except ExerciseFailure as failure:
    ...     print(failure)
    ✗ answer: wrong value
      answer: expected 4, got 3 (abs error 1)
    """
    _check_tolerances(atol, rtol)
    _check_timeout(timeout)
    if student_value is Ellipsis or student_value is NotImplemented:
        raise _fail(name, "not implemented yet", [f"replace `...` by your value of {name}"], "not_implemented")

    def body(phase: dict[str, str]) -> None:
        phase["now"] = "inspect"
        m = compare(expected, student_value, where=name, atol=atol, rtol=rtol, check_dtype=check_dtype)
        if m is not None:
            raise _fail(name, _HEADLINES[m.kind], m.lines, m.kind)

    _guarded(body, name=name, timeout=timeout, input_line=None)
    _success(name)


def check_true(
    condition: Union[bool, Callable[[], Any]],
    message: str,
    *,
    name: str = "check",
    timeout: Optional[float] = 10.0,
) -> None:
    """Fail with ``message`` unless ``condition`` holds.

    ``condition`` may be a boolean (or a one-element tensor/array), or a function of no
    arguments that returns one: then a call into student code that raises or runs too long
    gives a verdict instead of a traceback.

    Parameters
    ----------
    condition : bool or callable
        What must be true.
    message : str
        The verdict when it is not (say what is wrong and, if you can, why).
    name : str
        Name in the verdict.
    timeout : float or None
        Seconds allowed when ``condition`` is callable.

    Returns
    -------
    None
        Prints ``✓ name: correct``.

    Raises
    ------
    ExerciseFailure
        When the condition is false.
    TypeError
        If ``message`` is not a string.

    Examples
    --------
    >>> check_true(2 + 2 == 4, "arithmetic is broken", name="sum")
    ✓ sum: correct
    >>> try:
    ...     check_true(lambda: 1 / 0 > 0, "must be positive", name="ratio")
    ... except ExerciseFailure as failure:
    ...     print(failure.verdict.splitlines()[:2])
    ['✗ ratio: your code raised an exception', '  ZeroDivisionError: division by zero']
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be a str, got {type(message).__name__}")
    _check_timeout(timeout)

    def body(phase: dict[str, str]) -> None:
        value = condition
        if callable(value) and not isinstance(value, (torch.Tensor, np.ndarray)):
            value = _call_student(value, ())
        phase["now"] = "inspect"
        try:
            holds = bool(value)
        except Exception as err:  # noqa: BLE001 - e.g. a tensor of several elements
            raise _fail(name, "not a yes/no answer", [f"{short_repr(value)} cannot be read as True/False: {_message_of(err)}"], "condition") from None
        if not holds:
            raise _fail(name, message, [], "condition")

    _guarded(body, name=name, timeout=timeout, input_line=None)
    _success(name)
