"""The review's protocol: every rule that decides what the site computes, in one place.

Outcomes and populations, the analysis sets, the primary and fallback methods, the methods for
subgroups and for Egger's test, and the published analyses to reproduce. Code elsewhere reads
these names and never chooses a method itself; a change of protocol is a change of this file.

Primary method: random-intercept logistic model (GLMM, ``sm="PLOGIT"``, ML), R meta's default for
proportions, recommended for small studies with proportions near 0 or 1 because it uses the exact
binomial likelihood and needs no continuity correction (Stijnen et al. 2010; Schwarzer et al.
2019). When every study has 100% (or 0%) events the GLMM has no finite estimate; the
Freeman-Tukey (PFT) random-effects analysis is then reported instead, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OUTCOMES", "POPULATIONS", "SENSITIVITY_SETS", "PRIMARY", "FALLBACK", "SUBGROUP", "EGGER",
           "Reproduction", "REPRODUCTIONS", "HEADLINE", "BAYES", "BAYES_PRIOR_SENSITIVITY", "CERTAINTY",
           "COVERAGE_RULE", "COVERAGE_CANDIDATES", "COVERAGE_SOLVER", "EXPLORER", "Method", "METHODS",
           "HOME_OUTCOMES", "SEARCH"]

#: populations of the review protocol (methods page): which ``inclusion`` values each admits
POPULATIONS = {
    "primary": ("primary",),
    "with_retracted": ("primary", "sensitivity_retracted"),
    "with_broader": ("primary", "sensitivity_population"),
    "all": ("primary", "sensitivity_retracted", "sensitivity_population"),
}
OUTCOMES = {
    "weaned": "Weaned from intravenous inotropes",
    "discharged_alive": "Survival to hospital discharge",
    "alive_12mo": "Survival at 12 months",
    "died_followup": "Death during follow-up",
}

#: sensitivity analyses of the protocol: (key, label, population, drop derived-from-percent counts)
SENSITIVITY_SETS = (
    ("primary", "Primary analysis", "primary", False),
    ("with_retracted", "Adding the retracted study", "with_retracted", False),
    ("with_broader", "Adding broader populations", "with_broader", False),
    ("all", "All candidate studies", "all", False),
    ("no_percent_derived", "Without counts derived from percentages", "primary", True),
)

PRIMARY = {"sm": "PLOGIT", "method": "GLMM", "method_tau": "ML"}
FALLBACK = {"sm": "PFT", "method": "Inverse", "method_tau": "REML"}

#: the headline model: Bayesian binomial-normal random effects (metaprop.engine.bayes.pool_bayes),
#: chosen by :data:`COVERAGE_RULE`
#: (half-normal(1.0) for tau: 94.0% average and 81% worst-setting coverage, where half-normal(0.5)
#: had 88.9% and 70%; analysis/simulation/coverage.csv)
BAYES = {"mu_prior_mean": 0.0, "mu_prior_sd": 10.0, "tau_prior": "halfnormal", "tau_prior_scale": 1.0}

@dataclass(frozen=True, slots=True)
class Method:
    """A named analysis the site runs in more than one place (explorer, coverage study, pages,
    ``metaprop compare``): the one definition of what that name fits.

    ``engine`` is ``"pool"`` (:func:`metaprop.pool` with ``options``; "GLMM" falls back to
    :data:`FALLBACK` where every study is at 0% or 100%, as the primary analysis) or ``"bayes"``
    (:func:`metaprop.engine.bayes.pool_bayes` with ``options``); ``label`` is how readers see it,
    ``interval`` what its 95% interval is.
    """

    name: str
    label: str
    interval: str
    engine: str
    options: dict


#: every named method, in the order tables list them
METHODS = {
    "Bayes": Method("Bayes", "Bayesian model (the headline)", "mean proportion, 95% credible interval", "bayes",
                    BAYES),
    "Bayes-HN0.5": Method("Bayes-HN0.5", "Bayesian, \u03c4 ~ half-normal(0.5)", "mean proportion, 95% credible "
                          "interval", "bayes", BAYES | {"tau_prior": "halfnormal", "tau_prior_scale": 0.5}),
    "Bayes-HN1.0": Method("Bayes-HN1.0", "Bayesian, \u03c4 ~ half-normal(1.0)", "mean proportion, 95% credible "
                          "interval", "bayes", BAYES | {"tau_prior": "halfnormal", "tau_prior_scale": 1.0}),
    "GLMM": Method("GLMM", "GLMM, R meta's default", "95% confidence interval", "pool", PRIMARY),
    "IV-logit-HK": Method("IV-logit-HK", "Inverse-variance logit, REML, Hartung-Knapp", "95% confidence interval",
                          "pool", {"sm": "PLOGIT", "method": "Inverse", "method_tau": "REML", "hakn": True,
                                   "method_tau_ci": ""}),
    "PFT": Method("PFT", "Freeman-Tukey, REML", "95% confidence interval", "pool",
                  {"sm": "PFT", "method": "Inverse", "method_tau": "REML", "method_tau_ci": ""}),
}


@dataclass(frozen=True, slots=True)
class Reproduction:
    """A published pooled result and, where known, the analysis that rebuilds it from ``data/``."""

    source: str
    outcome: str
    analysis_set: str | None  # rows of analysis_sets.csv, or None when the study list is unknown
    options: dict | None  # pool() options that reproduce it, or None
    why_not: str  # when options is None: what is missing


REPRODUCTIONS = (
    Reproduction("hernandez2018", "weaned", "hernandez2018",
                 {"sm": "PRAW", "method": "Inverse", "method_tau": "DL", "convention": "metafor",
                  "prediction_df": "z"},
                 ""),
    Reproduction("hernandez2018", "alive_12mo", None, None,
                 "Only herweg2007 (10/10, derived) and the retracted nakajima2013 (21/26, derived from a "
                 "Kaplan-Meier percentage) report 12-month survival in the public abstracts; the other "
                 "studies' 12-month counts are not public, so the published estimate cannot be rebuilt."),
    Reproduction("alshakarchi2024", "weaned", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified. "
                 "The shapes of its confidence intervals fit an arcsine (PAS) analysis."),
    Reproduction("alshakarchi2024", "discharged_alive", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified."),
    Reproduction("alshakarchi2024", "alive_12mo", None, None,
                 "The 19-study list could not be read; at least 5 of its studies are not identified."),
    Reproduction("alshakarchi2023_abstract", "weaned", None, None,
                 "Congress abstract without a study list; its intervals fit a Freeman-Tukey (PFT) analysis."),
    Reproduction("alshakarchi2023_abstract", "discharged_alive", None, None,
                 "Congress abstract without a study list."),
    Reproduction("alshakarchi2023_abstract", "alive_12mo", None, None,
                 "Congress abstract without a study list."),
    Reproduction("alshakarchi2023_abstract", "alive_end_followup", None, None,
                 "Congress abstract without a study list; outcome not defined in data/."),
)

#: the saved search (metaprop.review.surveil, `metaprop surveil`, .github/workflows/surveil.yml):
#: PubMed, built on the concepts of the published searches (Hernandez et al. 2018: Medline, Embase,
#: Scopus, Cochrane through March 2017; Al-Shakarchi et al. 2024: the same through 31 December 2022,
#: terms for inotrope dependence and end-stage heart failure combined with CRT or biventricular
#: device): the intervention AND inotrope dependence. Runs cover the entry dates from
#: ``searched_until`` (the last published search) to the day of the run.
SEARCH = {
    "database": "PubMed (NCBI E-utilities)",
    "query": ('("Cardiac Resynchronization Therapy"[Mesh] OR "cardiac resynchronization"[tiab] OR '
              '"cardiac resynchronisation"[tiab] OR "biventricular pacing"[tiab] OR "biventricular pacemaker"[tiab] '
              'OR "biventricular device"[tiab] OR CRT[tiab] OR CRT-D[tiab]) AND ("Cardiotonic Agents"[Mesh] OR '
              'Dobutamine[Mesh] OR Milrinone[Mesh] OR inotrop*[tiab] OR dobutamine[tiab] OR milrinone[tiab] OR '
              '"catecholamine-dependent"[tiab] OR "catecholamine dependent"[tiab] OR "inotropic support"[tiab] '
              'OR "inotropic therapy"[tiab])'),
    "searched_until": "2022-12-31",
    "previous": (("Hernandez et al. 2018", "Medline, Embase, Scopus, Cochrane Library", "March 2017"),
                 ("Al-Shakarchi et al. 2024", "Medline, Embase, Scopus, Cochrane Library", "31 December 2022")),
}

#: subgroups (by inclusion): one method every subgroup can be fitted with, even of 100% studies
SUBGROUP = {"sm": "PFT", "method": "Inverse", "method_tau": "REML"}
#: small-study effects: Egger's test and the funnel plot, on the primary analysis' (logit) scale
EGGER = {"sm": "PLOGIT"}


# -- what a reader sees first ---------------------------------------------------------------------

#: how the coverage study (analysis/simulation/coverage.py, committed table) chooses the headline
#: model among its candidates: of those whose 95% intervals cover the true mean proportion in at
#: least ``min_average`` % of simulated reviews on average over all settings, the one with the
#: highest coverage in its worst setting (ties: the narrower median width).
#: tests/test_coverage.py checks that the committed table chooses :data:`BAYES`.
COVERAGE_RULE = {"min_average": 90.0}
#: the coverage study's candidates (names of :data:`METHODS`)
COVERAGE_CANDIDATES = ("GLMM", "IV-logit-HK", "PFT", "Bayes-HN0.5", "Bayes-HN1.0")
#: the coverage study solves REML to its global maximum (``tau2_algorithm="exact"``): metafor's
#: Fisher scoring, which the explorer and the pages follow, stops without converging on a few of
#: the simulated datasets, where R would give an error; where it converges both give one optimum.
#: It skips the confidence interval of tau^2, which the study does not use.
COVERAGE_SOLVER = {"tau2_algorithm": "exact", "method_tau_ci": ""}
#: the same model under other priors for tau, shown on each outcome page
BAYES_PRIOR_SENSITIVITY = (
    ("half-normal(0.5)", {"tau_prior": "halfnormal", "tau_prior_scale": 0.5}),
    ("half-Cauchy(0.5)", {"tau_prior": "halfcauchy", "tau_prior_scale": 0.5}),
)
#: headline rules:
#: - ``min_studies``: fewer studies get no pooled headline, only the studies' own counts;
#: - every study at 100% (or 0%) gets none either: the data cannot say how far below 100% the
#:   proportion lies, and a model's estimate would be set by its prior; the pooled count with its
#:   exact (Clopper-Pearson) interval is shown instead, labelled as such;
#: - otherwise the estimate is the population-averaged (mean) proportion of :data:`BAYES`, with
#:   its 95% credible interval and the range for a new study; the median study's proportion is on
#:   the outcome page;
#: - every headline shows k, patients, the share of patients whose count is derived rather than
#:   reported, and each published estimate of the outcome beside ours with why they differ.
#: - an outcome counted over each study's own follow-up, with no common time horizon
#:   (``no_common_horizon``), gets none either: a pooled proportion of deaths over 9 months in one
#:   study and 40 in another is a risk at no stated time; each study's count is shown with its
#:   follow-up instead.
HEADLINE = {"min_studies": 3, "estimand": "mean proportion", "published_sources": ("hernandez2018", "alshakarchi2024"),
            "no_common_horizon": ("died_followup",)}
#: the outcomes on the home page and the sensitivity page: every outcome with a common time horizon
HOME_OUTCOMES = tuple(o for o in OUTCOMES if o not in HEADLINE["no_common_horizon"])

#: GRADE-style certainty of a single-arm proportion (Guyatt et al. 2011, J Clin Epidemiol 64:383;
#: Murad et al. 2018, BMJ Evid Based Med 23:60-63, for case series): start at "low"
#: (observational), then one level down for each domain whose rule fires on the data; "very low"
#: is the floor. Each rule reads the data, not the outcome's name:
#: - risk of bias: data/risk_of_bias.csv (JBI checklist for case series). A study is at serious
#:   risk of selection bias unless every one of ``rob_key_items`` (clear inclusion criteria,
#:   consecutive inclusion, complete inclusion) is judged "yes" (a study without judgements counts
#:   as unclear); downgraded when those studies hold more than ``rob_max_share`` of the patients;
#: - imprecision: fewer patients than ``imprecision_min_patients``, or a 95% credible interval of
#:   the mean proportion wider than ``imprecision_max_width`` percentage points;
#: - inconsistency: heterogeneity observed in the data, the GLMM's likelihood-ratio test of
#:   tau^2 = 0 with p below ``inconsistency_max_p`` (not judged where it cannot be computed);
#: - indirectness: more than ``indirectness_max_derived_share`` of the patients' counts derived
#:   rather than reported.
CERTAINTY = {
    "start": "low",
    "levels": ("very low", "low", "moderate", "high"),
    "rob_key_items": (1, 4, 5),
    "rob_max_share": 0.5,
    "imprecision_min_patients": 200,
    "imprecision_max_width": 20.0,  # percentage points, 95% credible interval of the mean proportion
    "inconsistency_max_p": 0.10,
    "indirectness_max_derived_share": 0.25,
}

#: the sensitivity explorer (metaprop.review.explorer, site-assets/explorer*.js): the methods it
#: offers, in order, and which of them the reader's browser computes for any choice of studies
#: (site-assets/explorer-engine.js, a port of the engine tested against it); the others are
#: precomputed at build time for every subset while an outcome has at most ``all_subsets_max``
#: candidate studies (2^7 - 8 = 120 subsets), and beyond that for the named family of subsets
#: (each analysis set, without derived counts, leaving one study out, cumulative by year), so that
#: the build grows polynomially, not exponentially, with the number of studies
EXPLORER = {
    "methods": ("Bayes", "GLMM", "IV-logit-HK", "PFT"),  # names of METHODS
    "in_browser": ("IV-logit-HK", "PFT"),
    "all_subsets_max": 7,
}
