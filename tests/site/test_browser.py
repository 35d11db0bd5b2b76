"""The built website opened in headless chromium, as a reader would open it.

Every page of the table of contents: HTTP 200, no console or page errors, no failed request
for a local asset (requests leaving 127.0.0.1 are aborted and not counted: the site must
work offline), math typeset by MathJax (no untypeset ``.math`` element, no TeX error, no raw
``$$`` left), every image loaded with a non-zero natural size. Then: a solution dropdown
opens on click, the search page finds "Kaiming", and the next/previous links walk the
table of contents in order. Screenshots of the landing page and of the first page of every
chapter go to ``_build/screenshots/``; the pages visited are listed in ``visited.txt`` there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

import pytest

from sitetools import PageLog, chapter_pages

TIMEOUT_MS = 30_000

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
def visited(screenshot_dir: Path) -> Iterator[List[str]]:
    """Pages the browser opened, written to ``_build/screenshots/visited.txt`` at the end."""
    pages: List[str] = []
    yield pages
    (screenshot_dir / "visited.txt").write_text("".join(f"{p}\n" for p in pages), encoding="utf8")


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
    # Give late requests (images, fonts) a few seconds to finish or fail, so that failures are
    # logged; a page whose notebook widgets keep a connection open never goes fully idle.
    try:
        tab.wait_for_load_state("networkidle", timeout=5000)  # type: ignore[attr-defined]
    except Exception as err:  # playwright's TimeoutError (playwright may be absent at import)
        if type(err).__name__ != "TimeoutError":
            raise

    shots = {name: doc for name, doc in chapter_pages(toc_pages).items()}
    for name, doc in shots.items():
        if doc == toc_page:
            tab.screenshot(path=str(screenshot_dir / f"{name}.png"))  # type: ignore[attr-defined]

    problems = log.problems()
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
    """Clicking "next" from the landing page visits the table of contents in order; on each
    page the "previous" link points to the page before, and clicking it from the last page
    goes back one."""
    tab, _ = page
    order = [name for name, _, _ in toc_pages]

    def here() -> str:
        return unquote(urlsplit(tab.url).path)[1:].removesuffix(".html")  # type: ignore[attr-defined]

    def link(kind: str) -> object:
        return tab.locator(f".prev-next-area a.{kind}")  # type: ignore[attr-defined]

    def href(kind: str) -> Optional[str]:
        found = link(kind)
        if found.count() == 0:  # type: ignore[attr-defined]
            return None
        # the URL the browser resolved (a.href), as a path without ".html"
        url = found.first.evaluate("a => a.href")  # type: ignore[attr-defined]
        return unquote(urlsplit(url).path)[1:].removesuffix(".html")

    def click(kind: str) -> None:
        with tab.expect_navigation(wait_until="domcontentloaded", timeout=TIMEOUT_MS):  # type: ignore[attr-defined]
            link(kind).first.click()  # type: ignore[attr-defined]

    tab.goto(f"{server}{order[0]}.html", wait_until="domcontentloaded", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    for i, expected in enumerate(order):
        assert here() == expected, f"after {i} clicks on next: at {here()}, the toc says {expected}"
        previous = order[i - 1] if i else None
        assert href("left-prev") == previous, f"{expected}: previous leads to {href('left-prev')}, the toc says {previous}"
        if i + 1 < len(order):
            assert href("right-next") is not None, f"{expected}: no next link (the toc continues with {order[i + 1]})"
            click("right-next")
        else:
            assert href("right-next") is None, f"{expected} is last in the toc but has a next link"
    if len(order) > 1:
        click("left-prev")
        assert here() == order[-2], f"previous from {order[-1]} went to {here()}, the toc says {order[-2]}"
