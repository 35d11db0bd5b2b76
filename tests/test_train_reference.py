"""companion.train against hand-written references: `fit` step for step, `evaluate` in eval mode.

`fit` and `evaluate` have no PyTorch counterpart to compare with, so these tests write the
loop out by hand (the few lines every PyTorch tutorial has) and demand the same numbers:
parameters bit for bit, per-epoch losses and accuracies, the learning rate, when the scheduler
steps and what callbacks see. A loop that forgets ``zero_grad``, ``model.train()`` or
``model.eval()`` gives different numbers, and these tests fail.
"""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from companion.data import loader, moons
from companion.train import History, TrainState, _is_classification, _show_progress, evaluate, fit


def _problem(seed: int = 0, n: int = 70):  # type: ignore[no-untyped-def]
    X, y = moons(n, noise=0.2, seed=seed, dtype=torch.float64)
    return X, y


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    # Dropout makes train and eval mode differ; BatchNorm makes them differ even without RNG.
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 2)).double()


def _reference_fit(model, opt, sched, train, val, epochs):  # type: ignore[no-untyped-def]
    """The textbook loop, written out: what `fit` must be equal to."""
    records = []
    for epoch in range(1, epochs + 1):
        model.train()
        total, n, correct = 0.0, 0, 0
        for xb, yb in train:
            opt.zero_grad()
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            n += len(xb)
            correct += int((out.argmax(1) == yb).sum())
        rec = {"epoch": epoch, "train_loss": total / n, "train_accuracy": correct / n, "lr": opt.param_groups[0]["lr"]}
        model.eval()
        with torch.no_grad():
            vl, vn, vc = 0.0, 0, 0
            for xb, yb in val:
                out = model(xb)
                vl += nn.functional.cross_entropy(out, yb).item() * len(xb)
                vn += len(xb)
                vc += int((out.argmax(1) == yb).sum())
        rec["val_loss"], rec["val_accuracy"] = vl / vn, vc / vn
        sched.step()
        records.append(rec)
    return records


class _Spy:
    """A callback that keeps a copy of everything it is shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int, dict, bool]] = []

    def _log(self, name: str, state: TrainState) -> None:
        self.seen.append((name, state.epoch, len(state.history), dict(state.logs), state.model.training))
        self.state = state

    def on_train_begin(self, state: TrainState) -> None:
        self._log("begin", state)

    def on_epoch_end(self, state: TrainState) -> None:
        self._log("epoch_end", state)

    def on_train_end(self, state: TrainState) -> None:
        self._log("end", state)


class _CountingScheduler:
    """Halves the lr; records how many optimizer steps had happened at each call."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        self.opt, self.steps, self.calls = opt, 0, []
        opt.register_step_post_hook(lambda *a: setattr(self, "steps", self.steps + 1))

    def step(self) -> None:
        self.calls.append(self.steps)
        for g in self.opt.param_groups:
            g["lr"] *= 0.5


@pytest.mark.parametrize("epochs", [1, 2])
def test_fit_equals_the_hand_written_loop(epochs: int) -> None:
    X, y = _problem()
    Xv, yv = _problem(seed=1, n=33)
    runs = []
    for use_fit in (True, False):
        model = _model()
        model.eval()  # fit must switch to training mode itself
        opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        train, val = loader(X, y, 16, seed=3), loader(Xv, yv, 10, shuffle=False)
        torch.manual_seed(123)  # the dropout masks
        if use_fit:
            records = fit(model, nn.functional.cross_entropy, opt, train, val, epochs=epochs, scheduler=sched, progress=False).records
        else:
            records = _reference_fit(model, opt, sched, train, val, epochs)
        runs.append((records, [p.detach().clone() for p in model.parameters()], [b.clone() for b in model.buffers()], opt.param_groups[0]["lr"]))
    (got, got_params, got_buffers, got_lr), (want, want_params, want_buffers, want_lr) = runs
    assert len(got) == epochs
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        for k in w:
            assert g[k] == pytest.approx(w[k], rel=1e-12, abs=0), (k, g, w)
    assert all(torch.equal(a, b) for a, b in zip(got_params, want_params))
    assert all(torch.equal(a, b) for a, b in zip(got_buffers, want_buffers))
    assert got_lr == want_lr == 0.2 * 0.5**epochs
    assert [r["lr"] for r in got] == [0.2 * 0.5**e for e in range(epochs)]


def test_fit_zeroes_gradients_before_every_step() -> None:
    """Two SGD steps on a linear model, compared with the closed form: no gradient carried over."""
    X = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    t = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    model = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        model.weight.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.functional.mse_loss, opt, loader(X, t, 1, shuffle=False), epochs=1, progress=False)
    w = torch.zeros(1, 2, dtype=torch.float64)
    for i in range(2):
        x, target = X[i : i + 1], t[i : i + 1]
        grad = 2 * (x @ w.T - target) * x  # d/dw (x.w - t)^2
        w = w - 0.1 * grad
    assert torch.allclose(model.weight.detach(), w, rtol=1e-14, atol=0)


def test_scheduler_steps_once_per_epoch_after_the_optimizer_steps() -> None:
    X, y = _problem(n=50)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = _CountingScheduler(opt)
    h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 16), epochs=3, scheduler=sched, progress=False)
    assert sched.calls == [4, 8, 12]  # 50 examples = 4 batches of 16, 16, 16, 2
    assert h["lr"] == [0.1, 0.05, 0.025]  # recorded before the scheduler steps


def test_callbacks_see_the_state_at_each_hand_over() -> None:
    X, y = _problem(n=40)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    spy = _Spy()
    h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 20), loader(X, y, 40), epochs=2, callbacks=[spy], progress=False)
    assert [s[:3] for s in spy.seen] == [("begin", 0, 0), ("epoch_end", 1, 1), ("epoch_end", 2, 2), ("end", 2, 2)]
    assert spy.seen[0][3] == {}
    assert spy.seen[1][3] == h.records[0] and spy.seen[2][3] == h.records[1] and spy.seen[3][3] == h.records[1]
    assert spy.state.model is model and spy.state.optimizer is opt and spy.state.history is h
    assert not spy.state.stop_training and not h.stopped_early
    # callbacks with only some hooks are fine
    class OnlyEnd:
        def __init__(self) -> None:
            self.n = 0

        def on_train_end(self, state: TrainState) -> None:
            self.n += 1

    only = OnlyEnd()
    fit(model, nn.functional.cross_entropy, opt, loader(X, y, 20), epochs=2, callbacks=[only, spy], progress=False)
    assert only.n == 1


def test_stopping_on_the_last_epoch_is_not_early() -> None:
    X, y = _problem(n=20)

    class StopAt:
        def __init__(self, at: int) -> None:
            self.at = at

        def on_epoch_end(self, state: TrainState) -> None:
            state.stop_training = state.epoch >= self.at

    for at, length, early in ((3, 3, False), (2, 2, True), (1, 1, True)):
        model = _model()
        h = fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader(X, y, 10), epochs=3, callbacks=[StopAt(at)], progress=False)
        assert (len(h), h.stopped_early) == (length, early)


def test_fit_reports_infinite_loss() -> None:
    X = torch.ones(4, 1, dtype=torch.float64)
    model = nn.Linear(1, 1).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"loss became inf at epoch 1, batch 1"):
        fit(model, lambda out, t: out.sum() * 0 + (math.inf if t[0, 0] > 1 else 1.0), opt, loader(X, torch.tensor([[1.0], [1.0], [2.0], [2.0]], dtype=torch.float64), 2, shuffle=False), epochs=1, progress=False)
    # the first batch's step happened (its loss was finite: a constant, so zero gradient)
    assert all(torch.equal(a, b.detach()) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("kind", ["dropout", "batchnorm"])
def test_evaluate_equals_eval_mode_full_batch(kind: str) -> None:
    torch.manual_seed(2)
    X, y = _problem(seed=4, n=53)
    hidden = nn.Dropout(0.5) if kind == "dropout" else nn.BatchNorm1d(8)
    model = nn.Sequential(nn.Linear(2, 8), hidden, nn.ReLU(), nn.Linear(8, 2)).double()
    if kind == "batchnorm":  # move the running statistics away from their initial values
        model.train()
        with torch.no_grad():
            for _ in range(5):
                model(X * 3 + 1)
    model.train()
    got = evaluate(model, nn.functional.cross_entropy, loader(X, y, 10, shuffle=False))
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        out = model(X)
        want_loss = float(nn.functional.cross_entropy(out, y))
        want_acc = float((out.argmax(1) == y).double().mean())
    assert got["loss"] == pytest.approx(want_loss, rel=1e-12, abs=0)
    assert got["accuracy"] == pytest.approx(want_acc, rel=1e-15, abs=0)
    # and evaluate in eval mode leaves eval mode on
    evaluate(model, nn.functional.cross_entropy, loader(X, y, 10, shuffle=False))
    assert not model.training


def test_evaluate_runs_without_autograd_and_restores_mode_on_error() -> None:
    seen = []

    def loss_fn(out: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        seen.append(torch.is_grad_enabled())
        return nn.functional.mse_loss(out, t)

    model = nn.Linear(2, 1).double()
    X, t = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 1, dtype=torch.float64)
    evaluate(model, loss_fn, loader(X, t, 4, shuffle=False))
    assert seen == [False, False]

    def broken(out: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")

    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        evaluate(model, broken, loader(X, t, 4, shuffle=False))
    assert model.training


def test_evaluate_counts_each_condition_of_classification() -> None:
    """Accuracy only for (N, C) scores with integer (N,) targets."""
    X = torch.randn(12, 3, dtype=torch.float64)
    model = nn.Linear(3, 2).double()
    zero = lambda out, t: out.sum() * 0  # noqa: E731
    labels = torch.randint(0, 2, (12,))
    assert set(evaluate(model, zero, loader(X, labels, 5))) == {"loss", "accuracy"}
    assert set(evaluate(model, zero, loader(X, labels.double(), 5))) == {"loss"}  # float targets
    assert set(evaluate(model, zero, loader(X, labels.reshape(12, 1), 5))) == {"loss"}  # 2-D targets
    assert set(evaluate(nn.Sequential(model, nn.Flatten(0)), zero, loader(X, labels, 5))) == {"loss"}  # 1-D outputs
    out, t = torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)
    assert _is_classification(out, t)
    assert not _is_classification(out[:, :, None], t)
    assert not _is_classification(out, t[:, None])
    assert not _is_classification(out, t.float())


def test_evaluate_accuracy_counts_correct_examples() -> None:
    # a fixed "model": predicts class 1 iff the first feature is positive
    model = nn.Linear(1, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))
    X = torch.tensor([[1.0], [2.0], [-1.0], [3.0], [-2.0]], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1, 1])
    res = evaluate(model, nn.functional.cross_entropy, loader(X, y, 2, shuffle=False))
    assert res["accuracy"] == 3 / 5
    with torch.no_grad():
        assert res["loss"] == pytest.approx(float(nn.functional.cross_entropy(model(X), y)), rel=1e-12)


def test_fit_train_accuracy_and_loss_are_example_weighted() -> None:
    """lr = 0 keeps the weights fixed, so the epoch numbers are full-data numbers (3 batches of 2, 2, 1)."""
    model = nn.Linear(1, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))
    X = torch.tensor([[1.0], [2.0], [-1.0], [3.0], [-2.0]], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1, 1])
    h = fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.0), loader(X, y, 2, shuffle=False), epochs=2, progress=False)
    with torch.no_grad():
        full = float(nn.functional.cross_entropy(model(X), y))
    assert h["train_accuracy"] == [3 / 5, 3 / 5]
    assert h["train_loss"] == pytest.approx([full, full], rel=1e-12)
    assert h["epoch"] == [1, 2] and "val_loss" not in h.keys()


def test_progress_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _show_progress(True) is True and _show_progress(False) is False
    assert _show_progress(1) is True and _show_progress(0) is False
    for off in ("0", "false", "no", "off", " 0 "):
        monkeypatch.setenv("COMPANION_PROGRESS", off)
        assert _show_progress(None) is False
    for on in ("1", "yes", "true"):
        monkeypatch.setenv("COMPANION_PROGRESS", on)
        assert _show_progress(None) is True
    monkeypatch.setenv("COMPANION_PROGRESS", "  ")

    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", Tty(False))
    assert _show_progress(None) is False
    monkeypatch.setattr(sys, "stderr", Tty(True))
    assert _show_progress(None) is True
    monkeypatch.setattr(sys, "stderr", Tty(False))
    monkeypatch.setitem(sys.modules, "ipykernel", sys)
    assert _show_progress(None) is True


def test_progress_bar_shows_the_epoch_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _problem(n=20)
    model = _model()
    fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader(X, y, 10), epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epochs:" in err and "/2 " in err and "train_loss=" in err and "lr=0.1" in err and "epoch=" not in err


def test_history_reference() -> None:
    h = History()
    assert len(h) == 0 and h.keys() == []
    h.append({"epoch": 1, "a": 3.0})
    h.append({"b": 1.0, "a": 2.0})  # no epoch: best() falls back to the position
    h.append({"epoch": 7, "a": 5.0, "c": 0.0})
    assert len(h) == 3 and h.keys() == ["epoch", "a", "b", "c"]
    assert h.best("a") == (2, 2.0) and h.best("a", mode="max") == (7, 5.0)
    assert h.best("epoch", "max") == (7, 7)
    rec = {"epoch": 9, "a": 1.0}
    h.append(rec)
    rec["a"] = 100.0  # History keeps a copy
    assert h["a"][-1] == 1.0
    with pytest.raises(KeyError, match=r"recorded: \['epoch', 'a', 'b', 'c'\]"):
        h["zzz"]
    assert not History().stopped_early


def test_progress_default_without_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPANION_PROGRESS", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", type("NoTty", (), {"isatty": lambda self: False})())
    assert _show_progress(None) is False


class _FakeBar:
    made: list["_FakeBar"] = []

    def __init__(self, **kwargs: object) -> None:
        self.kwargs, self.updates, self.postfixes, self.closed = kwargs, [], [], False
        _FakeBar.made.append(self)

    def update(self, k: int) -> None:
        self.updates.append(k)

    def set_postfix(self, d: dict) -> None:
        self.postfixes.append(dict(d))

    def close(self) -> None:
        self.closed = True


def test_progress_bar_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", _FakeBar)
    _FakeBar.made.clear()
    X, y = _problem(n=20)
    model = _model()
    h = fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader(X, y, 10), epochs=3, progress=True)
    (bar,) = _FakeBar.made
    assert bar.kwargs == {"total": 3, "desc": "epochs", "leave": False}
    assert bar.updates == [1, 1, 1] and bar.closed
    assert bar.postfixes[0] == {k: f"{v:.4g}" for k, v in h.records[0].items() if k != "epoch"}
    _FakeBar.made.clear()
    fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader(X, y, 10), epochs=1, progress=False)
    assert _FakeBar.made == []


def test_fit_defaults_and_single_example() -> None:
    X, y = _problem(n=4)
    model = _model()
    h = fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.0), loader(X, y, 4), progress=False)
    assert len(h) == 10  # default epochs
    lin = nn.Linear(2, 2).double()
    h = fit(lin, nn.functional.cross_entropy, torch.optim.SGD(lin.parameters(), lr=0.0), loader(X[:1], y[:1], 1), epochs=1, progress=False)
    with torch.no_grad():
        assert h["train_loss"] == [pytest.approx(float(nn.functional.cross_entropy(lin(X[:1]), y[:1])), rel=1e-12)]
        assert h["train_accuracy"] == [float(lin(X[:1]).argmax(1) == y[:1])]


def test_regression_records_no_accuracy() -> None:
    X, t = torch.randn(8, 2, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    lin = nn.Linear(2, 1).double()
    h = fit(lin, nn.functional.mse_loss, torch.optim.SGD(lin.parameters(), lr=0.01), loader(X, t, 4), loader(X, t, 8), epochs=1, progress=False)
    assert set(h.keys()) == {"epoch", "train_loss", "lr", "val_loss"}


def test_fit_accepts_callbacks_with_any_one_hook() -> None:
    X, y = _problem(n=10)
    calls = []

    class Begin:
        def on_train_begin(self, state: TrainState) -> None:
            calls.append("begin")

    class Epoch:
        def on_epoch_end(self, state: TrainState) -> None:
            calls.append("epoch")

    model = _model()
    fit(model, nn.functional.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader(X, y, 10), epochs=2, callbacks=[Begin(), Epoch()], progress=False)
    assert calls == ["begin", "epoch", "epoch"]


def test_argument_messages_name_the_type() -> None:
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        fit("model", nn.functional.cross_entropy, opt, [], epochs=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got dict"):
        fit(model, nn.functional.cross_entropy, {}, [], epochs=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a str, got int"):
        History()[3]  # type: ignore[index]


def test_best_defaults_to_the_lowest_validation_loss() -> None:
    h = History()
    for e, (v, t) in enumerate([(0.9, 0.1), (0.5, 0.2), (0.7, 0.05)], start=1):
        h.append({"epoch": e, "val_loss": v, "train_loss": t})
    assert h.best() == (2, 0.5)


def test_gradients_are_reset_to_none_like_zero_grad() -> None:
    """A parameter unused in a batch keeps grad None, so SGD with weight decay skips it, as
    the hand-written loop with ``optimizer.zero_grad()`` (set_to_none=True) does."""

    class Gated(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
            self.b = nn.Parameter(torch.tensor([2.0], dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x * self.w
            return out + self.b if bool(x[0, 0] > 0) else out

    X = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    t = torch.zeros(2, 1, dtype=torch.float64)
    results = []
    for use_fit in (True, False):
        m = Gated()
        opt = torch.optim.SGD(m.parameters(), lr=0.1, weight_decay=0.5)
        if use_fit:
            fit(m, nn.functional.mse_loss, opt, loader(X, t, 1, shuffle=False), epochs=1, progress=False)
        else:
            for i in range(2):
                opt.zero_grad()
                nn.functional.mse_loss(m(X[i : i + 1]), t[i : i + 1]).backward()
                opt.step()
        results.append((m.w.detach().clone(), m.b.detach().clone()))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def test_fit_and_evaluate_move_batches_to_the_model_device(device: torch.device) -> None:
    """Batches on the CPU, model on ``device``: fit and evaluate move each batch. (On a
    CPU-only machine this cannot tell a missing move; on CUDA it does.)"""
    X, y = _problem(n=20)
    model = _model().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 10), loader(X, y, 20), epochs=1, progress=False)
    assert len(h) == 1 and 0 <= h["val_accuracy"][0] <= 1
    res = evaluate(model, nn.functional.cross_entropy, loader(X, y, 7))
    assert res["loss"] == pytest.approx(h["val_loss"][0], rel=1e-9)


def test_fit_error_messages_say_what_to_do() -> None:
    X, y = _problem(n=4)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError) as info:
        fit(model, lambda out, t: nn.functional.cross_entropy(out, t, reduction="none"), opt, loader(X, y, 2), epochs=1, progress=False)
    assert str(info.value).endswith("; use reduction='mean' or call .mean()")
    with pytest.raises(ValueError) as info:
        fit(model, nn.functional.cross_entropy, opt, loader(X, y, 8, drop_last=True), epochs=1, progress=False)
    assert str(info.value).endswith(" (drop_last=True with fewer examples than batch_size?)")
