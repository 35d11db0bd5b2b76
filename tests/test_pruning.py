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
