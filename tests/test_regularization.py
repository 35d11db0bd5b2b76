"""Tests of companion.regularization: dropout, penalties, early stopping, layer/batch norm
(against torch.nn.functional in values, gradients and running statistics), pruning and the
lottery ticket."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from companion import _blocks as B
from companion import regularization as R
from strategies import seeds, tensors

# the device fixture holds no state, so sharing it across hypothesis examples is safe
device_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)

# --------------------------------------------------------------------------------------------
# dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_values_rate_and_expectation(p: float, device) -> None:
    x = torch.ones(200_000, dtype=torch.float64, device=device)
    y = R.dropout(x, p, generator=torch.Generator(device=device).manual_seed(0))
    kept = y != 0
    # survivors are scaled by 1/(1-p); the rest are exactly 0
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - p)))
    assert float((~kept).double().mean()) == pytest.approx(p, abs=0.005)  # p is the DROP rate
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)  # E[y] = x (inverted dropout)


@given(x=tensors(), p=st.floats(0.0, 0.95), seed=seeds)
def test_dropout_gradient_is_mask_over_keep(x: torch.Tensor, p: float, seed: int) -> None:
    x = x.clone().requires_grad_(True)
    y = R.dropout(x, p, generator=torch.Generator().manual_seed(seed))
    # the same generator state gives the same mask
    y2 = R.dropout(x.detach(), p, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(y.detach(), y2)
    (g,) = torch.autograd.grad(y.sum(), x)
    mask = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed), dtype=x.dtype) >= p
    torch.testing.assert_close(g, mask.double() / (1 - p))
    torch.testing.assert_close(y.detach(), x.detach() * mask.double() / (1 - p))


def test_dropout_eval_and_p_zero(device) -> None:
    x = torch.randn(5, 4, device=device)
    assert R.dropout(x, 0.5, training=False) is x
    torch.testing.assert_close(R.dropout(x, 0.0), x)


def test_dropout_same_law_as_torch() -> None:
    # torch draws its mask differently, but the outputs take the same two values at the same rate
    x = torch.ones(100_000)
    ours, theirs = R.dropout(x, 0.3), F.dropout(x, 0.3, training=True)
    assert set(ours.unique().tolist()) == set(theirs.unique().tolist())
    assert abs(float((ours == 0).float().mean() - (theirs == 0).float().mean())) < 0.01


def test_dropout_module_train_eval() -> None:
    m = R.Dropout(0.5)
    x = torch.ones(1000)
    assert bool((m(x) == 0).any())
    m.eval()
    assert torch.equal(m(x), x)
    assert "p=0.5" in repr(m)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, math.nan])
def test_dropout_refuses_p_outside_unit_interval(p: float) -> None:
    with pytest.raises(ValueError, match="p"):
        R.dropout(torch.ones(3), p)
    with pytest.raises(ValueError, match="p"):
        R.Dropout(p)


def test_dropout_type_errors() -> None:
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        R.dropout(torch.ones(3, dtype=torch.int64), 0.5)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        R.dropout([1.0], 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="p must be a real number"):
        R.dropout(torch.ones(3), "0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator"):
        R.dropout(torch.ones(3), 0.5, generator=1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# L1 / L2


def test_penalties_known_values(device) -> None:
    w = torch.tensor([[1.0, -2.0], [0.0, 3.0]], device=device)
    assert float(R.l1_penalty(w, 0.5)) == pytest.approx(3.0)
    assert float(R.l2_penalty(w, 0.5)) == pytest.approx(0.5 * 0.5 * 14)
    assert float(R.l1_penalty([w, w])) == pytest.approx(12.0)


def test_penalties_of_a_module_skip_biases() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    weights = [model[0].weight, model[2].weight]
    with torch.no_grad():
        assert float(R.l1_penalty(model)) == pytest.approx(float(sum(w.abs().sum() for w in weights)))
        assert float(R.l2_penalty(model, 2.0)) == pytest.approx(float(sum(w.pow(2).sum() for w in weights)))


@given(w=tensors(), lam=st.floats(0.0, 5.0))
def test_penalty_gradients_match_autograd(w: torch.Tensor, lam: float) -> None:
    w = w.clone().requires_grad_(True)
    (g1,) = torch.autograd.grad(R.l1_penalty(w, lam), w)
    (g2,) = torch.autograd.grad(R.l2_penalty(w, lam), w)
    torch.testing.assert_close(R.l1_penalty_grad(w.detach(), lam), g1)
    torch.testing.assert_close(R.l2_penalty_grad(w.detach(), lam), g2)


def test_l2_penalty_is_sgd_weight_decay() -> None:
    torch.manual_seed(0)
    a = nn.Linear(5, 3, bias=False)
    b = nn.Linear(5, 3, bias=False)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(8, 5), torch.randn(8, 3)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=0.01)
    for _ in range(5):
        opt_a.zero_grad()
        (F.mse_loss(a(x), y) + R.l2_penalty(a, 0.01)).backward()
        opt_a.step()
        opt_b.zero_grad()
        F.mse_loss(b(x), y).backward()
        opt_b.step()
    torch.testing.assert_close(a.weight, b.weight)


def test_penalty_errors() -> None:
    with pytest.raises(ValueError, match="strength"):
        R.l1_penalty(torch.ones(2), -1.0)
    with pytest.raises(ValueError, match="strength"):
        R.l2_penalty(torch.ones(2), -0.1)
    with pytest.raises(TypeError, match="params"):
        R.l2_penalty(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="params"):
        R.l1_penalty([torch.ones(2, dtype=torch.int64)])
    with pytest.raises(ValueError, match="params"):
        R.l1_penalty([])
    with pytest.raises(TypeError, match="strength"):
        R.l1_penalty(torch.ones(2), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="w must be"):
        R.l1_penalty_grad(torch.ones(2, dtype=torch.int64))


# --------------------------------------------------------------------------------------------
# early stopping


def test_early_stopping_epoch_known_answers() -> None:
    rise = [1.0, 0.8, 0.6, 0.65, 0.7, 0.9]
    assert R.early_stopping_epoch(rise, patience=1) == (4, 3)
    assert R.early_stopping_epoch(rise, patience=3) == (6, 3)
    assert R.early_stopping_epoch(rise, patience=4) == (None, 3)
    # falling all the way: never stops (a decreasing validation loss is no reason to stop)
    assert R.early_stopping_epoch([5.0, 4.0, 3.0, 2.0], patience=1) == (None, 4)
    # min_delta: 0.99 is not better than 1.0 by more than 0.05
    assert R.early_stopping_epoch([1.0, 0.99, 0.98], patience=2, min_delta=0.05) == (3, 1)
    assert R.early_stopping_epoch([0.1, 0.5, 0.9], patience=2, mode="max") == (None, 3)
    assert R.early_stopping_epoch([math.nan, 1.0, math.nan, math.nan], patience=2) == (4, 2)
    assert R.early_stopping_epoch([math.nan, math.nan], patience=2) == (2, 0)


@given(values=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=30), patience=st.integers(1, 5))
def test_early_stopping_epoch_laws(values: list[float], patience: int) -> None:
    stop, best = R.early_stopping_epoch(values, patience)
    seen = values[: stop if stop is not None else len(values)]
    assert values[best - 1] == min(seen)
    assert best == seen.index(min(seen)) + 1  # the first epoch reaching the minimum
    if stop is not None:
        assert stop - best == patience
    else:
        assert len(values) - best < patience


def _toy_state(model: nn.Module) -> SimpleNamespace:
    return SimpleNamespace(model=model, epoch=0, logs={}, stop_training=False)


def test_early_stopping_callback_restores_best_weights() -> None:
    model = nn.Linear(2, 1)
    state = _toy_state(model)
    stopper = R.EarlyStopping(patience=2)
    stopper.on_train_begin(state)
    losses = [3.0, 2.0, 1.0, 1.5, 2.5, 0.1]
    snapshots = []
    for epoch, loss in enumerate(losses, start=1):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # the weights "after" each epoch
        snapshots.append(model.weight.detach().clone())
        state.epoch, state.logs = epoch, {"val_loss": loss}
        stopper.on_epoch_end(state)
        if state.stop_training:
            break
    stopper.on_train_end(state)
    assert (stopper.stopped_epoch, stopper.best_epoch) == R.early_stopping_epoch(losses, 2) == (5, 3)
    assert stopper.best == 1.0
    assert torch.equal(model.weight, snapshots[2])


def test_early_stopping_without_restore_keeps_last_weights() -> None:
    model = nn.Linear(2, 1)
    state = _toy_state(model)
    stopper = R.EarlyStopping(patience=1, restore_best=False)
    stopper.on_train_begin(state)
    for epoch, loss in enumerate([1.0, 2.0], start=1):
        with torch.no_grad():
            model.weight.fill_(float(epoch))
        state.epoch, state.logs = epoch, {"val_loss": loss}
        stopper.on_epoch_end(state)
    stopper.on_train_end(state)
    assert state.stop_training and model.weight[0, 0].item() == 2.0


def test_early_stopping_with_fit_restores_the_best_epoch() -> None:
    from companion.data import digits, loader, train_val_split
    from companion.train import evaluate, fit

    torch.manual_seed(0)
    X, y = digits()
    X_tr, y_tr, X_va, y_va = train_val_split(X[:400], y[:400], val_fraction=0.5)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)  # large: overfits quickly
    stopper = R.EarlyStopping(patience=3)
    val = loader(X_va, y_va, 200, shuffle=False)
    h = fit(model, F.cross_entropy, opt, loader(X_tr, y_tr, 50), val, epochs=100, callbacks=[stopper], progress=False)
    assert h.stopped_early and len(h) == stopper.stopped_epoch < 100
    best_epoch, best_loss = h.best("val_loss")
    assert stopper.best_epoch == best_epoch and len(h) - best_epoch == 3
    assert h["val_loss"][-1] > best_loss  # it stopped because the validation loss rose
    assert evaluate(model, F.cross_entropy, val)["loss"] == pytest.approx(best_loss, rel=1e-6)


def test_early_stopping_errors() -> None:
    with pytest.raises(ValueError, match="patience"):
        R.EarlyStopping(patience=0)
    with pytest.raises(TypeError, match="patience"):
        R.EarlyStopping(patience=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_delta"):
        R.EarlyStopping(min_delta=-1.0)
    with pytest.raises(ValueError, match="mode"):
        R.EarlyStopping(mode="lowest")
    with pytest.raises(TypeError, match="monitor"):
        R.EarlyStopping(monitor=3)  # type: ignore[arg-type]
    stopper = R.EarlyStopping()
    state = _toy_state(nn.Linear(1, 1))
    state.epoch, state.logs = 1, {"train_loss": 1.0}
    with pytest.raises(ValueError, match="monitor='val_loss'"):
        stopper.on_epoch_end(state)
    with pytest.raises(ValueError, match="values"):
        R.early_stopping_epoch([], 2)
    with pytest.raises(ValueError, match="patience"):
        R.early_stopping_epoch([1.0], 0)
    with pytest.raises(ValueError, match="min_delta"):
        R.early_stopping_epoch([1.0], 1, min_delta=-0.5)
    with pytest.raises(ValueError, match="mode"):
        R.early_stopping_epoch([1.0], 1, mode="up")


# --------------------------------------------------------------------------------------------
# layer norm


@st.composite
def layer_norm_cases(draw: st.DrawFn):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    k = draw(st.integers(1, len(shape)))
    x = draw(tensors(shape))
    affine = draw(st.booleans())
    w = draw(tensors(shape[-k:], elements=st.floats(-3, 3))) if affine else None
    b = draw(tensors(shape[-k:], elements=st.floats(-3, 3))) if affine else None
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.5]))
    return x, shape[-k:], w, b, eps


def _grads(fn, inputs, g):
    inputs = [t.clone().requires_grad_(True) if t is not None else None for t in inputs]
    y = fn(*inputs)
    present = [t for t in inputs if t is not None]
    return y.detach(), torch.autograd.grad(y, present, g)


@device_ok
@given(case=layer_norm_cases(), seed=seeds)
def test_layer_norm_equals_torch(case, seed, device) -> None:
    x, shape, w, b, eps = case
    x, w, b = (t.to(device) if t is not None else None for t in (x, w, b))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device)
    y1, g1 = _grads(lambda x, w, b: R.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-7, atol=1e-7)


@given(case=layer_norm_cases(), seed=seeds)
def test_layer_norm_backward_function(case, seed) -> None:
    x, shape, w, b, eps = case
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    _, grads = _grads(lambda x, w, b: F.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    gx, gw, gb = R.layer_norm_backward(g, x, shape, w, eps)
    torch.testing.assert_close(gx, grads[0], rtol=1e-7, atol=1e-7)
    if w is not None:
        torch.testing.assert_close(gw, grads[1], rtol=1e-7, atol=1e-7)
        torch.testing.assert_close(gb, grads[2], rtol=1e-7, atol=1e-7)
    else:
        assert gw is None
        lead = tuple(range(x.dim() - len(shape)))
        torch.testing.assert_close(gb, g.sum(dim=lead) if lead else g)


def test_layer_norm_gradcheck(device) -> None:
    x = torch.randn(3, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: R.layer_norm(x, (4, 5), w, b), (x, w, b))
    assert torch.autograd.gradcheck(lambda x: R.layer_norm(x, 5), (x,))


def test_layer_norm_example_from_the_notes(device) -> None:
    x = torch.arange(20.0, device=device).reshape(2, 5, 2)
    y = R.layer_norm(x, (5, 2))
    row = torch.tensor([[-1.5667, -1.2185], [-0.8704, -0.5222], [-0.1741, 0.1741], [0.5222, 0.8704], [1.2185, 1.5667]], device=device)
    torch.testing.assert_close(y[0], row, atol=1e-4, rtol=0)
    torch.testing.assert_close(y[1], row, atol=1e-4, rtol=0)  # each example normalized on its own


def test_layer_norm_float32_close_to_torch(device) -> None:
    x = torch.randn(16, 32, device=device) * 10 + 3
    torch.testing.assert_close(R.layer_norm(x, 32), F.layer_norm(x, (32,)), rtol=1e-4, atol=1e-5)


def test_layer_norm_module_matches_torch() -> None:
    torch.manual_seed(0)
    ours, theirs = R.LayerNorm((4, 3)), nn.LayerNorm((4, 3))
    with torch.no_grad():
        ours.weight.normal_()
        ours.bias.normal_()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 4, 3)
    torch.testing.assert_close(ours(x), theirs(x))
    assert R.LayerNorm(3, elementwise_affine=False).weight is None


def test_layer_norm_errors() -> None:
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="normalized_shape"):
        R.layer_norm(x, 2)
    with pytest.raises(ValueError, match="normalized_shape"):
        R.layer_norm(x, (2, 2, 3))
    with pytest.raises(TypeError, match="normalized_shape"):
        R.layer_norm(x, 3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalized_shape"):
        R.layer_norm(x, True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weight must have shape"):
        R.layer_norm(x, 3, torch.ones(2))
    with pytest.raises(ValueError, match="bias must have the dtype"):
        R.layer_norm(x, 3, None, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="eps"):
        R.layer_norm(x, 3, eps=0.0)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        R.layer_norm(torch.ones(2, 3, dtype=torch.int64), 3)
    with pytest.raises(ValueError, match="grad_output"):
        R.layer_norm_backward(torch.ones(3, 2), x, 3)


# --------------------------------------------------------------------------------------------
# batch norm


@st.composite
def batch_norm_cases(draw: st.DrawFn):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if n * math.prod(spatial) == 1:
        n = 2  # training needs more than one value per feature
    x = draw(tensors((n, c) + spatial))
    affine = draw(st.booleans())
    w = draw(tensors((c,), elements=st.floats(-3, 3))) if affine else None
    b = draw(tensors((c,), elements=st.floats(-3, 3))) if affine else None
    rm = draw(tensors((c,), elements=st.floats(-5, 5)))
    rv = draw(tensors((c,), elements=st.floats(0.1, 5)))
    momentum = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    eps = draw(st.sampled_from([1e-5, 1e-2]))
    return x, w, b, rm, rv, momentum, eps


@device_ok
@given(case=batch_norm_cases(), training=st.booleans(), seed=seeds)
def test_batch_norm_equals_torch(case, training, seed, device) -> None:
    x, w, b, rm, rv, momentum, eps = (t.to(device) if isinstance(t, torch.Tensor) else t for t in case)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device)
    rm1, rv1, rm2, rv2 = rm.clone(), rv.clone(), rm.clone(), rv.clone()
    y1, g1 = _grads(lambda x, w, b: R.batch_norm(x, rm1, rv1, w, b, training, momentum, eps), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.batch_norm(x, rm2, rv2, w, b, training, momentum, eps), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(rm1, rm2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rv1, rv2, rtol=1e-12, atol=1e-12)
    if not training:
        assert torch.equal(rm1, rm) and torch.equal(rv1, rv)  # evaluation does not update


@given(case=batch_norm_cases(), seed=seeds)
def test_batch_norm_backward_function(case, seed) -> None:
    x, w, b, _, _, _, eps = case
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    _, grads = _grads(lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, eps), (x, w, b), g)
    gx, gw, gb = R.batch_norm_backward(g, x, w, eps)
    torch.testing.assert_close(gx, grads[0], rtol=1e-7, atol=1e-7)
    if w is not None:
        torch.testing.assert_close(gw, grads[1], rtol=1e-7, atol=1e-7)
    else:
        assert gw is None
    torch.testing.assert_close(gb, g.sum(dim=(0,) + tuple(range(2, x.dim()))))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_batch_norm_gradcheck(training, shape, device) -> None:
    x = torch.randn(shape, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    rm = torch.randn(3, dtype=torch.float64, device=device)
    rv = torch.rand(3, dtype=torch.float64, device=device) + 0.5
    fn = lambda x, w, b: R.batch_norm(x, rm.clone(), rv.clone(), w, b, training)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(7, 3), (5, 3, 6), (3, 3, 4, 2)])
def test_batch_norm_block_by_block_with_a_large_offset(monkeypatch, training, shape, device) -> None:
    """With one example per block (every block loop runs many times) and inputs 1e4 + noise
    (where a one-pass variance would cancel), values, gradients and running statistics equal PyTorch's."""
    monkeypatch.setattr(B, "BLOCK_BYTES", 1)
    gen = torch.Generator().manual_seed(sum(shape) + training)
    x = (1e4 + torch.randn(shape, generator=gen, dtype=torch.float64)).to(device)
    w, b = (torch.randn(3, generator=gen, dtype=torch.float64).to(device) for _ in range(2))
    g = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
    stats = [(torch.full((3,), 1e4, dtype=torch.float64, device=device), torch.ones(3, dtype=torch.float64, device=device))
             for _ in range(2)]
    y1, g1 = _grads(lambda x, w, b: R.batch_norm(x, *stats[0], w, b, training), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.batch_norm(x, *stats[1], w, b, training), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-8, atol=1e-8)
    for a, c in zip(stats[0], stats[1]):
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)
    if training:
        for a, c in zip(R.batch_norm_backward(g, x, w), g2):
            torch.testing.assert_close(a, c, rtol=1e-8, atol=1e-8)


def test_batch_norm_evaluation_backward_after_the_running_statistics_change(device) -> None:
    """The backward pass of an evaluation-mode call uses the statistics of that call."""
    x = torch.randn(6, 3, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    rm, rv = torch.randn(3, dtype=torch.float64, device=device), torch.rand(3, dtype=torch.float64, device=device) + 0.5
    (expected,) = torch.autograd.grad(F.batch_norm(x, rm, rv, w, training=False).square().sum(), w)
    y = R.batch_norm(x, rm, rv, w, training=False)
    R.batch_norm(x.detach(), rm, rv, training=True)  # a training step updates rm, rv in place
    (grad_w,) = torch.autograd.grad(y.square().sum(), w)
    torch.testing.assert_close(grad_w, expected, rtol=1e-10, atol=1e-10)


def test_batch_norm_example_from_the_notes(device) -> None:
    x = torch.arange(30.0, device=device).reshape(2, 5, 3)
    rm, rv = torch.zeros(5, device=device), torch.ones(5, device=device)
    y = R.batch_norm(x, rm, rv, training=True)
    first = torch.tensor([-1.1267, -0.9941, -0.8616], device=device)
    # every feature gets the same normalized values: its 6 entries are evenly spread alike
    torch.testing.assert_close(y[0], first.expand(5, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(y[1], (-first.flip(0)).expand(5, 3), atol=1e-4, rtol=0)
    # running statistics: mean 0.9 * 0 + 0.1 * mu_c, variance with the unbiased estimate
    mu = torch.tensor([8.5, 11.5, 14.5, 17.5, 20.5], device=device)
    torch.testing.assert_close(rm, 0.1 * mu)
    unbiased = x.transpose(0, 1).reshape(5, -1).var(dim=1, unbiased=True)
    torch.testing.assert_close(rv, 0.9 + 0.1 * unbiased)
    assert float(unbiased[0]) == pytest.approx(68.3, rel=1e-6)  # 341.5 / 5, not 341.5 / 6


def test_batch_norm_gamma_beta_are_per_feature() -> None:
    x = torch.randn(7, 3)
    w, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, -1.0, 5.0])
    y = R.batch_norm(x, None, None, w, b, training=True)
    # each column c has mean beta_c and (biased) std ~ gamma_c, whatever the batch size
    torch.testing.assert_close(y.mean(0), b, atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(0, unbiased=False), w, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="weight must have shape"):
        R.batch_norm(x, None, None, torch.ones(7), None, training=True)  # one per example: wrong


def test_batch_norm_module_matches_torch_train_then_eval() -> None:
    torch.manual_seed(0)
    ours, theirs = R.BatchNorm(4, momentum=0.2), nn.BatchNorm1d(4, momentum=0.2)
    for _ in range(3):
        x = torch.randn(8, 4, 6) * 3 + 1
        torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval(), theirs.eval()
    x = torch.randn(2, 4, 6)
    torch.testing.assert_close(ours(x), theirs(x))
    assert R.BatchNorm(2, affine=False).weight is None


def test_batch_norm_errors() -> None:
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        R.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="together"):
        R.batch_norm(x, torch.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        R.batch_norm(torch.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="x must have shape"):
        R.batch_norm(torch.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match="running_var must have shape"):
        R.batch_norm(x, torch.zeros(3), torch.ones(4), training=True)
    with pytest.raises(ValueError, match="momentum"):
        R.batch_norm(x, None, None, training=True, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        R.batch_norm(x, None, None, training=True, eps=-1.0)
    with pytest.raises(TypeError, match="training"):
        R.batch_norm(x, None, None, training="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="running_mean must be a floating-point tensor"):
        R.batch_norm(x, torch.zeros(3, dtype=torch.int64), torch.ones(3), training=True)
    with pytest.raises(ValueError, match="grad_output"):
        R.batch_norm_backward(torch.ones(3, 4), x)
    with pytest.raises(ValueError, match="x must have shape"):
        R.batch_norm_backward(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="num_features"):
        R.BatchNorm(0)


# --------------------------------------------------------------------------------------------
# pruning and the lottery ticket


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 3))


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.75, 1.0])
def test_magnitude_prune_removes_the_smallest(scope: str, fraction: float) -> None:
    model = _mlp()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    masks = R.magnitude_prune(model, fraction, scope=scope)
    assert set(masks) == {"0.weight", "2.weight", "4.weight"}
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert torch.equal(p, before[name])  # biases untouched
            continue
        m = masks[name]
        assert m.dtype == torch.bool and m.shape == p.shape
        torch.testing.assert_close(p.detach(), before[name] * m)
        if scope == "layer":
            assert int((~m).sum()) == round(fraction * m.numel())
        if scope == "layer" and 0 < m.sum() < m.numel():
            assert float(before[name][m].abs().min()) >= float(before[name][~m].abs().max())
    total = sum(m.numel() for m in masks.values())
    if scope == "global":
        assert sum(int((~m).sum()) for m in masks.values()) == round(fraction * total)
        kept = torch.cat([before[n][m].abs() for n, m in masks.items()])
        dropped = torch.cat([before[n][~m].abs() for n, m in masks.items()])
        if len(kept) and len(dropped):
            assert float(kept.min()) >= float(dropped.max())
        assert R.sparsity(model) == pytest.approx(round(fraction * total) / total)


def test_global_and_layer_scopes_differ() -> None:
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    with torch.no_grad():
        model[0].weight.fill_(0.01)
        model[1].weight.fill_(1.0)
    g = R.magnitude_prune(model, 0.5, "global")
    assert not g["0.weight"].any() and g["1.weight"].all()  # the small layer is removed entirely
    model2 = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    with torch.no_grad():
        model2[0].weight.fill_(0.01)
        model2[1].weight.fill_(1.0)
    lay = R.magnitude_prune(model2, 0.5, "layer")
    assert int(lay["0.weight"].sum()) == 8 and int(lay["1.weight"].sum()) == 8


def test_pruning_again_extends_the_masks() -> None:
    model = _mlp()
    m1 = R.magnitude_prune(model, 0.4)
    m2 = R.magnitude_prune(model, 0.7)
    for name in m1:
        assert not (m2[name] & ~m1[name]).any()  # nothing pruned comes back


@pytest.mark.parametrize("make_opt", [
    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda ps: torch.optim.Adam(ps, lr=0.01),
])
def test_apply_masks_keeps_pruned_weights_at_zero(make_opt, device) -> None:
    model = _mlp().to(device)
    masks = R.magnitude_prune(model, 0.6)
    model2 = _mlp().to(device)  # fresh weights, same masks
    handles = R.apply_masks(model2, masks)
    opt = make_opt(model2.parameters())
    x, y = torch.randn(32, 6, device=device), torch.randint(0, 3, (32,), device=device)
    for _ in range(10):
        opt.zero_grad()
        F.cross_entropy(model2(x), y).backward()
        opt.step()
    for name, p in model2.named_parameters():
        if name in masks:
            assert bool((p[~masks[name]] == 0).all())
            assert bool((p[masks[name]] != 0).all())
    for h in handles:
        h.remove()


def test_lottery_ticket_rewinds_to_the_initial_weights() -> None:
    model = _mlp()
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    starts = []

    def train(m: nn.Module) -> float:
        starts.append({k: v.clone() for k, v in m.state_dict().items()})
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(30):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
        return loss.item()

    res = R.lottery_ticket(model, train, fraction=0.8, rounds=3)
    assert len(starts) == 4 and len(res.round_results) == 3
    assert res.sparsities == pytest.approx([1 - 0.2 ** (r / 3) for r in (1, 2, 3)], abs=0.01)
    for k, v in theta0.items():
        assert torch.equal(starts[0][k], v)
        mask = res.masks.get(k)
        # the ticket starts from m * theta_0: rewound, not re-initialized
        expected = v * mask if mask is not None else v
        assert torch.equal(starts[-1][k], expected)
    assert R.sparsity(model) == pytest.approx(0.8, abs=0.01)
    assert res.dense_result == res.round_results[0]
    assert math.isfinite(res.ticket_result)


def test_pruning_errors() -> None:
    model = _mlp()
    with pytest.raises(ValueError, match="fraction"):
        R.magnitude_prune(model, 1.5)
    with pytest.raises(ValueError, match="scope"):
        R.magnitude_prune(model, 0.5, scope="neuron")
    with pytest.raises(TypeError, match="model"):
        R.magnitude_prune(torch.ones(3, 3), 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model has no weight"):
        R.magnitude_prune(nn.LayerNorm(3), 0.5)
    with pytest.raises(ValueError, match="masks"):
        R.apply_masks(model, {"nope.weight": torch.ones(2, dtype=torch.bool)})
    with pytest.raises(ValueError, match="masks"):
        R.apply_masks(model, {"0.weight": torch.ones(2, dtype=torch.bool)})
    with pytest.raises(TypeError, match="model"):
        R.apply_masks(None, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fraction"):
        R.lottery_ticket(model, lambda m: None, fraction=1.0)
    with pytest.raises(ValueError, match="rounds"):
        R.lottery_ticket(model, lambda m: None, fraction=0.5, rounds=0)
    with pytest.raises(TypeError, match="train"):
        R.lottery_ticket(model, None, fraction=0.5)  # type: ignore[arg-type]



@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)])
@pytest.mark.parametrize("layer", ["layer_norm", "batch_norm_train", "batch_norm_eval"])
def test_normalization_gradients_of_a_subset_of_inputs(needs, layer, device) -> None:
    """Only the inputs that require a gradient get one, and it equals PyTorch's; x is not modified."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, 5, generator=gen, dtype=torch.float64).to(device)
    c = 5 if layer == "layer_norm" else 4
    w, b = (torch.randn(c, generator=gen, dtype=torch.float64).to(device) for _ in range(2))
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(device)
    x0 = x.clone()
    stats = lambda: (torch.zeros(4, dtype=torch.float64, device=device), torch.ones(4, dtype=torch.float64, device=device))  # noqa: E731
    ours = {"layer_norm": lambda x, w, b: R.layer_norm(x, 5, w, b),
            "batch_norm_train": lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=True),
            "batch_norm_eval": lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=False)}[layer]
    ref = {"layer_norm": lambda x, w, b: F.layer_norm(x, (5,), w, b),
           "batch_norm_train": lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=True),
           "batch_norm_eval": lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=False)}[layer]
    results = []
    for fn in (ours, ref):
        inputs = [t.clone().requires_grad_(need) for t, need in zip((x, w, b), needs)]
        y = fn(*inputs)
        results.append(torch.autograd.grad(y, [t for t in inputs if t.requires_grad], g))
    assert len(results[0]) == sum(needs)
    for a, c_ in zip(*results):
        torch.testing.assert_close(a, c_, rtol=1e-9, atol=1e-9)
    assert torch.equal(x, x0)
