"""``make bench`` (benchmarks/run.py) in its quick mode: every pair agrees and is reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")  # inside Inductor


@pytest.fixture(scope="module")
def run_module():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        import run  # benchmarks/run.py

        yield run
    finally:
        sys.path.remove(str(BENCH))


def test_quick_run_reports_every_case_and_keeps_the_rest_of_the_file(run_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "RESULTS.md"
    out.write_text(f"# head\n\n{run_module.BEGIN}\nold table\n{run_module.END}\n\n## Timings\nkept\n", encoding="utf8")
    # compiling every kernel takes minutes on a cold cache: test_compiled_kernel_row below compiles one
    assert run_module.main(["--quick", "--skip-compiled", "--device", "cpu", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf8")
    assert "old table" not in text and text.startswith("# head") and text.rstrip().endswith("kept")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    cases = {line.split(" | ")[0][2:] for line in rows}
    assert {c.name for c in run_module.CASES} | {"MLP step: hand backprop vs autograd"} <= cases
    # every pair was checked before it was timed: a kernel that disagrees with PyTorch is reported
    assert not [line for line in rows if "results differ" in line or "failed" in line or "not run" in line]
    assert "glibc malloc defaults" in text  # in-process: no restart with the malloc settings


def test_compiled_kernel_row(run_module) -> None:  # type: ignore[no-untyped-def]
    """One kernel with all three versions: formula and compiled agree with PyTorch, and the
    report gives both ratios and the compile time."""
    import torch

    case = next(c for c in run_module.CASES if c.name == "softmax")
    rows = run_module.run_device(torch.device("cpu"), 1, 0.01, True, lambda line: None, cases=[case], mlp=False)
    (row,) = rows
    assert row["note"] == "" and row["compile"] > 0
    assert all(float(row[key]) > 0 for key in ("ours", "torch", "formula", "ratio", "formula_ratio"))
    report = run_module.report({"cpu": rows}, run_module.argparse.Namespace(rounds=1, min_time=0.01), 0.0)
    line = next(line for line in report.splitlines() if line.startswith("| softmax |"))
    assert f"**{row['ratio']:.2f}**" in line and f"{row['formula_ratio']:.2f}" in line and f"{row['compile']:.1f} s" in line


def test_a_pair_that_disagrees_is_reported(run_module) -> None:  # type: ignore[no-untyped-def]
    import torch

    def make(size: object, device: torch.device, dtype: torch.dtype):  # type: ignore[no-untyped-def]
        ours, ref = (lambda: torch.ones(3)), (lambda: torch.zeros(3))
        return run_module.Pair(ours, ref, lambda: run_module._close(ours(), ref(), "value"))

    case = run_module.Case("broken", "kernel", [("3", 3)], make)
    rows = run_module.run_device(torch.device("cpu"), 1, 0.01, True, lambda line: None, cases=[case], mlp=False)
    assert len(rows) == 1 and str(rows[0]["note"]).startswith("results differ: value: max difference 1")
    report = run_module.report({"cpu": rows}, run_module.argparse.Namespace(rounds=1, min_time=0.01), 0.0)
    assert "broken at 3 (cpu): results differ" in report  # listed under the targets, not hidden


def test_notebook_times_adds_up_cells_by_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import notebook_times as nt
    finally:
        sys.path.remove(str(BENCH))
    log = (
        "============================= slowest durations =============================\n"
        "12.50s call     chapters/02_x/06_big.ipynb::Cell 3\n"
        "0.50s setup    chapters/02_x/06_big.ipynb::Cell 0\n"
        "61.00s call     chapters/03_y/01_slow.ipynb::Cell 1\n"
        "2.00s call     chapters/02_x/01_small.ipynb::Cell 2\n"
        "(3 durations < 0.005s hidden.)\n"
    )
    assert nt.notebook_seconds(log) == {"chapters/02_x/06_big.ipynb": 13.0, "chapters/03_y/01_slow.ipynb": 61.0,
                                        "chapters/02_x/01_small.ipynb": 2.0}
    path = tmp_path / "nb.log"
    path.write_text(log, encoding="utf8")
    assert nt.main([str(path)]) == 1  # one notebook is over the 60 s budget
    rows = capsys.readouterr().out.splitlines()
    assert rows[2] == "| `chapters/03_y/01_slow.ipynb` | 61.0 | **no** |"  # slowest first
    assert rows[-1] == "| all 3 notebooks, one after the other | 76.0 | |"
    path.write_text("no durations here\n", encoding="utf8")
    assert nt.main([str(path)]) == 1 and "no nbval durations" in capsys.readouterr().err
    assert nt.main([]) == 2
