r"""One MLP training step with hand-written backprop vs the same step with torch.autograd.

Both steps do the same work: forward pass, mean cross-entropy, gradients of every parameter,
and an in-place SGD update. The hand step is ``companion.nn.MLP.forward``, one
``companion.losses.log_softmax`` for both the loss value and
:math:`\delta^{[L]} = (\operatorname{softmax} - \text{onehot})/B`, ``MLP.backward`` and
``companion.nn.sgd_step``; the
autograd step runs the equivalent ``torch.nn.Sequential`` (``MLP.to_torch()``) through
``loss.backward()``. The script prints a table of median step times and the ratio
hand / autograd (below 1 means the hand-written step is faster) at three sizes.

Usage::

    python benchmarks/bench_mlp_step.py [--device cpu] [--repeats 30] [--output table.md]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Optional

import torch
import torch.nn.functional as F

import companion
from companion.losses import log_softmax
from companion.nn import MLP, sgd_step

# (name, layer sizes, batch)
SIZES = [
    ("small", [64, 128, 10], 128),
    ("medium", [256, 512, 512, 10], 256),
    ("large", [784, 1024, 1024, 1024, 10], 512),
]
LR = 0.01


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_times(steps: list[Callable[[], None]], device: torch.device, repeats: int, warmup: int = 3) -> list[float]:
    """Median time of each step; the steps alternate, so a change in machine load hits all alike."""
    for _ in range(warmup):
        for step in steps:
            step()
    _sync(device)
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, record in zip(steps, times):
            start = time.perf_counter()
            step()
            _sync(device)
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def bench(sizes: list[int], batch: int, device: torch.device, repeats: int, dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Median seconds per step, hand-written and autograd, for one network size."""
    gen = torch.Generator().manual_seed(0)
    net = MLP(sizes, activation="relu", dtype=dtype, device=device, generator=gen)
    model = net.to_torch()
    x = torch.randn(batch, sizes[0], generator=gen, dtype=dtype).to(device)
    y = torch.randint(0, sizes[-1], (batch,), generator=gen).to(device)

    rows = torch.arange(batch, device=device)

    def hand_step() -> None:
        logits = net.forward(x)
        logp = log_softmax(logits)
        -logp[rows, y].mean()  # the loss value, as a training loop would log it
        delta = logp.exp()  # delta^L = (softmax - onehot) / B for the mean cross-entropy
        delta[rows, y] -= 1.0
        grads = net.backward(delta.div_(batch))
        sgd_step(net.params, grads, LR)

    params = list(model.parameters())

    def autograd_step() -> None:
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(LR * p.grad)

    hand, auto = _median_times([hand_step, autograd_step], device, repeats)
    return {"hand": hand, "autograd": auto, "ratio": hand / auto}


def main(argv: Optional[list[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: companion.get_device())")
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per measurement (median)")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    companion.seed_everything(0)
    device = companion.get_device(args.device)
    lines = [
        f"MLP training step, hand-written backprop vs torch.autograd ({device}, float32, median of {args.repeats})",
        "",
        "| size | layers | batch | hand (ms) | autograd (ms) | hand / autograd |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, sizes, batch in SIZES:
        r = bench(sizes, batch, device, args.repeats)
        lines.append(
            f"| {name} | {'-'.join(map(str, sizes))} | {batch} | {1e3 * r['hand']:.3f} | "
            f"{1e3 * r['autograd']:.3f} | {r['ratio']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(table + "\n")
    return table


if __name__ == "__main__":
    main()
