"""``make bench`` (benchmarks/run.py) in its quick mode: every pair agrees and is reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


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
    assert run_module.main(["--quick", "--device", "cpu", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf8")
    assert "old table" not in text and text.startswith("# head") and text.rstrip().endswith("kept")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    cases = {line.split(" | ")[0][2:] for line in rows}
    assert {c.name for c in run_module.CASES} | {"MLP step: hand backprop vs autograd"} <= cases
    # every pair was checked before it was timed: a kernel that disagrees with PyTorch is reported
    assert not [line for line in rows if "results differ" in line or "failed" in line or "not run" in line]
    assert "glibc malloc defaults" in text  # in-process: no restart with the malloc settings


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
