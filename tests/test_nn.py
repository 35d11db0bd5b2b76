"""Tests of companion.nn: hand-written backprop against torch.autograd, and gradcheck."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from companion.nn import (
    MLP,
    Activation,
    GradcheckError,
    Identity,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
    gradcheck,
    sgd_step,
)

fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)
ACTS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "selu", "swish", "mish", "gelu", "identity"]


def _autograd_grads(net: MLP, x: torch.Tensor, loss_fn) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model = net.to_torch()
    out = model(x)
    loss = loss_fn(out)
    loss.backward()
    grads = []
    for m in model:
        if isinstance(m, torch.nn.Linear):
            grads += [m.weight.grad, m.bias.grad]
    return out.detach(), grads


@fixture_ok
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    activation=st.sampled_from(ACTS),
    batch=st.integers(1, 7),
    seed=st.integers(0, 2**31 - 1),
    loss=st.sampled_from(["mse", "ce"]),
)
def test_mlp_backward_matches_autograd(sizes, activation, batch, seed, loss, device: torch.device) -> None:
    gen = torch.Generator().manual_seed(seed)
    net = MLP(sizes, activation=activation, dtype=torch.float64, device=device, generator=gen)
    x = torch.randn(batch, sizes[0], dtype=torch.float64, generator=gen).to(device)
    if loss == "mse":
        y = torch.randn(batch, sizes[-1], dtype=torch.float64, generator=gen).to(device)
        loss_fn = lambda out: F.mse_loss(out, y)  # noqa: E731
        out = net(x)
        dout = 2 * (out - y) / out.numel()  # delta^L for identity output + mean squared error
    else:
        y = torch.randint(0, sizes[-1], (batch,), generator=gen).to(device)
        loss_fn = lambda out: F.cross_entropy(out, y)  # noqa: E731
        out = net(x)
        dout = (torch.softmax(out, dim=1) - F.one_hot(y, sizes[-1]).to(out)) / batch  # softmax + CE
    ref_out, ref_grads = _autograd_grads(net, x, loss_fn)
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    grads = net.backward(dout)
    assert len(grads) == len(net.params) == 2 * (len(sizes) - 1)
    for g, r, p in zip(grads, ref_grads, net.params):
        assert g.shape == p.shape and g.device == p.device and g.dtype == torch.float64
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)


@fixture_ok
@given(activation=st.sampled_from(["tanh", "sigmoid", "swish", "mish", "selu"]), seed=st.integers(0, 1000))
def test_mlp_backward_passes_gradcheck(activation: str, seed: int, device: torch.device) -> None:
    gen = torch.Generator().manual_seed(seed)
    net = MLP([3, 4, 2], activation=activation, dtype=torch.float64, device=device, generator=gen)
    x = torch.randn(5, 3, dtype=torch.float64, generator=gen).to(device)
    y = torch.randn(5, 2, dtype=torch.float64, generator=gen).to(device)
    out = net(x)
    grads = net.backward(out - y, input_grad=True)  # E = 1/2 sum (out - y)^2

    def energy(x, *params):
        a = x
        for l in range(net.num_layers):
            z = a @ params[2 * l].T + params[2 * l + 1]
            a = net._fn(z) if l < net.num_layers - 1 else z
        return 0.5 * ((a - y) ** 2).sum()

    result = gradcheck(energy, [x, *net.params], [net.input_grad, *grads])
    assert result.ok and result.checked == x.numel() + net.num_params() and result.failed == 0
    assert "passed" in str(result)


@fixture_ok
@given(seed=st.integers(0, 1000), activation=st.sampled_from(["relu", "tanh"]))
def test_layers_compose_to_the_mlp(seed: int, activation: str, device: torch.device) -> None:
    gen = torch.Generator().manual_seed(seed)
    net = MLP([4, 5, 3, 2], activation=activation, dtype=torch.float64, device=device, generator=gen)
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        lin = Linear(W.shape[1], W.shape[0], dtype=torch.float64, device=device)
        lin.weight, lin.bias = W.clone(), b.clone()
        layers.append(lin)
        if l < net.num_layers - 1:
            layers.append(Activation(activation))
    x = torch.randn(6, 4, dtype=torch.float64, generator=gen).to(device)
    h = x
    for layer in layers:
        h = layer(h)
    torch.testing.assert_close(h, net(x), rtol=0, atol=0)
    dout = torch.randn(6, 2, dtype=torch.float64, generator=gen).to(device)
    g = dout
    for layer in reversed(layers):
        g = layer.backward(g)
    grads = net.backward(dout, input_grad=True)
    layer_grads = [t for layer in layers for t in layer.grads]
    for a, b in zip(grads, layer_grads):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(g, net.input_grad, rtol=1e-13, atol=1e-14)


def test_forward_caches_z_and_a() -> None:
    net = MLP([2, 3, 3, 1], activation="tanh", dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = torch.randn(4, 2, dtype=torch.float64)
    out = net(x)
    assert len(net.zs) == 3 and len(net.activations) == 4
    assert net.activations[0] is x and net.activations[-1] is out
    torch.testing.assert_close(net.activations[1], torch.tanh(net.zs[0]))
    torch.testing.assert_close(net.zs[1], net.activations[1] @ net.weights[1].T + net.biases[1])
    torch.testing.assert_close(out, net.zs[-1], rtol=0, atol=0)  # no activation after the last layer
    assert net.input_grad is None


def test_same_parameters_on_every_device(device: torch.device) -> None:
    a = MLP([3, 4, 2], generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    b = MLP([3, 4, 2], generator=torch.Generator().manual_seed(7), dtype=torch.float64, device=device)
    for p, q in zip(a.params, b.params):
        assert q.device.type == device.type
        torch.testing.assert_close(p, q.cpu(), rtol=0, atol=0)
    bound = 1 / 3**0.5  # PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert a.params[0].abs().max() <= bound and a.params[1].abs().max() <= bound
    assert a.num_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_flops_match_torch_flop_counter_and_backward_is_about_twice_forward() -> None:
    for sizes in ([64, 128, 10], [10, 32, 32, 32, 3], [784, 256, 256, 10]):
        net = MLP(sizes, dtype=torch.float64)
        x = torch.randn(16, sizes[0], dtype=torch.float64)
        with FlopCounterMode(display=False) as fwd:
            out = net(x)
        with FlopCounterMode(display=False) as bwd:
            net.backward(torch.ones_like(out))
        counted = net.flops(16)
        assert fwd.get_total_flops() == counted["forward_matmul"]
        assert bwd.get_total_flops() == counted["backward_matmul"]
        ratio = counted["backward"] / counted["forward"]
        assert 1.0 < ratio <= 2.0, (sizes, ratio)
        first = 2 * 16 * sizes[0] * sizes[1]
        assert counted["backward_matmul"] == 2 * counted["forward_matmul"] - first


def test_activation_layers() -> None:
    z = torch.tensor([[-2.0, 0.5]], dtype=torch.float64)
    for layer, fn in [(ReLU(), torch.relu), (Tanh(), torch.tanh), (Sigmoid(), torch.sigmoid), (Identity(), lambda t: t)]:
        torch.testing.assert_close(layer(z), fn(z))
        zt = z.clone().requires_grad_(True)
        fn(zt).sum().backward()
        torch.testing.assert_close(layer.backward(torch.ones_like(z)), zt.grad)
        assert layer.params == [] and layer.grads == []
    leaky = Activation("leaky_relu", negative_slope=0.2)
    torch.testing.assert_close(leaky(z), F.leaky_relu(z, 0.2))
    torch.testing.assert_close(leaky.backward(torch.ones_like(z)), torch.tensor([[0.2, 1.0]], dtype=torch.float64))


def test_linear_without_bias_and_sgd_step() -> None:
    lin = Linear(2, 3, bias=False, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert lin.bias is None and len(lin.params) == 1
    x = torch.randn(4, 2, dtype=torch.float64)
    z = lin(x)
    torch.testing.assert_close(z, x @ lin.weight.T)
    lin.backward(torch.ones_like(z))
    assert len(lin.grads) == 1
    w0 = lin.weight.clone()
    sgd_step(lin.params, lin.grads, lr=0.5)
    torch.testing.assert_close(lin.weight, w0 - 0.5 * x.sum(0).expand(3, 2))


def test_to_torch_matches_forward(device: torch.device) -> None:
    for act in ACTS + ["linear"]:
        net = MLP([3, 4, 2], activation=act, dtype=torch.float64, device=device, generator=torch.Generator().manual_seed(1))
        x = torch.randn(5, 3, dtype=torch.float64).to(device)
        with torch.no_grad():
            torch.testing.assert_close(net(x), net.to_torch()(x), rtol=1e-12, atol=1e-13)


def test_training_with_hand_backprop_reduces_the_loss() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, dtype=torch.float64, generator=gen)
    y = (x[:, :1] * x[:, 1:]).sign()  # an XOR-like target
    net = MLP([2, 16, 1], activation="tanh", dtype=torch.float64, generator=gen)
    first = None
    for _ in range(300):
        out = net(x)
        loss = ((out - y) ** 2).mean()
        first = loss.item() if first is None else first
        sgd_step(net.params, net.backward(2 * (out - y) / out.numel()), lr=0.2)
    assert loss.item() < 0.5 * first


def test_gradcheck_reports_the_worst_entry() -> None:
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    wrong = 3 * x**2
    wrong[1, 0] += 0.1  # a small error
    wrong[0, 1] += 5.0  # the worst one
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (t**3).sum(), [x], [wrong])
    report = str(info.value)
    assert "FAILED: 2 of 4 checked entries disagree" in report
    assert "worst entry: input 0, index (0, 1): analytic 17, numeric 12" in report
    r = gradcheck(lambda t: (t**3).sum(), [x], [wrong], raise_on_failure=False)
    assert not r and r.worst_index == (0, 1) and r.failed == 2
    assert r.max_abs_error == pytest.approx(5.0, rel=1e-6)
    assert torch.equal(x, torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64))  # inputs untouched


def test_gradcheck_with_autograd_sampling_and_float32(device: torch.device) -> None:
    a = torch.randn(30, dtype=torch.float64, device=device)
    b = torch.randn(30, dtype=torch.float64, device=device)
    r = gradcheck(lambda a, b: (a.sin() * b).sum(), [a, b], samples=5, generator=torch.Generator().manual_seed(0))
    assert r.ok and r.checked == 10
    r32 = gradcheck(lambda a: (a**2).sum(), [a.float()], [2 * a.float()])
    assert r32.ok and r32.eps == 1e-3
    const = gradcheck(lambda a: torch.tensor(1.0, dtype=torch.float64), [a[:3]])
    assert const.ok and const.checked == 3
    scalar = gradcheck(lambda s: s**2, [torch.tensor(3.0, dtype=torch.float64)], [torch.tensor(6.0, dtype=torch.float64)])
    assert scalar.ok and scalar.worst_index == ()


def test_errors() -> None:
    with pytest.raises(TypeError, match="sizes must be a sequence"):
        MLP(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sizes must list at least"):
        MLP([3])
    with pytest.raises(ValueError, match="every entry of sizes must be >= 1"):
        MLP([3, 0, 1])
    with pytest.raises(TypeError, match="every entry of sizes must be an int"):
        MLP([3, 2.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="activation must be 'identity' or"):
        MLP([2, 2], activation="prelu")  # not an elementwise pair: its slope is learned
    with pytest.raises(TypeError, match="activation must be a str"):
        MLP([2, 2], activation=torch.relu)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        MLP([2, 2], dtype=torch.int64)
    with pytest.raises(ValueError, match="in_features must be >= 1"):
        Linear(0, 2)
    with pytest.raises(ValueError, match="device='garbage' is not a device name; expected one of"):
        Linear(2, 2, device="garbage")
    with pytest.raises(ValueError, match="device='cuda:99' asks for a CUDA device, but this machine has"):
        Linear(2, 2, device="cuda:99")
    with pytest.raises(TypeError, match="device must be a str such as 'cpu'"):
        MLP([2, 2], device=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device='garbage' is not a device name"):
        MLP([2, 2], device="garbage")
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None"):
        Linear(2, 2, generator=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bias must be a bool"):
        Linear(2, 2, bias="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name must be 'identity' or"):
        Activation("prelu")
    net = MLP([3, 2], dtype=torch.float64)
    with pytest.raises(RuntimeError, match="backward.. called before forward"):
        net.backward(torch.zeros(1, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        net([1.0, 2.0, 3.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        net(torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="x must have dtype torch.float64"):
        net(torch.zeros(2, 3))
    net(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, 2\)"):
        net.backward(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="dout must have 2 rows"):
        net.backward(torch.zeros(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="batch must be >= 1"):
        net.flops(0)
    lin = Linear(2, 2)
    with pytest.raises(RuntimeError, match="backward.. called before forward"):
        lin.backward(torch.zeros(1, 2))
    lin(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="dout must have 3 rows"):
        lin.backward(torch.zeros(1, 2))
    act = Activation("tanh")
    with pytest.raises(RuntimeError, match="backward.. called before forward"):
        act.backward(torch.zeros(1))
    with pytest.raises(TypeError, match="z must be a torch.Tensor"):
        act([1.0])  # type: ignore[arg-type]
    act(torch.zeros(2))
    with pytest.raises(ValueError, match=r"dout must have shape \(2,\)"):
        act.backward(torch.zeros(3))
    p = [torch.zeros(2)]
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        sgd_step(p, [torch.zeros(2)], lr=-1.0)
    with pytest.raises(ValueError, match="grads must have one entry per parameter"):
        sgd_step(p, [], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] has shape"):
        sgd_step(p, [torch.zeros(3)], lr=0.1)
    x = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(TypeError, match="inputs must be a sequence of tensors"):
        gradcheck(lambda t: t.sum(), x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a floating-point tensor"):
        gradcheck(lambda t: t.sum(), [torch.zeros(2, dtype=torch.long)])
    with pytest.raises(ValueError, match="fn must return a tensor with one element"):
        gradcheck(lambda t: t * 2, [x], [x])
    with pytest.raises(ValueError, match="fn must return a tensor with one element"):
        gradcheck(lambda t: t * 2, [x])
    with pytest.raises(TypeError, match="fn must return a tensor"):
        gradcheck(lambda t: 1.0, [x], [x])  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="grads must have one entry per input"):
        gradcheck(lambda t: t.sum(), [x], [x, x])
    with pytest.raises(ValueError, match=r"grads\[0\] must have shape \(2,\)"):
        gradcheck(lambda t: t.sum(), [x], [torch.zeros(3)])
    with pytest.raises(ValueError, match="eps must be positive"):
        gradcheck(lambda t: t.sum(), [x], eps=0.0)
