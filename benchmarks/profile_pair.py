"""Where the time goes: torch.profiler tables for one benchmark pair of ``run.py``.

For a case of ``benchmarks/run.py`` (matched by a substring of its name) at its largest
size, prints the operators that each version runs (for a kernel: compiled, formula and
PyTorch), sorted by self time, with call counts. The eager formula makes one pass over memory
(and usually one temporary tensor) per operation; the compiled one runs a few fused loops
(``cpp_fused_...`` on the CPU); this table is the evidence behind the analysis in RESULTS.md.

Usage::

    python benchmarks/profile_pair.py layer_norm [--size 0|1|2] [--threads 1] [--steps 5]
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import torch
from torch.profiler import ProfilerActivity, profile

import run


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one companion-vs-PyTorch pair of run.py.")
    parser.add_argument("case", help="substring of the case name, e.g. layer_norm, 'softmax (forward)', Adam")
    parser.add_argument("--size", type=int, default=-1, help="index into the case's sizes (default: the largest)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="profiled calls of each side")
    parser.add_argument("--rows", type=int, default=12)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cases = [c for c in run.CASES if args.case.lower() in c.name.lower()]
    if not cases:
        parser.error(f"no case matches {args.case!r}; cases: {[c.name for c in run.CASES]}")
    device = torch.device(args.device)
    for case in cases:
        label, params = case.sizes[args.size]
        pair = case.make(params, device, torch.float32)
        sides = [("compiled" if pair.formula is not None else "companion", pair.ours), ("PyTorch", pair.torch)]
        if pair.formula is not None:
            sides.insert(1, ("formula (eager)", pair.formula))
        for side, fn in sides:
            for _ in range(2):
                fn()
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(args.steps):
                    fn()
            print(f"\n=== {case.name}, {label}, {side}: {args.steps} calls ===")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
