"""The numbers a reader sees first, chosen by the protocol's headline rules (:data:`HEADLINE`).

For each outcome: whether it is pooled at all (k, every study at 100%), the Bayesian model's
population-averaged proportion with its credible interval and the range for a new study, the
evidence behind it (k, patients, share of derived counts), the published estimates beside it with
why they differ, and a GRADE-style certainty line computed from the data by :data:`CERTAINTY`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.bayes import BayesResult, pool_bayes
from ..engine.measures import all_extreme
from ..engine.study_ci import study_ci
from ..formatting import method_label, num
from .analyses import reproduce
from .data import StudyData
from .protocol import BAYES, CERTAINTY, HEADLINE, OUTCOMES, REPRODUCTIONS

__all__ = ["Published", "Certainty", "Headline", "headline", "certainty", "rob_share", "heterogeneity_p",
           "pooling_status",
           "not_pooled_reasons"]


@dataclass(frozen=True, slots=True)
class Published:
    """A published pooled estimate of the outcome (percent, as printed) and why ours differs."""

    source: str
    citation: str
    estimate: float
    ci_lower: float
    ci_upper: float
    why: str


@dataclass(frozen=True, slots=True)
class Certainty:
    """GRADE-style certainty: ``level`` and the domains that lowered it, each with its reason."""

    level: str
    reasons: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        if not self.reasons:
            return self.level.capitalize()
        return f"{self.level.capitalize()}: " + "; ".join(f"{d} ({why})" for d, why in self.reasons)


@dataclass(frozen=True)
class Headline:
    """One outcome's headline. ``status``: "pooled", "too_few" (k below the minimum),
    "all_extreme" (every study at 100% or 0%), "no_horizon" (counted over each study's own
    follow-up: :data:`HEADLINE` ``no_common_horizon``) or "none" (no study reports it).
    ``pooled_count`` is the events over the patients with its Clopper-Pearson interval, which
    assumes one common proportion: the site shows counts as counts, not this interval."""

    outcome: str
    label: str
    status: str
    k: int
    events: int
    patients: int
    derived_patients: int
    studies: pd.DataFrame  # label, events, total, derivation
    bayes: BayesResult | None
    pooled_count: tuple[float, float, float] | None  # events/patients with its exact CI (fractions)
    published: tuple[Published, ...]
    certainty: Certainty | None
    why_not_pooled: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def derived_share(self) -> float:
        return self.derived_patients / self.patients if self.patients else float("nan")

    def to_dict(self) -> dict:
        from ..engine.results import json_number

        return {
            "outcome": self.outcome, "status": self.status, "k": self.k, "events": self.events,
            "patients": self.patients, "derived_patients": self.derived_patients,
            "derived_share": json_number(self.derived_share),
            "bayes": self.bayes.to_dict() if self.bayes is not None else None,
            "pooled_count": None if self.pooled_count is None else [json_number(v) for v in self.pooled_count],
            "published": [{"source": p.source, "estimate": p.estimate, "ci_lower": p.ci_lower,
                           "ci_upper": p.ci_upper, "why_ours_differs": p.why} for p in self.published],
            "certainty": None if self.certainty is None else {
                "level": self.certainty.level, "reasons": [list(r) for r in self.certainty.reasons]},
            "why_not_pooled": self.why_not_pooled or None,
        }


def rob_share(counts, rob) -> tuple[int, int]:
    """(patients in studies at serious risk of selection bias, all patients) for a counts frame:
    a study is at serious risk unless every JBI item of ``CERTAINTY["rob_key_items"]`` is "yes" in
    ``rob`` (data/risk_of_bias.csv, or None: no judgements, so every study is unclear)."""
    key = set(CERTAINTY["rob_key_items"])
    ok = set()
    if rob is not None and len(rob):
        yes = rob[(rob["judgement"] == "yes") & rob["item"].isin(key)]
        ok = {sid for sid, items in yes.groupby("study_id")["item"] if key <= set(items.astype(int))}
    at_risk = int(counts.loc[~counts["study_id"].isin(ok), "total"].sum())
    return at_risk, int(counts["total"].sum())


def heterogeneity_p(x, n) -> float:
    """p-value of the GLMM's likelihood-ratio test of tau^2 = 0 (NaN where it cannot be computed:
    fewer than 2 studies, every study at 0% or 100%, or no GLMM fit)."""
    from ..engine.glmm_profile import glmm_lrt
    from ..errors import MetapropError

    if len(x) < 2 or all_extreme(x, n):
        return math.nan
    try:
        return glmm_lrt(x, n)[1]
    except MetapropError:
        return math.nan


def certainty(counts, rob, bayes: BayesResult | None, het_p: float = math.nan) -> Certainty:
    """The certainty line of :data:`CERTAINTY` for one outcome, from its counts (a counts frame
    with ``study_id``, ``total``, ``derivation``), the risk-of-bias judgements, its fit and the
    heterogeneity test."""
    c = CERTAINTY
    reasons = []
    at_risk, patients = rob_share(counts, rob)
    if patients and at_risk / patients > c["rob_max_share"]:
        items = ", ".join(map(str, c["rob_key_items"]))
        reasons.append(("risk of bias", f"{at_risk} of {patients} patients in studies not judged to have clear, "
                                        f"consecutive and complete inclusion (JBI items {items})"))
    width = 100 * (bayes.p_mean.upper - bayes.p_mean.lower) if bayes is not None else math.nan
    if patients < c["imprecision_min_patients"] or not width <= c["imprecision_max_width"]:
        parts = [f"{patients} patients"]
        if math.isfinite(width):
            parts.append(f"95% credible interval {num(width, 0)} percentage points wide")
        reasons.append(("imprecision", ", ".join(parts)))
    if math.isfinite(het_p) and het_p < c["inconsistency_max_p"]:
        reasons.append(("inconsistency", f"heterogeneity between studies, likelihood-ratio test p = {num(het_p, 3)}"))
    derived = int(counts.loc[counts["derivation"] != "reported", "total"].sum()) if len(counts) else 0
    if patients and derived / patients > c["indirectness_max_derived_share"]:
        reasons.append(("indirectness", f"{derived} of {patients} patients' counts derived, not reported"))
    levels = c["levels"]
    level = levels[max(0, levels.index(c["start"]) - len(reasons))]
    return Certainty(level=level, reasons=tuple(reasons))


def _short(citation: str) -> str:
    """'Hernandez et al. 2018' from 'Hernandez et al. JACC Heart Fail 2018;6:734-742'."""
    import re

    year = re.search(r"(19|20)\d\d", citation)
    head = citation.split(" et al.")[0] if " et al." in citation else citation.split(",")[0]
    return f"{head} et al. {year.group(0)}" if year else head


def _why(data: StudyData, rep, rebuilt, outcome: str, ours: pd.DataFrame, pub_row, status: str) -> str:
    """One sentence: why the published estimate and ours differ, from what data/ records.

    ``rep`` is the published analysis' :class:`Reproduction` (or None), ``rebuilt`` its re-analysis
    from data/ (a PoolResult, or None when it cannot be rebuilt)."""
    k = len(ours)
    ours_text = {
        "pooled": (f"ours is the population-averaged proportion of a Bayesian random-effects model "
                   f"(exact binomial likelihood, logit scale) of the {k} studies with public counts"),
        "too_few": f"ours has {k} {'study' if k == 1 else 'studies'} with a public count, too few to pool",
        "all_extreme": f"ours has {k} studies with public counts, every one at 100% or 0%, not pooled",
        "none": "no study in ours reports it",
    }[status]
    if rebuilt is not None and rep.analysis_set is not None:
        o = rep.options
        theirs = data.counts(outcome, rep.analysis_set)
        extra = theirs[~theirs["study_id"].isin(set(ours["study_id"]))]
        missing = ours[~ours["study_id"].isin(set(theirs["study_id"]))]
        kind = {"sensitivity_retracted": "retracted", "sensitivity_population": "broader population"}
        bits = []
        if len(extra):
            bits.append("adds " + ", ".join(f"{r['label']} ({kind.get(r['inclusion'], r['inclusion'])})"
                                            for _, r in extra.iterrows()))
        if len(missing):
            bits.append("lacks " + ", ".join(missing["label"]))
        same = "; ".join(bits) if bits else f"the same {len(theirs)} studies as ours"
        how = method_label(o["sm"], o["method"], o["method_tau"], long=True)
        est, lo, hi = rebuilt.back()
        past = f", whose interval reaches {num(100 * hi, 1)}%" if hi > 1 else ""
        return (f"it pooled {same} as {how[0].lower() + how[1:]} (rebuilt from data/: {num(100 * est, 1)}%"
                f"{past}); {ours_text}")
    note = str(pub_row.get("note") or "")
    total = next((part.strip() for part in note.split(";") if "studies" in part), "")
    lead = f"it pooled {total}" if total else "it pooled its own list of studies"
    return f"{lead}, which cannot be rebuilt for this outcome from public sources; {ours_text}"


def not_pooled_reasons(events, total) -> tuple[str, ...]:
    """Every headline rule that keeps a set of counts from being pooled: "none" (no study),
    "too_few" (fewer than ``HEADLINE["min_studies"]``), "all_extreme" (every study at 100%, or
    every one at 0%); empty when the headline pools them."""
    x, n = np.asarray(events), np.asarray(total)
    if len(x) == 0:
        return ("none",)
    reasons = ("too_few",) if len(x) < HEADLINE["min_studies"] else ()
    if all_extreme(x, n):
        reasons += ("all_extreme",)
    return reasons


def pooling_status(events, total) -> str:
    """The headline's verdict: the first of :func:`not_pooled_reasons`, or "pooled"."""
    reasons = not_pooled_reasons(events, total)
    return reasons[0] if reasons else "pooled"


def headline(data: StudyData, outcome: str, counts: pd.DataFrame, reproduced=None) -> Headline:
    """The headline of ``outcome`` from its primary-analysis counts (:meth:`StudyData.counts`).

    ``reproduced`` maps ``(source, outcome)`` to the published analyses already re-run from data/
    (:func:`metaprop.review.analyses.reproduce`, as :func:`metaprop.review.outputs.analyse` does
    once for all pages); without it, the ones this headline needs are re-run here.
    """
    k = len(counts)
    events = int(counts["events"].sum()) if k else 0
    patients = int(counts["total"].sum()) if k else 0
    derived = int(counts.loc[counts["derivation"] != "reported", "total"].sum()) if k else 0
    studies = counts[["study_id", "label", "events", "total", "derivation"]].reset_index(drop=True)
    follow = data.studies.set_index("study_id")["follow_up_reported"]
    studies["follow_up"] = [None if pd.isna(follow.get(sid)) else str(follow.get(sid)) for sid in studies["study_id"]]
    x = counts["events"].to_numpy(int)
    n = counts["total"].to_numpy(int)
    status = pooling_status(x, n)
    het_p = heterogeneity_p(x, n)
    pub = data.published
    published = []
    for source in HEADLINE["published_sources"]:
        row = pub[(pub["source"] == source) & (pub["outcome"] == outcome)]
        if len(row):
            r = row.iloc[0]
            rep = next((rp for rp in REPRODUCTIONS if (rp.source, rp.outcome) == (source, outcome)), None)
            rebuilt = None
            if rep is not None and rep.options is not None:
                rebuilt = reproduced[(source, outcome)] if reproduced is not None else reproduce(data, rep)
            published.append(Published(source=source, citation=_short(str(r["citation"])),
                                        estimate=float(r["estimate"]), ci_lower=float(r["ci_lower"]),
                                        ci_upper=float(r["ci_upper"]),
                                        why=_why(data, rep, rebuilt, outcome, counts, r, status)))
    base = {"outcome": outcome, "label": OUTCOMES[outcome], "k": k, "events": events, "patients": patients,
            "derived_patients": derived, "studies": studies, "published": tuple(published)}
    if status == "none":
        return Headline(status=status, bayes=None, pooled_count=None, certainty=None,
                        why_not_pooled="no study in the primary analysis reports this outcome", **base)
    p, lo, hi = study_ci(np.array([events]), np.array([patients]), "CP")
    count = (float(p[0]), float(lo[0]), float(hi[0]))
    if outcome in HEADLINE["no_common_horizon"]:
        return Headline(status="no_horizon", bayes=None, pooled_count=count,
                        certainty=certainty(counts, data.risk_of_bias, None, het_p),
                        why_not_pooled=("it is counted over each study's own follow-up, with no common time "
                                        "horizon, so a pooled proportion would be a risk at no stated time"), **base)
    if status == "too_few":
        return Headline(status=status, bayes=None, pooled_count=count,
                        certainty=certainty(counts, data.risk_of_bias, None, het_p),
                        why_not_pooled=f"too few studies to pool ({k}; the protocol pools from "
                                       f"{HEADLINE['min_studies']})", **base)
    if status == "all_extreme":
        word = all_extreme(x, n)
        return Headline(status=status, bayes=None, pooled_count=count,
                        certainty=certainty(counts, data.risk_of_bias, None, het_p),
                        why_not_pooled=(f"every study reports {word}, so no model can say how the studies vary "
                                        f"or how far the proportion lies from {word}"), **base)
    bayes = pool_bayes(x, n, list(counts["label"]), **BAYES)
    return Headline(status="pooled", bayes=bayes, pooled_count=count,
                    certainty=certainty(counts, data.risk_of_bias, bayes, het_p), **base)
