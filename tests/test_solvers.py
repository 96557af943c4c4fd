"""Solvers find the global optimum on any data (issue 14), not only on the reference sets.

Property tests over seeded random datasets: the reported (restricted) log-likelihood is at least
that of every point of an independent fine grid. The grid and the likelihood are written here,
from the formulas, not taken from the engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from metaprop import pool
from metaprop.engine.measures import escalc
from metaprop.engine.tau2 import tau2_ml, tau2_reml

from conftest import TOL

N_DATASETS = 2000


def loglik(yi, vi, t2, reml):
    """Normal random-effects (restricted) log-likelihood, vectorised over an array of t2."""
    t2 = np.atleast_1d(t2)[:, None]
    w = 1.0 / (vi[None, :] + t2)
    mu = (w * yi).sum(1, keepdims=True) / w.sum(1, keepdims=True)
    ll = -0.5 * np.log(vi + t2).sum(1) - 0.5 * (w * (yi - mu) ** 2).sum(1)
    return ll - 0.5 * np.log(w.sum(1)) if reml else ll


def random_dataset(rng):
    k = int(rng.integers(2, 31))
    n = np.exp(rng.uniform(0, np.log(1e5), k)).astype(int) + 1
    tau = rng.uniform(0, 4)
    p = 1 / (1 + np.exp(-(rng.normal(rng.uniform(-4, 4), tau, k))))
    x = rng.binomial(n, p)
    return x, n


@pytest.mark.slow
@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_tau2_is_the_global_maximum_over_random_datasets(reml):
    rng = np.random.default_rng(14 + reml)
    worst = 0.0
    for _ in range(N_DATASETS):
        x, n = random_dataset(rng)
        yi, vi, _ = escalc(x, n, "PLOGIT")
        t2 = (tau2_reml if reml else tau2_ml)(yi, vi)
        top = 4 * float(np.ptp(yi)) ** 2 + 4 * float(vi.max()) + 1e-12
        grid = np.concatenate(([0.0], np.geomspace(top * 1e-10, top, 400)))
        gap = float(loglik(yi, vi, grid, reml).max() - loglik(yi, vi, t2, reml)[0])
        worst = max(worst, gap)
    assert worst <= 1e-9, f"a grid point beats the reported optimum by {worst:g}"


def test_reml_interior_maximum_not_stuck_at_zero():
    """Issue 14. R 4.2.2, metafor 3.8.1: rma(measure = "PLO", xi = c(7,13773,5,132),
    ni = c(9,14449,5,137), method = "REML") -> tau2 = 0.2519, 94.25% (88.98 to 97.09)."""
    r = pool([7, 13773, 5, 132], [9, 14449, 5, 137], sm="PLOGIT", method="Inverse", method_tau="REML")
    assert r.tau2 == pytest.approx(0.2519, abs=1e-4)
    assert [round(100 * v, 2) for v in r.back()] == [94.25, 88.98, 97.09]
    mf = pool([7, 13773, 5, 132], [9, 14449, 5, 137], sm="PLOGIT", method_tau="REML", convention="metafor")
    # metafor stops Fisher scoring once a step is <= 1e-5; what remains is a few such steps
    assert r.tau2 == pytest.approx(mf.tau2, abs=10 * TOL["REML"])


# --- GLMM -------------------------------------------------------------------------------------

NODES, WEIGHTS = np.polynomial.hermite.hermgauss(7)


def glmm_grid_loglik(mu, tau, x, n):
    """7-node adaptive Gauss-Hermite log-likelihood (binomial coefficients left out) of the
    binomial-normal model at every (mu, tau) of two equal-length arrays, written from the formula:
    nodes at the conditional mode of u, scaled by the curvature there (Pinheiro & Bates 1995)."""
    out = np.empty(mu.shape)
    zero = tau == 0
    out[zero] = (x * mu[zero, None] - n * np.logaddexp(0, mu[zero, None])).sum(-1)
    mu, t2 = mu[~zero, None], tau[~zero, None] ** 2
    shape = np.broadcast_shapes(mu.shape, x.shape)
    m, v, xx, nn = (np.broadcast_to(a, shape).ravel() for a in (mu, t2, x, n))
    lo, hi = v * (xx - nn), v * xx  # the mode of u lies here; g below is decreasing in u
    # start: the empirical logit's deviation from mu, shrunk as a normal posterior mean
    y = np.log((xx + 0.5) / (nn - xx + 0.5)) - m
    u = np.clip(y * v / (v + (nn + 1) / ((xx + 0.5) * (nn - xx + 0.5))), lo, hi)
    last = older = hi - lo
    act = np.arange(u.size)  # Newton, replaced by bisection when it leaves the bracket or stalls
    for _ in range(300):     # (rtsafe's rule), on the points not yet converged only
        ua, ma, va, xa, na = u[act], m[act], v[act], xx[act], nn[act]
        p = special.expit(ma + ua)
        g = xa - na * p - ua / va
        lo[act], hi[act] = np.where(g > 0, ua, lo[act]), np.where(g > 0, hi[act], ua)
        new = ua + g / (na * p * (1 - p) + 1 / va)
        ok = ((new > lo[act]) & (new < hi[act]) & (2 * np.abs(new - ua) < older[act])) | (g == 0)
        new = np.where(ok, new, 0.5 * (lo[act] + hi[act]))
        older[act], last[act], u[act] = last[act], np.abs(new - ua), new
        act = act[last[act] > 1e-10 * (1 + np.abs(u[act]))]
        if act.size == 0:
            break
    u = u.reshape(shape)
    p = special.expit(mu + u)
    assert np.all(np.abs(x - n * p - u / t2) <= 1e-8 * (n + np.abs(u) / t2 + 1)), "modes not converged"
    s = np.sqrt(2.0 / (n * p * (1 - p) + 1 / t2))
    z = u[..., None] + s[..., None] * NODES
    eta = mu[..., None] + z
    f = x[..., None] * eta - n[..., None] * np.logaddexp(0, eta) - z**2 / (2 * t2[..., None])
    li = special.logsumexp(f + NODES**2, b=WEIGHTS, axis=-1) + np.log(s) - 0.5 * np.log(2 * np.pi * t2)
    out[~zero] = li.sum(-1)
    return out


@pytest.mark.slow
def test_glmm_is_the_global_maximum_over_random_datasets():
    """2,000 seeded datasets (k 2-30, n 1-1e5, logit mean -4 to 4, tau 0-4): no point of a grid
    (16 values of mu: 11 over [-10, 10] and 5 within 4 SE of the fit; 14 of tau: 0, 8 over
    [0.01, 8] and 5 within 50% of the fit) has a higher likelihood than the fit, and no fit fails."""
    rng = np.random.default_rng(16)
    worst, fitted = 0.0, 0
    for _ in range(N_DATASETS):
        x, n = random_dataset(rng)
        if x.sum() in (0, n.sum()):
            continue  # no event, or no non-event, anywhere: no GLMM (pool says so)
        r = pool(x, n, method="GLMM")
        assert r.converged, (x.tolist(), n.tolist(), r.notes)
        fitted += 1
        mu, tau = r.random.te, np.sqrt(r.tau2)
        span = 4 * max(r.random.se, 0.05)
        mus = np.concatenate([np.linspace(-10, 10, 11), mu + np.linspace(-span, span, 5)])
        taus = np.concatenate([[0.0], np.geomspace(0.01, 8, 8), tau * np.linspace(0.5, 1.5, 5)])
        gm, gt = (a.ravel() for a in np.meshgrid(mus, taus))
        xf, nf = x.astype(float), n.astype(float)
        gap = glmm_grid_loglik(gm, gt, xf, nf).max() - glmm_grid_loglik(np.array([mu]), np.array([tau]), xf, nf)[0]
        worst = max(worst, gap)
    assert fitted > 0.9 * N_DATASETS
    assert worst <= 1e-9, f"a grid point beats the reported optimum by {worst:g}"
