"""The sensitivity explorer's build-time data (metaprop.review.explorer): every subset, the same
numbers as the static pages for the same studies, and files small enough to load on a phone."""

from __future__ import annotations

import json

import pytest

from metaprop.review.data import load
from metaprop.review.explorer import EXPLORER_METHODS, explorer_data
from metaprop.review.headline import headline
from metaprop.review.outputs import fit_sets

from conftest import ROOT


@pytest.fixture(scope="module")
def data():
    return load(ROOT / "data")


@pytest.fixture(scope="module")
def died(data):
    return explorer_data(data, "died_followup")


def test_every_subset_of_two_or_more_is_there(died):
    k = len(died["studies"])
    # 2^k subsets minus the empty set and the k single studies (5 candidates: 26)
    assert len(died["results"]) == 2**k - 1 - k == 26
    assert all(set(r) == set(EXPLORER_METHODS) for r in died["results"].values())
    assert all(bin(int(m)).count("1") == r["Bayes"]["k"] for m, r in died["results"].items())


def test_primary_subset_equals_the_static_pages(data, died):
    mask = died["default"]["mask"]
    ids = {s["id"] for i, s in enumerate(died["studies"]) if mask >> i & 1}
    counts = data.counts("died_followup", "primary")
    assert ids == set(counts["study_id"])
    row = died["results"][str(mask)]
    b = headline(data, "died_followup", counts).bayes
    assert row["Bayes"]["est"] == round(b.p_mean.median, 6) and row["Bayes"]["piu"] == round(b.p_new.upper, 6)
    glmm = fit_sets(data)[("died_followup", "primary")].result
    assert row["GLMM"]["est"] == round(glmm.back("random")[0], 6)
    assert row["GLMM"]["lo"] == round(glmm.back("random")[1], 6)


def test_subsets_the_headline_would_not_pool_carry_a_note(data):
    e = explorer_data(data, "alive_12mo")
    labels = [s["id"] for s in e["studies"]]
    mask = sum(1 << labels.index(i) for i in ("herweg2007", "james2006"))
    assert "fewer than 3 studies" in e["results"][str(mask)]["Bayes"]["note"]


def test_files_are_small_and_deterministic(site_build):
    sizes = {p.name: p.stat().st_size for p in (ROOT / "results").glob("explorer_*.json")}
    assert len(sizes) == 4 and max(sizes.values()) < 300_000
    text = (ROOT / "results" / "explorer_died_followup.json").read_text()
    assert json.loads(text)["results"] == explorer_data(load(ROOT / "data"), "died_followup")["results"]
