"""Figures used throughout the course, in one consistent style.

Every function draws on a new (or given) Axes, labels its axes, sets a title, and returns the
matplotlib ``Figure`` so that it works in scripts (``fig.savefig(...)``) as well as in
notebooks (the figure is shown as the cell's output).
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from companion import _validate

__all__ = [
    "STYLE",
    "activation_histograms",
    "curves",
    "decision_boundary",
    "history",
    "loss_surface",
]

#: rcParams applied by every function of this module.
STYLE: dict[str, object] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence[float]]


def _np(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _axes(ax: Optional[Axes], figsize: Optional[tuple[float, float]] = None) -> tuple[Figure, Axes]:
    if ax is not None:
        _validate.any_of(ax, "ax", (Axes,), "a matplotlib Axes")
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def curves(
    series: Mapping[str, ArrayLike],
    xlabel: str = "step",
    ylabel: str = "value",
    title: str = "",
    logy: bool = False,
    x: Optional[ArrayLike] = None,
    ax: Optional[Axes] = None,
) -> Figure:
    """Plot several named curves against a common x axis.

    Parameters
    ----------
    series : mapping of str to 1-D array-like
        One line per entry, labelled with its key.
    xlabel, ylabel, title : str
    logy : bool
        Logarithmic y axis.
    x : 1-D array-like, optional
        Abscissae (default 0, 1, 2, ...; or 1, 2, ... epochs for histories).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = curves({"a": [3, 2, 1]}, xlabel="epoch", ylabel="loss", title="t")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_title()
    ('epoch', 't')
    >>> plt.close(fig)
    """
    if not isinstance(series, Mapping) or not series:
        raise ValueError("series must be a non-empty mapping of name -> values")
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        for name, values in series.items():
            v = _np(values)
            xs = np.arange(len(v)) if x is None else _np(x)[: len(v)]
            ax.plot(xs, v, label=str(name))
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if len(series) > 1:
            ax.legend()
    return fig


def history(h: object, keys: Optional[Sequence[str]] = None, title: str = "Learning curves") -> Figure:
    """Draw a :class:`companion.train.History`: losses on the left, accuracies on the right.

    Parameters
    ----------
    h : companion.train.History
    keys : sequence of str, optional
        Which records to draw (default: every ``*loss`` and ``*accuracy`` key).
    title : str

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from companion.train import History
    >>> h = History(); h.append({"epoch": 1, "train_loss": 1.0, "val_loss": 1.1})
    >>> h.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.7})
    >>> fig = history(h)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss']
    >>> plt.close(fig)
    """
    from companion.train import History

    _validate.any_of(h, "h", (History,), "a companion.train.History")
    if len(h) == 0:
        raise ValueError("h is empty: nothing to plot")
    available = h.keys()
    keys = list(keys) if keys is not None else [k for k in available if k.endswith("loss") or k.endswith("accuracy")]
    unknown = [k for k in keys if k not in available]
    if unknown:
        raise ValueError(f"keys {unknown} were not recorded; recorded: {available}")
    losses = [k for k in keys if not k.endswith("accuracy")]
    accs = [k for k in keys if k.endswith("accuracy")]
    epochs = h["epoch"] if "epoch" in available else list(range(1, len(h) + 1))
    with plt.rc_context(STYLE):
        ncols = (1 if losses else 0) + (1 if accs else 0)
        fig, axes = plt.subplots(1, ncols, figsize=(6.4 * ncols if ncols > 1 else 6.4, 4.0), squeeze=False)
        panels = []
        if losses:
            panels.append((losses, "loss"))
        if accs:
            panels.append((accs, "accuracy"))
        for ax, (names, label) in zip(axes[0], panels):
            for k in names:
                ax.plot(epochs, h[k], marker="o" if len(h) < 30 else None, markersize=3, label=k.replace("_", " "))
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.set_title(f"{title}: {label}" if ncols > 1 else title)
            ax.legend()
        fig.tight_layout()
    return fig


def loss_surface(
    f: Callable[[torch.Tensor], torch.Tensor],
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-2.0, 2.0),
    paths: Optional[Mapping[str, ArrayLike]] = None,
    resolution: int = 200,
    levels: int = 30,
    log: bool = True,
    title: str = "Loss surface",
    ax: Optional[Axes] = None,
) -> Figure:
    r"""Contour plot of a function of two variables, with optimizer paths drawn on top.

    Parameters
    ----------
    f : callable
        Maps a tensor of points, shape (M, 2), to their values, shape (M,).
    xlim, ylim : (float, float)
        Range of the plot.
    paths : mapping of str to array-like of shape (T, 2), optional
        Trajectories (e.g. from ``companion.optim.minimize``), one line each, with the start
        marked by a circle and the end by a cross.
    resolution : int
        Grid points per axis.
    levels : int
        Number of contour levels.
    log : bool
        Space the levels logarithmically (useful for Rosenbrock-like valleys).
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = loss_surface(lambda p: (p ** 2).sum(dim=1), paths={"gd": [[1.5, 1.5], [0.5, 0.5], [0.0, 0.0]]})
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('$w_1$', '$w_2$')
    >>> plt.close(fig)
    """
    resolution = _validate.integer(resolution, "resolution", low=2)
    xs = torch.linspace(xlim[0], xlim[1], resolution, dtype=torch.float64)
    ys = torch.linspace(ylim[0], ylim[1], resolution, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        z = f(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1))
    if tuple(z.shape) != (resolution * resolution,):
        raise ValueError(f"f must map (M, 2) points to (M,) values; got shape {tuple(z.shape)} for M={resolution * resolution}")
    Z = _np(z).reshape(resolution, resolution)
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        if log:
            zmin = float(np.nanmin(Z))
            shifted = Z - zmin + 1e-3
            lv = np.geomspace(float(np.nanmin(shifted)), float(np.nanmax(shifted)), levels)
            cs = ax.contour(_np(gx), _np(gy), shifted, levels=lv, cmap="viridis", linewidths=0.8, norm=LogNorm())
        else:
            cs = ax.contour(_np(gx), _np(gy), Z, levels=levels, cmap="viridis", linewidths=0.8)
        del cs
        for name, path in (paths or {}).items():
            p = _np(path)
            if p.ndim != 2 or p.shape[1] != 2:
                raise ValueError(f"paths[{name!r}] must have shape (T, 2), got {p.shape}")
            (line,) = ax.plot(p[:, 0], p[:, 1], marker=".", markersize=3, label=str(name))
            ax.plot(p[0, 0], p[0, 1], "o", color=line.get_color())
            ax.plot(p[-1, 0], p[-1, 1], "x", color=line.get_color(), markersize=8)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("$w_1$")
        ax.set_ylabel("$w_2$")
        ax.set_title(title)
        if paths:
            ax.legend(loc="best")
    return fig


def decision_boundary(
    predict: Callable[[torch.Tensor], torch.Tensor],
    X: ArrayLike,
    y: ArrayLike,
    resolution: int = 200,
    margin: float = 0.5,
    title: str = "Decision regions",
    ax: Optional[Axes] = None,
) -> Figure:
    """Colour the plane by the class that ``predict`` assigns, with the data on top.

    Parameters
    ----------
    predict : callable
        Maps points, shape (M, 2), to class scores (M, C) or labels (M,). A ``torch.nn.Module``
        works; it is called under ``torch.no_grad()`` on the device of its parameters.
    X : array-like, shape (N, 2)
    y : array-like, shape (N,)
    resolution : int
    margin : float
        Extra room around the data.
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> X = torch.tensor([[-1.0, 0.0], [1.0, 0.0]]); y = torch.tensor([0, 1])
    >>> fig = decision_boundary(lambda p: (p[:, 0] > 0).long(), X, y)
    >>> fig.axes[0].get_title()
    'Decision regions'
    >>> plt.close(fig)
    """
    Xn, yn = _np(X), _np(y)
    if Xn.ndim != 2 or Xn.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {Xn.shape}")
    x0, x1 = Xn[:, 0].min() - margin, Xn[:, 0].max() + margin
    y0, y1 = Xn[:, 1].min() - margin, Xn[:, 1].max() + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    if isinstance(predict, torch.nn.Module):
        p = next(iter(predict.parameters()), None)
        if p is not None:
            grid = grid.to(device=p.device, dtype=p.dtype)
    with torch.no_grad():
        out = predict(grid)
    out = out.argmax(dim=1) if out.dim() == 2 else out
    Z = _np(out).reshape(gx.shape)
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        ax.contourf(gx, gy, Z, alpha=0.3, cmap="coolwarm", levels=np.arange(Z.max() + 2) - 0.5)
        ax.scatter(Xn[:, 0], Xn[:, 1], c=yn, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(title)
    return fig


def activation_histograms(
    activations: Union[Mapping[str, ArrayLike], Sequence[ArrayLike]],
    bins: int = 50,
    title: str = "Activations by depth",
    xlabel: str = "activation value",
    range: Optional[tuple[float, float]] = None,
) -> Figure:
    """One histogram per layer, side by side, to see how statistics change with depth.

    Parameters
    ----------
    activations : mapping name -> tensor, or sequence of tensors (named "layer 1", ...)
    bins : int
    title, xlabel : str
    range : (float, float), optional
        Common histogram range (default: the overall min and max).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = activation_histograms([torch.ones(4), torch.tensor([-1.0, 1.0])])
    >>> [ax.get_title() for ax in fig.axes]
    ['layer 1\\nstd 0.00', 'layer 2\\nstd 1.00']
    >>> plt.close(fig)
    """
    if isinstance(activations, Mapping):
        items = [(str(k), _np(v).ravel()) for k, v in activations.items()]
    else:
        items = [(f"layer {i + 1}", _np(v).ravel()) for i, v in enumerate(activations)]
    if not items:
        raise ValueError("activations is empty")
    if range is None:
        lo = min(float(v.min()) for _, v in items)
        hi = max(float(v.max()) for _, v in items)
        range = (lo, hi if hi > lo else lo + 1.0)
    n = len(items)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, n, figsize=(min(2.0 * n, 16), 2.8), sharey=True, squeeze=False)
        for ax, (name, v) in zip(axes[0], items):
            ax.hist(v, bins=bins, range=range, color="C0", alpha=0.8)
            ax.set_title(f"{name}\nstd {v.std():.2f}", fontsize=9)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0][0].set_ylabel("count")
        fig.suptitle(title)
        fig.tight_layout()
    return fig
