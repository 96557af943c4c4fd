r"""Random-intercept logistic model (GLMM) for proportions, fitted by maximum likelihood.

.. math::
    x_i \sim \operatorname{Bin}(n_i, \pi_i),\quad \operatorname{logit}\pi_i = \mu + u_i,
    \quad u_i \sim N(0, \tau^2)

The marginal likelihood of each study is integrated by adaptive Gauss-Hermite quadrature with
7 nodes, centred at the conditional mode of :math:`u_i` and scaled by the curvature there, as
lme4 ``glmer(nAGQ = 7)``, which metafor ``rma.glmm(measure = "PLO", method = "ML")`` and R meta
``metaprop(method = "GLMM")`` call. Everything is vectorised over studies: one likelihood
evaluation costs O(7k). The standard error of :math:`\hat\mu` comes from the inverse Hessian of
the log-likelihood in :math:`(\tau, \mu)`, as lme4's ``vcov`` (``use.hessian = TRUE``).

Heterogeneity is reported as R meta does for GLMM: the Wald-type Q of the saturated model
(studies with 0 or n events contribute nothing, their logits being infinite) with df = k - 1,
the likelihood-ratio Q against the common-effect model, and :math:`I^2` from the Wald-type Q.

References
----------
Stijnen T, Hamza TH, Özdemir P (2010). Stat Med 29:3046-3067. doi:10.1002/sim.4040
Pinheiro JC, Bates DM (1995). J Comput Graph Stat 4:12-35. doi:10.1080/10618600.1995.10474663
Schwarzer G et al. (2019). Res Synth Methods 10:476-483. doi:10.1002/jrsm.1348
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from ..errors import ConvergenceWarning, MetapropError
from . import dist
from .inference import heterogeneity_i2_ci, i2_tau2, prediction_interval, random_effects, study_fields, wald
from .measures import escalc
from .results import PoolResult
from .tau2 import q_stat, tau2_dl

__all__ = ["pool_glmm", "glmm_loglik"]

NODES, WEIGHTS = np.polynomial.hermite.hermgauss(7)
_LOG_WZ = np.log(WEIGHTS) + NODES**2  # weights for integrating f directly: sum w e^{z^2} f(z)


def _binom_ll(x, n, eta):
    """Binomial log-likelihood kernel x*eta - n*log(1+e^eta), elementwise."""
    return x * eta - n * np.logaddexp(0.0, eta)


def conditional_modes(mu: float, t2: float, x, n, start=None, tol: float = 1e-11):
    r"""Conditional modes :math:`\hat u_i` of :math:`u_i` given the data, for all studies at once.

    Root of :math:`g(u) = x - n\,\mathrm{expit}(\mu+u) - u/\tau^2`, which is strictly decreasing,
    bracketed in :math:`[\tau^2(x-n), \tau^2 x]`. Safeguarded Newton ("rtsafe", Press et al.,
    Numerical Recipes 9.4): a Newton step that leaves the bracket, or that does not halve the step
    before it, is replaced by bisection; the bracket shrinks every iteration, so the search cannot
    oscillate between a bracket end and a far point. Convergence is checked, not assumed.
    """
    lo, hi = t2 * (x - n), t2 * x
    u = np.clip(np.zeros_like(x) if start is None else np.asarray(start, dtype=float), lo, hi)
    dx_old = hi - lo
    for _ in range(300):
        p = special.expit(mu + u)
        g = x - n * p - u / t2
        h = n * p * (1 - p) + 1.0 / t2
        lo = np.where(g > 0, u, lo)
        hi = np.where(g < 0, u, hi)
        step = g / h
        newton = u + step
        bisect = (newton <= lo) | (newton >= hi) | (np.abs(2 * step) > np.abs(dx_old))
        bisect &= g != 0
        new = np.where(bisect, 0.5 * (lo + hi), newton)
        dx_old = np.abs(new - u)
        u = new
        if np.all(dx_old <= tol * np.maximum(1.0, np.abs(u))):
            break
    else:
        raise FloatingPointError("conditional modes did not converge")
    return u


def glmm_loglik(mu: float, tau: float, x, n, modes=None) -> float:
    r"""Marginal log-likelihood of the binomial-normal model.

    .. math:: \sum_i \log\int \operatorname{Bin}(x_i|n_i,\operatorname{expit}(\mu+u))\,\phi(u;0,\tau^2)\,du

    Binomial coefficients included; 7-node adaptive Gauss-Hermite quadrature; exact when
    :math:`\tau = 0`. ``modes``, an array, warm-starts the search for the conditional modes and
    receives the new ones (the optimiser's successive calls differ little).
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    const = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    if tau <= 1e-12:
        return float(np.sum(const + _binom_ll(x, n, np.full_like(x, mu))))
    t2 = tau * tau
    u = conditional_modes(mu, t2, x, n, modes)
    if modes is not None:
        modes[:] = u
    p = special.expit(mu + u)
    sigma = 1.0 / np.sqrt(n * p * (1 - p) + 1.0 / t2)
    uu = u[:, None] + math.sqrt(2.0) * sigma[:, None] * NODES[None, :]
    g = (_binom_ll(x[:, None], n[:, None], mu + uu)
         - uu**2 / (2 * t2) - 0.5 * math.log(2 * math.pi * t2))
    li = special.logsumexp(g + _LOG_WZ[None, :], axis=1) + np.log(math.sqrt(2.0) * sigma)
    return float(np.sum(const + li))


def _hessian(f, theta, steps):
    """Central-difference Hessian of ``f`` at ``theta``."""
    k = len(theta)
    h = np.zeros((k, k))
    f0 = f(theta)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = steps[i]
        h[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / steps[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = steps[j]
            h[i, j] = h[j, i] = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej)
                                 + f(theta - ei - ej)) / (4 * steps[i] * steps[j])
    return h


def _fit(x, n):
    """ML fit; returns (mu, tau, se_mu, converged, message)."""
    from scipy.optimize import minimize  # imported here: only GLMM needs it

    modes = np.zeros_like(x, dtype=float)

    def nll(th):
        return -glmm_loglik(th[0], max(th[1], 0.0), x, n, modes)

    pbar = x.sum() / n.sum()
    mu0 = math.log(pbar / (1 - pbar)) if 0 < pbar < 1 else 0.0
    tau0 = math.sqrt(tau2_dl(*escalc(x, n, "PLOGIT")[:2]))
    best = None
    for start in ((mu0, max(tau0, 0.3)), (mu0, 0.05)):  # second start guards against tau -> 0
        res = minimize(nll, np.array(start), method="L-BFGS-B", jac="3-point",
                                bounds=[(-50, 50), (0.0, 50.0)],
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun - 1e-12):
            best = res
    if best is None or not np.isfinite(best.fun):
        return float("nan"), float("nan"), float("nan"), False, "likelihood not finite"
    mu, tau = float(best.x[0]), float(best.x[1])
    # converged when the gradient of the deviance vanishes (lme4 checks |gradient| < 0.002),
    # whatever the optimiser's own stopping message (e.g. "ABNORMAL" line search at the optimum)
    eps = 1e-5
    g_mu = (nll([mu + eps, tau]) - nll([mu - eps, tau])) / (2 * eps)
    g_tau = ((nll([mu, tau + eps]) - nll([mu, tau - eps])) / (2 * eps) if tau > eps
             else (nll([mu, tau + eps]) - nll([mu, tau])) / eps)
    grad_ok = abs(2 * g_mu) < 2e-3 and (abs(2 * g_tau) < 2e-3 or (tau <= eps and g_tau > 0))
    if abs(mu) > 49 or tau > 49:
        return mu, tau, float("nan"), False, "estimate at the edge of the parameter space"
    if tau < 1e-5:
        # boundary: tau^2 = 0, the model is the common-effect logistic model
        p = special.expit(mu)
        se = 1.0 / math.sqrt(float(n.sum()) * p * (1 - p))
        return mu, 0.0, se, True, ""
    steps = np.array([1e-4 * max(1.0, abs(mu)), min(1e-4, tau / 4)])
    hess = _hessian(lambda th: nll(th), np.array([mu, tau]), steps)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return mu, tau, float("nan"), False, "singular Hessian"
    if not (cov[0, 0] > 0 and np.all(np.linalg.eigvalsh(hess) > 0)):
        return mu, tau, float("nan"), False, "Hessian not positive definite"
    return mu, tau, math.sqrt(cov[0, 0]), grad_ok, str(best.message) if not grad_ok else ""


def pool_glmm(x, n, labels, *, hakn=False, prediction_df="k-1", level=0.95, convention="meta",
              method_ci="CP", study=None) -> PoolResult:
    """GLMM meta-analysis of proportions (logit scale); see the module docstring.

    Called by :func:`metaprop.pool` with ``method="GLMM"``; counts are already validated.
    """
    if hakn:
        raise MetapropError("hakn is not available with method 'GLMM'.")
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    k = len(x)
    notes = []
    # common-effect logistic model (metafor rma.glmm method = "EE")
    pbar = x.sum() / n.sum()
    if 0 < pbar < 1:
        common = wald(math.log(pbar / (1 - pbar)), 1 / math.sqrt(n.sum() * pbar * (1 - pbar)), level)
    else:
        raise MetapropError("GLMM needs at least one event and one non-event across studies.")
    # saturated-model Wald Q: studies with 0 < x < n only (others have infinite logits)
    inner = (x > 0) & (x < n)
    q = q_stat(*escalc(x[inner], n[inner], "PLOGIT")[:2]) if inner.any() else 0.0
    q_df = k - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        psat = x / n
        ll_sat = float(np.sum(special.xlogy(x, psat) + special.xlogy(n - x, 1 - psat)))
    ll_ce = float(np.sum(_binom_ll(x, n, np.full_like(x, common.te))))
    q_lrt = max(0.0, 2 * (ll_sat - ll_ce))
    q_p = float(dist.chi2_sf(q, q_df)) if q_df > 0 else float("nan")
    q_lrt_p = float(dist.chi2_sf(q_lrt, q_df)) if q_df > 0 else float("nan")
    if k == 1:
        mu, tau, se, converged, msg = common.te, 0.0, common.se, True, ""
        notes.append("Only one study: its own estimate is reported; no heterogeneity statistics.")
    else:
        mu, tau, se, converged, msg = _fit(x, n)
    yc, vc, _ = escalc(x, n, "PLOGIT")
    if not converged or not math.isfinite(se):
        # never the common-effect model: a random-effects model that can always be fitted
        t2_iv, fallback = random_effects(yc, vc, "ML", level=level)
        text = (f"GLMM did not converge ({msg}); inverse-variance random-effects model (logit, ML tau^2, "
                "continuity correction 0.5) reported instead.")
        warnings.warn(text, ConvergenceWarning, stacklevel=3)
        notes.append(text)
        mu, tau, se, converged = fallback.te, math.sqrt(t2_iv), fallback.se, False
    tau2 = tau * tau
    random = wald(mu, se, level)
    pi = (prediction_interval(mu, se, tau2, k, prediction_df, level) if k > 1
          else (float("nan"), float("nan")))
    if k > 1:
        i2 = max(0.0, (q - q_df) / q) if q > 0 else 0.0
        if convention == "metafor":
            i2 = i2_tau2(vc, tau2)
    else:
        i2 = float("nan")
    wc = 1 / vc
    wr = 1 / (vc + tau2)
    notes.append("GLMM: study weights shown are approximate inverse-variance weights on the logit "
                 "scale (continuity-corrected variances plus tau^2); the GLMM itself has none, and "
                 "forest plots size its squares by sample size.")
    return PoolResult(
        sm="PLOGIT", method="GLMM", method_tau="ML", hakn=False, convention=convention,
        level=level, incr=0.0, method_ci=method_ci, prediction_df=prediction_df,
        **study_fields(labels, x, n, yc, vc, np.zeros(k, dtype=bool), study),
        w_common=tuple(map(float, 100 * wc / wc.sum())),
        w_random=tuple(map(float, 100 * wr / wr.sum())),
        common=common, random=random, pi=pi, tau2=tau2, q=q, q_df=q_df, q_pvalue=q_p,
        i2=float(i2), i2_ci=heterogeneity_i2_ci(q, k, level),
        h=math.sqrt(q / q_df) if q_df > 0 else float("nan"),
        q_lrt=q_lrt, q_lrt_pvalue=q_lrt_p, converged=converged, notes=tuple(notes))
