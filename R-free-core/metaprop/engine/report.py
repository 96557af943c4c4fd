"""Plain-text print of a :class:`~metaprop.results.PoolResult` in the style of R meta's print."""

from __future__ import annotations

import math

from .measures import SM
from .tau2 import TAU2_LABEL

__all__ = ["format_pool", "fmt_p"]


def fmt_p(p: float) -> str:
    """p-value as R meta prints it: ``< 0.0001`` below 1e-4, else 4 decimals."""
    if p is None or not math.isfinite(p):
        return "--"
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def _f(v, d=4):
    return "--" if v is None or not math.isfinite(v) else f"{v:.{d}f}"


def format_pool(r) -> str:
    """R meta style text: study table, pooled lines, heterogeneity, method details."""
    lines = []
    w = max([len(s) for s in r.studlab] + [5])
    lvl = f"{100 * r.level:g}%-CI"
    lines.append(f"{'':{w}}  {'events':>6} {'total':>6}  {'proportion':>10}  {lvl:>17}"
                 f"  {'%W(common)':>10} {'%W(random)':>10}")
    for i, s in enumerate(r.studlab):
        ci = f"[{r.study_lower[i]:.4f}; {r.study_upper[i]:.4f}]"
        lines.append(f"{s:{w}}  {r.events[i]:>6} {r.total[i]:>6}  {r.study_p[i]:>10.4f}  {ci:>17}"
                     f"  {r.w_common[i]:>10.1f} {r.w_random[i]:>10.1f}")
    lines.append("")
    lines.append(f"Number of studies: k = {r.k}")
    lines.append(f"Number of observations: o = {r.n_total}")
    lines.append(f"Number of events: e = {r.events_total}")
    lines.append("")
    lines.append(f"{'':22}{'proportion':>10}  {lvl:>17}")
    ce, cl, cu = r.back("common")
    lines.append(f"{'Common effect model':22}{ce:>10.4f}  {'[' + _f(cl) + '; ' + _f(cu) + ']':>17}")
    if r.k > 1:
        re_, rl, ru = r.back("random")
        lines.append(f"{'Random effects model':22}{re_:>10.4f}  {'[' + _f(rl) + '; ' + _f(ru) + ']':>17}")
        pl, pu = r.pi_proportion()
        lines.append(f"{'Prediction interval':22}{'':>10}  {'[' + _f(pl) + '; ' + _f(pu) + ']':>17}")
        lines.append("")
        lines.append("Quantifying heterogeneity:")
        i2 = "--" if not math.isfinite(r.i2) else f"{100 * r.i2:.1f}%"
        i2ci = ("" if not math.isfinite(r.i2_ci[0])
                else f" [{100 * r.i2_ci[0]:.1f}%; {100 * r.i2_ci[1]:.1f}%]")
        lines.append(f" tau^2 = {_f(r.tau2)}; tau = {_f(r.tau)}; I^2 = {i2}{i2ci}; H = {_f(r.h, 2)}")
        lines.append("")
        lines.append("Test of heterogeneity:")
        if r.method == "GLMM":
            lines.append(f" {'Q':>8} {'d.f.':>4}  {'p-value':>8}  Test")
            lines.append(f" {r.q:>8.2f} {r.q_df:>4}  {fmt_p(r.q_pvalue):>8}  Wald-type")
            lines.append(f" {r.q_lrt:>8.2f} {r.q_df:>4}  {fmt_p(r.q_lrt_pvalue):>8}  Likelihood-Ratio")
        else:
            lines.append(f" {'Q':>8} {'d.f.':>4}  {'p-value':>8}")
            lines.append(f" {r.q:>8.2f} {r.q_df:>4}  {fmt_p(r.q_pvalue):>8}")
    lines.append("")
    lines.append("Details on meta-analytical method:")
    if r.method == "GLMM":
        lines.append("- Random intercept logistic regression model (GLMM), 7-point adaptive "
                     "Gauss-Hermite quadrature")
        lines.append("- Maximum-likelihood estimator for tau^2")
    else:
        lines.append("- Inverse variance method")
        lines.append(f"- {TAU2_LABEL[r.method_tau]} for tau^2")
        if r.hakn:
            lines.append("- Hartung-Knapp (HK) adjustment for random effects model "
                         f"(df = {r.k - 1})")
    if r.k > 1:
        pdf = {"k-1": f"t-distribution (df = {r.k - 1})", "k-2": f"t-distribution (df = {r.k - 2})",
               "z": "standard normal quantile"}[r.prediction_df]
        lines.append(f"- Prediction interval based on {pdf}")
    lines.append(f"- {'Clopper-Pearson' if r.method_ci == 'CP' else r.method_ci} confidence "
                 "interval for individual studies")
    if r.method != "GLMM" and any(r.corrected):
        lines.append(f"- Continuity correction of {r.incr:g} in studies with zero cell frequencies")
    lines.append(f"- {SM[r.sm].label.capitalize()}")
    if r.sm == "PFT":
        lines.append(f"- Harmonic mean of sample sizes ({r.harmonic_mean_n:.2f}) used for the "
                     "back-transformation (Miller 1978)")
    lines.append(f"- Conventions of R {r.convention}")
    for note in r.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)
