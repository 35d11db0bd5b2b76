"""Fast tests of :mod:`companion.exercises.grade`, with nbgrader faked.

``tests/test_grading.py`` grades real submissions with the real nbgrader (about a minute).
These tests run ``grade`` against a fake ``nbgrader`` package that shadows the real one in
the subprocesses (it comes first on ``PYTHONPATH``) and a fake ``nbgrader.api.Gradebook`` in
this process, so that every branch of the batch (a submission graded in the chapter's run,
one graded only in its own run, one that hangs, one nbgrader refuses, a failed feedback run,
a failed instructor notebook) is reached in seconds, and each output is compared, exactly,
with what a hand-written expectation says. Fast enough for ``make mutate`` to rerun per
mutant.

The fake nbgrader reads what each submission should do from the submission's own notebook
metadata (``metadata.fake``): ``{"batch": MODE, "single": MODE, "scores": {grade_id: score}}``
with ``MODE`` one of ``ok`` (grade it), ``skip`` (leave it ungraded, exit 0), ``hang`` (start
a grandchild, then sleep), ``error`` (print nbgrader-like error lines, exit 1), ``quiet``
(print lines without the word error, exit 3). Each call is logged to ``fake_calls.jsonl`` in
the course folder with the environment it saw.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import os
import sys
import time
import types
from pathlib import Path

import pytest

import companion.exercises.grade as grade_module
from companion.exercises.grade import CSV_COLUMNS, GradeResult, _config, _exercises, _nbgrader, _number, find_submissions, grade
from companion.exercises.nbgrader_source import convert_notebook

FAKE_NBGRADER = r'''
import json, os, pathlib, subprocess, sys, time

args = sys.argv[1:]
course = pathlib.Path.cwd()
with open(course / "fake_calls.jsonl", "a", encoding="utf-8") as log:
    env = {k: os.environ.get(k) for k in ("COMPANION_CHECK_TIMEOUT", "COMPANION_PROGRESS", "JUPYTER_CONFIG_DIR")}
    log.write(json.dumps({"args": args, "env": env, "path": os.environ["PATH"]}) + "\n")
command = args[0]
if command == "echo":  # for the tests of _nbgrader itself
    print("out:" + str(course))
    print("err:" + " ".join(args[1:]), file=sys.stderr)
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
if command == "sleep":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (course / "grandchild.pid").write_text(str(child.pid))
    print("started", flush=True)
    time.sleep(600)
chapter = args[1]
control = json.loads(os.environ.get("FAKE_NBGRADER_FAIL", "{}"))
if command + " " + chapter in control:
    code, output = control[command + " " + chapter]
    print(output)
    sys.exit(code)
db = course / "gradebook.db"
book = json.loads(db.read_text(encoding="utf-8")) if db.exists() else {"assignments": {}, "grades": {}}
if command == "generate_assignment":
    assert args[2:] == ["--force"], args
    nb = json.loads((course / "source" / chapter / "exercises.ipynb").read_text(encoding="utf-8"))
    book["assignments"][chapter] = [
        c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
elif command == "autograde":
    single = "--student" in args
    if single:
        students = [args[args.index("--student") + 1]]
    else:
        students = sorted(p.name for p in (course / "submitted").iterdir() if (p / chapter / "exercises.ipynb").is_file())
    for student in students:
        sub = json.loads((course / "submitted" / student / chapter / "exercises.ipynb").read_text(encoding="utf-8"))
        fake = sub["metadata"]["fake"]
        mode = fake["single" if single else "batch"]
        if mode == "hang":
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            (course / "grandchild.pid").write_text(str(child.pid))
            time.sleep(600)
        if mode == "error":
            print("[AutogradeApp | ERROR] first error line")
            print("[AutogradeApp | ERROR] " + fake.get("message", "the last error line"))
            print("[AutogradeApp | INFO] done")
            sys.exit(1)
        if mode == "quiet":
            print("something went wrong without the word")
            sys.exit(3)
        if mode == "ok":
            book["grades"][student + "/" + chapter] = [[g, fake["scores"].get(g)] for g in book["assignments"][chapter]]
            target = course / "autograded" / student / chapter / "exercises.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("{}", encoding="utf-8")
elif command == "generate_feedback":
    for done in sorted((course / "autograded").glob("*/" + chapter + "/exercises.ipynb")):
        student = done.parent.parent.name
        target = course / "feedback" / student / chapter / "exercises.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("<html>" + student + "</html>", encoding="utf-8")
else:
    raise SystemExit("unknown command " + command)
db.write_text(json.dumps(book), encoding="utf-8")
'''


class FakeGradebook:
    """Stands in for :class:`nbgrader.api.Gradebook`: reads the fake's JSON ``gradebook.db``."""

    opened: list[str] = []
    queries: list[tuple[str, str, str]] = []

    def __init__(self, url: str) -> None:
        assert url.startswith("sqlite:///")
        FakeGradebook.opened.append(url)
        self.book = json.loads(Path(url[len("sqlite:///") :]).read_text(encoding="utf-8"))
        self.open = False

    def __enter__(self) -> "FakeGradebook":
        self.open = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.open = False

    def find_submission_notebook(self, notebook: str, assignment: str, student: str) -> types.SimpleNamespace:
        assert self.open
        FakeGradebook.queries.append((notebook, assignment, student))
        grades = self.book["grades"][f"{student}/{assignment}"]
        return types.SimpleNamespace(grades=[types.SimpleNamespace(name=g, score=s) for g, s in grades])


def _code(source: str, nbgrader: dict | None = None) -> dict:
    meta = {"nbgrader": nbgrader} if nbgrader else {}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": source}


def _md(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _exercise(label: str) -> dict:
    return _md(f"```{{exercise}} {label}\n:label: {label}\n\nDo it.\n```")


def _notebook(cells: list[dict], metadata: dict | None = None) -> dict:
    return {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}


# chapter 01_a: exercise ex-a with two checks (1 and 0.5 points), ex-b with one check of 2 points
CH_A = _notebook(
    [
        _exercise("ex-a"),
        _code("def f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n"),
        _code("check_function(f, lambda x: x, [(1,)])\n"),
        _code("check_value(f(2), 2)\n", {"points": 0.5}),
        _exercise("ex-b"),
        _code("check_true(True)\n", {"points": 2}),
    ]
)
# chapter 02_b: one exercise, one check of 3 points
CH_B = _notebook([_exercise("ex-c"), _md("Zürich — naïve ≤ 3"), _code("check_true(1 == 1)\n", {"points": 3})])


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _submission(folder: Path, student: str, chapter: str, batch: str, single: str = "ok", scores=None, **extra) -> None:
    fake = {"batch": batch, "single": single, "scores": scores or {}, **extra}
    _write_json(folder / student / chapter / "exercises.ipynb", _notebook([_md(f"{student} {chapter}")], {"fake": fake}))


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course root with two chapters, the fake nbgrader first on PYTHONPATH, the fake Gradebook."""
    fake = tmp_path / "fake"
    (fake / "nbgrader").mkdir(parents=True)
    (fake / "nbgrader" / "__init__.py").write_text("")
    (fake / "nbgrader" / "__main__.py").write_text(FAKE_NBGRADER)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.delenv("FAKE_NBGRADER_FAIL", raising=False)
    monkeypatch.delenv("COMPANION_PROGRESS", raising=False)
    api = types.ModuleType("nbgrader.api")
    api.Gradebook = FakeGradebook
    monkeypatch.setitem(sys.modules, "nbgrader.api", api)
    FakeGradebook.opened, FakeGradebook.queries = [], []
    root = tmp_path / "root"
    _write_json(root / "chapters" / "01_a" / "exercises.ipynb", CH_A)
    _write_json(root / "chapters" / "02_b" / "exercises.ipynb", CH_B)
    (root / "chapters" / "03_none").mkdir()
    # record every _nbgrader call with its timeout, then run the real one
    calls: list[tuple[list[str], Path, float]] = []
    real = grade_module._nbgrader

    def recording(args, course_dir, env, timeout):
        calls.append((list(args), course_dir, timeout))
        return real(args, course_dir, env, timeout)

    monkeypatch.setattr(grade_module, "_nbgrader", recording)
    return types.SimpleNamespace(root=root, subs=tmp_path / "subs", calls=calls, tmp=tmp_path)


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "fake_calls.jsonl").read_text(encoding="utf-8").splitlines()]


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# ----------------------------------------------------------------------------- the pieces


def test_config_exactly():
    assert _config(Path("/c/course"), 7) == (
        "# Written by `python -m companion.exercises grade`; rebuilt on every run.\n"
        "c = get_config()  # noqa: F821\n"
        "c.CourseDirectory.root = '/c/course'\n"
        "c.CourseDirectory.db_url = 'sqlite:////c/course/gradebook.db'\n"
        "c.Execute.timeout = 7\n"
        "c.Execute.interrupt_on_timeout = True\n"
        "c.Execute.execute_retries = 0\n"
        "c.LimitOutput.max_lines = 200\n"
        "c.LimitOutput.max_traceback = 40\n"
        "c.GenerateFeedback.force = True\n"
    )


def test_exercises_sums_points_per_exercise_in_order():
    converted = convert_notebook(CH_A)
    assert _exercises(converted) == {"ex-a": 1.5, "ex-b": 2.0}
    assert list(_exercises(converted)) == ["ex-a", "ex-b"]
    # cells without metadata, or with a None nbgrader entry, or not graded, count for nothing;
    # a graded cell without points counts 0
    cells = [
        {"cell_type": "code", "source": ""},
        {"cell_type": "code", "metadata": None, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": None}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": False, "grade_id": "x__solution"}}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "z__2"}}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "z", "points": 4}}, "source": ""},
    ]
    assert _exercises({"cells": cells}) == {"z": 4.0}
    assert _exercises({"cells": []}) == {}


def test_number_exactly():
    assert _number(2.0) == 2 and type(_number(2.0)) is int
    assert _number(3) == 3 and type(_number(3)) is int
    assert _number(0.0) == 0 and type(_number(0.0)) is int
    assert _number(1.5) == 1.5 and type(_number(1.5)) is float
    assert _number(1 / 3) == 0.333333
    assert _number(2 / 3) == 0.666667


def test_find_submissions_exactly(tmp_path):
    chapters = tmp_path / "chapters"
    for chapter in ("01_a", "02_b"):
        _write_json(chapters / chapter / "exercises.ipynb", {})
    (chapters / "03_empty").mkdir()
    subs = tmp_path / "subs"
    for rel in ["zed/02_b", "zed/01_a", "ada/02_b", "ada/03_empty", "b.o-b_@x/01_a", "bad name/01_a", "-dash/01_a", ".hidden/01_a", "ada/.ipynb_checkpoints"]:
        _write_json(subs / rel / "exercises.ipynb", {})
    (subs / "cy" / "01_a").mkdir(parents=True)  # no notebook
    (subs / "cy" / "01_a" / "other.ipynb").write_text("{}")
    (subs / "notes.txt").write_text("a file, not a student")
    (subs / "ada" / "01_a.ipynb").write_text("a file, not a chapter")
    found, problems = find_submissions(subs, chapters)
    assert found == [
        ("ada", "02_b", subs / "ada" / "02_b" / "exercises.ipynb"),
        ("b.o-b_@x", "01_a", subs / "b.o-b_@x" / "01_a" / "exercises.ipynb"),
        ("zed", "01_a", subs / "zed" / "01_a" / "exercises.ipynb"),
        ("zed", "02_b", subs / "zed" / "02_b" / "exercises.ipynb"),
    ]
    assert problems == [
        "-dash: a student folder name may hold letters, digits and . _ @ - only; not graded",
        "ada/03_empty: no chapter 03_empty with an exercises.ipynb in the course; not graded",
        "bad name: a student folder name may hold letters, digits and . _ @ - only; not graded",
        "cy/01_a: no exercises.ipynb; not graded",
    ]
    # a string path works as well as a Path
    assert find_submissions(str(subs), str(chapters)) == (found, problems)
    with pytest.raises(FileNotFoundError) as info:
        find_submissions(tmp_path / "missing", chapters)
    assert str(info.value) == f"submissions folder {tmp_path / 'missing'} does not exist"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FileNotFoundError):
        find_submissions(tmp_path / "a-file", chapters)


def test_nbgrader_runs_in_the_course_folder_and_returns_both_streams(course, monkeypatch):
    folder = course.tmp / "c"
    folder.mkdir()
    env = dict(os.environ, FAKE_EXIT="5")
    code, output = _nbgrader(["echo", "a", "b"], folder, env, timeout=60)
    assert code == 5
    assert sorted(output.splitlines()) == sorted([f"out:{folder}", "err:a b"])
    env["FAKE_EXIT"] = "0"
    assert _nbgrader(["echo"], folder, env, timeout=None)[0] == 0
    assert [c["args"] for c in _log(folder)] == [["echo", "a", "b"], ["echo"]]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its parent is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_nbgrader_past_its_timeout_is_killed_with_its_children(course):
    folder = course.tmp / "c"
    folder.mkdir()
    start = time.monotonic()
    code, output = _nbgrader(["sleep"], folder, dict(os.environ), timeout=1.5)
    assert code == -1
    assert output == "started\n"  # what it printed before the kill comes back
    assert time.monotonic() - start < 30
    pid = int((folder / "grandchild.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the grandchild outlived the timeout: the process group was not killed"


# ----------------------------------------------------------------------------- grade()


def test_grade_a_batch_exactly(course, monkeypatch):
    subs = course.subs
    _submission(subs, "ada", "01_a", "ok", scores={"ex-a": 1, "ex-a__2": 0.5, "ex-b": 2})
    _submission(subs, "ada", "02_b", "ok", scores={"ex-c": None})  # nbgrader's None score is 0
    _submission(subs, "bob", "01_a", "skip", "ok", scores={"ex-a": 1, "ex-a__2": 0, "ex-b": 0.25})
    _submission(subs, "cy", "01_a", "skip", "hang")
    _submission(subs, "dee", "01_a", "skip", "error", message="x" * 250)
    _submission(subs, "eve", "02_b", "skip", "quiet")
    _submission(subs, "fay", "02_b", "skip", "skip")
    _submission(subs, "gus", "02_b", "ok", scores={"ex-c": 3})
    _write_json(subs / "hal" / "03_none" / "exercises.ipynb", {})
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(course.tmp / "jupyter"))
    out = course.tmp / "out"
    (out / "stale").mkdir(parents=True)  # the course folder is rebuilt
    result = grade(subs, root=course.root, out=out, cell_timeout=7.9, check_timeout=2.5, submission_timeout=1.5)

    assert isinstance(result, GradeResult)
    assert result.csv == out / "grades.csv" and result.feedback == out / "feedback"
    assert not (out / "stale").exists()
    assert result.graded == 4  # ada twice, bob, gus
    assert result.problems == [
        "hal/03_none: no chapter 03_none with an exercises.ipynb in the course; not graded",
        "cy/01_a: still running after 1.5 s; stopped, scored 0",
        "dee/01_a: nbgrader could not grade it ([AutogradeApp | ERROR] " + "x" * (200 - len("[AutogradeApp | ERROR] ")) + "); scored 0",
        "eve/02_b: nbgrader could not grade it (exit 3); scored 0",
        "fay/02_b: nbgrader could not grade it (exit 0); scored 0",
    ]
    expected = [
        ["student", "chapter", "exercise", "score", "max_score"],
        ["ada", "01_a", "ex-a", "1.5", "1.5"],
        ["ada", "01_a", "ex-b", "2", "2"],
        ["ada", "02_b", "ex-c", "0", "3"],
        ["bob", "01_a", "ex-a", "1", "1.5"],
        ["bob", "01_a", "ex-b", "0.25", "2"],
        ["cy", "01_a", "ex-a", "0", "1.5"],
        ["cy", "01_a", "ex-b", "0", "2"],
        ["dee", "01_a", "ex-a", "0", "1.5"],
        ["dee", "01_a", "ex-b", "0", "2"],
        ["eve", "02_b", "ex-c", "0", "3"],
        ["fay", "02_b", "ex-c", "0", "3"],
        ["gus", "02_b", "ex-c", "3", "3"],
    ]
    assert _csv(out / "grades.csv") == expected
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert result.rows == [dict(zip(CSV_COLUMNS, [r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])])) for r in expected[1:]]
    assert [type(r["score"]) for r in result.rows[:2]] == [float, int]

    # what ran, in order, with which limits
    assert [(args, timeout) for args, _, timeout in course.calls] == [
        (["generate_assignment", "01_a", "--force"], 300),
        (["generate_assignment", "02_b", "--force"], 300),
        (["autograde", "01_a", "--force"], 1.5 * 4),
        (["autograde", "01_a", "--student", "bob", "--force"], 1.5),
        (["autograde", "01_a", "--student", "cy", "--force"], 1.5),
        (["autograde", "01_a", "--student", "dee", "--force"], 1.5),
        (["autograde", "02_b", "--force"], 1.5 * 4),
        (["autograde", "02_b", "--student", "eve", "--force"], 1.5),
        (["autograde", "02_b", "--student", "fay", "--force"], 1.5),
        (["generate_feedback", "01_a", "--force"], 600),
        (["generate_feedback", "02_b", "--force"], 600),
    ]
    assert all(folder == out for _, folder, _ in course.calls)
    log = _log(out)
    assert len(log) == len(course.calls)  # the hanging run logged itself too
    for entry in log:
        assert entry["env"] == {"COMPANION_CHECK_TIMEOUT": "2.5", "COMPANION_PROGRESS": "0", "JUPYTER_CONFIG_DIR": None}
        assert entry["path"] == os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    assert (out / "nbgrader_config.py").read_text(encoding="utf-8") == _config(out, 7)

    # the instructor notebooks, converted, are the assignments' sources; the submissions are copied
    for chapter, nb in (("01_a", CH_A), ("02_b", CH_B)):
        written = (out / "source" / chapter / "exercises.ipynb").read_text(encoding="utf-8")
        assert written == json.dumps(convert_notebook(nb), indent=1, ensure_ascii=False) + "\n"
    for student, chapter in [("ada", "01_a"), ("ada", "02_b"), ("cy", "01_a"), ("gus", "02_b")]:
        rel = Path(student) / chapter / "exercises.ipynb"
        assert (out / "submitted" / rel).read_bytes() == (subs / rel).read_bytes()
    assert not (out / "submitted" / "hal").exists()
    assert sorted(str(p.relative_to(out / "feedback")) for p in (out / "feedback").rglob("*.html")) == [
        "ada/01_a/exercises.html",
        "ada/02_b/exercises.html",
        "bob/01_a/exercises.html",
        "gus/02_b/exercises.html",
    ]
    # the gradebook was read once, for exactly the graded submissions
    assert FakeGradebook.opened == [f"sqlite:///{out / 'gradebook.db'}"]
    assert sorted(FakeGradebook.queries) == [
        ("exercises", "01_a", "ada"),
        ("exercises", "01_a", "bob"),
        ("exercises", "02_b", "ada"),
        ("exercises", "02_b", "gus"),
    ]


def test_grade_defaults_and_environment_left_to_the_caller(course, monkeypatch):
    monkeypatch.setenv("COMPANION_PROGRESS", "1")
    _submission(course.subs, "ada", "02_b", "ok", scores={"ex-c": 3})
    result = grade(str(course.subs), root=str(course.root))
    out = course.root / "_build" / "grades"
    assert result.csv == out / "grades.csv" and result.graded == 1 and result.problems == []
    assert _csv(out / "grades.csv") == [list(CSV_COLUMNS), ["ada", "02_b", "ex-c", "3", "3"]]
    assert [(args, timeout) for args, _, timeout in course.calls] == [
        (["generate_assignment", "02_b", "--force"], 300),
        (["autograde", "02_b", "--force"], 900),
        (["generate_feedback", "02_b", "--force"], 600),
    ]
    assert {json.dumps(e["env"]) for e in _log(out)} == {
        json.dumps({"COMPANION_CHECK_TIMEOUT": "10.0", "COMPANION_PROGRESS": "1", "JUPYTER_CONFIG_DIR": None})
    }
    assert (out / "nbgrader_config.py").read_text(encoding="utf-8") == _config(out, 120)
    # the root defaults to the working folder; the source notebooks are not touched
    monkeypatch.chdir(course.root)
    shutil.rmtree(out)
    assert grade(course.subs).csv == out / "grades.csv"
    assert json.loads((course.root / "chapters" / "02_b" / "exercises.ipynb").read_text()) == CH_B


def test_nothing_graded_means_no_gradebook_and_no_feedback(course):
    _submission(course.subs, "ada", "02_b", "skip", "skip")
    out = course.tmp / "out"
    result = grade(course.subs, root=course.root, out=out, submission_timeout=5)
    assert result.graded == 0
    assert result.problems == ["ada/02_b: nbgrader could not grade it (exit 0); scored 0"]
    assert [args[0] for args, _, _ in course.calls] == ["generate_assignment", "autograde", "autograde"]
    assert FakeGradebook.opened == []
    assert _csv(out / "grades.csv") == [list(CSV_COLUMNS), ["ada", "02_b", "ex-c", "0", "3"]]


def test_a_failed_feedback_run_is_a_problem_not_a_crash(course, monkeypatch):
    monkeypatch.setenv("FAKE_NBGRADER_FAIL", json.dumps({"generate_feedback 02_b": [2, "first line\nsecond line\nthe last line\n"]}))
    _submission(course.subs, "ada", "02_b", "ok", scores={"ex-c": 1})
    result = grade(course.subs, root=course.root, out=course.tmp / "out")
    assert result.graded == 1
    assert result.problems == ["02_b: nbgrader generate_feedback failed (exit 2): ['the last line']"]
    assert _csv(result.csv)[1] == ["ada", "02_b", "ex-c", "1", "3"]


def test_a_failed_instructor_notebook_stops_everything(course, monkeypatch):
    output = "a" * 3000 + "THE END"
    monkeypatch.setenv("FAKE_NBGRADER_FAIL", json.dumps({"generate_assignment 02_b": [4, output]}))
    _submission(course.subs, "ada", "02_b", "ok")
    with pytest.raises(RuntimeError) as info:
        grade(course.subs, root=course.root, out=course.tmp / "out")
    assert str(info.value) == "nbgrader generate_assignment 02_b failed (exit 4):\n" + (output + "\n")[-3000:]
    assert [args[0] for args, _, _ in course.calls] == ["generate_assignment"]


def test_grade_refusals_exactly(course):
    subs, root = course.subs, course.root
    _submission(subs, "ada", "02_b", "ok")
    for label in ("cell_timeout", "check_timeout", "submission_timeout"):
        for bad in (0, -1, True, "5", None, math.nan, -0.5):
            with pytest.raises(ValueError) as info:
                grade(subs, root=root, **{label: bad})
            assert str(info.value) == f"{label} must be a positive number of seconds, got {bad!r}"
    with pytest.raises(FileNotFoundError) as info:
        grade(subs, root=course.tmp / "nowhere")
    assert str(info.value) == f"{course.tmp / 'nowhere' / 'chapters'} does not exist (root={course.tmp / 'nowhere'})"
    for out in (root, root.parent, root / ".." / "root"):
        with pytest.raises(ValueError) as info:
            grade(subs, root=root, out=out)
        assert str(info.value) == f"out {Path(out).resolve()} must not be the course root or above it"
    empty = course.tmp / "empty"
    empty.mkdir()
    with pytest.raises(ValueError) as info:
        grade(empty, root=root, out=course.tmp / "out")
    assert str(info.value) == f"{empty}: no SUBMISSIONS/<student>/<chapter>/exercises.ipynb to grade"
    assert not (course.tmp / "out").exists()  # refused before anything was written
    assert course.calls == []
    # small but positive limits are accepted
    result = grade(subs, root=root, out=course.tmp / "out", cell_timeout=1, check_timeout=0.1, submission_timeout=30)
    assert result.graded == 1


def test_grade_without_a_path_variable(course, monkeypatch):
    monkeypatch.delenv("PATH")
    _submission(course.subs, "ada", "02_b", "ok", scores={"ex-c": 2})
    out = course.tmp / "out"
    assert grade(course.subs, root=course.root, out=out).graded == 1
    assert {e["path"] for e in _log(out)} == {os.path.dirname(sys.executable) + os.pathsep}


def test_a_chapter_nbgrader_cannot_take_is_refused_with_its_path(course):
    bad = json.loads(json.dumps(CH_B))
    bad["cells"][2]["metadata"]["nbgrader"]["points"] = -1
    source = course.root / "chapters" / "02_b" / "exercises.ipynb"
    _write_json(source, bad)
    _submission(course.subs, "ada", "02_b", "ok")
    with pytest.raises(ValueError) as info:
        grade(course.subs, root=course.root, out=course.tmp / "out")
    assert str(info.value) == f"{source}, cell 3 (code): nbgrader points must be a non-negative number, got -1"
    assert course.calls == []


def test_files_are_utf8_whatever_the_locale(course, ascii_locale):
    """The course folder, a chapter's name and its text may hold non-ASCII characters."""
    chapter = "04_é"
    _write_json(course.root / "chapters" / chapter / "exercises.ipynb", CH_B)
    _submission(course.subs, "ada", chapter, "ok", scores={"ex-c": 3})
    out = course.tmp / "notes-ü"
    result = grade(course.subs, root=course.root, out=out)
    assert result.graded == 1 and result.problems == []
    assert (out / "nbgrader_config.py").read_bytes() == _config(out, 120).encode("utf-8")
    written = (out / "source" / chapter / "exercises.ipynb").read_bytes()
    assert written == (json.dumps(convert_notebook(CH_B), indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    assert "Zürich — naïve ≤ 3".encode("utf-8") in written
    assert (out / "grades.csv").read_bytes() == f"student,chapter,exercise,score,max_score\r\nada,{chapter},ex-c,3,3\r\n".encode("utf-8")
