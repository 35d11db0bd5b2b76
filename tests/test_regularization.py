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


def test_l2_penalty_is_adam_weight_decay_but_not_adamw() -> None:
    def run(make, penalty: float) -> torch.Tensor:
        torch.manual_seed(0)
        model = nn.Linear(5, 3, bias=False)
        opt = make(model.parameters())
        x, y = torch.randn(8, 5, generator=torch.Generator().manual_seed(1)), torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
        for _ in range(10):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + (R.l2_penalty(model, penalty) if penalty else 0.0)
            loss.backward()
            opt.step()
        return model.weight.detach()

    coupled = run(lambda p: torch.optim.Adam(p, lr=0.05), 0.5)
    torch.testing.assert_close(coupled, run(lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.5), 0.0))
    decoupled = run(lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.5), 0.0)
    assert float((coupled - decoupled).abs().max()) > 1e-3


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
# per-layer penalties


def test_layer_penalty_known_values(device) -> None:
    w1 = torch.tensor([[1.0, -2.0], [0.0, 3.0]], dtype=torch.float64, device=device)  # |w|: 6, w^2: 14
    w2 = torch.tensor([[0.5, -1.0]], dtype=torch.float64, device=device)  # |w|: 1.5, w^2: 1.25
    assert float(R.layer_penalty([w1, w2], [0.1, 2.0])) == pytest.approx(0.1 / 2 * 14 + 2.0 / 2 * 1.25)
    assert float(R.layer_penalty([w1, w2], [0.1, 2.0], p=1)) == pytest.approx(0.1 * 6 + 2.0 * 1.5)
    assert float(R.layer_penalty([w1, w2], [1.0, 0.0], p=3)) == pytest.approx((1 + 8 + 27) / 3)
    # equal coefficients: the ordinary penalties
    assert float(R.layer_penalty([w1, w2], [0.3, 0.3])) == pytest.approx(float(R.l2_penalty([w1, w2], 0.3)))
    assert float(R.layer_penalty([w1, w2], [0.3, 0.3], p=1)) == pytest.approx(float(R.l1_penalty([w1, w2], 0.3)))


def test_layer_penalty_of_a_module_takes_weights_in_order() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        expected = 0.5 * 1.0 * model[0].weight.pow(2).sum() + 0.5 * 10.0 * model[2].weight.pow(2).sum()
        torch.testing.assert_close(R.layer_penalty(model, [1.0, 10.0]), expected)


@given(w1=tensors((3, 2)), w2=tensors((2, 3)), c1=st.floats(0.0, 3.0), c2=st.floats(0.0, 3.0), p=st.floats(1.0, 4.0))
def test_layer_penalty_gradient_is_the_formula(w1: torch.Tensor, w2: torch.Tensor, c1: float, c2: float, p: float) -> None:
    w1, w2 = w1.clone().requires_grad_(True), w2.clone().requires_grad_(True)
    g1, g2 = torch.autograd.grad(R.layer_penalty([w1, w2], [c1, c2], p=p), [w1, w2])
    for g, w, c in ((g1, w1, c1), (g2, w2, c2)):
        w = w.detach()
        torch.testing.assert_close(g, c * w.abs().pow(p - 1) * torch.sign(w))


def test_rescaling_a_relu_network_moves_a_one_layer_penalty() -> None:
    """The function is unchanged by (a W1, a b1, W2 / a); a penalty on W1 alone falls by a^2."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double()
    x = torch.randn(11, 5, dtype=torch.float64)
    before = model(x)
    penalty_before = R.layer_penalty(model, [1.0, 0.0])
    with torch.no_grad():
        model[0].weight.mul_(0.1)
        model[0].bias.mul_(0.1)
        model[2].weight.div_(0.1)
    torch.testing.assert_close(model(x), before)
    torch.testing.assert_close(R.layer_penalty(model, [1.0, 0.0]), 0.01 * penalty_before)


def test_layer_penalty_errors() -> None:
    w = [torch.ones(2, 2), torch.ones(1, 2)]
    with pytest.raises(ValueError, match="coefficients must hold one number per weight tensor \\(2\\), got 1"):
        R.layer_penalty(w, [1.0])
    with pytest.raises(ValueError, match=r"coefficients\[1\]"):
        R.layer_penalty(w, [1.0, -1.0])
    with pytest.raises(TypeError, match=r"coefficients\[0\] must be a real number"):
        R.layer_penalty(w, ["a", 1.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="coefficients must be a sequence"):
        R.layer_penalty(w, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="coefficients must be a sequence"):
        R.layer_penalty(w, "12")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="p must be"):
        R.layer_penalty(w, [1.0, 1.0], p=0.5)
    with pytest.raises(ValueError, match="params"):
        R.layer_penalty([], [])
    with pytest.raises(TypeError, match="params"):
        R.layer_penalty([torch.ones(2, dtype=torch.int64)], [1.0])


# --------------------------------------------------------------------------------------------
# Fiedler regularization


def _laplacian(adjacency: torch.Tensor) -> torch.Tensor:
    return torch.diag(adjacency.sum(1)) - adjacency


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_fiedler_value_of_known_graphs(n: int, device) -> None:
    kw = dict(dtype=torch.float64, device=device)
    complete = _laplacian(torch.ones(n, n, **kw) - torch.eye(n, **kw))
    assert float(R.fiedler(complete)[0]) == pytest.approx(n)  # K_n: lambda_2 = n
    path = _laplacian(torch.diag(torch.ones(n - 1, **kw), 1) + torch.diag(torch.ones(n - 1, **kw), -1))
    assert float(R.fiedler(path)[0]) == pytest.approx(2 * (1 - math.cos(math.pi / n)))  # P_n
    star = torch.zeros(n + 1, n + 1, **kw)
    star[0, 1:] = star[1:, 0] = 1.0
    assert float(R.fiedler(_laplacian(star))[0]) == pytest.approx(1.0)  # star K_{1,n}: lambda_2 = 1
    # two disjoint triangles: disconnected, lambda_2 = 0; the vector separates the components
    two = torch.zeros(6, 6, **kw)
    two[:3, :3] = two[3:, 3:] = 1.0
    value, vector = R.fiedler(_laplacian(two - torch.diag(torch.diag(two))))
    assert float(value) == pytest.approx(0.0, abs=1e-12)
    assert float(vector.sum()) == pytest.approx(0.0, abs=1e-12) and float(vector.norm()) == pytest.approx(1.0)
    torch.testing.assert_close(vector[:3], vector[:1].expand(3))  # constant on each component
    torch.testing.assert_close(vector[3:], -vector[:1].expand(3))


@pytest.mark.parametrize("components", [2, 3, 5])
def test_fiedler_vector_of_a_disconnected_graph(components: int) -> None:
    """lambda_2 = 0; the vector is a unit null vector orthogonal to 1 (constant on each component)."""
    block = torch.ones(3, 3, dtype=torch.float64) - torch.eye(3, dtype=torch.float64)
    L = _laplacian(torch.block_diag(*[block * (k + 1) for k in range(components)]))
    value, v = R.fiedler(L)
    assert float(value) == pytest.approx(0.0, abs=1e-12)
    assert float(v.norm()) == pytest.approx(1.0) and abs(float(v.sum())) < 1e-10
    assert float((L @ v).norm()) < 1e-10
    for k in range(components):
        torch.testing.assert_close(v[3 * k: 3 * k + 3], v[3 * k].expand(3))


def test_fiedler_vector_of_a_path_is_monotone() -> None:
    n = 6
    path = _laplacian(torch.diag(torch.ones(n - 1), 1) + torch.diag(torch.ones(n - 1), -1)).double()
    _, v = R.fiedler(path)
    expected = torch.cos(math.pi * (torch.arange(n, dtype=torch.float64) + 0.5) / n)
    expected = expected / expected.norm()
    torch.testing.assert_close(v.abs(), expected.abs())  # v_k = cos(pi (k + 1/2) / n), up to sign
    assert bool((v.diff() < 0).all() or (v.diff() > 0).all())


def test_network_laplacian_by_hand(device) -> None:
    w1 = torch.tensor([[1.0, -2.0]], dtype=torch.float64, device=device)  # inputs 0, 1 -> hidden 2
    w2 = torch.tensor([[3.0], [-0.5]], dtype=torch.float64, device=device)  # hidden 2 -> outputs 3, 4
    expected = torch.tensor(
        [[1.0, 0, -1, 0, 0], [0, 2, -2, 0, 0], [-1, -2, 6.5, -3, -0.5], [0, 0, -3, 3, 0], [0, 0, -0.5, 0, 0.5]],
        dtype=torch.float64, device=device,
    )
    torch.testing.assert_close(R.network_laplacian([w1, w2]), expected)
    model = nn.Sequential(nn.Linear(2, 1), nn.Tanh(), nn.Linear(1, 2)).double().to(device)
    with torch.no_grad():
        model[0].weight.copy_(w1)
        model[2].weight.copy_(w2)
    torch.testing.assert_close(R.network_laplacian(model), expected)


@given(w1=tensors((4, 3)), w2=tensors((2, 4)), seed=seeds)
def test_fiedler_penalty_is_lambda_2_and_a_minimum(w1: torch.Tensor, w2: torch.Tensor, seed: int) -> None:
    L = R.network_laplacian([w1, w2])
    eigenvalues = torch.linalg.eigvalsh(L)
    value, v = R.fiedler(L)
    tol = 1e-9 * (1 + float(eigenvalues[-1]))
    assert abs(float(value) - float(eigenvalues[1])) <= tol
    assert abs(float(v @ L @ v) - float(value)) <= tol  # the quadratic form at the Fiedler vector
    assert abs(float(R.fiedler_penalty([w1, w2], 2.0)) - 2 * float(value)) <= 2 * tol  # = strength * lambda_2
    # variational form: any unit x orthogonal to 1 gives an upper bound
    x = torch.randn(L.shape[0], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = x - x.mean()
    x = x / x.norm()
    assert float(R.fiedler_penalty([w1, w2], vector=x)) >= float(value) - tol
    assert abs(float(R.fiedler_penalty([w1, w2], vector=x)) - float(x @ L @ x)) <= tol  # sum |w| (x_u - x_v)^2
    # lambda_2 <= N/(N-1) * the smallest weighted degree (Fiedler 1973)
    N = L.shape[0]
    assert float(value) <= N / (N - 1) * float(torch.diag(L).min()) + tol


def test_fiedler_penalty_gradient_by_finite_differences(device) -> None:
    torch.manual_seed(1)
    w1 = torch.randn(5, 4, dtype=torch.float64, device=device, requires_grad=True)
    w2 = torch.randn(3, 5, dtype=torch.float64, device=device, requires_grad=True)
    g1, g2 = torch.autograd.grad(R.fiedler_penalty([w1, w2], 1.5), [w1, w2])

    def lam2(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(torch.linalg.eigvalsh(R.network_laplacian([a, b]))[1])

    h = 1e-6
    for g, which in ((g1, 0), (g2, 1)):
        ws = [w1.detach().clone(), w2.detach().clone()]
        fd = torch.zeros_like(ws[which])
        for idx in range(ws[which].numel()):
            plus, minus = [w.clone() for w in ws], [w.clone() for w in ws]
            plus[which].view(-1)[idx] += h
            minus[which].view(-1)[idx] -= h
            fd.view(-1)[idx] = 1.5 * (lam2(*plus) - lam2(*minus)) / (2 * h)
        torch.testing.assert_close(g, fd, atol=1e-6, rtol=1e-5)
    # and the closed form: strength * sign(w) * (v_u - v_v)^2
    _, v = R.fiedler(R.network_laplacian([w1.detach(), w2.detach()]))
    torch.testing.assert_close(g1, 1.5 * torch.sign(w1.detach()) * (v[4:9, None] - v[None, :4]) ** 2)


def test_fiedler_penalty_pushes_towards_a_cut() -> None:
    """Gradient descent on lambda_2 alone shrinks the weights across the weakest cut, not the others."""
    # inputs 0,1 -> hidden 2,3 -> output 4 ... make two strong blocks joined by weak edges
    w1 = torch.tensor([[3.0, 0.1], [0.1, 3.0]], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([[3.0, 0.1], [0.1, 3.0]], dtype=torch.float64, requires_grad=True)
    (g1, g2) = torch.autograd.grad(R.fiedler_penalty([w1, w2]), [w1, w2])
    for g in (g1, g2):
        assert float(g[0, 1]) > 0.1 and float(g[1, 0]) > 0.1  # edges across the cut are pulled down
        assert float(g.diagonal().abs().max()) < 1e-3 * float(g[0, 1])  # edges inside a block hardly
    # a disconnected network: lambda_2 = 0 and the penalty's gradient is 0
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64, requires_grad=True)
    value = R.fiedler_penalty(w)
    (g,) = torch.autograd.grad(value, w)
    assert float(value.detach()) == pytest.approx(0.0, abs=1e-12) and float(g.abs().max()) < 1e-12


def test_fiedler_errors() -> None:
    with pytest.raises(ValueError, match="laplacian must be a square matrix of size at least 2"):
        R.fiedler(torch.ones(2, 3))
    with pytest.raises(ValueError, match="laplacian must be a square matrix of size at least 2"):
        R.fiedler(torch.ones(1, 1))
    with pytest.raises(ValueError, match="laplacian must be symmetric"):
        R.fiedler(torch.tensor([[1.0, -1.0], [0.0, 0.0]]))
    with pytest.raises(TypeError, match="laplacian must be a floating-point tensor"):
        R.fiedler(torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="params\\[1\\] has 4 inputs but params\\[0\\] has 3 outputs"):
        R.network_laplacian([torch.ones(3, 2), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="params\\[0\\] must be a 2-D weight matrix"):
        R.network_laplacian([torch.ones(3, 2, 2)])
    with pytest.raises(ValueError, match="params holds no nn.Linear layer"):
        R.network_laplacian(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="params"):
        R.network_laplacian([])
    with pytest.raises(TypeError, match="params"):
        R.fiedler_penalty([torch.ones(2, 2, dtype=torch.int64)])
    with pytest.raises(ValueError, match="strength"):
        R.fiedler_penalty(torch.ones(2, 2), -1.0)
    with pytest.raises(ValueError, match=r"vector must have shape \(4,\)"):
        R.fiedler_penalty(torch.ones(2, 2), vector=torch.ones(3))
    with pytest.raises(TypeError, match="vector must be a floating-point tensor"):
        R.fiedler_penalty(torch.ones(2, 2), vector=torch.ones(4, dtype=torch.int64))


def test_fiedler_penalty_refuses_tensors_on_two_devices() -> None:
    # the "meta" device stands for a second device on any machine (nothing is computed)
    with pytest.raises(ValueError, match="vector"):
        R.fiedler_penalty(torch.ones(2, 2), vector=torch.ones(4, device="meta"))
    with pytest.raises(ValueError, match="params must all live on one device"):
        R.network_laplacian([torch.ones(2, 2), torch.ones(2, 2, device="meta")])


# --------------------------------------------------------------------------------------------
# early stopping as approximate L2


def test_gd_filter_is_gradient_descent_on_a_quadratic() -> None:
    torch.manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
    lam = torch.tensor([0.0, 0.01, 0.1, 0.5, 1.0, 1.9], dtype=torch.float64)
    H = Q @ torch.diag(lam) @ Q.T
    w_star = torch.randn(6, dtype=torch.float64)
    w, lr = torch.zeros(6, dtype=torch.float64), 0.5
    for _ in range(37):
        w = w - lr * H @ (w - w_star)
    torch.testing.assert_close(Q.T @ w, R.gd_filter(lam, lr, 37) * (Q.T @ w_star))
    alpha = 0.3
    ridge = torch.linalg.solve(H + alpha * torch.eye(6, dtype=torch.float64), H @ w_star)
    torch.testing.assert_close(Q.T @ ridge, R.ridge_filter(lam, alpha) * (Q.T @ w_star))


@given(lr=st.floats(1e-3, 1.0), steps=st.integers(1, 10_000))
def test_gd_and_ridge_filters_agree_at_both_ends(lr: float, steps: int) -> None:
    alpha = 1 / (lr * steps)
    lam = torch.tensor([1e-9 * alpha, 0.999 / lr], dtype=torch.float64)
    gd, ridge = R.gd_filter(lam, lr, steps), R.ridge_filter(lam, alpha)
    # small eigenvalues: both ~ lambda / alpha (relative agreement); large: both ~ 1
    assert float(gd[0]) == pytest.approx(float(ridge[0]), rel=1e-6)
    if steps >= 50:
        assert abs(float(gd[1]) - float(ridge[1])) < 0.03


def test_filter_errors() -> None:
    with pytest.raises(ValueError, match="eigenvalues must be >= 0"):
        R.gd_filter([-1.0], 0.1, 3)
    with pytest.raises(ValueError, match="eigenvalues must be >= 0"):
        R.ridge_filter(torch.tensor([-1.0]), 0.1)
    with pytest.raises(ValueError, match="lr"):
        R.gd_filter([1.0], 0.0, 3)
    with pytest.raises(ValueError, match="steps"):
        R.gd_filter([1.0], 0.1, -1)
    with pytest.raises(TypeError, match="steps must be an int"):
        R.gd_filter([1.0], 0.1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        R.ridge_filter([1.0], 0.0)
    torch.testing.assert_close(R.gd_filter(torch.tensor([1, 2]), 0.25, 1), torch.tensor([0.25, 0.5]))  # ints accepted
