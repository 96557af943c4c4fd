r"""Summary measures for single proportions: transform, variance and back-transform.

One record per ``sm`` (R meta's names), written from the papers (Freeman & Tukey 1950; Miller
1978; Barendregt et al. 2013) and checked against metafor ``escalc`` and ``transf.*`` and R meta by
the tests, not copied from their (GPL) code: see ``docs/decisions.md``.

=========  ===========================================  ==========================  =================
``sm``     :math:`y_i`                                  :math:`v_i`                 back-transform
=========  ===========================================  ==========================  =================
PRAW       :math:`x_i/n_i`                              :math:`p_i(1-p_i)/n_i`      identity
PLOGIT     :math:`\log\{x_i/(n_i-x_i)\}`                :math:`1/x_i + 1/(n_i-x_i)` :math:`e^y/(1+e^y)`
PAS        :math:`\arcsin\sqrt{x_i/n_i}`                :math:`1/(4n_i)`            :math:`\sin^2 y`
PFT        see :func:`pft`                              :math:`1/(4n_i+2)`          Miller (1978)
=========  ===========================================  ==========================  =================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .options import check_option

__all__ = ["SM", "Measure", "escalc", "pft", "ipft", "ipft_hm", "needs_incr"]


def pft(events, total):
    r"""Freeman-Tukey double arcsine transform (``sm="PFT"``).

    .. math::
        y_i = \tfrac12\Big[\arcsin\sqrt{\tfrac{x_i}{n_i+1}} + \arcsin\sqrt{\tfrac{x_i+1}{n_i+1}}\Big],
        \qquad v_i = \frac{1}{4 n_i + 2}

    Same scale as metafor ``escalc(measure="PFT")`` and meta ``sm="PFT"``; back-transform with
    :func:`ipft_hm` (Miller 1978, harmonic mean of ``total``).

    Parameters
    ----------
    events, total : array_like
        Events :math:`x_i` and sample sizes :math:`n_i`, with ``0 <= x_i <= n_i``.

    Returns
    -------
    yi, vi : ndarray
        Transformed proportions and their sampling variances.

    References
    ----------
    Freeman MF, Tukey JW (1950). Ann Math Stat 21(4):607-611. doi:10.1214/aoms/1177729756

    Examples
    --------
    >>> yi, vi = pft([3], [11])      # Miller (1978), study 1
    >>> round(float(yi[0]), 4), round(float(vi[0]), 5)
    (0.5695, 0.02174)
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    return yi, 1.0 / (4 * n + 2)


def ipft(yi, n):
    r"""Inverse of the Freeman-Tukey transform at sample size ``n`` (Miller 1978).

    .. math::
        p = \tfrac12\Big[1 - \operatorname{sgn}(\cos 2y)
            \sqrt{1 - \big(\sin 2y + (\sin 2y - 1/\sin 2y)/n\big)^2}\Big],

    set to 0 below :math:`\mathrm{PFT}(0, n)` and to 1 above :math:`\mathrm{PFT}(1, n)`, as
    metafor ``transf.ipft``.

    References
    ----------
    Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation.
    Am Stat 32(4):138. doi:10.1080/00031305.1978.10479283

    Examples
    --------
    >>> yi, _ = pft([3], [11])
    >>> round(float(ipft(yi, 11)[0]), 6)
    0.272727
    """
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    n = np.broadcast_to(np.asarray(n, dtype=float), y.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * y)
        p = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    lo = pft(0.0, n)[0]
    hi = pft(n, n)[0]
    p = np.where(y < lo, 0.0, np.where(y > hi, 1.0, p))
    return p


def ipft_hm(yi, total):
    """Back-transform pooled PFT values at the harmonic mean of ``total``.

    metafor ``transf.ipft.hm(xi, targs = list(ni = total))``; R meta does the same for pooled
    estimates, confidence and prediction limits.

    Examples
    --------
    >>> round(float(ipft_hm(0.654670645323955, [11, 17, 21, 6])[0]), 4)   # Miller (1978)
    0.3595
    """
    n = np.asarray(total, dtype=float)
    hm = len(n) / np.sum(1.0 / n)
    return ipft(yi, hm)


def _praw(x, n):
    p = x / n
    return p, p * (1 - p) / n


def _plogit(x, n):
    with np.errstate(divide="ignore"):
        return np.log(x / (n - x)), 1.0 / x + 1.0 / (n - x)


def _pas(x, n):
    return np.arcsin(np.sqrt(x / n)), 1.0 / (4 * n)


def _expit(y, total=None):
    y = np.asarray(y, dtype=float)
    return np.exp(-np.logaddexp(0.0, -y))  # 1 / (1 + e^-y) without overflow for large |y|


def _sin2(y, total=None):
    y = np.clip(np.asarray(y, dtype=float), 0.0, np.pi / 2)
    return np.sin(y) ** 2


def _identity(y, total=None):
    return np.asarray(y, dtype=float)


@dataclass(frozen=True, slots=True)
class Measure:
    """One summary measure: its name, label, transform and back-transform.

    ``transform(x, n)`` returns ``(yi, vi)``; ``inverse(y, total)`` maps values on the ``sm``
    scale to proportions (``total`` is only used by PFT, for the harmonic mean).
    """

    sm: str
    label: str
    transform: Callable
    inverse: Callable
    uses_incr: bool
    scale: str = ""  # the scale's name in a sentence ("on the logit scale")


SM: dict[str, Measure] = {
    "PRAW": Measure("PRAW", "untransformed proportions", _praw, _identity, True, "proportion"),
    "PLOGIT": Measure("PLOGIT", "logit transformation", _plogit, _expit, True, "logit"),
    "PAS": Measure("PAS", "arcsine transformation", _pas, _sin2, False, "arcsine"),
    "PFT": Measure("PFT", "Freeman-Tukey double arcsine transformation", pft, ipft_hm, False,
                   "Freeman-Tukey double arcsine"),
}


def check_sm(sm: str) -> Measure:
    """Return the :class:`Measure` for ``sm`` or raise a :class:`MetapropError` naming the choices."""
    check_option("sm", sm)
    return SM[sm]


def needs_incr(events, total) -> np.ndarray:
    """Studies with 0 or ``n`` events: where meta and metafor add ``incr`` (``to = "only0"``)."""
    x = np.asarray(events)
    n = np.asarray(total)
    return (x == 0) | (x == n)


def all_extreme(events, total) -> str | None:
    """``"100%"`` when every study has all events, ``"0%"`` when every study has none, else None.

    Then no logistic model has a finite estimate (the likelihood rises towards logit = +/- infinity),
    and the review's rules neither fit the GLMM nor pool the outcome for its headline.

    Examples
    --------
    >>> all_extreme([10, 5], [10, 5]), all_extreme([0, 0], [3, 4]), all_extreme([0, 4], [3, 4])
    ('100%', '0%', None)
    """
    x = np.asarray(events)
    n = np.asarray(total)
    if len(x) and np.all(x == n):
        return "100%"
    if len(x) and np.all(x == 0):
        return "0%"
    return None


def escalc(events, total, sm: str, incr: float = 0.5, correct_yi: bool = True):
    r"""Study estimates :math:`y_i` and variances :math:`v_i` on the ``sm`` scale.

    For PRAW and PLOGIT, ``incr`` is added to events and non-events of studies with 0 or
    :math:`n_i` events (meta ``method.incr = "only0"``, metafor ``to = "only0"``). With
    ``correct_yi=False`` the PRAW proportion itself stays :math:`x_i/n_i` and only its variance
    uses the corrected counts (R meta); with ``True`` both are corrected (metafor ``measure="PR"``).

    Parameters
    ----------
    events, total : array_like
        Counts :math:`x_i \le n_i`.
    sm : {"PRAW", "PLOGIT", "PAS", "PFT"}
    incr : float
        Continuity correction.
    correct_yi : bool
        Whether the PRAW proportion is corrected as well as its variance.

    Returns
    -------
    yi, vi : ndarray
    corrected : ndarray of bool
        Studies to which ``incr`` was added.

    Examples
    --------
    >>> yi, vi, cc = escalc([10, 9], [10, 10], "PRAW")          # metafor: 10.5/11
    >>> [round(float(v), 5) for v in yi], [round(float(v), 6) for v in vi], cc.tolist()
    ([0.95455, 0.9], [0.003944, 0.009], [True, False])
    >>> yi, vi, cc = escalc([10, 9], [10, 10], "PRAW", correct_yi=False)   # R meta
    >>> [round(float(v), 5) for v in yi], [round(float(v), 6) for v in vi]
    ([1.0, 0.9], [0.003944, 0.009])
    """
    m = check_sm(sm)
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    corrected = needs_incr(x, n) & m.uses_incr & (incr > 0)
    xc = np.where(corrected, x + incr, x)
    nc = np.where(corrected, n + 2 * incr, n)
    yi, vi = m.transform(xc, nc)
    if sm == "PRAW" and not correct_yi:
        yi = x / n
    return np.asarray(yi, dtype=float), np.asarray(vi, dtype=float), corrected
