"""The student-facing edition of the book: released notebooks, solutions hidden, proof of it.

:func:`prepare` assembles a book source tree for ``dest`` (default ``_build/student``) in a
temporary folder beside it:

* copies ``book/``, ``chapters/`` and ``benchmarks/`` (when present) and the table of
  contents; the instructor's pages (:data:`INSTRUCTOR_PAGES`, e.g. ``book/instructor.md``,
  the grading workflow) are left out, with their entries in the table of contents. The
  course's package is *not* copied: the pages import the installed ``companion``, and the
  library code they show comes from ``companion.show_source``;
* writes every ``chapters/**/exercises.ipynb`` as its student release
  (:mod:`companion.exercises.release`), and releases every other notebook that holds
  anything to remove (solution markers, ``{solution}`` directives, instructor-only cells):
  these are the notebooks students open in JupyterLab;
* writes ``_config.yml`` from the course's one with sphinx-exercise's ``hide_solutions:
  true``, the exercise notebooks excluded from execution (their stubs raise
  ``NotImplementedError`` by design, so they are shown without outputs), and "(student
  edition)" added to the title;
* scans every file of the tree with :func:`companion.exercises.release.find_leaks`, and
  moves the tree into place only when no marker and no line of a removed solution is left.

On any failure (a broken notebook, a leak, or a failed build of the ``student-book`` command) nothing is left
at ``dest``. :func:`build` runs ``jupyter-book build dest`` (HTML in
``dest/_build/html``). Command line::

    python -m companion.exercises student-book [--root .] [--dest _build/student]
        [--toc _toc.yml] [--no-build] [--strict]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from companion.exercises.release import (
    EXERCISE_NOTEBOOK,
    _read_notebook,
    _staging,
    find_leaks,
    has_solution_content,
    release_notebook_file,
    secret_lines,
)

__all__ = ["COPIED", "INSTRUCTOR_PAGES", "build", "prepare", "student_config", "student_toc"]

#: Top-level entries copied into the student tree (those that exist).
COPIED = ("book", "chapters", "benchmarks")
#: Pages for instructors only, left out of the student book (paths without suffix).
INSTRUCTOR_PAGES = ("book/instructor",)
_IGNORE = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", "*.pyc", ".pytest_cache")

PathLike = Union[str, "os.PathLike[str]"]


def student_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return the student edition of a parsed ``_config.yml`` (the input is not modified).

    Examples
    --------
    >>> cfg = student_config({"title": "T", "sphinx": {"config": {"hide_solutions": False}}})
    >>> cfg["sphinx"]["config"]["hide_solutions"], cfg["execute"]["exclude_patterns"], cfg["title"]
    (True, ['**/exercises.ipynb'], 'T (student edition)')
    """
    import copy

    cfg = copy.deepcopy(config) if config else {}
    if cfg.get("title"):
        cfg["title"] = f"{cfg['title']} (student edition)"
    sphinx = cfg.setdefault("sphinx", {}) or {}
    cfg["sphinx"] = sphinx
    sphinx_config = sphinx.setdefault("config", {}) or {}
    sphinx["config"] = sphinx_config
    sphinx_config["hide_solutions"] = True
    execute = cfg.setdefault("execute", {}) or {}
    cfg["execute"] = execute
    patterns = list(execute.get("exclude_patterns") or [])
    pattern = f"**/{EXERCISE_NOTEBOOK}"
    if pattern not in patterns:
        patterns.append(pattern)
    execute["exclude_patterns"] = patterns
    return cfg


def student_toc(toc: Any) -> Any:
    """A parsed table of contents without the entries of :data:`INSTRUCTOR_PAGES`.

    Examples
    --------
    >>> toc = {"root": "book/intro", "parts": [{"chapters": [{"file": "book/api"}, {"file": "book/instructor"}]}]}
    >>> student_toc(toc)["parts"][0]["chapters"]
    [{'file': 'book/api'}]
    """
    if isinstance(toc, dict):
        return {k: student_toc(v) for k, v in toc.items()}
    if isinstance(toc, list):
        return [student_toc(v) for v in toc if not (isinstance(v, dict) and str(v.get("file", "")).split(".")[0] in INSTRUCTOR_PAGES)]
    return toc


def _replace(staged: Path, dest: Path) -> None:
    """Put the staged tree at ``dest``, keeping ``dest/_build`` (the build and its cache)."""
    if dest.exists():
        if (dest / "_build").is_dir() and not (staged / "_build").exists():
            os.replace(dest / "_build", staged / "_build")
        shutil.rmtree(dest)
    os.replace(staged, dest)


def prepare(root: PathLike = ".", dest: PathLike = "_build/student", toc: Optional[PathLike] = None) -> list[str]:
    """Assemble the student book's source tree, check it for leaks, put it at ``dest``.

    Parameters
    ----------
    root : path
        The course repository (holds ``_config.yml``, ``_toc.yml``, ``book/``, ``chapters/``).
    dest : path
        Output folder; replaced as a whole, except ``dest/_build`` (the build and its
        execution cache), which is kept.
    toc : path, optional
        A table of contents to use instead of ``root/_toc.yml`` (e.g. one chapter).

    Returns
    -------
    list of str
        Paths of the student exercise notebooks written.

    Raises
    ------
    FileNotFoundError
        If ``root`` lacks ``_config.yml``, the table of contents or ``chapters/``.
    ValueError
        If ``dest`` is ``root`` itself or holds it, or lies in a copied folder (``book/``,
        ``chapters/``, ``benchmarks/``), a notebook is malformed or has broken solution
        markers, or the scan finds a leak. Nothing is left at ``dest`` then.
    """
    import yaml

    root_path, dest_path = Path(root).resolve(), Path(dest).resolve()
    if dest_path == root_path or dest_path in root_path.parents:
        raise ValueError("dest must not be the course root itself, nor a folder above it")
    for name in COPIED:  # the tree would copy itself, folder inside folder, until paths grow too long
        if dest_path == root_path / name or root_path / name in dest_path.parents:
            raise ValueError(f"dest must not be inside {name}/ of the course root: it would be copied into itself")
    toc_path = Path(toc) if toc is not None else root_path / "_toc.yml"
    for needed in (root_path / "_config.yml", toc_path, root_path / "chapters"):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} not found (root={root_path})")
    staged = _staging(dest_path)
    try:
        for name in COPIED:
            source = root_path / name
            if source.is_dir():
                shutil.copytree(source, staged / name, ignore=_IGNORE)
        for page in INSTRUCTOR_PAGES:
            for found in staged.glob(page + ".*"):
                found.unlink()
        toc_data = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
        (staged / "_toc.yml").write_text(
            "# Generated by `python -m companion.exercises student-book`: the course's table of contents\n"
            "# without the instructor's pages.\n" + yaml.safe_dump(student_toc(toc_data), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        config = yaml.safe_load((root_path / "_config.yml").read_text(encoding="utf-8")) or {}
        header = (
            "# Generated by `python -m companion.exercises student-book` from the course's _config.yml:\n"
            "# hide_solutions is on and the exercise notebooks (student stubs) are not executed.\n"
            "# Edit the root _config.yml, not this file.\n"
        )
        text = yaml.safe_dump(student_config(config), sort_keys=False, allow_unicode=True, width=100)
        (staged / "_config.yml").write_text(header + text, encoding="utf-8")
        written: list[str] = []
        released = []
        for copy_path in sorted(staged.rglob("*.ipynb")):
            original = root_path / copy_path.relative_to(staged)
            nb, _ = _read_notebook(original)
            if copy_path.name == EXERCISE_NOTEBOOK or has_solution_content(nb):
                release_notebook_file(original, copy_path)
                released.append((original, nb))
                if copy_path.name == EXERCISE_NOTEBOOK:
                    written.append(str(dest_path / copy_path.relative_to(staged)))
        released_paths = {p for p, _ in released}
        public = [root_path / p.relative_to(staged) for p in staged.rglob("*") if p.is_file()]
        public = [p for p in public if p.exists() and p not in released_paths]
        leaks = find_leaks(staged, secret_lines([nb for _, nb in released], public))
        if leaks:
            listed = "\n  ".join(leak.replace(str(staged), str(dest_path)) for leak in leaks[:20])
            raise ValueError(f"{root_path}: the student book would leak solutions; nothing was written to {dest_path}:\n  {listed}")
        _replace(staged, dest_path)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(dest_path, ignore_errors=True)
        raise
    return written


def _jupyter_book() -> str:
    beside = Path(sys.executable).with_name("jupyter-book")
    if beside.exists():
        return str(beside)
    found = shutil.which("jupyter-book")
    if found is None:
        raise FileNotFoundError("jupyter-book not found; install the book requirements (pip install -e '.[book]')")
    return found


def build(dest: PathLike = "_build/student", extra_args: Sequence[str] = ()) -> int:
    """Run ``jupyter-book build dest`` and return its exit status (HTML in ``dest/_build/html``)."""
    cmd = [_jupyter_book(), "build", str(dest), *extra_args]
    env = dict(os.environ)
    env.setdefault("COMPANION_PROGRESS", "0")
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=env)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: prepare the student tree, then build it unless ``--no-build``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m companion.exercises student-book", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: Any) -> None:
    """The options of the ``student-book`` command."""
    parser.add_argument("--root", default=".", help="course repository (default: .)")
    parser.add_argument("--dest", default=os.path.join("_build", "student"), help="output folder (default: _build/student)")
    parser.add_argument("--toc", default=None, help="table of contents to use (default: ROOT/_toc.yml)")
    parser.add_argument("--no-build", action="store_true", help="only write the student tree and notebooks")
    parser.add_argument("--strict", action="store_true", help="build with -n -W --keep-going (warnings fail)")


def run(args: Any) -> int:
    """Run the ``student-book`` command with parsed arguments.

    A failed build removes ``dest``: no half-made student book is left behind.
    """
    written = prepare(args.root, args.dest, args.toc)
    for path in written:
        print(f"wrote {path}")
    print(f"student notebooks: {len(written)} under {Path(args.dest) / 'chapters'}")
    if args.no_build:
        return 0
    status = build(args.dest, ["-n", "-W", "--keep-going"] if args.strict else [])
    if status == 0:
        print(f"student book: {Path(args.dest) / '_build' / 'html' / 'index.html'}")
    else:
        shutil.rmtree(args.dest, ignore_errors=True)
        print(f"error: {args.dest}: the student book did not build (exit {status}); removed {args.dest}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
