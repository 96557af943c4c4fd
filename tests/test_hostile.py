"""Hostile pull requests against data/ (issue 9): a corpus of altered copies of data/, each with
its expected outcome, and the property that ties validation to everything after it:

- whatever ``validate`` rejects gets ``FILE[:ROW[:COLUMN]]: message`` lines and exit 1;
- whatever it accepts, ``metaprop results`` and the site's analysis process without a traceback,
  and contributor text reaches pages escaped.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from conftest import FROZEN_DATA, ROOT

DATA = ROOT / "data"


def _edit(name, old, new, count=1):
    def f(d):
        p = d / name
        text = p.read_text(encoding="utf-8")
        assert old in text, (name, old)
        p.write_text(text.replace(old, new, count), encoding="utf-8")
    return f


def _package(change):
    def f(d):
        p = d / "datapackage.json"
        desc = json.loads(p.read_text(encoding="utf-8"))
        change(desc)
        p.write_text(json.dumps(desc, indent=2), encoding="utf-8")
    return f


def _res(desc, name):
    return next(r for r in desc["resources"] if r["name"] == name)


def _field(desc, res, field):
    return next(f for f in _res(desc, res)["schema"]["fields"] if f["name"] == field)


def _outcomes_row(row):
    return _edit("outcomes.csv", "hara2011,weaned,9,14", row)


# (id, mutation, expected): expected is "accept" or the words the rejection must contain
CORPUS = [
    # -- the rules live in the file under review -------------------------------------------------
    ("pk_dropped", _package(lambda d: _res(d, "studies")["schema"].pop("primaryKey")),
     "differs from the review's rules"),
    ("outcomes_pk_dropped", _package(lambda d: _res(d, "outcomes")["schema"].pop("primaryKey")),
     "differs from the review's rules"),
    ("events_retyped_number", _package(lambda d: _field(d, "outcomes", "events").update(type="number")),
     "differs from the review's rules"),
    ("constraint_dropped", _package(lambda d: _field(d, "outcomes", "events").pop("constraints", None)
                                    or _field(d, "outcomes", "events").update(description="x")),
     "differs from the review's rules"),
    ("dialect_comment_rows", _package(lambda d: _res(d, "outcomes").update(dialect={"commentRows": [2]})),
     "not allowed"),
    ("dialect_comment_char", _package(lambda d: _res(d, "outcomes").update(dialect={"commentChar": "h"})),
     "not allowed"),
    ("remote_profile", _package(lambda d: d.update(profile="https://example.invalid/profile.json")),
     "profile"),
    ("resource_profile_changed", _package(lambda d: _res(d, "studies").update(profile="data-resource")),
     "profile must be"),
    ("path_outside", _package(lambda d: _res(d, "published").update(path="../published.csv")), "path must be"),
    ("path_url", _package(lambda d: _res(d, "published").update(path="https://example.invalid/p.csv")),
     "path must be"),
    ("resource_removed", _package(lambda d: d["resources"].pop()), "differ from the review's"),
    ("resource_added", _package(lambda d: d["resources"].append(dict(_res(d, "published"), name="extra"))),
     "differ from the review's"),
    ("unknown_package_key", _package(lambda d: d.update(dialect={"delimiter": ";"})), "not allowed"),
    ("version_injection", _package(lambda d: d.update(version="1.0.0\nmalicious: true")), "MAJOR.MINOR.PATCH"),
    ("version_not_semver", _package(lambda d: d.update(version="v2")), "MAJOR.MINOR.PATCH"),
    # -- accepted before, then a traceback -----------------------------------------------------------
    ("header_trailing_space", _edit("outcomes.csv", "study_id,outcome,events", "study_id,outcome,events "),
     "outcomes.csv:1"),
    ("semicolon_delimited", lambda d: (d / "published.csv").write_text(
        (d / "published.csv").read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8"),
     "separated by commas"),
    ("tab_delimited", lambda d: (d / "analysis_sets.csv").write_text(
        (d / "analysis_sets.csv").read_text(encoding="utf-8").replace(",", "\t"), encoding="utf-8"),
     "separated by commas"),
    ("count_1e20", _outcomes_row("hara2011,weaned,9,100000000000000000000"), "outcomes.csv:"),
    ("count_huge_events", _outcomes_row("hara2011,weaned,90000000,100000000"), "larger than any study"),
    ("infinity_number", _edit("published.csv", ",93,", ",Infinity,"), "published.csv:"),
    ("nan_number", _edit("published.csv", ",93,", ",NaN,"), "published.csv:"),
    # -- counts --------------------------------------------------------------------------------------
    ("events_gt_total", _outcomes_row("hara2011,weaned,19,14"), "outcomes.csv:"),
    ("negative_events", _outcomes_row("hara2011,weaned,-1,14"), "outcomes.csv:"),
    ("fractional_events", _outcomes_row("hara2011,weaned,9.5,14"), "outcomes.csv:"),
    ("text_in_count", _outcomes_row("hara2011,weaned,nine,14"), "outcomes.csv:"),
    ("exponent_count", _outcomes_row("hara2011,weaned,9e0,14"), "outcomes.csv:"),
    ("underscore_count", _outcomes_row("hara2011,weaned,1_0,14"), "outcomes.csv:"),
    ("arabic_indic_count", _outcomes_row("hara2011,weaned,\u0669,14"), "outcomes.csv:"),
    ("empty_count", _outcomes_row("hara2011,weaned,,14"), "outcomes.csv:"),
    ("duplicate_outcome_row", lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text(encoding="utf-8")
        + [ln for ln in (d / "outcomes.csv").read_text(encoding="utf-8").splitlines() if "hara2011,weaned" in ln][0]
        + "\n", encoding="utf-8"), "outcomes.csv:"),
    ("unknown_study", _outcomes_row("nosuchstudy,weaned,9,14"), "outcomes.csv:"),
    ("unknown_outcome", _outcomes_row("hara2011,healed,9,14"), "outcomes.csv:"),
    # -- files outside data/ ----------------------------------------------------------------------------
    ("symlinked_csv", lambda d: (os.replace(d / "published.csv", d.parent / "elsewhere.csv"),
                                 os.symlink(d.parent / "elsewhere.csv", d / "published.csv")), "symbolic link"),
    ("symlinked_extra", lambda d: os.symlink("/etc/hostname", d / "notes.txt"), "symbolic link"),
    ("unlisted_file", lambda d: (d / "notes.txt").write_text("hello", encoding="utf-8"), "not listed"),
    ("unlisted_folder", lambda d: (d / "more").mkdir(), "unexpected folder"),
    ("symlinked_package", lambda d: (os.replace(d / "datapackage.json", d.parent / "dp.json"),
                                     os.symlink(d.parent / "dp.json", d / "datapackage.json")), "symbolic link"),
    ("csv_is_folder", lambda d: (os.remove(d / "published.csv"), (d / "published.csv").mkdir()),
     "not a regular file"),
    # -- broken files ---------------------------------------------------------------------------------------
    ("not_utf8", lambda d: (d / "published.csv").write_bytes(
        (d / "published.csv").read_bytes().replace(b"Hernandez", "H\u00e9rnandez".encode("latin-1"))),
     "not valid UTF-8"),
    ("nul_bytes", lambda d: (d / "analysis_sets.csv").write_bytes(b"\x00\x01"), "NUL"),
    ("empty_csv", lambda d: (d / "analysis_sets.csv").write_text("", encoding="utf-8"), "empty"),
    ("ragged_row", lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text(encoding="utf-8") + "a,b\n", encoding="utf-8"), "outcomes.csv:"),
    ("unclosed_quote", lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text(encoding="utf-8") + '"unclosed,weaned,1,2\n', encoding="utf-8"),
     "outcomes.csv:"),
    ("package_not_json", lambda d: (d / "datapackage.json").write_text("{not json", encoding="utf-8"),
     "not a readable data package"),
    ("package_missing", lambda d: (d / "datapackage.json").unlink(), "file not found"),
    ("csv_missing", lambda d: (d / "published.csv").unlink(), "file not found"),
]

# spreadsheet formulas and control characters, in text columns of three files
for i, (column, bad, words) in enumerate([
        ("note", '=HYPERLINK("http://x")', "formula"), ("note", "+cmd", "formula"), ("note", "-2+3", "formula"),
        ("note", "@SUM(A1)", "formula"), ("note", " =1+1", "formula"), ("first_author", "=1+1", "formula"),
        ("title", "@cmd", "formula"), ("citation", "=2*3", "formula"),
        ("note", "a\x1bb", "control"), ("first_author", "\u202egnp.exe", "control"), ("note", "x\x07", "control"),
        ("title", "tab\x0bhere", "control")]):
    CORPUS.append((f"text_{column}_{i}", (column, bad), words))

# accepted: hostile but harmless text, which must be shown as text
HOSTILE_LABEL = "<img src=x onerror=alert(1)>"
ACCEPTED = [
    ("html_in_changelog", lambda d: (d / "CHANGELOG.md").write_text(
        (d / "CHANGELOG.md").read_text(encoding="utf-8") + "\n<script>alert(1)</script>\n", encoding="utf-8")),
    ("mathtext_author", ("first_author", "$\\frac{1}{0}$ Smith")),
    ("markdown_in_note", ("note", "**bold** [link](http://x) `code`")),
    ("html_label", ("first_author", HOSTILE_LABEL)),
    ("unicode_author", ("first_author", "M\u00fcller-\u0141\u00f3d\u017a")),
]


def _set_text(d, column, value):
    """Put ``value`` in ``column`` of the first data row of the CSV that has that column."""
    import csv
    import io

    for name in ("outcomes.csv", "studies.csv", "published.csv"):
        p = d / name
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"), newline="")))
        if column in rows[0]:
            rows[1][rows[0].index(column)] = value
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            p.write_text(out.getvalue(), encoding="utf-8")
            return
    raise AssertionError(column)


def _apply(d, mutation):
    if isinstance(mutation, tuple):
        _set_text(d, *mutation)
    else:
        mutation(d)


# one case per class also goes through `metaprop results` (which validates first): a few suffice,
# since results and the site load data/ only through the same validate()
DOWNSTREAM = {"pk_dropped", "semicolon_delimited", "count_1e20", "symlinked_csv", "text_note_0", "unclosed_quote"}


@pytest.fixture()
def copy_of_data(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(FROZEN_DATA, d, symlinks=True)
    return d


def test_corpus_is_large_and_covers_every_class():
    rejected = [c for c in CORPUS if c[2] is not None]
    assert len(rejected) + len(ACCEPTED) >= 60
    assert len({c[0] for c in CORPUS + ACCEPTED}) == len(CORPUS) + len(ACCEPTED)


@pytest.mark.parametrize("name, mutation, words", [c for c in CORPUS if c[2] is not None],
                         ids=[c[0] for c in CORPUS if c[2] is not None])
def test_hostile_data_is_rejected_with_its_place(name, mutation, words, copy_of_data, run_cli):
    _apply(copy_of_data, mutation)
    code, out, err = run_cli("validate", copy_of_data)
    assert code == 1, (name, out, err)
    assert "Traceback" not in err
    assert words.lower() in err.lower(), err
    lines = [ln for ln in err.splitlines() if ln.strip() and "problem(s) found" not in ln]
    assert lines and all(ln.startswith(str(copy_of_data)) and ": " in ln for ln in lines), err
    if name in DOWNSTREAM:  # and nothing downstream runs on it: results refuses, writing nothing
        out_dir = copy_of_data.parent / "results"
        code, _, err = run_cli("results", "--data-dir", copy_of_data, "--out", out_dir, "--no-figures")
        assert code != 0 and "Traceback" not in err and not out_dir.exists()


@pytest.mark.parametrize("name, mutation", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted_data_is_processed_and_shown_as_text(name, mutation, copy_of_data, run_cli, tmp_path):
    _apply(copy_of_data, mutation)
    code, out, err = run_cli("validate", copy_of_data)
    assert code == 0, err
    out_dir = tmp_path / "results"
    code, _, err = run_cli("results", "--data-dir", copy_of_data, "--out", out_dir, "--no-figures")
    assert code == 0 and "Traceback" not in err, err
    assert (out_dir / "results.json").is_file()


def test_mathtext_in_a_label_is_drawn_as_text(tmp_path):
    """matplotlib reads $...$ as mathtext ($\\frac{1}{0}$ raised an error): labels are drawn as typed."""
    from metaprop import pool
    from metaprop.site.figures import forest_plot, save

    res = pool([9, 10, 20], [10, 14, 20], ["$\\frac{1}{0}$ 2005", "B 2007", "C 2008"], method="Inverse")
    save(forest_plot(res, title="t"), tmp_path / "f.svg")
    assert "frac" in (tmp_path / "f.svg").read_text()


def test_hostile_label_is_escaped_in_page_text(copy_of_data):
    """A study label made of HTML reaches the pages' sentences and tables as text, never as HTML
    (Cowburn 2005 lacks 12-month survival, so its label is in that outcome's 'missing' sentence)."""
    from metaprop.review.data import load
    from metaprop.review.outputs import analyse
    from metaprop.site.context import Build
    from metaprop.site.pages import Site

    _set_text(copy_of_data, "first_author", "<script>alert(1)</script>")
    data = load(copy_of_data)  # the pages' functions on this data, without drawing figures
    site = Site(Build(copy_of_data.parent, data, analyse(data)))
    label = site.data.studies["label"].iloc[0]
    assert label.startswith("<script>")
    # Markdown for an inline expression, the label escaped (tests/test_site.py renders it in Chromium)
    sentence = site.missing_sentence("alive_12mo")
    assert sentence._repr_markdown_() == sentence and "<script>" not in sentence
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt; 2005" in sentence
    html = site.study_table().as_html()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_sigterm_leaves_no_partial_results(tmp_path):
    """SIGTERM while `metaprop results` writes: the old results/ stays as it was, no temporary
    folder is left behind (they are also git-ignored: .metaprop-*/)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "results"
    out.mkdir()
    (out / "old.txt").write_text("previous run")
    proc = subprocess.Popen([sys.executable, "-m", "metaprop", "results", "--data-dir", str(DATA), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".metaprop-*")):
        time.sleep(0.02)
    assert list(tmp_path.glob(".metaprop-*")), "the writer never started"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not list(tmp_path.glob(".metaprop-*"))
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert ".metaprop-*/" in (ROOT / ".gitignore").read_text()


def test_pr_comment_updater_edits_only_the_bots_comment():
    """The jq filter of .github/scripts/upsert_comment.sh, run on comments where a user copied the
    marker first: only the bot's own comment is chosen."""
    import re
    import subprocess

    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq not installed (GitHub's runners have it)")
    script = (ROOT / ".github/scripts/upsert_comment.sh").read_text()
    filt = re.search(r'--jq "(.*?)" \| head', script, flags=re.S).group(1).replace('\\"', '"')
    filt = filt.replace("${marker}", "<!-- metaprop-compare -->")
    comments = [{"id": 1, "user": {"login": "mallory", "type": "User"}, "body": "<!-- metaprop-compare --> hi"},
                {"id": 2, "user": {"login": "github-actions[bot]", "type": "Bot"}, "body": "unrelated"},
                {"id": 3, "user": {"login": "github-actions[bot]", "type": "Bot"},
                 "body": "<!-- metaprop-compare -->\n### table"}]
    out = subprocess.run([jq, filt], input=json.dumps(comments), capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3"]


def test_compare_refuses_a_ref_that_is_not_a_commit(run_cli, tmp_path):
    """A ref starting with '-' never reaches git as an option (it once truncated a file)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for ref in (f"--output={victim}", "-h", "no-such-branch", "HEAD:data"):
        code, _, err = run_cli("compare", "--repo", ROOT, "--", ref)
        assert code == 2 and "is not a commit" in err and "Traceback" not in err, (ref, err)
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("count", ["1e1", "10.0", "1_0", "\u0661\u0660", "\uff11\uff10"])
def test_pool_reads_counts_by_the_data_rule(count, run_cli, tmp_path):
    """`metaprop pool` once read 1e1, 10.0, 1_0 and Arabic-Indic digits as 10; validate refuses them."""
    code, _, err = run_cli("pool", "--events", f"{count},3", "--total", "20,10")
    assert code == 2 and "item 1" in err and "Traceback" not in err
    f = tmp_path / "s.csv"
    f.write_text(f"events,total\n{count},20\n3,10\n", encoding="utf-8")
    code, _, err = run_cli("pool", f)
    assert code == 2 and ":2:events:" in err


def test_compare_with_a_base_that_does_not_validate(run_cli, tmp_path):
    """A base whose data package lacks a resource: "the base does not validate", never a traceback."""
    import subprocess

    repo = tmp_path / "repo"
    shutil.copytree(FROZEN_DATA, repo / "data", symlinks=True)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    desc = json.loads((repo / "data/datapackage.json").read_text())
    desc["resources"].pop()
    (repo / "data/datapackage.json").write_text(json.dumps(desc))
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    shutil.copy2(FROZEN_DATA / "datapackage.json", repo / "data/datapackage.json")
    code, out, err = run_cli("compare", "HEAD", "--repo", repo, "--data-dir", "data")
    assert code == 0 and "Traceback" not in err, err
    assert "do not validate" in out
