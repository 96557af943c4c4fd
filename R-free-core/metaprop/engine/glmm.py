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
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special

from ..errors import ConvergenceWarning, MetapropError
from . import dist
from .conventions import CONVENTIONS
from .glm import binom_loglik, glm_intercept, glm_wald_q
from .inference import heterogeneity_h_i2, i2_tau2, prediction_interval, random_effects, study_fields, wald
from .measures import escalc
from .quadrature import conditional_modes, gauss_hermite, mode_start
from .results import GLMM_WEIGHTS, PoolResult

__all__ = ["pool_glmm", "fit_glmm", "GlmmFit", "common_effect_fit", "CommonFit", "glmm_loglik",
           "glmm_loglik_derivs", "TAU_ZERO"]

#: lme4's nAGQ = 7: nodes z and log weights log(w) + z^2 (for integrating f directly: sum w e^{z^2} f(z))
NODES, _LOG_WZ = gauss_hermite(7)
TAU_ZERO = 1e-5  # below this tau the fit is the common-effect model (tau^2 < 1e-10)


def glmm_loglik(mu: float, tau: float, x, n, modes=None) -> float:
    r"""Marginal log-likelihood of the binomial-normal model.

    .. math:: \sum_i \log\int \operatorname{Bin}(x_i|n_i,\operatorname{expit}(\mu+u))\,\phi(u;0,\tau^2)\,du

    Binomial coefficients included; 7-node adaptive Gauss-Hermite quadrature; exact when
    :math:`\tau = 0`. ``modes``, an array, warm-starts the search for the conditional modes and
    receives the new ones (the optimiser's successive calls differ little).
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    const = float(np.sum(special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)))
    if tau <= 1e-12:
        return const + float(np.sum(binom_loglik(x, n, np.full_like(x, mu))))
    # the same quadrature the optimiser uses, so that what is tested is what is fitted
    return const + glmm_loglik_derivs(mu, tau, x, n, modes)[0]


def glmm_loglik_derivs(mu: float, tau: float, x, n, modes=None):
    r"""Log-likelihood (binomial coefficients excluded), gradient and Hessian in :math:`(\mu,\tau)`.

    The 7-node adaptive Gauss-Hermite approximation differentiated exactly, vectorised over studies
    :math:`i` and nodes :math:`j`. With the conditional mode :math:`\hat u_i(\mu,\tau)`, the
    curvature :math:`D_i = a_i + \tau^{-2}`, :math:`a_i = n_i p_i(1-p_i)` at the mode, and the
    scale :math:`s_i = \sqrt2\,D_i^{-1/2}`, the nodes are :math:`u_{ij} = \hat u_i + s_i z_j` and

    .. math::
        \ell_i = \log\sum_j \omega_j e^{z_j^2} e^{h_{ij}} + \log s_i,\quad
        h_{ij} = x_i\eta_{ij} - n_i\log(1+e^{\eta_{ij}}) - \frac{u_{ij}^2}{2\tau^2} - \log\tau
        - \tfrac12\log 2\pi,\quad \eta_{ij} = \mu + u_{ij}.

    Derivatives by the chain rule through :math:`u_{ij}(\mu,\tau)`: the mode's by implicit
    differentiation of :math:`g(u) = x - n\,\mathrm{expit}(\mu+u) - u/\tau^2 = 0` (first and
    second order), the scale's through :math:`D_i`; then those of the log-sum-exp, a softmax
    :math:`w_{ij}`: :math:`\nabla\ell = \sum_j w_j\nabla h_j`,
    :math:`\nabla^2\ell = \sum_j w_j(\nabla^2 h_j + \nabla h_j\nabla h_j^\top) - \nabla\ell\nabla\ell^\top`.
    Requires :math:`\tau > 0`. ``tests/test_glmm.py`` checks gradient and Hessian against finite
    differences.
    """
    t2 = tau * tau
    r = 1.0 / t2                      # r = tau^-2 and its derivatives in tau
    r1, r11 = -2.0 / (tau * t2), 6.0 / (t2 * t2)
    # a loose tolerance suffices: the Newton step below refines the modes quadratically
    u = conditional_modes(mu, t2, x, n, modes, tol=1e-7)
    if modes is not None:
        modes[:] = u
    p = special.expit(mu + u)
    u = u + (x - n * p - u * r) / (n * p * (1 - p) + r)
    p = special.expit(mu + u)
    pq = p * (1 - p)
    a = n * pq
    d = a + r
    a1 = a * (1 - 2 * p)              # da / d(eta)
    # the mode: u_m, u_t (first), u_mm, u_mt, u_tt (second), from
    #   u_i = -g_i / g_u,   u_ij = -(a' e_i e_j + u_i c_j + u_j c_i + u c_ij) / D,
    # e = d(eta)/d(theta) = (1 + u_m, u_t), c = dr/d(theta) = (0, r1), c_tt = r11
    um, ut = -a / d, -u * r1 / d
    em, et = 1.0 + um, ut
    umm = -a1 * em * em / d
    umt = -(a1 * em * et + um * r1) / d
    utt = -(a1 * et * et + 2.0 * ut * r1 + u * r11) / d
    # the curvature D = n pq(eta) + r along the mode, and the scale s = sqrt(2) D^(-1/2)
    pq1, pq2 = pq * (1 - 2 * p), pq * (1 - 6 * pq)
    dm, dt = n * pq1 * em, n * pq1 * et + r1
    dmm = n * (pq2 * em * em + pq1 * umm)
    dmt = n * (pq2 * em * et + pq1 * umt)
    dtt = n * (pq2 * et * et + pq1 * utt) + r11
    s = math.sqrt(2.0) / np.sqrt(d)
    c1 = -0.5 * s / d                 # ds/dD
    c2 = 0.75 * s / (d * d)           # d2s/dD2
    sm, st = c1 * dm, c1 * dt
    smm, smt, stt = c1 * dmm + c2 * dm * dm, c1 * dmt + c2 * dm * dt, c1 * dtt + c2 * dt * dt
    # nodes u + s z and their derivatives, each of shape (k, 7)
    un, Um, Ut, Umm, Umt, Utt = (np.stack([u, um, ut, umm, umt, utt])[:, :, None]
                                 + np.stack([s, sm, st, smm, smt, stt])[:, :, None] * NODES)
    eta = mu + un
    pn = special.expit(eta)
    xr, nr = x[:, None], n[:, None]
    f1 = xr - nr * pn                 # d h / d eta
    f2 = nr * pn * (1 - pn)           # -d2 h / d eta2
    Em = 1.0 + Um                     # d eta / d mu; d eta / d tau is Ut
    h = xr * eta - nr * np.logaddexp(0.0, eta) - 0.5 * r * un * un + (_LOG_WZ - 0.5 * math.log(2 * math.pi))
    # h_a = f1 E_a - r u U_a - u^2 r_a / 2 ;   h_ab = f1 U_ab - f2 E_a E_b - r (U_a U_b + u U_ab)
    #                                                   - u (U_a r_b + U_b r_a) - u^2 r_ab / 2
    ru = r * un
    hm = f1 * Em - ru * Um
    ht = f1 * Ut - ru * Ut - 0.5 * r1 * un * un
    hmm = f1 * Umm - f2 * Em * Em - r * Um * Um - ru * Umm
    hmt = f1 * Umt - f2 * Em * Ut - r * Um * Ut - ru * Umt - r1 * un * Um
    htt = f1 * Utt - f2 * Ut * Ut - r * Ut * Ut - ru * Utt - 2.0 * r1 * un * Ut - 0.5 * r11 * un * un
    # log-sum-exp over the nodes, plus log s - log tau per study
    top = h.max(axis=1, keepdims=True)
    w = np.exp(h - top)
    tot = w.sum(axis=1, keepdims=True)
    w /= tot
    ll = np.log(tot[:, 0]) + top[:, 0] + np.log(s)
    gm, gt = (w * hm).sum(axis=1), (w * ht).sum(axis=1)
    hess_mm = (w * (hmm + hm * hm)).sum(axis=1) - gm * gm
    hess_mt = (w * (hmt + hm * ht)).sum(axis=1) - gm * gt
    hess_tt = (w * (htt + ht * ht)).sum(axis=1) - gt * gt
    gm, gt = gm + sm / s, gt + st / s
    hess_mm = hess_mm + smm / s - (sm / s) ** 2
    hess_mt = hess_mt + smt / s - sm * st / (s * s)
    hess_tt = hess_tt + stt / s - (st / s) ** 2
    k = len(u)  # and -log tau per study: -k / tau in the gradient, k / tau^2 in the Hessian
    g = np.array([gm.sum(), gt.sum() - k / tau])
    mt = hess_mt.sum()
    hess = np.array([[hess_mm.sum(), mt], [mt, hess_tt.sum() + k / t2]])
    return float(ll.sum()) - k * math.log(tau), g, hess


class CommonFit(NamedTuple):
    """The common-effect logistic fit (tau = 0) in closed form (:func:`common_effect_fit`)."""

    mu: float
    loglik: float  # binomial kernel, coefficients excluded
    curvature: float  # second derivative of the log-likelihood in tau at tau = 0


def common_effect_fit(x, n) -> CommonFit:
    r"""Common-effect logistic fit (tau = 0): mu, log-likelihood kernel, curvature in tau.

    At :math:`\tau = 0` the likelihood is even in :math:`\tau`, and its second derivative in
    :math:`\tau` is :math:`\sum_i \ell_i'' + \ell_i'^2` with :math:`\ell_i' = x_i - n_i p`,
    :math:`\ell_i'' = -n_i p(1-p)` (the score test for overdispersion): tau = 0 is a local
    maximum when that is at most 0.
    """
    pbar = x.sum() / n.sum()
    mu = math.log(pbar / (1 - pbar))
    curv = float(np.sum((x - n * pbar) ** 2 - n * pbar * (1 - pbar)))
    return CommonFit(mu, float(np.sum(binom_loglik(x, n, np.full_like(x, mu)))), curv)


def _newton(x, n, mu, tau, max_iter=100, tol=1e-10):
    """Newton's method with a backtracking line search on the log-likelihood in (mu, tau).

    The Hessian is made negative definite by reflecting its eigenvalues where needed; a step to
    tau < 0 is reflected (the likelihood is even in tau). Returns (mu, tau, loglik, grad, hess,
    iterations, converged).
    """
    modes = mode_start(mu, tau * tau, x, n)
    ll, g, h = glmm_loglik_derivs(mu, tau, x, n, modes)
    for it in range(1, max_iter + 1):
        a, b, d = h[0, 0], h[0, 1], h[1, 1]
        det = a * d - b * b
        if a < 0 and det > 1e-12 * (a * a + d * d):  # negative definite: the Newton step, in closed form
            step = np.array([(-d * g[0] + b * g[1]) / det, (b * g[0] - a * g[1]) / det])
        else:  # otherwise reflect the eigenvalues to negative ones
            lam, vec = np.linalg.eigh(h)
            lam = -np.maximum(np.abs(lam), 1e-8 * max(1.0, np.abs(lam).max()))
            step = -(vec @ ((vec.T @ g) / lam))
        if tau + step[1] < 0.05 * tau and step[1] < 0:  # do not jump across tau = 0 in one step
            step *= 0.9 * tau / -step[1]
        t = 1.0
        while True:
            mu1, tau1 = mu + t * step[0], abs(tau + t * step[1])
            if tau1 > 1e-8 and abs(mu1) < 50 and tau1 < 50:
                trial = modes.copy()
                ll1, g1, h1 = glmm_loglik_derivs(mu1, tau1, x, n, trial)
                if ll1 >= ll + 1e-4 * t * float(g @ step) or t < 1e-10:
                    break
            t *= 0.5
            if t < 1e-10:
                return mu, tau, ll, g, h, it, False
        modes = trial
        done = abs(ll1 - ll) < 1e-14 * max(1.0, abs(ll)) and np.abs(g1).max() < 1e-6
        mu, tau, ll, g, h = mu1, tau1, ll1, g1, h1
        if np.abs(g).max() < tol * max(1.0, abs(ll)) or done:
            return mu, tau, ll, g, h, it, True
        if tau < TAU_ZERO:
            return mu, tau, ll, g, h, it, False
    return mu, tau, ll, g, h, max_iter, False


@dataclass(frozen=True, slots=True)
class GlmmFit:
    """The GLMM's maximum-likelihood fit (:func:`fit_glmm`).

    Attributes
    ----------
    mu, tau, se : float
        Estimates on the logit scale and the standard error of mu (inverse Hessian); NaN where
        the fit failed.
    converged : bool
    message : str
        Why not converged ("" when converged).
    iterations : int
        Newton iterations over all starts.
    gradient : float
        Largest absolute gradient component at the end.
    """

    mu: float
    tau: float
    se: float
    converged: bool
    message: str
    iterations: int
    gradient: float


def fit_glmm(x, n, yi, vi) -> GlmmFit:
    """ML fit by Newton's method, started from the inverse-variance DL fit of the continuity-
    corrected logits ``yi, vi``, and from the common-effect fit with a wide and a narrow tau;
    tau = 0 (the common-effect model) where that is the maximum."""
    mu_b, ll_b, curv = common_effect_fit(x, n)
    t2_iv, iv = random_effects(yi, vi, "DL")
    starts = [(iv.te, max(math.sqrt(t2_iv), 0.3)), (mu_b, 1.5), (mu_b, 0.1)]
    best, iterations = None, 0
    for mu0, tau0 in starts:
        mu, tau, ll, g, h, it, ok = _newton(x, n, mu0, tau0)
        iterations += it
        if ok and tau > TAU_ZERO:
            best = (mu, tau, ll, g, h)
            break  # an interior maximum
        if tau <= TAU_ZERO and curv <= 0:
            break  # Newton went to tau = 0, which is a local maximum there
    if best is None or ll_b >= best[2] - 1e-12:
        if curv > 0 and best is None:
            nan = float("nan")
            return GlmmFit(nan, nan, nan, False, "Newton's method did not converge", iterations, nan)
        # boundary: tau^2 = 0, the model is the common-effect logistic model
        pbar = x.sum() / n.sum()
        return GlmmFit(mu_b, 0.0, 1.0 / math.sqrt(float(n.sum()) * pbar * (1 - pbar)), True, "", iterations, 0.0)
    mu, tau, ll, g, h = best
    it = iterations
    if abs(mu) > 49 or tau > 49:
        return GlmmFit(mu, tau, float("nan"), False, "estimate at the edge of the parameter space", it,
                       float(np.abs(g).max()))
    if not np.all(np.linalg.eigvalsh(-h) > 0):
        return GlmmFit(mu, tau, float("nan"), False, "Hessian not negative definite", it,
                       float(np.abs(g).max()))
    cov = np.linalg.inv(-h)
    return GlmmFit(mu, tau, math.sqrt(cov[0, 0]), True, "", it, float(np.abs(g).max()))


def pool_glmm(x, n, labels, *, hakn=False, prediction_df="k-1", level=0.95, convention="meta",
              method_ci="CP", study=None) -> PoolResult:
    """GLMM meta-analysis of proportions (logit scale); see the module docstring.

    Called by :func:`metaprop.pool` with ``method="GLMM"``; counts are already validated.
    """
    if hakn:
        raise MetapropError("hakn is not available with method 'GLMM'.")
    conv = CONVENTIONS[convention]
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    k = len(x)
    notes = []
    yc, vc, _ = escalc(x, n, "PLOGIT")  # continuity-corrected logits: start values, weights shown
    # common-effect logistic model, as R's glm() fits it for R meta and metafor (method = "EE")
    te_ce, se_ce, _, _ = glm_intercept(x, n)
    common = wald(te_ce, se_ce, level)
    pbar = x.sum() / n.sum()
    if not 0 < pbar < 1:
        # no event, or no non-event, anywhere: the likelihood has no finite maximum. R meta
        # shows glm()'s last iterate for both models, and so does metaprop, with a note.
        word = "no events" if pbar == 0 else "100% events"
        note = (f"Every study has {word}: the logistic model has no finite estimate. As R meta, the "
                "common-effect fit where R's glm() stops is shown for both models (proportion "
                f"{pbar:.0%}, confidence interval 0% to 100%); tau^2 is set to 0.")
        warnings.warn(note, ConvergenceWarning, stacklevel=3)
        nan = float("nan")
        h, h_ci, i2, i2_ci = heterogeneity_h_i2(0.0, k, level)
        pi = prediction_interval(common.te, common.se, 0.0, k, prediction_df, level) if k > 1 else (
            (common.lower, common.upper) if conv.one_study_glmm_pi_is_ci else (nan, nan))
        return PoolResult(
            sm="PLOGIT", method="GLMM", method_tau="ML", hakn=False, convention=convention,
            level=level, incr=0.0, method_ci=method_ci, prediction_df=prediction_df,
            **study_fields(labels, x, n, yc, vc, np.zeros(k, dtype=bool), study),
            w_common=tuple([100.0 / k] * k), w_random=tuple([100.0 / k] * k),
            common=common, random=common, pi=pi, tau2=0.0, q=0.0, q_df=k - 1,
            q_pvalue=float(dist.chi2_sf(0.0, k - 1)) if k > 1 else nan, i2=i2 if k > 1 else nan,
            i2_ci=i2_ci, h=h, h_ci=h_ci, q_lrt=0.0, q_lrt_pvalue=float(dist.chi2_sf(0.0, k - 1)) if k > 1 else nan,
            converged=False, notes=(note,))
    q = glm_wald_q(x, n)
    q_df = k - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        psat = x / n
        ll_sat = float(np.sum(special.xlogy(x, psat) + special.xlogy(n - x, 1 - psat)))
    ll_ce = float(np.sum(binom_loglik(x, n, np.full_like(x, common.te))))
    q_lrt = max(0.0, 2 * (ll_sat - ll_ce))
    q_p = float(dist.chi2_sf(q, q_df)) if q_df > 0 else float("nan")
    q_lrt_p = float(dist.chi2_sf(q_lrt, q_df)) if q_df > 0 else float("nan")
    iterations, gradient = None, None
    if k == 1:
        mu, tau, se, converged, msg = common.te, 0.0, common.se, True, ""
        notes.append("Only one study: its own estimate is reported; no heterogeneity statistics.")
    else:
        fit = fit_glmm(x, n, yc, vc)
        mu, tau, se, converged, msg = fit.mu, fit.tau, fit.se, fit.converged, fit.message
        iterations, gradient = fit.iterations, fit.gradient
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
    if k > 1:
        pi = prediction_interval(mu, se, tau2, k, prediction_df, level)
    elif conv.one_study_glmm_pi_is_ci:  # R meta: with one study the GLMM "prediction interval" is its CI
        pi = (random.lower, random.upper)
    else:
        pi = (float("nan"), float("nan"))
    h, h_ci, i2, i2_ci = heterogeneity_h_i2(q, k, level)
    if k > 1 and conv.i2 == "tau2":
        i2 = i2_tau2(vc, tau2)
    wc = 1 / vc
    wr = 1 / (vc + tau2)
    notes.append(f"{GLMM_WEIGHTS} shown are approximate inverse-variance weights on the logit "
                 "scale (continuity-corrected variances plus tau^2); the GLMM itself has none, and "
                 "forest plots size its squares by sample size.")
    return PoolResult(
        sm="PLOGIT", method="GLMM", method_tau="ML", hakn=False, convention=convention,
        level=level, incr=0.0, method_ci=method_ci, prediction_df=prediction_df,
        **study_fields(labels, x, n, yc, vc, np.zeros(k, dtype=bool), study),
        w_common=tuple(map(float, 100 * wc / wc.sum())),
        w_random=tuple(map(float, 100 * wr / wr.sum())),
        common=common, random=random, pi=pi, tau2=tau2 if k > 1 else float("nan"), q=q, q_df=q_df,
        q_pvalue=q_p,
        i2=float(i2), i2_ci=i2_ci, h=h, h_ci=h_ci,
        q_lrt=q_lrt, q_lrt_pvalue=q_lrt_p, converged=converged, iterations=iterations,
        gradient_norm=gradient, notes=tuple(notes))
