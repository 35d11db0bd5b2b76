"""Every exercise notebook, in both versions: the instructor's passes, the student's fails.

For each ``chapters/*/exercises.ipynb`` in the repository:

* the instructor version runs top to bottom without error, and every check cell prints
  its ``✓`` line (so the checks really ran);
* the student release (solutions replaced by stubs, made in memory with
  :func:`companion.exercises.release.release_notebook`) stops at its first check cell with
  an ``ExerciseFailure`` whose verdict says "not implemented", shown without a Python
  traceback. One exception is allowed: when the first exercise's solution is top-level code
  (``answer = ...`` between markers), its stub raises ``NotImplementedError`` in that
  solution cell itself, just before the first check cell.

Notebooks run with nbclient on the ``python3`` kernel, in the notebook's folder. Each
notebook version is its own test, so ``pytest -n 2 tests/test_exercise_notebooks.py``
(pytest-xdist) runs them in parallel. Nothing is written to the repository; an instructor
version that passes is stored in the book's execution cache (``_build/.jupyter_cache``), so
that the book build does not run it again.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Optional

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from companion.exercises.release import release_notebook
from nbval_cache import store

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("chapters/*/exercises.ipynb"))
CHECK_CALL = re.compile(r"\bcheck_(?:function|gradient|value|true|property)\s*\(")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_TIMEOUT_S = 300

params = [pytest.param(p, id=p.parent.name) for p in NOTEBOOKS]


def is_check_cell(cell: Any) -> bool:
    source = cell.source
    return cell.cell_type == "code" and bool(CHECK_CALL.search(source)) and "BEGIN SOLUTION" not in source and "raise NotImplementedError" not in source


def execute(nb: nbformat.NotebookNode, folder: Path) -> Optional[CellExecutionError]:
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return err
    return None


def first_error(nb: nbformat.NotebookNode) -> tuple[int, Any]:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return index, output
    raise AssertionError("no cell has an error output")


def stdout_of(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture(autouse=True)
def _quiet_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_PROGRESS", "0")  # inherited by the kernel


def test_some_exercise_notebooks_exist() -> None:
    assert NOTEBOOKS, "no chapters/*/exercises.ipynb found"
    assert ROOT / "chapters" / "00_getting_started" / "exercises.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", params)
def test_instructor_version_passes(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    checks = [i for i, c in enumerate(nb.cells) if is_check_cell(c)]
    assert checks, f"{path}: no check cell (a code cell calling check_function/check_gradient/...)"
    assert any("BEGIN SOLUTION" in c.source for c in nb.cells if c.cell_type == "code"), f"{path}: no solution markers"
    started = time.perf_counter()
    error = execute(nb, path.parent)
    assert error is None, f"{path}: the instructor version fails:\n{error}"
    seconds = time.perf_counter() - started
    for i in checks:
        out = stdout_of(nb.cells[i])
        assert "✓" in out, f"{path}, cell {i + 1}: the check printed no ✓ line (stdout: {out!r})"
    # the book shows this very version: hand its outputs to the book's execution cache, on the
    # notebook as read (nbclient adds timings to the cells' metadata, which the cache's key hashes)
    cached = nbformat.read(path, as_version=4)
    for ran, cell in zip(nb.cells, cached.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    store(cached, str(path), seconds)


@pytest.mark.parametrize("path", params)
def test_student_version_fails_at_first_check_with_not_implemented(path: Path) -> None:
    student, report = release_notebook(json.loads(path.read_text(encoding="utf-8")), str(path))
    assert report.solutions >= 1, f"{path}: nothing was stubbed"
    nb = nbformat.reads(json.dumps(student), as_version=4)
    for cell in nb.cells:
        assert "BEGIN SOLUTION" not in cell.source and "{solution}" not in cell.source
    first_check = next(i for i, c in enumerate(nb.cells) if is_check_cell(c))
    error = execute(nb, path.parent)
    assert error is not None, f"{path}: the student version ran without error: its checks accept the stubs"
    index, output = first_error(nb)
    shown = ANSI.sub("", "\n".join(output.traceback))
    top_level_stub = (
        index == first_check - 1
        and output.ename == "NotImplementedError"
        and "raise NotImplementedError" in nb.cells[index].source
    )
    if top_level_stub:
        return
    assert index == first_check, (
        f"{path}: the first error is in cell {index + 1}, not in the first check cell {first_check + 1}:\n{shown}"
    )
    assert output.ename == "ExerciseFailure", f"{path}: the first check raised {output.ename}, not ExerciseFailure:\n{shown}"
    assert "not implemented" in shown, f"{path}: the verdict does not say 'not implemented':\n{shown}"
    assert "Traceback" not in shown and 'File "' not in shown, f"{path}: the verdict shows a traceback:\n{shown}"
