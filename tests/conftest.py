"""Shared tolerances and reference fixtures.

Tolerances, one per quantity, absolute (reference values are O(1) on the analysis scale):
closed forms (transforms, study CIs, Q, common effect) agree with R to rounding (worst observed
~1e-13); DL and PM are closed form or a well-conditioned root (~1e-12); REML/ML in metafor stop
Fisher scoring at a change of 1e-5 in tau^2, so 1e-5; GLMM: lme4 stops its optimiser at a
relative deviance change of about 1e-7, giving differences up to ~2e-5 in tau^2 (worst observed
1.4e-5), so 1e-4 as the issue and the shared reference README state.
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

TOL = {"closed_form": 1e-6, "DL": 1e-6, "PM": 1e-6, "REML": 1e-5, "ML": 1e-5, "GLMM": 1e-4}

# Agreement with R meta 8.3 itself (tests/reference/meta_reference.json), by what limits it:
# closed forms to rounding; tau^2 by the same algorithm and stopping rule as metafor, and
# everything computed from it; R's glm() (common-effect GLMM, Wald Q of the saturated model),
# whose iterates metaprop repeats; lme4's GLMM, whose optimiser stops at its own tolerance.
AGREEMENT = {"closed_form": 1e-10, "same_algorithm": 1e-9, "glm": 1e-6, "lme4": 1e-5}
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
              "test_validate.py", "test_data.py"}


def pytest_collection_modifyitems(config, items):
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
def frozen_site(tmp_path_factory):
    """A :class:`metaprop.site.pages.Site` built from the frozen data in a temporary project folder
    (its results/ and build cache stay there), for tests of exact page sentences and tables."""
    import shutil

    from metaprop.pipeline import load_site

    root = tmp_path_factory.mktemp("frozen-site")
    shutil.copytree(FROZEN_DATA, root / "data")
    return load_site(root / "data")
