r"""R's ``glm()`` for the two binomial models the GLMM needs, iterated exactly as R does.

R meta and metafor (``rma.glmm``) fit the common-effect logistic model (intercept only) and the
saturated model (one logit per study) with R's ``glm.fit``; matching its iterates, rather than the
closed forms, reproduces R's numbers to the last digits, also where the maximum is at infinity
(every study at 100%), where R reports its last iterate.

Iteratively reweighted least squares from R's start :math:`\mu_i = (x_i + 0.5)/(n_i + 1)`,
stopping when :math:`|D - D_{old}|/(|D| + 0.1) < \epsilon` (``glm.control``: ``epsilon = 1e-8``,
``maxit = 25``); the logit inverse link and its derivative are clamped at :math:`|\eta| > 30` as in
R's C code (``logit_linkinv``, ``logit_mu_eta``).

References
----------
R Core Team. ``glm.fit`` and ``family.c`` (binomial logit link), R 4.2.
McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed., section 2.5 (IRLS).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["glm_irls", "glm_intercept", "glm_wald_q", "binom_loglik"]

_EPS = float(np.finfo(float).eps)


def binom_loglik(x, n, eta):
    r"""Binomial log-likelihood kernel :math:`x\eta - n\log(1+e^\eta)`, elementwise (no binomial
    coefficients)."""
    return x * eta - n * np.logaddexp(0.0, eta)


def _xlogy(a: float, b: float) -> float:
    return 0.0 if a == 0 else a * math.log(b)


def glm_irls(x, n, saturated: bool, epsilon: float = 1e-8, maxit: int = 25):
    r"""Binomial logistic regression as R's ``glm.fit`` iterates it: intercept only, or one
    intercept per study (``saturated``).

    In Python floats, one pass over the studies per iteration (for the few studies of a
    meta-analysis faster than arrays). Returns the linear predictors, the working weights of the
    final least-squares step (whose inverse is the variance ``summary.glm`` reports), the
    iterations and whether the criterion was met.
    """
    x = [float(v) for v in np.asarray(x, dtype=float)]
    n = [float(v) for v in np.asarray(n, dtype=float)]
    y = [a / b for a, b in zip(x, n, strict=True)]
    # per study: n, y, and n times the saturated part y log y + (1 - y) log(1 - y)
    rows = [(ni, v, ni * (_xlogy(v, v) + _xlogy(1 - v, 1 - v))) for ni, v in zip(n, y, strict=True)]

    def dev_i(ni, v, ns, m):  # one study's deviance contribution, halved
        return ns - ni * (_xlogy(v, m) + _xlogy(1 - v, 1 - m))

    mu = [(ni * v + 0.5) / (ni + 1) for ni, v, _ in rows]
    eta = [math.log(m / (1 - m)) for m in mu]
    dev_old = 2 * sum(dev_i(*r, m) for r, m in zip(rows, mu, strict=True))
    w2: list = []
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
            return np.array(eta), np.array(w2), it, True
        dev_old = dev
    return np.array(eta), np.array(w2), maxit, False


def glm_intercept(x, n):
    """Common-effect logistic model as R's ``glm()`` fits it (R meta and metafor ``rma.glmm``
    ``method = "EE"``): ``(beta, se, iterations, converged)``."""
    eta, w2, it, ok = glm_irls(x, n, saturated=False)
    return float(eta[0]), 1.0 / math.sqrt(float(np.sum(w2))), it, ok


def glm_wald_q(x, n) -> float:
    r"""Wald-type test of heterogeneity, metafor ``rma.glmm``'s ``QE.Wald``: the saturated model
    fitted by R's ``glm()``, and the Wald statistic for equal logits,
    :math:`\sum_i w_i(b_i - \bar b_w)^2` with the final working weights :math:`w_i`. Studies with 0 or
    n events get a huge logit and a negligible weight, as in R."""
    b, w2, _, _ = glm_irls(x, n, saturated=True)
    return float(np.sum(w2 * (b - np.sum(w2 * b) / np.sum(w2)) ** 2))
