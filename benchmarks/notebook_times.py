"""Per-notebook execution times from the log of ``make test-notebooks``, as a Markdown table.

``make test-notebooks`` runs nbval with ``--durations=0``, which prints the time of every
cell; this script adds them up by notebook (kernel start-up is not included) and prints the
table that ``benchmarks/RESULTS.md`` holds, slowest first, with the 60 s budget checked.

Usage::

    make test-notebooks | tee notebooks.log
    python benchmarks/notebook_times.py notebooks.log
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

BUDGET_S = 60.0
# "12.34s call     chapters/02_optimization/06_large_batch.ipynb::Cell 7"
LINE = re.compile(r"^\s*([0-9.]+)s\s+(call|setup|teardown)\s+(\S+\.ipynb)::")


def notebook_seconds(log: str) -> Dict[str, float]:
    """Seconds per notebook: the sum of its cells' setup, call and teardown times."""
    totals: Dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = LINE.match(line)
        if match:
            totals[match.group(3)] += float(match.group(1))
    return dict(totals)


def table(totals: Dict[str, float]) -> List[str]:
    rows = ["| notebook | seconds | under 60 s |", "|---|---:|---|"]
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        rows.append(f"| `{name}` | {seconds:.1f} | {'yes' if seconds < BUDGET_S else '**no**'} |")
    rows.append(f"| all {len(totals)} notebooks, one after the other | {sum(totals.values()):.1f} | |")
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    totals = notebook_seconds(Path(args[0]).read_text(encoding="utf8", errors="replace"))
    if not totals:
        print(f"no nbval durations in {args[0]} (was it run with --durations=0?)", file=sys.stderr)
        return 1
    print("\n".join(table(totals)))
    return 0 if all(s < BUDGET_S for s in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
