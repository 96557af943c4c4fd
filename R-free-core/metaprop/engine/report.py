"""Plain-text print of a :class:`~metaprop.engine.results.PoolResult`, laid out as R meta 8.3's.

The block from "Number of studies" to the end of "Details of meta-analysis methods" follows
``print(metaprop(...), prediction = TRUE)`` of R meta 8.3 line by line (labels, column widths,
"< 0.0001", "tau^2 = 0", ">100.0000" for a limit at the end of the search range). Before it,
the study table; after it, what metaprop adds (study CI method, convention, notes).
"""

from __future__ import annotations

import math

from ..formatting import fmt_p
from .conventions import CONVENTIONS
from .measures import SM
from .tau2 import TAU2_LABEL

__all__ = ["format_pool", "fmt_p"]

_TAU_CI = {"QP": "Q-Profile method", "J": "Jackson method"}


def _transformation(sm: str) -> str:
    """'Logit transformation', as R meta's print names it: the measure's own label."""
    label = SM[sm].label
    return label[0].upper() + label[1:]


def _f(v, d=4):
    return "--" if v is None or not math.isfinite(v) else f"{v:.{d}f}"


def _tau(name: str, v: float) -> str:
    """``tau^2 = 0.0386`` as R meta prints it: 0 as "0", below 1e-4 as "tau^2 < 0.0001"."""
    if not math.isfinite(v):
        return f"{name} = --"
    if v == 0:
        return f"{name} = 0"
    return f"{name} < 0.0001" if v < 1e-4 else f"{name} = {v:.4f}"


def _matrix(rownames: list[str], header: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a character matrix as R's ``print`` shows it: row names left-justified, each
    column right-justified to its widest entry and preceded by one space."""
    wn = max(len(s) for s in rownames)
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    out = [" " * wn + "".join(" " + h.rjust(w) for h, w in zip(header, widths, strict=True))]
    for name, r in zip(rownames, rows, strict=True):
        out.append(name.ljust(wn) + "".join(" " + c.rjust(w) for c, w in zip(r, widths, strict=True)))
    return out


def _heterogeneity(r) -> list[str]:
    lvl = f"{100 * r.level:g}%"
    tau_ci = bool(r.method_tau_ci) and r.tau2_ci_sign != ("0", "0")
    # R meta shows the I^2 and H intervals only when the I^2 limits differ at 1 decimal
    i2_ci = math.isfinite(r.i2_ci[0]) and _f(100 * r.i2_ci[0], 1) != _f(100 * r.i2_ci[1], 1)
    has_ci = i2_ci or tau_ci
    lines = ["Quantifying heterogeneity" + (f" (with {lvl}-CIs):" if has_ci else ":")]
    tau2, tau = _tau("tau^2", r.tau2), _tau("tau", r.tau)
    if tau_ci:
        (l2, u2), (sl, su) = r.tau2_ci, r.tau2_ci_sign
        lt, ut = r.tau_ci
        tau2 += f" [{sl}{_f(l2)}; {su}{_f(u2)}]"
        tau += f" [{sl}{_f(lt)}; {su}{_f(ut)}]"
    i2 = f"I^2 = {_f(100 * r.i2, 1)}%"
    h = f"H = {_f(r.h, 2)}"
    if i2_ci:
        i2 += f" [{_f(100 * r.i2_ci[0], 1)}%; {_f(100 * r.i2_ci[1], 1)}%]"
        h += f" [{_f(r.h_ci[0], 2)}; {_f(r.h_ci[1], 2)}]"
    if tau_ci:
        lines += [f" {tau2}; {tau}", f" {i2}; {h}"]
    else:
        lines.append(f" {tau2}; {tau}; {i2}; {h}")
    return lines


def _details(r) -> list[str]:
    out = []
    if r.method == "GLMM":
        out += ["- Random intercept logistic regression model", "- Maximum-likelihood estimator for tau^2"]
    else:
        out += ["- Inverse variance method", f"- {TAU2_LABEL[r.method_tau]} for tau^2"]
        if r.method_tau_ci and r.tau2_ci_sign != ("0", "0"):
            out.append(f"- {_TAU_CI[r.method_tau_ci]} for confidence interval of tau^2 and tau")
    out.append("- Calculation of I^2 based on " + CONVENTIONS[r.convention].i2_basis)
    if r.hakn:
        out.append(f"- Hartung-Knapp adjustment for random effects model (df = {r.k - 1})")
    if math.isfinite(r.pi[0]):
        out.append("- Prediction interval based on " + {
            "k-1": f"t-distribution (df = {r.k - 1})", "k-2": f"t-distribution (df = {r.k - 2})",
            "z": "standard normal distribution"}[r.prediction_df])
    out.append(f"- {_transformation(r.sm)}")
    if r.method != "GLMM" and any(r.corrected):
        out.append(f"- Continuity correction of {r.incr:g} in studies with zero cell frequencies")
    return out


def format_pool(r) -> str:
    """Study table, then R meta 8.3's print (see the module docstring), then metaprop's notes."""
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
    if r.k > 1:
        lines.append(f"Number of studies: k = {r.k}")
    lines.append(f"Number of observations: o = {r.n_total}")
    lines.append(f"Number of events: e = {r.events_total}")
    lines.append("")

    def ci(lo, hi):
        return f"[{_f(lo)}; {_f(hi)}]" if math.isfinite(lo) else ""

    ce, cl, cu = r.back("common")
    if r.k > 1:
        re_, rl, ru = r.back("random")
        pl, pu = r.pi_proportion()
        rows = [("Common effect model", _f(ce), ci(cl, cu)), ("Random effects model", _f(re_), ci(rl, ru)),
                ("Prediction interval", "", ci(pl, pu))]
    else:
        rows = [("", _f(ce), ci(cl, cu))]
    wl = max(len(a) for a, _, _ in rows)
    wc = max(len(lvl), *(len(c) for _, _, c in rows))
    lines.append(f"{'':{wl}} {'proportion':>10} {lvl:>{wc}}")
    lines += [f"{a:{wl}} {b:>10} {c:>{wc}}" for a, b, c in rows]
    if r.k > 1:
        lines.append("")
        lines += _heterogeneity(r)
        lines.append("")
        lines.append("Test of heterogeneity:")
        if r.method == "GLMM":
            lines += _matrix([" Wald", " LRT"], ["Q", "d.f.", "p-value"],
                             [[f"{r.q:.2f}", str(r.q_df), fmt_p(r.q_pvalue)],
                              [f"{r.q_lrt:.2f}", str(r.q_df), fmt_p(r.q_lrt_pvalue)]])
        else:
            lines += _matrix([""], ["Q", "d.f.", "p-value"], [[f"{r.q:.2f}", str(r.q_df), fmt_p(r.q_pvalue)]])
        lines.append("")
        lines.append("Details of meta-analysis methods:")
    else:
        lines.append("")
        lines.append("Details:")
    lines += _details(r) if r.k > 1 else [f"- {_transformation(r.sm)}"]
    lines.append("")
    lines.append("Also reported by metaprop:")
    lines.append(f"- {'Clopper-Pearson' if r.method_ci == 'CP' else r.method_ci} confidence interval for "
                 "individual studies")
    if r.method == "GLMM" and r.iterations is not None:
        lines.append(f"- Newton's method: {r.iterations} iterations, largest gradient component "
                     f"{r.gradient_norm:.1e}")
    lines.append(f"- Conventions of R {r.convention}")
    for note in r.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)
