"""companion.nn.gradcheck never passes a non-finite gradient, and its report is exact.

A gradient checker that says ``ok`` for a NaN or an infinite gradient is worse than none:
these tests put NaN and inf on each side (analytic, numeric) and demand a failure that names
the entry. The rest pins the arithmetic of the verdict (the tolerance formula and its
boundary, the central difference, sampling) against values computed by hand.
"""

from __future__ import annotations

import math

import pytest
import torch

from companion.nn import GradcheckError, GradcheckResult, gradcheck

F64 = torch.float64


def _x(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_analytic_gradient_fails(bad: float) -> None:
    x = _x(1.0, 2.0, 3.0)
    g = 2 * x
    g[1] = bad
    r = gradcheck(lambda x: (x**2).sum(), [x], [g], raise_on_failure=False)
    assert not r.ok and not bool(r) and r.failed == 1 and r.checked == 3
    assert r.worst_index == (1,) and r.worst_input == 0
    assert math.isinf(r.max_abs_error)
    assert "FAILED: 1 of 3" in str(r)
    with pytest.raises(GradcheckError, match="FAILED: 1 of 3"):
        gradcheck(lambda x: (x**2).sum(), [x], [g])


def test_non_finite_numeric_gradient_fails() -> None:
    """sqrt at 0: f(x - eps) is NaN, so the central difference is NaN; 1/x next to 0 gives inf."""
    x = _x(0.0, 4.0)
    r = gradcheck(lambda x: x.sqrt().sum(), [x], [_x(1.0, 0.25)], raise_on_failure=False)
    assert not r.ok and r.failed == 1 and r.worst_index == (0,) and math.isnan(r.worst_numeric)
    eps = 1e-6
    x = _x(eps, 2.0)  # f(x - eps) = 1/0 = inf
    r = gradcheck(lambda x: (1 / x).sum(), [x], [-1 / x**2], raise_on_failure=False, eps=eps)
    assert math.isinf(r.worst_numeric) or math.isnan(r.worst_numeric)
    assert not r.ok and r.failed == 1 and r.worst_index == (0,)
    with pytest.raises(GradcheckError, match="FAILED"):
        gradcheck(lambda x: (1 / x).sum(), [x], [-1 / x**2], eps=eps)


def test_both_infinite_fails() -> None:
    eps = 1e-6
    x = _x(eps)
    inf = _x(math.inf)
    r = gradcheck(lambda x: (1 / x).sum() + 1 / (x - eps).abs().sum(), [x], [inf], eps=eps, raise_on_failure=False)
    assert not r.ok and r.failed == 1


def test_autograd_nan_gradient_fails() -> None:
    """The default analytic gradient comes from autograd; a NaN there must fail too."""
    x = _x(0.0, 1.0)
    r = gradcheck(lambda x: (x.abs() ** 0.5).sum(), [x], raise_on_failure=False)  # d/dx |x|^0.5 at 0 = inf
    assert not r.ok and r.worst_index == (0,)


def test_tolerance_boundary_and_counts() -> None:
    """Entry passes iff |a - n| <= atol + rtol*|n|; here n = 2x exactly (quadratic), so we set a."""
    x = _x(1.0, -2.0, 0.5)
    numeric = 2 * x
    atol, rtol = 1e-3, 1e-2
    allowed = atol + rtol * numeric.abs()
    just_in = numeric + allowed * 0.99
    just_out = numeric + allowed * 1.01
    r = gradcheck(lambda x: (x**2).sum(), [x], [just_in], atol=atol, rtol=rtol, raise_on_failure=False)
    assert r.ok and r.failed == 0 and r.checked == 3
    assert r.max_abs_error == pytest.approx(float((allowed * 0.99).max()), rel=1e-6)
    mixed = just_in.clone()
    mixed[2] = just_out[2]
    r = gradcheck(lambda x: (x**2).sum(), [x], [mixed], atol=atol, rtol=rtol, raise_on_failure=False)
    assert not r.ok and r.failed == 1 and r.worst_index == (2,)
    assert r.worst_analytic == pytest.approx(float(mixed[2])) and r.worst_numeric == pytest.approx(1.0, rel=1e-8)
    assert r.worst_allowed == pytest.approx(float(allowed[2]), rel=1e-8)
    assert (r.atol, r.rtol, r.eps) == (atol, rtol, 1e-6)


def test_worst_entry_is_the_largest_ratio_not_the_largest_difference() -> None:
    x = _x(100.0, 0.0)
    g = 2 * x
    g[0] += 0.5  # diff 0.5, allowed 1e-5 + 1e-3*200 = 0.2: ratio 2.5
    g[1] += 1e-4  # diff 1e-4, allowed 1e-5: ratio 10
    r = gradcheck(lambda x: (x**2).sum(), [x], [g], raise_on_failure=False)
    assert r.failed == 2 and r.worst_index == (1,)
    assert r.max_abs_error == pytest.approx(0.5, rel=1e-5)


def test_multiple_inputs_shapes_and_defaults() -> None:
    a = torch.arange(6, dtype=F64).reshape(2, 3)
    b = _x(2.0)
    ga, gb = b * torch.ones_like(a), a.sum().reshape(1)
    wrong = ga.clone()
    wrong[1, 2] += 1.0
    r = gradcheck(lambda a, b: (a * b).sum(), [a, b], [wrong, gb], raise_on_failure=False)
    assert (r.worst_input, r.worst_index, r.checked, r.failed) == (0, (1, 2), 7, 1)
    assert gradcheck(lambda a, b: (a * b).sum(), [a, b]).ok  # autograd gradients
    r = gradcheck(lambda a, b: (a * b).sum(), [a, b], [ga, gb * 0], raise_on_failure=False)
    assert (r.worst_input, r.worst_index) == (1, (0,))
    s = torch.tensor(3.0, dtype=F64)  # a 0-d input: index ()
    r = gradcheck(lambda s: s**2, [s], [torch.tensor(0.0, dtype=F64)], raise_on_failure=False)
    assert not r.ok and r.worst_index == () and r.worst_numeric == pytest.approx(6.0)
    f32 = torch.tensor([1.0, 2.0])
    r = gradcheck(lambda x: (x**2).sum(), [f32], [2 * f32])
    assert (r.eps, r.atol, r.rtol) == (1e-3, 1e-3, 1e-2)
    r = gradcheck(lambda x: (x**2).sum(), [a.reshape(-1)], [2 * a.reshape(-1)], eps=1e-4, atol=1e-7, rtol=0)
    assert (r.eps, r.atol, r.rtol) == (1e-4, 1e-7, 0.0)


def test_inputs_are_not_modified_and_fn_sees_perturbed_copies() -> None:
    x = _x(1.0, 2.0)
    seen: list[list[float]] = []

    def fn(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.tolist())
        return (x**3).sum()

    gradcheck(fn, [x], [3 * x**2], eps=0.5, rtol=1.0, atol=1.0)
    assert x.tolist() == [1.0, 2.0]
    assert seen == [[1.5, 2.0], [0.5, 2.0], [1.0, 2.5], [1.0, 1.5]]


def test_sampled_entries() -> None:
    x = torch.arange(1.0, 11.0, dtype=F64)
    picks = torch.randperm(10, generator=torch.Generator().manual_seed(3))[:4].tolist()
    g = 2 * x
    g[picks] += 1.0  # wrong exactly where the generator seeded 3 samples
    gen = torch.Generator().manual_seed(3)  # not the global generator's seed (conftest seeds it with 0)
    r = gradcheck(lambda x: (x**2).sum(), [x], [g], samples=4, generator=gen, raise_on_failure=False)
    assert r.checked == 4 and r.failed == 4
    g = 2 * x
    g[[2, 7]] += 1.0
    r = gradcheck(lambda x: (x**2).sum(), [x], [g], samples=10, raise_on_failure=False)
    assert r.checked == 10 and r.failed == 2
    r = gradcheck(lambda x: (x**2).sum(), [x], [g], samples=50, raise_on_failure=False)
    assert r.checked == 10


def test_constant_function_and_unused_input() -> None:
    x, y = _x(1.0, 2.0), _x(3.0)
    r = gradcheck(lambda x: torch.tensor(5.0, dtype=F64), [x])
    assert r.ok and r.checked == 2 and r.max_abs_error == 0.0
    r = gradcheck(lambda x, y: (x**2).sum(), [x, y])
    assert r.ok and r.checked == 3


def test_report_text() -> None:
    r = GradcheckResult(ok=False, checked=4, failed=1, max_abs_error=0.5, worst_input=1, worst_index=(0, 2), worst_analytic=1.5, worst_numeric=1.0, worst_allowed=0.01, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert str(r) == (
        "gradcheck FAILED: 1 of 4 checked entries disagree (central differences with eps=1e-06; "
        "allowed |analytic - numeric| <= atol + rtol*|numeric| with atol=1e-05, rtol=0.001).\n"
        "worst entry: input 1, index (0, 2): analytic 1.5, numeric 1, |difference| 0.5 (allowed 0.01)\n"
        "largest |difference| over all checked entries: 0.5"
    )
    empty = GradcheckResult(ok=True, checked=0, failed=0, max_abs_error=0.0, worst_input=-1, worst_index=(), worst_analytic=math.nan, worst_numeric=math.nan, worst_allowed=math.nan, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert str(empty).startswith("gradcheck passed: 0 of 0") and "\n" not in str(empty) and bool(empty)
    assert issubclass(GradcheckError, AssertionError)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: gradcheck(lambda x: x.sum(), _x(1.0)), TypeError, "inputs must be a sequence of tensors, got Tensor"),
        (lambda: gradcheck(lambda x: x.sum(), 3), TypeError, "inputs must be a sequence of tensors, got int"),
        (lambda: gradcheck(lambda x: x.sum(), [torch.tensor([1])]), TypeError, r"inputs\[0\] must be a floating-point tensor, got torch.int64"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0), [1.0]]), TypeError, r"inputs\[1\] must be a floating-point tensor, got list"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0)], eps=0.0), ValueError, "eps must be positive, got 0.0"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0)], eps=-1.0), ValueError, "eps must be positive"),
        (lambda: gradcheck(lambda x: x, [_x(1.0, 2.0)]), ValueError, r"fn must return a tensor with one element, got shape \(2,\)"),
        (lambda: gradcheck(lambda x: 1.0, [_x(1.0, 2.0)]), TypeError, "fn must return a tensor, got float"),
        (lambda: gradcheck(lambda x: x, [_x(1.0, 2.0)], [_x(1.0, 1.0)]), ValueError, "fn must return a tensor with one element"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0)], []), ValueError, r"grads must have one entry per input \(1\), got 0"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0)], [_x(1.0, 2.0)]), ValueError, r"grads\[0\] must have shape \(1,\), got \(2,\)"),
        (lambda: gradcheck(lambda x: x.sum(), [_x(1.0)], [1.0]), ValueError, r"grads\[0\] must have shape \(1,\), got float"),
    ],
)
def test_errors(call, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()


def test_zero_tolerance() -> None:
    """atol = rtol = 0 allows no difference at all, and a zero numeric gradient is no division by zero."""
    x = _x(0.0, 1.0)
    r = gradcheck(lambda x: (x**2).sum(), [x], [2 * x], atol=0.0, rtol=0.0, eps=0.5, raise_on_failure=False)
    assert r.ok and r.max_abs_error == 0.0
    r = gradcheck(lambda x: (x**2).sum(), [x], [_x(1e-9, 2.0)], atol=0.0, rtol=0.0, eps=0.5, raise_on_failure=False)
    assert not r.ok and r.failed == 1 and r.worst_index == (0,)


def test_worst_entry_of_a_passing_check_and_ties() -> None:
    x = _x(0.0, 1.0)
    # entry 0: numeric exactly 0 with atol = 0, so nothing is allowed and nothing differs (ratio 0);
    # entry 1: half its allowance (ratio 0.5): the worst entry even though both pass
    r = gradcheck(lambda x: (x**2).sum(), [x], [_x(0.0, 2.001)], atol=0.0, rtol=1e-3)
    assert r.ok and (r.worst_input, r.worst_index) == (0, (1,))
    assert r.worst_analytic == 2.001 and r.worst_allowed == pytest.approx(2e-3)
    # ties: the first entry with the largest ratio is reported
    r = gradcheck(lambda x: x.sum(), [_x(0.0, 0.0)], [_x(1.0, 1.0)])
    assert r.ok and r.worst_index == (0,) and r.max_abs_error == 0.0


def test_nothing_to_check() -> None:
    r = gradcheck(lambda: torch.tensor(1.0, dtype=F64), [])
    assert (r.ok, r.checked, r.worst_input, r.worst_index) == (True, 0, -1, ())
    assert (r.eps, r.atol, r.rtol) == (1e-6, 1e-5, 1e-3)  # float64 defaults
    r = gradcheck(lambda x: x.sum(), [torch.zeros(0, dtype=F64)])
    assert (r.ok, r.checked, r.worst_input) == (True, 0, -1)


def test_other_dtypes_get_the_float32_defaults() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.bfloat16)
    r = gradcheck(lambda x: x.sum(), [x], [torch.ones_like(x)], eps=0.5, raise_on_failure=False)
    assert (r.atol, r.rtol) == (1e-3, 1e-2)


def test_sgd_step_validation() -> None:
    from companion.nn import sgd_step

    p = [torch.tensor([1.0])]
    for lr in (0, 0.0, -0.1, True, "0.1", float("inf"), float("nan")):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            sgd_step(p, [torch.tensor([1.0])], lr=lr)  # type: ignore[arg-type]
    assert p[0].tolist() == [1.0]
    sgd_step(p, [torch.tensor([1.0])], lr=1)  # an int rate is fine
    assert p[0].tolist() == [0.0]


def test_layer_input_messages() -> None:
    from companion.nn import Activation, Linear

    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        Linear(2, 1)([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a str, got int"):
        Activation(3)  # type: ignore[arg-type]
    for dev in [d for d in __import__("companion").device.available_devices() if d.type != "cpu"]:
        # a second device: the message names both (on a CPU-only machine this loop is empty)
        with pytest.raises(ValueError, match="is on"):
            Linear(2, 1)(torch.zeros(1, 2, device=dev))
