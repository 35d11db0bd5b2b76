"""The student release of exercise notebooks: solutions out, stubs in.

Which notebooks
    Every notebook named ``exercises.ipynb`` under the source folder (the course's
    convention: one per chapter), and nothing else; folders named ``_build`` or
    ``.ipynb_checkpoints`` are skipped. Other notebooks are neither released nor copied;
    :func:`release` lists those that contain solution markers in ``skipped`` so that a
    misnamed exercise notebook is noticed.

What changes
    * In code cells, every block from a ``# BEGIN SOLUTION`` line to the next
      ``# END SOLUTION`` line (markers included) becomes two lines at the indentation of
      the ``BEGIN`` marker: ``# YOUR CODE HERE`` and ``raise NotImplementedError``.
      A marker is a line holding only the comment (text may follow the word SOLUTION).
    * In markdown cells, every ``{solution}`` directive block is removed, with backtick
      or colon fences of any length (the block ends at the first line made only of at
      least as many of the same fence character). A cell left empty is dropped.
    * Every code cell's outputs and execution count are cleared.

Everything else (other cells, metadata, key order, indentation of the JSON) is kept byte for
byte. A marker without its partner, nested markers, an unclosed solution directive or a
gated ``{solution-start}`` directive raise ``ValueError`` naming the notebook and the cell.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

__all__ = [
    "EXERCISE_NOTEBOOK",
    "ReleaseReport",
    "ReleaseResult",
    "find_exercise_notebooks",
    "release",
    "release_notebook",
    "release_notebook_file",
    "remove_solution_directives",
    "stub_solutions",
]

#: File name of the notebooks that :func:`release` releases.
EXERCISE_NOTEBOOK = "exercises.ipynb"

STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*BEGIN SOLUTION\b")
_END = re.compile(r"^[ \t]*#[ \t]*END SOLUTION\b")
_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})[ \t]*\{solution(?P<gated>-start|-end)?\}")
_SKIP_DIRS = {"_build", ".ipynb_checkpoints"}

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class ReleaseReport:
    """What :func:`release_notebook` changed in one notebook."""

    source: str = ""
    destination: str = ""
    solutions: int = 0  #: solution blocks replaced by stubs
    directives: int = 0  #: ``{solution}`` directives removed
    cleared: int = 0  #: code cells whose outputs/execution count were cleared
    dropped_cells: int = 0  #: markdown cells that held only solution directives

    def summary(self) -> str:
        """One line for the command line.

        Examples
        --------
        >>> ReleaseReport(solutions=3, directives=1).summary()
        '3 solutions stubbed, 1 solution directive removed, outputs of 0 code cells cleared'
        """
        return (
            f"{self.solutions} solution{'s' if self.solutions != 1 else ''} stubbed, "
            f"{self.directives} solution directive{'s' if self.directives != 1 else ''} removed, "
            f"outputs of {self.cleared} code cell{'s' if self.cleared != 1 else ''} cleared"
        )


@dataclass
class ReleaseResult:
    """What :func:`release` did: one report per notebook written, and notebooks skipped."""

    reports: list[ReleaseReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _lines(source: Union[str, list[str]]) -> list[str]:
    text = "".join(source) if isinstance(source, list) else source
    return text.splitlines(keepends=True)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def stub_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block by a stub.

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
        Number of blocks replaced.

    Raises
    ------
    ValueError
        On an ``END`` without ``BEGIN``, a ``BEGIN`` without ``END``, or nested markers.

    Examples
    --------
    >>> code = "def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION\\n"
    >>> print(stub_solutions(code)[0], end="")
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError
    """
    out: list[str] = []
    count = 0
    begin: Optional[tuple[int, str]] = None  # (line number, indentation)
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        m_begin = _BEGIN.match(line)
        if m_begin:
            if begin is not None:
                raise ValueError(f"{where}: '# BEGIN SOLUTION' on line {number} is nested in the one on line {begin[0]}")
            begin = (number, m_begin.group("indent"))
            continue
        if _END.match(line):
            if begin is None:
                raise ValueError(f"{where}: '# END SOLUTION' on line {number} has no '# BEGIN SOLUTION' before it")
            indent = begin[1]
            out.append(f"{indent}{STUB_LINES[0]}\n")
            out.append(f"{indent}{STUB_LINES[1]}{_ending(line)}")
            count += 1
            begin = None
            continue
        if begin is None:
            out.append(line)
    if begin is not None:
        raise ValueError(f"{where}: '# BEGIN SOLUTION' on line {begin[0]} has no matching '# END SOLUTION'")
    return "".join(out), count


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


def release_notebook(nb: dict[str, Any], where: str = "notebook") -> tuple[dict[str, Any], ReleaseReport]:
    """Return the student version of a notebook (a parsed ``.ipynb`` dict) and what changed.

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
        On unbalanced or nested markers or a broken solution directive, naming the notebook
        and the cell (1-based).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {},
    ...        "outputs": [{"output_type": "stream", "name": "stdout", "text": "6"}],
    ...        "source": "answer = 6  # BEGIN SOLUTION\\n"}],
    ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> student, report = release_notebook(nb)
    >>> student["cells"][0]["outputs"], student["cells"][0]["execution_count"], report.solutions
    ([], None, 0)
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{where}: not a notebook (no list of cells)")
    out = copy.deepcopy(nb)
    report = ReleaseReport(source=where)
    cells = []
    for number, cell in enumerate(out["cells"], start=1):
        kind = cell.get("cell_type")
        label = f"{where}, cell {number} ({kind})"
        if kind == "code":
            text, n = stub_solutions("".join(_lines(cell.get("source", ""))), label)
            if n:
                _set_source(cell, text)
                report.solutions += n
            if cell.get("outputs") or cell.get("execution_count") is not None:
                report.cleared += 1
            cell["outputs"] = []
            cell["execution_count"] = None
        elif kind == "markdown":
            text, n = remove_solution_directives("".join(_lines(cell.get("source", ""))), label)
            if n:
                report.directives += n
                if not text.strip():
                    report.dropped_cells += 1
                    continue
                _set_source(cell, text)
        cells.append(cell)
    out["cells"] = cells
    return out, report


def _json_style(text: str) -> tuple[int, bool]:
    """Indentation and trailing newline of a JSON file, to write it back the same way."""
    indent = 1
    lines = text.splitlines()
    if len(lines) > 1:
        second = lines[1]
        indent = len(second) - len(second.lstrip(" ")) or 1
    return indent, text.endswith("\n")


def release_notebook_file(src: PathLike, dest: PathLike) -> ReleaseReport:
    r"""Write the student version of the notebook file ``src`` to ``dest``.

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
        If ``dest`` is ``src`` (the instructor's version would be lost), or on broken
        markers or directives.

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
    text = src_path.read_text(encoding="utf-8")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{src_path}: not valid JSON ({err})") from err
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


def release(src: PathLike, dest: PathLike) -> ReleaseResult:
    """Write the student release of every exercise notebook under ``src`` to ``dest``.

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
        If ``dest`` is ``src`` or a notebook has broken markers or directives (nothing is
        written for that notebook).

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
        result.reports.append(release_notebook_file(src_path, target))
        return result
    if dest_path.resolve() == src_path.resolve():
        raise ValueError(f"dest {dest_path} is the source folder; refusing to overwrite the instructor's notebooks")
    dest_resolved = dest_path.resolve()

    def inside_dest(p: Path) -> bool:
        return dest_resolved == p.resolve() or dest_resolved in p.resolve().parents

    notebooks = [p for p in find_exercise_notebooks(src_path) if not inside_dest(p)]
    for nb_path in notebooks:
        result.reports.append(release_notebook_file(nb_path, dest_path / nb_path.relative_to(src_path)))
    for other in sorted(src_path.rglob("*.ipynb")):
        if other.name == EXERCISE_NOTEBOOK or _skipped_dir(other, src_path) or inside_dest(other):
            continue
        try:
            text = other.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "BEGIN SOLUTION" in text:
            result.skipped.append(str(other))
    return result
