"""Tests of companion.normalization: layer, batch and RMS norm against torch.nn.functional in values,
gradients (first and second) and running statistics; the modules against torch.nn."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from strategies import seeds, tensors

# the device fixture holds no state, so sharing it across hypothesis examples is safe
device_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)

from companion import normalization as R

# --------------------------------------------------------------------------------------------
# layer norm


@st.composite
def layer_norm_cases(draw: st.DrawFn):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    k = draw(st.integers(1, len(shape)))
    x = draw(tensors(shape))
    affine = draw(st.booleans())
    w = draw(tensors(shape[-k:], elements=st.floats(-3, 3))) if affine else None
    b = draw(tensors(shape[-k:], elements=st.floats(-3, 3))) if affine else None
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.5]))
    return x, shape[-k:], w, b, eps


def _grads(fn, inputs, g):
    inputs = [t.clone().requires_grad_(True) if t is not None else None for t in inputs]
    y = fn(*inputs)
    present = [t for t in inputs if t is not None]
    return y.detach(), torch.autograd.grad(y, present, g)


@device_ok
@given(case=layer_norm_cases(), seed=seeds)
def test_layer_norm_equals_torch(case, seed, device) -> None:
    x, shape, w, b, eps = case
    x, w, b = (t.to(device) if t is not None else None for t in (x, w, b))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device)
    y1, g1 = _grads(lambda x, w, b: R.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-7, atol=1e-7)


@given(case=layer_norm_cases(), seed=seeds)
def test_layer_norm_backward_function(case, seed) -> None:
    x, shape, w, b, eps = case
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    _, grads = _grads(lambda x, w, b: F.layer_norm(x, shape, w, b, eps), (x, w, b), g)
    gx, gw, gb = R.layer_norm_backward(g, x, shape, w, eps)
    torch.testing.assert_close(gx, grads[0], rtol=1e-7, atol=1e-7)
    if w is not None:
        torch.testing.assert_close(gw, grads[1], rtol=1e-7, atol=1e-7)
        torch.testing.assert_close(gb, grads[2], rtol=1e-7, atol=1e-7)
    else:
        assert gw is None
        lead = tuple(range(x.dim() - len(shape)))
        torch.testing.assert_close(gb, g.sum(dim=lead) if lead else g)


def test_layer_norm_gradcheck(device) -> None:
    x = torch.randn(3, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: R.layer_norm(x, (4, 5), w, b), (x, w, b))
    assert torch.autograd.gradcheck(lambda x: R.layer_norm(x, 5), (x,))


def test_layer_norm_example_from_the_notes(device) -> None:
    x = torch.arange(20.0, device=device).reshape(2, 5, 2)
    y = R.layer_norm(x, (5, 2))
    row = torch.tensor([[-1.5667, -1.2185], [-0.8704, -0.5222], [-0.1741, 0.1741], [0.5222, 0.8704], [1.2185, 1.5667]], device=device)
    torch.testing.assert_close(y[0], row, atol=1e-4, rtol=0)
    torch.testing.assert_close(y[1], row, atol=1e-4, rtol=0)  # each example normalized on its own


def test_layer_norm_float32_close_to_torch(device) -> None:
    x = torch.randn(16, 32, device=device) * 10 + 3
    torch.testing.assert_close(R.layer_norm(x, 32), F.layer_norm(x, (32,)), rtol=1e-4, atol=1e-5)


def test_layer_norm_module_matches_torch() -> None:
    torch.manual_seed(0)
    ours, theirs = R.LayerNorm((4, 3)), nn.LayerNorm((4, 3))
    with torch.no_grad():
        ours.weight.normal_()
        ours.bias.normal_()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 4, 3)
    torch.testing.assert_close(ours(x), theirs(x))
    assert R.LayerNorm(3, elementwise_affine=False).weight is None


def test_layer_norm_errors() -> None:
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="normalized_shape"):
        R.layer_norm(x, 2)
    with pytest.raises(ValueError, match="normalized_shape"):
        R.layer_norm(x, (2, 2, 3))
    with pytest.raises(TypeError, match="normalized_shape"):
        R.layer_norm(x, 3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalized_shape"):
        R.layer_norm(x, True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weight must have shape"):
        R.layer_norm(x, 3, torch.ones(2))
    with pytest.raises(ValueError, match="bias must have the dtype"):
        R.layer_norm(x, 3, None, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="eps"):
        R.layer_norm(x, 3, eps=0.0)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        R.layer_norm(torch.ones(2, 3, dtype=torch.int64), 3)
    with pytest.raises(ValueError, match="grad_output"):
        R.layer_norm_backward(torch.ones(3, 2), x, 3)


# --------------------------------------------------------------------------------------------
# batch norm


@st.composite
def batch_norm_cases(draw: st.DrawFn):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if n * math.prod(spatial) == 1:
        n = 2  # training needs more than one value per feature
    x = draw(tensors((n, c) + spatial))
    affine = draw(st.booleans())
    w = draw(tensors((c,), elements=st.floats(-3, 3))) if affine else None
    b = draw(tensors((c,), elements=st.floats(-3, 3))) if affine else None
    rm = draw(tensors((c,), elements=st.floats(-5, 5)))
    rv = draw(tensors((c,), elements=st.floats(0.1, 5)))
    momentum = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    eps = draw(st.sampled_from([1e-5, 1e-2]))
    return x, w, b, rm, rv, momentum, eps


@device_ok
@given(case=batch_norm_cases(), training=st.booleans(), seed=seeds)
def test_batch_norm_equals_torch(case, training, seed, device) -> None:
    x, w, b, rm, rv, momentum, eps = (t.to(device) if isinstance(t, torch.Tensor) else t for t in case)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device)
    rm1, rv1, rm2, rv2 = rm.clone(), rv.clone(), rm.clone(), rv.clone()
    y1, g1 = _grads(lambda x, w, b: R.batch_norm(x, rm1, rv1, w, b, training, momentum, eps), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.batch_norm(x, rm2, rv2, w, b, training, momentum, eps), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(rm1, rm2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rv1, rv2, rtol=1e-12, atol=1e-12)
    if not training:
        assert torch.equal(rm1, rm) and torch.equal(rv1, rv)  # evaluation does not update


@given(case=batch_norm_cases(), seed=seeds)
def test_batch_norm_backward_function(case, seed) -> None:
    x, w, b, _, _, _, eps = case
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    _, grads = _grads(lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, eps), (x, w, b), g)
    gx, gw, gb = R.batch_norm_backward(g, x, w, eps)
    torch.testing.assert_close(gx, grads[0], rtol=1e-7, atol=1e-7)
    if w is not None:
        torch.testing.assert_close(gw, grads[1], rtol=1e-7, atol=1e-7)
    else:
        assert gw is None
    torch.testing.assert_close(gb, g.sum(dim=(0,) + tuple(range(2, x.dim()))))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_batch_norm_gradcheck(training, shape, device) -> None:
    x = torch.randn(shape, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    rm = torch.randn(3, dtype=torch.float64, device=device)
    rv = torch.rand(3, dtype=torch.float64, device=device) + 0.5
    fn = lambda x, w, b: R.batch_norm(x, rm.clone(), rv.clone(), w, b, training)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(7, 3), (5, 3, 6), (3, 3, 4, 2)])
def test_batch_norm_with_a_large_offset(training, shape, device) -> None:
    """With inputs 1e4 + noise (where a one-pass variance would cancel), values, gradients and
    running statistics equal PyTorch's."""
    gen = torch.Generator().manual_seed(sum(shape) + training)
    x = (1e4 + torch.randn(shape, generator=gen, dtype=torch.float64)).to(device)
    w, b = (torch.randn(3, generator=gen, dtype=torch.float64).to(device) for _ in range(2))
    g = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
    stats = [(torch.full((3,), 1e4, dtype=torch.float64, device=device), torch.ones(3, dtype=torch.float64, device=device))
             for _ in range(2)]
    y1, g1 = _grads(lambda x, w, b: R.batch_norm(x, *stats[0], w, b, training), (x, w, b), g)
    y2, g2 = _grads(lambda x, w, b: F.batch_norm(x, *stats[1], w, b, training), (x, w, b), g)
    torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
    for a, c in zip(g1, g2):
        torch.testing.assert_close(a, c, rtol=1e-8, atol=1e-8)
    for a, c in zip(stats[0], stats[1]):
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)
    if training:
        for a, c in zip(R.batch_norm_backward(g, x, w), g2):
            torch.testing.assert_close(a, c, rtol=1e-8, atol=1e-8)


def test_batch_norm_evaluation_backward_after_the_running_statistics_change(device) -> None:
    """The backward pass of an evaluation-mode call uses the statistics of that call."""
    x = torch.randn(6, 3, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    rm, rv = torch.randn(3, dtype=torch.float64, device=device), torch.rand(3, dtype=torch.float64, device=device) + 0.5
    (expected,) = torch.autograd.grad(F.batch_norm(x, rm, rv, w, training=False).square().sum(), w)
    y = R.batch_norm(x, rm, rv, w, training=False)
    R.batch_norm(x.detach(), rm, rv, training=True)  # a training step updates rm, rv in place
    (grad_w,) = torch.autograd.grad(y.square().sum(), w)
    torch.testing.assert_close(grad_w, expected, rtol=1e-10, atol=1e-10)


def test_batch_norm_example_from_the_notes(device) -> None:
    x = torch.arange(30.0, device=device).reshape(2, 5, 3)
    rm, rv = torch.zeros(5, device=device), torch.ones(5, device=device)
    y = R.batch_norm(x, rm, rv, training=True)
    first = torch.tensor([-1.1267, -0.9941, -0.8616], device=device)
    # every feature gets the same normalized values: its 6 entries are evenly spread alike
    torch.testing.assert_close(y[0], first.expand(5, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(y[1], (-first.flip(0)).expand(5, 3), atol=1e-4, rtol=0)
    # running statistics: mean 0.9 * 0 + 0.1 * mu_c, variance with the unbiased estimate
    mu = torch.tensor([8.5, 11.5, 14.5, 17.5, 20.5], device=device)
    torch.testing.assert_close(rm, 0.1 * mu)
    unbiased = x.transpose(0, 1).reshape(5, -1).var(dim=1, unbiased=True)
    torch.testing.assert_close(rv, 0.9 + 0.1 * unbiased)
    assert float(unbiased[0]) == pytest.approx(68.3, rel=1e-6)  # 341.5 / 5, not 341.5 / 6


def test_batch_norm_gamma_beta_are_per_feature() -> None:
    x = torch.randn(7, 3)
    w, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, -1.0, 5.0])
    y = R.batch_norm(x, None, None, w, b, training=True)
    # each column c has mean beta_c and (biased) std ~ gamma_c, whatever the batch size
    torch.testing.assert_close(y.mean(0), b, atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(0, unbiased=False), w, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="weight must have shape"):
        R.batch_norm(x, None, None, torch.ones(7), None, training=True)  # one per example: wrong


def test_batch_norm_module_matches_torch_train_then_eval() -> None:
    torch.manual_seed(0)
    ours, theirs = R.BatchNorm(4, momentum=0.2), nn.BatchNorm1d(4, momentum=0.2)
    for _ in range(3):
        x = torch.randn(8, 4, 6) * 3 + 1
        torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval(), theirs.eval()
    x = torch.randn(2, 4, 6)
    torch.testing.assert_close(ours(x), theirs(x))
    assert R.BatchNorm(2, affine=False).weight is None


def test_batch_norm_errors() -> None:
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        R.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="together"):
        R.batch_norm(x, torch.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        R.batch_norm(torch.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="x must have shape"):
        R.batch_norm(torch.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match="running_var must have shape"):
        R.batch_norm(x, torch.zeros(3), torch.ones(4), training=True)
    with pytest.raises(ValueError, match="momentum"):
        R.batch_norm(x, None, None, training=True, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        R.batch_norm(x, None, None, training=True, eps=-1.0)
    with pytest.raises(TypeError, match="training"):
        R.batch_norm(x, None, None, training="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="running_mean must be a floating-point tensor"):
        R.batch_norm(x, torch.zeros(3, dtype=torch.int64), torch.ones(3), training=True)
    with pytest.raises(ValueError, match="grad_output"):
        R.batch_norm_backward(torch.ones(3, 4), x)
    with pytest.raises(ValueError, match="x must have shape"):
        R.batch_norm_backward(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="num_features"):
        R.BatchNorm(0)





@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)])
@pytest.mark.parametrize("layer", ["layer_norm", "batch_norm_train", "batch_norm_eval"])
def test_normalization_gradients_of_a_subset_of_inputs(needs, layer, device) -> None:
    """Only the inputs that require a gradient get one, and it equals PyTorch's; x is not modified."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, 5, generator=gen, dtype=torch.float64).to(device)
    c = 5 if layer == "layer_norm" else 4
    w, b = (torch.randn(c, generator=gen, dtype=torch.float64).to(device) for _ in range(2))
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(device)
    x0 = x.clone()
    stats = lambda: (torch.zeros(4, dtype=torch.float64, device=device), torch.ones(4, dtype=torch.float64, device=device))  # noqa: E731
    ours = {"layer_norm": lambda x, w, b: R.layer_norm(x, 5, w, b),
            "batch_norm_train": lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=True),
            "batch_norm_eval": lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=False)}[layer]
    ref = {"layer_norm": lambda x, w, b: F.layer_norm(x, (5,), w, b),
           "batch_norm_train": lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=True),
           "batch_norm_eval": lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=False)}[layer]
    results = []
    for fn in (ours, ref):
        inputs = [t.clone().requires_grad_(need) for t, need in zip((x, w, b), needs)]
        y = fn(*inputs)
        results.append(torch.autograd.grad(y, [t for t in inputs if t.requires_grad], g))
    assert len(results[0]) == sum(needs)
    for a, c_ in zip(*results):
        torch.testing.assert_close(a, c_, rtol=1e-9, atol=1e-9)
    assert torch.equal(x, x0)


# --------------------------------------------------------------------------------------------
# second derivatives, RMS norm, and torch.nn's module conventions


@pytest.mark.parametrize("layer", ["layer_norm", "batch_norm_train", "batch_norm_eval", "rms_norm"])
def test_double_backward_matches_torch(layer, device) -> None:
    """The hand-derived backward is differentiable: gradgradcheck passes and Hessian-vector
    products equal torch's (the old backward refused with 'appears to not have been used')."""
    gen = torch.Generator().manual_seed(7)
    x, w, b = (torch.randn(s, generator=gen, dtype=torch.float64).to(device) for s in ((4, 3, 5), (3,), (3,)))
    stats = lambda: (torch.zeros(3, dtype=torch.float64, device=device), torch.ones(3, dtype=torch.float64, device=device))  # noqa: E731
    w5, b5 = w.repeat(2)[:5], b.repeat(2)[:5]
    ours, ref = {
        "layer_norm": (lambda x, w, b: R.layer_norm(x, 5, w5 * w.sum(), b5 * b.sum()),
                       lambda x, w, b: F.layer_norm(x, (5,), w5 * w.sum(), b5 * b.sum())),
        "batch_norm_train": (lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=True),
                             lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=True)),
        "batch_norm_eval": (lambda x, w, b: R.batch_norm(x, *stats(), w, b, training=False),
                            lambda x, w, b: F.batch_norm(x, *stats(), w, b, training=False)),
        "rms_norm": (lambda x, w, b: R.rms_norm(x, 5, w5 * w.sum()) + b.sum(),
                     lambda x, w, b: F.rms_norm(x, (5,), w5 * w.sum()) + b.sum()),
    }[layer]
    inputs = tuple(t.clone().requires_grad_(True) for t in (x, w, b))
    assert torch.autograd.gradgradcheck(ours, inputs)
    v = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(device)
    results = []
    for fn in (ours, ref):
        leaves = tuple(t.clone().requires_grad_(True) for t in (x, w, b))
        (gx,) = torch.autograd.grad((fn(*leaves) ** 2).sum(), leaves[0], create_graph=True)
        results.append(torch.autograd.grad((gx * v).sum(), leaves, allow_unused=True))
    for a, c in zip(*results):
        if c is None:
            assert a is None or float(a.abs().max()) < 1e-12
        else:
            torch.testing.assert_close(a, c, rtol=1e-8, atol=1e-9)


@device_ok
@given(case=layer_norm_cases(), seed=seeds)
def test_rms_norm_equals_torch(case, seed, device) -> None:
    x, shape, w, _, eps = case
    x, w = (t.to(device) if t is not None else None for t in (x, w))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device)
    for e in (eps, None):  # None: torch.finfo(x.dtype).eps, as torch
        y1, g1 = _grads(lambda x, w: R.rms_norm(x, shape, w, e), (x, w), g)
        y2, g2 = _grads(lambda x, w: F.rms_norm(x, shape, w, e), (x, w), g)
        torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)
        for a, c in zip(g1, g2):
            torch.testing.assert_close(a, c, rtol=1e-7, atol=1e-7)


def test_rms_norm_module_matches_torch() -> None:
    torch.manual_seed(0)
    ours, theirs = R.RMSNorm((4, 3), eps=1e-6), nn.RMSNorm((4, 3), eps=1e-6)
    with torch.no_grad():
        ours.weight.normal_()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 4, 3)
    torch.testing.assert_close(ours(x), theirs(x))
    assert R.RMSNorm(3, elementwise_affine=False).weight is None
    assert R.RMSNorm(3, dtype=torch.float64).weight.dtype == torch.float64
    with pytest.raises(ValueError, match="eps"):
        R.rms_norm(x, 3, eps=0.0)
    with pytest.raises(ValueError, match="normalized_shape"):
        R.rms_norm(x, 4)


def test_layer_norm_without_bias_and_with_device_and_dtype() -> None:
    ours = R.LayerNorm(4, bias=False, dtype=torch.float64, device="cpu")
    theirs = nn.LayerNorm(4, bias=False, dtype=torch.float64)
    assert ours.bias is None and ours.weight.dtype == torch.float64
    assert set(ours.state_dict()) == set(theirs.state_dict()) == {"weight"}
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2.0)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x))
    with pytest.raises(TypeError, match="dtype"):
        R.LayerNorm(4, dtype=torch.int64)


def test_batch_norm_cumulative_average_as_torch() -> None:
    """momentum=None averages all batches equally (weight 1/t), as torch.nn.BatchNorm1d."""
    torch.manual_seed(0)
    ours, theirs = R.BatchNorm(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    batches = [torch.randn(8, 3) * (k + 1) + k for k in range(4)]
    for x in batches:
        torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    torch.testing.assert_close(ours.running_mean, torch.stack([x.mean(0) for x in batches]).mean(0))
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4


def test_batch_norm_without_running_statistics_as_torch() -> None:
    ours, theirs = R.BatchNorm(3, track_running_stats=False), nn.BatchNorm1d(3, track_running_stats=False)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    assert set(ours.state_dict()) == set(theirs.state_dict()) == {"weight", "bias"}
    x = torch.randn(6, 3, 2) + 5
    for mode in ("train", "eval"):  # batch statistics in both modes
        getattr(ours, mode)(), getattr(theirs, mode)()
        torch.testing.assert_close(ours(x), theirs(x))


def test_batch_norm_loads_a_torch_state_dict_and_back() -> None:
    torch.manual_seed(0)
    theirs = nn.BatchNorm1d(4, dtype=torch.float64)
    for _ in range(2):
        theirs(torch.randn(10, 4, dtype=torch.float64) * 2 + 1)
    ours = R.BatchNorm(4, device="cpu", dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())  # strict: num_batches_tracked is a buffer here too
    assert int(ours.num_batches_tracked) == 2
    ours.eval(), theirs.eval()
    x = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x))
    nn.BatchNorm1d(4, dtype=torch.float64).load_state_dict(ours.state_dict())
    ours.reset_running_stats()
    assert int(ours.num_batches_tracked) == 0 and float(ours.running_var.sum()) == 4.0
    with pytest.raises(ValueError, match="momentum"):
        R.BatchNorm(4, momentum=2.0)
    with pytest.raises(TypeError, match="track_running_stats must be a bool"):
        R.BatchNorm(4, track_running_stats="yes")  # type: ignore[arg-type]
