"""The "Search and selection" page and the risk-of-bias figures: the saved search, the PRISMA 2020
flow of records (computed by the build from data/screening.csv) with its text equivalent, and the
JBI judgements (page functions of a :class:`~.context.Build`, :data:`PAGE`)."""

from __future__ import annotations

from ..review.prisma import Flow
from ..review.protocol import SEARCH
from ..text import MarkdownText, html_escape, md_escape
from .context import Build
from .embed import RawHtml

#: the page functions of this module (:class:`metaprop.site.pages.Site` looks names up here)
PAGE = ("search_text", "search_query", "prisma_diagram", "prisma_text", "rob_text")
__all__ = list(PAGE)

_INCLUSION = {"primary": "primary analysis", "sensitivity_population": "sensitivity analyses (broader population)",
              "sensitivity_retracted": "sensitivity analysis (retracted)", "excluded": "excluded"}


def search_text(build: Build) -> MarkdownText:
    """The searches this review builds on, and what the saved search covers."""
    prev = "; ".join(f"{who}: {where}, through {until}" for who, where, until in SEARCH["previous"])
    sc = build.data.screening
    dates = (sc.loc[sc["source"] == "database_search", "date_screened"].dropna().astype(str)
             if sc is not None and "date_screened" in sc.columns else [])
    last = (f"The latest screening of its records recorded in data/: {md_escape(max(dates))}." if len(dates)
            else "No screening of its records is recorded in data/ yet.")
    return MarkdownText(f"Earlier searches: {md_escape(prev)}. {last} The saved search runs in "
                        f"{md_escape(SEARCH['database'])} once a month and covers records entered from "
                        f"{md_escape(SEARCH['searched_until'])} on; the records it finds that `data/` does not hold "
                        "yet are listed in the repository's \"Records to screen\" issue.")


def search_query(build: Build) -> str:
    """The query, as a Markdown code block (the protocol's text, not contributed)."""
    return "```text\n" + SEARCH["query"] + "\n```\n"


def _flow(build: Build) -> Flow | None:
    return build.results.prisma


def prisma_text(build: Build) -> MarkdownText:
    """The flow in words (the diagram's text equivalent)."""
    f = _flow(build)
    if f is None:
        return MarkdownText("No screening records yet (data/screening.csv).")
    other = ", ".join(f"{n} from {md_escape(s)}" for s, n in f.other) or "none"
    reasons = "; ".join(f"{md_escape(r)}: {n}" for r, n in f.excluded_full_text) or "none"
    sets = ", ".join(f"{n} in the {_INCLUSION.get(s, md_escape(s))}" for s, n in f.included_by_set)
    return MarkdownText(
        f"Records identified: {f.identified} ({f.databases} by the saved database search; other methods: {other}). "
        f"Duplicates removed: {f.duplicates}. Not yet screened: {f.not_screened}. Screened on title and abstract: "
        f"{f.screened}; excluded there: {f.excluded_screening}. Full texts assessed: {f.assessed}; excluded, with "
        f"reasons: {reasons}. Decision awaiting or not recorded: {f.awaiting}. Studies included: "
        f"{f.included_studies} ({sets}).")


def _box(title: str, lines: list[str]) -> str:
    items = "".join(f"<li>{html_escape(x)}</li>" for x in lines)
    return f'<div class="prisma-box"><p class="prisma-title">{html_escape(title)}</p><ul>{items}</ul></div>'


def prisma_diagram(build: Build) -> RawHtml:
    """The PRISMA 2020 flow diagram as HTML boxes (stages top to bottom, exclusions beside), every
    number from the screening records and every text escaped."""
    f = _flow(build)
    if f is None:
        return RawHtml("<p>No screening records yet (data/screening.csv).</p>")
    rows = [
        ("Identification",
         _box("Records identified", [f"Saved database search: {f.databases}"]
              + [f"{s}: {n}" for s, n in f.other]),
         _box("Removed before screening", [f"Duplicates: {f.duplicates}", f"Not yet screened: {f.not_screened}"])),
        ("Screening",
         _box("Records screened (title and abstract)", [str(f.screened)]),
         _box("Records excluded", [str(f.excluded_screening)])),
        ("Eligibility",
         _box("Full texts assessed for eligibility", [str(f.assessed)]),
         _box("Full texts excluded, with reasons", [f"{r}: {n}" for r, n in f.excluded_full_text] or ["none"])),
        ("Included",
         _box("Studies included in the review", [str(f.included_studies)]
              + [f"{_INCLUSION.get(s, s)}: {n}" for s, n in f.included_by_set]),
         _box("Decision awaiting or not recorded", [str(f.awaiting)])),
    ]
    html = "".join(f'<div class="prisma-row"><p class="prisma-stage">{html_escape(stage)}</p>{main}{side}</div>'
                   for stage, main, side in rows)
    return RawHtml(f'<figure class="prisma" aria-describedby="prisma-words"><figcaption>PRISMA 2020 flow of '
                   f"records, from data/screening.csv</figcaption>{html}</figure>")


def rob_text(build: Build) -> MarkdownText:
    """How many judgements there are and what they rest on."""
    rob = build.data.risk_of_bias
    if rob is None or rob.empty:
        return MarkdownText("No risk-of-bias judgements yet (data/risk_of_bias.csv).")
    n = rob["study_id"].nunique()
    counts = rob["judgement"].value_counts()
    said = ", ".join(f"{int(counts.get(j, 0))} {j.replace('_', ' ')}" for j in ("yes", "no", "unclear",
                                                                                 "not_applicable"))
    return MarkdownText(f"{len(rob)} judgements for {n} studies ({said}), each with its supporting quote or "
                        "reason and its source in data/risk_of_bias.csv.")
