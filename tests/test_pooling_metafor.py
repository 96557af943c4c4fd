"""metaprop under ``convention="metafor"`` vs metafor on unseen datasets
(tests/reference/metafor_reference.json, made by tests/reference/make_reference.R)."""

from __future__ import annotations

import numpy as np
import pytest

from metaprop import pool
from metaprop.engine.inference import i2_tau2

from conftest import TOL, load_json

REF = load_json("metafor_reference.json")
DATASETS = [k for k in REF if k != "provenance"]
SMS = ["PRAW", "PLOGIT", "PAS", "PFT"]
TAUS = ["DL", "REML", "PM", "ML"]
CASES = [(d, s, t, hk) for d in DATASETS for s in SMS for t in TAUS for hk in ("z", "hakn")
         if f"random_{t}" in REF[d][s]]


def case_id(c):
    return "-".join(c)


def test_grid_is_complete():
    assert set(DATASETS) >= {"crt2018_weaning", "k2", "zeros", "all_full", "strong_het", "large_k"}
    assert len(CASES) == len(DATASETS) * 4 * 4 * 2


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_metafor_convention(case):
    ds, sm, mt, test = case
    d = REF[ds]
    ref = d[sm][("hk_" if test == "hakn" else "random_") + mt]
    r = pool(d["x"], d["n"], sm=sm, method="Inverse", method_tau=mt, hakn=test == "hakn",
             convention="metafor")
    tol = TOL[mt]
    np.testing.assert_allclose(r.yi, d[sm]["yi"], atol=TOL["closed_form"])
    np.testing.assert_allclose(r.vi, d[sm]["vi"], atol=TOL["closed_form"])
    assert r.tau2 == pytest.approx(ref["tau2"], abs=tol)
    assert (r.random.te, r.random.se) == pytest.approx((ref["TE"], ref["se"]), abs=tol)
    assert (r.random.lower, r.random.upper) == pytest.approx((ref["lb"], ref["ub"]), abs=tol)
    assert r.back() == pytest.approx((ref["p"], ref["p_lb"], ref["p_ub"]), abs=tol)
    assert r.pi == pytest.approx((ref["pi_lb"], ref["pi_ub"]), abs=tol)
    assert r.pi_proportion() == pytest.approx((ref["p_pi_lb"], ref["p_pi_ub"]), abs=tol)
    # I^2 = tau^2/(tau^2 + s^2): the definition exactly, at metafor's tau^2 (tau^2 itself is
    # checked above; its tolerance would be amplified by 1/s^2 in I^2)
    assert 100 * i2_tau2(np.array(r.vi), ref["tau2"]) == pytest.approx(ref["I2"], abs=1e-6)
    assert r.i2 == pytest.approx(i2_tau2(np.array(r.vi), r.tau2), abs=1e-12)
    assert r.q == pytest.approx(ref["QE"], abs=TOL["closed_form"])
    assert r.q_pvalue == pytest.approx(ref["QEp"], abs=TOL["closed_form"])
    np.testing.assert_allclose(r.w_random, ref["weights"], atol=100 * tol)


@pytest.mark.parametrize("ds", DATASETS)
@pytest.mark.parametrize("sm", SMS)
def test_common_effect(ds, sm):
    d = REF[ds]
    ref = d[sm]["common"]
    r = pool(d["x"], d["n"], sm=sm, method="Inverse", method_tau="DL", convention="metafor")
    tol = TOL["closed_form"]
    assert (r.common.te, r.common.se) == pytest.approx((ref["TE"], ref["se"]), abs=tol)
    assert r.back("common") == pytest.approx((ref["p"], ref["p_lb"], ref["p_ub"]), abs=tol)


def test_hernandez2018_weaning_reproduced_with_metafor_praw():
    """Hernandez 2018 weaning, as the shared README documents: 93.45% (86.19-100.71)."""
    d = REF["crt2018_weaning"]
    r = pool(d["x"], d["n"], sm="PRAW", method="Inverse", method_tau="DL", convention="metafor")
    assert [round(100 * v, 2) for v in r.back()] == [93.45, 86.19, 100.71]
    assert round(r.tau2, 6) == 0.002608
    assert round(100 * r.i2, 1) == 40.0
    assert round(r.q, 3) == 6.670
    # R meta's PRAW convention (uncorrected proportion) does not reproduce it: 95.6%
    meta = pool(d["x"], d["n"], sm="PRAW", method="Inverse", method_tau="DL", convention="meta")
    assert round(100 * meta.back()[0], 1) == 95.6
