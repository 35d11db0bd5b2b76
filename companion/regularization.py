r"""Regularization: dropout, weight penalties and early stopping.

Regularizers trade a little training fit for better generalization: dropout trains an
ensemble of thinned networks, L1/L2 penalties shrink the weights (per layer with
:func:`layer_penalty`), Fiedler regularization weakens the connectivity of the network's graph
(:func:`fiedler_penalty`), early stopping limits the number of steps (on a quadratic, the
filter :func:`gd_filter` against ridge's :func:`ridge_filter`). Normalization layers live in :mod:`companion.normalization` and pruning in
:mod:`companion.pruning`; their names are re-exported here so that older imports keep working.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Sequence, Union

import torch
from torch import nn

from companion import _validate as check

# Re-exports: these moved to companion.normalization and companion.pruning; importing them from
# here keeps working.
from companion.normalization import BatchNorm, LayerNorm, RMSNorm, batch_norm, batch_norm_backward, layer_norm, layer_norm_backward, rms_norm  # noqa: F401
from companion.pruning import LotteryTicketResult, apply_masks, lottery_ticket, magnitude_prune, sparsity  # noqa: F401

__all__ = [
    "Dropout",
    "EarlyStopping",
    "dropout",
    "early_stopping_epoch",
    "l1_penalty",
    "l1_penalty_grad",
    "l2_penalty",
    "l2_penalty_grad",
    "layer_penalty",
    "network_laplacian",
    "fiedler",
    "fiedler_penalty",
    "gd_filter",
    "ridge_filter",
]


# ---------------------------------------------------------------------------------------------
# dropout


def dropout(
    x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    r"""Inverted dropout: zero each entry with probability ``p`` and rescale the survivors.

    .. math::

        r_i \sim \text{Bernoulli}(1 - p),\qquad y_i = \frac{r_i\, x_i}{1 - p},\qquad
        \mathbb E[y_i] = x_i.

    ``p`` is the probability of *dropping* a unit, as in :func:`torch.nn.functional.dropout`.
    Srivastava et al. (2014) write :math:`p` for the probability of *keeping* one, and scale
    the weights by it at test time; inverted dropout scales during training instead, so that
    evaluation (``training=False``) is the identity. The gradient is
    :math:`\partial y_i / \partial x_i = r_i / (1 - p)` (autograd follows the mask).

    Parameters
    ----------
    x : torch.Tensor, any shape
    p : float
        Drop probability in :math:`[0, 1)`.
    training : bool
        ``False`` returns ``x`` unchanged.
    inplace : bool
        Overwrite ``x`` with the result (and return it), as torch's ``inplace=True``.
    generator : torch.Generator, optional
        Generator for the mask, on ``x``'s device. torch's dropout has no such argument;
        here it makes a mask reproducible without touching the global seed.

    Returns
    -------
    torch.Tensor, shape of ``x``

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor, ``p`` not a number, or ``training`` or
        ``inplace`` not a bool (``training='no'`` is an error, not true).
    ValueError
        If ``p`` is outside :math:`[0, 1)`. torch also accepts ``p = 1`` (all zeros); here the
        rescaling by :math:`1/(1-p)` would divide by zero, so it is refused.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> y = dropout(torch.ones(10), p=0.5, generator=g)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(torch.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    check.float_tensor(x, "x")
    p = _drop_probability(p)
    check.boolean(training, "training")
    check.boolean(inplace, "inplace")
    check.generator(generator)
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    if inplace:
        return x.mul_(keep.to(x.dtype)).div_(1.0 - p)
    return x * keep.to(x.dtype) / (1.0 - p)


def _drop_probability(p: object) -> float:
    p = check.real(p, "p")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")
    return p


class Dropout(nn.Module):
    """Module form of :func:`dropout`: active in ``train()`` mode, the identity in ``eval()``.

    Parameters
    ----------
    p : float
        Drop probability in [0, 1).
    inplace : bool
        Overwrite the input, as :func:`dropout`'s ``inplace``.

    Examples
    --------
    >>> m = Dropout(0.25).eval()
    >>> m(torch.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _drop_probability(p)
        self.inplace = check.boolean(inplace, "inplace")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# ---------------------------------------------------------------------------------------------
# weight penalties

ParamsLike = Union[torch.Tensor, nn.Module, Iterable[torch.Tensor]]


def _penalized(params: ParamsLike, name: str = "params") -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        tensors = [params]
    elif isinstance(params, nn.Module):
        # weights of linear and convolutional layers; biases and normalization parameters
        # (1-D) are conventionally not penalized
        tensors = [p for p in params.parameters() if p.dim() >= 2]
    else:
        try:
            tensors = list(params)
        except TypeError:
            raise TypeError(
                f"{name} must be a tensor, an nn.Module or an iterable of tensors, got {type(params).__name__}"
            ) from None
    for t in tensors:
        check.float_tensor(t, name)
    if not tensors:
        raise ValueError(f"{name} holds no tensor to penalize")
    return tensors


def l1_penalty(params: ParamsLike, strength: float = 1.0) -> torch.Tensor:
    r"""The L1 (lasso) penalty :math:`\lambda \sum_i |w_i|`.

    .. math:: \Omega_1(w) = \lambda \lVert w \rVert_1,\qquad
        \frac{\partial \Omega_1}{\partial w_i} = \lambda \operatorname{sign}(w_i)

    Its gradient has constant size, so small weights are pushed all the way to zero: L1
    gives sparse weights.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        With a module, only parameters of 2 or more dimensions (the weights of linear and
        convolutional layers) are penalized, not biases or normalization parameters.
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    torch.Tensor, shape ()
        Differentiable; add it to the loss.

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors.
    ValueError
        If ``strength < 0`` or ``params`` is empty.

    Examples
    --------
    >>> l1_penalty(torch.tensor([1.0, -2.0, 0.5]), strength=0.1)
    tensor(0.3500)
    """
    strength = check.real(strength, "strength", low=0)
    return strength * sum(t.abs().sum() for t in _penalized(params))  # type: ignore[return-value]


def l1_penalty_grad(w: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    r"""Gradient of :func:`l1_penalty` with respect to one tensor, :math:`\lambda\operatorname{sign}(w)`.

    .. math:: \frac{\partial}{\partial w_i} \lambda \lVert w \rVert_1 = \lambda \operatorname{sign}(w_i)

    (0 at :math:`w_i = 0`, the subgradient autograd uses.)

    Parameters
    ----------
    w : torch.Tensor, any shape
    strength : float

    Returns
    -------
    torch.Tensor, shape of ``w``

    Examples
    --------
    >>> l1_penalty_grad(torch.tensor([1.0, -2.0, 0.0]), 0.1)
    tensor([ 0.1000, -0.1000,  0.0000])
    """
    check.float_tensor(w, "w")
    return check.real(strength, "strength") * torch.sign(w)


def l2_penalty(params: ParamsLike, strength: float = 1.0) -> torch.Tensor:
    r"""The L2 (ridge, weight-decay) penalty :math:`\frac{\lambda}{2} \sum_i w_i^2`.

    .. math:: \Omega_2(w) = \frac{\lambda}{2} \lVert w \rVert_2^2,\qquad
        \frac{\partial \Omega_2}{\partial w_i} = \lambda w_i

    The factor :math:`\tfrac12` makes the gradient :math:`\lambda w`, so adding this penalty
    to the loss is the same as ``torch.optim.SGD(..., weight_decay=strength)`` (and as
    ``torch.optim.Adam``'s ``weight_decay``, which is this coupled penalty). It is *not*
    ``torch.optim.AdamW``'s decoupled decay: Adam rescales the penalty's gradient per
    coordinate, AdamW shrinks every weight by the same factor :math:`1 - \text{lr}\,\lambda`.
    Its gradient vanishes with the weight: L2 shrinks weights but rarely makes them exactly
    zero.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        As in :func:`l1_penalty` (with a module, weights only).
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    torch.Tensor, shape ()

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors.
    ValueError
        If ``strength < 0`` or ``params`` is empty.

    Examples
    --------
    >>> l2_penalty(torch.tensor([1.0, -2.0]), strength=0.1)
    tensor(0.2500)
    """
    strength = check.real(strength, "strength", low=0)
    return 0.5 * strength * sum(t.pow(2).sum() for t in _penalized(params))  # type: ignore[return-value]


def l2_penalty_grad(w: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    r"""Gradient of :func:`l2_penalty` with respect to one tensor, :math:`\lambda w`.

    .. math:: \frac{\partial}{\partial w_i} \frac{\lambda}{2} \lVert w \rVert_2^2 = \lambda w_i

    Parameters
    ----------
    w : torch.Tensor, any shape
    strength : float

    Returns
    -------
    torch.Tensor, shape of ``w``

    Examples
    --------
    >>> l2_penalty_grad(torch.tensor([1.0, -2.0]), 0.1)
    tensor([ 0.1000, -0.2000])
    """
    check.float_tensor(w, "w")
    return check.real(strength, "strength") * w


# ---------------------------------------------------------------------------------------------
# per-layer penalties


def layer_penalty(params: ParamsLike, coefficients: Sequence[float], p: float = 2.0) -> torch.Tensor:
    r"""A weight penalty with its own coefficient for each layer.

    .. math:: \Omega(W_1, \dots, W_L) = \sum_{l=1}^{L} \frac{c_l}{p} \sum_{i,j} |w^{[l]}_{ij}|^p,
        \qquad \frac{\partial \Omega}{\partial w^{[l]}_{ij}} = c_l\, |w^{[l]}_{ij}|^{p-1}
        \operatorname{sign}(w^{[l]}_{ij})

    With all :math:`c_l = \lambda` it is :func:`l1_penalty` (``p=1``) or :func:`l2_penalty`
    (``p=2``, the factor :math:`1/p` is that function's :math:`\tfrac12`). Different
    coefficients put different pressure on different layers, e.g. more on a wide layer with
    many weights than on a narrow output layer. In a network that is positively homogeneous in
    each layer (ReLU, no normalization), scaling :math:`W_l` by :math:`a > 0` and
    :math:`W_{l+1}` by :math:`1/a` (with the biases of layer :math:`l` scaled by :math:`a`)
    leaves the function unchanged, so for ``p=2`` a penalty on one layer alone can be evaded
    by moving the norm into its neighbour; on a two-layer network only the product
    :math:`c_1 c_2` is not removable by such a rescaling.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        The layers' weights, in order. With a module, its parameters of 2 or more dimensions
        (weights of linear and convolutional layers), in ``parameters()`` order.
    coefficients : sequence of float
        :math:`c_l \ge 0`, one per weight tensor.
    p : float
        The exponent, :math:`p \ge 1`.

    Returns
    -------
    torch.Tensor, shape ()
        Differentiable; add it to the loss.

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors, or ``coefficients`` is
        not a sequence of real numbers.
    ValueError
        If ``params`` is empty, the number of coefficients differs from the number of weight
        tensors, a coefficient is negative, or ``p < 1``.

    Examples
    --------
    >>> w1, w2 = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0]])
    >>> layer_penalty([w1, w2], [0.1, 1.0])             # 0.1/2 * 5 + 1/2 * 9
    tensor(4.7500)
    >>> layer_penalty([w1, w2], [0.1, 1.0], p=1)        # 0.1 * 3 + 1 * 3
    tensor(3.3000)
    """
    tensors = _penalized(params)
    if isinstance(coefficients, (str, bytes)) or not isinstance(coefficients, Sequence):
        raise TypeError(f"coefficients must be a sequence of real numbers, got {type(coefficients).__name__}")
    cs = [check.real(c, f"coefficients[{i}]", low=0) for i, c in enumerate(coefficients)]
    if len(cs) != len(tensors):
        raise ValueError(f"coefficients must hold one number per weight tensor ({len(tensors)}), got {len(cs)}")
    p = check.real(p, "p", low=1)
    return sum(c / p * t.abs().pow(p).sum() for c, t in zip(cs, tensors))  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Fiedler regularization


def _layer_chain(params: ParamsLike) -> list[torch.Tensor]:
    """The weight matrices of consecutive fully connected layers, checked to chain."""
    if isinstance(params, nn.Module):
        tensors = [m.weight for m in params.modules() if isinstance(m, nn.Linear)]
        if not tensors:
            raise ValueError("params holds no nn.Linear layer")
    else:
        tensors = _penalized(params)
    for i, w in enumerate(tensors):
        if w.dim() != 2:
            raise ValueError(f"params[{i}] must be a 2-D weight matrix (out, in), got shape {tuple(w.shape)}")
        if i and w.shape[1] != tensors[i - 1].shape[0]:
            raise ValueError(
                f"params[{i}] has {w.shape[1]} inputs but params[{i - 1}] has {tensors[i - 1].shape[0]} outputs: "
                "the layers must be consecutive"
            )
        if w.device != tensors[0].device:
            raise ValueError("params must all live on one device")
    return tensors


def _offsets(weights: list[torch.Tensor]) -> list[int]:
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    out = [0]
    for n in sizes:
        out.append(out[-1] + n)
    return out


def network_laplacian(params: ParamsLike) -> torch.Tensor:
    r"""Laplacian :math:`L = D - A` of a feed-forward network's weighted graph.

    The vertices are the units of every layer (the inputs of the first layer, then each
    layer's outputs, in order); layer :math:`l`'s weight :math:`w^{[l]}_{ij}` joins output
    :math:`i` of layer :math:`l` to its input :math:`j` by an undirected edge of weight
    :math:`|w^{[l]}_{ij}|`. Biases are not edges.

    .. math:: A_{uv} = |w_{uv}|,\qquad D = \operatorname{diag}\Big(\sum_v A_{uv}\Big),
        \qquad x^\top L x = \sum_{\text{edges } (u,v)} |w_{uv}|\,(x_u - x_v)^2 \ge 0

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        Weight matrices of consecutive layers, shapes :math:`(n_1, n_0), (n_2, n_1), \dots`;
        with a module, the weights of its ``nn.Linear`` layers in ``modules()`` order.

    Returns
    -------
    torch.Tensor, shape (N, N), :math:`N = n_0 + n_1 + \dots + n_L`
        Symmetric, rows summing to 0; differentiable in the weights.

    Raises
    ------
    TypeError
        If ``params`` holds something else than floating-point tensors.
    ValueError
        If ``params`` is empty, a weight is not 2-D, or the layers do not chain.

    Examples
    --------
    >>> network_laplacian(torch.tensor([[2.0, -1.0]]))   # inputs 0, 1 -> output 2
    tensor([[ 2.,  0., -2.],
            [ 0.,  1., -1.],
            [-2., -1.,  3.]])
    """
    weights = _layer_chain(params)
    off = _offsets(weights)
    adjacency = weights[0].new_zeros(off[-1], off[-1])
    for l, w in enumerate(weights):
        rows, cols = slice(off[l + 1], off[l + 2]), slice(off[l], off[l + 1])
        adjacency[rows, cols] = w.abs()  # autograd records the copies into the slices
        adjacency[cols, rows] = w.abs().T
    return torch.diag(adjacency.sum(1)) - adjacency


def fiedler(laplacian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Fiedler value and vector of a graph Laplacian: its second-smallest eigenpair.

    The eigenvalues of a Laplacian are :math:`0 = \lambda_1 \le \lambda_2 \le \dots`;
    :math:`\lambda_2`, the *algebraic connectivity* (Fiedler, 1973), is 0 exactly when the
    graph is disconnected, and by Courant–Fischer

    .. math:: \lambda_2 = \min_{x \perp \mathbf 1,\ \lVert x \rVert = 1} x^\top L x
        = \min_{x \perp \mathbf 1,\ \lVert x \rVert = 1} \sum_{(u,v)} A_{uv} (x_u - x_v)^2,

    attained at the Fiedler vector :math:`v`. The sign of :math:`v` is fixed so that its
    entry of largest magnitude is positive. Computed by :func:`torch.linalg.eigh` without
    gradient (use :func:`fiedler_penalty` to differentiate).

    Parameters
    ----------
    laplacian : torch.Tensor, shape (N, N)
        Symmetric, :math:`N \ge 2`.

    Returns
    -------
    value : torch.Tensor, shape ()
    vector : torch.Tensor, shape (N,)
        Unit norm, orthogonal to :math:`\mathbf 1` (up to rounding; for a disconnected graph,
        a unit vector of the null space orthogonal to :math:`\mathbf 1`).

    Raises
    ------
    TypeError
        If ``laplacian`` is not a floating-point tensor.
    ValueError
        If it is not a symmetric square matrix of size at least 2.

    Examples
    --------
    >>> K3 = torch.tensor([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]])   # triangle K_3
    >>> value, vector = fiedler(K3)
    >>> round(float(value), 4)
    3.0
    """
    check.float_tensor(laplacian, "laplacian")
    if laplacian.dim() != 2 or laplacian.shape[0] != laplacian.shape[1] or laplacian.shape[0] < 2:
        raise ValueError(f"laplacian must be a square matrix of size at least 2, got shape {tuple(laplacian.shape)}")
    with torch.no_grad():
        scale = float(laplacian.abs().max()) or 1.0
        if not torch.allclose(laplacian, laplacian.T, rtol=0, atol=1e-6 * scale):
            raise ValueError("laplacian must be symmetric")
        values, vectors = torch.linalg.eigh(laplacian)
        v = vectors[:, 1]
        tol = 10 * len(v) * torch.finfo(laplacian.dtype).eps * scale
        if float(values[1] - values[0]) <= tol:
            # disconnected: the null space holds the constant vectors of each component and
            # eigh returns any basis of it; take a null vector orthogonal to 1 (a column of the
            # basis with 1 projected out, the one that keeps the most norm)
            null = vectors[:, values - values[0] <= tol]
            ones = torch.ones_like(v) / math.sqrt(len(v))
            residual = null - ones[:, None] * (ones @ null)[None, :]
            v = residual[:, residual.norm(dim=0).argmax()]
            v = v / v.norm()
        v = v * torch.sign(v[v.abs().argmax()])
    return values[1].clamp_min(0.0), v


def fiedler_penalty(
    params: ParamsLike, strength: float = 1.0, vector: Optional[torch.Tensor] = None
) -> torch.Tensor:
    r"""Fiedler regularization (Tam & Dunson, 2020): penalize the network graph's connectivity.

    The network is the weighted undirected graph of :func:`network_laplacian` (units as
    vertices, :math:`|w_{uv}|` as edge weights). The penalty is

    .. math:: \Omega(W) = \delta \sum_{(u,v)} |w_{uv}|\,(v_u - v_v)^2
        \qquad\Big(= \delta\,\lambda_2(L)\ \text{when } v \text{ is the Fiedler vector of } L\Big),

    with :math:`\delta` = ``strength``. With ``vector=None``, :math:`v` is the current
    Fiedler vector of :func:`fiedler` (held constant), so the value *is*
    :math:`\delta\lambda_2` and the gradient
    :math:`\partial\Omega/\partial w_{uv} = \delta \operatorname{sign}(w_{uv}) (v_u - v_v)^2`
    is the derivative of :math:`\delta\lambda_2` wherever :math:`\lambda_2` is a simple
    eigenvalue (first-order perturbation of an eigenvalue). Given a fixed ``vector``, it is
    the cheaper variational form that Tam & Dunson update only every few steps: a weighted L1
    penalty whose weight on edge :math:`(u,v)` is :math:`(v_u - v_v)^2`; for a unit vector
    orthogonal to :math:`\mathbf 1` its value is an upper bound on :math:`\delta\lambda_2`.

    Unlike L1, which pulls every weight equally, it pulls hardest on the edges that cross the
    graph's weakest cut (the vertices the Fiedler vector puts far apart), and not at all on
    edges inside a part where :math:`v` is constant: it pushes the network towards weakly
    connected parts. Since :math:`\lambda_2 \le \frac{N}{N-1}\min_u d_u`, the weakest cut can
    be a single poorly connected unit (a constant input pixel, a dead unit); once the graph is
    disconnected, :math:`\lambda_2 = 0` and the penalty stops acting.

    Parameters
    ----------
    params : torch.Tensor, nn.Module or iterable of torch.Tensor
        As in :func:`network_laplacian`.
    strength : float
        :math:`\delta \ge 0`.
    vector : torch.Tensor, shape (N,), optional
        The test vector :math:`v`; by default the current Fiedler vector.

    Returns
    -------
    torch.Tensor, shape ()
        Differentiable in the weights.

    Raises
    ------
    TypeError
        If ``params`` or ``vector`` is not made of floating-point tensors.
    ValueError
        If the layers do not chain (see :func:`network_laplacian`), ``strength < 0``, or
        ``vector`` does not have one entry per unit or lives on another device.

    Examples
    --------
    >>> w = torch.tensor([[1.0, 1.0]])           # a path: input 0 - output 2 - input 1
    >>> round(float(fiedler_penalty(w)), 4)      # lambda_2 of the 3-vertex path is 1
    1.0
    """
    strength = check.real(strength, "strength", low=0)
    weights = _layer_chain(params)
    off = _offsets(weights)
    if vector is None:
        _, v = fiedler(network_laplacian([w.detach() for w in weights]))
    else:
        v = check.float_tensor(vector, "vector").detach()
        if v.shape != (off[-1],):
            raise ValueError(f"vector must have shape ({off[-1]},), one entry per unit, got {tuple(v.shape)}")
        check.same_device(v, "vector", weights[0], "params")
    total = sum(
        (w.abs() * (v[off[l + 1]:off[l + 2], None] - v[None, off[l]:off[l + 1]]).pow(2)).sum()
        for l, w in enumerate(weights)
    )
    return strength * total  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# early stopping as approximate L2 (quadratic model)


def _eigenvalues(eigenvalues: object) -> torch.Tensor:
    lam = torch.as_tensor(eigenvalues) if not isinstance(eigenvalues, torch.Tensor) else eigenvalues
    if not lam.dtype.is_floating_point:
        lam = lam.to(torch.get_default_dtype())
    if bool((lam < 0).any()):
        raise ValueError("eigenvalues must be >= 0 (a convex quadratic)")
    return lam


def gd_filter(eigenvalues: Union[torch.Tensor, Sequence[float]], lr: float, steps: int) -> torch.Tensor:
    r"""How much of each eigendirection :math:`t` steps of gradient descent from 0 have fitted.

    On :math:`J(w) = \tfrac12 (w - w^\star)^\top H (w - w^\star)` with
    :math:`H = Q \operatorname{diag}(\lambda_i) Q^\top`, gradient descent
    :math:`w_{k+1} = w_k - \eta H (w_k - w^\star)` from :math:`w_0 = 0` gives
    :math:`Q^\top w_t = \operatorname{diag}(f_i)\, Q^\top w^\star` with

    .. math:: f_i = 1 - (1 - \eta\lambda_i)^t .

    Compare :func:`ridge_filter`: early stopping after :math:`t` steps acts like an L2
    penalty with :math:`\alpha \approx 1/(\eta t)`.

    Parameters
    ----------
    eigenvalues : torch.Tensor or sequence of float, shape (n,)
        :math:`\lambda_i \ge 0`.
    lr : float
        :math:`\eta > 0`.
    steps : int
        :math:`t \ge 0`.

    Returns
    -------
    torch.Tensor, shape (n,)

    Raises
    ------
    ValueError
        If an eigenvalue is negative, ``lr <= 0`` or ``steps < 0``.

    Examples
    --------
    >>> gd_filter([0.0, 0.5, 1.0], lr=1.0, steps=2)
    tensor([0.0000, 0.7500, 1.0000])
    """
    lr = check.real(lr, "lr", low=0, low_open=True)
    steps = check.integer(steps, "steps", low=0)
    lam = _eigenvalues(eigenvalues)
    return 1 - (1 - lr * lam) ** steps


def ridge_filter(eigenvalues: Union[torch.Tensor, Sequence[float]], alpha: float) -> torch.Tensor:
    r"""How much of each eigendirection the L2-penalized minimum keeps.

    Minimizing :math:`\tfrac12 (w - w^\star)^\top H (w - w^\star) + \tfrac{\alpha}{2}\lVert w\rVert^2`
    gives :math:`\tilde w = (H + \alpha I)^{-1} H w^\star`, i.e. in the eigenbasis of :math:`H`

    .. math:: f_i = \frac{\lambda_i}{\lambda_i + \alpha}.

    Parameters
    ----------
    eigenvalues : torch.Tensor or sequence of float, shape (n,)
        :math:`\lambda_i \ge 0`.
    alpha : float
        :math:`\alpha > 0`.

    Returns
    -------
    torch.Tensor, shape (n,)

    Raises
    ------
    ValueError
        If an eigenvalue is negative or ``alpha <= 0``.

    Examples
    --------
    >>> ridge_filter([0.0, 1.0, 3.0], alpha=1.0)
    tensor([0.0000, 0.5000, 0.7500])
    """
    alpha = check.real(alpha, "alpha", low=0, low_open=True)
    lam = _eigenvalues(eigenvalues)
    return lam / (lam + alpha)


# ---------------------------------------------------------------------------------------------
# early stopping


def _improved(value: float, best: float, min_delta: float, mode: str) -> bool:
    if math.isnan(value):
        return False
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def early_stopping_epoch(
    values: Sequence[float], patience: int, min_delta: float = 0.0, mode: str = "min"
) -> tuple[Optional[int], int]:
    r"""Replay early stopping on a sequence of validation numbers.

    Epoch :math:`t` (1-based) improves on the best so far :math:`b` when
    :math:`v_t < b - \delta` (``mode="min"``). Training stops at the first epoch after which
    ``patience`` consecutive epochs have not improved:

    .. math:: t_\text{stop} = \min\{t : \text{no improvement in epochs } t-P+1, \dots, t\}.

    Parameters
    ----------
    values : sequence of float
        Validation loss (or accuracy with ``mode="max"``) per epoch.
    patience : int
        Epochs without improvement to tolerate, ``>= 1``.
    min_delta : float
        Smallest change that counts as an improvement, ``>= 0``.
    mode : {"min", "max"}

    Returns
    -------
    stop_epoch : int or None
        The epoch after which training stops, or ``None`` if it runs to the end.
    best_epoch : int
        The epoch whose weights early stopping keeps (restores); 0 if no epoch had a
        number (NaN never counts as an improvement).

    Raises
    ------
    ValueError
        If ``values`` is empty, ``patience < 1``, ``min_delta < 0`` or ``mode`` is unknown.

    Examples
    --------
    >>> early_stopping_epoch([1.0, 0.8, 0.7, 0.75, 0.9, 1.1], patience=2)
    (5, 3)
    >>> early_stopping_epoch([1.0, 0.8, 0.7], patience=2)
    (None, 3)
    """
    check.integer(patience, "patience", low=1)
    min_delta = check.real(min_delta, "min_delta", low=0)
    check.choice(mode, "mode", ("min", "max"))
    values = [float(v) for v in values]
    if not values:
        raise ValueError("values must hold at least one number")
    best = math.inf if mode == "min" else -math.inf
    best_epoch, wait = 0, 0
    for epoch, v in enumerate(values, start=1):
        if _improved(v, best, min_delta, mode):
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


class EarlyStopping:
    r"""Stop :func:`companion.train.fit` when the validation loss stops improving.

    After each epoch the callback reads ``state.logs[monitor]``. An epoch improves if
    :math:`v_t < b - \delta` (``mode="min"``; :math:`b` the best value so far); after
    ``patience`` epochs in a row without improvement it sets ``state.stop_training``. The
    weights of the best epoch are kept (a copy of the ``state_dict``) and, with
    ``restore_best``, loaded back into the model when training ends. The rule is the one
    :func:`early_stopping_epoch` replays on a list of numbers.

    Training stops when the validation loss *rises* (or stalls), not when it decreases:
    a falling validation loss means the model is still learning something that generalizes.

    .. math:: t^\star = \arg\min_{t \le t_\text{stop}} v_t

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping, ``>= 1``.
    min_delta : float
        Smallest decrease that counts as an improvement, ``>= 0``.
    restore_best : bool
        Load the best epoch's weights at the end of training.
    monitor : str
        Key of the epoch record to watch (``"val_loss"``; needs ``val_loader`` in ``fit``).
    mode : {"min", "max"}
        ``"max"`` for a number to maximize, e.g. ``"val_accuracy"``.

    Attributes
    ----------
    best : float
        Best monitored value seen.
    best_epoch : int
        Epoch (1-based) of ``best``; 0 before training.
    stopped_epoch : int or None
        Epoch after which training was stopped, ``None`` if it ran to the end.

    Raises
    ------
    ValueError
        From ``on_epoch_end`` if the record has no ``monitor`` key.

    Examples
    --------
    >>> from companion.train import fit
    >>> from companion.data import moons, loader
    >>> _ = torch.manual_seed(0)
    >>> X, y = moons(200)
    >>> model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.5)
    >>> stopper = EarlyStopping(patience=3)
    >>> h = fit(model, nn.functional.cross_entropy, opt, loader(X, y, 32), loader(X[:40], y[:40], 40),
    ...         epochs=200, callbacks=[stopper], progress=False)
    >>> h.stopped_early, stopper.best_epoch == h.best("val_loss")[0]
    (True, True)
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        monitor: str = "val_loss",
        mode: str = "min",
    ) -> None:
        self.patience = check.integer(patience, "patience", low=1)
        self.min_delta = check.real(min_delta, "min_delta", low=0)
        check.any_of(monitor, "monitor", (str,), "a str")
        check.choice(mode, "mode", ("min", "max"))
        self.restore_best = check.boolean(restore_best, "restore_best")
        self.monitor = monitor
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch: Optional[int] = None
        self.best_state: Optional[dict[str, torch.Tensor]] = None

    def on_train_begin(self, state: Any) -> None:
        """Forget any previous run."""
        self._reset()

    def on_epoch_end(self, state: Any) -> None:
        """Compare this epoch's number with the best; snapshot or count; maybe stop."""
        logs = getattr(state, "logs", {}) or {}
        if self.monitor not in logs:
            raise ValueError(
                f"monitor={self.monitor!r} is not in the epoch record (keys: {sorted(logs)}); "
                "pass a val_loader to fit, or choose another monitor"
            )
        value = float(logs[self.monitor])
        if _improved(value, self.best, self.min_delta, self.mode):
            self.best, self.best_epoch, self.wait = value, int(state.epoch), 0
            self.best_state = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = int(state.epoch)
                state.stop_training = True

    def on_train_end(self, state: Any) -> None:
        """Load the best epoch's weights back (with ``restore_best``)."""
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)

