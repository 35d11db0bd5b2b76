"""Helpers of the website checks: the table of contents, chromium, what a page logged."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # the network is closed, and a page must not depend on it: every host name but the test
    # server's fails at once (no DNS wait), and the pages are checked for what still works
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def in_ci() -> bool:
    """Whether we run under CI (``CI=true``), where nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` on a user's machine; fail with it under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def _docname(entry: str) -> str:
    for suffix in (".ipynb", ".md", ".rst"):
        if entry.endswith(suffix):
            return entry[: -len(suffix)]
    return entry


def _walk(entries: List[dict], depth: int, out: List[Tuple[str, int]]) -> None:
    for entry in entries or []:
        if "file" in entry:
            out.append((_docname(str(entry["file"])), depth))
        elif "glob" in entry:
            raise ValueError(f"glob entries are not supported by the site checks: {entry['glob']!r}")
        # {url: ...} entries are external links: nothing to visit
        for key in ("sections", "chapters"):
            if key in entry:
                _walk(entry[key], depth + 1, out)
        for part in entry.get("parts", []) or []:
            _walk(part.get("chapters") or part.get("sections") or [], depth + 1, out)


@functools.lru_cache(maxsize=None)
def read_toc(toc_file: Path) -> Tuple[Tuple[str, int, Optional[str]], ...]:
    """Pages of a jb-book table of contents in reading order.

    Returns tuples ``(docname, depth, caption)``: depth 0 is the root, 1 a chapter, 2+ a
    section; caption is the part's caption (``None`` for the root).
    """
    data = yaml.safe_load(toc_file.read_text(encoding="utf8"))
    pages: List[Tuple[str, int, Optional[str]]] = [(_docname(str(data["root"])), 0, None)]
    parts = data.get("parts")
    if parts is None:
        parts = [{"caption": None, "chapters": data.get("chapters") or data.get("sections") or []}]
    for part in parts:
        found: List[Tuple[str, int]] = []
        _walk(part.get("chapters") or part.get("sections") or [], 1, found)
        pages.extend((name, depth, part.get("caption")) for name, depth in found)
    return tuple(pages)


def chromium_executable() -> Optional[str]:
    """The chromium to drive: ``$CHROMIUM``, else /usr/bin/chromium, else chromium on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def launched_chromium() -> Iterator[object]:
    """Yield headless chromium driven by Playwright, closed afterwards (for a session fixture).

    Skipped where Playwright or chromium is absent, failed under ``CI=true``; a chromium that
    is present but does not start is a failure everywhere.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright for Python is not installed (pip install -r requirements.txt)")
    exe = chromium_executable()
    if exe is None:
        skip_or_fail("chromium not found at /usr/bin/chromium or on PATH (Debian: apt-get install chromium)")
    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
    except Exception as error:  # a broken chromium is a failure everywhere, never a skip
        manager.stop()
        pytest.fail(f"chromium at {exe} did not start: {error}", pytrace=False)
    try:
        yield instance
    finally:
        instance.close()
        manager.stop()


def is_local(url: str, base: str) -> bool:
    """Whether ``url`` is served by our test server (data: and blob: URLs count as local)."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return url.startswith(base)


class PageLog:
    """What happened while a page was open: console errors, page errors, failed requests."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.console_errors: List[str] = []
        self.page_errors: List[str] = []
        self.failed_local: List[str] = []
        self.external: List[str] = []
        self.in_flight: Dict[int, str] = {}  # requests started and not yet finished or failed

    def clear(self) -> None:
        for items in (self.console_errors, self.page_errors, self.failed_local, self.external):
            items.clear()
        self.in_flight.clear()

    def problems(self) -> List[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"failed local request: {m}" for m in self.failed_local]
        )


def chapter_pages(toc: List[Tuple[str, int, Optional[str]]]) -> Dict[str, str]:
    """The first page of each chapter (each depth-1 entry), keyed by a file-safe name."""
    out: Dict[str, str] = {}
    for name, depth, _ in toc:
        if depth == 0:
            out["00_landing"] = name
        elif depth == 1:
            out[name.replace("/", "__")] = name
    return out
