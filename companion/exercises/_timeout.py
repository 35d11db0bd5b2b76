"""Run a student's call with a time limit that works everywhere and never hangs the check.

The call runs in a daemon worker thread; the caller waits at most ``timeout`` seconds.
When time is up, the check stops waiting and asks the worker to stop by raising
:class:`CallTimedOut` inside it (CPython's ``PyThreadState_SetAsyncExc``), which ends
endless Python loops within milliseconds. Code that swallows every exception with a bare
``except:`` or sits in one very long C call cannot be stopped this way; it keeps running in
the background (the verdict says so: restart the kernel), but the check itself returns.

A signal-based limit (``SIGALRM``) was rejected: it exists on Linux and macOS only, and code
with a bare ``except:`` in its loop catches every alarm, so the check would hang.
The worker inherits the caller's autograd mode (grad mode is thread-local in torch).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Optional, Sequence

import torch

__all__ = ["CallTimedOut", "call_with_timeout"]

_GRACE_S = 1.0  # how long to wait for the worker to stop after the async exception


class CallTimedOut(BaseException):
    """Raised when a call ran past its time limit.

    A ``BaseException`` (not an ``Exception``) so that a student's ``except Exception:``
    does not swallow it inside the worker.

    Attributes
    ----------
    still_running : bool
        True when the worker did not stop within a second of being asked to.
    """

    def __init__(self, still_running: bool = False) -> None:
        super().__init__("call timed out")
        self.still_running = still_running


def _async_raise(thread: threading.Thread, exc_type: type) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


def call_with_timeout(fn: Callable[..., Any], args: Sequence[Any] = (), timeout: Optional[float] = 10.0) -> Any:
    """Return ``fn(*args)``, or raise :class:`CallTimedOut` after ``timeout`` seconds.

    Exceptions raised by ``fn`` propagate unchanged, with their traceback.

    Parameters
    ----------
    fn : callable
    args : sequence
        Positional arguments.
    timeout : float or None
        Seconds; ``None`` calls ``fn`` directly, without a limit.

    Returns
    -------
    object
        What ``fn`` returned.

    Raises
    ------
    CallTimedOut
        If ``fn`` ran longer than ``timeout`` seconds.
    ValueError
        If ``timeout`` is not a positive number or ``None``.

    Examples
    --------
    >>> call_with_timeout(sum, ([1, 2, 3],), timeout=1.0)
    6
    >>> def forever():
    ...     while True:
    ...         pass
    >>> try:
    ...     call_with_timeout(forever, timeout=0.2)
    ... except CallTimedOut as err:
    ...     print("stopped; still running:", err.still_running)
    stopped; still running: False
    """
    if timeout is None:
        return fn(*args)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    box: dict[str, Any] = {}
    grad_enabled = torch.is_grad_enabled()

    def target() -> None:
        try:
            with torch.set_grad_enabled(grad_enabled):
                box["value"] = fn(*args)
        except CallTimedOut:
            box["stopped"] = True
        except BaseException as err:  # noqa: BLE001 - handed back to the caller
            box["error"] = err

    worker = threading.Thread(target=target, name="companion-exercise-call", daemon=True)
    worker.start()
    try:
        worker.join(float(timeout))
    except BaseException:  # e.g. KeyboardInterrupt: the stop button of Jupyter
        _async_raise(worker, CallTimedOut)
        raise
    if worker.is_alive():
        _async_raise(worker, CallTimedOut)
        worker.join(_GRACE_S)
        raise CallTimedOut(still_running=worker.is_alive())
    if "error" in box:
        err = box.pop("error")
        try:
            raise err
        finally:
            del err
    return box.get("value")
