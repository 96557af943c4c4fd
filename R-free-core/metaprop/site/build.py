"""Build steps around Quarto: the pre-render step (variables, results JSON)."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["write_variables", "pre_render"]


def write_variables(root, data) -> Path:
    """Write ``_variables.yml`` for ``{{< var ... >}}`` shortcodes (footer: versions and commit)."""
    from .pages import build_info

    b = build_info(root)
    text = (f"data:\n  version: \"{data.version}\"\n  date: \"{data.created}\"\n"
            f"metaprop:\n  version: \"{b['metaprop_version']}\"\n"
            f"build:\n  commit: \"{b['commit']}\"\n")
    path = Path(root) / "_variables.yml"
    path.write_text(text, encoding="utf-8")
    return path


def pre_render(root) -> int:
    """Validate, write variables and results/results.json; 0 on success, 1 on invalid data."""
    from ..errors import DataError
    from ..review.data import load
    from ..review.outputs import write_results

    root = Path(root)
    try:
        data = load(root / "data")
    except DataError as exc:
        print(f"metaprop: {exc}", file=sys.stderr)
        return 1
    write_variables(root, data)
    write_results(root / "data", root / "results", figures=False)
    return 0
