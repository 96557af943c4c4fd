"""The PRISMA 2020 flow of records, computed from ``data/screening.csv`` (Page et al. 2021).

Every number of the flow diagram is a count of screening records; nothing is typed. A record is
identified by the saved search (``database_search``) or by other methods (a published review's
study list, reference lists, contributors, or a source not recorded); duplicates are removed; the
rest are screened on title and abstract, those not excluded there have their full text assessed,
and the included records name the studies they became.

References
----------
Page MJ, McKenzie JE, Bossuyt PM, et al. (2021). The PRISMA 2020 statement: an updated guideline for
reporting systematic reviews. BMJ 372:n71. doi:10.1136/bmj.n71
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Flow", "prisma_flow", "SOURCE_LABEL"]

#: how each source of records is named in the diagram
SOURCE_LABEL = {"database_search": "PubMed (saved search)", "published_review": "study lists of published reviews",
                "reference_list": "reference lists", "contributor": "contributors",
                "not_recorded": "source not recorded"}


@dataclass(frozen=True)
class Flow:
    """The counts of a PRISMA 2020 flow diagram (new review, databases and other methods)."""

    databases: int
    other: tuple[tuple[str, int], ...]  # (source label, records), other methods
    duplicates: int
    not_screened: int  # identified, not yet screened (the "Records to screen" issue)
    screened: int
    excluded_screening: int
    assessed: int  # full texts assessed for eligibility
    excluded_full_text: tuple[tuple[str, int], ...]  # (reason, records)
    awaiting: int  # screened, decision awaiting or not recorded
    included_records: int
    included_studies: int
    included_by_set: tuple[tuple[str, int], ...]  # (inclusion status, studies)

    @property
    def identified(self) -> int:
        return self.databases + sum(n for _, n in self.other)


def prisma_flow(screening: pd.DataFrame | None, studies: pd.DataFrame) -> Flow | None:
    """The flow of ``screening`` (data/screening.csv), the included studies' inclusion from
    ``studies``; None without screening records."""
    if screening is None or screening.empty:
        return None
    sc = screening.fillna({"exclusion_reason": ""})
    dup = sc["decision"] == "duplicate"
    rest = sc[~dup]
    screened = rest[rest["stage"].isin(["title_abstract", "full_text"])]
    excluded_ta = screened[(screened["stage"] == "title_abstract") & (screened["decision"] == "excluded")]
    full = screened[screened["stage"] == "full_text"]
    excl_ft = full[full["decision"] == "excluded"]
    reasons = excl_ft.groupby("exclusion_reason").size().sort_values(ascending=False, kind="stable")
    inc = screened[screened["decision"] == "included"]
    inc_ids = set(inc["study_id"].dropna())
    by_set = studies[studies["study_id"].isin(inc_ids)].groupby("inclusion").size()
    other = sc[sc["source"] != "database_search"].groupby("source").size()
    return Flow(databases=int((sc["source"] == "database_search").sum()),
                other=tuple((SOURCE_LABEL.get(s, s), int(n)) for s, n in other.items()),
                duplicates=int(dup.sum()), not_screened=int((rest["stage"] == "identified").sum()),
                screened=len(screened), excluded_screening=len(excluded_ta), assessed=len(full),
                excluded_full_text=tuple((str(r), int(n)) for r, n in reasons.items()),
                awaiting=int(screened["decision"].isin(["awaiting", "unknown"]).sum()),
                included_records=len(inc), included_studies=len(inc_ids),
                included_by_set=tuple((str(s), int(n)) for s, n in by_set.items()))
