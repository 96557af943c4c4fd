"""Validate ``data/``: the review's Table Schemas (held by the code, :mod:`metaprop.review.schema`;
checked with frictionless) plus domain rules.

:func:`validate` never raises: whatever the bytes in the files, it returns a list of
:class:`Problem`, each located as ``FILE:ROW:COLUMN: message`` with ROW the file's line number
(header = line 1). Spreadsheet-saved CSVs (UTF-8 BOM, CRLF line ends) are accepted.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .csvfile import INTEGER_TEXT, NUMBER_TEXT, read_table

__all__ = ["Problem", "validate", "format_problems", "DOMAIN_RULES", "RULES"]

DOMAIN_RULES = {
    "text_safe": "text cells hold no control characters and do not begin with = + - @ (spreadsheet formulas)",
    "numbers_finite": "number cells are finite (no Infinity, NaN)",
    "numbers_ascii": "numbers are written with the digits 0-9 (no 1_0, no other scripts' digits)",
    "counts_bounded": "counts are at most 10^7 (no study is larger)",
    "header_clean": "header cells have no leading or trailing spaces",
    "version_semver": "the data version is MAJOR.MINOR.PATCH",
    "events_le_total": "events must not exceed total",
    "total_le_n_crt": "an outcome's total must not exceed the study's n_crt",
    "year_not_future": "publication year must not be in the future",
    "retracted_not_primary": "a retracted study cannot be in the primary analysis",
    "analysis_set_has_count": "a study in a published analysis set must have a count for that outcome",
    "published_ci_order": "published ci_lower <= estimate <= ci_upper",
    "verified_author_named": "first_author_verified = yes needs a first_author",
}


_BIDI_AND_C1 = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # C1 controls, separators, bidi overrides
_CONTROL_ANY = re.compile(f"[\x00-\x1f{_BIDI_AND_C1}]")


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
        # one line per problem, whatever the cell held: control characters shown escaped
        message = _CONTROL_ANY.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), self.message)
        return f"{loc}: {message}"


def format_problems(problems) -> str:
    return "\n".join(str(p) for p in problems)


def _precheck(path: Path, label: str) -> list[Problem]:
    """Faults found before parsing: not a regular file inside data/ (checked before any read),
    missing, empty, binary, not UTF-8, a delimiter other than the comma."""
    if path.is_symlink():
        return [Problem(label, None, None, "is a symbolic link; data/ takes regular files only")]
    if not path.exists():
        return [Problem(label, None, None, "file not found")]
    if not path.is_file():
        return [Problem(label, None, None, "is not a regular file")]
    raw = path.read_bytes()
    if not raw.replace(b"\xef\xbb\xbf", b"", 1).strip():
        return [Problem(label, None, None, "file is empty; a header line is required")]
    if b"\x00" in raw:
        return [Problem(label, None, None, "not a text CSV file (contains NUL bytes)")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [Problem(label, line, None, "not valid UTF-8 text (save the file as CSV UTF-8)")]
    header = text.splitlines()[0] if text.splitlines() else ""
    if "," not in header and any(d in header for d in (";", "\t", "|")):
        return [Problem(label, 1, None, "columns must be separated by commas (CSV), not ';', tabs or '|'")]
    return []


def _data_dir_problems(data_dir: Path) -> list[Problem]:
    """Only regular, listed files in data/, none reached through a link: checked before any read."""
    from .schema import resources

    listed = {"datapackage.json", "CHANGELOG.md"} | {r["path"] for r in resources()}
    out = []
    if data_dir.is_symlink():
        return [Problem(str(data_dir), None, None, "is a symbolic link; give the data folder itself")]
    for base, dirs, files in os.walk(data_dir, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(base) / name
            rel = path.relative_to(data_dir).as_posix()
            if path.is_symlink():
                out.append(Problem(str(path), None, None, "is a symbolic link; data/ takes regular files only"))
            elif path.is_dir():
                if rel != "scripts":
                    out.append(Problem(str(path), None, None, "unexpected folder in data/"))
            elif not path.is_file():
                out.append(Problem(str(path), None, None, "is not a regular file"))
            elif rel not in listed and not (rel.startswith("scripts/") and rel.endswith(".py")):
                out.append(Problem(str(path), None, None,
                                   "file not listed in the data package (data/ holds its CSVs, "
                                   "datapackage.json, CHANGELOG.md and scripts/*.py only)"))
        dirs[:] = [d for d in dirs if not (Path(base) / d).is_symlink()]
    return out


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
        return (f"unknown column {label!r} (not in the review's schema, metaprop/review/schema.json; "
                "new columns are a change of rules, made in the code and datapackage.json together)")
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


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_BIDI_AND_C1}]")  # in cells: all but tab and line feed
_NUMBER_TYPES = ("integer", "number")
MAX_COUNT = 10**7


def _parses(v: str) -> bool:
    """Python (and so frictionless) reads it as a number: then only the ASCII rule can refuse it;
    text that is no number at all is frictionless' type error, reported once."""
    try:
        float(v.strip())
    except ValueError:
        return False
    return True


def _cells(frames: dict[str, pd.DataFrame], labels: dict):
    """Every non-empty text cell of the code's Table Schemas: ``(file label, line, column, type, text)``."""
    from .schema import resources

    for res in resources():
        df = frames.get(res["name"])
        if df is None:
            continue
        types = {f["name"]: f.get("type", "string") for f in res["schema"]["fields"]}
        for col, kind in types.items():
            if col not in df.columns:
                continue
            for line, v in df[col].items():
                if isinstance(v, str) and v != "":
                    yield labels[res["name"]], line, col, kind, v


def _number_cells(frames, labels):
    """Number cells without control characters: ``(label, line, column, type, stripped text)``."""
    for label, line, col, kind, v in _cells(frames, labels):
        if kind in _NUMBER_TYPES and not _CONTROL.search(v):
            yield label, line, col, kind, v.strip()


def _not_finite(v: str) -> bool:
    return v.lower().lstrip("+-") in ("inf", "infinity", "nan")


def _ascii_number(v: str, kind: str) -> bool:
    return bool((INTEGER_TEXT if kind == "integer" else NUMBER_TEXT).fullmatch(v))


def rule_text_safe(frames, labels) -> list[Problem]:
    out = []
    for label, line, col, kind, v in _cells(frames, labels):
        if _CONTROL.search(v):
            out.append(Problem(label, line, col, "contains a control or bidirectional-override character"))
        elif kind == "string" and v.lstrip()[:1] in ("=", "+", "-", "@"):
            out.append(Problem(label, line, col, f"text may not begin with {v.lstrip()[0]!r} "
                                                 "(a spreadsheet would run it as a formula)"))
    return out


def rule_numbers_finite(frames, labels) -> list[Problem]:
    return [Problem(label, line, col, f"{v!r} is not a finite number")
            for label, line, col, _, v in _number_cells(frames, labels) if _not_finite(v)]


def rule_numbers_ascii(frames, labels) -> list[Problem]:
    # the one rule of metaprop.review.csvfile.parse_count: no 1_0, no non-ASCII digits; text that is no
    # number at all is frictionless' type error, reported once
    return [Problem(label, line, col, f"{v!r} is not written as "
                    f"{'a whole number' if kind == 'integer' else 'a number'} (digits 0-9 only)")
            for label, line, col, kind, v in _number_cells(frames, labels)
            if not _not_finite(v) and _parses(v) and not _ascii_number(v, kind)]


def rule_counts_bounded(frames, labels) -> list[Problem]:
    out = []
    for label, line, col, kind, v in _number_cells(frames, labels):
        if col in ("events", "total", "n_crt") and not _not_finite(v) and _ascii_number(v, kind):
            x = pd.to_numeric(v, errors="coerce")
            if pd.notna(x) and abs(x) > MAX_COUNT:
                out.append(Problem(label, line, col, f"{v} is larger than any study ({MAX_COUNT:,})"))
    return out


def rule_header_clean(frames, labels) -> list[Problem]:
    return [Problem(labels[name], 1, col.strip(), f"header cell {col!r} has surrounding spaces")
            for name, df in frames.items() for col in df.columns if col != col.strip()]


def _studies(frames):
    st = frames.get("studies")
    return st if st is not None and {"year", "retracted", "inclusion"} <= set(st.columns) else None


def rule_year_not_future(frames, labels) -> list[Problem]:
    st, out = _studies(frames), []
    if st is not None:
        this_year = _dt.date.today().year
        for line, r in st.iterrows():
            y = pd.to_numeric(r["year"], errors="coerce")
            if pd.notna(y) and y > this_year:
                out.append(Problem(labels["studies"], line, "year",
                                   f"year {int(y)} is in the future ({DOMAIN_RULES['year_not_future']})"))
    return out


def rule_retracted_not_primary(frames, labels) -> list[Problem]:
    st = _studies(frames)
    return [] if st is None else [
        Problem(labels["studies"], line, "inclusion", "retracted study marked 'primary'; use 'sensitivity_retracted'")
        for line, r in st.iterrows() if r["retracted"].strip() == "yes" and r["inclusion"].strip() == "primary"]


def rule_verified_author_named(frames, labels) -> list[Problem]:
    st = _studies(frames)
    if st is None or "first_author_verified" not in st.columns:
        return []
    return [Problem(labels["studies"], line, "first_author", "empty, but first_author_verified is 'yes'")
            for line, r in st.iterrows()
            if r["first_author_verified"].strip() == "yes" and not r.get("first_author", "").strip()]


def _outcomes(frames):
    oc = frames.get("outcomes")
    return oc if oc is not None and {"events", "total", "study_id", "outcome"} <= set(oc.columns) else None


def rule_events_le_total(frames, labels) -> list[Problem]:
    oc = _outcomes(frames)
    if oc is None:
        return []
    ev, tot = _numeric(oc["events"]), _numeric(oc["total"])
    return [Problem(labels["outcomes"], line, "events", f"{int(ev[line])} events > {int(tot[line])} total")
            for line in oc.index if pd.notna(ev[line]) and pd.notna(tot[line]) and ev[line] > tot[line]]


def rule_total_le_n_crt(frames, labels) -> list[Problem]:
    oc, st = _outcomes(frames), frames.get("studies")
    if oc is None or st is None or not {"study_id", "n_crt"} <= set(st.columns):
        return []
    ncrt = dict(zip(st["study_id"].str.strip(), _numeric(st["n_crt"]), strict=True))
    tot, out = _numeric(oc["total"]), []
    for line in oc.index:
        t, n = tot[line], ncrt.get(oc.at[line, "study_id"].strip())
        if pd.notna(t) and n is not None and pd.notna(n) and t > n:
            out.append(Problem(labels["outcomes"], line, "total",
                               f"total {int(t)} > the study's n_crt {int(n)} (studies.csv)"))
    return out


def rule_analysis_set_has_count(frames, labels) -> list[Problem]:
    oc, sets = _outcomes(frames), frames.get("analysis_sets")
    if oc is None or sets is None or not {"outcome", "study_id"} <= set(sets.columns):
        return []
    have = set(zip(oc["study_id"].str.strip(), oc["outcome"].str.strip(), strict=True))
    return [Problem(labels["analysis_sets"], line, "study_id", f"{r['study_id']} has no '{r['outcome'].strip()}' "
                    "count in outcomes.csv")
            for line, r in sets.iterrows()
            if r["outcome"].strip() != "any" and (r["study_id"].strip(), r["outcome"].strip()) not in have]


def rule_published_ci_order(frames, labels) -> list[Problem]:
    pub = frames.get("published")
    if pub is None or not {"estimate", "ci_lower", "ci_upper"} <= set(pub.columns):
        return []
    e, lo, hi = _numeric(pub["estimate"]), _numeric(pub["ci_lower"]), _numeric(pub["ci_upper"])
    return [Problem(labels["published"], line, "estimate",
                    f"estimate {e[line]:g} outside its CI {lo[line]:g}-{hi[line]:g}")
            for line in pub.index
            if pd.notna(e[line]) and pd.notna(lo[line]) and pd.notna(hi[line]) and not lo[line] <= e[line] <= hi[line]]


#: each rule on the read tables, keyed by its name in :data:`DOMAIN_RULES` ("version_semver" is
#: checked on datapackage.json itself, in :func:`_validate`)
RULES = {
    "text_safe": rule_text_safe,
    "numbers_finite": rule_numbers_finite,
    "numbers_ascii": rule_numbers_ascii,
    "counts_bounded": rule_counts_bounded,
    "header_clean": rule_header_clean,
    "events_le_total": rule_events_le_total,
    "total_le_n_crt": rule_total_le_n_crt,
    "year_not_future": rule_year_not_future,
    "retracted_not_primary": rule_retracted_not_primary,
    "analysis_set_has_count": rule_analysis_set_has_count,
    "published_ci_order": rule_published_ci_order,
    "verified_author_named": rule_verified_author_named,
}


def _domain_problems(frames: dict[str, pd.DataFrame], labels: dict) -> list[Problem]:
    return [p for rule in RULES.values() for p in rule(frames, labels)]


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
    from .schema import package_problems, resources

    dp_label = str(data_dir / "datapackage.json")
    labels = {"_package": dp_label}
    problems = _data_dir_problems(data_dir)
    dp = data_dir / "datapackage.json"
    if dp.is_symlink() or not dp.is_file():
        return sorted(set(problems + ([] if dp.is_symlink() else [Problem(dp_label, None, None, "file not found")])))
    try:
        descriptor = json.loads(dp.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem(dp_label, None, None, f"not a readable data package ({exc})")]
    problems += [Problem(dp_label, None, None, m) for m in package_problems(descriptor)]
    version = descriptor.get("version") if isinstance(descriptor, dict) else None
    if not (isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version)):
        problems.append(Problem(dp_label, None, "version", f"data version {version!r} is not MAJOR.MINOR.PATCH "
                                f"({DOMAIN_RULES['version_semver']})"))
    # from here on, only the code's rules: names, paths and Table Schemas of metaprop.review.schema
    descriptor = {"resources": [dict(r, profile="tabular-data-resource", format="csv", encoding="utf-8",
                                     dialect={"delimiter": ",", "quoteChar": '"', "header": True})
                                for r in resources()]}
    names = [r["name"] for r in descriptor["resources"]]
    paths = [r["path"] for r in descriptor["resources"]]
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
            frames[name] = read_table(data_dir / rel)
        except Exception:  # ragged or malformed: frictionless locates it below
            pass
    if isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version):
        from .versioning import changelog_problems

        log = str(data_dir / "CHANGELOG.md")
        problems += [Problem(log, line, None, msg) for line, msg in changelog_problems(data_dir, version)]
    problems += _schema_problems(descriptor, data_dir, skip, labels)
    problems += _domain_problems(frames, labels)
    unique = sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
    return unique
