"""The PRISMA 2020 flow counted from screening records (hand counts of a small synthetic set)."""

from __future__ import annotations

import pandas as pd

from metaprop.review.prisma import prisma_flow


def test_flow_counts_each_box_from_the_records():
    rows = [  # record, source, stage, decision, reason, study
        ("r1", "database_search", "full_text", "included", "", "s1"),
        ("r2", "database_search", "full_text", "excluded", "no inotrope-dependent patients", ""),
        ("r3", "database_search", "full_text", "excluded", "no inotrope-dependent patients", ""),
        ("r4", "database_search", "full_text", "excluded", "review, no new patients", ""),
        ("r5", "database_search", "title_abstract", "excluded", "not CRT", ""),
        ("r6", "database_search", "identified", "duplicate", "", ""),
        ("r7", "database_search", "identified", "awaiting", "", ""),
        ("r8", "published_review", "title_abstract", "included", "", "s2"),
        ("r9", "not_recorded", "title_abstract", "unknown", "", ""),
    ]
    sc = pd.DataFrame(rows, columns=["record_id", "source", "stage", "decision", "exclusion_reason", "study_id"])
    sc["study_id"] = sc["study_id"].replace("", None)
    studies = pd.DataFrame({"study_id": ["s1", "s2", "s3"], "inclusion": ["primary", "sensitivity_population",
                                                                         "primary"]})
    f = prisma_flow(sc, studies)
    assert (f.databases, dict(f.other), f.identified) == (7, {"study lists of published reviews": 1,
                                                             "source not recorded": 1}, 9)
    assert (f.duplicates, f.not_screened) == (1, 1)          # r6; r7 not screened yet
    assert (f.screened, f.excluded_screening) == (7, 1)      # r1-r5, r8, r9; r5
    assert f.assessed == 4                                   # r1-r4
    assert f.excluded_full_text == (("no inotrope-dependent patients", 2), ("review, no new patients", 1))
    assert (f.awaiting, f.included_records, f.included_studies) == (1, 2, 2)  # r9; r1, r8
    assert dict(f.included_by_set) == {"primary": 1, "sensitivity_population": 1}


def test_no_records_no_flow():
    assert prisma_flow(None, pd.DataFrame()) is None


def test_page_shows_the_flow_and_its_words_with_text_escaped():
    from types import SimpleNamespace

    from metaprop.site.selection import prisma_diagram, prisma_text

    sc = pd.DataFrame([("r1", "database_search", "full_text", "excluded", "<script>alert(1)</script>", None),
                       ("r2", "contributor", "full_text", "included", "", "s1")],
                      columns=["record_id", "source", "stage", "decision", "exclusion_reason", "study_id"])
    flow = prisma_flow(sc, pd.DataFrame({"study_id": ["s1"], "inclusion": ["primary"]}))
    build = SimpleNamespace(results=SimpleNamespace(prisma=flow))
    html = prisma_diagram(build)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;: 1" in html
    assert "Saved database search: 1" in html and "contributors: 1" in html and "primary analysis: 1" in html
    words = str(prisma_text(build))
    assert words.startswith("Records identified: 2 (1 by the saved database search; "
                            "other methods: 1 from contributors)")
    assert "<script>" not in words and "Studies included: 1 (1 in the primary analysis)" in words
    none = SimpleNamespace(results=SimpleNamespace(prisma=None))
    assert "No screening records yet" in prisma_diagram(none).html and "No screening records yet" in prisma_text(none)


def test_risk_of_bias_figures_are_drawn_with_alt_text(tmp_path):
    from metaprop.review.data import load
    from metaprop.site.figures import save
    from metaprop.site.rob_figures import rob_alt_text, summary_bar, traffic_light

    from conftest import FROZEN_DATA

    data = load(FROZEN_DATA)
    rob = pd.DataFrame([{"study_id": s, "item": i, "judgement": "yes" if i == 4 else "unclear"}
                        for s in data.studies["study_id"][:2] for i in range(1, 11)])
    save(traffic_light(rob, data.studies), tmp_path / "t.svg")
    save(summary_bar(rob, data.studies), tmp_path / "s.svg")
    assert "Cowburn 2005" in (tmp_path / "t.svg").read_text() and (tmp_path / "s.svg").stat().st_size > 1000
    # Cowburn 2005 (10 patients) and Konstantino 2006 (10): both yes on item 4, unclear elsewhere
    text = rob_alt_text(rob, data.studies)
    assert "item 4 (consecutive inclusion): yes 2 (20 patients)" in text and "item 1 (clear inclusion criteria): " \
        "unclear 2 (20 patients)" in text


def test_search_text_gives_the_latest_screening_of_search_records():
    from types import SimpleNamespace

    from metaprop.site.selection import search_text

    sc = pd.DataFrame({"source": ["database_search", "database_search", "contributor"],
                       "date_screened": ["2026-01-05", "2026-03-02", "2026-11-30"]})
    text = str(search_text(SimpleNamespace(data=SimpleNamespace(screening=sc))))
    assert "latest screening of its records recorded in data/: 2026\\-03\\-02" in text  # not the contributor's
    assert "No screening of its records" in str(search_text(SimpleNamespace(data=SimpleNamespace(screening=None))))
