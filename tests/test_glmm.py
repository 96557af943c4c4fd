"""GLMM vs metafor rma.glmm(measure = "PLO", method = "ML") (lme4, nAGQ = 7)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from metaprop import ConvergenceWarning, pool

from conftest import TOL, load_json

R_REF = load_json("r_reference.json")
MF_REF = load_json("metafor_reference.json")
CASES = [("r", d) for d in ("pritz1997", "nielweise2007_control", "miller1978", "meta_issue106")]
CASES += [("mf", d) for d in MF_REF if d != "provenance" and "GLMM" in MF_REF[d]]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[1])
def test_glmm_matches_metafor(case):
    src, ds = case
    d = (R_REF if src == "r" else MF_REF)[ds]
    g = d["GLMM"]
    rnd = g["random"] if src == "r" else g
    r = pool(d["x"], d["n"], sm="PLOGIT", method="GLMM")
    tol = TOL["GLMM"]
    # absolute 1e-4, or relative 1e-4 for large values on a flat likelihood (crt2018_weaning:
    # tau^2 = 3.88, where metaprop's optimum has a log-likelihood 2e-10 above lme4's)
    assert r.method == "GLMM" and r.converged
    assert r.tau2 == pytest.approx(rnd["tau2"], abs=tol, rel=tol)
    assert r.random.te == pytest.approx(rnd["TE"], abs=tol, rel=tol)
    # lme4's SE comes from its own finite-difference Hessian; on crt2018_weaning (SE 1.5) it is
    # 1.3e-4 relative above the Hessian of the same likelihood at lme4's own optimum, so 2e-4
    assert r.random.se == pytest.approx(rnd["se"], abs=tol, rel=2 * tol)
    ci_tol = tol * (1 + abs(rnd["TE"])) + 1.96 * 2 * tol * rnd["se"]  # from the te and se tolerances
    assert (r.random.lower, r.random.upper) == pytest.approx((rnd["lb"], rnd["ub"]), abs=ci_tol)
    assert r.back() == pytest.approx((rnd["p"], rnd["p_lb"], rnd["p_ub"]), abs=tol)
    assert r.q == pytest.approx(g["QE_Wald"], rel=1e-5, abs=1e-4)
    assert r.q_lrt == pytest.approx(g["QE_LRT"], abs=TOL["glm"])  # from R glm()'s common-effect fit
    if src == "mf":
        mf = pool(d["x"], d["n"], method="GLMM", prediction_df="z", convention="metafor")
        pi_tol = ci_tol + 1.96 * tol * max(1.0, rnd["tau2"])  # adds the tau^2 tolerance
        assert mf.pi == pytest.approx((rnd["pi_lb"], rnd["pi_ub"]), abs=pi_tol)
        assert 100 * mf.i2 == pytest.approx(rnd["I2"], abs=0.01, rel=tol)
    if src == "r":
        assert r.pi_proportion() == pytest.approx(tuple(rnd["pi_k1_p"]), abs=tol)
        assert r.i2 == pytest.approx(g["I2_WaldQ"], abs=tol)
        c = g["common"]
        assert (r.common.te, r.common.se) == pytest.approx((c["TE"], c["se"]), abs=TOL["closed_form"])


def test_stijnen2010_glmm_anchor():
    """metafor's test of Stijnen et al. (2010): mu = -3.4964, SE 0.2570, tau^2 0.8124."""
    d = R_REF["nielweise2007_control"]
    r = pool(d["x"], d["n"], method="GLMM")
    assert (round(r.random.te, 4), round(r.random.se, 4), round(r.tau2, 4)) == (-3.4964, 0.2570, 0.8124)
    assert [round(v, 4) for v in r.back()] == [0.0294, 0.0180, 0.0478]


def test_meta_printout_two_studies():
    """R meta printout: GLMM, x = 5, 116; n = 119, 170: 0.2355 (0.0191-0.8297)."""
    r = pool([5, 116], [119, 170])
    assert r.method == "GLMM"
    assert [round(v, 4) for v in r.back()] == [0.2355, 0.0191, 0.8297]


def test_glmm_falls_back_to_random_effects_with_note_when_not_converged(monkeypatch):
    """A GLMM that truly fails is replaced by the inverse-variance random-effects model (logit, ML),
    never by the common-effect model. R 4.2.2, metafor 3.8.1:
    rma(measure = "PLO", xi = c(3,16,10,1), ni = c(11,17,21,6), method = "ML")
    -> b = -0.042838556584, se = 0.705847183177, tau2 = 1.351410145394."""
    from metaprop.engine import glmm

    nan = float("nan")
    monkeypatch.setattr(glmm, "fit_glmm", lambda *args: glmm.GlmmFit(nan, nan, nan, False, "forced", 100, nan))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = pool([3, 16, 10, 1], [11, 17, 21, 6], method="GLMM")
    assert not r.converged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    # metafor stops Fisher scoring at a change of 1e-5 in tau^2: TOL["ML"]
    assert r.random.te == pytest.approx(-0.042838556584, abs=TOL["ML"])
    assert r.random.se == pytest.approx(0.705847183177, abs=TOL["ML"])
    assert r.tau2 == pytest.approx(1.351410145394, abs=TOL["ML"])
    assert r.random.te != r.common.te
    assert any("did not converge" in n and "random-effects" in n for n in r.notes)


def test_glmm_keeps_its_optimum_where_modes_oscillated():
    """Issue 14: the mode search oscillated, the fit was discarded for the common-effect model.
    R 4.2.2, metafor 3.8.1, lme4 1.1.31: rma.glmm(measure = "PLO", xi = c(2,37,3,2,3,0,1,0,3,4),
    ni = c(20,37,25,36,38,24,13,8,23,10), method = "ML") -> b = -2.0187163228, se = 0.8723681780,
    tau2 = 6.2988194452; the log-likelihood there is 58.6 above the common-effect fit reported before."""
    from metaprop.engine.glmm import glmm_loglik

    x = [2, 37, 3, 2, 3, 0, 1, 0, 3, 4]
    n = [20, 37, 25, 36, 38, 24, 13, 8, 23, 10]
    r = pool(x, n)
    assert r.converged
    assert r.random.te == pytest.approx(-2.0187163228, abs=TOL["GLMM"])
    assert r.tau2 == pytest.approx(6.2988194452, rel=TOL["GLMM"])
    assert r.random.se == pytest.approx(0.8723681780, rel=2e-4)
    assert [round(v, 4) for v in r.back()] == [0.1173, 0.0235, 0.4234]  # metafor: 11.7% (2.35 to 42.3)
    xf, nf = np.array(x, float), np.array(n, float)
    ll = glmm_loglik(r.random.te, r.tau2 ** 0.5, xf, nf)
    assert ll - glmm_loglik(r.common.te, 0.0, xf, nf) > 58.5


def test_glmm_loglik_of_one_extreme_study_against_independent_quadrature():
    """0/19 at mu = 2.8865, tau^2 = 8.0533: the issue's -9.842 came from an unconverged mode.
    Independent value: scipy.integrate.quad of Bin(0 | 19, expit(mu + u)) N(u; 0, tau^2) over u."""
    from scipy import integrate, stats

    from metaprop.engine.glmm import glmm_loglik

    mu, tau = 2.8865, 8.0533 ** 0.5
    exact = np.log(integrate.quad(lambda u: np.exp(-19 * np.logaddexp(0, mu + u)) * stats.norm.pdf(u, 0, tau),
                                  -60, 60, points=[-mu], limit=200, epsabs=0, epsrel=1e-12)[0])
    assert exact == pytest.approx(-3.975, abs=1e-3)
    # 7-node adaptive Gauss-Hermite, as lme4 nAGQ = 7: within 2e-3 of the exact integral here
    assert glmm_loglik(mu, tau, np.array([0.0]), np.array([19.0])) == pytest.approx(exact, abs=2e-3)


@pytest.mark.slow
def test_glmm_loglik_matches_independent_quadrature_on_random_data():
    """The 7-node AGQ log-likelihood against scipy's adaptive quadrature, 200 seeded datasets."""
    from scipy import integrate, stats

    from metaprop.engine.glmm import glmm_loglik

    rng = np.random.default_rng(20261129)
    worst = 0.0
    for _ in range(200):
        n = int(rng.integers(1, 200))
        x = int(rng.integers(0, n + 1))
        mu, tau = rng.uniform(-4, 4), rng.uniform(0.05, 3)
        c = special_gammaln(n, x)
        def f(u, c=c, x=x, n=n, mu=mu, tau=tau):
            return np.exp(c + x * (mu + u) - n * np.logaddexp(0, mu + u)) * stats.norm.pdf(u, 0, tau)

        exact = np.log(integrate.quad(f, -12 * tau, 12 * tau, limit=400, epsabs=0, epsrel=1e-12)[0])
        got = glmm_loglik(mu, tau, np.array([float(x)]), np.array([float(n)]))
        worst = max(worst, abs(got - exact))
    assert worst < 5e-3  # 7-point AGQ error; exact for tau -> 0 and large n


def special_gammaln(n, x):
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)


def test_glmm_rejects_other_options():
    from metaprop import MetapropError

    with pytest.raises(MetapropError, match="PLOGIT"):
        pool([1, 2], [5, 6], sm="PRAW", method="GLMM")
    with pytest.raises(MetapropError, match="maximum likelihood"):
        pool([1, 2], [5, 6], method="GLMM", method_tau="REML")


def test_glmm_gradient_and_hessian_match_finite_differences():
    """The analytic gradient and Hessian that Newton's method uses, against central differences of
    the log-likelihood itself (step 1e-4: truncation O(h^2), rounding about eps |l| / h^2 = 1e-8 |l|
    for the Hessian; tolerance 1e-6 for the gradient, 1e-5 for the Hessian, relative or times
    max(1, |l|)), on 60 seeded datasets of 1 to 40 studies, with 0% and 100% studies and tau from
    0.05 to 4. Changing one term of the Hessian by 1% (the r'' u^2 / 2 term) fails it."""
    from metaprop.engine.glmm import glmm_loglik, glmm_loglik_derivs

    rng = np.random.default_rng(16)
    h = 1e-4
    for _ in range(60):
        k = int(rng.integers(1, 41))
        n = rng.integers(1, 120, k).astype(float)
        x = rng.binomial(n.astype(int), 1 / (1 + np.exp(-rng.normal(1.0, 1.5, k)))).astype(float)
        mu, tau = rng.uniform(-3, 4), float(np.exp(rng.uniform(np.log(0.05), np.log(4))))
        const = glmm_loglik(mu, tau, x, n) - glmm_loglik_derivs(mu, tau, x, n)[0]

        def f(m, t, x=x, n=n, const=const):
            return glmm_loglik(m, t, x, n) - const

        ll, g, hess = glmm_loglik_derivs(mu, tau, x, n)
        e = [np.array([h, 0.0]), np.array([0.0, h])]
        fd_g = [(f(*(np.array([mu, tau]) + d)) - f(*(np.array([mu, tau]) - d))) / (2 * h) for d in e]
        assert g == pytest.approx(fd_g, rel=1e-6, abs=1e-6 * max(1.0, abs(ll)))
        fd_h = np.empty((2, 2))
        for a in range(2):
            for b in range(2):
                p = np.array([mu, tau])
                fd_h[a, b] = (f(*(p + e[a] + e[b])) - f(*(p + e[a] - e[b])) - f(*(p - e[a] + e[b]))
                              + f(*(p - e[a] - e[b]))) / (4 * h * h)
        assert hess == pytest.approx(fd_h, rel=1e-5, abs=1e-5 * max(1.0, abs(ll)))


def test_glmm_reports_how_newton_ended():
    """Issue 16: the result (and its JSON) says how Newton's method ended: iterations, and the
    largest gradient component at the optimum. Checked independently: central differences of the
    log-likelihood at the reported (mu, tau) are zero to 1e-6 (an interior maximum)."""
    from metaprop.engine.glmm import glmm_loglik

    x, n = [10, 9, 20, 9, 11], [10, 10, 20, 14, 11]
    r = pool(x, n, method="GLMM")
    assert r.converged and 1 <= r.iterations <= 25 and 0 <= r.gradient_norm < 1e-6
    assert r.to_dict()["optimizer"] == {"iterations": r.iterations, "gradient_norm": r.gradient_norm}
    xf, nf = np.array(x, float), np.array(n, float)
    mu, tau, h = r.random.te, r.tau2 ** 0.5, 1e-5
    assert (glmm_loglik(mu + h, tau, xf, nf) - glmm_loglik(mu - h, tau, xf, nf)) / (2 * h) == pytest.approx(0, abs=1e-6)
    assert (glmm_loglik(mu, tau + h, xf, nf) - glmm_loglik(mu, tau - h, xf, nf)) / (2 * h) == pytest.approx(0, abs=1e-6)
