"""The data pull-request drill: typical contributions, made as CONTRIBUTING.md says, go through
everything a data pull request meets (validate, the version rules, results/, compare, every page)
with no test edited.

A copy of this repository's project files in a temporary git repository gets, one commit each:
a new study with three outcomes, a corrected count, a removed study and a new outcome for an
existing study (tests/drill.py; the new study is synthetic and never reaches data/). Each commit
is checked against the one before it; every page then runs on the result.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from drill import CHANGES, apply, bump
from qmd import run_pages

from metaprop.pipeline import load_build
from metaprop.review.compare import compare_ref, format_markdown
from metaprop.review.explorer import explorer_data
from metaprop.review.validate import validate
from metaprop.review.versioning import check_version

from conftest import ROOT

#: what a contributor's copy of the project holds that the pages read
PROJECT = ["index.qmd", "_quarto.yml", "references.bib", "CITATION.cff", "analysis", "site-assets"]


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=drill", "-c", "user.email=drill@example.invalid",
                           *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def drilled(tmp_path_factory):
    """The temporary repository after the changes, and per change (name, version, validation
    problems, version check against the data before it, compare table against the commit before)."""
    repo = tmp_path_factory.mktemp("drill")
    for name in PROJECT:
        src = ROOT / name
        (shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("*_files", "__pycache__"))
         if src.is_dir() else shutil.copy2(src, repo / name))
    shutil.copytree(ROOT / "data", repo / "data", ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    steps = []
    for change in CHANGES:
        before = tmp_path_factory.mktemp(f"before-{change}") / "data"
        shutil.copytree(repo / "data", before)
        base = _git(repo, "rev-parse", "HEAD").strip()
        (version,) = apply(repo / "data", change)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", change)
        steps.append((change, version, validate(repo / "data"), check_version(before, repo / "data"),
                      compare_ref(base, repo=str(repo))))
    return repo, steps


def test_each_change_validates_and_follows_the_version_rules(drilled):
    _, steps = drilled
    for change, version, problems, check, _ in steps:
        assert problems == [], change
        assert check.ok and check.level == CHANGES[change][1] and check.version == version, (change, check)
        assert version == bump(check.base_version, CHANGES[change][1])


def test_compare_shows_the_headline_change(drilled):
    _, steps = drilled
    for change, version, _, _, table in steps:
        md = format_markdown(table)
        assert "Version rules: followed" in md, change
        assert table.attrs["versions"][1] == version
        heads = table[table["analysis"] == "headline"]
        assert len(heads) == 4 and heads["method_after"].notna().all()
    table = {s[0]: s[4] for s in steps}["add_study"]
    w = table[(table["outcome"] == "weaned") & (table["analysis"] == "headline")].iloc[0]
    assert w["k_after"] == w["k_before"] + 1 and w["estimate_after"] != w["estimate_before"]


def test_results_and_every_page_on_the_drilled_data(drilled):
    repo, _ = drilled
    data, results = load_build(repo)  # results/ and the build cache, which every page then loads
    assert data.studies["source"].str.startswith("synthetic drill record").any()
    for o in results.headlines:
        e = json.loads((repo / "results" / f"explorer_{o}.json").read_text())
        assert e == explorer_data(data, o)
    pages = [repo / "index.qmd", *sorted(p for p in (repo / "analysis").glob("*.qmd") if not p.name.startswith("_"))]
    runs = run_pages(pages, root=repo)  # one kernel for all pages: tests/test_site.py renders each for real
    for run in runs:
        for v in run.inline_values():
            assert v and "nan" not in v.split() and "None" not in v.split(), (run.path.name, v)
    assert f"data version {data.version}" in " ".join(runs[0].inline_values())
