"""companion.plot: what each figure shows, not only that it is drawn.

Each test reads the data back from the matplotlib artists (line data, contour levels, image
values, histogram bar heights, scatter offsets) and compares it with what was passed in.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from companion.plot import STYLE, activation_histograms, curves, decision_boundary, history, loss_surface  # noqa: E402
from companion.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def test_curves_data_axes_and_legend() -> None:
    fig = curves({"loss": [3.0, 2.0, 1.0]}, xlabel="epoch", ylabel="loss", title="one")
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    assert line.get_xdata().tolist() == [0, 1, 2] and line.get_ydata().tolist() == [3.0, 2.0, 1.0]
    assert ax.get_legend() is None and ax.get_yscale() == "linear"  # one curve: no legend
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "one")
    fig = curves({"a": torch.tensor([1.0, 2.0]), "b": np.array([4.0, 5.0, 6.0])}, x=[10, 20, 30])
    ax = fig.axes[0]
    a, b = ax.get_lines()
    assert a.get_xdata().tolist() == [10, 20] and b.get_xdata().tolist() == [10, 20, 30]  # x cut to each curve
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "value", "")
    assert fig.get_size_inches().tolist() == list(STYLE["figure.figsize"])  # the course style
    _, given = plt.subplots()
    assert curves({"c": [1.0]}, ax=given) is given.figure and len(given.get_lines()) == 1
    with pytest.raises(ValueError, match="series must be a non-empty mapping"):
        curves([1.0, 2.0])  # type: ignore[arg-type]


def test_history_panels_data_and_titles() -> None:
    h = History()
    for e in range(1, 4):
        h.append({"epoch": e, "train_loss": 1.0 / e, "val_loss": 2.0 / e, "train_accuracy": 0.1 * e, "val_accuracy": 0.2 * e, "lr": 0.1})
    fig = history(h, title="run")
    loss_ax, acc_ax = fig.axes
    assert [l.get_label() for l in loss_ax.get_lines()] == ["train loss", "val loss"]
    assert [l.get_label() for l in acc_ax.get_lines()] == ["train accuracy", "val accuracy"]
    assert loss_ax.get_lines()[1].get_ydata().tolist() == [2.0, 1.0, 2.0 / 3]
    assert acc_ax.get_lines()[0].get_xdata().tolist() == [1, 2, 3]
    assert loss_ax.get_lines()[0].get_marker() == "o"  # few epochs: points are marked
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("run: loss", "run: accuracy")
    assert (loss_ax.get_xlabel(), acc_ax.get_ylabel()) == ("epoch", "accuracy")
    assert fig.get_size_inches().tolist() == pytest.approx([12.8, 4.0])
    fig = history(h, keys=["val_accuracy"])
    (ax,) = fig.axes
    assert ax.get_title() == "Learning curves" and ax.get_ylabel() == "accuracy" and len(ax.get_lines()) == 1
    assert fig.get_size_inches().tolist() == pytest.approx([6.4, 4.0])
    fig = history(h, keys=["lr"])  # any key that is not an accuracy goes to the loss panel
    assert fig.axes[0].get_ylabel() == "loss" and fig.axes[0].get_lines()[0].get_label() == "lr"


def test_history_without_epochs_and_long_runs() -> None:
    h = History()
    for i in range(40):
        h.append({"train_loss": 1.0 / (i + 1)})
    fig = history(h)
    (line,) = fig.axes[0].get_lines()
    assert line.get_xdata().tolist() == list(range(1, 41)) and line.get_marker() in (None, "None", "")


def test_loss_surface_grid_levels_and_paths() -> None:
    calls = []

    def bowl(p: torch.Tensor) -> torch.Tensor:
        calls.append(p.clone())
        return (p**2).sum(dim=1)

    path = torch.tensor([[1.5, 1.0], [0.5, 0.2], [0.0, 0.1]])
    fig = loss_surface(bowl, xlim=(-2.0, 3.0), ylim=(-1.0, 1.0), paths={"gd": path}, resolution=11, levels=7, title="bowl")
    ax = fig.axes[0]
    (grid,) = calls
    assert grid.dtype == torch.float64 and grid.shape == (121, 2)
    assert grid[:, 0].min() == -2.0 and grid[:, 0].max() == 3.0 and grid[:, 1].min() == -1.0 and grid[:, 1].max() == 1.0
    assert grid[:11, 1].unique().tolist() == [-1.0]  # x varies fastest ("xy" indexing)
    assert ax.get_xlim() == (-2.0, 3.0) and ax.get_ylim() == (-1.0, 1.0)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$w_1$", "$w_2$", "bowl")
    contour = [c for c in ax.collections if hasattr(c, "levels")][0]
    shifted = (grid**2).sum(1) - 0.0 + 1e-3  # minimum 0 on the grid: levels span [1e-3, max + 1e-3]
    assert len(contour.levels) == 7
    assert contour.levels[0] == pytest.approx(float(shifted.min())) and contour.levels[-1] == pytest.approx(float(shifted.max()))
    assert np.allclose(np.diff(np.log(contour.levels)), np.log(contour.levels[1] / contour.levels[0]))  # geometric
    trace, start, end = ax.get_lines()
    assert trace.get_xdata().tolist() == path[:, 0].tolist() and trace.get_ydata().tolist() == path[:, 1].tolist()
    assert (start.get_marker(), start.get_xdata().tolist(), start.get_ydata().tolist()) == ("o", [1.5], [1.0])
    assert (end.get_marker(), end.get_xdata().tolist(), end.get_ydata().tolist()) == ("x", [0.0], [pytest.approx(0.1)])
    assert start.get_color() == end.get_color() == trace.get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gd"]


def test_loss_surface_linear_levels_and_no_legend() -> None:
    fig = loss_surface(lambda p: p[:, 0] + 2 * p[:, 1], log=False, resolution=5, levels=4)
    ax = fig.axes[0]
    contour = [c for c in ax.collections if hasattr(c, "levels")][0]
    levels = np.asarray(contour.levels)
    assert levels.min() < 0 < levels.max()  # the raw values (-6 .. 6), not shifted to be positive
    assert np.allclose(np.diff(levels), levels[1] - levels[0])  # evenly spaced, not geometric
    assert ax.get_legend() is None and ax.get_title() == "Loss surface" and ax.get_xlim() == (-2.0, 2.0)


def test_decision_boundary_regions_and_points() -> None:
    X = torch.tensor([[-1.0, 0.0], [1.0, 2.0], [0.5, -1.0]])
    y = torch.tensor([0, 1, 1])
    seen = []

    def predict(p: torch.Tensor) -> torch.Tensor:
        seen.append(p)
        return (p[:, 0] > 0).long()

    fig = decision_boundary(predict, X, y, resolution=9, margin=0.5, title="regions")
    ax = fig.axes[0]
    (grid,) = seen
    assert grid.shape == (81, 2) and grid.dtype == torch.float32
    assert grid[:, 0].min() == -1.5 and grid[:, 0].max() == 1.5 and grid[:, 1].min() == -1.5 and grid[:, 1].max() == 2.5
    filled = [c for c in ax.collections if hasattr(c, "levels")][0]
    assert filled.levels.tolist() == [-0.5, 0.5, 1.5]  # one band per class
    scatter = [c for c in ax.collections if not hasattr(c, "levels")][0]
    assert scatter.get_offsets().tolist() == X.tolist()
    assert scatter.get_array().tolist() == [0, 1, 1]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x_1$", "$x_2$", "regions")


def test_decision_boundary_scores_and_module() -> None:
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 2])
    scores = lambda p: torch.stack([p[:, 0], p[:, 1], torch.zeros(len(p))], dim=1)  # noqa: E731
    fig = decision_boundary(scores, X, y, resolution=4, margin=0.0)
    filled = [c for c in fig.axes[0].collections if hasattr(c, "levels")][0]
    assert filled.levels.tolist() == [-0.5, 0.5, 1.5]  # argmax of the scores: classes 0 and 1 only
    model = torch.nn.Linear(2, 3).double()
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append((i[0].dtype, torch.is_grad_enabled())))
    decision_boundary(model, X, y, resolution=3)
    assert seen == [(torch.float64, False)]
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\), got \(2,\)"):
        decision_boundary(scores, np.array([1.0, 2.0]), y)


def test_activation_histograms_counts_titles_and_range() -> None:
    a = torch.tensor([0.0, 0.0, 1.0, 2.0])
    b = torch.tensor([-2.0, 2.0])
    fig = activation_histograms({"first": a, "second": b}, bins=4, title="depth", xlabel="z")
    ax1, ax2 = fig.axes
    heights1 = [p.get_height() for p in ax1.patches]
    heights2 = [p.get_height() for p in ax2.patches]
    assert heights1 == np.histogram(a.numpy(), bins=4, range=(-2.0, 2.0))[0].tolist() == [0, 0, 2, 2]
    assert heights2 == [1, 0, 0, 1]
    assert ax1.get_title() == f"first\nstd {a.numpy().std():.2f}" and ax2.get_title() == "second\nstd 2.00"
    assert ax1.get_ylabel() == "count" and ax1.get_xlabel() == "z" and fig._suptitle.get_text() == "depth"
    assert fig.get_size_inches().tolist() == pytest.approx([4.0, 2.8])
    fig = activation_histograms([torch.ones(3)], bins=2)
    (ax,) = fig.axes
    assert ax.get_title() == "layer 1\nstd 0.00" and [p.get_x() for p in ax.patches] == [1.0, 1.5]  # range (1, 2)
    assert fig._suptitle.get_text() == "Activations by depth" and ax.get_xlabel() == "activation value"
    fig = activation_histograms([a], bins=2, range=(0.0, 4.0))
    assert [p.get_height() for p in fig.axes[0].patches] == [3, 1]
    fig = activation_histograms([torch.zeros(2)] * 10)
    assert fig.get_size_inches().tolist() == pytest.approx([16.0, 2.8])
