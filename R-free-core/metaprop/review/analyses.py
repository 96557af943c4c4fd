"""The review's analyses, run as :mod:`metaprop.review.protocol` says: the primary analysis (or
its fallback), the reproductions of published analyses, and the values a reader sees first."""

from __future__ import annotations

from ..engine.measures import all_extreme
from ..engine.pooling import pool
from ..engine.results import PoolResult
from ..errors import MetapropError
from .data import StudyData
from .protocol import FALLBACK, METHODS, OUTCOMES, PRIMARY, Reproduction

__all__ = ["pool_primary", "pool_counts", "fit_method", "reproduce", "headline_values", "summary_values"]


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


def pool_primary(counts, **extra) -> PoolResult:
    """The primary analysis (GLMM), or the PFT fallback when the GLMM has no finite estimate
    (``extra``: further :func:`metaprop.pool` options for both, e.g. the coverage study's solver)."""
    if len(counts) == 0:
        raise MetapropError("no studies report this outcome")
    x = counts["events"].to_numpy(int)
    n = counts["total"].to_numpy(int)
    extreme = all_extreme(x, n)
    if extreme:
        res = pool_counts(counts, **(FALLBACK | extra))
        note = (f"GLMM not estimable: every study reports {extreme}; Freeman-Tukey random-effects "
                "analysis reported.")
        return _with_note(res, note)
    return pool_counts(counts, **(PRIMARY | extra))


def fit_method(name: str, counts, **extra):
    """Fit the named method of :data:`metaprop.review.protocol.METHODS` to a counts frame (columns
    ``events``, ``total``, ``label``): a :class:`~metaprop.engine.results.PoolResult` (GLMM with its
    fallback, as :func:`pool_primary`) or a :class:`~metaprop.engine.bayes.BayesResult`. ``extra``
    adds options (e.g. :data:`~metaprop.review.protocol.COVERAGE_SOLVER`)."""
    m = METHODS[name]
    if m.engine == "bayes":
        from ..engine.bayes import pool_bayes

        return pool_bayes(counts["events"].to_numpy(int), counts["total"].to_numpy(int), list(counts["label"]),
                          **(m.options | extra))
    if m.options == PRIMARY:
        return pool_primary(counts, **extra)
    return pool_counts(counts, **(m.options | extra))


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
