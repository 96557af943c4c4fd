"""The sensitivity explorer's build-time data (metaprop.review.explorer): which subsets are pooled,
the same numbers as the static pages for the same studies, and files small enough for a phone.
Exact values on the frozen data (tests/fixtures); the live data only for invariants."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from metaprop.engine.bayes import pool_bayes
from metaprop.review.data import load
from metaprop.review.explorer import EXPLORER_METHODS, PRECOMPUTED, explorer_data, subset_key, subset_plan
from metaprop.review.outputs import fit_sets
from metaprop.review.protocol import BAYES, EXPLORER

from conftest import ROOT


@pytest.fixture(scope="module")
def died(frozen_data):
    return explorer_data(frozen_data, "died_followup")


def test_few_candidates_every_subset_of_two_or_more_is_there(died):
    k = len(died["studies"])
    # 2^k subsets minus the empty set and the k single studies (5 candidates: 26)
    assert died["precomputed"] == "all" and len(died["results"]) == 2**k - 1 - k == 26
    assert all(set(r) == set(PRECOMPUTED) == {"Bayes", "GLMM"} for r in died["results"].values())
    assert all(len(key.split("-")) == r["Bayes"]["k"] for key, r in died["results"].items())
    assert {m for m, v in died["methods"].items() if v["where"] == "browser"} == set(EXPLORER["in_browser"])
    assert set(died["methods"]) == set(EXPLORER_METHODS)


def test_primary_subset_equals_the_static_pages(frozen_data, died):
    idx = died["default"]["studies"]
    counts = frozen_data.counts("died_followup", "primary")
    assert {died["studies"][i]["id"] for i in idx} == set(counts["study_id"])
    row = died["results"][subset_key(idx)]
    # the headline does not pool deaths (no common horizon); the explorer's Bayesian row is the
    # headline model on the same studies all the same
    b = pool_bayes(counts["events"].to_numpy(int), counts["total"].to_numpy(int), **BAYES)
    assert row["Bayes"]["est"] == round(b.p_mean.median, 6) and row["Bayes"]["piu"] == round(b.p_new.upper, 6)
    glmm = fit_sets(frozen_data)[("died_followup", "primary")].result
    assert row["GLMM"]["est"] == round(glmm.back("random")[0], 6)
    assert row["GLMM"]["lo"] == round(glmm.back("random")[1], 6)
    # t(0.975, df) for df = 1 .. k - 1, for the browser's intervals: t(0.975, 1) = tan(0.475 pi)
    assert len(died["t975"]) == len(died["studies"]) - 1
    assert died["t975"][0] == pytest.approx(12.706204736174707, abs=1e-11)


def test_deaths_carry_the_no_horizon_note(died):
    assert all("own follow-up" in r["Bayes"]["note"] for r in died["results"].values() if "est" in r["Bayes"])


def test_subsets_the_headline_would_not_pool_carry_a_note(frozen_data):
    e = explorer_data(frozen_data, "alive_12mo")
    ids = [s["id"] for s in e["studies"]]
    key = subset_key([ids.index("herweg2007"), ids.index("james2006")])
    assert "fewer than 3 studies" in e["results"][key]["Bayes"]["note"]


def _candidates(k: int) -> pd.DataFrame:
    """k synthetic candidates: 3 of every 4 primary, every fifth from a broader population, the
    seventh retracted; every third count derived from a percentage."""
    inclusion = ["sensitivity_population" if i % 5 == 4 else "sensitivity_retracted" if i == 6 else "primary"
                 for i in range(k)]
    return pd.DataFrame({"study_id": [f"s{i}" for i in range(k)], "label": [f"Study {i}" for i in range(k)],
                         "year": [2000 + i for i in range(k)], "events": [9] * k, "total": [10] * k,
                         "inclusion": inclusion,
                         "derivation": ["derived_from_percent" if i % 3 == 2 else "reported" for i in range(k)]})


@pytest.mark.parametrize("k", [7, 8, 20, 40])
def test_subsets_pooled_at_build_time_grow_polynomially(k):
    cand = _candidates(k)
    scope, named = subset_plan(cand)
    primary = [i for i in range(k) if cand["inclusion"][i] == "primary"]
    keys = [subset_key(idx) for _, idx in named]
    assert len(keys) == len(set(keys))
    if k <= EXPLORER["all_subsets_max"]:
        assert scope == "all" and len(named) == 2**k - 1 - k
    else:
        # 4 analysis sets + 8 without derived counts + the primary set's leave-one-out and cumulative
        assert scope == "family" and len(named) <= 4 + 8 + k + k
    assert subset_key(primary) in keys and subset_key(range(k)) in keys
    for i in primary:  # every primary study left out of the primary set
        assert subset_key([j for j in primary if j != i]) in keys
    assert subset_key(primary[:2]) in keys  # cumulative by year: the first two primary studies
    no_pct = [i for i in primary if cand["derivation"][i] != "derived_from_percent"]
    assert subset_key(no_pct) in keys


def test_files_are_small_and_deterministic(site_build):
    """Live data: whatever the studies, the published JSON is what the engine computes now."""
    sizes = {p.name: p.stat().st_size for p in (ROOT / "results").glob("explorer_*.json")}
    assert len(sizes) == 4 and max(sizes.values()) < 300_000
    text = (ROOT / "results" / "explorer_died_followup.json").read_text()
    assert json.loads(text) == explorer_data(load(ROOT / "data"), "died_followup")
