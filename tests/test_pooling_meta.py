"""metaprop with ``tau2_algorithm="exact"`` vs tests/reference/r_reference.json.

That reference (the project's shared set) was computed with metafor with tau^2 solved tightly,
in R meta's other conventions (Q-based I^2, t(k-1) prediction interval): the exact optimum.
R meta's own numbers, with metafor's default stopping rules, are checked in test_meta_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from metaprop import pool
from metaprop.engine.inference import i2_tau2

from conftest import TOL, load_json

REF = load_json("r_reference.json")
DATASETS = ["pritz1997", "nielweise2007_control", "miller1978", "meta_issue106"]
SMS = ["PLOGIT", "PFT", "PAS", "PRAW"]
TAUS = ["DL", "REML", "PM", "ML"]
CASES = [(d, s, t) for d in DATASETS for s in SMS for t in TAUS]


def case_id(c):
    return "-".join(c)


def meta_p(sm, values):
    """R meta's back-transformation cuts PRAW proportions to [0, 1] (meta:::backtransf); this
    reference does not (checked against R meta 8.3 itself in test_meta_reference.py)."""
    v = tuple(values)
    return tuple(min(1.0, max(0.0, x)) for x in v) if sm == "PRAW" else v


def test_reference_covers_every_combination():
    for d in DATASETS:
        for s in SMS:
            assert set(REF[d][s]) >= {f"random_{t}" for t in TAUS} | {"common", "Q", "I2_Q"}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_random_effects(case):
    ds, sm, mt = case
    ref = REF[ds]
    r = pool(ref["x"], ref["n"], sm=sm, method="Inverse", method_tau=mt, tau2_algorithm="exact")
    rr = ref[sm][f"random_{mt}"]
    tol = TOL[mt]
    assert r.tau2 == pytest.approx(rr["tau2"], abs=tol)
    assert r.tau == pytest.approx(rr["tau"], abs=tol)
    assert r.random.te == pytest.approx(rr["TE"], abs=tol)
    assert r.random.se == pytest.approx(rr["se"], abs=tol)
    assert (r.random.lower, r.random.upper) == pytest.approx((rr["lb"], rr["ub"]), abs=tol)
    assert r.back("random") == pytest.approx(meta_p(sm, (rr["p"], rr["p_lb"], rr["p_ub"])), abs=tol)
    np.testing.assert_allclose(r.w_random, rr["weights_pct"], atol=100 * tol)
    # prediction intervals: t(k-1) (meta >= 8 default), t(k-2), z
    assert r.pi == pytest.approx(tuple(rr["pi_k1"]), abs=tol)
    assert r.pi_proportion() == pytest.approx(meta_p(sm, rr["pi_k1_p"]), abs=tol)
    for df, key in (("k-2", "pi_k2"), ("z", "pi_z")):
        r2 = pool(ref["x"], ref["n"], sm=sm, method="Inverse", method_tau=mt, prediction_df=df,
                  tau2_algorithm="exact")
        assert r2.pi == pytest.approx(tuple(rr[key]), abs=tol)
        assert r2.pi_proportion() == pytest.approx(meta_p(sm, rr[key + "_p"]), abs=tol)
    # Hartung-Knapp
    hk = pool(ref["x"], ref["n"], sm=sm, method="Inverse", method_tau=mt, hakn=True, tau2_algorithm="exact")
    assert hk.random.se == pytest.approx(rr["hk_se"], abs=tol)
    assert (hk.random.lower, hk.random.upper) == pytest.approx((rr["hk_lb"], rr["hk_ub"]), abs=tol)
    assert hk.back("random")[1:] == pytest.approx(meta_p(sm, (rr["hk_p_lb"], rr["hk_p_ub"])), abs=tol)
    # I^2: meta's Q-based definition, and metafor's tau^2-based one under convention="metafor"
    assert 100 * r.i2 == pytest.approx(100 * ref[sm]["I2_Q"], abs=100 * tol)
    # metafor's definition at the reference tau^2 (this reference solved tau^2 tightly; under
    # convention="metafor" metaprop copies metafor's looser default stopping rules instead)
    assert 100 * i2_tau2(np.array(r.vi), rr["tau2"]) == pytest.approx(rr["I2_metafor_pct"], abs=1e-6)


@pytest.mark.parametrize("ds", DATASETS)
@pytest.mark.parametrize("sm", SMS)
def test_common_effect_and_heterogeneity(ds, sm):
    ref = REF[ds]
    r = pool(ref["x"], ref["n"], sm=sm, method="Inverse", method_tau="DL")
    c = ref[sm]["common"]
    tol = TOL["closed_form"]
    np.testing.assert_allclose(r.yi, ref[sm]["yi"], atol=tol)
    np.testing.assert_allclose(r.vi, ref[sm]["vi"], atol=tol)
    assert (r.common.te, r.common.se) == pytest.approx((c["TE"], c["se"]), abs=tol)
    assert (r.common.lower, r.common.upper) == pytest.approx((c["lb"], c["ub"]), abs=tol)
    assert r.back("common") == pytest.approx(meta_p(sm, (c["p"], c["p_lb"], c["p_ub"])), abs=tol)
    assert r.q == pytest.approx(ref[sm]["Q"], abs=tol)
    assert r.q_df == ref[sm]["df"]
    assert r.q_pvalue == pytest.approx(ref[sm]["pval_Q"], abs=tol)
    # R meta (calcH) reports H truncated at 1; this reference has sqrt(Q/df)
    assert r.h == pytest.approx(max(1.0, ref[sm]["H"]), abs=tol)


@pytest.mark.parametrize("ds", DATASETS)
def test_study_confidence_intervals(ds):
    ref = REF[ds]
    tol = TOL["closed_form"]
    cp = pool(ref["x"], ref["n"], sm="PLOGIT", method="Inverse")
    np.testing.assert_allclose(cp.study_p, ref["study"]["p"], atol=tol)
    np.testing.assert_allclose(cp.study_lower, ref["study"]["cp_lb"], atol=tol)
    np.testing.assert_allclose(cp.study_upper, ref["study"]["cp_ub"], atol=tol)
    ws = pool(ref["x"], ref["n"], sm="PLOGIT", method="Inverse", method_ci="WS")
    np.testing.assert_allclose(ws.study_lower, ref["study"]["wilson_lb"], atol=tol)
    np.testing.assert_allclose(ws.study_upper, ref["study"]["wilson_ub"], atol=tol)
    assert cp.harmonic_mean_n == pytest.approx(ref["harmonic_mean_n"], abs=tol)


def test_miller1978_pft_back_transform():
    """metafor's test of Miller (1978): PFT common effect back-transformed = 0.3595."""
    r = pool([3, 6, 10, 1], [11, 17, 21, 6], sm="PFT", method="Inverse")
    assert round(r.back("common")[0], 4) == 0.3595


def test_kacker2004_statsmodels_anchor():
    """statsmodels results_meta.py (metafor output): PM and DL on y, v given, HK SE."""
    from metaprop.engine.pooling import random_effects

    y = np.array([61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9])
    v = np.array([0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225])
    t2, est = random_effects(y, v, "PM")
    assert t2 == pytest.approx(0.705395309224248, abs=1e-9)
    assert est.te == pytest.approx(62.4076199113286, abs=1e-9)
    t2, est = random_effects(y, v, "DL")
    assert t2 == pytest.approx(0.288049246973751, abs=1e-9)
    assert est.te == pytest.approx(62.3901386044504, abs=1e-9)
    _, hk = random_effects(y, v, "DL", hakn=True)
    assert hk.se == pytest.approx(0.29477605699879, abs=1e-9)
    from metaprop.engine.inference import q_test

    assert 100 * q_test(y, v)[4] == pytest.approx(67.744403741711, abs=1e-8)


def test_stijnen2010_normal_normal_reml_anchor():
    """metafor's test of Stijnen et al. (2010), nielweise2007 control arm, logit REML."""
    ref = REF["nielweise2007_control"]
    r = pool(ref["x"], ref["n"], sm="PLOGIT", method="Inverse", method_tau="REML")
    assert round(r.random.te, 4) == -3.3018
    assert round(r.random.se, 4) == 0.2378
    assert round(r.tau2, 4) == 0.6629
    assert [round(v, 4) for v in r.back()] == [0.0355, 0.0226, 0.0554]
