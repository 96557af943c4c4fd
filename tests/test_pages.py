"""Every .qmd page runs as Quarto would run it (cells and inline code, in order, in a fresh kernel).

A page that would break the site's build fails here. Figures and tables are written to
build/pages/ so that they can be looked at.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
import yaml
from qmd import expand_includes, parse_qmd, run_page

from conftest import ROOT

pytestmark = pytest.mark.pages

PAGES = sorted([ROOT / "index.qmd", *(p for p in (ROOT / "analysis").glob("*.qmd") if not p.name.startswith("_"))])
OUT = ROOT / "build" / "pages"


def test_every_page_is_in_the_site():
    cfg = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert cfg["project"]["execute-dir"] == "project"
    assert cfg["format"]["html"]["html-table-processing"] == "none"
    nav = yaml.safe_dump(cfg["website"]["navbar"])
    for page in PAGES:
        if page.name != "index.qmd":
            assert f"analysis/{page.name}" in nav, page.name
    expected = {"index", "weaning", "discharge", "survival-12mo", "mortality", "reproduction", "studies", "search",
                "methods", "sensitivity", "explorer", "data", "cite"}
    assert {p.stem for p in PAGES} == expected


@pytest.mark.skipif(shutil.which("quarto") is not None and os.environ.get("METAPROP_PAGES_WITH_QUARTO") != "1",
                    reason="quarto is on the PATH: tests/test_site.py renders and checks every page for real "
                           "(set METAPROP_PAGES_WITH_QUARTO=1 to run this too)")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_runs_like_quarto(page):
    run = run_page(page)
    OUT.mkdir(parents=True, exist_ok=True)
    assert not run.images(), f"{page.name}: figures come from the build as SVG, not drawn in the page"
    for i, (piece, svg) in enumerate(run.svgs()):
        assert piece.options.get("fig-alt"), f"{page.name}: figure without fig-alt"
        assert piece.options.get("label", "").startswith("fig-")
        (OUT / f"{page.stem}-{i}.svg").write_text(svg, encoding="utf-8")
    for i, (_, html) in enumerate(run.html()):
        (OUT / f"{page.stem}-{i}.html").write_text(html, encoding="utf-8")
    for v in run.inline_values():
        assert v and not re.search(r"\bnan\b|\bNone\b", v), f"{page.name}: inline value {v!r}"


def test_pages_are_thin():
    """No numbers typed into pages: the narrative may cite years and versions, not results."""
    for page in PAGES:
        _, pieces = parse_qmd(page.read_text(), page.parent)
        for p in pieces:
            if p.kind == "cell":
                lines = [ln for ln in p.source.splitlines() if ln.strip() and not ln.startswith(("from ", "import "))]
                assert len(lines) <= 12, f"{page.name}: a cell of {len(lines)} lines belongs in metaprop"
        text = re.sub(r"```.*?```", "", expand_includes(page.read_text(), page.parent), flags=re.S)
        text = re.sub(r"`\{python\}[^`]*`", "", text)
        # percentages other than the conventions 0%, 95% and 100% are results: never typed in
        typed = [m.group(0) for m in re.finditer(r"\b\d+(\.\d+)?\s?%", text) if m.group(0) not in ("0%", "95%", "100%")]
        assert not typed, f"{page.name}: typed-in percentages {typed}"


@pytest.mark.skipif(shutil.which("quarto") is not None and os.environ.get("METAPROP_PAGES_WITH_QUARTO") != "1",
                    reason="quarto is on the PATH: tests/test_site.py checks the rendered home page")
def test_home_shows_2018_reproduction_and_live_estimates():
    """Live data: the shapes of the numbers and the data version; exact values are tested on the
    frozen data (tests/test_data.py, tests/test_headline.py)."""
    from metaprop.review.data import load

    run = run_page(ROOT / "index.qmd")
    values = " ".join(run.inline_values())
    assert re.search(r"\d+\.\d\d% \(\d+\.\d\d to \d+\.\d\d\)", values)
    assert re.search(r"\d+\.\d% \(95% credible interval \d+\.\d to \d+\.\d\)", values)
    assert f"data version {load(ROOT / 'data').version}" in values


def test_forest_plot_has_alt_text_everywhere():
    for page in PAGES:
        _, pieces = parse_qmd(page.read_text(), page.parent)
        for p in pieces:
            if (p.kind == "cell" and ("forest" in p.source or "funnel" in p.source) and "include" not in p.options
                    and p.options.get("output") != "asis"):  # figure_links cells print Markdown, no figure
                assert p.options.get("fig-alt") and p.options.get("fig-cap"), page.name




def test_outcome_pages_share_one_include():
    """The four outcome pages differ only in title and outcome: their body is analysis/_outcome.qmd."""
    for name in ("weaning", "discharge", "survival-12mo", "mortality"):
        text = (ROOT / "analysis" / f"{name}.qmd").read_text()
        assert "{{< include _outcome.qmd >}}" in text and len(text.splitlines()) < 15
        _, pieces = parse_qmd(text, ROOT / "analysis")
        assert any("S.forest(OUTCOME)" in p.source for p in pieces)
