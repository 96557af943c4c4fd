"""Every sentence with a number on the pages: plain functions of one :class:`~.context.Build`.

Numbers and fixed words only; any text from ``data/`` (study labels, citations, notes) reaches the
page through :func:`~metaprop.text.md_escape` as :class:`~metaprop.text.MarkdownText` (tests/test_hostile.py and
tests/test_site.py render a hostile label in Chromium).
"""

from __future__ import annotations

import math

from markdown_it import MarkdownIt

from ..engine.priors import TAU_PRIOR_NAMES, prior_text
from ..formatting import DASH, estimate_ci, fmt_estimate, fmt_p, interval, method_label, num
from ..provenance import build_info
from ..review.protocol import BAYES_PRIOR_SENSITIVITY, CERTAINTY, HEADLINE, HOME_OUTCOMES, OUTCOMES, REPRODUCTIONS
from ..text import MarkdownText, md_escape
from .context import Build
from .coverage import coverage_sentence

#: the page functions of this module (:class:`metaprop.site.pages.Site` looks names up here)
PAGE = ("estimate", "counts_text", "follow_up_text", "prediction", "evidence", "answer", "answers",
        "headline_paragraph",
        "models_paragraph", "median_study", "certainty", "published_beside", "reproduction_text",
        "reproduction_sentence", "published_text", "analysis_set_text", "unknowable", "bayes_note",
        "heterogeneity_sentence", "glmm_text", "missing_sentence", "egger_sentence", "headline_prior_text",
        "headline_model_sentence", "changelog", "version_line", "protocol_values")
__all__ = list(PAGE)


def estimate(build: Build, outcome: str) -> str:
    """'91.4% (95% credible interval 73.2 to 98.1)' when pooled; otherwise the counts as counts
    ('not pooled: 31 of 31 patients in 3 studies') and why it is not pooled."""
    h = build.headline(outcome)
    if h.status == "pooled":
        b = h.bayes.p_mean
        return estimate_ci(b.median, b.lower, b.upper, unit="%", ci_label="95% credible interval ")
    if h.status == "none":
        return "not estimable: no study reports it"
    return f"not pooled: {counts_text(build, outcome)}, because {h.why_not_pooled}"


def counts_text(build: Build, outcome: str) -> str:
    """'59 of 65 patients in 5 studies': the primary analysis' counts, as counts."""
    h = build.headline(outcome)
    return f"{h.events} of {h.patients} patients in {h.k} {'study' if h.k == 1 else 'studies'}"


def follow_up_text(build: Build, outcome: str) -> str:
    """Each study's count with its follow-up: 'Konstantino* 2006: 5 of 10 (median 9.5 months)'."""
    h = build.headline(outcome)
    return "; ".join(f"{r['label']}: {r['events']} of {r['total']}"
                     + (f" ({r['follow_up']})" if r["follow_up"] else " (follow-up not reported)")
                     for _, r in h.studies.iterrows())


def prediction(build: Build, outcome: str) -> str:
    """A new study's true proportion, 95% predictive range: '43.3 to 99.9%'."""
    h = build.headline(outcome)
    if h.status != "pooled":
        return "no range for a new study (not pooled)"
    return interval(h.bayes.p_new.lower, h.bayes.p_new.upper, unit="%")


def evidence(build: Build, outcome: str) -> str:
    h = build.headline(outcome)
    studies = f"{h.k} {'study' if h.k == 1 else 'studies'}, {h.patients} patients"
    if not h.patients:
        return studies
    if h.derived_patients == 0:
        return f"{studies}, every count reported"
    return (f"{studies}, {h.derived_patients} of {h.patients} patients' counts derived "
            f"({num(100 * h.derived_share, 0)}%)")


def answer(build: Build, outcome: str) -> str:
    """The home page's line for one outcome: estimate, range for a new study, evidence, certainty."""
    h = build.headline(outcome)
    if h.status == "pooled":
        new = (f"; the true proportion of a new study's population would lie in {prediction(build, outcome)} "
               "(95% predictive range)")
        return f"{estimate(build, outcome)}{new} ({evidence(build, outcome)}). Certainty: {certainty(build, outcome)}."
    # not pooled: the estimate already gives the counts; the evidence adds what they rest on
    derived = evidence(build, outcome).split(" patients, ", 1)[-1] if h.patients else ""
    return f"{estimate(build, outcome)}{f'; {derived}' if derived else ''}. Certainty: {certainty(build, outcome)}."


def answers(build: Build) -> dict[str, str]:
    """:func:`answer` for every outcome of the home page (:data:`~metaprop.review.protocol.HOME_OUTCOMES`)."""
    return {o: answer(build, o) for o in HOME_OUTCOMES}


def headline_paragraph(build: Build, outcome: str) -> MarkdownText:
    """The outcome page's first line: the headline, the range for a new study where pooled, and
    the evidence behind it (numbers and fixed words only; nothing contributed is shown)."""
    h = build.headline(outcome)
    if h.status == "pooled":
        return MarkdownText(f"**Headline (mean proportion, Bayesian model):** {md_escape(estimate(build, outcome))}"
                            f"; a new study's true proportion, 95% predictive range: "
                            f"{md_escape(prediction(build, outcome))} ({md_escape(evidence(build, outcome))}).")
    text = f"**Headline:** {md_escape(estimate(build, outcome))} ({md_escape(evidence(build, outcome))})."
    if h.status == "no_horizon":
        text += f" Each study, with its follow-up: {md_escape(follow_up_text(build, outcome))}."
    return MarkdownText(text)


def models_paragraph(build: Build, outcome: str) -> MarkdownText:
    """The Bayesian median study (where pooled) and R meta's default analysis, named by the model
    actually fitted: the GLMM, or Freeman-Tukey where the GLMM has no finite estimate."""
    h = build.headline(outcome)
    res = build.primary(outcome).get("result")
    if res is not None and res.method != "GLMM":
        name = (f"{method_label(res.sm, res.method, res.method_tau, long=True)}, as the GLMM has no finite "
                "estimate when every study reports 100% or 0%")
    else:
        name = "GLMM"
    glmm = f"**R meta's default analysis** ({md_escape(name)}): {md_escape(glmm_text(build, outcome))}."
    if h.status == "no_horizon":
        glmm += (" It pools counts over different follow-up times, as R meta would print it; it is not a risk "
                 "at any stated time.")
    if h.status == "pooled":
        return MarkdownText(f"**Median study's proportion** (Bayesian model): "
                            f"{md_escape(median_study(build, outcome))}. {glmm}")
    return MarkdownText(glmm)


def median_study(build: Build, outcome: str) -> str:
    """The Bayesian model's median-study proportion expit(mu), for the outcome page."""
    h = build.headline(outcome)
    if h.status != "pooled":
        return DASH
    b = h.bayes.p_median
    return estimate_ci(b.median, b.lower, b.upper, unit="%", ci_label="95% credible interval ")


def certainty(build: Build, outcome: str) -> str:
    h = build.headline(outcome)
    return h.certainty.text if h.certainty is not None else "not assessed (no data)"


def published_beside(build: Build, outcome: str) -> str:
    """Markdown list: each published estimate of the outcome and why ours differs (labels escaped)."""
    h = build.headline(outcome)
    if not h.published:
        return MarkdownText("No published meta-analysis reports this outcome.")
    lines = [f"- {md_escape(p.citation)}: "
             + estimate_ci(p.estimate, p.ci_lower, p.ci_upper, digits=None, scale=1, unit="%")
             + f". Why ours differs: {md_escape(p.why)}." for p in h.published]
    return MarkdownText("\n".join(lines))


def reproduction_text(build: Build, source: str = "hernandez2018", outcome: str = "weaned") -> str:
    """'93.45% (86.19 to 100.71)': our re-analysis of a published result, two decimals."""
    est, lo, hi = build.reproduction(source, outcome).back()
    return estimate_ci(est, lo, hi, digits=2, unit="%")


def reproduction_sentence(build: Build) -> str:
    n_total = len(REPRODUCTIONS)
    n_ok = sum(r is not None for _, r in build.results.reproductions)
    return (f"Hernandez 2018 weaning reproduced exactly: {reproduction_text(build)}; "
            f"{n_ok} of {n_total} published pooled results can be rebuilt from public data")


def published_text(build: Build, source: str, outcome: str) -> str:
    """'93% (86 to 100)' as published (data/published.csv)."""
    p = build.data.published.set_index(["source", "outcome"]).loc[(source, outcome)]
    return estimate_ci(p["estimate"], p["ci_lower"], p["ci_upper"], digits=None, scale=1, unit="%")


def analysis_set_text(build: Build, analysis_set: str, outcome: str) -> str:
    """'Cowburn 2005 (10/10), Herweg 2007 (9/10), ...': the counts a published analysis pooled."""
    c = build.data.counts(outcome, analysis_set)
    return MarkdownText(", ".join(f"{md_escape(r['label'])} ({r['events']}/{r['total']})"
                                  for _, r in c.iterrows()))


def unknowable(build: Build) -> list[str]:
    """What cannot be rebuilt from public sources, one sentence per published result."""
    return [f"{published_text(build, r.source, r.outcome)} for {OUTCOMES.get(r.outcome, r.outcome).lower()} "
            f"({r.source}): {r.why_not}" for r, res in build.results.reproductions if res is None]


def bayes_note(build: Build, outcome: str) -> MarkdownText:
    """Why there is no Bayesian table, or nothing when there is one."""
    h = build.headline(outcome)
    return MarkdownText("" if h.status == "pooled" else f"No Bayesian estimate: {md_escape(h.why_not_pooled)}.")


def heterogeneity_sentence(build: Build, outcome: str) -> str:
    """The GLMM's heterogeneity on its own likelihood, and what R meta prints instead."""
    glmm = build.primary(outcome).get("result")
    prof = build.results.glmm_heterogeneity.get(outcome)
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
    hi_txt = f"{num(hi, 2)}" if math.isfinite(hi) else "beyond any finite bound"
    text = (f"GLMM heterogeneity: \u03c4\u00b2 = {num(prof.tau2, 2)} (profile-likelihood 95% CI {num(lo, 2)} to "
            f"{hi_txt}); likelihood-ratio test of \u03c4\u00b2 = 0: LR = {num(prof.lrt, 2)}, p = "
            f"{fmt_p(prof.lrt_pvalue)} (half the \u03c7\u00b2(1) tail, as \u03c4\u00b2 = 0 is on the "
            f"boundary); I\u00b2 = {num(100 * prof.i2, 0)}% computed from this \u03c4\u00b2 (metafor's "
            "definition).")
    if round(100 * glmm.i2) == round(100 * prof.i2):
        return text + " R meta prints the same I\u00b2."
    extreme = any(x in (0, n) for x, n in zip(glmm.events, glmm.total, strict=True))
    return (text + f" R meta prints I\u00b2 = {num(100 * glmm.i2, 0)}% beside the same \u03c4\u00b2: it "
            "takes I\u00b2 from the Wald-type Q of the logits (Q = "
            f"{num(glmm.q, 2)}, df = {glmm.q_df})" + (", to which studies at 0% or 100% contribute nothing."
                                                   if extreme else "."))


def glmm_text(build: Build, outcome: str) -> str:
    """'97.1% (95% CI 64.2 to 99.8); prediction interval 3.4 to 100.0%' for R meta's GLMM."""
    g = build.primary(outcome)
    if g.get("result") is None:
        return "not estimable"
    pi = interval(g["pi_lower"], g["pi_upper"], scale=1, unit="%")
    if pi == DASH:  # one study: nothing to predict from
        return f"{fmt_estimate(g)}; no prediction interval" + (" (one study)" if g["result"].k == 1 else "")
    return f"{fmt_estimate(g)}; prediction interval {pi}"


def missing_sentence(build: Build, outcome: str) -> str:
    miss = build.results.missing[outcome]
    if miss.empty:
        return "Every study in the primary analysis reports this outcome."
    # Markdown with every label escaped (tests/test_site.py renders a label made of HTML
    # and checks in Chromium that it shows as text)
    names = ", ".join(f"{md_escape(r['label'])} (n = {r['n_crt']})" for _, r in miss.iterrows())
    return MarkdownText(f"{len(miss)} {'study' if len(miss) == 1 else 'studies'} of the primary analysis "
                        f"{'does' if len(miss) == 1 else 'do'} not report this outcome in the sources read: "
                        f"{names}. A pull request with the count and its source will add them.")


def egger_sentence(build: Build, outcome: str) -> str:
    if outcome not in build.results.egger:
        return "Egger's test needs at least 3 studies."
    e = build.results.egger[outcome].iloc[0]
    if "refused" in e.index:
        return e["note"] + "."  # metaprop's own text, no contributor input
    return (f"Egger's test (logit scale, k = {e['k']}): intercept {num(e['intercept'], 2)}, "
            f"t = {num(e['statistic'], 2)} (df = {e['df']}), p = {num(e['p_value'], 3)}. {e['note']}").strip()


def headline_prior_text(build: Build) -> str:
    """'mu ~ N(0, 10^2), tau ~ half-normal(1)': the priors the analysis used for the headline."""
    return prior_text(**build.results.headline_prior)


def headline_model_sentence(build: Build) -> str:
    """For the home page: what the headline numbers are and why that model."""
    prior = build.results.headline_prior
    name = TAU_PRIOR_NAMES[prior["tau_prior"]]
    text = (f"These are population-averaged proportions from a Bayesian random-effects model with the "
            f"exact binomial likelihood (priors: \u03bc ~ N({num(prior['mu_prior_mean'])}, "
            f"{num(prior['mu_prior_sd'])}\u00b2) on the logit scale, \u03c4 ~ {name}"
            f"({num(prior['tau_prior_scale'])})), excluding the retracted study. "
            f"{coverage_sentence(build, short=True)}")
    return MarkdownText(md_escape(text) + " ([methods](analysis/methods.qmd#coverage-study)).")


def changelog(build: Build) -> str:
    """``data/CHANGELOG.md`` (less its title) as a raw-HTML Markdown block.

    Rendered by markdown-it with raw HTML off: HTML in the file is shown as text, and links
    with a ``javascript:`` or other unsafe scheme are not made.
    """
    text = (build.data_dir / "CHANGELOG.md").read_text(encoding="utf-8").split("\n", 1)[-1]
    body = MarkdownIt("commonmark", {"html": False}).render(text)
    return "```{=html}\n<div class=\"changelog\">\n" + body.replace("```", "&#96;&#96;&#96;") + "</div>\n```\n"


def version_line(build: Build) -> str:
    b = build_info(build.root)
    return (f"data version {build.data.version} ({build.data.created}), metaprop {b['metaprop_version']}, "
            f"commit {b['commit']}")


def protocol_values(build: Build) -> dict[str, str]:
    """The protocol's values the methods page quotes, as words (:mod:`metaprop.review.protocol`):
    the headline model's priors (as the analysis used them), the other priors shown, the headline
    rules and the certainty rules' thresholds."""
    p = build.results.headline_prior
    share = CERTAINTY["indirectness_max_derived_share"]
    return {
        "mu_prior": f"\u03bc ~ N({num(p['mu_prior_mean'])}, {num(p['mu_prior_sd'])}\u00b2)",
        "tau_prior": f"{TAU_PRIOR_NAMES[p['tau_prior']]}", "tau_scale": f"{num(p['tau_prior_scale'], 1)}",
        "other_priors": ", ".join(label for label, _ in BAYES_PRIOR_SENSITIVITY),
        "min_studies": str(HEADLINE["min_studies"]),
        "start": CERTAINTY["start"], "floor": CERTAINTY["levels"][0],
        "min_patients": str(CERTAINTY["imprecision_min_patients"]),
        "max_width": f"{num(CERTAINTY['imprecision_max_width'])}",
        "max_p": f"{num(CERTAINTY['inconsistency_max_p'])}",
        "rob_items": ", ".join(map(str, CERTAINTY["rob_key_items"])),
        "rob_share": f"{num(100 * CERTAINTY['rob_max_share'])}%",
        "max_derived": f"{num(100 * share)}%",
    }
