"""Read study data: a counts CSV for the command line, and the project's ``data/`` directory.

Every reader returns typed pandas frames and raises :class:`~metaprop.errors.DataError` with
``FILE:ROW:COLUMN`` (ROW = the file's line number, header = line 1) for a bad cell.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .csvfile import read_counts, read_table
from .protocol import OUTCOMES, POPULATIONS
from .schema import in_package, resource

__all__ = ["read_table_csv", "load", "StudyData", "POPULATIONS",
           "OUTCOMES", "study_label"]


def read_table_csv(path) -> pd.DataFrame:
    """A study-level CSV with counts and extra columns (year, subgroup) for sensitivity analyses."""
    events, total, labels, extra = read_counts(path)
    out = pd.DataFrame(extra)
    out["events"] = events
    out["total"] = total
    out["study"] = labels if labels is not None else [str(i + 1) for i in range(len(events))]
    if "year" in out.columns:
        out["year"] = pd.to_numeric(out["year"], errors="coerce")
    return out


# ---------------------------------------------------------------------------------------------
# The project's data/ directory
# ---------------------------------------------------------------------------------------------

_PANDAS_TYPE = {"integer": "Int64", "number": "Float64", "string": "string", "boolean": "boolean"}

def study_label(row) -> str:
    """'Cowburn 2005' from first author and year; 'PMID 21111981 (2010)' when unverified."""
    author = row.get("first_author")
    author = "" if author is None or pd.isna(author) else str(author).strip()
    verified = row.get("first_author_verified")
    if author and verified is True:
        return f"{author.split()[0]} {int(row['year'])}"
    if author:
        return f"{author.split()[0]}* {int(row['year'])}"
    sid = str(row["study_id"])
    if sid.startswith("pmid"):
        return f"PMID {sid[4:]} ({int(row['year'])})"
    return f"{sid} ({int(row['year'])})"


class StudyData:
    """The validated contents of ``data/`` as typed pandas frames (use :func:`load`).

    Attributes
    ----------
    studies, outcomes, analysis_sets, published : pandas.DataFrame
        One frame per resource of ``datapackage.json``, typed from its Table Schema
        (integer → Int64, number → Float64, boolean → boolean, string → string).
    version, created : str
        Data version (``datapackage.json``) and its date (its entry in ``CHANGELOG.md``).
    """

    def __init__(self, data_dir, descriptor: dict, frames: dict[str, pd.DataFrame]):
        self.data_dir = Path(data_dir)
        self.descriptor = descriptor
        self.version = str(descriptor.get("version", ""))
        from .versioning import changelog_entries

        log = self.data_dir / "CHANGELOG.md"
        entries = changelog_entries(log.read_text(encoding="utf-8-sig")) if log.is_file() else []
        #: the date of this version: its changelog entry's (nothing else keeps it by hand)
        self.created = next((d for v, d, _ in entries if v == self.version), "")
        self.studies = frames["studies"]
        self.outcomes = frames["outcomes"]
        self.analysis_sets = frames["analysis_sets"]
        self.published = frames["published"]
        #: the review's records (optional files; None where data/ has none): every record considered
        #: and its fate, and the JBI critical appraisal of each study
        self.screening = frames.get("screening")
        self.risk_of_bias = frames.get("risk_of_bias")
        self.studies["label"] = [study_label(r) for _, r in self.studies.iterrows()]

    def fields(self, name: str) -> list[dict]:
        """Table Schema fields of one resource (for the data dictionary): the code's rules."""
        return resource(name)["schema"]["fields"]

    def counts(self, outcome: str, population: str = "primary", *,
               drop_derived_from_percent: bool = False) -> pd.DataFrame:
        """Study rows for one outcome: study_id, label, year, events, total, derivation, inclusion.

        ``population`` is a key of :data:`POPULATIONS` or the name of a published analysis set
        (``"hernandez2018"``). Rows are ordered by year, then label.
        """
        if outcome not in OUTCOMES:
            raise DataError(f"Invalid outcome {outcome!r}; must be one of {sorted(OUTCOMES)}.")
        oc = self.outcomes[self.outcomes["outcome"] == outcome]
        df = oc.merge(self.studies[["study_id", "label", "year", "inclusion", "retracted", "n_crt"]],
                      on="study_id", how="left")
        if population in POPULATIONS:
            df = df[df["inclusion"].isin(POPULATIONS[population])]
        else:
            sets = self.analysis_sets
            ids = sets[(sets["analysis_set"] == population) & (sets["outcome"] == outcome)]["study_id"]
            if ids.empty:
                raise DataError(f"No analysis set {population!r} for outcome {outcome!r}.")
            df = df[df["study_id"].isin(set(ids))]
        if drop_derived_from_percent:
            df = df[df["derivation"] != "derived_from_percent"]
        cols = ["study_id", "label", "year", "events", "total", "derivation", "inclusion", "retracted",
                "source", "location", "note"]
        return df.sort_values(["year", "label"])[cols].reset_index(drop=True)

    def missing(self, outcome: str, population: str = "primary") -> pd.DataFrame:
        """Studies of ``population`` without a count for ``outcome`` (what contributors can fill)."""
        have = set(self.outcomes.loc[self.outcomes["outcome"] == outcome, "study_id"])
        st = self.studies[self.studies["inclusion"].isin(POPULATIONS[population])]
        out = st[~st["study_id"].isin(have)]
        out = out[["study_id", "label", "year", "n_crt", "source"]]
        return out.sort_values(["year", "label"]).reset_index(drop=True)


def _typed(df: pd.DataFrame, fields: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for f in fields:
        col = df[f["name"]].str.strip() if f["name"] in df.columns else pd.Series("", index=df.index)
        kind = f.get("type", "string")
        if kind == "boolean":
            true = set(f.get("trueValues", ["true"]))
            out[f["name"]] = col.map(lambda v, t=true: pd.NA if v == "" else v in t).astype("boolean")
        elif kind in ("integer", "number"):
            out[f["name"]] = pd.to_numeric(col.replace("", None)).astype(_PANDAS_TYPE[kind])
        else:
            out[f["name"]] = col.replace("", pd.NA).astype("string")
    return out


def load(data_dir="data", *, check: bool = True) -> StudyData:
    """Read ``data_dir`` into a :class:`StudyData`, after :func:`metaprop.validate.validate`.

    Raises :class:`DataError` listing every problem when the data are not valid, so that no
    analysis ever runs on invalid data.
    """
    from .validate import format_problems, validate

    data_dir = Path(data_dir)
    if check:
        problems = validate(data_dir)
        if problems:
            raise DataError(f"{len(problems)} problem(s) in {data_dir}:\n{format_problems(problems)}")
    descriptor = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8-sig"))
    frames = {}
    for res in in_package(descriptor):  # the code's rules, not the file's (metaprop.review.schema)
        raw = read_table(data_dir / res["path"]).reset_index(drop=True)
        frames[res["name"]] = _typed(raw, res["schema"]["fields"])
    return StudyData(data_dir, descriptor, frames)
