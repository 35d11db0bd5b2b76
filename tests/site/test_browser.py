"""The built website opened in headless chromium, as a reader would open it.

Every page of the table of contents: HTTP 200, no console or page errors, no failed request
for a local asset (requests leaving 127.0.0.1 are aborted and not counted: the site must
work offline), math typeset by MathJax (no untypeset ``.math`` element, no TeX error, no raw
``$$`` left), every image loaded with a non-zero natural size, and "previous" and "next"
links that lead to its neighbours in the table of contents. Then: a solution dropdown opens
on click, the search page finds "Kaiming", and clicking "next" and "previous" navigates
where the table of contents says. Screenshots of the landing page and of the first page of
every chapter go to ``_build/screenshots/``; the pages visited are listed in ``visited.txt``
there (``visited-gw0.txt``, ``visited-gw1.txt`` when pytest-xdist runs the checks in parallel).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

import pytest

from sitetools import PageLog, chapter_pages

TIMEOUT_MS = 30_000
LATE_MS = 5_000

# Waits for MathJax (loaded with `defer`) to finish typesetting, then reports on the math.
MATH_JS = """
async (timeoutMs) => {
  const mathNodes = [...document.querySelectorAll('.math')];
  const scripts = [...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s));
  const out = {count: mathNodes.length, scripts: scripts, loaded: false,
               untypeset: [], errors: [], rawDollars: []};
  const t0 = performance.now();
  while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
    if (mathNodes.length === 0 || performance.now() - t0 > timeoutMs) break;
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
    out.loaded = true;
  }
  for (const node of mathNodes) {
    if (!node.querySelector('mjx-container')) out.untypeset.push(node.textContent.slice(0, 80));
  }
  if (out.loaded) {  // TeX errors (merror) and undefined macros (shown in red by noundefined)
    for (const item of window.MathJax.startup.document.math) {
      item.root.walkTree(node => {
        if (node.isKind('merror')) out.errors.push('TeX error in: ' + item.math.slice(0, 100));
        else if (node.isKind('mtext') && node.attributes.get('mathcolor') === 'red') {
          const text = node.childNodes.map(c => (c.getText ? c.getText() : '')).join('');
          if (text.startsWith('\\\\')) out.errors.push('undefined ' + text + ' in: ' + item.math.slice(0, 100));
        }
      });
    }
  }
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, textarea, .highlight, mjx-container')
      .forEach(n => n.remove());
  const text = main.textContent;
  let at = text.indexOf('$$');
  while (at !== -1 && out.rawDollars.length < 5) {
    out.rawDollars.push(text.slice(Math.max(0, at - 40), at + 40).replace(/\\s+/g, ' '));
    at = text.indexOf('$$', at + 2);
  }
  return out;
}
"""

# Waits for every image to finish (loading or failing), then reports natural sizes.
IMAGES_JS = """
async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener('load', resolve); img.addEventListener('error', resolve);
  })));
  return images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth,
                             height: img.naturalHeight}));
}
"""


@pytest.fixture(scope="session")
def visited(screenshot_dir: Path, worker_id: str) -> Iterator[List[str]]:
    """Pages the browser opened, written to ``_build/screenshots/visited.txt`` at the end
    (``visited-gw0.txt``, ``visited-gw1.txt``, ... with one file per pytest-xdist worker)."""
    pages: List[str] = []
    yield pages
    name = "visited.txt" if worker_id == "master" else f"visited-{worker_id}.txt"
    (screenshot_dir / name).write_text("".join(f"{p}\n" for p in pages), encoding="utf8")


def _link_target(tab: object, kind: str) -> Optional[str]:
    """Where the page's "previous" (``left-prev``) or "next" (``right-next``) link leads, as a
    page name without ``.html`` (the URL the browser resolved), or None when there is none."""
    found = tab.locator(f".prev-next-area a.{kind}")  # type: ignore[attr-defined]
    if found.count() == 0:
        return None
    url = found.first.evaluate("a => a.href")
    return unquote(urlsplit(url).path)[1:].removesuffix(".html")


def _open(tab: object, url: str) -> object:
    response = tab.goto(url, wait_until="load", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    assert response is not None, f"no response for {url}"
    return response


def test_page(
    toc_page: str,
    page: Tuple[object, PageLog],
    server: str,
    site_dir: Path,
    toc_pages: List[Tuple[str, int, Optional[str]]],
    screenshot_dir: Path,
    visited: List[str],
) -> None:
    """One page of the table of contents loads cleanly, with its math and images."""
    tab, log = page
    url = f"{server}{toc_page}.html"
    response = _open(tab, url)
    visited.append(toc_page)
    assert response.status == 200, f"{url}: HTTP {response.status}"  # type: ignore[attr-defined]

    math = tab.evaluate(MATH_JS, TIMEOUT_MS)  # type: ignore[attr-defined]
    images = tab.evaluate(IMAGES_JS)  # type: ignore[attr-defined]
    # Let late requests (fonts that MathJax asks for) finish or fail, so that a failure is
    # logged: wait until none is in flight, for at most LATE_MS. (Playwright's "networkidle"
    # waits for 500 ms of silence, and some pages keep a connection open, so it would time out.)
    waited = 0
    while log.in_flight and waited < LATE_MS:
        tab.wait_for_timeout(50)  # type: ignore[attr-defined]
        waited += 50

    # the previous and next links point to this page's neighbours in the table of contents
    order = [name for name, _, _ in toc_pages]
    at = order.index(toc_page)
    neighbours = {"left-prev": order[at - 1] if at else None, "right-next": order[at + 1] if at + 1 < len(order) else None}
    links = {kind: _link_target(tab, kind) for kind in neighbours}

    shots = {name: doc for name, doc in chapter_pages(toc_pages).items()}
    for name, doc in shots.items():
        if doc == toc_page:
            tab.screenshot(path=str(screenshot_dir / f"{name}.png"))  # type: ignore[attr-defined]

    problems = log.problems()
    for kind, expected in neighbours.items():
        if links[kind] != expected:
            problems.append(f"the {kind} link leads to {links[kind]}, the table of contents says {expected}")
    if math["count"]:
        remote = [s for s in math["scripts"] if not s.startswith(server)]
        if remote:
            problems.append(
                f"MathJax is loaded from {remote[0]}, which is unreachable offline: vendor it in "
                "book/_static/mathjax and set mathjax_path in _config.yml"
            )
        elif not math["loaded"]:
            problems.append(f"MathJax did not start within {TIMEOUT_MS} ms ({math['scripts']})")
        if math["untypeset"]:
            problems.append(f"{len(math['untypeset'])} math elements not typeset, e.g. {math['untypeset'][:3]}")
    if math["errors"]:
        problems.append(f"{len(math['errors'])} MathJax errors, e.g. {math['errors'][:5]}")
    if math["rawDollars"]:
        problems.append(f"raw $$ left in the page text: {math['rawDollars']}")
    for image in images:
        if not image["src"].startswith(server) and not image["src"].startswith("data:"):
            continue  # external images are not the site's (there are none, but be precise)
        if image["width"] == 0 or image["height"] == 0:
            problems.append(f"image not loaded (natural size 0): {image['src']}")
    assert not problems, f"{toc_page}.html:\n  " + "\n  ".join(problems)


def _pages_with(site_dir: Path, toc_pages: List[Tuple[str, int, Optional[str]]], pattern: str) -> List[str]:
    found = []
    for name, _, _ in toc_pages:
        path = site_dir / f"{name}.html"
        if path.is_file() and re.search(pattern, path.read_text(encoding="utf8")):
            found.append(name)
    return found


def test_solution_dropdown_opens_on_click(
    page: Tuple[object, PageLog], server: str, site_dir: Path, toc_pages: List[Tuple[str, int, Optional[str]]]
) -> None:
    """A solution shown as a dropdown starts closed and opens when its title is clicked."""
    pages = _pages_with(site_dir, toc_pages, r'class="solution dropdown[^"]*admonition')
    assert pages, "no page of the book has a solution dropdown ({solution} with :class: dropdown)"
    tab, log = page
    _open(tab, f"{server}{pages[0]}.html")
    box = tab.locator(".solution.dropdown").first  # type: ignore[attr-defined]
    box.locator("button.toggle-button").wait_for(state="attached", timeout=TIMEOUT_MS)
    body = box.locator(":scope > :not(.admonition-title)").first
    button = box.locator("button.toggle-button")
    assert "toggle-hidden" in (box.get_attribute("class") or ""), f"{pages[0]}: the solution starts open"
    assert not body.is_visible(), f"{pages[0]}: the solution's text is visible before the click"
    button.click()
    body.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "toggle-hidden" not in (box.get_attribute("class") or "")
    assert button.get_attribute("aria-expanded") == "true"
    button.click()
    body.wait_for(state="hidden", timeout=TIMEOUT_MS)
    assert not log.problems(), "\n".join(log.problems())


def test_search_finds_kaiming(page: Tuple[object, PageLog], server: str, visited: List[str]) -> None:
    """The search page, given "Kaiming", lists at least one page of the book."""
    tab, log = page
    response = _open(tab, f"{server}search.html?q=Kaiming")
    visited.append("search (q=Kaiming)")
    assert response.status == 200  # type: ignore[attr-defined]
    summary = tab.locator("#search-results .search-summary")  # type: ignore[attr-defined]
    summary.wait_for(state="attached", timeout=TIMEOUT_MS)
    # searchtools.js writes "Search finished, found N page(s) ..." or "did not match" when done
    tab.wait_for_function(  # type: ignore[attr-defined]
        "() => /finished|did not match/i.test(document.querySelector('#search-results .search-summary').innerText)",
        timeout=TIMEOUT_MS,
    )
    links = tab.locator("#search-results ul.search li > a").evaluate_all("as => as.map(a => a.href)")  # type: ignore[attr-defined]
    assert links, f"search for Kaiming: {summary.inner_text()}"
    pages = [unquote(urlsplit(href).path) for href in links]
    assert all(p.endswith(".html") for p in pages), pages
    assert not log.problems(), "\n".join(log.problems())


def test_next_previous_follow_toc(
    page: Tuple[object, PageLog], server: str, toc_pages: List[Tuple[str, int, Optional[str]]]
) -> None:
    """Clicking "next" on the landing page and "previous" on the last page leads to the pages
    the table of contents puts there. (Every page's two links are checked in ``test_page``.)"""
    tab, log = page
    order = [name for name, _, _ in toc_pages]
    assert len(order) > 2, order

    def click(kind: str, expected: str) -> None:
        with tab.expect_navigation(wait_until="domcontentloaded", timeout=TIMEOUT_MS):  # type: ignore[attr-defined]
            tab.locator(f".prev-next-area a.{kind}").first.click()  # type: ignore[attr-defined]
        here = unquote(urlsplit(tab.url).path)[1:].removesuffix(".html")  # type: ignore[attr-defined]
        assert here == expected, f"clicking {kind} went to {here}, the table of contents says {expected}"

    tab.goto(f"{server}{order[0]}.html", wait_until="domcontentloaded", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    click("right-next", order[1])
    click("right-next", order[2])
    click("left-prev", order[1])
    tab.goto(f"{server}{order[-1]}.html", wait_until="domcontentloaded", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    assert _link_target(tab, "right-next") is None, f"{order[-1]} is last in the table of contents but has a next link"
    click("left-prev", order[-2])
    assert not log.problems(), "\n".join(log.problems())


@pytest.mark.parametrize("width", [1280, 600])
def test_one_visible_search_box(page: Tuple[object, PageLog], server: str, width: int,
                                toc_pages: List[Tuple[str, int, Optional[str]]]) -> None:
    """At a desktop and at a phone width, each page shows exactly one search box."""
    tab, log = page
    tab.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
    for name in (toc_pages[0][0], next(n for n, depth, _ in toc_pages if depth == 2)):
        _open(tab, f"{server}{name}.html")
        tab.locator(".search-button__button").first.wait_for(state="attached", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
        visible = tab.locator(".search-button__button:visible, input[type=search]:visible").count()  # type: ignore[attr-defined]
        assert visible == 1, f"{name} at {width} px: {visible} search boxes visible"
    assert not log.problems(), "\n".join(log.problems())
