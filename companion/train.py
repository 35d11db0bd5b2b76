"""A small, readable training loop for any torch model.

:func:`fit` runs epochs of mini-batch training, evaluates on a validation loader after
each epoch, calls callbacks, and returns a :class:`History` of per-epoch numbers. It is
deliberately short: every line is something a researcher would otherwise write by hand.

Callbacks are objects with any of the methods ``on_train_begin(state)``,
``on_epoch_end(state)`` and ``on_train_end(state)``; they receive the :class:`TrainState`
and may set ``state.stop_training = True`` (early stopping does).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence

import torch
from torch import nn

from companion import _validate

__all__ = ["Callback", "History", "TrainState", "evaluate", "fit"]


class Callback(Protocol):
    """What :func:`fit` calls; every method is optional (define only those you need)."""

    def on_train_begin(self, state: "TrainState") -> None: ...  # pragma: no cover

    def on_epoch_end(self, state: "TrainState") -> None: ...  # pragma: no cover

    def on_train_end(self, state: "TrainState") -> None: ...  # pragma: no cover


@dataclass
class History:
    """Per-epoch records of a training run.

    ``records[i]`` is a dict for epoch ``i + 1`` with keys such as ``train_loss``,
    ``val_loss``, ``train_accuracy``, ``val_accuracy``, ``lr``.

    Examples
    --------
    >>> h = History()
    >>> h.append({"epoch": 1, "train_loss": 2.0}); h.append({"epoch": 2, "train_loss": 1.5})
    >>> h["train_loss"]
    [2.0, 1.5]
    >>> h.best("train_loss")
    (2, 1.5)
    """

    records: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False

    def append(self, record: dict[str, float]) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    def __getitem__(self, key: str) -> list[float]:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        if key not in self.keys():
            raise KeyError(f"{key!r} was not recorded; recorded: {self.keys()}")
        return [r.get(key, math.nan) for r in self.records]

    def best(self, key: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """Return ``(epoch, value)`` of the best record of ``key`` (``mode`` 'min' or 'max')."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        values = self[key]
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=lambda j: values[j])
        return int(self.records[i].get("epoch", i + 1)), values[i]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        return pd.DataFrame(self.records).set_index("epoch")


@dataclass
class TrainState:
    """What callbacks see: the model, the optimizer, the history, and a stop flag."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    epoch: int = 0
    stop_training: bool = False
    logs: dict[str, float] = field(default_factory=dict)


def _model_device(model: nn.Module) -> Optional[torch.device]:
    for p in model.parameters():
        return p.device
    return None


def _is_classification(output: torch.Tensor, target: torch.Tensor) -> bool:
    return output.dim() == 2 and target.dim() == 1 and not target.dtype.is_floating_point


def _show_progress(progress: Optional[bool]) -> bool:
    if progress is not None:
        return bool(progress)
    env = os.environ.get("COMPANION_PROGRESS", "").strip()
    if env:
        return env not in ("0", "false", "no", "off")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], data: Iterable[Sequence[torch.Tensor]]) -> dict[str, float]:
    """Mean loss (and accuracy for classification) of ``model`` over a loader, in eval mode.

    The mean is over examples, so a smaller last batch is weighted correctly.

    Returns
    -------
    dict
        ``{"loss": ..., "accuracy": ...}`` (accuracy only when outputs are (N, C) scores and
        targets are class indices).
    """
    was_training = model.training
    model.eval()
    device = _model_device(model)
    total, n, correct, classification = 0.0, 0, 0, False
    try:
        for xb, yb in data:
            if device is not None:
                xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            total += float(loss_fn(out, yb)) * len(xb)
            n += len(xb)
            if _is_classification(out, yb):
                classification = True
                correct += int((out.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("data yielded no examples")
    result = {"loss": total / n}
    if classification:
        result["accuracy"] = correct / n
    return result


def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Sequence[torch.Tensor]],
    val_loader: Optional[Iterable[Sequence[torch.Tensor]]] = None,
    epochs: int = 10,
    callbacks: Sequence[Any] = (),
    scheduler: Optional[Any] = None,
    progress: Optional[bool] = None,
) -> History:
    r"""Train ``model`` by mini-batch gradient descent and return its :class:`History`.

    Each step computes :math:`\ell = \text{loss\_fn}(\text{model}(x_b), y_b)`, back-propagates
    and calls ``optimizer.step()``. The recorded ``train_loss`` of an epoch is the mean of
    the batch losses weighted by batch size, measured while the weights changed; the
    ``val_*`` numbers come from :func:`companion.train.evaluate` at the end of the epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Batches are moved to the device of its first parameter.
    loss_fn : callable
        ``loss_fn(output, target)`` returning a scalar tensor (mean over the batch).
    optimizer : torch.optim.Optimizer
    train_loader : iterable of (x, y) batches
    val_loader : iterable of (x, y) batches, optional
    epochs : int
        Maximum number of epochs (a callback may stop earlier).
    callbacks : sequence of objects with ``on_train_begin/on_epoch_end/on_train_end(state)``
    scheduler : object with ``step()``, optional
        Stepped once per epoch, after the optimizer steps (e.g. a torch LR scheduler).
    progress : bool, optional
        Show a tqdm progress bar. Default: on in a terminal or a Jupyter kernel, off when
        the environment variable ``COMPANION_PROGRESS=0`` (the Makefile sets it for tests and
        book builds).

    Returns
    -------
    History

    Raises
    ------
    TypeError
        If ``model`` is not an ``nn.Module`` or ``optimizer`` not a torch optimizer.
    ValueError
        If ``epochs`` < 1, ``loss_fn`` does not return a scalar, ``train_loader`` yields no
        batch in an epoch (it would train nothing), or the loss becomes NaN or infinite (with
        the epoch and batch).

    Examples
    --------
    >>> from companion.data import moons, loader
    >>> _ = torch.manual_seed(0)
    >>> X, y = moons(200)
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.5)
    >>> h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 32), loader(X, y, 200), epochs=20, progress=False)
    >>> len(h), h["val_accuracy"][-1] > 0.85
    (20, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    epochs = _validate.integer(epochs, "epochs", low=1)
    for cb in callbacks:
        if not any(hasattr(cb, m) for m in ("on_train_begin", "on_epoch_end", "on_train_end")):
            raise TypeError(f"callbacks: {cb!r} has none of on_train_begin, on_epoch_end, on_train_end")

    history = History()
    state = TrainState(model=model, optimizer=optimizer, history=history)
    device = _model_device(model)

    def call(method: str) -> None:
        for cb in callbacks:
            hook = getattr(cb, method, None)
            if hook is not None:
                hook(state)

    bar = None
    if _show_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="epochs", leave=False)

    call("on_train_begin")
    try:
        for epoch in range(1, epochs + 1):
            state.epoch = epoch
            model.train()
            total, n, correct, classification = 0.0, 0, 0, False
            for step, (xb, yb) in enumerate(train_loader):
                if device is not None:
                    xb, yb = xb.to(device), yb.to(device)
                optimizer.zero_grad(set_to_none=True)
                out = model(xb)
                loss = loss_fn(out, yb)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
                    raise ValueError(
                        f"loss_fn must return a scalar tensor (e.g. the mean over the batch), got {got}; "
                        "use reduction='mean' or call .mean()"
                    )
                if not torch.isfinite(loss):
                    raise ValueError(f"loss became {float(loss.detach())} at epoch {epoch}, batch {step}: lower the learning rate?")
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(xb)
                n += len(xb)
                if _is_classification(out, yb):
                    classification = True
                    correct += int((out.detach().argmax(dim=1) == yb).sum())
            if n == 0:
                raise ValueError(
                    f"train_loader yielded no batches in epoch {epoch}, so nothing was trained "
                    "(drop_last=True with fewer examples than batch_size?)"
                )
            record: dict[str, float] = {"epoch": epoch, "train_loss": total / n}
            if classification:
                record["train_accuracy"] = correct / n
            record["lr"] = float(optimizer.param_groups[0]["lr"])
            if val_loader is not None:
                for k, v in evaluate(model, loss_fn, val_loader).items():
                    record[f"val_{k}"] = v
            if scheduler is not None:
                scheduler.step()
            history.append(record)
            state.logs = record
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k != "epoch"})
                bar.update(1)
            call("on_epoch_end")
            if state.stop_training:
                history.stopped_early = epoch < epochs
                break
    finally:
        if bar is not None:
            bar.close()
    call("on_train_end")
    return history
