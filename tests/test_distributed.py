"""Tests of companion.distributed: sharding laws, and 2 workers with batch b == 1 process with batch 2b.

The two-process test spawns 2 workers with ``companion.distributed.launch`` (what torchrun
does: set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT and run ``main``), gloo on 127.0.0.1 only.
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import distributed as cd

@given(n=st.integers(0, 500), world=st.integers(1, 9))
def test_shards_cover_every_index_once_and_differ_by_at_most_one(n, world):
    parts = [shard for shard in (cd.shard(n, r, world) for r in range(world))]
    covered = [i for s in parts for i in range(n)[s]]
    assert covered == list(range(n))
    sizes = [len(range(n)[s]) for s in parts]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)


@given(n=st.integers(1, 300), batch=st.integers(1, 64), epochs=st.integers(1, 3), seed=st.integers(0, 100))
def test_batches_are_epochs_of_permutations_with_a_partial_last_batch(n, batch, epochs, seed):
    bs = cd.batches(n, batch, epochs, seed)
    per_epoch = -(-n // batch)
    assert len(bs) == epochs * per_epoch
    for e in range(epochs):
        epoch = bs[e * per_epoch : (e + 1) * per_epoch]
        assert sorted(torch.cat(epoch).tolist()) == list(range(n))
        assert [len(b) for b in epoch[:-1]] == [batch] * (per_epoch - 1)
        assert len(epoch[-1]) == (n % batch or batch)
    assert all(torch.equal(a, b) for a, b in zip(bs, cd.batches(n, batch, epochs, seed)))


def test_single_process_helpers_are_no_ops_and_training_learns():
    assert cd.setup() == (0, 1, torch.device("cpu")) or "WORLD_SIZE" in os.environ
    w = torch.ones(3, requires_grad=True)
    (2 * w).sum().backward()
    cd.all_reduce_gradients([w], local_count=4)
    cd.all_reduce_gradients([w])
    cd.broadcast_parameters([w])
    assert torch.equal(w.grad, torch.full((3,), 2.0))
    X, y = cd.make_data("synthetic")
    model = cd.make_model(seed=1)
    losses = cd.train(model, X, y, batch_size=64, epochs=2)
    assert len(losses) == 2 * 10 and losses[-1] < 0.5 * losses[0]  # ceil(599 / 64) = 10 per epoch


def test_single_process_train_is_plain_minibatch_sgd():
    """train() with one process = SGD on the mean loss of each global batch, in order."""
    X, y = cd.make_data("synthetic")
    m1, m2 = cd.make_model(seed=2), cd.make_model(seed=2)
    cd.train(m1, X, y, batch_size=50, epochs=1, lr=0.2, momentum=0.5, seed=3)
    opt = torch.optim.SGD(m2.parameters(), lr=0.2, momentum=0.5)
    for idx in cd.batches(len(X), 50, 1, seed=3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m2(X[idx]), y[idx]).backward()
        opt.step()
    for a, b in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_two_workers_with_batch_b_equal_one_process_with_batch_2b():
    """2 CPU worker processes (gloo on 127.0.0.1), b = 32 each, 12 steps in float64.

    The synthetic set has 599 = 9 * 64 + 23 examples: step 10 is the partial last batch of
    the epoch, split 12 + 11 between the workers (the size-weighted all-reduce keeps it
    exact), and steps 11-12 belong to the second epoch.
    """
    args = ["--data", "synthetic", "--steps", "12", "--lr", "0.2", "--momentum", "0.9"]
    two = cd.launch(args + ["--batch-size", "32"], nproc=2)
    assert two["world_size"] == 2
    one = cd.main(args + ["--batch-size", "64"])
    assert one["world_size"] == 1
    assert len(two["losses"]) == 12
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-12)
    assert two["losses"][-1] < two["losses"][0]
    for key, value in one["state_dict"].items():
        assert value.dtype == torch.float64
        torch.testing.assert_close(two["state_dict"][key], value, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: cd.shard(-1, 0, 1), ValueError, "n"),
        (lambda: cd.shard(5, 0, 0), ValueError, "world_size"),
        (lambda: cd.shard(5, 2, 2), ValueError, "rank"),
        (lambda: cd.shard(5, -1, 2), ValueError, "rank"),
        (lambda: cd.shard(5.0, 0, 1), TypeError, "n"),
        (lambda: cd.batches(0, 4, 1), ValueError, "n"),
        (lambda: cd.batches(10, 0, 1), ValueError, "batch_size"),
        (lambda: cd.batches(10, 4, 0), ValueError, "epochs"),
        (lambda: cd.batches(10, 4.0, 1), TypeError, "batch_size"),
        (lambda: cd.setup("mpi"), ValueError, "backend"),
        (lambda: cd.all_reduce_gradients([], local_count=-1), ValueError, "local_count"),
        (lambda: cd.all_reduce_gradients([], local_count=2.0), TypeError, "local_count"),
        (lambda: cd.make_data("mnist"), ValueError, "name"),
        (lambda: cd.launch([], nproc=0), ValueError, "nproc"),
        (lambda: cd.launch(["--out", "x.pt"]), ValueError, "--out"),
        (lambda: cd.train(cd.make_model(), torch.zeros(3, 64), torch.zeros(2, dtype=torch.long), batch_size=2), ValueError, "same length"),
        (lambda: cd.train(cd.make_model(), torch.zeros(3, 64), torch.zeros(3, dtype=torch.long), batch_size=0), ValueError, "batch_size"),
    ],
)
def test_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize(
    "env, match",
    [
        ({"WORLD_SIZE": "abc"}, "environment variable WORLD_SIZE must be an integer, got 'abc'"),
        ({"WORLD_SIZE": "0"}, "environment variable WORLD_SIZE must be >= 1, got 0"),
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "x1"}, "environment variable LOCAL_RANK must be an integer, got 'x1'"),
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "-1"}, "environment variable LOCAL_RANK must be >= 0, got -1"),
    ],
)
def test_setup_names_a_malformed_environment_variable(monkeypatch: pytest.MonkeyPatch, env, match) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=match):
        cd.setup()
