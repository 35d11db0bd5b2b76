"""A tensor as PyTorch stores it: flat storage plus shape, strides and an offset.

A tensor's numbers live in one flat 1-D *storage*; the *shape* says how many indices each
axis has, and the *strides* say how far to jump in the storage when an index grows by one.
Element :math:`T[i_1, \\dots, i_n]` sits at storage position
:math:`\\text{offset} + \\sum_k i_k s_k`. Transposing, permuting, slicing, broadcasting
(stride 0) and viewing change only this metadata, never the data: the result is a *view* that
shares the very same storage object. :class:`StridedTensor` implements this bookkeeping
explicitly so that it can be inspected and compared with :func:`torch.as_strided`.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Optional, Sequence, Union

import torch

from companion import _validate

__all__ = ["StridedTensor", "broadcast_shapes", "default_strides"]

Shape = tuple[int, ...]
Index = Union[int, slice, None, "ellipsis", tuple]  # noqa: F821
Operand = Union["StridedTensor", float, int]


def default_strides(shape: Sequence[int]) -> Shape:
    """Row-major (C-order) strides of a contiguous tensor of the given shape.

    .. math::

        s_k = \\prod_{j > k} n_j, \\qquad s_{\\text{last}} = 1

    Parameters
    ----------
    shape : sequence of int, length ndim
        Sizes :math:`(n_1, \\dots, n_d)`, each non-negative.

    Returns
    -------
    tuple of int, length ndim
        The strides, in elements (not bytes).

    Raises
    ------
    TypeError
        If ``shape`` is not a sequence of ints.
    ValueError
        If an entry of ``shape`` is negative.

    Examples
    --------
    >>> default_strides((2, 3, 4))
    (12, 4, 1)
    >>> torch.empty(2, 3, 4).stride()
    (12, 4, 1)
    """
    shape = _validate.shape(shape)
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def broadcast_shapes(a: Sequence[int], b: Sequence[int]) -> Shape:
    """The shape that NumPy/PyTorch broadcasting gives two operands.

    .. math::

        n_k = \\max(a_k, b_k) \\text{ where } a_k = b_k \\text{ or } \\min(a_k, b_k) = 1

    (shapes aligned from the right; missing leading sizes count as 1).

    Parameters
    ----------
    a, b : sequence of int
        The two shapes.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If a pair of aligned sizes differs and neither is 1.

    Examples
    --------
    >>> broadcast_shapes((3, 1), (4,))
    (3, 4)
    """
    a, b = _validate.shape(a, "a"), _validate.shape(b, "b")
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + a
    b = (1,) * (ndim - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"shapes {a} and {b} cannot be broadcast together (sizes {x} and {y})")
        out.append(y if x == 1 else x)
    return tuple(out)


def _view_strides(shape: Shape, strides: Shape, new_shape: Shape) -> Optional[Shape]:
    """Strides that show the elements of ``(shape, strides)`` with ``new_shape``, or ``None``.

    PyTorch's rule (``computeStride``): split the old dimensions into *chunks* that are
    contiguous among themselves (:math:`s_{k-1} = n_k s_k`); a view exists when the new shape
    splits into the same chunks, and inside a chunk the strides are row-major from the chunk's
    innermost stride.
    """
    if not shape:  # a 0-d tensor: any shape of one element, stride 1
        return (1,) * len(new_shape)
    if math.prod(shape) == 0:
        return strides if tuple(new_shape) == tuple(shape) else default_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_stride, tensor_numel, view_numel = strides[-1], 1, 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        chunk_ends = d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * chunk_stride)
        if not chunk_ends:
            continue
        while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
            new_strides[view_d] = view_numel * chunk_stride
            view_numel *= new_shape[view_d]
            view_d -= 1
        if view_numel != tensor_numel:
            return None
        if d > 0:
            chunk_stride, tensor_numel, view_numel = strides[d - 1], 1, 1
    return tuple(new_strides) if view_d == -1 else None


class StridedTensor:
    """A view ``(storage, shape, strides, offset)`` of a flat storage.

    .. math::

        T[i_1, \\dots, i_n] = \\text{storage}\\Big[\\text{offset} + \\sum_{k=1}^{n} i_k s_k\\Big]

    Views (:meth:`transpose`, :meth:`permute`, indexing with ints and slices,
    :meth:`expand`, :meth:`view`) return a new :class:`StridedTensor` holding *the same*
    storage object; arithmetic returns a new contiguous tensor.

    Parameters
    ----------
    storage : torch.Tensor, shape (S,)
        The flat data; any dtype, any device. It is used as is (no copy).
    shape : sequence of int, length ndim
        The logical shape.
    strides : sequence of int, length ndim, optional
        Non-negative strides in elements; default :func:`companion.tensor.default_strides` (row-major).
    offset : int, default 0
        Storage position of element ``[0, ..., 0]``.

    Raises
    ------
    TypeError
        If ``storage`` is not a torch.Tensor, or the metadata are not ints.
    ValueError
        If ``storage`` is not 1-D, ``strides`` has the wrong length or a negative entry,
        ``offset`` is negative, or the view reaches past the end of ``storage``.

    Examples
    --------
    >>> t = StridedTensor(torch.arange(6.0), (2, 3))
    >>> t.strides
    (3, 1)
    >>> t.to_torch()
    tensor([[0., 1., 2.],
            [3., 4., 5.]])
    >>> tt = t.transpose(0, 1)
    >>> tt.strides, tt.storage is t.storage
    ((1, 3), True)
    """

    __slots__ = ("_storage", "_shape", "_strides", "_offset")

    def __init__(
        self,
        storage: torch.Tensor,
        shape: Sequence[int],
        strides: Optional[Sequence[int]] = None,
        offset: int = 0,
    ) -> None:
        if not isinstance(storage, torch.Tensor):
            raise TypeError(f"storage must be a 1-D torch.Tensor, got {type(storage).__name__}")
        if storage.dim() != 1:
            raise ValueError(f"storage must be 1-D, got shape {tuple(storage.shape)}")
        shape = _validate.shape(shape)
        strides = default_strides(shape) if strides is None else _validate.shape(strides, "strides")
        if len(strides) != len(shape):
            raise ValueError(f"strides must have one entry per dimension ({len(shape)}), got {strides}")
        offset = _validate.integer(offset, "offset")
        if offset < 0:
            raise ValueError(f"offset must be non-negative, got {offset}")
        if math.prod(shape) > 0:
            last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
            if last >= storage.numel():
                raise ValueError(
                    f"shape {shape}, strides {strides} and offset {offset} reach storage position "
                    f"{last}, but storage has only {storage.numel()} elements"
                )
        self._storage = storage
        self._shape: Shape = shape
        self._strides: Shape = strides
        self._offset: int = offset

    # ----------------------------------------------------------------------------------
    # construction and conversion

    @classmethod
    def from_torch(cls, t: torch.Tensor) -> "StridedTensor":
        """Wrap a torch tensor *without copying*, keeping its strides and offset.

        .. math::

            (\\text{storage}, \\text{shape}, \\text{strides}, \\text{offset}) =
            (\\text{t.untyped\\_storage()}, \\text{t.shape}, \\text{t.stride()},
            \\text{t.storage\\_offset()})

        Parameters
        ----------
        t : torch.Tensor, any shape
            A strided (dense) tensor; it is detached, so no autograd history is kept.

        Returns
        -------
        StridedTensor
            Shares memory with ``t``: writes through either are seen by the other.

        Raises
        ------
        TypeError
            If ``t`` is not a torch.Tensor.
        ValueError
            If ``t`` is not a dense strided tensor (sparse, for example).

        Examples
        --------
        >>> base = torch.arange(12.0).reshape(3, 4)
        >>> s = StridedTensor.from_torch(base.T)
        >>> s.shape, s.strides, s.storage.data_ptr() == base.data_ptr()
        ((4, 3), (1, 4), True)
        """
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"t must be a torch.Tensor, got {type(t).__name__}")
        if t.layout != torch.strided:
            raise ValueError(f"t must be a dense strided tensor, got layout {t.layout}")
        t = t.detach()
        size = t.untyped_storage().nbytes() // t.element_size()
        flat = torch.as_strided(t, (size,), (1,), 0)  # the whole storage, as a 1-D tensor
        return cls(flat, tuple(t.shape), tuple(t.stride()), t.storage_offset())

    @classmethod
    def zeros(cls, shape: Sequence[int], dtype: torch.dtype = torch.float32, device: Optional[Union[str, torch.device]] = None) -> "StridedTensor":
        """A contiguous tensor of zeros.

        .. math::

            T[i] = 0 \\quad \\text{for every index } i

        Parameters
        ----------
        shape : sequence of int
            The shape.
        dtype : torch.dtype, default torch.float32
        device : str or torch.device, optional

        Returns
        -------
        StridedTensor

        Raises
        ------
        TypeError, ValueError
            If ``shape`` is not a sequence of non-negative ints.

        Examples
        --------
        >>> StridedTensor.zeros((2, 2)).to_torch()
        tensor([[0., 0.],
                [0., 0.]])
        """
        shape = _validate.shape(shape)
        return cls(torch.zeros(math.prod(shape), dtype=dtype, device=device), shape)

    @classmethod
    def arange(cls, n: int, dtype: torch.dtype = torch.float32, device: Optional[Union[str, torch.device]] = None) -> "StridedTensor":
        """The 1-D tensor ``0, 1, ..., n-1``; handy for seeing where elements go.

        .. math::

            T[i] = i

        Parameters
        ----------
        n : int
            Number of elements (non-negative).
        dtype : torch.dtype, default torch.float32
        device : str or torch.device, optional

        Returns
        -------
        StridedTensor, shape (n,)

        Raises
        ------
        TypeError
            If ``n`` is not an int.
        ValueError
            If ``n`` is negative.

        Examples
        --------
        >>> StridedTensor.arange(4).view(2, 2).to_torch()
        tensor([[0., 1.],
                [2., 3.]])
        """
        n = _validate.integer(n, "n")
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        return cls(torch.arange(n, dtype=dtype, device=device), (n,))

    def storage_indices(self) -> torch.Tensor:
        """The storage position of every element, as an integer tensor of the logical shape.

        .. math::

            P[i_1, \\dots, i_n] = \\text{offset} + \\sum_k i_k s_k

        Returns
        -------
        torch.Tensor of int64, shape ``self.shape``
            On the storage's device.

        Examples
        --------
        >>> StridedTensor.arange(6).view(2, 3).transpose(0, 1).storage_indices()
        tensor([[0, 3],
                [1, 4],
                [2, 5]])
        """
        device = self._storage.device
        index = torch.full(self._shape, self._offset, dtype=torch.long, device=device)
        for k, (n, s) in enumerate(zip(self._shape, self._strides)):
            view = [1] * len(self._shape)
            view[k] = n
            index = index + (torch.arange(n, device=device) * s).reshape(view)
        return index

    def to_torch(self) -> torch.Tensor:
        """Gather the elements into a new contiguous torch tensor (a copy).

        .. math::

            \\text{out}[i] = \\text{storage}[P[i]]

        Returns
        -------
        torch.Tensor, shape ``self.shape``
            Same dtype and device as the storage; equal to
            ``torch.as_strided(storage, shape, strides, offset)``.

        Examples
        --------
        >>> StridedTensor(torch.arange(4.0), (2,), strides=(2,), offset=1).to_torch()
        tensor([1., 3.])
        """
        return self._storage[self.storage_indices().reshape(-1)].reshape(self._shape)

    def as_torch_view(self) -> torch.Tensor:
        """The same view expressed with PyTorch's own :func:`torch.as_strided` (no copy).

        .. math::

            \\text{torch.as\\_strided}(\\text{storage}, \\text{shape}, \\text{strides}, \\text{offset})

        Returns
        -------
        torch.Tensor, shape ``self.shape``
            Shares memory with ``self.storage``.

        Examples
        --------
        >>> t = StridedTensor.arange(6).view(2, 3).transpose(0, 1)
        >>> t.as_torch_view().stride()
        (1, 3)
        """
        return torch.as_strided(self._storage, self._shape, self._strides, self._offset)

    # ----------------------------------------------------------------------------------
    # metadata

    @property
    def storage(self) -> torch.Tensor:
        """The flat 1-D storage tensor (shared between views)."""
        return self._storage

    @property
    def shape(self) -> Shape:
        """The logical shape."""
        return self._shape

    @property
    def strides(self) -> Shape:
        """Strides in elements, one per dimension."""
        return self._strides

    @property
    def offset(self) -> int:
        """Storage position of the first element."""
        return self._offset

    @property
    def dtype(self) -> torch.dtype:
        """The storage's dtype."""
        return self._storage.dtype

    @property
    def device(self) -> torch.device:
        """The storage's device."""
        return self._storage.device

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self._shape)

    def numel(self) -> int:
        """Number of elements, :math:`\\prod_k n_k`."""
        return math.prod(self._shape)

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d StridedTensor")
        return self._shape[0]

    def __repr__(self) -> str:
        return (
            f"StridedTensor(shape={self._shape}, strides={self._strides}, offset={self._offset}, "
            f"dtype={self.dtype}, device={self.device})"
        )

    def shares_storage(self, other: "StridedTensor") -> bool:
        """Whether ``other`` is a view of the same storage object.

        .. math::

            \\text{self.storage is other.storage}

        Parameters
        ----------
        other : StridedTensor

        Returns
        -------
        bool

        Raises
        ------
        TypeError
            If ``other`` is not a StridedTensor.

        Examples
        --------
        >>> t = StridedTensor.arange(6).view(2, 3)
        >>> t.shares_storage(t[1]), t.shares_storage(t.contiguous()), t.shares_storage(t.T.contiguous())
        (True, True, False)
        """
        if not isinstance(other, StridedTensor):
            raise TypeError(f"other must be a StridedTensor, got {type(other).__name__}")
        return self._storage is other._storage

    def is_contiguous(self) -> bool:
        """Whether the elements lie in row-major order without gaps (PyTorch's rule).

        .. math::

            s_k = \\prod_{j > k} n_j \\quad \\text{for every } k \\text{ with } n_k \\ne 1

        Sizes 1 are skipped (their stride is never used), and empty tensors are contiguous,
        as in :meth:`torch.Tensor.is_contiguous`.

        Returns
        -------
        bool

        Examples
        --------
        >>> t = StridedTensor.arange(6).view(2, 3)
        >>> t.is_contiguous(), t.T.is_contiguous(), t[:, :2].is_contiguous(), t[1].is_contiguous()
        (True, False, False, True)
        """
        if self.numel() == 0:
            return True
        expected = 1
        for n, s in zip(reversed(self._shape), reversed(self._strides)):
            if n == 1:
                continue
            if s != expected:
                return False
            expected *= n
        return True

    def contiguous(self) -> "StridedTensor":
        """A row-major tensor with the same elements: ``self`` if already contiguous, else a copy.

        .. math::

            \\text{new storage}[j] = T[\\text{unravel}(j)], \\quad s = \\text{default\\_strides(shape)}

        Returns
        -------
        StridedTensor

        Examples
        --------
        >>> t = StridedTensor.arange(6).view(2, 3).T
        >>> c = t.contiguous()
        >>> c.strides, c.storage.tolist()
        ((2, 1), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0])
        """
        if self.is_contiguous():
            return self
        return StridedTensor(self.to_torch().reshape(-1), self._shape)

    def item(self) -> Union[float, int, bool]:
        """The value of a one-element tensor as a Python number.

        .. math::

            \\text{storage}[\\text{offset}]

        Returns
        -------
        float, int or bool

        Raises
        ------
        ValueError
            If the tensor does not have exactly one element.

        Examples
        --------
        >>> StridedTensor.arange(6).view(2, 3)[1, 2].item()
        5.0
        """
        if self.numel() != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self._shape}")
        return self._storage[self._offset].item()

    # ----------------------------------------------------------------------------------
    # views: only metadata changes

    def _dim(self, dim: int, name: str) -> int:
        dim = _validate.integer(dim, name)
        n = self.ndim
        if not -n <= dim < n or n == 0:
            raise ValueError(f"{name} must be in [{-n}, {n - 1}] for a {n}-d tensor, got {dim}")
        return dim % n

    def transpose(self, dim0: int, dim1: int) -> "StridedTensor":
        """Swap two dimensions by swapping their sizes and strides (no copy).

        .. math::

            T^\\top[\\dots, i, \\dots, j, \\dots] = T[\\dots, j, \\dots, i, \\dots]
            \\iff (n, s) \\text{ swapped at } (\\text{dim0}, \\text{dim1})

        Parameters
        ----------
        dim0, dim1 : int
            The dimensions (negative values count from the end).

        Returns
        -------
        StridedTensor
            A view sharing ``self.storage``.

        Raises
        ------
        TypeError
            If a dimension is not an int.
        ValueError
            If a dimension is out of range.

        Examples
        --------
        >>> StridedTensor.arange(24).view(2, 3, 4).transpose(0, 2).strides
        (1, 4, 12)
        """
        d0, d1 = self._dim(dim0, "dim0"), self._dim(dim1, "dim1")
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return self.permute(*order)

    @property
    def T(self) -> "StridedTensor":
        """The transpose of a 2-D tensor (a view). For other ranks, reverses all dimensions."""
        return self.permute(*reversed(range(self.ndim)))

    def permute(self, *dims: int) -> "StridedTensor":
        """Reorder the dimensions: dimension ``k`` of the result is ``dims[k]`` of ``self``.

        .. math::

            n'_k = n_{\\pi(k)}, \\qquad s'_k = s_{\\pi(k)}

        Parameters
        ----------
        *dims : int
            A permutation of ``range(ndim)`` (negative values allowed); a single tuple or
            list is accepted too.

        Returns
        -------
        StridedTensor
            A view sharing ``self.storage``.

        Raises
        ------
        TypeError
            If an entry is not an int.
        ValueError
            If ``dims`` is not a permutation of the dimensions.

        Examples
        --------
        >>> StridedTensor.arange(24).view(2, 3, 4).permute(2, 0, 1).strides
        (1, 12, 4)
        """
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ValueError(f"dims must list all {self.ndim} dimensions, got {dims}")
        order = [self._dim(d, "dims") for d in dims]
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"dims must be a permutation of range({self.ndim}), got {dims}")
        return StridedTensor(
            self._storage,
            tuple(self._shape[d] for d in order),
            tuple(self._strides[d] for d in order),
            self._offset,
        )

    def __getitem__(self, index: Index) -> "StridedTensor":
        """Basic indexing with ints, slices (positive step), ``None`` and ``...`` (no copy).

        An int ``i`` on dimension ``k`` adds :math:`i s_k` to the offset and drops the
        dimension; a slice ``start:stop:step`` adds :math:`\\text{start}\\, s_k` (even when the
        slice is empty) and multiplies the stride by ``step``; ``None`` inserts a dimension of
        size 1 whose stride is :math:`n_k s_k` of the dimension that follows it (1 at the end),
        as :meth:`torch.Tensor.unsqueeze` does. Shapes, strides and offsets equal torch's.

        Raises
        ------
        IndexError
            If there are too many indices or an int index is out of range.
        TypeError
            If an index is not an int, slice, None or Ellipsis.
        ValueError
            If a slice step is not positive.
        """
        if not isinstance(index, tuple):
            index = (index,)
        n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
        if sum(1 for i in index if i is Ellipsis) > 1:
            raise IndexError("index can contain at most one Ellipsis (...)")
        if n_real > self.ndim:
            raise IndexError(f"too many indices: index has {n_real} entries for a {self.ndim}-d tensor")
        if Ellipsis in index:
            e = index.index(Ellipsis)
            index = index[:e] + (slice(None),) * (self.ndim - n_real) + index[e + 1 :]
        else:
            index = index + (slice(None),) * (self.ndim - n_real)
        shape, strides, offset, k = [], [], self._offset, 0
        for i in index:
            if i is None:  # torch's unsqueeze: the stride that keeps the next dimension's layout
                shape.append(1)
                strides.append(self._shape[k] * self._strides[k] if k < self.ndim else 1)
                continue
            n, s = self._shape[k], self._strides[k]
            if isinstance(i, slice):
                if i.step is not None and (not isinstance(i.step, int) or i.step <= 0):
                    raise ValueError(f"slice step must be a positive int, got {i.step!r}")
                start, stop, step = i.indices(n)
                offset += start * s  # also for an empty slice, as torch: t[5:5].storage_offset() == 5
                shape.append(len(range(start, stop, step)))
                strides.append(s * step)
            elif isinstance(i, int) and not isinstance(i, bool):
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of range for dimension {k} of size {n}")
                offset += (i % n) * s
            else:
                raise TypeError(f"index entries must be int, slice, None or Ellipsis, got {type(i).__name__}")
            k += 1
        return StridedTensor(self._storage, tuple(shape), tuple(strides), offset)

    def __setitem__(self, index: Index, value: Union["StridedTensor", torch.Tensor, float, int]) -> None:
        """Write through a view: the storage positions the view addresses are overwritten.

        Raises
        ------
        ValueError
            If two elements of the target share one storage position (for example an
            :meth:`expand`-ed view): which value would survive is undefined. torch refuses the
            same write (it detects the stride-0 case; here every overlap is detected).
        """
        target = self[index]
        positions = target.storage_indices().reshape(-1)
        if positions.unique().numel() < positions.numel():
            raise ValueError(
                "unsupported write: more than one element of the written-to tensor refers to a single "
                f"memory location (shape {target.shape}, strides {target.strides}); write to a contiguous copy instead"
            )
        if isinstance(value, StridedTensor):
            value = value.to_torch()
        if isinstance(value, torch.Tensor):
            value = value.to(device=self.device, dtype=self.dtype).expand(target.shape)
        self._storage[target.storage_indices()] = value

    def view(self, *shape: int) -> "StridedTensor":
        """Show the same elements with another shape (no copy); one size may be -1.

        .. math::

            \\prod_k n'_k = \\prod_k n_k

        A view exists whenever the strides permit one (PyTorch's rule, not only for contiguous
        tensors): the old dimensions fall into chunks that are contiguous among themselves
        (:math:`s_{k-1} = n_k s_k`), and the new shape must split into the same chunks. Inside a
        chunk the new strides are row-major, scaled by the chunk's innermost stride; the
        strides equal :meth:`torch.Tensor.view`'s.

        Parameters
        ----------
        *shape : int
            The new shape (a single tuple or list is accepted too).

        Returns
        -------
        StridedTensor
            A view sharing ``self.storage``.

        Raises
        ------
        ValueError
            If no strides show the elements with the new shape (use :meth:`reshape`, which
            copies then) or the number of elements differs.

        Examples
        --------
        >>> StridedTensor.arange(6).view(3, -1).shape
        (3, 2)
        >>> StridedTensor.arange(24).view(2, 3, 4)[:, :, ::2].view(6, 2).strides  # chunk (2, 3) merges
        (4, 2)
        """
        new_shape = self._infer_shape(shape)
        new_strides = _view_strides(self._shape, self._strides, new_shape)
        if new_strides is None:
            raise ValueError(
                f"view() of shape {self._shape} with strides {self._strides} as {new_shape} is impossible "
                "without copying; use reshape() (which copies then) or contiguous()"
            )
        return StridedTensor(self._storage, new_shape, new_strides, self._offset)

    def reshape(self, *shape: int) -> "StridedTensor":
        """A view (as :meth:`view`) when the strides permit one, else a reshaped contiguous copy.

        .. math::

            \\text{reshape} = \\begin{cases} \\text{view} & \\text{if the strides permit} \\\\
            \\text{view} \\circ \\text{contiguous} & \\text{otherwise} \\end{cases}

        As :meth:`torch.Tensor.reshape`, whether the result shares storage depends on the strides.

        Parameters
        ----------
        *shape : int
            The new shape; one entry may be -1.

        Returns
        -------
        StridedTensor

        Raises
        ------
        ValueError
            If the number of elements differs.

        Examples
        --------
        >>> t = StridedTensor.arange(6).view(2, 3).T
        >>> t.reshape(6).to_torch()
        tensor([0., 3., 1., 4., 2., 5.])
        >>> t.reshape(6).shares_storage(t), t.reshape(3, 1, 2).shares_storage(t)
        (False, True)
        """
        new_shape = self._infer_shape(shape)
        if _view_strides(self._shape, self._strides, new_shape) is not None:
            return self.view(*new_shape)
        return self.contiguous().view(*new_shape)

    def _infer_shape(self, shape: tuple) -> Shape:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for n in shape:
            _validate.integer(n, "every entry of shape")
        if sum(1 for n in shape if n == -1) > 1:
            raise ValueError(f"shape can contain at most one -1, got {shape}")
        if any(n < -1 for n in shape):
            raise ValueError(f"shape entries must be non-negative (or one -1), got {shape}")
        known = math.prod(n for n in shape if n != -1)
        if -1 in shape:
            if known == 0 or self.numel() % known:
                raise ValueError(f"shape {shape} is invalid for a tensor of {self.numel()} elements")
            shape = tuple(self.numel() // known if n == -1 else n for n in shape)
        if math.prod(shape) != self.numel():
            raise ValueError(f"shape {shape} is invalid for a tensor of {self.numel()} elements")
        return tuple(shape)

    def expand(self, *shape: int) -> "StridedTensor":
        """Broadcast to a larger shape by giving the repeated dimensions stride 0 (no copy).

        .. math::

            s'_k = 0 \\text{ where } n_k = 1 < n'_k

        Other dimensions keep their strides (a size-1 dimension expanded to size 1 too); a new
        leading dimension of size 1 gets the stride :math:`n_{k+1} s_{k+1}` of the one after it,
        as in :meth:`torch.Tensor.expand`.

        Parameters
        ----------
        *shape : int
            Target shape; new leading dimensions are allowed, and each existing size must be
            1 or equal to the target (-1 keeps the size).

        Returns
        -------
        StridedTensor
            A view sharing ``self.storage``.

        Raises
        ------
        ValueError
            If the shape is not reachable by broadcasting.

        Examples
        --------
        >>> StridedTensor.arange(3).view(1, 3).expand(4, 3).strides
        (0, 1)
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for n in shape:
            _validate.integer(n, "every entry of shape")
        if len(shape) < self.ndim:
            raise ValueError(f"shape {shape} has fewer dimensions than the tensor's {self._shape}")
        lead = len(shape) - self.ndim
        new_shape, new_strides = [0] * len(shape), [0] * len(shape)
        for k in reversed(range(len(shape))):  # right to left, as torch (a new dimension looks at the next)
            n = shape[k]
            if k < lead:
                if n < 0:
                    raise ValueError(f"shape entries for new dimensions must be non-negative, got {shape}")
                inner = new_shape[k + 1] * new_strides[k + 1] if k + 1 < len(shape) else 0
                new_shape[k], new_strides[k] = n, inner if n == 1 else 0
                continue
            old_n, old_s = self._shape[k - lead], self._strides[k - lead]
            if n == -1 or n == old_n:
                new_shape[k], new_strides[k] = old_n, old_s
            elif old_n == 1 and n >= 0:
                new_shape[k], new_strides[k] = n, 0
            else:
                raise ValueError(f"shape {shape}: cannot expand size {old_n} of dimension {k - lead} to {n}")
        return StridedTensor(self._storage, tuple(new_shape), tuple(new_strides), self._offset)

    # ----------------------------------------------------------------------------------
    # arithmetic: gathers the operands, returns a new contiguous tensor

    def _binary(self, other: Operand, op, name: str) -> "StridedTensor":
        if isinstance(other, StridedTensor):
            if other.device != self.device:
                raise ValueError(f"other is on {other.device}, but self is on {self.device}")
            try:
                shape = broadcast_shapes(self._shape, other._shape)
            except ValueError as err:
                raise ValueError(f"other has shape {other._shape}, which does not broadcast with {self._shape}") from err
            a = self.expand(*shape).to_torch()
            b = other.expand(*shape).to_torch()
        elif isinstance(other, Real) and not isinstance(other, bool):
            a, b = self.to_torch(), other
        else:
            return NotImplemented  # type: ignore[return-value]
        out = op(a, b)
        return StridedTensor(out.reshape(-1), tuple(out.shape))

    def __add__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, torch.add, "add")

    def __radd__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, lambda a, b: b + a, "add")

    def __sub__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, torch.sub, "sub")

    def __rsub__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, lambda a, b: b - a, "sub")

    def __mul__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, torch.mul, "mul")

    def __rmul__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, lambda a, b: b * a, "mul")

    def __truediv__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, torch.true_divide, "div")

    def __rtruediv__(self, other: Operand) -> "StridedTensor":
        return self._binary(other, lambda a, b: b / a, "div")

    def __neg__(self) -> "StridedTensor":
        out = -self.to_torch()
        return StridedTensor(out.reshape(-1), self._shape)

    def matmul(self, other: "StridedTensor") -> "StridedTensor":
        """Matrix product of two 2-D tensors, reading both through their strides.

        .. math::

            C_{ij} = \\sum_k A_{ik} B_{kj}
            = \\sum_k \\text{storage}_A[o_A + i s^A_0 + k s^A_1]\\,
            \\text{storage}_B[o_B + k s^B_0 + j s^B_1]

        Parameters
        ----------
        other : StridedTensor, shape (K, P)

        Returns
        -------
        StridedTensor, shape (N, P)
            Contiguous.

        Raises
        ------
        TypeError
            If ``other`` is not a StridedTensor.
        ValueError
            If either operand is not 2-D, the inner sizes differ, or the devices differ.

        Examples
        --------
        >>> a = StridedTensor.arange(6).view(2, 3)
        >>> (a @ a.T).to_torch()
        tensor([[ 5., 14.],
                [14., 50.]])
        """
        if not isinstance(other, StridedTensor):
            raise TypeError(f"other must be a StridedTensor, got {type(other).__name__}")
        if self.ndim != 2:
            raise ValueError(f"matmul needs a 2-D self, got shape {self._shape}")
        if other.ndim != 2:
            raise ValueError(f"other must be 2-D, got shape {other._shape}")
        if self._shape[1] != other._shape[0]:
            raise ValueError(f"other has {other._shape[0]} rows, but self has {self._shape[1]} columns")
        if other.device != self.device:
            raise ValueError(f"other is on {other.device}, but self is on {self.device}")
        n, k = self._shape
        p = other._shape[1]
        # A[i, k] * B[k, j] for every (i, k, j): broadcasting by stride 0, then sum over k.
        a = self[:, :, None].expand(n, k, p).to_torch()
        b = other[None, :, :].expand(n, k, p).to_torch()
        out = (a * b).sum(dim=1)
        return StridedTensor(out.reshape(-1), (n, p))

    __matmul__ = matmul
