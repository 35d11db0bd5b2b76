"""The checks of companion.exercises against hostile student code (issue 14, item 3).

Each test provokes one way a student's code (or what it returns) used to hang, crash or
switch off a check, and asserts the verdict that replaces it.
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pytest
import torch

import companion.exercises as exercises
from companion.exercises import ExerciseFailure, check_function, check_gradient, check_property, check_true, check_value
from companion.exercises import _checks


def failure_of(call, *args, **kwargs) -> ExerciseFailure:
    with pytest.raises(ExerciseFailure) as info:
        call(*args, **kwargs)
    return info.value


def double(x: torch.Tensor) -> torch.Tensor:
    return 2 * x


class EndlessLength(tuple):
    """A tuple whose ``len`` never returns."""

    def __len__(self) -> int:
        while True:
            pass


class RaisingEquality:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison for you")

    __hash__ = object.__hash__


class EndlessTruth:
    def __bool__(self) -> bool:
        while True:
            pass


# ---------------------------------------------------------------- one time limit


def test_time_limit_covers_the_inspection_of_the_result():
    def returns_trap(x):
        return EndlessLength((x, x))

    start = time.monotonic()
    failure = failure_of(check_function, returns_trap, lambda x: (x, x), [(torch.ones(2),)], timeout=0.5)
    assert time.monotonic() - start < 5
    assert failure.kind == "timeout"
    assert "inspecting your result" in failure.verdict and "0.5 s" in failure.verdict


def test_time_limit_covers_bool_of_a_condition():
    start = time.monotonic()
    failure = failure_of(check_true, lambda: EndlessTruth(), "must hold", name="cond", timeout=0.5)
    assert time.monotonic() - start < 5
    assert failure.kind == "timeout" and failure.verdict.startswith("✗ cond: too slow")


def test_check_value_inspection_has_a_time_limit():
    failure = failure_of(check_value, EndlessLength((1, 2)), (1, 2), name="pair", timeout=0.5)
    assert failure.kind == "timeout"
    with pytest.raises(ValueError, match="timeout"):
        check_value(1, 1, timeout=0)


def test_time_limit_covers_a_property_that_inspects_the_result():
    def prop(result, x):
        assert len(result) == 2

    failure = failure_of(check_property, lambda x: EndlessLength((x, x)), prop, [(1,)], name="pair", timeout=0.5)
    assert failure.kind == "timeout" and "inspecting" in failure.verdict


def test_grader_can_lower_every_time_limit(monkeypatch):
    def spin(x):
        while True:
            pass

    monkeypatch.setenv("COMPANION_CHECK_TIMEOUT", "0.3")
    start = time.monotonic()
    failure = failure_of(check_function, spin, double, [(torch.ones(1),)], timeout=60.0)
    assert time.monotonic() - start < 5
    assert "within 0.3 s" in failure.verdict
    # a limit lower than the cap is kept; a broken value of the variable is ignored
    assert _checks._timeout_limit(0.1) == 0.1
    assert _checks._timeout_limit(None) == 0.3
    for broken in ("soon", "-1", "0", "inf", "nan"):
        monkeypatch.setenv("COMPANION_CHECK_TIMEOUT", broken)
        assert _checks._timeout_limit(7.0) == 7.0
    monkeypatch.delenv("COMPANION_CHECK_TIMEOUT")
    assert _checks._timeout_limit(7.0) == 7.0


# ---------------------------------------------------------------- every exception is a verdict


@pytest.mark.parametrize("error", [KeyboardInterrupt, GeneratorExit, SystemExit, BaseException, ExerciseFailure])
def test_any_exception_raised_by_student_code_is_a_verdict(error):
    def raises(x):
        raise error("from the student")

    failure = failure_of(check_function, raises, double, [(torch.ones(1),)], name="f")
    assert failure.kind == "exception"
    assert failure.verdict.startswith("✗ f: your code raised an exception")
    assert f"{error.__name__}: from the student" in failure.verdict


@pytest.mark.parametrize("error", [KeyboardInterrupt, GeneratorExit, BaseException])
def test_base_exceptions_are_verdicts_without_a_time_limit(error):
    def raises(x):
        raise error("no limit")

    failure = failure_of(check_function, raises, double, [(torch.ones(1),)], name="f", timeout=None)
    assert failure.kind == "exception" and error.__name__ in failure.verdict


def test_base_exceptions_in_gradient_property_and_condition_checks():
    def raises(*args):
        raise KeyboardInterrupt("stop")

    square = lambda x: (x**2).sum()  # noqa: E731
    assert failure_of(check_gradient, raises, square, [(torch.ones(2),)], name="g").kind == "exception"
    assert failure_of(check_property, raises, lambda r, x: None, [(1,)], name="p").kind == "exception"
    assert failure_of(check_true, raises, "must hold", name="c").kind == "exception"


def test_result_that_breaks_comparison_is_a_verdict():
    failure = failure_of(check_value, RaisingEquality(), RaisingEquality(), name="thing")
    # same type: compared with ==, which raises inside the comparison -> treated as unequal
    assert failure.kind == "value"


def test_result_whose_len_raises_is_a_verdict():
    class BadLength(tuple):
        def __len__(self) -> int:
            raise RuntimeError("length is a secret")

    failure = failure_of(check_function, lambda x: BadLength((x,)), lambda x: (x,), [(torch.ones(1),)], name="f")
    assert failure.kind == "uninspectable"
    assert "could not inspect your result: RuntimeError: length is a secret" in failure.verdict


def test_user_interrupt_while_waiting_becomes_a_verdict(monkeypatch):
    def interrupted(fn, args, timeout):
        raise KeyboardInterrupt

    monkeypatch.setattr(_checks, "call_with_timeout", interrupted)
    failure = failure_of(check_function, double, double, [(torch.ones(1),)], name="f")
    assert failure.kind == "interrupted" and "stopped before it finished" in failure.verdict


# ---------------------------------------------------------------- sparse, numpy, numbers


def test_sparse_result_gets_a_verdict():
    failure = failure_of(check_function, lambda x: x.to_sparse(), double, [(torch.ones(3),)], name="f")
    assert failure.kind == "type"
    assert "sparse_coo tensor" in failure.verdict and "to_dense" in failure.verdict


def test_sparse_results_of_sparse_references_are_compared_densely():
    sparse_double = lambda x: (2 * x).to_sparse()  # noqa: E731
    check_function(sparse_double, sparse_double, [(torch.tensor([1.0, 0.0]),)], name="f")
    failure = failure_of(check_function, lambda x: x.to_sparse(), sparse_double, [(torch.tensor([1.0, 0.0]),)], name="f")
    assert failure.kind == "value"


def test_sparse_gradient_gets_a_verdict():
    failure = failure_of(check_gradient, lambda x: (2 * x).to_sparse(), lambda x: (x**2).sum(), [(torch.ones(2),)], name="g")
    assert failure.kind == "type" and "sparse" in failure.verdict


@pytest.mark.parametrize(
    "returned, word",
    [(np.ones(2), "numpy.ndarray"), (2.0, "float"), (3, "int"), (np.float64(2.0), "numpy float64")],
)
def test_numpy_and_python_numbers_where_a_tensor_is_expected(returned, word):
    failure = failure_of(check_function, lambda x: returned, double, [(torch.ones(2),)], name="f")
    assert failure.kind == "type" and word in failure.verdict


def test_numpy_gradient_gets_a_verdict():
    failure = failure_of(check_gradient, lambda x: (2 * x).numpy(), lambda x: (x**2).sum(), [(torch.ones(2),)], name="g")
    assert failure.kind == "type" and "torch.from_numpy" in failure.verdict


def test_numpy_condition_of_several_values_is_a_verdict():
    failure = failure_of(check_true, np.ones(3), "must hold", name="c")
    assert failure.kind == "condition" and "cannot be read as True/False" in failure.verdict


# ---------------------------------------------------------------- bounded output


def test_output_of_student_code_is_cut_after_100_lines(capsys):
    def chatty(x):
        for i in range(1000):
            print(f"line {i}")
        return 2 * x

    check_function(chatty, double, [(torch.ones(1),)], name="f")
    out = capsys.readouterr().out
    assert "line 99\n" in out and "line 100\n" not in out
    assert "[output cut: your code printed 1000 lines" in out
    assert out.rstrip().endswith("✓ f: correct on 1 input")
    assert len(out.splitlines()) <= _checks.MAX_OUTPUT_LINES + 3


def test_a_huge_single_line_is_cut(capsys):
    def flood(x):
        print("x" * 20_000_000)
        return 2 * x

    check_function(flood, double, [(torch.ones(1),)], name="f")
    out = capsys.readouterr().out
    assert len(out) < _checks.MAX_OUTPUT_CHARS + 1000
    assert "20000001 characters" in out


def test_stderr_of_student_code_is_cut_too(capsys):
    def noisy(x):
        for i in range(500):
            print(i, file=sys.stderr)
        return 2 * x

    check_function(noisy, double, [(torch.ones(1),)], name="f")
    err = capsys.readouterr().err
    assert "[output cut: your code printed 500 lines" in err and len(err.splitlines()) <= _checks.MAX_OUTPUT_LINES + 2


def test_short_output_is_shown_unchanged(capsys):
    def polite(x):
        print("hello")
        return 2 * x

    check_function(polite, double, [(torch.ones(1),)], name="f")
    assert capsys.readouterr().out == "hello\n✓ f: correct on 1 input\n"


def test_limited_output_stream_counts_everything():
    stream = _checks._LimitedOutput(max_lines=2, max_chars=100)
    assert stream.writable()
    assert stream.write("a\nb\nc\nd\n") == 8
    assert stream.text() == "a\nb\n" and stream.cut and stream.lines_seen == 4
    stream.write(12345)
    assert stream.chars_seen == 13 and stream.text() == "a\nb\n"
    long = _checks._LimitedOutput(max_lines=100, max_chars=5)
    long.write("abcdefgh")
    assert long.text() == "abcde" and long.cut


def test_output_goes_back_to_the_real_streams_even_when_the_check_fails(capsys):
    real = sys.stdout
    failure_of(check_function, lambda x: print("tried") or x, double, [(torch.ones(1),)], name="f")
    assert sys.stdout is real
    assert capsys.readouterr().out == "tried\n"


# ---------------------------------------------------------------- bound names


@pytest.mark.parametrize("attribute", ["compare", "call_with_timeout", "short_repr", "Mismatch", "CallTimedOut"])
def test_reassigning_module_attributes_cannot_switch_the_checks_off(monkeypatch, attribute):
    monkeypatch.setattr(exercises, attribute, lambda *args, **kwargs: None)
    failure = failure_of(check_function, lambda x: 3 * x, double, [(torch.ones(2),)], name="f")
    assert failure.kind == "value"
    failure = failure_of(check_value, 3, 4, name="v")
    assert failure.kind == "value"


def test_public_names_are_the_bound_implementations():
    assert exercises.check_function is _checks.check_function
    assert exercises.ExerciseFailure is _checks.ExerciseFailure
    assert set(exercises.__all__) == {"ExerciseFailure", "check_function", "check_gradient", "check_property", "check_true", "check_value"}


def test_stdout_replaced_by_an_unwritable_stream_does_not_hide_the_verdict(monkeypatch):
    class Closed(io.StringIO):
        def write(self, text):
            raise ValueError("closed")

    monkeypatch.setattr(sys, "stdout", Closed())
    failure = failure_of(check_function, lambda x: print("x") or x, double, [(torch.ones(1),)], name="f")
    assert failure.kind == "value"
