"""What the Quarto pages call: one object per build that answers each page's questions.

Pages stay thin (one call per cell); every sentence with a number is built here, and tested.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..engine.report import fmt_p
from ..formatting import DASH, estimate_ci, interval, method_label
from ..review.protocol import OUTCOMES, REPRODUCTIONS, SENSITIVITY_SETS, SUBGROUP
from .build import build_info, load_build
from .tables import HtmlTable, show
from .text import MarkdownText, md_escape

__all__ = ["Site", "build_info", "software_versions", "software_table", "fmt_estimate", "SvgFigure"]



def fmt_estimate(h: dict) -> str:
    """'97.1% (95% CI 64.2 to 99.8)' from a :func:`metaprop.analyses.headline` dict."""
    if h.get("result") is None:
        return "not estimable: no study reports it"
    return estimate_ci(h["estimate"], h["ci_lower"], h["ci_upper"], scale=1, unit="%", ci_label="95% CI ")


def _quarto_version() -> str:
    """The Quarto running this render (Quarto puts its bin path in QUARTO_BIN_PATH), if any."""
    import shutil

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


def software_table() -> HtmlTable:
    """:func:`software_versions` as a table."""
    from great_tables import GT

    from .tables import house_style

    return show(GT(software_versions()).tab_header(title="Software used in this build").pipe(house_style))


class RawHtml:
    """HTML the page should insert as is (built here, every data value escaped)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


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
        import json

        alt = self.path.parent / "alt_text.json"
        texts = json.loads(alt.read_text(encoding="utf-8")) if alt.is_file() else {}
        return texts.get(self.path.stem, "")

    def as_html(self) -> str:
        from .text import html_escape

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


class Site:
    """All results of one build, computed once from ``data_dir`` (see :mod:`metaprop.site.build`)."""

    def __init__(self, data_dir="data"):
        self.data_dir = Path(data_dir)
        self.root = self.data_dir.resolve().parent
        self.data, self.results = load_build(self.root, self.data_dir)

    def figure(self, name: str, prefix: str = "..") -> SvgFigure:
        """``results/NAME.svg`` of this build, e.g. ``forest_weaned`` or ``funnel_weaned``; ``prefix``
        is the way from the page to the site's root ("." on the home page)."""
        path = self.root / "results" / f"{name}.svg"
        if not path.is_file():
            raise KeyError(f"no figure {name!r} in this build")
        return SvgFigure(path, prefix)

    # -- headline (the protocol's headline rules: metaprop.review.headline) -------------------
    def headline(self, outcome: str):
        """The :class:`metaprop.review.headline.Headline` of ``outcome``."""
        return self.results.headlines[outcome]

    def primary(self, outcome: str) -> dict:
        """The GLMM analysis R meta gives (values as a dict; ``result`` the PoolResult or None)."""
        return self.results.primary[outcome]

    def estimate(self, outcome: str) -> str:
        """'91.4% (95% credible interval 73.2 to 98.1)' when pooled; otherwise the counts as counts
        ('not pooled: 31 of 31 patients in 3 studies') and why it is not pooled."""
        h = self.headline(outcome)
        if h.status == "pooled":
            b = h.bayes.p_mean
            return estimate_ci(b.median, b.lower, b.upper, unit="%", ci_label="95% credible interval ")
        if h.status == "none":
            return "not estimable: no study reports it"
        return f"not pooled: {self.counts_text(outcome)}, because {h.why_not_pooled}"

    def counts_text(self, outcome: str) -> str:
        """'59 of 65 patients in 5 studies': the primary analysis' counts, as counts."""
        h = self.headline(outcome)
        return f"{h.events} of {h.patients} patients in {h.k} {'study' if h.k == 1 else 'studies'}"

    def follow_up_text(self, outcome: str) -> str:
        """Each study's count with its follow-up: 'Konstantino* 2006: 5 of 10 (median 9.5 months)'."""
        h = self.headline(outcome)
        return "; ".join(f"{r['label']}: {r['events']} of {r['total']}"
                         + (f" ({r['follow_up']})" if r["follow_up"] else " (follow-up not reported)")
                         for _, r in h.studies.iterrows())

    def prediction(self, outcome: str) -> str:
        """A new study's true proportion, 95% predictive range: '43.3 to 99.9%'."""
        h = self.headline(outcome)
        if h.status != "pooled":
            return "no range for a new study (not pooled)"
        return interval(h.bayes.p_new.lower, h.bayes.p_new.upper, unit="%")

    def evidence(self, outcome: str) -> str:
        h = self.headline(outcome)
        studies = f"{h.k} {'study' if h.k == 1 else 'studies'}, {h.patients} patients"
        if not h.patients:
            return studies
        if h.derived_patients == 0:
            return f"{studies}, every count reported"
        return (f"{studies}, {h.derived_patients} of {h.patients} patients' counts derived "
                f"({100 * h.derived_share:.0f}%)")

    def answer(self, outcome: str) -> str:
        """The home page's line for one outcome: estimate, range for a new study, evidence, certainty."""
        h = self.headline(outcome)
        if h.status == "pooled":
            new = (f"; the true proportion of a new study's population would lie in {self.prediction(outcome)} "
                   "(95% predictive range)")
            return f"{self.estimate(outcome)}{new} ({self.evidence(outcome)}). Certainty: {self.certainty(outcome)}."
        # not pooled: the estimate already gives the counts; the evidence adds what they rest on
        derived = self.evidence(outcome).split(" patients, ", 1)[-1] if h.patients else ""
        return f"{self.estimate(outcome)}{f'; {derived}' if derived else ''}. Certainty: {self.certainty(outcome)}."

    def headline_paragraph(self, outcome: str) -> MarkdownText:
        """The outcome page's first line: the headline, the range for a new study where pooled, and
        the evidence behind it (numbers and fixed words only; nothing contributed is shown)."""
        h = self.headline(outcome)
        if h.status == "pooled":
            return MarkdownText(f"**Headline (mean proportion, Bayesian model):** {md_escape(self.estimate(outcome))}"
                                f"; a new study's true proportion, 95% predictive range: "
                                f"{md_escape(self.prediction(outcome))} ({md_escape(self.evidence(outcome))}).")
        text = f"**Headline:** {md_escape(self.estimate(outcome))} ({md_escape(self.evidence(outcome))})."
        if h.status == "no_horizon":
            text += f" Each study, with its follow-up: {md_escape(self.follow_up_text(outcome))}."
        return MarkdownText(text)

    def models_paragraph(self, outcome: str) -> MarkdownText:
        """The Bayesian median study (where pooled) and R meta's default analysis, named by the model
        actually fitted: the GLMM, or Freeman-Tukey where the GLMM has no finite estimate."""
        h = self.headline(outcome)
        res = self.primary(outcome).get("result")
        if res is not None and res.method != "GLMM":
            name = (f"{method_label(res.sm, res.method, res.method_tau, long=True)}, as the GLMM has no finite "
                    "estimate when every study reports 100% or 0%")
        else:
            name = "GLMM"
        glmm = f"**R meta's default analysis** ({md_escape(name)}): {md_escape(self.glmm_text(outcome))}."
        if h.status == "no_horizon":
            glmm += (" It pools counts over different follow-up times, as R meta would print it; it is not a risk "
                     "at any stated time.")
        if h.status == "pooled":
            return MarkdownText(f"**Median study's proportion** (Bayesian model): "
                                f"{md_escape(self.median_study(outcome))}. {glmm}")
        return MarkdownText(glmm)

    def median_study(self, outcome: str) -> str:
        """The Bayesian model's median-study proportion expit(mu), for the outcome page."""
        h = self.headline(outcome)
        if h.status != "pooled":
            return DASH
        b = h.bayes.p_median
        return estimate_ci(b.median, b.lower, b.upper, unit="%", ci_label="95% credible interval ")

    def certainty(self, outcome: str) -> str:
        h = self.headline(outcome)
        return h.certainty.text if h.certainty is not None else "not assessed (no data)"

    def published_beside(self, outcome: str) -> str:
        """Markdown list: each published estimate of the outcome and why ours differs (labels escaped)."""
        h = self.headline(outcome)
        if not h.published:
            return MarkdownText("No published meta-analysis reports this outcome.")
        lines = [f"- {md_escape(p.citation)}: "
                 + estimate_ci(p.estimate, p.ci_lower, p.ci_upper, digits=None, scale=1, unit="%")
                 + f". Why ours differs: {md_escape(p.why)}." for p in h.published]
        return MarkdownText("\n".join(lines))

    def headline_frame(self) -> pd.DataFrame:
        """The home page's table: counts as counts for every outcome; the pooled estimate only
        where the headline rules pool, never a count under an estimate's heading."""
        rows = []
        for o in ("weaned", "discharged_alive", "alive_12mo"):
            h = self.headline(o)
            if h.status == "pooled":
                b = h.bayes.p_mean
                est = estimate_ci(b.median, b.lower, b.upper, unit="%")
            elif h.status == "none":
                est = DASH
            else:
                est = f"not pooled: {h.why_not_pooled}"
            pub = "; ".join(f"{p.citation}: {estimate_ci(p.estimate, p.ci_lower, p.ci_upper, digits=None, scale=1)}"
                            for p in h.published) or DASH
            rows.append({"Outcome": OUTCOMES[o], "Patients with the outcome": self.counts_text(o) if h.k else DASH,
                         "Pooled mean proportion, % (95% CrI)": est,
                         "A new study's true proportion (95% predictive range)":
                             self.prediction(o) if h.status == "pooled" else DASH,
                         "Evidence": self.evidence(o), "Published, %": pub,
                         "Certainty": h.certainty.level.capitalize() if h.certainty else DASH})
        return pd.DataFrame(rows)

    def headline_table(self):
        from great_tables import GT

        from .tables import house_style

        return show(GT(self.headline_frame()).tab_header(title="What the evidence says",
                                                     subtitle=f"Data version {self.data.version} "
                                                              f"({self.data.created})")
                .tab_source_note("Patients with the outcome: the primary analysis' counts, added up. Pooled mean "
                                 "proportion: population-averaged, Bayesian binomial-normal random-effects "
                                 "model (95% credible interval, CrI); not pooled below 3 studies or when every "
                                 "study is at 100%. A new study's true proportion: where the proportion of a "
                                 "new study's population would lie (95% predictive range; a small study would "
                                 "observe a wider spread). Certainty: GRADE-style.")
                .pipe(house_style))

    # -- coverage study and headline model (methods page) ----------------------------------
    @functools.cached_property
    def coverage(self) -> pd.DataFrame:
        """The coverage study's committed table, read once per page."""
        from .coverage import load_coverage

        return load_coverage(self.root)

    def coverage_sentence(self, short: bool = False) -> str:
        """What the coverage study found and which model the protocol's rule chose from it."""
        from ..review.protocol import COVERAGE_RULE
        from .coverage import choose, coverage_by_method, coverage_settings

        df = self.coverage
        st = coverage_settings(self.root)
        best, why = choose(df, COVERAGE_RULE["min_average"])
        settings = (f"{df['scenario'].nunique()} settings like this review's: {min(st['k'])} to {max(st['k'])} "
                    f"studies of {st['n_range'][0]} to {st['n_range'][1]} patients, {st['reps']} simulated "
                    "reviews each")
        if not short:
            return f"In the coverage study ({settings}): {why}"
        by = coverage_by_method(df)
        g = by.loc["GLMM"]
        if "coverage_pooled" not in by.columns:
            return (f"The model was chosen by a simulation of reviews like this one ({settings}): its 95% "
                    f"intervals held the true mean proportion in {by.loc[best, 'coverage_mean']:.0f}% of reviews "
                    f"on average and {by.loc[best, 'coverage_mean_min']:.0f}% at worst; R meta's default GLMM's "
                    f"in {g['coverage_mean']:.0f}% and {g['coverage_mean_min']:.0f}%")
        b = by.loc[best]
        return (f"The model was chosen by a simulation of reviews like this one ({settings}). Following the "
                f"site's rules, which pool {b['pooled_share']:.0f}% of those reviews (not those with fewer than "
                f"3 studies or every study at 100%), its 95% intervals held the true mean proportion in "
                f"{b['coverage_pooled']:.0f}% of the pooled reviews on average and {b['coverage_pooled_min']:.0f}% "
                f"in the worst setting; R meta's default GLMM's in {g['coverage_pooled']:.0f}% and "
                f"{g['coverage_pooled_min']:.0f}%")

    def coverage_choice(self) -> str:
        """The protocol's rule applied to the committed coverage table, and what it leaves open."""
        from ..review.protocol import COVERAGE_RULE
        from .coverage import choose, coverage_by_method

        df = self.coverage
        best, why = choose(df, COVERAGE_RULE["min_average"])
        by = coverage_by_method(df)
        worst = by["coverage_mean_min"].max()
        return (f"{why}. No method held 95% in every setting (the best worst setting was {worst:.0f}%): with "
                "a few small studies every interval is too short when the true between-study spread is "
                "large, and the intervals of the GLMM, the logit model and Freeman-Tukey are built for "
                "another quantity (the median study's proportion, or a back-transformed mean), from which "
                "the mean proportion moves away as the studies differ more")

    def coverage_rule_text(self) -> str:
        """'90%': the protocol's minimum average coverage for the headline model."""
        from ..review.protocol import COVERAGE_RULE

        return f"{COVERAGE_RULE['min_average']:g}%"

    def headline_prior_text(self) -> str:
        """'mu ~ N(0, 10^2), tau ~ half-normal(1)': the headline model's priors, from the protocol."""
        from ..engine.bayes import prior_text
        from ..review.protocol import BAYES

        return prior_text(**BAYES)

    def headline_model_sentence(self) -> str:
        """For the home page: what the headline numbers are and why that model."""
        from ..engine.bayes import TAU_PRIOR_NAMES
        from ..review.protocol import BAYES

        name = TAU_PRIOR_NAMES[BAYES["tau_prior"]]
        text = (f"These are population-averaged proportions from a Bayesian random-effects model with the "
                f"exact binomial likelihood (priors: \u03bc ~ N({BAYES['mu_prior_mean']:g}, "
                f"{BAYES['mu_prior_sd']:g}\u00b2) on the logit scale, \u03c4 ~ {name}"
                f"({BAYES['tau_prior_scale']:g})), excluding the retracted study. "
                f"{self.coverage_sentence(short=True)}")
        return MarkdownText(md_escape(text) + " ([methods](analysis/methods.qmd#coverage-study)).")

    def coverage_method_table(self):
        from great_tables import GT

        from .coverage import METHOD_NAMES, coverage_by_method
        from .tables import house_style

        by = coverage_by_method(self.coverage).reset_index()
        df = pd.DataFrame({
            "Method": [METHOD_NAMES[m] for m in by["method"]],
            "Coverage of the mean proportion, % (average)": by["coverage_mean"].map(lambda v: f"{v:.1f}"),
            "Lowest setting, %": by["coverage_mean_min"].map(lambda v: f"{v:.0f}"),
            "Coverage of the median study's proportion, %": by["coverage_median"].map(lambda v: f"{v:.1f}"),
            "Median width, points": by["width"].map(lambda v: f"{v:.1f}")})
        note = "Source: analysis/simulation/coverage.csv, written by coverage.py."
        if "coverage_pooled" in by.columns:
            df.insert(3, "Among reviews the site pools, % (average; lowest)",
                      [f"{a:.1f}; {b:.0f}"
                       for a, b in zip(by["coverage_pooled"], by["coverage_pooled_min"], strict=True)])
            note += (f" The site's headline rules pool {by['pooled_share'].iloc[0]:.0f}% of the simulated reviews "
                     "(not those with fewer than 3 studies or every study at 100% or 0%).")
        return show(GT(df).tab_header(title="Coverage of nominal 95% intervals, all settings")
                    .tab_source_note(note).pipe(house_style))

    def coverage_setting_table(self):
        from great_tables import GT

        from .coverage import METHOD_NAMES, coverage_by_setting
        from .tables import house_style

        t = coverage_by_setting(self.coverage)
        df = pd.DataFrame({"k": t["k"].astype(int).astype(str), "\u03c4": t["tau"].map(lambda v: f"{v:g}")})
        for m in [c for c in t.columns if c in METHOD_NAMES]:
            df[METHOD_NAMES[m]] = t[m].map(lambda v: f"{v:.1f}")
        return show(GT(df).tab_header(title="Coverage of the mean proportion (%), by number of studies and "
                                            "between-study sd (averaged over true proportions 0.6 to 0.98)")
                    .pipe(house_style))

    # -- sensitivity explorer --------------------------------------------------------------
    def explorer_panel(self, prefix: str = "..") -> RawHtml:
        """The explorer's mount point: site-assets/explorer.js fills it from results/explorer_*.json
        and site-assets/explorer-engine.js (the inverse-variance methods, for any choice of studies).
        Without JavaScript the reader sees the sentence below instead."""
        import json

        from .text import html_escape

        outcomes = json.dumps([{"key": k, "label": v} for k, v in OUTCOMES.items()])
        html = (f'<div id="explorer" class="explorer" data-base="{html_escape(prefix)}/results/" '
                f'data-outcomes="{html_escape(outcomes)}">'
                "<p>The explorer needs JavaScript; every analysis it offers is also in "
                f'<a href="{html_escape(prefix)}/results/results.json">results.json</a>.</p></div>'
                f'<script src="{html_escape(prefix)}/site-assets/explorer-engine.js" defer></script>'
                f'<script src="{html_escape(prefix)}/site-assets/explorer.js" defer></script>')
        return RawHtml(html)

    # -- figures -------------------------------------------------------------------------
    def figure_links(self, name: str, prefix: str = ".") -> str:
        """Markdown under a figure: a link to its full-size SVG and its description in words."""
        import json

        alt = json.loads((self.root / "results" / "alt_text.json").read_text(encoding="utf-8")).get(name, "")
        link = f"[Full-size figure (SVG)]({prefix}/results/{name}.svg){{.figure-link}}"
        if not alt:
            return link
        return (f"{link}\n\n<details class=\"figure-words\"><summary>The figure in words</summary>\n\n"
                f"{md_escape(alt)}\n\n</details>\n")

    def forest(self, outcome: str, prefix: str = "..") -> SvgFigure:
        return self.figure(f"forest_{outcome}", prefix)

    def reproduction_forest(self, source: str = "hernandez2018", outcome: str = "weaned",
                            prefix: str = "..") -> SvgFigure:
        return self.figure(f"forest_{source}_{outcome}", prefix)

    def funnel(self, outcome: str, prefix: str = "..") -> SvgFigure:
        return self.figure(f"funnel_{outcome}", prefix)

    # -- reproduction --------------------------------------------------------------------
    def reproduction(self, source: str, outcome: str):
        for rep, res in self.results.reproductions:
            if (rep.source, rep.outcome) == (source, outcome):
                return res
        raise KeyError((source, outcome))

    def reproduction_text(self, source: str = "hernandez2018", outcome: str = "weaned") -> str:
        """'93.45% (86.19 to 100.71)': our re-analysis of a published result, two decimals."""
        est, lo, hi = self.reproduction(source, outcome).back()
        return estimate_ci(est, lo, hi, digits=2, unit="%")

    def reproduction_sentence(self) -> str:
        n_total = len(REPRODUCTIONS)
        n_ok = sum(r is not None for _, r in self.results.reproductions)
        return (f"Hernandez 2018 weaning reproduced exactly: {self.reproduction_text()}; "
                f"{n_ok} of {n_total} published pooled results can be rebuilt from public data")

    def published_text(self, source: str, outcome: str) -> str:
        """'93% (86 to 100)' as published (data/published.csv)."""
        p = self.data.published.set_index(["source", "outcome"]).loc[(source, outcome)]
        return estimate_ci(p["estimate"], p["ci_lower"], p["ci_upper"], digits=None, scale=1, unit="%")

    def analysis_set_text(self, analysis_set: str, outcome: str) -> str:
        """'Cowburn 2005 (10/10), Herweg 2007 (9/10), ...': the counts a published analysis pooled."""
        c = self.data.counts(outcome, analysis_set)
        return MarkdownText(", ".join(f"{md_escape(r['label'])} ({r['events']}/{r['total']})"
                                      for _, r in c.iterrows()))

    def unknowable(self) -> list[str]:
        """What cannot be rebuilt from public sources, one sentence per published result."""
        return [f"{self.published_text(r.source, r.outcome)} for {OUTCOMES.get(r.outcome, r.outcome).lower()} "
                f"({r.source}): {r.why_not}" for r, res in self.results.reproductions if res is None]

    def reproduction_table(self):
        from .tables import reproduction_table

        return show(reproduction_table(self.data))

    # -- outcome pages -------------------------------------------------------------------
    def bayes_frame(self, outcome: str) -> pd.DataFrame:
        """The headline model under each prior of the protocol (default first)."""
        h = self.headline(outcome)
        if h.status != "pooled":
            return pd.DataFrame()
        fits = [(f"{h.bayes.prior_text} (headline)", h.bayes)] + [
            (b.prior_text, b) for _, b in self.results.bayes_priors.get(outcome, ())]

        def ci(iv):
            return estimate_ci(iv.median, iv.lower, iv.upper)

        return pd.DataFrame([{"Priors": label, "Mean proportion, %": ci(b.p_mean),
                              "Median study, %": ci(b.p_median),
                              "A new study, %": interval(b.p_new.lower, b.p_new.upper),
                              "\u03c4 (logit scale)": estimate_ci(b.tau.median, b.tau.lower, b.tau.upper,
                                                                  digits=2, scale=1)}
                             for label, b in fits])

    def bayes_table(self, outcome: str):
        from great_tables import GT

        from .tables import house_style

        df = self.bayes_frame(outcome)
        if df.empty:  # nothing to tabulate: bayes_note says why, outside the table's float
            return None
        return show(GT(df).tab_header(title="Bayesian binomial-normal model: posterior medians and 95% "
                                            "credible intervals, under three priors for \u03c4")
                    .tab_source_note("Mean proportion: population-averaged, the headline. Median study: "
                                     "expit(\u03bc), what the GLMM's estimate is. Priors on the logit scale.")
                    .pipe(house_style))

    def bayes_note(self, outcome: str) -> MarkdownText:
        """Why there is no Bayesian table, or nothing when there is one."""
        h = self.headline(outcome)
        return MarkdownText("" if h.status == "pooled" else f"No Bayesian estimate: {md_escape(h.why_not_pooled)}.")

    def heterogeneity_sentence(self, outcome: str) -> str:
        """The GLMM's heterogeneity on its own likelihood, and what R meta prints instead."""
        glmm = self.primary(outcome).get("result")
        prof = self.results.glmm_heterogeneity.get(outcome)
        if glmm is None or prof is None:
            k = glmm.k if glmm is not None else 0
            if k < 2:
                why = "it needs at least 2 studies" if k else "no study reports this outcome"
            elif glmm.method != "GLMM":
                why = "every study reports 100% or 0%, and the GLMM has no finite estimate then"
            else:
                why = "the GLMM could not be fitted"
            return f"The GLMM's heterogeneity cannot be estimated here: {why}."
        lo, hi = prof.tau2_ci
        hi_txt = f"{hi:.2f}" if math.isfinite(hi) else "beyond any finite bound"
        text = (f"GLMM heterogeneity: \u03c4\u00b2 = {prof.tau2:.2f} (profile-likelihood 95% CI {lo:.2f} to "
                f"{hi_txt}); likelihood-ratio test of \u03c4\u00b2 = 0: LR = {prof.lrt:.2f}, p = "
                f"{fmt_p(prof.lrt_pvalue)} (half the \u03c7\u00b2(1) tail, as \u03c4\u00b2 = 0 is on the "
                f"boundary); I\u00b2 = {100 * prof.i2:.0f}% computed from this \u03c4\u00b2 (metafor's "
                "definition).")
        if round(100 * glmm.i2) == round(100 * prof.i2):
            return text + " R meta prints the same I\u00b2."
        extreme = any(x in (0, n) for x, n in zip(glmm.events, glmm.total, strict=True))
        return (text + f" R meta prints I\u00b2 = {100 * glmm.i2:.0f}% beside the same \u03c4\u00b2: it "
                "takes I\u00b2 from the Wald-type Q of the logits (Q = "
                f"{glmm.q:.2f}, df = {glmm.q_df})" + (", to which studies at 0% or 100% contribute nothing."
                                                       if extreme else "."))

    def glmm_text(self, outcome: str) -> str:
        """'97.1% (95% CI 64.2 to 99.8); prediction interval 3.4 to 100.0%' for R meta's GLMM."""
        g = self.primary(outcome)
        if g.get("result") is None:
            return "not estimable"
        pi = interval(g["pi_lower"], g["pi_upper"], scale=1, unit="%")
        if pi == DASH:  # one study: nothing to predict from
            return f"{fmt_estimate(g)}; no prediction interval" + (" (one study)" if g["result"].k == 1 else "")
        return f"{fmt_estimate(g)}; prediction interval {pi}"

    def sets_table(self, outcome: str):
        from .tables import results_table

        rows = [(label, self.results.sets[(outcome, key)].result) for key, label, _, _ in SENSITIVITY_SETS
                if self.results.sets[(outcome, key)].result is not None]
        return show(results_table(rows, title=f"{OUTCOMES[outcome]}: primary and sensitivity analyses"))

    def loo_table(self, outcome: str):
        from .tables import sensitivity_table

        if outcome not in self.results.loo:
            return None
        return show(sensitivity_table(self.results.loo[outcome], "omitted",
                                      "Leave-one-out (last row: all studies)"))

    def cumulative_table(self, outcome: str):
        from .tables import sensitivity_table

        if outcome not in self.results.cumulative:
            return None
        return show(sensitivity_table(self.results.cumulative[outcome], "added",
                                      "Cumulative meta-analysis by publication year"))

    def grid_table(self, outcome: str):
        from .tables import grid_table

        if outcome not in self.results.grid:
            return None
        return show(grid_table(self.results.grid[outcome], title=f"{OUTCOMES[outcome]}: every method"))

    def published_frame(self, outcome: str) -> pd.DataFrame:
        pub = self.data.published
        pub = pub[pub["outcome"] == outcome]
        rows = [{"Source": "This site (Bayesian mean proportion)", "Estimate, % (95% CI)": self.estimate(outcome),
                 "Note": self.evidence(outcome)}]
        glmm = self.primary(outcome)
        if glmm.get("result") is not None:
            rows.append({"Source": "This site (GLMM, R meta's default)",
                         "Estimate, % (95% CI)": fmt_estimate(glmm), "Note": self.evidence(outcome)})
        for _, p in pub.iterrows():
            rows.append({"Source": p["citation"],
                         "Estimate, % (95% CI)": estimate_ci(p["estimate"], p["ci_lower"], p["ci_upper"], digits=None,
                                                             scale=1, unit="%", ci_label="95% CI "),
                         "Note": p["note"] if pd.notna(p["note"]) else ""})
        return pd.DataFrame(rows)

    def published_table(self, outcome: str):
        from great_tables import GT

        from .tables import house_style

        return show(GT(self.published_frame(outcome)).tab_header(title="Published estimates beside ours").pipe(
            house_style))

    def missing_sentence(self, outcome: str) -> str:
        miss = self.results.missing[outcome]
        if miss.empty:
            return "Every study in the primary analysis reports this outcome."
        # Markdown with every label escaped (tests/test_site.py renders a label made of HTML
        # and checks in Chromium that it shows as text)
        names = ", ".join(f"{md_escape(r['label'])} (n = {r['n_crt']})" for _, r in miss.iterrows())
        return MarkdownText(f"{len(miss)} {'study' if len(miss) == 1 else 'studies'} of the primary analysis "
                            f"{'does' if len(miss) == 1 else 'do'} not report this outcome in the sources read: "
                            f"{names}. A pull request with the count and its source will add them.")

    def egger_sentence(self, outcome: str) -> str:
        if outcome not in self.results.egger:
            return "Egger's test needs at least 3 studies."
        e = self.results.egger[outcome].iloc[0]
        if "refused" in e.index:
            return e["note"] + "."  # metaprop's own text, no contributor input
        return (f"Egger's test (logit scale, k = {e['k']}): intercept {e['intercept']:.2f}, "
                f"t = {e['statistic']:.2f} (df = {e['df']}), p = {e['p_value']:.3f}. {e['note']}").strip()

    # -- sensitivity page ----------------------------------------------------------------
    def sensitivity_frame(self) -> pd.DataFrame:
        from ..review.outputs import summary_frame

        df = summary_frame(self.results.sets)
        df = df[df["outcome"].isin(["weaned", "discharged_alive", "alive_12mo"])]
        out = pd.DataFrame({
            "Outcome": df["outcome"].map(OUTCOMES), "Analysis": df["analysis_label"], "k": df["k"],
            "Events/total": [f"{e}/{t}" for e, t in zip(df["events"], df["patients"], strict=True)],
            "Estimate, % (95% CI)": [estimate_ci(e, lo, hi) for e, lo, hi in zip(
                df.get("estimate"), df.get("ci_lower"), df.get("ci_upper"), strict=True)],
            "Prediction interval, %": [interval(a, b) for a, b in zip(df["pi_lower"], df["pi_upper"], strict=True)],
            "Method": [DASH if pd.isna(m) else method_label(sm, m, mt)
                       for m, sm, mt in zip(df["method"], df["sm"], df["method_tau"], strict=True)],
        })
        return out.reset_index(drop=True)

    def sensitivity_table(self):
        from great_tables import GT

        from .tables import house_style

        return show(GT(self.sensitivity_frame(), groupname_col="Outcome")
                .tab_header(title="How the estimates change with the studies included")
                .pipe(house_style))

    def subgroup_table(self, outcome: str):
        """Subgroups by population (inclusion status) over all candidate studies, with the test for
        subgroup differences; the protocol's SUBGROUP method, which every subgroup can be fitted with."""
        from great_tables import GT

        from ..engine.sensitivity import subgroup
        from .tables import INCLUSION_LABEL, house_style, sensitivity_frame_rows

        counts = self.data.counts(outcome, "all")
        df = subgroup(counts, by="inclusion", **SUBGROUP)
        df["subgroup"] = df["subgroup"].map(INCLUSION_LABEL)
        t = df.attrs["test"]
        return show(GT(sensitivity_frame_rows(df, "subgroup"))
                .tab_header(title=f"{OUTCOMES[outcome]}: subgroups by population",
                            subtitle="All candidate studies; " + method_label(**SUBGROUP, long=True))
                .tab_source_note(f"Test for subgroup differences: Q = {t['q_between']:.2f}, df = {t['df']}, "
                                 f"p = {t['p_value']:.3f}. Subgroups of one to five small studies: read as "
                                 "description, not as evidence of a difference.")
                .pipe(house_style))

    # -- studies, methods, data -----------------------------------------------------------
    def study_table(self):
        from .tables import study_table

        return show(study_table(self.data))

    def completeness_table(self):
        from .tables import completeness_table

        return show(completeness_table(self.data))

    def protocol_frame(self) -> pd.DataFrame:
        st = self.data.studies.sort_values(["year", "label"])
        return pd.DataFrame({"Study": st["label"], "Inclusion": st["inclusion"],
                             "Why": st["inclusion_reason"], "Hernandez 2018": st["hernandez2018"]})

    def protocol_table(self) -> HtmlTable:
        from great_tables import GT

        from .tables import INCLUSION_LABEL, house_style

        df = self.protocol_frame()
        df["Inclusion"] = df["Inclusion"].map(INCLUSION_LABEL)
        df["Hernandez 2018"] = df["Hernandez 2018"].map({True: "yes", False: "no"}).fillna(DASH)
        return show(GT(df.fillna(DASH)).tab_header(title="Inclusion of each candidate study").pipe(house_style))

    def dictionary(self, resource: str):
        from .tables import dictionary_table

        return show(dictionary_table(self.data, resource))

    def changelog(self) -> str:
        """``data/CHANGELOG.md`` (less its title) as a raw-HTML Markdown block.

        Rendered by markdown-it with raw HTML off: HTML in the file is shown as text, and links
        with a ``javascript:`` or other unsafe scheme are not made.
        """
        from markdown_it import MarkdownIt

        text = (self.data_dir / "CHANGELOG.md").read_text(encoding="utf-8").split("\n", 1)[-1]
        body = MarkdownIt("commonmark", {"html": False}).render(text)
        return "```{=html}\n<div class=\"changelog\">\n" + body.replace("```", "&#96;&#96;&#96;") + "</div>\n```\n"

    def version_line(self) -> str:
        b = build_info()
        return (f"data version {self.data.version} ({self.data.created}), metaprop {b['metaprop_version']}, "
                f"commit {b['commit']}")
