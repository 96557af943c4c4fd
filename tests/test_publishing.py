"""Workflows (zizmor, schema, pins), citation metadata, release assets and `metaprop compare`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

from conftest import FROZEN_DATA, ROOT, load_json

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = ROOT / ".venv" / "bin"


def _tool(name):
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def test_zizmor_finds_nothing_medium_or_above():
    out = subprocess.run([_tool("zizmor"), "--offline", "--format", "json", "--min-severity", "medium",
                          *map(str, WORKFLOWS)], capture_output=True, text=True)
    findings = json.loads(out.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:3000]


def test_workflows_and_issue_form_match_github_schemas():
    for schema, files in (("vendor.github-workflows", WORKFLOWS),
                          ("vendor.github-issue-forms",
                           sorted((ROOT / ".github" / "ISSUE_TEMPLATE").glob("add*.yml")))):
        assert files
        out = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def _pins():
    text = (ROOT / ".github" / "actions-pins.md").read_text()
    return {(m.group(1), m.group(3)): m.group(2)
            for m in re.finditer(r"^\| ([\w./-]+)[^|]*\| (v[\d.]+) \| ([0-9a-f]{40}) \|", text, re.M)}


def test_every_action_pinned_to_a_verified_sha_with_its_version():
    pins = _pins()
    assert pins
    for wf in WORKFLOWS:
        for m in re.finditer(r"uses:\s*([\w./-]+)@(\S+)(?:\s*#\s*(\S+))?", wf.read_text()):
            action, ref, comment = m.groups()
            repo = "/".join(action.split("/")[:2])
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{wf.name}: {action}@{ref} not pinned to a SHA"
            assert (repo, ref) in pins, f"{wf.name}: {action}@{ref} is not in the verified list"
            assert comment == pins[(repo, ref)], f"{wf.name}: {action} comment {comment} != {pins[(repo, ref)]}"


def test_workflow_hardening():
    for wf in WORKFLOWS:
        text = wf.read_text()
        doc = yaml.safe_load(text)
        on = doc.get(True, doc.get("on"))
        assert "pull_request_target" not in (on if isinstance(on, dict) else {}), wf.name
        assert doc["permissions"] == {"contents": "read"}, f"{wf.name}: top-level permissions must be read-only"
        for name, job in doc["jobs"].items():
            for step in job.get("steps", []):
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False, f"{wf.name}:{name}"
                assert "${{" not in step.get("run", ""), f"{wf.name}:{name}: expression inside run:"


def test_pages_deploy_only_after_tests_and_never_overlapping():
    doc = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text())
    assert doc["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = doc["jobs"]
    assert jobs["build"]["needs"] == "test" and jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    paths = doc[True]["push"]["paths"]
    assert {"data/**", "analysis/**", "R-free-core/**"} <= set(paths)


def test_ci_runs_readme_commands_and_compares_data_prs():
    text = (ROOT / ".github/workflows/ci.yml").read_text()
    assert "make test" in text and "metaprop validate data" in text and "make site" in text
    assert "metaprop compare" in text and "upload-artifact" in text
    readme = (ROOT / "README.md").read_text()
    assert "make site" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_fork_pull_requests_get_the_comment_without_running_their_code():
    """The two-workflow pattern: CI's compare job is read-only and uploads the table; a
    workflow_run workflow with pull-requests: write posts it, checking out only the default branch
    and reading the artifact as text; neither compare nor the preview waits for the tests."""
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())["jobs"]
    assert "needs" not in ci["compare"] and "needs" not in ci["render"]
    assert "permissions" not in ci["compare"]  # the top level's contents: read
    uploads = [s["with"]["name"] for s in ci["compare"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads == ["compare"]
    assert any("validate data --base" in s.get("run", "") for s in ci["compare"]["steps"])
    doc = yaml.safe_load((ROOT / ".github/workflows/compare-comment.yml").read_text())
    assert doc[True] == {"workflow_run": {"workflows": ["CI"], "types": ["completed"]}}
    job = doc["jobs"]["comment"]
    assert job["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "write"}
    for step in job["steps"]:
        assert "ref" not in step.get("with", {}) and "repository" not in step.get("with", {})
    script = (ROOT / ".github/scripts/post_compare.sh").read_text()
    assert "^[0-9]{1,9}$" in script and 'HEAD_SHA' in script and "head -c 60000" in script


def test_citation_cff_is_valid_and_versions_agree():
    cff = os.environ.get("CFFCONVERT") or str(ROOT / ".venv-cff/bin/cffconvert")
    assert os.path.exists(cff), "cffconvert not installed: run `make setup` (it makes .venv-cff)"
    out = subprocess.run([cff, "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert str(yaml.safe_load((ROOT / "CITATION.cff").read_text())["version"]) == version
    assert json.loads((ROOT / ".zenodo.json").read_text())["version"] == version
    check = [sys.executable, str(ROOT / "scripts/check_release_version.py")]
    assert subprocess.run([*check, f"v{version}"], capture_output=True).returncode == 0
    assert subprocess.run([*check, "v99.0.0"], capture_output=True).returncode == 1


def test_release_assets(tmp_path):
    out = tmp_path / "dist"
    env = os.environ | {"PYTHON": sys.executable}
    r = subprocess.run(["bash", "scripts/release_assets.sh", "v0.1.0", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"data-package-v0.1.0.zip", "results-v0.1.0.json"} <= names
    res = json.loads((out / "results-v0.1.0.json").read_text())
    assert res["data_version"] == json.loads((ROOT / "data/datapackage.json").read_text())["version"]
    import zipfile

    with zipfile.ZipFile(out / "data-package-v0.1.0.zip") as z:
        # a Frictionless package: datapackage.json beside the CSVs it names, at the root
        assert {"datapackage.json", "outcomes.csv", "studies.csv", "CITATION.cff"} <= set(z.namelist())
    text = (ROOT / ".github/workflows/release.yml").read_text()
    assert "release_assets.sh" in text and "gh release create" in text and "dist/*" in text


def test_footer_shows_version_date_and_commit(tmp_path):
    cfg = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    footer = json.dumps(cfg["website"]["page-footer"])
    for key in ("data.version", "data.date", "build.commit", "metaprop.version"):
        assert f"var {key}" in footer
    from metaprop.review.data import load
    from metaprop.site.metadata import write_variables

    shutil.copy(ROOT / "CITATION.cff", tmp_path)
    vars_ = yaml.safe_load(write_variables(tmp_path, load(FROZEN_DATA)).read_text())
    assert vars_["data"]["version"] == "1.0.0" and vars_["build"]["commit"]


@pytest.fixture()
def repo(tmp_path):
    """A git repository holding a copy of the frozen data as data/, committed once."""
    shutil.copytree(FROZEN_DATA, tmp_path / "data")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    return tmp_path


def test_compare_against_git_ref(repo, run_cli):
    """Frozen data, Hara 2011's weaning count changed (a MINOR change, without the version bump):
    only weaning rows move; 'before' is metafor's GLMM; the headline row comes first and names its
    model; the version rules are reported as not followed."""
    f = repo / "data" / "outcomes.csv"
    f.write_text(f.read_text().replace("hara2011,weaned,9,14", "hara2011,weaned,12,14"))
    code, out, err = run_cli("compare", "HEAD", "--repo", repo, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["versions"] == {"before": "1.0.0", "after": "1.0.0"}
    assert doc["version_check"]["ok"] is False and "needs 1.1.0" in doc["version_check"]["problems"][0]
    rows = {(r["outcome"], r["analysis"]): r for r in doc["rows"]}
    assert doc["rows"][0]["analysis"] == "headline" and doc["rows"][0]["method_after"].startswith("Bayesian")
    before = rows[("weaned", "primary")]
    # metafor rma.glmm on the five weaning counts (tests/reference/metafor_reference.json)
    ref = load_json("metafor_reference.json")["crt2018_weaning"]["GLMM"]
    assert before["estimate_pct_before"] == pytest.approx(100 * ref["p"], abs=0.01)
    assert before["ci_lower_pct_before"] == pytest.approx(100 * ref["p_lb"], abs=0.03)
    assert before["events_before"] == 59 and before["events_after"] == 62
    assert before["change_pct"] != 0 and "GLMM" in before["method_after"]
    head = rows[("weaned", "headline")]
    assert round(head["estimate_pct_before"], 1) == 91.4 and head["estimate_pct_after"] > head["estimate_pct_before"]
    for (o, _), r in rows.items():
        if o != "weaned":
            assert r["change_pct"] == 0 or r["estimate_pct_before"] is None
    code, md, _ = run_cli("compare", "HEAD", "--repo", repo)
    assert md.startswith("<!-- metaprop-compare -->") and "| analysis | method | before | after |" in md
    assert "Version rules: NOT followed" in md and "#### Weaned from intravenous inotropes" in md


def test_compare_names_a_change_of_headline_status(repo, run_cli):
    """Frozen data: one discharge count below 100% makes the discharge headline pooled; the comment
    says so in words, and the primary analysis' switch from Freeman-Tukey to the GLMM too."""
    f = repo / "data" / "outcomes.csv"
    f.write_text(f.read_text().replace("sokal2014,discharged_alive,11,11", "sokal2014,discharged_alive,10,11"))
    code, md, err = run_cli("compare", "HEAD", "--repo", repo)
    assert code == 0, err
    assert "- Changed: headline: not pooled: every study reports 100%" in md
    assert "- Changed: primary analysis: Freeman-Tukey random effects (REML)" in md


def test_compare_bad_ref(repo, run_cli):
    code, _, err = run_cli("compare", "no-such-ref", "--repo", repo)
    assert code == 2 and "no-such-ref" in err


def test_quarto_pre_render_uses_the_project_environment():
    cfg = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert cfg["project"]["pre-render"] == "make --no-print-directory prerender"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^prerender: \$\(SITE_STAMP\)\n\t\$\(BIN\)/python scripts/pre_render.py", makefile, re.M)


def test_make_site_installs_only_what_rendering_needs():
    """`make site` and Quarto's pre-render step use the render extra (the core and Jupyter), not the
    test environment (pytest, Playwright, linters); quarto-cli is tried once, pinned, its log kept."""
    import tomllib

    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^site: \$\(SITE_STAMP\)$", makefile, re.M)
    assert 'pip install --quiet -e ".[render]"' in makefile and "quarto-cli==$(QUARTO_VERSION)" in makefile
    assert "QUARTO_VERSION := 1.10.18" in makefile and "quarto-cli-install.log" in makefile
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", d)[0] for d in extras["render"]}
    assert names == {"ipykernel", "nbformat", "nbclient", "jupyter_core"}
    assert names <= {re.split(r"[<>=\[ ]", d)[0] for d in extras["test"]} | {"jupyter_core"}


@pytest.mark.parametrize("number, head, posted, code", [
    ("12", "abc123", True, 0),            # the pull request is at the commit CI ran on: posted
    ("12", "other", False, 0),            # moved on since: not posted, not an error
    ("12; rm -rf /", "abc123", False, 1),  # not a number: refused
])
def test_post_compare_script_checks_the_artifact(tmp_path, number, head, posted, code):
    """.github/scripts/post_compare.sh with a stand-in `gh` that records its calls."""
    from stand_ins import stand_in_gh

    path, log = stand_in_gh(tmp_path, f'*"/pulls/"*) echo "{head}"')
    art = tmp_path / "compare"
    art.mkdir()
    (art / "pr-number.txt").write_text(number + "\n")
    (art / "compare.md").write_text("<!-- metaprop-compare -->\n| table |\n")
    env = {"PATH": path, "GH_TOKEN": "t", "REPO": "o/r", "HEAD_SHA": "abc123",
           "RUN_URL": "https://example.invalid/run/1", "RUNNER_TEMP": str(tmp_path)}
    proc = subprocess.run(["bash", str(ROOT / ".github/scripts/post_compare.sh"), str(art)], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == code, proc.stderr
    calls = log.read_text() if log.exists() else ""
    assert ("issues/12/comments" in calls and "--method POST" in calls) == posted
    if posted:
        assert "download the artifact" in (tmp_path / "compare-body.md").read_text()


def test_quarto_is_pinned_to_the_version_the_tests_use():
    """Every quarto-actions/setup step and the site extra name Quarto 1.10.18; CI's render job turns
    a skipped site test into a failure."""
    for wf in WORKFLOWS:
        doc = yaml.safe_load(wf.read_text())
        for job in doc["jobs"].values():
            for step in job.get("steps", []):
                if "quarto-actions/setup" in step.get("uses", ""):
                    assert str(step["with"]["version"]) == "1.10.18", wf.name
    assert '"quarto-cli==1.10.18"' in (ROOT / "pyproject.toml").read_text()
    render = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())["jobs"]["render"]
    site_step = next(s for s in render["steps"] if "pytest -q -m site" in s.get("run", ""))
    assert site_step["env"]["METAPROP_REQUIRE_SITE"] == "1"


def test_a_required_site_test_fails_instead_of_skipping(tmp_path):
    """With METAPROP_REQUIRE_SITE=1 and no quarto on the PATH, the site test fails (exit 2 for a
    collection error or 1 for a failure), where without it it skips."""
    env = {k: v for k, v in os.environ.items() if k != "METAPROP_REQUIRE_SITE"}
    env["PATH"] = os.path.dirname(sys.executable)  # no quarto here
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_site.py")]
    skipped = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert skipped.returncode in (0, 5) and "skipped" in skipped.stdout
    failed = subprocess.run(cmd, env=env | {"METAPROP_REQUIRE_SITE": "1"}, capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode in (1, 2) and "METAPROP_REQUIRE_SITE=1" in failed.stdout


def test_readme_and_docs_describe_the_product_not_the_tracker():
    """README.md, CONTRIBUTING.md and docs/ name no issue numbers (they describe the product)."""
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found = re.findall(r"\bissues? #?\d+", path.read_text(encoding="utf-8"), re.I)
        assert not found, (path.name, found)
