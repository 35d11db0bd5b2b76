"""Shared fixtures: the device fixture and hypothesis profiles.

``device`` is parametrized over every device present: tests that take it run on the CPU
always, and on CUDA / MPS only where they exist (no skipped GPU cases on a CPU machine).
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

from companion.device import available_devices

# companion.compiled's kernels: Inductor keeps what it builds here, so that a second run of the
# tests does not compile again (the Makefile sets the same directory)
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_build", "inductor"))

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEVICES = available_devices()


@pytest.fixture(params=DEVICES, ids=str, scope="session")
def device(request: pytest.FixtureRequest) -> torch.device:
    """Every device torch can use here: cpu, then cuda:i, then mps."""
    return request.param


@pytest.fixture(autouse=True)
def _float64_default_seed() -> None:
    """Seed torch before every test so failures reproduce."""
    torch.manual_seed(0)


@pytest.fixture
def ascii_locale():
    """The C locale for the test: files opened without an explicit encoding are read and written as ASCII.

    Code that must read and write UTF-8 whatever the machine's locale is tested under it (on a
    machine in Python's UTF-8 mode the locale does not matter and such tests cannot tell).
    """
    import locale

    old = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, old)


# Tests that take tens of seconds each (nbgrader end to end, the exercise notebooks, compiling
# with Inductor, a fresh virtual environment, two torch.distributed processes) run first, so that
# pytest-xdist's two workers share them and neither ends the run alone on one of them.
_SLOW_FIRST = (
    "test_grading.py",
    "test_exercise_notebooks.py",
    "test_benchmarks.py",
    "test_compiled.py",
    "test_distributed.py",
    "test_setup_cell.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(_SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
