"""companion.train: the training loop, History, callbacks, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from companion.data import loader, moons
from companion.train import History, TrainState, evaluate, fit


def _setup(device: torch.device, n: int = 128, seed: int = 0):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    X, y = moons(n, noise=0.1, seed=seed, dtype=torch.float64)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    return model, opt, loader(X, y, 32, device=device), loader(X, y, 1000, shuffle=False, device=device)


def test_fit_learns_and_records(device: torch.device) -> None:
    model, opt, train, val = _setup(device)
    before = evaluate(model, nn.functional.cross_entropy, val)["loss"]
    h = fit(model, nn.functional.cross_entropy, opt, train, val, epochs=30, progress=False)
    assert len(h) == 30 and h["epoch"] == list(range(1, 31))
    assert set(h.keys()) >= {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}
    assert h["val_loss"][-1] < before / 2
    assert h["val_accuracy"][-1] > 0.85
    assert not h.stopped_early and model.training


def test_train_loss_is_example_weighted_mean() -> None:
    """With lr=0 the weights never move, so train_loss equals the full-data loss, even with a
    smaller last batch (100 = 3 * 32 + 4)."""
    torch.manual_seed(0)
    X, y = moons(100, dtype=torch.float64)
    model = nn.Linear(2, 2).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 32), epochs=1, progress=False)
    full = float(nn.functional.cross_entropy(model(X), y).detach())
    assert math.isclose(h["train_loss"][0], full, rel_tol=1e-12)
    assert "val_loss" not in h.keys()


def test_evaluate_matches_full_batch() -> None:
    torch.manual_seed(1)
    X, y = moons(77, dtype=torch.float64)
    model = nn.Linear(2, 2).double()
    res = evaluate(model, nn.functional.cross_entropy, loader(X, y, 10, shuffle=False))
    with torch.no_grad():
        assert math.isclose(res["loss"], float(nn.functional.cross_entropy(model(X), y)), rel_tol=1e-12)
    assert res["accuracy"] == float((model(X).argmax(1) == y).double().mean())


def test_evaluate_regression_has_no_accuracy_and_restores_mode() -> None:
    X = torch.randn(20, 3, dtype=torch.float64)
    t = torch.randn(20, 1, dtype=torch.float64)
    model = nn.Sequential(nn.Linear(3, 1), nn.Dropout(0.5)).double()
    model.train()
    res = evaluate(model, nn.functional.mse_loss, loader(X, t, 8, shuffle=False))
    assert set(res) == {"loss"} and model.training
    model.eval()
    evaluate(model, nn.functional.mse_loss, loader(X, t, 8, shuffle=False))
    assert not model.training
    with pytest.raises(ValueError, match="no examples"):
        evaluate(model, nn.functional.mse_loss, [])


class _Recorder:
    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.stop_at = stop_at

    def on_train_begin(self, state: TrainState) -> None:
        self.calls.append("begin")

    def on_epoch_end(self, state: TrainState) -> None:
        self.calls.append(f"epoch{state.epoch}")
        assert state.logs["epoch"] == state.epoch and len(state.history) == state.epoch
        if self.stop_at is not None and state.epoch >= self.stop_at:
            state.stop_training = True

    def on_train_end(self, state: TrainState) -> None:
        self.calls.append("end")


def test_callbacks_order_and_stop(device: torch.device) -> None:
    model, opt, train, val = _setup(device)
    rec = _Recorder(stop_at=3)
    h = fit(model, nn.functional.cross_entropy, opt, train, val, epochs=10, callbacks=[rec], progress=False)
    assert rec.calls == ["begin", "epoch1", "epoch2", "epoch3", "end"]
    assert len(h) == 3 and h.stopped_early


def test_scheduler_stepped_per_epoch() -> None:
    model, opt, train, _ = _setup(torch.device("cpu"))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, nn.functional.cross_entropy, opt, train, epochs=3, scheduler=sched, progress=False)
    assert h["lr"] == pytest.approx([0.3, 0.15, 0.075])


def test_progress_bar_does_not_change_results(capsys: pytest.CaptureFixture[str]) -> None:
    results = []
    for progress in (False, True):
        model, opt, train, val = _setup(torch.device("cpu"))
        results.append(fit(model, nn.functional.cross_entropy, opt, train, val, epochs=2, progress=progress)["val_loss"])
    assert results[0] == results[1]
    assert "epochs" in capsys.readouterr().err


def test_diverging_loss_is_reported() -> None:
    X = torch.randn(16, 2, dtype=torch.float64)
    t = torch.full((16, 1), float("nan"), dtype=torch.float64)
    model = nn.Linear(2, 1).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="loss became nan at epoch 1, batch 0"):
        fit(model, nn.functional.mse_loss, opt, loader(X, t, 8), epochs=2, progress=False)


def test_a_loader_without_batches_is_refused() -> None:
    """20 examples, batch_size=64, drop_last=True: no batch, so nothing would be trained."""
    X, y = moons(20, seed=0, dtype=torch.float64)
    model = nn.Linear(2, 2).double()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train_loader yielded no batches in epoch 1"):
        fit(model, nn.functional.cross_entropy, opt, loader(X, y, 64, drop_last=True), epochs=2, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_a_non_scalar_loss_gets_the_librarys_message() -> None:
    model, opt, train, _ = _setup(torch.device("cpu"))
    per_example = lambda out, y: nn.functional.cross_entropy(out, y, reduction="none")  # noqa: E731
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar tensor .*got shape \(32,\)"):
        fit(model, per_example, opt, train, epochs=1, progress=False)
    with pytest.raises(ValueError, match="loss_fn must return a scalar tensor .*got float"):
        fit(model, lambda out, y: 1.0, opt, train, epochs=1, progress=False)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"model": "m"}, TypeError, "model must be a torch.nn.Module"),
        ({"optimizer": object()}, TypeError, "optimizer must be a torch.optim.Optimizer"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"epochs": 2.0}, TypeError, "epochs must be an int"),
        ({"callbacks": [object()]}, TypeError, "callbacks:"),
    ],
)
def test_fit_errors(kwargs, exc, match) -> None:  # type: ignore[no-untyped-def]
    model, opt, train, _ = _setup(torch.device("cpu"))
    args = {"model": model, "loss_fn": nn.functional.cross_entropy, "optimizer": opt, "train_loader": train, "epochs": 1, "progress": False}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fit(**args)


def test_history_api() -> None:
    h = History()
    h.append({"epoch": 1, "val_loss": 0.5, "val_accuracy": 0.7})
    h.append({"epoch": 2, "val_loss": 0.4, "val_accuracy": 0.6})
    h.append({"epoch": 3, "val_loss": 0.45})
    assert h.best("val_loss") == (2, 0.4)
    assert h.best("val_accuracy", mode="max") == (1, 0.7)
    assert math.isnan(h["val_accuracy"][2])
    df = h.to_dataframe()
    assert list(df.index) == [1, 2, 3] and df.loc[2, "val_loss"] == 0.4
    with pytest.raises(KeyError, match="'train_loss' was not recorded"):
        h["train_loss"]
    with pytest.raises(TypeError, match="key must be a str"):
        h[0]  # type: ignore[index]
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        h.best("val_loss", mode="lowest")
