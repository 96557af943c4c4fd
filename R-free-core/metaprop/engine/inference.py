r"""Inference shared by every fitting path (inverse variance, GLMM): Wald and Hartung-Knapp
intervals, prediction intervals, Cochran's Q, H and I^2 with its interval.

References
----------
Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558. doi:10.1002/sim.1186
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). J R Stat Soc A 172:137-159.
doi:10.1111/j.1467-985X.2008.00552.x
"""

from __future__ import annotations

import math

import numpy as np

from . import dist
from .results import Estimate
from .tau2 import TAU2, TAU2_METAFOR, q_stat

__all__ = ["heterogeneity_h_i2", "wald", "random_effects", "prediction_interval", "q_test", "i2_tau2", "study_fields"]


def heterogeneity_h_i2(q: float, k: int, level: float = 0.95):
    r"""H and :math:`I^2` with their test-based confidence intervals, as R meta ``calcH`` and
    ``isquared`` (Higgins & Thompson 2002, eq. (8)-(9)).

    :math:`H = \max(1, \sqrt{Q/(k-1)})`;
    :math:`\operatorname{SE}(\log H) = \tfrac12\,\frac{\log Q - \log(k-1)}{\sqrt{2Q}-\sqrt{2k-3}}`
    if :math:`Q > k` (any :math:`k \ge 2`), else :math:`\sqrt{\tfrac{1}{2(k-2)}\{1-\tfrac{1}{3(k-2)^2}\}}`
    (:math:`k \ge 3`; no interval at :math:`k = 2` with :math:`Q \le k`); limits of H at least 1;
    :math:`I^2 = (H^2-1)/H^2` at the estimate and at each limit.

    Returns ``(h, (h_lower, h_upper), i2, (i2_lower, i2_upper))``.
    """
    nan = float("nan")
    if k < 2 or not math.isfinite(q):
        return nan, (nan, nan), nan, (nan, nan)
    h = max(1.0, math.sqrt(q / (k - 1)))
    if q > k:
        se = 0.5 * (math.log(q) - math.log(k - 1)) / (math.sqrt(2 * q) - math.sqrt(2 * k - 3))
    elif k > 2:
        se = math.sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2) ** 2)))
    else:
        se = nan
    if math.isfinite(se):
        z = float(dist.norm_ppf(1 - (1 - level) / 2))
        h_ci = (max(1.0, math.exp(math.log(h) - z * se)), max(1.0, math.exp(math.log(h) + z * se)))
    else:
        h_ci = (nan, nan)

    def i2(hv):
        return (hv**2 - 1) / hv**2

    return h, h_ci, i2(h), (i2(h_ci[0]), i2(h_ci[1]))


def wald(te, se, level, df=None) -> Estimate:
    """Wald-type estimate, CI, statistic and p-value (normal, or t with ``df``)."""
    # a zero SE (Hartung-Knapp with identical estimates): the CI is the point, p = 0 unless te = 0,
    # as metafor reports it
    stat = te / se if se > 0 else (math.copysign(math.inf, te) if te != 0 else float("nan"))
    if df is None:
        q = dist.norm_ppf(1 - (1 - level) / 2)
        p = 2 * dist.norm_sf(abs(stat))
    else:
        q = dist.t_ppf(1 - (1 - level) / 2, df)
        p = 2 * dist.t_sf(abs(stat), df)
    return Estimate(float(te), float(se), float(te - q * se), float(te + q * se),
                    float(stat), float(p), df)


def prediction_interval(te: float, se: float, tau2: float, k: int, df: str, level: float):
    r"""Prediction interval :math:`\hat\mu \pm q\,\sqrt{\hat\tau^2 + \operatorname{SE}^2}`.

    ``q`` from :math:`t_{k-1}` (R meta ``method.predict = "V"``, Veroniki et al. 2019),
    :math:`t_{k-2}` (``"HTS"``, Higgins et al. 2009) or the normal (``"S"``, Skipka 2006). R meta
    uses the classic (not the Hartung-Knapp) SE here, also when the CI is Hartung-Knapp.
    """
    if df == "z":
        q = dist.norm_ppf(1 - (1 - level) / 2)
    else:
        d = k - 1 if df == "k-1" else k - 2
        if d < 1:
            return (float("nan"), float("nan"))
        q = dist.t_ppf(1 - (1 - level) / 2, d)
    half = q * math.sqrt(tau2 + se**2)
    return (float(te - half), float(te + half))


def q_test(yi, vi):
    """Cochran's Q, its df and p-value, H and the Q-based I^2 (R meta ``method.I2 = "Q"``)."""
    q = q_stat(yi, vi)
    df = len(yi) - 1
    p = float(dist.chi2_sf(q, df)) if df > 0 else float("nan")
    h, _, i2, _ = heterogeneity_h_i2(q, df + 1)
    return q, df, p, h, i2


def i2_tau2(vi, tau2: float) -> float:
    r"""metafor's :math:`I^2 = \hat\tau^2/(\hat\tau^2 + s^2)`.

    :math:`s^2 = (k-1)\sum w_i/\{(\sum w_i)^2-\sum w_i^2\}`, :math:`w_i = 1/v_i` (Higgins &
    Thompson 2002), metafor ``rma.uni``'s "typical" within-study variance.
    """
    w = 1.0 / vi
    k = len(vi)
    s2 = (k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    return float(tau2 / (tau2 + s2)) if tau2 + s2 > 0 else 0.0


def study_fields(labels, x, n, yi, vi, corrected, study) -> dict:
    """The per-study fields of a :class:`PoolResult`, as tuples (shared by every fitting path)."""
    p, lo, hi = study

    def floats(a):  # ndarray.tolist() gives Python floats, as float() of each element would
        return tuple(np.asarray(a, dtype=float).tolist())

    return dict(studlab=tuple(labels), events=tuple(np.asarray(x).astype(int).tolist()),
                total=tuple(np.asarray(n).astype(int).tolist()), yi=floats(yi), vi=floats(vi),
                corrected=tuple(np.asarray(corrected, dtype=bool).tolist()), study_p=floats(p),
                study_lower=floats(lo), study_upper=floats(hi))


def random_effects(yi, vi, method_tau: str = "REML", hakn: bool = False, level: float = 0.95,
                   algorithm: str = "exact"):
    r"""Random-effects estimate from ``yi, vi`` (metafor ``rma(yi, vi, method = method_tau)``).

    Returns ``(tau2, Estimate)``; with ``hakn`` the SE is the Hartung-Knapp one and the CI uses
    :math:`t_{k-1}` (metafor ``test = "knha"``).

    Examples
    --------
    >>> y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]   # Kacker (2004)
    >>> v = [0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
    >>> t2, est = random_effects(np.array(y), np.array(v), "PM")
    >>> round(t2, 6), round(est.te, 6)
    (0.705395, 62.40762)
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    tau2 = (TAU2_METAFOR if algorithm == "metafor" else TAU2)[method_tau](yi, vi)
    wr = 1.0 / (vi + tau2)
    mu = float((wr * yi).sum() / wr.sum())
    if hakn and k > 1:
        se_hk = math.sqrt(float((wr * (yi - mu) ** 2).sum()) / ((k - 1) * wr.sum()))
        return tau2, wald(mu, se_hk, level, df=k - 1)
    return tau2, wald(mu, math.sqrt(1.0 / wr.sum()), level)
