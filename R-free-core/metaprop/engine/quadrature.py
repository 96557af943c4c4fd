r"""The integrals over one study's random effect, shared by the GLMM and the Bayesian model.

Both models integrate, per study :math:`i`,

.. math:: L_i(\mu,\tau) = \int \operatorname{Bin}(x_i|n_i,\operatorname{expit}\theta)\,\phi(\theta;\mu,\tau^2)\,d\theta

by adaptive Gauss-Hermite quadrature (Liu & Pierce 1994): nodes centred at the integrand's mode
(:func:`conditional_modes`) and scaled by the curvature there. The GLMM uses 7 nodes, as lme4
``glmer(nAGQ = 7)`` which R meta calls (:func:`metaprop.engine.glmm.glmm_loglik_derivs`
differentiates that rule); the Bayesian model uses 11, checked against 7 at the same centre, with a
two-panel Gauss-Legendre fallback where they disagree (:func:`study_loglik`). The population-
averaged proportion :math:`\int\operatorname{expit}(\mu+\tau z)\phi(z)dz` is here too
(:func:`mean_proportion`).

References
----------
Liu Q, Pierce DA (1994). A note on Gauss-Hermite quadrature. Biometrika 81:624-629.
Pinheiro JC, Bates DM (1995). J Comput Graph Stat 4:12-35. doi:10.1080/10618600.1995.10474663
Press WH et al. (2007). Numerical Recipes, 3rd ed., section 9.4 (safeguarded Newton).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["gauss_hermite", "mode_start", "conditional_modes", "study_modes", "study_loglik",
           "study_loglik_panels", "softplus", "mean_proportion", "mean_proportion_slope"]


def gauss_hermite(nodes: int):
    r"""Gauss-Hermite nodes :math:`z_j` and log weights :math:`\log\omega_j + z_j^2`, for integrating a
    function directly: :math:`\int f(z)dz \approx \sum_j \omega_j e^{z_j^2} f(z_j)`."""
    z, w = np.polynomial.hermite.hermgauss(nodes)
    return z, np.log(w) + z**2


def _agq_rule(nodes: int):
    z, logw = gauss_hermite(nodes)
    return z, logw + 0.5 * math.log(2.0)  # for sum w e^{z^2} sqrt2 s f(u)


# the Bayesian model's adaptive Gauss-Hermite rules for a study's likelihood: 11 nodes, checked
# against 7 at the same centre and scale (their difference estimates the 7-node rule's error, far
# above the 11-node one's)
_AGQ_Z, _AGQ_LOGW = _agq_rule(11)
_AGQ_CHECK_Z, _AGQ_CHECK_LOGW = _agq_rule(7)
_AGQ_TOL = 1e-8  # where the two differ by more, the likelihood is integrated by study_loglik_panels
# two Gauss-Legendre panels, one on each side of the integrand's mode, each to where the log
# integrand has dropped by _PANEL_DROP (e^-40: nothing of the integral lies beyond)
_PANEL_Z, _PANEL_W = np.polynomial.legendre.leggauss(48)
_PANEL_DROP = 40.0
_MEAN_Z, _MEAN_W = np.polynomial.hermite.hermgauss(40)
# for tau > _MEAN_TAU_SPLIT the mean proportion by Gauss-Laguerre (see mean_proportion)
_LAG_V, _LAG_W = np.polynomial.laguerre.laggauss(48)
_LAG_W = _LAG_W * special.expit(_LAG_V) / math.sqrt(2.0 * math.pi)  # e^v expit(-v) = expit(v)
_MEAN_TAU_SPLIT = 1.5


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



def softplus(v):
    """log(1 + e^v), stable for any v (numpy's logaddexp(0, v), faster)."""
    return np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v)))


def study_modes(m, t2, x, n, newton_steps):
    """Mode of x*theta - n*log(1+e^theta) - (theta-m)^2/(2 t2) for every element: Newton steps
    from the normal approximation (:func:`mode_start`: the continuity-corrected
    logit combined with N(m, t2)); elements
    where that has not converged (a sigmoid likelihood far from m can make Newton oscillate) are
    solved again by the bracketed, safeguarded search of :func:`conditional_modes`."""
    th = m + mode_start(m, t2, x, n)
    for _ in range(newton_steps):
        p = special.expit(th)
        step = (x - n * p - (th - m) / t2) / (n * p * (1 - p) + 1.0 / t2)
        th = th + step
    bad = ~(np.abs(step) <= 1e-9 * np.maximum(1.0, np.abs(th)))
    if bad.any():
        rows, cols = np.nonzero(bad)
        u = conditional_modes(m[bad], t2[bad], x[cols], n[cols], tol=1e-10)
        th = th.copy()
        th[bad] = m[bad] + u
    return th


def study_loglik(mu, tau, x, n, newton_steps: int = 8):
    r"""log of :math:`\int \operatorname{Bin}(x_i|n_i,\operatorname{expit}\theta)\,\phi(\theta;\mu,\tau^2)d\theta`
    (binomial constants excluded) for every grid point and study; ``mu``, ``tau`` of shape (G, 1).

    Adaptive Gauss-Hermite quadrature (Liu & Pierce 1994) with 11 nodes: the centre is the mode of
    the integrand in :math:`\theta_i` (:func:`study_modes`), the scale the curvature there. Its error is
    controlled: a 7-node rule at the same centre and scale is computed too, and where the two
    differ by more than 1e-8 (studies at 0% or 100%, or few events, under a wide
    :math:`N(\mu,\tau^2)`, where the integrand is far from normal) the integral is taken by
    :func:`study_loglik_panels` instead. At :math:`\tau = 0` the integral is the binomial
    likelihood at :math:`\mu`. Accurate to about 1e-10 for :math:`\tau` up to 20
    (tests/test_bayes.py, against ``scipy.integrate.quad``).
    """
    shape = np.broadcast_shapes(mu.shape, tau.shape, x.shape)
    out = np.empty(shape)
    zero = np.broadcast_to(tau == 0, shape)
    if zero.any():
        eta = np.broadcast_to(mu, shape)[zero]
        xz, nz = np.broadcast_to(x, shape)[zero], np.broadcast_to(n, shape)[zero]
        out[zero] = xz * eta - nz * np.logaddexp(0.0, eta)
    pos = ~zero[:, 0]
    if pos.any():
        m = np.broadcast_to(mu[pos] if mu.shape[0] > 1 else mu, (int(pos.sum()), len(x)))
        t2 = np.broadcast_to((tau[pos] if tau.shape[0] > 1 else tau) ** 2, m.shape)
        th = study_modes(m, t2, x, n, newton_steps)
        p = special.expit(th)
        s = 1.0 / np.sqrt(n * p * (1 - p) + 1.0 / t2)
        h_mode = x * th - n * softplus(th) - 0.5 * (th - m) ** 2 / t2

        def agq(z, logw):
            nodes = th[..., None] + (math.sqrt(2.0) * s)[..., None] * z
            # the log integrand at the nodes, relative to its value at the mode (its maximum): the
            # exponentials below cannot overflow, so no log-sum-exp shift is needed
            h = (x[:, None] * nodes - n[:, None] * softplus(nodes)
                 - 0.5 * (nodes - m[..., None]) ** 2 / t2[..., None] + logw) - h_mode[..., None]
            return np.log(np.exp(h).sum(axis=-1))

        rel = agq(_AGQ_Z, _AGQ_LOGW)
        off = np.abs(rel - agq(_AGQ_CHECK_Z, _AGQ_CHECK_LOGW)) > _AGQ_TOL
        rel = rel + np.log(s)
        if off.any():
            rel[off] = study_loglik_panels(m[off], t2[off], np.broadcast_to(x, m.shape)[off],
                                            np.broadcast_to(n, m.shape)[off], th[off], s[off], h_mode[off])
        out[pos] = h_mode + rel - 0.5 * np.log(2 * math.pi * t2)
    return out


def study_loglik_panels(m, t2, x, n, th, s, h_mode):
    r"""log of :math:`\int e^{h(\theta) - h(\hat\theta)}d\theta` for the log integrand
    :math:`h(\theta) = x\theta - n\log(1+e^\theta) - (\theta-m)^2/(2t^2)` (strictly concave),
    element by element (1-D arrays; ``th`` its mode, ``s`` the Laplace scale there).

    On each side of the mode, the point where :math:`h` has dropped by 40 is found by Newton's
    method, which for a concave decreasing function converges from beyond the root after its first
    step (so the panel can only be too wide, never too narrow); each side is then integrated by
    48-node Gauss-Legendre. Beyond those points lies less than :math:`e^{-40}` of the integral,
    times the panel's width.
    """
    def h(t):
        return x * t - n * softplus(t) - 0.5 * (t - m) ** 2 / t2

    total = np.zeros_like(th)
    for sign in (1.0, -1.0):
        d = math.sqrt(2.0 * _PANEL_DROP) * s
        for _ in range(40):
            t = th + sign * d
            g = h(t) - (h_mode - _PANEL_DROP)
            slope = sign * (x - n * special.expit(t) - (t - m) / t2)  # d g / d d, negative
            step = g / slope
            d = d - step
            if np.all(np.abs(step) <= 1e-3 * d):  # a panel a little too wide costs nothing
                break
        nodes = th[:, None] + sign * d[:, None] * (_PANEL_Z + 1.0) / 2.0
        total += np.exp(h(nodes.T).T - h_mode[:, None]) @ _PANEL_W * d / 2.0
    return np.log(total)


def mean_proportion(mu, tau):
    r"""Population-averaged proportion :math:`\bar p(\mu,\tau) = \int \operatorname{expit}(\mu + \tau z)\phi(z)\,dz`
    (arrays broadcast), accurate to about 1e-11 for any :math:`\tau` up to 20 and beyond.

    For :math:`\tau \le 1.5`, 40-node Gauss-Hermite in :math:`z`. For larger :math:`\tau` the
    integrand is a step of width :math:`1/\tau` that Gauss-Hermite cannot resolve (off by 0.035 at
    :math:`\mu = 3, \tau = 20`), so, with :math:`c = -\mu/\tau` and :math:`v = \tau|z - c|`,

    .. math::
        \bar p = \Phi(\mu/\tau) + \frac{1}{\tau}\int_0^\infty e^{-v}\,\operatorname{expit}(v)\,
        \big[\phi(c - v/\tau) - \phi(c + v/\tau)\big]\,dv,

    the exact split of :math:`\operatorname{expit}` into the step :math:`1\{z > c\}` and an
    odd remainder that decays as :math:`e^{-v}`, integrated by 48-node Gauss-Laguerre.

    Examples
    --------
    >>> round(float(mean_proportion(0.0, 5.0)), 12)   # symmetric about 0
    0.5
    """
    mu, tau = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(tau, dtype=float))
    out = special.expit(mu[..., None] + math.sqrt(2.0) * tau[..., None] * _MEAN_Z) @ _MEAN_W / math.sqrt(math.pi)
    big = tau > _MEAN_TAU_SPLIT
    if np.any(big):
        m, t = mu[big][..., None], tau[big][..., None]
        c, d = -m / t, _LAG_V / t
        rem = (np.exp(-0.5 * (c - d) ** 2) - np.exp(-0.5 * (c + d) ** 2)) @ _LAG_W / t[..., 0]
        out = np.array(out, dtype=float)
        out[big] = special.ndtr(m[..., 0] / t[..., 0]) + rem
    return out


def mean_proportion_slope(mu, tau):
    r""":math:`\partial \bar p/\partial\mu = E\{\operatorname{expit}'(\mu + \tau Z)\}` by the same two
    rules as :func:`mean_proportion` (differentiating its Gauss-Laguerre form in :math:`\mu`):
    :math:`\phi(\mu/\tau)/\tau + \tau^{-2}\int_0^\infty e^{-v}\operatorname{expit}(v)
    [(c-v/\tau)\phi(c-v/\tau) - (c+v/\tau)\phi(c+v/\tau)]dv`."""
    mu, tau = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(tau, dtype=float))
    p = special.expit(mu[..., None] + math.sqrt(2.0) * tau[..., None] * _MEAN_Z)
    out = np.array((p * (1 - p)) @ _MEAN_W / math.sqrt(math.pi), dtype=float)
    big = tau > _MEAN_TAU_SPLIT
    if np.any(big):
        m, t = mu[big][..., None], tau[big][..., None]
        c, d = -m / t, _LAG_V / t
        rem = ((c - d) * np.exp(-0.5 * (c - d) ** 2) - (c + d) * np.exp(-0.5 * (c + d) ** 2)) @ _LAG_W
        tt = t[..., 0]
        out[big] = np.exp(-0.5 * (m[..., 0] / tt) ** 2) / (math.sqrt(2 * math.pi) * tt) + rem / tt**2
    return out

