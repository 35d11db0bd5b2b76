"""Command line of :mod:`companion.exercises`.

``python -m companion.exercises release SRC DEST``
    Write the student release of every ``exercises.ipynb`` under SRC to DEST (same
    relative paths); see :mod:`companion.exercises.release`.
``python -m companion.exercises student-book [--root .] [--dest _build/student] ...``
    Release the chapters and build the student-facing book with solutions hidden; see
    :mod:`companion.exercises.student_book`.
``python -m companion.exercises nbgrader-source [--check] [PATH ...]``
    Give the exercise notebooks (default: every ``exercises.ipynb`` under ``chapters``) the
    nbgrader metadata of their solution and check cells, in place; see
    :mod:`companion.exercises.nbgrader_source`.
``python -m companion.exercises grade SUBMISSIONS [--root .] [--out _build/grades]``
    Autograde ``SUBMISSIONS/<student>/<chapter>/exercises.ipynb`` with nbgrader and write
    ``grades.csv`` and feedback; see :mod:`companion.exercises.grade`.

Errors in the input (a malformed notebook, broken markers, a leak) print one line
``error: FILE: what is wrong`` and exit with status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from companion.exercises import student_book
from companion.exercises.release import release


def _nbgrader_source(args: argparse.Namespace) -> int:
    from companion.exercises.nbgrader_source import convert_file, notebooks_under

    files = notebooks_under(args.paths or ["chapters"])
    changed = [path for path in files if convert_file(path, check=args.check)]
    for path in changed:
        print(f"{'would convert' if args.check else 'converted'} {path}")
    print(f"{len(files) - len(changed)} of {len(files)} notebook{'s' if len(files) != 1 else ''} already in nbgrader format")
    if args.check and changed:
        print("error: run `python -m companion.exercises nbgrader-source` to convert them", file=sys.stderr)
        return 1
    return 0


def _grade(args: argparse.Namespace) -> int:
    from companion.exercises.grade import grade

    result = grade(args.submissions, root=args.root, out=args.out, cell_timeout=args.cell_timeout,
                   check_timeout=args.check_timeout, submission_timeout=args.submission_timeout)
    for line in result.problems:
        print(f"note: {line}", file=sys.stderr)
    print(f"graded {result.graded} submission{'s' if result.graded != 1 else ''}: {result.csv}")
    print(f"feedback: {result.feedback}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` and run the command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m companion.exercises", description="Exercise notebooks: student release, student book, nbgrader format, grading.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="write the student version of every exercises.ipynb under SRC to DEST")
    rel.add_argument("src", metavar="SRC", help="folder (or one .ipynb) with the instructor's notebooks")
    rel.add_argument("dest", metavar="DEST", help="output folder (or .ipynb file)")
    book = commands.add_parser("student-book", help="release the chapters and build the book with solutions hidden")
    student_book.add_arguments(book)
    source = commands.add_parser("nbgrader-source", help="give exercise notebooks their nbgrader metadata, in place")
    source.add_argument("paths", nargs="*", metavar="PATH", help="notebooks or folders (default: chapters)")
    source.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not converted")
    grading = commands.add_parser("grade", help="autograde SUBMISSIONS/<student>/<chapter>/exercises.ipynb with nbgrader")
    grading.add_argument("submissions", metavar="SUBMISSIONS", help="folder of submissions")
    grading.add_argument("--root", default=".", help="course repository with the instructor's chapters (default: .)")
    grading.add_argument("--out", default=None, help="course folder of nbgrader (default: ROOT/_build/grades)")
    grading.add_argument("--cell-timeout", type=int, default=120, help="seconds one cell may run (default: 120)")
    grading.add_argument("--check-timeout", type=float, default=10.0, help="seconds one check may take per input (default: 10)")
    grading.add_argument("--submission-timeout", type=int, default=900, help="seconds one notebook may take in all (default: 900)")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            result = release(args.src, args.dest)
            for report in result.reports:
                print(f"wrote {report.destination} ({report.summary()})")
            for path in result.skipped:
                print(f"note: {path} has solution markers but is not named exercises.ipynb: not released", file=sys.stderr)
            print(f"released {len(result.reports)} notebook{'s' if len(result.reports) != 1 else ''} from {args.src} to {args.dest}")
            return 0
        if args.command == "nbgrader-source":
            return _nbgrader_source(args)
        if args.command == "grade":
            return _grade(args)
        return student_book.run(args)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
