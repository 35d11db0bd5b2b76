"""The API reference page covers the package, and the chapters link to it.

Reads the build's Sphinx inventory (``objects.inv``): every public module of ``companion``
(found by walking the package, so a new module is covered without editing this test) is
documented, and so is every name in its ``__all__``. Every numbered chapter links to the
API reference at least once.
"""

from __future__ import annotations

import importlib
import pkgutil
import posixpath
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

import companion

API_PAGE = "book/api.html"


def public_modules() -> List[str]:
    """``companion`` and each of its modules and subpackages whose name has no leading '_'."""
    names = ["companion"]
    for info in pkgutil.walk_packages(companion.__path__, prefix="companion."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


@pytest.fixture(scope="module")
def inventory(site_dir: Path) -> Dict[str, Tuple[str, str]]:
    """``{full name: (object type, uri)}`` of every Python object the build documents."""
    from sphinx.util.inventory import InventoryFile

    path = site_dir / "objects.inv"
    assert path.is_file(), f"{path} missing: the book was not built by Sphinx's HTML builder"
    with path.open("rb") as stream:
        data = InventoryFile.load(stream, "", posixpath.join)
    out = {}
    for kind, entries in data.items():
        if kind.startswith("py:"):
            for name, entry in entries.items():
                out[name] = (kind, entry[2])
    return out


def test_every_public_module_has_a_section(inventory: Dict[str, Tuple[str, str]]) -> None:
    missing = [m for m in public_modules() if inventory.get(m, ("", ""))[0] != "py:module"]
    assert not missing, f"modules without a section in {API_PAGE} (add an automodule block): {missing}"


@pytest.mark.parametrize("module", public_modules())
def test_every_public_name_is_documented(module: str, inventory: Dict[str, Tuple[str, str]]) -> None:
    """Each name in the module's ``__all__`` has an entry (functions, classes, constants)."""
    mod = importlib.import_module(module)
    names = list(getattr(mod, "__all__", []))
    if module == "companion":
        names = [n for n in names if n != "__version__"]
    missing = [n for n in names if f"{module}.{n}" not in inventory]
    assert not missing, (
        f"{module}: names in __all__ missing from the API reference: {missing} "
        "(a function or class needs a docstring; a constant a `#:` comment above it)"
    )
    elsewhere = [f"{module}.{n}" for n in names
                 if f"{module}.{n}" in inventory and not inventory[f"{module}.{n}"][1].startswith(API_PAGE)]
    assert not elsewhere, f"documented outside {API_PAGE}: {elsewhere}"


def test_each_chapter_links_to_the_api(site_dir: Path, toc_pages: List[Tuple[str, int, Optional[str]]]) -> None:
    """Every numbered chapter (chapters/NN_topic, NN >= 1) links to the API reference."""
    by_chapter: Dict[str, Set[str]] = defaultdict(set)
    for name, _, _ in toc_pages:
        match = re.match(r"chapters/(\d\d)_[^/]+/", name)
        if match and int(match.group(1)) >= 1:
            text = (site_dir / f"{name}.html").read_text(encoding="utf8", errors="replace")
            targets = set(re.findall(r'href="(?:\.\./)*book/api\.html#([^"]+)"', text))
            by_chapter[name.split("/")[1]] |= targets
    if not by_chapter:
        pytest.skip("no numbered chapter in the table of contents yet")
    silent = sorted(chapter for chapter, targets in by_chapter.items() if not targets)
    assert not silent, (
        f"chapters with no link to the API reference: {silent} "
        "(cite the library with e.g. {py:func}`companion.losses.cross_entropy`)"
    )
