"""Tests of companion.compiled: each compiled kernel equals its formula (values and gradients, in
float64, on hypothesis inputs), errors pass through, and a failed compile falls back with one warning.

Compiling is the slow part (seconds per kernel and shape kind), so every test here draws few
examples, all of one rank: the first example compiles for its shapes, the second once more
with symbolic sizes, and the rest reuse that code. Inductor's cache (``TORCHINDUCTOR_CACHE_DIR``,
set by conftest.py under ``_build/inductor``) makes later runs faster.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import compiled as C
from companion import losses, normalization
from strategies import seeds, tensors

F64 = torch.float64

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")  # inside Inductor

few = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# One shape per kernel: hypothesis draws the values, and each kernel compiles once.
ROWS, COLS = 6, 5


def value_and_grads(fn, inputs, seed: int):  # type: ignore[no-untyped-def]
    """fn(*inputs) and the gradients of <fn(*inputs), upstream> with respect to the float inputs,
    for a random upstream gradient drawn from ``seed``."""
    leaves = [t.detach().clone().requires_grad_(t.dtype.is_floating_point) for t in inputs]
    y = fn(*leaves)
    upstream = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=F64).to(y.device)
    wrt = [t for t in leaves if t.requires_grad]
    return (y.detach(), *torch.autograd.grad(y, wrt, upstream))


def assert_same(fn_compiled, fn_formula, inputs, seed: int) -> None:  # type: ignore[no-untyped-def]
    got = value_and_grads(fn_compiled, inputs, seed)
    expected = value_and_grads(fn_formula, inputs, seed)
    assert len(got) == len(expected) == 1 + sum(t.dtype.is_floating_point for t in inputs)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


matrix = tensors((ROWS, COLS))
targets = st.lists(st.integers(0, COLS - 1), min_size=ROWS, max_size=ROWS).map(torch.tensor)


@few
@given(z=matrix, seed=seeds)
def test_softmax_family_equals_the_formula(z: torch.Tensor, seed: int, device: torch.device) -> None:
    z = z.to(device)
    assert_same(C.softmax, losses.softmax, (z,), seed)
    assert_same(lambda t: C.log_softmax(t, 0), lambda t: losses.log_softmax(t, 0), (z,), seed)


@few
@given(z=matrix, y=targets, seed=seeds)
def test_cross_entropy_equals_the_formula(z: torch.Tensor, y: torch.Tensor, seed: int, device: torch.device) -> None:
    z, y = z.to(device), y.to(device)
    assert_same(lambda t: C.cross_entropy(t, y, label_smoothing=0.1), lambda t: losses.cross_entropy(t, y, label_smoothing=0.1), (z,), seed)


@few
@given(x=matrix, seed=seeds)
def test_layer_and_rms_norm_equal_the_formula(x: torch.Tensor, seed: int, device: torch.device) -> None:
    x = x.to(device)
    gen = torch.Generator().manual_seed(seed)
    w = (1.0 + 0.5 * torch.randn(COLS, generator=gen, dtype=F64)).to(device)
    b = torch.randn(COLS, generator=gen, dtype=F64).to(device)
    assert_same(lambda x, w, b: C.layer_norm(x, COLS, w, b), lambda x, w, b: normalization.layer_norm(x, COLS, w, b), (x, w, b), seed)
    assert_same(lambda x, w: C.rms_norm(x, COLS, w), lambda x, w: normalization.rms_norm(x, COLS, w), (x, w), seed)


@few
@given(x=matrix, training=st.booleans(), seed=seeds)
def test_batch_norm_equals_the_formula(x: torch.Tensor, training: bool, seed: int, device: torch.device) -> None:
    x = x.to(device)
    gen = torch.Generator().manual_seed(seed)
    w, b, rm = (torch.randn(COLS, generator=gen, dtype=F64).to(device) for _ in range(3))
    rv = (torch.rand(COLS, generator=gen, dtype=F64) + 0.5).to(device)
    stats = [(rm.clone(), rv.clone()) for _ in range(2)]
    assert_same(lambda x, w, b: C.batch_norm(x, *stats[0], w, b, training, 0.3),
                lambda x, w, b: normalization.batch_norm(x, *stats[1], w, b, training, 0.3), (x, w, b), seed)
    for ours, theirs in zip(*stats):  # updated in place in training, the same way
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_errors_are_the_formulas() -> None:
    z = torch.zeros(2, 3, dtype=F64)
    with pytest.raises(ValueError, match="target holds class index 3"):
        C.cross_entropy(z, torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="z must be a floating-point tensor"):
        C.softmax(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="normalized_shape"):
        C.layer_norm(z, 2)
    with pytest.raises(TypeError, match="training must be a bool"):
        C.batch_norm(z, None, None, training="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fn must be a function of companion.compiled"):
        C.is_compiled(losses.softmax)


def test_signatures_and_names_are_the_formulas() -> None:
    import inspect

    for name in ("softmax", "log_softmax", "cross_entropy", "layer_norm", "batch_norm", "rms_norm"):
        fast = getattr(C, name)
        formula = getattr(losses, name, None) or getattr(normalization, name)
        assert inspect.signature(fast) == inspect.signature(formula)
        assert fast.formula is formula and fast.__name__ == name


def test_falls_back_to_the_formula_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where torch.compile cannot build code, each function runs its formula; one warning in all."""

    def broken(fn, **kwargs):  # type: ignore[no-untyped-def]
        def run(*args, **kw):  # type: ignore[no-untyped-def]
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(C, "_warned", False)
    fast_softmax, fast_norm = C._compile(losses.softmax), C._compile(normalization.layer_norm)
    z = torch.randn(3, 4, dtype=F64)
    with pytest.warns(RuntimeWarning, match="cannot compile here .*InvalidCxxCompiler.*fall back to the formula tier") as record:
        torch.testing.assert_close(fast_softmax(z), losses.softmax(z), rtol=0, atol=0)
        torch.testing.assert_close(fast_norm(z, 4), normalization.layer_norm(z, 4), rtol=0, atol=0)
        fast_softmax(z)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    assert not C.is_compiled(fast_softmax)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="dim=5"):  # the formula's own errors still come through
            fast_softmax(z, 5)


def test_runs_compiled_code() -> None:
    z = torch.randn(ROWS, COLS, dtype=F64)  # the shape and dtype compiled above: no new compile
    torch.testing.assert_close(C.softmax(z), torch.softmax(z, -1))
    assert C.is_compiled(C.softmax)
