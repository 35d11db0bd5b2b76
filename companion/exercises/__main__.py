"""Command line of :mod:`companion.exercises`.

``python -m companion.exercises release SRC DEST``
    Write the student release of every ``exercises.ipynb`` under SRC to DEST (same
    relative paths); see :mod:`companion.exercises.release`.
``python -m companion.exercises student-book [--root .] [--dest _build/student] ...``
    Release the chapters and build the student-facing book with solutions hidden; see
    :mod:`companion.exercises.student_book`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from companion.exercises import student_book
from companion.exercises.release import release


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` and run the command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m companion.exercises", description="Exercise notebooks: student release and student book.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="write the student version of every exercises.ipynb under SRC to DEST")
    rel.add_argument("src", metavar="SRC", help="folder (or one .ipynb) with the instructor's notebooks")
    rel.add_argument("dest", metavar="DEST", help="output folder (or .ipynb file)")
    book = commands.add_parser("student-book", help="release the chapters and build the book with solutions hidden")
    student_book.add_arguments(book)
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
        return student_book.run(args)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
