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

TOL = {"closed_form": 1e-6, "DL": 1e-6, "PM": 1e-6, "REML": 1e-5, "ML": 1e-5, "GLMM": 1e-4}


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
