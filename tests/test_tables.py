"""Tables: the frames behind each great-tables table carry the data as the sources report them."""

from __future__ import annotations

import math
import re

import pytest

from metaprop.review.data import load
from metaprop.site.result_tables import results_frame, results_gt
from metaprop.site.tables import completeness_frame, study_frame

from conftest import FROZEN_DATA


@pytest.fixture(scope="module")
def data():
    return load(FROZEN_DATA)


def test_study_frame_units_and_flags(data):
    df = study_frame(data).set_index("Study")
    # Herweg 2007 abstract: age 55 +/- 13, LVEF 23.5 +/- 4.3, QRS 153 +/- 25, follow-up 1088 +/- 284 days
    assert df.loc["Herweg 2007", ["Age, years", "LVEF, %", "QRS, ms"]].tolist() == ["55 \u00b1 13", "23.5 \u00b1 4.3",
                                                                                   "153 \u00b1 25"]
    assert df.loc["Herweg 2007", "Follow-up"] == "1088 \u00b1 284 days"
    assert df.loc["Konstantino* 2006", "QRS, ms"] == "170 (median)"
    assert df.loc["Nakajima 2013", "Retracted"] == "RETRACTED"
    assert df.loc["Nakajima 2013", "Inclusion"] == "Sensitivity (retracted)"
    assert df.loc["Cowburn 2005", "Age, years"] == "\u2014"  # not reported: stays empty


def test_completeness_frame_marks_missing_and_derivation(data):
    df = completeness_frame(data).set_index("Study")
    assert df.loc["Herweg 2007", "discharged_alive"] == "10/10 (derived)"
    assert df.loc["James 2006", "alive_12mo"] == "27/38 (from %)"
    assert df.loc["Cowburn 2005", "alive_12mo"] == "missing"
    assert df.loc["Hara 2011", "weaned"] == "9/14"


def test_results_frame_k1_and_pooled(frozen_pages):
    S = frozen_pages
    rows = results_frame([("w", S.primary("weaned")["result"]), ("s", S.primary("alive_12mo")["result"])])
    one = rows.set_index("Analysis").loc["s"]
    # one study, 10/10: Clopper-Pearson lower limit 0.025^(1/10) = 0.6915, upper 1
    assert one["Estimate, % (95% CI)"] == 1.0 and one["ci_lower"] == pytest.approx(0.025 ** 0.1, abs=1e-12)
    assert one["ci_upper"] == 1.0 and math.isnan(one["Prediction interval, %"]) and math.isnan(one["\u03c4\u00b2"])
    w = rows.set_index("Analysis").loc["w"]
    assert (w["k"], w["Events/total"], w["patients"]) == (5, 59, 65) and w["Method"].startswith("GLMM")
    # great-tables writes them: three numbers as one cell, a dash where there is none
    cells = _cells(results_gt([("s", S.primary("alive_12mo")["result"])]).as_raw_html())
    assert cells[:6] == ["s", "1", "10/10", "100.0 (69.2 to 100.0)", "\u2014", "\u2014"]


def _cells(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]


def test_sensitivity_page_gives_the_reason_egger_is_not_reported(frozen_pages):
    """Weaning: 3 of 5 studies at 100% (issue 14): the page says why, and shows no p-value."""
    sentence = frozen_pages.egger_sentence("weaned")
    assert sentence.startswith("Egger's test is not reported:") and "p =" not in sentence
    assert "0% or 100% events" in sentence


def test_a_table_renders_the_same_html_every_time(frozen_pages):
    """great-tables draws a random id per table unless given one: the id comes from the title, so the
    same data give the same page (two renders of _site/ compared byte for byte)."""
    a, b = frozen_pages.sets_table("weaned").as_html(), frozen_pages.sets_table("weaned").as_html()
    assert a == b and 'id="gt-weaned-from-intravenous-inotropes-primary-and-sensitivity-an"' in a  # 60 characters
