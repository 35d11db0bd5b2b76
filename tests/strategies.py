"""Hypothesis strategies shared by the test modules.

Tensors are built on the CPU in float64 from hypothesis-drawn floats and moved to the
device under test by the test itself (``.to(device)``), so every device sees the same data.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from hypothesis import strategies as st

# Finite floats in a range where float64 reference computations are exact enough.
FINITE = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False, allow_infinity=False, width=64)


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 6) -> st.SearchStrategy[tuple[int, ...]]:
    """Tensor shapes, e.g. ``(3,)``, ``(2, 5)``, ``(4, 1, 3)``."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def tensors(
    draw: st.DrawFn,
    shape: Sequence[int] | st.SearchStrategy[tuple[int, ...]] | None = None,
    elements: st.SearchStrategy[float] = FINITE,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """A CPU tensor of the given (or a drawn) shape with hypothesis-chosen entries."""
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    n = math.prod(shape)
    values = draw(st.lists(elements, min_size=n, max_size=n))
    return torch.tensor(values, dtype=dtype).reshape(tuple(shape))


@st.composite
def matrices(draw: st.DrawFn, max_rows: int = 8, max_cols: int = 8, elements: st.SearchStrategy[float] = FINITE) -> torch.Tensor:
    """A 2-D float64 CPU tensor with 1..max_rows rows and 1..max_cols columns."""
    rows = draw(st.integers(1, max_rows))
    cols = draw(st.integers(1, max_cols))
    return draw(tensors((rows, cols), elements=elements))


@st.composite
def probability_vectors(draw: st.DrawFn, batch: int | None = None, classes: int | None = None, allow_zeros: bool = False) -> torch.Tensor:
    """Rows that are probability distributions: entries >= 0 summing to 1, shape (batch, classes).

    With ``allow_zeros`` some entries are exactly 0 (to test the 0 log 0 = 0 convention).
    """
    batch = draw(st.integers(1, 6)) if batch is None else batch
    classes = draw(st.integers(2, 7)) if classes is None else classes
    low = 0.0 if allow_zeros else 1e-3
    raw = draw(tensors((batch, classes), elements=st.floats(low, 1.0, allow_nan=False, width=64)))
    if allow_zeros:
        keep = draw(tensors((batch, classes), elements=st.sampled_from([0.0, 1.0, 1.0])))
        raw = raw * keep
        raw[:, 0] = raw[:, 0] + 1e-3  # at least one positive entry per row
    return raw / raw.sum(dim=-1, keepdim=True)


@st.composite
def logits_and_targets(draw: st.DrawFn, max_batch: int = 8, max_classes: int = 7, scale: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of shape (N, C) and class indices of shape (N,), in range [0, C)."""
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(2, max_classes))
    z = draw(tensors((n, c), elements=st.floats(-scale, scale, allow_nan=False, width=64)))
    y = torch.tensor(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=torch.long)
    return z, y


seeds = st.integers(min_value=0, max_value=2**32 - 1)
