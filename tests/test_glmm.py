"""GLMM vs metafor rma.glmm(measure = "PLO", method = "ML") (lme4, nAGQ = 7)."""

from __future__ import annotations

import warnings

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
    assert r.q_lrt == pytest.approx(g["QE_LRT"], abs=TOL["closed_form"])
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


def test_glmm_falls_back_with_note_when_not_converged(monkeypatch):
    from metaprop.engine import glmm

    monkeypatch.setattr(glmm, "_fit", lambda x, n: (float("nan"),) * 3 + (False, "forced"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = pool([3, 6, 10, 1], [11, 17, 21, 6], method="GLMM")
    assert not r.converged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert r.random.te == r.common.te and r.tau2 == 0.0
    assert any("did not converge" in n for n in r.notes)


def test_glmm_rejects_other_options():
    from metaprop import MetapropError

    with pytest.raises(MetapropError, match="PLOGIT"):
        pool([1, 2], [5, 6], sm="PRAW", method="GLMM")
    with pytest.raises(MetapropError, match="maximum likelihood"):
        pool([1, 2], [5, 6], method="GLMM", method_tau="REML")
