"""Likelihood-ratio test of tau^2 = 0 and profile-likelihood CI of tau for the GLMM, against lme4.

Reference: tests/reference/glmm_profile_reference.json, written by make_glmm_profile.R with lme4
1.1-31 (``confint(glmer(..., nAGQ = 7), parm = ".sig01", method = "profile")`` and the deviance
function at theta = 0). lme4 finds the limits by spline interpolation of a profile computed on a
grid of its own; metaprop solves for them exactly, so the limits agree to 0.5% (worst observed
0.34%, the weaning upper limit, where the profile is nearly flat); the ML fit and the statistic
agree to lme4's optimiser tolerance.
"""

from __future__ import annotations

import math

import pytest

from metaprop.engine.glmm_profile import glmm_tau_profile
from metaprop.errors import MetapropError

from conftest import load_json

REF = {k: v for k, v in load_json("glmm_profile_reference.json").items() if k != "provenance"}


@pytest.mark.parametrize("name", sorted(REF))
def test_profile_ci_and_lrt_match_lme4(name):
    ref = REF[name]
    got = glmm_tau_profile(ref["x"], ref["n"])
    assert got.tau == pytest.approx(ref["tau"], abs=1e-4)
    assert got.lrt == pytest.approx(ref["lrt"], rel=1e-5, abs=1e-6)
    for mine, theirs in zip(got.tau_ci, ref["tau_ci"], strict=True):
        assert mine == pytest.approx(theirs, rel=5e-3, abs=1e-6)


def test_boundary_p_value_is_half_the_chi2_1_tail():
    # weaning: LR = 5.8428 (lme4); P(chi^2_1 > 5.8428) = 0.015641 (R: pchisq(5.8428, 1, lower = FALSE))
    got = glmm_tau_profile([10, 9, 20, 9, 11], [10, 10, 20, 14, 11])
    assert got.lrt_pvalue == pytest.approx(0.015641 / 2, rel=1e-3)


def test_i2_is_the_typical_variance_form_of_the_tau2_shown():
    # hand calculation: logit variances of the weaning counts, 0.5 added only to the 100% studies
    # (metafor's add = 1/2, to = "only0"), w = 1/v, s^2 = (k-1) sum(w) / ((sum w)^2 - sum w^2),
    # I^2 = tau^2 / (tau^2 + s^2)
    x, n = [10, 9, 20, 9, 11], [10, 10, 20, 14, 11]
    v = [1 / (a + 0.5) + 1 / (b - a + 0.5) if a == b else 1 / a + 1 / (b - a) for a, b in zip(x, n, strict=True)]
    w = [1 / t for t in v]
    s2 = 4 * sum(w) / (sum(w) ** 2 - sum(t * t for t in w))
    got = glmm_tau_profile(x, n)
    assert got.i2 == pytest.approx(got.tau2 / (got.tau2 + s2), rel=1e-12)
    assert 0.7 < got.i2 < 0.8  # R meta prints I^2 = 0% (Wald Q) for the same fit


def test_homogeneous_data_give_zero_lower_limit_and_p_one():
    got = glmm_tau_profile([8, 9, 16, 7, 21], [10, 11, 20, 9, 26])
    assert got.tau == 0 and got.tau_ci[0] == 0 and got.lrt == 0 and got.lrt_pvalue == 1


def test_flat_profile_reports_an_infinite_upper_limit():
    # 10/10 and 1/10: tau-hat = 4.58; beyond it the profile falls only slowly (the 100% study's
    # likelihood tends to 1/2 as tau grows) and stays within the cut-off up to tau = 50
    got = glmm_tau_profile([10, 1], [10, 10])
    assert got.tau_ci[0] > 0 and math.isinf(got.tau_ci[1])
    assert got.to_dict()["tau_upper"] is None  # JSON-safe: infinity is written as null


@pytest.mark.parametrize("x,n", [([10], [10]), ([5, 6], [5, 6]), ([0, 0], [4, 9])])
def test_refuses_what_has_no_estimate(x, n):
    with pytest.raises(MetapropError):
        glmm_tau_profile(x, n)


def test_the_test_alone_gives_the_profiles_numbers():
    """glmm_lrt (the certainty rule's test) is the profile's LR and p, from the same fit."""
    from metaprop.engine.glmm_profile import glmm_lrt

    for x, n in (([10, 9, 20, 9, 11], [10, 10, 20, 14, 11]), ([5, 5, 5], [10, 10, 10])):
        prof = glmm_tau_profile(x, n)
        assert glmm_lrt(x, n) == (prof.lrt, prof.lrt_pvalue)
