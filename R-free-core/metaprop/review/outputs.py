"""Every analysis the site shows, computed once (:func:`analyse`), and its JSON/CSV form.

:func:`write_tables` writes results.json and the CSV tables, deterministically (same data,
byte-identical files); :func:`metaprop.pipeline.write_results` adds the figures and moves the
whole folder into place only when everything succeeded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .. import __version__
from ..engine.bayes import BayesResult, pool_bayes
from ..engine.conventions import CONVENTIONS
from ..engine.glmm_profile import TauProfile, glmm_tau_profile
from ..engine.results import PoolResult, json_number
from ..errors import MetapropError
from .analyses import headline_values, pool_primary, reproduce, summary_values
from .data import StudyData
from .headline import Headline, headline
from .prisma import Flow, prisma_flow
from .protocol import (
    BAYES,
    BAYES_PRIOR_SENSITIVITY,
    EGGER,
    OUTCOMES,
    POPULATIONS,
    REPRODUCTIONS,
    SENSITIVITY_SETS,
    SUBGROUP,
    Reproduction,
)

__all__ = ["analyse", "ReviewResults", "FitSet", "fit_sets", "write_tables", "swap_in", "summary_frame"]

def _fit(data: StudyData, outcome: str, population: str, drop: bool) -> FitSet:
    counts = data.counts(outcome, population, drop_derived_from_percent=drop)
    if counts.empty:
        return FitSet(counts, None, "no study reports this outcome in this set")
    try:
        return FitSet(counts, pool_primary(counts), "")
    except MetapropError as exc:
        return FitSet(counts, None, str(exc))


def fit_sets(data: StudyData) -> dict:
    """Every outcome x analysis set of :data:`SENSITIVITY_SETS`: ``(counts, result or None, why)``."""
    return {(o, key): _fit(data, o, pop, drop) for o in OUTCOMES for key, _, pop, drop in SENSITIVITY_SETS}


class Lazy(Mapping):
    """A mapping computed on first use: analyses the pages show but some callers of
    :func:`analyse` never read (``metaprop compare`` compares estimates only). Pickles as the
    computed ``dict``, so the build cache holds plain values."""

    def __init__(self, compute):
        self._compute, self._value = compute, None

    def _get(self) -> dict:
        if self._value is None:
            self._value, self._compute = self._compute(), None
        return self._value

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __reduce__(self):
        return (dict, (dict(self._get()),))


class FitSet(NamedTuple):
    """One outcome in one analysis set: its counts, the pooled result (None if none), and why not."""

    counts: pd.DataFrame
    result: PoolResult | None
    why: str


@dataclass(frozen=True)
class ReviewResults:
    """Every analysis the site shows, computed once by :func:`analyse`.

    Mappings are keyed by outcome (``sets`` by ``(outcome, analysis set)``); an outcome with too
    few studies for an analysis has no entry. ``egger`` rows may say ``refused`` with the reason.
    ``headlines`` are what a reader sees first (the protocol's headline rules, Bayesian model);
    ``primary`` the GLMM analysis R meta would give (its values as a dict, for tables and forest
    plots); ``bayes_priors`` the headline model under the other priors of the protocol;
    ``glmm_heterogeneity`` the GLMM's likelihood-ratio test and profile interval for tau;
    ``subgroups`` the subgroups by population over all candidates (:data:`SUBGROUP`), each with
    its test for subgroup differences; ``headline_prior`` the priors of the headline model.
    """

    primary: Mapping[str, dict]
    headlines: Mapping[str, Headline]
    bayes_priors: Mapping[str, tuple[tuple[str, BayesResult], ...]]
    glmm_heterogeneity: Mapping[str, TauProfile]
    sets: Mapping[tuple[str, str], FitSet]
    loo: Mapping[str, pd.DataFrame]
    cumulative: Mapping[str, pd.DataFrame]
    grid: Mapping[str, pd.DataFrame]
    egger: Mapping[str, pd.DataFrame]
    funnel: Mapping[str, pd.DataFrame]
    missing: Mapping[str, pd.DataFrame]
    reproductions: tuple[tuple[Reproduction, PoolResult | None], ...]
    subgroups: Mapping[str, tuple[pd.DataFrame, dict]]
    headline_prior: Mapping[str, object]
    prisma: Flow | None = None


def analyse(data: StudyData) -> ReviewResults:
    """Every analysis the site shows (:class:`ReviewResults`), as the protocol defines them."""
    from ..engine.sensitivity import cumulative, egger, funnel_data, leave_one_out, method_grid, subgroup

    sets = fit_sets(data)
    reps = tuple((rep, reproduce(data, rep)) for rep in REPRODUCTIONS)
    rebuilt = {(rep.source, rep.outcome): res for rep, res in reps}
    primary, missing, loo, cum, grid, egg, funnel = {}, {}, {}, {}, {}, {}, {}
    headlines = {}
    for o in OUTCOMES:
        counts, res, _ = sets[(o, "primary")]  # the primary analysis, fitted once
        primary[o] = headline_values(o, counts, res)
        headlines[o] = headline(data, o, counts, rebuilt)
        missing[o] = data.missing(o)
        x, n, lab = counts["events"].to_numpy(int), counts["total"].to_numpy(int), list(counts["label"])
        opts = ({"sm": res.sm, "method": res.method, "method_tau": res.method_tau} if res is not None else {})
        if len(counts) >= 2:
            loo[o] = leave_one_out(x, n, lab, **opts)
            cum[o] = cumulative(counts, by="year", **opts)
            grid[o] = method_grid(x, n, lab)
        if len(counts) >= 3:
            try:
                egg[o] = egger(x, n, lab, **EGGER)
            except MetapropError as exc:  # refused: the reason is what the page shows
                egg[o] = pd.DataFrame([{"k": len(x), **EGGER, "refused": True, "note": str(exc)}])
            funnel[o] = funnel_data(x, n, lab, **EGGER)

    def priors():  # the headline model under the protocol's other priors
        out = {}
        for o, h in headlines.items():
            if h.bayes is not None:
                c = sets[(o, "primary")].counts
                x_, n_ = c["events"].to_numpy(int), c["total"].to_numpy(int)
                out[o] = tuple((label, pool_bayes(x_, n_, list(c["label"]), **(BAYES | opts)))
                               for label, opts in BAYES_PRIOR_SENSITIVITY)
        return out

    def heterogeneity():  # the GLMM's likelihood-ratio test and profile interval of tau
        out = {}
        for o in OUTCOMES:
            counts, res, _ = sets[(o, "primary")]
            if res is not None and res.method == "GLMM" and res.k >= 2:
                try:
                    out[o] = glmm_tau_profile(counts["events"].to_numpy(int), counts["total"].to_numpy(int))
                except MetapropError:
                    pass
        return out

    def subgroups():  # by population (inclusion status), over all candidate studies
        out = {}
        for o in OUTCOMES:
            counts = data.counts(o, "all")
            if len(counts) >= 2:
                try:
                    df = subgroup(counts, by="inclusion", **SUBGROUP)
                except MetapropError:
                    continue
                out[o] = (df, dict(df.attrs["test"]))
        return out

    priors, het = Lazy(priors), Lazy(heterogeneity)
    return ReviewResults(primary=primary, headlines=headlines, bayes_priors=priors, glmm_heterogeneity=het,
                         sets=sets, loo=loo, cumulative=cum, grid=grid, egger=egg,
                         funnel=funnel, missing=missing, reproductions=reps, subgroups=Lazy(subgroups),
                         headline_prior=dict(BAYES), prisma=prisma_flow(data.screening, data.studies))


def summary_frame(sets: Mapping[tuple[str, str], FitSet]) -> pd.DataFrame:
    """One row per outcome and analysis set (``ReviewResults.sets`` or :func:`fit_sets`): k, events,
    patients, estimate, CI, PI, tau^2, I^2, method."""
    rows = []
    for (o, key), (counts, res, why) in sets.items():
        label = next(lbl for k, lbl, _, _ in SENSITIVITY_SETS if k == key)
        row = {"outcome": o, "analysis": key, "analysis_label": label, "k": len(counts),
               "events": int(counts["events"].sum()) if len(counts) else 0,
               "patients": int(counts["total"].sum()) if len(counts) else 0}
        if res is None:
            rows.append(row | {"note": why})
            continue
        est, lo, hi, pil, piu = summary_values(res)
        rows.append(row | {"estimate": est, "ci_lower": lo, "ci_upper": hi, "pi_lower": pil, "pi_upper": piu,
                           "tau2": res.tau2, "i2": 100 * res.i2,
                           "i2_definition": CONVENTIONS[res.convention].i2_definition,
                           "q": res.q, "q_df": res.q_df,
                           "q_pvalue": res.q_pvalue, "sm": res.sm, "method": res.method,
                           "method_tau": res.method_tau, "note": " ".join(res.notes)})
    return pd.DataFrame(rows)


def _clean(obj):
    if isinstance(obj, float):
        return json_number(obj)
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


def results_json(data: StudyData, results: ReviewResults) -> dict:
    """Everything in one JSON-safe dictionary (proportions on the 0-1 scale)."""
    sets = {}
    for (o, key), (counts, res, why) in results.sets.items():
        sets.setdefault(o, {})[key] = res.to_dict() if res is not None else {"k": len(counts), "note": why}
    reps = []
    for rep, res in results.reproductions:
        pub = data.published.set_index(["source", "outcome"]).loc[(rep.source, rep.outcome)]
        reps.append({"source": rep.source, "outcome": rep.outcome, "citation": pub["citation"],
                     "published_percent": [float(pub["estimate"]), float(pub["ci_lower"]), float(pub["ci_upper"])],
                     "options": rep.options, "reproduced": res.to_dict() if res is not None else None,
                     "why_not": rep.why_not or None})
    return _clean({
        "metaprop_version": __version__, "data_version": data.version, "data_date": data.created,
        "primary_method": "GLMM (random-intercept logistic model), ML; PFT random effects when every study "
                          "reports 100% or 0%",
        "outcomes": OUTCOMES, "populations": {k: list(v) for k, v in POPULATIONS.items()},
        "headline_model": {"model": "Bayesian binomial-normal random effects", "prior": BAYES,
                           "estimand": "population-averaged proportion"},
        "headlines": {o: h.to_dict() for o, h in results.headlines.items()},
        "bayes_prior_sensitivity": {o: {label: b.to_dict() for label, b in v}
                                    for o, v in results.bayes_priors.items()},
        "glmm_heterogeneity": {o: t.to_dict() for o, t in results.glmm_heterogeneity.items()},
        "analyses": sets, "reproductions": reps,
        "egger": {o: df.to_dict(orient="records")[0] for o, df in results.egger.items()},
        "prisma": None if results.prisma is None else (asdict(results.prisma)
                                                       | {"identified": results.prisma.identified}),
    })


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def swap_in(new: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by the folder ``new`` whole (two renames), so that no mix of old and
    new files is ever left; the old folder is removed after the swap."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=".metaprop-old-", dir=out_dir.parent))
        os.replace(out_dir, old / "previous")
    os.replace(new, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _for_reuse(df: pd.DataFrame, data: StudyData, outcome: str | None, commit: str) -> pd.DataFrame:
    """A table as results/ publishes it (:mod:`metaprop.review.dictionary`): I^2 named ``i2_pct``,
    each study label beside its ``study_id``, and the data version and commit on every row."""
    df = df.rename(columns={"i2": "i2_pct"}).copy()
    if outcome is not None:
        cand = data.counts(outcome, "all")
        ids = dict(zip(cand["label"], cand["study_id"], strict=True))
        for col in ("omitted", "added"):
            if col in df.columns:
                df[col] = df[col].replace({"None": "none"})
                df.insert(df.columns.get_loc(col) + 1, f"{col}_study_id", [ids.get(v, "") for v in df[col]])
    return df.assign(data_version=data.version, commit=commit)


def write_tables(folder: Path, data: StudyData, results: dict, commit: str = "unknown") -> None:
    """results.json, the CSV tables of :func:`analyse` and their data dictionary (README.md) into
    ``folder`` (deterministic for the same data, code and commit)."""
    from .dictionary import readme

    doc = results_json(data, results) | {"commit": commit}
    (folder / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    _write_csv(_for_reuse(summary_frame(results.sets), data, None, commit), folder / "summary.csv")
    for o in OUTCOMES:
        for kind in ("loo", "cumulative", "grid"):
            if o in getattr(results, kind):
                _write_csv(_for_reuse(getattr(results, kind)[o], data, o, commit), folder / f"{kind}_{o}.csv")
    (folder / "README.md").write_text(readme(data.version, commit), encoding="utf-8")


__all__ += ["results_json"]
