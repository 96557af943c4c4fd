"""`metaprop validate`: data/ is valid, and every broken copy gets located FILE:ROW:COLUMN messages.

Each case copies data/ to a temporary folder and introduces one fault (header = line 1, so the
first data row is line 2).
"""

from __future__ import annotations

import shutil

import pytest

from metaprop.review.validate import validate

from conftest import FROZEN_DATA, ROOT

DATA = ROOT / "data"


def test_data_is_valid(run_cli):
    assert validate(DATA) == []
    code, out, err = run_cli("validate", DATA)
    assert code == 0 and "valid" in out


@pytest.fixture()
def broken(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(FROZEN_DATA, d)
    return d


def edit(path, line, old, new):
    """Replace ``old`` by ``new`` on line ``line`` (1-based) of ``path``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], (line, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


# (file, line, old, new, expected "FILE:ROW:COLUMN" suffix, words in the message)
CASES = {
    "events_gt_total": ("outcomes.csv", 4, "herweg2007,weaned,9,10", "herweg2007,weaned,12,10",
                        "outcomes.csv:4:events", "12 events > 10 total"),
    "negative_count": ("outcomes.csv", 4, "weaned,9,10", "weaned,-1,10", "outcomes.csv:4:events", "minimum"),
    "text_in_number": ("outcomes.csv", 8, "weaned,9,14", "weaned,9,fourteen", "outcomes.csv:8:total",
                       "'fourteen' is not a valid integer"),
    "fractional_count": ("outcomes.csv", 8, "weaned,9,14", "weaned,9.5,14", "outcomes.csv:8:events",
                         "not a valid integer"),
    "total_zero": ("outcomes.csv", 8, "weaned,9,14", "weaned,0,0", "outcomes.csv:8:total", "minimum"),
    "total_above_n_crt": ("outcomes.csv", 8, "weaned,9,14", "weaned,9,15", "outcomes.csv:8:total",
                          "n_crt 14"),
    "duplicate_study": ("studies.csv", 3, "konstantino2006,", "cowburn2005,", "studies.csv:3:study_id",
                        "duplicate"),
    "duplicate_outcome_row": ("outcomes.csv", 3, "cowburn2005,discharged_alive", "cowburn2005,weaned",
                              "outcomes.csv:3:study_id+outcome", "duplicate"),
    "unknown_study": ("outcomes.csv", 8, "hara2011,", "hara2012,", "outcomes.csv:8:study_id", "not found"),
    "outcome_vocabulary": ("outcomes.csv", 8, ",weaned,", ",weaning,", "outcomes.csv:8:outcome", "enum"),
    "derivation_vocabulary": ("outcomes.csv", 8, ",reported,", ",guessed,", "outcomes.csv:8:derivation",
                              "enum"),
    "missing_location": ("outcomes.csv", 8, ',"abstract, results",', ",,", "outcomes.csv:8:location",
                         "required"),
    "missing_source": ("outcomes.csv", 8,
                       ",abstract (doi:10.1002/clc.20965; PMID 22095659; PMC6652359),",
                       ",,", "outcomes.csv:8:source", "required"),
    "missing_derivation": ("outcomes.csv", 8, ",reported,", ",,", "outcomes.csv:8:derivation", "required"),
    "empty_required_count": ("outcomes.csv", 8, "weaned,9,14", "weaned,,14", "outcomes.csv:8:events",
                             "required"),
    "year_implausible": ("studies.csv", 2, ",2005,", ",1890,", "studies.csv:2:year", "minimum"),
    "year_future": ("studies.csv", 2, ",2005,", ",2099,", "studies.csv:2:year", "future"),
    "retracted_in_primary": ("studies.csv", 8, "sensitivity_retracted", "primary",
                             "studies.csv:8:inclusion", "retracted"),
    "hernandez_vocabulary": ("studies.csv", 2, ",probable,", ",maybe,", "studies.csv:2:hernandez2018",
                             "enum"),
    "boolean_text": ("studies.csv", 2, ",yes,", ",perhaps,", "studies.csv:2:first_author_verified",
                     "not a valid boolean"),
    "analysis_set_without_count": ("analysis_sets.csv", 2, "hernandez2018,weaned,cowburn2005",
                                   "hernandez2018,weaned,konstantino2006",
                                   "analysis_sets.csv:2:study_id", "no 'weaned' count"),
    "published_ci_order": ("published.csv", 2, "93,86,100", "93,95,100", "published.csv:2:estimate",
                           "outside its CI"),
    "extra_cell": ("outcomes.csv", 8, "withdrawal 46 +/- 33 days after CRT",
                   "withdrawal 46 +/- 33 days after CRT,oops", "outcomes.csv:8", "extra cell"),
    "missing_cell": ("outcomes.csv", 3, ',"abstract, results",', ',"abstract, results"',
                     "outcomes.csv:3", "missing cell"),
    "renamed_column": ("outcomes.csv", 1, ",derivation,", ",how,", "outcomes.csv:1", "derivation"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_copy_is_located(broken, run_cli, name):
    fname, line, old, new, where, words = CASES[name]
    edit(broken / fname, line, old, new)
    problems = validate(broken)
    text = "\n".join(map(str, problems))
    assert problems, f"{name}: not detected"
    hits = [str(p) for p in problems if f"{where}:" in str(p) or str(p).startswith(f"{broken / where}:")]
    assert any(words in h for h in hits), f"{name}: expected {where} with {words!r} in\n{text}"
    code, out, err = run_cli("validate", broken)
    assert code == 1
    assert "Traceback" not in err and where in err


def test_every_problem_reported_not_just_the_first(broken):
    edit(broken / "outcomes.csv", 4, "weaned,9,10", "weaned,12,10")
    edit(broken / "outcomes.csv", 8, "weaned,9,14", "weaned,9,x")
    edit(broken / "studies.csv", 2, ",2005,", ",1890,")
    text = "\n".join(map(str, validate(broken)))
    for where in ("outcomes.csv:4:events", "outcomes.csv:8:total", "studies.csv:2:year"):
        assert where in text


def test_reordered_columns_are_accepted_and_still_located(broken):
    import csv

    f = broken / "outcomes.csv"
    rows = list(csv.reader(f.open(encoding="utf-8", newline="")))
    with f.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([[r[3], r[2], *r[:2], *r[4:]] for r in rows])
    assert validate(broken) == []
    edit(f, 8, "14,9,hara2011", "x,9,hara2011")
    assert [str(p).split("data/")[-1] for p in validate(broken)] == ["outcomes.csv:8:total: 'x' is not a valid integer"]


def test_spreadsheet_saved_files_are_accepted(broken):
    for f in broken.glob("*.csv"):
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes().replace(b"\n", b"\r\n"))
    assert validate(broken) == []


@pytest.mark.parametrize("content, words", [
    (b"", "file is empty"),
    (b"\x00\x01\x02\xff binary", "not a text CSV"),
    ("study_id,outcome\nm\xfcller2001,weaned\n".encode("latin-1"), ":2: not valid UTF-8"),
    (b"study_id,outcome,events,total,derivation,source,location,note\n", None),
])
def test_unreadable_files(broken, run_cli, content, words):
    (broken / "outcomes.csv").write_bytes(content)
    problems = validate(broken)
    text = "\n".join(map(str, problems))
    if words is None:  # header only: valid CSV, but analysis sets lose their counts
        assert "analysis_sets.csv:2:study_id" in text
    else:
        assert "outcomes.csv" in text and words in text, text
    code, _, err = run_cli("validate", broken)
    assert code == 1 and "Traceback" not in err


def test_broken_datapackage(broken, run_cli):
    (broken / "datapackage.json").write_text("{not json", encoding="utf-8")
    code, _, err = run_cli("validate", broken)
    assert code == 1 and "datapackage.json: not a readable data package" in err
    (broken / "datapackage.json").unlink()
    code, _, err = run_cli("validate", broken)
    assert code == 1 and "datapackage.json: file not found" in err


def test_missing_csv(broken, run_cli):
    (broken / "published.csv").unlink()
    code, _, err = run_cli("validate", broken)
    assert code == 1 and "published.csv: file not found" in err


def test_frictionless_agrees_data_is_valid():
    """Independent check: the frictionless library itself validates data/ without metaprop's rules."""
    import frictionless

    report = frictionless.Package(str(DATA / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])


@pytest.mark.parametrize("mutate, words", [
    (lambda d: (d / "studies.csv").write_bytes(b"\xef\xbb\xbf"), "studies.csv: file is empty"),
    (lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text().replace(",note\n", ",note,extra\n", 1)), "unknown column 'extra'"),
    (lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text().replace("study_id,outcome,events", "study_id,outcome,evnts", 1)),
     "outcomes.csv:1:"),
    (lambda d: (d / "datapackage.json").write_text(
        (d / "datapackage.json").read_text().replace('"schema"', '"schemx"', 1)),
     "its Table Schema differs from the review's rules"),
    (lambda d: (d / "outcomes.csv").write_text(
        (d / "outcomes.csv").read_text() + '"unclosed,weaned,1,2,reported,x,y,\n'), "outcomes.csv:"),
])
def test_structural_faults_never_traceback(broken, run_cli, mutate, words):
    mutate(broken)
    code, _, err = run_cli("validate", broken)
    assert code == 1 and "Traceback" not in err
    assert words in err, err
