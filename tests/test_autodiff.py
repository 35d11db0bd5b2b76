"""Tests of companion.autodiff: Value, Dual and Variable against torch.autograd in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.activations import ACTIVATIONS
from companion.autodiff import (
    Dual,
    Value,
    Variable,
    forward_mode_gradient,
    reverse_mode_gradient,
    topological_order,
    trace,
)
from strategies import tensors

fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)
SMALL = st.floats(-3.0, 3.0, allow_nan=False, width=64)

# Expressions written once; they run on Value, Dual and torch tensors alike (all three
# support + - * / ** with numbers on either side and .exp/.log/.tanh/.relu/.sigmoid).
EXPRESSIONS = {
    "reuse": lambda x, y, z: x * y + x,
    "tanh_sigmoid": lambda x, y, z: (x * y - z).tanh() * x + (y / (1 + z * z)).sigmoid(),
    "log_relu_exp": lambda x, y, z: (x * x + 1).log() * (y.relu() + 2) - (z / 3).exp(),
    "powers": lambda x, y, z: (x - y) ** 2 + 3 * z**3 - 2 / (1 + x * x) + (x * x + 0.5) ** 0.5,
    "rsub_rdiv": lambda x, y, z: 1 - x / (2 + y.sigmoid()) + 5 * (4 - z) * x,
    "diamond": lambda x, y, z: (lambda h: h * h + h.tanh() * h)(x * y + z),
}
VALUE_POW = lambda x, y, z: (x * x + 1) ** y.sigmoid() + 2 ** (z / 4)  # noqa: E731  Value ** Value


def _torch_reference(f, xs):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


@pytest.mark.parametrize("name", sorted(EXPRESSIONS) + ["value_pow"])
@given(xs=st.tuples(SMALL, SMALL, SMALL))
def test_value_matches_torch_autograd(name: str, xs) -> None:
    f = VALUE_POW if name == "value_pow" else EXPRESSIONS[name]
    ref, ref_grad = _torch_reference(f, xs)
    value, grad, passes = reverse_mode_gradient(f, xs)
    assert passes == 1
    assert value == pytest.approx(ref, rel=1e-12, abs=1e-12)
    assert grad == pytest.approx(ref_grad, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@given(xs=st.tuples(SMALL, SMALL, SMALL))
def test_forward_mode_equals_reverse_mode(name: str, xs) -> None:
    f = EXPRESSIONS[name]
    v_fwd, g_fwd, passes = forward_mode_gradient(f, xs)
    v_rev, g_rev, _ = reverse_mode_gradient(f, xs)
    assert passes == 3
    assert v_fwd == pytest.approx(v_rev, rel=1e-14, abs=1e-14)
    assert g_fwd == pytest.approx(g_rev, rel=1e-10, abs=1e-12)


def test_known_answers() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a
    c.backward()
    assert (c.data, a.grad, b.grad) == (-4.0, -2.0, 2.0)
    x = Value(0.0)
    s = x.sigmoid()
    s.backward()
    assert s.data == 0.5 and x.grad == 0.25
    r = Value(0.0)
    r.relu().backward()
    assert r.grad == 0.0  # torch's convention at the kink
    big = Value(-800.0)
    big.sigmoid().backward()
    assert big.grad == 0.0 and math.isfinite(big.grad)
    assert Value(1000.0).exp().data == math.inf
    assert Dual(2.0, 1.0).__pow__(3).tangent == 12.0
    assert (Value(4.0) ** 0.5).data == 2.0
    z = Value(0.0) ** 1
    z.backward()
    assert z._parents[0].grad == 1.0


@pytest.mark.parametrize("b", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_powers_at_zero_have_torchs_gradients(b: float) -> None:
    """d(x**0)/dx at x = 0 and d(0**b)/db for b >= 0 are 0 in torch; NaN would poison a sum."""
    x, e = Value(0.0), Value(b)
    (x**e).backward()
    tx = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    (tx**te).backward()
    assert (x.grad, e.grad) == (tx.grad.item(), te.grad.item())
    base = Value(b)
    (0 ** base).backward()
    assert base.grad == 0.0
    X = Variable(torch.tensor([0.0, 2.0, -1.5], dtype=torch.float64))
    y = X**0
    y.sum().backward()
    T = X.data.clone().requires_grad_()
    (T**0).sum().backward()
    assert torch.equal(y.data, T**0) and torch.equal(X.grad, T.grad)
    X0 = Variable(torch.zeros(2, dtype=torch.float64))
    (X0**b).sum().backward()
    T0 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (T0**b).sum().backward()
    assert torch.equal(X0.grad, T0.grad)


def test_node_used_twice_gets_both_contributions() -> None:
    x = Value(3.0)
    y = x * x  # parents (x, x)
    y.backward()
    assert x.grad == 6.0
    # diamond: h feeds two branches that meet again
    x = Value(1.5)
    h = x * 2
    out = h.tanh() + h * h
    out.backward()
    expected = 2 * (1 - math.tanh(3.0) ** 2) + 2 * 2 * 3.0
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_backward_twice_is_not_corrupted() -> None:
    # micrograd's bug: intermediate grads are not reset, so a second backward returns
    # x.grad = 6 + 2 * (3 + 3) = 18 instead of 6 (overwrite) or 12 (accumulate).
    x = Value(1.0)
    y = x * 2
    z = y * 3
    z.backward()
    assert (x.grad, y.grad, z.grad) == (6.0, 3.0, 1.0)
    z.backward()
    assert (x.grad, y.grad, z.grad) == (6.0, 3.0, 1.0)
    z.backward(accumulate=True)
    assert x.grad == 12.0 and y.grad == 3.0  # leaves accumulate, intermediates are fresh
    # torch does the same with retain_graph
    xt = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    zt = xt * 2 * 3
    zt.backward(retain_graph=True)
    zt.backward()
    assert xt.grad.item() == x.grad
    z.zero_grad()
    assert x.grad == y.grad == z.grad == 0.0


@given(xs=st.tuples(SMALL, SMALL, SMALL))
def test_accumulate_matches_torch_over_two_outputs(xs) -> None:
    f, g = EXPRESSIONS["tanh_sigmoid"], EXPRESSIONS["powers"]
    leaves = [Value(x) for x in xs]
    f(*leaves).backward(accumulate=True)
    g(*leaves).backward(accumulate=True)
    tl = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    f(*tl).backward()
    g(*tl).backward()
    assert [v.grad for v in leaves] == pytest.approx([t.grad.item() for t in tl], rel=1e-10, abs=1e-12)


def test_topological_order_and_trace() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    out = (x * y + x).tanh()
    order = topological_order(out)
    pos = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is out and len(order) == 5
    for n in order:
        for p in n._parents:
            assert pos[id(p)] < pos[id(n)]
    nodes, edges = trace(out)
    assert nodes == order and len(edges) == 5
    assert [n.op for n in nodes if n.op] == ["*", "+", "tanh"]
    # a deep chain: no recursion limit
    v = Value(0.5)
    w = v
    for _ in range(5000):
        w = w * 1.0
    w.backward()
    assert v.grad == 1.0


@fixture_ok
@given(n=st.integers(1, 5), k=st.integers(1, 5), p=st.integers(1, 5), d=st.data())
def test_variable_matches_torch_autograd(n: int, k: int, p: int, d, device: torch.device) -> None:
    X = d.draw(tensors((n, k), elements=SMALL)).to(device)
    W = d.draw(tensors((k, p), elements=SMALL)).to(device)
    b = d.draw(tensors((p,), elements=SMALL)).to(device)
    c = d.draw(tensors((n, 1), elements=st.floats(0.5, 2.0, width=64))).to(device)
    target = torch.tensor(d.draw(st.lists(st.integers(0, p - 1), min_size=n, max_size=n)), device=device)

    def program(X, W, b, c, lib):
        h = (X @ W + b) / c  # matmul, broadcast add, broadcast divide
        g = h.tanh() * h.sigmoid() - 0.5 * h.relu() + (h * h + 1).log() - (-h * h).exp()
        s = (g ** 2).sum(dim=0).sum() * 0.1 + g.T.sum(1).mean() + (2 - g).sum(dim=1, keepdim=True).mean()
        if lib == "ours":
            logp = g.log_softmax(dim=1)
        else:
            logp = torch.log_softmax(g, dim=1)
        onehot = F.one_hot(target, p).to(X.dtype if lib == "torch" else X.data.dtype)
        ce = -(logp * onehot).sum() / n
        return s + ce + (1 / c).sum()

    ours = [Variable(t) for t in (X, W, b, c)]
    out = program(*ours, "ours")
    out.backward()
    leaves = [t.clone().requires_grad_(True) for t in (X, W, b, c)]
    ref = program(*leaves, "torch")
    ref.backward()
    torch.testing.assert_close(out.data, ref.detach(), rtol=1e-12, atol=1e-12)
    for v, t in zip(ours, leaves):
        torch.testing.assert_close(v.grad, t.grad, rtol=1e-10, atol=1e-12)
    # calling backward again gives the same gradients
    out.backward()
    for v, t in zip(ours, leaves):
        torch.testing.assert_close(v.grad, t.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_variable_activation_rule(name: str, device: torch.device) -> None:
    x = torch.linspace(-4, 4, 17, dtype=torch.float64, device=device) + 0.01
    v = Variable(x)
    y = v.activation(name)
    y.backward(torch.ones_like(x))
    xt = x.clone().requires_grad_(True)
    ref = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "leaky_relu": F.leaky_relu,
        "elu": F.elu, "selu": F.selu, "swish": F.silu, "mish": F.mish, "gelu": F.gelu,
    }[name](xt)
    ref.sum().backward()
    torch.testing.assert_close(y.data, ref.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(v.grad, xt.grad, rtol=1e-12, atol=1e-14)


def test_variable_with_plain_tensors_on_either_side(device: torch.device) -> None:
    X = torch.randn(3, 4, dtype=torch.float64, device=device)
    W = Variable(torch.randn(4, 2, dtype=torch.float64, device=device))
    out = (X @ W).sum() + (2.0 - W).sum() + (1.0 / (W * W + 1.0)).sum()
    out.backward()
    Wt = W.data.clone().requires_grad_(True)
    ((X @ Wt).sum() + (2.0 - Wt).sum() + (1.0 / (Wt * Wt + 1.0)).sum()).backward()
    torch.testing.assert_close(W.grad, Wt.grad, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="other is on"):
        W + Variable(torch.zeros(4, 2, dtype=torch.float64, device="meta"))


def test_variable_accumulate_and_upstream_grad(device: torch.device) -> None:
    x = Variable(torch.tensor([1.0, 2.0], dtype=torch.float64, device=device))
    y = x * x * 3.0
    y.backward(torch.tensor([1.0, 0.5], dtype=torch.float64, device=device))
    assert x.grad.tolist() == [6.0, 6.0]
    y.backward(torch.tensor([1.0, 0.5], dtype=torch.float64, device=device), accumulate=True)
    assert x.grad.tolist() == [12.0, 12.0]
    y.zero_grad()
    assert x.grad.tolist() == [0.0, 0.0]
    assert x.shape == torch.Size([2]) and "leaf" in repr(x)


def test_errors() -> None:
    with pytest.raises(TypeError, match="data must be a real number"):
        Value("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="other must be a Value or a real number"):
        Value(1.0) + "a"  # type: ignore[operator]
    with pytest.raises(TypeError, match="exponent must be a Value or a real number"):
        Value(1.0) ** "a"  # type: ignore[operator]
    with pytest.raises(ValueError, match="log needs positive data"):
        Value(-1.0).log()
    with pytest.raises(ZeroDivisionError, match="data is 0"):
        Value(1.0) / 0
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** Value(0.5)
    with pytest.raises(TypeError, match="accumulate must be a bool"):
        Value(1.0).backward(accumulate=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="root must be a Value or Variable"):
        topological_order(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="value must be a real number"):
        Dual("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tangent must be a real number"):
        Dual(1.0, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="other must be a Dual or a real number"):
        Dual(1.0) * "a"  # type: ignore[operator]
    with pytest.raises(TypeError, match="exponent must be a real number"):
        Dual(1.0) ** Dual(1.0)  # type: ignore[operator]
    with pytest.raises(ValueError, match="log needs a positive value"):
        Dual(0.0).log()
    with pytest.raises(ZeroDivisionError, match="value is 0"):
        Dual(1.0) / Dual(0.0)
    with pytest.raises(ValueError, match="negative base"):
        Dual(-1.0) ** 0.5
    with pytest.raises(TypeError, match="f must return a Dual"):
        forward_mode_gradient(lambda x: 1.0, [1.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="f must return a Value"):
        reverse_mode_gradient(lambda x: 1.0, [1.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="xs must hold real numbers"):
        reverse_mode_gradient(lambda x: x, ["a"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="xs must hold real numbers"):
        forward_mode_gradient(lambda x: x, [None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="data must be a torch.Tensor"):
        Variable([1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be a floating-point tensor"):
        Variable(torch.tensor([1]))
    with pytest.raises(TypeError, match="label must be a str"):
        Variable(torch.zeros(1), label=None)  # type: ignore[arg-type]
    v = Variable(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"dim=5 is out of range for the Variable with 2 dimension\(s\)"):
        v.sum(dim=5)
    with pytest.raises(TypeError, match="dim must be an int"):
        v.sum(dim=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keepdim must be a bool"):
        v.sum(dim=1, keepdim="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="other must be a Variable, a tensor or a real number"):
        v + "a"  # type: ignore[operator]
    with pytest.raises(ValueError, match="other has shape"):
        v * Variable(torch.zeros(4))
    with pytest.raises(ValueError, match="other has 2 rows, but self has 3 columns"):
        v @ Variable(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="other must be 2-D"):
        v @ Variable(torch.zeros(3))
    with pytest.raises(ValueError, match="matmul needs a 2-D self"):
        Variable(torch.zeros(3)) @ v
    with pytest.raises(ValueError, match="T needs a 2-D Variable"):
        Variable(torch.zeros(3)).T
    with pytest.raises(TypeError, match="exponent must be a real number"):
        v ** v  # type: ignore[operator]
    with pytest.raises(ValueError, match="grad must be given for a non-scalar output"):
        v.backward()
    with pytest.raises(ValueError, match="grad must have shape"):
        v.backward(torch.zeros(3))
    with pytest.raises(TypeError, match="grad must be a torch.Tensor"):
        v.backward([0.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="accumulate must be a bool"):
        v.sum().backward(accumulate="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name must be one of"):
        v.activation("prelu")
