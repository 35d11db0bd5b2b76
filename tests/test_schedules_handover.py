"""companion.schedules at its hand-over points: the exact step where a schedule changes regime.

Off-by-one errors in a schedule (``<`` for ``<=``, ``t`` for ``t - W``) change one value at one
step, which a smooth law checked at random steps can miss. These tests evaluate each schedule
at the steps on both sides of every boundary and compare with the value written out by hand.
"""

from __future__ import annotations

import math

import pytest

from companion import schedules as cs


def test_warmup_hand_over_without_offset() -> None:
    base = lambda t: 10.0 + t  # noqa: E731  (a base that tells which step it was asked for)
    w = cs.linear_warmup(4, base=base, start_factor=0.2)
    assert [w(t) for t in range(7)] == pytest.approx(
        [0.2 * 10, (0.2 + 0.8 * 1 / 4) * 11, (0.2 + 0.8 * 2 / 4) * 12, (0.2 + 0.8 * 3 / 4) * 13, 14.0, 15.0, 16.0], rel=1e-15
    )
    assert isinstance(w(4), float) and isinstance(w(0), float)


def test_warmup_hand_over_with_offset() -> None:
    base = lambda t: 10.0 + t  # noqa: E731
    w = cs.linear_warmup(4, base=base, start_factor=0.2, offset_base=True)
    assert [w(t) for t in range(7)] == pytest.approx([0.2 * 10, 0.4 * 10, 0.6 * 10, 0.8 * 10, 10.0, 11.0, 12.0], rel=1e-15)


def test_warmup_edges() -> None:
    assert [cs.linear_warmup(1)(t) for t in range(3)] == [0.0, 1.0, 1.0]
    assert [cs.linear_warmup(0, base=lambda t: 2.0 * t)(t) for t in range(3)] == [0.0, 2.0, 4.0]
    assert [cs.linear_warmup(3, start_factor=1.0)(t) for t in range(5)] == [1.0] * 5
    assert cs.linear_warmup(2, base=None)(1) == 0.5  # default base is the constant 1
    assert cs.linear_warmup(2, start_factor=0)(0) == 0.0  # int start factor accepted


def test_warmup_into_cosine_over_the_remaining_steps() -> None:
    """The recipe of the chapter: W warmup steps, then a cosine over the other T steps."""
    W, T = 3, 4
    w = cs.linear_warmup(W, base=cs.cosine(T), offset_base=True)
    values = [w(t) for t in range(W + T + 2)]
    assert values[:W] == pytest.approx([0.0, 1 / 3, 2 / 3], rel=1e-15)
    assert values[W] == 1.0  # the cosine starts at its top when warmup ends
    assert values[W + 2] == pytest.approx(0.5, rel=1e-15)
    assert values[W + T] == pytest.approx(0.0, abs=1e-16) and values[W + T + 1] == values[W + T]


def test_cosine_end_and_after() -> None:
    c = cs.cosine(10, min_factor=0.2)
    assert c(0) == 1.0
    assert c(9) == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi * 9 / 10)) / 2, rel=1e-15) and c(9) > 0.2
    assert c(10) == pytest.approx(0.2, rel=1e-15)
    assert c(11) == c(10) == c(10**6)
    assert c(5) == pytest.approx(0.6, rel=1e-15)
    one = cs.cosine(1)
    assert [one(t) for t in range(3)] == pytest.approx([1.0, 0.0, 0.0], abs=1e-16)
    assert [cs.cosine(2, min_factor=1.0)(t) for t in range(3)] == [1.0, 1.0, 1.0]
    assert cs.cosine(4, min_factor=0)(4) == pytest.approx(0.0, abs=1e-16)


def test_step_decay_boundaries() -> None:
    s = cs.step_decay(3, gamma=0.5)
    assert [s(t) for t in range(10)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    assert [cs.step_decay(1, gamma=0.5)(t) for t in range(3)] == [1.0, 0.5, 0.25]
    assert cs.step_decay(2, gamma=1.0)(100) == 1.0
    assert cs.step_decay(10)(10) == pytest.approx(0.1)  # default gamma 0.1
    assert cs.step_decay(2, gamma=1)(5) == 1.0  # int gamma accepted


def test_constant_and_scaling_edges() -> None:
    assert cs.constant(2.5)(0) == 2.5 and cs.constant(3)(7) == 3.0 and isinstance(cs.constant(3)(0), float)
    assert cs.constant(1e-300)(0) == 1e-300
    assert cs.linear_scaling(0.1, 256, 256) == 0.1
    assert cs.linear_scaling(0.3, 3, 1) == pytest.approx(0.1)
    assert cs.linear_scaling(1, 2, 6) == 3.0 and isinstance(cs.linear_scaling(1, 2, 6), float)


@pytest.mark.parametrize(
    "make, exc, message",
    [
        (lambda: cs.constant(0.0), ValueError, "factor must be > 0, got 0.0"),
        (lambda: cs.constant(-2), ValueError, "factor must be >= 0, got -2.0"),
        (lambda: cs.constant(True), TypeError, "factor must be a real number, got bool"),
        (lambda: cs.step_decay(True), TypeError, "step_size must be an int, got bool"),
        (lambda: cs.step_decay(0), ValueError, "step_size must be >= 1, got 0"),
        (lambda: cs.step_decay(2, gamma=0.0), ValueError, "gamma must be in (0, 1], got 0.0"),
        (lambda: cs.step_decay(2, gamma=1.0000001), ValueError, "gamma must be in [0, 1], got 1.0000001"),
        (lambda: cs.step_decay(2, gamma=None), TypeError, "gamma must be a real number, got NoneType"),
        (lambda: cs.cosine(0), ValueError, "total_steps must be >= 1, got 0"),
        (lambda: cs.cosine(5, min_factor=1.5), ValueError, "min_factor must be in [0, 1], got 1.5"),
        (lambda: cs.linear_warmup(-1), ValueError, "warmup_steps must be >= 0, got -1"),
        (lambda: cs.linear_warmup(2, start_factor=-0.1), ValueError, "start_factor must be in [0, 1], got -0.1"),
        (lambda: cs.linear_warmup(2, base="cosine"), TypeError, "base must be a schedule (callable t -> factor) or None, got str"),
        (lambda: cs.linear_scaling(0.0, 1, 1), ValueError, "base_lr must be > 0, got 0.0"),
        (lambda: cs.linear_scaling(-1, 1, 1), ValueError, "base_lr must be >= 0, got -1.0"),
        (lambda: cs.linear_scaling("0.1", 1, 1), TypeError, "base_lr must be a real number, got str"),
        (lambda: cs.linear_scaling(0.1, 0, 1), ValueError, "base_batch must be >= 1, got 0"),
        (lambda: cs.linear_scaling(0.1, 1, 0), ValueError, "batch must be >= 1, got 0"),
        (lambda: cs.constant()(-1), ValueError, "constant step must be >= 0, got -1"),
        (lambda: cs.constant()(True), TypeError, "constant step must be an int, got bool"),
        (lambda: cs.step_decay(2)(-1), ValueError, "step_decay step must be >= 0, got -1"),
        (lambda: cs.cosine(2)(0.5), TypeError, "cosine step must be an int, got float"),
        (lambda: cs.linear_warmup(2)(-1), ValueError, "linear_warmup step must be >= 0, got -1"),
    ],
)
def test_messages(make, exc, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        make()
    assert str(info.value) == message


def test_boundary_values_are_accepted() -> None:
    assert cs.step_decay(1, gamma=1.0)(3) == 1.0
    assert cs.cosine(3, min_factor=0.0)(0) == 1.0 and cs.cosine(3, min_factor=1.0)(1) == 1.0
    assert cs.linear_warmup(0, start_factor=1.0)(0) == 1.0
    assert cs.linear_scaling(1e-300, 1, 1) == 1e-300
    assert cs.constant()(0) == 1.0
