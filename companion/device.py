"""Choosing a device and seeding every random number generator.

Every notebook of the course starts with::

    import companion
    companion.seed_everything(0)
    device = companion.get_device()

so that it runs unchanged on a laptop CPU, an Apple GPU or an NVIDIA GPU, and gives the
same numbers on every run of the same machine.
"""

from __future__ import annotations

import os
import random
from typing import Optional, Union

import numpy as np
import torch

from companion import _validate

__all__ = ["ENV_VAR", "available_devices", "get_device", "seed_everything"]

#: Environment variable that overrides the automatic choice of :func:`get_device`.
ENV_VAR = "COMPANION_DEVICE"

_KNOWN_TYPES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[torch.device]:
    """List the devices torch can use on this machine, CPU first.

    Returns
    -------
    list of torch.device
        ``cpu``, then ``cuda:0`` ... ``cuda:{n-1}`` for each visible NVIDIA GPU, then
        ``mps`` when the Apple Metal backend is available.

    Examples
    --------
    >>> available_devices()[0]
    device(type='cpu')
    """
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    if _mps_available():
        devices.append(torch.device("mps"))
    return devices


def _parse(spec: Union[str, torch.device], argument: str) -> torch.device:
    if not isinstance(spec, (str, torch.device)):
        raise TypeError(
            f"{argument} must be a str such as 'cpu' or 'cuda:0' or a torch.device, "
            f"got {type(spec).__name__}"
        )
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"{argument}={spec!r} is not a device name; expected one of "
            f"{', '.join(_KNOWN_TYPES)} (optionally with an index, e.g. 'cuda:0')"
        ) from err
    if device.type not in _KNOWN_TYPES:
        raise ValueError(f"{argument}={spec!r}: expected a device of type {', '.join(_KNOWN_TYPES)}")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if device.index is None else device.index
        if index >= count:
            raise ValueError(
                f"{argument}={spec!r} asks for a CUDA device, but this machine has "
                f"{count} visible CUDA device(s); available: {_names()}"
            )
    if device.type == "mps" and not _mps_available():
        raise ValueError(
            f"{argument}={spec!r} asks for Apple's MPS backend, which is not available here; "
            f"available: {_names()}"
        )
    return device


def _names() -> str:
    return ", ".join(str(d) for d in available_devices())


def get_device(prefer: Optional[Union[str, torch.device]] = None) -> torch.device:
    """Return the device to compute on.

    The choice, in order of precedence:

    1. the environment variable ``COMPANION_DEVICE`` (e.g. ``COMPANION_DEVICE=cpu`` to force
       the CPU on a GPU machine);
    2. ``prefer``, when given;
    3. ``cuda`` if an NVIDIA GPU is visible, else ``mps`` on Apple silicon, else ``cpu``.

    A device that is asked for but absent is an error, never a silent fallback.

    Parameters
    ----------
    prefer : str or torch.device, optional
        The device to use when the environment variable is not set.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        If ``prefer`` is neither a string nor a ``torch.device``.
    ValueError
        If the requested device (from the environment or ``prefer``) is unknown or absent.

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _parse(env, f"environment variable {ENV_VAR}")
    if prefer is not None:
        return _parse(prefer, "prefer")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> int:
    """Seed Python's, NumPy's and torch's generators (CPU and every GPU).

    Parameters
    ----------
    seed : int
        A non-negative integer below :math:`2^{32}`.

    Returns
    -------
    int
        The seed, so that a notebook can print what it used.

    Raises
    ------
    TypeError
        If ``seed`` is not an int (``bool`` is refused too).
    ValueError
        If ``seed`` is negative or not below :math:`2^{32}`.

    Examples
    --------
    >>> _ = seed_everything(0); a = torch.rand(2)
    >>> _ = seed_everything(0); b = torch.rand(2)
    >>> torch.equal(a, b)
    True
    """
    seed = _validate.integer(seed, "seed")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA/MPS device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed
