"""The student release cannot leak (issue 14, item 1), and the nbgrader form of the notebooks.

Every way a solution used to reach students is provoked here: nbgrader's and other marker
spellings, inline markers, markers in markdown and raw cells, notebooks not named
``exercises.ipynb``, a failed run, malformed notebooks, a release transform that misses a
block (the scan must catch it), and the instructor's wording in the student version.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import companion.exercises.release as release_module
from companion.exercises.__main__ import main
from companion.exercises.nbgrader_source import convert_file, convert_notebook, exercise_of, is_check_cell, notebooks_under
from companion.exercises.release import (
    find_leaks,
    has_solution_content,
    release,
    release_notebook,
    secret_lines,
    strip_solution_blocks,
)
from companion.exercises.student_book import prepare, student_toc

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_NOTEBOOKS = sorted(ROOT.glob("chapters/*/exercises.ipynb"))
SECRET = "return the_secret_answer(x) * 42"


def code(source: str, **metadata) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"c{abs(hash(source)) % 10**8}", "metadata": metadata, "outputs": [], "source": source}


def markdown(source: str, **metadata) -> dict:
    return {"cell_type": "markdown", "id": f"m{abs(hash(source)) % 10**8}", "metadata": metadata, "source": source}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1) if not isinstance(nb, str) else nb, encoding="utf-8")
    return path


def solution_cell(begin: str, end: str) -> dict:
    return code(f"def f(x):\n    {begin}\n    {SECRET}\n    {end}\n")


# ---------------------------------------------------------------- marker spellings


@pytest.mark.parametrize(
    "begin, end",
    [
        ("# BEGIN SOLUTION", "# END SOLUTION"),
        ("### BEGIN SOLUTION", "### END SOLUTION"),  # nbgrader's spelling
        ("# BEGIN  SOLUTION", "#  END   SOLUTION"),  # extra spaces
        ("#begin solution", "#end solution"),  # no space, lower case
        ("## Begin Solution (the loop)", "## End Solution"),  # text after the marker
    ],
)
def test_every_marker_spelling_is_stubbed(tmp_path, begin, end):
    src = write(tmp_path / "src" / "ch" / "exercises.ipynb", notebook(solution_cell(begin, end)))
    result = release(tmp_path / "src", tmp_path / "out")
    assert result.reports[0].solutions == 1
    text = (tmp_path / "out" / "ch" / "exercises.ipynb").read_text()
    assert SECRET not in text and "SOLUTION" not in text.upper().replace("SOLUTIONS STUBBED", "")
    assert "raise NotImplementedError" in text
    assert src.exists()


def test_hidden_tests_are_removed_with_their_markers(tmp_path):
    check = code("check_function(f, g, [(1,)])\n### BEGIN HIDDEN TESTS\nassert f(2) == 84  # the hidden case\n### END HIDDEN TESTS\n")
    write(tmp_path / "src" / "exercises.ipynb", notebook(solution_cell("### BEGIN SOLUTION", "### END SOLUTION"), check))
    result = release(tmp_path / "src", tmp_path / "out")
    assert result.reports[0].hidden_tests == 1 and "1 hidden-test block removed" in result.reports[0].summary()
    student = json.loads((tmp_path / "out" / "exercises.ipynb").read_text())
    assert student["cells"][1]["source"] == "check_function(f, g, [(1,)])\n"


def test_strip_solution_blocks_reports_removed_lines():
    text, solutions, hidden, removed = strip_solution_blocks("a = 1\n# BEGIN SOLUTION\nb = 2\n# END SOLUTION")
    assert (solutions, hidden, removed) == (1, 0, ["b = 2\n"])
    assert text == "a = 1\n# YOUR CODE HERE\nraise NotImplementedError"


@pytest.mark.parametrize(
    "cell, message",
    [
        (code("x = 42  # BEGIN SOLUTION\n"), "line 1 holds solution-marker words but is not a marker line of its own"),
        (code("y = 1\nprint('### END SOLUTION')\n"), "line 2 holds solution-marker words"),
        (markdown("Text\n\n### BEGIN SOLUTION\nthe answer\n### END SOLUTION\n"), "cell 1 (markdown): line 3 holds a solution marker"),
        ({"cell_type": "raw", "id": "r", "metadata": {}, "source": "# BEGIN SOLUTION\nx\n# END SOLUTION"}, "cell 1 (raw): line 1 holds a solution marker"),
        (code("### BEGIN HIDDEN TESTS\nassert True\n"), "'BEGIN HIDDEN TESTS' on line 1 has no matching"),
    ],
)
def test_misplaced_markers_are_refused_with_one_error_line(tmp_path, capsys, cell, message):
    write(tmp_path / "src" / "exercises.ipynb", notebook(cell))
    assert main(["release", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'src' / 'exercises.ipynb'}") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- malformed notebooks


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a notebook (the JSON is a list, not an object)"),
        ('{"cells": 3}', "not a notebook (no list of cells)"),
        ('{"cells": [], "nbformat": 3}', "nbformat 3 is not supported"),
        ('{"cells": ["text"]}', "cell 1: not a cell (a str, not an object)"),
        ('{"cells": [{"cell_type": "image"}]}', "cell 1: unknown cell_type 'image'"),
        ('{"cells": [{"cell_type": "code", "source": 5}]}', "'source' must be a string or a list of strings, got int"),
        ('{"cells": [{"cell_type": "code", "source": "", "metadata": []}]}', "metadata must be an object"),
        ('{"cells": [{"cell_type": "code", "source": "", "metadata": {"tags": "x"}}]}', "metadata.tags must be a list of strings"),
    ],
)
def test_malformed_notebooks_get_an_error_line(tmp_path, capsys, content, message):
    write(tmp_path / "src" / "exercises.ipynb", content)
    assert main(["release", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_non_utf8_notebook_gets_an_error_line(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "exercises.ipynb").write_bytes(b'{"cells": ["\xff"]}')
    assert main(["release", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err


def test_cli_error_is_one_line_in_a_real_process(tmp_path):
    write(tmp_path / "src" / "exercises.ipynb", "[]")
    done = subprocess.run([sys.executable, "-m", "companion.exercises", "release", str(tmp_path / "src"), str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


# ---------------------------------------------------------------- the scan, and failed runs


def test_scan_catches_a_release_that_misses_a_block(tmp_path, monkeypatch):
    write(tmp_path / "src" / "exercises.ipynb", notebook(solution_cell("# BEGIN SOLUTION", "# END SOLUTION")))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("the instructor's other file")

    def broken(source, where="cell"):  # a transform that forgets to remove anything
        return source, 1, 0, []

    monkeypatch.setattr(release_module, "strip_solution_blocks", broken)
    with pytest.raises(ValueError, match=r"(?s)would leak solutions; nothing was written.*solution marker.*line of a removed solution: return the_secret"):
        release(tmp_path / "src", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]
    assert not any(p.name.startswith(".out.") for p in tmp_path.iterdir())  # no staging folder left


def test_failed_run_leaves_nothing_at_a_new_destination(tmp_path):
    write(tmp_path / "src" / "a" / "exercises.ipynb", notebook(solution_cell("# BEGIN SOLUTION", "# END SOLUTION")))
    write(tmp_path / "src" / "b" / "exercises.ipynb", notebook(code("# BEGIN SOLUTION\nx = 1\n")))  # broken, released second
    with pytest.raises(ValueError, match="has no matching"):
        release(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_single_file_release_is_scanned_and_atomic(tmp_path, monkeypatch):
    src = write(tmp_path / "exercises.ipynb", notebook(solution_cell("# BEGIN SOLUTION", "# END SOLUTION")))
    result = release(src, tmp_path / "student.ipynb")
    assert result.reports[0].destination == str(tmp_path / "student.ipynb")
    with pytest.raises(ValueError, match="refusing"):
        release(src, src)
    monkeypatch.setattr(release_module, "strip_solution_blocks", lambda s, where="cell": (s, 1, 0, []))
    with pytest.raises(ValueError, match="would leak"):
        release(src, tmp_path / "other.ipynb")
    assert not (tmp_path / "other.ipynb").exists()


def test_find_leaks_reads_every_file_and_every_spelling(tmp_path):
    write(tmp_path / "a.ipynb", notebook(markdown("fine"), code("x = 1", tags=["t"])))
    (tmp_path / "b.py").write_text("ok = 1\n#  Begin   Hidden Tests\n")
    (tmp_path / "c.md").write_text(f"Some text\n    {SECRET}\n")
    (tmp_path / "d.bin").write_bytes(b"\xff\xfe")
    leaks = find_leaks(tmp_path, {SECRET})
    assert leaks == [
        f"{tmp_path / 'b.py'}: line 2 holds a solution marker: #  Begin   Hidden Tests",
        f"{tmp_path / 'c.md'}: holds a line of a removed solution: {SECRET}",
    ]
    outputs = notebook(code("print(1)"))
    outputs["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [SECRET + "\n"]}]
    write(tmp_path / "e.ipynb", outputs)
    assert any("e.ipynb: holds a line of a removed solution" in leak for leak in find_leaks(tmp_path / "e.ipynb", {SECRET}))


def test_secret_lines_exclude_what_is_public_anyway(tmp_path):
    nb = notebook(
        code("shared = compute(x)  # also in the exercise text\n# BEGIN SOLUTION\nshared = compute(x)  # also in the exercise text\nprivate_step = 7\n)\n# END SOLUTION\n"),
        markdown("```{solution} ex\n:class: dropdown\n\nThe hidden explanation.\n```\n"),
    )
    public = tmp_path / "page.md"
    public.write_text("private_step = 7\n")
    assert secret_lines([nb]) == {"private_step = 7", "The hidden explanation.", ":class: dropdown"}
    assert secret_lines([nb], [public]) == {"The hidden explanation.", ":class: dropdown"}


def test_has_solution_content():
    assert has_solution_content(notebook(markdown("x", tags=["instructor-only"])))
    assert has_solution_content(notebook(markdown("```{solution} a\nb\n```")))
    assert not has_solution_content(notebook(markdown("plain"), code("x = 1")))
    assert not has_solution_content([1, 2]) and not has_solution_content({"cells": ["x"]})


# ---------------------------------------------------------------- text for students, locked checks


def test_instructor_and_student_cells():
    nb = notebook(
        markdown("This is the instructor's version.", tags=["instructor-only"]),
        markdown("This is your copy.", tags=["student-only", "remove-cell"]),
        markdown("Kept with its tag.", tags=["student-only", "remove-cell", "margin"]),
        code("check(f)", nbgrader={"grade": True, "grade_id": "ex", "locked": True, "points": 1, "solution": False}),
    )
    student, report = release_notebook(nb, "nb")
    assert report.dropped_cells == 1
    assert [c["source"] for c in student["cells"][:2]] == ["This is your copy.", "Kept with its tag."]
    assert "tags" not in student["cells"][0]["metadata"] and student["cells"][1]["metadata"]["tags"] == ["margin"]
    assert student["cells"][2]["metadata"]["editable"] is False and student["cells"][2]["metadata"]["deletable"] is False


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=[p.parent.name for p in CHAPTER_NOTEBOOKS])
def test_course_notebooks_release_clean_with_student_text(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    student, report = release_notebook(nb, str(path))
    text = json.dumps(student)
    assert report.solutions >= 1
    assert "instructor's version" not in text and "solutions included" not in text
    assert "This is your copy of the exercises" in text
    assert "exercises.reference" not in text and "import reference" not in text
    assert find_leaks_in_memory(student, secret_lines([nb])) == []
    locked = [c for c in student["cells"] if c["metadata"].get("nbgrader", {}).get("locked")]
    assert locked and all(c["metadata"]["editable"] is False for c in locked)


def find_leaks_in_memory(nb: dict, secrets: set[str]) -> list[str]:
    found = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for line in source.splitlines():
            if release_module._MARKER_WORDS.search(line) or line.strip() in secrets:
                found.append(line)
    return found


# ---------------------------------------------------------------- the student book


def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    write(root / "chapters" / "00_x" / "exercises.ipynb", notebook(solution_cell("# BEGIN SOLUTION", "# END SOLUTION")))
    write(root / "chapters" / "00_x" / "01_page.ipynb", notebook(markdown("# Page"), solution_cell("### BEGIN SOLUTION", "### END SOLUTION")))
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "book" / "instructor.md").write_text("# Grading\n\nMark solutions with ### BEGIN SOLUTION.\n")
    (root / "_config.yml").write_text("title: T\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n- file: chapters/00_x/01_page\n- file: book/instructor\n")
    return root


def test_student_book_releases_every_notebook_and_drops_instructor_pages(tmp_path):
    import yaml

    root = course(tmp_path)
    dest = tmp_path / "student"
    prepare(root, dest)
    page = (dest / "chapters" / "00_x" / "01_page.ipynb").read_text()
    assert SECRET not in page and "raise NotImplementedError" in page
    assert not (dest / "book" / "instructor.md").exists()
    assert yaml.safe_load((dest / "_toc.yml").read_text())["chapters"] == [{"file": "chapters/00_x/01_page"}]
    assert find_leaks(dest) == []


def test_failed_student_book_leaves_nothing_at_dest(tmp_path, monkeypatch):
    root = course(tmp_path)
    dest = tmp_path / "student"
    prepare(root, dest)
    (dest / "_build").mkdir()
    (dest / "_build" / "cache").write_text("kept across good runs")
    prepare(root, dest)
    assert (dest / "_build" / "cache").exists()
    write(root / "chapters" / "00_x" / "02_other.ipynb", notebook(code("# BEGIN SOLUTION\nx = 1\n")))  # broken markers
    with pytest.raises(ValueError, match="has no matching"):
        prepare(root, dest)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".student")] == []
    (root / "chapters" / "00_x" / "02_other.ipynb").unlink()
    monkeypatch.setattr(release_module, "strip_solution_blocks", lambda s, where="cell": (s, 1, 0, []))
    import companion.exercises.student_book as student_book

    monkeypatch.setattr(student_book, "release_notebook_file", release_module.release_notebook_file)
    with pytest.raises(ValueError, match="would leak solutions"):
        prepare(root, dest)
    assert not dest.exists()


def test_student_book_cli_removes_dest_when_the_build_fails(tmp_path, monkeypatch, capsys):
    import companion.exercises.student_book as student_book

    root = course(tmp_path)
    dest = tmp_path / "student"
    monkeypatch.setattr(student_book, "build", lambda dest, extra_args=(): 2)
    assert main(["student-book", "--root", str(root), "--dest", str(dest)]) == 2
    assert not dest.exists()
    assert "the student book did not build (exit 2)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="course root"):
        prepare(root, root.parent)


def test_student_toc_keeps_everything_else():
    toc = {"root": "book/intro", "chapters": [{"file": "book/instructor.md"}, {"file": "a", "sections": [{"file": "book/instructor"}]}]}
    assert student_toc(toc) == {"root": "book/intro", "chapters": [{"file": "a", "sections": []}]}


# ---------------------------------------------------------------- nbgrader form


def exercise_notebook() -> dict:
    return notebook(
        code("import torch"),
        markdown("```{exercise} Twice\n:label: ex-twice\n\nDouble it.\n```"),
        code("def twice(x):\n    # BEGIN  SOLUTION\n    return 2 * x\n    #END SOLUTION\n"),
        code("check_function(twice, lambda x: x + x, [(1,)])"),
        code("check_value(twice(2), 4)\n### begin hidden tests\nassert twice(3) == 6\n### end hidden tests\n"),
        markdown("```{exercise} Other\n:label: ex.other\n```"),
        code("x = 1\n# BEGIN SOLUTION\nx = 2\n# END SOLUTION\n"),
        code("check_true(x == 2, 'x must be 2')"),
    )


def test_convert_notebook_marks_solution_and_check_cells():
    out = convert_notebook(exercise_notebook())
    meta = [c["metadata"].get("nbgrader") for c in out["cells"]]
    assert meta[0] is None and meta[1] is None
    assert meta[2] == {"grade": False, "grade_id": "ex-twice__solution", "locked": False, "schema_version": 3, "solution": True, "task": False}
    assert meta[3] == {"grade": True, "grade_id": "ex-twice", "locked": True, "points": 1, "schema_version": 3, "solution": False, "task": False}
    assert meta[4]["grade_id"] == "ex-twice__2" and meta[7]["grade_id"] == "ex-other"
    assert out["cells"][2]["source"] == "def twice(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert "### BEGIN HIDDEN TESTS\n" in out["cells"][4]["source"]
    assert convert_notebook(out) == out  # idempotent
    assert [exercise_of(m["grade_id"]) for m in meta if m and m["grade"]] == ["ex-twice", "ex-twice", "ex-other"]
    assert is_check_cell(out["cells"][3]) and not is_check_cell(out["cells"][2])


def test_convert_keeps_points_and_refuses_bad_ones():
    nb = exercise_notebook()
    nb["cells"][3]["metadata"]["nbgrader"] = {"points": 3}
    assert convert_notebook(nb)["cells"][3]["metadata"]["nbgrader"]["points"] == 3
    nb["cells"][3]["metadata"]["nbgrader"] = {"points": -1}
    with pytest.raises(ValueError, match="points must be a non-negative number, got -1"):
        convert_notebook(nb, "nb")
    nb["cells"][3]["metadata"]["nbgrader"] = {"points": True}
    with pytest.raises(ValueError, match="points"):
        convert_notebook(nb, "nb")


def test_convert_names_unlabelled_checks_and_refuses_duplicates():
    out = convert_notebook(notebook(code("check_true(True, 'm')")))
    assert out["cells"][0]["metadata"]["nbgrader"]["grade_id"] == "check-1"
    twin = notebook(markdown("```{exercise} A\n:label: ex-a\n```"), code("check_true(1, 'm')"), markdown("```{exercise} B\n:label: ex-a\n```"), code("check_true(1, 'm')"))
    out = convert_notebook(twin)
    assert [c["metadata"].get("nbgrader", {}).get("grade_id") for c in out["cells"]] == [None, "ex-a", None, "ex-a__2"]
    clash = notebook(markdown("```{exercise} A\n:label: ex-a__2\n```"), code("check_true(1, 'm')"),
                     markdown("```{exercise} B\n:label: ex-a\n```"), code("check_true(1, 'm')"), code("check_true(1, 'm')"))
    with pytest.raises(ValueError, match="grade_id 'ex-a__2' is already used by cell 2"):
        convert_notebook(clash, "nb")


def test_convert_file_and_command(tmp_path, capsys):
    path = write(tmp_path / "ch" / "exercises.ipynb", exercise_notebook())
    assert main(["nbgrader-source", "--check", str(tmp_path)]) == 1
    assert "would convert" in capsys.readouterr().out
    assert main(["nbgrader-source", str(tmp_path)]) == 0
    assert convert_file(path) is False
    assert main(["nbgrader-source", "--check", str(path)]) == 0
    assert "1 of 1 notebook already in nbgrader format" in capsys.readouterr().out
    assert main(["nbgrader-source", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert notebooks_under([tmp_path]) == [path]


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=[p.parent.name for p in CHAPTER_NOTEBOOKS])
def test_every_exercise_notebook_is_in_nbgrader_form(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert convert_notebook(nb, str(path)) == nb, (
        f"{path} is not in nbgrader form: run `python -m companion.exercises nbgrader-source` (then commit the notebooks)"
    )
    graded = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    solutions = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert graded and solutions and len({c["metadata"]["nbgrader"]["grade_id"] for c in graded + solutions}) == len(graded) + len(solutions)
