"""companion.device: device choice, overrides, errors, seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import given

import companion
from companion.device import ENV_VAR, available_devices, get_device, seed_everything
from strategies import seeds


def test_reexported_at_top_level() -> None:
    assert companion.get_device is get_device
    assert companion.seed_everything is seed_everything
    assert isinstance(companion.__version__, str) and companion.__version__.count(".") == 2


def test_available_devices_starts_with_cpu() -> None:
    devices = available_devices()
    assert devices[0] == torch.device("cpu")
    assert len(devices) == 1 + torch.cuda.device_count() * torch.cuda.is_available() + (
        torch.backends.mps.is_available() if hasattr(torch.backends, "mps") else 0
    )


def test_default_is_best_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected


def test_prefer_and_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, "  ")  # blank means unset
    assert get_device("cpu") == torch.device("cpu")


def test_cpu_forced_even_with_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device("cuda" if torch.cuda.is_available() else "cpu").type == "cpu"


def test_fake_cuda_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CUDA reported present, the default is cuda (without touching a real GPU)."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is absent")
def test_absent_cuda_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="prefer='cuda'.*0 visible CUDA"):
        get_device("cuda")
    monkeypatch.setenv(ENV_VAR, "cuda:0")
    with pytest.raises(ValueError, match=f"environment variable {ENV_VAR}"):
        get_device()


def test_cuda_index_out_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="cuda:99"):
        get_device("cuda:99")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="checks the error raised when MPS is absent")
def test_absent_mps_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="MPS"):
        get_device("mps")


@pytest.mark.parametrize("bad", ["tpu", "gpu", "cuda:x", ""])
def test_unknown_names(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="prefer"):
        get_device(bad)


def test_unknown_type_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "meta")
    with pytest.raises(ValueError, match=ENV_VAR):
        get_device()


@pytest.mark.parametrize("bad", [0, 1.5, ["cpu"]])
def test_prefer_type_error(monkeypatch: pytest.MonkeyPatch, bad: object) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(TypeError, match="prefer must be"):
        get_device(bad)  # type: ignore[arg-type]


@given(seeds)
def test_seed_everything_repeats_all_generators(seed: int) -> None:
    assert seed_everything(seed) == seed
    first = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(seed)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])


def test_seed_on_every_device(device: torch.device) -> None:
    seed_everything(123)
    a = torch.rand(4, device=device)
    seed_everything(123)
    b = torch.rand(4, device=device)
    assert torch.equal(a, b)
    seed_everything(124)
    assert not torch.equal(a, torch.rand(4, device=device))


def test_numpy_integer_seed_accepted() -> None:
    assert seed_everything(np.int64(7)) == 7


@pytest.mark.parametrize("bad", [1.0, "1", None, True])
def test_seed_type_errors(bad: object) -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seed_range_errors(bad: int) -> None:
    with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*32\)"):
        seed_everything(bad)


def test_top_level_reexports_are_the_module_objects() -> None:
    from companion import losses, optim, train

    for name in companion.__all__:
        assert hasattr(companion, name), name
    assert companion.softmax is losses.softmax and companion.Adam is optim.Adam and companion.fit is train.fit
    assert len(set(companion.__all__)) == len(companion.__all__)
