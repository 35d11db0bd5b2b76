"""Paths shared by the JupyterLab checks (``conftest.py`` and ``test_lab.py``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The chapter page opened in the lab (its library code is shown by a show_source cell).
CHAPTER_PAGE = "chapters/03_losses/02_cross_entropy_vs_mse.ipynb"
#: The student notebook opened in the lab.
EXERCISES = "chapters/03_losses/exercises.ipynb"
#: Where the screenshots go.
SCREENSHOTS = ROOT / "_build" / "screenshots" / "lab"
