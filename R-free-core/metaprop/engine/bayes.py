r"""Bayesian binomial-normal random-effects model for proportions, by deterministic quadrature.

.. math::
    x_i \sim \operatorname{Bin}(n_i, \operatorname{expit}\theta_i),\quad
    \theta_i \sim N(\mu, \tau^2),\quad
    \mu \sim N(m_0, s_0^2),\quad \tau \sim \text{half-normal}(\sigma_\tau)\ \text{or half-Cauchy}(\sigma_\tau)

The exact binomial likelihood, no continuity correction. Each study's :math:`\theta_i` is
integrated out by adaptive Gauss-Hermite quadrature (centred at the conditional mode, scaled by the
curvature there; exact as :math:`\tau \to 0`); the posterior of :math:`(\mu, \tau)` is then
evaluated on a grid that is first widened until it holds all but a negligible part of the
posterior (log density 16 below the maximum at every edge) and then refined to that region;
integrals over the grid use the trapezoidal rule. No sampling: the same data give the same
numbers, in milliseconds.

Reported, each as posterior median and equal-tailed credible interval:

* :math:`\mu` and the **median study's proportion** :math:`\operatorname{expit}(\mu)` (what the
  GLMM's back-transformed estimate is);
* the **population-averaged (mean) proportion**
  :math:`\bar p(\mu, \tau) = \int \operatorname{expit}(\mu + \tau z)\,\phi(z)\,dz`, the expected
  proportion of a randomly chosen study's population, which is what "93% of patients were weaned"
  means when studies differ; its posterior CDF is computed by inverting :math:`\bar p` in
  :math:`\mu` (it is increasing) for each :math:`\tau` of the grid;
* :math:`\tau`;
* a **new study's proportion** :math:`\operatorname{expit}(\theta_{new})`, from the posterior
  predictive distribution :math:`P(\theta_{new} \le t) = E\{\Phi((t-\mu)/\tau)\}`.

Default priors follow the few-studies literature (Friede et al. 2017; Röver et al. 2021) and are
the site's headline model (:data:`metaprop.review.protocol.BAYES`, chosen by the coverage study): a
vague normal prior for :math:`\mu` on the logit scale (sd 10) and a weakly informative half-normal
prior for :math:`\tau` with scale 1.0, which puts 95% of its mass below :math:`\tau = 1.96`.

References
----------
Friede T, Röver C, Wandel S, Neuenschwander B (2017). Meta-analysis of few small studies in orphan
diseases. Res Synth Methods 8:79-91. doi:10.1002/jrsm.1217
Röver C, Bender R, Dias S, et al. (2021). Res Synth Methods 12:448-474. doi:10.1002/jrsm.1475
Günhan BK, Röver C, Friede T (2020). Res Synth Methods 11:74-90. doi:10.1002/jrsm.1370
Liu Q, Pierce DA (1994). Biometrika 81:624-629 (adaptive Gauss-Hermite quadrature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import MetapropError
from .glmm import conditional_modes, mode_start

__all__ = ["TAU_PRIORS", "TAU_PRIOR_NAMES", "Interval", "BayesResult", "pool_bayes", "tau_prior_logpdf",
           "mean_proportion", "prior_text"]

TAU_PRIORS = ("halfnormal", "halfcauchy")
#: how each prior family is written for readers
TAU_PRIOR_NAMES = {"halfnormal": "half-normal", "halfcauchy": "half-Cauchy"}
def _agq_rule(nodes: int):
    z, w = np.polynomial.hermite.hermgauss(nodes)
    return z, np.log(w) + z**2 + 0.5 * math.log(2.0)  # for sum w e^{z^2} sqrt2 s f(u)


# adaptive Gauss-Hermite rules for a study's likelihood: 21 nodes, checked against 11 at the same
# centre and scale (their difference estimates the 11-node rule's error, far above the 21-node one's)
_AGQ_Z, _AGQ_LOGW = _agq_rule(11)
_AGQ_CHECK_Z, _AGQ_CHECK_LOGW = _agq_rule(7)
_AGQ_TOL = 1e-8  # where the two differ by more, the likelihood is integrated by _study_loglik_panels
# two Gauss-Legendre panels, one on each side of the integrand's mode, each to where the log
# integrand has dropped by _PANEL_DROP (e^-40: nothing of the integral lies beyond)
_PANEL_Z, _PANEL_W = np.polynomial.legendre.leggauss(48)
_PANEL_DROP = 40.0
_MEAN_Z, _MEAN_W = np.polynomial.hermite.hermgauss(40)
# for tau > _MEAN_TAU_SPLIT the mean proportion by Gauss-Laguerre (see mean_proportion)
_LAG_V, _LAG_W = np.polynomial.laguerre.laggauss(48)
_LAG_W = _LAG_W * special.expit(_LAG_V) / math.sqrt(2.0 * math.pi)  # e^v expit(-v) = expit(v)
_MEAN_TAU_SPLIT = 1.5
_CUT = 16.0  # log-posterior drop that counts as negligible at the grid's edges (e^-16 = 1e-7)


def tau_prior_logpdf(tau, prior: str = "halfnormal", scale: float = 0.5):
    """Log density of the prior of tau (tau >= 0): half-normal or half-Cauchy with ``scale``."""
    tau = np.asarray(tau, dtype=float)
    if prior == "halfnormal":
        return math.log(2.0) - 0.5 * math.log(2 * math.pi) - math.log(scale) - 0.5 * (tau / scale) ** 2
    if prior == "halfcauchy":
        return math.log(2.0 / math.pi) - math.log(scale) - np.log1p((tau / scale) ** 2)
    raise MetapropError(f"Invalid tau_prior {prior!r}; must be one of {list(TAU_PRIORS)}.")


def prior_text(mu_prior_mean: float = 0.0, mu_prior_sd: float = 10.0, tau_prior: str = "halfnormal",
               tau_prior_scale: float = 1.0) -> str:
    """'mu ~ N(0, 10^2), tau ~ half-normal(0.5)' for the options of :func:`pool_bayes`."""
    name = TAU_PRIOR_NAMES[tau_prior]
    return f"mu ~ N({mu_prior_mean:g}, {mu_prior_sd:g}^2), tau ~ {name}({tau_prior_scale:g})"


def _tau_prior_ppf(q: float, prior: str, scale: float) -> float:
    if prior == "halfnormal":
        return scale * float(special.ndtri(0.5 + q / 2))
    return scale * math.tan(math.pi * q / 2)


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


def _mean_proportion_slope(mu, tau):
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


def _study_loglik(mu, tau, x, n, newton_steps: int = 8):
    r"""log of :math:`\int \operatorname{Bin}(x_i|n_i,\operatorname{expit}\theta)\,\phi(\theta;\mu,\tau^2)d\theta`
    (binomial constants excluded) for every grid point and study; ``mu``, ``tau`` of shape (G, 1).

    Adaptive Gauss-Hermite quadrature (Liu & Pierce 1994) with 21 nodes: the centre is the mode of
    the integrand in :math:`\theta_i` (:func:`_modes`), the scale the curvature there. Its error is
    controlled: an 11-node rule at the same centre and scale is computed too, and where the two
    differ by more than 1e-8 (studies at 0% or 100%, or few events, under a wide
    :math:`N(\mu,\tau^2)`, where the integrand is far from normal) the integral is taken by
    :func:`_study_loglik_panels` instead. At :math:`\tau = 0` the integral is the binomial
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
        th = _modes(m, t2, x, n, newton_steps)
        p = special.expit(th)
        s = 1.0 / np.sqrt(n * p * (1 - p) + 1.0 / t2)
        h_mode = x * th - n * _softplus(th) - 0.5 * (th - m) ** 2 / t2

        def agq(z, logw):
            nodes = th[..., None] + (math.sqrt(2.0) * s)[..., None] * z
            # the log integrand at the nodes, relative to its value at the mode (its maximum): the
            # exponentials below cannot overflow, so no log-sum-exp shift is needed
            h = (x[:, None] * nodes - n[:, None] * _softplus(nodes)
                 - 0.5 * (nodes - m[..., None]) ** 2 / t2[..., None] + logw) - h_mode[..., None]
            return np.log(np.exp(h).sum(axis=-1))

        rel = agq(_AGQ_Z, _AGQ_LOGW)
        off = np.abs(rel - agq(_AGQ_CHECK_Z, _AGQ_CHECK_LOGW)) > _AGQ_TOL
        rel = rel + np.log(s)
        if off.any():
            rel[off] = _study_loglik_panels(m[off], t2[off], np.broadcast_to(x, m.shape)[off],
                                            np.broadcast_to(n, m.shape)[off], th[off], s[off], h_mode[off])
        out[pos] = h_mode + rel - 0.5 * np.log(2 * math.pi * t2)
    return out


def _study_loglik_panels(m, t2, x, n, th, s, h_mode):
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
        return x * t - n * _softplus(t) - 0.5 * (t - m) ** 2 / t2

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


def _softplus(v):
    """log(1 + e^v), stable for any v (numpy's logaddexp(0, v), faster)."""
    return np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v)))


def _modes(m, t2, x, n, newton_steps):
    """Mode of x*theta - n*log(1+e^theta) - (theta-m)^2/(2 t2) for every element: Newton steps
    from the normal approximation (:func:`metaprop.engine.glmm.mode_start`: the continuity-corrected
    logit combined with N(m, t2)); elements
    where that has not converged (a sigmoid likelihood far from m can make Newton oscillate) are
    solved again by the bracketed, safeguarded search of :func:`metaprop.engine.glmm.conditional_modes`."""
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


@dataclass(frozen=True, slots=True)
class Interval:
    """Posterior median and equal-tailed credible interval."""

    median: float
    lower: float
    upper: float

    def to_dict(self) -> dict:
        from .results import json_number

        return {"median": json_number(self.median), "lower": json_number(self.lower),
                "upper": json_number(self.upper)}


@dataclass(frozen=True, slots=True)
class BayesResult:
    """Posterior summaries of the binomial-normal model (:func:`pool_bayes`).

    Attributes
    ----------
    studlab, events, total : tuple
        The studies.
    mu, tau : Interval
        Logit-scale mean and between-study standard deviation.
    p_mean : Interval
        Population-averaged proportion (the headline estimand).
    p_median : Interval
        Median study's proportion, expit(mu).
    p_new : Interval
        A new study's proportion (posterior predictive); its ``median`` is the predictive median.
    prob_tau_small : float
        Posterior probability that tau < 0.1.
    mu_prior_mean, mu_prior_sd, tau_prior, tau_prior_scale, level
        The model's settings.
    grid : (int, int)
        Points of the final (mu, tau) grid.
    """

    studlab: tuple[str, ...]
    events: tuple[int, ...]
    total: tuple[int, ...]
    mu: Interval
    tau: Interval
    p_mean: Interval
    p_median: Interval
    p_new: Interval
    prob_tau_small: float
    mu_prior_mean: float
    mu_prior_sd: float
    tau_prior: str
    tau_prior_scale: float
    level: float
    grid: tuple[int, int]
    likelihood: str = "binomial"
    method: str = "Bayes"

    @property
    def k(self) -> int:
        return len(self.events)

    @property
    def n_total(self) -> int:
        return int(sum(self.total))

    @property
    def prior_text(self) -> str:
        return prior_text(self.mu_prior_mean, self.mu_prior_sd, self.tau_prior, self.tau_prior_scale)

    def to_dict(self) -> dict:
        from .results import json_number

        return {"k": self.k, "events": int(sum(self.events)), "patients": self.n_total,
                "method": self.method,
                "model": ("binomial-normal (logit), exact likelihood" if self.likelihood == "binomial"
                          else "normal-normal on continuity-corrected logits"),
                "prior": {"mu_mean": self.mu_prior_mean, "mu_sd": self.mu_prior_sd,
                          "tau": self.tau_prior, "tau_scale": self.tau_prior_scale, "text": self.prior_text},
                "level": self.level, "mu": self.mu.to_dict(), "tau": self.tau.to_dict(),
                "mean_proportion": self.p_mean.to_dict(), "median_proportion": self.p_median.to_dict(),
                "new_study": self.p_new.to_dict(), "prob_tau_below_0.1": json_number(self.prob_tau_small),
                "grid": list(self.grid), "studies": list(self.studlab)}


def _trapezoid_weights(g: np.ndarray) -> np.ndarray:
    w = np.empty_like(g)
    d = np.diff(g)
    w[0], w[-1] = d[0] / 2, d[-1] / 2
    w[1:-1] = (d[:-1] + d[1:]) / 2
    return w


class _Posterior:
    r"""Unnormalised log posterior of (mu, tau) on a grid, with the binomial constants dropped.

    tau is gridded in :math:`v = \operatorname{asinh}(\tau/a)`, ``a`` the prior's scale: even
    spacing in tau near 0, logarithmic in the tail (a half-Cauchy prior has a heavy one). The
    posterior density in :math:`v` is an even function of :math:`v` (the likelihood depends on
    :math:`\tau^2` and both priors are even), so the trapezoidal rule on :math:`[0, V]` is
    half of a trapezoidal rule over :math:`[-V, V]` and converges geometrically.
    """

    def __init__(self, x, n, mu_mean, mu_sd, prior, scale, normal=None):
        self.x, self.n = x, n
        self.mu_mean, self.mu_sd, self.prior, self.scale = mu_mean, mu_sd, prior, scale
        self.normal = normal  # (yi, vi): the normal-likelihood variant

    def _loglik(self, mu, tau):
        if self.normal is None:
            return _study_loglik(mu, tau, self.x, self.n)
        y, v = self.normal
        s2 = v + tau**2
        return -0.5 * (np.log(2 * math.pi * s2) + (y - mu) ** 2 / s2)

    def tau(self, v):
        return self.scale * np.sinh(v)

    def logpost_at(self, grid_mu: np.ndarray, vs: np.ndarray) -> np.ndarray:
        """log posterior density of (mu, v) at ``grid_mu[i, j]`` and ``vs[j]`` (Jacobian included)."""
        t = np.broadcast_to(self.tau(vs)[None, :], grid_mu.shape)
        ll = self._loglik(grid_mu.reshape(-1, 1), t.reshape(-1, 1)).sum(axis=1)
        return (ll.reshape(grid_mu.shape) - 0.5 * ((grid_mu - self.mu_mean) / self.mu_sd) ** 2
                + tau_prior_logpdf(t, self.prior, self.scale) + np.log(self.scale * np.cosh(vs))[None, :])

    def logpost(self, mus: np.ndarray, vs: np.ndarray) -> np.ndarray:
        """log posterior density of (mu, v) on the grid ``mus`` x ``vs`` (Jacobian included)."""
        return self.logpost_at(np.broadcast_to(mus[:, None], (len(mus), len(vs))), vs)


def _columns_at(F, grid, pts, end):
    """Evaluate the vector-valued piecewise polynomial ``F`` (one column per tau) at ``pts``, an
    array of shape (columns, m): column j at its own points; 0 below the grid, ``end[j]`` (F at
    the grid's end) beyond it."""
    j = np.arange(pts.shape[0])[:, None]
    inside = np.minimum(np.maximum(pts, grid[0]), grid[-1])
    i = np.minimum(np.maximum(np.searchsorted(grid, inside) - 1, 0), len(grid) - 2)
    dx = inside - grid[i]
    c = F.c[:, i, j]  # (order, columns, m): each point's own interval's coefficients
    val = c[0]
    for row in range(1, c.shape[0]):
        val = val * dx + c[row]
    val = np.where(pts <= grid[0], 0.0, val)
    return np.where(pts >= grid[-1], end[:, None], val)


def _mu_at_mean(c, taus, grid_mu, pbar):
    """mu with mean_proportion(mu, tau) = c, for every tau of the grid (one column per tau).

    The mean proportion increases in mu, so in each column the root lies between the two grid
    points whose values enclose ``c``: Newton's method on the accurate function, started by linear
    interpolation and kept inside that bracket. Where ``c`` lies below (above) every value of a
    column, the column's lowest (highest) grid point less (plus) one is returned: the column's CDF
    is 0 (its total) anywhere there, so nothing that is integrated changes.
    """
    cols = np.arange(len(taus))
    i = np.minimum(np.maximum((pbar <= c).sum(axis=0) - 1, 0), grid_mu.shape[0] - 2)
    p0, p1 = pbar[i, cols], pbar[i + 1, cols]
    m0, m1 = grid_mu[i, cols], grid_mu[i + 1, cols]
    mu = m0 + (m1 - m0) * np.clip((c - p0) / np.where(p1 > p0, p1 - p0, 1.0), 0.0, 1.0)
    for _ in range(4):  # Newton on the accurate mean proportion, inside [m0, m1]
        f = mean_proportion(mu, taus) - c
        mu = np.clip(mu - f / np.maximum(_mean_proportion_slope(mu, taus), 1e-300), m0, m1)
    below, above = c <= pbar.min(axis=0), c >= pbar.max(axis=0)
    return np.where(below, grid_mu.min(axis=0) - 1.0, np.where(above, grid_mu.max(axis=0) + 1.0, mu))


def pool_bayes(events, total, studlab=None, *, mu_prior_mean: float = 0.0, mu_prior_sd: float = 10.0,
               tau_prior: str = "halfnormal", tau_prior_scale: float = 1.0, level: float = 0.95,
               points: int | None = None, likelihood: str = "binomial") -> BayesResult:
    r"""Bayesian binomial-normal random-effects meta-analysis of proportions (see module docstring).

    Parameters
    ----------
    events, total : array_like of int
        Counts, already validated (0 <= events <= total, total > 0); any number of studies >= 1.
    studlab : sequence of str, optional
    mu_prior_mean, mu_prior_sd : float
        Normal prior of mu (logit scale); default N(0, 10^2).
    tau_prior : {"halfnormal", "halfcauchy"}
        Prior family of tau; ``tau_prior_scale`` its scale (default half-normal(1.0), the site's
        headline model, :data:`metaprop.review.protocol.BAYES`; a test keeps the two equal).
    level : float
        Credible level (equal-tailed).
    likelihood : {"binomial", "normal"}
        ``"binomial"`` (default): the exact binomial likelihood. ``"normal"``: the normal-normal
        model of the continuity-corrected logits and their variances (0.5 added to studies at 0%
        or 100%, as R meta and metafor), :math:`y_i \sim N(\mu, v_i + \tau^2)`, the model R
        ``bayesmeta`` fits; the tests compare it with bayesmeta to check the grid and its integrals.
    points : int, optional
        Grid points per axis of the final grid (default 61). Against grids of 241 points the
        default agrees to 3e-4 on the proportion scale and 0.5% for tau (tests/test_bayes.py).

    Returns
    -------
    BayesResult

    Notes
    -----
    Cumulative distribution functions come from cubic splines of the posterior density on the
    grid, integrated exactly (:class:`scipy.interpolate.CubicSpline`); the mean proportion's CDF
    is :math:`\sum_j w_j\,C_j(\mu^*_j(c))`, :math:`C_j` the cumulated density over mu at the
    j-th tau and :math:`\mu^*_j(c)` the mu at which that tau's mean proportion is ``c``; a new
    study's CDF is :math:`\sum_j w_j \int C_j(t - \tau_j z)\phi(z)dz` (Gauss-Hermite in z).
    """
    from scipy.interpolate import CubicSpline
    from scipy.optimize import brentq

    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    if x.ndim != 1 or len(x) == 0 or len(x) != len(n):
        raise MetapropError("pool_bayes needs one events and one total per study")
    if np.any(n <= 0) or np.any(x < 0) or np.any(x > n):
        raise MetapropError("counts must satisfy 0 <= events <= total and total > 0")
    if tau_prior not in TAU_PRIORS:
        raise MetapropError(f"Invalid tau_prior {tau_prior!r}; must be one of {list(TAU_PRIORS)}.")
    if not (mu_prior_sd > 0 and tau_prior_scale > 0 and 0 < level < 1):
        raise MetapropError("mu_prior_sd and tau_prior_scale must be positive and level in (0, 1)")
    if points is None:
        points = 61
    if likelihood not in ("binomial", "normal"):
        raise MetapropError(f"Invalid likelihood {likelihood!r}; must be one of ['binomial', 'normal'].")
    normal = None
    if likelihood == "normal":
        from .measures import escalc

        yi, vi, _ = escalc(x, n, "PLOGIT")
        normal = (np.asarray(yi, dtype=float), np.asarray(vi, dtype=float))
    post = _Posterior(x, n, mu_prior_mean, mu_prior_sd, tau_prior, tau_prior_scale, normal)

    # 1. a coarse grid, widened until the posterior is negligible at its edges
    y = np.log((x + 0.5) / (n - x + 0.5))
    mu_lo, mu_hi = float(y.min()) - 2.0, float(y.max()) + 2.0
    v_hi = float(np.arcsinh(max(_tau_prior_ppf(0.999, tau_prior, tau_prior_scale),
                                2.0 * float(np.std(y)) + 0.5) / tau_prior_scale))
    for _ in range(40):
        mus, vs = np.linspace(mu_lo, mu_hi, 41), np.linspace(0.0, v_hi, 31)
        lp = post.logpost(mus, vs)
        top = lp.max()
        width = mu_hi - mu_lo
        grow_lo, grow_hi = lp[0].max() > top - _CUT, lp[-1].max() > top - _CUT
        grow_v = lp[:, -1].max() > top - _CUT and post.tau(v_hi) < 1e4
        mu_lo -= width / 2 if grow_lo else 0.0
        mu_hi += width / 2 if grow_hi else 0.0
        v_hi += 1.0 if grow_v else 0.0
        if not (grow_lo or grow_hi or grow_v):
            break
    # 2. the fine grid follows the posterior's funnel: for each tau, mu runs over the range that
    #    holds the posterior at that tau (narrow where tau is small, wide where it is large), one
    #    coarse step wider, as mu = c_j + w_j s with the same s in [-1, 1] for every column
    keep = lp > top - _CUT
    cols = np.flatnonzero(keep.any(axis=0))
    dmu = mus[1] - mus[0]
    lo_c = np.where(keep.any(axis=0), mus[np.argmax(keep, axis=0)], np.nan) - dmu
    hi_c = np.where(keep.any(axis=0), mus[len(mus) - 1 - np.argmax(keep[::-1], axis=0)], np.nan) + dmu
    lo_c = np.where(np.isnan(lo_c), np.nanmin(lo_c), lo_c)
    hi_c = np.where(np.isnan(hi_c), np.nanmax(hi_c), hi_c)
    vs_f = np.linspace(0.0, vs[min(cols[-1] + 1, len(vs) - 1)], points)
    j = np.clip(np.searchsorted(vs, vs_f, side="right") - 1, 0, len(vs) - 2)
    lo_f = np.minimum(lo_c[j], lo_c[j + 1])  # the wider of the two coarse columns around each v
    hi_f = np.maximum(hi_c[j], hi_c[j + 1])
    ctr, half = (lo_f + hi_f) / 2, np.maximum((hi_f - lo_f) / 2, dmu)
    sg = np.linspace(-1.0, 1.0, points)
    vs = vs_f
    taus = post.tau(vs)
    grid_mu = ctr[None, :] + half[None, :] * sg[:, None]  # (points in mu, points in v)
    lp = post.logpost_at(grid_mu, vs)
    dens = np.exp(lp - lp.max())
    wv = _trapezoid_weights(vs)
    alpha = (1 - level) / 2
    probs = (0.5, alpha, 1 - alpha)

    # per tau column, the cumulated density over mu (in s, Jacobian half_j), integrated exactly
    # from its cubic spline; column j's CDF at mu is F_j((mu - ctr_j) / half_j)
    cmu = CubicSpline(sg, dens * half[None, :], axis=0).antiderivative()
    totals = cmu(1.0)
    z = float(totals @ wv)

    def at(values):  # F_j at mu values of shape (columns, m)
        return _columns_at(cmu, sg, (values - ctr[:, None]) / half[:, None], totals)

    def solve(f, lo, hi):
        out = []
        for p in probs:
            a, b = lo, hi
            while f(a) > p:
                a -= max(1.0, abs(a))
            while f(b) < p:
                b += max(1.0, abs(b))
            out.append(brentq(lambda t, p=p: f(t) - p, a, b, xtol=1e-12, rtol=1e-12))
        return out

    # mu: its marginal CDF sums the columns' CDFs
    mu_lo, mu_hi = float(grid_mu.min()), float(grid_mu.max())
    mu_q = solve(lambda m: float(at(np.array([[m]]))[:, 0] @ wv) / z, mu_lo, mu_hi)
    # tau: marginal density in v, even at v = 0 (zero slope there)
    fv = CubicSpline(vs, totals, bc_type=((1, 0.0), "not-a-knot")).antiderivative()
    v_total = float(fv(vs[-1]))
    v_q = solve(lambda v: float(fv(min(max(v, 0.0), vs[-1]))) / v_total, 0.0, float(vs[-1]))
    prob_small = float(fv(float(np.arcsinh(0.1 / tau_prior_scale))) / v_total) if taus[-1] > 0.1 else 1.0

    # population-averaged proportion: for each tau, increasing in mu
    pbar = mean_proportion(grid_mu, taus[None, :])

    def pbar_cdf(c):
        m_star = _mu_at_mean(c, taus, grid_mu, pbar)
        return float(at(m_star[:, None])[:, 0] @ wv) / z

    pm = [brentq(lambda c, p=p: pbar_cdf(c) - p, float(pbar.min()), float(pbar.max()), xtol=1e-13, rtol=1e-12)
          for p in probs]

    # a new study's logit: sum_j w_j int F_j(t - tau_j z) phi(z) dz
    gz, gw = np.polynomial.hermite.hermgauss(24)
    gz, gw = math.sqrt(2.0) * gz, gw / math.sqrt(math.pi)
    shift = taus[:, None] * gz[None, :]

    def new_cdf(t):
        return float((at(t - shift) @ gw) @ wv) / z

    tq = solve(new_cdf, mu_lo - 3 * float(taus[-1]) - 1, mu_hi + 3 * float(taus[-1]) + 1)
    return BayesResult(
        studlab=tuple(studlab) if studlab is not None else tuple(str(i + 1) for i in range(len(x))),
        events=tuple(int(v) for v in x), total=tuple(int(v) for v in n),
        mu=Interval(*mu_q), tau=Interval(*(float(tau_prior_scale * math.sinh(v)) for v in v_q)),
        p_mean=Interval(*pm), p_median=Interval(*(float(v) for v in special.expit(mu_q))),
        p_new=Interval(*(float(v) for v in special.expit(tq))),
        prob_tau_small=prob_small, mu_prior_mean=float(mu_prior_mean), mu_prior_sd=float(mu_prior_sd),
        tau_prior=tau_prior, tau_prior_scale=float(tau_prior_scale), level=level,
        grid=(len(sg), len(vs)), likelihood=likelihood)
