"""Tests of companion.pruning: magnitude pruning, gradient masks and the lottery ticket."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion import pruning as R

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


# --------------------------------------------------------------------------------------------
# rewinding to iteration k (Frankle et al., 2020)


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(64, 6, generator=g, dtype=torch.float64), torch.randint(0, 3, (64,), generator=g)


def _hand_sgd(params: dict[str, torch.Tensor], model: nn.Module, x, y, steps: int, masks=None) -> list[dict[str, torch.Tensor]]:
    """Plain gradient descent written out, with pruned weights' gradients zeroed; the states after each step."""
    states = []
    for _ in range(steps):
        loss = F.cross_entropy(torch.func.functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()))
        params = {
            n: (p - 0.2 * (g * masks[n] if masks is not None and n in masks else g)).detach().requires_grad_()
            for (n, p), g in zip(params.items(), grads)
        }
        states.append({n: p.detach().clone() for n, p in params.items()})
    return states


def test_rewinding_to_iteration_k_matches_a_hand_written_reference() -> None:
    T, k, fraction = 12, 4, 0.7
    x, y = _data()
    model = _mlp().double()
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    starts: list[tuple[int, dict[str, torch.Tensor]]] = []

    def train(m: nn.Module, start: int, checkpoint) -> int:
        starts.append((start, {n: p.detach().clone() for n, p in m.named_parameters()}))
        opt = torch.optim.SGD(m.parameters(), lr=0.2)
        for step in range(start + 1, T + 1):
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
            checkpoint(step)
        return T - start

    res = R.lottery_ticket(model, train, fraction=fraction, rewind_to=k)

    # the reference: dense run, theta_k, global magnitude masks by sorting, ticket from m * theta_k
    dense = _hand_sgd({n: p.clone().requires_grad_() for n, p in theta0.items()}, model, x, y, T)
    theta_k, theta_T = dense[k - 1], dense[-1]
    weights = [n for n in theta0 if n.endswith("weight")]
    scores = torch.cat([theta_T[n].abs().flatten() for n in weights])
    removed = round(fraction * len(scores))
    threshold = scores.sort().values[removed - 1]  # continuous weights: no ties
    masks = {n: theta_T[n].abs() > threshold for n in weights}
    start_k = {n: v * masks[n] if n in masks else v for n, v in theta_k.items()}
    ticket = _hand_sgd({n: p.clone().requires_grad_() for n, p in start_k.items()}, model, x, y, T - k, masks)[-1]

    assert (res.dense_result, res.ticket_result) == (T, T - k)
    assert [s for s, _ in starts] == [0, k]  # the ticket is told where it starts
    for n in theta0:
        torch.testing.assert_close(res.initial_state[n], theta0[n], rtol=0, atol=0)
        torch.testing.assert_close(res.rewind_state[n], theta_k[n], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(starts[1][1][n], start_k[n], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(dict(model.named_parameters())[n].detach(), ticket[n], rtol=1e-10, atol=1e-12)
    for n in weights:
        assert torch.equal(res.masks[n], masks[n])
    # theta_k is not theta_0: rewinding to k is not a reset
    assert not torch.allclose(res.rewind_state["0.weight"], theta0["0.weight"])


def test_rewind_to_zero_is_the_classic_reset_and_rounds_all_start_at_k() -> None:
    x, y = _data()

    def train_old(m: nn.Module) -> float:
        opt = torch.optim.SGD(m.parameters(), lr=0.2)
        for _ in range(6):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
        return loss.item()

    def train_new(m: nn.Module, start: int, checkpoint) -> float:
        assert start == 0
        out = train_old(m)
        for i in range(1, 7):
            checkpoint(i)
        return out

    old, new = _mlp().double(), _mlp().double()
    r_old = R.lottery_ticket(old, train_old, 0.6, rounds=2)
    r_new = R.lottery_ticket(new, train_new, 0.6, rounds=2, rewind_to=0)
    assert r_old.ticket_result == r_new.ticket_result
    for n in r_old.masks:
        assert torch.equal(r_old.masks[n], r_new.masks[n])
        assert torch.equal(r_old.rewind_state[n], r_old.initial_state[n])

    starts: list[int] = []
    states: list[dict[str, torch.Tensor]] = []

    def train_k(m: nn.Module, start: int, checkpoint) -> None:
        starts.append(start)
        states.append({n: p.detach().clone() for n, p in m.named_parameters()})
        opt = torch.optim.SGD(m.parameters(), lr=0.2)
        for step in range(start + 1, 9):
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
            checkpoint(step)

    res = R.lottery_ticket(_mlp().double(), train_k, 0.8, rounds=3, rewind_to=2)
    assert starts == [0, 2, 2, 2]
    for state in states[1:]:  # every round restarts from (its mask) * theta_2
        for n, v in res.rewind_state.items():
            assert torch.equal(state[n][state[n] != 0], v[state[n] != 0])


def test_rewinding_errors() -> None:
    model = _mlp()

    def never_reports(m: nn.Module, start: int, checkpoint) -> None:
        for i in range(start + 1, start + 3):
            checkpoint(i)  # stops at iteration 2

    with pytest.raises(ValueError, match="rewind_to"):
        R.lottery_ticket(model, never_reports, 0.5, rewind_to=-1)
    with pytest.raises(TypeError, match="rewind_to"):
        R.lottery_ticket(model, never_reports, 0.5, rewind_to=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"rewind_to=3, but train reported up to iteration 2"):
        R.lottery_ticket(model, never_reports, 0.5, rewind_to=3)
    with pytest.raises(ValueError, match=r"rewind_to=1, but train reported no iteration"):
        R.lottery_ticket(model, lambda m, start, checkpoint: None, 0.5, rewind_to=1)
    with pytest.raises(TypeError, match="checkpoint must be an int"):
        R.lottery_ticket(model, lambda m, start, checkpoint: checkpoint(1.0), 0.5, rewind_to=1)
    with pytest.raises(ValueError, match=r"checkpoint must be > start = 0"):
        R.lottery_ticket(model, lambda m, start, checkpoint: checkpoint(0), 0.5, rewind_to=1)
