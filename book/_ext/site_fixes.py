"""Fixes to the HTML pages that Sphinx 7.4 and the book theme write, loaded by ``_config.yml``.

An inline ``<script>`` that an extension adds while the documents are read (sphinx-thebe's
``const THEBE_JS_URL = ...``) is registered once with ``filename=None`` and once more, when
Sphinx re-collects late assets before writing, with ``filename=''``; the two compare unequal,
so every page carried the script twice and the browser reported "Identifier 'THEBE_JS_URL'
has already been declared". :func:`dedupe_scripts` keeps the first copy of each script.

Every notebook kernel that the build starts logged "Kernel is running over TCP without
encryption" to the build log. :func:`encrypt_kernel_transport` makes the build's kernel
managers provision CurveZMQ keys (jupyter_client's ``transport_encryption="required"``), so the
kernels' traffic is encrypted and the warning has no cause. IPC transport would avoid it too,
but its socket files land in the notebook's folder.
"""

from __future__ import annotations

from typing import Any, Dict, List

from sphinx.application import Sphinx


def encrypt_kernel_transport() -> None:
    """Default every ``jupyter_client`` kernel manager of this process to CurveZMQ encryption.

    Does nothing where pyzmq lacks CurveZMQ (the kernels then run as before) or when already done.
    """
    import zmq
    from jupyter_client.manager import KernelManager

    if not zmq.has("curve") or getattr(KernelManager.__init__, "_encrypts", False):
        return
    original = KernelManager.__init__

    def __init__(self: KernelManager, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("transport_encryption", "required")
        original(self, *args, **kwargs)

    __init__._encrypts = True  # type: ignore[attr-defined]
    KernelManager.__init__ = __init__  # type: ignore[method-assign]


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
    encrypt_kernel_transport()  # before MyST-NB or parallel_execution starts a kernel
    app.connect("html-page-context", dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
