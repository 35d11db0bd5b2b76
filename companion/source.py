"""Show the library's own source code on a course page.

A page that discusses, say, :func:`companion.losses.cross_entropy_grad` shows its code with a
code cell ``companion.show_source(companion.losses.cross_entropy_grad)``, tagged
``remove-input``. The code is read from the installed package when the cell runs, so the page
can never drift from the library. Unlike a Sphinx ``literalinclude``, the listing is a cell
output, so it appears both on the website (rendered by MyST-NB) and in JupyterLab.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

__all__ = ["SourceListing", "show_source"]


class SourceListing:
    """The source code of one function, method or class, displayed as a Python code block.

    Parameters
    ----------
    name : str
        The qualified name shown in the plain-text form, e.g. ``"companion.losses.mse"``.
    code : str
        The source text, dedented.

    Examples
    --------
    >>> listing = SourceListing("f", "def f():\\n    return 1\\n")
    >>> print(listing._repr_markdown_())
    ```python
    def f():
        return 1
    ```
    """

    def __init__(self, name: str, code: str) -> None:
        self.name = name
        self.code = code

    def _repr_markdown_(self) -> str:
        # a fence longer than any run of backticks in the code, so the block cannot end early
        longest = max((len(run) for run in re.findall(r"`+", self.code)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}python\n{self.code.rstrip()}\n{fence}"

    def __repr__(self) -> str:
        return f"# source of {self.name}\n{self.code.rstrip()}"


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, property):
        return obj.fget
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return obj


def show_source(obj: Any) -> SourceListing:
    """Return a displayable listing of the source code of ``obj``.

    Parameters
    ----------
    obj : function, method, class or property
        A Python object defined in a source file (a function of :mod:`companion`, a method
        such as ``companion.optim.SGD.step``, a class, or a property).

    Returns
    -------
    SourceListing
        Renders as a fenced Python code block in Jupyter and in the book.

    Raises
    ------
    TypeError
        If ``obj`` has no Python source (a builtin, a C function, a number).

    Examples
    --------
    >>> from companion.losses import mse
    >>> listing = show_source(mse)
    >>> listing.code.startswith("def mse(")
    True
    >>> show_source(len)
    Traceback (most recent call last):
    ...
    TypeError: obj must be a function, method or class defined in Python source, got builtin_function_or_method
    """
    target = _unwrap(obj)
    try:
        code = inspect.getsource(target)
    except (TypeError, OSError):
        raise TypeError(
            f"obj must be a function, method or class defined in Python source, got {type(obj).__name__}"
        ) from None
    module = getattr(target, "__module__", None) or ""
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", "?")
    name = f"{module}.{qualname}" if module else qualname
    return SourceListing(name, textwrap.dedent(code))
