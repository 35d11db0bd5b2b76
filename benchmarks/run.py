"""Ratio benchmarks of the companion package against PyTorch (``make bench``).

Each kernel row times three versions of one kernel, in one run, on the same inputs, at three
sizes, on the CPU and on CUDA when present, forward and backward:

* *formula*: the formula tier (``companion.losses``, ``companion.normalization``), eager;
* *compiled*: the same function through ``companion.compiled`` (``torch.compile``);
* *PyTorch*: the operation it re-implements (``F.cross_entropy``, ``torch.softmax``, ...),

and reports formula / PyTorch and compiled / PyTorch (below 1: faster than PyTorch), with the
time the compiled version took to compile (its first call, forward and backward, after
``torch._dynamo.reset()``, so each size compiles for its own shapes, with Inductor's on-disk
cache as found). On CUDA a column gives the compiled kernel's bandwidth as a fraction of the
device's copy bandwidth (``y.copy_(x)`` of 256 MB), counting each tensor the forward and
backward must read or write once. Also timed, against ``torch.optim``: one ``step()`` of
every ``companion.optim`` optimizer that ``torch.optim`` also has, and one MLP training step
with hand-written backprop against the same step with torch.autograd
(``benchmarks/bench_mlp_step.py``).

Before timing, each version is run once on copies of the inputs and its results compared
with PyTorch's (a row whose results differ is marked, not hidden). Times are medians of
``torch.utils.benchmark.Timer.blocked_autorange``; the versions are measured in alternation,
``--rounds`` times, and the fastest median of each is kept, which makes the ratios robust to
other load on the machine. On Linux the script restarts itself with glibc malloc settings
that keep freed memory for reuse (``MALLOC_ENV``; ``--system-malloc`` to measure without
them). Results replace the part of ``benchmarks/RESULTS.md`` between the ``BEGIN``/``END make
bench`` markers; the rest of the file is kept.

Usage::

    python benchmarks/run.py [--device cpu] [--threads 1] [--rounds 5] [--min-time 0.2] [--quick] [--system-malloc]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch.utils import benchmark

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_mlp_step lives beside this file

import companion  # noqa: E402
from companion import compiled, losses, normalization, optim  # noqa: E402

BEGIN = "<!-- BEGIN make bench: written by benchmarks/run.py, do not edit by hand -->"
END = "<!-- END make bench -->"
KERNEL_TARGET = 1.2  # the compiled kernel within 1.2x of PyTorch's time on CPU at the largest size
OPTIMIZER_TARGET = 1.5  # an optimizer step within 1.5x of torch.optim's
MLP_TARGET = 1.0  # the hand-backprop step no slower than autograd's

Fn = Callable[[], object]


@dataclass
class Pair:
    """A companion callable and the PyTorch callable it is compared with.

    For a kernel, ``ours`` is the compiled version and ``formula`` the eager formula;
    ``traffic`` is the number of bytes its forward and backward must read and write.
    """

    ours: Fn
    torch: Fn
    check: Optional[Callable[[], Optional[str]]] = None  # None when results agree, else why not
    formula: Optional[Fn] = None
    traffic: int = 0


@dataclass
class Case:
    name: str
    group: str  # "kernel", "mlp" or "optimizer"
    sizes: Sequence[Tuple[str, object]]  # (label, parameters)
    make: Callable[[object, torch.device, torch.dtype], Pair]


def _close(a: torch.Tensor, b: torch.Tensor, what: str, rtol: float = 1e-4, atol: float = 1e-5) -> Optional[str]:
    if a.shape != b.shape:
        return f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
    # float32 reductions over thousands of terms differ in summation order: compare the
    # largest difference with the scale of the result, not entry by entry
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = b.abs().max().item() if b.numel() else 0.0
    if not err <= atol + rtol * scale:
        return f"{what}: max difference {err:.3g} (scale {scale:.3g})"
    return None


def _first(*problems: Optional[str]) -> Optional[str]:
    return next((p for p in problems if p), None)


def _gen(device: torch.device) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(0)


def _randn(shape: Tuple[int, ...], device: torch.device, dtype: torch.dtype, g: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=dtype).to(device)


# ------------------------------------------------------------------------------ kernels


def _logits(size: object, device: torch.device, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    n, c = size  # type: ignore[misc]
    g = _gen(device)
    z = _randn((n, c), device, dtype, g)
    t = torch.randint(0, c, (n,), generator=g).to(device)
    return z, t


def _forward_backward(fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor],
                      upstream: Optional[torch.Tensor]) -> Fn:
    """A callable running ``fn(*inputs)`` and autograd's backward to every input (fresh leaves each)."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]

    def run() -> Tuple[torch.Tensor, ...]:
        y = fn(*leaves)
        return (y, *torch.autograd.grad(y, leaves, upstream))

    return run


def _kernel_pair(formula: Callable[..., torch.Tensor], fast: Callable[..., torch.Tensor],
                 reference: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor],
                 upstream: Optional[torch.Tensor], passes: int, tolerance: float = 1e-4) -> Pair:
    """Three versions of one kernel, forward and backward, on the same inputs.

    ``passes``: how many tensors of the input's size the forward and backward must read or
    write at least (the input, the output, the upstream gradient, the input's gradient, ...).
    """
    runs = {name: _forward_backward(fn, inputs, upstream) for name, fn in (("formula", formula), ("compiled", fast), ("torch", reference))}

    def check() -> Optional[str]:
        ref = [t.detach() for t in runs["torch"]()]
        problems = []
        for name in ("formula", "compiled"):
            for i, (a, b) in enumerate(zip(runs[name](), ref)):
                problems.append(_close(a.detach(), b, f"{name} {'output' if i == 0 else f'gradient {i}'}",
                                       rtol=tolerance * 10, atol=tolerance))
        return _first(*problems)

    return Pair(runs["compiled"], runs["torch"], check, formula=runs["formula"],
                traffic=passes * inputs[0].numel() * inputs[0].element_size())


def make_cross_entropy(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    z, t = _logits(size, device, dtype)
    # forward: read z; backward: read z, write its gradient
    return _kernel_pair(lambda z: losses.cross_entropy(z, t), lambda z: compiled.cross_entropy(z, t),
                        lambda z: F.cross_entropy(z, t), [z], None, passes=3)


def make_softmax(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    z, _ = _logits(size, device, dtype)
    upstream = _randn(tuple(z.shape), device, dtype, _gen(device))
    # forward: read z, write s; backward: read the upstream gradient and s, write the gradient
    return _kernel_pair(losses.softmax, compiled.softmax, lambda z: torch.softmax(z, -1), [z], upstream, passes=5)


def make_log_softmax(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    z, _ = _logits(size, device, dtype)
    upstream = _randn(tuple(z.shape), device, dtype, _gen(device))
    return _kernel_pair(losses.log_softmax, compiled.log_softmax, lambda z: torch.log_softmax(z, -1), [z], upstream, passes=5)


def _norm_inputs(size: object, device: torch.device, dtype: torch.dtype):  # type: ignore[no-untyped-def]
    n, d = size  # type: ignore[misc]
    g = _gen(device)
    x = _randn((n, d), device, dtype, g)
    w = 1.0 + 0.1 * _randn((d,), device, dtype, g)
    b = 0.1 * _randn((d,), device, dtype, g)
    upstream = _randn((n, d), device, dtype, g)
    return x, w, b, upstream


def make_layer_norm(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    x, w, b, upstream = _norm_inputs(size, device, dtype)
    d = x.shape[-1]
    # forward: read x, write y; backward: read the upstream gradient and x, write dx
    return _kernel_pair(lambda x, w, b: normalization.layer_norm(x, d, w, b), lambda x, w, b: compiled.layer_norm(x, d, w, b),
                        lambda x, w, b: F.layer_norm(x, (d,), w, b), [x, w, b], upstream, passes=5, tolerance=1e-3)


def make_rms_norm(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    x, w, _, upstream = _norm_inputs(size, device, dtype)
    d = x.shape[-1]
    return _kernel_pair(lambda x, w: normalization.rms_norm(x, d, w), lambda x, w: compiled.rms_norm(x, d, w),
                        lambda x, w: F.rms_norm(x, (d,), w), [x, w], upstream, passes=5, tolerance=1e-3)


def make_batch_norm(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
    x, w, b, upstream = _norm_inputs(size, device, dtype)
    d = x.shape[-1]
    stats = [(torch.zeros(d, dtype=dtype, device=device), torch.ones(d, dtype=dtype, device=device)) for _ in range(3)]
    pair = _kernel_pair(lambda x, w, b: normalization.batch_norm(x, *stats[0], w, b, training=True),
                        lambda x, w, b: compiled.batch_norm(x, *stats[1], w, b, training=True),
                        lambda x, w, b: F.batch_norm(x, *stats[2], w, b, training=True), [x, w, b], upstream,
                        passes=5, tolerance=1e-3)
    check = pair.check

    def check_with_statistics() -> Optional[str]:
        for mean, var in stats:
            mean.zero_(), var.fill_(1.0)
        problem = check() if check else None
        return problem or _first(*(_close(stats[k][i], stats[2][i], f"{'formula' if k == 0 else 'compiled'} running {what}")
                                   for k in (0, 1) for i, what in enumerate(("mean", "var"))))

    pair.check = check_with_statistics
    return pair


# --------------------------------------------------------------------------- optimizers

OPTIMIZERS: Dict[str, Tuple[type, type, dict]] = {
    "SGD (momentum 0.9)": (optim.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    "SGD (Nesterov)": (optim.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    "AdaGrad": (optim.AdaGrad, torch.optim.Adagrad, {"lr": 1e-2}),
    "RMSProp": (optim.RMSProp, torch.optim.RMSprop, {"lr": 1e-3}),
    "Adam": (optim.Adam, torch.optim.Adam, {"lr": 1e-3}),
    "AdamW": (optim.AdamW, torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 1e-2}),
}


def _mlp_params(width: int, device: torch.device, dtype: torch.dtype) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """(value, gradient) pairs shaped like a 3-layer MLP of the given width."""
    g = _gen(device)
    shapes = [(width, width), (width,)] * 3
    return [(_randn(s, device, dtype, g), 1e-2 * _randn(s, device, dtype, g)) for s in shapes]


def make_optimizer(name: str) -> Callable[[object, torch.device, torch.dtype], Pair]:
    ours_cls, torch_cls, kwargs = OPTIMIZERS[name]

    def make(size: object, device: torch.device, dtype: torch.dtype) -> Pair:
        values = _mlp_params(int(size), device, dtype)  # type: ignore[call-overload]

        def build(cls: type) -> Tuple[torch.optim.Optimizer, List[torch.Tensor]]:
            params = []
            for v, grad in values:
                p = v.clone().requires_grad_(True)
                p.grad = grad.clone()
                params.append(p)
            return cls(params, **kwargs), params

        opt_ours, _ = build(ours_cls)
        opt_torch, _ = build(torch_cls)

        def check() -> Optional[str]:
            a, pa = build(ours_cls)
            b, pb = build(torch_cls)
            for _ in range(3):
                a.step()
                b.step()
            return _first(*(_close(p.detach(), q.detach(), f"parameter {i} after 3 steps")
                            for i, (p, q) in enumerate(zip(pa, pb))))

        return Pair(opt_ours.step, opt_torch.step, check)

    return make


# --------------------------------------------------------------------------- MLP step


def mlp_rows(device: torch.device, rounds: int, quick: bool) -> List[Dict[str, object]]:
    """Rows for the MLP step, timed by ``bench_mlp_step.bench`` (the chapter-4 benchmark)."""
    try:
        import bench_mlp_step
    except ImportError as error:  # its module (companion.nn) may be missing in a partial tree
        return [{"case": "MLP step: hand backprop vs autograd", "group": "mlp", "size": "-",
                 "ours": float("nan"), "torch": float("nan"), "ratio": float("nan"),
                 "note": f"not run: {error}"}]
    rows = []
    sizes = bench_mlp_step.SIZES[:1] if quick else bench_mlp_step.SIZES
    repeats = {"small": 30, "medium": 15, "large": 5}
    for label, layers, batch in sizes:
        best: Dict[str, float] = {}
        for _ in range(rounds):
            r = bench_mlp_step.bench(layers, batch, device, repeats.get(label, 10))
            for key in ("hand", "autograd"):
                best[key] = min(best.get(key, float("inf")), r[key])
        rows.append({
            "case": "MLP step: hand backprop vs autograd", "group": "mlp",
            "size": f"{'-'.join(map(str, layers))}, batch {batch}",
            "ours": best["hand"], "torch": best["autograd"], "ratio": best["hand"] / best["autograd"],
            "note": "",
        })
    return rows


# ----------------------------------------------------------------------------- cases

# (batch x classes) and (batch x features); the largest, 16 MB of float32, is the size the
# targets are judged at.
LOSS_SIZES = [("128 x 10", (128, 10)), ("1024 x 100", (1024, 100)), ("4096 x 1000", (4096, 1000))]
NORM_SIZES = [("128 x 64", (128, 64)), ("1024 x 256", (1024, 256)), ("4096 x 1024", (4096, 1024))]
OPT_SIZES = [("3 x (64x64 + 64)", 64), ("3 x (512x512 + 512)", 512), ("3 x (1024x1024 + 1024)", 1024)]

CASES: List[Case] = [
    Case("cross_entropy", "kernel", LOSS_SIZES, make_cross_entropy),
    Case("softmax", "kernel", LOSS_SIZES, make_softmax),
    Case("log_softmax", "kernel", LOSS_SIZES, make_log_softmax),
    Case("layer_norm", "kernel", NORM_SIZES, make_layer_norm),
    Case("batch_norm (training)", "kernel", NORM_SIZES, make_batch_norm),
    Case("rms_norm", "kernel", NORM_SIZES, make_rms_norm),
] + [Case(f"{name} step", "optimizer", OPT_SIZES, make_optimizer(name)) for name in OPTIMIZERS]


def _cpu_clock(threads: int) -> bool:
    """Whether to time with the measuring thread's CPU clock: on the CPU with one thread, where
    all the work runs in this thread, so that time spent descheduled (other processes on a
    shared machine) does not count. CUDA work is timed by the wall clock."""
    return threads == 1 and not torch.cuda.is_available()


def _median(fn: Fn, min_time: float, threads: int) -> float:
    clock = {"timer": time.thread_time} if _cpu_clock(threads) else {}
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads, **clock)
    return timer.blocked_autorange(min_run_time=min_time).median


def time_versions(fns: Sequence[Fn], rounds: int, min_time: float, threads: int) -> List[float]:
    """Fastest median of each callable over ``rounds`` alternating measurements."""
    for _ in range(2):  # warm up all (allocator, lazy init, optimizer state)
        for fn in fns:
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], _median(fn, min_time, threads))
    return best


def time_pair(pair: Pair, rounds: int, min_time: float, threads: int) -> Tuple[float, float]:
    """Fastest median of each side over ``rounds`` alternating measurements."""
    ours, ref = time_versions([pair.ours, pair.torch], rounds, min_time, threads)
    return ours, ref


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def copy_bandwidth(device: torch.device, nbytes: int = 256 << 20) -> float:
    """Bytes per second that ``y.copy_(x)`` moves on ``device`` (read x and write y)."""
    x = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    y = torch.empty_like(x)
    seconds = _median(lambda: y.copy_(x), 0.2, torch.get_num_threads())
    return 2 * nbytes / seconds


def _compile_seconds(pair: Pair, device: torch.device) -> float:
    """Time of the compiled version's first call (forward and backward) after forgetting all compiled code."""
    torch._dynamo.reset()
    _sync(device)
    start = time.perf_counter()
    pair.ours()
    _sync(device)
    return time.perf_counter() - start


def run_device(
    device: torch.device, rounds: int, min_time: float, quick: bool, log: Callable[[str], None],
    cases: Optional[Sequence[Case]] = None, mlp: bool = True, compile_kernels: bool = True,
) -> List[Dict[str, object]]:
    """Rows of every case (default :data:`CASES`) and, with ``mlp``, of the MLP step, on ``device``.

    ``compile_kernels=False`` leaves out the compiled versions of the kernels (compiling each
    takes seconds to a minute): their column shows "-".
    """
    threads = torch.get_num_threads()
    bandwidth = copy_bandwidth(device) if device.type == "cuda" else float("nan")
    rows: List[Dict[str, object]] = []
    for case in CASES if cases is None else cases:
        sizes = case.sizes[:1] if quick else case.sizes
        for label, params in sizes:
            pair = case.make(params, device, torch.float32)
            note = ""
            compile_s = float("nan")
            skip = pair.formula is not None and not compile_kernels
            if skip:  # time the formula in the compiled version's place, and report no compiled time
                pair = Pair(pair.formula, pair.torch, pair.check, formula=pair.formula, traffic=pair.traffic)  # type: ignore[arg-type]
                note = "compiled version skipped (--skip-compiled)"
            try:
                if pair.formula is not None and not skip:
                    compile_s = _compile_seconds(pair, device)
                problem = pair.check() if pair.check else None
            except Exception as error:  # report, do not hide, a failing kernel
                problem = f"{type(error).__name__}: {error}"
            if problem:
                note = f"results differ: {problem}"
            fns = [pair.ours, pair.torch] + ([pair.formula] if pair.formula is not None else [])
            try:
                times = time_versions(fns, rounds, min_time, threads)
            except Exception as error:
                times = [float("nan")] * len(fns)
                note = f"failed: {type(error).__name__}: {error}"
            ours, ref = times[0], times[1]
            formula = times[2] if len(times) > 2 else float("nan")
            if skip:
                ours = float("nan")
            row = {"case": case.name, "group": case.group, "size": label, "ours": ours, "torch": ref,
                   "ratio": ours / ref if ref == ref else float("nan"), "note": note,
                   "formula": formula, "formula_ratio": formula / ref if ref == ref else float("nan"),
                   "compile": compile_s,
                   "bandwidth": pair.traffic / ours / bandwidth if pair.traffic and bandwidth == bandwidth else float("nan")}
            rows.append(row)
            versions = f"formula x{row['formula_ratio']:.2f}  compiled x{row['ratio']:.2f}" if pair.formula else f"x{row['ratio']:.2f}"
            log(f"  {device.type:4s} {case.name:24s} {label:24s} {versions}  ({ours * 1e6:.1f} us vs {ref * 1e6:.1f} us"
                + (f"; compile {compile_s:.1f} s" if pair.formula else "") + f") {note}")
    for row in mlp_rows(device, max(1, rounds - 1), quick) if mlp else []:
        rows.append(row)
        log(f"  {device.type:4s} {row['case']:42s} {row['size']!s:24s} x{float(row['ratio']):.2f} {row['note']}")  # type: ignore[arg-type]
    return rows


# ------------------------------------------------------------------------------ report


def machine() -> List[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; torch set to {torch.get_num_threads()} thread(s)",
        f"- torch {torch.__version__}, Python {platform.python_version()}, {platform.system()} {platform.release()}",
    ]
    if hasattr(os, "getloadavg"):
        lines.append("- load average when the run started (1/5/15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            lines.append(f"- CUDA device {i}: {torch.cuda.get_device_name(i)} (CUDA {torch.version.cuda})")
    else:
        lines.append("- no CUDA device: CPU rows only")
    return lines


def _fmt_time(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.2f}" if ratio == ratio else "-"


def report(results: Dict[str, List[Dict[str, object]]], args: argparse.Namespace, seconds: float) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = [
        BEGIN,
        "",
        f"Measured {now} by `make bench` (`python benchmarks/run.py`) in {seconds:.0f} s, float32,",
        f"{torch.get_num_threads()} CPU thread(s), best of {args.rounds} alternating medians (`torch.utils.benchmark`, at least "
        f"{args.min_time:g} s each"
        + ("; CPU time of the measuring thread, so that other processes on the machine do not count" if _cpu_clock(torch.get_num_threads()) else "")
        + "). Ratios are times divided by PyTorch's: below 1, faster than PyTorch. Compile times are wall-clock seconds.",
        ("glibc malloc set to reuse freed memory (" + ", ".join(f"`{k}={v}`" for k, v in MALLOC_ENV.items())
         + "): large tensors do not fault in fresh pages; see the analysis." if _malloc_tuned()
         else "glibc malloc defaults (`--system-malloc`, or not run as a script): each large tensor faults in fresh pages."),
        "",
        *machine(),
        "",
    ]
    misses: List[str] = []

    def judge(row: Dict[str, object], device: str, is_largest: bool) -> str:
        ratio = float(row["ratio"])  # type: ignore[arg-type]
        target = ""
        if device == "cpu" and is_largest and ratio == ratio:
            limit = {"mlp": MLP_TARGET, "kernel": KERNEL_TARGET}.get(str(row["group"]), OPTIMIZER_TARGET)
            met = ratio <= limit
            target = f"≤ {limit:g}: {'met' if met else '**missed**'}"
            if not met:
                misses.append(f"{row['case']} at {row['size']}: x{ratio:.2f} (target ≤ {limit:g})")
        if row["note"]:
            target = (target + "; " if target else "") + str(row["note"])
            if str(row["note"]).startswith(("results differ", "failed", "not run")):
                misses.append(f"{row['case']} at {row['size']} ({device}): {row['note']}")
        return target

    for device, rows in results.items():
        largest: Dict[str, str] = {}
        for row in rows:
            largest[str(row["case"])] = str(row["size"])
        kernels = [r for r in rows if r["group"] == "kernel"]
        others = [r for r in rows if r["group"] != "kernel"]
        gpu = device != "cpu"
        if kernels:
            out += [f"### {device.upper()}: kernels, forward and backward", "",
                    "| kernel | size | PyTorch | formula / PyTorch | compiled / PyTorch | compile time |"
                    + (" compiled bandwidth, share of copy |" if gpu else "") + " target (compiled) |",
                    "|---|---|---:|---:|---:|---:|" + ("---:|" if gpu else "") + "---|"]
            for row in kernels:
                bw = float(row.get("bandwidth", float("nan")))  # type: ignore[arg-type]
                compile_s = float(row.get("compile", float("nan")))  # type: ignore[arg-type]
                out.append(
                    f"| {row['case']} | {row['size']} | {_fmt_time(float(row['torch']))} | "  # type: ignore[arg-type]
                    f"{_ratio_text(float(row['formula_ratio']))} | **{_ratio_text(float(row['ratio']))}** | "  # type: ignore[arg-type]
                    f"{compile_s:.1f} s | " + (f"{bw:.0%} |" if gpu and bw == bw else "- |" if gpu else "")
                    + f" {judge(row, device, largest[str(row['case'])] == row['size'])} |")
            out.append("")
        if others:
            out += [f"### {device.upper()}: optimizer steps and the MLP step", "",
                    "| what | size | companion | PyTorch | ratio | target |", "|---|---|---:|---:|---:|---|"]
            for row in others:
                out.append(f"| {row['case']} | {row['size']} | {_fmt_time(float(row['ours']))} | "  # type: ignore[arg-type]
                           f"{_fmt_time(float(row['torch']))} | {_ratio_text(float(row['ratio']))} | "  # type: ignore[arg-type]
                           f"{judge(row, device, largest[str(row['case'])] == row['size'])} |")
            out.append("")
    out += ["### Targets", ""]
    if misses:
        out += ["Missed (see the analysis below):", ""] + [f"- {m}" for m in misses]
    else:
        out.append(f"All met: every compiled kernel within {KERNEL_TARGET:g}x of PyTorch, every optimizer step within "
                   f"{OPTIMIZER_TARGET:g}x, on the CPU at the largest size, and the hand-backprop MLP step no slower "
                   "than autograd's.")
    out += ["", END]
    return "\n".join(out)


TEMPLATE = """# Benchmarks

Ratios of the companion package's kernels against PyTorch, and how long the course takes to
build and test. `make bench` rewrites the first section; the timings are measured by hand.

{block}

## Timings

Measured on: (machine) — fill in with `make` runs on a 2-core machine.

### Notebooks (nbval `--durations=0`, `make test-notebooks`)

| notebook | seconds |
|---|---:|
| chapters/00_getting_started/01_first_model.ipynb | |

Every notebook must run in under 60 s on 2 cores.

### Book and tests

| command | seconds | notes |
|---|---:|---|
| `make book`, cold (no `_build/`, no execution cache) | | |
| `make book`, warm (nothing changed) | | |
| `make test`, fresh clone (`.ci/run`, including the venv) | | |
| `pytest tests/site` (browser and link checks) | | |
| `make bench` | | |
"""


def write(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = TEMPLATE.format(block=block)
    path.write_text(text, encoding="utf8")


#: glibc malloc settings for the run: large blocks come from the heap and freed memory stays
#: there, so that a new 16 MB tensor reuses pages instead of faulting in 4096 fresh ones.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(4 << 30), "MALLOC_TOP_PAD_": str(256 << 20)}


def _malloc_tuned() -> bool:
    return all(os.environ.get(k) == v for k, v in MALLOC_ENV.items())


def _keep_freed_memory() -> bool:
    """Restart this script with :data:`MALLOC_ENV` set (glibc reads it only at start-up).

    With glibc's defaults every large tensor is a fresh ``mmap``, and on a virtual machine the
    page faults of its first touch can cost more than the kernel that fills it, by amounts
    that depend on which tensors happened to be freed before: the ratios then measure the
    allocator. With these settings both sides reuse freed memory, as a training loop in a
    steady state does. Returns False (and changes nothing) when they are already set or
    this is not Linux.
    """
    if not sys.platform.startswith("linux") or _malloc_tuned():
        return False
    os.environ.update(MALLOC_ENV)
    os.execv(sys.executable, [sys.executable, *sys.argv])
    return True  # pragma: no cover - execv does not return


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Ratio benchmarks of companion against PyTorch.")
    parser.add_argument("--device", action="append", help="cpu or cuda (repeatable; default: cpu, and cuda when present)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating measurements per pair (default 5)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per measurement (default 0.2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: stable ratios on a shared or small machine)")
    parser.add_argument("--quick", action="store_true", help="smallest size only, one round (a smoke test)")
    parser.add_argument("--skip-compiled", action="store_true",
                        help="leave out the compiled kernels (compiling takes seconds to a minute each)")
    parser.add_argument("--system-malloc", action="store_true",
                        help="keep glibc's default malloc settings (fresh pages for every large tensor)")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"), help="file to update (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if argv is None and not args.system_malloc and _keep_freed_memory():
        return 0  # not reached: the process was replaced by one with the malloc settings
    if args.quick:
        args.rounds, args.min_time = 1, 0.02
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    torch.set_num_threads(args.threads)
    companion.seed_everything(0)
    start = time.perf_counter()
    results: Dict[str, List[Dict[str, object]]] = {}
    for name in devices:
        device = torch.device(name)
        print(f"benchmarking on {device} ...", flush=True)
        results[device.type] = run_device(device, args.rounds, args.min_time, args.quick,
                                          lambda line: print(line, flush=True), compile_kernels=not args.skip_compiled)
    block = report(results, args, time.perf_counter() - start)
    write(Path(args.output), block)
    print(f"wrote {args.output} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
