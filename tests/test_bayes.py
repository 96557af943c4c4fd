"""The Bayesian binomial-normal model (metaprop.engine.bayes) against computations that share
none of its code: a seeded Metropolis-within-Gibbs sampler written here, a brute-force grid
integration for two studies, the figures quoted in issue #12, exact symmetries, and, for the
normal-likelihood variant, R bayesmeta itself.

Tolerances: the sampler's Monte Carlo error (with the settings below it differs from the
quadrature by at most 1.1e-3 in the quantiles of the proportions, and by up to 1.3% in tau's, whose
lower limit is near 0) plus the quadrature's (below 3e-4), so 2e-3 on the proportion scale and
5% (or 0.01) for tau (Rao-Blackwellised for a new study: the draws' average
normal CDF); the brute-force integration has a step of 0.01 on the logit
scale, so 2e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from metaprop.engine.bayes import pool_bayes
from metaprop.engine.priors import tau_prior_logpdf
from metaprop.engine.quadrature import mean_proportion
from metaprop.errors import MetapropError

from conftest import load_json

WEANING = ([10, 9, 20, 9, 11], [10, 10, 20, 14, 11])


def metropolis(x, n, scale, prior, mu_sd=10.0, chains=600, iters=1400, burn=300, seed=20261129):
    """Random-walk Metropolis within Gibbs on (z_1..z_k, mu, log tau), non-centred
    (theta_i = mu + tau z_i, z_i ~ N(0, 1)), interweaved with centred moves of (mu, tau) at fixed
    theta; many independent chains at once."""
    rng = np.random.default_rng(seed)
    x, n = np.asarray(x, float), np.asarray(n, float)

    def loglik(mu, lt, z):
        th = mu[:, None] + np.exp(lt)[:, None] * z
        return (x * th - n * np.logaddexp(0.0, th)).sum(axis=1)

    def logprior(mu, lt):
        t = np.exp(lt)
        lp_t = -0.5 * (t / scale) ** 2 if prior == "halfnormal" else -np.log1p((t / scale) ** 2)
        return -0.5 * (mu / mu_sd) ** 2 + lp_t + lt  # + lt: Jacobian of tau = exp(lt)

    y = np.log((x + 0.5) / (n - x + 0.5))
    mu = y.mean() + rng.normal(0, 0.3, chains)
    lt = math.log(scale) + rng.normal(0, 0.3, chains)
    z = rng.normal(size=(chains, len(x)))
    ll = loglik(mu, lt, z)
    out_mu, out_tau = [], []
    for it in range(iters):
        # every z_i at once, each accepted on its own: given mu and tau the studies are independent
        th = mu[:, None] + np.exp(lt)[:, None] * z
        zp = z + rng.normal(0, 0.9, z.shape)
        thp = mu[:, None] + np.exp(lt)[:, None] * zp
        a = (x * (thp - th) - n * (np.logaddexp(0.0, thp) - np.logaddexp(0.0, th))
             - 0.5 * (zp**2 - z**2))
        ok = np.log(rng.random(z.shape)) < a
        z = np.where(ok, zp, z)
        ll = loglik(mu, lt, z)
        mup = mu + rng.normal(0, 0.5, chains)
        llp = loglik(mup, lt, z)
        ok = np.log(rng.random(chains)) < llp + logprior(mup, lt) - ll - logprior(mu, lt)
        mu[ok], ll[ok] = mup[ok], llp[ok]
        ltp = lt + rng.normal(0, 0.6, chains)
        llp = loglik(mu, ltp, z)
        ok = np.log(rng.random(chains)) < llp + logprior(mu, ltp) - ll - logprior(mu, lt)
        lt[ok], ll[ok] = ltp[ok], llp[ok]
        # centred moves with theta fixed (interweaving; mixes where the non-centred moves do not,
        # at large tau): mu | theta, tau is normal; log tau | theta, mu by random walk
        th = mu[:, None] + np.exp(lt)[:, None] * z
        t2 = np.exp(2 * lt)
        prec = len(x) / t2 + 1 / mu_sd**2
        mu = th.sum(axis=1) / t2 / prec + rng.standard_normal(chains) / np.sqrt(prec)
        ltp = lt + rng.normal(0, 0.6, chains)

        def cond(lt_, th=th, mu=mu):
            return (-len(x) * lt_ - 0.5 * ((th - mu[:, None]) ** 2).sum(axis=1) * np.exp(-2 * lt_)
                    + logprior(mu, lt_))

        ok = np.log(rng.random(chains)) < cond(ltp) - cond(lt)
        lt = np.where(ok, ltp, lt)
        z = (th - mu[:, None]) / np.exp(lt)[:, None]
        ll = loglik(mu, lt, z)
        if it >= burn:
            out_mu.append(mu.copy())
            out_tau.append(np.exp(lt))
    return np.concatenate(out_mu), np.concatenate(out_tau)


def q3(v):
    return np.quantile(v, [0.5, 0.025, 0.975])


def mean_proportion_by_strata(mu, tau, strata: int = 1000):
    """E expit(mu + tau Z) for each draw, written here without the engine: the average of
    expit(mu + tau z_j) over the midpoints z_j = Phi^-1((j - 1/2)/M) of M equally likely strata
    of the normal (error at most 1/(2M) = 5e-4 per draw, for the sharpest step)."""
    z = special.ndtri((np.arange(strata) + 0.5) / strata)
    return np.concatenate([special.expit(m[:, None] + t[:, None] * z).mean(axis=1)
                           for m, t in zip(np.array_split(mu, 50), np.array_split(tau, 50), strict=True)])


def loglik_by_quad(x, n, mu, tau):
    """log of the integral over theta of Bin(x | n, expit theta) N(theta; mu, tau^2), binomial
    constant excluded, by scipy.integrate.quad around the integrand's maximum (found on a fine grid)."""
    from scipy import integrate

    def h(t):
        return x * t - n * np.logaddexp(0.0, t) - 0.5 * ((t - mu) / tau) ** 2

    lo, hi = mu - 12 * tau - 60, mu + 12 * tau + 60
    grid = np.linspace(lo, hi, 200001)
    hv = h(grid)
    top, at = hv.max(), grid[np.argmax(hv)]
    v, _ = integrate.quad(lambda t: math.exp(h(t) - top), lo, hi, points=[at], limit=1000, epsabs=0, epsrel=1e-13)
    return top + math.log(v) - 0.5 * math.log(2 * math.pi * tau * tau)


def posterior_by_brute_force(x, n, prior, scale, cell=0.02, mu_sd=10.0, tau_max=1e4, tau_log_points=120):
    """Quantiles (median, 2.5%, 97.5%) of mu and of the mean proportion, with no engine code: each
    study's integral over theta by the exact normal mass of theta cells (0.02 wide on [-25, 25],
    0.5 wide out to +-80, the outer cells reaching to -inf and +inf), the posterior on a (mu, tau)
    grid (mu 0.05 apart on [-10, 25] and 0.5 apart out to -80 and 100; tau 0.025 apart below 3,
    then log-spaced to 10^4, the largest the engine's grid reaches), each point weighted by its
    spacing, and the mean proportion of each grid point as the same cells' masses times expit of
    their midpoints. The wide ranges matter under a half-Cauchy prior: tau's tail reaches hundreds,
    and mu's posterior with it."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    edges = np.unique(np.concatenate([np.arange(-80, -25, 0.5), np.arange(-25, 25 + cell / 2, cell),
                                      np.arange(25.5, 80.01, 0.5)]))
    theta = (edges[:-1] + edges[1:]) / 2
    edges[0], edges[-1] = -np.inf, np.inf
    lik = np.exp(x[:, None] * theta - n[:, None] * np.logaddexp(0, theta))
    mus = np.unique(np.concatenate([np.arange(-80, -10, 0.5), np.arange(-10, 25, 0.05), np.arange(25, 100, 0.5)]))
    dm = np.gradient(mus)
    taus = np.concatenate([np.arange(0.0125, 3, 0.025), np.geomspace(3, tau_max, tau_log_points)])
    dt = np.gradient(taus)
    lp = np.empty((len(mus), len(taus)))
    pm = np.empty_like(lp)
    for j, t in enumerate(taus):
        mass = np.diff(special.ndtr((edges[None, :] - mus[:, None]) / t), axis=1)
        prior_t = -0.5 * (t / scale) ** 2 if prior == "halfnormal" else -np.log1p((t / scale) ** 2)
        with np.errstate(divide="ignore"):
            lp[:, j] = (np.log(mass @ lik.T).sum(axis=1) - 0.5 * (mus / mu_sd) ** 2 + prior_t + np.log(dt[j])
                        + np.log(dm))
        pm[:, j] = mass @ special.expit(theta)
    w = np.exp(lp - lp.max()).ravel()
    w /= w.sum()

    def wq(values):
        order = np.argsort(values)
        c = np.cumsum(w[order]) - 0.5 * w[order]
        return np.interp([0.5, 0.025, 0.975], c, values[order])

    return wq(np.repeat(mus, len(taus))), wq(pm.ravel())


@pytest.mark.slow
@pytest.mark.parametrize("x,n,prior,scale", [
    (*WEANING, "halfnormal", 1.0),
    ([3, 15, 7], [10, 20, 30], "halfcauchy", 0.5),
], ids=["weaning-hn1", "k3-hc0.5"])
def test_agrees_with_an_independent_sampler(x, n, prior, scale):
    mu, tau = metropolis(x, n, scale, prior)
    got = pool_bayes(x, n, tau_prior=prior, tau_prior_scale=scale)
    want_mean = q3(mean_proportion_by_strata(mu[::4], tau[::4]))
    want_median = special.expit(q3(mu))
    want_tau = q3(tau)
    # a new study's logit: its CDF averaged over the draws, E Phi((t - mu) / tau), solved for t
    from scipy.optimize import brentq

    def new_quantile(p):
        return brentq(lambda t: special.ndtr((t - mu) / tau).mean() - p, -30, 30)

    want_new = special.expit([new_quantile(p) for p in (0.5, 0.025, 0.975)])
    for iv, want in ((got.p_mean, want_mean), (got.p_median, want_median), (got.p_new, want_new)):
        assert [iv.median, iv.lower, iv.upper] == pytest.approx(list(want), abs=2e-3)
    assert [got.tau.median, got.tau.lower, got.tau.upper] == pytest.approx(list(want_tau), rel=5e-2, abs=1e-2)


@pytest.mark.slow
def test_two_studies_by_brute_force_integration():
    """k = 2: each study's integral over theta by the exact normal mass of 0.01-wide cells of a
    fixed theta grid (no adaptive quadrature), the posterior on a uniform (mu, tau) grid, and
    the quantiles of mu and of the mean proportion from the weighted grid points."""
    x, n = np.array([3.0, 15.0]), np.array([10.0, 20.0])
    theta = np.arange(-12, 12, 0.01) + 0.005
    edges = np.append(theta - 0.005, theta[-1] + 0.005)
    mus = np.linspace(-4, 5, 361)
    taus = np.linspace(0, 3, 121)[1:]
    ll_theta = x[:, None] * theta - n[:, None] * np.logaddexp(0, theta)  # (2, cells)
    post = np.empty((len(mus), len(taus)))
    for j, t in enumerate(taus):
        cdf = special.ndtr((edges[None, :] - mus[:, None]) / t)
        mass = np.diff(cdf, axis=1)  # (mu, cells)
        lik = np.log(mass @ np.exp(ll_theta).T)  # (mu, 2)
        post[:, j] = lik.sum(axis=1) - 0.5 * (mus / 10) ** 2 + tau_prior_logpdf(t)
    w = np.exp(post - post.max()).ravel()
    w /= w.sum()
    m_all = np.repeat(mus, len(taus))
    t_all = np.tile(taus, len(mus))

    def wq(values):
        order = np.argsort(values)
        c = np.cumsum(w[order]) - 0.5 * w[order]
        return np.interp([0.5, 0.025, 0.975], c, values[order])

    got = pool_bayes(x, n, tau_prior_scale=0.5)
    assert [got.mu.median, got.mu.lower, got.mu.upper] == pytest.approx(list(wq(m_all)), abs=1e-2)
    pm = mean_proportion(m_all, t_all)
    assert [got.p_mean.median, got.p_mean.lower, got.p_mean.upper] == pytest.approx(list(wq(pm)), abs=2e-3)


def test_figures_quoted_in_the_issue():
    # issue #12, "computed by grid integration on these data with the exact binomial likelihood":
    # half-normal(0.5): mean 91.5% (79.2 to 97.5), median study 93.1% (82.1 to 98.5), a new study
    # 66.9 to 99.4%; half-normal(1.0): mean 91.4% (73.2 to 98.1). Quoted to one decimal.
    hn05 = pool_bayes(*WEANING, tau_prior_scale=0.5)
    hn10 = pool_bayes(*WEANING, tau_prior_scale=1.0)

    def pct(iv):
        return [round(100 * iv.median, 1), round(100 * iv.lower, 1), round(100 * iv.upper, 1)]

    assert pct(hn05.p_mean) == pytest.approx([91.5, 79.2, 97.5], abs=0.11)
    assert pct(hn05.p_median) == pytest.approx([93.1, 82.1, 98.5], abs=0.11)
    assert pct(hn05.p_new)[1:] == pytest.approx([66.9, 99.4], abs=0.11)
    assert pct(hn10.p_mean) == pytest.approx([91.4, 73.2, 98.1], abs=0.11)


def test_events_and_non_events_are_mirror_images():
    # with a prior mean of 0 for mu the model is symmetric under x -> n - x: p -> 1 - p
    x, n = np.array([10, 9, 20, 9, 11]), np.array([10, 10, 20, 14, 11])
    a, b = pool_bayes(x, n), pool_bayes(n - x, n)
    assert a.p_mean.median == pytest.approx(1 - b.p_mean.median, abs=1e-6)
    assert a.p_mean.lower == pytest.approx(1 - b.p_mean.upper, abs=1e-6)
    assert a.p_new.upper == pytest.approx(1 - b.p_new.lower, abs=1e-6)
    assert a.tau.upper == pytest.approx(b.tau.upper, rel=1e-6)


@pytest.mark.slow
def test_grid_refinement_changes_nothing_that_is_shown():
    for prior in ("halfnormal", "halfcauchy"):
        a, b = pool_bayes(*WEANING, tau_prior=prior), pool_bayes(*WEANING, tau_prior=prior, points=241)
        for name in ("p_mean", "p_median", "p_new"):
            ia, ib = getattr(a, name), getattr(b, name)
            assert [ia.median, ia.lower, ia.upper] == pytest.approx([ib.median, ib.lower, ib.upper], abs=3e-4)
        assert [a.tau.median, a.tau.lower, a.tau.upper] == pytest.approx(
            [b.tau.median, b.tau.lower, b.tau.upper], rel=5e-3)


def test_mean_proportion_is_pulled_towards_one_half_by_heterogeneity():
    # E expit(mu + tau Z) < expit(mu) for mu > 0; hand check at tau = 0 and by direct quadrature
    assert mean_proportion(2.0, 0.0) == pytest.approx(special.expit(2.0), abs=1e-14)
    z = np.linspace(-10, 10, 200001)
    direct = np.trapezoid(special.expit(2.0 + 1.5 * z) * np.exp(-z * z / 2) / math.sqrt(2 * math.pi), z)
    assert mean_proportion(2.0, 1.5) == pytest.approx(direct, abs=1e-10)
    r = pool_bayes(*WEANING)
    assert r.p_mean.median < r.p_median.median


def test_more_prior_room_for_tau_widens_the_interval():
    widths = [pool_bayes(*WEANING, tau_prior_scale=s).p_mean for s in (0.25, 0.5, 1.0)]
    spans = [iv.upper - iv.lower for iv in widths]
    assert spans[0] < spans[1] < spans[2]


def test_edge_cases_give_finite_answers():
    every = pool_bayes([10, 10, 11], [10, 10, 11])  # every study 100%: the prior bounds mu
    assert 0.9 < every.p_mean.lower < every.p_mean.median < 1
    one = pool_bayes([7], [10])
    assert one.k == 1 and 0 < one.p_mean.lower < 0.7 < one.p_mean.upper < 1
    assert pool_bayes(*WEANING, tau_prior_scale=0.5).to_dict()["mean_proportion"]["median"] == pytest.approx(
        0.915, abs=5e-4)


def test_engine_defaults_are_the_protocols_headline_model():
    """One model, stated once: pool_bayes's defaults are protocol.BAYES (the CLI's too)."""
    import inspect

    from metaprop.review.protocol import BAYES

    params = inspect.signature(pool_bayes).parameters
    assert {k: params[k].default for k in BAYES} == BAYES


def test_deterministic():
    assert pool_bayes(*WEANING) == pool_bayes(*WEANING)


@pytest.mark.parametrize("kwargs", [{"tau_prior": "uniform"}, {"mu_prior_sd": 0}, {"tau_prior_scale": -1},
                                    {"level": 1.0}])
def test_invalid_options_are_refused(kwargs):
    with pytest.raises(MetapropError):
        pool_bayes(*WEANING, **kwargs)


def test_invalid_counts_are_refused():
    with pytest.raises(MetapropError):
        pool_bayes([11], [10])


BAYESMETA = {k: v for k, v in load_json("bayesmeta_reference.json").items() if k != "provenance"}


@pytest.mark.parametrize("case", sorted(BAYESMETA))
def test_normal_variant_equals_r_bayesmeta(case):
    """R bayesmeta 3.4 (tests/reference/bayesmeta_reference.json, its accuracy raised to
    delta = 1e-4) on the same continuity-corrected logits and priors: the grid, splines and
    quantile searches that the binomial model shares agree to 1e-4 on the logit scale (worst
    observed 4.5e-5, a new study's upper limit)."""
    ref = BAYESMETA[case]
    got = pool_bayes(ref["x"], ref["n"], likelihood="normal", tau_prior=ref["tau_prior"],
                     tau_prior_scale=ref["tau_prior_scale"])
    assert [got.mu.median, got.mu.lower, got.mu.upper] == pytest.approx(ref["mu"], abs=1e-4)
    assert [got.tau.median, got.tau.lower, got.tau.upper] == pytest.approx(ref["tau"], abs=1e-4)
    new = special.logit([got.p_new.median, got.p_new.lower, got.p_new.upper])
    assert list(new) == pytest.approx(ref["theta"], abs=1e-4)


@pytest.mark.parametrize("x, n", [(20, 20), (0, 20), (9, 14), (1, 3), (200, 200), (3, 500), (0, 1), (50, 100)])
def test_study_likelihood_equals_quad_for_tau_up_to_20(x, n):
    """The per-study integral over theta (adaptive Gauss-Hermite, checked, with the two-panel rule
    where the check fails) against scipy's adaptive quad, tau from 0.01 to 20, 0% and 100% studies
    included. Worst difference observed: 2.4e-9 on the log scale (before: 0.041 at x = n = 20,
    mu = 3, tau = 10, and 0.98 at mu = -5, tau = 20), so 1e-8."""
    from metaprop.engine.quadrature import study_loglik

    mus = np.array([-6.0, -3.0, 0.0, 3.0, 6.0])
    taus = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 20.0])
    m, t = np.meshgrid(mus, taus, indexing="ij")
    got = study_loglik(m.reshape(-1, 1), t.reshape(-1, 1), np.array([float(x)]), np.array([float(n)]))[:, 0]
    want = [loglik_by_quad(x, n, a, b) for a, b in zip(m.ravel(), t.ravel(), strict=True)]
    assert got == pytest.approx(want, abs=1e-8)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_mean_proportion_equals_quad_for_tau_up_to_20():
    """E expit(mu + tau Z) against scipy's quad split at the sigmoid's centre; before, 40-node
    Gauss-Hermite alone was off by 0.035 at mu = 3, tau = 20. Worst observed 1e-11, so 1e-9."""
    from scipy import integrate

    for mu in (-6.0, -3.0, 0.0, 3.0, 6.0, 10.0):
        for tau in (0.0, 0.05, 0.3, 1.0, 1.5, 1.51, 2.0, 4.0, 10.0, 20.0):
            if tau == 0:
                want = special.expit(mu)
            else:
                c = -mu / tau
                want = integrate.quad(lambda z, mu=mu, tau=tau: special.expit(mu + tau * z) * math.exp(-z * z / 2)
                                      / math.sqrt(2 * math.pi), -40, 40, points=[c - 1 / tau, c, c + 1 / tau],
                                      limit=1000, epsabs=1e-15, epsrel=1e-14)[0]
            assert float(mean_proportion(mu, tau)) == pytest.approx(want, abs=1e-9), (mu, tau)


@pytest.mark.slow
@pytest.mark.parametrize("x, n, prior, scale, tau_max", [
    ([10, 20, 9], [10, 20, 14], "halfcauchy", 0.5, 1e4),
    ([12, 15, 20, 10, 7], [12, 15, 20, 10, 12], "halfcauchy", 0.5, 1e4),
    (*WEANING, "halfnormal", 1.0, 12.0),  # the headline: half-normal(1.0) leaves 1e-9 beyond tau = 6
], ids=["k3-100pct-hc0.5", "issue-k5-hc0.5", "headline-weaning-hn1"])
def test_posterior_by_brute_force(x, n, prior, scale, tau_max):
    """Both priors the site uses, most studies at 100%: the headline's half-normal(1.0) on the
    weaning counts, and half-Cauchy(0.5) with tau's grid to 10^4. The second case is the one the
    second audit found adrift: the engine gave a mean proportion of 91.41% (52.86 to 99.53) where
    NUTS gave about 91.0% (55.1 to 99.26); this brute force gives 91.01% (55.11 to 99.26), the
    engine now 91.02% (55.09 to 99.26). Observed differences up to 2.2e-4 on proportions; the
    brute force's cells (0.02 on the logit) and mu step (0.05) limit it to about 5e-4, so 1e-3
    (the audit's own bar)."""
    mu_q, pm_q = posterior_by_brute_force(x, n, prior, scale, tau_max=tau_max,
                                          tau_log_points=120 if tau_max > 100 else 30)
    got = pool_bayes(x, n, tau_prior=prior, tau_prior_scale=scale)
    assert [got.p_mean.median, got.p_mean.lower, got.p_mean.upper] == pytest.approx(list(pm_q), abs=1e-3)
    assert [got.mu.median, got.mu.lower, got.mu.upper] == pytest.approx(list(mu_q), abs=0.06)


def test_every_study_at_100_percent_with_large_studies():
    """Found by the coverage study: 32/32, 40/40, 28/28 under half-normal(0.5) stopped with 'f(a)
    and f(b) must have different signs': for a mean proportion below a column's whole range, the
    inversion ran away. Now finite, ordered, and near 1 as the counts say."""
    r = pool_bayes([32, 40, 28], [32, 40, 28], tau_prior_scale=0.5)
    assert 0.98 < r.p_mean.lower < r.p_mean.median < r.p_mean.upper <= 1.0
