"""The set-up cell that opens every notebook, made from one template and ``_config.yml``.

A notebook opened from a launch button (Colab, Binder) runs where ``companion`` is not
installed. Each notebook therefore starts with the same short cell: import ``companion`` and,
where that fails, install it from the repository named in ``_config.yml``
(``repository.url`` and ``repository.branch``). The cell is tagged ``remove-cell``: the website
does not show it. The template lives here only; run

    python book/_ext/setup_cell.py           # write the cell into every notebook
    python book/_ext/setup_cell.py --check   # exit 1 if a notebook's cell is missing or stale

after changing the repository URL (``tests/test_setup_cell.py`` runs the check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TAG = "remove-cell"
MARKER = "# Set-up for Colab and Binder"

TEMPLATE = """\
# Set-up for Colab and Binder: install the course's package where it is missing.
try:
    import companion
except ModuleNotFoundError:
    %pip install --quiet "companion @ git+{url}@{branch}"
    import companion"""


def repository(root: Path = ROOT) -> tuple[str, str]:
    """``(url, branch)`` of ``repository`` in ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch", "main")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"_config.yml: repository.url must be an https:// URL, got {url!r}")
    return url.rstrip("/"), str(branch)


def cell_source(root: Path = ROOT) -> str:
    """The set-up cell's code for this repository."""
    url, branch = repository(root)
    return TEMPLATE.format(url=url, branch=branch)


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook."""
    return sorted(p for p in (root / "chapters").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _is_setup(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "".join(cell.get("source", [])).startswith(MARKER)


def _new_cell(source: str, with_id: bool) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        **({"id": "colab-setup"} if with_id else {}),
        "metadata": {"tags": [TAG]},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def sync(path: Path, source: str, write: bool) -> bool:
    """Make the first code cell of ``path`` the set-up cell; return whether it changed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    kept = [c for c in cells if not _is_setup(c)]
    first_code = next((i for i, c in enumerate(kept) if c.get("cell_type") == "code"), len(kept))
    with_id = nb.get("nbformat_minor", 0) >= 5
    new = kept[:first_code] + [_new_cell(source, with_id)] + kept[first_code:]
    changed = new != cells
    if changed and write:
        nb["cells"] = new
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale notebooks, change nothing")
    args = parser.parse_args(argv)
    source = cell_source()
    stale = [p for p in notebooks() if sync(p, source, write=not args.check)]
    for p in stale:
        print(f"{'stale' if args.check else 'updated'}: {p.relative_to(ROOT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
