"""Validate ``data/``: the review's Table Schemas (held by the code, :mod:`metaprop.review.schema`;
checked with frictionless) plus domain rules.

:func:`validate` never raises: whatever the bytes in the files, it returns a list of
:class:`Problem`, each located as ``FILE:ROW:COLUMN: message`` with ROW the file's line number
(header = line 1). Spreadsheet-saved CSVs (UTF-8 BOM, CRLF line ends) are accepted.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from .csvfile import read_table
from .rules import DOMAIN_RULES, RULES, Problem

__all__ = ["Problem", "validate", "format_problems", "DOMAIN_RULES", "RULES"]




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
    from .schema import in_package, package_problems

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
    descriptor = {"resources": [dict({k: v for k, v in r.items() if k != "optional"},
                                     profile="tabular-data-resource", format="csv", encoding="utf-8",
                                     dialect={"delimiter": ",", "quoteChar": '"', "header": True})
                                for r in in_package(descriptor)]}
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
