"""Validate ``data/``: the Table Schemas of ``datapackage.json`` (via frictionless) plus domain rules.

:func:`validate` never raises: whatever the bytes in the files, it returns a list of
:class:`Problem`, each located as ``FILE:ROW:COLUMN: message`` with ROW the file's line number
(header = line 1). Spreadsheet-saved CSVs (UTF-8 BOM, CRLF line ends) are accepted.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["Problem", "validate", "format_problems", "DOMAIN_RULES"]

DOMAIN_RULES = {
    "events_le_total": "events must not exceed total",
    "total_le_n_crt": "an outcome's total must not exceed the study's n_crt",
    "year_not_future": "publication year must not be in the future",
    "retracted_not_primary": "a retracted study cannot be in the primary analysis",
    "analysis_set_has_count": "a study in a published analysis set must have a count for that outcome",
    "published_ci_order": "published ci_lower <= estimate <= ci_upper",
    "verified_author_named": "first_author_verified = yes needs a first_author",
}


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One fault in one place. ``row`` is the file's line number (header = 1)."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        loc = self.file
        if self.row is not None:
            loc += f":{self.row}"
            if self.column:
                loc += f":{self.column}"
        elif self.column:
            loc += f"::{self.column}"
        return f"{loc}: {self.message}"


def format_problems(problems) -> str:
    return "\n".join(str(p) for p in problems)


def _precheck(path: Path, label: str) -> list[Problem]:
    """Byte-level faults that make a CSV unreadable: missing, empty, binary, not UTF-8."""
    if not path.is_file():
        return [Problem(label, None, None, "file not found")]
    raw = path.read_bytes()
    if not raw.replace(b"\xef\xbb\xbf", b"", 1).strip():
        return [Problem(label, None, None, "file is empty; a header line is required")]
    if b"\x00" in raw:
        return [Problem(label, None, None, "not a text CSV file (contains NUL bytes)")]
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [Problem(label, line, None, "not valid UTF-8 text (save the file as CSV UTF-8)")]
    return []


def _message(err) -> str:
    kind = err.type
    cell = getattr(err, "cell", None)
    note = getattr(err, "note", "") or ""
    if kind == "type-error":
        return f"{cell!r} is not a valid {note.split(':')[-1].strip() or 'value'}".replace(
            'type is "', "").replace('/default"', "")
    if kind == "constraint-error":
        if 'constraint "required"' in note:
            return "empty cell; a value is required"
        return f"{cell!r} breaks the {note}"
    if kind == "missing-cell":
        return "missing cell (the row has fewer cells than the header)"
    if kind == "extra-cell":
        return f"extra cell {cell!r} (the row has more cells than the header)"
    if kind in ("unique-error", "primary-key"):
        return f"duplicate key: {note}"
    if kind == "foreign-key":
        values = ", ".join(map(repr, getattr(err, "field_values", []) or []))
        ref = getattr(err, "reference_name", "") or "the referenced table"
        return f"{values} not found in {ref}" if values else note
    field = getattr(err, "field_name", None)
    label = getattr(err, "label", None)
    if kind == "missing-label":
        return f"missing column {field!r} (the schema expects it)"
    if kind == "incorrect-label":
        return f"column {label!r} where the schema expects {field!r}"
    if kind == "extra-label":
        return f"unknown column {label!r} (not in the schema; add it to datapackage.json first)"
    if kind == "duplicate-label":
        return f"column {label!r} appears twice"
    if kind == "blank-label":
        return f"empty column name where the schema expects {field!r}"
    if kind == "blank-row":
        return "blank row"
    return f"{err.title}: {note}" if note else err.message


def _schema_problems(descriptor: dict, data_dir: Path, skip: set[str], labels: dict) -> list[Problem]:
    import frictionless

    desc = json.loads(json.dumps(descriptor))
    desc["resources"] = [r for r in desc["resources"] if r["name"] not in skip]
    for r in desc["resources"]:
        fks = r.get("schema", {}).get("foreignKeys", [])
        r["schema"]["foreignKeys"] = [fk for fk in fks if fk["reference"]["resource"] not in skip]
    out = []
    try:
        package = frictionless.Package(desc, basepath=str(data_dir))
        report = package.validate()
    except Exception as exc:  # frictionless raises on descriptors it cannot read
        return [Problem(labels.get("_package"), None, None, f"data package is not valid: {exc}")]
    for err in report.errors:
        out.append(Problem(labels["_package"], None, None, err.message))
    primary_keys = {r["name"]: "+".join(r["schema"].get("primaryKey", [])) for r in desc["resources"]}
    for task in report.tasks:
        label = labels.get(task.name, task.name)
        for err in task.errors:
            row = getattr(err, "row_number", None)
            if row is None and getattr(err, "row_numbers", None):
                row = 1
            col = getattr(err, "field_name", None) or getattr(err, "label", None)
            if err.type == "foreign-key":
                col = "+".join(getattr(err, "field_names", []) or []) or None
            elif err.type == "primary-key":  # frictionless gives composite-key duplicates no column
                col = primary_keys[task.name] or None
            if err.type in ("missing-label", "extra-label", "incorrect-label", "duplicate-label",
                            "blank-label"):
                row = 1
            out.append(Problem(label, row, col, _message(err)))
    return out


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.index = pd.RangeIndex(2, len(df) + 2, name="line")
    return df


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _domain_problems(frames: dict[str, pd.DataFrame], labels: dict) -> list[Problem]:
    out = []
    st = frames.get("studies")
    oc = frames.get("outcomes")
    if st is not None and {"year", "retracted", "inclusion"} <= set(st.columns):
        this_year = _dt.date.today().year
        for line, r in st.iterrows():
            y = pd.to_numeric(r["year"], errors="coerce")
            if pd.notna(y) and y > this_year:
                out.append(Problem(labels["studies"], line, "year",
                                   f"year {int(y)} is in the future ({DOMAIN_RULES['year_not_future']})"))
            if r["retracted"].strip() == "yes" and r["inclusion"].strip() == "primary":
                out.append(Problem(labels["studies"], line, "inclusion",
                                   "retracted study marked 'primary'; use 'sensitivity_retracted'"))
            if ("first_author_verified" in st.columns and r["first_author_verified"].strip() == "yes"
                    and not r.get("first_author", "").strip()):
                out.append(Problem(labels["studies"], line, "first_author",
                                   "empty, but first_author_verified is 'yes'"))
    if oc is not None and {"events", "total", "study_id", "outcome"} <= set(oc.columns):
        ev, tot = _numeric(oc["events"]), _numeric(oc["total"])
        ncrt = {}
        if st is not None and {"study_id", "n_crt"} <= set(st.columns):
            ncrt = dict(zip(st["study_id"].str.strip(), _numeric(st["n_crt"]), strict=True))
        for line in oc.index:
            e, t = ev[line], tot[line]
            if pd.notna(e) and pd.notna(t) and e > t:
                out.append(Problem(labels["outcomes"], line, "events", f"{int(e)} events > {int(t)} total"))
            n = ncrt.get(oc.at[line, "study_id"].strip())
            if pd.notna(t) and n is not None and pd.notna(n) and t > n:
                out.append(Problem(labels["outcomes"], line, "total",
                                   f"total {int(t)} > the study's n_crt {int(n)} (studies.csv)"))
        sets = frames.get("analysis_sets")
        if sets is not None and {"outcome", "study_id"} <= set(sets.columns):
            have = set(zip(oc["study_id"].str.strip(), oc["outcome"].str.strip(), strict=True))
            for line, r in sets.iterrows():
                o = r["outcome"].strip()
                if o != "any" and (r["study_id"].strip(), o) not in have:
                    out.append(Problem(labels["analysis_sets"], line, "study_id",
                                       f"{r['study_id']} has no '{o}' count in outcomes.csv"))
    pub = frames.get("published")
    if pub is not None and {"estimate", "ci_lower", "ci_upper"} <= set(pub.columns):
        e, lo, hi = _numeric(pub["estimate"]), _numeric(pub["ci_lower"]), _numeric(pub["ci_upper"])
        for line in pub.index:
            if pd.notna(e[line]) and pd.notna(lo[line]) and pd.notna(hi[line]) and not (
                    lo[line] <= e[line] <= hi[line]):
                out.append(Problem(labels["published"], line, "estimate",
                                   f"estimate {e[line]:g} outside its CI {lo[line]:g}-{hi[line]:g}"))
    return out


def validate(data_dir="data") -> list[Problem]:
    """All problems in ``data_dir`` (empty list when valid). Never raises for bad data.

    Parameters
    ----------
    data_dir : path
        Folder with ``datapackage.json`` and the CSV files it names.

    Returns
    -------
    list of Problem
        Sorted by file and line.
    """
    try:
        return _validate(Path(data_dir))
    except Exception as exc:  # last line of defence: a located message, never a traceback
        return [Problem(str(Path(data_dir) / "datapackage.json"), None, None,
                        f"could not be validated ({type(exc).__name__}: {exc}); check its structure")]


def _validate(data_dir: Path) -> list[Problem]:
    dp_label = str(data_dir / "datapackage.json")
    labels = {"_package": dp_label}
    try:
        descriptor = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8-sig"))
        resources = descriptor["resources"]
        names = [r["name"] for r in resources]
        paths = [r["path"] for r in resources]
        for r in resources:
            if not isinstance(r.get("schema"), dict) or not r["schema"].get("fields"):
                return [Problem(dp_label, None, None, f"resource {r['name']!r} has no Table Schema fields")]
    except FileNotFoundError:
        return [Problem(dp_label, None, None, "file not found")]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return [Problem(dp_label, None, None, f"not a readable data package ({exc})")]
    problems: list[Problem] = []
    skip: set[str] = set()
    frames: dict[str, pd.DataFrame] = {}
    for name, rel in zip(names, paths, strict=True):
        label = str(data_dir / rel)
        labels[name] = label
        pre = _precheck(data_dir / rel, label)
        if pre:
            problems += pre
            skip.add(name)
            continue
        try:
            frames[name] = _read(data_dir / rel)
        except Exception:  # ragged or malformed: frictionless locates it below
            pass
    problems += _schema_problems(descriptor, data_dir, skip, labels)
    problems += _domain_problems(frames, labels)
    unique = sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
    return unique
