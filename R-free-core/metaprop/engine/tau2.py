r"""Between-study variance :math:`\tau^2`: one small function per estimator.

Each takes ``yi, vi`` (length ``k``) and returns :math:`\hat\tau^2 \ge 0`. All are O(k) per
evaluation: no k x k matrices (the hat-matrix traces of metafor reduce to sums for an
intercept-only model). Roots are found by Brent's method (:func:`zeroin`, R's ``uniroot``) to machine precision,
tighter than metafor's own stopping rules, so results agree with R to within R's convergence tolerance.

References
----------
DerSimonian R, Laird N (1986). Control Clin Trials 7:177-188. doi:10.1016/0197-2456(86)90046-2
Paule RC, Mandel J (1982). J Res Natl Bur Stand 87:377-385. doi:10.6028/jres.087.022
Viechtbauer W (2005). J Educ Behav Stat 30:261-293. doi:10.3102/10769986030003261
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MetapropError

_EPS4 = float(np.finfo(float).eps ** 0.25)

__all__ = ["TAU2", "TAU2_METAFOR", "tau2_dl", "tau2_pm", "tau2_reml", "tau2_ml", "tau2_fisher", "q_stat", "q_stat_fn",
           "zeroin"]


def q_stat(yi, vi, tau2: float = 0.0) -> float:
    r"""Generalised Cochran's Q, :math:`Q(\tau^2)=\sum w_i (y_i-\hat\mu)^2`, :math:`w_i=1/(v_i+\tau^2)`."""
    return q_stat_fn(yi, vi)(tau2)


def q_stat_fn(yi, vi):
    r""":math:`\tau^2 \mapsto Q(\tau^2)` for searches that evaluate it many times (Paule-Mandel, the
    Q-profile interval: some 10 to 20 times per fit).

    For up to 32 studies, plain floats in one pass (numpy's per-call overhead would dominate):
    :math:`Q = \sum w_i c_i^2 - (\sum w_i c_i)^2/\sum w_i` with :math:`c_i = y_i - \bar y`, centred
    once, so that the cancellation is on the scale of the spread of the :math:`y_i`, not their level.
    """
    if len(yi) <= 32:
        yl = np.asarray(yi, dtype=float).tolist()
        ybar = sum(yl) / len(yl)
        rows = [(v, y - ybar) for v, y in zip(np.asarray(vi, dtype=float).tolist(), yl, strict=True)]

        def q_small(tau2: float) -> float:
            sw = swc = swcc = 0.0
            for v, c in rows:
                a = 1.0 / (v + tau2)
                ac = a * c
                sw += a
                swc += ac
                swcc += ac * c
            # a sum of squares: never below 0 (identical studies whose mean is not representable
            # exactly leave a rounding residue of either sign)
            return max(0.0, swcc - swc * swc / sw)
        return q_small
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)

    def q(tau2: float) -> float:
        w = 1.0 / (vi + tau2)
        r = yi - (w @ yi) / w.sum()
        return float(w @ (r * r))
    return q


def tau2_dl(yi, vi) -> float:
    r"""DerSimonian-Laird: :math:`\max\{0, (Q-(k-1))/(\sum w_i - \sum w_i^2/\sum w_i)\}`."""
    w = 1.0 / vi
    k = len(yi)
    q = q_stat(yi, vi)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(max(0.0, (q - (k - 1)) / c)) if c > 0 else 0.0


def _upper_bracket(f, start: float) -> float:
    hi = max(start, 1e-4)
    for _ in range(200):
        if f(hi) < 0:
            return hi
        hi *= 2
    raise MetapropError("tau^2 root could not be bracketed (tau^2 > 1e60?)")


def _root(f, scale: float) -> float:
    if f(0.0) <= 0:
        return 0.0
    hi = _upper_bracket(f, scale)
    return zeroin(f, 0.0, hi, tol=1e-15, maxiter=1000)


def tau2_pm(yi, vi, tol: float | None = None) -> float:
    r"""Paule-Mandel: the root of :math:`Q(\tau^2) = k - 1`, or 0 when :math:`Q(0) < k - 1`.

    With ``tol=None`` the root is found to machine precision. With a ``tol`` (metafor's default
    is ``.Machine$double.eps^0.25``), the search copies metafor ``rma.uni``: Brent's method
    (R ``uniroot``, scipy :func:`~scipy.optimize.brentq`) on
    :math:`[0, \max(100, 10\,\mathrm{mad}(y)^2)]`, stopping at that tolerance, so the result
    reproduces metafor's own, imprecise by up to ``tol``.
    """
    k = len(yi)
    q = q_stat_fn(yi, vi)

    def f(t2):
        return q(t2) - (k - 1)

    if tol is None:
        return _root(f, float(np.var(yi)) + float(np.mean(vi)))
    if f(0.0) < 0:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    hi = max(100.0, 10 * mad**2)
    if f(hi) > 0:
        hi = _upper_bracket(f, hi)
    return zeroin(f, 0.0, hi, tol=tol, maxiter=1000)


def zeroin(f, ax: float, bx: float, tol: float, maxiter: int = 1000) -> float:
    """Brent's root finder (Brent 1973, ch. 4; the ``zeroin`` of Forsythe, Malcolm & Moler 1977),
    with R ``uniroot``'s ``tol`` and ``maxiter`` conventions.

    Not :func:`scipy.optimize.brentq` (a different Brent variant with other acceptance and
    stopping rules): metafor stops at a loose tolerance, and only the same iterates reproduce
    its Paule-Mandel estimates and tau^2 intervals to the last digit. See ``docs/decisions.md``.
    """
    eps = np.finfo(float).eps
    a, b = ax, bx
    fa, fb = f(a), f(b)
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return float(b)
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise MetapropError("Paule-Mandel root search did not converge")


def _score(yi, vi, t2, reml: bool):
    r"""Score of the (restricted) likelihood in :math:`\tau^2`, up to a factor 1/2:
    :math:`\sum w_i^2 (y_i-\hat\mu)^2 - \sum w_i\,[+ \sum w_i^2/\sum w_i]`.

    ``t2`` may be a number (returns a float) or an array (returns one score per value).
    """
    t2 = np.asarray(t2, dtype=float)
    w = 1.0 / (vi + t2[..., None])
    sw = w.sum(axis=-1)
    mu = (w * yi).sum(axis=-1) / sw
    s = (w**2 * (yi - mu[..., None]) ** 2).sum(axis=-1) - sw
    if reml:
        s = s + (w**2).sum(axis=-1) / sw
    return float(s) if s.ndim == 0 else s


def tau2_fisher(yi, vi, reml: bool = True, threshold: float = 1e-5, maxiter: int = 100) -> float:
    r"""REML or ML by metafor's Fisher scoring (``rma.uni``), with its stopping rule.

    Starts at the Hedges (HE) estimate, steps
    :math:`\Delta = (y'P^2y - \operatorname{tr}P)/\operatorname{tr}P^2` (REML) or
    :math:`(y'P^2y - \sum w_i)/\sum w_i^2` (ML), halving steps that would go below 0, until
    :math:`|\Delta| \le` ``threshold``; then metafor's check that the likelihood at
    :math:`\tau^2 = 0` is not higher. The traces are sums (O(k)), not k x k products.
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    rss0 = float(((yi - yi.mean()) ** 2).sum())
    tau2 = max(0.0, (rss0 - vi.sum() * (k - 1) / k) / (k - 1))
    if k <= 32:  # the same iterations in plain floats (numpy's per-call overhead dominates)
        yi, vi = yi.tolist(), vi.tolist()
        sums = _weighted_sums_small(yi, vi)
    else:
        sums = _weighted_sums(yi, vi)
    for _ in range(maxiter + 1):
        sw, sw2, sw3, ypp = sums(tau2)
        if reml:
            tr_p = sw - sw2 / sw
            tr_pp = sw2 - 2 * sw3 / sw + sw2**2 / sw**2
            adj = (ypp - tr_p) / tr_pp
        else:
            adj = (ypp - sw) / sw2
        if not math.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        if abs(adj) <= threshold:
            break
    else:
        raise MetapropError("Fisher scoring algorithm did not converge (as metafor would say).")

    if _loglik(yi, vi, 0.0, reml) - _loglik(yi, vi, tau2, reml) > _EPS4 and tau2 > threshold:
        tau2 = 0.0
    return float(tau2)


def _weighted_sums(yi, vi):
    """``f(tau2) -> (sum w, sum w^2, sum w^3, sum w^2 (y - mu_w)^2)``, w = 1/(v + tau2)."""
    def f(tau2):
        w = 1.0 / (vi + tau2)
        w2 = w * w
        sw = w.sum()
        r = yi - (w @ yi) / sw
        return sw, w2.sum(), w2 @ w, w2 @ (r * r)
    return f


def _weighted_sums_small(yi: list, vi: list):
    r""":func:`_weighted_sums` in plain Python floats, one pass per call: for a few studies, faster
    than numpy's per-call overhead (Fisher scoring runs it tens of times).

    :math:`\sum w_i^2 (y_i-\mu_w)^2 = \sum w_i^2 c_i^2 - m(2\sum w_i^2 c_i - m\sum w_i^2)` with
    :math:`c_i = y_i - \bar y` (centred once) and :math:`m = \mu_w - \bar y`; centring keeps the
    expanded square's cancellation to the scale of the spread of the :math:`y_i`, not their level.
    """
    ybar = sum(yi) / len(yi)
    rows = [(v, y - ybar) for v, y in zip(vi, yi, strict=True)]

    def f(tau2):
        sw = swc = sw2 = sw3 = sw2c = sw2cc = 0.0
        for v, c in rows:
            a = 1.0 / (v + tau2)
            a2 = a * a
            a2c = a2 * c
            sw += a
            swc += a * c
            sw2 += a2
            sw3 += a2 * a
            sw2c += a2c
            sw2cc += a2c * c
        m = swc / sw
        return sw, sw2, sw3, sw2cc - m * (2 * sw2c - m * sw2)
    return f


def _loglik(yi, vi, t2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the normal random-effects model, up to a constant."""
    if len(yi) <= 32:  # plain floats for a few studies (numpy's per-call overhead dominates)
        if not isinstance(yi, list):
            yi, vi = np.asarray(yi, dtype=float).tolist(), np.asarray(vi, dtype=float).tolist()
        w = [1.0 / (v + t2) for v in vi]
        sw = sum(w)
        mu = sum(a * y for a, y in zip(w, yi, strict=True)) / sw
        out = -0.5 * sum(math.log(v + t2) for v in vi) - 0.5 * sum(
            a * (y - mu) ** 2 for a, y in zip(w, yi, strict=True))
        return out - 0.5 * math.log(sw) if reml else out
    w = 1.0 / (vi + t2)
    mu = np.sum(w * yi) / np.sum(w)
    out = -0.5 * np.sum(np.log(vi + t2)) - 0.5 * np.sum(w * (yi - mu) ** 2)
    return float(out - 0.5 * np.log(np.sum(w)) if reml else out)


def _global_max(yi, vi, reml: bool) -> float:
    r"""The global maximiser of the (restricted) likelihood over :math:`\tau^2 \ge 0`.

    The likelihood need not be unimodal: the score can be negative at 0 and positive further on
    (issue 14: REML, PLOGIT, x = 7, 13773, 5, 132 of n = 9, 14449, 5, 137 has its maximum at
    0.2519, not at 0). Every local maximum is found: 0 when the score there is <= 0, and every
    + to - sign change of the score on a log-spaced grid up to well past the last possible root
    (refined by Brent's method); the one with the highest likelihood is returned.
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    f = lambda t2: _score(yi, vi, t2, reml)  # noqa: E731
    spread = float(np.ptp(yi)) ** 2
    top = max(_upper_bracket(f, spread + float(np.mean(vi))), 4 * spread + 4 * float(np.max(vi)))
    grid = np.concatenate(([0.0], np.geomspace(max(top, 1e-300) * 1e-12, top, 600)))
    scores = _score(yi, vi, grid, reml)  # all grid points at once
    cands = [0.0] if scores[0] <= 0 else []
    for i in np.nonzero((scores[:-1] > 0) & (scores[1:] <= 0))[0]:
        cands.append(zeroin(f, grid[i], grid[i + 1], tol=1e-15, maxiter=1000))
    if not cands:  # cannot happen: the score is negative for large tau^2
        return _root(f, spread + float(np.mean(vi)))
    return float(max(cands, key=lambda t: _loglik(yi, vi, t, reml)))


def tau2_reml(yi, vi) -> float:
    r"""Restricted maximum likelihood: the root of the REML score with the highest likelihood, or 0.

    .. math:: \sum w_i^2 (y_i-\hat\mu)^2 - \sum w_i + \sum w_i^2 / \sum w_i = 0
    """
    return _global_max(yi, vi, True)


def tau2_ml(yi, vi) -> float:
    r"""Maximum likelihood: the root of :math:`\sum w_i^2 (y_i-\hat\mu)^2 - \sum w_i = 0` with the highest
    likelihood, or 0."""
    return _global_max(yi, vi, False)


TAU2 = {"DL": tau2_dl, "PM": tau2_pm, "REML": tau2_reml, "ML": tau2_ml}
# convention="metafor": metafor's own algorithms and stopping rules, for last-digit agreement
_EPS25 = float(np.finfo(float).eps ** 0.25)
TAU2_METAFOR = {
    "DL": tau2_dl,
    "PM": lambda yi, vi: tau2_pm(yi, vi, tol=_EPS25),
    "REML": lambda yi, vi: tau2_fisher(yi, vi, reml=True),
    "ML": lambda yi, vi: tau2_fisher(yi, vi, reml=False),
}
TAU2_LABEL = {
    "DL": "DerSimonian-Laird estimator",
    "PM": "Paule-Mandel estimator",
    "REML": "Restricted maximum-likelihood estimator",
    "ML": "Maximum-likelihood estimator",
}
