"""Tests of companion.exercises: every verdict of the checks, and the student release.

Each failure mode is provoked by a deliberately wrong "student" function and its verdict
text is asserted; the release transform is tested on synthetic notebooks.
"""

from __future__ import annotations

import json
import linecache
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from companion.exercises import (
    ExerciseFailure,
    check_function,
    check_gradient,
    check_property,
    check_true,
    check_value,
)
from companion.exercises._compare import compare, format_number, short_repr
from companion.exercises._timeout import CallTimedOut, call_with_timeout
from companion.exercises.release import (
    find_exercise_notebooks,
    release,
    release_notebook,
    release_notebook_file,
    remove_solution_directives,
    stub_solutions,
)
from companion.exercises.student_book import prepare, student_config
from strategies import tensors

ROOT = Path(__file__).resolve().parents[1]


def softmax(z: torch.Tensor) -> torch.Tensor:
    return torch.softmax(z, dim=-1)


def spin() -> None:
    while True:
        pass


def failure_of(call, *args, **kwargs) -> ExerciseFailure:
    with pytest.raises(ExerciseFailure) as info:
        call(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- success


def test_success_prints_one_line(capsys, device):
    z = torch.randn(3, 4, device=device)
    check_function(softmax, softmax, [(z,), (z.double(),), (torch.zeros(1, 2, device=device),)])
    assert capsys.readouterr().out == "✓ softmax: correct on 3 inputs\n"


def test_success_singular_and_name(capsys):
    check_function(lambda x: x, lambda x: x, [(1.0,)], name="identity")
    assert capsys.readouterr().out == "✓ identity: correct on 1 input\n"


def test_name_defaults_to_reference_for_lambdas(capsys):
    check_function(lambda z: torch.softmax(z, -1), softmax, [(torch.ones(2),)])
    assert capsys.readouterr().out.startswith("✓ softmax:")


@given(z=tensors((3, 5)))
def test_matching_functions_pass_on_hypothesis_inputs(z):
    check_function(lambda t: torch.log_softmax(t, -1), lambda t: torch.softmax(t, -1).log(), [(z,)], atol=1e-5, rtol=1e-4)


def test_accepts_numpy_numbers_and_containers(capsys):
    ref = lambda a: (a.sum(), {"mean": float(a.mean()), "rows": [a[0], a[1]]})  # noqa: E731
    check_function(lambda a: (a.sum(), {"mean": a.mean().item(), "rows": [a[0], a[1]]}), ref, [(np.arange(6.0).reshape(2, 3),)], name="np")
    assert "✓ np: correct on 1 input" in capsys.readouterr().out


# --------------------------------------------------------------------------- failure modes


def test_wrong_type_tensor_instead_of_number():
    err = failure_of(check_function, lambda x: x.sum(), lambda x: float(x.sum()), [(torch.ones(3),)], name="total")
    assert err.kind == "type"
    with pytest.raises(ExerciseFailure, match=r"(?s)✗ total: wrong type of result.*expected a float, got a torch.Tensor.*\.item\(\)"):
        raise err


def test_wrong_type_missing_return():
    def forgot(x):
        x + 1

    with pytest.raises(ExerciseFailure, match=r"(?s)wrong type of result.*got None.*forget the `return`"):
        check_function(forgot, lambda x: x + 1, [(torch.ones(2),)])


def test_wrong_type_numpy_instead_of_tensor():
    with pytest.raises(ExerciseFailure, match=r"(?s)expected a torch.Tensor, got a numpy.ndarray.*torch.from_numpy"):
        check_function(lambda x: x.numpy() * 2, lambda x: x * 2, [(torch.ones(2),)])


def test_wrong_number_of_results():
    with pytest.raises(ExerciseFailure, match=r"(?s)wrong number of results.*result: expected 2 items, got 3"):
        check_function(lambda x: (x, x, x), lambda x: (x, x), [(torch.ones(2),)], name="pair")


def test_wrong_shape_with_hint():
    err = failure_of(check_function, lambda x: x.sum(1, keepdim=True), lambda x: x.sum(1), [(torch.ones(3, 2),)], name="rowsum")
    assert err.kind == "shape"
    text = str(err)
    assert text.startswith("✗ rowsum: wrong shape\n")
    assert "input 1 of 1: x=tensor([[1., 1.], [1., 1.], [1., 1.]])" in text
    assert "result: expected shape (3,), got (3, 1)" in text
    assert "keepdim=False" in text


def test_wrong_shape_transposed_hint():
    with pytest.raises(ExerciseFailure, match=r"(?s)expected shape \(2, 3\), got \(3, 2\).*transposed"):
        check_function(lambda x: x.T, lambda x: x, [(torch.ones(2, 3),)])


def test_wrong_dtype_and_switch():
    student = lambda x: torch.zeros(x.shape) + x.float()  # noqa: E731 - float32 from float64 input
    with pytest.raises(ExerciseFailure, match=r"(?s)✗ f: wrong dtype.*expected torch.float64, got torch.float32.*dtype=x.dtype"):
        check_function(student, lambda x: x.clone(), [(torch.ones(2, dtype=torch.float64),)], name="f")
    check_function(student, lambda x: x.clone(), [(torch.ones(2, dtype=torch.float64),)], check_dtype=False)


def test_wrong_dtype_of_python_number():
    with pytest.raises(ExerciseFailure, match=r"wrong dtype(?s:.*)expected an int, got a float"):
        check_function(lambda n: n / 1, lambda n: n, [(3,)], name="count")
    check_function(lambda n: int(n), lambda n: float(n), [(3,)], name="count")  # an int is a fine float


def test_wrong_device():
    m = compare(torch.zeros(2), torch.zeros(2, device="meta"))
    assert m is not None and m.kind == "device"
    assert "expected a tensor on cpu, got one on meta" in m.lines[0]


def test_wrong_value_says_where_and_by_how_much():
    err = failure_of(
        check_function,
        lambda x: x * torch.tensor([1.0, 1.0, 1.1]),
        lambda x: x,
        [(torch.ones(2, 3),), (torch.tensor([[1.0, 2.0, 10.0]]),)],
        name="scale",
    )
    assert err.kind == "value"
    lines = str(err).splitlines()
    assert lines[0] == "✗ scale: wrong value"
    assert lines[1] == "  input 1 of 2: x=tensor([[1., 1., 1.], [1., 1., 1.]])"
    assert lines[2] == "  result at index (0, 2): expected 1, got 1.1 (abs error 0.1, rel error 0.1)"
    assert lines[3].startswith("  2 of 6 entries differ by more than atol + rtol*|expected| (atol=1e-06, rtol=1e-05)")


def test_value_within_tolerance_passes_and_outside_fails():
    ref = lambda x: x  # noqa: E731
    check_function(lambda x: x + 5e-7, ref, [(torch.zeros(3, dtype=torch.float64),)])
    with pytest.raises(ExerciseFailure, match="abs error 2e-06"):
        check_function(lambda x: x + 2e-6, ref, [(torch.zeros(3, dtype=torch.float64),)])
    check_function(lambda x: x + 2e-6, ref, [(torch.zeros(3, dtype=torch.float64),)], atol=1e-5)


def test_wrong_value_in_nested_result_and_integers():
    with pytest.raises(ExerciseFailure, match=r"result\[1\] at index 2: expected 3, got 4 \(abs error 1\)"):
        check_function(lambda x: (x, x + torch.tensor([0, 0, 1])), lambda x: (x, x), [(torch.tensor([1, 2, 3]),)])


def test_wrong_value_of_a_plain_object():
    with pytest.raises(ExerciseFailure, match=r"result: expected 'abc', got 'abd'"):
        check_function(lambda s: s[:2] + "d", lambda s: s, [("abc",)])


def test_nan_or_inf_produced():
    def naive_softmax(z):
        e = torch.exp(z)
        return e / e.sum(dim=-1, keepdim=True)

    err = failure_of(check_function, naive_softmax, softmax, [(torch.tensor([1.0, 2.0]),), (torch.tensor([1000.0, 0.0]),)])
    assert err.kind == "nonfinite"
    text = str(err)
    assert text.startswith("✗ naive_softmax: NaN or inf produced\n")
    assert "input 2 of 2: z=tensor([1000., 0.])" in text
    assert "result at index 0: got nan where the expected value is 1" in text
    assert "subtract the max" in text


def test_nan_and_inf_that_are_expected_match():
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    check_function(lambda t: t.clone(), lambda t: t, [(x,)])
    with pytest.raises(ExerciseFailure, match="expected nan, got 0"):
        check_function(lambda t: torch.nan_to_num(t, nan=0.0, posinf=math.inf, neginf=-math.inf), lambda t: t, [(x,)])


def test_exception_in_student_code_names_type_message_and_line():
    def divide(x):
        y = x.sum()
        return y / 0 if isinstance(y, int) else 1 / int(y - y)

    err = failure_of(check_function, divide, lambda x: x, [(torch.ones(2),)])
    assert err.kind == "exception"
    text = str(err)
    assert text.startswith("✗ divide: your code raised an exception\n")
    assert "ZeroDivisionError: division by zero" in text
    assert "in divide, line " in text and "return y / 0 if isinstance(y, int) else 1 / int(y - y)" in text
    assert "Traceback" not in text


def test_exception_raised_inside_torch_keeps_message():
    with pytest.raises(ExerciseFailure, match=r"(?s)your code raised an exception.*RuntimeError: mat1 and mat2 shapes cannot be multiplied"):
        check_function(lambda a: a @ a, lambda a: a @ a.T, [(torch.ones(2, 3),)], name="gram")


def test_not_implemented_stub():
    def softmax_stub(z):
        # YOUR CODE HERE
        raise NotImplementedError

    err = failure_of(check_function, softmax_stub, softmax, [(torch.ones(2),)])
    assert err.kind == "not_implemented"
    assert str(err).startswith("✗ softmax_stub: not implemented yet\n")
    assert "replace the lines `# YOUR CODE HERE` and `raise NotImplementedError`" in str(err)


def test_not_implemented_from_a_library_is_an_ordinary_exception():
    module = torch.nn.Module()  # no forward: torch raises NotImplementedError in its own code
    with pytest.raises(ExerciseFailure, match=r"(?s)your code raised an exception.*NotImplementedError: .*forward"):
        check_function(lambda x: module(x), lambda x: x, [(torch.ones(1),)])


def test_timeout_endless_loop():
    def endless(x):
        while True:
            x = x + 1

    start = time.monotonic()
    err = failure_of(check_function, endless, lambda x: x, [(0,)], timeout=0.3)
    assert time.monotonic() - start < 5
    assert err.kind == "timeout"
    assert str(err).startswith("✗ endless: too slow: timed out\n")
    assert "did not return within 0.3 s" in str(err)
    assert "still running" not in str(err)


def test_timeout_returns_even_when_student_code_swallows_the_stop():
    stop = threading.Event()

    def stubborn(x):
        while not stop.is_set():
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: BLE001 - what a careless student might write
                pass

    try:
        with pytest.raises(ExerciseFailure, match=r"(?s)timed out.*still running: restart the kernel"):
            check_function(stubborn, lambda x: x, [(0,)], timeout=0.2)
    finally:
        stop.set()


def test_timeout_none_means_no_limit_and_bad_timeout_is_refused():
    check_function(lambda x: x, lambda x: x, [(1,)], timeout=None)
    with pytest.raises(ValueError, match="timeout"):
        check_function(lambda x: x, lambda x: x, [(1,)], timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        call_with_timeout(sum, ([1],), timeout=-1.0)


def test_call_with_timeout_returns_raises_and_keeps_grad_mode():
    assert call_with_timeout(lambda a, b: a + b, (1, 2), timeout=1.0) == 3
    with pytest.raises(KeyError, match="k"):
        call_with_timeout(lambda: {}["k"], timeout=1.0)
    with torch.no_grad():
        assert call_with_timeout(torch.is_grad_enabled, timeout=1.0) is False
    assert call_with_timeout(torch.is_grad_enabled, timeout=1.0) is True
    with pytest.raises(CallTimedOut):
        call_with_timeout(spin, timeout=0.05)


def test_check_from_another_thread_times_out_too():
    box = {}

    def run():
        try:
            check_function(lambda x: spin(), lambda x: x, [(1,)], timeout=0.2, name="slow")
        except ExerciseFailure as err:
            box["err"] = err

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert "timed out" in str(box["err"])


def test_inputs_are_deep_copied():
    x = torch.tensor([1.0, 2.0])
    seen = []

    def mutating(t):
        seen.append(t)
        out = softmax(t.clone())
        t.mul_(100)
        return out

    with pytest.raises(ExerciseFailure, match=r"(?s)changed its input in place.*argument z at index 0: expected 1, got 100.*x.clone\(\)"):
        check_function(mutating, softmax, [(x,)], name="softmax")
    assert torch.equal(x, torch.tensor([1.0, 2.0]))  # the caller's tensor is untouched
    assert seen[0] is not x
    # the reference sees pristine inputs even when the student's call came first on a shared object
    check_function(lambda t: t.clone(), lambda t: t.clone(), [(x,), (x,)])


def test_argument_updated_in_place_must_match():
    def ref_add_(x):
        x.add_(1)

    def student_add_(x):
        x = x + 1  # rebinding: the caller's tensor is not changed

    err = failure_of(check_function, student_add_, ref_add_, [(torch.zeros(2),)])
    assert err.kind == "argument"
    assert "wrong argument x after the call (it is updated in place)" in str(err)
    def student_ok(x):
        x += 1  # in place on a tensor

    check_function(student_ok, ref_add_, [(torch.zeros(2),)])
    check_function(student_add_, ref_add_, [(torch.zeros(2),)], check_args=False)


def train_one_epoch(model, loader, loss_fn, optimizer):
    """A right answer to chapter 0's training exercise (the test's own reference)."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


def test_model_state_after_the_call_is_compared():
    def forgot_step(model, loader, loss_fn, optimizer):
        model.train()
        total, n = 0.0, 0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            total += loss.item() * len(x)
            n += len(x)
        return total / n

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    data = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))]
    args = (model, data, torch.nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ExerciseFailure, match=r"(?s)wrong argument model after the call.*argument model.weight at index"):
        check_function(forgot_step, train_one_epoch, [args])
    check_function(train_one_epoch, train_one_epoch, [args])


def test_seed_makes_random_answers_comparable_and_state_is_restored():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    check_function(lambda n: torch.rand(n), lambda n: torch.rand(n), [(4,), (2,)], name="rand")
    assert torch.equal(torch.rand(3), expected_next)
    with pytest.raises(ExerciseFailure, match="wrong value"):
        check_function(lambda n: torch.rand(n), lambda n: torch.rand(n), [(4,)], seed=None)


# --------------------------------------------------------------------------- gradients


def cube_sum(x: torch.Tensor) -> torch.Tensor:
    return (x**3).sum()


def test_gradient_right_and_wrong(capsys, device):
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, device=device)
    check_gradient(lambda t: 3 * t**2, cube_sum, [(x,), (x.float(),)], name="cube_grad")
    assert capsys.readouterr().out == "✓ cube_grad: correct on 2 inputs\n"
    err = failure_of(check_gradient, lambda t: 2 * t**2, cube_sum, [(x,)], name="cube_grad")
    assert err.kind == "gradient"
    text = str(err)
    assert text.startswith("✗ cube_grad: wrong gradient\n")
    assert "gradient w.r.t. x at index 0: expected 3, got 2 (abs error 1, rel error 0.333333)" in text


def test_gradient_shape_and_nonfinite():
    x = torch.ones(2, 3)
    with pytest.raises(ExerciseFailure, match=r"(?s)wrong shape.*gradient w.r.t. x: expected shape \(2, 3\), got \(3, 2\)"):
        check_gradient(lambda t: 3 * t.T**2, cube_sum, [(x,)])
    with pytest.raises(ExerciseFailure, match=r"NaN or inf produced"):
        check_gradient(lambda t: 3 * t**2 / (t - 1), cube_sum, [(x,)])


def test_gradient_with_respect_to_several_arguments():
    def loss(w, x):
        return ((x @ w) ** 2).sum()

    def grads(w, x):
        r = 2 * (x @ w)
        return x.T @ r, r @ w.T

    w, x = torch.randn(3, 2, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    check_gradient(grads, loss, [(w, x)], wrt=(0, 1))
    check_gradient(lambda w, x: grads(w, x)[1], loss, [(w, x)], wrt=1)
    with pytest.raises(ExerciseFailure, match=r"(?s)wrong gradient.*gradient w.r.t. x at index"):
        check_gradient(lambda w, x: (grads(w, x)[0], 2 * grads(w, x)[1]), loss, [(w, x)], wrt=(0, 1), name="g")
    with pytest.raises(ExerciseFailure, match=r"wrong type of result"):
        check_gradient(lambda w, x: grads(w, x)[0], loss, [(w, x)], wrt=(0, 1))


def test_gradient_misuse_is_refused():
    with pytest.raises(ValueError, match="scalar"):
        check_gradient(lambda t: t, lambda t: t * 2, [(torch.ones(2),)])
    with pytest.raises(TypeError, match="wrt"):
        check_gradient(lambda t: t, cube_sum, [(torch.ones(2, dtype=torch.long),)])
    with pytest.raises(TypeError, match="wrt"):
        check_gradient(lambda t: t, cube_sum, [(torch.ones(2),)], wrt="x")
    with pytest.raises(ValueError, match="wrt=3"):
        check_gradient(lambda t: t, cube_sum, [(torch.ones(2),)], wrt=3)


# --------------------------------------------------------------------------- values, conditions, properties


def test_check_value(capsys):
    check_value(0.5108, 0.51083, name="KL", atol=1e-3)
    assert capsys.readouterr().out == "✓ KL: correct\n"
    with pytest.raises(ExerciseFailure, match=r"✗ KL: wrong value\n  KL: expected 0.51083, got 0.6"):
        check_value(0.6, 0.51083, name="KL")
    with pytest.raises(ExerciseFailure, match="not implemented yet"):
        check_value(..., 3, name="answer")
    with pytest.raises(ExerciseFailure, match="wrong shape"):
        check_value(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="atol"):
        check_value(1.0, 1.0, atol=-1)


def test_check_true(capsys):
    check_true(True, "never shown", name="fact")
    assert capsys.readouterr().out == "✓ fact: correct\n"
    with pytest.raises(ExerciseFailure, match=r"^✗ check: the loss must decrease$"):
        check_true(False, "the loss must decrease")
    with pytest.raises(ExerciseFailure, match=r"✗ ratio: your code raised an exception\n  ZeroDivisionError"):
        check_true(lambda: 1 / 0 > 0, "must be positive", name="ratio")

    def stub():
        raise NotImplementedError

    with pytest.raises(ExerciseFailure, match="not implemented yet"):
        check_true(lambda: stub() > 0, "must be positive")
    with pytest.raises(ExerciseFailure, match="timed out"):
        check_true(spin, "fast", timeout=0.1)
    with pytest.raises(ExerciseFailure, match="not a yes/no answer"):
        check_true(torch.ones(3), "all positive")
    check_true(torch.tensor(True), "a one-element tensor is a bool")
    with pytest.raises(TypeError, match="message"):
        check_true(True, 3)  # type: ignore[arg-type]


def test_check_property(capsys):
    def sorted_prop(result, xs):
        assert result == sorted(xs), f"expected the sorted list, got {result}"

    check_property(sorted, sorted_prop, [([3, 1, 2],), ([],)])
    assert capsys.readouterr().out == "✓ sorted: correct on 2 inputs\n"
    with pytest.raises(ExerciseFailure, match=r"(?s)✗ my_sort: wrong result\n  input 1 of 1: xs=\[3, 1, 2\]\n  expected the sorted list, got \[3, 1, 2\]"):
        check_property(lambda xs: list(xs), sorted_prop, [([3, 1, 2],)], name="my_sort")

    # a cell's code as IPython runs it: compiled from a string registered in linecache,
    # so that pytest does not rewrite the bare assert
    source = "def bare(result, n):\n    assert result > n\n"
    linecache.cache["<cell-7>"] = (len(source), None, source.splitlines(keepends=True), "<cell-7>")
    namespace: dict = {}
    exec(compile(source, "<cell-7>", "exec"), namespace)
    bare = namespace["bare"]

    with pytest.raises(ExerciseFailure, match=r"this condition does not hold: assert result > n"):
        check_property(lambda n: n, bare, [(1,)])
    with pytest.raises(ExerciseFailure, match=r"the check could not use your result None: AttributeError"):
        check_property(lambda n: None, lambda r, n: r.numel(), [(1,)])


def test_no_reference_solutions_ship_in_the_package():
    import companion.exercises as package

    folder = Path(package.__file__).parent
    assert not (folder / "reference.py").exists()
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "def accuracy(" not in text and "def train_one_epoch(" not in text, path


# --------------------------------------------------------------------------- misuse, rendering


def test_misuse_of_check_function_is_refused():
    with pytest.raises(TypeError, match="inputs"):
        check_function(softmax, softmax, torch.ones(2))
    with pytest.raises(ValueError, match="inputs"):
        check_function(softmax, softmax, [])
    with pytest.raises(TypeError, match=r"inputs\[0\]"):
        check_function(softmax, softmax, [torch.ones(2)])
    with pytest.raises(ValueError, match="atol"):
        check_function(softmax, softmax, [(torch.ones(2),)], atol=-1e-6)
    with pytest.raises(ValueError, match="rtol"):
        check_function(softmax, softmax, [(torch.ones(2),)], rtol="1")
    with pytest.raises(ValueError, match="reference_fn raised ZeroDivisionError"):
        check_function(softmax, lambda z: 1 / 0, [(torch.ones(2),)])
    x = torch.ones(2, requires_grad=True) * 2  # a non-leaf tensor cannot be deep-copied
    with pytest.raises(ValueError, match=r"inputs\[0\] cannot be deep-copied"):
        check_function(softmax, softmax, [(x,)])
    with pytest.raises(ExerciseFailure, match="expected a function, got 3"):
        check_function(3, softmax, [(torch.ones(2),)])
    with pytest.raises(ExerciseFailure, match="not implemented yet"):
        check_function(..., softmax, [(torch.ones(2),)])


def test_render_traceback_shows_only_the_verdict():
    err = failure_of(check_value, 1, 2, name="n")
    assert isinstance(err, AssertionError)
    lines = err._render_traceback_()
    assert lines == ["\x1b[1;31m✗ n: wrong value\x1b[0m", "  n: expected 2, got 1 (abs error 1)"]


def test_ipython_shows_the_verdict_without_traceback(capsys):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # write nothing to ~/.ipython
    shell = InteractiveShell.instance(config=config)
    result = shell.run_cell("from companion.exercises import check_value\ncheck_value(1, 2, name='n')")
    out = capsys.readouterr().out
    assert isinstance(result.error_in_exec, ExerciseFailure)
    assert "✗ n: wrong value" in out
    assert "Traceback" not in out and "check_value(" not in out


def test_format_and_short_repr():
    assert format_number(1.0000001, 1.0) == "1.0000001"
    assert format_number(np.int64(3)) == "3"
    assert short_repr(np.zeros((50, 50))) == "array of shape (50, 50), float64"
    assert short_repr(torch.ones(2, dtype=torch.int64)) == "tensor([1, 1], int64)"
    assert short_repr([1, 2]) == "[1, 2]"


# --------------------------------------------------------------------------- release: cell transforms


def test_stub_keeps_indentation_and_everything_else():
    code = (
        "import torch\n"
        "\n"
        "def f(xs):\n"
        '    """Doc."""\n'
        "    out = []\n"
        "    for x in xs:\n"
        "        # BEGIN SOLUTION (loop body)\n"
        "        out.append(x * 2)\n"
        "        # END SOLUTION\n"
        "    return out\n"
        "\n"
        "# BEGIN SOLUTION\n"
        "answer = 3\n"
        "# END SOLUTION"
    )
    new, n = stub_solutions(code)
    assert n == 2
    assert new == (
        "import torch\n"
        "\n"
        "def f(xs):\n"
        '    """Doc."""\n'
        "    out = []\n"
        "    for x in xs:\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError\n"
        "    return out\n"
        "\n"
        "# YOUR CODE HERE\n"
        "raise NotImplementedError"
    )
    compile(new, "cell", "exec")  # still valid Python


def test_stub_keeps_crlf():
    code = "x = 1\r\n\t# BEGIN SOLUTION\r\n\ty = 2\r\n\t# END SOLUTION\r\n"
    new, n = stub_solutions(code)
    assert n == 1
    assert new == "x = 1\r\n\t# YOUR CODE HERE\n\traise NotImplementedError\r\n"


def test_inline_marker_after_code_is_refused():
    with pytest.raises(ValueError, match=r"line 1 holds solution-marker words but is not a marker line of its own"):
        stub_solutions("x = 1  # BEGIN SOLUTION is not a marker here\n")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "'BEGIN SOLUTION' on line 1 has no matching 'END SOLUTION'"),
        ("x = 1\n# END SOLUTION\n", "'END SOLUTION' on line 2 has no 'BEGIN SOLUTION' before it"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "'BEGIN SOLUTION' on line 2 is nested in the 'BEGIN SOLUTION' on line 1"),
        ("### BEGIN HIDDEN TESTS\nx = 1\n", "'BEGIN HIDDEN TESTS' on line 1 has no matching 'END HIDDEN TESTS'"),
        ("### BEGIN SOLUTION\nx = 1\n### END HIDDEN TESTS\n", "'END HIDDEN TESTS' on line 3 closes the 'BEGIN SOLUTION' on line 1"),
    ],
)
def test_unbalanced_markers_raise(code, message):
    with pytest.raises(ValueError, match=message):
        stub_solutions(code, "nb.ipynb, cell 3 (code)")


def test_solution_directive_backtick_fences():
    text = (
        "Some text.\n"
        "\n"
        "````{solution} ex-1\n"
        ":class: dropdown\n"
        "\n"
        "```python\n"
        "x = 1\n"
        "```\n"
        "````\n"
        "\n"
        "After."
    )
    assert remove_solution_directives(text) == ("Some text.\n\nAfter.", 1)


def test_solution_directive_colon_fences_with_nested_directive():
    text = (
        "::::{solution} ex-2\n"
        ":class: dropdown\n"
        ":::{note}\n"
        "inner\n"
        ":::\n"
        "````\n"
        "::::\n"
        "```{exercise} stays\n"
        "```\n"
    )
    assert remove_solution_directives(text) == ("```{exercise} stays\n```\n", 1)


def test_solution_directive_at_end_and_several():
    text = "A\n\n```{solution} a\nx\n```\n\nB\n\n:::{solution} b\ny\n:::\n"
    assert remove_solution_directives(text) == ("A\n\nB\n", 2)
    assert remove_solution_directives("no solution here\n") == ("no solution here\n", 0)


def test_broken_solution_directives_raise():
    with pytest.raises(ValueError, match="line 2 has no closing ```"):
        remove_solution_directives("x\n```{solution} a\ntext\n", "nb, cell 1 (markdown)")
    with pytest.raises(ValueError, match="gated"):
        remove_solution_directives("```{solution-start} a\n```\n")


# --------------------------------------------------------------------------- release: notebooks and files


def make_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Exercises\n\nIntro.", id="title"),
        new_code_cell("import torch", id="setup", execution_count=1, outputs=[new_output("stream", name="stdout", text="hi\n")]),
        new_markdown_cell("```{exercise} Double\n:label: ex-double\n\nDouble it.\n```", id="ex"),
        new_code_cell("def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION", id="sol", execution_count=2),
        new_code_cell("check(double)", id="check", execution_count=3, outputs=[new_output("execute_result", data={"text/plain": "1"}, execution_count=3)]),
        new_markdown_cell("```{solution} ex-double\n:class: dropdown\n\nMultiply by 2.\n```", id="solution"),
    ]
    cells[1].metadata["tags"] = ["keep-me"]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_release_notebook_transforms_cells():
    nb = json.loads(nbformat.writes(make_notebook()))
    student, report = release_notebook(nb, "ex.ipynb")
    assert (report.solutions, report.directives, report.cleared, report.dropped_cells) == (1, 1, 3, 1)
    assert [c["id"] for c in student["cells"]] == ["title", "setup", "ex", "sol", "check"]
    sol = "".join(student["cells"][3]["source"])
    assert sol == "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"
    for cell in student["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert student["cells"][1]["metadata"] == {"tags": ["keep-me"]}
    assert student["cells"][2] == nb["cells"][2]
    assert nb["cells"][1]["outputs"]  # the input is not modified


def test_release_notebook_names_notebook_and_cell_on_error():
    nb = make_notebook()
    nb.cells[3].source = "def f():\n    # BEGIN SOLUTION\n    return 1\n"
    with pytest.raises(ValueError, match=r"ch/exercises.ipynb, cell 4 \(code\): 'BEGIN SOLUTION' on line 2"):
        release_notebook(json.loads(nbformat.writes(nb)), "ch/exercises.ipynb")


def test_release_file_is_byte_identical_where_nothing_changes(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# T\n\nÜnïcode ✓", id="a"), new_code_cell("x = 1\ny = 2", id="b")])
    src = tmp_path / "exercises.ipynb"
    nbformat.write(nb, src)
    report = release_notebook_file(src, tmp_path / "out" / "exercises.ipynb")
    assert report.summary() == "0 solutions stubbed, 0 solution directives removed, outputs of 0 code cells cleared"
    assert (tmp_path / "out" / "exercises.ipynb").read_bytes() == src.read_bytes()
    with pytest.raises(ValueError, match="refusing to overwrite"):
        release_notebook_file(src, src)


def test_release_tree_writes_only_exercise_notebooks(tmp_path):
    src = tmp_path / "chapters"
    for rel in ["01_a/exercises.ipynb", "02_b/exercises.ipynb", "01_a/_build/exercises.ipynb", "01_a/.ipynb_checkpoints/exercises.ipynb"]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(), src / rel)
    nbformat.write(make_notebook(), src / "01_a" / "01_notes.ipynb")  # markers, but not an exercise notebook
    (src / "01_a" / "index.md").write_text("# A\n")
    dest = tmp_path / "student"
    result = release(src, dest)
    written = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert written == ["01_a/exercises.ipynb", "02_b/exercises.ipynb"]
    assert [Path(p).name for p in result.skipped] == ["01_notes.ipynb"]
    student = nbformat.read(dest / "01_a" / "exercises.ipynb", as_version=4)
    assert "raise NotImplementedError" in student.cells[3].source
    assert all("{solution}" not in c.source for c in student.cells)
    assert [p.relative_to(src).as_posix() for p in find_exercise_notebooks(src)] == ["01_a/exercises.ipynb", "02_b/exercises.ipynb"]
    with pytest.raises(ValueError, match="refusing"):
        release(src, src)
    with pytest.raises(FileNotFoundError, match="src"):
        release(tmp_path / "missing", dest)
    single = release(src / "02_b" / "exercises.ipynb", tmp_path / "one")
    assert Path(single.reports[0].destination) == tmp_path / "one" / "exercises.ipynb"


def test_cli_release(tmp_path):
    src = tmp_path / "chapters" / "00_x"
    src.mkdir(parents=True)
    nbformat.write(make_notebook(), src / "exercises.ipynb")
    dest = tmp_path / "out"
    cmd = [sys.executable, "-m", "companion.exercises", "release", str(tmp_path / "chapters"), str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote {dest / '00_x' / 'exercises.ipynb'} (1 solution stubbed, 1 solution directive removed" in done.stdout
    assert "released 1 notebook from" in done.stdout
    assert (dest / "00_x" / "exercises.ipynb").exists()



def test_cli_main_reports_errors(tmp_path, capsys):
    from companion.exercises.__main__ import main

    src = tmp_path / "chapters" / "00_x"
    src.mkdir(parents=True)
    nb = make_notebook()
    nb.cells[3].source = "# END SOLUTION\n"
    nbformat.write(nb, src / "exercises.ipynb")
    assert main(["release", str(tmp_path / "chapters"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "exercises.ipynb, cell 4 (code): 'END SOLUTION' on line 1" in err
    assert main(["release", str(tmp_path / "missing"), str(tmp_path / "out")]) == 1
    assert "does not exist" in capsys.readouterr().err
    nbformat.write(make_notebook(), src / "exercises.ipynb")
    nbformat.write(make_notebook(), src / "notes.ipynb")
    assert main(["release", str(tmp_path / "chapters"), str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "released 1 notebook from" in captured.out
    assert "notes.ipynb has solution markers but is not named exercises.ipynb" in captured.err


# --------------------------------------------------------------------------- student book


def test_student_config_hides_solutions():
    config = {"title": "Course", "execute": {"execute_notebooks": "cache"}, "sphinx": {"config": {"hide_solutions": False, "numfig": True}}}
    student = student_config(config)
    assert student["sphinx"]["config"] == {"hide_solutions": True, "numfig": True}
    assert student["execute"] == {"execute_notebooks": "cache", "exclude_patterns": ["**/exercises.ipynb"]}
    assert student["title"] == "Course (student edition)"
    assert config["sphinx"]["config"]["hide_solutions"] is False  # input untouched
    assert student_config({})["sphinx"]["config"]["hide_solutions"] is True


def test_prepare_student_tree(tmp_path):
    import yaml

    root = tmp_path / "course"
    (root / "chapters" / "00_x").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "companion").mkdir()
    (root / "_config.yml").write_text("title: T\nsphinx:\n  config:\n    hide_solutions: false\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "companion" / "m.py").write_text("x = 1\n")
    nbformat.write(make_notebook(), root / "chapters" / "00_x" / "exercises.ipynb")
    nbformat.write(make_notebook(), root / "chapters" / "00_x" / "01_notes.ipynb")
    dest = root / "_build" / "student"
    written = prepare(root, dest)
    assert written == [str(dest / "chapters" / "00_x" / "exercises.ipynb")]
    config = yaml.safe_load((dest / "_config.yml").read_text())
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert "**/exercises.ipynb" in config["execute"]["exclude_patterns"]
    assert (dest / "book" / "intro.md").exists() and not (dest / "companion").exists()
    notes = (dest / "chapters" / "00_x" / "01_notes.ipynb").read_text()  # not an exercise notebook, but released too
    assert "BEGIN SOLUTION" not in notes and "raise NotImplementedError" in notes
    assert "raise NotImplementedError" in (dest / "chapters" / "00_x" / "exercises.ipynb").read_text()
    with pytest.raises(ValueError, match="dest"):
        prepare(root, root)
    with pytest.raises(FileNotFoundError, match="_toc"):
        prepare(root, dest, toc=root / "_toc_missing.yml")
