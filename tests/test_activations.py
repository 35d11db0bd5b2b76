"""Tests of companion.activations: values and derivatives against torch in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import activations as A
from strategies import shapes, tensors

# name -> (ours, ours_grad, torch reference, keyword arguments)
CASES = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad, torch.sigmoid, {}),
    "tanh": (A.tanh, A.tanh_grad, torch.tanh, {}),
    "relu": (A.relu, A.relu_grad, torch.relu, {}),
    "leaky_relu": (A.leaky_relu, A.leaky_relu_grad, lambda x: F.leaky_relu(x, 0.01), {}),
    "leaky_relu_0.2": (
        lambda x: A.leaky_relu(x, negative_slope=0.2),
        lambda x: A.leaky_relu_grad(x, negative_slope=0.2),
        lambda x: F.leaky_relu(x, 0.2),
        {},
    ),
    "elu": (A.elu, A.elu_grad, F.elu, {}),
    "elu_0.5": (
        lambda x: A.elu(x, alpha=0.5),
        lambda x: A.elu_grad(x, alpha=0.5),
        lambda x: F.elu(x, alpha=0.5),
        {},
    ),
    "selu": (A.selu, A.selu_grad, F.selu, {}),
    "swish": (A.swish, A.swish_grad, F.silu, {}),
    "swish_beta2": (
        lambda x: A.swish(x, beta=2.0),
        lambda x: A.swish_grad(x, beta=2.0),
        lambda x: x * torch.sigmoid(2.0 * x),
        {},
    ),
    "mish": (A.mish, A.mish_grad, F.mish, {}),
    "gelu": (A.gelu, A.gelu_grad, F.gelu, {}),
    "gelu_tanh": (
        lambda x: A.gelu(x, approximate="tanh"),
        lambda x: A.gelu_grad(x, approximate="tanh"),
        lambda x: F.gelu(x, approximate="tanh"),
        {},
    ),
}
NAMES = sorted(CASES)
SMOOTH = ["sigmoid", "tanh", "selu", "swish", "swish_beta2", "mish", "elu", "gelu", "gelu_tanh"]

# The device fixture is function-scoped but stateless, so sharing it across examples is safe.
fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)

# wide inputs: exercise overflow in exp for |x| up to 1e4 (exp(710) is already inf)
WIDE = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False, width=64)


def _torch_value_and_grad(ref, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    xr = x.clone().requires_grad_(True)
    y = ref(xr)
    (g,) = torch.autograd.grad(y.sum(), xr)
    return y.detach(), g


@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(x=tensors(shapes(max_dims=2, max_side=8)))
def test_matches_torch_float64(name: str, x: torch.Tensor, device: torch.device) -> None:
    fn, grad, ref, _ = CASES[name]
    x = x.to(device)
    y_ref, g_ref = _torch_value_and_grad(ref, x)
    y, g = fn(x), grad(x)
    assert y.dtype == torch.float64 and y.device == x.device and y.shape == x.shape
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(x=tensors(shapes(max_dims=1, max_side=10), elements=WIDE))
def test_matches_torch_and_finite_for_large_inputs(name: str, x: torch.Tensor, device: torch.device) -> None:
    fn, grad, ref, _ = CASES[name]
    x = x.to(device)
    y_ref, g_ref = _torch_value_and_grad(ref, x)
    y, g = fn(x), grad(x)
    assert torch.isfinite(y).all() and torch.isfinite(g).all()
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(x=tensors(shapes(max_dims=1, max_side=10), elements=WIDE))
def test_autograd_through_the_formula_matches_torch(name: str, x: torch.Tensor, device: torch.device) -> None:
    """A student may differentiate the forward itself with autograd, not only call the hand ``*_grad``.

    The kinks and the branch points at 0 matter: an input of exactly 0 is common (zero biases,
    zero-padded inputs), and there ``x.abs()``, ``torch.sign`` or ``clamp`` give autograd a
    subgradient that is not the derivative (sigmoid'(0) = 1/4 and tanh'(0) = 1, not 0; PyTorch's
    relu has derivative 0 at 0, not 1).
    """
    fn, grad, ref, _ = CASES[name]
    x = torch.cat([x, torch.tensor([0.0, -0.0, 1e-300, -1e-300, 20.0, -20.0])]).to(device)
    _, g_ref = _torch_value_and_grad(ref, x)
    _, g = _torch_value_and_grad(fn, x)
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad(x), g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_finite_at_extremes(name: str, device: torch.device) -> None:
    fn, grad, _, _ = CASES[name]
    for dtype in (torch.float32, torch.float64):
        big = torch.finfo(dtype).max / 4  # selu scales by 1.05, so leave headroom
        x = torch.tensor([-big, -1e30, -800.0, -100.0, 0.0, 100.0, 800.0, 1e30, big], dtype=dtype, device=device)
        assert torch.isfinite(fn(x)).all(), name
        assert torch.isfinite(grad(x)).all(), name


@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(x=tensors((6,), elements=st.floats(-8.0, 8.0, allow_nan=False, width=64)))
def test_matches_torch_float32(name: str, x: torch.Tensor, device: torch.device) -> None:
    fn, grad, ref, _ = CASES[name]
    x = x.to(device=device, dtype=torch.float32)
    y_ref, g_ref = _torch_value_and_grad(ref, x)
    y, g = fn(x), grad(x)
    assert y.dtype == torch.float32 and g.dtype == torch.float32
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g, g_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SMOOTH)
@fixture_ok
@given(x=tensors((5,), elements=st.floats(-6.0, 6.0, allow_nan=False, width=64)))
def test_derivative_by_central_differences(name: str, x: torch.Tensor, device: torch.device) -> None:
    fn, grad, _, _ = CASES[name]
    x = x.to(device)
    if name in ("elu", "selu"):  # kink at 0: keep away from it
        x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)
    h = 1e-6
    numeric = (fn(x + h) - fn(x - h)) / (2 * h)
    torch.testing.assert_close(grad(x), numeric, rtol=1e-6, atol=1e-8)


def test_known_values() -> None:
    x = torch.tensor([0.0], dtype=torch.float64)
    assert A.sigmoid(x).item() == 0.5
    assert A.sigmoid_grad(x).item() == 0.25
    assert A.tanh(x).item() == 0.0 and A.tanh_grad(x).item() == 1.0
    assert A.relu_grad(x).item() == 0.0  # PyTorch's convention at the kink
    assert A.leaky_relu_grad(x, 0.1).item() == pytest.approx(0.1)
    assert A.elu_grad(x, 2.0).item() == 2.0
    assert A.selu_grad(x).item() == pytest.approx(A.SELU_SCALE * A.SELU_ALPHA)
    assert A.swish_grad(x).item() == 0.5
    assert A.mish_grad(x).item() == pytest.approx(math.tanh(math.log(2.0)))
    assert A.mish_grad(x).item() == pytest.approx(0.6)  # tanh(log 2) = 3/5 exactly
    one = torch.tensor([1.0], dtype=torch.float64)
    assert A.sigmoid(one).item() == pytest.approx(1 / (1 + math.e**-1), rel=1e-15)
    assert A.selu(one).item() == pytest.approx(1.0507009873554805, rel=1e-15)
    assert A.elu(-torch.tensor([1e4], dtype=torch.float64), alpha=3.0).item() == -3.0


@fixture_ok
@given(x=tensors(shapes(max_dims=2)))
def test_laws(x: torch.Tensor, device: torch.device) -> None:
    x = x.to(device)
    torch.testing.assert_close(A.sigmoid(-x), 1 - A.sigmoid(x), rtol=0, atol=1e-15)
    torch.testing.assert_close(A.tanh(x), 2 * A.sigmoid(2 * x) - 1, rtol=0, atol=1e-14)
    torch.testing.assert_close(A.tanh(-x), -A.tanh(x), rtol=0, atol=0)
    torch.testing.assert_close(A.relu(x) - A.relu(-x), x, rtol=0, atol=0)
    torch.testing.assert_close(A.swish(x, beta=0.0), x / 2, rtol=0, atol=0)
    exact = lambda t: A.softplus(t, threshold=math.inf)  # noqa: E731  (no switch to the identity)
    torch.testing.assert_close(exact(x) - exact(-x), x, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(exact(x), torch.logaddexp(x, torch.zeros_like(x)), rtol=1e-12, atol=1e-14)
    eps = torch.finfo(x.dtype).eps  # 4e/(1+e)^2 rounds to 1 + eps near x = 0
    assert (A.sigmoid_grad(x) <= 0.25 + eps).all() and (A.tanh_grad(x) <= 1.0 + 2 * eps).all()


@fixture_ok
@given(x=tensors(shapes(max_dims=2)), beta=st.sampled_from([0.5, 1.0, 2.0, 7.0]), threshold=st.sampled_from([1.0, 5.0, 20.0]))
def test_softplus_matches_torch_with_beta_and_threshold(x: torch.Tensor, beta: float, threshold: float, device: torch.device) -> None:
    x = x.to(device)
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours, theirs = A.softplus(x1, beta, threshold), F.softplus(x2, beta, threshold)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), x1)[0], torch.autograd.grad(theirs.sum(), x2)[0], rtol=1e-12, atol=1e-14)


def test_softplus_returns_x_past_the_threshold() -> None:
    """At 20.5 torch's default returns x itself (the old formula gave x + 1.2e-9)."""
    x = torch.tensor([20.5, 19.5], dtype=torch.float64)
    assert A.softplus(x)[0].item() == 20.5 == F.softplus(x)[0].item()
    assert A.softplus(x)[1].item() == F.softplus(x)[1].item() > 19.5
    assert A.softplus(x, beta=2.0, threshold=40.0)[1].item() == 19.5  # beta * x = 39 < 40: the formula
    with pytest.raises(ValueError, match="beta must be > 0"):
        A.softplus(x, beta=0.0)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        A.softplus(x, threshold="20")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold must be a number"):
        A.softplus(x, threshold=float("nan"))


def test_registry_and_lookup() -> None:
    assert set(A.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "swish", "mish", "gelu"}
    for name, (fn, grad) in A.ACTIVATIONS.items():
        assert fn.__name__ == name and grad.__name__ == name + "_grad"
        assert A.get_activation(name) == (fn, grad)
    assert A.get_activation("silu") == (A.swish, A.swish_grad)


def test_errors() -> None:
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        A.relu([1.0, 2.0])  # type: ignore[arg-type]
    for name, (fn, grad) in A.ACTIVATIONS.items():
        with pytest.raises(TypeError, match="x must be a floating-point tensor"):
            fn(torch.tensor([1, 2]))
        with pytest.raises(TypeError, match="x must be a floating-point tensor"):
            grad(torch.tensor([1, 2]))
    x = torch.zeros(2)
    with pytest.raises(TypeError, match="negative_slope"):
        A.leaky_relu(x, negative_slope="0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative_slope"):
        A.leaky_relu_grad(x, negative_slope=float("nan"))
    with pytest.raises(ValueError, match="alpha"):
        A.elu(x, alpha=float("inf"))
    with pytest.raises(TypeError, match="alpha"):
        A.elu_grad(x, alpha=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="beta"):
        A.swish(x, beta=float("nan"))
    with pytest.raises(TypeError, match="beta"):
        A.swish_grad(x, beta=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="x must be"):
        A.softplus(torch.tensor([1]))
    with pytest.raises(ValueError, match="name must be one of"):
        A.get_activation("prelu")  # its slope is a parameter: not an elementwise pair
    with pytest.raises(TypeError, match="name must be a str"):
        A.get_activation(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# PReLU and GELU

SLOPES = st.floats(-2.0, 2.0, allow_nan=False, width=64)


@st.composite
def prelu_inputs(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` of 0 to 4 dimensions and a weight of 1 element (0-d or 1-D) or one per channel."""
    x = draw(tensors(shapes(min_dims=0, max_dims=4, max_side=5)))
    channels = x.shape[1] if x.dim() >= 2 else 1
    kind = draw(st.sampled_from(["one", "scalar", "per_channel"]))
    shape = {"one": (1,), "scalar": (), "per_channel": (channels,)}[kind]
    return x, draw(tensors(shape, elements=SLOPES))


def _torch_prelu_grads(x: torch.Tensor, w: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
    xr, wr = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    y = F.prelu(xr, wr)
    gx, gw = torch.autograd.grad(y, (xr, wr), g)
    return y.detach(), gx, gw


@fixture_ok
@given(xw=prelu_inputs(), data=st.data())
def test_prelu_matches_torch_float64(xw: tuple[torch.Tensor, torch.Tensor], data: st.DataObject, device: torch.device) -> None:
    x, w = (t.to(device) for t in xw)
    g = data.draw(tensors(tuple(x.shape))).to(device)
    y_ref, gx_ref, gw_ref = _torch_prelu_grads(x, w, g)
    y = A.prelu(x, w)
    assert y.shape == x.shape and y.dtype == torch.float64 and y.device == x.device
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-14)
    gx, gw = A.prelu_backward(g, x, w)
    assert gw.shape == w.shape and gx.shape == x.shape
    torch.testing.assert_close(gx, gx_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gw, gw_ref, rtol=1e-10, atol=1e-12)  # a sum: the order may differ
    torch.testing.assert_close(A.prelu_grad(x, w) * g, gx_ref, rtol=1e-12, atol=1e-14)


@fixture_ok
@given(xw=prelu_inputs())
def test_prelu_matches_torch_float32(xw: tuple[torch.Tensor, torch.Tensor], device: torch.device) -> None:
    x, w = (t.to(device=device, dtype=torch.float32) for t in xw)
    g = torch.ones_like(x)
    y_ref, gx_ref, gw_ref = _torch_prelu_grads(x, w, g)
    gx, gw = A.prelu_backward(g, x, w)
    assert A.prelu(x, w).dtype == gx.dtype == gw.dtype == torch.float32
    torch.testing.assert_close(A.prelu(x, w), y_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(gw, gw_ref, rtol=1e-5, atol=1e-4)


@fixture_ok
@given(x=tensors((3, 4, 2), elements=st.floats(-5.0, 5.0, allow_nan=False, width=64)),
       w=tensors((4,), elements=SLOPES), g=tensors((3, 4, 2)))
def test_prelu_gradients_by_central_differences(x: torch.Tensor, w: torch.Tensor, g: torch.Tensor, device: torch.device) -> None:
    x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x).to(device)  # away from the kink
    w, g = w.to(device), g.to(device)
    gx, gw = A.prelu_backward(g, x, w)
    # the output is linear in w and, within 1e-3 of any x, in x: the steps need not be tiny
    h = 1e-2
    loss = lambda xx, ww: (g * A.prelu(xx, ww)).sum()  # noqa: E731
    for c in range(4):
        e = torch.zeros_like(w)
        e[c] = h
        numeric = (loss(x, w + e) - loss(x, w - e)) / (2 * h)
        torch.testing.assert_close(gw[c], numeric, rtol=1e-8, atol=1e-9)
    h = 1e-4
    numeric_x = (A.prelu(x + h, w) - A.prelu(x - h, w)) / (2 * h)
    torch.testing.assert_close(A.prelu_grad(x, w), numeric_x, rtol=1e-6, atol=1e-8)


@fixture_ok
@given(x=tensors(shapes(max_dims=3)), a=SLOPES)
def test_prelu_laws(x: torch.Tensor, a: float, device: torch.device) -> None:
    x = x.to(device)
    channels = x.shape[1] if x.dim() >= 2 else 1
    zero, one = torch.zeros(channels, dtype=x.dtype, device=device), torch.ones(1, dtype=x.dtype, device=device)
    torch.testing.assert_close(A.prelu(x, zero), A.relu(x), rtol=0, atol=0)  # slope 0: ReLU
    torch.testing.assert_close(A.prelu_grad(x, zero), A.relu_grad(x), rtol=0, atol=0)
    torch.testing.assert_close(A.prelu(x, one), x, rtol=0, atol=0)  # slope 1: the identity
    torch.testing.assert_close(A.prelu_grad(x, one), torch.ones_like(x), rtol=0, atol=0)
    shared = torch.tensor([a], dtype=x.dtype, device=device)  # one shared slope: leaky ReLU
    torch.testing.assert_close(A.prelu(x, shared), A.leaky_relu(x, a), rtol=0, atol=0)
    torch.testing.assert_close(A.prelu_grad(x, shared), A.leaky_relu_grad(x, a), rtol=0, atol=0)
    # the slope's gradient is the sum of the negative inputs (upstream gradient 1)
    _, gw = A.prelu_backward(torch.ones_like(x), x, shared)
    torch.testing.assert_close(gw, x.clamp(max=0.0).sum().reshape(1), rtol=1e-12, atol=1e-12)


def test_prelu_per_channel_known_values() -> None:
    x = torch.tensor([[[-1.0, 2.0]], [[-3.0, -4.0]]], dtype=torch.float64).transpose(1, 2)  # (2, 2, 1)
    w = torch.tensor([0.5, 0.25], dtype=torch.float64)
    assert A.prelu(x, w).flatten().tolist() == [-0.5, 2.0, -1.5, -1.0]
    gx, gw = A.prelu_backward(torch.ones_like(x), x, w)
    assert gx.flatten().tolist() == [0.5, 1.0, 0.5, 0.25]
    assert gw.tolist() == [-4.0, -4.0]  # channel 0: -1 - 3; channel 1: -4 (2 is positive)
    assert A.prelu(torch.tensor(-2.0), torch.tensor([0.5])).shape == ()  # 0-d x stays 0-d, as in torch


@fixture_ok
@given(x=tensors(shapes(max_dims=2)), approximate=st.sampled_from(["none", "tanh"]))
def test_gelu_laws(x: torch.Tensor, approximate: str, device: torch.device) -> None:
    x = x.to(device)
    y = A.gelu(x, approximate)
    # Phi(x) + Phi(-x) = 1 (and sigma(2u) + sigma(-2u) = 1): gelu(x) - gelu(-x) = x
    torch.testing.assert_close(y - A.gelu(-x, approximate), x, rtol=1e-12, atol=1e-13)
    # between SiLU and ReLU: x sigma(x) <= gelu(x) <= max(x, 0)
    assert (y <= A.relu(x) + 1e-15).all() and (y >= A.swish(x) - 1e-15).all()
    assert (y >= -0.1701).all()  # the minimum, about -0.16997 at x = -0.7518


def test_gelu_limits_and_known_values() -> None:
    big = torch.tensor([10.0, 40.0, 1e4, 1e30], dtype=torch.float64)
    for approximate in ("none", "tanh"):
        torch.testing.assert_close(A.gelu(big, approximate), big, rtol=1e-15, atol=0)  # -> x
        assert A.gelu(-big, approximate).abs().max().item() < 1e-20  # -> 0
        assert A.gelu(-big[1:], approximate).eq(0).all()
        torch.testing.assert_close(A.gelu_grad(big, approximate), torch.ones_like(big), rtol=1e-15, atol=0)
        assert A.gelu_grad(-big[1:], approximate).eq(0).all()
        assert A.gelu_grad(torch.zeros(1, dtype=torch.float64), approximate).item() == 0.5
    one = torch.tensor([1.0], dtype=torch.float64)
    assert A.gelu(one).item() == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), rel=1e-15)
    # the two forms differ by less than 5e-4 everywhere
    grid = torch.linspace(-8, 8, 16001, dtype=torch.float64)
    gap = (A.gelu(grid) - A.gelu(grid, "tanh")).abs().max().item()
    assert 4e-4 < gap < 5e-4


def test_gelu_tanh_grad_finite_where_torch_is_not() -> None:
    x = torch.tensor([1e30, -1e30, 3e38], requires_grad=True)
    (g_torch,) = torch.autograd.grad(F.gelu(x, approximate="tanh").sum(), x)
    assert torch.isnan(g_torch).all()  # torch: inf * 0 in its backward (the documented difference)
    assert A.gelu_grad(x.detach(), "tanh").tolist() == [1.0, 0.0, 1.0]


def test_prelu_and_gelu_errors() -> None:
    x, w = torch.zeros(2, 3), torch.zeros(3)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        A.prelu(torch.zeros(2, 3, dtype=torch.long), w)
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        A.prelu(x, 0.25)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        A.prelu_grad(x, torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="weight must have the dtype of x"):
        A.prelu(x, w.double())
    with pytest.raises(ValueError, match="weight must be a 0-d or 1-D tensor"):
        A.prelu(x, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="weight must have 1 element or one per channel"):
        A.prelu(x, torch.zeros(2))
    with pytest.raises(ValueError, match="weight must have 1 element or one per channel"):
        A.prelu(torch.zeros(3), w)  # a 1-D x has one channel, as in torch
    with pytest.raises(ValueError, match="weight must have 1 element or one per channel"):
        A.prelu(torch.tensor(1.0), torch.zeros(2))  # so has a 0-d x
    with pytest.raises(ValueError, match="weight is on meta"):
        A.prelu(x, torch.zeros(3, device="meta"))
    with pytest.raises(TypeError, match="grad_output must be a floating-point tensor"):
        A.prelu_backward(torch.zeros(2, 3, dtype=torch.long), x, w)
    with pytest.raises(ValueError, match="grad_output must have the shape of x"):
        A.prelu_backward(torch.zeros(3, 2), x, w)
    with pytest.raises(ValueError, match="grad_output is on meta"):
        A.prelu_backward(torch.zeros(2, 3, device="meta"), x, w)
    for fn in (A.gelu, A.gelu_grad):
        with pytest.raises(TypeError, match="approximate must be a str"):
            fn(x, approximate=None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="approximate must be one of 'none', 'tanh'"):
            fn(x, approximate="exact")
