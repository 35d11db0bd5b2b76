"""companion.plot: every figure has a title and axis labels, and is returned."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from companion.plot import activation_histograms, curves, decision_boundary, history, loss_surface  # noqa: E402
from companion.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel(), "every axes needs an x label"
    assert any(ax.get_title() for ax in fig.axes) or fig._suptitle is not None


def test_curves() -> None:
    fig = curves({"a": torch.tensor([3.0, 2.0, 1.0]), "b": np.array([1.0, 1.0, 1.0])}, xlabel="epoch", ylabel="loss", title="t", logy=True)
    _labelled(fig)
    ax = fig.axes[0]
    assert [l.get_label() for l in ax.get_lines()] == ["a", "b"] and ax.get_yscale() == "log"
    assert ax.get_lines()[0].get_ydata().tolist() == [3.0, 2.0, 1.0]
    with pytest.raises(ValueError, match="series must be a non-empty mapping"):
        curves({})


def test_history_plot_panels() -> None:
    h = History()
    for e in range(1, 4):
        h.append({"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "val_accuracy": 0.5 + 0.1 * e})
    fig = history(h, title="run")
    _labelled(fig)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].get_lines()) == 2 and fig.axes[1].get_lines()[0].get_xdata().tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="h must be a companion.train.History"):
        history({"train_loss": [1]})
    with pytest.raises(ValueError, match="h is empty"):
        history(History())
    with pytest.raises(ValueError, match=r"keys \['lr'\] were not recorded"):
        history(h, keys=["lr"])


def test_loss_surface_with_paths() -> None:
    path = torch.tensor([[1.5, 1.0], [0.5, 0.2], [0.0, 0.0]])
    fig = loss_surface(lambda p: (p**2).sum(dim=1), paths={"gd": path}, resolution=50, title="bowl")
    _labelled(fig)
    lines = fig.axes[0].get_lines()
    assert lines[0].get_xdata().tolist() == path[:, 0].tolist()
    fig = loss_surface(lambda p: p[:, 0] ** 2 + p[:, 1], log=False, resolution=20)
    _labelled(fig)
    with pytest.raises(ValueError, match=r"paths\['bad'\] must have shape \(T, 2\)"):
        loss_surface(lambda p: (p**2).sum(dim=1), paths={"bad": [1.0, 2.0]}, resolution=10)
    with pytest.raises(ValueError, match="f must map"):
        loss_surface(lambda p: p, resolution=10)
    with pytest.raises(ValueError, match="resolution must be >= 2"):
        loss_surface(lambda p: p.sum(1), resolution=1)
    with pytest.raises(TypeError, match="resolution must be an int, got float"):
        loss_surface(lambda p: p.sum(1), resolution=10.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        loss_surface(lambda p: p.sum(1), resolution=5, ax="axes")  # type: ignore[arg-type]


def test_decision_boundary_with_module(device: torch.device) -> None:
    model = torch.nn.Linear(2, 2).to(device)
    X = torch.randn(30, 2)
    fig = decision_boundary(model, X, torch.randint(0, 2, (30,)), resolution=30)
    _labelled(fig)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        decision_boundary(model, torch.randn(5, 3), torch.zeros(5))


def test_activation_histograms() -> None:
    fig = activation_histograms({"a": torch.randn(200), "b": torch.rand(200)}, bins=10)
    _labelled(fig)
    assert len(fig.axes) == 2 and fig.axes[0].get_title().startswith("a\nstd")
    with pytest.raises(ValueError, match="activations is empty"):
        activation_histograms([])
