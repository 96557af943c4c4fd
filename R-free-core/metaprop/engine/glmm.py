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
from .inference import heterogeneity_h_i2, i2_tau2, prediction_interval, random_effects, study_fields, wald
from .measures import escalc
from .results import PoolResult

__all__ = ["pool_glmm", "glmm_loglik", "glmm_loglik_derivs", "glm_intercept", "glm_wald_q"]

NODES, WEIGHTS = np.polynomial.hermite.hermgauss(7)
_LOG_WZ = np.log(WEIGHTS) + NODES**2  # weights for integrating f directly: sum w e^{z^2} f(z)
TAU_ZERO = 1e-5  # below this tau the fit is the common-effect model (tau^2 < 1e-10)


def _binom_ll(x, n, eta):
    """Binomial log-likelihood kernel x*eta - n*log(1+e^eta), elementwise."""
    return x * eta - n * np.logaddexp(0.0, eta)


_EPS = float(np.finfo(float).eps)


def _glm_irls(x, n, saturated: bool, epsilon: float = 1e-8, maxit: int = 25):
    r"""Binomial logistic regression exactly as R's ``glm.fit`` iterates it, for the two models the
    GLMM needs: intercept only, or one intercept per study (saturated).

    Iteratively reweighted least squares from R's start :math:`\mu_i = (x_i + 0.5)/(n_i + 1)`,
    stopping when :math:`|D - D_{old}|/(|D| + 0.1) < \epsilon` (``glm.control``); the logit
    inverse link and its derivative are clamped at :math:`|\eta| > 30` as in R's C code
    (``logit_linkinv``, ``logit_mu_eta``). Returns the coefficients and the working weights of
    the final least-squares step (whose inverse is the variance ``summary.glm`` reports), the
    iterations and whether the criterion was met.
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    if len(x) <= 32:  # the same iterations in plain floats: faster for a few studies
        eta, w2, it, ok = _glm_irls_small(x.tolist(), n.tolist(), saturated, epsilon, maxit)
        return np.array(eta), np.array(w2), it, ok
    y = x / n

    sat = special.xlogy(y, y) + special.xlogy(1 - y, 1 - y)  # the saturated part, fixed

    def deviance(mu):
        return float(2 * n @ (sat - special.xlogy(y, mu) - special.xlogy(1 - y, 1 - mu)))

    mu = (n * y + 0.5) / (n + 1)
    eta = np.log(mu / (1 - mu))
    dev_old = deviance(mu)
    for it in range(1, maxit + 1):
        e = np.exp(np.minimum(np.maximum(eta, -30.0), 30.0))
        mu_eta = np.where(np.abs(eta) > 30, _EPS, e / (1 + e) ** 2)
        z = eta + (y - mu) / mu_eta
        w2 = n * mu_eta**2 / (mu * (1 - mu))
        eta = z.copy() if saturated else np.full_like(x, (w2 @ z) / w2.sum())
        t = np.where(eta < -30, _EPS, np.where(eta > 30, 1 / _EPS, np.exp(np.minimum(np.maximum(eta, -30.0), 30.0))))
        mu = t / (1 + t)
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return eta, w2, it, True
        dev_old = dev
    return eta, w2, maxit, False


def _xlogy(a: float, b: float) -> float:
    return 0.0 if a == 0 else a * math.log(b)


def _glm_irls_small(x: list, n: list, saturated: bool, epsilon: float, maxit: int):
    """:func:`_glm_irls` for a few studies, in Python floats (the same arithmetic, one pass over
    the studies per iteration)."""
    y = [a / b for a, b in zip(x, n, strict=True)]
    # per study: n, y, and n times the saturated part y log y + (1 - y) log(1 - y)
    rows = [(ni, v, ni * (_xlogy(v, v) + _xlogy(1 - v, 1 - v))) for ni, v in zip(n, y, strict=True)]

    def dev_i(ni, v, ns, m):  # one study's deviance contribution, halved
        return ns - ni * (_xlogy(v, m) + _xlogy(1 - v, 1 - m))

    mu = [(ni * v + 0.5) / (ni + 1) for ni, v, _ in rows]
    eta = [math.log(m / (1 - m)) for m in mu]
    dev_old = 2 * sum(dev_i(*r, m) for r, m in zip(rows, mu, strict=True))
    for it in range(1, maxit + 1):
        z, w2 = [], []
        for (ni, v, _), e, m in zip(rows, eta, mu, strict=True):
            if abs(e) > 30:
                d = _EPS
            else:
                t = math.exp(e)
                d = t / (1 + t) ** 2
            z.append(e + (v - m) / d)
            w2.append(ni * d * d / (m * (1 - m)))
        if saturated:
            eta = z
        else:
            eta = [sum(a * b for a, b in zip(w2, z, strict=True)) / sum(w2)] * len(x)
        mu = []
        dev = 0.0
        for r, e in zip(rows, eta, strict=True):
            t = _EPS if e < -30 else (1 / _EPS if e > 30 else math.exp(e))
            m = t / (1 + t)
            mu.append(m)
            dev += dev_i(*r, m)
        dev *= 2
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return eta, w2, it, True
        dev_old = dev
    return eta, w2, maxit, False


def glm_intercept(x, n):
    """Common-effect logistic model as R's ``glm()`` fits it (R meta and metafor ``rma.glmm``
    ``method = "EE"``): ``(beta, se, iterations, converged)``. Matching R's iterates rather than
    the closed form :math:`\\operatorname{logit}\bar p` reproduces R's numbers to the last digits,
    also where the maximum is at infinity (every study at 100%)."""
    eta, w2, it, ok = _glm_irls(x, n, saturated=False)
    return float(eta[0]), 1.0 / math.sqrt(float(np.sum(w2))), it, ok


def glm_wald_q(x, n) -> float:
    r"""Wald-type test of heterogeneity, metafor ``rma.glmm``'s ``QE.Wald``: the saturated model
    (one logit per study) fitted by R's ``glm()``, and the Wald statistic for equal logits,
    :math:`\sum_i w_i(b_i - \bar b_w)^2` with the final working weights :math:`w_i`. Studies with 0 or
    n events get a huge logit and a negligible weight, as in R."""
    b, w2, _, _ = _glm_irls(x, n, saturated=True)
    return float(np.sum(w2 * (b - np.sum(w2 * b) / np.sum(w2)) ** 2))


def mode_start(mu: float, t2, x, n):
    r"""A start for the conditional modes: each study's empirical logit (0.5 added to events and
    non-events) less :math:`\mu`, shrunk towards 0 as a normal posterior mean with prior variance
    :math:`\tau^2` and the logit's variance :math:`(n+1)/\{(x+0.5)(n-x+0.5)\}`."""
    y = np.log((x + 0.5) / (n - x + 0.5)) - mu
    return y * t2 / (t2 + (n + 1) / ((x + 0.5) * (n - x + 0.5)))


def conditional_modes(mu: float, t2: float, x, n, start=None, tol: float = 1e-11):
    r"""Conditional modes :math:`\hat u_i` of :math:`u_i` given the data, for all studies at once.

    Root of :math:`g(u) = x - n\,\mathrm{expit}(\mu+u) - u/\tau^2`, which is strictly decreasing,
    bracketed in :math:`[\tau^2(x-n), \tau^2 x]`. From ``start`` (default :func:`mode_start`), plain
    Newton steps are taken while every iterate stays inside the bracket and the steps shrink (the
    usual case: quadratic convergence in a few steps). Otherwise safeguarded Newton ("rtsafe",
    Press et al., Numerical Recipes 9.4) takes over: a Newton step that leaves the bracket, or that
    does not halve the step before it, is replaced by bisection; the bracket shrinks every
    iteration, so the search cannot oscillate between a bracket end and a far point. Convergence is
    checked, not assumed.
    """
    lo, hi = t2 * (x - n), t2 * x
    if start is None:
        start = mode_start(mu, t2, x, n)
    u = np.clip(np.asarray(start, dtype=float), lo, hi)
    # fast path: plain Newton steps, kept only if every iterate stays inside the bracket and the
    # steps keep shrinking, until the last step meets the tolerance
    v, last = u, np.inf
    for _ in range(12):
        p = special.expit(mu + v)
        step = (x - n * p - v / t2) / (n * p * (1 - p) + 1.0 / t2)
        v = v + step
        size = float(np.max(np.abs(step) / np.maximum(1.0, np.abs(v))))
        if size <= tol:
            if ((v >= lo) & (v <= hi)).all():
                return v
            break
        if not size < last or not ((v >= lo) & (v <= hi)).all():
            break
        last = size
    dx_old = hi - lo
    for _ in range(300):
        p = special.expit(mu + u)
        g = x - n * p - u / t2
        step = g / (n * p * (1 - p) + 1.0 / t2)
        lo = np.where(g > 0, u, lo)
        hi = np.where(g < 0, u, hi)
        new = u + step
        bisect = ((new <= lo) | (new >= hi) | (np.abs(step + step) > dx_old)) & (g != 0)
        if bisect.any():
            new = np.where(bisect, 0.5 * (lo + hi), new)
        dx_old = np.abs(new - u)
        u = new
        if (dx_old <= tol * np.maximum(1.0, np.abs(u))).all():
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
    const = float(np.sum(special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)))
    if tau <= 1e-12:
        return const + float(np.sum(_binom_ll(x, n, np.full_like(x, mu))))
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


def _boundary(x, n):
    r"""Common-effect logistic fit (tau = 0): (mu, log-likelihood kernel, curvature in tau).

    At :math:`\tau = 0` the likelihood is even in :math:`\tau`, and its second derivative in
    :math:`\tau` is :math:`\sum_i \ell_i'' + \ell_i'^2` with :math:`\ell_i' = x_i - n_i p`,
    :math:`\ell_i'' = -n_i p(1-p)` (the score test for overdispersion): tau = 0 is a local
    maximum when that is at most 0.
    """
    pbar = x.sum() / n.sum()
    mu = math.log(pbar / (1 - pbar))
    curv = float(np.sum((x - n * pbar) ** 2 - n * pbar * (1 - pbar)))
    return mu, float(np.sum(_binom_ll(x, n, np.full_like(x, mu)))), curv


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


def _fit(x, n, yi, vi):
    """ML fit by Newton's method, started from the inverse-variance DL fit of the continuity-
    corrected logits ``yi, vi``; returns a dict with mu, tau, se, converged, message, iterations
    and gradient norm."""
    mu_b, ll_b, curv = _boundary(x, n)
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
            return {"mu": float("nan"), "tau": float("nan"), "se": float("nan"), "converged": False,
                    "message": "Newton's method did not converge", "iterations": iterations,
                    "gradient": float("nan")}
        # boundary: tau^2 = 0, the model is the common-effect logistic model
        pbar = x.sum() / n.sum()
        return {"mu": mu_b, "tau": 0.0, "se": 1.0 / math.sqrt(float(n.sum()) * pbar * (1 - pbar)),
                "converged": True, "message": "", "iterations": iterations, "gradient": 0.0}
    mu, tau, ll, g, h = best
    it = iterations
    if abs(mu) > 49 or tau > 49:
        return {"mu": mu, "tau": tau, "se": float("nan"), "converged": False, "iterations": it,
                "message": "estimate at the edge of the parameter space", "gradient": float(np.abs(g).max())}
    if not np.all(np.linalg.eigvalsh(-h) > 0):
        return {"mu": mu, "tau": tau, "se": float("nan"), "converged": False, "iterations": it,
                "message": "Hessian not negative definite", "gradient": float(np.abs(g).max())}
    cov = np.linalg.inv(-h)
    return {"mu": mu, "tau": tau, "se": math.sqrt(cov[0, 0]), "converged": True, "message": "",
            "iterations": it, "gradient": float(np.abs(g).max())}


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
            (common.lower, common.upper) if convention == "meta" else (nan, nan))
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
    ll_ce = float(np.sum(_binom_ll(x, n, np.full_like(x, common.te))))
    q_lrt = max(0.0, 2 * (ll_sat - ll_ce))
    q_p = float(dist.chi2_sf(q, q_df)) if q_df > 0 else float("nan")
    q_lrt_p = float(dist.chi2_sf(q_lrt, q_df)) if q_df > 0 else float("nan")
    iterations, gradient = None, None
    if k == 1:
        mu, tau, se, converged, msg = common.te, 0.0, common.se, True, ""
        notes.append("Only one study: its own estimate is reported; no heterogeneity statistics.")
    else:
        fit = _fit(x, n, yc, vc)
        mu, tau, se, converged, msg = fit["mu"], fit["tau"], fit["se"], fit["converged"], fit["message"]
        iterations, gradient = fit["iterations"], fit["gradient"]
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
    elif convention == "meta":  # R meta: with one study the GLMM "prediction interval" is its CI
        pi = (random.lower, random.upper)
    else:
        pi = (float("nan"), float("nan"))
    h, h_ci, i2, i2_ci = heterogeneity_h_i2(q, k, level)
    if k > 1 and convention == "metafor":
        i2 = i2_tau2(vc, tau2)
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
        common=common, random=random, pi=pi, tau2=tau2 if k > 1 else float("nan"), q=q, q_df=q_df,
        q_pvalue=q_p,
        i2=float(i2), i2_ci=i2_ci, h=h, h_ci=h_ci,
        q_lrt=q_lrt, q_lrt_pvalue=q_lrt_p, converged=converged, iterations=iterations,
        gradient_norm=gradient, notes=tuple(notes))
