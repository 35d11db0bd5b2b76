"""Fixtures for the checks of the built website (run after the book is built).

The site is read from ``_build/html`` unless ``--site-dir DIR`` or the environment variable
``SITE_DIR`` says otherwise; the table of contents that built it from ``_toc.yml`` unless
``--site-toc FILE`` or ``SITE_TOC`` says otherwise. The browser checks drive Debian's
``chromium`` (or the file named by ``CHROMIUM``) headless with Playwright. Where Playwright
or chromium is missing those checks are skipped with the reason; under CI (``CI=true``) the
same absence is a failure. The checks over the HTML files need neither.

Typical use::

    make book && python -m pytest tests/site -rs
"""

from __future__ import annotations

import functools
import http.server
import os
import socketserver
import threading
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

from sitetools import (
    ROOT,
    PageLog,
    chromium_executable,
    is_local,
    launched_chromium,
    read_toc,
    skip_or_fail,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("site", "checks of the built website")
    group.addoption("--site-dir", default=None, help="built HTML folder (default: $SITE_DIR or _build/html)")
    group.addoption("--site-toc", default=None, help="table of contents of that build (default: $SITE_TOC or _toc.yml)")


def _site_dir(config: pytest.Config) -> Path:
    value = config.getoption("--site-dir") or os.environ.get("SITE_DIR") or "_build/html"
    path = Path(value)
    return (path if path.is_absolute() else ROOT / path).resolve()


def _toc_file(config: pytest.Config) -> Path:
    value = config.getoption("--site-toc") or os.environ.get("SITE_TOC") or "_toc.yml"
    path = Path(value)
    return (path if path.is_absolute() else ROOT / path).resolve()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``toc_page`` over every page of the table of contents, by name."""
    if "toc_page" in metafunc.fixturenames:
        names = [name for name, _, _ in read_toc(_toc_file(metafunc.config))]
        metafunc.parametrize("toc_page", names, ids=names)


def pytest_report_header(config: pytest.Config) -> List[str]:
    exe = chromium_executable()
    return [
        f"site: {_site_dir(config)} (toc {_toc_file(config).name})",
        f"chromium: {exe if exe else 'NOT FOUND (browser checks will be skipped, or fail under CI)'}",
    ]


# ---------------------------------------------------------------- the built site


@pytest.fixture(scope="session")
def site_dir(pytestconfig: pytest.Config) -> Path:
    """The built HTML folder; skipped (failed under CI) when the book is not built."""
    path = _site_dir(pytestconfig)
    if not (path / "index.html").is_file():
        skip_or_fail(f"no built book at {path} (run `make book` first)")
    return path


@pytest.fixture(scope="session")
def toc_pages(pytestconfig: pytest.Config) -> List[Tuple[str, int, Optional[str]]]:
    """``(docname, depth, caption)`` of every page of the table of contents, in reading order."""
    return list(read_toc(_toc_file(pytestconfig)))


@pytest.fixture(scope="session")
def screenshot_dir(site_dir: Path) -> Path:
    """``_build/screenshots`` beside ``_build/html`` (created; emptied of old files at the start of the run)."""
    path = site_dir.parent / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_sessionstart(session: pytest.Session) -> None:
    """Empty ``_build/screenshots`` once per run: in the controller of pytest-xdist, not in each
    worker (a worker would delete the screenshots another one has already taken)."""
    if hasattr(session.config, "workerinput"):
        return
    path = _site_dir(session.config).parent / "screenshots"
    if path.is_dir():
        for old in list(path.glob("*.png")) + list(path.glob("visited*.txt")):
            old.unlink(missing_ok=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="session")
def server(site_dir: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 (a free port); yields the base URL ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[object]:
    """Headless chromium driven by Playwright (skipped where absent, failed under CI)."""
    yield from launched_chromium()


@pytest.fixture(scope="session")
def context(browser: object, server: str) -> Iterator[Tuple[object, PageLog]]:
    """One browser context for the session (host names other than 127.0.0.1 do not resolve)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")  # type: ignore[attr-defined]
    try:
        yield ctx, PageLog(server)
    finally:
        ctx.close()


@pytest.fixture()
def page(context: Tuple[object, PageLog]) -> Iterator[Tuple[object, PageLog]]:
    """A fresh tab, with a :class:`PageLog` recording what went wrong on it."""
    ctx, log = context
    log.clear()
    tab = ctx.new_page()  # type: ignore[attr-defined]
    base = log.base

    def on_console(message: object) -> None:
        if message.type != "error":  # type: ignore[attr-defined]
            return
        where = (message.location or {}).get("url", "")  # type: ignore[attr-defined]
        text = message.text  # type: ignore[attr-defined]
        # a request that left 127.0.0.1 (and failed: no network) is logged by chromium as an
        # error "Failed to load resource: ..." located at that URL: not a fault of the site
        if text.startswith("Failed to load resource") and where and not is_local(where, base):
            return
        if where == f"{base}favicon.ico":  # asked for by chromium itself, not by the page
            return
        log.console_errors.append(f"{text} ({where})" if where else text)

    def on_request_failed(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        if is_local(url, base):
            log.failed_local.append(f"{url}: {request.failure}")  # type: ignore[attr-defined]

    def on_response(response: object) -> None:
        url = response.url  # type: ignore[attr-defined]
        if url == f"{base}favicon.ico":  # chromium asks for it when a page names no icon
            return
        if is_local(url, base) and response.status >= 400:  # type: ignore[attr-defined]
            log.failed_local.append(f"{url}: HTTP {response.status}")  # type: ignore[attr-defined]

    def on_request(request: object) -> None:
        log.in_flight[id(request)] = request.url  # type: ignore[attr-defined]
        if not is_local(request.url, base):  # type: ignore[attr-defined]
            log.external.append(request.url)  # type: ignore[attr-defined]

    def on_request_done(request: object) -> None:
        log.in_flight.pop(id(request), None)

    tab.on("request", on_request)
    tab.on("console", on_console)
    tab.on("pageerror", lambda error: log.page_errors.append(str(error)))
    tab.on("requestfailed", on_request_failed)
    tab.on("requestfailed", on_request_done)
    tab.on("requestfinished", on_request_done)
    tab.on("response", on_response)
    try:
        yield tab, log
    finally:
        tab.close()


