"""Section numbers and search boxes of the built website (pure Python, over the HTML files).

Jupyter Book numbers the headings of a numbered page, so a ``##`` heading on a chapter's
index page would take the number N.1 and push the chapter's first section to N.2 or later.
The index pages use rubrics instead; here every chapter of a numbered part must be "N." and
its k-th section "N.k.", in the page title and in the navigation. And each page offers one
search box: the top bar's button (the theme's second one, in the sidebar, is switched off in
``_config.yml``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from sitetools import ROOT

TITLE_NUMBER = re.compile(r'<h1[^>]*>\s*<span class="section-number">([0-9.]+)\s*</span>')
ANY_NUMBER = re.compile(r'<h[1-6][^>]*>\s*<span class="section-number">([0-9.]+)\s*</span>')
SEARCH_TRIGGER = re.compile(r'<button[^>]*class="[^"]*\bsearch-button__button\b[^"]*"')
SEARCH_FIELD = re.compile(r'class="[^"]*\bsearch-button-field\b')


def _docname(entry: str) -> str:
    return re.sub(r"\.(ipynb|md|rst)$", "", entry)


def expected_numbers(toc_file: Path) -> Dict[str, str]:
    """``{docname: "N." or "N.k."}`` for the chapters and sections of the numbered parts."""
    data = yaml.safe_load(toc_file.read_text(encoding="utf8"))
    out: Dict[str, str] = {}
    chapter = 0
    for part in data.get("parts") or []:
        if not part.get("numbered"):
            continue
        for entry in part.get("chapters") or []:
            chapter += 1
            out[_docname(entry["file"])] = f"{chapter}."
            for k, section in enumerate(entry.get("sections") or [], start=1):
                out[_docname(section["file"])] = f"{chapter}.{k}."
    return out


@pytest.fixture(scope="module")
def numbers(pytestconfig: pytest.Config) -> Dict[str, str]:
    value = Path(pytestconfig.getoption("--site-toc") or os.environ.get("SITE_TOC") or "_toc.yml")
    found = expected_numbers(value if value.is_absolute() else ROOT / value)
    assert found, "no numbered part in the table of contents"
    return found


def _html(site_dir: Path, docname: str) -> str:
    return (site_dir / f"{docname}.html").read_text(encoding="utf8")


def test_sections_number_from_n_point_1(site_dir: Path, numbers: Dict[str, str]) -> None:
    """Every chapter is "N." and its sections "N.1.", "N.2.", ... (not pushed on by the index)."""
    wrong: List[Tuple[str, str, str]] = []
    for docname, expected in numbers.items():
        match = TITLE_NUMBER.search(_html(site_dir, docname))
        shown = match.group(1) if match else "(none)"
        if shown != expected:
            wrong.append((docname, expected, shown))
    assert not wrong, "page title numbers (page, expected, shown):\n  " + "\n  ".join(map(str, wrong))


def test_chapter_index_pages_number_no_heading_of_their_own(site_dir: Path, numbers: Dict[str, str]) -> None:
    """A chapter index shows one number, its own "N.", on its title: its other headings are rubrics."""
    for docname, expected in numbers.items():
        if expected.count(".") != 1:
            continue
        shown = ANY_NUMBER.findall(_html(site_dir, docname))
        assert shown == [expected], f"{docname}: numbered headings {shown}"


def test_navigation_shows_chapter_two_from_2_1(site_dir: Path, numbers: Dict[str, str]) -> None:
    """The sidebar of chapter 2's index lists its first section as 2.1."""
    index = next(d for d, n in numbers.items() if n == "2.")
    first = next(d for d, n in numbers.items() if n == "2.1.")
    page = _html(site_dir, index)
    link = re.search(r'<a class="reference internal" href="[^"]*' + re.escape(first.rsplit("/", 1)[-1]) + r'\.html">([^<]*)</a>', page)
    assert link is not None, f"{index}: no link to {first}"
    assert link.group(1).strip().startswith("2.1. "), link.group(1)


def test_no_search_field_in_the_sidebar(site_dir: Path, toc_pages: List[Tuple[str, int, object]]) -> None:
    """The left sidebar carries no search field: the top bar's is the page's one search box.

    (Which of the top bar's two forms shows depends on the width; ``test_browser`` counts the
    visible ones at a desktop and a phone width.)"""
    bad = []
    for name, _, _ in toc_pages:
        page = _html(site_dir, name)
        start, end = page.find('id="pst-primary-sidebar"'), page.find('id="main-content"')
        assert 0 < start < end, f"{name}: no primary sidebar before the main content"
        sidebar, header = page[start:end], page[:start]
        if SEARCH_TRIGGER.search(sidebar) or SEARCH_FIELD.search(sidebar):
            bad.append(f"{name}: a search box in the sidebar")
        if not SEARCH_TRIGGER.search(header) and not SEARCH_TRIGGER.search(page[end:]):
            bad.append(f"{name}: no search box at all")
    assert not bad, "\n".join(bad)
