"""The domain rules ``metaprop validate`` applies to data/'s tables, each a function keyed by its
name (:data:`RULES`, described in :data:`DOMAIN_RULES`), and the :class:`Problem` each reports.

A rule takes the tables as read (text cells, the file's line numbers as index) and their file
labels, and returns its problems; it never raises for bad data.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import pandas as pd

from .csvfile import INTEGER_TEXT, NUMBER_TEXT

__all__ = ["Problem", "DOMAIN_RULES", "RULES", "MAX_COUNT", "BIDI_AND_C1"]


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
    "screening_included_has_study": "an included screening record names its study in studies.csv",
    "screening_excluded_has_reason": "an excluded screening record gives the reason",
    "rob_study_known": "a risk-of-bias judgement is about a study in studies.csv",
}


BIDI_AND_C1 = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # C1 controls, separators, bidi overrides
_CONTROL_ANY = re.compile(f"[\x00-\x1f{BIDI_AND_C1}]")


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


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{BIDI_AND_C1}]")  # in cells: all but tab and line feed


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


def _study_ids(frames) -> set[str] | None:
    st = frames.get("studies")
    return None if st is None or "study_id" not in st.columns else {v.strip() for v in st["study_id"]}


def rule_screening_included_has_study(frames, labels) -> list[Problem]:
    sc, ids = frames.get("screening"), _study_ids(frames)
    if sc is None or ids is None or not {"decision", "study_id"} <= set(sc.columns):
        return []
    return [Problem(labels["screening"], line, "study_id",
                    f"included, but {r['study_id'].strip() or 'no study'} is not a study_id of studies.csv")
            for line, r in sc.iterrows() if r["decision"].strip() == "included" and r["study_id"].strip() not in ids]


def rule_screening_excluded_has_reason(frames, labels) -> list[Problem]:
    sc = frames.get("screening")
    if sc is None or not {"decision", "exclusion_reason"} <= set(sc.columns):
        return []
    return [Problem(labels["screening"], line, "exclusion_reason", "excluded, but no reason is given")
            for line, r in sc.iterrows() if r["decision"].strip() == "excluded" and not r["exclusion_reason"].strip()]


def rule_rob_study_known(frames, labels) -> list[Problem]:
    rob, ids = frames.get("risk_of_bias"), _study_ids(frames)
    if rob is None or ids is None or "study_id" not in rob.columns:
        return []
    return [Problem(labels["risk_of_bias"], line, "study_id", f"{r['study_id'].strip()} is not a study of studies.csv")
            for line, r in rob.iterrows() if r["study_id"].strip() not in ids]


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
    "screening_included_has_study": rule_screening_included_has_study,
    "screening_excluded_has_reason": rule_screening_excluded_has_reason,
    "rob_study_known": rule_rob_study_known,
}

