r"""Confidence interval for :math:`\tau^2` (and :math:`\tau`) by the Q-profile method.

The interval collects the :math:`\tau^2` whose generalised Q statistic

.. math:: Q(\tau^2) = \sum_i \frac{(y_i - \hat\mu(\tau^2))^2}{v_i + \tau^2}

lies between the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles of :math:`\chi^2_{k-1}`
(Viechtbauer 2007). :math:`Q(\tau^2)` decreases in :math:`\tau^2`, so each limit is one root,
found as metafor's ``confint.rma.uni(type = "QP")`` finds it: R's ``uniroot`` (ported in
:func:`metaprop.engine.tau2.zeroin`) on :math:`[0, \max(100, 10\hat\tau^2)]` with tolerance
:math:`\epsilon^{1/4}`; a limit beyond the search range is reported as that bound with the sign
``">"`` (R meta prints ">100.0000"), one below it as 0. R meta uses this interval for the REML,
ML and PM estimators.

References
----------
Viechtbauer W (2007). Stat Med 26:37-52. doi:10.1002/sim.2514
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .tau2 import q_stat_fn, zeroin

__all__ = ["tau2_ci_qprofile", "tau2_ci_jackson", "ruben"]

_TOL = float(np.finfo(float).eps ** 0.25)


def tau2_ci_qprofile(yi, vi, tau2: float, level: float = 0.95):
    """Q-profile interval for tau^2, as metafor ``confint(rma(yi, vi), type = "QP")``.

    Returns ``((lower, upper), (lower_sign, upper_sign))``; a sign is ``""``, or ``">"``/``"<"``
    when the limit is the end of the search range, or ``"0"`` on both ends when even
    :math:`\tau^2 = 0` gives a Q below the lower quantile (metafor's "ci.null": the interval is
    the single point 0, and R meta prints none).
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 2:
        return (float("nan"), float("nan")), ("", "")
    alpha = 1 - level
    lo_t2, hi_t2 = min(0.0, tau2), max(100.0, 10 * tau2, 0.0)
    crit_u = float(special.chdtri(k - 1, alpha / 2))        # upper alpha/2 quantile
    crit_l = float(special.chdtri(k - 1, 1 - alpha / 2))    # lower alpha/2 quantile
    q = q_stat_fn(yi, vi)
    # Q decreases in tau^2: invert -Q, whose targets are -crit_u (lower limit) and -crit_l (upper)
    return _invert(lambda t: -q(t), lo_t2, hi_t2, -crit_u, -crit_l)


def _invert(h, lo_t2: float, hi_t2: float, at_lower: float, at_upper: float):
    """The tau^2 where an increasing statistic ``h`` reaches ``at_lower`` and ``at_upper``, searched
    in ``[lo_t2, hi_t2]`` as metafor's ``confint.rma.uni`` does: a limit beyond the range is its end
    (sign ">" or "<"); when even ``lo_t2`` exceeds ``at_upper`` the interval is the point ``lo_t2``
    ("ci.null", sign "0" when that is 0). Roots by :func:`zeroin` (R's ``uniroot``)."""
    h_max, h_min = h(hi_t2), h(lo_t2)
    sign_l = sign_u = ""
    if h_min > at_upper:
        lower = upper = lo_t2
        sign_l = sign_u = "<" if lo_t2 > 0 else "0"
    elif h_max < at_upper:
        upper, sign_u = hi_t2, ">"
    else:
        upper = zeroin(lambda t: h(t) - at_upper, lo_t2, hi_t2, tol=_TOL)
    if h_max < at_lower:
        lower = upper = hi_t2
        sign_l = sign_u = ">"
    elif h_min > at_lower:
        lower = lo_t2
        if lo_t2 > 0:
            sign_l = "<"
    else:
        lower = zeroin(lambda t: h(t) - at_lower, lo_t2, hi_t2, tol=_TOL)
    return (float(lower), float(upper)), (sign_l, sign_u)


def ruben(q: float, lam, eps: float = 1e-10, maxit: int = 100000) -> float:
    r""":math:`P(\sum_j \lambda_j \chi^2_1 \le q)` for positive weights :math:`\lambda_j`, by Ruben's
    series as Farebrother's algorithm AS 204 computes it (Appl Stat 1984;33:332-339), with
    CompQuadForm ``farebrother()``'s defaults (``mode = 1``, ``eps = 1e-10``), which metafor
    uses for the generalised Q statistic.
    """
    lam = np.asarray(lam, dtype=float)
    r = len(lam)
    if q <= 0:
        return 0.0  # the form is positive
    beta = float(lam.min())  # mode = 1
    gamma = 1.0 - beta / lam
    ao = math.exp(0.5 * float(np.sum(np.log(beta / lam))))
    if ao <= 0:
        return 0.0
    z = q / beta
    tol = -200.0
    if r % 2 == 0:
        i, lans = 2, -0.5 * z
        dans = math.exp(lans)
        pans = 1.0 - dans
    else:
        i, lans = 1, -0.5 * (z + math.log(z)) - 0.22579135264473
        dans = math.exp(lans)
        pans = float(special.ndtr(math.sqrt(z)) - special.ndtr(-math.sqrt(z)))
    k = r - 2
    for j in range(i, k + 1, 2):
        if lans < tol:
            lans += math.log(z / j)
            dans = math.exp(lans)
        else:
            dans *= z / j
        pans -= dans
    prbty = pans
    eps2 = eps / ao
    aoinv = 1.0 / ao
    total = aoinv - 1.0
    theta = np.ones(r)
    a = np.zeros(maxit)
    b = np.zeros(maxit)
    for m in range(1, maxit + 1):
        theta = theta * gamma
        s1 = 0.5 * float(theta.sum())
        b[m - 1] = s1
        if m > 1:
            s1 += float(np.dot(b[: m - 1], a[m - 2 :: -1] if m > 2 else a[:1]))
        s1 /= m
        a[m - 1] = s1
        k += 2
        if lans < tol:
            lans += math.log(z / k)
            dans = math.exp(lans)
        else:
            dans *= z / k
        pans -= dans
        total -= s1
        s1 *= pans
        prbty += s1
        if prbty < -aoinv:
            raise FloatingPointError("AS 204: series diverged (ifault 3)")
        if abs(pans * total) < eps2 and abs(s1) < eps2:
            break
    return ao * prbty


def tau2_ci_jackson(yi, vi, level: float = 0.95):
    r"""Jackson's (2013) interval for tau^2 from the generalised Q statistic with weights
    :math:`a_i = 1/\sqrt{v_i}`, as R meta computes it for the DerSimonian-Laird estimator
    (``method.tau.ci = "J"``): metafor ``confint(rma(yi, vi, weights = 1/sqrt(vi),
    method = "GENQ"))``. The distribution of :math:`Q_a = y'Py` given :math:`\tau^2` is that of
    :math:`\sum_j \lambda_j\chi^2_1`, :math:`\lambda_j` the eigenvalues of
    :math:`S P S`, :math:`S = \operatorname{diag}(\sqrt{v_i+\tau^2})` (:func:`ruben`); each limit
    is the root of its tail probability minus :math:`\alpha/2`, by R's ``uniroot`` as in
    :func:`tau2_ci_qprofile`.

    Jackson D (2013). Res Synth Methods 4:220-229. doi:10.1002/jrsm.1081
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 2:
        return (float("nan"), float("nan")), ("", "")
    alpha = 1 - level
    a = 1.0 / np.sqrt(vi)
    p = np.diag(a) - np.outer(a, a) / a.sum()
    q_obs = float(yi @ p @ yi)
    tau2_genq = max(0.0, (q_obs - float(np.sum(np.diag(p) * vi))) / float(np.trace(p)))
    lo_t2, hi_t2 = 0.0, max(100.0, 10 * tau2_genq)

    def upper_tail(t2):  # P(Q_a > q_obs | tau^2), increasing in tau^2
        s = np.sqrt(vi + t2)
        lam = np.linalg.eigvalsh(s[:, None] * p * s[None, :])[::-1][: k - 1]
        return 1.0 - ruben(q_obs, lam)

    return _invert(upper_tail, lo_t2, hi_t2, alpha / 2, 1 - alpha / 2)
