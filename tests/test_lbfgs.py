"""Tests of companion.optim.LBFGS: iterates equal torch.optim.LBFGS's in float64, and its raises."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.optim import LBFGS
from strategies import seeds

F64 = torch.float64
SETTINGS = [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=7, history_size=3),  # the history overflows: the oldest pair is dropped
    dict(max_iter=7, history_size=3, line_search_fn="strong_wolfe"),
    dict(max_iter=10, max_eval=12, line_search_fn="strong_wolfe"),  # the line search runs out of evaluations
    dict(lr=0.1, tolerance_grad=1e-3, tolerance_change=1e-5),
]
IDS = ["defaults", "strong_wolfe", "short_history", "short_history-strong_wolfe", "max_eval", "tolerances"]


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def trajectory(cls: type, params: list[torch.Tensor], loss_fn, steps: int, **kw) -> tuple[torch.Tensor, list[float]]:
    """Parameters after each ``step(closure)`` call, and the losses the calls returned."""
    opt = cls(params, **kw)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    points, losses = [torch.cat([p.detach().flatten() for p in params])], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        points.append(torch.cat([p.detach().flatten() for p in params]))
    return torch.stack(points), losses


def assert_same(ours: torch.Tensor, theirs: torch.Tensor, device: torch.device) -> None:
    if device.type == "cpu":  # the same operations in the same order: equal to the last bit
        assert torch.equal(ours, theirs)
    else:
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", SETTINGS, ids=IDS)
def test_rosenbrock_trajectory_equals_torch(kw: dict, device: torch.device) -> None:
    runs = []
    for cls in (LBFGS, torch.optim.LBFGS):
        x = torch.tensor([-1.2, 1.0], dtype=F64, device=device, requires_grad=True)
        runs.append(trajectory(cls, [x], lambda: rosenbrock(x), 6, **kw))
    (ours, our_losses), (theirs, their_losses) = runs
    assert_same(ours, theirs, device)
    assert our_losses == pytest.approx(their_losses, rel=1e-12, abs=0)
    assert our_losses[-1] < our_losses[0]


def test_strong_wolfe_solves_rosenbrock(device: torch.device) -> None:
    x = torch.tensor([-1.2, 1.0], dtype=F64, device=device, requires_grad=True)
    points, _ = trajectory(LBFGS, [x], lambda: rosenbrock(x), 4, line_search_fn="strong_wolfe",
                           tolerance_grad=1e-12, tolerance_change=1e-15)
    assert torch.allclose(points[-1], torch.ones(2, dtype=F64, device=device), atol=1e-8)


@settings(max_examples=10)
@given(seed=seeds, line_search=st.sampled_from([None, "strong_wolfe"]), history=st.integers(1, 8))
def test_logistic_regression_trajectory_equals_torch(seed: int, line_search, history: int, device: torch.device) -> None:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(40, 5, generator=g, dtype=F64).to(device)
    y = (X @ torch.randn(5, generator=g, dtype=F64).to(device) + 0.5 * torch.randn(40, generator=g, dtype=F64).to(device) > 0)
    runs = []
    for cls in (LBFGS, torch.optim.LBFGS):
        torch.manual_seed(seed)
        model = torch.nn.Linear(5, 1).to(device, F64)     # two parameters: a weight matrix and a bias
        loss_fn = lambda: F.binary_cross_entropy_with_logits(model(X).squeeze(1), y.to(F64)) + 1e-3 * model.weight.pow(2).sum()
        runs.append(trajectory(cls, list(model.parameters()), loss_fn, 3, max_iter=8, history_size=history,
                               line_search_fn=line_search))
    assert_same(runs[0][0], runs[1][0], device)
    assert runs[0][1] == pytest.approx(runs[1][1], rel=1e-12, abs=0)


def test_history_is_bounded_and_state_matches_torch_counters() -> None:
    x = torch.tensor([-1.2, 1.0], dtype=F64, requires_grad=True)
    z = torch.tensor([-1.2, 1.0], dtype=F64, requires_grad=True)
    ours = LBFGS([x], max_iter=9, history_size=2)
    theirs = torch.optim.LBFGS([z], max_iter=9, history_size=2)
    for opt, p in ((ours, x), (theirs, z)):
        def closure(opt=opt, p=p):
            opt.zero_grad()
            loss = rosenbrock(p)
            loss.backward()
            return loss
        opt.step(closure)
    assert len(ours.state[x]["s"]) == 2 == len(theirs.state[z]["old_stps"])
    assert ours.state[x]["n_iter"] == theirs.state[z]["n_iter"] == 9
    assert ours.state[x]["func_evals"] == theirs.state[z]["func_evals"]


def test_stationary_start_returns_without_moving() -> None:
    x = torch.ones(2, dtype=F64, requires_grad=True)
    opt = LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    assert float(opt.step(closure).detach()) == 0.0 and torch.equal(x.detach(), torch.ones(2, dtype=F64))


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (dict(lr=-1.0), ValueError, "lr must be >= 0"),
        (dict(lr="1"), TypeError, "lr must be a real number"),
        (dict(max_iter=0), ValueError, "max_iter must be >= 1"),
        (dict(max_iter=2.5), TypeError, "max_iter must be an int"),
        (dict(max_eval=0), ValueError, "max_eval must be >= 1"),
        (dict(max_eval=True), TypeError, "max_eval must be an int"),
        (dict(tolerance_grad=-1e-7), ValueError, "tolerance_grad must be >= 0"),
        (dict(tolerance_change=float("nan")), ValueError, "tolerance_change must be finite"),
        (dict(history_size=0), ValueError, "history_size must be >= 1"),
        (dict(history_size=None), TypeError, "history_size must be an int"),
        (dict(line_search_fn="armijo"), ValueError, "line_search_fn must be one of 'strong_wolfe'"),
    ],
)
def test_bad_arguments_raise(kw: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        LBFGS([torch.zeros(2, requires_grad=True)], **kw)


def test_one_group_integer_params_and_closure_are_checked() -> None:
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="params must be a single parameter group"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(TypeError, match="params must be real floating-point tensors"):
        LBFGS([torch.zeros(2, dtype=torch.int64)])
    with pytest.raises(TypeError, match="closure must be a callable"):
        LBFGS([a]).step(None)
