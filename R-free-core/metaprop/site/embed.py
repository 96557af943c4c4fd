"""Figures and widgets on the pages: the SVGs the build drew (``results/``), shown with their alt
text, and the explorer's mount point (page functions of a :class:`~.context.Build`, :data:`PAGE`)."""

from __future__ import annotations

import json
from pathlib import Path

from ..review.protocol import OUTCOMES
from ..text import html_escape, md_escape
from .context import Build

#: the page functions of this module (:class:`metaprop.site.pages.Site` looks names up here)
PAGE = ("figure", "explorer_panel", "figure_links", "forest", "reproduction_forest", "funnel")
__all__ = ["RawHtml", "SvgFigure", *PAGE]


class RawHtml:
    """HTML the page should insert as is (built here, every data value escaped)."""
    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def _repr_markdown_(self) -> str:
        # raw HTML in Markdown, as the tables and figures: a text/html output would make Quarto load
        # require.js and jQuery from a CDN for Jupyter widgets
        return "```{=html}\n" + self.html + "\n```\n"


class SvgFigure:
    """A figure written by the build (``results/NAME.svg``), shown as an image with its alt text.

    Pages show the figures the pre-render step drew once, instead of drawing them again in each
    page's kernel; under each, the page links the same SVG at full size. Where the build also drew
    a compact layout (``NAME_compact.svg``), phones get it: a ``<picture>`` with a media query, so
    that no text of the figure is smaller than 9 CSS px at 390 px or at 1280 px.
    """
    #: the narrow screens that get the compact layout (Bootstrap's "sm" breakpoint)
    MEDIA = "(max-width: 575.98px)"

    def __init__(self, path: Path, prefix: str = ".."):
        self.path = Path(path)
        self.prefix = prefix

    def alt(self) -> str:
        """The figure's description in words, from the build's alt_text.json."""
        alt = self.path.parent / "alt_text.json"
        texts = json.loads(alt.read_text(encoding="utf-8")) if alt.is_file() else {}
        return texts.get(self.path.stem, "")

    def as_html(self) -> str:
        src = f"{self.prefix}/results/{self.path.name}"
        compact = self.path.with_name(f"{self.path.stem}_compact.svg")
        source = (f'<source media="{self.MEDIA}" srcset="{html_escape(self.prefix)}/results/{compact.name}">'
                  if compact.is_file() else "")
        return (f'<picture>{source}<img src="{html_escape(src)}" alt="{html_escape(self.alt())}" '
                'class="img-fluid"></picture>')

    def _repr_markdown_(self) -> str:
        # raw HTML in Markdown, as the tables: a text/html output would make Quarto load
        # require.js and jQuery from a CDN for Jupyter widgets
        return "```{=html}\n" + self.as_html() + "\n```\n"



def figure(build: Build, name: str, prefix: str = "..") -> SvgFigure:
    """``results/NAME.svg`` of this build, e.g. ``forest_weaned`` or ``funnel_weaned``; ``prefix``
    is the way from the page to the site's root ("." on the home page)."""
    path = build.root / "results" / f"{name}.svg"
    if not path.is_file():
        raise KeyError(f"no figure {name!r} in this build")
    return SvgFigure(path, prefix)


def explorer_panel(build: Build, prefix: str = "..") -> RawHtml:
    """The explorer's mount point: site-assets/explorer.js fills it from results/explorer_*.json
    and site-assets/explorer-engine.js (the inverse-variance methods, for any choice of studies).
    Without JavaScript the reader sees the sentence below instead."""
    outcomes = json.dumps([{"key": k, "label": v} for k, v in OUTCOMES.items()])
    html = (f'<div id="explorer" class="explorer" data-base="{html_escape(prefix)}/results/" '
            f'data-outcomes="{html_escape(outcomes)}">'
            "<p>The explorer needs JavaScript; every analysis it offers is also in "
            f'<a href="{html_escape(prefix)}/results/results.json">results.json</a>.</p></div>'
            f'<script src="{html_escape(prefix)}/site-assets/explorer-engine.js" defer></script>'
            f'<script src="{html_escape(prefix)}/site-assets/explorer.js" defer></script>')
    return RawHtml(html)


def figure_links(build: Build, name: str, prefix: str = ".") -> str:
    """Markdown under a figure: a link to its full-size SVG and its description in words."""
    alt = SvgFigure(build.root / "results" / f"{name}.svg").alt()
    link = f"[Full-size figure (SVG)]({prefix}/results/{name}.svg){{.figure-link}}"
    if not alt:
        return link
    return (f"{link}\n\n<details class=\"figure-words\"><summary>The figure in words</summary>\n\n"
            f"{md_escape(alt)}\n\n</details>\n")


def forest(build: Build, outcome: str, prefix: str = "..") -> SvgFigure:
    return figure(build, f"forest_{outcome}", prefix)


def reproduction_forest(build: Build, source: str = "hernandez2018", outcome: str = "weaned",
                        prefix: str = "..") -> SvgFigure:
    return figure(build, f"forest_{source}_{outcome}", prefix)


def funnel(build: Build, outcome: str, prefix: str = "..") -> SvgFigure:
    return figure(build, f"funnel_{outcome}", prefix)
