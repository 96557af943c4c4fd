"""The protocol's headline rules (issue #12): what is pooled, from how much, beside what was published,
and the certainty line, each computed from data/ and checked against hand reasoning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaprop.engine.bayes import pool_bayes
from metaprop.review.data import load
from metaprop.review.headline import certainty, headline
from metaprop.review.protocol import BAYES, CERTAINTY, HEADLINE

from conftest import FROZEN_DATA


@pytest.fixture(scope="module")
def data():
    return load(FROZEN_DATA)


def counts(rows):
    return pd.DataFrame([{"study_id": f"s{i}", "label": f"Study {i}", "events": x, "total": n,
                          "derivation": d} for i, (x, n, d) in enumerate(rows)])


def test_too_few_studies_get_the_pooled_count_not_a_model(data):
    h = headline(data, "alive_12mo", counts([(10, 10, "derived")]))
    assert h.status == "too_few" and h.bayes is None and HEADLINE["min_studies"] == 3
    # Clopper-Pearson for 10/10: lower limit 0.025^(1/10) = 0.6915 (hand calculation)
    assert h.pooled_count == pytest.approx((1.0, 0.025 ** 0.1, 1.0), abs=1e-10)
    assert h.derived_share == 1.0
    h2 = headline(data, "alive_12mo", counts([(10, 10, "reported"), (5, 9, "reported")]))
    assert h2.status == "too_few"


def test_every_study_at_100_percent_is_not_pooled(data):
    h = headline(data, "discharged_alive", counts([(10, 10, "reported"), (10, 10, "derived"), (11, 11, "reported")]))
    assert h.status == "all_extreme" and h.bayes is None
    assert h.pooled_count == pytest.approx((1.0, 0.025 ** (1 / 31), 1.0), abs=1e-10)
    assert h.derived_patients == 10 and "every study reports 100%" in h.why_not_pooled


def test_pooled_headline_is_the_bayesian_mean_proportion(data):
    rows = [(10, 10, "reported"), (9, 10, "reported"), (20, 20, "reported"), (9, 14, "reported"), (11, 11, "reported")]
    h = headline(data, "weaned", counts(rows))
    assert h.status == "pooled"
    b = pool_bayes([r[0] for r in rows], [r[1] for r in rows], **BAYES)
    assert h.bayes.p_mean == b.p_mean and h.k == 5 and h.patients == 65 and h.events == 59


def test_weaning_headline_on_the_frozen_data_and_why_it_differs_from_2018(data):
    h = headline(data, "weaned", data.counts("weaned", "primary"))
    assert round(100 * h.bayes.p_mean.median, 1) == 91.4  # half-normal(1.0), as the issue's own figure
    hern = next(p for p in h.published if p.source == "hernandez2018")
    assert (hern.estimate, hern.ci_lower, hern.ci_upper) == (93, 86, 100)
    # the 2018 analysis set holds the same five studies; its DL raw-proportion pooling, rebuilt
    # from data/, is 93.45% (86.19 to 100.71), so the sentence names the method and the 100.7%
    assert "the same 5 studies" in hern.why and "93.4%" in hern.why and "100.7%" in hern.why


def test_certainty_rules_fire_from_the_data():
    import pandas as pd

    from metaprop.review.headline import heterogeneity_p

    def frame(x, n, derived=()):
        return pd.DataFrame({"study_id": [f"s{i}" for i in range(len(x))], "events": x, "total": n,
                             "derivation": ["derived" if i in derived else "reported" for i in range(len(x))]})

    x, n = [180, 190, 170, 185, 175], [200, 210, 190, 205, 195]  # homogeneous
    hom = pool_bayes(x, n, tau_prior_scale=0.5)
    c = certainty(frame(x, n), None, hom, heterogeneity_p(np.array(x), np.array(n)))
    assert [d for d, _ in c.reasons] == ["risk of bias"]  # precise, consistent, every count reported
    assert c.level == "very low"  # start "low" (observational), down one: no study judged (no JBI rows)
    x, n = [1, 9, 20, 9, 11], [10, 10, 20, 14, 11]  # 10% to 100%: heterogeneous
    wide = pool_bayes(x, n, tau_prior_scale=0.5)
    c = certainty(frame(x, n, derived=(2,)), None, wide, heterogeneity_p(np.array(x), np.array(n)))
    assert [d for d, _ in c.reasons] == ["risk of bias", "imprecision", "inconsistency", "indirectness"]
    assert c.level == CERTAINTY["levels"][0] == "very low"  # the floor
    assert "65 patients" in c.text and "20 of 65" in c.text


def test_home_and_outcome_sentences(frozen_pages):
    S = frozen_pages
    assert S.estimate("weaned").startswith("91.4% (95% credible interval 73.2 to 98.1)")
    # counts as counts (no interval that would assume one common proportion)
    assert S.estimate("alive_12mo").startswith("not pooled: 10 of 10 patients in 1 study, because too few studies")
    assert "CI" not in S.estimate("alive_12mo") and "CI" not in S.estimate("discharged_alive")
    frame = S.headline_frame().set_index("Outcome")
    discharge = frame.loc["Survival to hospital discharge"]
    assert discharge["Patients with the outcome"] == "31 of 31 patients in 3 studies"
    assert discharge["Pooled mean proportion, % (95% CrI)"].startswith("not pooled: every study reports 100%")
    assert "%" not in discharge["Pooled mean proportion, % (95% CrI)"].replace("100%", "")
    weaned = frame.loc["Weaned from intravenous inotropes"]
    assert weaned["Pooled mean proportion, % (95% CrI)"] == "91.4% (73.2 to 98.1)"
    # death during follow-up: no common horizon, so no pooled risk; each study with its follow-up
    death = S.headline("died_followup")
    assert death.status == "no_horizon" and death.bayes is None
    para = str(S.headline_paragraph("died_followup"))
    assert "18 of 41 patients in 3 studies" in para and "no common time horizon" in para
    assert "median 9\\.5 months" in para or "median 9.5 months" in para
    assert S.prediction("weaned") == "43.3 to 99.9%"
    assert S.evidence("weaned") == "5 studies, 65 patients, every count reported"
    assert "10 of 31 patients' counts derived (32%)" in S.evidence("discharged_alive")
    # the frozen data hold no JBI judgements: all 65 patients count as unclear; LR = 5.84 (below),
    # p = P(chi2_1 > 5.84) / 2 = 0.0157 / 2 = 0.008 < 0.10: inconsistency from the data
    assert S.certainty("weaned").startswith("Very low: risk of bias (65 of 65 patients in studies not judged")
    assert "inconsistency (heterogeneity between studies, likelihood-ratio test p = 0.008)" in S.certainty("weaned")
    text = S.heterogeneity_sentence("weaned")
    assert "LR = 5.84" in text and "R meta prints I\u00b2 = 0%" in text
    assert set(S.bayes_frame("weaned")["Priors"].str.contains("half-Cauchy")) == {False, True}
    assert np.all(S.headline_frame()["Certainty"] == "Very low")
    # published estimates as published (data/published.csv): one precision per result, so
    # Al-Shakarchi's upper limit stays "97.0" though a CSV number loses its trailing zero
    beside = str(S.published_beside("weaned"))
    assert "2018: 93% (86 to 100). Why ours differs" in beside
    assert "2024: 89.3% (77.6 to 97.0). Why ours differs" in beside


def test_outcome_page_paragraphs_name_the_model_fitted(frozen_pages):
    """Pooled: the headline with its range for a new study, the median study and R meta's GLMM.
    Not pooled: the pooled count and why, no 'range for a new study', no Bayesian dash; R meta's
    analysis named by the model actually fitted (Freeman-Tukey when every study is at 100%)."""
    S = frozen_pages
    weaned = str(S.headline_paragraph("weaned")) + str(S.models_paragraph("weaned"))
    assert "95% predictive range: 43\\.3 to 99\\.9%" in weaned and "(GLMM): 97\\.1%" in weaned
    assert "Median study" in weaned and str(S.bayes_note("weaned")) == ""
    discharge = str(S.headline_paragraph("discharged_alive")) + str(S.models_paragraph("discharged_alive"))
    assert discharge.startswith("**Headline:** not pooled")
    assert "new study" not in discharge and "Median study" not in discharge and "\u2014" not in discharge
    assert "(Freeman\\-Tukey random effects \\(REML\\), as the GLMM has no finite estimate" in discharge
    assert S.bayes_table("discharged_alive") is None
    assert str(S.bayes_note("discharged_alive")).startswith("No Bayesian estimate: every study reports 100%")
    assert S.heterogeneity_sentence("discharged_alive").endswith("every study reports 100% or 0%, and the GLMM "
                                                                 "has no finite estimate then.")
    assert S.heterogeneity_sentence("alive_12mo").endswith("it needs at least 2 studies.")
    assert S.glmm_text("alive_12mo") == "100.0% (95% CI 69.2 to 100.0); no prediction interval (one study)"


def test_one_i2_per_display_each_with_its_definition(frozen_pages, tmp_path):
    """Weaning: R meta's I^2 (from Cochran's Q) is 0%, one from the GLMM's tau^2 is 77%. The CSV and
    the command line carry R meta's, named; the figure carries none; the page's sentence both, each
    named (frozen data)."""
    import pandas as pd

    from metaprop.review.outputs import write_tables
    from metaprop.site.figures import model_heterogeneity_label

    S = frozen_pages
    write_tables(tmp_path, S.data, S.results)  # results/'s JSON and CSV, as `metaprop results` writes them
    summary = pd.read_csv(tmp_path / "summary.csv")
    row = summary[(summary["outcome"] == "weaned") & (summary["analysis"] == "primary")].iloc[0]
    assert round(row["i2_pct"]) == 0 and row["i2_definition"].startswith("from Cochran's Q")
    label = model_heterogeneity_label(S.headline("weaned").bayes, S.results.glmm_heterogeneity["weaned"])
    assert "I\u00b2" not in label and "LR test p" in label
    text = S.heterogeneity_sentence("weaned")
    assert "I\u00b2 = 77% computed from this \u03c4\u00b2" in text and "R meta prints I\u00b2 = 0%" in text
