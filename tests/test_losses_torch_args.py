"""PyTorch's arguments of companion.losses: ``weight`` and ``pos_weight`` of the binary
cross-entropy (and its ``*_grad``), ``dtype=`` and 0-d inputs of ``softmax`` / ``log_softmax``.

Values and gradients are compared with PyTorch in float64 on hypothesis inputs, the edge cases
(zero weights, broadcasting, empty and 0-d inputs, infinite logits) one by one, and every new
raise with its exact message.
"""

from __future__ import annotations

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import compiled as C
from companion import losses as L
from strategies import shapes, tensors

F64 = torch.float64
INF = math.inf

few = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-10, rtol: float = 1e-9) -> None:
    torch.testing.assert_close(a, b, atol=atol, rtol=rtol, equal_nan=True)


def grads(fn, *inputs: torch.Tensor, upstream_seed: int = 0) -> tuple[torch.Tensor, ...]:  # type: ignore[no-untyped-def]
    """fn(*inputs) and the gradients of <fn(*inputs), u> with respect to the inputs that are
    floating point, for a fixed random upstream gradient u."""
    leaves = [t.detach().clone().requires_grad_(t.dtype.is_floating_point) for t in inputs]
    y = fn(*leaves)
    u = torch.randn(y.shape, generator=torch.Generator().manual_seed(upstream_seed), dtype=F64).to(y.device, y.dtype)
    wrt = [t for t in leaves if t.requires_grad]
    return (y.detach(), *torch.autograd.grad(y, wrt, u))


def autograd(fn, x: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Gradient of the scalar fn(x) with respect to x."""
    x = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(fn(x), x)
    return g


# ----------------------------------------------------------------------------- BCE with weights


reductions = st.sampled_from(["none", "mean", "sum"])
WEIGHT_VALUES = st.one_of(st.just(0.0), st.floats(-2.0, 3.0, allow_nan=False, width=64))  # torch allows negative weights


@st.composite
def bce_problems(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Logits, targets in [0, 1], and a weight and a pos_weight that are None or of a shape
    that broadcasts to the logits': 0-d, the last dimension (one per class), (N, 1, ...), full."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=5))
    z = draw(tensors(shape))
    y = draw(tensors(shape, elements=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, width=64))))
    broadcastable = st.sampled_from([(), shape[-1:], (shape[0],) + (1,) * (len(shape) - 1), shape, (1,) * len(shape)])
    out = []
    for values in (WEIGHT_VALUES, st.floats(-1.0, 5.0, allow_nan=False, width=64)):
        if draw(st.booleans()):
            out.append(draw(tensors(draw(broadcastable), elements=values)))
        else:
            out.append(None)
    return z, y, out[0], out[1]


@few
@given(problem=bce_problems(), reduction=reductions)
def test_bce_with_weights_matches_torch(device: torch.device, problem, reduction: str) -> None:  # type: ignore[no-untyped-def]
    """Values, gradients in the logits and in the target (autograd through ours vs torch's), and
    the *_grad function, for every combination of weight and pos_weight."""
    z, y, w, pw = (None if t is None else t.to(device) for t in problem)

    def ours(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return L.binary_cross_entropy_with_logits(z, y, w, reduction=reduction, pos_weight=pw)

    def theirs(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(z, y, w, reduction=reduction, pos_weight=pw)

    got, expected = grads(ours, z, y), grads(theirs, z, y)
    for a, b in zip(got, expected):
        close(a, b)
    g_ref = autograd(lambda x: theirs(x, y).sum(), z)
    close(L.binary_cross_entropy_with_logits_grad(z, y, w, reduction=reduction, pos_weight=pw), g_ref)
    close(autograd(lambda x: ours(x, y).sum(), z), g_ref)


def test_bce_mean_divides_by_the_number_of_elements_not_the_weights() -> None:
    z = torch.tensor([[0.0, 2.0], [-1.0, 3.0]], dtype=F64)
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=F64)
    w = torch.tensor([[0.0], [2.0]], dtype=F64)  # the first row counts nothing
    pw = torch.tensor([3.0, 0.5], dtype=F64)
    each = L.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pw)
    by_hand = torch.tensor([[3 * math.log(2), math.log1p(math.exp(2))], [math.log1p(math.exp(-1)), 0.5 * math.log1p(math.exp(-3))]], dtype=F64)
    close(each, by_hand)
    mean = L.binary_cross_entropy_with_logits(z, y, w, pos_weight=pw)
    close(mean, (w * by_hand).sum() / 4)
    close(mean, F.binary_cross_entropy_with_logits(z, y, w, pos_weight=pw))
    assert L.binary_cross_entropy_with_logits(z, y, torch.zeros(2, 1, dtype=F64)).item() == 0.0


@pytest.mark.parametrize("p", [None, 3.0])
def test_bce_infinite_logits(device: torch.device, p: float | None) -> None:
    """The loss is its limit (0 where the target puts no mass on the losing side, else +inf); torch
    agrees where it does not give NaN, which it gives in all cases but z = +inf, y < 1 (as the
    docstring says). The gradients equal torch's everywhere."""
    z = torch.tensor([INF, INF, INF, -INF, -INF, -INF, 0.0], dtype=F64, device=device)
    y = torch.tensor([1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0], dtype=F64, device=device)
    pw = None if p is None else torch.full((7,), p, dtype=F64, device=device)
    loss = L.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pw)
    limit = torch.tensor([0.0, INF, INF, INF, INF, 0.0, (p or 1.0) * math.log(2)], dtype=F64, device=device)
    close(loss, limit)
    ref = F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pw)
    torch_nan = torch.isnan(ref)
    assert torch_nan.tolist() == [True, False, False, True, True, True, False]
    close(loss[~torch_nan], ref[~torch_nan])
    for reduction in ("none", "sum", "mean"):
        total = lambda f: (lambda x: f(x, y, reduction=reduction, pos_weight=pw).sum())  # noqa: E731
        g_ref = autograd(total(F.binary_cross_entropy_with_logits), z)
        assert bool(torch.isfinite(g_ref).all())
        close(autograd(total(L.binary_cross_entropy_with_logits), z), g_ref)
        close(L.binary_cross_entropy_with_logits_grad(z, y, reduction=reduction, pos_weight=pw), g_ref)


def test_bce_grad_at_infinite_logits_is_the_limit() -> None:
    z = torch.tensor([INF, INF, -INF, -INF], dtype=F64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=F64)
    pw = torch.tensor(2.0, dtype=F64)
    g = L.binary_cross_entropy_with_logits_grad(z, y, reduction="sum", pos_weight=pw)
    close(g, torch.tensor([0.0, 1.0, -2.0, 0.0], dtype=F64))  # (1 - y + p y) sigma(z) - p y
    close(g, autograd(lambda x: F.binary_cross_entropy_with_logits(x, y, reduction="sum", pos_weight=pw), z))


def test_bce_empty_and_0d_as_torch(device: torch.device) -> None:
    e = torch.zeros(0, 3, dtype=F64, device=device)
    w, pw = torch.ones(3, dtype=F64, device=device), torch.full((3,), 2.0, dtype=F64, device=device)
    for reduction in ("none", "mean", "sum"):
        got = L.binary_cross_entropy_with_logits(e, e, w, reduction=reduction, pos_weight=pw)
        close(got, F.binary_cross_entropy_with_logits(e, e, w, reduction=reduction, pos_weight=pw))
        assert L.binary_cross_entropy_with_logits_grad(e, e, w, reduction=reduction, pos_weight=pw).shape == (0, 3)
    assert torch.isnan(L.binary_cross_entropy_with_logits(e, e, w)).item()  # the mean of nothing
    z, y, w0 = (torch.tensor(v, dtype=F64, device=device) for v in (0.3, 1.0, 2.0))
    for reduction in ("none", "mean"):
        close(L.binary_cross_entropy_with_logits(z, y, w0, reduction=reduction, pos_weight=w0),
              F.binary_cross_entropy_with_logits(z, y, w0, reduction=reduction, pos_weight=w0))


def test_bce_weight_dtypes_as_torch() -> None:
    """Integer weights, bool weights and integer pos_weights are accepted, as torch; the result
    has the dtype of the logits."""
    z = torch.tensor([[0.5, -1.0, 2.0]])
    y = torch.tensor([[1.0, 0.0, 0.5]])
    pairs = [
        (torch.tensor([1, 0, 3]), torch.tensor([2, 1, 0])),
        (torch.tensor([True, False, True]), None),
        (torch.tensor([1.0, 0.0, 3.0], dtype=F64), torch.tensor([0.5, 2.0, 1.0], dtype=F64)),
    ]
    for w, pw in pairs:
        got = L.binary_cross_entropy_with_logits(z, y, w, pos_weight=pw)
        ref = F.binary_cross_entropy_with_logits(z, y, w, pos_weight=pw)
        assert got.dtype == ref.dtype == torch.float32
        close(got, ref, atol=1e-6, rtol=1e-6)
        assert L.binary_cross_entropy_with_logits_grad(z, y, w, pos_weight=pw).dtype == torch.float32
    with pytest.raises(RuntimeError):  # torch cannot compute pos_weight - 1 for bools; refused here with a TypeError
        F.binary_cross_entropy_with_logits(z, y, pos_weight=torch.tensor([True, False, True]))


def test_bce_gradients_reach_weight_and_pos_weight() -> None:
    """torch refuses weights that require a gradient; here d loss / d w is the unweighted loss and
    d loss / d p is -w y log sigma(z)."""
    z = torch.tensor([[0.5, -1.0], [2.0, -3.0]], dtype=F64)
    y = torch.tensor([[1.0, 0.0], [0.25, 1.0]], dtype=F64)
    w = torch.tensor([[2.0], [0.5]], dtype=F64, requires_grad=True)
    pw = torch.tensor([1.5, 3.0], dtype=F64, requires_grad=True)
    L.binary_cross_entropy_with_logits(z, y, w, reduction="sum", pos_weight=pw).backward()
    with torch.no_grad():
        close(w.grad, F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pw).sum(1, keepdim=True))
        close(pw.grad, (-w * y * F.logsigmoid(z)).sum(0))


def test_bce_signature_follows_torch_then_keywords() -> None:
    for fn in (L.binary_cross_entropy_with_logits, L.binary_cross_entropy_with_logits_grad):
        params = inspect.signature(fn).parameters
        assert list(params) == ["logits", "target", "weight", "reduction", "pos_weight"]
        assert params["weight"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and params["weight"].default is None
        assert params["reduction"].kind is params["pos_weight"].kind is inspect.Parameter.KEYWORD_ONLY
        z = torch.zeros(2)
        with pytest.raises(TypeError, match="positional argument"):
            fn(z, z, None, "sum")  # type: ignore[misc]
        # an old call with the reduction third now reaches weight, which names itself
        with pytest.raises(TypeError, match=re.escape("weight must be a torch.Tensor, got str")):
            fn(z, z, "sum")  # type: ignore[arg-type]


_z, _y = torch.zeros(3, 4, dtype=F64), torch.zeros(3, 4, dtype=F64)
BCE_RAISES = [
    (dict(weight=[1.0, 2.0]), TypeError, "weight must be a torch.Tensor, got list"),
    (dict(pos_weight=2.0), TypeError, "pos_weight must be a torch.Tensor, got float"),
    (dict(weight=torch.ones(4, dtype=torch.complex64)), TypeError, "weight must be a real tensor, got torch.complex64"),
    (dict(pos_weight=torch.ones(4, dtype=torch.complex128)), TypeError, "pos_weight must be a real tensor, got torch.complex128"),
    (dict(pos_weight=torch.ones(4, dtype=torch.bool)), TypeError, "pos_weight must be a tensor of numbers, got torch.bool"),
    (dict(weight=torch.ones(5)), ValueError, "weight must broadcast to the shape of logits, (3, 4), got (5,)"),
    (dict(weight=torch.ones(2, 3, 4)), ValueError, "weight must broadcast to the shape of logits, (3, 4), got (2, 3, 4)"),
    (dict(pos_weight=torch.ones(3)), ValueError, "pos_weight must broadcast to the shape of logits, (3, 4), got (3,)"),
    (dict(weight=torch.ones(4, device="meta")), ValueError, "weight is on meta but logits is on cpu; put both on one device"),
    (dict(pos_weight=torch.ones(4, device="meta")), ValueError, "pos_weight is on meta but logits is on cpu; put both on one device"),
    (dict(reduction="batchmean"), ValueError, "reduction must be one of 'none', 'mean', 'sum', got 'batchmean'"),
]


@pytest.mark.parametrize("fn", [L.binary_cross_entropy_with_logits, L.binary_cross_entropy_with_logits_grad], ids=["loss", "grad"])
@pytest.mark.parametrize("kwargs, exc, message", BCE_RAISES, ids=[m[:40] for _, _, m in BCE_RAISES])
def test_bce_raises(fn, kwargs: dict, exc: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        fn(_z, _y, **kwargs)


def test_bce_0d_logits_refuse_a_weight_of_more_dimensions() -> None:
    """torch: 'output with shape [] doesn't match the broadcast shape [1]'."""
    z = torch.tensor(0.3, dtype=F64)
    with pytest.raises(ValueError, match=re.escape("weight must broadcast to the shape of logits, (), got (1,)")):
        L.binary_cross_entropy_with_logits(z, z, torch.ones(1, dtype=F64))
    with pytest.raises(RuntimeError):
        F.binary_cross_entropy_with_logits(z, z, torch.ones(1, dtype=F64))


# ----------------------------------------------------------------------------- softmax: dtype= and 0-d


@few
@given(z=tensors(shapes(1, 3, max_side=5)), data=st.data())
def test_softmax_dtype_matches_torch(device: torch.device, z: torch.Tensor, data: st.DataObject) -> None:
    """float32 logits with dtype=float64: the cast comes first (values in float64), and the
    gradient flows back through it in float32, as torch."""
    dim = data.draw(st.integers(-z.dim(), z.dim() - 1))
    z32 = z.float().to(device)
    for ours, theirs in ((L.softmax, torch.softmax), (L.log_softmax, torch.log_softmax)):
        got = grads(lambda x: ours(x, dim, dtype=F64), z32)
        expected = grads(lambda x: theirs(x, dim, dtype=F64), z32)
        assert got[0].dtype == F64 and got[1].dtype == torch.float32
        close(got[0], expected[0])
        close(got[1], expected[1], atol=1e-6, rtol=1e-5)
        down = ours(z.to(device), dim, dtype=torch.float32)
        assert down.dtype == torch.float32
        close(down, theirs(z.to(device), dim, dtype=torch.float32), atol=1e-6, rtol=1e-5)


def test_softmax_dtype_casts_integers_and_bools_as_torch() -> None:
    for z in (torch.tensor([1, 2, 3]), torch.tensor([[True, False], [False, False]])):
        for ours, theirs in ((L.softmax, torch.softmax), (L.log_softmax, torch.log_softmax)):
            close(ours(z, 0, dtype=F64), theirs(z, 0, dtype=F64))
            close(ours(z, -1, dtype=torch.float32), theirs(z, -1, dtype=torch.float32))


@pytest.mark.parametrize("value", [3.0, -7.5, INF, -INF, math.nan])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor_as_torch(device: torch.device, value: float, dim: int) -> None:
    """One class: softmax 1 and log_softmax 0 (NaN for an infinite or NaN entry), gradient 0."""
    z = torch.tensor(value, dtype=F64, device=device)
    for ours, theirs, one_class in ((L.softmax, torch.softmax, 1.0), (L.log_softmax, torch.log_softmax, 0.0)):
        got, ref = ours(z, dim), theirs(z, dim)
        assert got.shape == ref.shape == ()
        close(got, ref)
        if math.isfinite(value):
            assert got.item() == one_class
            g_ours, g_ref = autograd(lambda x: ours(x, dim), z), autograd(lambda x: theirs(x, dim), z)
            assert g_ours.item() == g_ref.item() == 0.0
    close(L.softmax(torch.tensor(4), dtype=F64), torch.tensor(1.0, dtype=F64))
    assert L.log_softmax(torch.tensor(4.0, dtype=torch.float16), dtype=torch.float32).dtype == torch.float32


def test_softmax_signature_keyword_only_dtype() -> None:
    for fn in (L.softmax, L.log_softmax, C.softmax, C.log_softmax):
        params = inspect.signature(fn).parameters
        assert list(params) == ["z", "dim", "dtype"]
        assert params["dim"].default == -1 and params["dtype"].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError, match="positional argument"):
        L.softmax(torch.zeros(2), -1, F64)  # type: ignore[misc]


SOFTMAX_RAISES = [
    (lambda fn: fn(torch.tensor(1.0), 1), ValueError, "dim=1 is out of range for z with 0 dimension(s)"),
    (lambda fn: fn(torch.tensor(1.0), -2), ValueError, "dim=-2 is out of range for z with 0 dimension(s)"),
    (lambda fn: fn(torch.zeros(2), dtype="float64"), TypeError, "dtype must be a floating-point torch.dtype, got 'float64'"),
    (lambda fn: fn(torch.zeros(2), dtype=torch.int64), TypeError, "dtype must be a floating-point torch.dtype, got torch.int64"),
    (lambda fn: fn(torch.zeros(2, dtype=torch.complex64), dtype=F64), TypeError, "z must be a real tensor, got torch.complex64"),
    (lambda fn: fn([1.0, 2.0], dtype=F64), TypeError, "z must be a torch.Tensor, got list"),
    (lambda fn: fn(torch.tensor([1, 2])), TypeError, "z must be a floating-point tensor, got torch.int64"),
    (lambda fn: fn(torch.tensor([1, 2]), 1, dtype=F64), ValueError, "dim=1 is out of range for z with 1 dimension(s)"),
]


@pytest.mark.parametrize("fn", [L.softmax, L.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("call, exc, message", SOFTMAX_RAISES, ids=[m[:40] for _, _, m in SOFTMAX_RAISES])
def test_softmax_raises(fn, call, exc: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        call(fn)


def test_softmax_jacobian_still_needs_a_class_dimension() -> None:
    with pytest.raises(ValueError, match=re.escape("z must have at least one dimension, got a 0-d tensor")):
        L.softmax_jacobian(torch.tensor(1.0))

