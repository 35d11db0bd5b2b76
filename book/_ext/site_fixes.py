"""Fixes to the HTML pages that Sphinx 7.4 and the book theme write, loaded by ``_config.yml``.

An inline ``<script>`` that an extension adds while the documents are read (sphinx-thebe's
``const THEBE_JS_URL = ...``) is registered once with ``filename=None`` and once more, when
Sphinx re-collects late assets before writing, with ``filename=''``; the two compare unequal,
so every page carried the script twice and the browser reported "Identifier 'THEBE_JS_URL'
has already been declared". :func:`dedupe_scripts` keeps the first copy of each script.
"""

from __future__ import annotations

from typing import Any, Dict, List

from sphinx.application import Sphinx


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: Dict[str, Any], doctree: Any) -> None:
    """Drop repeated ``<script>`` entries (same file or body, priority and attributes)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique: List[Any] = []
    for js in scripts:
        filename = getattr(js, "filename", js) or ""
        attributes = getattr(js, "attributes", {}) or {}
        key = (str(filename), getattr(js, "priority", 500), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique  # a new list: the builder's own stays as it was


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
