"""The student release, pinned down exactly (the mutation run of issue 19, see tests/MUTATION.md).

`test_release_leaks.py` provokes every known way a solution could reach students; this file
asserts the exact output of every step, so that a changed message, stub, count, path or
verdict fails a test: the stubbing and directive removal text for text, every refusal's whole
message, the leak scan's verdicts on crafted notebooks and files, the staging folder and the
move into place, and that a failed release writes nothing. All fast (no subprocess, no
nbgrader).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import companion.exercises.release as rel
from companion.exercises.__main__ import main
from companion.exercises.nbgrader_source import convert_file, convert_notebook, exercise_of, is_check_cell, notebooks_under
from companion.exercises.release import (
    ReleaseReport,
    find_exercise_notebooks,
    find_leaks,
    has_solution_content,
    release,
    release_notebook,
    release_notebook_file,
    remove_solution_directives,
    secret_lines,
    strip_solution_blocks,
    stub_solutions,
)

SECRET = "return the_secret_answer(x) * 42"


def code(source, **metadata) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [], "source": source}


def markdown(source, **metadata) -> dict:
    return {"cell_type": "markdown", "metadata": metadata, "source": source}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, nb, indent: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=indent) + "\n", encoding="utf-8")
    return path


def solved() -> dict:
    return notebook(code(f"def f(x):\n    # BEGIN SOLUTION\n    {SECRET}\n    # END SOLUTION\n"))


def message(excinfo) -> str:
    return str(excinfo.value)


# ---------------------------------------------------------------- the report


@pytest.mark.parametrize(
    "counts, text",
    [
        ((0, 0, 0, 0), "0 solutions stubbed, 0 solution directives removed, outputs of 0 code cells cleared"),
        ((1, 1, 1, 0), "1 solution stubbed, 1 solution directive removed, outputs of 1 code cell cleared"),
        ((2, 2, 2, 1), "2 solutions stubbed, 2 solution directives removed, 1 hidden-test block removed, outputs of 2 code cells cleared"),
        ((1, 0, 3, 2), "1 solution stubbed, 0 solution directives removed, 2 hidden-test blocks removed, outputs of 3 code cells cleared"),
    ],
)
def test_summary_text(counts, text):
    solutions, directives, cleared, hidden = counts
    assert ReleaseReport(solutions=solutions, directives=directives, cleared=cleared, hidden_tests=hidden).summary() == text


# ---------------------------------------------------------------- code cells


def test_stubbing_output_exactly():
    source = (
        "import torch\n"
        "\tif x:\n"
        "\t\t## Begin Solution: the body\n"
        "\t\ty = 1\r\n"
        "\t\tz = 2\n"
        "\t\t## END SOLUTION\r\n"
        "print(y)\n"
        "#BEGIN HIDDEN TESTS\n"
        "assert y == 1\n"
        "#   end hidden tests\n"
        "  # BEGIN SOLUTION\n"
        "  w = 3\n"
        "  # END SOLUTION\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert w == 3\n"
        "### END HIDDEN TESTS\n"
        "last = 3"
    )
    text, solutions, hidden, removed = strip_solution_blocks(source)
    assert text == (
        "import torch\n"
        "\tif x:\n"
        "\t\t# YOUR CODE HERE\n"
        "\t\traise NotImplementedError\r\n"
        "print(y)\n"
        "  # YOUR CODE HERE\n"
        "  raise NotImplementedError\n"
        "last = 3"
    )
    assert (solutions, hidden) == (2, 2)
    assert removed == ["\t\ty = 1\r\n", "\t\tz = 2\n", "assert y == 1\n", "  w = 3\n", "assert w == 3\n"]
    assert stub_solutions(source) == (text, 2)
    # an END marker on the last line without a newline: the stub has none either
    assert strip_solution_blocks("# BEGIN SOLUTION\nx\n# END SOLUTION") == ("# YOUR CODE HERE\nraise NotImplementedError", 1, 0, ["x\n"])
    # only hidden tests: nothing stubbed, nothing else touched
    assert strip_solution_blocks("a = 1\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\n") == ("a = 1\n", 0, 1, ["b\n"])
    assert strip_solution_blocks("plain = 1\n") == ("plain = 1\n", 0, 0, [])


@pytest.mark.parametrize(
    "source, text",
    [
        ("a = 1\ny = 2  # end   solution here\n", "W: line 2 holds solution-marker words but is not a marker line of its own ('y = 2  # end   solution here'); put '### BEGIN SOLUTION' / '### END SOLUTION' on lines of their own"),
        ("x" * 70 + "  # BEGIN SOLUTION\n", "W: line 1 holds solution-marker words but is not a marker line of its own ('" + "x" * 60 + "'); put '### BEGIN SOLUTION' / '### END SOLUTION' on lines of their own"),
        ("a = 1\n    # BEGIN SOLUTION\n    b = 2\n    ## begin hidden tests\n", "W: 'BEGIN HIDDEN TESTS' on line 4 is nested in the 'BEGIN SOLUTION' on line 2"),
        ("a = 1\n#END HIDDEN TESTS\n", "W: 'END HIDDEN TESTS' on line 2 has no 'BEGIN HIDDEN TESTS' before it"),
        ("a\n# BEGIN HIDDEN TESTS\nb\n# END SOLUTION\n", "W: 'END SOLUTION' on line 4 closes the 'BEGIN HIDDEN TESTS' on line 2"),
        ("a\n\n  # BEGIN SOLUTION\nb\n", "W: 'BEGIN SOLUTION' on line 3 has no matching 'END SOLUTION'"),
        ("a\n\n# begin hidden tests\nb\n", "W: 'BEGIN HIDDEN TESTS' on line 3 has no matching 'END HIDDEN TESTS'"),
    ],
)
def test_stubbing_refusals_exactly(source, text):
    with pytest.raises(ValueError) as err:
        strip_solution_blocks(source, "W")
    assert message(err) == text
    with pytest.raises(ValueError) as err:
        stub_solutions(source, "W")
    assert message(err) == text


def test_default_name_in_messages():
    with pytest.raises(ValueError) as err:
        strip_solution_blocks("# END SOLUTION")
    assert message(err) == "cell: 'END SOLUTION' on line 1 has no 'BEGIN SOLUTION' before it"
    with pytest.raises(ValueError) as err:
        stub_solutions("x\n# END SOLUTION")
    assert message(err) == "cell: 'END SOLUTION' on line 2 has no 'BEGIN SOLUTION' before it"
    with pytest.raises(ValueError) as err:
        remove_solution_directives("```{solution} a\n")
    assert message(err) == "cell: the {solution} directive on line 1 has no closing ```"


# ---------------------------------------------------------------- markdown cells


@pytest.mark.parametrize(
    "source, text, count",
    [
        # blank line before and after: one of them goes
        ("Intro.\n\n```{solution} ex\nAnswer.\n```\n\nMore.\n", "Intro.\n\nMore.\n", 1),
        # no blank line before: the one after stays
        ("Intro.\n```{solution} ex\nAnswer.\n```\n\nMore.\n", "Intro.\n\nMore.\n", 1),
        # at the start: the blank line after goes
        ("```{solution} ex\nAnswer.\n```\n\nMore.\n", "More.\n", 1),
        # at the end, blank lines before it go, the source's last line ending stays
        ("A\n\n```{solution} ex\nx\n```\n", "A\n", 1),
        ("A\r\n\r\n```{solution} ex\r\nx\r\n```\r\n", "A\r\n", 1),
        ("A\n\n```{solution} ex\nx\n```", "A", 1),
        # longer fences, indentation, trailing spaces; a shorter or other fence does not close
        ("A\n  ````{solution} ex\n```\n:::\n   `````  \nB", "A\nB", 1),
        ("::::{solution} ex\n:::\n```\n::::\nB\n", "B\n", 1),
        # the kept last line loses only its line break; the ending is the source's last one
        ("A  \n\n```{solution} a\nb\n```\n", "A  \n", 1),
        ("BOX\n\n```{solution} a\nb\n```\n", "BOX\n", 1),
        ("A\n\r\n```{solution} a\nx\r\n```\n", "A\n", 1),
        ("A\r\r```{solution} a\rx\r```\r", "A\r", 1),
        # a fence followed by anything but spaces or tabs does not close
        ("```{solution} a\nx\n```X\n```\u00a0\n```\nB\n", "B\n", 1),
        # two blocks
        ("A\n\n```{solution} a\nx\n```\n\nB\n\n:::{solution} b\ny\n:::\n", "A\n\nB\n", 2),
        # only a block: nothing left
        ("```{solution} a\nx\n```\n", "", 1),
        # no block: untouched, even trailing blank lines
        ("A\n\n", "A\n\n", 0),
        ("```{note}\nx\n```\n", "```{note}\nx\n```\n", 0),
    ],
)
def test_directive_removal_exactly(source, text, count):
    assert remove_solution_directives(source) == (text, count)


def test_directive_refusals_exactly():
    with pytest.raises(ValueError) as err:
        remove_solution_directives("x\n\n::::{solution} a\ntext\n:::\n", "W")
    assert message(err) == "W: the {solution} directive on line 3 has no closing ::::"
    with pytest.raises(ValueError) as err:
        remove_solution_directives("x\n```{solution-end}\n", "W")
    assert message(err) == "W: gated '{solution-end}' directives (line 2) are not supported; put the solution in one {solution} directive"
    with pytest.raises(ValueError) as err:
        remove_solution_directives("```{solution-start} a\n```\n")
    assert message(err) == "cell: gated '{solution-start}' directives (line 1) are not supported; put the solution in one {solution} directive"


# ---------------------------------------------------------------- notebooks


def test_release_notebook_exactly():
    nb = notebook(
        markdown(["# Exercises\n", "\n", "Intro."], tags=["keep"]),
        markdown("Instructor's note.", tags=["instructor-only"]),
        code("answer = 42", tags=["instructor-only"]),
        markdown("Your copy.", tags=["remove-cell", "student-only"]),
        markdown("Tagged.", tags=["student-only", "margin", "remove-cell"]),
        {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout", "text": "4\n"}],
         "source": ["def f(x):\n", "    # BEGIN SOLUTION\n", f"    {SECRET}\n", "    # END SOLUTION\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {"nbgrader": {"locked": True, "grade": True}},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "ok\n"}],
         "source": "check(f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 42\n### END HIDDEN TESTS\n"},
        {"cell_type": "code", "execution_count": 2, "metadata": {"nbgrader": {"locked": False}}, "outputs": [],
         "source": "y = 1\n### BEGIN HIDDEN TESTS\nassert y\n### END HIDDEN TESTS"},
        {"cell_type": "code", "source": "z = 1"},  # no metadata, outputs or count at all
        {"cell_type": "code", "execution_count": None, "metadata": {"nbgrader": "locked"}, "outputs": [], "source": ["w = 2"]},
        markdown(["Text.\n", "\n", "```{solution} ex\n", "Because.\n", "```\n"]),
        markdown("```{solution} ex\nOnly this.\n```\n", tags=["x"]),
        {"cell_type": "raw", "metadata": {}, "source": "raw text"},
    )
    before = json.dumps(nb)
    student, report = release_notebook(nb, "nb.ipynb")
    assert json.dumps(nb) == before  # the input is not modified
    assert (report.source, report.destination) == ("nb.ipynb", "")
    assert (report.solutions, report.directives, report.cleared, report.dropped_cells, report.hidden_tests) == (1, 2, 3, 3, 2)
    cells = student["cells"]
    assert [c["source"] for c in cells] == [
        ["# Exercises\n", "\n", "Intro."],
        "Your copy.",
        "Tagged.",
        ["def f(x):\n", "    # YOUR CODE HERE\n", "    raise NotImplementedError\n"],
        "check(f)\n",
        "y = 1\n",
        "z = 1",
        ["w = 2"],
        ["Text.\n"],
        "raw text",
    ]
    assert [c["metadata"] for c in cells] == [
        {"tags": ["keep"]},
        {},
        {"tags": ["margin"]},
        {},
        {"nbgrader": {"locked": True, "grade": True}, "editable": False, "deletable": False},
        {"nbgrader": {"locked": False}},
        {},
        {"nbgrader": "locked"},
        {},
        {},
    ]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")
    assert "outputs" not in cells[-1] and "execution_count" not in cells[-1]
    assert [k for k in student if k != "cells"] == ["metadata", "nbformat", "nbformat_minor"]


def test_release_notebook_default_name_and_marker_messages():
    _, report = release_notebook(notebook())
    assert report.source == "notebook"
    with pytest.raises(ValueError) as err:
        release_notebook(notebook(code("x = 1"), markdown("a\nb\nc ### end solution\n")))
    assert message(err) == (
        "notebook, cell 2 (markdown): line 3 holds a solution marker; markers belong in code cells "
        "(write a markdown answer in a {solution} directive)"
    )
    with pytest.raises(ValueError) as err:
        release_notebook(notebook({"cell_type": "raw", "metadata": {}, "source": ["x\n", "# BEGIN SOLUTION\n"]}), "N")
    assert message(err) == "N, cell 1 (raw): line 2 holds a solution marker; markers belong in code cells (write a markdown answer in a {solution} directive)"
    with pytest.raises(ValueError) as err:
        release_notebook(notebook(markdown("ok"), code("# BEGIN SOLUTION\n")), "N")
    assert message(err) == "N, cell 2 (code): 'BEGIN SOLUTION' on line 1 has no matching 'END SOLUTION'"
    with pytest.raises(ValueError) as err:
        release_notebook(notebook(markdown("ok"), markdown("x\n```{solution} a\n")), "N")
    assert message(err) == "N, cell 2 (markdown): the {solution} directive on line 2 has no closing ```"
    # a notebook without "nbformat" is taken as version 4; a cell without metadata gets an empty one
    student, _ = release_notebook({"cells": [{"cell_type": "markdown", "source": "x"}]})
    assert student == {"cells": [{"cell_type": "markdown", "source": "x", "metadata": {}}]}


@pytest.mark.parametrize(
    "nb, text",
    [
        ([1], "N: not a notebook (the JSON is a list, not an object)"),
        ("x", "N: not a notebook (the JSON is a str, not an object)"),
        ({"cells": {}}, "N: not a notebook (no list of cells)"),
        ({}, "N: not a notebook (no list of cells)"),
        ({"cells": [], "nbformat": 5}, "N: nbformat 5 is not supported (expected 4)"),
        ({"cells": [], "nbformat": None}, "N: nbformat None is not supported (expected 4)"),
        ({"cells": [{"cell_type": "code", "source": ""}, 3]}, "N, cell 2: not a cell (a int, not an object)"),
        ({"cells": [{"source": ""}]}, "N, cell 1: unknown cell_type None (expected code, markdown or raw)"),
        ({"cells": [{"cell_type": "Code", "source": ""}]}, "N, cell 1: unknown cell_type 'Code' (expected code, markdown or raw)"),
        ({"cells": [{"cell_type": "raw", "metadata": None}]}, "N, cell 1 (raw): metadata must be an object, got NoneType"),
        ({"cells": [{"cell_type": "raw", "metadata": []}]}, "N, cell 1 (raw): metadata must be an object, got list"),
        ({"cells": [{"cell_type": "markdown", "metadata": {"tags": ["a", 1]}}]}, "N, cell 1 (markdown): metadata.tags must be a list of strings"),
        ({"cells": [{"cell_type": "markdown", "metadata": {"tags": "a"}}]}, "N, cell 1 (markdown): metadata.tags must be a list of strings"),
        ({"cells": [{"cell_type": "code", "source": ["a", None]}]}, "N, cell 1 (code): 'source' must be a string or a list of strings, got list"),
        ({"cells": [{"cell_type": "code", "source": None}]}, "N, cell 1 (code): 'source' must be a string or a list of strings, got NoneType"),
    ],
)
def test_malformed_notebook_messages_exactly(nb, text):
    with pytest.raises(ValueError) as err:
        release_notebook(nb, "N")
    assert message(err) == text


def test_cells_without_source_or_tags_are_fine():
    student, report = release_notebook(notebook({"cell_type": "markdown", "metadata": {"other": 1}}, {"cell_type": "code", "metadata": {}}))
    assert [c.get("source") for c in student["cells"]] == [None, None]
    assert report.cleared == 0 and student["cells"][1]["outputs"] == []


def test_has_solution_content_each_reason():
    assert has_solution_content(notebook(code("x = 1\n#begin hidden tests\n")))
    assert has_solution_content(notebook(code(5), code(["x = 1  # BEGIN ", "SOLUTION\n"])))  # the joined lines count
    assert has_solution_content(notebook(markdown(["a\n", ":::{solution} x\n", ":::\n"])))
    assert has_solution_content(notebook(markdown("see {solution}`ex-1`")))  # any {solution role or directive
    assert has_solution_content(notebook(markdown("x"), code("y", tags=["a", "instructor-only"])))
    assert has_solution_content(notebook(3, markdown("x", tags=["instructor-only"])))  # a non-cell is skipped, not the end
    assert not has_solution_content(notebook(markdown("x", tags=["instructor"]), code("solution = 1")))
    assert not has_solution_content(notebook({"cell_type": "code", "metadata": None, "source": "x"}, {"cell_type": "code", "metadata": {"tags": None}}))
    assert not has_solution_content({"cells": {"a": 1}}) and not has_solution_content([notebook(markdown("{solution}"))])
    assert not has_solution_content(notebook())


# ---------------------------------------------------------------- files


def test_release_notebook_file_keeps_the_json_style(tmp_path):
    nb = notebook(markdown("Ünïcode ✓"), code(["x = (\n", "    # BEGIN SOLUTION\n", "    42\n", "    # END SOLUTION\n", ")"]))
    src = tmp_path / "src.ipynb"
    src.write_text(json.dumps(nb, indent=2, ensure_ascii=False), encoding="utf-8")  # indent 2, no final newline
    dest = tmp_path / "a" / "b" / "out.ipynb"
    report = release_notebook_file(src, dest)
    assert (report.source, report.destination, report.solutions) == (str(src), str(dest), 1)
    expected = json.loads(src.read_text(encoding="utf-8"))
    expected["cells"][1]["source"] = ["x = (\n", "    # YOUR CODE HERE\n", "    raise NotImplementedError\n", ")"]
    assert dest.read_text(encoding="utf-8") == json.dumps(expected, indent=2, ensure_ascii=False)
    src.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")  # indent 1, final newline
    release_notebook_file(src, dest)
    assert dest.read_text(encoding="utf-8") == json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
    src.write_text(json.dumps(nb), encoding="utf-8")  # one line: written with indent 1
    release_notebook_file(str(src), str(dest))
    assert dest.read_text(encoding="utf-8") == json.dumps(expected, indent=1, ensure_ascii=False)
    src.write_text('{\n   "cells": []}', encoding="utf-8")  # two lines: the second's indentation
    release_notebook_file(src, dest)
    assert dest.read_text(encoding="utf-8") == '{\n   "cells": []\n}'
    src.write_text("{\n\"cells\": [],\n\"metadata\": {}}\n", encoding="utf-8")  # no indentation: 1
    release_notebook_file(src, dest)
    assert dest.read_text(encoding="utf-8") == '{\n "cells": [],\n "metadata": {}\n}\n'
    with pytest.raises(ValueError) as err:
        release_notebook_file(src, tmp_path / "." / "src.ipynb")
    assert message(err) == f"dest {tmp_path / 'src.ipynb'} is the source notebook itself; refusing to overwrite the instructor's version"


def test_unreadable_notebook_messages_exactly(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(b'{"cells": ["\xff"]}')
    with pytest.raises(ValueError) as err:
        release_notebook_file(bad, tmp_path / "out.ipynb")
    assert message(err) == f"{bad}: not UTF-8 text (invalid start byte at byte 12)"
    bad.write_text("{\n  oops", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        release_notebook_file(bad, tmp_path / "out.ipynb")
    assert message(err) == f"{bad}: not valid JSON (Expecting property name enclosed in double quotes: line 2 column 3 (char 4))"
    assert not (tmp_path / "out.ipynb").exists()


def test_find_exercise_notebooks_exactly(tmp_path):
    root = tmp_path / "_build" / "course"  # a source inside a _build folder is still searched
    for rel_path in ["b/exercises.ipynb", "a/x/exercises.ipynb", "exercises.ipynb", "a/_build/exercises.ipynb",
                     "_build/a/exercises.ipynb", "c/.ipynb_checkpoints/exercises.ipynb", "a/notes.ipynb"]:
        write(root / rel_path, notebook())
    (root / "d" / "exercises.ipynb").mkdir(parents=True)  # a folder of that name is not a notebook
    found = [p.relative_to(root).as_posix() for p in find_exercise_notebooks(str(root))]
    assert found == ["a/x/exercises.ipynb", "b/exercises.ipynb", "exercises.ipynb"]


# ---------------------------------------------------------------- the leak scan


def test_secret_lines_exactly(tmp_path):
    nb = notebook(
        "not a cell",
        {"cell_type": "code", "source": 12345678},
        code("visible_line = 1\n# BEGIN SOLUTION\nsecret_one = 1\nplain_after_colon\nANSWER_IS_X\nvisible_line = 1\n  )\n    ;;;;;;;;\nshort\n123456\n# END SOLUTION\nafter_end = 2\n"),
        code(["### begin hidden tests\n", "assert hidden_case()\n", "### END HIDDEN TESTS\n", "```{solution} not-a-directive-here\n", "code_after = 1\n"]),
        markdown("Text before.\n\n````{solution} ex\n:class: dropdown\n```python\nnested_code()\n```\nThe explanation.\n````\nText after.\n# BEGIN SOLUTION\nmarkdown_marked = 1\n"),
        markdown(":::{solution} b\n  colon answer\n   :::   \nplain_after_colon\n"),
        {"cell_type": "raw", "metadata": {}, "source": "raw_line = 1"},
    )
    public = tmp_path / "public.md"
    public.write_text("intro\n   hidden_case_public()   \n", encoding="utf-8")
    assert secret_lines([nb]) == {
        "secret_one = 1",
        "ANSWER_IS_X",
        "123456",
        "assert hidden_case()",
        ":class: dropdown",
        "```python",
        "nested_code()",
        "The explanation.",
        "colon answer",
    }
    nb2 = notebook(code("# BEGIN SOLUTION\nhidden_case_public()\nsecret_two = 2\n# END SOLUTION\n"))
    # lines of a public file, and lines elsewhere in any of the notebooks, are not secret
    assert secret_lines([nb, nb2], [public, str(tmp_path / "missing.md")]) - secret_lines([nb]) == {"secret_two = 2"}
    assert secret_lines([nb2, notebook(code("secret_two = 2"))]) == {"hidden_case_public()"}
    assert secret_lines([{"cells": 5}, [1], {"cells": [{"cell_type": "code", "source": ["# BEGIN SOLUTION\n", "in_list = 1\n"]}]}]) == {"in_list = 1"}


def test_public_notebook_lines_count_as_public(tmp_path):
    nb = notebook(code("# BEGIN SOLUTION\nshown_in_output = 1\nshown_in_data = 2\nshown_in_source = 3\nstill_secret = 4\n# END SOLUTION\n"))
    page = notebook(
        "junk",
        {"cell_type": "code", "metadata": {}, "source": ["x = 1\n", "shown_in_source = 3\n"],
         "outputs": ["junk", {"output_type": "stream", "text": ["a\n", "shown_in_output = 1\n"]},
                     {"output_type": "execute_result", "data": {"text/plain": "shown_in_data = 2", "application/x-number": 12345678}}]},
        {"cell_type": "code", "metadata": {}, "source": 12345678},
        {"cell_type": "markdown", "metadata": {}, "source": "text", "outputs": None},
    )
    path = write(tmp_path / "page.ipynb", page)
    assert secret_lines([nb], [path]) == {"still_secret = 4"}
    # a notebook file that is not JSON, or not an object, is read as text
    broken = tmp_path / "broken.ipynb"
    broken.write_text("shown_in_source = 3\n{", encoding="utf-8")
    listed = tmp_path / "listed.ipynb"
    listed.write_text('["x",\n"y"]', encoding="utf-8")
    cellless = tmp_path / "cellless.ipynb"
    cellless.write_text('{"a": 1}', encoding="utf-8")
    assert secret_lines([nb], [broken, listed, cellless]) == {"shown_in_output = 1", "shown_in_data = 2", "still_secret = 4"}
    binary = tmp_path / "b.ipynb"
    binary.write_bytes(b"\xff\xfe")
    assert secret_lines([nb], [binary, tmp_path]) == secret_lines([nb])


def test_find_leaks_verdicts_on_crafted_files(tmp_path):
    long_marker = "x = 1  # BEGIN SOLUTION " + "y" * 100
    quoted = 'print("the answer is", 42)'
    files = {
        "a.py": "fine = 1\n",
        "b/c.txt": f"one\ntwo\n{long_marker}\n",
        "d.ipynb": json.dumps(notebook(code(["x = 1\n", f"{quoted}\n"])), indent=1),
        "e.ipynb": json.dumps(notebook({"cell_type": "code", "metadata": {}, "source": "",
                                        "outputs": [{"output_type": "display_data", "data": {"text/plain": ["a\n", f"  {SECRET}  "]}}]})),
        "f.md": f"ok\n{SECRET}\n{SECRET}\nend solution\n",
        "g.bin": b"\xff\xfe\xfd",
        "h.md": "x\nBEGIN_HIDDEN_TESTS\n",  # after the unreadable file: the scan goes on
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    leaks = find_leaks(str(tmp_path), [SECRET, quoted, "short"])
    assert leaks == [
        f"{tmp_path / 'b' / 'c.txt'}: line 3 holds a solution marker: {long_marker[:80]}",
        f"{tmp_path / 'd.ipynb'}: holds a line of a removed solution: {quoted}",
        f"{tmp_path / 'e.ipynb'}: holds a line of a removed solution: {SECRET}",
        f"{tmp_path / 'f.md'}: line 4 holds a solution marker: end solution",
        f"{tmp_path / 'f.md'}: holds a line of a removed solution: {SECRET}",
        f"{tmp_path / 'h.md'}: line 2 holds a solution marker: BEGIN_HIDDEN_TESTS",
    ]
    long_secret = "z" * 100
    (tmp_path / "h.md").write_text(f"{long_secret}\n", encoding="utf-8")
    assert find_leaks(tmp_path / "h.md", {long_secret}) == [f"{tmp_path / 'h.md'}: holds a line of a removed solution: {'z' * 80}"]
    assert find_leaks(tmp_path / "a.py") == [] and find_leaks(tmp_path / "d.ipynb") == []


def test_refusal_lists_twenty_leaks_at_the_destination(tmp_path):
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "x.py").write_text("".join(f"# begin solution {i}\n" for i in range(23)), encoding="utf-8")
    dest = tmp_path / "dest"
    with pytest.raises(ValueError) as err:
        rel._refuse_leaks(staged, set(), Path("SRC"), dest)
    listed = "\n  ".join(f"{dest / 'x.py'}: line {i + 1} holds a solution marker: # begin solution {i}" for i in range(20))
    assert message(err) == f"SRC: the release would leak solutions; nothing was written to {dest}:\n  {listed}\n  ... and 3 more"
    (staged / "x.py").write_text("".join(f"# begin solution {i}\n" for i in range(21)), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        rel._refuse_leaks(staged, set(), Path("SRC"), dest)
    assert message(err).endswith(": line 20 holds a solution marker: # begin solution 19\n  ... and 1 more")
    (staged / "x.py").write_text("".join(f"# begin solution {i}\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        rel._refuse_leaks(staged, set(), Path("SRC"), dest)
    assert message(err).endswith(": line 20 holds a solution marker: # begin solution 19")
    (staged / "x.py").write_text(f"{SECRET}\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        rel._refuse_leaks(staged, {SECRET}, Path("SRC"), dest)
    assert message(err) == f"SRC: the release would leak solutions; nothing was written to {dest}:\n  {dest / 'x.py'}: holds a line of a removed solution: {SECRET}"
    (staged / "x.py").write_text("clean\n", encoding="utf-8")
    assert rel._refuse_leaks(staged, {SECRET}, Path("SRC"), dest) is None


# ---------------------------------------------------------------- staging and moving into place


def test_staging_folder_beside_the_destination(tmp_path):
    dest = tmp_path / "new" / "deeper" / "out"
    staged = rel._staging(dest)
    assert staged.is_dir() and staged.parent == dest.parent and list(staged.iterdir()) == []
    assert staged.name.startswith(".out.") and staged.name.endswith(".tmp")
    again = rel._staging(dest)  # the parent exists now
    assert again != staged and again.parent == dest.parent


def test_move_into_place_new_and_existing(tmp_path):
    staged = tmp_path / "staged"
    write(staged / "a" / "b" / "exercises.ipynb", "A")
    write(staged / "a" / "c" / "exercises.ipynb", "C")
    write(staged / "top.ipynb", "T")
    write(staged / "n" / "m" / "deep.ipynb", "D")
    dest = tmp_path / "dest"
    (dest / "a").mkdir(parents=True)
    (dest / "a" / "keep.txt").write_text("K")
    write(dest / "top.ipynb", "old")
    rel._move_into_place(staged, dest)
    files = {p.relative_to(dest).as_posix(): p.read_text() for p in dest.rglob("*") if p.is_file()}
    assert files == {"a/b/exercises.ipynb": "A", "a/c/exercises.ipynb": "C", "a/keep.txt": "K", "n/m/deep.ipynb": "D", "top.ipynb": "T"}
    fresh = tmp_path / "fresh"
    other = tmp_path / "other"
    write(other / "x" / "y.ipynb", "Y")
    rel._move_into_place(other, fresh)
    assert not other.exists() and (fresh / "x" / "y.ipynb").read_text() == "Y"


# ---------------------------------------------------------------- release, fail-closed


def test_release_of_a_folder_exactly(tmp_path):
    src = tmp_path / "chapters"
    write(src / "01_a" / "exercises.ipynb", solved())
    write(src / "02_b" / "sub" / "exercises.ipynb", notebook(markdown("no solutions")))
    write(src / "01_a" / "notes.ipynb", notebook(code("x = 1\n# begin solution\ny\n# end solution\n")))
    write(src / "01_a" / "clean.ipynb", notebook(code("x = 1")))
    write(src / "_build" / "old.ipynb", notebook(code("# BEGIN SOLUTION\n# END SOLUTION\n")))
    (src / "00_bad.ipynb").write_bytes(b"\xff BEGIN SOLUTION")  # unreadable: passed over, the others still listed
    dest = tmp_path / "deep" / "student"  # its parent does not exist yet
    result = release(str(src), str(dest))
    assert [(r.source, r.destination, r.solutions) for r in result.reports] == [
        (str(src / "01_a" / "exercises.ipynb"), str(dest / "01_a" / "exercises.ipynb"), 1),
        (str(src / "02_b" / "sub" / "exercises.ipynb"), str(dest / "02_b" / "sub" / "exercises.ipynb"), 0),
    ]
    assert result.skipped == [str(src / "01_a" / "notes.ipynb")]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() and "chapters" not in p.parts)
    assert written == ["deep/student/01_a/exercises.ipynb", "deep/student/02_b/sub/exercises.ipynb"]
    student = json.loads((dest / "01_a" / "exercises.ipynb").read_text(encoding="utf-8"))
    assert student["cells"][0]["source"] == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    # a second release into the same (now existing) destination replaces the notebooks, keeps other files
    (dest / "01_a" / "mine.txt").write_text("kept")
    write(src / "01_a" / "exercises.ipynb", notebook(code("changed = 1")))
    again = release(src, dest)
    assert len(again.reports) == 2 and (dest / "01_a" / "mine.txt").read_text() == "kept"
    assert json.loads((dest / "01_a" / "exercises.ipynb").read_text())["cells"][0]["source"] == "changed = 1"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["student"]  # no staging folder left


def test_release_into_a_folder_inside_the_source(tmp_path):
    src = tmp_path / "chapters"
    write(src / "a" / "exercises.ipynb", solved())
    write(src / "a" / "page.ipynb", notebook(code("# BEGIN SOLUTION\n# END SOLUTION\n")))
    dest = src / "student"
    for _ in range(2):  # the second run must not release (or list) the released copies
        result = release(src, dest)
        assert [r.destination for r in result.reports] == [str(dest / "a" / "exercises.ipynb")]
        assert result.skipped == [str(src / "a" / "page.ipynb")]
    write(dest / "b" / "other.ipynb", notebook(code("# BEGIN SOLUTION\n# END SOLUTION\n")))
    assert release(src, dest).skipped == [str(src / "a" / "page.ipynb")]
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == ["a/exercises.ipynb", "b/other.ipynb"]


def test_release_refusals_exactly(tmp_path):
    src = tmp_path / "chapters"
    write(src / "exercises.ipynb", solved())
    with pytest.raises(FileNotFoundError) as err:
        release(tmp_path / "missing", tmp_path / "out")
    assert message(err) == f"src {tmp_path / 'missing'} does not exist"
    with pytest.raises(ValueError) as err:
        release(src, tmp_path / "." / "chapters")
    assert message(err) == f"dest {tmp_path / 'chapters'} is the source folder; refusing to overwrite the instructor's notebooks"
    one = src / "exercises.ipynb"
    with pytest.raises(ValueError) as err:
        release(one, src)  # a folder: the notebook would land on itself
    assert message(err) == f"dest {one} is the source notebook itself; refusing to overwrite the instructor's version"
    with pytest.raises(ValueError) as err:
        release(one, one)
    assert message(err) == f"dest {one} is the source notebook itself; refusing to overwrite the instructor's version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapters"] and [p.name for p in src.iterdir()] == ["exercises.ipynb"]


def test_release_of_one_file(tmp_path):
    src = write(tmp_path / "in" / "exercises.ipynb", solved())
    result = release(str(src), str(tmp_path / "out" / "student.ipynb"))
    assert [(r.source, r.destination, r.solutions) for r in result.reports] == [(str(src), str(tmp_path / "out" / "student.ipynb"), 1)]
    assert result.skipped == []
    result = release(src, tmp_path / "folder")
    assert [r.destination for r in result.reports] == [str(tmp_path / "folder" / "exercises.ipynb")]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "folder/exercises.ipynb", "in/exercises.ipynb", "out/student.ipynb"]
    text = (tmp_path / "folder" / "exercises.ipynb").read_text(encoding="utf-8")
    assert SECRET not in text and "raise NotImplementedError" in text
    # a broken notebook: nothing written, no staging folder left
    broken = write(tmp_path / "in" / "broken.ipynb", notebook(code("# BEGIN SOLUTION\n")))
    with pytest.raises(ValueError, match="has no matching"):
        release(broken, tmp_path / "folder")
    invalid = write(tmp_path / "in" / "invalid.ipynb", "{")
    with pytest.raises(ValueError, match="not valid JSON"):
        release(invalid, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "in", "out"]
    assert [p.name for p in (tmp_path / "folder").iterdir()] == ["exercises.ipynb"]


def test_leaking_release_writes_nothing(tmp_path, monkeypatch):
    src = tmp_path / "chapters"
    write(src / "a" / "exercises.ipynb", solved())
    write(src / "b" / "exercises.ipynb", notebook(markdown("fine")))
    dest = tmp_path / "student"
    (dest / "b").mkdir(parents=True)
    (dest / "b" / "old.txt").write_text("old")
    monkeypatch.setattr(rel, "strip_solution_blocks", lambda source, where="cell": (source, 1, 0, []))
    with pytest.raises(ValueError) as err:
        release(src, dest)
    assert message(err).startswith(f"{src}: the release would leak solutions; nothing was written to {dest}:\n  {dest / 'a' / 'exercises.ipynb'}: line ")
    assert f"{dest / 'a' / 'exercises.ipynb'}: holds a line of a removed solution: {SECRET}" in message(err)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() and "chapters" not in p.parts) == ["student/b/old.txt"]
    one = src / "a" / "exercises.ipynb"
    with pytest.raises(ValueError) as err:
        release(one, tmp_path / "x" / "one.ipynb")
    assert message(err).startswith(f"{one}: the release would leak solutions; nothing was written to {tmp_path / 'x' / 'one.ipynb'}:\n  ")
    assert [p.name for p in (tmp_path / "x").iterdir()] == []


# ---------------------------------------------------------------- the command line


def test_cli_release_lines(tmp_path, capsys):
    src = tmp_path / "chapters"
    write(src / "a" / "exercises.ipynb", solved())
    write(src / "a" / "notes.ipynb", notebook(code("# BEGIN SOLUTION\n# END SOLUTION\n")))
    dest = tmp_path / "out"
    assert main(["release", str(src), str(dest)]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"wrote {dest / 'a' / 'exercises.ipynb'} (1 solution stubbed, 0 solution directives removed, outputs of 0 code cells cleared)\n"
        f"released 1 notebook from {src} to {dest}\n"
    )
    assert err == f"note: {src / 'a' / 'notes.ipynb'} has solution markers but is not named exercises.ipynb: not released\n"
    write(src / "b" / "exercises.ipynb", notebook())
    assert main(["release", str(src), str(dest)]) == 0
    assert capsys.readouterr().out.endswith(f"released 2 notebooks from {src} to {dest}\n")
    (src / "a" / "exercises.ipynb").unlink()
    (src / "b" / "exercises.ipynb").unlink()
    assert main(["release", str(src), str(dest)]) == 0
    assert capsys.readouterr().out == f"released 0 notebooks from {src} to {dest}\n"
    assert main(["release", str(tmp_path / "nope"), str(dest)]) == 1
    assert capsys.readouterr() == ("", f"error: src {tmp_path / 'nope'} does not exist\n")


def test_cli_nbgrader_source_lines(tmp_path, capsys, monkeypatch):
    one = write(tmp_path / "ch1" / "exercises.ipynb", notebook(code("check_true(True, 'm')")))
    two = write(tmp_path / "ch2" / "exercises.ipynb", notebook(code("x = 1")))
    assert main(["nbgrader-source", "--check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == f"would convert {one}\n1 of 2 notebooks already in nbgrader format\n"
    assert err == "error: run `python -m companion.exercises nbgrader-source` to convert them\n"
    assert main(["nbgrader-source", str(one), str(two)]) == 0
    assert capsys.readouterr() == (f"converted {one}\n1 of 2 notebooks already in nbgrader format\n", "")
    assert main(["nbgrader-source", "--check", str(one)]) == 0
    assert capsys.readouterr() == ("1 of 1 notebook already in nbgrader format\n", "")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chapters").mkdir()
    assert main(["nbgrader-source"]) == 0  # default: chapters
    assert capsys.readouterr().out == "0 of 0 notebooks already in nbgrader format\n"
    write(tmp_path / "chapters" / "x" / "exercises.ipynb", "[]")
    assert main(["nbgrader-source"]) == 1
    assert capsys.readouterr().err == f"error: {Path('chapters') / 'x' / 'exercises.ipynb'}: not a notebook (the JSON is a list, not an object)\n"


def test_cli_grade_lines(tmp_path, capsys, monkeypatch):
    import companion.exercises.grade as grade_module

    calls = []

    class Result:
        problems = ["alice: no notebook", "bob: late"]
        graded = 1
        csv = "G/grades.csv"
        feedback = "G/feedback"

    def fake(submissions, **kwargs):
        calls.append((submissions, kwargs))
        return Result

    monkeypatch.setattr(grade_module, "grade", fake)
    assert main(["grade", "subs"]) == 0
    assert calls[-1] == ("subs", {"root": ".", "out": None, "cell_timeout": 120, "check_timeout": 10.0, "submission_timeout": 900})
    out, err = capsys.readouterr()
    assert out == "graded 1 submission: G/grades.csv\nfeedback: G/feedback\n"
    assert err == "note: alice: no notebook\nnote: bob: late\n"
    Result.graded, Result.problems = 2, []
    assert main(["grade", "subs", "--root", "R", "--out", "O", "--cell-timeout", "7", "--check-timeout", "2.5", "--submission-timeout", "60"]) == 0
    assert calls[-1] == ("subs", {"root": "R", "out": "O", "cell_timeout": 7, "check_timeout": 2.5, "submission_timeout": 60})
    assert capsys.readouterr() == ("graded 2 submissions: G/grades.csv\nfeedback: G/feedback\n", "")

    def failing(submissions, **kwargs):
        raise ValueError("subs: no submissions")

    monkeypatch.setattr(grade_module, "grade", failing)
    assert main(["grade", "subs"]) == 1
    assert capsys.readouterr() == ("", "error: subs: no submissions\n")


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as err:
        main([])
    assert err.value.code == 2
    assert "usage: python -m companion.exercises" in capsys.readouterr().err


# ---------------------------------------------------------------- nbgrader source form


def test_convert_notebook_exactly():
    nb = notebook(
        markdown("Intro, no exercise."),
        code("check_value(1, 1)"),  # before any exercise: named by its cell number
        markdown("::::{exercise} First\n:class: x\n:label: ex.one/2\n\ntext\n::::"),
        code(["def f(x):\n", "  #begin   solution (the body)\n", "  return x\n", "  ##  End Solution\n"]),
        code("def g(x):\n# BEGIN SOLUTION\nreturn 1\n# END SOLUTION\n"),
        code("check_function (f, g, [(1,)])\n## begin hidden tests\nassert f(2) == 2\n## end hidden tests\n", nbgrader={"points": 2.5}),
        code("check_gradient(f, g, [(1.0,)])", nbgrader="junk"),
        code("check_property(f, lambda x: True, [(1,)])"),
        code("print('no check here')", nbgrader={"points": 7}),
        {"cell_type": "raw", "metadata": {}, "source": "check_true(1, 'raw')"},
        markdown("```{exercise} No label\n```"),
        code("check_true(f(1) == 1, 'm')"),
    )
    before = json.dumps(nb)
    out = convert_notebook(nb, "N")
    assert json.dumps(nb) == before
    meta = [c["metadata"].get("nbgrader") for c in out["cells"]]
    solution = {"grade": False, "locked": False, "schema_version": 3, "solution": True, "task": False}
    check = {"grade": True, "locked": True, "schema_version": 3, "solution": False, "task": False}
    assert meta == [
        None,
        {**check, "grade_id": "check-2", "points": 1},
        None,
        {**solution, "grade_id": "ex-one-2__solution"},
        {**solution, "grade_id": "ex-one-2__solution2"},
        {**check, "grade_id": "ex-one-2", "points": 2.5},
        {**check, "grade_id": "ex-one-2__2", "points": 1},
        {**check, "grade_id": "ex-one-2__3", "points": 1},
        {"points": 7},
        None,
        None,
        {**check, "grade_id": "ex-one-2__4", "points": 1},
    ]
    assert out["cells"][3]["source"] == ["def f(x):\n", "  ### BEGIN SOLUTION (the body)\n", "  return x\n", "  ### END SOLUTION\n"]
    assert out["cells"][4]["source"] == nb["cells"][4]["source"].replace("# ", "### ")
    assert out["cells"][5]["source"] == "check_function (f, g, [(1,)])\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS\n"
    assert convert_notebook(out) == out
    assert [exercise_of(m["grade_id"]) for m in meta if isinstance(m, dict) and "grade_id" in m] == [
        "check-2", "ex-one-2", "ex-one-2", "ex-one-2", "ex-one-2", "ex-one-2", "ex-one-2"]
    assert exercise_of("a__b__c") == "a"


@pytest.mark.parametrize("points", [0, 0.0, 3])
def test_convert_keeps_good_points(points):
    nb = notebook(code("check_true(1, 'm')", nbgrader={"points": points}))
    assert convert_notebook(nb)["cells"][0]["metadata"]["nbgrader"]["points"] == points


@pytest.mark.parametrize("points", [-1, -0.5, True, "2", None])
def test_convert_refuses_bad_points_exactly(points):
    nb = notebook(markdown("x"), code("check_true(1, 'm')", nbgrader={"points": points}))
    with pytest.raises(ValueError) as err:
        convert_notebook(nb, "N")
    assert message(err) == f"N, cell 2 (code): nbgrader points must be a non-negative number, got {points!r}"


def test_convert_refusals_exactly():
    with pytest.raises(ValueError) as err:
        convert_notebook({"cells": 1})
    assert message(err) == "notebook: not a notebook (no list of cells)"
    with pytest.raises(ValueError) as err:
        convert_notebook(notebook(markdown("ok"), code(5)), "N")
    assert message(err) == "N, cell 2 (code): 'source' must be a string or a list of strings, got int"
    clash = notebook(
        markdown("```{exercise} A\n:label: a__solution\n```"), code("check_true(1, 'm')"),
        markdown("```{exercise} B\n:label: a\n```"), code("# BEGIN SOLUTION\n# END SOLUTION\n"),
    )
    with pytest.raises(ValueError) as err:
        convert_notebook(clash, "N")
    assert message(err) == "N, cell 4 (code): grade_id 'a__solution' is already used by cell 2"


def test_is_check_cell_exactly():
    assert is_check_cell(code(["x = 1\n", "check_true(x, 'm')"]))
    assert is_check_cell(code("check_value\t(1, 1)"))
    assert not is_check_cell(code("my_check_true(x)")) and not is_check_cell(code("check_truth(x)"))
    assert not is_check_cell(code("check_true(x)\n# BEGIN SOLUTION\n# END SOLUTION\n"))
    assert is_check_cell(code("check_true(x)\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n"))
    assert is_check_cell({"cell_type": "code", "source": 7}) is False
    assert not is_check_cell({"cell_type": "raw", "source": "check_true(1)"}) and not is_check_cell("check_true(1)")
    assert not is_check_cell({"cell_type": "code"})


def test_convert_file_exactly(tmp_path):
    nb = notebook(code("check_true(1, 'm')"))
    path = tmp_path / "exercises.ipynb"
    path.write_text(json.dumps(nb, indent=2, ensure_ascii=False), encoding="utf-8")  # indent 2, no final newline
    before = path.read_text(encoding="utf-8")
    assert convert_file(path, check=True) is True
    assert path.read_text(encoding="utf-8") == before
    assert convert_file(str(path)) is True
    assert path.read_text(encoding="utf-8") == json.dumps(convert_notebook(nb), indent=2, ensure_ascii=False)
    assert convert_file(path) is False and convert_file(path, check=True) is False
    path.write_text(json.dumps(notebook(markdown("Ünï ✓"))) + "\n", encoding="utf-8")
    assert convert_file(path) is True  # one line: rewritten with indent 1, final newline kept
    assert path.read_text(encoding="utf-8") == json.dumps(notebook(markdown("Ünï ✓")), indent=1, ensure_ascii=False) + "\n"


def test_notebooks_under_exactly(tmp_path):
    one = write(tmp_path / "a" / "exercises.ipynb", notebook())
    two = write(tmp_path / "b" / "exercises.ipynb", notebook())
    page = write(tmp_path / "a" / "page.ipynb", notebook())
    assert notebooks_under([page, tmp_path]) == [page, one, two]
    assert notebooks_under([]) == []
    with pytest.raises(FileNotFoundError) as err:
        notebooks_under([str(one), tmp_path / "gone"])
    assert message(err) == f"{tmp_path / 'gone'} does not exist"


def test_cli_help_texts(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")

    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit) as err:
            main([*args, "--help"])
        assert err.value.code == 0
        return " ".join(capsys.readouterr().out.split())

    shown = {
        (): [
            "usage: python -m companion.exercises [-h] {release,student-book,nbgrader-source,grade} ...",
            "Exercise notebooks: student release, student book, nbgrader format, grading.",
            "release write the student version of every exercises.ipynb under SRC to DEST",
            "student-book release the chapters and build the book with solutions hidden",
            "nbgrader-source give exercise notebooks their nbgrader metadata, in place",
            "grade autograde SUBMISSIONS/<student>/<chapter>/exercises.ipynb with nbgrader",
        ],
        ("release",): [
            "usage: python -m companion.exercises release [-h] SRC DEST",
            "SRC folder (or one .ipynb) with the instructor's notebooks",
            "DEST output folder (or .ipynb file)",
        ],
        ("nbgrader-source",): [
            "usage: python -m companion.exercises nbgrader-source [-h] [--check] [PATH ...]",
            "PATH notebooks or folders (default: chapters)",
            "--check change nothing; exit 1 if a notebook is not converted",
        ],
        ("grade",): [
            "usage: python -m companion.exercises grade [-h] [--root ROOT] [--out OUT] [--cell-timeout CELL_TIMEOUT] "
            "[--check-timeout CHECK_TIMEOUT] [--submission-timeout SUBMISSION_TIMEOUT] SUBMISSIONS",
            "SUBMISSIONS folder of submissions",
            "--root ROOT course repository with the instructor's chapters (default: .)",
            "--out OUT course folder of nbgrader (default: ROOT/_build/grades)",
            "--cell-timeout CELL_TIMEOUT seconds one cell may run (default: 120)",
            "--check-timeout CHECK_TIMEOUT seconds one check may take per input (default: 10)",
            "--submission-timeout SUBMISSION_TIMEOUT seconds one notebook may take in all (default: 900)",
        ],
    }
    for args, texts in shown.items():
        text = help_of(*args)
        for line in texts:
            assert f" {line} " in f" {text} ", (args, line)


def test_convert_details():
    nb = {"cells": [markdown("```{exercise} T\n:label: Ex_A-1\n```"), {"cell_type": "code", "source": ["check_true", "(x, 'm')"]}]}
    out = convert_notebook(nb)
    assert out["cells"][1]["metadata"] == {"nbgrader": {"grade": True, "grade_id": "Ex_A-1", "locked": True, "points": 1,
                                                        "schema_version": 3, "solution": False, "task": False}}
    assert is_check_cell(nb["cells"][1])  # the call is found in the joined lines


def _raw(path: Path, nb: dict) -> Path:
    """Write ``nb`` with its non-ASCII characters as UTF-8 bytes (not ``\\u`` escapes), as Jupyter does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def test_release_and_conversion_read_and_write_utf8_whatever_the_locale(tmp_path, ascii_locale):
    src = tmp_path / "chapters"
    nb = notebook(markdown("Größe — naïve"), code(f"def f(x):\n    # BEGIN SOLUTION\n    {SECRET}  # café\n    # END SOLUTION\n"))
    _raw(src / "01" / "exercises.ipynb", nb)
    _raw(src / "01" / "notes.ipynb", notebook(markdown("é"), code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n")))
    dest = tmp_path / "student"
    result = release(src, dest)
    assert result.skipped == [str(src / "01" / "notes.ipynb")]
    student, _ = release_notebook(nb)
    assert (dest / "01" / "exercises.ipynb").read_bytes() == (json.dumps(student, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    # the leak scan reads files as UTF-8: markers, and secret lines of text files and notebooks
    leaky = tmp_path / "leaky"
    (leaky / "page.md").parent.mkdir()
    (leaky / "page.md").write_bytes("Größe\n### BEGIN SOLUTION\n".encode("utf-8"))
    assert find_leaks(leaky) == [f"{leaky / 'page.md'}: line 2 holds a solution marker: ### BEGIN SOLUTION"]
    (leaky / "page.md").unlink()
    shown = code("f(1)")
    shown["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["Größe\n", f"{SECRET}\n"]}]
    _raw(leaky / "out.ipynb", notebook(markdown("é"), shown))
    assert find_leaks(leaky, {SECRET}) == [f"{leaky / 'out.ipynb'}: holds a line of a removed solution: {SECRET}"]

    # nbgrader_source writes the converted notebook as UTF-8
    path = _raw(tmp_path / "convert" / "exercises.ipynb", nb)
    assert convert_file(path) is True
    assert path.read_bytes() == (json.dumps(convert_notebook(nb), indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    assert convert_file(path, check=True) is False
