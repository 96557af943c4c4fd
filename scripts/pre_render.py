"""Quarto pre-render step: validate data/, write _variables.yml (versions, commit) and results/results.json.

Quarto runs it before rendering (`project: pre-render:` in _quarto.yml). A data error stops the
build here, with located messages, before any page is rendered.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "R-free-core"))

from metaprop.pipeline import pre_render  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(pre_render(ROOT))
