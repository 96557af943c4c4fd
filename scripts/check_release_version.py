"""Fail unless the release tag (vX.Y.Z) equals the package version and CITATION.cff's version."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(tag: str) -> int:
    pkg = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    cff = str(yaml.safe_load((ROOT / "CITATION.cff").read_text())["version"])
    want = tag.removeprefix("v")
    if not (want == pkg == cff):
        print(f"tag {tag} vs pyproject {pkg} vs CITATION.cff {cff}: bump them together", file=sys.stderr)
        return 1
    print(f"{tag}: versions agree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
