"""Checks for exercise notebooks, and the tool that makes their student release.

A check runs the student's code next to a reference, on several inputs including edge
cases, and either prints one line (``✓ softmax: correct on 6 inputs``) or raises
:class:`ExerciseFailure`, an ``AssertionError`` whose message is a short verdict naming the
fault: wrong type, shape, dtype, device or value (where, and by how much), a wrong gradient,
NaN or inf, an exception raised in the student's code (with its message and line), code
that is not implemented yet, or code that runs too long. In Jupyter the verdict is shown
alone, without a traceback; nbval and pytest still see a failing cell.

The checks are implemented in the private module ``companion/exercises/_checks.py``, which binds every name it
uses: reassigning an attribute of this module (``companion.exercises.compare = ...``)
cannot switch them off. That module's docstring lists what the checks resist (endless
loops, results that hang or break their inspection, any exception, floods of output) and
what they cannot (code in the same process that patches them on purpose), which is why
grading runs hidden tests with nbgrader.

The student release (``python -m companion.exercises release SRC DEST``) lives in
:mod:`companion.exercises.release`; the conversion of the exercise notebooks into nbgrader
source notebooks in :mod:`companion.exercises.nbgrader_source`; grading a folder of
submissions with nbgrader in :mod:`companion.exercises.grade`; the student-facing book
build in :mod:`companion.exercises.student_book`.
"""

from __future__ import annotations

from companion.exercises._checks import (
    MAX_OUTPUT_CHARS,
    MAX_OUTPUT_LINES,
    ExerciseFailure,
    check_function,
    check_gradient,
    check_property,
    check_true,
    check_value,
)
from companion.exercises._compare import Mismatch, compare, short_repr
from companion.exercises._timeout import CallTimedOut, call_with_timeout

__all__ = [
    "ExerciseFailure",
    "check_function",
    "check_gradient",
    "check_property",
    "check_true",
    "check_value",
]
