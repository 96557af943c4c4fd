"""The committed R reference files are what their scripts write today (where R is installed).

Each script is run into a temporary file and the result compared with the committed JSON,
value by value: the reference files cannot drift from the code that claims to make them.
Skips, saying why, where R or a needed R package is absent (e.g. on GitHub's runners). Marker
``rref`` (23 s here): `make check-references` runs it; `make test` leaves it out.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REF_DIR

SCRIPTS = [("make_reference.R", "metafor_reference.json", ["metafor", "lme4", "jsonlite"]),
           ("make_meta_reference.R", "meta_reference.json", ["meta", "metafor", "lme4", "jsonlite"]),
           ("make_glmm_profile.R", "glmm_profile_reference.json", ["lme4", "jsonlite"]),
           ("make_bayesmeta_reference.R", "bayesmeta_reference.json", ["bayesmeta", "metafor", "jsonlite"])]


def r_has(packages) -> str | None:
    """None if Rscript and every package are there, else the reason to skip."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript not installed"
    wanted = ", ".join(f'"{p}"' for p in packages)
    code = f"q(status = !all(sapply(c({wanted}), requireNamespace, quietly = TRUE)))"
    if subprocess.run([rscript, "-e", code], capture_output=True).returncode:
        return f"R packages missing (need {', '.join(packages)}; see tests/reference/README.md)"
    return None


@pytest.mark.rref
@pytest.mark.parametrize("script,target,packages", SCRIPTS, ids=[s[1] for s in SCRIPTS])
def test_committed_reference_equals_a_fresh_run(script, target, packages, tmp_path):
    reason = r_has(packages)
    if reason:
        pytest.skip(reason)
    out = tmp_path / target
    subprocess.run(["Rscript", str(REF_DIR / script), str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text()) == json.loads((REF_DIR / target).read_text())
