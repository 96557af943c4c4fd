"""Tables with great-tables: the house style, the wrapper every page table goes through, and the
tables of the studies and the data (page functions of a :class:`~.context.Build`, :data:`PAGE`);
tables of analysis results are in :mod:`.result_tables`, of the coverage study in :mod:`.coverage`.

Apply the house style with ``.pipe(house_style)``; pages display ``show(gt)``: the table's HTML in
a focusable, labelled region that scrolls sideways on a narrow screen instead of widening the page
(Quarto must leave its CSS alone: ``html-table-processing: none`` in ``_quarto.yml``). It reaches
Quarto as a raw-HTML Markdown block, not as ``text/html`` output: Quarto loads require.js and jQuery
from a CDN for any page with ``text/html`` cell output.
"""

from __future__ import annotations

import html
import os
import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
from great_tables import GT, loc, style

from ..formatting import DASH
from ..review.data import StudyData
from ..review.protocol import OUTCOMES
from .context import Build

#: the page functions of this module (:class:`metaprop.site.pages.Site` looks names up here)
PAGE = ("study_table", "completeness_table", "protocol_frame", "protocol_table", "dictionary", "software_table")
__all__ = ["HtmlTable", "show", "house_style", "fmt_estimate_cols", "fmt_range_cols", "study_frame", "study_gt",
           "completeness_frame", "completeness_gt",
           "dictionary_gt", "software_versions", "INCLUSION_LABEL", *PAGE]


class HtmlTable:
    """A ``GT`` as Quarto should show it: raw HTML in a scrollable region that takes focus."""
    def __init__(self, gt: GT):
        self.gt = gt

    @property
    def label(self) -> str:
        heading = getattr(self.gt, "_heading", None)
        return str(getattr(heading, "title", None) or "Table")

    @property
    def id(self) -> str:
        """The table's HTML id, from its title: great-tables draws a random one otherwise, and the
        same data would not render to the same page twice."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")[:60]
        return f"gt-{slug or 'table'}"

    def as_html(self) -> str:
        return (f'<div class="table-responsive" tabindex="0" role="region" '
                f'aria-label="{html.escape(self.label, quote=True)}">\n'
                f"{self.gt.with_id(self.id).as_raw_html()}\n</div>")

    def _repr_markdown_(self) -> str:
        return "```{=html}\n" + self.as_html() + "\n```\n"


def show(gt: GT) -> HtmlTable:
    """Wrap a finished ``GT`` for a page (see the module docstring)."""
    return HtmlTable(gt)


def house_style(gt: GT) -> GT:
    """Compact, left-aligned, grey header: the site's look for every table."""
    return gt.tab_options(table_font_size="13px", heading_align="left", column_labels_font_weight="bold",
                          table_width="100%", data_row_padding="3px",
                          source_notes_font_size="12px").opt_horizontal_padding(scale=1.5)


def fmt_estimate_cols(gt: GT, est: str, lo: str, hi: str, decimals: int = 1, scale: float = 100) -> GT:
    """Three numeric columns shown as one: '93.4 (86.2 to 100.0)' (proportions times ``scale``),
    an em dash where the estimate is missing; the column keeps ``est``'s label."""
    return (gt.fmt_number(columns=[est, lo, hi], decimals=decimals, scale_by=scale)
            .sub_missing(columns=est, missing_text=DASH)
            .cols_merge(columns=[est, lo, hi], pattern="{0}<< ({1} to {2})>>"))


def fmt_range_cols(gt: GT, lo: str, hi: str, decimals: int = 1, scale: float = 100) -> GT:
    """Two numeric columns shown as one: '3.4 to 100.0', an em dash where missing."""
    return (gt.fmt_number(columns=[lo, hi], decimals=decimals, scale_by=scale)
            .sub_missing(columns=lo, missing_text=DASH)
            .cols_merge(columns=[lo, hi], pattern="{0}<< to {1}>>"))


def _stat(mean, sd, median) -> str:
    if pd.notna(mean) and pd.notna(sd):
        return f"{mean:g} \u00b1 {sd:g}"
    if pd.notna(mean):
        return f"{mean:g}"
    if pd.notna(median):
        return f"{median:g} (median)"
    return DASH


def _follow_up(r) -> str:
    u = r["follow_up_unit"] if pd.notna(r["follow_up_unit"]) else ""
    if pd.notna(r["follow_up_mean"]) or pd.notna(r["follow_up_median"]):
        s = _stat(r["follow_up_mean"], r["follow_up_sd"], r["follow_up_median"])
        if pd.notna(r["follow_up_min"]):
            s += f", {r['follow_up_min']:g}-{r['follow_up_max']:g}"
        return f"{s} {u}".strip()
    return r["follow_up_reported"] if pd.notna(r["follow_up_reported"]) else DASH


INCLUSION_LABEL = {"primary": "Primary", "sensitivity_population": "Sensitivity (broader population)",
                   "sensitivity_retracted": "Sensitivity (retracted)", "excluded": "Excluded"}


def study_frame(data: StudyData) -> pd.DataFrame:
    st = data.studies.sort_values(["year", "label"])
    return pd.DataFrame({
        "Study": st["label"], "Year": st["year"].astype(int),
        "Design": st["design"].fillna(DASH), "Country": st["country"].fillna(DASH),
        "n": st["n_crt"].astype("Int64").astype(str).replace("<NA>", DASH),
        "Age, years": [_stat(a, b, c) for a, b, c in zip(st["age_mean"], st["age_sd"], st["age_median"], strict=True)],
        "LVEF, %": [_stat(a, b, c) for a, b, c in zip(st["lvef_mean"], st["lvef_sd"], st["lvef_median"], strict=True)],
        "QRS, ms": [_stat(a, b, c) for a, b, c in zip(st["qrs_mean"], st["qrs_sd"], st["qrs_median"], strict=True)],
        "NYHA IV, %": st["nyha_iv_pct"].map(lambda v: DASH if pd.isna(v) else f"{v:g}"),
        "Follow-up": [_follow_up(r) for _, r in st.iterrows()],
        "Inclusion": st["inclusion"].map(INCLUSION_LABEL),
        "Retracted": st["retracted"].map({True: "RETRACTED", False: ""}),
        "In 2018 review": st["hernandez2018"].astype(str),
    })


def study_gt(data: StudyData) -> GT:
    """Study characteristics with units, inclusion status and retraction flags."""
    df = study_frame(data)
    return (GT(df).tab_header(title="Study characteristics",
                              subtitle=f"{len(df)} candidate studies; data version {data.version}")
            .tab_style(style=[style.text(color="#A33A00", weight="bold")],
                       locations=loc.body(columns="Retracted"))
            .tab_source_note("Mean \u00b1 SD unless marked median; n = patients on intravenous inotropes "
                             f"who received CRT; {DASH} = not reported in the sources read. Baseline values of "
                             "PMID 21664704 describe its whole cohort.")
            .pipe(house_style))


def completeness_frame(data: StudyData) -> pd.DataFrame:
    st = data.studies.sort_values(["year", "label"])
    oc = data.outcomes.set_index(["study_id", "outcome"])
    out = {"Study": list(st["label"]), "Inclusion": list(st["inclusion"].map(INCLUSION_LABEL))}
    for o in OUTCOMES:
        col = []
        for sid in st["study_id"]:
            if (sid, o) in oc.index:
                r = oc.loc[(sid, o)]
                flag = {"reported": "", "derived": " (derived)", "derived_from_percent": " (from %)"}[r["derivation"]]
                col.append(f"{r['events']}/{r['total']}{flag}")
            else:
                col.append("missing")
        out[o] = col
    baseline = ["age_mean", "lvef_mean", "qrs_mean", "nyha_iv_pct", "follow_up_reported"]
    out["Baseline cells empty"] = [int(sum(pd.isna(r[c]) for c in baseline)) for _, r in st.iterrows()]
    return pd.DataFrame(out)


def completeness_gt(data: StudyData) -> GT:
    """Which counts exist, how they were obtained, and which cells contributors can still fill."""
    df = completeness_frame(data)
    gt = GT(df).cols_label(**{o: OUTCOMES[o] for o in OUTCOMES})
    for o in OUTCOMES:
        gt = gt.tab_style(style=[style.fill(color="#FBE3D6"), style.text(color="#7A2E00")],
                          locations=loc.body(columns=o, rows=df.index[df[o] == "missing"].tolist()))
    return (gt.tab_header(title="Data completeness", subtitle="events/total per outcome; 'missing' = not in "
                                                              "the sources read yet")
            .tab_source_note("(derived) follows logically from the source; (from %) is a percentage times n, "
                             "rounded. Baseline cells counted: age, LVEF, QRS, NYHA IV, follow-up.")
            .pipe(house_style))

def dictionary_gt(data: StudyData, resource: str) -> GT:
    """Data dictionary of one resource from ``datapackage.json`` (type, unit, constraints)."""
    rows = []
    for f in data.fields(resource):
        c = f.get("constraints", {})
        cons = ", ".join(f"{k} {v}" if k != "enum" else "one of " + " | ".join(v) for k, v in c.items()
                         if k != "required")
        rows.append({"Column": f["name"], "Type": f.get("type", "string"), "Unit": f.get("unit", ""),
                     "Required": "yes" if c.get("required") else "", "Allowed values": cons,
                     "Description": f.get("description", "")})
    return GT(pd.DataFrame(rows)).tab_header(title=f"{resource}.csv").pipe(house_style)


def study_table(build: Build):
    return show(study_gt(build.data))


def completeness_table(build: Build):
    return show(completeness_gt(build.data))


def protocol_frame(build: Build) -> pd.DataFrame:
    st = build.data.studies.sort_values(["year", "label"])
    return pd.DataFrame({"Study": st["label"], "Inclusion": st["inclusion"],
                         "Why": st["inclusion_reason"], "Hernandez 2018": st["hernandez2018"]})


def protocol_table(build: Build) -> HtmlTable:

    df = protocol_frame(build)
    df["Inclusion"] = df["Inclusion"].map(INCLUSION_LABEL)
    df["Hernandez 2018"] = df["Hernandez 2018"].map({True: "yes", False: "no"}).fillna(DASH)
    return show(GT(df.fillna(DASH)).tab_header(title="Inclusion of each candidate study").pipe(house_style))


def dictionary(build: Build, resource: str):
    return show(dictionary_gt(build.data, resource))


def _quarto_version() -> str:
    """The Quarto running this render (Quarto puts its bin path in QUARTO_BIN_PATH), if any."""
    exe = os.environ.get("QUARTO_BIN_PATH")
    exe = str(Path(exe) / "quarto") if exe else shutil.which("quarto")
    if not exe:
        return "not used (pages executed without Quarto)"
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout.strip() or DASH
    except (OSError, subprocess.SubprocessError):
        return DASH


def software_versions() -> pd.DataFrame:
    """Python and package versions used in this build (printed on the methods page)."""
    rows = [("Python", platform.python_version())]
    for pkg in ("metaprop", "numpy", "scipy", "pandas", "plotnine", "matplotlib", "great-tables",
                "frictionless"):
        try:
            rows.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    rows.append(("Quarto", _quarto_version()))
    return pd.DataFrame(rows, columns=["Software", "Version"])


def software_table(build=None) -> HtmlTable:
    """:func:`software_versions` as a table (the same for any build)."""
    return show(GT(software_versions()).tab_header(title="Software used in this build").pipe(house_style))
