"""Offline datasets and loaders.

Everything here works without a network connection: :func:`digits` reads the 8x8
handwritten digits that ship inside scikit-learn, and the 2-D toy sets are generated from a
seed. Tensors come back on the requested device in the requested floating dtype, with integer
class labels of dtype ``torch.long``.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from companion import _validate

__all__ = ["circles", "digits", "loader", "moons", "spirals", "train_val_split"]

DeviceLike = Optional[Union[str, torch.device]]


def _to_tensors(X: np.ndarray, y: np.ndarray, device: DeviceLike, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.as_tensor(X, dtype=dtype, device=device),
        torch.as_tensor(y, dtype=torch.long, device=device),
    )


def _examples(value: object, name: str) -> torch.Tensor:
    """A tensor with one example per row: at least one dimension."""
    value = _validate.tensor(value, name)
    if value.dim() == 0:
        raise ValueError(f"{name} must have shape (N, ...), one example per row, got a 0-d tensor")
    return value


def digits(device: DeviceLike = None, dtype: torch.dtype = torch.float32, flatten: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8x8 handwritten digits, scaled to [0, 1].

    1,797 grey-scale images of the digits 0-9 (about 180 per class), pixel values 0..16
    divided by 16.

    Parameters
    ----------
    device : str or torch.device, optional
        Where to put the tensors (default: CPU).
    dtype : torch.dtype
        Floating dtype of the images.
    flatten : bool
        ``True`` gives ``X`` of shape (1797, 64); ``False`` gives (1797, 1, 8, 8).

    Returns
    -------
    X : torch.Tensor, shape (1797, 64) or (1797, 1, 8, 8)
    y : torch.Tensor of int64, shape (1797,)

    Examples
    --------
    >>> X, y = digits()
    >>> tuple(X.shape), tuple(y.shape), int(y.max()) + 1
    ((1797, 64), (1797,), 10)
    >>> float(X.min()), float(X.max())
    (0.0, 1.0)
    """
    device, dtype = _validate.device(device), _validate.dtype(dtype)
    flatten = _validate.boolean(flatten, "flatten")
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    X = bunch.data / 16.0
    if not flatten:
        X = X.reshape(-1, 1, 8, 8)
    return _to_tensors(X, bunch.target, device, dtype)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0, device: DeviceLike = None, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Two interleaving half circles, labels 0 and 1.

    Class 0 lies on :math:`(\cos t, \sin t)`, class 1 on :math:`(1 - \cos t, 1/2 - \sin t)`,
    :math:`t \in [0, \pi]`, plus Gaussian noise of standard deviation ``noise``.

    Returns
    -------
    X : torch.Tensor, shape (n, 2)
    y : torch.Tensor of int64, shape (n,)

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not an int, ``noise`` not a real number, ``dtype`` not a
        floating-point dtype, or ``device`` neither a str nor a torch.device.
    ValueError
        If ``n < 2``, ``noise < 0``, ``seed`` is outside ``[0, 2**32 - 1]``, or ``device``
        is unknown or absent here (the same checks as :func:`companion.get_device`; so for
        :func:`circles` and :func:`spirals`).

    Examples
    --------
    >>> X, y = moons(100, seed=1)
    >>> tuple(X.shape), int(y.sum())
    ((100, 2), 50)
    """
    n, noise = _validate.integer(n, "n", low=2), _validate.real(noise, "noise", low=0)
    seed, device, dtype = _validate.seed(seed), _validate.device(device), _validate.dtype(dtype)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, math.pi, n0)
    t1 = np.linspace(0, math.pi, n1)
    X = np.concatenate([
        np.stack([np.cos(t0), np.sin(t0)], axis=1),
        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1),
    ])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return _to_tensors(X[order], y[order], device, dtype)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0, device: DeviceLike = None, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    Returns
    -------
    X : torch.Tensor, shape (n, 2)
    y : torch.Tensor of int64, shape (n,)

    Examples
    --------
    >>> X, y = circles(100, noise=0.0, factor=0.5)
    >>> r = X.norm(dim=1)
    >>> bool(((r - 1).abs() < 1e-6)[y == 0].all()), bool(((r - 0.5).abs() < 1e-6)[y == 1].all())
    (True, True)
    """
    n, noise = _validate.integer(n, "n", low=2), _validate.real(noise, "noise", low=0)
    factor = _validate.real(factor, "factor", low=0, high=1, low_open=True, high_open=True)
    seed, device, dtype = _validate.seed(seed), _validate.device(device), _validate.dtype(dtype)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, 2 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * math.pi, n1, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t0), np.sin(t0)], axis=1),
        factor * np.stack([np.cos(t1), np.sin(t1)], axis=1),
    ])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return _to_tensors(X[order], y[order], device, dtype)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0, device: DeviceLike = None, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``classes`` interleaved spiral arms in the plane (not linearly separable).

    Arm :math:`k` has points :math:`r(\sin\theta, \cos\theta)` with :math:`r \in [0, 1]` and
    :math:`\theta = 4r + 2\pi k / K` plus Gaussian noise of standard deviation ``noise`` on
    :math:`\theta`.

    Returns
    -------
    X : torch.Tensor, shape (n, 2)
    y : torch.Tensor of int64, shape (n,)

    Examples
    --------
    >>> X, y = spirals(90, classes=3)
    >>> tuple(X.shape), torch.bincount(y).tolist()
    ((90, 2), [30, 30, 30])
    """
    n, classes = _validate.integer(n, "n", low=2), _validate.integer(classes, "classes", low=2)
    noise = _validate.real(noise, "noise", low=0)
    seed, device, dtype = _validate.seed(seed), _validate.device(device), _validate.dtype(dtype)
    rng = np.random.default_rng(seed)
    sizes = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        theta = 4.0 * r + 2 * math.pi * k / classes + noise * rng.standard_normal(m)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(m, k))
    X = np.concatenate(xs)
    y = np.concatenate(ys)
    order = rng.permutation(n)
    return _to_tensors(X[order], y[order], device, dtype)


def train_val_split(
    X: torch.Tensor,
    y: torch.Tensor,
    val_fraction: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split a dataset into training and validation parts.

    With ``stratify=True`` (for class labels) every class keeps the same share in both parts,
    up to rounding.

    Parameters
    ----------
    X : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,)
    val_fraction : float
        Share of the examples that go to validation, in (0, 1).
    seed : int
        Seed of the shuffle.
    stratify : bool
        Keep class proportions (``y`` must hold integer labels).

    Returns
    -------
    X_train, y_train, X_val, y_val : torch.Tensor

    Raises
    ------
    TypeError
        If ``X`` or ``y`` is not a tensor, ``val_fraction`` not a real number, ``seed`` not
        an int or ``stratify`` not a bool.
    ValueError
        If the lengths differ, ``val_fraction`` is not in (0, 1), ``seed`` is outside
        ``[0, 2**32 - 1]``, or a part would be empty.

    Examples
    --------
    >>> X, y = digits()
    >>> X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.25)
    >>> len(X_tr) + len(X_va) == len(X), abs(len(X_va) - 0.25 * len(X)) < 10
    (True, True)
    """
    X, y = _examples(X, "X"), _examples(y, "y")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    val_fraction = _validate.real(val_fraction, "val_fraction", low=0, high=1, low_open=True, high_open=True)
    seed, stratify = _validate.seed(seed), _validate.boolean(stratify, "stratify")
    n = len(y)
    generator = torch.Generator().manual_seed(seed)
    if stratify:
        if y.dtype.is_floating_point or y.dim() != 1:
            raise ValueError("stratify=True needs y of integer class labels with shape (N,)")
        y_cpu = y.cpu()
        val_parts, train_parts = [], []
        for c in torch.unique(y_cpu):
            idx = torch.nonzero(y_cpu == c).flatten()
            idx = idx[torch.randperm(len(idx), generator=generator)]
            k = int(round(val_fraction * len(idx)))
            val_parts.append(idx[:k])
            train_parts.append(idx[k:])
        val_idx = torch.cat(val_parts)
        train_idx = torch.cat(train_parts)
        # shuffle so that classes are interleaved
        val_idx = val_idx[torch.randperm(len(val_idx), generator=generator)]
        train_idx = train_idx[torch.randperm(len(train_idx), generator=generator)]
    else:
        perm = torch.randperm(n, generator=generator)
        k = int(round(val_fraction * n))
        val_idx, train_idx = perm[:k], perm[k:]
    if len(val_idx) == 0 or len(train_idx) == 0:
        raise ValueError(f"val_fraction={val_fraction} leaves an empty part for {n} examples")
    val_idx = val_idx.to(X.device)
    train_idx = train_idx.to(X.device)
    return X[train_idx], y[train_idx.to(y.device)], X[val_idx], y[val_idx.to(y.device)]


def loader(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 64,
    shuffle: bool = True,
    device: DeviceLike = None,
    seed: Optional[int] = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over in-memory tensors, placed on ``device``.

    The data are moved to the device once, so batches need no copy. The last batch holds
    the remaining ``N mod batch_size`` examples unless ``drop_last`` is set.

    Parameters
    ----------
    X : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N, ...)
    batch_size : int
    shuffle : bool
        Reshuffle at every epoch, with a generator seeded by ``seed``.
    device : str or torch.device, optional
        Defaults to the device ``X`` is on.
    seed : int or None
        Seed of the shuffle; ``None`` draws from torch's global generator.
    drop_last : bool

    Returns
    -------
    torch.utils.data.DataLoader

    Raises
    ------
    TypeError
        If ``X`` or ``y`` is not a tensor, ``batch_size`` or ``seed`` not an int, or
        ``shuffle``/``drop_last`` not a bool.
    ValueError
        If ``X`` is empty or 0-d, the lengths differ, ``batch_size < 1``, ``seed`` is out of
        range, or ``device`` is unknown or absent here (:func:`companion.get_device`'s check).

    Examples
    --------
    >>> X, y = digits()
    >>> dl = loader(X, y, batch_size=500, shuffle=False)
    >>> [len(xb) for xb, _ in dl]
    [500, 500, 500, 297]
    """
    X, y = _examples(X, "X"), _examples(y, "y")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError(f"X must hold at least one example, got shape {tuple(X.shape)}")
    batch_size = _validate.integer(batch_size, "batch_size", low=1)
    shuffle, drop_last = _validate.boolean(shuffle, "shuffle"), _validate.boolean(drop_last, "drop_last")
    seed = None if seed is None else _validate.seed(seed)
    target = X.device if device is None else _validate.device(device)
    dataset = TensorDataset(X.to(target), y.to(target))
    generator = None
    if shuffle and seed is not None:
        generator = torch.Generator().manual_seed(seed)
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    # The sampler yields whole lists of indices and the dataset is indexed once per batch
    # (one gather per tensor) instead of once per example followed by a collate.
    batches = BatchSampler(order, batch_size=batch_size, drop_last=drop_last)
    return DataLoader(dataset, sampler=batches, batch_size=None)
