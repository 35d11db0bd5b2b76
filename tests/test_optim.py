"""Tests of companion.optim: trajectories equal torch.optim's, convergence, Newton, raises."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import optim as co
from strategies import seeds

F64 = torch.float64
# the device fixture is a constant per test, so sharing it across hypothesis examples is safe
DEVICE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

# (ours, torch's, hyperparameters): every option of every first-order optimizer.
PAIRS = [
    (co.SGD, torch.optim.SGD, dict(lr=0.05)),
    (co.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (co.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    (co.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (co.AdaGrad, torch.optim.Adagrad, dict(lr=0.1)),
    (co.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    (co.RMSProp, torch.optim.RMSprop, dict(lr=0.01)),
    (co.RMSProp, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True)),
    (co.RMSProp, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    (co.Adam, torch.optim.Adam, dict(lr=0.01)),
    (co.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (co.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (co.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    (co.AdamW, torch.optim.AdamW, dict(lr=0.01)),
]
IDS = [f"{a.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for a, _, kw in PAIRS]


def spd(d: int, seed: int, low: float = 0.5, high: float = 10.0, dtype: torch.dtype = F64) -> torch.Tensor:
    """A random symmetric positive-definite matrix with eigenvalues in [low, high]."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    lam = low + (high - low) * torch.rand(d, generator=g, dtype=F64)
    return ((q * lam) @ q.T).to(dtype)


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def model_and_data(device: torch.device, dtype: torch.dtype = F64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 5, generator=g, dtype=F64).to(device=device, dtype=dtype)
    y = torch.randint(0, 3, (32,), generator=g).to(device)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).to(device=device, dtype=dtype)
    return model, X, y


def run_model(model, X, y, opt, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()


# --------------------------------------------------------------------------------------
# trajectories equal torch.optim's
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
@settings(max_examples=3, suppress_health_check=DEVICE_OK)
@given(seed=seeds, d=st.integers(1, 4))
def test_trajectory_equals_torch_on_quadratic(device, ours, theirs, kw, seed, d):
    A = spd(d, seed).to(device)
    g = torch.Generator().manual_seed(seed + 1)
    b = torch.randn(d, generator=g, dtype=F64).to(device)
    x0 = torch.randn(d, generator=g, dtype=F64).to(device)
    f = lambda x: 0.5 * x @ A @ x - b @ x  # noqa: E731
    p1, l1 = co.minimize(f, x0, ours, 100, **kw)
    p2, l2 = co.minimize(f, x0, theirs, 100, **kw)
    torch.testing.assert_close(p1, p2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(l1, l2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_trajectory_equals_torch_on_rosenbrock(ours, theirs, kw):
    kw = dict(kw, lr=kw["lr"] / 20)  # Rosenbrock's curvature is ~1000 near the valley
    x0 = torch.tensor([-1.2, 1.0], dtype=F64)
    p1, _ = co.minimize(rosenbrock, x0, ours, 100, **kw)
    p2, _ = co.minimize(rosenbrock, x0, theirs, 100, **kw)
    torch.testing.assert_close(p1, p2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_model_with_param_groups_equals_torch(device, ours, theirs, kw):
    """Two parameter groups with different learning rates, several tensors, 30 steps."""
    m1, X, y = model_and_data(device)
    m2, _, _ = model_and_data(device)
    groups = lambda m: [{"params": m[0].parameters()}, {"params": m[2].parameters(), "lr": kw["lr"] / 2}]  # noqa: E731
    o1, o2 = ours(groups(m1), **kw), theirs(groups(m2), **kw)
    run_model(m1, X, y, o1, 30)
    run_model(m2, X, y, o2, 30)
    for a, b in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("ours,theirs,kw", PAIRS[:1] + PAIRS[3:4] + PAIRS[9:10], ids=IDS[:1] + IDS[3:4] + IDS[9:10])
def test_float32_stays_float32_and_close_to_torch(device, ours, theirs, kw):
    m1, X, y = model_and_data(device, torch.float32)
    m2, _, _ = model_and_data(device, torch.float32)
    run_model(m1, X, y, ours(m1.parameters(), **kw), 20)
    run_model(m2, X, y, theirs(m2.parameters(), **kw), 20)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_defaults_are_torch_defaults():
    w = [torch.zeros(2, requires_grad=True)]
    for ours, theirs in [(co.SGD, torch.optim.SGD), (co.AdaGrad, torch.optim.Adagrad), (co.RMSProp, torch.optim.RMSprop),
                         (co.Adam, torch.optim.Adam), (co.AdamW, torch.optim.AdamW)]:
        a, b = ours(w).defaults, theirs(w).defaults
        for key, value in a.items():
            expected = b[key]
            assert (tuple(value) if key == "betas" else value) == (tuple(expected) if key == "betas" else expected), (ours, key)


def test_parameters_without_grad_are_left_alone():
    a = torch.ones(2, dtype=F64, requires_grad=True)
    b = torch.ones(2, dtype=F64, requires_grad=True)
    for cls in (co.SGD, co.AdaGrad, co.RMSProp, co.Adam):
        opt = cls([a, b], lr=0.1)
        opt.zero_grad()
        (a**2).sum().backward()
        opt.step()
        assert torch.equal(b, torch.ones(2, dtype=F64))


def test_step_with_closure_returns_loss():
    x = torch.tensor([3.0], dtype=F64, requires_grad=True)
    opt = co.SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure).detach()) == 9.0
    assert float(x.detach()) == pytest.approx(3.0 - 0.1 * 6.0)


# --------------------------------------------------------------------------------------
# torch.optim conventions: maximize, a tensor lr, complex parameters, torch checkpoints
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_maximize_follows_torch(ours, theirs, kw):
    """maximize=True climbs -f along torch's path (and so descends f)."""
    A, b = spd(3, 7), torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    g = lambda x: -(0.5 * x @ A @ x - b @ x)  # noqa: E731
    x0 = torch.tensor([2.0, 1.0, -1.0], dtype=F64)
    p1, l1 = co.minimize(g, x0, ours, 60, maximize=True, **kw)
    p2, _ = co.minimize(g, x0, theirs, 60, maximize=True, **kw)
    torch.testing.assert_close(p1, p2, rtol=1e-12, atol=1e-12)
    assert l1[-1] > l1[0]


@pytest.mark.parametrize("lr_dtype", [torch.float32, F64])
@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_tensor_lr_follows_torch(ours, theirs, kw, lr_dtype):
    """A one-element tensor lr is accepted and used in its own dtype, as torch.optim does."""
    kw = dict(kw, lr=torch.tensor([kw["lr"] / 20], dtype=lr_dtype))
    x0 = torch.tensor([-1.2, 1.0], dtype=F64)
    p1, _ = co.minimize(rosenbrock, x0, ours, 50, **kw)
    p2, _ = co.minimize(rosenbrock, x0, theirs, 50, **kw)
    assert p1.isfinite().all()
    torch.testing.assert_close(p1, p2, rtol=0, atol=1e-15)


@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_complex_parameters_follow_torch(ours, theirs, kw):
    """torch.optim updates a complex number as the pair (re, im): so do we (to the bit)."""
    z1 = torch.tensor([1 + 1j, 2 - 0.5j, -0.3 + 2j], dtype=torch.complex128, requires_grad=True)
    z2 = z1.detach().clone().requires_grad_()
    o1, o2 = ours([z1], **kw), theirs([z2], **kw)
    for _ in range(30):
        for z, o in ((z1, o1), (z2, o2)):
            o.zero_grad()
            ((z - (0.5 - 1j)).abs() ** 2 + 0.1 * z.abs() ** 4 + z.imag).sum().backward()
            o.step()
    assert z1.isfinite().all() and not torch.equal(z1, z2.new_tensor([1 + 1j, 2 - 0.5j, -0.3 + 2j]))
    assert torch.equal(z1, z2)


def test_one_adam_step_on_a_complex_square_is_torchs():
    """|z|^2 from 1+1j: torch's Adam moves both parts by lr (the issue's 0.9+0.9j)."""
    z = torch.tensor([1 + 1j], dtype=torch.complex128, requires_grad=True)
    opt = co.Adam([z], lr=0.1)
    (z.abs() ** 2).sum().backward()
    opt.step()
    torch.testing.assert_close(z.detach(), torch.tensor([0.9 + 0.9j], dtype=torch.complex128), rtol=0, atol=1e-8)
    w = torch.tensor([1 + 1j], dtype=torch.complex128, requires_grad=True)
    torch_opt = torch.optim.Adam([w], lr=0.1)
    (w.abs() ** 2).sum().backward()
    torch_opt.step()
    assert torch.equal(z, w)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("ours,theirs,kw", PAIRS, ids=IDS)
def test_resuming_a_torch_checkpoint_follows_torch_exactly(ours, theirs, kw, dtype):
    """torch stores `step` as a float32 tensor; after load_state_dict both runs stay equal."""
    f = lambda x: (x**4).sum() + x.prod()  # noqa: E731
    a = torch.tensor([0.7, -0.4, 0.9, 0.2], dtype=dtype, requires_grad=True)
    torch_opt = theirs([a], **kw)
    for _ in range(10):
        torch_opt.zero_grad()
        f(a).backward()
        torch_opt.step()
    b = a.detach().clone().requires_grad_()
    ours_opt = ours([b], **kw)
    ours_opt.load_state_dict(copy.deepcopy(torch_opt.state_dict()))
    for _ in range(20):
        for x, opt in ((a, torch_opt), (b, ours_opt)):
            opt.zero_grad()
            f(x).backward()
            opt.step()
    assert torch.equal(a, b)
    step = ours_opt.state[b].get("step")
    assert step is None or (isinstance(step, torch.Tensor) and step.dtype == torch.float32 and float(step) == 30)


# --------------------------------------------------------------------------------------
# laws and known answers
# --------------------------------------------------------------------------------------


@given(g=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=5), signs=st.lists(st.booleans(), min_size=5, max_size=5),
       lr=st.floats(1e-3, 1.0))
def test_first_adam_and_adagrad_steps_are_lr_times_sign(g, signs, lr):
    """Bias correction makes Adam's first step lr*sign(g); AdaGrad's first step is too."""
    grad = torch.tensor([v if s else -v for v, s in zip(g, signs)], dtype=F64)
    for cls, kw in ((co.Adam, dict(eps=0.0)), (co.AdaGrad, dict(eps=0.0))):
        w = torch.zeros_like(grad, requires_grad=True)
        opt = cls([w], lr=lr, **kw)
        w.grad = grad.clone()
        opt.step()
        torch.testing.assert_close(w.detach(), -lr * grad.sign(), rtol=1e-14, atol=0)


@given(seed=seeds, lr=st.floats(1e-3, 0.5), mu=st.floats(0.0, 0.99))
def test_heavy_ball_form_equals_the_source_notes_form(seed, lr, mu):
    r"""SGD with momentum = theta - lr*grad + mu*(theta_t - theta_{t-1}) (no dampening)."""
    A = spd(3, seed, high=1.0)
    x0 = torch.randn(3, generator=torch.Generator().manual_seed(seed), dtype=F64)
    path, _ = co.minimize(lambda x: 0.5 * x @ A @ x, x0, co.SGD, 20, lr=lr, momentum=mu)
    prev, cur = x0, x0 - lr * (A @ x0)
    torch.testing.assert_close(path[1], cur, rtol=1e-12, atol=1e-12)
    for k in range(2, 21):
        prev, cur = cur, cur - lr * (A @ cur) + mu * (cur - prev)
        torch.testing.assert_close(path[k], cur, rtol=1e-10, atol=1e-12)


def test_decoupled_weight_decay_differs_from_l2_and_adamw_is_decoupled():
    f = lambda x: (x**2).sum()  # noqa: E731
    x0 = torch.tensor([1.0, -2.0], dtype=F64)
    l2, _ = co.minimize(f, x0, co.Adam, 20, lr=0.01, weight_decay=0.5)
    dec, _ = co.minimize(f, x0, co.Adam, 20, lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)
    adamw, _ = co.minimize(f, x0, co.AdamW, 20, lr=0.01, weight_decay=0.5)
    assert not torch.allclose(l2, dec)
    assert torch.equal(dec, adamw)


def test_rmsprop_learning_rate_does_not_vanish_but_adagrads_does():
    """With a constant gradient AdaGrad's step shrinks like 1/sqrt(t); RMSProp's settles at lr."""
    steps = {}
    for cls in (co.AdaGrad, co.RMSProp):
        w = torch.zeros(1, dtype=F64, requires_grad=True)
        opt = cls([w], lr=0.1, eps=0.0)
        before = []
        for _ in range(400):
            before.append(float(w.detach()))
            w.grad = torch.ones(1, dtype=F64)
            opt.step()
        steps[cls] = before[-1] - float(w.detach())
    assert abs(steps[co.AdaGrad]) == pytest.approx(0.1 / math.sqrt(400), rel=1e-12)
    assert abs(steps[co.RMSProp]) == pytest.approx(0.1 / math.sqrt(1 - 0.99**400), rel=1e-12)


# --------------------------------------------------------------------------------------
# convergence
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,kw,steps",
    [
        (co.SGD, dict(lr=0.15), 300),
        (co.SGD, dict(lr=0.05, momentum=0.9), 300),
        (co.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), 300),
        (co.AdaGrad, dict(lr=1.0), 400),
        (co.RMSProp, dict(lr=0.01), 1000),
        (co.Adam, dict(lr=0.05), 600),
        (co.Newton, dict(), 1),
        (co.Newton, dict(mode="cg"), 1),
    ],
)
def test_converges_on_an_ill_conditioned_quadratic(cls, kw, steps):
    A = torch.tensor([[10.0, 0.0], [0.0, 1.0]], dtype=F64)
    x_star = torch.tensor([1.0, -2.0], dtype=F64)
    f = lambda x: 0.5 * (x - x_star) @ A @ (x - x_star)  # noqa: E731
    path, losses = co.minimize(f, torch.tensor([-3.0, 3.0], dtype=F64), cls, steps, **kw)
    assert (path[-1] - x_star).norm() < 2e-2
    assert losses[-1] < 1e-3 * losses[0]


@pytest.mark.parametrize(
    "cls,kw,steps,tol",
    [
        (co.SGD, dict(lr=1e-3, momentum=0.9), 1500, 1e-2),
        (co.Adam, dict(lr=0.1), 1500, 1e-3),
        (co.Newton, dict(), 25, 1e-10),
        (co.Newton, dict(negative_curvature="damp"), 25, 1e-10),
        (co.Newton, dict(mode="cg"), 25, 1e-10),
    ],
)
def test_converges_on_rosenbrock(cls, kw, steps, tol):
    path, losses = co.minimize(rosenbrock, torch.tensor([-1.2, 1.0], dtype=F64), cls, steps, **kw)
    assert (path[-1] - 1).abs().max() < tol
    assert losses[-1] < losses[0]


# --------------------------------------------------------------------------------------
# Newton
# --------------------------------------------------------------------------------------


@settings(suppress_health_check=DEVICE_OK)
@given(seed=seeds, d=st.integers(1, 6), mode=st.sampled_from(["dense", "cg"]))
def test_newton_lands_on_the_minimum_of_a_quadratic_in_one_step(device, seed, d, mode):
    A = spd(d, seed).to(device)
    g = torch.Generator().manual_seed(seed + 7)
    b = torch.randn(d, generator=g, dtype=F64).to(device)
    x0 = (10 * torch.randn(d, generator=g, dtype=F64)).to(device)
    path, _ = co.minimize(lambda x: 0.5 * x @ A @ x - b @ x, x0, co.Newton, 1, mode=mode)
    torch.testing.assert_close(path[1], torch.linalg.solve(A, b), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("mode", ["dense", "cg"])
def test_newton_solves_least_squares_over_several_parameter_tensors(device, mode):
    g = torch.Generator().manual_seed(3)
    X = torch.randn(40, 3, generator=g, dtype=F64).to(device)
    t = torch.randn(40, 2, generator=g, dtype=F64).to(device)
    lin = torch.nn.Linear(3, 2).to(device=device, dtype=F64)
    opt = co.Newton(lin.parameters(), mode=mode)
    loss = opt.step(lambda: ((lin(X) - t) ** 2).mean())
    assert opt.last_step_info["action"] == "newton"
    assert opt.last_step_info["loss"] == pytest.approx(float(loss))
    Xa = torch.cat([X, torch.ones(40, 1, dtype=F64, device=device)], dim=1)
    sol = torch.linalg.lstsq(Xa, t).solution  # (4, 2): weights then bias
    torch.testing.assert_close(lin.weight.detach(), sol[:3].T, rtol=1e-8, atol=1e-9)
    torch.testing.assert_close(lin.bias.detach(), sol[3], rtol=1e-8, atol=1e-9)
    assert lin.weight.grad is not None  # the gradient at the start point is left in .grad


@given(seed=seeds, d=st.integers(1, 5))
def test_dense_hessian_equals_autograd_functional_hessian(seed, d):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, d, generator=g, dtype=F64)
    x0 = torch.randn(d, generator=g, dtype=F64)
    f = lambda x: torch.tanh(W @ x).pow(2).sum() + (x**4).sum()  # noqa: E731
    x = x0.clone().requires_grad_(True)
    grad = torch.autograd.grad(f(x), [x], create_graph=True)[0]
    H = co.Newton.hessian(grad, [x])
    torch.testing.assert_close(H, torch.autograd.functional.hessian(f, x0), rtol=1e-10, atol=1e-10)


SADDLE = lambda x: x[0] ** 2 - x[1] ** 2  # noqa: E731
START = torch.tensor([0.5, 1.0], dtype=F64)  # -g = (-1, 2) has negative curvature


@pytest.mark.parametrize("mode", ["dense", "cg"])
def test_raw_newton_jumps_onto_the_saddle(mode):
    opt_path, _ = co.minimize(SADDLE, START, co.Newton, 1, mode=mode, negative_curvature="none")
    torch.testing.assert_close(opt_path[1], torch.zeros(2, dtype=F64), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "mode,policy,action",
    [
        ("dense", "gradient", "gradient step"),
        ("dense", "damp", "damped"),
        ("dense", "saddle_free", "saddle-free"),
        ("dense", "none", "newton (indefinite)"),
        ("cg", "gradient", "gradient step"),
        ("cg", "damp", "damped"),
        ("cg", "none", "newton (indefinite)"),
    ],
)
def test_newton_reports_negative_curvature(mode, policy, action):
    x = START.clone().requires_grad_(True)
    opt = co.Newton([x], mode=mode, negative_curvature=policy)
    opt.step(lambda: SADDLE(x))
    info = opt.last_step_info
    assert info["negative_curvature"] is True
    assert info["action"] == action
    assert opt.history[-1] is info
    if mode == "dense":
        assert info["min_eigenvalue"] == pytest.approx(-2.0)
    if policy != "none":  # every safeguard moves downhill and away from the saddle in x[1]
        assert float(SADDLE(x.detach())) < float(SADDLE(START))
        assert abs(float(x[1].detach())) > abs(float(START[1]))
    if policy == "damp":
        assert info["damping"] > 2.0  # more than |lambda_min|


def test_newton_cg_truncates_when_negative_curvature_appears_late():
    """Positive curvature along -g, negative along another direction: CG stops after one iteration."""
    A = torch.diag(torch.tensor([1.0, 2.0, -1.0], dtype=F64))
    x = torch.tensor([1.0, 1.0, 0.01], dtype=F64, requires_grad=True)
    opt = co.Newton([x], mode="cg")
    opt.step(lambda: 0.5 * x @ A @ x)
    info = opt.last_step_info
    assert info["action"] == "truncated cg" and info["negative_curvature"] and info["cg_iterations"] >= 1
    assert float(0.5 * x.detach() @ A @ x.detach()) < float(0.5 * torch.tensor([1.0, 1.0, 0.01], dtype=F64) @ A @ torch.tensor([1.0, 1.0, 0.01], dtype=F64))


def test_newton_damping_and_lr_shorten_the_step():
    A = torch.diag(torch.tensor([2.0, 4.0], dtype=F64))
    x0 = torch.tensor([1.0, 1.0], dtype=F64)
    f = lambda x: 0.5 * x @ A @ x  # noqa: E731
    damped, _ = co.minimize(f, x0, co.Newton, 1, damping=2.0)
    torch.testing.assert_close(damped[1], x0 - (A @ x0) / torch.tensor([4.0, 6.0], dtype=F64))
    half, _ = co.minimize(f, x0, co.Newton, 1, lr=0.5)
    torch.testing.assert_close(half[1], x0 / 2)
    x = x0.clone().requires_grad_(True)
    opt = co.Newton([x], damping=2.0)
    opt.step(lambda: f(x))
    assert opt.last_step_info["action"] == "damped" and not opt.last_step_info["negative_curvature"]


def test_newton_on_a_linear_function_takes_a_gradient_step():
    """A linear loss has H = 0 (not positive definite): the safeguard steps downhill."""
    x = torch.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    opt = co.Newton([x])
    opt.step(lambda: x.sum())
    assert opt.last_step_info["action"] == "gradient step"
    torch.testing.assert_close(x.detach(), torch.tensor([0.0, 1.0], dtype=F64))


# --------------------------------------------------------------------------------------
# minimize
# --------------------------------------------------------------------------------------


def test_minimize_shapes_losses_and_input_untouched(device):
    x0 = torch.tensor([1.0, 2.0, 3.0], dtype=F64, device=device)
    f = lambda x: (x**2).sum()  # noqa: E731
    path, losses = co.minimize(f, x0, co.SGD, 7, lr=0.1)
    assert path.shape == (8, 3) and losses.shape == (8,)
    assert path.device == x0.device and path.dtype == F64
    torch.testing.assert_close(losses, (path**2).sum(dim=1))
    torch.testing.assert_close(path[-1], x0 * 0.8**7)
    assert torch.equal(x0, torch.tensor([1.0, 2.0, 3.0], dtype=F64, device=device)) and not x0.requires_grad
    zero, l0 = co.minimize(f, x0, co.Adam, 0)
    assert zero.shape == (1, 3) and float(l0[0]) == 14.0


def test_minimize_accepts_torch_lbfgs():
    path, losses = co.minimize(rosenbrock, torch.tensor([-1.2, 1.0], dtype=F64), torch.optim.LBFGS, 10, lr=1.0,
                               line_search_fn="strong_wolfe")
    assert losses[-1] < 1e-8


# --------------------------------------------------------------------------------------
# every raise
# --------------------------------------------------------------------------------------

W = [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize(
    "cls,kw,match",
    [
        (co.SGD, dict(lr=-0.1), "lr"),
        (co.SGD, dict(momentum=-0.5), "momentum"),
        (co.SGD, dict(weight_decay=-1.0), "weight_decay"),
        (co.SGD, dict(nesterov=True), "nesterov"),
        (co.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (co.SGD, dict(lr=float("nan")), "lr"),
        (co.AdaGrad, dict(lr=-1.0), "lr"),
        (co.AdaGrad, dict(lr_decay=-1.0), "lr_decay"),
        (co.AdaGrad, dict(weight_decay=-1.0), "weight_decay"),
        (co.AdaGrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (co.AdaGrad, dict(eps=-1e-10), "eps"),
        (co.RMSProp, dict(lr=-1.0), "lr"),
        (co.RMSProp, dict(alpha=1.0), "alpha"),
        (co.RMSProp, dict(alpha=-0.1), "alpha"),
        (co.RMSProp, dict(eps=-1.0), "eps"),
        (co.RMSProp, dict(weight_decay=-1.0), "weight_decay"),
        (co.RMSProp, dict(momentum=-1.0), "momentum"),
        (co.Adam, dict(lr=-1e-3), "lr"),
        (co.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
        (co.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
        (co.Adam, dict(betas=(0.9,)), "betas"),
        (co.Adam, dict(betas=0.9), "betas"),
        (co.Adam, dict(eps=-1e-8), "eps"),
        (co.Adam, dict(weight_decay=-0.1), "weight_decay"),
        (co.AdamW, dict(weight_decay=-0.1), "weight_decay"),
        (co.Newton, dict(lr=0.0), "lr"),
        (co.Newton, dict(damping=-1.0), "damping"),
        (co.Newton, dict(mode="lu"), "mode"),
        (co.Newton, dict(negative_curvature="flip"), "negative_curvature"),
        (co.Newton, dict(mode="cg", negative_curvature="saddle_free"), "saddle_free"),
        (co.Newton, dict(cg_max_iter=0), "cg_max_iter"),
        (co.Newton, dict(cg_tol=0.0), "cg_tol"),
        (co.Adam, dict(lr=torch.tensor([1e-3, 1e-3])), "lr"),
        (co.SGD, dict(lr=torch.tensor(-0.1)), "lr"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls(W, **kw)


@pytest.mark.parametrize(
    "cls,kw,match",
    [
        (co.SGD, dict(lr="0.1"), "lr"),
        (co.Adam, dict(betas=("a", 0.9)), "beta1"),
        (co.Newton, dict(cg_max_iter=2.5), "cg_max_iter"),
        (co.RMSProp, dict(alpha=True), "alpha"),
        (co.Adam, dict(maximize="yes"), "maximize"),
        (co.SGD, dict(maximize=1), "maximize"),
        (co.AdaGrad, dict(lr=torch.tensor(0.1, dtype=torch.complex64)), "lr"),
    ],
)
def test_non_numeric_hyperparameters_raise_type_error(cls, kw, match):
    with pytest.raises(TypeError, match=match):
        cls(W, **kw)


def test_newton_rejects_bad_closures_and_groups():
    x = torch.zeros(2, dtype=F64, requires_grad=True)
    opt = co.Newton([x])
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="closure"):
        opt.step(lambda: x * 2)  # not a scalar
    with pytest.raises(ValueError, match="closure"):
        opt.step(lambda: torch.tensor(1.0))  # does not depend on x
    with pytest.raises(ValueError, match="single parameter group"):
        co.Newton([{"params": [x]}, {"params": [torch.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="params"):
        co.Newton([torch.zeros(2)]).step(lambda: torch.zeros(()))


def test_sparse_gradients_are_refused():
    emb = torch.nn.Embedding(5, 2, sparse=True)
    opt = co.SGD(emb.parameters(), lr=0.1)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        opt.step()


@pytest.mark.parametrize(
    "args,kw,exc,match",
    [
        ((torch.tensor([1, 2]), co.SGD, 1), {}, TypeError, "x0"),
        (([1.0, 2.0], co.SGD, 1), {}, TypeError, "x0"),
        ((torch.zeros(2, 2), co.SGD, 1), {}, ValueError, "x0"),
        ((torch.zeros(2), object, 1), {}, TypeError, "optimizer_cls"),
        ((torch.zeros(2), co.SGD, -1), {}, ValueError, "steps"),
        ((torch.zeros(2), co.SGD, 1.5), {}, TypeError, "steps"),
    ],
)
def test_minimize_raises(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        co.minimize(lambda x: (x**2).sum(), *args, **kw)


@pytest.mark.parametrize("cls", [co.SGD, co.Adam, co.Newton])
@pytest.mark.parametrize("steps", [0, 3])
def test_minimize_refuses_a_non_scalar_function(cls, steps):
    with pytest.raises(ValueError, match=r"f must return a scalar tensor \(one number\), got shape \(2,\)"):
        co.minimize(lambda x: x**2, torch.ones(2, dtype=F64), cls, steps)
    with pytest.raises(ValueError, match="f must return a scalar tensor .*got float"):
        co.minimize(lambda x: 1.0, torch.ones(2, dtype=F64), cls, steps)
