"""companion.data: the geometry of both (all) classes, class balance, and what the loaders yield.

The toy generators have no PyTorch reference, so each class is compared with the curve it is
documented to lie on: without noise every point must be exactly where the formula puts it, at
evenly spaced parameters, and every class must have its share of the points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion.data import circles, loader, moons, spirals, train_val_split

F64 = torch.float64


def _sorted_rows(a: np.ndarray) -> np.ndarray:
    return a[np.lexsort(a.T[::-1])]


def _assert_same_points(got: torch.Tensor, want: np.ndarray) -> None:
    got_np = got.numpy()
    assert got_np.shape == want.shape
    np.testing.assert_allclose(_sorted_rows(got_np), _sorted_rows(want), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [2, 7, 200, 201])
def test_moons_both_halves_exactly(n: int) -> None:
    X, y = moons(n, noise=0.0, dtype=F64)
    n0, n1 = n // 2, n - n // 2
    assert torch.bincount(y, minlength=2).tolist() == [n0, n1]
    t0, t1 = np.linspace(0, math.pi, n0), np.linspace(0, math.pi, n1)
    # class 0: the upper unit half circle; class 1: the lower half circle centred at (1, 1/2)
    _assert_same_points(X[y == 0], np.stack([np.cos(t0), np.sin(t0)], axis=1))
    _assert_same_points(X[y == 1], np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1))


def test_moons_facts_a_reader_can_check() -> None:
    X, y = moons(400, noise=0.0, dtype=F64)
    upper, lower = X[y == 0], X[y == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(200, dtype=F64))
    assert torch.allclose((lower - torch.tensor([1.0, 0.5], dtype=F64)).norm(dim=1), torch.ones(200, dtype=F64))
    assert bool((upper[:, 1] >= -1e-12).all()) and bool((lower[:, 1] <= 0.5 + 1e-12).all())
    assert float(upper[:, 0].min()) == pytest.approx(-1.0) and float(upper[:, 0].max()) == pytest.approx(1.0)
    assert float(lower[:, 0].min()) == pytest.approx(0.0, abs=1e-12) and float(lower[:, 0].max()) == pytest.approx(2.0)
    assert float(lower[:, 1].min()) == pytest.approx(-0.5, abs=1e-4)


@pytest.mark.parametrize("n,factor", [(2, 0.5), (9, 0.3), (200, 0.5), (201, 0.8)])
def test_circles_both_rings_exactly(n: int, factor: float) -> None:
    X, y = circles(n, noise=0.0, factor=factor, dtype=F64)
    n0, n1 = n // 2, n - n // 2
    assert torch.bincount(y, minlength=2).tolist() == [n0, n1]
    t0 = np.linspace(0, 2 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * math.pi, n1, endpoint=False)
    _assert_same_points(X[y == 0], np.stack([np.cos(t0), np.sin(t0)], axis=1))
    _assert_same_points(X[y == 1], factor * np.stack([np.cos(t1), np.sin(t1)], axis=1))


@pytest.mark.parametrize("factor", [0.0, 1.0, -0.5, 2.0])
def test_circles_factor_is_open_interval(factor: float) -> None:
    with pytest.raises(ValueError, match="factor"):
        circles(10, factor=factor)


@pytest.mark.parametrize("n,classes", [(2, 2), (7, 3), (90, 3), (50, 4), (101, 5)])
def test_spirals_every_arm_exactly(n: int, classes: int) -> None:
    X, y = spirals(n, classes=classes, noise=0.0, dtype=F64)
    sizes = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    assert torch.bincount(y, minlength=classes).tolist() == sizes
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        theta = 4.0 * r + 2 * math.pi * k / classes
        _assert_same_points(X[y == k], np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))


@pytest.mark.parametrize("make", [moons, circles, spirals])
def test_noise_has_the_stated_standard_deviation(make) -> None:  # type: ignore[no-untyped-def]
    """Same seed, so the same noise draws: the noisy set minus the clean one is noise * N(0, 1)."""
    n = 3000
    clean, yc = make(n, noise=0.0, seed=5, dtype=F64)
    noisy, yn = make(n, noise=0.05, seed=5, dtype=F64)
    assert torch.equal(yc, yn)  # the shuffle does not depend on the noise level
    d = noisy - clean
    if make is spirals:  # noise on the angle: the radius is untouched
        assert torch.allclose(noisy.norm(dim=1), clean.norm(dim=1), atol=1e-12)
        r = clean.norm(dim=1)
        far = r > 0.2  # where the angle is well defined
        angle = torch.atan2(noisy[far, 0], noisy[far, 1]) - torch.atan2(clean[far, 0], clean[far, 1])
        angle = torch.remainder(angle + math.pi, 2 * math.pi) - math.pi
        assert float(angle.std()) == pytest.approx(0.05, rel=0.1) and abs(float(angle.mean())) < 0.01
        for k in range(3):  # an independent draw for every point, not one per arm
            assert float(angle[yc[far] == k].std()) > 0.04
    else:
        assert float(d.std()) == pytest.approx(0.05, rel=0.05) and abs(float(d.mean())) < 0.005
    double, _ = make(n, noise=0.1, seed=5, dtype=F64)
    if make is not spirals:
        assert torch.allclose(double - clean, 2 * d, atol=1e-12)


@pytest.mark.parametrize("make", [moons, circles, spirals])
def test_generators_shuffle_and_seed(make) -> None:  # type: ignore[no-untyped-def]
    X, y = make(100)
    assert X.dtype == torch.float32 and y.dtype == torch.long
    assert not bool((y[1:] >= y[:-1]).all())  # shuffled: the labels are not sorted
    X2, y2 = make(100, seed=0)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, y3 = make(100, seed=1)
    assert not torch.equal(y, y3)


def test_default_sizes_and_noise() -> None:
    assert moons()[0].shape == (200, 2) and circles()[0].shape == (200, 2) and spirals()[0].shape == (300, 2)
    assert torch.bincount(spirals()[1]).tolist() == [100, 100, 100]
    X, y = moons()  # default noise 0.1: points are off the curve by about 0.1
    r = X[y == 0].double().norm(dim=1)
    assert 0.04 < float((r - 1).abs().mean()) < 0.15
    X, y = circles()  # default noise 0.05, factor 0.5
    r = X.double().norm(dim=1)
    assert float(r[y == 1].mean()) == pytest.approx(0.5, abs=0.03) and 0.02 < float((r[y == 0] - 1).abs().mean()) < 0.08
    X, y = spirals()  # default noise 0.2 on the angle
    clean, _ = spirals(noise=0.0)
    assert 0.01 < float((X - clean).abs().mean()) < 0.2


def test_noise_and_size_validation_edges() -> None:
    assert moons(2, noise=0)[0].shape == (2, 2)  # int noise and the minimum n are accepted
    assert spirals(2, classes=2, noise=0)[0].shape == (2, 2)
    assert moons(np.int64(4))[0].shape == (4, 2)
    # the exact wording of these messages belongs to the argument checks; here: which argument
    with pytest.raises(TypeError, match="noise"):
        moons(10, noise=True)
    with pytest.raises(ValueError, match="noise"):
        circles(10, noise=float("nan"))
    with pytest.raises(TypeError, match="^n "):
        spirals(True)
    with pytest.raises(TypeError, match="classes"):
        spirals(10, classes=2.0)
    with pytest.raises(TypeError, match="dtype"):
        moons(10, dtype=torch.int32)
    with pytest.raises(TypeError, match="dtype"):
        circles(10, dtype="float")


@pytest.mark.parametrize("make", [moons, circles, spirals])
def test_generators_need_two_points(make) -> None:  # type: ignore[no-untyped-def]
    assert len(make(2)[0]) == 2
    with pytest.raises(ValueError, match="n"):
        make(1)


def test_everything_lands_on_the_requested_device(device: torch.device) -> None:
    """(On a CPU-only machine this cannot tell a forgotten device argument; on CUDA it does.)"""
    for make in (moons, circles, spirals):
        X, y = make(10, device=device)
        assert X.device.type == y.device.type == device.type
    X, y = moons(10)
    xb, yb = next(iter(loader(X, y, 4, device=device)))
    assert xb.device.type == yb.device.type == device.type
    parts = train_val_split(X.to(device), y.to(device), val_fraction=0.5)
    assert all(p.device.type == device.type for p in parts)


def test_stratified_split_exact_counts_and_alignment() -> None:
    n = 103
    X = torch.arange(n, dtype=F64).reshape(n, 1)
    y = torch.tensor([i % 3 if i < 90 else 0 for i in range(n)])  # classes of 43, 30, 30
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.3, seed=2)
    counts = torch.bincount(y).tolist()
    assert counts == [43, 30, 30]
    assert torch.bincount(y_va, minlength=3).tolist() == [round(0.3 * c) for c in counts] == [13, 9, 9]
    assert torch.bincount(y_tr, minlength=3).tolist() == [30, 21, 21]
    for Xp, yp in ((X_tr, y_tr), (X_va, y_va)):  # every row keeps its own label
        assert torch.equal(y[Xp[:, 0].long()], yp)
    assert sorted(torch.cat([X_tr, X_va])[:, 0].long().tolist()) == list(range(n))
    assert not bool((y_va[1:] >= y_va[:-1]).all()) and not bool((y_tr[1:] >= y_tr[:-1]).all())  # classes interleaved
    again = train_val_split(X, y, val_fraction=0.3, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(again, (X_tr, y_tr, X_va, y_va)))
    other = train_val_split(X, y, val_fraction=0.3, seed=3)
    assert not torch.equal(other[2], X_va)
    default = train_val_split(X, y)
    assert len(default[2]) == round(0.2 * 43) + 2 * round(0.2 * 30)


def test_unstratified_split_counts_and_seed() -> None:
    n = 41
    X = torch.arange(n, dtype=F64).reshape(n, 1)
    y = torch.zeros(n)  # float targets are fine without stratification
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.25, stratify=False, seed=0)
    assert len(X_va) == round(0.25 * n) == 10 and len(X_tr) == 31
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(99)  # the split must not depend on torch's global generator
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.25, stratify=False)  # default seed 0
    assert X_va[:, 0].long().tolist() == perm[:10].tolist() and X_tr[:, 0].long().tolist() == perm[10:].tolist()
    with pytest.raises(ValueError, match="stratify=True needs y of integer class labels"):
        train_val_split(X, torch.zeros(n, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="val_fraction must be in"):
        train_val_split(X, y, val_fraction=0.0, stratify=False)
    with pytest.raises(ValueError, match=r"val_fraction=0.99 leaves an empty part for 41 examples"):
        train_val_split(X, y, val_fraction=0.99, stratify=False)


def test_loader_order_batches_and_reshuffling() -> None:
    X = torch.arange(10, dtype=F64).reshape(10, 1)
    y = torch.arange(10)
    plain = [yb.tolist() for _, yb in loader(X, y, 4, shuffle=False)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [yb.tolist() for _, yb in loader(X, y, 4, shuffle=False, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    big = torch.arange(65)
    assert [len(yb) for _, yb in loader(big, big, shuffle=False)] == [64, 1]  # default batch size 64
    default_order = torch.cat([yb for _, yb in loader(big, big, 10)]).tolist()
    assert default_order == torch.randperm(65, generator=torch.Generator().manual_seed(0)).tolist()  # default seed 0
    dl = loader(X, y, 4, seed=7)
    epoch1 = torch.cat([yb for _, yb in dl]).tolist()
    epoch2 = torch.cat([yb for _, yb in dl]).tolist()
    assert sorted(epoch1) == sorted(epoch2) == list(range(10)) and epoch1 != epoch2  # reshuffled each epoch
    assert epoch1 == torch.randperm(10, generator=torch.Generator().manual_seed(7)).tolist()
    for xb, yb in dl:
        assert torch.equal(xb[:, 0].long(), yb)  # rows stay with their targets
    torch.manual_seed(11)
    a = torch.cat([yb for _, yb in loader(X, y, 3, seed=None)]).tolist()
    torch.manual_seed(11)
    b = torch.cat([yb for _, yb in loader(X, y, 3, seed=None)]).tolist()
    assert a == b and a != list(range(10))
    on = loader(X, y, 4, device="cpu")
    assert next(iter(on))[0].device.type == "cpu"


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: moons(1), ValueError, "n"),
        (lambda: moons(10, noise=-1), ValueError, "noise"),
        (lambda: circles(1), ValueError, "n"),
        (lambda: circles(10, noise=-0.5), ValueError, "noise"),
        (lambda: circles(10, factor=1), ValueError, "factor"),
        (lambda: spirals(1), ValueError, "n"),
        (lambda: spirals(10, classes=1), ValueError, "classes"),
        (lambda: spirals(10, noise=-1), ValueError, "noise"),
        (lambda: spirals(10, noise="a"), TypeError, "noise"),
        (lambda: __import__("companion.data").data.digits(flatten=1), TypeError, "flatten"),
        (lambda: loader("x", torch.zeros(2)), TypeError, "X"),
        (lambda: train_val_split("x", torch.zeros(2)), TypeError, "X"),
        (lambda: train_val_split(torch.zeros(4), torch.zeros(4)), ValueError, "stratify=True needs y of integer class labels"),
    ],
)
def test_each_error_names_its_argument_first(call, exc, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(name + " ") or str(info.value).startswith(name + "="), str(info.value)
