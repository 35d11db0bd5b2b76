"""Tests of companion.losses: known answers, laws, PyTorch parity (values and gradients, in
float64, on hypothesis inputs, on every device), finite differences, huge logits, and every
raise."""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import losses as L
from strategies import logits_and_targets, probability_vectors, tensors

F64 = torch.float64

# The device fixture is a constant per test, so sharing it across hypothesis examples is safe.
device_settings = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
)


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-10, rtol: float = 1e-9) -> None:
    torch.testing.assert_close(a, b, atol=atol, rtol=rtol)


def autograd(fn: Callable[..., torch.Tensor], *args: torch.Tensor, wrt: int = 0) -> torch.Tensor:
    """Gradient of the scalar fn(*args) with respect to args[wrt], by torch.autograd."""
    args = [a.detach().clone().requires_grad_(i == wrt) if a.dtype.is_floating_point else a for i, a in enumerate(args)]
    (g,) = torch.autograd.grad(fn(*args), args[wrt])
    return g


def finite_difference(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """Central differences of the scalar fn at x (float64)."""
    grad = torch.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        up = fn(x).item()
        flat[i] = old - h
        down = fn(x).item()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


@st.composite
def spatial_logits_and_targets(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, C, d) with class indices (N, d): the segmentation-style layout."""
    n, c, d = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(1, 4))
    z = draw(tensors((n, c, d)))
    y = torch.tensor(draw(st.lists(st.integers(0, c - 1), min_size=n * d, max_size=n * d))).reshape(n, d)
    return z, y


reductions = st.sampled_from(["none", "mean", "sum"])
smoothing = st.sampled_from([0.0, 0.1, 0.5, 1.0])


# ----------------------------------------------------------------------------- known answers


def test_known_answers(device: torch.device) -> None:
    t = lambda *v: torch.tensor(v, dtype=F64, device=device)  # noqa: E731
    close(L.softmax(t(1.0, 2.0, 3.0)), torch.exp(t(1.0, 2.0, 3.0)) / math.fsum(math.exp(v) for v in (1, 2, 3)))
    close(L.logsumexp(t(0.0, 0.0, 0.0, 0.0)), t(math.log(4)).squeeze())
    # the chapter's worked example: KL([0,0,1,0] || [0.1,0.2,0.6,0.1]) = log(1/0.6)
    p, q = t(0.0, 0.0, 1.0, 0.0), t(0.1, 0.2, 0.6, 0.1)
    close(L.kl_divergence(p, q), t(math.log(1 / 0.6)).squeeze())
    assert abs(math.log(1 / 0.6) - 0.5108) < 5e-5
    close(L.entropy(t(0.25, 0.25, 0.25, 0.25)), t(math.log(4)).squeeze())
    close(L.entropy(p), t(0.0).squeeze())
    # cross-entropy of logits log(y_hat) for class 3: -log 0.8 and -log 0.2
    yhat = t(0.1, 0.1, 0.8), t(0.4, 0.4, 0.2)
    target = torch.tensor(2, device=device)
    close(L.cross_entropy(torch.log(yhat[0]), target), t(-math.log(0.8)).squeeze())
    close(L.cross_entropy(torch.log(yhat[1]), target), t(-math.log(0.2)).squeeze())
    onehot = t(0.0, 0.0, 1.0)
    close(L.mse(yhat[0], onehot, reduction="sum"), t(0.06).squeeze())
    close(L.mse(yhat[1], onehot, reduction="sum"), t(0.96).squeeze())
    close(L.binary_cross_entropy_with_logits(t(0.0), t(1.0)), t(math.log(2)).squeeze())
    close(L.gaussian_kl(t(1.0, 0.0), t(0.0, 0.0)), t(0.5).squeeze())


def test_kl_conventions(device: torch.device) -> None:
    t = lambda *v: torch.tensor(v, dtype=F64, device=device)  # noqa: E731
    # 0 log 0 = 0 even where q = 0 as well
    close(L.kl_divergence(t(0.5, 0.5, 0.0), t(0.5, 0.5, 0.0)), t(0.0).squeeze())
    # q = 0 < p gives +inf
    assert L.kl_divergence(t(0.5, 0.5), t(1.0, 0.0)).item() == math.inf
    grad_p, grad_q = L.kl_divergence_grad(t(0.0, 1.0), t(0.5, 0.5))
    assert grad_p[0].item() == -math.inf and grad_q[0].item() == 0.0


# ----------------------------------------------------------------------------- laws


@device_settings
@given(z=tensors(), shift=st.floats(-50, 50))
def test_softmax_laws(device: torch.device, z: torch.Tensor, shift: float) -> None:
    z = z.to(device)
    s = L.softmax(z)
    assert bool((s >= 0).all())
    close(s.sum(-1), torch.ones_like(s.sum(-1)))
    close(L.softmax(z + shift), s)  # invariant to adding a constant
    close(L.log_softmax(z), torch.log(s), atol=1e-9, rtol=1e-7)
    close(L.logsumexp(z, keepdim=True).expand_as(z), z - L.log_softmax(z), atol=1e-9, rtol=1e-9)


@device_settings
@given(pq=st.integers(1, 5).flatmap(lambda b: st.tuples(probability_vectors(batch=b, classes=4, allow_zeros=True), probability_vectors(batch=b, classes=4))))
def test_information_laws(device: torch.device, pq: tuple[torch.Tensor, torch.Tensor]) -> None:
    p, q = (x.to(device) for x in pq)
    kl = L.kl_divergence(p, q)
    assert bool((kl >= -1e-12).all())  # Gibbs' inequality
    close(L.kl_divergence(p, p), torch.zeros_like(kl))
    # H(P, Q) = H(P) + KL(P || Q); cross-entropy from logits log q with target p
    h_pq = L.cross_entropy(torch.log(q), p, reduction="none")
    close(h_pq, L.entropy(p) + kl, atol=1e-9, rtol=1e-9)
    # 0 <= H(P) <= log C
    h = L.entropy(p)
    assert bool((h >= 0).all()) and bool((h <= math.log(4) + 1e-12).all())


def test_kl_is_asymmetric(device: torch.device) -> None:
    p = torch.tensor([0.5, 0.5], dtype=F64, device=device)
    q = torch.tensor([0.9, 0.1], dtype=F64, device=device)
    assert abs(L.kl_divergence(p, q).item() - L.kl_divergence(q, p).item()) > 0.1


@device_settings
@given(zy=logits_and_targets(), eps=smoothing)
def test_cross_entropy_laws(device: torch.device, zy: tuple[torch.Tensor, torch.Tensor], eps: float) -> None:
    z, y = (x.to(device) for x in zy)
    onehot = F.one_hot(y, z.shape[1]).to(F64)
    # class indices and the equivalent one-hot probabilities agree, with smoothing too
    close(L.cross_entropy(z, y, label_smoothing=eps), L.cross_entropy(z, onehot, label_smoothing=eps))
    close(L.cross_entropy_grad(z, y, label_smoothing=eps), L.cross_entropy_grad(z, onehot, label_smoothing=eps))
    # with one-hot labels H(P) = 0, so cross-entropy equals KL and has the same gradient
    ce = L.cross_entropy(z, y, reduction="none")
    close(ce, L.kl_divergence(onehot, L.softmax(z)), atol=1e-9, rtol=1e-9)
    kl_grad = autograd(lambda x: L.kl_divergence(onehot, L.softmax(x)).sum(), z)
    close(L.cross_entropy_grad(z, y, reduction="none"), kl_grad, atol=1e-9, rtol=1e-9)
    # reductions are consistent
    close(L.cross_entropy(z, y, reduction="sum"), ce.sum())
    close(L.cross_entropy(z, y, reduction="mean"), ce.mean())
    # mean gradient = (softmax - onehot) / N
    close(L.cross_entropy_grad(z, y), (L.softmax(z) - onehot) / len(y))


# ----------------------------------------------------------------------------- PyTorch parity


@device_settings
@given(z=tensors(), dim_seed=st.integers(0, 10))
def test_softmax_family_matches_torch(device: torch.device, z: torch.Tensor, dim_seed: int) -> None:
    z = z.to(device)
    dim = dim_seed % z.dim() - z.dim() * (dim_seed % 2)  # positive and negative dims
    close(L.softmax(z, dim), F.softmax(z, dim))
    close(L.log_softmax(z, dim), F.log_softmax(z, dim))
    close(L.logsumexp(z, dim), torch.logsumexp(z, dim))
    w = torch.randn(z.shape, dtype=F64).to(device)  # a random upstream gradient
    for mine, ref in ((L.softmax, F.softmax), (L.log_softmax, F.log_softmax)):
        g_ref = autograd(lambda x: (ref(x, dim) * w).sum(), z)
        close(autograd(lambda x: (mine(x, dim) * w).sum(), z), g_ref)
    close(L.softmax_backward(w, F.softmax(z, dim), dim), autograd(lambda x: (F.softmax(x, dim) * w).sum(), z))
    close(L.log_softmax_backward(w, F.log_softmax(z, dim), dim), autograd(lambda x: (F.log_softmax(x, dim) * w).sum(), z))


@device_settings
@given(z=tensors(st.tuples(st.integers(1, 3), st.integers(1, 5))))
def test_softmax_jacobian_matches_autograd(device: torch.device, z: torch.Tensor) -> None:
    z = z.to(device)
    J = L.softmax_jacobian(z)
    for i in range(z.shape[0]):
        close(J[i], torch.autograd.functional.jacobian(lambda x: F.softmax(x, -1), z[i]))


@device_settings
@given(zy=logits_and_targets(), reduction=reductions, eps=smoothing)
def test_cross_entropy_indices_matches_torch(device: torch.device, zy: tuple[torch.Tensor, torch.Tensor], reduction: str, eps: float) -> None:
    z, y = (x.to(device) for x in zy)
    ref = F.cross_entropy(z, y, reduction=reduction, label_smoothing=eps)
    close(L.cross_entropy(z, y, reduction=reduction, label_smoothing=eps), ref)
    total = lambda f: (lambda x: f(x, y, reduction=reduction, label_smoothing=eps).sum())  # noqa: E731
    g_ref = autograd(total(F.cross_entropy), z)
    close(autograd(total(L.cross_entropy), z), g_ref)
    close(L.cross_entropy_grad(z, y, reduction=reduction, label_smoothing=eps), g_ref)


@device_settings
@given(z=st.integers(1, 5).flatmap(lambda c: st.tuples(tensors((c,)), st.integers(0, c - 1))), reduction=reductions)
def test_cross_entropy_single_example_matches_torch(device: torch.device, z: tuple[torch.Tensor, int], reduction: str) -> None:
    logits, y = z[0].to(device), torch.tensor(z[1], device=device)
    close(L.cross_entropy(logits, y, reduction=reduction), F.cross_entropy(logits, y, reduction=reduction))
    close(L.cross_entropy_grad(logits, y, reduction=reduction), autograd(lambda x: F.cross_entropy(x, y, reduction=reduction).sum(), logits))


@device_settings
@given(zy=spatial_logits_and_targets(), reduction=reductions, eps=smoothing)
def test_cross_entropy_spatial_matches_torch(device: torch.device, zy: tuple[torch.Tensor, torch.Tensor], reduction: str, eps: float) -> None:
    z, y = (x.to(device) for x in zy)
    close(L.cross_entropy(z, y, reduction=reduction, label_smoothing=eps), F.cross_entropy(z, y, reduction=reduction, label_smoothing=eps))
    g_ref = autograd(lambda x: F.cross_entropy(x, y, reduction=reduction, label_smoothing=eps).sum(), z)
    close(L.cross_entropy_grad(z, y, reduction=reduction, label_smoothing=eps), g_ref)


@device_settings
@given(p=probability_vectors(allow_zeros=True), reduction=reductions, eps=smoothing, data=st.data())
def test_cross_entropy_probabilities_matches_torch(device: torch.device, p: torch.Tensor, reduction: str, eps: float, data: st.DataObject) -> None:
    z = data.draw(tensors(tuple(p.shape))).to(device)
    p = p.to(device)
    close(L.cross_entropy(z, p, reduction=reduction, label_smoothing=eps), F.cross_entropy(z, p, reduction=reduction, label_smoothing=eps))
    g_ref = autograd(lambda x: F.cross_entropy(x, p, reduction=reduction, label_smoothing=eps).sum(), z)
    close(autograd(lambda x: L.cross_entropy(x, p, reduction=reduction, label_smoothing=eps).sum(), z), g_ref)
    close(L.cross_entropy_grad(z, p, reduction=reduction, label_smoothing=eps), g_ref)


@device_settings
@given(z=tensors(), data=st.data(), reduction=reductions)
def test_bce_and_mse_match_torch(device: torch.device, z: torch.Tensor, data: st.DataObject, reduction: str) -> None:
    y = data.draw(tensors(tuple(z.shape), elements=st.floats(0.0, 1.0))).to(device)
    z = z.to(device)
    close(L.binary_cross_entropy_with_logits(z, y, reduction=reduction), F.binary_cross_entropy_with_logits(z, y, reduction=reduction))
    g_ref = autograd(lambda x: F.binary_cross_entropy_with_logits(x, y, reduction=reduction).sum(), z)
    close(autograd(lambda x: L.binary_cross_entropy_with_logits(x, y, reduction=reduction).sum(), z), g_ref)
    close(L.binary_cross_entropy_with_logits_grad(z, y, reduction=reduction), g_ref)
    close(L.mse(z, y, reduction), F.mse_loss(z, y, reduction=reduction))
    g_ref = autograd(lambda x: F.mse_loss(x, y, reduction=reduction).sum(), z)
    close(autograd(lambda x: L.mse(x, y, reduction).sum(), z), g_ref)
    close(L.mse_grad(z, y, reduction), g_ref)


@device_settings
@given(pq=st.integers(1, 5).flatmap(lambda b: st.tuples(probability_vectors(batch=b, classes=5, allow_zeros=True), probability_vectors(batch=b, classes=5))), reduction=reductions)
def test_kl_and_entropy_match_torch(device: torch.device, pq: tuple[torch.Tensor, torch.Tensor], reduction: str) -> None:
    p, q = (x.to(device) for x in pq)
    per_row = F.kl_div(torch.log(q), p, reduction="none").sum(-1)
    expected = {"none": per_row, "sum": per_row.sum(), "mean": F.kl_div(torch.log(q), p, reduction="batchmean")}[reduction]
    close(L.kl_divergence(p, q, reduction), expected)
    close(L.entropy(p), torch.distributions.Categorical(probs=p).entropy())
    # gradient in q (p may hold zeros): against autograd through torch's kl_div
    g_ref = autograd(lambda x: F.kl_div(torch.log(x), p, reduction="none").sum(-1).sum() / (len(p) if reduction == "mean" else 1), q)
    close(L.kl_divergence_grad(p, q, reduction)[1], g_ref)


@device_settings
@given(pq=st.integers(1, 5).flatmap(lambda b: st.tuples(probability_vectors(batch=b, classes=4), probability_vectors(batch=b, classes=4))), reduction=reductions)
def test_kl_and_entropy_gradients_match_autograd(device: torch.device, pq: tuple[torch.Tensor, torch.Tensor], reduction: str) -> None:
    p, q = (x.to(device) for x in pq)  # strictly positive: every partial derivative is finite
    kl = lambda a, b: L.kl_divergence(a, b, reduction).sum()  # noqa: E731
    ref = lambda a, b: F.kl_div(torch.log(b), a, reduction="none").sum(-1).sum() / (len(a) if reduction == "mean" else 1)  # noqa: E731
    grad_p, grad_q = L.kl_divergence_grad(p, q, reduction)
    close(grad_p, autograd(ref, p, q, wrt=0))
    close(grad_q, autograd(ref, p, q, wrt=1))
    close(autograd(kl, p, q, wrt=0), grad_p)
    close(autograd(kl, p, q, wrt=1), grad_q)
    close(L.entropy_grad(p), autograd(lambda x: -(x * torch.log(x)).sum(), p))


@device_settings
@given(ab=st.integers(1, 4).flatmap(lambda b: st.tuples(tensors((b, 5)), tensors((b, 5)))), reduction=reductions)
def test_kl_logits_matches_torch(device: torch.device, ab: tuple[torch.Tensor, torch.Tensor], reduction: str) -> None:
    a, b = (x.to(device) for x in ab)

    def ref(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        per_row = F.kl_div(F.log_softmax(y, -1), F.log_softmax(x, -1), reduction="none", log_target=True).sum(-1)
        return {"none": per_row, "sum": per_row.sum(), "mean": per_row.mean()}[reduction]

    close(L.kl_divergence_logits(a, b, reduction), ref(a, b))
    grad_a, grad_b = L.kl_divergence_logits_grad(a, b, reduction)
    close(grad_a, autograd(lambda x, y: ref(x, y).sum(), a, b, wrt=0))
    close(grad_b, autograd(lambda x, y: ref(x, y).sum(), a, b, wrt=1))
    close(autograd(lambda x, y: L.kl_divergence_logits(x, y, reduction).sum(), a, b, wrt=0), grad_a)


@device_settings
@given(s=tensors((3, 4)), t=tensors((3, 4)), y=st.lists(st.integers(0, 3), min_size=3, max_size=3),
       temperature=st.sampled_from([0.5, 1.0, 4.0]), alpha=st.sampled_from([0.0, 0.3, 1.0]))
def test_distillation_matches_torch(device: torch.device, s: torch.Tensor, t: torch.Tensor, y: list[int], temperature: float, alpha: float) -> None:
    s, t, y = s.to(device), t.to(device), torch.tensor(y, device=device)

    def ref(x: torch.Tensor) -> torch.Tensor:  # the usual PyTorch formulation
        soft = F.kl_div(F.log_softmax(x / temperature, 1), F.softmax(t / temperature, 1), reduction="batchmean")
        return alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(x, y)

    close(L.distillation_loss(s, t, y, temperature, alpha), ref(s))
    close(L.distillation_loss_grad(s, t, y, temperature, alpha), autograd(ref, s))


@device_settings
@given(mu=tensors((2, 3), elements=st.floats(-5, 5)), data=st.data())
def test_gaussian_kl_matches_torch(device: torch.device, mu: torch.Tensor, data: st.DataObject) -> None:
    draw = lambda shape: data.draw(tensors(shape, elements=st.floats(-3, 3))).to(device)  # noqa: E731
    mu, logvar, mu_p, logvar_p = mu.to(device), draw((2, 3)), draw((3,)), draw((2, 3))
    Normal = torch.distributions.Normal
    for prior in ((None, None), (mu_p, logvar_p)):
        pm = torch.zeros_like(mu) if prior[0] is None else prior[0].expand_as(mu)
        pv = torch.zeros_like(mu) if prior[1] is None else prior[1]
        ref = lambda m, v: torch.distributions.kl_divergence(Normal(m, torch.exp(v / 2)), Normal(pm, torch.exp(pv / 2))).sum(-1)  # noqa: E731
        close(L.gaussian_kl(mu, logvar, *prior), ref(mu, logvar))
        grad_mu, grad_logvar = L.gaussian_kl_grad(mu, logvar, *prior)
        close(grad_mu, autograd(lambda m, v: ref(m, v).sum(), mu, logvar, wrt=0))
        close(grad_logvar, autograd(lambda m, v: ref(m, v).sum(), mu, logvar, wrt=1))


# ------------------------------------------------------- inputs unchanged, higher derivatives


def test_softmax_family_leaves_its_inputs_unchanged(device: torch.device) -> None:
    z = torch.randn(6, 5, dtype=F64, device=device)
    g = torch.randn(6, 5, dtype=F64, device=device)
    y = torch.tensor([0, 1, 2, 3, 4, 0], device=device)
    z0, g0 = z.clone(), g.clone()
    s, ell = L.softmax(z), L.log_softmax(z)
    s0, ell0 = s.clone(), ell.clone()
    L.softmax_backward(g, s)
    L.log_softmax_backward(g, ell)
    L.cross_entropy(z, y)
    L.cross_entropy_grad(z, y, label_smoothing=0.2)
    for a, b in ((z, z0), (g, g0), (s, s0), (ell, ell0)):
        assert torch.equal(a, b)


def test_second_derivatives_match_torch(device: torch.device) -> None:
    """The hand-written backward passes are differentiable: Hessians equal PyTorch's."""
    z = torch.randn(3, 4, dtype=F64, device=device, requires_grad=True)
    y = torch.tensor([0, 3, 1], device=device)
    for fn in (lambda x: L.softmax(x, 1), lambda x: L.log_softmax(x, 0)):
        assert torch.autograd.gradgradcheck(fn, (z,))
    hessian = torch.autograd.functional.hessian
    close(hessian(lambda x: L.cross_entropy(x, y, label_smoothing=0.1), z.detach()),
          hessian(lambda x: F.cross_entropy(x, y, label_smoothing=0.1), z.detach()))
    w = torch.randn(3, 4, dtype=F64, device=device)
    close(hessian(lambda x: (L.softmax(x, 1) * w).sum(), z.detach()), hessian(lambda x: (F.softmax(x, 1) * w).sum(), z.detach()))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # raised inside torch.func
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_under_torch_func_transforms(name: str, device: torch.device) -> None:
    """grad, vmap and jacrev of torch.func agree with PyTorch's (forward mode is not provided:
    the teaching code has no jvp rule)."""
    mine, ref = getattr(L, name), getattr(F, name)
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(4, 6, generator=gen, dtype=F64).to(device)
    a = torch.randn(6, generator=gen, dtype=F64).to(device)
    f, g = (lambda t: mine(t, -1) @ a), (lambda t: ref(t, -1) @ a)
    close(torch.func.grad(f)(z[0]), torch.func.grad(g)(z[0]))
    close(torch.vmap(lambda t: mine(t, -1))(z), ref(z, -1))
    close(torch.func.jacrev(lambda t: mine(t, 0))(z), torch.func.jacrev(lambda t: ref(t, 0))(z))
    close(torch.func.jacrev(torch.func.jacrev(f))(z[0]), torch.func.hessian(g)(z[0]))


# ----------------------------------------------------------------------------- finite differences


def test_gradients_match_finite_differences(device: torch.device) -> None:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(4, 5, generator=g, dtype=F64).to(device)
    y = torch.tensor([0, 3, 4, 1], device=device)
    p = torch.softmax(torch.randn(4, 5, generator=g, dtype=F64), -1).to(device)
    yb = torch.rand(4, 5, generator=g, dtype=F64).to(device)
    z2 = torch.randn(4, 5, generator=g, dtype=F64).to(device)
    cases = [
        (lambda x: L.cross_entropy(x, y, label_smoothing=0.1), L.cross_entropy_grad(z, y, label_smoothing=0.1)),
        (lambda x: L.cross_entropy(x, p, reduction="sum"), L.cross_entropy_grad(z, p, reduction="sum")),
        (lambda x: L.binary_cross_entropy_with_logits(x, yb), L.binary_cross_entropy_with_logits_grad(z, yb)),
        (lambda x: L.mse(x, yb), L.mse_grad(z, yb)),
        (lambda x: L.kl_divergence_logits(z2, x, "mean"), L.kl_divergence_logits_grad(z2, z, "mean")[1]),
        (lambda x: L.kl_divergence_logits(x, z2, "sum"), L.kl_divergence_logits_grad(z, z2, "sum")[0]),
        (lambda x: L.distillation_loss(x, z2, y, 3.0, 0.7), L.distillation_loss_grad(z, z2, y, 3.0, 0.7)),
        (lambda x: L.gaussian_kl(x, z2).sum(), L.gaussian_kl_grad(z, z2)[0]),
        (lambda x: L.gaussian_kl(z2, x).sum(), L.gaussian_kl_grad(z2, z)[1]),
        (lambda x: (L.softmax(x) * yb).sum(), L.softmax_backward(yb, L.softmax(z))),
        (lambda x: (L.log_softmax(x) * yb).sum(), L.log_softmax_backward(yb, L.log_softmax(z))),
    ]
    for fn, analytic in cases:
        close(finite_difference(fn, z.clone()), analytic, atol=1e-7, rtol=1e-6)
    # KL and entropy in probability space: perturb entries freely (no simplex projection)
    q = torch.softmax(z2, -1)
    close(finite_difference(lambda x: (torch.xlogy(p, p) - torch.xlogy(p, x)).sum(), q.clone()), L.kl_divergence_grad(p, q, "sum")[1], atol=1e-7, rtol=1e-6)
    close(finite_difference(lambda x: (torch.xlogy(x, x) - torch.xlogy(x, q)).sum(), p.clone()), L.kl_divergence_grad(p, q, "sum")[0], atol=1e-7, rtol=1e-6)
    close(finite_difference(lambda x: -torch.xlogy(x, x).sum(), p.clone()), L.entropy_grad(p), atol=1e-7, rtol=1e-6)


# ----------------------------------------------------------------------------- huge logits


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_huge_logits_are_finite_and_correct(device: torch.device, dtype: torch.dtype) -> None:
    z = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype, device=device)
    y = torch.tensor([1, 2], device=device)
    s = L.softmax(z)
    assert bool(torch.isfinite(s).all())
    close(s, torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], dtype=dtype, device=device), atol=1e-6, rtol=1e-6)
    ls = L.log_softmax(z)
    close(ls, torch.tensor([[0.0, -1e4, -2e4], [-math.log(3)] * 3], dtype=dtype, device=device), atol=1e-4, rtol=1e-6)
    ce = L.cross_entropy(z, y, reduction="none")
    close(ce, torch.tensor([1e4, math.log(3)], dtype=dtype, device=device), atol=1e-4, rtol=1e-6)
    close(L.cross_entropy(z, y, reduction="none"), F.cross_entropy(z, y, reduction="none"))
    grad = L.cross_entropy_grad(z, y, reduction="sum")
    close(grad, torch.tensor([[1.0, -1.0, 0.0], [1 / 3, 1 / 3, -2 / 3]], dtype=dtype, device=device), atol=1e-6, rtol=1e-6)
    assert L.logsumexp(z[0]).item() == 1e4
    # naive softmax overflows in exactly this case
    assert torch.isnan(torch.exp(z[0]) / torch.exp(z[0]).sum()).any()
    zb = torch.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, device=device)
    yb = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype, device=device)
    close(L.binary_cross_entropy_with_logits(zb, yb, reduction="none"), torch.tensor([0.0, 0.0, 1e4, 1e4], dtype=dtype, device=device))
    close(L.binary_cross_entropy_with_logits_grad(zb, yb, reduction="none"), torch.tensor([0.0, 0.0, 1.0, -1.0], dtype=dtype, device=device))
    a = torch.tensor([0.0, 0.0], dtype=dtype, device=device)
    b = torch.tensor([1e4, 0.0], dtype=dtype, device=device)
    close(L.kl_divergence_logits(a, b), torch.tensor(5e3 - math.log(2), dtype=dtype, device=device), atol=1e-3, rtol=1e-6)
    for g in L.kl_divergence_logits_grad(a, b) + L.kl_divergence_logits_grad(b, a):
        assert bool(torch.isfinite(g).all())
    close(L.kl_divergence_logits_grad(a, b)[1], torch.tensor([0.5, -0.5], dtype=dtype, device=device))


def test_masked_logits(device: torch.device) -> None:
    """A logit of -inf on a class the target does not use gives a finite loss and gradient."""
    z = torch.tensor([[0.0, -math.inf, 1.0], [2.0, 0.5, -math.inf]], dtype=F64, device=device)
    y = torch.tensor([2, 0], device=device)
    close(L.cross_entropy(z, y, reduction="none"), F.cross_entropy(z, y, reduction="none"))
    assert bool(torch.isfinite(L.cross_entropy(z, y)))
    zz = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(L.cross_entropy(zz, y), zz)
    close(g, L.cross_entropy_grad(z, y))
    assert bool(torch.isfinite(g).all())
    p = F.one_hot(y, 3).to(F64)
    close(L.cross_entropy(z, p, reduction="none"), F.cross_entropy(z, y, reduction="none"))
    # with label smoothing the masked class gets target mass, so the loss is infinite (as in torch)
    assert L.cross_entropy(z, y, label_smoothing=0.1).item() == math.inf


def test_float32_matches_float64(device: torch.device) -> None:
    z = torch.randn(6, 4, dtype=F64, device=device) * 5
    y = torch.tensor([0, 1, 2, 3, 0, 1], device=device)
    close(L.cross_entropy(z.float(), y).double(), L.cross_entropy(z, y), atol=1e-5, rtol=1e-5)
    assert L.cross_entropy(z.float(), y).dtype == torch.float32
    assert L.cross_entropy_grad(z.float(), y).dtype == torch.float32


# ----------------------------------------------------------------------------- every raise


def _t(*v: float) -> torch.Tensor:
    return torch.tensor(v, dtype=F64)


RAISES = [
    # (callable, exception, argument named in the message)
    (lambda: L.softmax([1.0, 2.0]), TypeError, "z"),
    (lambda: L.softmax(torch.tensor([1, 2])), TypeError, "z must be a floating-point tensor, got torch.int64"),
    (lambda: L.softmax(_t(1.0), dim=1.0), TypeError, "dim"),
    (lambda: L.softmax(_t(1.0), dim=3), ValueError, "dim=3"),
    (lambda: L.log_softmax(torch.tensor(1.0), dim=1), ValueError, "dim=1 is out of range for z with 0 dimension"),
    (lambda: L.logsumexp(torch.tensor([1, 2])), TypeError, "z"),
    (lambda: L.softmax_backward(torch.tensor([1, 2]), _t(0.5, 0.5)), TypeError, "grad_output"),
    (lambda: L.softmax_backward(_t(1.0, 2.0), torch.tensor([1, 0])), TypeError, "output"),
    (lambda: L.softmax_backward(_t(1.0), _t(0.5, 0.5)), ValueError, "grad_output"),
    (lambda: L.log_softmax_backward(_t(1.0), _t(0.5, 0.5)), ValueError, "grad_output"),
    (lambda: L.log_softmax_backward(_t(1.0, 2.0), _t(0.5, 0.5), dim=2), ValueError, "dim"),
    (lambda: L.softmax_jacobian(torch.tensor([1, 2])), TypeError, "z"),
    # cross-entropy
    (lambda: L.cross_entropy(torch.tensor([[1, 2]]), torch.tensor([0])), TypeError, "logits must be a floating-point tensor"),
    (lambda: L.cross_entropy(_t(1.0, 2.0).unsqueeze(0), [0]), TypeError, "target"),
    (lambda: L.cross_entropy(torch.tensor(1.0, dtype=F64), torch.tensor(0)), ValueError, "logits"),
    (lambda: L.cross_entropy(torch.zeros(2, 0, dtype=F64), torch.tensor([0, 0])), ValueError, "logits"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.tensor([0, 1, 2])), ValueError, "target.*batch size 2"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.tensor([[0], [1]])), ValueError, "target"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.tensor([0, 3])), ValueError, "target holds class index 3"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.tensor([-1, 0])), ValueError, "target holds class index -1"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.tensor([True, False])), TypeError, "target"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.zeros(2, dtype=torch.complex64)), TypeError, "target"),
    (lambda: L.cross_entropy(torch.zeros(2, 3, dtype=F64), torch.zeros(2, dtype=F64)), ValueError, "target of floating dtype"),
    (lambda: L.cross_entropy(torch.zeros(1, 3, dtype=F64), _t(0.5, 0.6, 0.0).unsqueeze(0)), ValueError, "target must be probability vectors summing to 1"),
    (lambda: L.cross_entropy(torch.zeros(1, 3, dtype=F64), _t(1.5, -0.5, 0.0).unsqueeze(0)), ValueError, "target .*negative"),
    (lambda: L.cross_entropy(torch.zeros(1, 2, dtype=F64), _t(math.nan, 1.0).unsqueeze(0)), ValueError, "target .*NaN"),
    (lambda: L.cross_entropy(torch.zeros(1, 2, dtype=F64), torch.tensor([0]), reduction="avg"), ValueError, "reduction"),
    (lambda: L.cross_entropy(torch.zeros(1, 2, dtype=F64), torch.tensor([0]), reduction=None), ValueError, "reduction"),
    (lambda: L.cross_entropy(torch.zeros(1, 2, dtype=F64), torch.tensor([0]), label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda: L.cross_entropy(torch.zeros(1, 2, dtype=F64), torch.tensor([0]), label_smoothing="0.1"), TypeError, "label_smoothing"),
    (lambda: L.cross_entropy_grad(torch.zeros(2, 3, dtype=F64), torch.tensor([0, 5])), ValueError, "target"),
    (lambda: L.cross_entropy_grad(torch.zeros(2, 3, dtype=F64), torch.tensor([0, 1]), reduction="batchmean"), ValueError, "reduction"),
    (lambda: L.cross_entropy_grad(torch.tensor([[1, 2]]), torch.tensor([0])), TypeError, "logits"),
    # BCE and MSE
    (lambda: L.binary_cross_entropy_with_logits(torch.tensor([1]), _t(1.0)), TypeError, "logits"),
    (lambda: L.binary_cross_entropy_with_logits(_t(1.0), torch.tensor([1])), TypeError, "target"),
    (lambda: L.binary_cross_entropy_with_logits(_t(1.0, 2.0), _t(1.0)), ValueError, "target must have the shape of logits"),
    (lambda: L.binary_cross_entropy_with_logits(_t(1.0), _t(2.0)), ValueError, "target must hold probabilities"),
    (lambda: L.binary_cross_entropy_with_logits(_t(1.0), _t(1.0), reduction="max"), ValueError, "reduction"),
    (lambda: L.binary_cross_entropy_with_logits_grad(_t(1.0), _t(-0.1)), ValueError, "target"),
    (lambda: L.binary_cross_entropy_with_logits_grad(_t(1.0), _t(1.0), reduction="x"), ValueError, "reduction"),
    (lambda: L.mse(torch.tensor([1]), _t(1.0)), TypeError, "input"),
    (lambda: L.mse(_t(1.0, 2.0), _t(1.0)), ValueError, "target must have the shape of input"),
    (lambda: L.mse(_t(1.0), _t(1.0), reduction="MEAN"), ValueError, "reduction"),
    (lambda: L.mse_grad(_t(1.0, 2.0), _t(1.0)), ValueError, "target"),
    (lambda: L.mse_grad(_t(1.0), _t(1.0), reduction="avg"), ValueError, "reduction"),
    # entropy and KL
    (lambda: L.entropy(torch.tensor([0, 1])), TypeError, "p"),
    (lambda: L.entropy(torch.tensor(1.0)), ValueError, "p"),
    (lambda: L.entropy(_t(0.5, 0.6)), ValueError, "p must be probability vectors summing to 1"),
    (lambda: L.entropy_grad(_t(1.2, -0.2)), ValueError, "p .*negative"),
    (lambda: L.kl_divergence(_t(0.5, 0.5), torch.tensor([1, 0])), TypeError, "q"),
    (lambda: L.kl_divergence(_t(0.5, 0.5), _t(1.0)), ValueError, "q must have the shape of p"),
    (lambda: L.kl_divergence(_t(0.5, 0.6), _t(0.5, 0.5)), ValueError, "p must be probability vectors"),
    (lambda: L.kl_divergence(_t(0.5, 0.5), _t(1.5, -0.5)), ValueError, "q .*negative"),
    (lambda: L.kl_divergence(_t(0.5, 0.5), _t(0.5, 0.5), reduction="batchmean"), ValueError, "reduction"),
    (lambda: L.kl_divergence_grad(_t(0.5, 0.5), _t(0.2, 0.2)), ValueError, "q"),
    (lambda: L.kl_divergence_grad(_t(0.5, 0.5), _t(0.5, 0.5), reduction=1), ValueError, "reduction"),
    (lambda: L.kl_divergence_logits(torch.tensor([1, 2]), _t(1.0, 2.0)), TypeError, "p_logits"),
    (lambda: L.kl_divergence_logits(_t(1.0, 2.0), torch.tensor([1, 2])), TypeError, "q_logits"),
    (lambda: L.kl_divergence_logits(_t(1.0, 2.0), _t(1.0)), ValueError, "q_logits"),
    (lambda: L.kl_divergence_logits(_t(1.0), _t(1.0), reduction="x"), ValueError, "reduction"),
    (lambda: L.kl_divergence_logits_grad(_t(1.0, 2.0), _t(1.0, 2.0, 3.0)), ValueError, "q_logits"),
    (lambda: L.kl_divergence_logits_grad(_t(1.0), _t(1.0), reduction="x"), ValueError, "reduction"),
    # distillation and Gaussian KL
    (lambda: L.distillation_loss(_t(1.0, 2.0), _t(1.0, 2.0), torch.tensor(0)), ValueError, "student_logits must have shape"),
    (lambda: L.distillation_loss(torch.tensor([[1, 2]]), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0])), TypeError, "student_logits"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), torch.tensor([[1, 2]]), torch.tensor([0])), TypeError, "teacher_logits"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0, 3.0).unsqueeze(0), torch.tensor([0])), ValueError, "teacher_logits"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([2])), ValueError, "target"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0]), temperature=0.0), ValueError, "temperature"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0]), temperature=None), TypeError, "temperature"),
    (lambda: L.distillation_loss(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0]), alpha=1.1), ValueError, "alpha"),
    (lambda: L.distillation_loss_grad(_t(1.0, 2.0), _t(1.0, 2.0), torch.tensor(0)), ValueError, "student_logits"),
    (lambda: L.distillation_loss_grad(torch.tensor([[1, 2]]), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0])), TypeError, "student_logits"),
    (lambda: L.distillation_loss_grad(_t(1.0, 2.0).unsqueeze(0), _t(1.0).unsqueeze(0), torch.tensor([0])), ValueError, "teacher_logits"),
    (lambda: L.distillation_loss_grad(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0]), temperature=-1.0), ValueError, "temperature"),
    (lambda: L.distillation_loss_grad(_t(1.0, 2.0).unsqueeze(0), _t(1.0, 2.0).unsqueeze(0), torch.tensor([0]), alpha=-0.1), ValueError, "alpha"),
    (lambda: L.gaussian_kl(torch.tensor([0]), _t(0.0)), TypeError, "mu"),
    (lambda: L.gaussian_kl(_t(0.0), torch.tensor([0])), TypeError, "logvar"),
    (lambda: L.gaussian_kl(_t(0.0, 1.0), _t(0.0)), ValueError, "logvar must have the shape of mu"),
    (lambda: L.gaussian_kl(torch.tensor(0.0), torch.tensor(0.0)), ValueError, "mu"),
    (lambda: L.gaussian_kl(_t(0.0, 1.0), _t(0.0, 0.0), prior_mu=_t(0.0, 0.0, 0.0)), ValueError, "prior_mu must broadcast"),
    (lambda: L.gaussian_kl(_t(0.0, 1.0), _t(0.0, 0.0), prior_logvar=torch.zeros(3, 2, dtype=F64)), ValueError, "prior_logvar"),
    (lambda: L.gaussian_kl(_t(0.0, 1.0), _t(0.0, 0.0), prior_logvar=torch.tensor([0, 0])), TypeError, "prior_logvar"),
    (lambda: L.gaussian_kl_grad(_t(0.0, 1.0), _t(0.0)), ValueError, "logvar"),
]


@pytest.mark.parametrize("call, exc, match", RAISES, ids=[f"{i}-{m[:30]}" for i, (_, _, m) in enumerate(RAISES)])
def test_raises(call: Callable[[], object], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_raises_on_mixed_devices() -> None:
    """Two-tensor functions refuse tensors on different devices (the meta device stands in
    for a second device, so this runs on every machine)."""
    meta = torch.device("meta")
    with pytest.raises(ValueError, match="target is on cpu but logits is on meta"):
        L.cross_entropy(torch.zeros(2, 3, device=meta), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="q is on cpu"):
        L.kl_divergence(torch.tensor([0.5, 0.5], device=meta), torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="q_logits is on cpu"):
        L.kl_divergence_logits(torch.zeros(2, device=meta), torch.zeros(2))
    with pytest.raises(ValueError, match="target is on cpu"):
        L.mse(torch.zeros(2, device=meta), torch.zeros(2))
    with pytest.raises(ValueError, match="grad_output is on meta"):
        L.softmax_backward(torch.zeros(2, device=meta), torch.zeros(2))
    with pytest.raises(ValueError, match="logvar is on cpu"):
        L.gaussian_kl(torch.zeros(2, device=meta), torch.zeros(2))
    with pytest.raises(ValueError, match="prior_mu is on meta"):
        L.gaussian_kl(torch.zeros(2), torch.zeros(2), prior_mu=torch.zeros(2, device=meta))
    with pytest.raises(ValueError, match="teacher_logits is on meta"):
        L.distillation_loss(torch.zeros(1, 2), torch.zeros(1, 2, device=meta), torch.tensor([0]))


def test_empty_tensors_as_torch(device: torch.device) -> None:
    """softmax of a (3, 0) tensor is the empty (3, 0) result, as torch (it raised IndexError)."""
    z = torch.zeros(3, 0, dtype=F64, device=device)
    for mine, ref in ((L.softmax, torch.softmax), (L.log_softmax, torch.log_softmax)):
        for dim in (0, 1):
            out = mine(z, dim)
            assert out.shape == ref(z, dim).shape == (3, 0)
    close(L.logsumexp(z, dim=1), torch.logsumexp(z, dim=1))  # the log of an empty sum: -inf
    close(L.logsumexp(z, dim=0), torch.logsumexp(z, dim=0))


def test_meta_tensors_never_read_values() -> None:
    """Meta tensors (shapes without data) go through the checks that inspect values; the result is meta."""
    meta = torch.device("meta")
    z = torch.zeros(4, 3, device=meta)
    assert L.cross_entropy(z, torch.zeros(4, dtype=torch.long, device=meta)).device == meta
    assert L.cross_entropy(z, torch.zeros(4, 3, device=meta), reduction="none").shape == (4,)
    p = torch.zeros(4, 3, device=meta)
    assert L.kl_divergence(p, p).shape == (4,) and L.entropy(p).device == meta
    assert L.binary_cross_entropy_with_logits(z, z).device == meta
    assert L.softmax(z).device == meta


def test_distillation_refuses_an_infinite_temperature() -> None:
    """temperature=inf passed the check and returned NaN; it is refused now."""
    s = torch.tensor([[1.0, 0.0]])
    for fn in (L.distillation_loss, L.distillation_loss_grad):
        with pytest.raises(ValueError, match="temperature must be finite, got inf"):
            fn(s, s, torch.tensor([0]), temperature=math.inf)
        with pytest.raises(ValueError, match="temperature"):
            fn(s, s, torch.tensor([0]), temperature=math.nan)


def test_tolerance_accepts_float32_softmax_rows(device: torch.device) -> None:
    """Rows produced by a float32 softmax pass the 'sums to 1' check, also with many classes."""
    z = torch.randn(8, 1000, device=device)
    q = torch.softmax(z, dim=-1)
    assert bool(torch.isfinite(L.kl_divergence(q, q)).all())
    assert float(L.cross_entropy(z, q)) > 0
