"""The review's analyses, run as :mod:`metaprop.review.protocol` says: the primary analysis (or
its fallback), the reproductions of published analyses, and the values a reader sees first."""

from __future__ import annotations

import numpy as np

from ..engine.pooling import pool
from ..engine.results import PoolResult
from ..errors import MetapropError
from .data import StudyData
from .protocol import FALLBACK, OUTCOMES, PRIMARY, Reproduction

__all__ = ["pool_primary", "pool_counts", "reproduce", "headline_values", "summary_values"]

def summary_values(res: PoolResult) -> tuple[float, float, float, float, float]:
    """(estimate, ci_lower, ci_upper, pi_lower, pi_upper) as proportions, for display.

    With one study there is nothing to pool: its own proportion and Clopper-Pearson interval, and
    no prediction interval (NaN). Otherwise the random-effects estimate and prediction interval.
    """
    if res.k == 1:
        return res.study_p[0], res.study_lower[0], res.study_upper[0], float("nan"), float("nan")
    est, lo, hi = res.back("random")
    pil, piu = res.pi_proportion()
    return est, lo, hi, pil, piu


def pool_counts(counts, **options) -> PoolResult:
    """Pool a frame from :meth:`StudyData.counts` with :func:`metaprop.pool` options."""
    return pool(counts["events"].to_numpy(int), counts["total"].to_numpy(int),
                list(counts["label"]), **options)


def pool_primary(counts) -> PoolResult:
    """The primary analysis (GLMM), or the PFT fallback when the GLMM has no finite estimate."""
    if len(counts) == 0:
        raise MetapropError("no studies report this outcome")
    x = counts["events"].to_numpy(int)
    n = counts["total"].to_numpy(int)
    if np.all(x == n) or np.all(x == 0):
        res = pool_counts(counts, **FALLBACK)
        note = ("GLMM not estimable: every study reports "
                f"{'100%' if np.all(x == n) else '0%'}; Freeman-Tukey random-effects analysis reported.")
        return _with_note(res, note)
    return pool_counts(counts, **PRIMARY)


def _with_note(res: PoolResult, note: str) -> PoolResult:
    from dataclasses import replace

    return replace(res, notes=(note,) + res.notes)


def reproduce(data: StudyData, rep: Reproduction) -> PoolResult | None:
    """Re-run a published analysis from ``data/``, or None when it cannot be rebuilt."""
    if rep.options is None:
        return None
    return pool_counts(data.counts(rep.outcome, rep.analysis_set), **rep.options)


def headline_values(outcome: str, counts, res: PoolResult | None) -> dict:
    """The numbers a reader sees first for one outcome, from counts already pooled (``res`` None: nothing pooled)."""
    out = {"outcome": outcome, "label": OUTCOMES[outcome], "k": len(counts),
           "events": int(counts["events"].sum()) if len(counts) else 0,
           "patients": int(counts["total"].sum()) if len(counts) else 0}
    if res is None:
        return out | {"result": None}
    est, lo, hi, pil, piu = summary_values(res)
    return out | {"result": res, "estimate": 100 * est, "ci_lower": 100 * lo, "ci_upper": 100 * hi,
                  "pi_lower": 100 * pil, "pi_upper": 100 * piu}
