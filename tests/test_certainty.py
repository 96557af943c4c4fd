"""Certainty judged per domain from the data (review.protocol.CERTAINTY): risk of bias from the JBI
judgements weighted by patients, inconsistency from the heterogeneity test, imprecision and
indirectness from the counts; the line changes when the judgements change."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from metaprop.review.headline import certainty, heterogeneity_p, rob_share
from metaprop.review.protocol import CERTAINTY

COUNTS = pd.DataFrame({"study_id": ["a", "b", "c"], "total": [150, 40, 20], "events": [140, 36, 18],
                       "derivation": ["reported", "reported", "reported"]})
#: a fit whose 95% credible interval is 5 points wide: imprecision does not fire with 210 patients
NARROW = SimpleNamespace(p_mean=SimpleNamespace(lower=0.90, upper=0.95))


def _rob(yes_studies, items=CERTAINTY["rob_key_items"]):
    rows = [{"study_id": s, "item": i, "judgement": "yes" if s in yes_studies else "unclear"}
            for s in COUNTS["study_id"] for i in range(1, 11)]
    df = pd.DataFrame(rows)
    df.loc[~df["item"].isin(items), "judgement"] = "unclear"
    return df


def test_risk_of_bias_is_weighted_by_patients():
    # study a (150 of 210 patients) judged yes on the key items: 60 patients at risk, 29% < 50%
    assert rob_share(COUNTS, _rob({"a"})) == (60, 210)
    assert rob_share(COUNTS, _rob({"b", "c"})) == (150, 210)
    assert rob_share(COUNTS, None) == (210, 210)  # no judgements: every study unclear


def test_the_line_changes_when_the_judgements_change():
    without = certainty(COUNTS, None, NARROW)
    assert [d for d, _ in without.reasons] == ["risk of bias"] and without.level == "very low"
    assert "210 of 210 patients" in without.reasons[0][1]
    judged = certainty(COUNTS, _rob({"a", "b", "c"}), NARROW)
    assert judged.reasons == () and judged.level == CERTAINTY["start"] == "low"
    # one large study judged yes is enough (its 150 of 210 patients); the two small ones are not
    assert certainty(COUNTS, _rob({"a"}), NARROW).level == "low"
    assert certainty(COUNTS, _rob({"b", "c"}), NARROW).level == "very low"
    # a "no" on one key item puts the study at risk again
    rob = _rob({"a", "b", "c"})
    rob.loc[(rob["study_id"] == "a") & (rob["item"] == 4), "judgement"] = "no"
    assert certainty(COUNTS, rob, NARROW).reasons[0][0] == "risk of bias"


def test_inconsistency_comes_from_the_heterogeneity_test():
    rob = _rob({"a", "b", "c"})
    assert [d for d, _ in certainty(COUNTS, rob, NARROW, het_p=0.03).reasons] == ["inconsistency"]
    assert certainty(COUNTS, rob, NARROW, het_p=0.5).reasons == ()
    assert certainty(COUNTS, rob, NARROW, het_p=math.nan).reasons == ()  # not estimable: not judged
    # identical studies: LR = 0, p = 1; 1/10, 9/10, 5/10 differ beyond chance
    assert heterogeneity_p(np.array([5, 5, 5]), np.array([10, 10, 10])) == 1.0
    assert heterogeneity_p(np.array([1, 9, 5]), np.array([10, 10, 10])) < 0.01
    assert math.isnan(heterogeneity_p(np.array([10, 10]), np.array([10, 10])))  # every study at 100%


def test_imprecision_and_indirectness_from_the_counts():
    rob = _rob({"a", "b", "c"})
    small = COUNTS.assign(total=[50, 40, 20])
    assert [d for d, _ in certainty(small, rob, NARROW).reasons] == ["imprecision"]
    derived = COUNTS.assign(derivation=["derived", "reported", "reported"])
    got = certainty(derived, rob, NARROW)
    assert [d for d, _ in got.reasons] == ["indirectness"] and "150 of 210" in got.reasons[0][1]


@pytest.mark.parametrize("outcome", ["weaned", "died_followup"])
def test_the_sites_certainty_names_each_downgrade_with_its_reason(frozen_data, outcome):
    from metaprop.review.headline import headline

    h = headline(frozen_data, outcome, frozen_data.counts(outcome, "primary"))
    # the frozen data hold no judgements: risk of bias fires from the data, not by decree
    assert h.certainty.reasons[0][0] == "risk of bias" and "JBI items 1, 4, 5" in h.certainty.reasons[0][1]
    assert all(d in ("risk of bias", "imprecision", "inconsistency", "indirectness") for d, _ in h.certainty.reasons)
    if outcome == "died_followup":  # 50%, 45%, 36%: GLMM tau^2 = 0, LR p = 1: no inconsistency
        assert "inconsistency" not in [d for d, _ in h.certainty.reasons]
