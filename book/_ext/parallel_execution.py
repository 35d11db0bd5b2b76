"""Execute the book's notebooks several at a time before Sphinx reads them.

With ``execute_notebooks: cache`` MyST-NB runs each notebook that is not in the jupyter-cache
when it reads it, one after the other. This extension runs first (Sphinx's
``env-before-read-docs`` event): it finds the notebooks about to be read that the cache does
not hold, executes them in ``BOOK_JOBS`` worker processes (default: the number of CPUs, at
most 4) exactly as MyST-NB would (same working directory, timeout and error policy), and
stores each one that succeeded in MyST-NB's cache (``_build/.jupyter_cache``). MyST-NB then finds them there. A notebook that
fails is not stored, so MyST-NB runs it again itself and reports the error as it always does:
this extension changes how long a cold build takes, never what it produces.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import nbformat
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _execute(path: str, timeout: Optional[int], allow_errors: bool) -> Tuple[str, Optional[Any], float, Optional[str]]:
    """Run one notebook in its own folder; returns (path, executed notebook or None, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution
    from site_fixes import encrypt_kernel_transport

    encrypt_kernel_transport()  # a worker started by "spawn" (not fork) does not inherit the build's patch

    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        notebook, cwd=str(Path(path).parent), allow_errors=allow_errors, timeout=timeout, meta_override=True
    )
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"
    return path, (notebook if result.err is None else None), result.time, error


def _jobs(count: int) -> int:
    value = os.environ.get("BOOK_JOBS", "")
    jobs = int(value) if value.isdigit() and int(value) > 0 else min(os.cpu_count() or 1, 4)
    return max(1, min(jobs, count))


def execute_uncached(app: Sphinx, env: BuildEnvironment, docnames: List[str]) -> None:
    config = getattr(env, "mystnb_config", None)  # MyST-NB's resolved settings (cache path included)
    if config is None or config.execution_mode != "cache" or config.execution_in_temp or not docnames:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(config.execution_cache_path)
    excluded = set(config.execution_excludepatterns or [])
    todo: List[str] = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb" or any(path.match(pattern) for pattern in excluded):
            continue
        try:
            cache.match_cache_notebook(nbformat.read(str(path), as_version=4))
        except KeyError:
            todo.append(str(path))
    jobs = _jobs(len(todo))
    if len(todo) < 2 or jobs < 2:
        return  # nothing to gain: MyST-NB executes it as usual
    logger.info(f"executing {len(todo)} notebooks in {jobs} processes before reading them")
    start = time.perf_counter()
    timeout = config.execution_timeout if config.execution_timeout and config.execution_timeout > 0 else None
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute, path, timeout, bool(config.execution_allow_errors)) for path in todo]
        for future in futures:
            path, notebook, seconds, error = future.result()
            if notebook is None:
                logger.info(f"{path}: failed in the parallel run ({error}); MyST-NB will run it again")
                continue
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            logger.info(f"{path}: executed in {seconds:.1f} s")
    logger.info(f"parallel execution took {time.perf_counter() - start:.1f} s")


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("env-before-read-docs", execute_uncached)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
