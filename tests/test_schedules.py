"""Tests of companion.schedules: closed forms, agreement with torch's schedulers, laws, raises."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, StepLR

from companion import schedules as cs
from companion.optim import SGD


def lrs_of(make_scheduler, steps: int, base_lr: float = 0.4) -> list[float]:
    """The learning rate at steps 0..steps-1 of a scheduler driving companion.optim.SGD."""
    w = torch.zeros(1, requires_grad=True)
    opt = SGD([w], lr=base_lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        w.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return out


def test_lambda_lr_applies_each_schedule():
    for schedule in (cs.constant(0.5), cs.step_decay(3, 0.5), cs.cosine(10, 0.1), cs.linear_warmup(4, cs.cosine(12))):
        got = lrs_of(lambda opt: LambdaLR(opt, schedule), 15)
        assert got == pytest.approx([0.4 * schedule(t) for t in range(15)], rel=1e-15, abs=0)


@given(step_size=st.integers(1, 10), gamma=st.floats(0.05, 1.0))
def test_step_decay_equals_steplr(step_size, gamma):
    ours = lrs_of(lambda opt: LambdaLR(opt, cs.step_decay(step_size, gamma)), 40)
    torch_ = lrs_of(lambda opt: StepLR(opt, step_size, gamma), 40)
    assert ours == pytest.approx(torch_, rel=1e-12, abs=1e-300)


@given(total=st.integers(1, 40), min_factor=st.floats(0.0, 1.0))
def test_cosine_equals_cosine_annealing_lr_up_to_total_steps(total, min_factor):
    ours = lrs_of(lambda opt: LambdaLR(opt, cs.cosine(total, min_factor)), total + 1)
    torch_ = lrs_of(lambda opt: CosineAnnealingLR(opt, T_max=total, eta_min=0.4 * min_factor), total + 1)
    assert ours == pytest.approx(torch_, rel=1e-9, abs=1e-12)


@given(warmup=st.integers(1, 20), start=st.floats(0.0, 1.0))
def test_linear_warmup_equals_linearlr(warmup, start):
    ours = lrs_of(lambda opt: LambdaLR(opt, cs.linear_warmup(warmup, start_factor=start)), warmup + 5)
    torch_ = lrs_of(lambda opt: LinearLR(opt, start_factor=max(start, 1e-300), end_factor=1.0, total_iters=warmup), warmup + 5)
    assert ours == pytest.approx(torch_, rel=1e-9, abs=1e-12)


@given(total=st.integers(1, 50), min_factor=st.floats(0.0, 1.0))
def test_cosine_is_monotone_between_min_and_one(total, min_factor):
    c = cs.cosine(total, min_factor)
    values = [c(t) for t in range(total + 10)]
    assert values[0] == 1.0
    assert values[total] == pytest.approx(min_factor, abs=1e-15)
    assert all(a >= b - 1e-15 for a, b in zip(values, values[1:]))
    assert all(min_factor - 1e-15 <= v <= 1.0 for v in values)
    if total % 2 == 0:
        assert c(total // 2) == pytest.approx((1 + min_factor) / 2)


@given(step_size=st.integers(1, 10), gamma=st.floats(0.01, 1.0), t=st.integers(0, 200))
def test_step_decay_law(step_size, gamma, t):
    s = cs.step_decay(step_size, gamma)
    assert s(t) == pytest.approx(gamma ** (t // step_size))
    assert s(t + step_size) == pytest.approx(gamma * s(t))


@given(warmup=st.integers(1, 30), start=st.floats(0.0, 1.0), offset=st.booleans())
def test_warmup_ramps_up_then_hands_over_to_the_base(warmup, start, offset):
    base = cs.step_decay(7, 0.5)
    w = cs.linear_warmup(warmup, base=base, start_factor=start, offset_base=offset)
    ramp = [w(t) for t in range(warmup + 1)]
    assert ramp[0] == pytest.approx(start * base(0))
    assert all(a <= b + 1e-15 for a, b in zip(ramp, ramp[1:])) or not offset
    for t in range(warmup, warmup + 30):
        assert w(t) == (base(t - warmup) if offset else base(t))


def test_warmup_of_goyal_et_al():
    """From eta (batch 256) to k*eta over 5 epochs, then x0.1 at epochs 30, 60, 80 (as in the paper)."""
    k = 32
    lr = cs.linear_scaling(0.1, 256, 256 * k)
    assert lr == pytest.approx(3.2)

    def milestones(t: int) -> float:
        return 0.1 ** sum(t >= m for m in (30, 60, 80))

    schedule = cs.linear_warmup(5, base=milestones, start_factor=1 / k)
    assert lr * schedule(0) == pytest.approx(0.1)  # starts at the small-batch rate
    assert lr * schedule(5) == pytest.approx(3.2)
    assert lr * schedule(30) == pytest.approx(0.32)
    assert lr * schedule(85) == pytest.approx(0.0032)


@given(base_lr=st.floats(1e-5, 10.0), b0=st.integers(1, 1024), k=st.integers(1, 64))
def test_linear_scaling_is_proportional(base_lr, b0, k):
    assert cs.linear_scaling(base_lr, b0, b0) == pytest.approx(base_lr)
    assert cs.linear_scaling(base_lr, b0, k * b0) == pytest.approx(k * base_lr)
    assert cs.linear_scaling(base_lr, k * b0, b0) == pytest.approx(base_lr / k)


def test_known_values():
    assert [cs.cosine(4)(t) for t in range(5)] == pytest.approx([1.0, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 0.0])
    assert [cs.linear_warmup(4)(t) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert cs.linear_warmup(0, base=cs.constant(0.3))(0) == 0.3
    assert cs.constant()(10**9) == 1.0


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: cs.constant(0.0), ValueError, "factor"),
        (lambda: cs.constant(-1.0), ValueError, "factor"),
        (lambda: cs.constant("1"), TypeError, "factor"),
        (lambda: cs.step_decay(0), ValueError, "step_size"),
        (lambda: cs.step_decay(2.5), TypeError, "step_size"),
        (lambda: cs.step_decay(3, gamma=0.0), ValueError, "gamma"),
        (lambda: cs.step_decay(3, gamma=1.5), ValueError, "gamma"),
        (lambda: cs.cosine(0), ValueError, "total_steps"),
        (lambda: cs.cosine(10, min_factor=-0.1), ValueError, "min_factor"),
        (lambda: cs.cosine(10, min_factor=1.1), ValueError, "min_factor"),
        (lambda: cs.linear_warmup(-1), ValueError, "warmup_steps"),
        (lambda: cs.linear_warmup(5, start_factor=2.0), ValueError, "start_factor"),
        (lambda: cs.linear_warmup(5, base=3.0), TypeError, "base"),
        (lambda: cs.linear_scaling(0.0, 256, 512), ValueError, "base_lr"),
        (lambda: cs.linear_scaling(-0.1, 256, 512), ValueError, "base_lr"),
        (lambda: cs.linear_scaling(0.1, 0, 512), ValueError, "base_batch"),
        (lambda: cs.linear_scaling(0.1, 256, 0), ValueError, "batch"),
        (lambda: cs.linear_scaling(0.1, 256, 51.2), TypeError, "batch"),
        (lambda: cs.cosine(10)(-1), ValueError, "step"),
        (lambda: cs.step_decay(3)(-1), ValueError, "step"),
        (lambda: cs.linear_warmup(3)(-2), ValueError, "step"),
        (lambda: cs.constant()(-1), ValueError, "step"),
        (lambda: cs.cosine(10)(1.5), TypeError, "step"),
    ],
)
def test_raises(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
