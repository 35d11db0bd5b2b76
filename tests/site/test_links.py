"""Every internal link and anchor of the built website resolves (pure Python, no browser).

For every HTML file of the build: each ``href``/``src`` of ``a``, ``link``, ``img``,
``script``, ``source``, ``iframe`` and ``object`` that does not leave the site must name an
existing file, and its ``#fragment`` an ``id`` (or ``<a name>``) of the target page. Also:
every page of the table of contents was built, ``index.html`` leads to the root page, and
each page's next/previous links name the pages before and after it in the table of contents.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

import pytest

LINK_ATTRS = {
    "a": ("href",),
    "link": ("href",),
    "img": ("src",),
    "script": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "object": ("data",),
}
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")  # http:, https:, mailto:, data:, ...


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Set[str] = set()
        self.links: List[Tuple[str, str, int]] = []  # (tag, url, line)
        self.prev_next: Dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        for attr in LINK_ATTRS.get(tag, ()):
            url = values.get(attr)
            if url is not None:
                self.links.append((tag, url.strip(), self.getpos()[0]))
        if tag == "a" and values.get("href") is not None:
            classes = (values.get("class") or "").split()
            for kind in ("left-prev", "right-next"):
                if kind in classes:
                    self.prev_next[kind] = values["href"] or ""

    handle_startendtag = handle_starttag


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf8", errors="replace"))
    page.close()
    return page


@pytest.fixture(scope="module")
def pages(site_dir: Path) -> Dict[Path, _Page]:
    """Every HTML file of the build (outside ``_static``), parsed."""
    found = {}
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir)
        if relative.parts[0] in {"_static", "_sources"}:
            continue
        found[path] = _parse(path)
    assert found, f"no HTML pages under {site_dir}"
    return found


def _target(site_dir: Path, source: Path, url: str) -> Tuple[Optional[Path], str]:
    """The file and fragment an internal URL points to (file None when it leaves the site)."""
    parts = urlsplit(url)
    fragment = unquote(parts.fragment)
    if not parts.path:
        return source, fragment
    target = (source.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, fragment


def test_internal_links_and_anchors_resolve(site_dir: Path, pages: Dict[Path, _Page]) -> None:
    """Each internal href/src names an existing file, and each #fragment an id there."""
    ids: Dict[Path, Set[str]] = {path: page.ids for path, page in pages.items()}
    broken: Dict[str, List[str]] = defaultdict(list)
    checked = 0
    for source, page in pages.items():
        for tag, url, line in page.links:
            if not url or EXTERNAL.match(url) or url == "#":
                continue
            checked += 1
            target, fragment = _target(site_dir, source, url)
            where = f"{source.relative_to(site_dir)}:{line}"
            assert target is not None
            try:
                target.relative_to(site_dir)
            except ValueError:
                broken[where].append(f"<{tag}> {url}: outside the site")
                continue
            if not target.is_file():
                broken[where].append(f"<{tag}> {url}: no file {target.relative_to(site_dir)}")
                continue
            if fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = _parse(target).ids
                if fragment not in ids[target]:
                    broken[where].append(f"<{tag}> {url}: no id {fragment!r} in {target.relative_to(site_dir)}")
    assert checked > 0, "no internal link found: is this a built book?"
    report = [f"{where}: {problem}" for where, problems in sorted(broken.items()) for problem in problems]
    assert not report, f"{len(report)} broken internal links (of {checked}):\n" + "\n".join(report[:60])


def test_every_toc_page_is_built(site_dir: Path, toc_pages: List[Tuple[str, int, Optional[str]]]) -> None:
    missing = [name for name, _, _ in toc_pages if not (site_dir / f"{name}.html").is_file()]
    assert not missing, f"pages of the table of contents missing from the build: {missing}"


def test_index_leads_to_root(site_dir: Path, toc_pages: List[Tuple[str, int, Optional[str]]]) -> None:
    """``index.html`` (what a bare URL serves) redirects to the root page of the toc."""
    root = toc_pages[0][0]
    text = (site_dir / "index.html").read_text(encoding="utf8")
    refresh = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', text, re.IGNORECASE)
    if refresh is None:  # a root named index is the page itself
        assert root == "index", f"index.html neither redirects nor is the root page {root}"
        return
    target = unquote(urlsplit(refresh.group(1)).path)
    assert target.removesuffix(".html") == root, f"index.html redirects to {target}, the toc root is {root}"


def test_next_previous_hrefs_follow_toc(
    site_dir: Path, pages: Dict[Path, _Page], toc_pages: List[Tuple[str, int, Optional[str]]]
) -> None:
    """Each page's "previous"/"next" links name its neighbours in the table of contents."""
    order = [name for name, _, _ in toc_pages]
    problems = []
    for i, name in enumerate(order):
        path = (site_dir / f"{name}.html").resolve()
        if path not in pages:
            continue  # reported by test_every_toc_page_is_built
        links = pages[path].prev_next
        for kind, expected in (("left-prev", order[i - 1] if i else None),
                               ("right-next", order[i + 1] if i + 1 < len(order) else None)):
            href = links.get(kind)
            if href is None:
                got = None
            else:
                target, _ = _target(site_dir, path, href)
                got = str(target.relative_to(site_dir)).removesuffix(".html") if target else href
            if got != expected:
                problems.append(f"{name}: {kind} leads to {got}, the toc says {expected}")
    assert not problems, "\n".join(problems)
