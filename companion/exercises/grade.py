"""Grade a folder of submitted exercise notebooks with nbgrader.

``python -m companion.exercises grade SUBMISSIONS`` (``make grade SUBMISSIONS=DIR``) takes
``SUBMISSIONS/<student>/<chapter>/exercises.ipynb`` and, in an nbgrader course folder
(default ``_build/grades``, rebuilt on every run):

1. puts the instructor's notebook of every chapter submitted, ``chapters/<chapter>/exercises.ipynb``
   in nbgrader form (:mod:`companion.exercises.nbgrader_source`), under ``source/<chapter>/``
   and runs ``nbgrader generate_assignment``, which records its check cells, hidden tests
   included, and their points in the gradebook (``gradebook.db``, SQLite);
2. copies each submission to ``submitted/<student>/<chapter>/`` and runs
   ``nbgrader autograde`` on each chapter, then once more, one submission per process, on
   any submission that run did not finish. nbgrader restores every locked
   check cell from the gradebook (so an edited check is graded as handed out, hidden tests
   included) and runs the notebook; a check cell that raises scores 0, one that runs
   scores its points. A cell may run ``cell_timeout`` seconds (then nbgrader interrupts
   it), each check ``check_timeout`` seconds per input (``COMPANION_CHECK_TIMEOUT``), and a
   whole submission ``submission_timeout`` seconds (then its process group is killed and
   the submission scores 0). A broken submission costs its student that chapter's points
   and nothing else: the batch always finishes;
3. writes ``feedback/<student>/<chapter>/exercises.html`` (``nbgrader generate_feedback``:
   the graded notebook with its verdict lines and the points of each check) and
   ``grades.csv`` with the columns ``student, chapter, exercise, score, max_score``, one row
   per exercise (its check cells summed), every submitted chapter of every student.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from companion.exercises.nbgrader_source import convert_notebook, exercise_of
from companion.exercises.release import EXERCISE_NOTEBOOK, _read_notebook

__all__ = ["CSV_COLUMNS", "GradeResult", "find_submissions", "grade"]

#: Columns of ``grades.csv``.
CSV_COLUMNS = ("student", "chapter", "exercise", "score", "max_score")
_NOTEBOOK_ID = EXERCISE_NOTEBOOK[: -len(".ipynb")]
_SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$"

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class GradeResult:
    """What :func:`grade` did."""

    csv: Path  #: the grades.csv written
    feedback: Path  #: folder of feedback/<student>/<chapter>/exercises.html
    graded: int = 0  #: submissions autograded
    rows: list[dict[str, object]] = field(default_factory=list)  #: the rows of grades.csv
    problems: list[str] = field(default_factory=list)  #: one line per submission that scored 0 for a reason


def find_submissions(submissions: PathLike, chapters: PathLike) -> tuple[list[tuple[str, str, Path]], list[str]]:
    """``(student, chapter, notebook)`` for each ``SUBMISSIONS/<student>/<chapter>/exercises.ipynb``.

    Parameters
    ----------
    submissions : path
        The folder of submissions.
    chapters : path
        The course's ``chapters`` folder: a chapter without an exercise notebook there is
        not graded.

    Returns
    -------
    found : list of (str, str, Path)
        Sorted by student, then chapter.
    problems : list of str
        Entries that are skipped, and why.

    Raises
    ------
    FileNotFoundError
        If ``submissions`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for rel in ["chapters/03_losses/exercises.ipynb", "in/ada/03_losses/exercises.ipynb", "in/bob/09_nope/exercises.ipynb"]:
    ...     (root / rel).parent.mkdir(parents=True, exist_ok=True); _ = (root / rel).write_text("{}")
    >>> found, problems = find_submissions(root / "in", root / "chapters")
    >>> [(s, c) for s, c, _ in found], problems
    ([('ada', '03_losses')], ['bob/09_nope: no chapter 09_nope with an exercises.ipynb in the course; not graded'])
    """
    import re

    folder = Path(submissions)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    found: list[tuple[str, str, Path]] = []
    problems: list[str] = []
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        student = student_dir.name
        if not re.match(_SAFE_ID, student):
            problems.append(f"{student}: a student folder name may hold letters, digits and . _ @ - only; not graded")
            continue
        for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            chapter = chapter_dir.name
            notebook = chapter_dir / EXERCISE_NOTEBOOK
            if not (Path(chapters) / chapter / EXERCISE_NOTEBOOK).is_file():
                problems.append(f"{student}/{chapter}: no chapter {chapter} with an {EXERCISE_NOTEBOOK} in the course; not graded")
            elif not notebook.is_file():
                problems.append(f"{student}/{chapter}: no {EXERCISE_NOTEBOOK}; not graded")
            else:
                found.append((student, chapter, notebook))
    return found, problems


def _nbgrader(args: list[str], course: Path, env: dict[str, str], timeout: Optional[float]) -> tuple[int, str]:
    """Run ``nbgrader ARGS`` in the course folder, in its own process group; kill it all on timeout."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # nbgrader and the kernel it started
        output, _ = proc.communicate()
        return -1, output
    return proc.returncode, output


def _config(course: Path, cell_timeout: int) -> str:
    return (
        "# Written by `python -m companion.exercises grade`; rebuilt on every run.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(course / 'gradebook.db'))!r}\n"
        f"c.Execute.timeout = {int(cell_timeout)}\n"
        "c.Execute.interrupt_on_timeout = True\n"
        "c.Execute.execute_retries = 0\n"
        "c.LimitOutput.max_lines = 200\n"
        "c.LimitOutput.max_traceback = 40\n"
        "c.GenerateFeedback.force = True\n"
    )


def _exercises(source_nb: dict) -> dict[str, float]:
    """Max score of each exercise of a converted notebook, in the order of the notebook."""
    points: dict[str, float] = {}
    for cell in source_nb["cells"]:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade"):
            name = exercise_of(meta["grade_id"])
            points[name] = points.get(name, 0.0) + float(meta.get("points", 0))
    return points


def _number(x: float) -> Union[int, float]:
    return int(x) if float(x).is_integer() else round(float(x), 6)


def grade(
    submissions: PathLike,
    root: PathLike = ".",
    out: Optional[PathLike] = None,
    cell_timeout: int = 120,
    check_timeout: float = 10.0,
    submission_timeout: float = 900,
) -> GradeResult:
    """Autograde every submission with nbgrader; write ``grades.csv`` and the feedback.

    Parameters
    ----------
    submissions : path
        ``SUBMISSIONS/<student>/<chapter>/exercises.ipynb``.
    root : path
        The course repository (its ``chapters/<chapter>/exercises.ipynb`` are the sources).
    out : path, optional
        The nbgrader course folder, rebuilt (default ``ROOT/_build/grades``).
    cell_timeout : int
        Seconds one cell may run before nbgrader interrupts it.
    check_timeout : float
        Seconds one check may take per input (lowers every check's ``timeout``).
    submission_timeout : float
        Seconds one submission may take in all before its process group is killed.

    Returns
    -------
    GradeResult

    Raises
    ------
    FileNotFoundError
        If ``submissions`` or ``ROOT/chapters`` does not exist.
    ValueError
        On bad timeouts, no gradable submission, an instructor notebook nbgrader refuses,
        or an ``out`` folder that is the course root.
    RuntimeError
        If nbgrader itself is missing or fails on the instructor's notebooks.
    """
    for label, value in (("cell_timeout", cell_timeout), ("check_timeout", check_timeout), ("submission_timeout", submission_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{label} must be a positive number of seconds, got {value!r}")
    root_path = Path(root).resolve()
    chapters = root_path / "chapters"
    if not chapters.is_dir():
        raise FileNotFoundError(f"{chapters} does not exist (root={root_path})")
    course = Path(out).resolve() if out is not None else root_path / "_build" / "grades"
    if course == root_path or course in root_path.parents:
        raise ValueError(f"out {course} must not be the course root or above it")
    found, problems = find_submissions(submissions, chapters)
    if not found:
        raise ValueError(f"{submissions}: no SUBMISSIONS/<student>/<chapter>/{EXERCISE_NOTEBOOK} to grade")
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(_config(course, int(cell_timeout)), encoding="utf-8")
    env = dict(os.environ)
    env["COMPANION_CHECK_TIMEOUT"] = repr(float(check_timeout))
    env.setdefault("COMPANION_PROGRESS", "0")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("JUPYTER_CONFIG_DIR", None)

    result = GradeResult(csv=course / "grades.csv", feedback=course / "feedback", problems=problems)
    maxima: dict[str, dict[str, float]] = {}
    for chapter in sorted({c for _, c, _ in found}):
        source_path = chapters / chapter / EXERCISE_NOTEBOOK
        nb, _ = _read_notebook(source_path)
        converted = convert_notebook(nb, str(source_path))
        maxima[chapter] = _exercises(converted)
        target = course / "source" / chapter / EXERCISE_NOTEBOOK
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(converted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        code, output = _nbgrader(["generate_assignment", chapter, "--force"], course, env, timeout=300)
        if code != 0:
            raise RuntimeError(f"nbgrader generate_assignment {chapter} failed (exit {code}):\n{output[-3000:]}")

    for student, chapter, notebook in found:
        target = course / "submitted" / student / chapter / EXERCISE_NOTEBOOK
        target.parent.mkdir(parents=True)  # one submission per (student, chapter)
        shutil.copyfile(notebook, target)

    def autograded(student: str, chapter: str) -> bool:
        return (course / "autograded" / student / chapter / EXERCISE_NOTEBOOK).is_file()

    graded: set[tuple[str, str]] = set()
    for chapter in sorted({c for _, c, _ in found}):
        students = [s for s, c, _ in found if c == chapter]
        # one nbgrader process for the whole chapter (the fast path) ...
        _nbgrader(["autograde", chapter, "--force"], course, env, timeout=submission_timeout * len(students))
        for student in students:
            if autograded(student, chapter):
                graded.add((student, chapter))
                continue
            # ... and one process per submission it did not finish, killed after its own limit
            code, output = _nbgrader(["autograde", chapter, "--student", student, "--force"], course, env, timeout=submission_timeout)
            if code == -1:
                problems.append(f"{student}/{chapter}: still running after {submission_timeout:g} s; stopped, scored 0")
            elif code != 0 or not autograded(student, chapter):
                reason = next((line.strip() for line in reversed(output.splitlines()) if "error" in line.lower()), f"exit {code}")
                problems.append(f"{student}/{chapter}: nbgrader could not grade it ({reason[:200]}); scored 0")
            else:
                graded.add((student, chapter))
    result.graded = len(graded)

    for chapter in sorted({c for _, c in graded}):
        code, output = _nbgrader(["generate_feedback", chapter, "--force"], course, env, timeout=600)
        if code != 0:
            problems.append(f"{chapter}: nbgrader generate_feedback failed (exit {code}): {output.strip().splitlines()[-1:]}")

    scores: dict[tuple[str, str, str], float] = {}
    if graded:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            for student, chapter in graded:
                submitted = gradebook.find_submission_notebook(_NOTEBOOK_ID, chapter, student)
                for g in submitted.grades:
                    key = (student, chapter, exercise_of(g.name))
                    scores[key] = scores.get(key, 0.0) + float(g.score or 0.0)
    for student, chapter, _ in found:
        for exercise, max_score in maxima[chapter].items():
            result.rows.append(
                {
                    "student": student,
                    "chapter": chapter,
                    "exercise": exercise,
                    "score": _number(scores.get((student, chapter, exercise), 0.0)),
                    "max_score": _number(max_score),
                }
            )
    with open(result.csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(result.rows)
    return result
