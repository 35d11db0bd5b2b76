"""book/_ext/site_fixes.py: the book build's kernels run encrypted, so they log no TCP warning."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {ext!r})
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution
    if sys.argv[1] == "fixed":
        import site_fixes
        site_fixes.encrypt_kernel_transport()
        site_fixes.encrypt_kernel_transport()  # idempotent
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    result = single_nb_execution(nb, cwd={cwd!r}, allow_errors=False, timeout=60, meta_override=True)
    assert result.err is None, result.err
    print("OUTPUT", nb.cells[0].outputs[0]["text"].strip())
    """
)


@pytest.mark.parametrize("mode", ["plain", "fixed"])
def test_build_kernels_log_no_tcp_warning(tmp_path: Path, mode: str) -> None:
    zmq = pytest.importorskip("zmq")
    assert zmq.has("curve"), "pyzmq without CurveZMQ: the fix would be a no-op here"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(ext=str(ROOT / "book" / "_ext"), cwd=str(tmp_path)), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "OUTPUT 42" in run.stdout
    warned = "Kernel is running over TCP without encryption" in run.stderr
    assert warned == (mode == "plain"), run.stderr[-2000:]  # the warning is real, and the fix removes it
    assert "ERROR" not in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.py"]  # no socket files left behind
