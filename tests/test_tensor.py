"""Tests of companion.tensor.StridedTensor against torch.as_strided and torch's views."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.tensor import StridedTensor, broadcast_shapes, default_strides
from strategies import shapes, tensors

# The device fixture is function-scoped but stateless, so sharing it across examples is safe.
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)


@st.composite
def strided_layouts(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], int, int]:
    """(shape, strides, offset, storage size): any non-negative strides, overlaps allowed."""
    shape = draw(shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    strides = tuple(draw(st.integers(0, 7)) for _ in shape)
    offset = draw(st.integers(0, 5))
    span = sum((n - 1) * s for n, s in zip(shape, strides)) if math.prod(shape) > 0 else 0
    size = offset + span + 1 + draw(st.integers(0, 3))
    return shape, strides, offset, size


@st.composite
def tensor_and_permutation(draw: st.DrawFn) -> tuple[torch.Tensor, list[int]]:
    t = draw(tensors(shapes(min_dims=1, max_dims=4, max_side=4)))
    perm = draw(st.permutations(range(t.dim())))
    return t, list(perm)


@st.composite
def tensor_and_slices(draw: st.DrawFn) -> tuple[torch.Tensor, tuple]:
    t = draw(tensors(shapes(min_dims=1, max_dims=3, max_side=6)))
    index = []
    for n in t.shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 2, n + 2))
            stop = draw(st.none() | st.integers(-n - 2, n + 2))
            step = draw(st.none() | st.integers(1, 3))
            index.append(slice(start, stop, step))
        else:
            index.append(slice(None))
        if draw(st.booleans()) and draw(st.booleans()):
            index.append(None)  # a new axis after this one
    if draw(st.booleans()):
        index.insert(0, None)
    return t, tuple(index)


def factor_shapes(n: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes with n elements: n's prime factors spread over up to 4 axes, plus axes of size 1."""
    factors, m, p = [], n, 2
    while m > 1:
        while m % p == 0:
            factors.append(p)
            m //= p
        p += 1

    @st.composite
    def build(draw: st.DrawFn) -> tuple[int, ...]:
        ndim = draw(st.integers(1 if factors else 0, 4))
        if n == 0:
            ndim = max(ndim, 1)
        shape = [1] * ndim
        for f in factors:
            shape[draw(st.integers(0, ndim - 1))] *= f
        if n == 0:
            shape[draw(st.integers(0, ndim - 1))] = 0
        return tuple(shape)

    return build()


@st.composite
def strided_views(draw: st.DrawFn) -> torch.Tensor:
    """A view of a base tensor after a permute and slices (steps 1 or 2): any layout torch makes."""
    t = draw(tensors(shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)))
    t = t.permute(*draw(st.permutations(range(t.dim()))))
    index = tuple(slice(draw(st.integers(0, 1)), None, draw(st.integers(1, 2))) for _ in range(t.dim()))
    return t[index] if draw(st.booleans()) else t


# ----------------------------------------------------------------------------------------
# layout: the same numbers as torch.as_strided


@fixture_ok
@given(layout=strided_layouts())
def test_to_torch_equals_as_strided(layout, device: torch.device) -> None:
    shape, strides, offset, size = layout
    storage = torch.randn(size, dtype=torch.float64, device=device)
    t = StridedTensor(storage, shape, strides, offset)
    expected = torch.as_strided(storage, shape, strides, offset)
    assert torch.equal(t.to_torch(), expected)
    assert torch.equal(t.as_torch_view(), expected)
    assert t.as_torch_view().data_ptr() == expected.data_ptr()
    assert t.is_contiguous() == expected.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and torch.equal(c.to_torch(), expected)
    assert (c is t) == t.is_contiguous()
    assert t.numel() == expected.numel() and t.ndim == expected.dim()


@given(shape=shapes(min_dims=0, max_dims=5, min_side=0, max_side=6))
def test_default_strides_match_torch(shape: tuple[int, ...]) -> None:
    assert default_strides(shape) == torch.empty(shape).stride()
    assert StridedTensor(torch.zeros(max(math.prod(shape), 1)), shape).is_contiguous()


@fixture_ok
@given(data=tensor_and_permutation())
def test_permute_matches_torch_and_shares_storage(data, device: torch.device) -> None:
    t, perm = data
    t = t.to(device)
    s = StridedTensor.from_torch(t)
    assert s.storage.data_ptr() == t.data_ptr()
    p = s.permute(*perm)
    expected = t.permute(*perm)
    assert p.shape == tuple(expected.shape) and p.strides == expected.stride()
    assert p.storage is s.storage and p.shares_storage(s)
    assert torch.equal(p.to_torch(), expected)
    assert p.is_contiguous() == expected.is_contiguous()
    # a round trip through torch keeps the layout
    back = StridedTensor.from_torch(expected)
    assert back.strides == p.strides and back.offset == p.offset
    assert torch.equal(back.to_torch(), p.to_torch())


@fixture_ok
@given(t=tensors(shapes(min_dims=2, max_dims=4, max_side=4)), d=st.data())
def test_transpose_is_a_stride_swap(t: torch.Tensor, d, device: torch.device) -> None:
    t = t.to(device)
    i = d.draw(st.integers(-t.dim(), t.dim() - 1))
    j = d.draw(st.integers(-t.dim(), t.dim() - 1))
    s = StridedTensor.from_torch(t)
    tr = s.transpose(i, j)
    expected = t.transpose(i, j)
    assert tr.strides == expected.stride() and tr.shape == tuple(expected.shape)
    assert tr.storage is s.storage
    assert torch.equal(tr.to_torch(), expected)
    assert torch.equal(tr.transpose(i, j).to_torch(), t)
    if t.dim() == 2:
        assert torch.equal(s.T.to_torch(), t.T)


@fixture_ok
@given(data=tensor_and_slices())
def test_indexing_matches_torch(data, device: torch.device) -> None:
    t, index = data
    t = t.to(device)
    s = StridedTensor.from_torch(t)
    v = s[index]
    expected = t[index]
    assert v.shape == tuple(expected.shape)
    assert v.storage is s.storage
    assert torch.equal(v.to_torch(), expected)
    assert v.strides == expected.stride()  # also for None axes and empty slices
    assert v.offset == expected.storage_offset()


def test_empty_slices_and_new_axes_have_torchs_layout() -> None:
    s, t = StridedTensor.arange(10), torch.arange(10.0)
    assert s[5:5].offset == t[5:5].storage_offset() == 5
    assert s[20:30].offset == t[20:30].storage_offset() == 10
    m, tm = s.view(2, 5), t.view(2, 5)
    assert m[None].strides == tm[None].stride() == (10, 5, 1)
    assert m[:, None].strides == tm[:, None].stride() == (5, 5, 1)
    assert m[..., None].strides == tm[..., None].stride() == (5, 1, 1)


@fixture_ok
@given(t=strided_views(), d=st.data())
def test_view_and_reshape_follow_torchs_stride_rule(t: torch.Tensor, d) -> None:
    """view succeeds exactly when torch's does, with torch's strides; reshape is a view then."""
    new_shape = d.draw(factor_shapes(t.numel()))
    s = StridedTensor.from_torch(t)
    try:
        expected = t.view(new_shape)
    except RuntimeError:
        with pytest.raises(ValueError, match="impossible without copying"):
            s.view(new_shape)
        r = s.reshape(new_shape)
        assert not r.shares_storage(s) and r.is_contiguous()
        assert torch.equal(r.to_torch(), t.reshape(new_shape))
        return
    v = s.view(new_shape)
    assert v.shape == tuple(expected.shape) and v.strides == expected.stride()
    assert v.offset == expected.storage_offset() and v.storage is s.storage
    assert torch.equal(v.to_torch(), expected)
    r = s.reshape(new_shape)
    assert r.storage is s.storage and r.strides == t.reshape(new_shape).stride()


def test_view_after_a_permute_that_stays_contiguous() -> None:
    t = torch.arange(6.0).view(1, 2, 3).permute(1, 2, 0)  # shape (2, 3, 1), strides (3, 1, 6)
    assert t.is_contiguous()
    s = StridedTensor.from_torch(t)
    assert s.view(6, 1).strides == t.view(6, 1).stride() == (1, 6)
    for shape in [(6,), (2, 3, 1), (3, 2, 1), (1, 6), (2, 1, 3)]:
        assert s.view(shape).strides == t.view(shape).stride(), shape


def test_expand_keeps_strides_of_size_one_axes_as_torch() -> None:
    t = torch.arange(3.0)
    s = StridedTensor.from_torch(t)
    for shape in [(1, 3), (1, 1, 3), (2, 1, 3), (1, 2, 3)]:
        assert s.expand(*shape).strides == t.expand(*shape).stride(), shape
    col = StridedTensor.arange(6).view(2, 3)[:, :1]
    assert col.expand(2, 1).strides == torch.arange(6.0).view(2, 3)[:, :1].expand(2, 1).stride() == (3, 1)
    assert StridedTensor.from_torch(torch.tensor(1.0)).expand(1, 1).strides == torch.tensor(1.0).expand(1, 1).stride()


def test_a_write_to_a_self_overlapping_target_is_refused() -> None:
    s = StridedTensor.arange(3)
    t = torch.arange(3.0)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
        t[None, :].expand(2, 3)[...] = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(ValueError, match="more than one element of the written-to tensor refers to a single memory location"):
        s[None, :].expand(2, 3)[...] = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    overlapping = StridedTensor(torch.zeros(4), (3, 2), strides=(1, 1))  # positions 0 1 / 1 2 / 2 3
    with pytest.raises(ValueError, match="single memory location"):
        overlapping[:] = 1.0
    assert s.storage.tolist() == [0.0, 1.0, 2.0]  # nothing written
    overlapping[:, 0] = 5.0  # this target does not overlap itself
    assert overlapping.storage.tolist() == [5.0, 5.0, 5.0, 0.0]


def test_indexing_known_answers() -> None:
    s = StridedTensor.arange(24).view(2, 3, 4)
    t = torch.arange(24.0).reshape(2, 3, 4)
    for index in [1, (1, 2), (1, 2, 3), (..., 1), (None, 0), (0, None, slice(1, 3)), (slice(None, None, 2), ..., -1), ()]:
        assert torch.equal(s[index].to_torch(), t[index]), index
    assert s[1, 2, 3].item() == 23.0
    assert s[:, 1].strides == (12, 1) and s[:, 1].offset == 4


def test_writes_through_views_are_shared() -> None:
    s = StridedTensor.arange(6).view(2, 3)
    col = s.T[1]  # the second column, a view with stride 3
    assert col.strides == (3,) and col.offset == 1
    col[:] = -1.0
    assert s.to_torch().tolist() == [[0.0, -1.0, 2.0], [3.0, -1.0, 5.0]]
    s[1, 2] = 7.0
    assert s.storage.tolist() == [0.0, -1.0, 2.0, 3.0, -1.0, 7.0]
    s[0] = StridedTensor.arange(3)
    assert s[0].to_torch().tolist() == [0.0, 1.0, 2.0]
    s[1] = torch.tensor([9.0, 9.0, 9.0])
    assert s.storage.tolist()[3:] == [9.0, 9.0, 9.0]


def test_from_torch_shares_memory_both_ways() -> None:
    base = torch.arange(12.0).reshape(3, 4)
    s = StridedTensor.from_torch(base[1:, ::2])
    assert s.shape == (2, 2) and s.strides == (4, 2) and s.offset == 4
    s[0, 0] = 100.0
    assert base[1, 0].item() == 100.0
    base[2, 2] = -5.0
    assert s.to_torch()[1, 1].item() == -5.0


@fixture_ok
@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), d=st.data())
def test_view_reshape_expand_match_torch(shape: tuple[int, ...], d, device: torch.device) -> None:
    n = math.prod(shape)
    t = torch.arange(float(n), dtype=torch.float64, device=device).reshape(shape)
    s = StridedTensor.from_torch(t)
    flat = s.view(-1)
    assert flat.storage is s.storage and torch.equal(flat.to_torch(), t.view(-1))
    tr = s.T
    if not tr.is_contiguous():
        with pytest.raises(ValueError, match="impossible without copying"):
            tr.view(-1)
    r = tr.reshape(n)
    assert torch.equal(r.to_torch(), t.permute(*reversed(range(t.dim()))).reshape(n))
    # expand a size-1 dimension: stride 0, same storage
    k = d.draw(st.integers(0, len(shape) - 1))
    one = s[(slice(None),) * k + (slice(0, 1),)]
    target = list(one.shape)
    target[k] = 5
    e = one.expand(2, *target)
    expected = t[(slice(None),) * k + (slice(0, 1),)].expand(2, *target)
    assert e.strides == expected.stride() and e.storage is s.storage
    assert torch.equal(e.to_torch(), expected)


@fixture_ok
@given(a=tensors(shapes(min_dims=1, max_dims=3, max_side=4)), d=st.data())
def test_elementwise_ops_match_torch(a: torch.Tensor, d, device: torch.device) -> None:
    a = a.to(device)
    # b broadcasts against a: drop some leading dims, set some sizes to 1
    bshape = [n if d.draw(st.booleans()) else 1 for n in a.shape][d.draw(st.integers(0, a.dim() - 1)) :]
    b = d.draw(tensors(tuple(bshape))).to(device)
    b = torch.where(b == 0, torch.ones_like(b), b)
    sa, sb = StridedTensor.from_torch(a), StridedTensor.from_torch(b)
    for ours, theirs in [
        (sa + sb, a + b),
        (sa - sb, a - b),
        (sa * sb, a * b),
        (sa / sb, a / b),
        (sb + sa, b + a),
        (-sa, -a),
        (sa * 2.5, a * 2.5),
        (3 - sa, 3 - a),
        (2 + sa, 2 + a),
        (1.5 * sa, 1.5 * a),
        (sb / 2, b / 2),
        (2 / sb, 2 / b),
    ]:
        assert ours.shape == tuple(theirs.shape) and ours.is_contiguous()
        torch.testing.assert_close(ours.to_torch(), theirs, rtol=0, atol=0)
    # on a transposed (non-contiguous) operand too
    torch.testing.assert_close((sa.T * 2.0).to_torch(), a.permute(*reversed(range(a.dim()))) * 2.0)


@fixture_ok
@given(n=st.integers(1, 6), k=st.integers(1, 6), p=st.integers(1, 6), d=st.data())
def test_matmul_matches_torch(n: int, k: int, p: int, d, device: torch.device) -> None:
    a = d.draw(tensors((n, k))).to(device)
    b = d.draw(tensors((p, k))).to(device)  # used transposed: a non-contiguous operand
    out = StridedTensor.from_torch(a) @ StridedTensor.from_torch(b).T
    torch.testing.assert_close(out.to_torch(), a @ b.T, rtol=1e-12, atol=1e-9)
    out2 = StridedTensor.from_torch(a).matmul(StridedTensor.from_torch(b).transpose(0, 1))
    torch.testing.assert_close(out2.to_torch(), a @ b.T, rtol=1e-12, atol=1e-9)


def test_broadcast_shapes() -> None:
    assert broadcast_shapes((3, 1), (4,)) == (3, 4) == tuple(torch.broadcast_shapes((3, 1), (4,)))
    assert broadcast_shapes((), (2, 2)) == (2, 2)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        broadcast_shapes((2, 3), (4,))


def test_repr_len_item() -> None:
    s = StridedTensor.zeros((2, 3), dtype=torch.float64)
    assert repr(s) == "StridedTensor(shape=(2, 3), strides=(3, 1), offset=0, dtype=torch.float64, device=cpu)"
    assert len(s) == 2 and s.dtype == torch.float64 and s.device.type == "cpu"
    assert StridedTensor.arange(0).shape == (0,)


def test_errors() -> None:
    with pytest.raises(TypeError, match="storage must be"):
        StridedTensor([1.0, 2.0], (2,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="storage must be 1-D"):
        StridedTensor(torch.zeros(2, 2), (4,))
    with pytest.raises(ValueError, match="shape must have non-negative"):
        StridedTensor(torch.zeros(4), (-1, 4))
    with pytest.raises(TypeError, match="shape must be a sequence"):
        StridedTensor(torch.zeros(4), 4)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="entry of shape"):
        StridedTensor(torch.zeros(4), (2.0, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strides must have one entry"):
        StridedTensor(torch.zeros(4), (2, 2), strides=(1,))
    with pytest.raises(ValueError, match="strides must have non-negative"):
        StridedTensor(torch.zeros(4), (2, 2), strides=(-2, 1))
    with pytest.raises(ValueError, match="offset must be non-negative"):
        StridedTensor(torch.zeros(4), (2,), offset=-1)
    with pytest.raises(TypeError, match="offset must be an int"):
        StridedTensor(torch.zeros(4), (2,), offset=0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="storage has only 4 elements"):
        StridedTensor(torch.zeros(4), (2, 2), strides=(2, 2))
    with pytest.raises(TypeError, match="t must be a torch.Tensor"):
        StridedTensor.from_torch([1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t must be a dense strided tensor"):
        StridedTensor.from_torch(torch.eye(2).to_sparse())
    with pytest.raises(ValueError, match="n must be non-negative"):
        StridedTensor.arange(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        StridedTensor.arange(2.0)  # type: ignore[arg-type]
    s = StridedTensor.arange(6).view(2, 3)
    with pytest.raises(ValueError, match="dim0 must be in"):
        s.transpose(2, 0)
    with pytest.raises(ValueError, match="dim1 must be in"):
        s.transpose(0, -3)
    with pytest.raises(TypeError, match="dim0 must be an int"):
        s.transpose(0.0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dims must list all 2"):
        s.permute(0)
    with pytest.raises(ValueError, match="dims must be a permutation"):
        s.permute(0, 0)
    with pytest.raises(ValueError, match="dims must be in"):
        s.permute(0, 2)
    with pytest.raises(IndexError, match="too many indices"):
        s[0, 0, 0]
    with pytest.raises(IndexError, match="index 2 is out of range"):
        s[2]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        s[0, -4]
    with pytest.raises(IndexError, match="index can contain at most one Ellipsis"):
        s[..., ...]
    with pytest.raises(ValueError, match="slice step must be a positive int"):
        s[::-1]
    with pytest.raises(TypeError, match="index entries must be"):
        s["a"]  # type: ignore[index]
    with pytest.raises(ValueError, match=r"view\(\) of shape \(3, 2\) with strides \(1, 3\) as \(6,\) is impossible"):
        s.T.view(6)
    with pytest.raises(ValueError, match="shape .* is invalid for a tensor of 6 elements"):
        s.view(4)
    with pytest.raises(ValueError, match="shape .* is invalid"):
        s.reshape(-1, 4)
    with pytest.raises(ValueError, match="at most one -1"):
        s.view(-1, -1)
    with pytest.raises(ValueError, match="shape entries must be non-negative"):
        s.view(-2, -3)
    with pytest.raises(ValueError, match="cannot expand size 3"):
        s.expand(2, 4)
    with pytest.raises(ValueError, match="fewer dimensions"):
        s.expand(6)
    with pytest.raises(ValueError, match="new dimensions must be non-negative"):
        s.expand(-1, 2, 3)
    with pytest.raises(ValueError, match="item.. needs a tensor with one element"):
        s.item()
    with pytest.raises(TypeError, match="len.. of a 0-d"):
        len(s[0, 0])
    with pytest.raises(ValueError, match="other has shape"):
        s + StridedTensor.arange(2)
    with pytest.raises(TypeError):
        s + "a"  # type: ignore[operator]
    with pytest.raises(TypeError, match="other must be a StridedTensor"):
        s.matmul(torch.zeros(3, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="other must be a StridedTensor"):
        s.shares_storage(torch.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="other has 2 rows, but self has 3 columns"):
        s @ s
    with pytest.raises(ValueError, match="other must be 2-D"):
        s @ StridedTensor.arange(3)
    with pytest.raises(ValueError, match="matmul needs a 2-D self"):
        StridedTensor.arange(3) @ s
    with pytest.raises(ValueError, match="shape must have non-negative"):
        default_strides((2, -1))


@fixture_ok
@given(t=strided_views(), d=st.data())
def test_expand_matches_torch_on_any_layout(t: torch.Tensor, d) -> None:
    """New leading axes (size 1 or more) and size-1 axes expanded to 1, k or -1: torch's strides."""
    lead = d.draw(st.lists(st.integers(1, 3), max_size=2))
    target = [d.draw(st.sampled_from([1, 3, -1])) if n == 1 else d.draw(st.sampled_from([n, -1])) for n in t.shape]
    s = StridedTensor.from_torch(t)
    e, expected = s.expand(*lead, *target), t.expand(*lead, *target)
    assert e.shape == tuple(expected.shape) and e.strides == expected.stride() and e.offset == expected.storage_offset()
    assert torch.equal(e.to_torch(), expected)
