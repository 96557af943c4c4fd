"""The data dictionary of ``results/``: every file and every column, with its unit.

One convention: a proportion is a fraction from 0 to 1 (``estimate``, ``ci_lower`` ...); a column
in percent ends in ``_pct``. Every per-study row carries the study's ``study_id`` (the key of
``data/studies.csv``), and every CSV row the ``data_version`` it was computed from and the
``commit`` of the code and data (``results.json`` carries both at its top). ``results/README.md``
is written from this module, and tests/test_outputs.py checks that it describes every file and
every column ``metaprop results`` writes.
"""

from __future__ import annotations

from fnmatch import fnmatch

__all__ = ["FILES", "COLUMNS", "readme", "describe_file"]

#: file name pattern -> what it holds
FILES = {
    "README.md": "This data dictionary.",
    "results.json": "Every analysis in one JSON document: headlines, the Bayesian model under each prior, GLMM "
                    "heterogeneity, every analysis set, the reproductions of published analyses, Egger's tests, the "
                    "PRISMA 2020 flow of records (`prisma`). "
                    "Proportions from 0 to 1; `i2` in percent; `data_version` and `commit` at the top.",
    "summary.csv": "One row per outcome and analysis set: the protocol's primary method (GLMM, or Freeman-Tukey "
                   "where every study is at 100% or 0%).",
    "loo_*.csv": "Leave-one-out analysis of the outcome's primary set: one row per omitted study, and a last row "
                 "pooling every study (`omitted` = `none`, `omitted_study_id` empty).",
    "cumulative_*.csv": "Cumulative analysis of the primary set by publication year: one row per study added.",
    "grid_*.csv": "The primary set pooled by every method the engine offers, one row each.",
    "forest_*.svg": "Forest plot (vector); the page shows it.",
    "forest_*.png": "Forest plot (bitmap, for documents).",
    "funnel_*.svg": "Funnel plot with Egger's regression (vector).",
    "funnel_*.png": "Funnel plot (bitmap).",
    "risk_of_bias.*": "Risk of bias per study and JBI checklist item (traffic-light plot; SVG and PNG), from "
                      "data/risk_of_bias.csv.",
    "risk_of_bias_summary.*": "Risk of bias per JBI item, as the share of patients in studies with each judgement "
                              "(SVG and PNG).",
    "alt_text.json": "Each figure's description in words (its alt text), by figure name.",
    "explorer_*.json": "The sensitivity explorer's data for one outcome: the candidate studies, the t quantiles the "
                       "browser needs, and the GLMM and Bayesian results pooled at build time, keyed by the "
                       "candidates' indices joined by '-'.",
    "build-key.txt": "The build cache key (a hash of data/ and the core's source), for the site's build step.",
}

_POOLED = {
    "k": ("studies", "number of studies pooled"),
    "events": ("patients", "patients with the outcome, summed over the studies"),
    "patients": ("patients", "patients, summed over the studies"),
    "estimate": ("proportion 0-1", "pooled proportion (random effects; back-transformed)"),
    "ci_lower": ("proportion 0-1", "lower limit of its 95% confidence interval"),
    "ci_upper": ("proportion 0-1", "upper limit of its 95% confidence interval"),
    "pi_lower": ("proportion 0-1", "lower limit of the 95% prediction interval (empty with one study)"),
    "pi_upper": ("proportion 0-1", "upper limit of the 95% prediction interval"),
    "te": ("sm scale", "pooled estimate on the transformed scale of `sm` (logit, arcsine ...)"),
    "se": ("sm scale", "its standard error"),
    "tau2": ("sm scale, squared", "between-study variance tau^2"),
    "i2_pct": ("percent", "I^2 from Cochran's Q, (Q - df)/Q, as R meta prints it"),
    "q": ("", "Cochran's Q (for a GLMM: the Wald-type Q of the logits, as R meta)"),
    "q_df": ("", "its degrees of freedom"),
    "q_pvalue": ("probability", "p-value of the test of heterogeneity"),
    "note": ("text", "what the engine says about this fit (continuity corrections, fallbacks)"),
    "data_version": ("text", "version of data/ (datapackage.json) these numbers come from"),
    "commit": ("text", "the git commit the build ran from (`unknown` outside git)"),
}

#: file pattern -> column -> (unit, meaning)
COLUMNS = {
    "summary.csv": {
        "outcome": ("text", "outcome key (weaned, discharged_alive, alive_12mo, died_followup)"),
        "analysis": ("text", "analysis set key (primary, with_retracted, with_broader, all, no_percent_derived)"),
        "analysis_label": ("text", "the analysis set in words"),
        **{k: v for k, v in _POOLED.items() if k not in ("te", "se")},
        "i2_definition": ("text", "how i2_pct was computed"),
        "sm": ("text", "summary measure (R meta's sm): PLOGIT, PFT, PRAW, PAS"),
        "method": ("text", "GLMM or Inverse (inverse variance)"),
        "method_tau": ("text", "tau^2 estimator (ML, REML, DL, PM)"),
    },
    "loo_*.csv": {
        "omitted": ("text", "the study left out (its label), or `none` for the row with every study"),
        "omitted_study_id": ("text", "its study_id in data/studies.csv (empty on the all-studies row)"),
        **{k: v for k, v in _POOLED.items() if k != "q_df"},
    },
    "cumulative_*.csv": {
        "added": ("text", "the study added at this step (its label)"),
        "added_study_id": ("text", "its study_id in data/studies.csv"),
        "year": ("year", "its publication year"),
        **{k: v for k, v in _POOLED.items() if k != "q_df"},
    },
    "grid_*.csv": {
        "method": ("text", "GLMM or Inverse"),
        "sm": ("text", "summary measure"),
        "method_tau": ("text", "tau^2 estimator"),
        "ci": ("text", "random-effects interval: z (Wald) or hakn (Hartung-Knapp, t(k-1))"),
        **{k: v for k, v in _POOLED.items() if k != "q_df"},
    },
}


def describe_file(name: str) -> str | None:
    """What the file ``name`` of results/ holds, or None when the dictionary does not know it."""
    return next((text for pattern, text in FILES.items() if fnmatch(name, pattern)), None)


def readme(data_version: str, commit: str) -> str:
    """results/README.md: the files, then every CSV's columns with their units."""
    lines = ["# results/: what each file holds", "",
             f"Computed by `metaprop results` from data version {data_version} (commit {commit}).",
             "Conventions: a proportion is a fraction from 0 to 1; a column in percent ends in `_pct`; per-study "
             "rows carry the study's `study_id` (the key of `data/studies.csv`); every CSV row carries "
             "`data_version` and `commit`. Empty cells are values that do not exist for that row.", "",
             "## Files", "", "| file | what it holds |", "|---|---|"]
    lines += [f"| `{pattern}` | {text} |" for pattern, text in FILES.items()]
    for pattern, cols in COLUMNS.items():
        lines += ["", f"## Columns of `{pattern}`", "", "| column | unit | meaning |", "|---|---|---|"]
        lines += [f"| `{c}` | {unit} | {meaning} |" for c, (unit, meaning) in cols.items()]
    return "\n".join(lines) + "\n"
