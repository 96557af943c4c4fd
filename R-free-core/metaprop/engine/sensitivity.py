"""Sensitivity analyses, each returning a tidy :class:`pandas.DataFrame` (and JSON via :func:`to_json`).

=====================  ========================  ==================================================
function               R equivalent              rows
=====================  ========================  ==================================================
:func:`leave_one_out`  meta ``metainf``,         one per omitted study (+ the all-studies row)
                       metafor ``leave1out``
:func:`cumulative`     meta ``metacum``,         one per study added, in publication order
                       metafor ``cumul``
:func:`subgroup`       meta ``update(m,          one per subgroup; test for subgroup differences
                       subgroup = )``            (Q between, df, p) in ``.attrs["test"]``
:func:`method_grid`    --                        one per sm x tau^2 estimator x {z, HK}, plus GLMM
:func:`egger`          meta ``metabias``,        Egger's test (one row) and :func:`funnel_data`
                       metafor ``regtest``
=====================  ========================  ==================================================

Estimates are proportions (back-transformed); ``te`` columns keep the ``sm`` scale.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, MetapropError
from . import dist
from .conventions import check_convention
from .measures import escalc
from .pooling import pool
from .results import PoolResult, json_number, reader_notes

__all__ = ["leave_one_out", "cumulative", "subgroup", "method_grid", "egger", "funnel_data", "to_json",
           "to_text", "result_row"]


def result_row(res: PoolResult, pooled: str = "random") -> dict:
    """One tidy row from a :class:`PoolResult` (proportions; I^2 in percent)."""
    e = res.random if pooled == "random" else res.common
    est, lo, hi = res.back(pooled)
    pil, piu = res.pi_proportion() if pooled == "random" else (float("nan"), float("nan"))
    return {"k": res.k, "events": res.events_total, "patients": res.n_total, "estimate": est,
            "ci_lower": lo, "ci_upper": hi, "pi_lower": pil, "pi_upper": piu, "te": e.te, "se": e.se,
            "tau2": res.tau2, "i2": 100 * res.i2, "q": res.q,
            "q_pvalue": res.q_pvalue}


def _pool(*args, **options) -> PoolResult:
    """:func:`pool` for a table of many fits: no tau^2 CI (not shown there), and a fit that did not
    converge says so in its notes, which the row keeps, rather than as a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pool(*args, **({"method_tau_ci": ""} | options))


def _warning_notes(res: PoolResult) -> str:
    return "; ".join(n for n in res.notes if "did not converge" in n or "no finite estimate" in n)


def _row(events, total, labels, pooled, options) -> dict:
    """result_row of one fit, or empty numbers with the reason in ``note`` when it cannot be fitted."""
    try:
        res = _pool(events, total, labels, **options)
    except MetapropError as exc:
        return {"k": len(events), "note": str(exc)}
    return result_row(res, pooled) | {"note": _warning_notes(res)}


def _labels(events, labels):
    return [str(s) for s in labels] if labels is not None else [str(i + 1) for i in range(len(events))]


def leave_one_out(events, total, labels=None, *, pooled: str = "random", **options) -> pd.DataFrame:
    """Pooled results omitting each study in turn (R meta ``metainf``, metafor ``leave1out``).

    Parameters
    ----------
    events, total, labels
        Study data.
    pooled : {"random", "common"}
        Which pooled estimate to report (meta's ``pooled`` argument).
    **options
        Passed to :func:`metaprop.pool`.

    Returns
    -------
    DataFrame
        Columns ``omitted, k, estimate, ci_lower, ci_upper, pi_lower, pi_upper, te, se, tau2, i2, q``;
        the last row (``omitted = "None"``) pools all studies.
    """
    x = np.asarray(events)
    n = np.asarray(total)
    lab = _labels(x, labels)
    if len(x) < 2:
        raise MetapropError("leave-one-out needs at least 2 studies")
    rows = []
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        rows.append({"omitted": lab[i]} | _row(x[keep], n[keep], [lab[j] for j in np.flatnonzero(keep)],
                                               pooled, options))
    rows.append({"omitted": "None"} | _row(x, n, lab, pooled, options))
    return pd.DataFrame(rows)


def cumulative(table: pd.DataFrame, by: str = "year", *, pooled: str = "random", **options) -> pd.DataFrame:
    """Cumulative meta-analysis in the order of ``by`` (R meta ``metacum``, metafor ``cumul``).

    ``table`` needs columns ``events, total`` and ``by``; ``label`` or ``study`` names the rows.
    Ties keep the table's order (a stable sort, as R's ``order``).
    """
    if by not in table.columns:
        raise MetapropError(f"no column {by!r} to order the cumulative meta-analysis by")
    t = table.sort_values(by, kind="stable").reset_index(drop=True)
    lab = list(t["label"] if "label" in t.columns else t["study"] if "study" in t.columns else
               [str(i + 1) for i in range(len(t))])
    rows = []
    for i in range(len(t)):
        rows.append({"added": lab[i], by: t[by].iloc[i]} | _row(
            t["events"].to_numpy(float)[: i + 1], t["total"].to_numpy(float)[: i + 1], lab[: i + 1], pooled,
            options))
    return pd.DataFrame(rows)


def subgroup(table: pd.DataFrame, by: str, *, pooled: str = "random", **options) -> pd.DataFrame:
    r"""Pooled estimate per subgroup and the test for subgroup differences.

    Each subgroup has its own :math:`\tau^2` (R meta ``tau.common = FALSE``). The test is
    :math:`Q_b = \sum_g w_g(\hat\theta_g-\bar\theta)^2`, :math:`w_g = 1/\operatorname{SE}_g^2`,
    against :math:`\chi^2_{G-1}` (Borenstein et al. 2009, ch. 19), on the ``sm`` scale.

    Returns
    -------
    DataFrame
        One row per subgroup; ``.attrs["test"]`` holds ``q_between, df, p_value``.
    """
    if by not in table.columns:
        raise MetapropError(f"no column {by!r} for subgroups")
    if table[by].isna().any():
        raise MetapropError(f"column {by!r} has empty cells; every study needs a subgroup")
    rows, te, se = [], [], []
    lab_col = "label" if "label" in table.columns else "study" if "study" in table.columns else None
    for g, part in table.groupby(by, sort=True, observed=True):
        labels = list(part[lab_col]) if lab_col else None
        res = _pool(part["events"].to_numpy(float), part["total"].to_numpy(float), labels, **options)
        e = res.random if pooled == "random" else res.common
        te.append(e.te)
        se.append(e.se)
        rows.append({"subgroup": g} | result_row(res, pooled))
    out = pd.DataFrame(rows)
    te, se = np.array(te), np.array(se)
    ok = np.isfinite(te) & np.isfinite(se) & (se > 0)
    if ok.sum() >= 2:
        w = 1 / se[ok] ** 2
        qb = float(np.sum(w * (te[ok] - np.sum(w * te[ok]) / w.sum()) ** 2))
        df = int(ok.sum() - 1)
        out.attrs["test"] = {"q_between": qb, "df": df, "p_value": float(dist.chi2_sf(qb, df))}
    else:
        out.attrs["test"] = {"q_between": float("nan"), "df": 0, "p_value": float("nan")}
    return out


SM_GRID = ("PLOGIT", "PFT", "PAS", "PRAW")
TAU_GRID = ("REML", "DL", "PM", "ML")


def method_grid(events, total, labels=None, *, incr: float = 0.5, convention: str = "meta",
                level: float = 0.95) -> pd.DataFrame:
    """Every ``sm`` x tau^2 estimator x {z, Hartung-Knapp} random-effects analysis, plus GLMM.

    A row that cannot be computed (e.g. GLMM when every study has 100% events) is kept with
    empty numbers and the reason in ``note``.
    """
    rows = []
    specs = [("GLMM", "PLOGIT", "ML", False)]
    specs += [("Inverse", sm, mt, hk) for sm in SM_GRID for mt in TAU_GRID for hk in (False, True)]
    for method, sm, mt, hk in specs:
        spec = {"method": method, "sm": sm, "method_tau": mt, "ci": "HK" if hk else "z"}
        try:
            res = _pool(events, total, labels, sm=sm, method=method, method_tau=mt, hakn=hk, incr=incr,
                        convention=convention, level=level)
            rows.append(spec | result_row(res) | {"note": "; ".join(reader_notes(res.notes))})
        except MetapropError as exc:
            rows.append(spec | {"note": str(exc)})
    return pd.DataFrame(rows)


def funnel_data(events, total, labels=None, *, sm: str = "PLOGIT", incr: float = 0.5,
                convention: str = "meta") -> pd.DataFrame:
    """Study estimates and standard errors for a funnel plot, with the common-effect estimate."""
    yi, vi, _ = escalc(events, total, sm, incr, correct_yi=check_convention(convention).praw_correct_yi)
    res = _pool(events, total, labels, sm=sm, method="Inverse", method_tau="DL", incr=incr,
               convention=convention)
    return pd.DataFrame({"study": _labels(np.asarray(events), labels), "yi": yi, "sei": np.sqrt(vi),
                         "te_common": res.common.te})


def egger(events, total, labels=None, *, sm: str = "PLOGIT", incr: float = 0.5,
          convention: str = "meta", allow_corrected: bool = False) -> pd.DataFrame:
    r"""Egger's regression test for small-study effects (R meta ``metabias(method.bias = "Egger")``).

    Ordinary least squares of :math:`y_i/\operatorname{SE}_i` on :math:`1/\operatorname{SE}_i`;
    the intercept is tested with :math:`t_{k-2}` (Egger et al. 1997), equivalent to metafor
    ``regtest(rma(yi, vi, method = "EE"), model = "lm", predictor = "sei")``. Fewer than 10
    studies give too little power to rule out small-study effects: a warning is added in ``note``.

    Refused (:class:`MetapropError` with the reason) when the regression is undefined (every
    standard error equal, e.g. equal n under PAS or PFT) or when continuity-corrected 0% or 100%
    studies make it an artefact (their estimate and SE are both functions of n);
    ``allow_corrected=True`` computes it anyway, as R (``metabias``, ``regtest``) does.

    Returns
    -------
    DataFrame
        One row: ``k, intercept, se, statistic, df, p_value, limit_estimate, note``.
    """
    fd = funnel_data(events, total, labels, sm=sm, incr=incr, convention=convention)
    k = len(fd)
    if k < 3:
        raise MetapropError("Egger's test needs at least 3 studies")
    _, _, corrected = escalc(events, total, sm, incr, correct_yi=check_convention(convention).praw_correct_yi)
    if corrected.any() and not allow_corrected:
        raise MetapropError(
            f"Egger's test is not reported: {int(corrected.sum())} of {k} studies have 0% or 100% events, "
            f"whose continuity-corrected {sm} estimates and standard errors both depend on the study size, "
            "so the regression would measure the correction, not small-study effects")
    z = fd["yi"].to_numpy() / fd["sei"].to_numpy()
    prec = 1 / fd["sei"].to_numpy()
    if np.ptp(prec) <= 1e-8 * np.max(prec):
        raise MetapropError(
            f"Egger's test is not reported: every study has the same standard error on the {sm} scale "
            "(equal sample sizes), so the regression on precision is undefined")
    X = np.column_stack([np.ones(k), prec])
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ beta
    sigma2 = float(resid @ resid) / (k - 2)
    cov = sigma2 * np.linalg.inv(X.T @ X)
    se = math.sqrt(cov[0, 0])
    t = beta[0] / se
    p = 2 * dist.t_sf(abs(t), k - 2)
    note = ("Fewer than 10 studies: the test has low power and cannot rule out small-study effects "
            "(Sterne et al. 2011)." if k < 10 else "")
    return pd.DataFrame([{"k": k, "sm": sm, "intercept": float(beta[0]), "se": se, "statistic": float(t),
                          "df": k - 2, "p_value": float(p), "limit_estimate": float(beta[1]),
                          "note": note}])


def to_json(df: pd.DataFrame) -> str:
    """JSON for the command line: records with NaN as null, plus ``attrs`` (subgroup test)."""
    records = [{k: (json_number(v) if isinstance(v, float) else v.item() if hasattr(v, "item") else v)
                for k, v in row.items()} for row in df.to_dict(orient="records")]
    out = {"rows": records}
    if df.attrs:
        out["test"] = {k: json_number(v) if isinstance(v, float) else v for k, v in df.attrs["test"].items()}
    return json.dumps(out, indent=2)


def to_text(df: pd.DataFrame) -> str:
    """A plain table for the terminal."""
    with pd.option_context("display.max_columns", 30, "display.width", 160,
                           "display.float_format", lambda v: f"{v:.4f}"):
        text = df.to_string(index=False)
    if df.attrs.get("test"):
        t = df.attrs["test"]
        text += (f"\n\nTest for subgroup differences: Q = {t['q_between']:.2f}, df = {t['df']}, "
                 f"p = {t['p_value']:.4f}")
    return text
