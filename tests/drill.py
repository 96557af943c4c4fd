"""Typical data pull requests, applied to a copy of ``data/`` exactly as CONTRIBUTING.md says.

Each change edits the CSV files, adds a dated entry at the top of ``CHANGELOG.md`` and bumps
``version`` in ``datapackage.json``, and nothing else. The study added here is **synthetic**
(``drill2026``, or the next free ``drillN``, marked as such in its source cells): these copies
live in temporary folders and are never written to ``data/``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from pathlib import Path

__all__ = ["CHANGES", "apply", "bump"]

SYNTHETIC_SOURCE = "synthetic drill record (tests/drill.py), not a real study"


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def bump(version: str, level: str) -> str:
    """The next version at ``level`` ("major", "minor", "patch"): 1.2.3 -> 2.0.0, 1.3.0, 1.2.4."""
    major, minor, patch = (int(v) for v in version.split("."))
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0",
            "patch": f"{major}.{minor}.{patch + 1}"}[level]


def _record(data: Path, level: str, date: str, what: str) -> str:
    """Changelog entry on top and version bump, as CONTRIBUTING.md step 4 says; returns the version."""
    date = date or _dt.date.today().isoformat()
    dp_path = data / "datapackage.json"
    dp = json.loads(dp_path.read_text(encoding="utf-8"))
    new = bump(dp["version"], level)
    dp["version"] = new
    dp_path.write_text(json.dumps(dp, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log = data / "CHANGELOG.md"
    text = log.read_text(encoding="utf-8")
    at = text.index("\n## ") + 1
    entry = (f"## {new} — {date}\n\n| change | what | source |\n|---|---|---|\n"
             f"| {what} | drill | {SYNTHETIC_SOURCE} |\n\n")
    log.write_text(text[:at] + entry + text[at:], encoding="utf-8")
    return new


def add_study(data: Path, date: str | None = None) -> str:
    """A new primary case series with three outcomes (weaned, discharged alive, died during follow-up)."""
    fields, rows = _read(data / "studies.csv")
    template = next(r for r in rows if r["inclusion"] == "primary")
    taken = {r["study_id"] for r in rows}
    sid = next(f"drill{i}" for i in range(2026, 10**6) if f"drill{i}" not in taken)  # whatever data/ holds
    new = dict.fromkeys(fields, "") | {
        "study_id": sid, "first_author": "Drill A", "first_author_verified": "yes", "year": "2026",
        "title": "Synthetic drill study: CRT in inotrope-dependent patients", "journal": "Synthetic",
        "design": "retrospective case series", "n_crt": "17", "retracted": "no", "hernandez2018": "unlikely",
        "inclusion": "primary", "inclusion_reason": template["inclusion_reason"],
        "follow_up_reported": "median 14 months", "follow_up_median": "14", "follow_up_unit": "months",
        "source": SYNTHETIC_SOURCE, "source_location": "abstract", "note": "synthetic"}
    _write(data / "studies.csv", fields, rows + [new])
    ofields, orows = _read(data / "outcomes.csv")
    for outcome, events in (("weaned", 13), ("discharged_alive", 15), ("died_followup", 6)):
        orows.append(dict.fromkeys(ofields, "") | {
            "study_id": sid, "outcome": outcome, "events": str(events), "total": "17",
            "derivation": "reported", "source": SYNTHETIC_SOURCE, "location": "abstract, results"})
    _write(data / "outcomes.csv", ofields, orows)
    return _record(data, "major", date, f"New study ({sid})")


def correct_count(data: Path, date: str | None = None) -> str:
    """One count corrected (the first weaning count below 100%: one more patient weaned)."""
    fields, rows = _read(data / "outcomes.csv")
    row = next(r for r in rows if r["outcome"] == "weaned" and int(r["events"]) < int(r["total"]))
    row["events"] = str(int(row["events"]) + 1)
    row["note"] = "corrected count (synthetic drill)"
    _write(data / "outcomes.csv", fields, rows)
    return _record(data, "minor", date, f"Corrected count ({row['study_id']}, weaned)")


def remove_study(data: Path, date: str | None = None) -> str:
    """A study removed from every file (the last real primary study that no analysis set names)."""
    _, sets = _read(data / "analysis_sets.csv")
    named = {r["study_id"] for r in sets}
    fields, rows = _read(data / "studies.csv")
    gone = [r for r in rows if r["inclusion"] == "primary" and r["study_id"] not in named
            and r["source"] != SYNTHETIC_SOURCE][-1]["study_id"]
    _write(data / "studies.csv", fields, [r for r in rows if r["study_id"] != gone])
    ofields, orows = _read(data / "outcomes.csv")
    _write(data / "outcomes.csv", ofields, [r for r in orows if r["study_id"] != gone])
    if (data / "risk_of_bias.csv").is_file():  # its judgements go with it
        rfields, rrows = _read(data / "risk_of_bias.csv")
        _write(data / "risk_of_bias.csv", rfields, [r for r in rrows if r["study_id"] != gone])
    if (data / "screening.csv").is_file():  # its record stays, excluded with the reason
        sfields, srows = _read(data / "screening.csv")
        for r in srows:
            if r["study_id"] == gone:
                r |= {"decision": "excluded", "exclusion_reason": "removed (synthetic drill)", "study_id": ""}
        _write(data / "screening.csv", sfields, srows)
    return _record(data, "major", date, f"Study removed ({gone})")


def add_outcome(data: Path, date: str | None = None) -> str:
    """A new outcome count for an existing study (survival to discharge for the first study without one)."""
    ofields, orows = _read(data / "outcomes.csv")
    have = {r["study_id"] for r in orows if r["outcome"] == "discharged_alive"}
    _, studies = _read(data / "studies.csv")
    study = next(s for s in studies if s["inclusion"] == "primary" and s["study_id"] not in have)
    n = int(study["n_crt"])
    orows.append(dict.fromkeys(ofields, "") | {
        "study_id": study["study_id"], "outcome": "discharged_alive", "events": str(n - 1), "total": str(n),
        "derivation": "reported", "source": SYNTHETIC_SOURCE, "location": "table 2", "note": "synthetic"})
    _write(data / "outcomes.csv", ofields, orows)
    return _record(data, "minor", date, f"New outcome count ({study['study_id']}, discharged alive)")


#: name -> (function, the version level CONTRIBUTING.md asks for)
CHANGES = {"add_study": (add_study, "major"), "correct_count": (correct_count, "minor"),
           "remove_study": (remove_study, "major"), "add_outcome": (add_outcome, "minor")}


def apply(data: Path, *names: str) -> list[str]:
    """Apply the named changes in order to the data folder ``data``; returns the versions written."""
    return [CHANGES[name][0](Path(data)) for name in names]
