"""companion.data: offline datasets, splits, loaders."""

from __future__ import annotations

import socket

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion.data import circles, digits, loader, moons, spirals, train_val_split


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("companion.data must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_digits_known_facts(no_network: None) -> None:
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.long
    counts = torch.bincount(y)
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    images, _ = digits(flatten=False, dtype=torch.float64)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float64
    assert torch.equal(images.reshape(1797, 64), X.double())


def test_digits_on_device(device: torch.device) -> None:
    X, y = digits(device=device)
    assert X.device.type == device.type and y.device.type == device.type


def test_digits_dtype_error() -> None:
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        digits(dtype=torch.int64)


@pytest.mark.parametrize("make", [moons, circles])
def test_two_class_sets_balanced_and_seeded(make, device: torch.device) -> None:  # type: ignore[no-untyped-def]
    X, y = make(101, seed=3, device=device)
    assert X.shape == (101, 2) and X.device.type == device.type
    assert torch.bincount(y.cpu()).tolist() == [50, 51]
    X2, y2 = make(101, seed=3, device=device)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = make(101, seed=4, device=device)
    assert not torch.equal(X, X3)


def test_moons_geometry_without_noise() -> None:
    X, y = moons(200, noise=0.0)
    upper = X[y == 0]
    assert torch.allclose(upper.norm(dim=1), torch.ones(100), atol=1e-6)  # unit half circle
    assert bool((upper[:, 1] >= -1e-6).all())


@given(st.integers(2, 7), st.integers(14, 80))
def test_spirals_class_sizes(classes: int, n: int) -> None:
    X, y = spirals(n, classes=classes)
    counts = torch.bincount(y, minlength=classes)
    assert counts.sum() == n and int(counts.max() - counts.min()) <= 1
    assert float(X.norm(dim=1).max()) <= 1.0 + 1e-6


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: moons(1), ValueError, "n must be >= 2, got 1"),
        (lambda: moons(10.5), TypeError, "n must be an int"),
        (lambda: moons(10, noise=-1), ValueError, "noise must be >= 0"),
        (lambda: circles(10, factor=1.5), ValueError, "factor must be in"),
        (lambda: spirals(10, classes=1), ValueError, "classes must be >= 2, got 1"),
        (lambda: spirals(10, noise="a"), TypeError, "noise must be a real number, got str"),
        (lambda: moons(10, seed=-1), ValueError, r"seed must be in \[0, 4294967295\], got -1"),
        (lambda: moons(10, seed="a"), TypeError, "seed must be an int, got str"),
        (lambda: circles(10, seed=2.5), TypeError, "seed must be an int, got float"),
        (lambda: spirals(10, seed=2**40), ValueError, "seed must be in"),
        (lambda: circles(10, factor="0.5"), TypeError, "factor must be a real number"),
        (lambda: moons(10, device="garbage"), ValueError, "device='garbage' is not a device name; expected one of"),
        (lambda: circles(10, device=3), TypeError, "device must be a str such as 'cpu'"),
        (lambda: digits(device="garbage"), ValueError, "device='garbage' is not a device name"),
        (lambda: moons(10, device="cuda:99"), ValueError, "device='cuda:99' asks for a CUDA device, but this machine has"),
        (lambda: digits(dtype=torch.long), TypeError, "dtype must be a floating-point torch.dtype"),
        (lambda: spirals(10, device="mps:0" if not torch.backends.mps.is_available() else "nonsense"), ValueError, "device="),
    ],
)
def test_toy_errors(call, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()


@given(st.floats(0.05, 0.5), st.integers(0, 1000))
def test_stratified_split_keeps_class_shares(fraction: float, seed: int) -> None:
    X, y = digits()
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=fraction, seed=seed)
    assert len(X_tr) + len(X_va) == len(X) and len(y_tr) == len(X_tr)
    counts = torch.bincount(y, minlength=10).double()
    share = torch.bincount(y_va, minlength=10) / counts
    assert torch.all((share - fraction).abs() <= 0.5 / counts + 1e-9)
    # a partition: no example lost or duplicated
    rows = torch.cat([X_tr, X_va])
    assert torch.equal(torch.sort(rows.sum(dim=1)).values, torch.sort(X.sum(dim=1)).values)


def test_unstratified_split_is_a_permutation() -> None:
    X = torch.arange(50.0).reshape(50, 1)
    y = torch.arange(50.0)
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.3, stratify=False, seed=1)
    assert len(X_va) == 15
    assert sorted(torch.cat([y_tr, y_va]).tolist()) == list(range(50))
    assert torch.equal(X_tr.flatten(), y_tr)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (([1.0], torch.zeros(1)), {}, TypeError, "X must be a torch.Tensor"),
        ((torch.zeros(2), [0, 1]), {}, TypeError, "y must be a torch.Tensor"),
        ((torch.zeros(3), torch.zeros(2)), {}, ValueError, "same length"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"val_fraction": 1.0}, ValueError, "val_fraction must be in"),
        ((torch.zeros(4), torch.zeros(4)), {}, ValueError, "stratify=True needs y of integer"),
        ((torch.zeros(2), torch.tensor([0, 1])), {"val_fraction": 0.1}, ValueError, "empty part"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"seed": 1.5}, TypeError, "seed must be an int, got float"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"seed": -3}, ValueError, "seed must be in"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"val_fraction": "0.2"}, TypeError, "val_fraction must be a real number, got str"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"val_fraction": float("nan")}, ValueError, "val_fraction must be finite"),
        ((torch.zeros(4), torch.zeros(4, dtype=torch.long)), {"stratify": "yes"}, TypeError, "stratify must be a bool"),
        ((torch.tensor(1.0), torch.tensor(1)), {}, ValueError, "X must have shape .N, ...., one example per row"),
    ],
)
def test_split_errors(args, kwargs, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        train_val_split(*args, **kwargs)


def test_loader_batches_and_last_partial_batch(device: torch.device) -> None:
    X, y = digits()
    dl = loader(X, y, batch_size=500, shuffle=False, device=device)
    sizes = [len(xb) for xb, _ in dl]
    assert sizes == [500, 500, 500, 297]
    xb, yb = next(iter(dl))
    assert xb.device.type == device.type and torch.equal(yb.cpu(), y[:500])
    assert [len(xb) for xb, _ in loader(X, y, 500, drop_last=True)] == [500, 500, 500]


def test_loader_shuffle_is_seeded() -> None:
    X = torch.arange(20.0).reshape(20, 1)
    y = torch.arange(20)
    order = lambda seed: torch.cat([yb for _, yb in loader(X, y, 7, seed=seed)]).tolist()  # noqa: E731
    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(order(1)) == list(range(20))


def test_loader_errors() -> None:
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got list"):
        loader([1], torch.zeros(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="y must be a torch.Tensor, got list"):
        loader(torch.zeros(1), [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same length"):
        loader(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        loader(torch.zeros(2), torch.zeros(2), batch_size=0)
    with pytest.raises(ValueError, match=r"X must hold at least one example, got shape \(0, 3\)"):
        loader(torch.zeros(0, 3), torch.zeros(0))
    with pytest.raises(ValueError, match="device='garbage' is not a device name"):
        loader(torch.zeros(2), torch.zeros(2), device="garbage")
    with pytest.raises(TypeError, match="seed must be an int, got str"):
        loader(torch.zeros(2), torch.zeros(2), seed="a")
    with pytest.raises(TypeError, match="shuffle must be a bool"):
        loader(torch.zeros(2), torch.zeros(2), shuffle="no")
    with pytest.raises(TypeError, match="drop_last must be a bool"):
        loader(torch.zeros(2), torch.zeros(2), drop_last=1)
