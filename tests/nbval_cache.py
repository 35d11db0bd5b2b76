"""pytest plugin: what nbval executed, the book build need not execute again.

``make test`` runs every chapter notebook under nbval, then builds the book, whose MyST-NB
executes every notebook that its execution cache (``_build/.jupyter_cache``) does not hold.
That would run each notebook twice. With this plugin (``pytest -p tests.nbval_cache``), a
notebook all of whose code cells passed under nbval is stored in that cache with the outputs
nbval collected, exactly as ``book/_ext/parallel_execution.py`` stores the notebooks it runs,
so the book build renders it without running it again. A notebook with a failing, skipped or
deselected cell is not stored: the book build executes it and reports the error itself.
:func:`store` is also used by ``tests/test_exercise_notebooks.py`` for the instructor version
of each exercise notebook, which is exactly what the book shows.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Dict, Generator, Optional

import pytest

CACHE = Path(__file__).resolve().parents[1] / "_build" / ".jupyter_cache"

_outputs: Dict[str, Dict[int, list]] = {}
_counts: Dict[str, Dict[int, Optional[int]]] = {}
_bad: set = set()
_started: Dict[str, float] = {}


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "cell_num")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    if not _is_nbval_cell(item):
        return
    report = outcome.get_result()
    path = str(item.parent.fspath)
    _started.setdefault(path, time.perf_counter())
    if report.failed or report.skipped:
        _bad.add(path)
    elif report.when == "call":
        outs = list(getattr(item, "test_outputs", None) or [])
        _outputs.setdefault(path, {})[item.cell_num] = outs
        counts = [o.get("execution_count") for o in outs if o.get("output_type") == "execute_result"]
        _counts.setdefault(path, {})[item.cell_num] = counts[0] if counts else None


def store(nb: Any, path: str, seconds: float) -> None:
    """Put the executed notebook ``nb`` of ``path`` into the book's execution cache."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    for attempt in range(10):  # two pytest-xdist workers may write the SQLite cache at once
        try:
            cache = get_cache(str(CACHE))
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}), check_validity=False, overwrite=True
            )
            return
        except Exception as error:  # sqlite "database is locked": wait and retry
            if "locked" not in str(error) or attempt == 9:
                raise
            time.sleep(0.2 * (attempt + 1))


def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> None:
    if not _is_nbval_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    path = str(item.parent.fspath)  # the last cell of this notebook has run
    outputs = _outputs.pop(path, {})
    counts = _counts.pop(path, {})
    started = _started.pop(path, time.perf_counter())
    source = getattr(item.parent, "nb", None)
    if path in _bad or source is None:
        return
    nb = copy.deepcopy(source)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    if sorted(outputs) != list(range(len(code_cells))):
        return  # not every cell ran (deselected with -k, say): let the book build run it
    for number, cell in enumerate(code_cells):
        cell.outputs = outputs[number]
        cell.execution_count = counts.get(number) or number + 1
    store(nb, path, time.perf_counter() - started)
