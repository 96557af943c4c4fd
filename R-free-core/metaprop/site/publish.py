"""``results/``: every result as JSON/CSV (from :mod:`metaprop.review.outputs`) and every figure
as SVG and PNG, written into a temporary folder and moved into place only when all succeeded, so
a failure leaves nothing half-written. ``metaprop results`` and the site's build step call it."""

from __future__ import annotations

import json
import shutil
import tempfile
import textwrap
from pathlib import Path

from ..review.data import load
from ..review.outputs import analyse, swap_in, write_tables
from ..review.protocol import EGGER, OUTCOMES
from .figures import forest_alt_text, forest_plot, funnel_alt_text, funnel_plot, model_heterogeneity_label, save

__all__ = ["write_results"]


def write_results(data_dir="data", out_dir="results", figures: bool = True, key: str | None = None,
                  explorer: bool | None = None):
    """Write results.json, CSV tables and forest/funnel figures (SVG and PNG) to ``out_dir``,
    and with ``explorer`` (default: with ``figures``) the sensitivity explorer's
    ``explorer_<outcome>.json`` (:mod:`metaprop.review.explorer`).

    Files are written to a temporary folder and moved into place only when all succeeded.
    Returns ``(data, results)``, the analysis written; ``key`` (the build key) goes to
    ``build-key.txt``.
    """
    from .build import build_info

    data = load(data_dir)
    results = analyse(data)
    commit = build_info(Path(data_dir).resolve().parent)["commit"]
    explorer = figures if explorer is None else explorer
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".metaprop-", dir=out_dir.parent))
    try:
        write_tables(tmp, data, results, commit)
        alt = {}
        if figures:
            for o, h in results.primary.items():
                if h["result"] is not None:
                    bayes = results.headlines[o].bayes
                    het = (model_heterogeneity_label(bayes, results.glmm_heterogeneity.get(o))
                           if bayes is not None else None)
                    p = forest_plot(h["result"], title=OUTCOMES[o], bayes=bayes, heterogeneity=het)
                    save(p, tmp / f"forest_{o}.svg", tmp / f"forest_{o}.png")
                    compact = forest_plot(h["result"], title=OUTCOMES[o], bayes=bayes, heterogeneity=het,
                                          compact=True)
                    save(compact, tmp / f"forest_{o}_compact.svg")
                    alt[f"forest_{o}"] = forest_alt_text(h["result"], OUTCOMES[o].lower(), bayes, het)
            for rep, res in results.reproductions:
                if res is not None:
                    title = f"{OUTCOMES[rep.outcome]}: {rep.source} as published"
                    name = f"forest_{rep.source}_{rep.outcome}"
                    save(forest_plot(res, title=title), tmp / f"{name}.svg", tmp / f"{name}.png")
                    save(forest_plot(res, title=title, compact=True), tmp / f"{name}_compact.svg")
                    alt[name] = forest_alt_text(res, OUTCOMES[rep.outcome].lower())
            for o, fd in results.funnel.items():
                p = funnel_plot(fd, EGGER["sm"], title=textwrap.fill(f"{OUTCOMES[o]}: funnel plot", 40))
                save(p, tmp / f"funnel_{o}.svg", tmp / f"funnel_{o}.png")
                alt[f"funnel_{o}"] = funnel_alt_text(fd, "logit")
            (tmp / "alt_text.json").write_text(json.dumps(alt, indent=2, sort_keys=True) + "\n")
        if explorer:
            from ..review.explorer import explorer_all

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
