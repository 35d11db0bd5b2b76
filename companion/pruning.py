r"""Pruning: magnitude pruning, gradient masks and the lottery ticket (Frankle and Carbin, 2019).

Pruning removes the weights of smallest magnitude. :func:`magnitude_prune` zeroes them and
returns masks, :func:`apply_masks` keeps them at zero while training, and
:func:`lottery_ticket` repeats train, prune and rewind to find a sparse subnetwork that
trains as well as the dense one from the same initial weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import nn

from companion import _validate as check

__all__ = [
    "LotteryTicketResult",
    "apply_masks",
    "lottery_ticket",
    "magnitude_prune",
    "sparsity",
]




def _prunable(model: nn.Module) -> dict[str, torch.nn.Parameter]:
    check.any_of(model, "model", (nn.Module,), "a torch.nn.Module")
    params = {name: p for name, p in model.named_parameters() if p.dim() >= 2}
    if not params:
        raise ValueError("model has no weight with 2 or more dimensions to prune")
    return params


def magnitude_prune(model: nn.Module, fraction: float, scope: str = "global") -> dict[str, torch.Tensor]:
    r"""Zero the ``fraction`` of weights with the smallest magnitude, in place; return the masks.

    .. math::

        m_i = \mathbb 1\left[\,|\theta_i| \text{ is not among the } \lfloor f M \rceil
        \text{ smallest}\,\right],\qquad \theta \leftarrow m \odot \theta

    Only parameters with 2 or more dimensions (weights of linear and convolutional layers)
    are pruned; biases and normalization parameters are kept. With ``scope="global"`` the
    :math:`M` weights of all layers are ranked together (layers with many small weights lose
    more); with ``scope="layer"`` each layer loses the same fraction of its own weights.
    Exactly :math:`\operatorname{round}(f M)` weights are removed (ties broken by position).
    Weights already at zero rank lowest, so pruning again with a larger fraction extends the
    previous masks.

    Parameters
    ----------
    model : torch.nn.Module
    fraction : float
        Share of the prunable weights to remove, in [0, 1].
    scope : {"global", "layer"}

    Returns
    -------
    dict of str to torch.Tensor of bool
        For each pruned parameter's name, a mask of its shape, ``True`` where the weight is kept.

    Raises
    ------
    TypeError
        If ``model`` is not an ``nn.Module`` or ``fraction`` not a number.
    ValueError
        If ``fraction`` is outside [0, 1], ``scope`` is unknown, or the model has no weights.

    Examples
    --------
    >>> lin = nn.Linear(4, 2, bias=False)
    >>> with torch.no_grad():
    ...     lin.weight.copy_(torch.tensor([[1.0, -5.0, 2.0, 0.1], [3.0, -0.2, 4.0, 6.0]]))
    Parameter containing:
    tensor([[ 1.0000, -5.0000,  2.0000,  0.1000],
            [ 3.0000, -0.2000,  4.0000,  6.0000]], requires_grad=True)
    >>> masks = magnitude_prune(lin, 0.5)
    >>> masks["weight"].int().tolist()
    [[0, 1, 0, 0], [1, 0, 1, 1]]
    """
    params = _prunable(model)
    fraction = check.real(fraction, "fraction", low=0, high=1)
    check.choice(scope, "scope", ("global", "layer"))

    def keep_mask(scores: torch.Tensor) -> torch.Tensor:
        k = int(round(fraction * scores.numel()))
        keep = torch.ones_like(scores, dtype=torch.bool)
        if k > 0:
            keep[torch.topk(scores, k, largest=False, sorted=False).indices] = False
        return keep

    masks: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        if scope == "layer":
            for name, p in params.items():
                masks[name] = keep_mask(p.detach().abs().flatten()).reshape(p.shape)
        else:
            device = next(iter(params.values())).device
            scores = torch.cat([p.detach().abs().flatten().to(device=device, dtype=torch.float64) for p in params.values()])
            keep = keep_mask(scores)
            start = 0
            for name, p in params.items():
                masks[name] = keep[start:start + p.numel()].reshape(p.shape).to(p.device)
                start += p.numel()
        for name, p in params.items():
            p.mul_(masks[name].to(p.dtype))
    return masks


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> list[torch.utils.hooks.RemovableHandle]:
    r"""Zero the masked weights and keep them at zero during training.

    .. math:: \theta \leftarrow m\odot\theta,\qquad \nabla_\theta L \leftarrow m \odot \nabla_\theta L

    A gradient hook multiplies each masked parameter's gradient by its mask, so a pruned
    weight gets a zero gradient; with SGD (with or without momentum and weight decay) and
    Adam, whose updates of a zero weight with a zero gradient are zero, pruned weights stay
    exactly 0.

    Parameters
    ----------
    model : torch.nn.Module
    masks : dict of str to torch.Tensor of bool
        As returned by :func:`magnitude_prune`.

    Returns
    -------
    list of RemovableHandle
        Call ``h.remove()`` on each to stop masking the gradients.

    Raises
    ------
    ValueError
        If a mask names no parameter of ``model`` or has the wrong shape.

    Examples
    --------
    >>> lin = nn.Linear(3, 1, bias=False)
    >>> handles = apply_masks(lin, {"weight": torch.tensor([[True, False, True]])})
    >>> lin(torch.ones(1, 3)).sum().backward()
    >>> lin.weight.grad
    tensor([[1., 0., 1.]])
    """
    check.any_of(model, "model", (nn.Module,), "a torch.nn.Module")
    params = dict(model.named_parameters())
    handles = []
    for name, mask in masks.items():
        if name not in params:
            raise ValueError(f"masks names {name!r}, which is not a parameter of model")
        p = params[name]
        if tuple(mask.shape) != tuple(p.shape):
            raise ValueError(f"masks[{name!r}] has shape {tuple(mask.shape)}, the parameter {tuple(p.shape)}")
        m = mask.to(device=p.device, dtype=p.dtype)
        with torch.no_grad():
            p.mul_(m)
        handles.append(p.register_hook(lambda g, m=m: g * m))
    return handles


def sparsity(model: nn.Module) -> float:
    r"""Share of exactly-zero entries among the weights (parameters with 2+ dimensions).

    .. math:: s = \frac{\#\{i : \theta_i = 0\}}{M}

    Examples
    --------
    >>> lin = nn.Linear(2, 2)
    >>> _ = magnitude_prune(lin, 0.25)
    >>> sparsity(lin)
    0.25
    """
    params = _prunable(model)
    zeros = sum(int((p == 0).sum()) for p in params.values())
    return zeros / sum(p.numel() for p in params.values())


@dataclass
class LotteryTicketResult:
    r"""What :func:`lottery_ticket` returns.

    Attributes
    ----------
    masks : dict of str to torch.Tensor
        The final masks (``True`` = kept).
    initial_state : dict of str to torch.Tensor
        The model's state before any training, :math:`\theta_0`.
    dense_result : Any
        What ``train`` returned for the unpruned network.
    round_results : list
        What ``train`` returned in each pruning round (the first is ``dense_result``).
    ticket_result : Any
        What ``train`` returned for the final pruned, rewound network.
    sparsities : list of float
        The weight sparsity after each pruning round.
    rewind_state : dict of str to torch.Tensor
        The state the surviving weights were rewound to: :math:`\theta_0`, or
        :math:`\theta_k` with ``rewind_to=k``.
    """

    masks: dict[str, torch.Tensor]
    initial_state: dict[str, torch.Tensor]
    dense_result: Any
    round_results: list[Any] = field(default_factory=list)
    ticket_result: Any = None
    sparsities: list[float] = field(default_factory=list)
    rewind_state: dict[str, torch.Tensor] = field(default_factory=dict)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def lottery_ticket(
    model: nn.Module,
    train: Callable[..., Any],
    fraction: float,
    rounds: int = 1,
    scope: str = "global",
    rewind_to: Optional[int] = None,
) -> LotteryTicketResult:
    r"""Find a winning ticket by iterative magnitude pruning with rewinding (Frankle & Carbin, 2019).

    1. Save the initial weights :math:`\theta_0`.
    2. Train; prune the smallest weights; rewind the survivors to :math:`\theta_0` (or, with
       ``rewind_to=k``, to :math:`\theta_k`, their values after iteration :math:`k` of the
       dense training; Frankle et al., 2020).
    3. Repeat for ``rounds`` rounds, removing :math:`1 - (1-f)^{1/R}` of the remaining
       weights each round, so that the final sparsity is :math:`f`.
    4. Train the final subnetwork :math:`f(x; m \odot \theta_0)` (or
       :math:`f(x; m \odot \theta_k)`).

    .. math:: s_r = 1 - (1 - f)^{r/R},\qquad r = 1, \dots, R

    Parameters
    ----------
    model : torch.nn.Module
        Untrained; its current weights are :math:`\theta_0`. Left holding the trained ticket.
    train : callable
        Trains the model in place (building its own optimizer, since the set of parameters is
        the same but their values are rewound) and returns anything, e.g. a
        :class:`companion.train.History`. With ``rewind_to=None`` it is called as
        ``train(model)``. With ``rewind_to=k`` it is called as
        ``train(model, start=s, checkpoint=c)``: ``s`` is the iteration the model's weights
        belong to (0 for the dense network, ``k`` for every rewound one, so that ``train``
        can run the remaining iterations and continue a learning-rate schedule), and
        ``train`` must call ``c(i)`` after finishing iteration ``i`` (``i = s + 1, s + 2,
        ...``). An iteration is whatever ``train`` counts (a step or an epoch); the state
        after iteration ``k`` of the dense run is :math:`\theta_k`.
    fraction : float
        Final share of weights removed, in [0, 1).
    rounds : int
        Number of prune-rewind rounds, ``>= 1``.
    scope : {"global", "layer"}
        As in :func:`magnitude_prune`.
    rewind_to : int, optional
        Rewind to the weights after this iteration instead of the initial ones; ``>= 0``
        (0 rewinds to :math:`\theta_0`, like ``None``, but with the calling convention above).

    Returns
    -------
    LotteryTicketResult

    Raises
    ------
    TypeError
        If ``train`` is not callable, ``rewind_to`` is not an int, or ``train`` passes a
        non-integer to ``checkpoint``.
    ValueError
        If ``fraction`` is outside [0, 1), ``rounds < 1``, ``rewind_to < 0``, ``train``
        reports an iteration ``<= start`` to ``checkpoint``, or the dense run never reports
        iteration ``rewind_to``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    >>> def train(m):
    ...     opt = torch.optim.SGD(m.parameters(), lr=0.1)
    ...     for _ in range(20):
    ...         opt.zero_grad(); loss = nn.functional.cross_entropy(m(X), y); loss.backward(); opt.step()
    ...     return loss.item()
    >>> result = lottery_ticket(model, train, fraction=0.5, rounds=2)
    >>> [round(s, 2) for s in result.sparsities], round(sparsity(model), 2)
    ([0.29, 0.5], 0.5)

    Rewinding to step 5 of 20: the ticket starts from the dense run's weights after 5 steps
    and trains for the remaining 15.

    >>> def train_from(m, start, checkpoint):
    ...     opt = torch.optim.SGD(m.parameters(), lr=0.1)
    ...     for step in range(start + 1, 21):
    ...         opt.zero_grad(); loss = nn.functional.cross_entropy(m(X), y); loss.backward(); opt.step()
    ...         checkpoint(step)
    ...     return step - start
    >>> result = lottery_ticket(model, train_from, fraction=0.5, rewind_to=5)
    >>> result.dense_result, result.ticket_result
    (20, 15)
    """
    _prunable(model)
    if not callable(train):
        raise TypeError(f"train must be callable, got {type(train).__name__}")
    fraction = check.real(fraction, "fraction", low=0, high=1, high_open=True)
    check.integer(rounds, "rounds", low=1)
    if rewind_to is not None:
        rewind_to = check.integer(rewind_to, "rewind_to", low=0)
    initial_state = _snapshot(model)
    rewind_state: Optional[dict[str, torch.Tensor]] = initial_state if not rewind_to else None

    def run(start: int, record: bool) -> Any:
        if rewind_to is None:
            return train(model)
        last = start

        def checkpoint(iteration: int) -> None:
            nonlocal last, rewind_state
            iteration = check.integer(iteration, "the iteration passed to checkpoint")
            if iteration <= start:
                raise ValueError(
                    f"the iteration passed to checkpoint must be > start = {start} "
                    f"(the iteration finished, counted from start), got {iteration}"
                )
            last = iteration
            if record and iteration == rewind_to and rewind_state is None:
                rewind_state = _snapshot(model)

        out = train(model, start=start, checkpoint=checkpoint)
        if record and rewind_state is None:
            reported = f"up to iteration {last}" if last > start else "no iteration"
            raise ValueError(
                f"rewind_to={rewind_to}, but train reported {reported} to checkpoint: "
                f"it must call checkpoint(i) after each iteration i, including {rewind_to}"
            )
        return out

    masks: Optional[dict[str, torch.Tensor]] = None
    results: list[Any] = []
    sparsities: list[float] = []
    for r in range(1, rounds + 1):
        handles = apply_masks(model, masks) if masks is not None else []
        try:
            results.append(run(start=0 if r == 1 else rewind_to or 0, record=r == 1))
        finally:
            for h in handles:
                h.remove()
        target = 1.0 - (1.0 - fraction) ** (r / rounds)
        masks = magnitude_prune(model, target, scope=scope)
        sparsities.append(1.0 - sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values()))
        assert rewind_state is not None
        model.load_state_dict(rewind_state)  # rewind to theta_0 or theta_k
    assert masks is not None and rewind_state is not None
    handles = apply_masks(model, masks)
    try:
        ticket_result = run(start=rewind_to or 0, record=False)
    finally:
        for h in handles:
            h.remove()
    return LotteryTicketResult(
        masks=masks,
        initial_state=initial_state,
        dense_result=results[0],
        round_results=results,
        ticket_result=ticket_result,
        sparsities=sparsities,
        rewind_state=rewind_state,
    )
