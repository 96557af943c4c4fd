"""One-off import (2026-11-28) of the curated abstract extraction into data/ (data version 1.0.0).

Kept for provenance, as metadat keeps its data-raw scripts: it shows how each column of
data/studies.csv and data/outcomes.csv was made from the extraction's text, so that a reviewer can
check the parsing. After this import, data/ is edited by hand through pull requests; do not re-run
this over later edits. Usage: python data/scripts/import_shared_extraction.py ../shared/data data
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

MEAN_SD = re.compile(r"^\s*([\d.]+)\s*\+/-\s*([\d.]+)\s*$")
MEDIAN = re.compile(r"^\s*([\d.]+)\s*\(median[^)]*\)\s*$")
PLAIN = re.compile(r"^\s*([\d.]+)\s*(\(whole cohort\))?\s*$")

# the review protocol in ../shared/data/README.md: primary vs sensitivity populations
BROADER = {"james2006", "cardiolrespract2012", "pmid21664704", "yamashita2015", "pmid21913946"}
REASONS = {
    "primary": "Patients dependent on intravenous inotropes at de novo CRT implantation; not retracted.",
    "sensitivity_retracted": "Retracted (ethics approval obtained after submission): excluded from the "
                             "primary analysis, added in a sensitivity analysis.",
    "sensitivity_population": "Population broader than inotrope-dependent at implantation, or inotrope "
                              "status not stated in the abstract: sensitivity analysis only.",
}


def parse_stat(text: str):
    """'55 +/- 13' -> mean, sd; '170 (median)' -> median; '40' -> value; else text only."""
    out = {"mean": "", "sd": "", "median": ""}
    if not text:
        return out
    if m := MEAN_SD.match(text):
        out["mean"], out["sd"] = m.group(1), m.group(2)
    elif m := MEDIAN.match(text):
        out["median"] = m.group(1)
    else:
        raise ValueError(f"cannot parse {text!r}")
    return out


def parse_pct(text: str) -> str:
    if not text:
        return ""
    m = PLAIN.match(text)
    if not m:
        raise ValueError(f"cannot parse percent {text!r}")
    return m.group(1)


def parse_follow_up(text: str):
    out = {"mean": "", "sd": "", "median": "", "min": "", "max": "", "unit": ""}
    if not text:
        return out
    unit = re.search(r"(days|months|years)\s*$", text)
    if not unit:
        return out  # e.g. "18 months" without a statistic stays text only
    out["unit"] = unit.group(1)
    if m := re.match(r"^(?:mean\s+)?([\d.]+)\s*\+/-\s*([\d.]+)\s+\w+$", text):
        out["mean"], out["sd"] = m.group(1), m.group(2)
    elif m := re.match(r"^median\s+([\d.]+)(?:\s*\(range\s+([\d.]+)-([\d.]+)\))?\s+\w+$", text):
        out["median"], out["min"], out["max"] = m.group(1), m.group(2) or "", m.group(3) or ""
    elif m := re.match(r"^mean\s+([\d.]+)\s+\w+$", text):
        out["mean"] = m.group(1)
    else:
        out["unit"] = ""
    return out


def source_of(row) -> str:
    ids = []
    if row["doi"]:
        ids.append(f"doi:{row['doi']}")
    if row["pmid"]:
        ids.append(f"PMID {row['pmid']}")
    if row["pmcid"]:
        ids.append(row["pmcid"])
    ref = "; ".join(ids) if ids else row["journal"]
    return f"abstract ({ref})"


def main(src: Path, dst: Path) -> None:
    studies = list(csv.DictReader(open(src / "studies.csv", encoding="utf-8")))
    sources = {}
    out = []
    for r in studies:
        age, lvef, qrs = (parse_stat(r[c]) for c in ("age_mean", "lvef_mean", "qrs_mean"))
        whole = "whole cohort" in (r["age_mean"] + r["male_pct"])
        fu = parse_follow_up(r["follow_up"])
        reported = "; ".join(f"{k}: {r[c]}" for k, c in (
            ("age", "age_mean"), ("male %", "male_pct"), ("NYHA IV %", "nyha_iv_pct"),
            ("LVEF %", "lvef_mean"), ("QRS ms", "qrs_mean"), ("ischaemic %", "ischemic_pct")) if r[c])
        inclusion = ("sensitivity_retracted" if r["retracted"] == "yes"
                     else "sensitivity_population" if r["study_id"] in BROADER else "primary")
        src_text = source_of(r)
        sources[r["study_id"]] = src_text
        out.append({
            "study_id": r["study_id"], "first_author": r["first_author"],
            "first_author_verified": r["first_author_verified"], "authors": r["authors"],
            "year": r["year"], "title": r["title"], "journal": r["journal"], "doi": r["doi"],
            "pmid": r["pmid"], "pmcid": r["pmcid"], "country": r["country"], "design": r["design"],
            "n_crt": r["n_crt"],
            "age_mean": age["mean"], "age_sd": age["sd"], "age_median": age["median"],
            "male_pct": parse_pct(r["male_pct"]), "nyha_iv_pct": parse_pct(r["nyha_iv_pct"]),
            "lvef_mean": lvef["mean"], "lvef_sd": lvef["sd"], "lvef_median": lvef["median"],
            "qrs_mean": qrs["mean"], "qrs_sd": qrs["sd"], "qrs_median": qrs["median"],
            "ischemic_pct": parse_pct(r["ischemic_pct"]),
            "baseline_population": ("whole cohort (not only the patients on inotropes)" if whole
                                    else ("the study's n_crt CRT patients" if reported else "")),
            "baseline_reported": reported,
            "inotropes": r["inotropes"], "device": r["device"],
            "follow_up_reported": r["follow_up"], "follow_up_mean": fu["mean"],
            "follow_up_sd": fu["sd"], "follow_up_median": fu["median"], "follow_up_min": fu["min"],
            "follow_up_max": fu["max"], "follow_up_unit": fu["unit"],
            "retracted": r["retracted"], "hernandez2018": r["hernandez2018"],
            "inclusion": inclusion, "inclusion_reason": REASONS[inclusion],
            "source": src_text, "source_location": "abstract", "note": r["note"],
        })
    write(dst / "studies.csv", out)

    outcomes = list(csv.DictReader(open(src / "outcomes.csv", encoding="utf-8")))
    write(dst / "outcomes.csv", [{
        "study_id": o["study_id"], "outcome": o["outcome"], "events": o["events"], "total": o["total"],
        "derivation": o["derivation"], "source": sources[o["study_id"]], "location": o["location"],
        "note": o["note"]} for o in outcomes])

    sets = list(csv.DictReader(open(src / "analysis_sets.csv", encoding="utf-8")))
    write(dst / "analysis_sets.csv", sets)

    citation = {"hernandez2018": "Hernandez et al. JACC Heart Fail 2018;6:734-742",
                "alshakarchi2024": "Al-Shakarchi et al. ESC Heart Fail 2024",
                "alshakarchi2023_abstract": "Al-Shakarchi et al. ESC Congress 2023, abstract"}
    pub = list(csv.DictReader(open(src / "published.csv", encoding="utf-8")))
    for p in pub:
        p["citation"] = citation[p["source"]]
    write(dst / "published.csv", pub)


def write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
