"""Turn the course's exercise notebooks into nbgrader source notebooks (idempotently).

The course writes an exercise as a ``{exercise}`` directive with a ``:label:``, a code cell
whose solution lies between ``BEGIN SOLUTION`` and ``END SOLUTION`` marker lines, and one or
more **check cells** (code cells that call ``check_function``, ``check_gradient``,
``check_property``, ``check_value`` or ``check_true``), optionally with hidden tests between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. :func:`convert_notebook` adds the
metadata nbgrader grades by:

* a code cell with solution markers becomes a **solution cell**
  (``solution: true, grade: false, locked: false``) with ``grade_id``
  ``<label>__solution`` (``__solution2`` ... for more than one);
* a check cell becomes an **autograded test cell** (``grade: true, locked: true``) with
  ``grade_id`` ``<label>`` (``<label>__2`` ... for the second and later checks of one
  exercise) and ``points`` (1 unless the cell already carries other points, which are kept);
* marker lines are spelled the canonical nbgrader way, ``### BEGIN SOLUTION`` and so on, at
  their indentation.

Other cells are left as they are. Converting a converted notebook changes nothing, so the
command can be re-run after any edit::

    python -m companion.exercises nbgrader-source chapters            # rewrite in place
    python -m companion.exercises nbgrader-source --check chapters    # exit 1 if any would change

The exercise label before a check cell names it in ``grades.csv`` (the part of the
``grade_id`` before ``__``); a check cell with no ``{exercise}`` above it is named
``check-<cell number>``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any, Union

from companion.exercises.release import _MARKER_LINE, _check_notebook, _json_style, _read_notebook, _source_text, find_exercise_notebooks

__all__ = ["CHECK_CALL", "convert_file", "convert_notebook", "exercise_of", "is_check_cell"]

#: A call of one of the checks: what makes a code cell a check cell.
CHECK_CALL = re.compile(r"\bcheck_(?:function|gradient|value|true|property)\s*\(")
_LABEL = re.compile(r"^[ \t]*(?:`{3,}|:{3,})[ \t]*\{exercise\}.*?^[ \t]*:label:[ \t]*(?P<label>\S+)", re.MULTILINE | re.DOTALL)
_SCHEMA = 3
_SEPARATOR = "__"

PathLike = Union[str, "os.PathLike[str]"]


def _grade_id(text: str) -> str:
    """nbgrader's ids may hold letters, digits, ``-`` and ``_`` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def exercise_of(grade_id: str) -> str:
    """The exercise a ``grade_id`` belongs to (its part before ``__``).

    Examples
    --------
    >>> exercise_of("ex-03-kl__2"), exercise_of("ex-03-kl")
    ('ex-03-kl', 'ex-03-kl')
    """
    return grade_id.split(_SEPARATOR, 1)[0]


def is_check_cell(cell: Any) -> bool:
    """A code cell that calls a check and holds no solution block.

    Examples
    --------
    >>> is_check_cell({"cell_type": "code", "source": "check_function(f, g, [(1,)])"})
    True
    >>> is_check_cell({"cell_type": "markdown", "source": "check_function(f, g, [(1,)])"})
    False
    """
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return False
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return bool(CHECK_CALL.search(text)) and not _has_solution(text)


def _has_solution(text: str) -> bool:
    return any((m := _MARKER_LINE.match(line)) and m.group("what").upper() == "SOLUTION" for line in text.splitlines())


def _canonical_markers(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        m = _MARKER_LINE.match(line)
        if m:
            what = "SOLUTION" if m.group("what").upper() == "SOLUTION" else "HIDDEN TESTS"
            rest = line[m.end() :]
            line = f"{m.group('indent')}### {m.group('edge').upper()} {what}{rest}"
        out.append(line)
    return "".join(out)


def _set_source(cell: dict[str, Any], text: str) -> None:
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text


def convert_notebook(nb: dict[str, Any], where: str = "notebook") -> dict[str, Any]:
    """Return ``nb`` with nbgrader metadata on its solution and check cells.

    Parameters
    ----------
    nb : dict
        A parsed exercise notebook (not modified).
    where : str
        Names the notebook in error messages.

    Returns
    -------
    dict
        The converted notebook; ``convert_notebook(convert_notebook(nb)) == convert_notebook(nb)``.

    Raises
    ------
    ValueError
        If the notebook is malformed, or two cells would get the same ``grade_id``.

    Examples
    --------
    >>> cells = [
    ...     {"cell_type": "markdown", "metadata": {}, "source": "```{exercise} Twice\\n:label: ex-twice\\n\\nDouble.\\n```"},
    ...     {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...      "source": "def twice(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION\\n"},
    ...     {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...      "source": "check_function(twice, lambda x: x + x, [(1,)])"}]
    >>> out = convert_notebook({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    >>> [c["metadata"].get("nbgrader", {}).get("grade_id") for c in out["cells"]]
    [None, 'ex-twice__solution', 'ex-twice']
    >>> out["cells"][2]["metadata"]["nbgrader"]["points"], out["cells"][1]["source"].splitlines()[1]
    (1, '    ### BEGIN SOLUTION')
    """
    _check_notebook(nb, where)
    out = copy.deepcopy(nb)
    label = None
    checks: dict[str, int] = {}
    solutions: dict[str, int] = {}
    seen: dict[str, int] = {}
    for number, cell in enumerate(out["cells"], start=1):
        kind = cell.get("cell_type")
        text = _source_text(cell, f"{where}, cell {number} ({kind})")
        if kind == "markdown":
            found = _LABEL.search(text)
            if found:
                label = _grade_id(found.group("label"))
            continue
        if kind != "code":
            continue
        metadata = cell.setdefault("metadata", {})
        canonical = _canonical_markers(text)
        if canonical != text:
            _set_source(cell, canonical)
        name = label or f"check-{number}"
        previous = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        if _has_solution(canonical):
            solutions[name] = solutions.get(name, 0) + 1
            grade_id = f"{name}{_SEPARATOR}solution" + (str(solutions[name]) if solutions[name] > 1 else "")
            metadata["nbgrader"] = {
                "grade": False,
                "grade_id": grade_id,
                "locked": False,
                "schema_version": _SCHEMA,
                "solution": True,
                "task": False,
            }
        elif CHECK_CALL.search(canonical):
            checks[name] = checks.get(name, 0) + 1
            grade_id = name if checks[name] == 1 else f"{name}{_SEPARATOR}{checks[name]}"
            points = previous.get("points", 1)
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                raise ValueError(f"{where}, cell {number} (code): nbgrader points must be a non-negative number, got {points!r}")
            metadata["nbgrader"] = {
                "grade": True,
                "grade_id": grade_id,
                "locked": True,
                "points": points,
                "schema_version": _SCHEMA,
                "solution": False,
                "task": False,
            }
        else:
            continue
        if grade_id in seen:
            raise ValueError(f"{where}, cell {number} (code): grade_id {grade_id!r} is already used by cell {seen[grade_id]}")
        seen[grade_id] = number
    return out


def convert_file(path: PathLike, check: bool = False) -> bool:
    """Convert one notebook file in place; return whether it changed (or would, with ``check``).

    Parameters
    ----------
    path : path
        An ``.ipynb`` file.
    check : bool
        Only report; write nothing.

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        If the file is not a notebook, or :func:`convert_notebook` refuses it.
    """
    file = Path(path)
    nb, text = _read_notebook(file)
    converted = convert_notebook(nb, str(file))
    indent, newline = _json_style(text)
    body = json.dumps(converted, indent=indent, ensure_ascii=False, separators=(",", ": ")) + ("\n" if newline else "")
    if body == text:
        return False
    if not check:
        file.write_text(body, encoding="utf-8")
    return True


def notebooks_under(paths: list[PathLike]) -> list[Path]:
    """The ``.ipynb`` files named, and every ``exercises.ipynb`` under the folders named.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        found.extend([path] if path.is_file() else find_exercise_notebooks(path))
    return found
