"""End-to-end grading with nbgrader: four submissions of chapter 3's exercises.

``python -m companion.exercises grade`` runs on a folder with

* ``instructor``: the instructor's notebook itself, which must score full marks;
* ``untouched``: the student release as handed out, which must score 0;
* ``one-solved``: the release with exactly one exercise (the stable log-softmax) solved, and
  the check cell of another exercise edited to print a fake ``✓``: it must score exactly the
  points of the solved exercise (nbgrader restores the edited check);
* ``hostile``: a solution that loops forever, a solution cell that crashes, a deleted check
  cell, and one exercise (the KL divergence) solved: the batch must finish, and this student
  must get the KL divergence's points and nothing else.

The run uses short limits (two seconds per check, 60 per cell) so that the endless loop is
cut quickly. The test also checks the unit pieces of :mod:`companion.exercises.grade`.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import time
from pathlib import Path

import pytest

from companion.exercises.__main__ import main
from companion.exercises.grade import CSV_COLUMNS, find_submissions, grade
from companion.exercises.nbgrader_source import convert_notebook
from companion.exercises.release import release_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "03_losses"
SOURCE = ROOT / "chapters" / CHAPTER / "exercises.ipynb"


def _text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def _set(cell: dict, text: str) -> None:
    cell["source"] = text


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _solution_of(instructor: dict, grade_id: str) -> str:
    return _text(_cell(instructor, grade_id))


def _write(folder: Path, student: str, nb: dict) -> None:
    path = folder / student / CHAPTER / "exercises.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False))


def make_submissions(folder: Path) -> dict[str, float]:
    """Write the four submissions; return the expected totals."""
    instructor = json.loads(SOURCE.read_text(encoding="utf-8"))
    student, _ = release_notebook(instructor, str(SOURCE))
    _write(folder, "instructor", instructor)
    _write(folder, "untouched", student)

    one = copy.deepcopy(student)
    _set(_cell(one, "ex-03-log-softmax__solution"), _solution_of(instructor, "ex-03-log-softmax__solution"))
    _set(_cell(one, "ex-03-kl-by-hand"), 'print("✓ kl_by_hand: correct on 1 input")\n')  # a faked check
    _write(folder, "one-solved", one)

    hostile = copy.deepcopy(student)
    _set(_cell(hostile, "ex-03-log-softmax__solution"), "def log_softmax(z):\n    while True:\n        pass\n")
    _set(_cell(hostile, "ex-03-cross-entropy__solution"), "raise RuntimeError('this cell crashes')\n")
    _set(_cell(hostile, "ex-03-kl__solution"), _solution_of(instructor, "ex-03-kl__solution"))
    hostile["cells"].remove(_cell(hostile, "ex-03-ce-grad"))  # a deleted check cell
    _write(folder, "hostile", hostile)
    total = sum(c["metadata"]["nbgrader"]["points"] for c in instructor["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    return {"instructor": total, "untouched": 0, "one-solved": 1, "hostile": 1}


def test_four_submissions_graded_end_to_end(tmp_path):
    # one test (not a module fixture): pytest-xdist would otherwise grade once per worker
    folder = tmp_path / "submissions"
    expected = make_submissions(folder)
    out = tmp_path / "grades"
    start = time.monotonic()
    result = grade(folder, root=ROOT, out=out, cell_timeout=60, check_timeout=2.0, submission_timeout=300)
    seconds = time.monotonic() - start

    # grades.csv: exactly the expected points, per student and per exercise
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    print(f"\ngrades.csv ({seconds:.0f} s):\n" + (out / "grades.csv").read_text())
    totals: dict[str, float] = {}
    for row in rows:
        assert row["chapter"] == CHAPTER
        totals[row["student"]] = totals.get(row["student"], 0.0) + float(row["score"])
    assert totals == expected, (out / "grades.csv").read_text()
    assert result.graded == 4 and result.problems == []
    by = {(r["student"], r["exercise"]): float(r["score"]) for r in rows}
    assert by[("one-solved", "ex-03-log-softmax")] == 1 and by[("one-solved", "ex-03-kl-by-hand")] == 0
    assert by[("hostile", "ex-03-kl")] == 1 and by[("hostile", "ex-03-ce-grad")] == 0
    exercises = [r["exercise"] for r in rows if r["student"] == "instructor"]
    # one row per graded cell of the source notebook, in the notebook's order
    source = json.loads((ROOT / "chapters" / CHAPTER / "exercises.ipynb").read_text(encoding="utf-8"))
    graded = [c["metadata"]["nbgrader"]["grade_id"] for c in source["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")]
    assert exercises == graded
    assert graded[:6] == ["ex-03-kl-by-hand", "ex-03-log-softmax", "ex-03-cross-entropy", "ex-03-ce-grad", "ex-03-kl", "ex-03-distillation"]
    assert all(float(r["max_score"]) == 1 for r in rows)

    # the feedback pages show the verdicts
    hostile = (out / "feedback" / "hostile" / CHAPTER / "exercises.html").read_text(encoding="utf-8")
    assert "too slow: timed out" in hostile and "within 2 s" in hostile
    assert "this cell crashes" in hostile
    one = (out / "feedback" / "one-solved" / CHAPTER / "exercises.html").read_text(encoding="utf-8")
    assert "✓ log_softmax: correct on 5 inputs" in one
    assert "not implemented yet" in one
    assert 'print("✓ kl_by_hand' not in one  # the check cell was restored before it ran
    full = (out / "feedback" / "instructor" / CHAPTER / "exercises.html").read_text(encoding="utf-8")
    assert "✗" not in full and full.count("✓") >= 6

    # the gradebook is SQLite, under the course folder
    assert (out / "gradebook.db").read_bytes()[:15] == b"SQLite format 3"
    assert (out / "source" / CHAPTER / "exercises.ipynb").is_file()


def test_find_submissions_skips_what_it_cannot_grade(tmp_path):
    chapters = tmp_path / "chapters"
    (chapters / CHAPTER).mkdir(parents=True)
    (chapters / CHAPTER / "exercises.ipynb").write_text("{}")
    subs = tmp_path / "subs"
    for rel in [f"ada/{CHAPTER}/exercises.ipynb", f"bad name/{CHAPTER}/exercises.ipynb", "bob/99_none/exercises.ipynb"]:
        (subs / rel).parent.mkdir(parents=True)
        (subs / rel).write_text("{}")
    (subs / "carl" / CHAPTER).mkdir(parents=True)
    (subs / ".hidden").mkdir()
    (subs / "notes.txt").write_text("x")
    found, problems = find_submissions(subs, chapters)
    assert [(s, c) for s, c, _ in found] == [("ada", CHAPTER)]
    assert problems == [
        "bad name: a student folder name may hold letters, digits and . _ @ - only; not graded",
        "bob/99_none: no chapter 99_none with an exercises.ipynb in the course; not graded",
        f"carl/{CHAPTER}: no exercises.ipynb; not graded",
    ]
    with pytest.raises(FileNotFoundError, match="submissions folder"):
        find_submissions(tmp_path / "missing", chapters)


def test_grade_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="cell_timeout"):
        grade(tmp_path, root=ROOT, cell_timeout=0)
    with pytest.raises(ValueError, match="check_timeout"):
        grade(tmp_path, root=ROOT, check_timeout=True)
    with pytest.raises(ValueError, match="submission_timeout must be a positive number"):
        grade(tmp_path, root=ROOT, submission_timeout=-5)
    with pytest.raises(FileNotFoundError, match="chapters"):
        grade(tmp_path, root=tmp_path)
    with pytest.raises(ValueError, match="no SUBMISSIONS"):
        grade(tmp_path, root=ROOT, out=tmp_path / "out")
    with pytest.raises(ValueError, match="must not be the course root"):
        grade(tmp_path, root=ROOT, out=ROOT)


def test_cli_grade_reports_errors_in_one_line(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing"), "--root", str(ROOT), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: submissions folder") and "Traceback" not in err


def test_instructor_notebook_is_already_in_nbgrader_form():
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    assert convert_notebook(nb, str(SOURCE)) == nb


def test_a_submission_past_its_time_limit_is_killed_with_its_process_group(tmp_path):
    from companion.exercises.grade import _nbgrader

    start = time.monotonic()
    code, _ = _nbgrader(["--version"], tmp_path, dict(os.environ), timeout=0.001)
    assert code == -1 and time.monotonic() - start < 10
