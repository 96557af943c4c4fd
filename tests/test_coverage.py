"""The coverage study behind the headline model: the committed table is complete, came from the
committed script (its first replications re-run here give the same intervals), and the protocol's
rule applied to it chooses the prior the protocol uses."""

from __future__ import annotations

import importlib.util
import json

import pytest

from metaprop.review.protocol import BAYES, COVERAGE_CANDIDATES, COVERAGE_RULE, METHODS
from metaprop.site.coverage import choose, coverage_by_method, load_coverage

from conftest import ROOT

SIM = ROOT / "analysis" / "simulation"


def _script():
    spec = importlib.util.spec_from_file_location("coverage_study", SIM / "coverage.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_is_complete():
    df = load_coverage(ROOT)
    meta = json.loads((SIM / "coverage.json").read_text())
    study = _script()
    assert len(df) == len(study.scenarios()) * len(study.METHODS) == 48 * 5
    assert set(df["method"]) == set(study.METHODS) == set(COVERAGE_CANDIDATES)
    assert (df["reps"] == meta["reps"]).all() and meta["reps"] >= 500
    assert df["coverage_mean"].between(0, 100).all() and (df["median_width"] > 0).all()


def test_first_replications_are_reproduced_by_the_script():
    study = _script()
    meta = json.loads((SIM / "coverage.json").read_text())
    scenario = study.scenarios()[0]
    rows = study.run_scenario((scenario, study.CHECK_REPS))
    assert len(rows) == len(meta["check"])
    # the table was run (2026-12-04) by this code; the check rows keep 12 decimals
    for got, want in zip(rows, meta["check"], strict=True):
        assert (got["rep"], got["method"], got["cover_mean"], got["pooled"]) == (
            want["rep"], want["method"], want["cover_mean"], want["pooled"])
        assert got["lower"] == pytest.approx(want["lower"], abs=1e-11)
        assert got["upper"] == pytest.approx(want["upper"], abs=1e-11)


def test_rule_chooses_the_protocols_prior():
    best, why = choose(load_coverage(ROOT), COVERAGE_RULE["min_average"])
    chosen = METHODS[best]
    assert chosen.engine == "bayes", f"the rule chose a non-Bayesian method: {why}"
    assert chosen.options == BAYES, why


def test_table_scores_the_sites_procedure():
    """Each replication records whether the headline rules would pool it; per setting the share
    pooled is the same for every method (the rules read the data, not the method), and coverage is
    also given among the pooled reviews. Reviews of 3 studies near 100% are the ones the rules pool
    least (every study at 100% happens most there); where all are pooled the two coverages agree."""
    df = load_coverage(ROOT)
    assert {"pooled_share", "coverage_mean_pooled"} <= set(df.columns)
    assert (df.groupby("scenario")["pooled_share"].nunique() == 1).all()
    share = df.groupby(["k", "p_median"])["pooled_share"].mean()
    assert share.idxmin() == (3, 0.98) and share.min() < 90 and df["pooled_share"].between(0, 100).all()
    full = df[df["pooled_share"] == 100]
    assert (full["coverage_mean_pooled"] - full["coverage_mean"]).abs().max() < 1e-9
    # the headline model, among the reviews the site pools, over all settings
    by = coverage_by_method(df)
    assert by.loc["Bayes-HN1.0", "coverage_pooled"] > by.loc["Bayes-HN1.0", "coverage_mean"]
