"""Tests of companion.init against torch.nn.init: gains, fans, exact samples from a shared
generator, bounds, standard deviations and two-sample Kolmogorov-Smirnov tests."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from companion import init
from companion.init import _calculate_fan_in_and_fan_out
from strategies import seeds, shapes

NONLINEARITIES = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]

# (ours, torch's, keyword arguments) for every initializer that torch also has
PAIRS = [
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {}),
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {"gain": 5 / 3}),
    (init.xavier_normal_, torch.nn.init.xavier_normal_, {}),
    (init.xavier_normal_, torch.nn.init.xavier_normal_, {"gain": 2.0}),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {}),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {"nonlinearity": "relu"}),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {"a": 0.2, "mode": "fan_out"}),
    (init.kaiming_normal_, torch.nn.init.kaiming_normal_, {"nonlinearity": "relu"}),
    (init.kaiming_normal_, torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}),
    (init.uniform_, torch.nn.init.uniform_, {"a": -0.3, "b": 0.7}),
    (init.normal_, torch.nn.init.normal_, {"mean": 0.5, "std": 0.2}),
]
PAIR_IDS = [f"{ours.__name__}{kw}" for ours, _, kw in PAIRS]


def _gen(device: torch.device, seed: int) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


# --------------------------------------------------------------------------------------------
# gains and fans


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_gain_equals_torch(name: str) -> None:
    assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-15)


@given(slope=st.floats(0.0, 10.0, allow_nan=False))
def test_leaky_relu_gain_equals_torch(slope: float) -> None:
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", slope), rel=1e-14
    )


def test_gain_known_values() -> None:
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 1) == 1.0  # a leaky ReLU of slope 1 is linear
    assert init.calculate_gain("selu") == 0.75


def test_gain_errors() -> None:
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("softmax")
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", "0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", True)  # type: ignore[arg-type]


@given(shape=shapes(min_dims=2, max_dims=5, max_side=5))
def test_fans_equal_torch(shape: tuple[int, ...]) -> None:
    t = torch.empty(shape)
    assert _calculate_fan_in_and_fan_out(t) == torch.nn.init._calculate_fan_in_and_fan_out(t)


def test_fans_known_values() -> None:
    assert _calculate_fan_in_and_fan_out(torch.empty(10, 20)) == (20, 10)  # Linear(20, 10)
    assert _calculate_fan_in_and_fan_out(torch.empty(16, 3, 5, 5)) == (75, 400)  # Conv2d(3, 16, 5)
    assert _calculate_fan_in_and_fan_out(torch.empty(4, 2, 3)) == (6, 12)  # Conv1d(2, 4, 3)


def test_fans_errors() -> None:
    with pytest.raises(ValueError, match="tensor must have at least 2 dimensions"):
        _calculate_fan_in_and_fan_out(torch.empty(5))
    with pytest.raises(TypeError, match="tensor"):
        _calculate_fan_in_and_fan_out([[1.0]])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# same generator state -> the same samples as torch.nn.init (the bounds agree to rounding)


@pytest.mark.parametrize("ours,theirs,kwargs", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("shape", [(30, 50), (8, 4, 3, 3), (6, 5, 7)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_samples_as_torch(ours, theirs, kwargs, shape, dtype, device) -> None:
    a = torch.empty(shape, dtype=dtype, device=device)
    b = torch.empty(shape, dtype=dtype, device=device)
    ours(a, **kwargs, generator=_gen(device, 7))
    theirs(b, **kwargs, generator=_gen(device, 7))
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(a, b, rtol=rtol, atol=0.0)


@pytest.mark.parametrize("ours,kaiming", [(init.lecun_uniform_, init.kaiming_uniform_), (init.lecun_normal_, init.kaiming_normal_)])
def test_lecun_is_kaiming_linear(ours, kaiming, device) -> None:
    a = ours(torch.empty(40, 30, device=device), generator=_gen(device, 3))
    b = kaiming(torch.empty(40, 30, device=device), nonlinearity="linear", generator=_gen(device, 3))
    torch.testing.assert_close(a, b, rtol=1e-6, atol=0.0)


# --------------------------------------------------------------------------------------------
# statistics of large samples


def _sample(fn, shape, device, seed, **kwargs) -> torch.Tensor:
    return fn(torch.empty(shape, dtype=torch.float64, device=device), **kwargs, generator=_gen(device, seed))


@pytest.mark.parametrize(
    "fn,kwargs,bound",
    [
        (init.xavier_uniform_, {}, math.sqrt(6 / (300 + 200))),
        (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / (300 + 200))),
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(6 / 200)),
        (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(6 / 300)),
        (init.lecun_uniform_, {}, math.sqrt(3 / 200)),
        (init.uniform_, {"a": -1.0, "b": 1.0}, 1.0),
    ],
)
def test_uniform_bounds_and_std(fn, kwargs, bound, device) -> None:
    w = _sample(fn, (300, 200), device, 0, **kwargs)
    assert float(w.abs().max()) <= bound
    assert float(w.abs().max()) > 0.99 * bound  # the range is filled, not a smaller one
    # Var U(-b, b) = b^2 / 3; 60,000 draws give the std to about 0.3 %
    assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(float(w.mean())) < 0.02 * bound


@pytest.mark.parametrize(
    "fn,kwargs,std",
    [
        (init.xavier_normal_, {}, math.sqrt(2 / 500)),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / 200)),
        (init.kaiming_normal_, {"mode": "fan_out"}, math.sqrt(2 / (1 + 0.01**2)) / math.sqrt(300)),
        (init.kaiming_normal_, {"nonlinearity": "leaky_relu", "a": 0.5}, math.sqrt(2 / 1.25) / math.sqrt(200)),
        (init.lecun_normal_, {}, 1 / math.sqrt(200)),
        (init.normal_, {"std": 0.1}, 0.1),
    ],
)
def test_normal_std(fn, kwargs, std, device) -> None:
    w = _sample(fn, (300, 200), device, 0, **kwargs)
    assert float(w.std()) == pytest.approx(std, rel=0.02)
    assert abs(float(w.mean())) < 0.02 * std


@pytest.mark.parametrize("ours,theirs,kwargs", PAIRS, ids=PAIR_IDS)
def test_ks_two_sample_against_torch(ours, theirs, kwargs) -> None:
    # independent generators: the two samples are different draws of (we claim) one law
    a = _sample(ours, (250, 200), torch.device("cpu"), 11, **kwargs).flatten().numpy()
    b = _sample(theirs, (250, 200), torch.device("cpu"), 12, **kwargs).flatten().numpy()
    assert ks_2samp(a, b).pvalue > 1e-3


def test_ks_detects_the_wrong_xavier_range() -> None:
    # U(-1/sqrt(n_in), 1/sqrt(n_in)) is NOT Glorot's range: the KS test tells them apart
    fan_out, fan_in = 250, 200
    a = _sample(init.xavier_uniform_, (fan_out, fan_in), torch.device("cpu"), 1).flatten().numpy()
    n = 1 / math.sqrt(fan_in)
    b = _sample(init.uniform_, (fan_out, fan_in), torch.device("cpu"), 2, a=-n, b=n).flatten().numpy()
    assert ks_2samp(a, b).pvalue < 1e-12


# --------------------------------------------------------------------------------------------
# semantics: in place, returns the tensor, no autograd history, generator, dtypes


ALL = [
    (init.constant_, {"val": 0.3}),
    (init.uniform_, {}),
    (init.normal_, {}),
    (init.lecun_uniform_, {}),
    (init.lecun_normal_, {}),
    (init.xavier_uniform_, {}),
    (init.xavier_normal_, {}),
    (init.kaiming_uniform_, {}),
    (init.kaiming_normal_, {}),
]


@pytest.mark.parametrize("fn,kwargs", ALL, ids=[f.__name__ for f, _ in ALL])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_on_parameter(fn, kwargs, dtype, device) -> None:
    p = torch.nn.Parameter(torch.zeros(7, 5, dtype=dtype, device=device))
    out = fn(p, **kwargs)
    assert out is p
    assert p.requires_grad and p.grad_fn is None and p.is_leaf
    assert p.dtype == dtype and p.device.type == device.type
    assert bool((p != 0).any())


def test_constant_known_values(device) -> None:
    w = init.constant_(torch.empty(3, 4, device=device), -1.5)
    assert torch.equal(w, torch.full((3, 4), -1.5, device=device))


@given(seed=seeds)
def test_generator_makes_draws_reproducible(seed: int) -> None:
    a = init.xavier_normal_(torch.empty(4, 6), generator=torch.Generator().manual_seed(seed))
    b = init.xavier_normal_(torch.empty(4, 6), generator=torch.Generator().manual_seed(seed))
    c = init.xavier_normal_(torch.empty(4, 6), generator=torch.Generator().manual_seed(seed ^ 1))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_global_generator_is_used_without_generator() -> None:
    torch.manual_seed(5)
    a = init.kaiming_uniform_(torch.empty(10, 10))
    torch.manual_seed(5)
    b = init.kaiming_uniform_(torch.empty(10, 10))
    assert torch.equal(a, b)


def test_zero_element_tensors() -> None:
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(torch.empty(0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(torch.empty(3, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.xavier_uniform_(torch.empty(0, 3)).shape == (0, 3)
        assert init.lecun_normal_(torch.empty(3, 0)).shape == (3, 0)


def test_xavier_is_not_one_over_sqrt_n() -> None:
    # the bound gain * sqrt(6 / (fan_in + fan_out)) differs from 1/sqrt(fan_in) even for a square layer
    w = init.xavier_uniform_(torch.empty(100, 100), generator=torch.Generator().manual_seed(0))
    assert float(w.abs().max()) > 1 / math.sqrt(100) * 1.2


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("fn,kwargs", ALL, ids=[f.__name__ for f, _ in ALL])
def test_non_tensor_and_integer_tensor_refused(fn, kwargs) -> None:
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor"):
        fn([[0.0, 1.0]], **kwargs)
    with pytest.raises(TypeError, match="tensor must be a floating-point tensor"):
        fn(torch.zeros(3, 3, dtype=torch.int64), **kwargs)


@pytest.mark.parametrize("fn", [init.lecun_uniform_, init.lecun_normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_])
def test_one_dimensional_refused(fn) -> None:
    with pytest.raises(ValueError, match="tensor must have at least 2 dimensions"):
        fn(torch.empty(5))


@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.lecun_normal_, init.xavier_uniform_, init.kaiming_normal_])
def test_bad_generator_refused(fn) -> None:
    with pytest.raises(TypeError, match="generator"):
        fn(torch.empty(3, 3), generator=0)


def test_argument_errors() -> None:
    t = torch.empty(4, 4)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(t, mode="in")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.kaiming_normal_(t, nonlinearity="gelu")
    with pytest.raises(TypeError, match="a must be a real number"):
        init.kaiming_uniform_(t, a="0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a must be <= b"):
        init.uniform_(t, 1.0, -1.0)
    with pytest.raises(TypeError, match="b must be a real number"):
        init.uniform_(t, 0.0, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="std must be >= 0"):
        init.normal_(t, 0.0, -1.0)
    with pytest.raises(ValueError, match="mean must be finite"):
        init.normal_(t, math.nan, 1.0)
    with pytest.raises(TypeError, match="gain"):
        init.xavier_uniform_(t, gain="relu")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gain"):
        init.xavier_normal_(t, gain=None)  # type: ignore[arg-type]
    # torch fails inside uniform_/normal_ ("expects to return a [from, to) range"); we name gain
    for fill in (init.xavier_uniform_, init.xavier_normal_):
        with pytest.raises(ValueError, match=r"gain must be >= 0, got -1\.0"):
            fill(t, gain=-1)
        with pytest.raises(ValueError, match="gain must be finite"):
            fill(t, gain=math.inf)
    with pytest.raises(RuntimeError, match="range"):
        torch.nn.init.xavier_uniform_(torch.empty(3, 4), gain=-1)
    with pytest.raises(RuntimeError, match="std"):
        torch.nn.init.xavier_normal_(torch.empty(3, 4), gain=-1)
    with pytest.raises(TypeError, match="val"):
        init.constant_(t, "1")  # type: ignore[arg-type]
