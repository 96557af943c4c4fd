"""What the sensitivity explorer needs, computed at build time.

For each outcome the candidate studies are every study with a count for it (primary, retracted
and broader-population studies alike). The explorer's methods (:data:`~.protocol.EXPLORER`) are
answered in two ways:

- the inverse-variance methods (``in_browser``) are computed in the reader's browser, for any
  choice of studies, by ``site-assets/explorer-engine.js``, a port of the engine's path for them
  that the tests run in node against :func:`subset_result` on thousands of random subsets; the
  JSON carries the t quantiles it needs;
- the GLMM and the Bayesian model are pooled here, with the same engine calls as the static pages,
  for every subset of at least two studies while the outcome has at most ``all_subsets_max``
  candidates, and beyond that for a named family whose size grows as 2k at most (each analysis
  set of the protocol, each without derived counts, the primary set leaving one study out and
  cumulative by year): :func:`subset_plan`.

One JSON per outcome holds the studies, the methods, the t quantiles, the named subsets and, keyed
by the candidates' indices joined by "-" (``"0-1-3"``), each precomputed method's estimate,
interval, range for a new study and tau, as fractions rounded to 6 decimals.
"""

from __future__ import annotations

import math
import warnings

from ..engine import dist
from ..engine.study_ci import study_ci
from ..errors import MetapropError
from .analyses import fit_method
from .data import StudyData
from .headline import not_pooled_reasons
from .protocol import EXPLORER, HEADLINE, METHODS, OUTCOMES, POPULATIONS

__all__ = ["EXPLORER_METHODS", "PRECOMPUTED", "explorer_data", "explorer_all", "subset_result", "subset_plan",
           "subset_key"]

#: the explorer's methods (:data:`~.protocol.METHODS`), in order
EXPLORER_METHODS = {m: METHODS[m] for m in EXPLORER["methods"]}
#: the methods pooled at build time (the others are computed in the reader's browser)
PRECOMPUTED = tuple(m for m in EXPLORER_METHODS if m not in EXPLORER["in_browser"])


def _r(v, digits=6):
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def subset_key(indices) -> str:
    """The key of a subset of candidates: their indices, ascending, joined by "-" (``"0-1-3"``)."""
    return "-".join(str(i) for i in sorted(indices))


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
            if method not in EXPLORER_METHODS:
                raise MetapropError(f"unknown explorer method {method!r}")
            if METHODS[method].engine == "bayes":
                b = fit_method(method, counts)
                est, lo, hi = b.p_mean.median, b.p_mean.lower, b.p_mean.upper
                pil, piu, tau = b.p_new.lower, b.p_new.upper, b.tau.median
                if "too_few" in reasons:
                    note.append(f"fewer than {HEADLINE['min_studies']} studies: the site's headline would not pool")
                if "all_extreme" in reasons:
                    note.append("every study at 100% (or 0%): the estimate is set by the prior; the site's "
                                "headline would not pool")
            else:
                res = fit_method(method, counts)
                if method == "GLMM" and res.method != "GLMM":
                    note.append("GLMM not estimable (every study at 100% or 0%): Freeman-Tukey shown, "
                                "as on the outcome pages")
                est, lo, hi = res.back("random")
                pil, piu = res.pi_proportion()
                tau = res.tau
    except MetapropError as exc:
        return {"k": len(x), "note": str(exc)}
    return {"k": len(x), "events": int(x.sum()), "patients": int(n.sum()),
            "est": _r(est), "lo": _r(lo), "hi": _r(hi), "pil": _r(pil), "piu": _r(piu), "tau": _r(tau),
            **({"note": "; ".join(note)} if note else {})}


def _precomputed_row(sub) -> dict:
    return {m: subset_result(sub, m) for m in PRECOMPUTED}


def _with_outcome_notes(outcome: str, row: dict) -> dict:
    """The headline rules that depend on the outcome, not on the studies: an outcome with no common
    time horizon is never pooled in the headline, whatever the subset."""
    if outcome not in HEADLINE["no_common_horizon"] or "Bayes" not in row or "est" not in row["Bayes"]:
        return row
    b = dict(row["Bayes"])
    extra = "counted over each study's own follow-up: the site's headline does not pool it"
    b["note"] = f"{b['note']}; {extra}" if b.get("note") else extra
    return row | {"Bayes": b}


def subset_plan(cand) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    """Which subsets of the candidates (a :meth:`StudyData.counts` frame of every candidate, in
    order) are pooled at build time: ``("all", named)`` or ``("family", named)``, where ``named``
    lists ``(name, indices)`` for every subset of at least two studies, named subsets first.

    With k candidates, the family has at most 4 analysis sets, 8 of them without derived counts,
    and at most k leaving one primary study out and k cumulative ones of the primary set: O(k),
    against 2^k - k - 1 for all subsets.
    """
    k = len(cand)
    inclusion = list(cand["inclusion"])
    derivation = list(cand["derivation"])
    order = sorted(range(k), key=lambda i: (int(cand["year"].iloc[i]), str(cand["label"].iloc[i]), i))
    named: list[tuple[str, tuple[int, ...]]] = []
    seen: set[tuple[int, ...]] = set()

    def add(name, idx):
        idx = tuple(sorted(idx))
        if len(idx) >= 2 and idx not in seen:
            seen.add(idx)
            named.append((name, idx))

    sets = {pop: [i for i in range(k) if inclusion[i] in allowed] for pop, allowed in POPULATIONS.items()}
    labels = {"primary": "primary analysis", "with_retracted": "adding the retracted study",
              "with_broader": "adding broader populations", "all": "all candidate studies"}
    for pop, idx in sets.items():
        add(labels[pop], idx)
    for pop, idx in sets.items():
        add(f"{labels[pop]}, without counts derived from percentages",
            [i for i in idx if derivation[i] != "derived_from_percent"])
        add(f"{labels[pop]}, reported counts only", [i for i in idx if derivation[i] == "reported"])
    for pop in ("primary",):
        for i in sets[pop]:
            add(f"{labels[pop]} without {cand['label'].iloc[i]}", [j for j in sets[pop] if j != i])
    for pop in ("primary",):
        members = [i for i in order if i in set(sets[pop])]
        for j in range(2, len(members) + 1):
            add(f"{labels[pop]}, cumulative to {int(cand['year'].iloc[members[j - 1]])} "
                f"({cand['label'].iloc[members[j - 1]]})", members[:j])
    if k > EXPLORER["all_subsets_max"]:
        return "family", named
    import itertools

    for size in range(2, k + 1):
        for combo in itertools.combinations(range(k), size):
            add("", combo)
    return "all", named


def _plan(data: StudyData, outcome: str):
    """The outcome's candidate studies and header, and every (key, counts) subset to pool."""
    cand = data.counts(outcome, "all").reset_index(drop=True)
    x = cand["events"].to_numpy(int)
    n = cand["total"].to_numpy(int)
    p, lo, hi = study_ci(x, n, "CP")
    studies = [{"id": r["study_id"], "label": r["label"], "year": int(r["year"]), "events": int(r["events"]),
                "total": int(r["total"]), "derivation": r["derivation"], "inclusion": r["inclusion"],
                "retracted": bool(r["retracted"]), "p": _r(p[i]), "lo": _r(lo[i]), "hi": _r(hi[i])}
               for i, r in cand.iterrows()]
    primary = [i for i, r in cand.iterrows() if r["inclusion"] == "primary"]
    scope, named = subset_plan(cand)
    t975 = [_r(float(dist.t_ppf(0.975, df)), 12) for df in range(1, max(len(cand), 2))]
    head = {"outcome": outcome, "label": OUTCOMES[outcome], "studies": studies,
            "methods": {m: {"label": v.label, "interval": v.interval,
                            "where": "browser" if m in EXPLORER["in_browser"] else "precomputed"}
                        for m, v in EXPLORER_METHODS.items()},
            "default": {"studies": primary, "method": "Bayes"},
            "precomputed": scope, "t975": t975,
            "named": [{"name": name[:1].upper() + name[1:], "key": subset_key(idx)} for name, idx in named if name]}
    return head, [(subset_key(idx), cand.iloc[list(idx)]) for _, idx in named]


def explorer_all(data: StudyData, processes: int | None = None) -> dict[str, dict]:
    """:func:`explorer_data` for every outcome, the subsets shared among ``processes`` worker
    processes (default: up to 2, the cores CI machines have; 1 computes in this process). The
    result does not depend on the number of processes."""
    import multiprocessing
    import os

    plans = {o: _plan(data, o) for o in OUTCOMES}
    tasks = [(o, key, sub) for o, (_, subsets) in plans.items() for key, sub in subsets]
    processes = processes or min(2, os.cpu_count() or 1)
    if processes > 1 and len(tasks) > 20:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = pool.map(_precomputed_row, [t[2] for t in tasks], chunksize=8)
    else:
        rows = [_precomputed_row(t[2]) for t in tasks]
    out = {o: head | {"results": {}} for o, (head, _) in plans.items()}
    for (o, key, _), row in zip(tasks, rows, strict=True):
        out[o]["results"][key] = _with_outcome_notes(o, row)
    return out


def explorer_data(data: StudyData, outcome: str) -> dict:
    """The explorer's JSON for one outcome (see the module docstring), computed in this process."""
    head, subsets = _plan(data, outcome)
    return head | {"results": {key: _with_outcome_notes(outcome, _precomputed_row(sub)) for key, sub in subsets}}
