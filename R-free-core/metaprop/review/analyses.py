"""The review's analyses: the primary method, the published analyses to reproduce, and their runs.

This is the one place that says *how* the site analyses ``data/``; pages and ``metaprop results``
call these functions and never choose methods themselves.

Primary method: random-intercept logistic model (GLMM, ``sm="PLOGIT"``, ML), R meta's default for
proportions, recommended for small studies with proportions near 0 or 1 because it uses the exact
binomial likelihood and needs no continuity correction (Stijnen et al. 2010; Schwarzer et al.
2019). When every study has 100% (or 0%) events the GLMM has no finite estimate; the
Freeman-Tukey (PFT) random-effects analysis is then reported instead, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.pooling import pool
from ..engine.results import PoolResult
from ..errors import MetapropError
from .data import OUTCOMES, StudyData

__all__ = ["PRIMARY", "FALLBACK", "REPRODUCTIONS", "Reproduction", "pool_primary", "pool_counts",
           "reproduce", "headline_values", "summary_values"]

PRIMARY = {"sm": "PLOGIT", "method": "GLMM", "method_tau": "ML"}
FALLBACK = {"sm": "PFT", "method": "Inverse", "method_tau": "REML"}


@dataclass(frozen=True, slots=True)
class Reproduction:
    """A published pooled result and, where known, the analysis that rebuilds it from ``data/``."""

    source: str
    outcome: str
    analysis_set: str | None  # rows of analysis_sets.csv, or None when the study list is unknown
    options: dict | None  # pool() options that reproduce it, or None
    why_not: str  # when options is None: what is missing


REPRODUCTIONS = (
    Reproduction("hernandez2018", "weaned", "hernandez2018",
                 {"sm": "PRAW", "method": "Inverse", "method_tau": "DL", "convention": "metafor",
                  "prediction_df": "z"},
                 ""),
    Reproduction("hernandez2018", "alive_12mo", None, None,
                 "Only herweg2007 (10/10, derived) and the retracted nakajima2013 (21/26, derived from a "
                 "Kaplan-Meier percentage) report 12-month survival in the public abstracts; the other "
                 "studies' 12-month counts are not public, so the published estimate cannot be rebuilt."),
    Reproduction("alshakarchi2024", "weaned", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified. "
                 "The shapes of its confidence intervals fit an arcsine (PAS) analysis."),
    Reproduction("alshakarchi2024", "discharged_alive", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified."),
    Reproduction("alshakarchi2024", "alive_12mo", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified."),
    Reproduction("alshakarchi2023_abstract", "weaned", None, None,
                 "Congress abstract without a study list; its intervals fit a Freeman-Tukey (PFT) analysis."),
    Reproduction("alshakarchi2023_abstract", "discharged_alive", None, None,
                 "Congress abstract without a study list."),
    Reproduction("alshakarchi2023_abstract", "alive_12mo", None, None,
                 "Congress abstract without a study list."),
    Reproduction("alshakarchi2023_abstract", "alive_end_followup", None, None,
                 "Congress abstract without a study list; outcome not defined in data/."),
)


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
