"""`metaprop surveil`: the saved search against recorded E-utilities answers served by a local
stand-in server (no test needs the network); clean failures when the server fails or garbles."""

from __future__ import annotations

import json

import pytest

from metaprop.review.protocol import SEARCH

from conftest import FROZEN_DATA


def test_new_and_known_records_from_recorded_answers(server, run_cli, monkeypatch):
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    s = server()
    code, out, err = run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--since", "2023-01-01",
                             "--until", "2026-12-01", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"new", "known", "query", "count", "since", "until"}
    assert doc["count"] == 4 and doc["query"] == SEARCH["query"]
    # Konstantino 2006 by its PMID; Cowburn 2005 by its DOI, whatever its case
    assert sorted(r["pmid"] for r in doc["known"]) == ["16612071", "99000003"]
    assert [r["pmid"] for r in doc["new"]] == ["99000002", "99000001"]
    first = doc["new"][1]
    assert first == {"pmid": "99000001", "title": "Synthetic record: CRT in patients on intravenous inotropes.",
                     "journal": "Journal of synthetic records", "year": "2024", "doi": "10.9999/synthetic.1"}
    # what was asked: the protocol's query over the dates given, JSON, then the summaries of every PMID
    (_, t1, q1), (_, t2, q2) = s.requests
    assert (t1, t2) == ("esearch.fcgi", "esummary.fcgi")
    assert q1["term"] == [SEARCH["query"]] and q1["mindate"] == ["2023/01/01"] and q1["maxdate"] == ["2026/12/01"]
    assert q1["retmode"] == ["json"] and q2["retmode"] == ["json"] and "api_key" not in q1
    assert q2["id"] == ["99000002,99000001,16612071,99000003"]


def test_markdown_for_the_issue_escapes_titles(server, run_cli):
    s = server()
    code, out, _ = run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--since", "2023-01-01")
    assert code == 0
    assert "- [ ] PMID [99000001](https://pubmed.ncbi.nlm.nih.gov/99000001/)" in out
    assert "<img" not in out and "&lt;img src\\=x" in out and "\\[link\\]\\(javascript" in out
    assert "2 not yet screened, 2 already in data/" in out and "16612071" not in out.split("Query:")[0]


def test_requests_respect_ncbis_rate_and_send_the_api_key(server, run_cli, monkeypatch):
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    s = server()
    assert run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url)[0] == 0
    (t1, _, _), (t2, _, _) = s.requests
    assert t2 - t1 >= 1 / 3 - 0.01  # at most 3 requests a second without a key
    monkeypatch.setenv("NCBI_API_KEY", "k123")
    s2 = server()
    assert run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s2.url)[0] == 0
    assert all(q["api_key"] == ["k123"] for _, _, q in s2.requests)


def test_a_busy_server_is_asked_again(server, run_cli, monkeypatch):
    import metaprop.review.surveil as sv

    monkeypatch.setattr(sv.time, "sleep", lambda s: None)  # no real back-off in the test
    s = server(esearch=((503, b"busy"), (429, b"slow down"), ("json", "esearch.json")))
    code, out, err = run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--json")
    assert code == 0, err
    assert [t for _, t, _ in s.requests] == ["esearch.fcgi"] * 3 + ["esummary.fcgi"]


@pytest.mark.parametrize(("esearch", "esummary", "message"), [
    (((500, b"down"),), (("json", "esummary.json"),), "answered HTTP 500"),
    (((404, b"no"),), (("json", "esummary.json"),), "answered HTTP 404"),
    (((200, b"<html>maintenance</html>"),), (("json", "esummary.json"),), "did not answer JSON"),
    (((200, b'{"esearchresult": {"ERROR": "Invalid query"}}'),), (("json", "esummary.json"),), "Invalid query"),
    (((200, b'{"esearchresult": {"count": "x"}}'),), (("json", "esummary.json"),), "without a count"),
    ((("json", "esearch.json"),), ((200, b'{"result": {"uids": []}}'),), "without PMID"),
    ((("json", "esearch.json"),), ((200, b"[1, 2]"),), "unexpected shape"),
])
def test_a_failing_or_garbled_server_gives_one_line_and_no_file(server, run_cli, tmp_path, monkeypatch,
                                                                 esearch, esummary, message):
    import metaprop.review.surveil as sv

    monkeypatch.setattr(sv.time, "sleep", lambda s: None)
    s = server(esearch=esearch, esummary=esummary)
    out_file = tmp_path / "body.md"
    code, out, err = run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--out", out_file)
    assert code == 2 and out == ""
    assert err.startswith("metaprop: error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err and not out_file.exists() and not list(tmp_path.iterdir())


def test_unreachable_server_and_timeouts_fail_cleanly(server, run_cli, monkeypatch):
    import metaprop.review.surveil as sv

    monkeypatch.setattr(sv.time, "sleep", lambda s: None)
    s = server(esearch=(("sleep", 2.0),))
    code, _, err = run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--timeout", "0.3",
                           "--retries", "1")
    assert code == 2 and "could not be reached" in err and len(s.requests) == 2
    code, _, err = run_cli("surveil", "--eutils-url", "file:///etc/passwd")
    assert code == 2 and "must be an http(s) URL" in err
    code, _, err = run_cli("surveil", "--since", "last March")
    assert code == 2 and "--since must be a date" in err


def test_out_file_is_written_whole(server, run_cli, tmp_path):
    s = server()
    out_file = tmp_path / "new.json"
    assert run_cli("surveil", "--data-dir", FROZEN_DATA, "--eutils-url", s.url, "--json", "--out", out_file)[0] == 0
    assert json.loads(out_file.read_text())["count"] == 4 and [p.name for p in tmp_path.iterdir()] == ["new.json"]


@pytest.mark.parametrize(("open_issue", "new", "expect"), [
    ("", "2", "issue create"),   # none open, records to screen: opened
    ("41", "2", "issue edit 41"),  # open already: updated, never a second one
    ("41", "0", "issue edit 41"),  # nothing new: the open issue says so
    ("", "0", None),             # nothing new, none open: nothing opened
])
def test_records_issue_script_opens_or_updates_one_issue(tmp_path, open_issue, new, expect):
    """.github/scripts/records_issue.sh with a stand-in `gh` that records its calls."""
    import subprocess

    from stand_ins import stand_in_gh

    from conftest import ROOT

    path, log = stand_in_gh(tmp_path, f'"issue list"*) echo "{open_issue}"')
    body = tmp_path / "records.md"
    body.write_text("- [ ] PMID 1\n")
    proc = subprocess.run(["bash", str(ROOT / ".github/scripts/records_issue.sh"), str(body), new],
                          env={"PATH": path, "GH_TOKEN": "t", "REPO": "o/r"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text()
    assert calls.startswith("issue list --repo o/r --state open")
    writes = [c for c in calls.splitlines() if c.startswith(("issue create", "issue edit"))]
    assert (writes[0].startswith(expect) and "--body-file" in writes[0]) if expect else not writes
    bad = subprocess.run(["bash", str(ROOT / ".github/scripts/records_issue.sh"), str(body), "2; rm -rf /"],
                         env={"PATH": path}, capture_output=True, text=True)
    assert bad.returncode == 1


def test_surveillance_workflow_is_scheduled_least_privilege_and_needs_no_secret():
    import yaml

    from conftest import ROOT

    text = (ROOT / ".github/workflows/surveil.yml").read_text()
    wf = yaml.safe_load(text)
    assert {"schedule", "workflow_dispatch"} <= set(wf[True]) and wf["permissions"] == {"contents": "read"}
    job = wf["jobs"]["surveil"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert "secrets." not in text and "metaprop surveil" in text
