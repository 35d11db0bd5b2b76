"""Mutation testing of the modules that have no PyTorch reference (``make mutate``).

For each module this builds a scratch copy of the package and of the module's own fast test
files under ``_build/mutate/<module>/``, writes a ``[tool.mutmut]`` section there, and runs
mutmut: it changes the module one small edit at a time (``<`` to ``<=``, ``+`` to ``-``, a
constant to another, a call's argument to ``None``, ...) and runs the tests that reach the
changed function. A mutant that no test notices ("survived") is a behaviour no test pins down.
The numbers go to ``_build/mutate/<module>/summary.txt`` and are printed; ``tests/MUTATION.md``
records them, with each surviving mutant explained.

Usage::

    python tests/mutate.py                 # every module, one after the other
    python tests/mutate.py train schedules # some of them
    python tests/mutate.py --list          # the modules and their test files
    python tests/mutate.py exercises --only 'companion.exercises._compare.*'  # part of one
    python tests/mutate.py exercises --rerun --only NAME --only NAME  # survivors, after new tests
    python tests/mutate.py exercises --work exercises-student-book --only 'companion.exercises.student_book.*'
                                           # in _build/mutate/exercises-student-book (default: the module's name)

Nothing here runs at import (pytest imports this file when it collects doctests).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ["tests/conftest.py", "tests/strategies.py"]
#: data files that a module's tests read, copied next to the tests
DATA = {"research": ["book/references.bib"]}

#: module -> (test files, mutant-name globs or None for every function of the module)
MODULES: dict[str, tuple[list[str], Optional[list[str]]]] = {
    "train": (["tests/test_train.py", "tests/test_train_reference.py"], None),
    "data": (["tests/test_data.py", "tests/test_data_geometry.py"], None),
    "schedules": (["tests/test_schedules.py", "tests/test_schedules_handover.py"], None),
    # nn outside the kernels: the checks, sgd_step and the gradient checker (the layers'
    # forward and backward are compared with torch.autograd in tests/test_nn.py)
    "nn": (
        ["tests/test_nn.py", "tests/test_gradcheck_nonfinite.py"],
        ["*.x_gradcheck__mutmut_*", "*.xǁGradcheckResultǁ*", "*.x_sgd_step__mutmut_*", "*.x__check_*", "*.x__activation_pair__mutmut_*"],
    ),
    # test_research_writing.py covers the writing helpers (added while this list was written;
    # files that do not exist are skipped by prepare())
    "research": (["tests/test_research.py", "tests/test_research_reference.py", "tests/test_research_writing.py",
                  "tests/test_research_review_exact.py", "tests/test_research_mutation.py",
                  "tests/test_research_related_work_exact.py"], None),
    # the fast tests of the checker and of the release/nbgrader/student-book tools; the slow
    # end-to-end ones (test_grading.py runs nbgrader, ~50 s; test_exercise_notebooks.py runs
    # every chapter's notebook, ~3 min) are left out, see tests/MUTATION.md
    "exercises": (
        [
            "tests/test_exercises.py",
            "tests/test_exercise_checker.py",
            "tests/test_release_leaks.py",
            "tests/test_exercises_mutation.py",
            "tests/test_release_mutation.py",
            "tests/test_grade_fast.py",
            "tests/test_student_book_fast.py",
        ],
        None,
    ),
}


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def prepare(module: str, work: Path, keep: bool = False) -> list[str]:
    """Lay out ``work`` (package, tests, pyproject with a [tool.mutmut] section); return the test files.

    With ``keep``, an earlier run's ``work`` (its mutants, verdicts and test timings) stays;
    the package and the tests are refreshed (copied with their times, so that mutmut
    regenerates the mutants of changed files only, and collects timings of new tests only).
    """
    tests, _ = MODULES[module]
    tests = [t for t in tests if (ROOT / t).exists()]
    if work.exists() and not keep:
        shutil.rmtree(work)
    (work / "tests").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "companion", work / "companion", ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    extra = DATA.get(module, [])
    for f in SUPPORT + tests + extra:
        (work / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, work / f)
    # mutmut runs each test many times in one process: hypothesis must not object to that,
    # every run must draw the same examples (no database, derandomized), and 10 examples a
    # property keep a run of the whole module within minutes on 2 cores
    with open(work / "tests" / "conftest.py", "a", encoding="utf-8") as f:
        f.write(
            "\n\nsettings.register_profile('mutmut', parent=settings.get_profile('default'), database=None, derandomize=True,\n"
            "    max_examples=10, suppress_health_check=list(HealthCheck))\nsettings.load_profile('mutmut')\n"
        )
    target = f"companion/{module}.py" if (ROOT / "companion" / f"{module}.py").exists() else f"companion/{module}/*"
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["companion"]\n'
        f"only_mutate = {_toml_list([target])}\n"
        f"pytest_add_cli_args = {_toml_list(['-p', 'no:cacheprovider', '-p', 'no:randomly', '-q'])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        "use_git_change_detection = false\n"
        f"also_copy = {_toml_list(sorted({str(Path(f).parent) for f in extra}))}\n"  # folders: mutmut copies files without parents
    )
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    return tests


def summarize(module: str, work: Path, python: str) -> str:
    """Count mutmut's verdicts for the module's selected mutants and write summary.txt."""
    _, globs = MODULES[module]
    out = subprocess.run([python, "-m", "mutmut", "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=True).stdout
    verdicts: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name and (globs is None or any(fnmatch(name, g) for g in globs)):
            verdicts[name] = status
    counts = Counter(verdicts.values())
    total = len(verdicts)
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("caught by type check", 0)
    survivors = sorted(k for k, v in verdicts.items() if v == "survived")
    lines = [
        f"module {module}: {total} mutants; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        f"killed (incl. timeouts) {killed} of {total} = {100 * killed / max(total, 1):.1f}%",
        "survivors (see them with: cd " + str(work.relative_to(ROOT)) + " && mutmut show NAME):",
        *[f"  {s}" for s in survivors],
        *[f"  {k}: {v}" for k, v in sorted(verdicts.items()) if v not in ("killed", "survived", "timeout")],
    ]
    text = "\n".join(lines) + "\n"
    (work / "summary.txt").write_text(text, encoding="utf-8")
    return text


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")), help="mutants tested at a time")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="keep the earlier run's mutants and verdicts, refresh package and tests, and test the mutants "
        "named by --only again (to check that new tests kill survivors)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="GLOB",
        help="mutmut mutant-name globs that replace the module's selection, e.g. "
        "'companion.exercises._compare.*' or a mutant's full name (repeatable; one module only)",
    )
    parser.add_argument(
        "--work",
        metavar="NAME",
        help="work folder _build/mutate/NAME (default: the module's name; one module only), so that runs of "
        "parts of one module do not share a folder",
    )
    args = parser.parse_args(argv)
    if args.list:
        for m, (tests, globs) in MODULES.items():
            print(f"{m}: {' '.join(tests)}" + (f"  (only {', '.join(globs)})" if globs else ""))
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {list(MODULES)}")
    if args.rerun and not args.only:
        parser.error("--rerun needs --only (the mutants to test again)")
    if args.only:
        if len(args.modules) != 1:
            parser.error("--only needs exactly one module")
        MODULES[args.modules[0]] = (MODULES[args.modules[0]][0], args.only)
    if args.work and len(args.modules) != 1:
        parser.error("--work needs exactly one module")
    python = sys.executable
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", COMPANION_PROGRESS="0", PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    status = 0
    for module in args.modules or list(MODULES):
        work = ROOT / "_build" / "mutate" / (args.work or module)
        prepare(module, work, keep=args.rerun)
        print(f"== mutmut on companion/{module} in {work.relative_to(ROOT)}", flush=True)
        _, globs = MODULES[module]
        cmd = [python, "-m", "mutmut", "run", "--max-children", str(args.jobs), *(globs or [])]
        rc = subprocess.run(cmd, cwd=work, env=env).returncode
        if rc != 0:
            print(f"mutmut run failed for {module} (exit {rc})", file=sys.stderr)
            status = rc
            continue
        print(summarize(module, work, python), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
