"""The pages' tables of analysis results, with great-tables: plain functions of a
:class:`~.context.Build` (page functions, :data:`PAGE`) and the ``GT`` builders they use.

Every number comes from the build's results (:func:`metaprop.review.outputs.analyse`); nothing is
fitted here.
"""

from __future__ import annotations

import math

import pandas as pd
from great_tables import GT

from ..engine.results import GLMM_WEIGHTS, PoolResult, reader_notes
from ..formatting import DASH, estimate_ci, fmt_estimate, fmt_p, interval, method_label
from ..review.analyses import summary_values
from ..review.outputs import summary_frame
from ..review.protocol import HOME_OUTCOMES, OUTCOMES, SENSITIVITY_SETS, SUBGROUP
from .context import Build
from .sentences import counts_text, estimate, evidence, prediction
from .tables import INCLUSION_LABEL, fmt_estimate_cols, fmt_range_cols, house_style, show

#: the page functions of this module (:class:`metaprop.site.pages.Site` looks names up here)
PAGE = ("headline_frame", "headline_table", "reproduction_table", "bayes_frame", "bayes_table", "sets_table",
        "loo_table", "cumulative_table", "grid_table", "published_frame", "published_table", "sensitivity_frame",
        "sensitivity_table", "subgroup_table")
__all__ = ["results_frame", "results_gt", "sensitivity_gt", "sensitivity_frame_rows", "grid_gt", "reproduction_frame",
           "reproduction_gt", "method_text", "sensitivity_rows_gt", *PAGE]


def method_text(res: PoolResult) -> str:
    if res.method == "GLMM":
        return method_label(res.sm, res.method, res.method_tau, long=True)
    return f"Inverse variance, {method_label(res.sm, res.method, res.method_tau)}" + (
        ", Hartung-Knapp" if res.hakn else "")


def results_frame(results: list[tuple[str, PoolResult]]) -> pd.DataFrame:
    """One row per analysis, as numbers (proportions; I^2 in percent): :func:`results_gt` formats them."""
    rows = []
    for label, r in results:
        e, lo, hi, pil, piu = summary_values(r)
        nan = float("nan")
        one = r.k == 1
        rows.append({"Analysis": label, "k": r.k, "Events/total": r.events_total, "patients": r.n_total,
                     "Estimate, % (95% CI)": e, "ci_lower": lo, "ci_upper": hi,
                     "Prediction interval, %": pil, "pi_upper": piu,
                     "\u03c4\u00b2": nan if one else r.tau2,
                     "I\u00b2": 100 * r.i2 if not one and math.isfinite(r.i2) else nan,
                     "Q (df), p": nan if one else r.q, "q_df": nan if one else r.q_df,
                     "q_pvalue": nan if one else r.q_pvalue,
                     "Method": method_text(r), "Notes": " ".join(reader_notes(r.notes, drop=(GLMM_WEIGHTS,)))})
    return pd.DataFrame(rows)


def results_gt(results: list[tuple[str, PoolResult]], title: str = "Pooled results") -> GT:
    """k, events/total, estimate with 95% CI, prediction interval, tau^2, I^2, Q (df) with p, method."""
    gt = GT(results_frame(results)).cols_merge(columns=["Events/total", "patients"], pattern="{0}/{1}")
    gt = fmt_range_cols(fmt_estimate_cols(gt, "Estimate, % (95% CI)", "ci_lower", "ci_upper"),
                        "Prediction interval, %", "pi_upper")
    return (gt.fmt_number(columns="\u03c4\u00b2", decimals=4)
            .fmt_number(columns="I\u00b2", decimals=0, pattern="{x}%")
            .fmt_number(columns="Q (df), p", decimals=2).fmt_integer(columns="q_df").fmt(fmt_p, columns="q_pvalue")
            .sub_missing(columns=["\u03c4\u00b2", "I\u00b2", "Q (df), p"], missing_text=DASH)
            .cols_merge(columns=["Q (df), p", "q_df", "q_pvalue"], pattern="{0}<< ({1}), {2}>>")
            .tab_header(title=title)
            .tab_source_note("k = 1: the study's own proportion with its Clopper-Pearson interval. "
                             "I\u00b2 = (Q - df)/Q (R meta); for a GLMM, Q is the Wald-type test of the "
                             "saturated model.")
            .pipe(house_style))


def sensitivity_gt(df: pd.DataFrame, first: str, title: str) -> GT:
    """Leave-one-out or cumulative table from :mod:`metaprop.engine.sensitivity`."""
    return sensitivity_rows_gt(sensitivity_frame_rows(df, first)).tab_header(title=title).pipe(house_style)


def sensitivity_rows_gt(rows: pd.DataFrame) -> GT:
    """:func:`sensitivity_frame_rows` formatted: estimate (CI), tau^2 to 4 decimals, I^2 in percent."""
    gt = fmt_estimate_cols(GT(rows), "Estimate, % (95% CI)", "ci_lower", "ci_upper")
    return (gt.fmt_number(columns="\u03c4\u00b2", decimals=4).fmt_number(columns="I\u00b2, %", decimals=0)
            .sub_missing(columns=["\u03c4\u00b2", "I\u00b2, %"], missing_text=DASH))


def sensitivity_frame_rows(df: pd.DataFrame, first: str) -> pd.DataFrame:
    """Rows for a tidy sensitivity frame, as numbers: label, k, estimate and CI, tau^2, I^2, note."""
    labels = [str(v) for v in df[first]]
    if first == "omitted":  # leave-one-out: the engine's last row pools all studies (a placeholder label)
        labels[-1] = "none (all studies)"
    return pd.DataFrame({
        first.capitalize(): labels, "k": df["k"],
        "Estimate, % (95% CI)": df["estimate"], "ci_lower": df["ci_lower"], "ci_upper": df["ci_upper"],
        "\u03c4\u00b2": df["tau2"], "I\u00b2, %": df["i2"],
        "Note": df["note"].fillna("") if "note" in df.columns else [""] * len(df),
    }).reset_index(drop=True)


def grid_gt(df: pd.DataFrame, title: str = "Every method") -> GT:
    """Every summary measure x tau^2 estimator x CI method (:func:`metaprop.engine.sensitivity.method_grid`)."""
    out = pd.DataFrame({
        "Method": df["method"], "sm": df["sm"], "\u03c4\u00b2 estimator": df["method_tau"], "CI": df["ci"],
        "Estimate, % (95% CI)": df["estimate"], "ci_lower": df["ci_lower"], "ci_upper": df["ci_upper"],
        "Prediction interval, %": df["pi_lower"], "pi_upper": df["pi_upper"],
        "\u03c4\u00b2": df["tau2"], "Note": df["note"].fillna(""),
    })
    gt = fmt_range_cols(fmt_estimate_cols(GT(out), "Estimate, % (95% CI)", "ci_lower", "ci_upper"),
                        "Prediction interval, %", "pi_upper")
    return (gt.fmt_number(columns="\u03c4\u00b2", decimals=4).sub_missing(columns="\u03c4\u00b2", missing_text=DASH)
            .tab_header(title=title, subtitle="sm x tau\u00b2 estimator x {z, Hartung-Knapp}, plus GLMM")
            .tab_source_note("PRAW can give limits outside 0-100%; PLOGIT needs a continuity correction for "
                             "0% or 100% studies; PFT and PAS need none; GLMM uses the binomial likelihood.")
            .pipe(house_style))


def reproduction_frame(build: Build) -> pd.DataFrame:
    """Each published result beside our re-analysis (computed by the build), and whether it matches."""
    pub = build.data.published.set_index(["source", "outcome"])
    rows = []
    for rep, res in build.results.reproductions:
        p = pub.loc[(rep.source, rep.outcome)]
        published = estimate_ci(p["estimate"], p["ci_lower"], p["ci_upper"], digits=None, scale=1)
        if res is None:
            ours, status = DASH, "Not reproducible: " + rep.why_not
        else:
            est, lo, hi = res.back("random")
            ours = estimate_ci(est, lo, hi, digits=2)
            same = (round(100 * est) == p["estimate"] and round(100 * lo) == p["ci_lower"]
                    and min(round(100 * hi), 100) == p["ci_upper"])
            status = ("Reproduced exactly (published upper limit capped at 100)" if same
                      else "Not reproduced")
        rows.append({"Publication": p["citation"], "Outcome": OUTCOMES.get(rep.outcome, rep.outcome),
                     "Published, %": published, "Re-analysis from data/, %": ours, "Status": status})
    return pd.DataFrame(rows)


def reproduction_gt(build: Build) -> GT:
    return (GT(reproduction_frame(build)).tab_header(title="Published analyses and our re-analysis")
            .pipe(house_style))



def headline_frame(build: Build) -> pd.DataFrame:
    """The home page's table: counts as counts for every outcome; the pooled estimate only
    where the headline rules pool, never a count under an estimate's heading."""
    rows = []
    for o in HOME_OUTCOMES:
        h = build.headline(o)
        if h.status == "pooled":
            b = h.bayes.p_mean
            est = estimate_ci(b.median, b.lower, b.upper, unit="%")
        elif h.status == "none":
            est = DASH
        else:
            est = f"not pooled: {h.why_not_pooled}"
        pub = "; ".join(f"{p.citation}: {estimate_ci(p.estimate, p.ci_lower, p.ci_upper, digits=None, scale=1)}"
                        for p in h.published) or DASH
        rows.append({"Outcome": OUTCOMES[o], "Patients with the outcome": counts_text(build, o) if h.k else DASH,
                     "Pooled mean proportion, % (95% CrI)": est,
                     "A new study's true proportion (95% predictive range)":
                         prediction(build, o) if h.status == "pooled" else DASH,
                     "Evidence": evidence(build, o), "Published, %": pub,
                     "Certainty": h.certainty.level.capitalize() if h.certainty else DASH})
    return pd.DataFrame(rows)


def headline_table(build: Build):

    return show(GT(headline_frame(build)).tab_header(title="What the evidence says",
                                                 subtitle=f"Data version {build.data.version} "
                                                          f"({build.data.created})")
            .tab_source_note("Patients with the outcome: the primary analysis' counts, added up. Pooled mean "
                             "proportion: population-averaged, Bayesian binomial-normal random-effects "
                             "model (95% credible interval, CrI); not pooled below 3 studies or when every "
                             "study is at 100%. A new study's true proportion: where the proportion of a "
                             "new study's population would lie (95% predictive range; a small study would "
                             "observe a wider spread). Certainty: GRADE-style.")
            .pipe(house_style))


def reproduction_table(build: Build):
    return show(reproduction_gt(build))


def bayes_frame(build: Build, outcome: str) -> pd.DataFrame:
    """The headline model under each prior of the protocol (default first), as numbers."""
    h = build.headline(outcome)
    if h.status != "pooled":
        return pd.DataFrame()
    fits = [(f"{h.bayes.prior_text} (headline)", h.bayes)] + [
        (b.prior_text, b) for _, b in build.results.bayes_priors.get(outcome, ())]
    return pd.DataFrame([{"Priors": label,
                          "Mean proportion, %": b.p_mean.median, "mean_lower": b.p_mean.lower,
                          "mean_upper": b.p_mean.upper,
                          "Median study, %": b.p_median.median, "median_lower": b.p_median.lower,
                          "median_upper": b.p_median.upper,
                          "A new study, %": b.p_new.lower, "new_upper": b.p_new.upper,
                          "\u03c4 (logit scale)": b.tau.median, "tau_lower": b.tau.lower, "tau_upper": b.tau.upper}
                         for label, b in fits])


def bayes_table(build: Build, outcome: str):
    """:func:`bayes_frame` as a table, or None where the outcome is not pooled (:func:`bayes_note` says why)."""
    df = bayes_frame(build, outcome)
    if df.empty:  # nothing to tabulate: bayes_note says why, outside the table's float
        return None
    gt = fmt_estimate_cols(GT(df), "Mean proportion, %", "mean_lower", "mean_upper")
    gt = fmt_estimate_cols(gt, "Median study, %", "median_lower", "median_upper")
    gt = fmt_estimate_cols(gt, "\u03c4 (logit scale)", "tau_lower", "tau_upper", decimals=2, scale=1)
    return show(fmt_range_cols(gt, "A new study, %", "new_upper")
                .tab_header(title="Bayesian binomial-normal model: posterior medians and 95% "
                                  "credible intervals, under three priors for \u03c4")
                .tab_source_note("Mean proportion: population-averaged, the headline. Median study: "
                                 "expit(\u03bc), what the GLMM's estimate is. Priors on the logit scale.")
                .pipe(house_style))


def sets_table(build: Build, outcome: str):
    rows = [(label, build.results.sets[(outcome, key)].result) for key, label, _, _ in SENSITIVITY_SETS
            if build.results.sets[(outcome, key)].result is not None]
    return show(results_gt(rows, title=f"{OUTCOMES[outcome]}: primary and sensitivity analyses"))


def loo_table(build: Build, outcome: str):
    if outcome not in build.results.loo:
        return None
    return show(sensitivity_gt(build.results.loo[outcome], "omitted",
                                  "Leave-one-out (last row: all studies)"))


def cumulative_table(build: Build, outcome: str):
    if outcome not in build.results.cumulative:
        return None
    return show(sensitivity_gt(build.results.cumulative[outcome], "added",
                                  "Cumulative meta-analysis by publication year"))


def grid_table(build: Build, outcome: str):
    if outcome not in build.results.grid:
        return None
    return show(grid_gt(build.results.grid[outcome], title=f"{OUTCOMES[outcome]}: every method"))


def published_frame(build: Build, outcome: str) -> pd.DataFrame:
    pub = build.data.published
    pub = pub[pub["outcome"] == outcome]
    rows = [{"Source": "This site (Bayesian mean proportion)", "Estimate, % (95% CI)": estimate(build, outcome),
             "Note": evidence(build, outcome)}]
    glmm = build.primary(outcome)
    if glmm.get("result") is not None:
        rows.append({"Source": "This site (GLMM, R meta's default)",
                     "Estimate, % (95% CI)": fmt_estimate(glmm), "Note": evidence(build, outcome)})
    for _, p in pub.iterrows():
        rows.append({"Source": p["citation"],
                     "Estimate, % (95% CI)": estimate_ci(p["estimate"], p["ci_lower"], p["ci_upper"], digits=None,
                                                         scale=1, unit="%", ci_label="95% CI "),
                     "Note": p["note"] if pd.notna(p["note"]) else ""})
    return pd.DataFrame(rows)


def published_table(build: Build, outcome: str):

    return show(GT(published_frame(build, outcome)).tab_header(title="Published estimates beside ours").pipe(
        house_style))


def sensitivity_frame(build: Build) -> pd.DataFrame:
    df = summary_frame(build.results.sets)
    df = df[df["outcome"].isin(HOME_OUTCOMES)]
    out = pd.DataFrame({
        "Outcome": df["outcome"].map(OUTCOMES), "Analysis": df["analysis_label"], "k": df["k"],
        "Events/total": [f"{e}/{t}" for e, t in zip(df["events"], df["patients"], strict=True)],
        "Estimate, % (95% CI)": [estimate_ci(e, lo, hi) for e, lo, hi in zip(
            df.get("estimate"), df.get("ci_lower"), df.get("ci_upper"), strict=True)],
        "Prediction interval, %": [interval(a, b) for a, b in zip(df["pi_lower"], df["pi_upper"], strict=True)],
        "Method": [DASH if pd.isna(m) else method_label(sm, m, mt)
                   for m, sm, mt in zip(df["method"], df["sm"], df["method_tau"], strict=True)],
    })
    return out.reset_index(drop=True)


def sensitivity_table(build: Build):

    return show(GT(sensitivity_frame(build), groupname_col="Outcome")
            .tab_header(title="How the estimates change with the studies included")
            .pipe(house_style))


def subgroup_table(build: Build, outcome: str):
    """Subgroups by population (inclusion status) over all candidate studies, with the test for
    subgroup differences; the protocol's SUBGROUP method, which every subgroup can be fitted with."""
    if outcome not in build.results.subgroups:
        return None
    df, t = build.results.subgroups[outcome]
    df = df.assign(subgroup=df["subgroup"].map(INCLUSION_LABEL))
    return show(sensitivity_rows_gt(sensitivity_frame_rows(df, "subgroup"))
            .tab_header(title=f"{OUTCOMES[outcome]}: subgroups by population",
                        subtitle="All candidate studies; " + method_label(**SUBGROUP, long=True))
            .tab_source_note(f"Test for subgroup differences: Q = {t['q_between']:.2f}, df = {t['df']}, "
                             f"p = {t['p_value']:.3f}. Subgroups of one to five small studies: read as "
                             "description, not as evidence of a difference.")
            .pipe(house_style))
