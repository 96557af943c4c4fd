"""Sensitivity analyses vs R meta's printout and metafor (leave1out, cumul, subgroups, regtest)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metaprop.engine.sensitivity import cumulative, egger, leave_one_out, method_grid, subgroup

from conftest import TOL, load_json

MF = load_json("metafor_reference.json")
DATASETS = [d for d in MF if d != "provenance"]
SMS = ["PRAW", "PLOGIT", "PAS", "PFT"]
MF_OPTS = {"method": "Inverse", "method_tau": "REML", "convention": "metafor"}


def test_leave_one_out_matches_r_meta_printout():
    """R meta 9.0: metaprop(c(1,4,8,12,20,30), rep(100,6), method = "Inverse") |> metainf(pooled = "common")."""
    d = leave_one_out([1, 4, 8, 12, 20, 30], [100] * 6, pooled="common", sm="PLOGIT", method="Inverse")
    rows = d.set_index("omitted")
    assert [round(v, 4) for v in rows.loc["1", ["estimate", "ci_lower", "ci_upper"]]] == [0.1748, 0.1409, 0.2148]
    assert [round(v, 4) for v in rows.loc["6", ["estimate", "ci_lower", "ci_upper"]]] == [0.1180, 0.0890, 0.1549]
    assert [round(v, 4) for v in rows.loc["None", ["estimate", "ci_lower", "ci_upper"]]] == [0.1676, 0.1352,
                                                                                            0.2061]
    assert round(rows.loc["None", "tau2"], 4) == 1.0806 and round(rows.loc["None", "i2"], 1) == 86.8


@pytest.mark.parametrize("ds", [d for d in DATASETS if "leave1out_REML" in MF[d]["PLOGIT"]])
@pytest.mark.parametrize("sm", SMS)
def test_leave_one_out_matches_metafor(ds, sm):
    d = MF[ds]
    ref = d[sm]["leave1out_REML"]
    out = leave_one_out(d["x"], d["n"], sm=sm, **MF_OPTS).iloc[:-1]
    np.testing.assert_allclose(out["te"], ref["estimate"], atol=TOL["REML"])
    np.testing.assert_allclose(out["se"], ref["se"], atol=TOL["REML"])
    np.testing.assert_allclose(out["tau2"], ref["tau2"], atol=TOL["REML"])
    np.testing.assert_allclose(out["q"], ref["Q"], atol=TOL["closed_form"])


@pytest.mark.parametrize("ds", [d for d in DATASETS if "cumul_REML" in MF[d]["PLOGIT"]])
@pytest.mark.parametrize("sm", SMS)
def test_cumulative_matches_metafor(ds, sm):
    d = MF[ds]
    ref = d[sm]["cumul_REML"]
    table = pd.DataFrame({"events": d["x"], "total": d["n"], "year": d["year"]})
    out = cumulative(table, by="year", sm=sm, **MF_OPTS)
    assert list(out["year"]) == sorted(d["year"])
    # metafor's first cumulative row is a single study: estimate and se are that study's
    np.testing.assert_allclose(out["te"], ref["estimate"], atol=TOL["REML"])
    np.testing.assert_allclose(out["se"], ref["se"], atol=TOL["REML"])
    np.testing.assert_allclose(out["tau2"].iloc[1:], ref["tau2"][1:], atol=TOL["REML"])


@pytest.mark.parametrize("ds", [d for d in DATASETS if "subgroup_DL" in MF[d]["PLOGIT"]])
@pytest.mark.parametrize("sm", SMS)
def test_subgroup_matches_metafor(ds, sm):
    d = MF[ds]
    ref = d[sm]["subgroup_DL"]
    table = pd.DataFrame({"events": d["x"], "total": d["n"], "group": d["group"]})
    out = subgroup(table, by="group", sm=sm, method="Inverse", method_tau="DL", convention="metafor")
    ref_groups = ref["groups"] if isinstance(ref["groups"], list) else [ref["groups"]]
    order = [ref_groups.index(g) for g in out["subgroup"]]
    np.testing.assert_allclose(out["te"], np.array(ref["estimate"])[order], atol=TOL["DL"])
    np.testing.assert_allclose(out["se"], np.array(ref["se"])[order], atol=TOL["DL"])
    test = out.attrs["test"]
    assert test["q_between"] == pytest.approx(ref["Q_between"], abs=TOL["DL"])
    assert test["df"] == ref["df"]
    assert test["p_value"] == pytest.approx(ref["p_between"], abs=TOL["DL"])


@pytest.mark.parametrize("ds", [d for d in DATASETS if "egger" in MF[d]["PLOGIT"]])
@pytest.mark.parametrize("sm", SMS)
def test_egger_matches_metafor_regtest(ds, sm):
    d = MF[ds]
    ref = d[sm]["egger"]
    out = egger(d["x"], d["n"], sm=sm, convention="metafor", allow_corrected=True).iloc[0]
    assert out["statistic"] == pytest.approx(ref["statistic"], abs=TOL["closed_form"])
    assert out["p_value"] == pytest.approx(ref["pvalue"], abs=TOL["closed_form"])
    assert out["df"] == ref["df"]
    assert out["limit_estimate"] == pytest.approx(ref["intercept_limit"], abs=TOL["closed_form"])
    assert ("Fewer than 10 studies" in out["note"]) == (out["k"] < 10)


def test_method_grid_is_complete_and_consistent():
    d = MF["strong_het"]
    g = method_grid(d["x"], d["n"])
    assert len(g) == 1 + 4 * 4 * 2
    assert set(g["sm"]) == {"PLOGIT", "PFT", "PAS", "PRAW"}
    row = g[(g["sm"] == "PLOGIT") & (g["method_tau"] == "DL") & (g["ci"] == "z") & (g["method"] == "Inverse")]
    assert row["tau2"].iloc[0] == pytest.approx(MF["strong_het"]["PLOGIT"]["random_DL"]["tau2"], abs=1e-6)
    glmm = g[g["method"] == "GLMM"].iloc[0]
    assert glmm["tau2"] == pytest.approx(MF["strong_het"]["GLMM"]["tau2"], rel=1e-4)


def test_method_grid_keeps_rows_that_cannot_be_computed():
    """Every study 100%: R meta 8.3 metaprop(c(10, 20, 5), c(10, 20, 5)) shows glm()'s last
    iterate, 1.0000 [0.0000; 1.0000] (tests/reference/meta_reference.json, "all_full default");
    the row keeps that with the reason; PFT with k = 3 and no heterogeneity still pools."""
    g = method_grid([10, 11, 20], [10, 11, 20])
    glmm = g[g["method"] == "GLMM"].iloc[0]
    assert (round(glmm["estimate"], 4), round(glmm["ci_lower"], 4), round(glmm["ci_upper"], 4)) == (1.0, 0.0, 1.0)
    assert "no finite estimate" in glmm["note"]


def test_sensitivity_cli(tmp_path, run_cli):
    f = tmp_path / "s.csv"
    f.write_text("study,events,total,year,group\nA,10,10,2005,a\nB,9,10,2007,a\nC,20,20,2008,b\n"
                 "D,9,14,2011,b\nE,11,11,2014,b\n")
    for kind in ("leave-one-out", "cumulative", "grid"):
        code, out, err = run_cli("sensitivity", f, "--kind", kind, "--json")
        assert code == 0, err
        assert json.loads(out)["rows"]
    # three of the five studies are at 100%: Egger's test is refused, with the reason, exit 2
    code, out, err = run_cli("sensitivity", f, "--kind", "egger", "--json")
    assert code == 2 and "3 of 5 studies have 0% or 100% events" in err and err.count("\n") <= 2
    code, out, err = run_cli("sensitivity", f, "--kind", "subgroup", "--by", "group", "--json", "--method", "Inverse")
    assert code == 0, err
    assert json.loads(out)["test"]["df"] == 1
    code, out, err = run_cli("sensitivity", f, "--kind", "subgroup")
    assert code == 2 and "--by" in err
    code, out, err = run_cli("pool", f, "--method", "GLMM", "--json")
    assert code == 0 and json.loads(out)["method"] == "GLMM"
