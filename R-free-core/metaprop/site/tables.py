"""Tables with great-tables: each builder takes data or results and returns a ``GT``.

Apply the house style with ``.pipe(house_style)``; pages display ``show(gt)``: the table's HTML in
a focusable, labelled region that scrolls sideways on a narrow screen instead of widening the page
(Quarto must leave its CSS alone: ``html-table-processing: none`` in ``_quarto.yml``). It reaches
Quarto as a raw-HTML Markdown block, not as ``text/html`` output: Quarto loads require.js and jQuery
from a CDN for any page with ``text/html`` cell output.
"""

from __future__ import annotations

import html
import math

import pandas as pd
from great_tables import GT, loc, style

from ..engine.report import fmt_p
from ..engine.results import PoolResult
from ..formatting import DASH, estimate_ci, interval, method_label
from ..review.analyses import summary_values
from ..review.data import StudyData
from ..review.protocol import OUTCOMES

__all__ = ["HtmlTable", "show", "house_style", "study_table", "completeness_table", "results_table", "results_frame",
           "sensitivity_table", "grid_table", "reproduction_frame", "reproduction_table", "dictionary_table",
           "study_frame", "completeness_frame"]



class HtmlTable:
    """A ``GT`` as Quarto should show it: raw HTML in a scrollable region that takes focus."""

    def __init__(self, gt: GT):
        self.gt = gt

    @property
    def label(self) -> str:
        heading = getattr(self.gt, "_heading", None)
        return str(getattr(heading, "title", None) or "Table")

    def as_html(self) -> str:
        return (f'<div class="table-responsive" tabindex="0" role="region" '
                f'aria-label="{html.escape(self.label, quote=True)}">\n'
                f"{self.gt.as_raw_html()}\n</div>")

    def _repr_markdown_(self) -> str:
        return "```{=html}\n" + self.as_html() + "\n```\n"


def show(gt: GT) -> HtmlTable:
    """Wrap a finished ``GT`` for a page (see the module docstring)."""
    return HtmlTable(gt)


def house_style(gt: GT) -> GT:
    """Compact, left-aligned, grey header: the site's look for every table."""
    return gt.tab_options(table_font_size="13px", heading_align="left", column_labels_font_weight="bold",
                          table_width="100%", data_row_padding="3px",
                          source_notes_font_size="12px").opt_horizontal_padding(scale=1.5)


def _stat(mean, sd, median) -> str:
    if pd.notna(mean) and pd.notna(sd):
        return f"{mean:g} \u00b1 {sd:g}"
    if pd.notna(mean):
        return f"{mean:g}"
    if pd.notna(median):
        return f"{median:g} (median)"
    return DASH


def _follow_up(r) -> str:
    u = r["follow_up_unit"] if pd.notna(r["follow_up_unit"]) else ""
    if pd.notna(r["follow_up_mean"]) or pd.notna(r["follow_up_median"]):
        s = _stat(r["follow_up_mean"], r["follow_up_sd"], r["follow_up_median"])
        if pd.notna(r["follow_up_min"]):
            s += f", {r['follow_up_min']:g}-{r['follow_up_max']:g}"
        return f"{s} {u}".strip()
    return r["follow_up_reported"] if pd.notna(r["follow_up_reported"]) else DASH


INCLUSION_LABEL = {"primary": "Primary", "sensitivity_population": "Sensitivity (broader population)",
                   "sensitivity_retracted": "Sensitivity (retracted)", "excluded": "Excluded"}


def study_frame(data: StudyData) -> pd.DataFrame:
    st = data.studies.sort_values(["year", "label"])
    return pd.DataFrame({
        "Study": st["label"], "Year": st["year"].astype(int),
        "Design": st["design"].fillna(DASH), "Country": st["country"].fillna(DASH),
        "n": st["n_crt"].astype("Int64").astype(str).replace("<NA>", DASH),
        "Age, years": [_stat(a, b, c) for a, b, c in zip(st["age_mean"], st["age_sd"], st["age_median"], strict=True)],
        "LVEF, %": [_stat(a, b, c) for a, b, c in zip(st["lvef_mean"], st["lvef_sd"], st["lvef_median"], strict=True)],
        "QRS, ms": [_stat(a, b, c) for a, b, c in zip(st["qrs_mean"], st["qrs_sd"], st["qrs_median"], strict=True)],
        "NYHA IV, %": st["nyha_iv_pct"].map(lambda v: DASH if pd.isna(v) else f"{v:g}"),
        "Follow-up": [_follow_up(r) for _, r in st.iterrows()],
        "Inclusion": st["inclusion"].map(INCLUSION_LABEL),
        "Retracted": st["retracted"].map({True: "RETRACTED", False: ""}),
        "In 2018 review": st["hernandez2018"].astype(str),
    })


def study_table(data: StudyData) -> GT:
    """Study characteristics with units, inclusion status and retraction flags."""
    df = study_frame(data)
    return (GT(df).tab_header(title="Study characteristics",
                              subtitle=f"{len(df)} candidate studies; data version {data.version}")
            .tab_style(style=[style.text(color="#A33A00", weight="bold")],
                       locations=loc.body(columns="Retracted"))
            .tab_source_note("Mean \u00b1 SD unless marked median; n = patients on intravenous inotropes "
                             f"who received CRT; {DASH} = not reported in the sources read. Baseline values of "
                             "PMID 21664704 describe its whole cohort.")
            .pipe(house_style))


def completeness_frame(data: StudyData) -> pd.DataFrame:
    st = data.studies.sort_values(["year", "label"])
    oc = data.outcomes.set_index(["study_id", "outcome"])
    out = {"Study": list(st["label"]), "Inclusion": list(st["inclusion"].map(INCLUSION_LABEL))}
    for o in OUTCOMES:
        col = []
        for sid in st["study_id"]:
            if (sid, o) in oc.index:
                r = oc.loc[(sid, o)]
                flag = {"reported": "", "derived": " (derived)", "derived_from_percent": " (from %)"}[r["derivation"]]
                col.append(f"{r['events']}/{r['total']}{flag}")
            else:
                col.append("missing")
        out[o] = col
    baseline = ["age_mean", "lvef_mean", "qrs_mean", "nyha_iv_pct", "follow_up_reported"]
    out["Baseline cells empty"] = [int(sum(pd.isna(r[c]) for c in baseline)) for _, r in st.iterrows()]
    return pd.DataFrame(out)


def completeness_table(data: StudyData) -> GT:
    """Which counts exist, how they were obtained, and which cells contributors can still fill."""
    df = completeness_frame(data)
    gt = GT(df).cols_label(**{o: OUTCOMES[o] for o in OUTCOMES})
    for o in OUTCOMES:
        gt = gt.tab_style(style=[style.fill(color="#FBE3D6"), style.text(color="#7A2E00")],
                          locations=loc.body(columns=o, rows=df.index[df[o] == "missing"].tolist()))
    return (gt.tab_header(title="Data completeness", subtitle="events/total per outcome; 'missing' = not in "
                                                              "the sources read yet")
            .tab_source_note("(derived) follows logically from the source; (from %) is a percentage times n, "
                             "rounded. Baseline cells counted: age, LVEF, QRS, NYHA IV, follow-up.")
            .pipe(house_style))


def method_text(res: PoolResult) -> str:
    if res.method == "GLMM":
        return method_label(res.sm, res.method, res.method_tau, long=True)
    return f"Inverse variance, {method_label(res.sm, res.method, res.method_tau)}" + (
        ", Hartung-Knapp" if res.hakn else "")


def results_frame(results: list[tuple[str, PoolResult]]) -> pd.DataFrame:
    rows = []
    for label, r in results:
        e, lo, hi, pil, piu = summary_values(r)
        est = estimate_ci(e, lo, hi)
        pi = interval(pil, piu)
        het = f"{100 * r.i2:.0f}%" if r.k > 1 and math.isfinite(r.i2) else DASH
        rows.append({"Analysis": label, "k": r.k, "Events/total": f"{r.events_total}/{r.n_total}",
                     "Estimate, % (95% CI)": est, "Prediction interval, %": pi,
                     "\u03c4\u00b2": DASH if r.k == 1 else f"{r.tau2:.4f}", "I\u00b2": het,
                     "Q (df), p": DASH if r.k == 1 else f"{r.q:.2f} ({r.q_df}), {fmt_p(r.q_pvalue)}",
                     "Method": method_text(r), "Notes": " ".join(n for n in r.notes
                                                                if not n.startswith("GLMM: study weights"))})
    return pd.DataFrame(rows)


def results_table(results: list[tuple[str, PoolResult]], title: str = "Pooled results") -> GT:
    """k, events/total, estimate with 95% CI, prediction interval, tau^2, I^2, Q (df) with p, method."""
    return (GT(results_frame(results)).tab_header(title=title)
            .tab_source_note("k = 1: the study's own proportion with its Clopper-Pearson interval. "
                             "I\u00b2 = (Q - df)/Q (R meta); for a GLMM, Q is the Wald-type test of the "
                             "saturated model.")
            .pipe(house_style))


def sensitivity_table(df: pd.DataFrame, first: str, title: str) -> GT:
    """Leave-one-out or cumulative table from :mod:`metaprop.sensitivity`."""
    return GT(sensitivity_frame_rows(df, first)).tab_header(title=title).pipe(house_style)


def sensitivity_frame_rows(df: pd.DataFrame, first: str) -> pd.DataFrame:
    """Display rows for a tidy sensitivity frame: label, k, estimate (CI), tau^2, I^2, note."""
    labels = [str(v) for v in df[first]]
    if first == "omitted":  # leave-one-out: the engine's last row pools all studies (a placeholder label)
        labels[-1] = "none (all studies)"
    return pd.DataFrame({
        first.capitalize(): labels, "k": df["k"],
        "Estimate, % (95% CI)": [estimate_ci(a, b, c) for a, b, c in zip(df["estimate"], df["ci_lower"],
                                                                         df["ci_upper"], strict=True)],
        "\u03c4\u00b2": df["tau2"].map(lambda v: DASH if pd.isna(v) else f"{v:.4f}"),
        "I\u00b2, %": df["i2"].map(lambda v: DASH if pd.isna(v) else f"{v:.0f}"),
        "Note": df["note"].fillna("") if "note" in df.columns else [""] * len(df),
    })


def grid_table(df: pd.DataFrame, title: str = "Every method") -> GT:
    out = pd.DataFrame({
        "Method": df["method"], "sm": df["sm"], "\u03c4\u00b2 estimator": df["method_tau"], "CI": df["ci"],
        "Estimate, % (95% CI)": [estimate_ci(a, b, c) for a, b, c in zip(df["estimate"], df["ci_lower"],
                                                                         df["ci_upper"], strict=True)],
        "Prediction interval, %": [interval(a, b) for a, b in zip(df["pi_lower"], df["pi_upper"], strict=True)],
        "\u03c4\u00b2": df["tau2"].map(lambda v: DASH if pd.isna(v) else f"{v:.4f}"),
        "Note": df["note"].fillna(""),
    })
    return (GT(out).tab_header(title=title, subtitle="sm x tau\u00b2 estimator x {z, Hartung-Knapp}, plus GLMM")
            .tab_source_note("PRAW can give limits outside 0-100%; PLOGIT needs a continuity correction for "
                             "0% or 100% studies; PFT and PAS need none; GLMM uses the binomial likelihood.")
            .pipe(house_style))


def reproduction_frame(data: StudyData) -> pd.DataFrame:
    from ..review.analyses import reproduce
    from ..review.protocol import REPRODUCTIONS

    pub = data.published.set_index(["source", "outcome"])
    rows = []
    for rep in REPRODUCTIONS:
        p = pub.loc[(rep.source, rep.outcome)]
        res = reproduce(data, rep)
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


def reproduction_table(data: StudyData) -> GT:
    return (GT(reproduction_frame(data)).tab_header(title="Published analyses and our re-analysis")
            .pipe(house_style))


def dictionary_table(data: StudyData, resource: str) -> GT:
    """Data dictionary of one resource from ``datapackage.json`` (type, unit, constraints)."""
    rows = []
    for f in data.fields(resource):
        c = f.get("constraints", {})
        cons = ", ".join(f"{k} {v}" if k != "enum" else "one of " + " | ".join(v) for k, v in c.items()
                         if k != "required")
        rows.append({"Column": f["name"], "Type": f.get("type", "string"), "Unit": f.get("unit", ""),
                     "Required": "yes" if c.get("required") else "", "Allowed values": cons,
                     "Description": f.get("description", "")})
    return GT(pd.DataFrame(rows)).tab_header(title=f"{resource}.csv").pipe(house_style)

