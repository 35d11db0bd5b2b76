"""Reference solutions of the "Getting started" exercises, used by their checks.

Chapter 0's exercise notebook asks for three building blocks of every training script:
the accuracy of a batch of predictions, a stratified train/validation split of the
indices, and one epoch of mini-batch training that returns the epoch's mean loss. The
references below are what the checks compare the students' answers with;
:func:`stratified_split_property` checks a split, since many splits are right.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import torch
from torch import nn

__all__ = ["accuracy", "stratified_split", "stratified_split_property", "train_one_epoch"]


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Share of examples whose highest logit is at the target class.

    .. math::

        \operatorname{acc} = \frac{1}{N} \sum_{i=1}^{N}
        \mathbb{1}\bigl[\arg\max_c z_{ic} = y_i\bigr]

    Ties go to the first maximal class (``torch.argmax``'s rule).

    Parameters
    ----------
    logits : torch.Tensor, shape (N, C)
        Scores (logits or probabilities: the argmax is the same).
    targets : torch.Tensor of int64, shape (N,)
        Class indices.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the shapes do not fit or there are no examples.

    Examples
    --------
    >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), torch.tensor([0, 1, 1]))
    0.6666666666666666
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, C), got {tuple(logits.shape)}")
    if targets.shape != logits.shape[:1]:
        raise ValueError(f"targets must have shape ({logits.shape[0]},), got {tuple(targets.shape)}")
    if len(targets) == 0:
        raise ValueError("logits must hold at least one example, got N = 0")
    return int((logits.argmax(dim=1) == targets).sum()) / len(targets)


def stratified_split(y: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Random train/validation split of the indices ``0 .. N-1`` that keeps class shares.

    Each class :math:`c` with :math:`n_c` examples sends :math:`\operatorname{round}(f\,n_c)`
    randomly chosen examples to validation (the same rule as
    :func:`companion.data.train_val_split`).

    Parameters
    ----------
    y : torch.Tensor of int64, shape (N,)
        Class labels.
    val_fraction : float
        Share :math:`f` of each class that goes to validation, in (0, 1).
    seed : int
        Seed of the ``torch.Generator`` that shuffles each class.

    Returns
    -------
    train_idx, val_idx : torch.Tensor of int64
        Sorted indices, on ``y``'s device.

    Raises
    ------
    ValueError
        If ``val_fraction`` is not in (0, 1) or ``y`` is not a 1-D integer tensor.

    Examples
    --------
    >>> train, val = stratified_split(torch.tensor([0, 0, 0, 0, 1, 1]), 0.5, seed=0)
    >>> len(train), len(val), sorted(torch.cat([train, val]).tolist())
    (3, 3, [0, 1, 2, 3, 4, 5])
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if y.dim() != 1 or y.dtype.is_floating_point:
        raise ValueError(f"y must be a 1-D tensor of integer labels, got {y.dtype} of shape {tuple(y.shape)}")
    generator = torch.Generator().manual_seed(seed)
    labels = y.cpu()
    train_parts, val_parts = [], []
    for c in torch.unique(labels):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        k = int(round(val_fraction * len(idx)))
        val_parts.append(idx[:k])
        train_parts.append(idx[k:])
    train_idx = torch.sort(torch.cat(train_parts)).values.to(y.device)
    val_idx = torch.sort(torch.cat(val_parts)).values.to(y.device)
    return train_idx, val_idx


def stratified_split_property(result: object, y: torch.Tensor, val_fraction: float, seed: int) -> None:
    """Assert that ``result`` is a valid stratified split of ``y`` (for :func:`companion.exercises.check_property`).

    Checks: two 1-D int64 tensors; together they hold every index exactly once; each class
    sends ``val_fraction`` of its examples to validation up to rounding (less than one
    example off); and the validation examples of a large class are not simply its first
    or last ones (no shuffling).

    Raises
    ------
    AssertionError
        With a message that says which condition fails.

    Examples
    --------
    >>> y = torch.tensor([0, 0, 1, 1, 1, 1])
    >>> stratified_split_property(stratified_split(y, 0.5, 0), y, 0.5, 0)
    >>> try:
    ...     stratified_split_property((torch.arange(4), torch.arange(4, 6)), y, 0.5, 0)
    ... except AssertionError as err:
    ...     print(err)
    class 0 (2 examples) has 0 in validation; expected 1 (val_fraction * 2 = 1), up to rounding
    """
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        f"return a pair (train_idx, val_idx), got {type(result).__name__}"
        + (f" of {len(result)} items" if isinstance(result, (tuple, list)) else "")
    )
    train, val = result
    for label, part in (("train_idx", train), ("val_idx", val)):
        assert isinstance(part, torch.Tensor), f"{label} must be a torch.Tensor, got {type(part).__name__}"
        assert part.dim() == 1, f"{label} must be 1-D, got shape {tuple(part.shape)}"
        assert part.dtype == torch.int64, f"{label} must hold int64 indices, got {part.dtype} (use .long())"
    train, val = train.cpu(), val.cpu()
    n = len(y)
    both = torch.cat([train, val])
    assert len(both) == n, f"train_idx and val_idx hold {len(train)} + {len(val)} = {len(both)} indices; expected N = {n}"
    counts = torch.bincount(both, minlength=n) if len(both) and int(both.min()) >= 0 else None
    assert counts is not None and len(counts) == n, f"indices must lie in 0 .. {n - 1}"
    assert bool((counts == 1).all()), (
        f"index {int(torch.nonzero(counts != 1)[0])} appears {int(counts[counts != 1][0])} times; "
        "every index must be in exactly one part"
    )
    labels = y.cpu()
    in_val = torch.zeros(n, dtype=torch.bool)
    in_val[val] = True
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        k = int(in_val[members].sum())
        target = val_fraction * len(members)
        assert abs(k - target) < 1, (
            f"class {c} ({len(members)} examples) has {k} in validation; expected {target:g} "
            f"(val_fraction * {len(members)} = {target:g}), up to rounding"
        )
        if len(members) >= 20 and 0 < k < len(members):
            chosen = in_val[members]
            assert not (bool(chosen[:k].all()) or bool(chosen[-k:].all())), (
                f"class {c}: the validation examples are its first (or last) {k}; shuffle each class "
                f"(torch.randperm with a torch.Generator seeded with seed)"
            )


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[Sequence[torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
) -> float:
    r"""One pass of mini-batch training over ``loader``; return the mean loss per example.

    For each batch: zero the gradients, compute the loss, back-propagate, step. The
    returned mean weighs each batch's mean loss by its size, so a smaller last batch
    counts for what it holds:

    .. math::

        \bar\ell = \frac{\sum_b |B_b|\,\ell_b}{\sum_b |B_b|}

    Parameters
    ----------
    model : torch.nn.Module
        Put in training mode first (dropout, batch norm).
    loader : iterable of (x, y) batches
        On the model's device.
    loss_fn : callable
        ``loss_fn(output, target)`` returning the batch's mean loss.
    optimizer : torch.optim.Optimizer
        Over the model's parameters.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the loader yields no batch.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(10, 3), torch.randint(0, 2, (10,))
    >>> model = nn.Linear(3, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> batches = [(X[:4], y[:4]), (X[4:8], y[4:8]), (X[8:], y[8:])]
    >>> loss = train_one_epoch(model, batches, nn.functional.cross_entropy, opt)
    >>> isinstance(loss, float) and loss > 0
    True
    """
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        count += len(xb)
    if count == 0:
        raise ValueError("loader yielded no batch")
    return total / count
