"""The Colab/Binder set-up cell (book/_ext/setup_cell.py): present everywhere, and it works.

The first test is ``python book/_ext/setup_cell.py --check``: every chapter notebook starts
with the cell made from the template and the repository in ``_config.yml``. The second runs
that cell as a launch button would, in a fresh virtual environment where ``companion`` is not
installed, against a local clone of this repository instead of the published URL (no
network): IPython's ``%pip`` must install ``companion`` from the clone and the cell's
``import companion`` must then find it there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _setup_cell_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "book" / "_ext" / "setup_cell.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setup_cell = _setup_cell_module()


def test_every_notebook_starts_with_the_current_cell() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url, branch = config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")
    source = setup_cell.cell_source(ROOT)
    assert f'"companion @ git+{url}@{branch}"' in source  # the cell follows _config.yml
    paths = setup_cell.notebooks(ROOT)
    assert len(paths) >= 20
    stale = [p.relative_to(ROOT).as_posix() for p in paths if setup_cell.sync(p, source, write=False)]
    assert stale == [], f"run `python book/_ext/setup_cell.py`: {stale}"
    assert setup_cell.main(["--check"]) == 0
    for path in paths:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = next(c for c in cells if c["cell_type"] == "code")
        assert "".join(first["source"]) == source, path
        assert first["metadata"]["tags"] == [setup_cell.TAG] and first["outputs"] == [], path


def test_the_check_notices_a_stale_cell(tmp_path: Path) -> None:
    """--check is not vacuous: a notebook whose cell names another repository is reported."""
    (tmp_path / "chapters" / "01_x").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    good = setup_cell.cell_source(tmp_path)
    nb = {"cells": [setup_cell._new_cell(good.replace("git+https://", "git+https://old."), False)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    path = tmp_path / "chapters" / "01_x" / "a.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert setup_cell.sync(path, good, write=False)
    assert setup_cell.sync(path, good, write=True) and not setup_cell.sync(path, good, write=False)


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


DRIVER = textwrap.dedent(
    """
    import importlib.util, sys
    if importlib.util.find_spec("companion") is not None:
        sys.exit("companion is importable before the cell ran: the test would prove nothing")
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    result = shell.run_cell(open(sys.argv[1], encoding="utf-8").read())
    result.raise_error()
    import companion
    print("COMPANION", companion.__file__)
    print("PREFIX", sys.prefix)
    """
)


def test_the_cell_installs_companion_in_a_fresh_environment(tmp_path: Path) -> None:
    """Fresh venv + local clone: the cell's %pip installs companion, and it imports from there."""
    clone = tmp_path / "clone"
    _git("clone", "--quiet", str(ROOT), str(clone), cwd=tmp_path)
    branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone)
    url, config_branch = setup_cell.repository(ROOT)
    code = setup_cell.cell_source(ROOT).replace(f"git+{url}@{config_branch}", f"git+file://{clone}@{branch}")
    assert f"git+file://{clone}@{branch}" in code
    (tmp_path / "cell.py").write_text(code, encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")

    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # torch, IPython, pip and setuptools come from this project's environment through PYTHONPATH,
    # which (unlike site-packages) ignores .pth files: the editable companion stays invisible.
    # No network: no dependencies, no index, and the build uses that setuptools
    # (PIP_NO_BUILD_ISOLATION=0 *disables* isolation: pip reads the variable as a negated flag).
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"], PIP_NO_DEPS="1", PIP_NO_INDEX="1",
               PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg")
    env.pop("PYTHONHOME", None)
    run = subprocess.run([str(python), str(tmp_path / "driver.py"), str(tmp_path / "cell.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if line.startswith(("COMPANION ", "PREFIX ")))
    installed = Path(lines["COMPANION"]).resolve()
    assert Path(lines["PREFIX"]).resolve() == venv.resolve()
    assert venv.resolve() in installed.parents, installed  # the fresh venv's copy, not the project's
    assert ROOT not in installed.parents and clone not in installed.parents


@pytest.mark.parametrize("url", ["http://example.org/x", "", None, "git@github.com:a/b"])
def test_repository_url_must_be_https(tmp_path: Path, url: object) -> None:
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({"repository": {"url": url, "branch": "main"}}), encoding="utf-8")
    with pytest.raises(ValueError, match="repository.url must be an https:// URL"):
        setup_cell.repository(tmp_path)
