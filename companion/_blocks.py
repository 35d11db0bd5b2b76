"""Cache-sized blocks for the CPU kernels of :mod:`companion.losses` and :mod:`companion.regularization`.

A kernel written from tensor operations makes one pass over its data per operation. Over a
large tensor every pass streams it from memory again; over slices of about
:data:`BLOCK_BYTES` the later passes find the slice in the CPU's cache, and temporaries are
block-sized instead of full-sized (``benchmarks/RESULTS.md`` has the measurements). A GPU
gains nothing from this, so there the whole tensor is one block.
"""

from __future__ import annotations

from typing import Iterator

import torch

#: Bytes per block in :func:`blocks`: a block and its output fit in a CPU core's L2 cache (2 MB here),
#: and there are few enough blocks that the per-operation overhead (5-10 µs) stays small.
BLOCK_BYTES = 1 << 20


def blocks(dim: int, *tensors: torch.Tensor) -> Iterator[tuple[torch.Tensor, ...]]:
    """Matching slices of same-shaped ``tensors``, cut across a dimension other than ``dim``.

    The slices are cut across dimension 0 (across dimension 1 when ``dim`` is 0), so a
    reduction along ``dim`` never spans two blocks. One block holds the whole tensors on
    a GPU, and for tensors of fewer than 2 dimensions.
    """
    x = tensors[0]
    if x.device.type != "cpu" or x.dim() < 2:
        yield tensors
        return
    across = 1 if dim == 0 else 0
    row_bytes = x.numel() // max(x.shape[across], 1) * x.element_size()
    step = max(1, BLOCK_BYTES // max(row_bytes, 1))
    yield from zip(*(t.split(step, across) for t in tensors))
