"""Command line: `metaprop pool` output, JSON keys, and located one-line errors with exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import TOL, load_json

REF = load_json("r_reference.json")["pritz1997"]


def test_pool_json_matches_reference(run_cli):
    x = ",".join(map(str, REF["x"]))
    n = ",".join(map(str, REF["n"]))
    code, out, err = run_cli("pool", "--events", x, "--total", n, "--sm", "PLOGIT",
                             "--method", "Inverse", "--method-tau", "REML", "--json")
    assert code == 0, err
    d = json.loads(out)
    rr = REF["PLOGIT"]["random_REML"]
    for key in ("k", "sm", "method", "method_tau", "estimate", "ci_lower", "ci_upper", "pi_lower",
                "pi_upper", "tau2", "i2", "q", "q_df", "q_pvalue", "studies"):
        assert key in d
    assert d["k"] == 14 and d["sm"] == "PLOGIT" and d["method_tau"] == "REML"
    assert d["estimate"] == pytest.approx(rr["p"], abs=TOL["REML"])
    assert (d["ci_lower"], d["ci_upper"]) == pytest.approx((rr["p_lb"], rr["p_ub"]), abs=TOL["REML"])
    assert (d["pi_lower"], d["pi_upper"]) == pytest.approx(tuple(rr["pi_k1_p"]), abs=TOL["REML"])
    assert d["i2"] == pytest.approx(100 * REF["PLOGIT"]["I2_Q"], abs=1e-4)
    assert d["q"] == pytest.approx(REF["PLOGIT"]["Q"], abs=1e-6)
    s0 = d["studies"][0]
    assert (s0["events"], s0["total"]) == (16, 17)
    assert s0["ci_lower"] == pytest.approx(REF["study"]["cp_lb"][0], abs=1e-6)
    assert s0["weight_random"] == pytest.approx(rr["weights_pct"][0], abs=1e-3)


def test_pool_csv_with_bom_and_crlf(tmp_path, run_cli):
    f = tmp_path / "w.csv"
    f.write_bytes(b"\xef\xbb\xbfstudy,events,total\r\nA,10,10\r\nB,9,10\r\nC,20,20\r\nD,9,14\r\nE,11,11\r\n")
    code, out, err = run_cli("pool", f, "--sm", "PRAW", "--method-tau", "DL",
                             "--convention", "metafor", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert round(100 * d["estimate"], 2) == 93.45  # Hernandez 2018 weaning
    assert [s["study"] for s in d["studies"]] == list("ABCDE")


def test_text_print_has_r_meta_sections(run_cli):
    code, out, _ = run_cli("pool", "--events", "1,4,8,12,20,30", "--total", "100,100,100,100,100,100",
                           "--method", "Inverse")
    assert code == 0
    for text in ("Number of studies: k = 6", "Common effect model", "Random effects model",
                 "Prediction interval", "Quantifying heterogeneity (with 95%-CIs):", "Test of heterogeneity:",
                 "Details of meta-analysis methods:", "Restricted maximum-likelihood estimator"):
        assert text in out
    # R meta 9.0 printout for these data: common effect 0.1676 [0.1352; 0.2061], tau^2 1.0806, I^2 86.8%
    assert re.search(r"Common effect model\s+0\.1676\s+\[0\.1352; 0\.2061\]", out)
    assert "tau^2 = 1.0806" in out and "I^2 = 86.8%" in out


@pytest.mark.parametrize("args, message", [
    (["--events", "5,3", "--total", "4,10"], "events = 5 > total = 4"),
    (["--events=-1,3", "--total", "4,10"], "negative"),
    (["--events", "1.5,3", "--total", "4,10"], "not a whole number"),
    (["--events", "1,3", "--total", "0,10"], "must be at least 1"),
    (["--events", "1,3,4", "--total", "4,10"], "differ in length"),
    (["--events", "1,x", "--total", "4,10"], "is not a number"),
    (["--events", "1", "--total", "4", "--sm", "PLOG"], "Invalid sm 'PLOG'"),
    (["--events", "1,2", "--total", "4,5", "--method-tau", "XX", "--method", "Inverse"],
     "Invalid method_tau"),
    (["/nonexistent/file.csv"], "cannot read file"),
])
def test_bad_input_one_line_exit_2(run_cli, args, message):
    code, out, err = run_cli("pool", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, message", [
    (b"events,total\n5,4\n", ":2:events: 5 events > 4 total"),
    (b"events,total\n1,4\nabc,4\n", ":3:events: 'abc' is not a number"),
    (b"events,n\n1,4\n", ":1: missing column(s) total"),
    (b"", "file is empty"),
    (b"events,total\n", "no studies (k = 0)"),
    (b"\x00\x01binary", "not a text CSV"),
    (b"events,total\n\xff\xfe,4\n", "not valid UTF-8"),
    (b"events,total\n1,4,7\n", ":2: row has 3 cells"),
    (b"events,total\n1,-4\n", ":2:total: -4 is negative"),
])
def test_bad_csv_located(tmp_path, run_cli, content, message):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    code, out, err = run_cli("pool", f)
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err


def test_k1_returns_study_with_note(run_cli):
    code, out, err = run_cli("pool", "--events", "9", "--total", "10", "--sm", "PRAW", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["k"] == 1 and d["estimate"] == pytest.approx(0.9)
    assert any("Only one study" in n for n in d["notes"])


def test_console_script_and_module_entry_points(tmp_path):
    """Whole-process smoke test: `python -m metaprop` and exit codes."""
    ok = subprocess.run([sys.executable, "-m", "metaprop", "pool", "--events", "10,9,20,9,11",
                         "--total", "10,10,20,14,11", "--sm", "PRAW", "--method-tau", "DL",
                         "--convention", "metafor", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert round(json.loads(ok.stdout)["ci_upper"], 4) == 1.0071
    bad = subprocess.run([sys.executable, "-m", "metaprop", "pool", "--events", "3", "--total", "2"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("metaprop: error:")
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("extra, method", [
    ([], "GLMM"),                                   # R meta's default for PLOGIT
    (["--method-tau", "ML"], "GLMM"),
    (["--method-tau", "DL"], "Inverse"),            # a moment estimator means inverse variance
    (["--hakn"], "Inverse"),
    (["--convention", "metafor"], "Inverse"),       # metafor's rma()
    (["--sm", "PFT"], "Inverse"),
])
def test_default_method(run_cli, extra, method):
    code, out, err = run_cli("pool", "--events", "4,9,12,3", "--total", "10,14,20,9", *extra, "--json")
    assert code == 0, err
    assert json.loads(out)["method"] == method


def test_metafor_convention_default_is_rma_reml(run_cli):
    """metafor: rma(measure = "PLO", xi, ni) uses REML; pritz1997 reference values."""
    code, out, _ = run_cli("pool", "--events", ",".join(map(str, REF["x"])), "--total", ",".join(map(str, REF["n"])),
                           "--convention", "metafor", "--json")
    d = json.loads(out)
    assert d["method"] == "Inverse" and d["method_tau"] == "REML"
    assert d["tau2"] == pytest.approx(REF["PLOGIT"]["random_REML"]["tau2"], abs=1e-5)


def test_pool_runs_the_headline_model(run_cli):
    """`metaprop pool --method Bayes`: the protocol's headline model by default (half-normal(1.0)),
    the keys results.json uses, and the same numbers as the engine; other priors by option."""
    from metaprop.engine.bayes import pool_bayes
    from metaprop.review.protocol import BAYES

    code, out, err = run_cli("pool", "--events", "10,9,20,9,11", "--total", "10,10,20,14,11", "--method", "Bayes",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    want = pool_bayes([10, 9, 20, 9, 11], [10, 10, 20, 14, 11], **BAYES)
    assert doc["prior"]["tau_scale"] == BAYES["tau_prior_scale"] == 1.0
    for key, iv in (("mean_proportion", want.p_mean), ("median_proportion", want.p_median),
                    ("new_study", want.p_new), ("mu", want.mu), ("tau", want.tau)):
        assert doc[key] == {"median": iv.median, "lower": iv.lower, "upper": iv.upper}
    assert round(100 * doc["mean_proportion"]["median"], 1) == 91.4  # the site's weaning headline (frozen data)
    code, out, _ = run_cli("pool", "--events", "10,9,20,9,11", "--total", "10,10,20,14,11", "--method", "Bayes",
                           "--tau-prior", "halfcauchy", "--tau-scale", "0.5", "--json")
    assert json.loads(out)["prior"]["text"] == "mu ~ N(0, 10^2), tau ~ half-Cauchy(0.5)"
    code, out, _ = run_cli("pool", "--events", "10,9,20,9,11", "--total", "10,10,20,14,11", "--method", "Bayes")
    assert code == 0 and "Mean proportion" in out and "tau ~ half-normal(1)" in out


def test_bayes_options_are_refused_where_they_do_not_apply(run_cli):
    code, _, err = run_cli("pool", "--events", "10,9", "--total", "10,10", "--tau-scale", "2")
    assert code == 2 and "apply to --method Bayes only" in err
    code, _, err = run_cli("pool", "--events", "10,9", "--total", "10,10", "--method", "Bayes", "--hakn")
    assert code == 2 and "--hakn does not apply" in err


def _readme_commands(path):
    import re

    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [ln.split("#")[0].strip() for b in blocks for ln in b.splitlines() if ln.startswith("metaprop ")]


def test_readme_and_examples_commands_run_as_written(tmp_path, run_cli, monkeypatch, server):
    """Every `metaprop ...` line of README.md and examples/README.md, run from the repository root
    (results/ into a temporary folder), exits 0; the CSV the examples read is in the repository."""
    import shlex

    from conftest import ROOT

    commands = _readme_commands(ROOT / "README.md") + _readme_commands(ROOT / "examples" / "README.md")
    assert len(commands) >= 10
    monkeypatch.chdir(ROOT)
    for line in commands:
        argv = shlex.split(line)[1:]
        if argv[0] == "results":
            argv = ["results", "--out", str(tmp_path / "results"), "--no-figures", "--no-explorer"]
        if argv[0] == "surveil":  # recorded E-utilities answers from a local stand-in, not the network
            argv = [*argv, "--eutils-url", server().url]
        code, out, err = run_cli(*argv)
        assert code == 0, (line, err)
        assert out.strip(), line


def test_every_argument_of_every_subcommand_has_help():
    import argparse

    from metaprop.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"metaprop {name}: {action.option_strings or action.dest} has no help"
