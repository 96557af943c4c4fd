"""Every "what if" a reader can ask in the sensitivity explorer, computed at build time.

For each outcome, the candidate studies are every study with a count for it (primary, retracted
and broader-population studies alike); every subset of at least two of them is pooled by each
method of :data:`EXPLORER_METHODS`, with the same engine calls as the static pages, so the
explorer's numbers are the pages' numbers for the same studies. One JSON per outcome holds the
studies and, keyed by a bit mask of the studies included (bit i = candidate i, in the order
listed), each method's estimate, interval, range for a new study and tau. The browser only
looks numbers up; it computes nothing.
"""

from __future__ import annotations

import itertools
import math
import warnings

from ..engine.bayes import pool_bayes
from ..engine.study_ci import study_ci
from ..errors import MetapropError
from .analyses import pool_counts, pool_primary
from .data import StudyData
from .headline import not_pooled_reasons
from .protocol import BAYES, HEADLINE, OUTCOMES

__all__ = ["EXPLORER_METHODS", "explorer_data", "explorer_all", "subset_result"]

#: method key -> (label shown, what the numbers are)
EXPLORER_METHODS = {
    "Bayes": ("Bayesian model (the headline)", "mean proportion, 95% credible interval"),
    "GLMM": ("GLMM, R meta's default", "95% confidence interval"),
    "IV-logit-HK": ("Inverse-variance logit, REML, Hartung-Knapp", "95% confidence interval"),
    "PFT": ("Freeman-Tukey, REML", "95% confidence interval"),
}
_IV = {"method": "Inverse", "method_tau": "REML", "method_tau_ci": ""}


def _r(v, digits=6):
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def subset_result(counts, method: str) -> dict:
    """One method on one set of studies (a :meth:`StudyData.counts` frame): the numbers the
    explorer shows, as fractions, rounded to 6 decimals; ``note`` says what differs from the
    site's own rules (the headline does not pool fewer than 3 studies or every study at 100%)."""
    x = counts["events"].to_numpy(int)
    n = counts["total"].to_numpy(int)
    note = []
    reasons = not_pooled_reasons(x, n)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "Bayes":
                b = pool_bayes(x, n, list(counts["label"]), **BAYES)
                est, lo, hi = b.p_mean.median, b.p_mean.lower, b.p_mean.upper
                pil, piu, tau = b.p_new.lower, b.p_new.upper, b.tau.median
                if "too_few" in reasons:
                    note.append(f"fewer than {HEADLINE['min_studies']} studies: the site's headline would not pool")
                if "all_extreme" in reasons:
                    note.append("every study at 100% (or 0%): the estimate is set by the prior; the site's "
                                "headline would not pool")
            else:
                if method == "GLMM":
                    res = pool_primary(counts)
                    if res.method != "GLMM":
                        note.append("GLMM not estimable (every study at 100% or 0%): Freeman-Tukey shown, "
                                    "as on the outcome pages")
                elif method == "IV-logit-HK":
                    res = pool_counts(counts, sm="PLOGIT", hakn=True, **_IV)
                elif method == "PFT":
                    res = pool_counts(counts, sm="PFT", **_IV)
                else:
                    raise MetapropError(f"unknown explorer method {method!r}")
                est, lo, hi = res.back("random")
                pil, piu = res.pi_proportion()
                tau = res.tau
    except MetapropError as exc:
        return {"k": len(x), "note": str(exc)}
    return {"k": len(x), "events": int(x.sum()), "patients": int(n.sum()),
            "est": _r(est), "lo": _r(lo), "hi": _r(hi), "pil": _r(pil), "piu": _r(piu), "tau": _r(tau),
            **({"note": "; ".join(note)} if note else {})}


def _subset_row(sub) -> dict:
    return {m: subset_result(sub, m) for m in EXPLORER_METHODS}


def explorer_all(data: StudyData, processes: int | None = None) -> dict[str, dict]:
    """:func:`explorer_data` for every outcome, the subsets shared among ``processes`` worker
    processes (default: up to 2, the cores CI machines have; 1 computes in this process). The
    result does not depend on the number of processes."""
    import multiprocessing
    import os

    plans = {o: _plan(data, o) for o in OUTCOMES}
    tasks = [(o, mask, sub) for o, (_, subsets) in plans.items() for mask, sub in subsets]
    processes = processes or min(2, os.cpu_count() or 1)
    if processes > 1 and len(tasks) > 20:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = pool.map(_subset_row, [t[2] for t in tasks], chunksize=8)
    else:
        rows = [_subset_row(t[2]) for t in tasks]
    out = {o: head | {"results": {}} for o, (head, _) in plans.items()}
    for (o, mask, _), row in zip(tasks, rows, strict=True):
        out[o]["results"][str(mask)] = row
    return out


def explorer_data(data: StudyData, outcome: str) -> dict:
    """The explorer's JSON for one outcome (see the module docstring), computed in this process."""
    head, subsets = _plan(data, outcome)
    return head | {"results": {str(mask): _subset_row(sub) for mask, sub in subsets}}


def _plan(data: StudyData, outcome: str):
    """The outcome's candidate studies and header, and every (mask, counts) subset to pool."""
    cand = data.counts(outcome, "all").reset_index(drop=True)
    x = cand["events"].to_numpy(int)
    n = cand["total"].to_numpy(int)
    p, lo, hi = study_ci(x, n, "CP")
    studies = [{"id": r["study_id"], "label": r["label"], "year": int(r["year"]), "events": int(r["events"]),
                "total": int(r["total"]), "derivation": r["derivation"], "inclusion": r["inclusion"],
                "retracted": bool(r["retracted"]), "p": _r(p[i]), "lo": _r(lo[i]), "hi": _r(hi[i])}
               for i, r in cand.iterrows()]
    primary = sum(1 << i for i, r in cand.iterrows() if r["inclusion"] == "primary")
    subsets = [(sum(1 << i for i in combo), cand.iloc[list(combo)])
               for size in range(2, len(cand) + 1) for combo in itertools.combinations(range(len(cand)), size)]
    head = {"outcome": outcome, "label": OUTCOMES[outcome], "studies": studies,
            "methods": {k: {"label": v[0], "interval": v[1]} for k, v in EXPLORER_METHODS.items()},
            "default": {"mask": primary, "method": "Bayes"}}
    return head, subsets
