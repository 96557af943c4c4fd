r"""Inverse-variance pooling of proportions: common effect and random effects.

.. math::
    \hat\mu = \frac{\sum w_i y_i}{\sum w_i},\quad \operatorname{SE}(\hat\mu) = (\textstyle\sum w_i)^{-1/2},
    \quad w_i = 1/(v_i + \hat\tau^2)

(common effect: :math:`\hat\tau^2 = 0`). Hartung-Knapp-Sidik-Jonkman (``hakn=True``):
:math:`\operatorname{SE}_{HK}^2 = \sum w_i (y_i-\hat\mu)^2 / \{(k-1)\sum w_i\}` with a
:math:`t_{k-1}` quantile. Prediction interval (Higgins, Thompson & Spiegelhalter 2009):
:math:`\hat\mu \pm q \sqrt{\hat\tau^2 + \operatorname{SE}(\hat\mu)^2}`, :math:`q` from
:math:`t_{k-1}` (R meta >= 8), :math:`t_{k-2}` (meta <= 7) or :math:`N(0,1)` (metafor).

References
----------
Hartung J, Knapp G (2001). Stat Med 20:3875-3889. doi:10.1002/sim.1009
Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558. doi:10.1002/sim.1186
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). J R Stat Soc A 172:137-159.
doi:10.1111/j.1467-985X.2008.00552.x
Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Rücker G (2019). Res Synth Methods 10:476-483.
doi:10.1002/jrsm.1348
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MetapropError
from .conventions import check_convention
from .inference import heterogeneity_h_i2, i2_tau2, prediction_interval, q_test, random_effects, study_fields, wald
from .measures import check_sm, escalc
from .options import check_option
from .results import BACK_TRANSFORMATION, PoolResult
from .study_ci import study_ci
from .tau2_ci import tau2_ci_jackson, tau2_ci_qprofile

__all__ = ["pool", "random_effects", "check_counts"]

MAX_TOTAL = 1e15  # counts stay exact in floating point (< 2^53) and in int64


def check_counts(events, total, studlab=None):
    """Validate counts; return ``(events, total, studlab)`` as int arrays and a tuple of labels.

    Raises :class:`MetapropError` naming the study (by label and position) and the fault.
    """
    try:
        x = np.asarray(events, dtype=float)
        n = np.asarray(total, dtype=float)
    except (TypeError, ValueError):
        raise MetapropError("events and total must be numbers") from None
    if x.ndim > 1 or n.ndim > 1:
        raise MetapropError(f"events and total must be one-dimensional (one count per study), not of shape "
                            f"{x.shape if x.ndim > 1 else n.shape}")
    x, n = x.ravel(), n.ravel()
    if len(x) != len(n):
        raise MetapropError(f"events and total differ in length ({len(x)} vs {len(n)})")
    if len(x) == 0:
        raise MetapropError("no studies (k = 0)")
    labels = (tuple(str(s) for s in studlab) if studlab is not None
              else tuple(str(i + 1) for i in range(len(x))))
    if len(labels) != len(x):
        raise MetapropError(f"studlab has {len(labels)} labels for {len(x)} studies")
    if len(x) > 32:  # many studies: one vectorised pass; the loop below names the first bad one
        with np.errstate(invalid="ignore"):
            ok = (np.isfinite(x) & np.isfinite(n) & (x == np.floor(x)) & (n == np.floor(n)) & (x >= 0)
                  & (n >= 1) & (n <= MAX_TOTAL) & (x <= n))
        if ok.all():
            return x.astype(int), n.astype(int), labels
    for i, (xi, ni) in enumerate(zip(x.tolist(), n.tolist(), strict=True)):
        where = f"study {i + 1} ({labels[i]})"
        for name, v in (("events", xi), ("total", ni)):
            if not math.isfinite(v):
                raise MetapropError(f"{where}: {name} is missing or not a number")
            if v != int(v):
                raise MetapropError(f"{where}: {name} = {v:g} is not a whole number")
            if v < 0:
                raise MetapropError(f"{where}: {name} = {v:g} is negative")
        if ni < 1:
            raise MetapropError(f"{where}: total = {ni:g}; must be at least 1")
        if ni > MAX_TOTAL:
            raise MetapropError(f"{where}: total = {ni:g} is too large (at most 10^15 patients per study)")
        if xi > ni:
            raise MetapropError(f"{where}: events = {xi:g} > total = {ni:g}")
    return x.astype(int), n.astype(int), labels


def pool(events, total, studlab=None, *, sm: str = "PLOGIT", method: str | None = None,
         method_tau: str | None = None, hakn: bool = False, prediction_df: str | None = None,
         incr: float = 0.5, convention: str = "meta", level: float = 0.95,
         method_ci: str = "CP", tau2_algorithm: str = "metafor",
         method_tau_ci: str | None = None) -> PoolResult:
    r"""Meta-analysis of single proportions, as R ``meta::metaprop``.

    Parameters
    ----------
    events, total : array_like of int
        Events :math:`x_i` and patients :math:`n_i` per study.
    studlab : sequence of str, optional
        Study labels.
    sm : {"PLOGIT", "PRAW", "PAS", "PFT"}
        Summary measure (R meta names).
    method : {"Inverse", "GLMM"}, optional
        Pooling method. Default as R meta: ``"GLMM"`` for PLOGIT, ``"Inverse"`` otherwise; but
        ``"Inverse"`` whenever ``method_tau`` is given and is not ``"ML"``, ``hakn=True``, or
        ``convention="metafor"`` (metafor's ``rma()``), since those only make sense for it.
    method_tau : {"REML", "DL", "PM", "ML"}, optional
        :math:`\tau^2` estimator; default ``"ML"`` for GLMM and ``"REML"`` otherwise (R meta).
    hakn : bool
        Hartung-Knapp-Sidik-Jonkman CI for the random-effects estimate.
    prediction_df : {"k-1", "k-2", "z"}, optional
        Quantile for the prediction interval; default from ``convention``.
    incr : float
        Continuity correction for 0 or n events (PRAW, PLOGIT).
    convention : {"meta", "metafor"}
        Whose behaviour to follow where the two R packages differ (see
        :mod:`metaprop.conventions`).
    level : float
        Confidence level for study and pooled intervals.
    method_ci : {"CP", "WS", "Wald"}
        Study-level confidence interval.
    method_tau_ci : {"QP", "J", ""}, optional
        Confidence interval for :math:`\tau^2` and :math:`\tau` (R meta ``method.tau.ci``):
        Q-profile, Jackson's, or none (faster, for sensitivity analyses that do not show it).
        Default as R meta: ``"J"`` for DL, ``"QP"`` otherwise.
    tau2_algorithm : {"metafor", "exact"}
        How REML, ML and PM are solved. ``"metafor"`` (default): metafor's Fisher scoring and
        ``uniroot`` with their stopping rules (change in :math:`\tau^2` at most 1e-5; PM
        tolerance :math:`\epsilon^{1/4}`), which R meta calls, so the numbers are R meta's and
        metafor's to the last digit. ``"exact"``: the global maximum of the (restricted)
        likelihood, or the PM root, to machine precision; it can differ from R in the fifth
        decimal of :math:`\tau^2` (and finds an interior maximum where Fisher scoring can stop
        at a worse point).

    Returns
    -------
    PoolResult

    Notes
    -----
    R equivalent: ``meta::metaprop(event, n, sm = "PLOGIT", method = "Inverse",
    method.tau = "REML")`` or ``metafor::rma(measure = "PLO", xi = event, ni = n)``.

    Examples
    --------
    >>> r = pool([10, 9, 20, 9, 11], [10, 10, 20, 14, 11], sm="PRAW", method_tau="DL",
    ...          convention="metafor")
    >>> round(r.random.te, 4), r.k
    (0.9345, 5)
    """
    check_sm(sm)
    conv = check_convention(convention)
    if method is None:
        # R meta's default (GLMM for PLOGIT), unless the other options ask for inverse variance:
        # a tau^2 estimator other than ML, Hartung-Knapp, or metafor's conventions (rma())
        wants_iv = (method_tau not in (None, "ML")) or hakn or not conv.default_glmm
        method = "GLMM" if sm == "PLOGIT" and not wants_iv else "Inverse"
    check_option("method", method)
    if method_tau is None:
        method_tau = "ML" if method == "GLMM" else "REML"
    check_option("method_tau", method_tau)
    if prediction_df is None:
        prediction_df = conv.prediction_df_hakn if hakn else conv.prediction_df
    check_option("prediction_df", prediction_df)
    if not (0 < level < 1):
        raise MetapropError(f"Invalid level {level!r}; must be between 0 and 1.")
    if method_tau_ci is None:
        method_tau_ci = "J" if method_tau == "DL" else "QP"
    check_option("method_tau_ci", method_tau_ci)
    check_option("tau2_algorithm", tau2_algorithm)
    if not (incr >= 0 and math.isfinite(incr)):
        raise MetapropError(f"Invalid incr {incr!r}; must be a number >= 0.")
    x, n, labels = check_counts(events, total, studlab)
    p, lo, hi = study_ci(x, n, method_ci, level)
    if method == "GLMM":
        if sm != "PLOGIT":
            raise MetapropError("method 'GLMM' needs sm 'PLOGIT' (as R meta).")
        if method_tau != "ML":
            raise MetapropError("method 'GLMM' estimates tau^2 by maximum likelihood: "
                                "method_tau must be 'ML' (as R meta).")
        from .glmm import pool_glmm

        return pool_glmm(x, n, labels, hakn=hakn, prediction_df=prediction_df, level=level,
                         convention=conv.name, method_ci=method_ci, study=(p, lo, hi))

    yi, vi, corrected = escalc(x, n, sm, incr, correct_yi=conv.praw_correct_yi)
    k = len(yi)
    notes: list[str] = []
    if corrected.any():
        notes.append(f"Continuity correction of {incr:g} added to events and non-events of "
                     f"{int(corrected.sum())} {'study' if corrected.sum() == 1 else 'studies'} "
                     "with 0 or n events.")
    if sm == "PFT":
        notes.append(f"{BACK_TRANSFORMATION} of pooled values by Miller (1978) at the harmonic "
                     f"mean of the sample sizes ({k / np.sum(1.0 / n):.2f}).")
    bad = ~(np.isfinite(yi) & (vi > 0))
    if bad.any():  # only with incr = 0: a 0% or 100% study has an infinite logit or variance 0
        i = int(np.argmax(bad))
        raise MetapropError(
            f"study {i + 1} ({labels[i]}): with incr = 0 its {sm} estimate has "
            f"{'an infinite value' if not np.isfinite(yi[i]) else 'variance 0'} ({x[i]} of {n[i]} events); "
            "use incr > 0 (R meta's default is 0.5) or method GLMM")
    w = 1.0 / vi
    common = wald((w * yi).sum() / w.sum(), math.sqrt(1.0 / w.sum()), level)
    fields = dict(sm=sm, method="Inverse", method_tau=method_tau, hakn=hakn, convention=conv.name,
                  level=level, incr=incr, method_ci=method_ci, prediction_df=prediction_df,
                  **study_fields(labels, x, n, yi, vi, corrected, (p, lo, hi)))
    if k == 1:
        notes.append("Only one study: its own estimate is reported; no heterogeneity statistics.")
        nan = float("nan")
        if conv.one_study_zero:  # metafor: tau^2 = 0, I^2 = 0, H^2 = 1, prediction interval = CI
            return PoolResult(**fields, w_common=(100.0,), w_random=(100.0,), common=common, random=common,
                              pi=(common.lower, common.upper), tau2=0.0, q=0.0, q_df=0, q_pvalue=nan,
                              i2=0.0, i2_ci=(nan, nan), h=1.0, notes=tuple(notes))
        return PoolResult(**fields, w_common=(100.0,), w_random=(100.0,), common=common, random=common,
                          pi=(nan, nan), tau2=nan, q=0.0, q_df=0, q_pvalue=nan, i2=nan, i2_ci=(nan, nan),
                          h=nan, notes=tuple(notes))
    q, q_df, q_p, _, _ = q_test(yi, vi)
    h, h_ci, i2, i2_ci = heterogeneity_h_i2(q, k, level)  # with their intervals at this level
    tau2, random = random_effects(yi, vi, method_tau, hakn, level, tau2_algorithm)
    wr = 1.0 / (vi + tau2)
    # R meta: the classic SE also under Hartung-Knapp; metafor's predict(): the model's SE
    pi_se = math.sqrt(1.0 / wr.sum()) if conv.prediction_se == "classic" else random.se
    pi = prediction_interval(random.te, pi_se, tau2, k, prediction_df, level)
    if prediction_df == "k-2" and k < 3:
        notes.append("Prediction interval with t(k-2) needs at least 3 studies.")
    if method_tau_ci == "J":
        tau2_ci, tau2_sign = tau2_ci_jackson(yi, vi, level)
    elif method_tau_ci == "QP":
        tau2_ci, tau2_sign = tau2_ci_qprofile(yi, vi, tau2, level)
    else:
        tau2_ci, tau2_sign = (float("nan"), float("nan")), ("", "")
    if conv.i2 == "tau2":  # metafor: I^2 from tau^2, H^2 = 1 / (1 - I^2)
        i2 = i2_tau2(vi, tau2)
        h = math.sqrt(1.0 / (1.0 - i2)) if i2 < 1 else float("inf")
    return PoolResult(
        **fields,
        w_common=tuple((100 * w / w.sum()).tolist()),
        w_random=tuple((100 * wr / wr.sum()).tolist()),
        common=common, random=random, pi=pi, tau2=float(tau2), q=q, q_df=q_df, q_pvalue=q_p,
        i2=float(i2), i2_ci=i2_ci, h=h, h_ci=h_ci, tau2_ci=tau2_ci, tau2_ci_sign=tau2_sign,
        method_tau_ci=method_tau_ci, notes=tuple(notes))
