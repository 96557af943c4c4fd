"""Forest and funnel plots with plotnine, in the layout R meta / RevMan users know.

The forest plot is one ggplot whose x axis holds, left to right: text columns (study, events,
total), the proportion scale from 0 to 1 (squares sized by weight, confidence-interval whiskers,
the pooled diamond and the prediction-interval bar), and text columns (proportion [95% CI],
weight). :func:`forest_data` returns every number drawn, so tests can check the plot exactly.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    annotate,
    geom_point,
    geom_polygon,
    geom_segment,
    geom_text,
    ggplot,
    labs,
    scale_size_identity,
    scale_x_continuous,
    scale_y_continuous,
    theme,
)

from ..engine.measures import SM
from ..engine.results import PoolResult
from ..formatting import estimate_ci, fmt_p, interval
from .theme import FONT_SIZE, OKABE_ITO, plain_text, theme_metaprop

__all__ = ["forest_data", "forest_plot", "model_heterogeneity_label", "forest_alt_text", "funnel_plot",
           "funnel_alt_text", "save", "draw_figures"]

# x positions of the text columns around the [0, 1] data region
X_STUDY, X_EVENTS, X_TOTAL = -1.05, -0.38, -0.18
X_EST, X_WEIGHT = 1.06, 1.75
X_MIN, X_MAX = -1.08, 1.86
MAX_SQUARE = 8.0  # point size of the heaviest study; areas are proportional to weight
#: the compact layout for phones: study (label) | plot | events/total and proportion [95% CI]
COMPACT = {"x_study": -1.32, "x_counts": -0.06, "x_est": 1.12, "x_min": -1.34, "x_max": 2.36, "width": 5.0,
           "font": 10.0, "label_chars": 15, "wrap": 58}


def _short(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "\u2026"


def _pct(v) -> str:
    return "" if v is None or not math.isfinite(v) else f"{100 * v:.1f}"


def _ci_text(p, lo, hi) -> str:
    if not all(v is not None and math.isfinite(v) for v in (p, lo, hi)):
        return ""
    return f"{100 * p:5.1f} [{100 * lo:5.1f}; {100 * hi:5.1f}]"


def heterogeneity_label(res: PoolResult) -> str:
    """'Heterogeneity: I^2 = 40%, tau^2 = 0.0026, Q = 6.67 (df = 4), p = 0.15' (R meta's line)."""
    if res.k < 2:
        return "Heterogeneity: not applicable (one study)"
    i2 = "--" if not math.isfinite(res.i2) else f"{100 * res.i2:.0f}%"
    return (f"Heterogeneity: I\u00b2 = {i2}, \u03c4\u00b2 = {res.tau2:.4f}, "
            f"Q = {res.q:.2f} (df = {res.q_df}), p = {fmt_p(res.q_pvalue)}")


def model_heterogeneity_label(bayes, profile=None) -> str:
    """'Heterogeneity: Bayesian tau = 0.74 [0.07; 1.49]; GLMM tau^2 = 3.88 [0.19; 106.3], LR test
    p = 0.008': the quantities of the models shown, each on its own likelihood. No I^2: R meta's
    (from the Wald Q of corrected logits, in summary.csv and the command line) and one computed
    from the GLMM's tau^2 can disagree (0% and 77% for weaning); the outcome page gives both, each
    with its definition, in one sentence."""
    t = bayes.tau
    out = f"Heterogeneity: Bayesian \u03c4 = {t.median:.2f} [{t.lower:.2f}; {t.upper:.2f}]"
    if profile is not None:
        lo, hi = profile.tau2_ci
        hi_txt = f"{hi:.2f}" if math.isfinite(hi) else "\u221e"
        out += (f"; GLMM \u03c4\u00b2 = {profile.tau2:.2f} [{lo:.2f}; {hi_txt}], LR test p = "
                f"{fmt_p(profile.lrt_pvalue)}")
    return out


def _compact_text(rows: list[tuple], res: PoolResult, studies: pd.DataFrame, up: float, het: str) -> list[tuple]:
    """The compact layout's text: study, n/N (right-aligned by the plot) and proportion [95% CI]
    columns; the pooled rows likewise; the heterogeneity line wrapped (rows at y = -1, -1.8, ...)."""
    import textwrap

    xs, xc, xe, n = COMPACT["x_study"], COMPACT["x_counts"], COMPACT["x_est"], COMPACT["label_chars"]

    def ci(p, lo, hi):
        return "" if not all(v is not None and math.isfinite(v) for v in (p, lo, hi)) else \
            f"{100 * p:.1f} [{100 * lo:.1f}; {100 * hi:.1f}]"

    head = rows[0][2]
    out = [("Study", xs, head, "left", "bold"), ("n/N", xc, head, "right", "bold"),
           ("%, [95% CI]", xe, head, "left", "bold")]
    for _, st in studies.iterrows():
        out += [(_short(plain_text(st["study"]), n), xs, st["y"], "left", "normal"),
                (f"{st['events']}/{st['total']}", xc, st["y"], "right", "normal"),
                (ci(st["p"], st["lower"], st["upper"]), xe, st["y"], "left", "normal")]
    names = {"Bayesian model, mean proportion": "Bayesian mean", "A new study (Bayesian)": "New study",
             "GLMM (R meta's default)": "GLMM", "Random effects model": "Pooled (RE)",
             "Prediction interval": "Prediction"}
    for label, x, y, _ha, fw in rows:
        if 0 < y <= 2.0 + up:  # the pooled rows: name, counts where pooled, interval
            if x == X_STUDY:
                out.append((_short(names.get(label, label), n), xs, y, "left", fw))
            elif x == X_EVENTS:
                out.append((f"{res.events_total}/{res.n_total}", xc, y, "right", fw))
            elif x == X_EST:
                out.append((" ".join(label.split()).replace("[ ", "["), xe, y, "left", fw))
    for i, line in enumerate(textwrap.wrap(het, COMPACT["wrap"])):
        out.append((line, xs, -1.0 - 0.8 * i, "left", "normal"))
    return out


def forest_data(res: PoolResult, bayes=None, heterogeneity: str | None = None,
                compact: bool = False) -> dict[str, pd.DataFrame]:
    """Everything the forest plot draws: ``studies``, ``pooled`` (diamond), ``pi``, ``text``, and
    with ``bayes`` (a :class:`metaprop.engine.bayes.BayesResult` of the same studies) also
    ``pooled_bayes`` and ``pi_bayes``.

    y runs downwards from the header (y = k + 4.2) and the first study (y = k + 3) to the pooled
    diamond (y = 2), the prediction interval (y = 1) and the heterogeneity line (y = -1); with
    ``bayes``, the model's diamond and new-study bar take y = 2 and 1 and everything above moves up
    by 2. For a GLMM, which has no study weights, ``weight`` is each study's share of the patients.
    ``heterogeneity`` replaces R meta's heterogeneity line.
    """
    k = res.k
    up = 2.0 if bayes is not None and k > 1 else 0.0
    if res.method == "GLMM":  # the GLMM has no study weights: squares by sample size instead
        w = 100 * np.asarray(res.total, dtype=float) / res.n_total
    else:
        w = np.asarray(res.w_random if k > 1 else [100.0])
    studies = pd.DataFrame({
        "study": res.studlab, "events": res.events, "total": res.total,
        "p": res.study_p, "lower": res.study_lower, "upper": res.study_upper, "weight": w,
        "y": np.arange(k, 0, -1, dtype=float) + 3.0 + up,
        "square": MAX_SQUARE * np.sqrt(w / w.max()),
    })
    pooled = pd.DataFrame()
    pi = pd.DataFrame()
    if k > 1:
        est, lo, hi = res.back("random")
        pooled = pd.DataFrame({"x": [lo, est, hi, est], "y": [2.0 + up, 2.25 + up, 2.0 + up, 1.75 + up],
                               "estimate": est, "lower": lo, "upper": hi})
        pil, piu = res.pi_proportion()
        if math.isfinite(pil) and math.isfinite(piu):
            pi = pd.DataFrame({"lower": [pil], "upper": [piu], "y": [1.0 + up]})
    out, bayes_rows = {}, []
    if up:  # the Bayesian model's diamond and new-study bar, and their text rows, at y = 2 and 1
        b, nb = bayes.p_mean, bayes.p_new
        out["pooled_bayes"] = pd.DataFrame({"x": [b.lower, b.median, b.upper, b.median], "y": [2.0, 2.25, 2.0, 1.75],
                                            "estimate": b.median, "lower": b.lower, "upper": b.upper})
        out["pi_bayes"] = pd.DataFrame({"lower": [nb.lower], "upper": [nb.upper], "y": [1.0]})
        bayes_rows = [("Bayesian model, mean proportion", X_STUDY, 2.0, "left", "bold"),
                      (_ci_text(b.median, b.lower, b.upper), X_EST, 2.0, "left", "bold"),
                      ("A new study (Bayesian)", X_STUDY, 1.0, "left", "normal"),
                      (f"      [{_pct(nb.lower)}; {_pct(nb.upper)}]", X_EST, 1.0, "left", "normal")]
    header_y = k + 4.2 + up
    rows = [("Study", X_STUDY, header_y, "left", "bold"), ("Events", X_EVENTS, header_y, "right", "bold"),
            ("Total", X_TOTAL, header_y, "right", "bold"),
            (f"Proportion, % [{100 * res.level:g}% CI]", X_EST, header_y, "left", "bold"),
            ("Patients" if res.method == "GLMM" else "Weight", X_WEIGHT + 0.08, header_y, "right", "bold")]
    for _, s in studies.iterrows():
        rows += [(plain_text(s["study"]), X_STUDY, s["y"], "left", "normal"),
                 (str(s["events"]), X_EVENTS, s["y"], "right", "normal"),
                 (str(s["total"]), X_TOTAL, s["y"], "right", "normal"),
                 (_ci_text(s["p"], s["lower"], s["upper"]), X_EST, s["y"], "left", "normal"),
                 (f"{s['weight']:.1f}%", X_WEIGHT + 0.08, s["y"], "right", "normal")]
    if k > 1:
        name = "GLMM (R meta's default)" if up else "Random effects model"
        rows += [(name, X_STUDY, 2.0 + up, "left", "bold"),
                 (str(res.events_total), X_EVENTS, 2.0 + up, "right", "bold"),
                 (str(res.n_total), X_TOTAL, 2.0 + up, "right", "bold"),
                 (_ci_text(*res.back("random")), X_EST, 2.0 + up, "left", "bold"),
                 ("100%", X_WEIGHT + 0.08, 2.0 + up, "right", "bold")]
        if not pi.empty:
            rows += [("Prediction interval", X_STUDY, 1.0 + up, "left", "normal"),
                     (f"      [{_pct(pi['lower'][0])}; {_pct(pi['upper'][0])}]", X_EST, 1.0 + up, "left", "normal")]
    rows += bayes_rows
    het = heterogeneity if heterogeneity is not None else heterogeneity_label(res)
    rows.append((het, X_STUDY, -1.0, "left", "normal"))
    if compact:
        rows = _compact_text(rows, res, studies, up, het)
    text = pd.DataFrame(rows, columns=["label", "x", "y", "ha", "fontweight"])
    return {"studies": studies, "pooled": pooled, "pi": pi, "text": text} | out


def forest_plot(res: PoolResult, title: str | None = None, caption: str | None = None,
                width: float = 10.0, bayes=None, heterogeneity: str | None = None, compact: bool = False):
    """Forest plot of a :class:`PoolResult` (returns a plotnine ``ggplot``, sized in code).

    Squares (area proportional to the random-effects weight; to sample size for a GLMM) with
    Clopper-Pearson whiskers,
    the pooled diamond, the prediction interval as a bar, a dashed line at the pooled estimate,
    and columns of numbers; Okabe-Ito colours. Every text at least 9 pt, so at least 9 CSS px
    where the 720-pt figure is shown 720 px wide or wider. ``compact``: the layout for phones
    (:data:`COMPACT`: 360 pt wide, 10-pt text; columns: study, n/N, plot, proportion), the same numbers and colours.
    """
    d = forest_data(res, bayes, heterogeneity, compact=compact)
    st, txt = d["studies"], d["text"]
    up = 2.0 if "pooled_bayes" in d else 0.0
    font = COMPACT["font"] if compact else FONT_SIZE
    x_min, x_max = (COMPACT["x_min"], COMPACT["x_max"]) if compact else (X_MIN, X_MAX)
    width = COMPACT["width"] if compact else width
    y_min = min(-1.5, float(txt["y"].min()) - 0.5)
    height = (0.30 if compact else 0.28) * (res.k + 7 + up + (-1.5 - y_min)) + 0.9
    p = (
        ggplot()
        + annotate("segment", x=0, xend=1, y=0.55, yend=0.55, color=OKABE_ITO["grey"], size=0.4)
    )
    for t in (0, 0.25, 0.5, 0.75, 1):
        p += annotate("segment", x=t, xend=t, y=0.55, yend=0.42, color=OKABE_ITO["grey"], size=0.4)
        p += annotate("text", x=t, y=0.3, label=f"{100 * t:g}", size=font, va="top", family="DejaVu Sans")
    p += annotate("text", x=0.5, y=-0.25, label="Proportion (%)", size=font, va="top", family="DejaVu Sans")
    if not d["pooled"].empty:
        # the dashed line marks the estimate the page leads with: the Bayesian one when shown
        est = d["pooled_bayes"]["estimate"][0] if up else d["pooled"]["estimate"][0]
        p += annotate("segment", x=est, xend=est, y=0.55, yend=res.k + 3.6 + up, linetype="dashed",
                      color=OKABE_ITO["grey"], size=0.35)
        p += geom_polygon(aes("x", "y"), data=d["pooled"], fill=OKABE_ITO["vermilion"],
                          color=OKABE_ITO["black"], size=0.3)
    if not d["pi"].empty:
        p += geom_segment(aes(x="lower", xend="upper", y="y", yend="y"), data=d["pi"],
                          color=OKABE_ITO["blue"], size=2.2)
    if up:
        p += geom_polygon(aes("x", "y"), data=d["pooled_bayes"], fill=OKABE_ITO["orange"],
                          color=OKABE_ITO["black"], size=0.3)
        p += geom_segment(aes(x="lower", xend="upper", y="y", yend="y"), data=d["pi_bayes"],
                          color=OKABE_ITO["skyblue"], size=2.2)
    p += geom_segment(aes(x="lower", xend="upper", y="y", yend="y"), data=st, color=OKABE_ITO["black"],
                      size=0.45)
    p += geom_point(aes("p", "y", size="square"), data=st, shape="s", fill=OKABE_ITO["blue"],
                    color=OKABE_ITO["blue"])
    for ha in ("left", "right"):
        for fw in ("normal", "bold"):
            sub = txt[(txt["ha"] == ha) & (txt["fontweight"] == fw)]
            if not sub.empty:
                p += geom_text(aes("x", "y", label="label"), data=sub, ha=ha, size=font,
                               fontweight=fw, family="DejaVu Sans")
    p += scale_size_identity()
    p += scale_x_continuous(limits=(x_min, x_max), breaks=[], expand=(0, 0))
    p += scale_y_continuous(limits=(y_min, res.k + 4.7 + up), expand=(0, 0))
    p += labs(x="", y="", title=title or "", caption=caption or "")
    p += theme_metaprop(base_size=font) + theme(figure_size=(width, height), axis_text_x=None, axis_title_x=None,
                                                dpi=150)
    return p


def forest_alt_text(res: PoolResult, outcome_label: str = "proportion", bayes=None,
                    heterogeneity: str | None = None) -> str:
    """Alt text that states what the figure shows, with the pooled numbers."""
    parts = [f"Forest plot of {outcome_label} in {res.k} {'study' if res.k == 1 else 'studies'} "
             f"({res.n_total} patients): one square per study, sized by weight, with its 95% "
             "confidence interval."]
    if res.k > 1:
        est, lo, hi = res.back("random")
        which = "The red diamond shows the GLMM's pooled estimate (R meta's default), " if bayes is not None else \
            "The diamond shows the pooled estimate, "
        parts.append(which + estimate_ci(est, lo, hi, unit="%", ci_label="95% CI ") + ".")
        pil, piu = res.pi_proportion()
        if math.isfinite(pil):
            parts.append(f"The blue bar is the 95% prediction interval, {interval(pil, piu, unit='%')}.")
        if bayes is not None:
            b, nb = bayes.p_mean, bayes.p_new
            parts.append("The orange diamond shows the Bayesian model's mean proportion, "
                         + estimate_ci(b.median, b.lower, b.upper, unit="%", ci_label="95% credible interval ")
                         + ", and the light blue bar the range for a new study, "
                         + f"{interval(nb.lower, nb.upper, unit='%')}.")
        het = heterogeneity if heterogeneity is not None else heterogeneity_label(res)
        parts.append(het.replace("\u00b2", "^2").replace("\u03c4", "tau") + ".")
    return " ".join(parts)


def funnel_plot(fd: pd.DataFrame, sm: str, title: str | None = None, width: float = 4.6):
    """Funnel plot from :func:`metaprop.sensitivity.funnel_data`: estimate vs standard error,
    with the common-effect estimate and its pseudo 95% limits."""
    te = float(fd["te_common"].iloc[0])
    smax = float(fd["sei"].max()) * 1.1
    se_grid = np.linspace(0, smax, 50)
    lines = pd.DataFrame({"se": np.r_[se_grid, se_grid], "x": np.r_[te - 1.96 * se_grid, te + 1.96 * se_grid],
                          "side": ["lower"] * 50 + ["upper"] * 50})
    from plotnine import element_text, geom_line, geom_vline, scale_y_reverse

    p = (ggplot(fd, aes("yi", "sei"))
         + geom_line(aes("x", "se", group="side"), data=lines, linetype="dashed", color=OKABE_ITO["grey"])
         + geom_vline(xintercept=te, color=OKABE_ITO["vermilion"])
         + geom_point(color=OKABE_ITO["blue"], size=2.5)
         + scale_y_reverse()
         + labs(x=f"Study estimate ({SM[sm].scale} scale)", y="Standard error", title=title or "")
         # 331 pt wide, every text 9 pt: at least 9 CSS px wherever it is shown at 331 px or wider
         + theme_metaprop() + theme(figure_size=(width, width * 0.75), dpi=150,
                                    axis_text=element_text(size=FONT_SIZE), axis_title=element_text(size=FONT_SIZE)))
    return p


def funnel_alt_text(fd: pd.DataFrame, sm: str) -> str:
    """The funnel plot in words (alt text), ``sm`` its summary measure (e.g. "PLOGIT")."""
    return (f"Funnel plot of {len(fd)} studies: each study's estimate on the {SM[sm].scale} scale against its "
            "standard error (larger studies at the top), with the common-effect estimate (solid line) "
            "and pseudo 95% limits (dashed). Asymmetry can suggest small-study effects; with fewer than "
            "10 studies it cannot be judged reliably.")


def save(p, *paths) -> None:
    """Save a plot deterministically (no timestamps, fixed SVG ids), as PNG or SVG by suffix.

    The plot is drawn once (plotnine's build is most of the time) and saved to each path.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "metaprop"
    fig = copy.deepcopy(p).draw()  # drawing mutates a ggplot: a second draw would stack titles
    try:
        for path in map(str, paths):
            meta = {"Date": None, "Creator": None} if path.endswith(".svg") else {"Software": None}
            fig.savefig(path, metadata=meta, dpi=150)
    finally:
        plt.close(fig)


def draw_figures(folder, results, data=None) -> dict:
    """Every figure of a build (:class:`metaprop.review.outputs.ReviewResults`) into ``folder``: per
    outcome the forest plot (SVG, PNG and a compact SVG for phones) and the funnel plot, and the
    forest plot of each reproduced published analysis; with ``data`` holding risk-of-bias judgements,
    the traffic-light plot and the summary bar. Returns the alt text of each, by file stem."""
    import textwrap
    from pathlib import Path

    from ..review.protocol import EGGER, OUTCOMES

    folder, alt = Path(folder), {}
    for o, h in results.primary.items():
        if h["result"] is not None:
            bayes = results.headlines[o].bayes
            het = (model_heterogeneity_label(bayes, results.glmm_heterogeneity.get(o))
                   if bayes is not None else None)
            p = forest_plot(h["result"], title=OUTCOMES[o], bayes=bayes, heterogeneity=het)
            save(p, folder / f"forest_{o}.svg", folder / f"forest_{o}.png")
            compact = forest_plot(h["result"], title=OUTCOMES[o], bayes=bayes, heterogeneity=het, compact=True)
            save(compact, folder / f"forest_{o}_compact.svg")
            alt[f"forest_{o}"] = forest_alt_text(h["result"], OUTCOMES[o].lower(), bayes, het)
    for rep, res in results.reproductions:
        if res is not None:
            title = f"{OUTCOMES[rep.outcome]}: {rep.source} as published"
            name = f"forest_{rep.source}_{rep.outcome}"
            save(forest_plot(res, title=title), folder / f"{name}.svg", folder / f"{name}.png")
            save(forest_plot(res, title=title, compact=True), folder / f"{name}_compact.svg")
            alt[name] = forest_alt_text(res, OUTCOMES[rep.outcome].lower())
    for o, fd in results.funnel.items():
        p = funnel_plot(fd, EGGER["sm"], title=textwrap.fill(f"{OUTCOMES[o]}: funnel plot", 40))
        save(p, folder / f"funnel_{o}.svg", folder / f"funnel_{o}.png")
        alt[f"funnel_{o}"] = funnel_alt_text(fd, EGGER["sm"])
    if data is not None and data.risk_of_bias is not None and len(data.risk_of_bias):
        from .rob_figures import rob_alt_text, summary_bar, traffic_light

        save(traffic_light(data.risk_of_bias, data.studies), folder / "risk_of_bias.svg", folder / "risk_of_bias.png")
        save(summary_bar(data.risk_of_bias, data.studies), folder / "risk_of_bias_summary.svg",
             folder / "risk_of_bias_summary.png")
        alt["risk_of_bias"] = alt["risk_of_bias_summary"] = rob_alt_text(data.risk_of_bias, data.studies)
    return alt
