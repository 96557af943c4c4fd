"""The build, read top to bottom: data -> analyses -> outputs -> figures -> explorer.

::

    data/  --load, validate-->  StudyData                     (review.data, review.validate)
           --analyse-->         ReviewResults                 (review.outputs.analyse)
           --write_tables-->    results/*.json, *.csv, README (review.outputs, review.dictionary)
           --draw_figures-->    results/*.svg, *.png, alt text (site.figures)
           --explorer_all-->    results/explorer_*.json        (review.explorer)
           --load_site-->       the pages' Site                (site.pages; every page function)

:func:`write_results` writes ``results/`` into a temporary folder and swaps it in only when every
step succeeded, so a failure leaves nothing half-written. :func:`load_build` keeps the analysis
in ``build/cache/`` under a key made from the commit and the bytes of ``data/`` and of this
package, so that the pre-render step (:func:`pre_render`, run by ``quarto render``) computes it
once and every page loads it; a page run without it computes and stores it itself.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

from . import __version__
from .provenance import build_info
from .review.data import StudyData, load
from .review.outputs import ReviewResults, analyse, swap_in, write_tables

__all__ = ["build_key", "build_info", "write_results", "load_build", "load_site", "pre_render"]

_CORE = Path(__file__).resolve().parent


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


def write_results(data_dir="data", out_dir="results", figures: bool = True, key: str | None = None,
                  explorer: bool | None = None) -> tuple[StudyData, ReviewResults]:
    """The pipeline: load and validate ``data_dir``, analyse, write results.json, the CSV tables
    and their dictionary, the figures (SVG and PNG, with ``figures``) and the explorer's
    ``explorer_<outcome>.json`` (with ``explorer``, default: with ``figures``) to ``out_dir``.

    Files are written to a temporary folder and moved into place only when all succeeded.
    Returns ``(data, results)``; ``key`` (the build key) goes to ``build-key.txt``.
    """
    data = load(data_dir)
    results = analyse(data)
    commit = build_info(Path(data_dir).resolve().parent)["commit"]
    explorer = figures if explorer is None else explorer
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".metaprop-", dir=out_dir.parent))
    try:
        write_tables(tmp, data, results, commit)
        if figures:  # plotnine and matplotlib: only when figures are drawn
            from .site.figures import draw_figures

            alt = draw_figures(tmp, results, data)
            (tmp / "alt_text.json").write_text(json.dumps(alt, indent=2, sort_keys=True) + "\n")
        if explorer:
            from .review.explorer import explorer_all

            for o, content in explorer_all(data).items():
                payload = json.dumps(content, sort_keys=True, separators=(",", ":"))
                (tmp / f"explorer_{o}.json").write_text(payload + "\n")
        if key is not None:
            (tmp / "build-key.txt").write_text(key + "\n")
        # readable by everyone, as any published folder (mkdtemp made it 0700)
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        swap_in(tmp, out_dir)
        return data, results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_build(root=".", data_dir=None) -> tuple[StudyData, ReviewResults]:
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
    data, results = write_results(data_dir, root / "results", figures=True, key=key)
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob("analysis-*.pkl"):
        old.unlink()
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump((data, results), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return data, results


def load_site(data_dir="data"):
    """What every Quarto page starts with: the :class:`metaprop.site.pages.Site` of this build
    (``data_dir``'s parent is the project's root)."""
    from .site.context import Build
    from .site.pages import Site

    root = Path(data_dir).resolve().parent
    data, results = load_build(root, data_dir)
    return Site(Build(root, data, results))


def pre_render(root) -> int:
    """Quarto's pre-render step: validate, write the Quarto metadata, ``results/`` and the build
    cache; 0 on success, 1 on invalid data."""
    from .errors import DataError
    from .site.metadata import write_citation_metadata, write_variables

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
