r"""Heterogeneity in the GLMM read on its own likelihood: the likelihood-ratio test of
:math:`\tau^2 = 0` and the profile-likelihood confidence interval of :math:`\tau` (and :math:`\tau^2`).

R meta prints, for ``method = "GLMM"``, a Wald-type Q of continuity-corrected logits and an
:math:`I^2` computed from it, which need not agree with the :math:`\tau^2` the GLMM estimates
(five weaning studies: :math:`I^2 = 0\%` beside :math:`\hat\tau^2 = 3.88`). This module gives the
quantities that belong to the fitted model:

* the likelihood-ratio statistic :math:`LR = 2\{\ell(\hat\mu,\hat\tau) - \ell(\hat\mu_0, 0)\}`,
  with the p-value of its null distribution on the boundary, the 50:50 mixture of
  :math:`\chi^2_0` and :math:`\chi^2_1` (Self and Liang 1987): :math:`p = \tfrac12 P(\chi^2_1 > LR)`;
* the profile-likelihood interval :math:`\{\tau : 2\{\ell(\hat\mu,\hat\tau) - \max_\mu \ell(\mu,\tau)\}
  \le \chi^2_{1,0.95}\}`, as lme4's ``confint(fit, method = "profile")`` for ``.sig01``;
* :math:`I^2 = \hat\tau^2 / (\hat\tau^2 + s^2)` with the "typical" within-study variance
  :math:`s^2 = (k-1)\sum w_i / \{(\sum w_i)^2 - \sum w_i^2\}` of the continuity-corrected logits
  (Higgins and Thompson 2002, eq. 9), as metafor's ``rma.glmm`` reports it: consistent with
  :math:`\hat\tau^2` by construction.

The log-likelihood is the one :func:`metaprop.engine.glmm.glmm_loglik_derivs` maximises
(7-node adaptive Gauss-Hermite), so the interval is that of the fitted model.

References
----------
Self SG, Liang K-Y (1987). J Am Stat Assoc 82:605-610. doi:10.1080/01621459.1987.10478472
Bates D et al. (2015). lme4. J Stat Softw 67(1). doi:10.18637/jss.v067.i01 (profile, section 5.1)
Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558. doi:10.1002/sim.1186
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import MetapropError
from . import dist
from .glmm import common_effect_fit, fit_glmm, glmm_loglik_derivs
from .inference import i2_tau2
from .measures import all_extreme, escalc
from .quadrature import mode_start

__all__ = ["TauProfile", "glmm_tau_profile", "glmm_lrt"]

_TAU_MAX = 50.0  # beyond this tau (logit scale) the upper limit is reported as infinite


@dataclass(frozen=True, slots=True)
class TauProfile:
    """Likelihood-based heterogeneity of a GLMM fit (:func:`glmm_tau_profile`).

    Attributes
    ----------
    tau, tau_ci : float, (float, float)
        ML estimate of tau and its profile-likelihood interval; the upper limit is ``inf`` when
        the profile does not fall below the cut-off within tau = 50.
    lrt, lrt_pvalue : float
        Likelihood-ratio statistic of tau^2 = 0 and its p-value (50:50 mixture of chi^2_0 and chi^2_1).
    i2 : float
        tau^2 / (tau^2 + s^2), the typical within-study variance s^2 as metafor (a fraction).
    level : float
    """

    tau: float
    tau_ci: tuple[float, float]
    lrt: float
    lrt_pvalue: float
    i2: float
    level: float

    @property
    def tau2(self) -> float:
        return self.tau * self.tau

    @property
    def tau2_ci(self) -> tuple[float, float]:
        return (self.tau_ci[0] ** 2, self.tau_ci[1] ** 2)

    def to_dict(self) -> dict:
        from .results import json_number

        return {"tau": json_number(self.tau), "tau_lower": json_number(self.tau_ci[0]),
                "tau_upper": json_number(self.tau_ci[1]), "tau2": json_number(self.tau2),
                "tau2_lower": json_number(self.tau2_ci[0]), "tau2_upper": json_number(self.tau2_ci[1]),
                "lrt": json_number(self.lrt), "lrt_pvalue": json_number(self.lrt_pvalue),
                "i2": json_number(100 * self.i2), "level": self.level,
                "method": "profile likelihood (GLMM, ML)"}


def _profile(x, n, tau: float, mu0: float) -> tuple[float, float]:
    """max over mu of the log-likelihood at fixed tau, by Newton's method (the marginal
    likelihood is log-concave in mu); returns (loglik, argmax)."""
    if tau <= 0:
        mu, ll, _ = common_effect_fit(x, n)
        return ll, mu
    mu = mu0
    modes = mode_start(mu, tau * tau, x, n)
    ll, g, h = glmm_loglik_derivs(mu, tau, x, n, modes)
    for _ in range(100):
        step = -g[0] / h[0, 0] if h[0, 0] < 0 else math.copysign(1.0, g[0])
        t = 1.0
        while True:
            trial = modes.copy()
            ll1, g1, h1 = glmm_loglik_derivs(mu + t * step, tau, x, n, trial)
            if ll1 >= ll - 1e-12 or t < 1e-8:
                break
            t *= 0.5
        mu, modes = mu + t * step, trial
        converged = abs(ll1 - ll) < 1e-13 * max(1.0, abs(ll)) and abs(g1[0]) < 1e-8 * max(1.0, abs(ll))
        ll, g, h = ll1, g1, h1
        if converged or abs(t * step) < 1e-12:
            break
    return ll, mu


class _Fitted(NamedTuple):
    """The GLMM's ML fit and the two log-likelihoods the likelihood-ratio test compares."""

    x: np.ndarray
    n: np.ndarray
    vi: np.ndarray
    tau: float
    mu: float
    ll_hat: float  # at the ML estimate
    ll_0: float  # of the common-effect model (tau = 0)

    @property
    def lrt(self) -> float:
        return max(0.0, 2 * (self.ll_hat - self.ll_0))


def _fitted(events, total) -> _Fitted:
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    if len(x) < 2:
        raise MetapropError("the likelihood profile of tau needs at least two studies")
    if all_extreme(x, n):
        raise MetapropError("every study has 0% or 100%: the GLMM has no finite estimate to profile")
    yi, vi, _ = escalc(x, n, "PLOGIT")
    fit = fit_glmm(x, n, yi, vi)
    if not fit.converged:
        raise MetapropError(f"the GLMM did not converge ({fit.message}); its likelihood cannot be profiled")
    ll_0 = common_effect_fit(x, n).loglik
    ll_hat = _profile(x, n, fit.tau, fit.mu)[0] if fit.tau > 0 else ll_0
    return _Fitted(x, n, vi, fit.tau, fit.mu, ll_hat, ll_0)


def _lrt_pvalue(lrt: float) -> float:
    """Half the chi^2_1 tail: tau^2 = 0 lies on the boundary (Self and Liang 1987)."""
    return 0.5 * float(dist.chi2_sf(lrt, 1)) if lrt > 0 else 1.0


def glmm_lrt(events, total) -> tuple[float, float]:
    """``(LR, p)``: the likelihood-ratio test of tau^2 = 0 alone, without the profile interval
    (:func:`glmm_tau_profile` gives both; the same fit, the same numbers)."""
    f = _fitted(events, total)
    return f.lrt, _lrt_pvalue(f.lrt)


def glmm_tau_profile(events, total, level: float = 0.95) -> TauProfile:
    """Likelihood-ratio test of tau^2 = 0 and profile-likelihood interval of tau for the GLMM.

    Parameters
    ----------
    events, total : array_like of int
        Counts of at least two studies, not all 0% or all 100% (the GLMM then has no estimate).
    level : float
        Coverage of the interval; the cut-off is the ``level`` quantile of chi^2_1.

    Returns
    -------
    TauProfile
    """
    from scipy.optimize import brentq

    f = _fitted(events, total)
    x, n, vi, tau_hat, mu_hat, ll_hat, lrt = f.x, f.n, f.vi, f.tau, f.mu, f.ll_hat, f.lrt
    crit = float(dist.chi2_ppf(level, 1))
    mu_at = {"mu": mu_hat}

    def excess(tau: float) -> float:
        ll, mu_at["mu"] = _profile(x, n, tau, mu_at["mu"])
        return 2 * (ll_hat - ll) - crit

    if lrt <= crit:
        lower = 0.0
    else:
        mu_at["mu"] = mu_hat
        lower = brentq(excess, 1e-8, tau_hat, xtol=1e-10, rtol=1e-10)
    mu_at["mu"] = mu_hat
    hi = max(2 * tau_hat, 0.5)
    at_hi = excess(hi)
    while hi < _TAU_MAX and at_hi < 0:
        hi = min(2 * hi, _TAU_MAX)
        at_hi = excess(hi)
    upper = brentq(excess, max(tau_hat, 1e-8), hi, xtol=1e-10, rtol=1e-10) if at_hi >= 0 else math.inf
    i2 = float(i2_tau2(vi, tau_hat * tau_hat))
    return TauProfile(tau=tau_hat, tau_ci=(float(lower), float(upper)), lrt=lrt,
                      lrt_pvalue=_lrt_pvalue(lrt), i2=i2, level=level)

