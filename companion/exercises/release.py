"""The student release of exercise notebooks: solutions out, stubs in, and proof of it.

Which notebooks
    Every notebook named ``exercises.ipynb`` under the source folder (the course's
    convention: one per chapter), and nothing else; folders named ``_build`` or
    ``.ipynb_checkpoints`` are skipped. Other notebooks are neither released nor copied;
    :func:`release` lists those that contain solution markers in ``skipped`` so that a
    misnamed exercise notebook is noticed (the student book releases them too).

What changes
    * In code cells, every block from a ``BEGIN SOLUTION`` marker line to the next
      ``END SOLUTION`` line (markers included) becomes two lines at the indentation of
      the ``BEGIN`` marker: ``# YOUR CODE HERE`` and ``raise NotImplementedError``. A marker
      is a comment line of its own: one or more ``#``, then ``BEGIN SOLUTION`` in any case
      and spacing (nbgrader's ``### BEGIN SOLUTION`` included); text may follow.
    * Every block from ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` (nbgrader's
      hidden tests, same spelling rules) is removed, markers included.
    * In markdown cells, every ``{solution}`` directive block is removed, with backtick
      or colon fences of any length (the block ends at the first line made only of at
      least as many of the same fence character). A cell left empty is dropped.
    * Cells tagged ``instructor-only`` are dropped; cells tagged ``student-only`` lose that
      tag and ``remove-cell`` (which hides them in the instructor's book).
    * Cells that nbgrader metadata marks as locked (the check cells) get
      ``"editable": false`` and ``"deletable": false``, which JupyterLab honours.
    * Every code cell's outputs and execution count are cleared.

Refusals
    A marker anywhere else (after code on the same line, in a markdown or raw cell), a marker
    without its partner, nested markers, an unclosed solution directive, a gated
    ``{solution-start}`` directive and a malformed notebook raise ``ValueError`` naming the
    notebook and the cell; the command line prints ``error: FILE: what is wrong``.

Proof
    :func:`release` writes into a temporary folder next to the destination, then scans every
    file written (:func:`find_leaks`) for solution or hidden-test markers of any spelling and
    for the lines of the removed blocks (those that do not also appear outside them in the
    source). Only when the scan is clean are the files moved into place; on any failure
    nothing is written to the destination.

Everything else (other cells, metadata, key order, indentation of the JSON) is kept byte for
byte.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

__all__ = [
    "EXERCISE_NOTEBOOK",
    "INSTRUCTOR_ONLY",
    "STUDENT_ONLY",
    "ReleaseReport",
    "ReleaseResult",
    "find_exercise_notebooks",
    "find_leaks",
    "has_solution_content",
    "release",
    "release_notebook",
    "release_notebook_file",
    "remove_solution_directives",
    "secret_lines",
    "strip_solution_blocks",
    "stub_solutions",
]

#: File name of the notebooks that :func:`release` releases.
EXERCISE_NOTEBOOK = "exercises.ipynb"
#: Tag of cells dropped from the student version (e.g. "this is the instructor's version").
INSTRUCTOR_ONLY = "instructor-only"
#: Tag of cells shown only in the student version (hidden in the book with ``remove-cell``).
STUDENT_ONLY = "student-only"

STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")

# a marker line: indentation, one or more '#', BEGIN/END, SOLUTION or HIDDEN TESTS, any case and spacing
_MARKER_LINE = re.compile(
    r"^(?P<indent>[ \t]*)#+[ \t]*(?P<edge>BEGIN|END)[ \t]+(?P<what>SOLUTION|HIDDEN[ \t]+TESTS)\b", re.IGNORECASE
)
# the words of a marker anywhere, in any spelling: what the leak scan looks for
_MARKER_WORDS = re.compile(r"\b(BEGIN|END)[ \t_-]*(SOLUTIONS?|HIDDEN[ \t_-]*TESTS?)\b", re.IGNORECASE)
_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})[ \t]*\{solution(?P<gated>-start|-end)?\}")
_SKIP_DIRS = {"_build", ".ipynb_checkpoints"}
_MIN_SECRET = 6  # shorter lines (``)``, ``else:``) are too common to count as leaked solution lines

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class ReleaseReport:
    """What :func:`release_notebook` changed in one notebook."""

    source: str = ""
    destination: str = ""
    solutions: int = 0  #: solution blocks replaced by stubs
    directives: int = 0  #: ``{solution}`` directives removed
    cleared: int = 0  #: code cells whose outputs/execution count were cleared
    dropped_cells: int = 0  #: markdown cells that held only solution directives, and instructor-only cells
    hidden_tests: int = 0  #: hidden-test blocks removed

    def summary(self) -> str:
        """One line for the command line.

        Examples
        --------
        >>> ReleaseReport(solutions=3, directives=1).summary()
        '3 solutions stubbed, 1 solution directive removed, outputs of 0 code cells cleared'
        >>> ReleaseReport(solutions=1, hidden_tests=2).summary()
        '1 solution stubbed, 0 solution directives removed, 2 hidden-test blocks removed, outputs of 0 code cells cleared'
        """
        hidden = f"{self.hidden_tests} hidden-test block{'s' if self.hidden_tests != 1 else ''} removed, " if self.hidden_tests else ""
        return (
            f"{self.solutions} solution{'s' if self.solutions != 1 else ''} stubbed, "
            f"{self.directives} solution directive{'s' if self.directives != 1 else ''} removed, "
            + hidden
            + f"outputs of {self.cleared} code cell{'s' if self.cleared != 1 else ''} cleared"
        )


@dataclass
class ReleaseResult:
    """What :func:`release` did: one report per notebook written, and notebooks skipped."""

    reports: list[ReleaseReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _kind(what: str) -> str:
    """The kind of block a marker's ``what`` group names, spelled canonically."""
    return "SOLUTION" if what.upper().startswith("SOL") else "HIDDEN TESTS"


def strip_solution_blocks(source: str, where: str = "cell") -> tuple[str, int, int, list[str]]:
    r"""Stub out solution blocks and remove hidden-test blocks of a code cell's source.

    Parameters
    ----------
    source : str
        A code cell's source.
    where : str
        Names the cell in error messages.

    Returns
    -------
    source : str
        The source with stubs, without hidden tests.
    solutions : int
        Number of solution blocks replaced.
    hidden : int
        Number of hidden-test blocks removed.
    removed : list of str
        The lines removed (markers excluded).

    Raises
    ------
    ValueError
        On an ``END`` without ``BEGIN``, a ``BEGIN`` without ``END``, nested blocks, or marker
        words on a line that is not a marker of its own (``x = 1  # BEGIN SOLUTION``).

    Examples
    --------
    >>> code = "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\n### BEGIN HIDDEN TESTS\nassert y == 2\n### END HIDDEN TESTS\n"
    >>> text, solutions, hidden, removed = strip_solution_blocks(code)
    >>> print(text, end="")
    x = 1
    # YOUR CODE HERE
    raise NotImplementedError
    >>> solutions, hidden, removed
    (1, 1, ['y = 2\n', 'assert y == 2\n'])
    """
    out: list[str] = []
    removed: list[str] = []
    solutions = hidden = 0
    open_block: Optional[tuple[int, str, str]] = None  # (line number, kind, indentation)
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        m = _MARKER_LINE.match(line)
        if m is None:
            if _MARKER_WORDS.search(line):
                raise ValueError(
                    f"{where}: line {number} holds solution-marker words but is not a marker line of its own "
                    f"({line.strip()[:60]!r}); put '### BEGIN SOLUTION' / '### END SOLUTION' on lines of their own"
                )
            if open_block is None:
                out.append(line)
            else:
                removed.append(line)
            continue
        edge, kind = m.group("edge").upper(), _kind(m.group("what"))
        if edge == "BEGIN":
            if open_block is not None:
                raise ValueError(f"{where}: 'BEGIN {kind}' on line {number} is nested in the 'BEGIN {open_block[1]}' on line {open_block[0]}")
            open_block = (number, kind, m.group("indent"))
            continue
        if open_block is None:
            raise ValueError(f"{where}: 'END {kind}' on line {number} has no 'BEGIN {kind}' before it")
        if open_block[1] != kind:
            raise ValueError(f"{where}: 'END {kind}' on line {number} closes the 'BEGIN {open_block[1]}' on line {open_block[0]}")
        if kind == "SOLUTION":
            indent = open_block[2]
            out.append(f"{indent}{STUB_LINES[0]}\n")
            out.append(f"{indent}{STUB_LINES[1]}{_ending(line)}")
            solutions += 1
        else:
            hidden += 1
        open_block = None
    if open_block is not None:
        raise ValueError(f"{where}: 'BEGIN {open_block[1]}' on line {open_block[0]} has no matching 'END {open_block[1]}'")
    return "".join(out), solutions, hidden, removed


def stub_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    r"""Replace each ``BEGIN SOLUTION`` ... ``END SOLUTION`` block by a stub.

    Hidden-test blocks are removed too (see :func:`strip_solution_blocks`).

    Parameters
    ----------
    source : str
        A code cell's source.
    where : str
        Names the cell in error messages.

    Returns
    -------
    source : str
        The source with stubs.
    count : int
        Number of solution blocks replaced.

    Raises
    ------
    ValueError
        On an ``END`` without ``BEGIN``, a ``BEGIN`` without ``END``, nested markers, or a
        marker that is not a line of its own.

    Examples
    --------
    >>> code = "def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n"
    >>> print(stub_solutions(code)[0], end="")
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError
    """
    text, solutions, _, _ = strip_solution_blocks(source, where)
    return text, solutions


def remove_solution_directives(source: str, where: str = "cell") -> tuple[str, int]:
    """Remove every ``{solution}`` directive block from a markdown cell's source.

    A blank line that separated the block from what follows is removed with it, so no
    double blank lines are left behind.

    Parameters
    ----------
    source : str
        A markdown cell's source.
    where : str
        Names the cell in error messages.

    Returns
    -------
    source : str
        The source without solution blocks (possibly empty).
    count : int
        Number of blocks removed.

    Raises
    ------
    ValueError
        On a block whose closing fence is missing, or a gated ``{solution-start}`` /
        ``{solution-end}`` directive (not supported: write one ``{solution}`` block).

    Examples
    --------
    >>> text = "Intro.\\n\\n```{solution} ex-1\\n:class: dropdown\\n\\nAnswer.\\n```\\n\\nMore.\\n"
    >>> print(remove_solution_directives(text)[0], end="")
    Intro.
    <BLANKLINE>
    More.
    """
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    count = 0
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        if m.group("gated"):
            raise ValueError(
                f"{where}: gated '{{solution{m.group('gated')}}}' directives (line {i + 1}) are not supported; "
                "put the solution in one {solution} directive"
            )
        fence = m.group("fence")
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j].rstrip("\r\n")):
            j += 1
        if j == len(lines):
            raise ValueError(f"{where}: the {{solution}} directive on line {i + 1} has no closing {fence}")
        count += 1
        i = j + 1
        before_blank = not out or out[-1].strip() == ""
        if i < len(lines) and lines[i].strip() == "" and before_blank:
            i += 1
    if count:
        # blank lines left at the end by a removed block go too; keep the source's last line ending
        while out and out[-1].strip() == "":
            out.pop()
        if out:
            out[-1] = out[-1].rstrip("\r\n") + (_ending(lines[-1]) if source.endswith(("\n", "\r")) else "")
    text = "".join(out)
    return text, count


def _set_source(cell: dict[str, Any], text: str) -> None:
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text


def _source_text(cell: Any, label: str) -> str:
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise ValueError(f"{label}: 'source' must be a string or a list of strings, got {type(source).__name__}")


def _check_notebook(nb: Any, where: str) -> None:
    if not isinstance(nb, dict):
        raise ValueError(f"{where}: not a notebook (the JSON is a {type(nb).__name__}, not an object)")
    if not isinstance(nb.get("cells"), list):
        raise ValueError(f"{where}: not a notebook (no list of cells)")
    if nb.get("nbformat", 4) != 4:
        raise ValueError(f"{where}: nbformat {nb.get('nbformat')!r} is not supported (expected 4)")
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            raise ValueError(f"{where}, cell {number}: not a cell (a {type(cell).__name__}, not an object)")
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            raise ValueError(f"{where}, cell {number}: unknown cell_type {kind!r} (expected code, markdown or raw)")
        metadata = cell.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ValueError(f"{where}, cell {number} ({kind}): metadata must be an object, got {type(metadata).__name__}")
        tags = metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"{where}, cell {number} ({kind}): metadata.tags must be a list of strings")
        _source_text(cell, f"{where}, cell {number} ({kind})")


def release_notebook(nb: dict[str, Any], where: str = "notebook") -> tuple[dict[str, Any], ReleaseReport]:
    r"""Return the student version of a notebook (a parsed ``.ipynb`` dict) and what changed.

    Parameters
    ----------
    nb : dict
        The notebook, as ``json.load`` gives it (not modified).
    where : str
        Names the notebook in error messages.

    Returns
    -------
    notebook : dict
    report : ReleaseReport

    Raises
    ------
    ValueError
        On a malformed notebook, unbalanced, nested or misplaced markers (in a markdown or
        raw cell, or after code on a line) or a broken solution directive, naming the
        notebook and the cell (1-based).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {},
    ...        "outputs": [{"output_type": "stream", "name": "stdout", "text": "6"}],
    ...        "source": "answer = 6\n"}],
    ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> student, report = release_notebook(nb)
    >>> student["cells"][0]["outputs"], student["cells"][0]["execution_count"], report.solutions
    ([], None, 0)
    """
    _check_notebook(nb, where)
    out = copy.deepcopy(nb)
    report = ReleaseReport(source=where)
    cells = []
    for number, cell in enumerate(out["cells"], start=1):
        kind = cell.get("cell_type")
        label = f"{where}, cell {number} ({kind})"
        text = _source_text(cell, label)
        metadata = cell.setdefault("metadata", {})
        tags = list(metadata.get("tags", []))
        if INSTRUCTOR_ONLY in tags:
            report.dropped_cells += 1
            continue
        if STUDENT_ONLY in tags:
            tags = [t for t in tags if t not in (STUDENT_ONLY, "remove-cell")]
            if tags:
                metadata["tags"] = tags
            else:
                metadata.pop("tags", None)
        if kind == "code":
            text, n, hidden, _ = strip_solution_blocks(text, label)
            if n or hidden:
                _set_source(cell, text)
                report.solutions += n
                report.hidden_tests += hidden
            if cell.get("outputs") or cell.get("execution_count") is not None:
                report.cleared += 1
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            found = next((i for i, line in enumerate(text.splitlines(), start=1) if _MARKER_WORDS.search(line)), None)
            if found is not None:
                raise ValueError(
                    f"{label}: line {found} holds a solution marker; markers belong in code cells "
                    "(write a markdown answer in a {solution} directive)"
                )
        if kind == "markdown":
            text, n = remove_solution_directives(text, label)
            if n:
                report.directives += n
                if not text.strip():
                    report.dropped_cells += 1
                    continue
                _set_source(cell, text)
        grader = metadata.get("nbgrader")
        if isinstance(grader, dict) and grader.get("locked"):
            metadata["editable"] = False
            metadata["deletable"] = False
        cells.append(cell)
    out["cells"] = cells
    return out, report


def has_solution_content(nb: Any) -> bool:
    """Whether a parsed notebook holds anything :func:`release_notebook` would remove.

    Marker words of any spelling, a ``{solution}`` directive or an ``instructor-only`` cell.

    Examples
    --------
    >>> has_solution_content({"cells": [{"cell_type": "code", "source": "x = 1  # begin  solution"}]})
    True
    >>> has_solution_content({"cells": [{"cell_type": "markdown", "source": "Just text."}]})
    False
    """
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return False
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        metadata = cell.get("metadata")
        tags = metadata.get("tags") or [] if isinstance(metadata, dict) else []
        if _MARKER_WORDS.search(text) or re.search(r"\{solution", text) or INSTRUCTOR_ONLY in tags:
            return True
    return False


def _json_style(text: str) -> tuple[int, bool]:
    """Indentation and trailing newline of a JSON file, to write it back the same way."""
    indent = 1
    lines = text.splitlines()
    if len(lines) > 1:
        second = lines[1]
        indent = len(second) - len(second.lstrip(" ")) or 1
    return indent, text.endswith("\n")


def _read_notebook(path: Path) -> tuple[Any, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    try:
        return json.loads(text), text
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err


def release_notebook_file(src: PathLike, dest: PathLike) -> ReleaseReport:
    r"""Write the student version of the notebook file ``src`` to ``dest``.

    This writes one file directly (no scan); :func:`release` is the safe way to release a
    course.

    Parameters
    ----------
    src, dest : path
        Source and destination ``.ipynb`` files (the destination's folders are created).

    Returns
    -------
    ReleaseReport

    Raises
    ------
    ValueError
        If ``dest`` is ``src`` (the instructor's version would be lost), or the notebook is
        malformed or has broken markers or directives.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
    ...         "source": ["x = (\n", "    # BEGIN SOLUTION\n", "    42\n", "    # END SOLUTION\n", ")"]}
    >>> nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> _ = (folder / "exercises.ipynb").write_text(json.dumps(nb, indent=1))
    >>> release_notebook_file(folder / "exercises.ipynb", folder / "student.ipynb").summary()
    '1 solution stubbed, 0 solution directives removed, outputs of 0 code cells cleared'
    >>> json.loads((folder / "student.ipynb").read_text())["cells"][0]["source"]
    ['x = (\n', '    # YOUR CODE HERE\n', '    raise NotImplementedError\n', ')']
    """
    src_path, dest_path = Path(src), Path(dest)
    if dest_path.resolve() == src_path.resolve():
        raise ValueError(f"dest {dest_path} is the source notebook itself; refusing to overwrite the instructor's version")
    nb, text = _read_notebook(src_path)
    student, report = release_notebook(nb, str(src_path))
    indent, newline = _json_style(text)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(student, indent=indent, ensure_ascii=False, separators=(",", ": "))
    dest_path.write_text(body + ("\n" if newline else ""), encoding="utf-8")
    report.source, report.destination = str(src_path), str(dest_path)
    return report


def _skipped_dir(path: Path, root: Path) -> bool:
    return any(part in _SKIP_DIRS for part in path.relative_to(root).parts[:-1])


def find_exercise_notebooks(src: PathLike) -> list[Path]:
    """All ``exercises.ipynb`` files under ``src`` (sorted; ``_build`` and checkpoints skipped).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for p in ["b/exercises.ipynb", "a/exercises.ipynb", "a/01_x.ipynb", "_build/exercises.ipynb"]:
    ...     (root / p).parent.mkdir(parents=True, exist_ok=True); _ = (root / p).write_text("{}")
    >>> [str(p.relative_to(root)) for p in find_exercise_notebooks(root)]
    ['a/exercises.ipynb', 'b/exercises.ipynb']
    """
    root = Path(src)
    return sorted(p for p in root.rglob(EXERCISE_NOTEBOOK) if p.is_file() and not _skipped_dir(p, root))


# --------------------------------------------------------------------------- the leak scan


def _meaningful(line: str) -> Optional[str]:
    text = line.strip()
    if len(text) < _MIN_SECRET or not re.search(r"[A-Za-z0-9]", text):
        return None
    return text


def _text_lines(path: Path) -> list[str]:
    """The lines a reader of ``path`` sees: cell sources and text outputs for a notebook."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if path.suffix != ".ipynb":
        return text.splitlines()
    try:
        nb = json.loads(text)
    except json.JSONDecodeError:
        return text.splitlines()
    lines: list[str] = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        lines.extend(("".join(source) if isinstance(source, list) else str(source)).splitlines())
        for output in cell.get("outputs", []) or []:
            if not isinstance(output, dict):
                continue
            pieces = [output.get("text", "")] + list((output.get("data") or {}).values())
            for piece in pieces:
                lines.extend(("".join(piece) if isinstance(piece, list) else str(piece)).splitlines())
    return lines + text.splitlines()


def secret_lines(notebooks: Iterable[Any], public_files: Iterable[PathLike] = ()) -> set[str]:
    r"""The lines that only the removed parts of ``notebooks`` hold: what must never ship.

    A line counts (stripped, at least a few characters with a letter or digit) when it lies
    inside a solution or hidden-test block of a code cell, or inside a ``{solution}``
    directive, and appears nowhere outside those parts: not elsewhere in the notebooks, not
    in ``public_files``. The blocks are found with a deliberately simple reading of the
    markers, independent of :func:`release_notebook`, so that the scan checks the release.

    Parameters
    ----------
    notebooks : iterable of dict
        Parsed instructor notebooks.
    public_files : iterable of path
        Other files released as they are (their lines are public).

    Returns
    -------
    set of str

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": "setup = 1\n# BEGIN SOLUTION\nanswer = 42\nsetup = 1\n# END SOLUTION\n"}]}
    >>> sorted(secret_lines([nb]))
    ['answer = 42']
    """
    secret: set[str] = set()
    public: set[str] = set()
    for nb in notebooks:
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict):
                continue
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            inside = False
            fence: Optional[re.Pattern[str]] = None
            for line in text.splitlines():
                words = _MARKER_WORDS.search(line)
                if words and cell.get("cell_type") == "code":
                    inside = words.group(1).upper() == "BEGIN"
                    continue
                opened = _OPEN.match(line)
                if fence is None and opened and cell.get("cell_type") == "markdown":
                    mark = opened.group("fence")
                    fence = re.compile(r"^[ \t]*" + re.escape(mark[0]) + "{" + str(len(mark)) + r",}[ \t]*$")
                    continue
                if fence is not None and fence.match(line):
                    fence = None
                    continue
                kept = _meaningful(line)
                if kept is None:
                    continue
                (secret if inside or fence is not None else public).add(kept)
    for path in public_files:
        for line in _text_lines(Path(path)):
            kept = _meaningful(line)
            if kept is not None:
                public.add(kept)
    return secret - public


def find_leaks(folder: PathLike, secrets: Iterable[str] = ()) -> list[str]:
    r"""Every leak in the released files under ``folder``: one ``FILE: what`` line each.

    A leak is a solution or hidden-test marker of any spelling (``BEGIN SOLUTION``,
    ``### begin  solution``, ``END HIDDEN TESTS`` ...) or one of the ``secrets`` (see
    :func:`secret_lines`) on a line of any file; notebooks are read cell by cell, outputs
    included.

    Parameters
    ----------
    folder : path
        A folder (every file below it) or one file.
    secrets : iterable of str
        Stripped lines that must not appear.

    Returns
    -------
    list of str
        Empty when the release is clean.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.py").write_text("x = 1\n##  begin solution\n")
    >>> find_leaks(folder)  # doctest: +ELLIPSIS
    ['.../notes.py: line 2 holds a solution marker: ##  begin solution']
    """
    root = Path(folder)
    wanted = set(secrets)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    leaks: list[str] = []
    for path in files:
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(raw.splitlines(), start=1):
            if _MARKER_WORDS.search(line):
                leaks.append(f"{path}: line {number} holds a solution marker: {line.strip()[:80]}")
        if wanted:
            for line in _text_lines(path):
                kept = _meaningful(line)
                if kept is not None and kept in wanted:
                    leaks.append(f"{path}: holds a line of a removed solution: {kept[:80]}")
    return list(dict.fromkeys(leaks))


def _refuse_leaks(folder: Path, secrets: set[str], shown: Path, dest: Path) -> None:
    leaks = find_leaks(folder, secrets)
    if leaks:
        listed = "\n  ".join(leak.replace(str(folder), str(dest)) for leak in leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        raise ValueError(f"{shown}: the release would leak solutions; nothing was written to {dest}:\n  {listed}{more}")


def _staging(dest: Path) -> Path:
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent))


def _move_into_place(staged: Path, dest: Path) -> None:
    """Move the staged tree's files to ``dest`` (renaming the whole folder when it is new)."""
    if not dest.exists():
        os.replace(staged, dest)
        return
    for path in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = dest / path.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def release(src: PathLike, dest: PathLike) -> ReleaseResult:
    """Write the student release of every exercise notebook under ``src`` to ``dest``.

    The notebooks are written to a temporary folder beside ``dest`` and scanned with
    :func:`find_leaks`; only a clean release is moved into place. On any error nothing is
    written to ``dest`` (an existing ``dest`` keeps its other files).

    Parameters
    ----------
    src : path
        A folder (every ``exercises.ipynb`` below it is released, at the same relative
        path under ``dest``) or one ``.ipynb`` file (written to ``dest`` if it ends in
        ``.ipynb``, else into the folder ``dest``).
    dest : path
        Destination folder (or file); created as needed. Nothing but the released
        notebooks is written.

    Returns
    -------
    ReleaseResult
        ``.reports``: one :class:`ReleaseReport` per notebook written; ``.skipped``: other
        notebooks under ``src`` that contain solution markers (not released).

    Raises
    ------
    FileNotFoundError
        If ``src`` does not exist.
    ValueError
        If ``dest`` is ``src``, a notebook is malformed or has broken markers or
        directives, or the scan finds a leak.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> for rel in ["chapters/00_a/exercises.ipynb", "chapters/00_a/01_notes.ipynb"]:
    ...     (root / rel).parent.mkdir(parents=True, exist_ok=True)
    ...     _ = (root / rel).write_text(json.dumps(nb))
    >>> result = release(root / "chapters", root / "student")
    >>> [str(Path(r.destination).relative_to(root)) for r in result.reports]
    ['student/00_a/exercises.ipynb']
    """
    src_path, dest_path = Path(src), Path(dest)
    if not src_path.exists():
        raise FileNotFoundError(f"src {src_path} does not exist")
    result = ReleaseResult()
    if src_path.is_file():
        target = dest_path if dest_path.suffix == ".ipynb" else dest_path / src_path.name
        if target.resolve() == src_path.resolve():
            raise ValueError(f"dest {target} is the source notebook itself; refusing to overwrite the instructor's version")
        nb, _ = _read_notebook(src_path)
        staged = _staging(target)
        try:
            report = release_notebook_file(src_path, staged / target.name)
            _refuse_leaks(staged, secret_lines([nb]), src_path, target)
            os.replace(staged / target.name, target)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        report.destination = str(target)
        result.reports.append(report)
        return result
    if dest_path.resolve() == src_path.resolve():
        raise ValueError(f"dest {dest_path} is the source folder; refusing to overwrite the instructor's notebooks")
    dest_resolved = dest_path.resolve()

    def inside_dest(p: Path) -> bool:
        return dest_resolved == p.resolve() or dest_resolved in p.resolve().parents

    notebooks = [p for p in find_exercise_notebooks(src_path) if not inside_dest(p)]
    staged = _staging(dest_path)
    try:
        parsed = []
        for nb_path in notebooks:
            parsed.append(_read_notebook(nb_path)[0])
            report = release_notebook_file(nb_path, staged / nb_path.relative_to(src_path))
            report.destination = str(dest_path / nb_path.relative_to(src_path))
            result.reports.append(report)
        _refuse_leaks(staged, secret_lines(parsed), src_path, dest_path)
        _move_into_place(staged, dest_path)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    for other in sorted(src_path.rglob("*.ipynb")):
        if other.name == EXERCISE_NOTEBOOK or _skipped_dir(other, src_path) or inside_dest(other):
            continue
        try:
            text = other.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _MARKER_WORDS.search(text):
            result.skipped.append(str(other))
    return result
