"""Shared tolerances and reference fixtures.

Tolerances by kind of quantity (:data:`TOLERANCES`, :data:`AGREEMENT`), each about 10 times the
worst difference observed against the R reference values, which is written beside it. Where R's
own stopping rule limits the agreement (metafor's Fisher scoring for ML, lme4's optimiser), the
tolerance is that rule's, and the worst observed difference shows how close it comes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REF_DIR = Path(__file__).resolve().parent / "reference"
#: data/ frozen at version 1.0.0: exact values are asserted on this, never on the live data/
FROZEN_DATA = Path(__file__).resolve().parent / "fixtures" / "data-1.0.0"

#: kind -> (absolute tolerance, worst difference observed against metafor/R; measured 2026-12-04 by
#: recording every comparison of tests/test_{pooling_meta,pooling_metafor,glmm,sensitivity,cli,solvers}.py)
TOLERANCES = {
    "closed_form": (5e-12, 5.0e-13),  # transforms, study CIs, Q, common effect
    "DL": (1e-12, 5.7e-14),           # closed form
    "PM": (1e-11, 1.3e-12),           # a well-conditioned root
    "glm": (5e-9, 5.0e-10),           # R glm()'s iterates: the GLMM's common-effect fit and LRT Q
    "REML": (2.5e-7, 2.5e-8),         # metafor's Fisher scoring, repeated step by step
    "ML": (1e-5, 4.3e-6),             # metafor stops Fisher scoring at a change of 1e-5 in tau^2
    "GLMM": (1e-4, 1.95e-4),          # lme4's optimiser; used as abs and rel: 1.95e-4 on tau^2 = 3.88
}
TOL = {kind: tol for kind, (tol, _) in TOLERANCES.items()}

# Agreement with R meta 8.3 itself (tests/reference/meta_reference.json), by what limits it:
# closed forms to rounding; tau^2 by the same algorithm and stopping rule as metafor, and
# everything computed from it; R's glm() (common-effect GLMM, Wald Q of the saturated model),
# whose iterates metaprop repeats; lme4's GLMM, whose optimiser stops at its own tolerance.
# Relative to max(1, |value|); worst observed beside each (tests/test_meta_reference.py, 2026-12-04).
AGREEMENT = {"closed_form": 1e-12,     # worst 7.3e-14 (Q, PFT)
             "same_algorithm": 5e-12,  # worst 3.3e-13 (upper limit of tau^2, PAS)
             "glm": 6e-7,              # worst 5.9e-8 (Wald Q of the saturated model)
             "lme4": 1e-5}             # lme4's stopping rule; on flat likelihoods 5e-4 (worst 3.6e-4)
# quantity (R meta's name) -> what limits its agreement, for inverse-variance and GLMM fits
QUANTITY_IV = dict.fromkeys(
    ["TE", "seTE", "lower", "upper", "study_p_lower", "study_p_upper", "TE_common", "seTE_common",
     "lower_common", "upper_common", "p_common", "Q", "df_Q", "pval_Q", "H", "lower_H", "upper_H",
     "I2", "lower_I2", "upper_I2"], "closed_form") | dict.fromkeys(
    ["TE_random", "seTE_random", "lower_random", "upper_random", "p_random", "lower_predict",
     "upper_predict", "p_predict", "tau2", "tau", "w_common", "w_random",
     "lower_tau2", "upper_tau2", "lower_tau", "upper_tau"], "same_algorithm")
QUANTITY_GLMM = dict.fromkeys(
    ["TE", "seTE", "lower", "upper", "study_p_lower", "study_p_upper"], "closed_form") | dict.fromkeys(
    ["TE_common", "seTE_common", "lower_common", "upper_common", "p_common", "Q", "pval_Q", "H",
     "lower_H", "upper_H", "I2", "lower_I2", "upper_I2"], "glm") | dict.fromkeys(
    ["TE_random", "seTE_random", "lower_random", "upper_random", "p_random", "lower_predict",
     "upper_predict", "p_predict", "tau2", "tau"], "lme4")


def load_json(name: str) -> dict:
    return json.loads((REF_DIR / name).read_text())


@pytest.fixture(scope="session")
def r_ref() -> dict:
    return load_json("r_reference.json")


@pytest.fixture(scope="session")
def mf_ref() -> dict:
    return load_json("metafor_reference.json")


@pytest.fixture()
def run_cli(capsys):
    """Run ``metaprop`` in-process; return (exit code, stdout, stderr)."""
    from metaprop.cli import main

    def run(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


PYTHON = sys.executable


# The engine, data and CLI tests (and the docstring examples): `make test-quick` runs these alone.
CORE_FILES = {"test_pooling_meta.py", "test_glmm_profile.py", "test_bayes.py",
              "test_pooling_metafor.py", "test_glmm.py", "test_solvers.py",
              "test_meta_reference.py", "test_edges.py", "test_sensitivity.py", "test_cli.py",
              "test_validate.py", "test_data.py", "test_surveil.py", "test_prisma.py", "test_architecture.py",
              "test_certainty.py"}


# Files by their share of `make test` on a fresh clone (measured 2026-12-04: site 91 s, Bayes 50,
# explorer 28, drill 26, solvers 15, hostile 14, publishing 8, outputs 8), longest
# first: with `--dist loadfile --no-loadscope-reorder` (Makefile) xdist hands out whole files in
# collection order, so the two workers' loads end together (longest-processing-time first)
# instead of one worker finishing a long file while the other idles.
LONG_FILES = ("test_site.py", "test_bayes.py", "test_explorer.py", "test_drill.py", "test_solvers.py",
              "test_hostile.py", "test_publishing.py", "test_outputs.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))  # stable: order within a file kept
    for item in items:
        if item.path.name in CORE_FILES or item.path.suffix == ".py" and "R-free-core" in item.path.parts:
            item.add_marker(pytest.mark.core)


@pytest.fixture(scope="session")
def site_build():
    """The site's analysis and results/ folder, built once per session (and cached on disk by
    data and code: metaprop.pipeline.load_build); page and output tests share it."""
    from filelock import FileLock

    from metaprop.pipeline import load_build

    # `make test` runs in two processes (pytest-xdist): one builds, the other waits, then loads the
    # cache the first wrote (load_build's key matches), so results/ is never written twice at once
    (ROOT / "build").mkdir(exist_ok=True)
    with FileLock(ROOT / "build" / ".site_build.lock"):
        return load_build(ROOT)


@pytest.fixture(scope="session")
def frozen_data():
    """The frozen data (:data:`FROZEN_DATA`), loaded and validated."""
    from metaprop.review.data import load

    return load(FROZEN_DATA)


@pytest.fixture(scope="session")
def frozen_pages(tmp_path_factory, frozen_data):
    """The pages' functions on the frozen data's analysis, without writing results/ or drawing
    figures (a few seconds, where building the whole site took twenty): for tests of sentences and
    tables."""
    from metaprop.review.outputs import analyse
    from metaprop.site.context import Build
    from metaprop.site.pages import Site

    return Site(Build(tmp_path_factory.mktemp("frozen-pages"), frozen_data, analyse(frozen_data)))


@pytest.fixture()
def server():
    """A local E-utilities stand-in (:class:`stand_ins.StandInServer`) per call, answering with the
    recorded esearch and esummary unless told otherwise; all shut down after the test."""
    from stand_ins import StandInServer

    servers = []

    def make(esearch=(("json", "esearch.json"),), esummary=(("json", "esummary.json"),)):
        s = StandInServer({"esearch.fcgi": list(esearch), "esummary.fcgi": list(esummary)})
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()
