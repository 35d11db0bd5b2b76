"""Tests of companion.curvature: Hessian-vector products and the top eigenvalue, against dense Hessians."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from companion.curvature import hessian_vector_product, top_hessian_eigenvalue
from strategies import seeds

F64 = torch.float64


def small_mlp_problem(seed: int, device: torch.device):
    """A 3-4-2 tanh MLP on 12 points: 26 parameters, an indefinite Hessian away from a minimum."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(12, 3, generator=g, dtype=F64).to(device)
    y = torch.randint(0, 2, (12,), generator=g).to(device)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    params = [torch.randn(*s, generator=g, dtype=F64).to(device).requires_grad_(True) for s in shapes]

    def loss_of(w1, b1, w2, b2):
        return F.cross_entropy(torch.tanh(X @ w1.T + b1) @ w2.T + b2, y)

    return params, loss_of


def dense_hessian(loss_of, params) -> torch.Tensor:
    blocks = torch.autograd.functional.hessian(loss_of, tuple(p.detach() for p in params))
    sizes = [p.numel() for p in params]
    return torch.cat([torch.cat([blocks[i][j].reshape(sizes[i], sizes[j]) for j in range(len(params))], dim=1)
                      for i in range(len(params))], dim=0)


@settings(max_examples=15)
@given(seed=seeds)
def test_hvp_equals_dense_hessian_times_vector(seed: int, device: torch.device) -> None:
    params, loss_of = small_mlp_problem(seed, device)
    H = dense_hessian(loss_of, params)
    v = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(seed), dtype=F64).to(device)
    loss = loss_of(*params)
    torch.testing.assert_close(hessian_vector_product(loss, params, v), H @ v, rtol=1e-10, atol=1e-12)
    # the graph is kept: a second product with the same loss works and is linear in v
    torch.testing.assert_close(hessian_vector_product(loss, params, 2 * v), 2 * H @ v, rtol=1e-10, atol=1e-12)


@settings(max_examples=15)
@given(seed=seeds)
def test_top_eigenvalue_of_quadratic_equals_eigvalsh(seed: int, device: torch.device) -> None:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    eigs = torch.tensor([0.3, 1.0, 2.0, 3.5, 5.0, 10.0], dtype=F64)
    A = ((q * eigs) @ q.T).to(device)
    w = torch.randn(6, generator=g, dtype=F64).to(device).requires_grad_(True)
    top = top_hessian_eigenvalue(lambda: 0.5 * w @ A @ w, [w], iters=500, tol=1e-14, generator=g)
    assert top.value == pytest.approx(float(torch.linalg.eigvalsh(A)[-1]), rel=1e-10)
    assert torch.allclose(A @ top.vector, top.value * top.vector, atol=1e-5)
    assert top.iterations < 500


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_eigenvalue_of_mlp_equals_eigvalsh(seed: int, device: torch.device) -> None:
    params, loss_of = small_mlp_problem(seed, device)
    expected = float(torch.linalg.eigvalsh(dense_hessian(loss_of, params))[-1])
    top = top_hessian_eigenvalue(loss_of(*params), params, iters=5000, tol=1e-13,
                                 generator=torch.Generator().manual_seed(seed))
    assert top.value == pytest.approx(expected, rel=1e-6)


def test_negative_dominant_eigenvalue_is_shifted_away(device: torch.device) -> None:
    A = torch.diag(torch.tensor([-5.0, 1.0, 2.0], dtype=F64, device=device))      # |-5| dominates
    w = torch.ones(3, dtype=F64, device=device, requires_grad=True)
    top = top_hessian_eigenvalue(lambda: 0.5 * w @ A @ w, w, iters=2000, tol=1e-14,
                                 generator=torch.Generator().manual_seed(0))
    assert top.value == pytest.approx(2.0, rel=1e-8)
    assert abs(float(top.vector[2])) == pytest.approx(1.0, rel=1e-6)


def test_zero_hessian_gives_zero() -> None:
    w = torch.ones(3, dtype=F64, requires_grad=True)
    top = top_hessian_eigenvalue(lambda: w.sum() * 2.0, [w], generator=torch.Generator().manual_seed(0))
    assert top.value == 0.0 and top.iterations == 1


def test_errors_name_the_argument() -> None:
    w = torch.ones(3, dtype=F64, requires_grad=True)
    loss = (w ** 2).sum()
    v = torch.ones(3, dtype=F64)
    with pytest.raises(TypeError, match="loss must be a floating-point tensor"):
        hessian_vector_product(torch.tensor(1), [w], v)
    with pytest.raises(ValueError, match="loss must be a scalar tensor"):
        hessian_vector_product(w ** 2, [w], v)
    with pytest.raises(ValueError, match="loss must depend on params"):
        hessian_vector_product(torch.tensor(1.0), [w], v)
    with pytest.raises(ValueError, match="params must hold at least one tensor"):
        hessian_vector_product(loss, [], v)
    with pytest.raises(TypeError, match="params must be a sequence of tensors"):
        hessian_vector_product(loss, 3, v)
    with pytest.raises(TypeError, match="every entry of params must be a torch.Tensor"):
        hessian_vector_product(loss, [w, "b"], v)
    with pytest.raises(ValueError, match="every entry of params must require grad"):
        hessian_vector_product(loss, [torch.ones(3)], v)
    with pytest.raises(ValueError, match=r"vector must have shape \(3,\)"):
        hessian_vector_product(loss, [w], torch.ones(4, dtype=F64))
    with pytest.raises(TypeError, match="vector must be a torch.Tensor"):
        hessian_vector_product(loss, [w], [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="loss must be a scalar tensor or a callable"):
        top_hessian_eigenvalue(1.0, [w])
    with pytest.raises(ValueError, match="iters must be >= 1"):
        top_hessian_eigenvalue(loss, [w], iters=0)
    with pytest.raises(TypeError, match="iters must be an int"):
        top_hessian_eigenvalue(loss, [w], iters=1.5)
    with pytest.raises(ValueError, match="tol must be > 0"):
        top_hessian_eigenvalue(loss, [w], tol=0.0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        top_hessian_eigenvalue(loss, [w], generator=0)
