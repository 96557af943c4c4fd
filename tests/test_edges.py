"""The edge cases of issue 14, each answered as R (metafor / R meta) answers it, or refused with a
one-line error. R values: R 4.2.2, metafor 3.8.1, meta 8.3.0 (calls written out per test)."""

from __future__ import annotations

import pandas as pd
import pytest

from metaprop import MetapropError, pool
from metaprop.engine.sensitivity import cumulative

from conftest import load_json

META = {c["name"]: c for c in load_json("meta_reference.json")["cases"]}


def test_h_is_truncated_at_1_as_r_meta():
    """meta 8.3: metaprop(c(10, 20, 5), c(10, 20, 5), sm = "PRAW", method = "Inverse",
    method.tau = "DL") -> Q = 0, H = 1.00 [1.00; 3.10] (meta_reference "all_full PRAW DL classic")."""
    r = pool([10, 20, 5], [10, 20, 5], sm="PRAW", method="Inverse", method_tau="DL")
    ref = META["all_full PRAW DL classic"]
    assert r.q == 0 and r.h == 1.0 == ref["H"]
    assert r.h_ci == pytest.approx((ref["lower_H"], ref["upper_H"]), abs=1e-12)


def test_metafor_h2_is_one_over_one_minus_i2():
    """metafor: rma(measure = "PLO", xi = c(10,9,20,9,11), ni = c(10,10,20,14,11), method = "REML")
    -> H2 = 1.957498404632, I2 = 48.914390038126 (%): H^2 = 1/(1 - I^2), not Q/df."""
    r = pool([10, 9, 20, 9, 11], [10, 10, 20, 14, 11], sm="PLOGIT", method_tau="REML", convention="metafor")
    assert r.h**2 == pytest.approx(1.957498404632, abs=1e-9)
    assert 100 * r.i2 == pytest.approx(48.914390038126, abs=1e-9)
    assert r.h**2 != pytest.approx(r.q / r.q_df, rel=1e-3)


def test_i2_interval_at_k2_when_q_exceeds_k():
    """meta 8.3: metaprop(c(5, 116), c(119, 170), method = "Inverse") -> I^2 98.4% [96.6%; 99.3%]."""
    ref = META["k2 PLOGIT REML classic"]
    r = pool([5, 116], [119, 170], method="Inverse")
    assert r.i2_ci == pytest.approx((ref["lower_I2"], ref["upper_I2"]), abs=1e-12)
    assert [round(100 * v, 1) for v in r.i2_ci] == [96.6, 99.3]


def test_k1_under_metafor_convention_is_metafors():
    """metafor: rma(measure = "PLO", xi = 7, ni = 20) -> tau2 = 0, I2 = 0, H2 = 1;
    predict(): pi.lb = ci.lb = -1.537884496738, pi.ub = 0.299806079925."""
    r = pool([7], [20], convention="metafor")
    assert (r.tau2, r.i2, r.h) == (0.0, 0.0, 1.0)
    assert r.pi == pytest.approx((-1.537884496738, 0.299806079925), abs=1e-9)
    assert r.pi == (r.random.lower, r.random.upper)


def test_hartung_knapp_with_identical_estimates():
    """metafor: rma(measure = "PLO", xi = c(2, 4, 6), ni = c(10, 20, 30), test = "knha") ->
    b = -1.386294361120, se = 0, pval = 0, CI = [b, b]."""
    r = pool([2, 4, 6], [10, 20, 30], method_tau="REML", hakn=True, convention="metafor")
    assert r.random.te == pytest.approx(-1.386294361120, abs=1e-12)
    # the estimates agree to rounding (logit(2/10) vs logit(4/20)): SE 1.6e-16 here, 0 in metafor
    assert r.random.se == pytest.approx(0.0, abs=1e-15) and r.random.pvalue == pytest.approx(0.0, abs=1e-15)
    assert (r.random.lower, r.random.upper) == pytest.approx((r.random.te,) * 2, abs=1e-14)


@pytest.mark.parametrize("sm, what", [("PRAW", "variance 0"), ("PLOGIT", "an infinite value")])
def test_incr_zero_with_a_zero_event_study_is_refused(sm, what):
    """Without a correction a 0-event study has variance 0 (PRAW: infinite weight, the pooled
    value collapses onto it) or an infinite logit; metaprop says so instead of 2.7e-14."""
    with pytest.raises(MetapropError, match=f"study 1 .*{what}.*incr > 0"):
        pool([0, 3, 5], [10, 12, 15], sm=sm, method="Inverse", incr=0)


def test_huge_totals_are_refused_not_overflowed():
    with pytest.raises(MetapropError, match="total = 1e\\+20 is too large"):
        pool([5, 10**19], [10, 10**20], method="Inverse")


def test_two_dimensional_input_is_refused():
    with pytest.raises(MetapropError, match="one-dimensional"):
        pool([[1, 2], [3, 4]], [[5, 6], [7, 8]])


def test_cumulative_rejects_fractional_events_like_pool():
    t = pd.DataFrame({"events": [1.5, 3], "total": [10, 12], "year": [2001, 2002]})
    with pytest.raises(MetapropError, match="1.5 is not a whole number"):
        pool(t["events"], t["total"])
    out = cumulative(t, "year")  # before: read as 1 event and pooled
    assert out["note"].str.contains("1.5 is not a whole number").all()
    assert "estimate" not in out or out["estimate"].isna().all()


def test_egger_refused_when_the_regression_is_undefined():
    """Equal n under PAS: every SE is 1/sqrt(4n), the regressor is constant (before: a traceback
    at n = 10, a number with SE 6e7 at n = 20)."""
    from metaprop.engine.sensitivity import egger

    for n in (10, 20):
        with pytest.raises(MetapropError, match="same standard error"):
            egger([2, 5, 7, 3], [n] * 4, sm="PAS")


def test_egger_refused_on_continuity_corrected_studies():
    """The 2018 weaning counts: 3 of 5 studies at 100%, whose corrected logits and SEs both
    follow n; before, p = 0.001 was shown (the sensitivity page: tests/test_tables.py)."""
    from metaprop.engine.sensitivity import egger

    with pytest.raises(MetapropError, match="3 of 5 studies have 0% or 100% events"):
        egger([10, 9, 20, 9, 11], [10, 10, 20, 14, 11])


def test_identical_studies_have_q_zero_not_a_rounding_residue():
    """Three studies 0/8: logit(0.5/8.5) is not exactly representable, and Q computed from centred
    sums was -4.4e-47, which made H = sqrt(Q/df) raise. Q is a sum of squares: exactly 0 here, as
    R meta prints it (Q = 0.00, I^2 = 0%, tau^2 = 0)."""
    r = pool([0, 0, 0], [8, 8, 8], sm="PLOGIT", method="Inverse", method_tau="REML")
    assert r.q == 0.0 and r.i2 == 0.0 and r.h == 1.0 and r.tau2 == 0.0
