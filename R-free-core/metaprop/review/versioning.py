"""The data version's rules: what a change to ``data/`` requires of ``version`` and the changelog.

The data follow semantic versioning, judged by what changed between a base (``main``) and the
proposed data, cell by cell, with rows matched on each resource's primary key:

=======  ==========================================================================================
level    when
=======  ==========================================================================================
MAJOR    a study is added or removed, or a study's ``inclusion`` changes (the analyses' study sets)
MINOR    an outcome count is added, removed or corrected (``events``, ``total``, ``derivation``), or
         a published result or a published analysis set is added, removed or changed
PATCH    any other cell or data package entry: bibliographic and baseline data, sources, notes
=======  ==========================================================================================

The highest level that applies decides: the new version must be exactly the base version bumped at
that level (1.4.2 -> 2.0.0, 1.5.0 or 1.4.3), and ``CHANGELOG.md`` must open with an entry
``## VERSION — YYYY-MM-DD`` for it. Nothing else is kept by hand: the data's date is that entry's.
Unchanged data keep their version. ``metaprop validate data --base REF`` applies these rules;
CONTRIBUTING.md quotes :data:`VERSION_RULES` (a test keeps the two in step).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VERSION_RULES", "LEVELS", "changelog_entries", "changelog_problems", "data_changes", "bump",
           "VersionCheck", "check_version"]

LEVELS = ("patch", "minor", "major")

#: (level, what triggers it): the rules as CONTRIBUTING.md states them
VERSION_RULES = (
    ("major", "a study is added or removed, or a study's `inclusion` changes"),
    ("minor", "an outcome count is added, removed or corrected (`events`, `total`, `derivation`)"),
    ("minor", "a published result (`published.csv`) or a published analysis set (`analysis_sets.csv`) "
              "is added, removed or changed"),
    ("minor", "a screening record (`screening.csv`) or a risk-of-bias judgement (`risk_of_bias.csv`) is added, "
              "removed or changed"),
    ("patch", "any other cell or data package entry changes (bibliographic and baseline data, "
              "sources, notes, wording)"),
)

#: a changelog entry's heading: "## 1.2.0 — 2026-12-01" (an en dash or hyphen is accepted too)
_ENTRY = re.compile(r"^## +(\S+) +[—–-] +(\S+) *$", re.M)
_SEMVER = re.compile(r"\d+\.\d+\.\d+")
#: columns whose change is MINOR (other columns of the same file: PATCH)
_MINOR_COLUMNS = {"outcomes": {"events", "total", "derivation"}}


def changelog_entries(text: str) -> list[tuple[str, str, int]]:
    """Every ``## VERSION — DATE`` heading of a changelog: (version, date, line number), in order."""
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _ENTRY.finditer(text)]


def changelog_problems(data_dir, version: str, today: _dt.date | None = None) -> list[tuple[int | None, str]]:
    """(line, message) for every way ``CHANGELOG.md`` fails the rules for data ``version``:
    its first entry names ``version`` with a real date not in the future, and versions and dates
    never go up further down the file."""
    path = Path(data_dir) / "CHANGELOG.md"
    if not path.is_file():
        return [(None, "file not found: every data version needs its entry here")]
    entries = changelog_entries(path.read_text(encoding="utf-8-sig"))
    if not entries:
        return [(None, f"no entry: the first heading must read '## {version} — YYYY-MM-DD'")]
    out = []
    today = today or _dt.date.today()
    prev = None
    for v, d, line in entries:
        if not _SEMVER.fullmatch(v):
            out.append((line, f"version {v!r} is not MAJOR.MINOR.PATCH"))
            continue
        try:
            date = _dt.date.fromisoformat(d)
        except ValueError:
            out.append((line, f"date {d!r} is not YYYY-MM-DD"))
            continue
        if date > today:
            out.append((line, f"date {d} is in the future"))
        key = (tuple(int(x) for x in v.split(".")), date)
        if prev is not None and not (key[0] < prev[0] and key[1] <= prev[1]):
            out.append((line, f"entry {v} ({d}) is not older than the one above it: newest first"))
        prev = key
    first = entries[0]
    if first[0] != version:
        out.append((first[2], f"the first entry is {first[0]}, but datapackage.json's version is {version}: "
                              f"add '## {version} — YYYY-MM-DD' on top"))
    return out


def bump(version: str, level: str) -> str:
    """``version`` bumped at ``level``: bump("1.4.2", "minor") == "1.5.0"."""
    major, minor, patch = (int(v) for v in version.split("."))
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0",
            "patch": f"{major}.{minor}.{patch + 1}"}[level]


def _tables(data_dir: Path) -> dict:
    """Each resource's rows as {primary key: {column: text}}, read as text (never typed), so that
    a base in an older format can still be compared."""
    from .csvfile import read_table
    from .schema import resources

    out = {}
    for res in resources():
        path = data_dir / res["path"]
        if not path.is_file():
            out[res["name"]] = {}
            continue
        df = read_table(path)
        key = res["schema"].get("primaryKey") or list(df.columns)
        rows = {}
        for _, r in df.iterrows():
            cells = {c: str(v).strip() for c, v in r.items()}
            rows[tuple(cells.get(k, "") for k in key)] = cells
        out[res["name"]] = rows
    return out


def _package(data_dir: Path) -> dict:
    try:
        desc = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return desc if isinstance(desc, dict) else {}


def data_changes(base_dir, head_dir) -> list[tuple[str, str]]:
    """(level, what) for every change from ``base_dir`` to ``head_dir`` (empty: same data).
    ``CHANGELOG.md`` and ``version`` itself are not data changes."""
    base_dir, head_dir = Path(base_dir), Path(head_dir)
    base, head = _tables(base_dir), _tables(head_dir)
    out: list[tuple[str, str]] = []
    for name in head:
        b, h = base.get(name, {}), head[name]
        for key in sorted(set(b) | set(h)):
            what = f"{name}.csv {'/'.join(key)}"
            if key not in b or key not in h:
                verb = "added" if key not in b else "removed"
                level = "major" if name == "studies" else "minor"
                out.append((level, f"{'study' if name == 'studies' else 'row'} {verb}: {what}"))
                continue
            cols = sorted(c for c in set(b[key]) | set(h[key]) if b[key].get(c, "") != h[key].get(c, ""))
            for c in cols:
                if name == "studies":
                    level = "major" if c == "inclusion" else "patch"
                elif name in _MINOR_COLUMNS:
                    level = "minor" if c in _MINOR_COLUMNS[name] else "patch"
                else:
                    level = "minor"
                out.append((level, f"{what}: {c} changed"))
    bp, hp = _package(base_dir), _package(head_dir)
    for k in sorted((set(bp) | set(hp)) - {"version"}):
        if bp.get(k) != hp.get(k):
            out.append(("patch", f"datapackage.json: {k} changed"))
    for rel in sorted({p.name for d in (base_dir, head_dir) for p in (d / "scripts").glob("*.py")}):
        a, b2 = base_dir / "scripts" / rel, head_dir / "scripts" / rel
        if (a.read_bytes() if a.is_file() else None) != (b2.read_bytes() if b2.is_file() else None):
            out.append(("patch", f"scripts/{rel} changed"))
    return out


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """What :func:`check_version` found: the change's level and the version it requires."""

    base_version: str
    version: str
    level: str | None  # None: the data did not change
    required: str
    changes: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: what the change is and whether the version follows."""
        if self.level is None:
            return f"no data change: version stays {self.base_version}"
        first = next(w for lv, w in self.changes if lv == self.level)
        more = len(self.changes) - 1
        return (f"{self.level.upper()} change ({first}{f'; {more} more' if more else ''}): "
                f"version {self.base_version} -> {self.required}")


def check_version(base_dir, head_dir) -> VersionCheck:
    """Apply the module's rules to a change of the data from ``base_dir`` to ``head_dir``."""
    base_version = str(_package(Path(base_dir)).get("version", ""))
    version = str(_package(Path(head_dir)).get("version", ""))
    changes = tuple(data_changes(base_dir, head_dir))
    level = max((lv for lv, _ in changes), key=LEVELS.index, default=None)
    problems = []
    if not _SEMVER.fullmatch(base_version):
        required = version
    else:
        required = base_version if level is None else bump(base_version, level)
    if version != required:
        if level is None:
            problems.append(f"version is {version} but the data did not change: keep {base_version}")
        else:
            why = next(w for lv, w in changes if lv == level)
            problems.append(f"version is {version}; this {level.upper()} change ({why}) needs {required} "
                            f"(base {base_version})")
    if level is not None:
        problems += [f"CHANGELOG.md:{line}: {msg}" if line else f"CHANGELOG.md: {msg}"
                     for line, msg in changelog_problems(head_dir, version)]
    return VersionCheck(base_version, version, level, required, changes, tuple(problems))
