"""PyTorch parity of cross_entropy's ``weight`` and ``ignore_index`` (and the keyword-only rest).

Values and gradients of :func:`companion.losses.cross_entropy` (autograd through it) and
:func:`companion.losses.cross_entropy_grad` are compared with
:func:`torch.nn.functional.cross_entropy` in float64 on hypothesis inputs (every layout:
(C,), (N, C), (N, C, d1, ..., dk)), then on the edge cases one by one, and every new raise
is checked with its message.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Optional

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import losses as L
from strategies import probability_vectors, tensors

F64 = torch.float64
INF = math.inf

device_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
reductions = st.sampled_from(["none", "mean", "sum"])
smoothing = st.sampled_from([0.0, 0.1, 0.5, 1.0])
# class weights: non-negative, exactly 0 often (a class that does not count)
weight_entries = st.one_of(st.just(0.0), st.floats(0.0, 3.0, allow_nan=False, width=64))


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    """Equal within float64 rounding, NaN where the other is NaN, same dtype and shape."""
    torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9, equal_nan=True)


def grad_of(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gradient of fn(x).sum() with respect to x, by torch.autograd."""
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g


def assert_parity(z: torch.Tensor, y: torch.Tensor, w: Optional[torch.Tensor], **kw: object) -> None:
    """Value, autograd gradient and cross_entropy_grad of the companion equal torch's."""
    ref = lambda x: F.cross_entropy(x, y, w, **kw)  # noqa: E731
    ours = lambda x: L.cross_entropy(x, y, w, **kw)  # noqa: E731
    close(ours(z), ref(z))
    g_ref = grad_of(ref, z)
    close(grad_of(ours, z), g_ref)
    close(L.cross_entropy_grad(z, y, w, **kw), g_ref)


@st.composite
def indexed_problems(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor], int]:
    """Logits (C,), (N, C) or (N, C, d1[, d2]), class indices (some ignored), weights or None, ignore_index."""
    c = draw(st.integers(1, 5))
    layout = draw(st.sampled_from(["single", "batch", "spatial", "spatial2"]))
    n = draw(st.integers(0, 4)) if layout == "batch" else draw(st.integers(1, 3))
    rest = {"single": (), "batch": (), "spatial": (draw(st.integers(1, 3)),), "spatial2": (2, draw(st.integers(1, 2)))}[layout]
    shape = (c,) if layout == "single" else (n, c, *rest)
    target_shape = () if layout == "single" else (n, *rest)
    z = draw(tensors(shape))
    # ignore_index: torch's default, another negative value, or a real class
    ignore_index = draw(st.sampled_from([-100, -1, *range(c)]))
    labels = st.one_of(st.integers(0, c - 1), st.just(ignore_index)) if ignore_index < 0 else st.integers(0, c - 1)
    count = math.prod(target_shape)
    y = torch.tensor(draw(st.lists(labels, min_size=count, max_size=count)), dtype=torch.long).reshape(target_shape)
    w = draw(st.none() | tensors((c,), elements=weight_entries))
    return z, y, w, ignore_index


@device_settings
@given(problem=indexed_problems(), reduction=reductions, eps=smoothing)
def test_class_indices_with_weight_and_ignore_index_match_torch(
    device: torch.device, problem: tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor], int], reduction: str, eps: float
) -> None:
    z, y, w, ignore_index = problem
    w = None if w is None else w.to(device)
    assert_parity(z.to(device), y.to(device), w, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps)


@device_settings
@given(p=probability_vectors(allow_zeros=True), reduction=reductions, eps=smoothing, data=st.data())
def test_probability_targets_with_weight_match_torch(
    device: torch.device, p: torch.Tensor, reduction: str, eps: float, data: st.DataObject
) -> None:
    # torch divides the mean by N here, not by a weight sum
    z = data.draw(tensors(tuple(p.shape))).to(device)
    w = data.draw(tensors((p.shape[1],), elements=weight_entries)).to(device)
    assert_parity(z, p.to(device), w, reduction=reduction, label_smoothing=eps)
    # torch allows only a negative ignore_index with probabilities, and then ignores it
    assert_parity(z, p.to(device), w, ignore_index=-1, reduction=reduction, label_smoothing=eps)


def _weight_reference(z: torch.Tensor, t: torch.Tensor, w: torch.Tensor, keep: torch.Tensor, reduction: str) -> torch.Tensor:
    """-sum_c w_c t_c log softmax(z)_c per example, ignored ones 0, weighted mean: plain torch ops."""
    loss = torch.where(keep, -(w * t * F.log_softmax(z, dim=-1)).sum(dim=-1), 0.0)
    if reduction == "mean":
        return loss.sum() / torch.where(keep, (w * (t > 0.5)).sum(dim=-1), 0.0).sum()
    return loss.sum() if reduction == "sum" else loss


@device_settings
@given(problem=indexed_problems(), reduction=reductions, eps=smoothing)
def test_gradient_with_respect_to_weight(
    device: torch.device, problem: tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor], int], reduction: str, eps: float
) -> None:
    """torch refuses a weight that requires grad (class indices); ours differentiates it: check against the formula."""
    z, y, w, ignore_index = (x.to(device) if isinstance(x, torch.Tensor) else x for x in problem)
    if w is None or z.dim() != 2 or z.shape[0] == 0:
        return
    keep = y != ignore_index
    t = F.one_hot(torch.where(keep, y, 0), z.shape[1]).to(F64) * (1 - eps) + eps / z.shape[1]
    expected = grad_of(lambda v: _weight_reference(z, t, v, keep, reduction), w)
    close(grad_of(lambda v: L.cross_entropy(z, y, v, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps), w), expected)
    # and the value: the same formula
    close(L.cross_entropy(z, y, w, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps), _weight_reference(z, t, w, keep, reduction))
    # second derivatives through the custom backward: torch's Hessian of the formula
    if reduction == "sum" and z.shape[0] <= 2:
        h = torch.autograd.functional.hessian(lambda x: L.cross_entropy(x, y, w, ignore_index=ignore_index, reduction="sum", label_smoothing=eps), z)
        h_ref = torch.autograd.functional.hessian(lambda x: F.cross_entropy(x, y, w, ignore_index=ignore_index, reduction="sum", label_smoothing=eps), z)
        close(h, h_ref)


# ---------------------------------------------------------------------------------------
# Edge cases, one by one
# ---------------------------------------------------------------------------------------

Z = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 2.0, 4.0, -3.0]], dtype=F64)
W = torch.tensor([1.0, 0.0, 2.0, 0.5], dtype=F64)


@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("w", [None, W], ids=["unweighted", "weighted"])
def test_every_target_ignored(w: Optional[torch.Tensor], eps: float) -> None:
    y = torch.full((3,), -100)
    assert math.isnan(L.cross_entropy(Z, y, w, label_smoothing=eps))  # 0 / 0, as torch
    for reduction in ("none", "mean", "sum"):
        assert_parity(Z, y, w, reduction=reduction, label_smoothing=eps)
    assert torch.equal(L.cross_entropy_grad(Z, y, w, label_smoothing=eps), torch.zeros_like(Z))
    assert torch.equal(L.cross_entropy(Z, y, w, reduction="none"), torch.zeros(3, dtype=F64))


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_all_counted_weights_zero_give_nan_mean_as_torch(eps: float) -> None:
    y = torch.tensor([1, 1, -100])  # class 1 has weight 0
    assert math.isnan(L.cross_entropy(Z, y, W, label_smoothing=eps))
    g = L.cross_entropy_grad(Z, y, W, label_smoothing=eps)
    assert bool(g[:2].isnan().all()) and torch.equal(g[2], torch.zeros(4, dtype=F64))
    assert_parity(Z, y, W, label_smoothing=eps)


def test_ignore_index_equal_to_a_real_class() -> None:
    y = torch.tensor([2, 0, 2])
    for eps in (0.0, 0.3):
        assert_parity(Z, y, W, ignore_index=2, label_smoothing=eps)
        assert_parity(Z, y, None, ignore_index=2, reduction="none", label_smoothing=eps)
    # only example 1 counts: its own loss, weight 1
    close(L.cross_entropy(Z, y, W, ignore_index=2), -F.log_softmax(Z[1], 0)[0])


def test_weight_with_label_smoothing_weights_the_smoothing_per_class() -> None:
    y, eps = torch.tensor([0, 3, 2]), 0.25
    log_p = F.log_softmax(Z, dim=1)
    by_hand = -(1 - eps) * W[y] * log_p[torch.arange(3), y] - eps / 4 * (W * log_p).sum(dim=1)
    close(L.cross_entropy(Z, y, W, reduction="none", label_smoothing=eps), by_hand)
    close(L.cross_entropy(Z, y, W, label_smoothing=eps), by_hand.sum() / W[y].sum())
    assert_parity(Z, y, W, label_smoothing=eps)


def test_probability_targets_mean_divides_by_n_not_the_weights() -> None:
    p = torch.softmax(torch.tensor([[0.0, 1.0, 2.0, 3.0]] * 3, dtype=F64), dim=1)
    per = L.cross_entropy(Z, p, W, reduction="none")
    close(L.cross_entropy(Z, p, W), per.sum() / 3)
    assert_parity(Z, p, W)


def test_single_example_and_empty_batch() -> None:
    for y, w in [(torch.tensor(2), W), (torch.tensor(1), W), (torch.tensor(3), None)]:
        for ignore_index in (-100, 2):
            for reduction in ("none", "mean", "sum"):
                assert_parity(Z[0], y, w, ignore_index=ignore_index, reduction=reduction, label_smoothing=0.1)
    assert math.isnan(L.cross_entropy(Z[0], torch.tensor(2), W, ignore_index=2))
    empty = torch.zeros(0, 4, dtype=F64)
    for target in (torch.zeros(0, dtype=torch.long), torch.zeros(0, 4, dtype=F64)):
        assert math.isnan(L.cross_entropy(empty, target, W))
        assert float(L.cross_entropy(empty, target, W, reduction="sum")) == 0.0
        assert L.cross_entropy(empty, target, W, reduction="none").shape == (0,)
        for reduction in ("none", "mean", "sum"):
            assert_parity(empty, target, W, reduction=reduction)


def test_infinite_logits() -> None:
    z = torch.tensor([[0.0, -INF, 1.0], [1e4, 0.0, -1e4], [5.0, -INF, -INF]], dtype=F64)
    for w in (None, torch.tensor([1.0, 0.0, 2.0], dtype=F64), torch.tensor([1.0, 2.0, 0.5], dtype=F64)):
        for reduction in ("none", "mean", "sum"):
            for y in (torch.tensor([0, 2, 0]), torch.tensor([1, 0, -100])):
                close(L.cross_entropy(z, y, w, reduction=reduction), F.cross_entropy(z, y, w, reduction=reduction))
                close(L.cross_entropy(z, y, w, reduction=reduction, label_smoothing=0.1),
                      F.cross_entropy(z, y, w, reduction=reduction, label_smoothing=0.1))
    # an example at logit -inf with weight 0: 0 * inf is NaN, for torch too
    assert math.isnan(L.cross_entropy(z[:1], torch.tensor([1]), torch.tensor([1.0, 0.0, 2.0], dtype=F64), reduction="sum"))
    # finite gradients where torch's are finite
    y = torch.tensor([0, 2, -100])
    assert_parity(z[:, [0, 2]].contiguous(), torch.tensor([0, 1, -100]), torch.tensor([2.0, 0.5], dtype=F64))
    assert bool(L.cross_entropy_grad(z, y, torch.tensor([1.0, 2.0, 0.5], dtype=F64)).isfinite().all())


def test_negative_weights_follow_torch() -> None:
    w = torch.tensor([1.0, -0.5, 2.0, 0.5], dtype=F64)
    for reduction in ("none", "mean", "sum"):
        assert_parity(Z, torch.tensor([1, 3, 0]), w, reduction=reduction, label_smoothing=0.1)


def test_float32_matches_torch() -> None:
    z, w, y = Z.float(), W.float(), torch.tensor([0, -100, 2])
    torch.testing.assert_close(L.cross_entropy(z, y, w, label_smoothing=0.1), F.cross_entropy(z, y, w, label_smoothing=0.1))
    assert L.cross_entropy(z, y, w).dtype == torch.float32


def test_positional_weight_and_keyword_only_rest() -> None:
    y = torch.tensor([0, 1, 2])
    close(L.cross_entropy(Z, y, W), F.cross_entropy(Z, y, W))
    close(L.cross_entropy_grad(Z, y, W), grad_of(lambda x: F.cross_entropy(x, y, W), Z))
    for fn in (L.cross_entropy, L.cross_entropy_grad):
        with pytest.raises(TypeError, match="positional argument"):
            fn(Z, y, W, -100)  # type: ignore[misc]
        with pytest.raises(TypeError, match="positional argument"):
            fn(Z, y, None, -100, "sum")  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# Every new raise, with its message
# ---------------------------------------------------------------------------------------

Y = torch.tensor([0, 1, 2])
P = torch.full((3, 4), 0.25, dtype=F64)
BAD = [
    ((Z, Y, [1.0, 1.0, 1.0, 1.0]), {}, TypeError, "weight must be a torch.Tensor, got list"),
    ((Z, Y, torch.ones(4, dtype=torch.long)), {}, TypeError, "weight must be a floating-point tensor, got torch.int64"),
    ((Z, Y, torch.ones(4)), {}, TypeError, "weight must have the dtype of logits, torch.float64, got torch.float32"),
    ((Z, P, torch.ones(4)), {}, TypeError, "weight must have the dtype of logits, torch.float64, got torch.float32"),
    ((Z, Y, torch.ones(3, dtype=F64)), {}, ValueError, "weight must have shape (4,), one weight per class, got (3,)"),
    ((Z, Y, torch.ones(1, 4, dtype=F64)), {}, ValueError, "weight must have shape (4,), one weight per class, got (1, 4)"),
    ((Z, Y, torch.tensor(1.0, dtype=F64)), {}, ValueError, "weight must have shape (4,), one weight per class, got ()"),
    ((Z, Y, torch.ones(4, dtype=F64, device="meta")), {}, ValueError, "weight is on meta but logits is on cpu; put both on one device"),
    ((Z, Y), {"ignore_index": 1.0}, TypeError, "ignore_index must be an int, got float"),
    ((Z, Y), {"ignore_index": True}, TypeError, "ignore_index must be an int, got bool"),
    ((Z, Y), {"ignore_index": torch.tensor(1)}, TypeError, "ignore_index must be an int, got Tensor"),
    ((Z, P), {"ignore_index": 0}, ValueError,
     "ignore_index applies to class indices only; with class probabilities (a floating target) it must be negative, got 0"),
    ((Z, torch.tensor([0, -1, 2])), {}, ValueError, "target holds class index -1, out of range [0, 3] for 4 classes"),
    ((Z, torch.tensor([0, 5, -100])), {"ignore_index": -100}, ValueError, "target holds class index 5, out of range [0, 3] for 4 classes"),
    ((Z, torch.tensor([0, 5, -100])), {"ignore_index": 5}, ValueError, "target holds class index -100, out of range [0, 3] for 4 classes"),
]


@pytest.mark.parametrize("fn", [L.cross_entropy, L.cross_entropy_grad], ids=["loss", "grad"])
@pytest.mark.parametrize("args, kwargs, error, message", BAD, ids=[m for *_, m in BAD])
def test_bad_input_raises(fn: Callable[..., torch.Tensor], args: tuple, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        fn(*args, **kwargs)


def test_ignored_out_of_range_targets_are_accepted_as_torch() -> None:
    y = torch.tensor([0, 7, 2])
    assert_parity(Z, y, W, ignore_index=7)
    assert_parity(Z, torch.tensor([-5, 1, 2]), None, ignore_index=-5, reduction="none")
