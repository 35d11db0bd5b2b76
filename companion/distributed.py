r"""Data-parallel SGD on ``torch.distributed``: several workers, one large mini-batch.

Each of :math:`P` workers holds a full copy of the model, takes its own slice of every
global mini-batch, back-propagates, and then all workers *all-reduce* their gradients so
that each ends up with the gradient of the whole batch. Since the mean loss over the batch
is the (size-weighted) average of the workers' mean losses, every worker then takes
exactly the step that one process would take on the full batch: :math:`P` workers with
batch :math:`b` each are large-batch SGD with batch :math:`Pb`. Communication uses the
``gloo`` backend on CPUs and ``nccl`` on GPUs. Start it with::

    torchrun --nproc_per_node=2 -m companion.distributed --steps 20 --batch-size 32

or, from Python (a notebook, a test), with :func:`launch`, which starts the workers itself on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterable, Optional, Sequence

import torch
import torch.distributed as dist
from torch import Tensor, nn

from companion import _validate

__all__ = [
    "default_backend",
    "setup",
    "cleanup",
    "shard",
    "batches",
    "broadcast_parameters",
    "all_reduce_gradients",
    "make_model",
    "make_data",
    "train",
    "main",
    "launch",
]


def default_backend(world_size: int = 1) -> str:
    """The communication backend to use: ``nccl`` with one GPU per worker, else ``gloo``.

    Parameters
    ----------
    world_size : int, default 1
        Number of workers; NCCL needs a distinct GPU for each.

    Returns
    -------
    str
        ``"nccl"`` or ``"gloo"``.

    Examples
    --------
    >>> default_backend() in ("gloo", "nccl")
    True
    """
    if torch.cuda.is_available() and torch.cuda.device_count() >= world_size:
        return "nccl"
    return "gloo"


def setup(backend: Optional[str] = None, timeout_s: float = 120.0) -> tuple[int, int, torch.device]:
    """Join the process group described by torchrun's environment variables.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``
    (set by ``torchrun``). Without them (a plain ``python`` run) there is no group and the
    process is worker 0 of 1.

    Parameters
    ----------
    backend : {"gloo", "nccl"}, optional
        Defaults to :func:`default_backend`.
    timeout_s : float, default 120
        How long collective operations may wait for the other workers.

    Returns
    -------
    (rank, world_size, device) : (int, int, torch.device)
        ``device`` is ``cuda:LOCAL_RANK`` with NCCL, else the CPU.

    Raises
    ------
    ValueError
        If ``backend`` is not ``"gloo"`` or ``"nccl"``, or ``WORLD_SIZE`` (>= 1) or
        ``LOCAL_RANK`` (>= 0) is not an integer in range (the message names the variable).

    Examples
    --------
    >>> import os; "WORLD_SIZE" in os.environ or setup() == (0, 1, torch.device("cpu"))
    True
    """
    if backend is not None and backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    if "WORLD_SIZE" not in os.environ:
        return 0, 1, torch.device("cpu")
    world_size = _env_int("WORLD_SIZE", low=1)
    local_rank = _env_int("LOCAL_RANK", low=0, default="0")
    backend = backend or default_backend(world_size)
    device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    return dist.get_rank(), dist.get_world_size(), device


def _env_int(name: str, low: int, default: Optional[str] = None) -> int:
    """The integer in environment variable ``name`` (``default`` when unset), at least ``low``."""
    text = os.environ.get(name, default)
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {text!r}") from None
    if value < low:
        raise ValueError(f"environment variable {name} must be >= {low}, got {value}")
    return value


def cleanup() -> None:
    """Leave the process group (no-op without one).

    Examples
    --------
    >>> cleanup()
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(n: int, rank: int, world_size: int) -> slice:
    r"""The contiguous part of ``range(n)`` that worker ``rank`` of ``world_size`` takes.

    The first :math:`n \bmod P` workers get :math:`\lceil n/P \rceil` items, the others
    :math:`\lfloor n/P \rfloor`, so the parts cover ``range(n)`` exactly once even when
    :math:`P` does not divide :math:`n` (the last, partial batch of an epoch).

    .. math::

        |\text{part}_r| = \lfloor n/P \rfloor + [\, r < n \bmod P \,]

    Parameters
    ----------
    n : int
        Number of items (>= 0).
    rank : int
        This worker, in ``[0, world_size)``.
    world_size : int
        Number of workers (>= 1).

    Returns
    -------
    slice

    Raises
    ------
    ValueError
        If ``n < 0``, ``world_size < 1`` or ``rank`` is outside ``[0, world_size)``.

    Examples
    --------
    >>> [shard(10, r, 3) for r in range(3)]
    [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
    """
    n, rank = _validate.integer(n, "n", low=0), _validate.integer(rank, "rank")
    world_size = _validate.integer(world_size, "world_size", low=1)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def batches(n: int, batch_size: int, epochs: int, seed: int = 0) -> list[Tensor]:
    """Index sets of the global mini-batches: a fresh permutation per epoch, last batch partial.

    Every worker calls this with the same seed and so sees the same global batches.

    Parameters
    ----------
    n : int
        Dataset size (>= 1).
    batch_size : int
        Global batch size (>= 1).
    epochs : int
        Number of passes over the data (>= 1).
    seed : int, default 0
        Seed of the shuffles.

    Returns
    -------
    list of torch.Tensor
        ``epochs * ceil(n / batch_size)`` index tensors (dtype long); within an epoch the
        last holds the remaining ``n mod batch_size`` indices when that is not zero.

    Raises
    ------
    ValueError
        If a size is below 1.

    Examples
    --------
    >>> [len(b) for b in batches(10, 4, epochs=2)]
    [4, 4, 2, 4, 4, 2]
    """
    n, batch_size = _validate.integer(n, "n", low=1), _validate.integer(batch_size, "batch_size", low=1)
    epochs, seed = _validate.integer(epochs, "epochs", low=1), _validate.seed(seed)
    g = torch.Generator().manual_seed(seed)
    out: list[Tensor] = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        out.extend(perm.split(batch_size))
    return out


def broadcast_parameters(params: Iterable[Tensor], src: int = 0) -> None:
    """Copy worker ``src``'s parameters to every worker (no-op without a process group).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The model's parameters, on this worker's device.
    src : int, default 0
        The worker whose values win.

    Examples
    --------
    >>> broadcast_parameters([torch.zeros(2)])   # one process: nothing to do
    """
    rank, world = _world()
    if world == 1:
        return
    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, src=src)


def all_reduce_gradients(params: Iterable[Tensor], local_count: Optional[int] = None) -> None:
    r"""Replace each worker's gradients by the gradient of the mean loss over the global batch.

    With worker :math:`r` holding :math:`n_r` examples and the gradient :math:`g_r` of its
    *mean* loss, the gradient of the mean over all :math:`n = \sum_r n_r` examples is

    .. math::

        g = \frac{1}{n}\sum_{r} n_r\, g_r ,

    which is the plain average :math:`\frac1P\sum_r g_r` when all :math:`n_r` are equal
    (what ``DistributedDataParallel`` computes). Pass ``local_count`` to weight by
    :math:`n_r`; this stays exact for an uneven last batch. Without a process group this is
    a no-op.

    Parameters
    ----------
    params : iterable of torch.Tensor
        Parameters whose ``.grad`` to reduce (those without a gradient are skipped; every
        worker must have gradients for the same parameters).
    local_count : int, optional
        :math:`n_r`, this worker's number of examples (>= 0); ``None`` averages equally.

    Raises
    ------
    ValueError
        If ``local_count`` is negative or the global count is 0.

    Examples
    --------
    >>> w = torch.ones(2, requires_grad=True); (3 * w).sum().backward()
    >>> all_reduce_gradients([w], local_count=5); w.grad   # one process: unchanged
    tensor([3., 3.])
    """
    if local_count is not None:
        local_count = _validate.integer(local_count, "local_count", low=0)
    rank, world = _world()
    if world == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    if local_count is None:
        for g in grads:
            dist.all_reduce(g, op=dist.ReduceOp.SUM)
            g.div_(world)
        return
    total = torch.tensor([float(local_count)], dtype=grads[0].dtype, device=grads[0].device)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    if float(total) == 0:
        raise ValueError("local_count: the global batch is empty on every worker")
    for g in grads:
        g.mul_(local_count)
        dist.all_reduce(g, op=dist.ReduceOp.SUM)
        g.div_(total)


def make_model(in_features: int = 64, hidden: int = 32, classes: int = 10, seed: int = 0,
               dtype: torch.dtype = torch.float64, device: Optional[torch.device] = None) -> nn.Module:
    """A small tanh MLP, initialised identically on every worker from ``seed``.

    Parameters
    ----------
    in_features, hidden, classes : int
        Layer widths.
    seed : int, default 0
        Seed of the initialisation.
    dtype : torch.dtype, default torch.float64
    device : torch.device, optional

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> sum(p.numel() for p in make_model(64, 32, 10).parameters())
    2410
    """
    g = torch.random.fork_rng(devices=[])
    with g:
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(in_features, hidden), nn.Tanh(), nn.Linear(hidden, classes))
    return model.to(dtype=dtype, device=device)


def make_data(name: str = "digits", dtype: torch.dtype = torch.float64,
              device: Optional[torch.device] = None) -> tuple[Tensor, Tensor]:
    """The training data of the demo: ``digits`` (1,797 x 64) or ``synthetic`` (599 x 64, 10 classes).

    ``synthetic`` is ten Gaussian clusters; it needs no scikit-learn import, and 599 being
    odd, every epoch ends with a batch that two workers cannot split evenly.

    Parameters
    ----------
    name : {"digits", "synthetic"}
    dtype : torch.dtype, default torch.float64
    device : torch.device, optional

    Returns
    -------
    (X, y) : (torch.Tensor of shape (N, 64), torch.Tensor of shape (N,))

    Raises
    ------
    ValueError
        If ``name`` is unknown.

    Examples
    --------
    >>> X, y = make_data("synthetic"); tuple(X.shape), int(y.max())
    ((599, 64), 9)
    """
    if name == "digits":
        from companion.data import digits

        X, y = digits(dtype=dtype)
    elif name == "synthetic":
        g = torch.Generator().manual_seed(1234)
        centers = torch.randn(10, 64, generator=g, dtype=torch.float64)
        y = torch.arange(599) % 10
        X = (centers[y] + 0.5 * torch.randn(599, 64, generator=g, dtype=torch.float64)).to(dtype)
    else:
        raise ValueError(f"name must be 'digits' or 'synthetic', got {name!r}")
    return X.to(device), y.to(device)


def train(model: nn.Module, X: Tensor, y: Tensor, *, batch_size: int, epochs: int = 1,
          max_steps: Optional[int] = None, lr: float = 0.1, momentum: float = 0.0, seed: int = 0,
          weighted: bool = True) -> list[float]:
    r"""Data-parallel mini-batch SGD; with one process, ordinary SGD.

    For each global batch :math:`B` (of size ``batch_size``, the same on every worker),
    worker :math:`r` computes the mean cross-entropy on its :func:`shard` of :math:`B`,
    back-propagates, all-reduces the gradients (:func:`all_reduce_gradients`) and steps
    with :class:`companion.optim.SGD`:

    .. math::

        \theta \leftarrow \theta - \eta\, \frac{1}{|B|} \sum_{i \in B} \nabla \ell_i(\theta)

    Parameters
    ----------
    model : torch.nn.Module
        Identical on every worker (it is broadcast from worker 0 first).
    X : torch.Tensor, shape (N, D)
        The full training set, on every worker.
    y : torch.Tensor, shape (N,)
        Class labels.
    batch_size : int
        The *global* batch size :math:`|B|` (each of :math:`P` workers takes about
        :math:`|B|/P`).
    epochs : int, default 1
    max_steps : int, optional
        Stop after this many steps.
    lr, momentum : float
        Passed to :class:`companion.optim.SGD`.
    seed : int, default 0
        Seed of the batch order (the same on every worker).
    weighted : bool, default True
        Weight each worker's gradient by its share of the batch (exact for uneven shards).

    Returns
    -------
    list of float
        The mean loss over each global batch, before its step.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length or ``batch_size`` is below the number of workers.

    Examples
    --------
    >>> X, y = make_data("synthetic"); model = make_model()
    >>> losses = train(model, X, y, batch_size=100, epochs=3)
    >>> len(losses), losses[-1] < losses[0]
    (18, True)
    """
    from companion.optim import SGD

    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    rank, world = _world()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < world:
        raise ValueError(f"batch_size must be an int >= the number of workers ({world}), got {batch_size!r}")
    params = list(model.parameters())
    broadcast_parameters(params)
    opt = SGD(params, lr=lr, momentum=momentum)
    losses: list[float] = []
    for step, idx in enumerate(batches(len(X), batch_size, epochs, seed)):
        if max_steps is not None and step >= max_steps:
            break
        mine = idx[shard(len(idx), rank, world)].to(X.device)
        opt.zero_grad()
        if len(mine) > 0:
            loss = nn.functional.cross_entropy(model(X[mine]), y[mine])
            loss.backward()
        else:  # a last batch smaller than the number of workers leaves some with nothing
            loss = X.new_zeros(())
            for p in params:
                p.grad = torch.zeros_like(p)
        all_reduce_gradients(params, local_count=len(mine) if weighted else None)
        with torch.no_grad():  # the global batch's mean loss, for the record
            total = (loss.detach() * len(mine)).reshape(1)
            if world > 1:
                dist.all_reduce(total, op=dist.ReduceOp.SUM)
            losses.append(float(total) / len(idx))
        opt.step()
    return losses


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m companion.distributed",
        description="Data-parallel SGD on digits (run under torchrun --nproc_per_node=N).",
    )
    p.add_argument("--batch-size", type=int, default=32, help="per-worker batch size b (global: b x workers)")
    p.add_argument("--steps", type=int, default=20, help="number of SGD steps")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=("digits", "synthetic"), default="digits")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--backend", choices=("gloo", "nccl"), default=None)
    p.add_argument("--out", default=None, help="worker 0 saves {'state_dict', 'losses', 'world_size'} here")
    return p


def main(argv: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """Command-line entry point: train the demo MLP data-parallel and (worker 0) save the result.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``); see ``python -m companion.distributed --help``.

    Returns
    -------
    dict
        ``{"state_dict", "losses", "world_size", "rank"}`` (the parameters after training).
    """
    args = _parser().parse_args(argv)
    rank, world, device = setup(args.backend)
    try:
        dtype = getattr(torch, args.dtype)
        X, y = make_data(args.data, dtype=dtype, device=device)
        model = make_model(X.shape[1], args.hidden, int(y.max()) + 1, seed=args.seed, dtype=dtype, device=device)
        batch = args.batch_size * world
        per_epoch = -(-len(X) // batch)  # ceil(N / batch) steps per epoch
        epochs = -(-args.steps // per_epoch)
        losses = train(model, X, y, batch_size=batch, epochs=max(epochs, 1), max_steps=args.steps,
                       lr=args.lr, momentum=args.momentum, seed=args.seed)
        result = {
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "losses": losses,
            "world_size": world,
            "rank": rank,
        }
        if rank == 0:
            print(f"workers={world} global_batch={batch} steps={len(losses)} "
                  f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
            if args.out:
                torch.save({k: v for k, v in result.items() if k != "rank"}, args.out)
        return result
    finally:
        cleanup()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loopback_interface() -> Optional[str]:
    try:
        names = [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):  # pragma: no cover - platforms without if_nameindex
        return None
    for name in ("lo", "lo0"):
        if name in names:
            return name
    return None  # pragma: no cover


def launch(argv: Sequence[str], nproc: int = 2, port: Optional[int] = None, timeout_s: float = 300.0) -> dict[str, Any]:
    """Run ``python -m companion.distributed ARGV`` in ``nproc`` local worker processes; return worker 0's result.

    This does what ``torchrun --nproc_per_node=NPROC`` does on one machine: it starts the
    workers with ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR=127.0.0.1`` and
    ``MASTER_PORT`` set, so that :func:`setup` joins them into one group. Nothing leaves the
    machine (gloo is bound to the loopback interface where it exists). Being plain
    subprocesses, the workers need no ``if __name__ == "__main__"`` guard in the caller.

    Parameters
    ----------
    argv : sequence of str
        Arguments of :func:`main`, e.g. ``["--steps", "5", "--batch-size", "32"]``.
    nproc : int, default 2
        Number of workers (>= 1).
    port : int, optional
        Rendezvous port; default a free one.
    timeout_s : float, default 300
        Give up (and stop the workers) after this long.

    Returns
    -------
    dict
        ``{"state_dict", "losses", "world_size"}`` saved by worker 0.

    Raises
    ------
    ValueError
        If ``nproc < 1`` or ``argv`` already holds ``--out``.
    RuntimeError
        If a worker fails (its output is quoted) or the timeout passes.
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be an int >= 1, got {nproc!r}")
    argv = [str(a) for a in argv]
    if "--out" in argv:
        raise ValueError("argv must not contain --out: launch() collects worker 0's result itself")
    port = port or _free_port()
    base_env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(nproc),
                    LOCAL_WORLD_SIZE=str(nproc), OMP_NUM_THREADS="1")
    loopback = _loopback_interface()
    if loopback and "GLOO_SOCKET_IFNAME" not in base_env:
        base_env["GLOO_SOCKET_IFNAME"] = loopback
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, base_env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.pt")
        procs, logs = [], []
        try:
            for rank in range(nproc):
                env = dict(base_env, RANK=str(rank), LOCAL_RANK=str(rank))
                logs.append(open(os.path.join(tmp, f"worker{rank}.log"), "w+"))
                cmd = [sys.executable, "-m", "companion.distributed", *argv, "--out", out]
                procs.append(subprocess.Popen(cmd, env=env, stdout=logs[-1], stderr=subprocess.STDOUT))
            deadline = time.monotonic() + timeout_s
            failed: Optional[int] = None
            try:
                for rank, proc in enumerate(procs):
                    if proc.wait(timeout=max(deadline - time.monotonic(), 0.1)) != 0 and failed is None:
                        failed = rank
            except subprocess.TimeoutExpired:
                failed = -1
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            texts = []
            for log in logs:
                log.seek(0)
                texts.append(log.read())
                log.close()
        if failed is not None:
            which = "the workers timed out" if failed == -1 else f"worker {failed} failed"
            raise RuntimeError(f"launch: {which}; its output ends with:\n{texts[max(failed, 0)][-3000:]}")
        return torch.load(out)


if __name__ == "__main__":
    main()
