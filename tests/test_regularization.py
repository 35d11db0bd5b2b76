"""Tests of companion.regularization: dropout, penalties and early stopping (normalization and
pruning, which moved out, are tested in test_normalization.py and test_pruning.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

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
    with pytest.raises(TypeError, match="training must be a bool, got str"):
        R.dropout(torch.ones(3), 0.5, training="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inplace must be a bool"):
        R.Dropout(0.5, inplace=1)  # type: ignore[arg-type]


def test_dropout_in_place_as_torch() -> None:
    """inplace=True overwrites and returns its input, as torch's; the mask is the same as out of place."""
    x = torch.ones(1000)
    y = R.dropout(x, 0.4, inplace=True, generator=torch.Generator().manual_seed(3))
    assert y is x and set(x.unique().tolist()) <= set(torch.tensor([0.0, 1 / 0.6]).tolist())
    expected = R.dropout(torch.ones(1000), 0.4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(x, expected)
    m = R.Dropout(0.4, inplace=True)
    z = torch.ones(50)
    assert m(z) is z and "inplace=True" in repr(m)
    w = torch.ones(4)
    assert m.eval()(w) is w and torch.equal(w, torch.ones(4))  # evaluation: untouched
    leaf = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):  # as torch: a leaf that requires grad
        R.dropout(leaf, 0.5, inplace=True)


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
