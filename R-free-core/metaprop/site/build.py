"""Build steps around Quarto: compute every analysis once per build, and the pre-render step.

The pre-render step (``make prerender``, run by ``quarto render``) validates ``data/``, runs every
analysis once, writes ``results/`` (JSON, CSV, SVG/PNG figures: the pages show these SVGs) and
stores the analysis in ``build/cache/`` under a key made from the bytes of ``data/`` and of the
core's own source. Every page then loads that instead of recomputing it; a page run without the
pre-render step (e.g. by the tests) computes and stores it itself, so the first page pays once.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import yaml

from .. import __version__

__all__ = ["build_key", "build_info", "load_build", "write_variables", "write_citation_metadata", "pre_render"]

_CORE = Path(__file__).resolve().parents[1]


def build_key(data_dir) -> str:
    """SHA-256 of the commit, and of the names and bytes of every file in ``data_dir`` and of the core's
    source files."""
    # the commit too: results/ names the commit it was built from
    h = hashlib.sha256(__version__.encode() + build_info(Path(data_dir).resolve().parent)["commit"].encode())
    for base, files in ((Path(data_dir), sorted(p for p in Path(data_dir).rglob("*") if p.is_file())),
                        (_CORE, sorted(_CORE.rglob("*.py")))):
        for p in files:
            h.update(str(p.relative_to(base)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def build_info(root=".") -> dict:
    """Version, data version and date, and the commit the site is built from."""
    commit = os.environ.get("GITHUB_SHA", "")
    if not commit:
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                    timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
    return {"metaprop_version": __version__, "commit": commit[:12] or "unknown"}


def load_build(root=".", data_dir=None):
    """``(data, results)`` of this build: from ``build/cache/`` when the key matches, else computed.

    Computing also writes ``results/`` (with figures) so that the pages find the SVGs they show.
    The cache holds only what this code computed from validated data (never contributed files).
    """
    root = Path(root)
    data_dir = Path(data_dir) if data_dir is not None else root / "data"
    key = build_key(data_dir)
    cache = root / "build" / "cache" / f"analysis-{key}.pkl"
    stamp = root / "results" / "build-key.txt"
    if cache.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        with cache.open("rb") as fh:
            return pickle.load(fh)
    from .publish import write_results  # plotnine and matplotlib: only when figures are drawn

    data, results = write_results(data_dir, root / "results", figures=True, key=key)
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob("analysis-*.pkl"):
        old.unlink()
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump((data, results), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return data, results


def write_variables(root, data) -> Path:
    """Write ``_variables.yml`` for ``{{< var ... >}}`` shortcodes (footer: versions and commit).

    Written with a YAML library, so that no value can add a key of its own.
    """

    b = build_info(root)
    doc = {"data": {"version": str(data.version), "date": str(data.created)},
           "metaprop": {"version": b["metaprop_version"]}, "build": {"commit": b["commit"]}}
    path = Path(root) / "_variables.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=True, allow_unicode=False), encoding="utf-8")
    return path


def write_citation_metadata(root, data) -> Path:
    """Write ``_citation.yml``: Quarto ``citation`` metadata from ``CITATION.cff`` and the data's date.

    Authors are CSL literals (a group name is not a person's given and family name), and the date
    is the data version's, so the "cite as" box reads "CRT living meta-analysis contributors
    (2026)" rather than "contributors, CRT. n.d.".
    """
    from .citation import read_cff

    cff = read_cff(root)
    authors = [{"name": {"literal": a["name"]}} if "name" in a else
               {"name": {"family": a.get("family-names", ""), "given": a.get("given-names", "")}}
               for a in cff.get("authors", [])]
    citation = {"type": "dataset", "title": str(cff["title"]), "author": authors,
                "issued": str(data.created), "version": str(cff["version"]), "note": f"Data version {data.version}",
                "publisher": "GitHub"}
    if cff.get("doi"):
        citation["doi"] = str(cff["doi"])
    path = Path(root) / "_citation.yml"
    path.write_text(yaml.safe_dump({"citation": citation}, sort_keys=True), encoding="utf-8")
    return path


def pre_render(root) -> int:
    """Validate, write variables, results/ and the build cache; 0 on success, 1 on invalid data."""
    from ..errors import DataError
    from ..review.data import load

    root = Path(root)
    try:
        data = load(root / "data")
    except DataError as exc:
        print(f"metaprop: {exc}", file=sys.stderr)
        return 1
    write_variables(root, data)
    write_citation_metadata(root, data)
    load_build(root)
    return 0
