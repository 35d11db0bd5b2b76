"""Fixtures of the JupyterLab checks: a real Jupyter server on the student release, and chromium.

The server is started once per session on a free localhost port with a random token, with
its working folder a temporary student tree (the release of ``chapters/`` plus one chapter
page), and with user settings, workspaces and Jupyter configuration in temporary folders so
that nothing of the user's own Jupyter set-up is used or touched. The lab settings of the
course (``book/_lab/overrides.json``, installed by ``make venv`` into the environment) apply.
The server is stopped, with its kernels, at the end of the session.

Chromium is driven by Playwright as in ``tests/site``: where Playwright or chromium is
missing the checks are skipped with the reason; under CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator, NamedTuple

import pytest

from labtools import CHAPTER_PAGE, ROOT

_spec = importlib.util.spec_from_file_location("_lab_sitetools", ROOT / "tests" / "site" / "sitetools.py")
sitetools = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(sitetools)  # type: ignore[union-attr]

LAB_SETTINGS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
START_TIMEOUT_S = 90


class Lab(NamedTuple):
    url: str  #: base URL, ending in '/'
    token: str
    folder: Path  #: the server's working folder (the student tree)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _student_tree(folder: Path) -> None:
    from companion.exercises.release import release

    release(ROOT / "chapters", folder / "chapters")
    page = folder / CHAPTER_PAGE
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / CHAPTER_PAGE, page)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A running Jupyter server (JupyterLab) on the student tree; stopped afterwards."""
    if not LAB_SETTINGS.is_file():
        pytest.fail(f"{LAB_SETTINGS} is missing: run `make venv` (it installs book/_lab/overrides.json)", pytrace=False)
    base = tmp_path_factory.mktemp("lab")
    folder = base / "work"
    _student_tree(folder)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        COMPANION_PROGRESS="0",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0", "--allow-root",
    ]
    log = open(base / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the Jupyter server exited with {proc.returncode}:\n{(base / 'server.log').read_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Jupyter server did not answer within {START_TIMEOUT_S} s", pytrace=False)
            time.sleep(0.3)
        yield Lab(url, token, folder)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless chromium driven by Playwright (skipped where absent, failed under CI)."""
    yield from sitetools.launched_chromium()


@pytest.fixture()
def tab(browser: object, lab: Lab) -> Iterator[object]:
    """A fresh browser context and tab (the server's token is sent as a cookie by the first URL)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = ctx.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        ctx.close()
