"""data/: loading API, published anchors, and the 2018 reproduction read from the data (not hard-coded).

Exact values on the frozen data (tests/fixtures/data-1.0.0); the live data/ only for what holds for
any valid data."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from metaprop.review.analyses import reproduce
from metaprop.review.data import load
from metaprop.review.protocol import REPRODUCTIONS

from conftest import FROZEN_DATA, ROOT

DATA = ROOT / "data"


@pytest.fixture(scope="module")
def data():
    return load(FROZEN_DATA)


@pytest.fixture(scope="module")
def live():
    return load(DATA)


def test_hernandez2018_weaning_reproduced_from_data(data):
    """Hernandez et al. 2018: weaning 93% (86-100); rebuilt as 93.45% (86.19 to 100.71)."""
    rep = next(r for r in REPRODUCTIONS if (r.source, r.outcome) == ("hernandez2018", "weaned"))
    res = reproduce(data, rep)
    assert res.k == 5 and res.n_total == 65
    assert [round(100 * v, 2) for v in res.back()] == [93.45, 86.19, 100.71]
    assert round(res.tau2, 6) == 0.002608 and round(100 * res.i2, 1) == 40.0 and round(res.q, 3) == 6.670
    pub = data.published.set_index(["source", "outcome"]).loc[("hernandez2018", "weaned")]
    assert round(100 * res.back()[0]) == pub["estimate"] == 93
    assert round(100 * res.back()[1]) == pub["ci_lower"] == 86


def test_typed_frames(data):
    assert data.studies["year"].dtype == "Int64"
    assert data.studies["retracted"].dtype == "boolean"
    assert data.outcomes["events"].dtype == "Int64"
    assert data.studies["lvef_mean"].dtype == "Float64"
    herweg = data.studies.set_index("study_id").loc["herweg2007"]
    assert (herweg["age_mean"], herweg["age_sd"], herweg["qrs_mean"]) == (55, 13, 153)
    assert herweg["follow_up_mean"] == 1088 and herweg["follow_up_unit"] == "days"
    assert data.studies.set_index("study_id").loc["nakajima2013", "retracted"]


def test_version_follows_changelog(live):
    """Live data: the newest changelog entry names the data version, and the data's date is its date."""
    text = (DATA / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d\d-\d\d)", text, re.M)
    assert newest and newest.group(1) == live.version and newest.group(2) == live.created


def test_every_count_has_source_and_location(live):
    oc = live.outcomes
    assert oc[["source", "location", "derivation"]].notna().all().all()


def test_unreported_values_stay_empty(data):
    """The extraction left 12-month survival of cowburn2005 unreported: no row may invent it."""
    oc = data.outcomes
    rows = oc[(oc["study_id"] == "cowburn2005") & (oc["outcome"] == "alive_12mo")]
    assert rows.empty
    assert pd.isna(data.studies.set_index("study_id").loc["cowburn2005", "age_mean"])


def test_populations_follow_protocol(data):
    w = data.counts("weaned")
    assert list(w["study_id"]) == ["cowburn2005", "herweg2007", "milliez2008", "hara2011", "sokal2014"]
    assert "nakajima2013" in set(data.counts("weaned", "with_retracted")["study_id"])
    assert "pmid21664704" in set(data.counts("weaned", "with_broader")["study_id"])
    assert set(data.missing("weaned")["study_id"]) == {"konstantino2006", "pmid21111981", "adelstein2012",
                                                       "imamura2015"}


def test_datapackage_has_units_and_keys():
    dp = json.loads((DATA / "datapackage.json").read_text())
    st = next(r for r in dp["resources"] if r["name"] == "studies")
    units = {f["name"]: f.get("unit") for f in st["schema"]["fields"]}
    assert units["age_mean"] == "years" and units["qrs_mean"] == "ms" and units["lvef_mean"] == "percent"
    oc = next(r for r in dp["resources"] if r["name"] == "outcomes")
    assert oc["schema"]["primaryKey"] == ["study_id", "outcome"]
    assert oc["schema"]["foreignKeys"][0]["reference"]["resource"] == "studies"


def test_contributing_states_the_version_rules_of_the_code():
    """CONTRIBUTING.md's table is the code's rules (metaprop.review.versioning.VERSION_RULES), in
    order, and its steps name exactly what a contributor edits."""
    from metaprop.review.versioning import VERSION_RULES

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    rows = re.findall(r"^   \| (MAJOR|MINOR|PATCH) \| (.+) \|$", text, re.M)
    assert [(level.lower(), what) for level, what in rows] == list(VERSION_RULES)
    assert "`## VERSION — YYYY-MM-DD`" in text and "metaprop validate data --base origin/main" in text
    assert "created" not in json.loads((DATA / "datapackage.json").read_text())
