"""One-off start (2026-12-04) of the review's records in data/ (data version 1.1.0):
screening.csv and risk_of_bias.csv, from what data/studies.csv and data/outcomes.csv already hold.

Kept for provenance, as import_shared_extraction.py: it shows how each row was made, so that a
reviewer can check it. After this start, both files are edited by hand through pull requests (a
reviewer who reads a full text replaces the judgements below with what it shows); do not re-run
this over later edits. Usage: python data/scripts/start_review_records.py data

screening.csv: one record per candidate study. How each was first found is not recorded (they
come from the curated abstract extraction data 1.0.0 started from): source "not_recorded".
Eligibility was judged on the abstract only: stage "title_abstract". All 15 are in the review
(primary or a sensitivity set): decision "included". No exclusion is recorded anywhere in the
repository, so none is listed.

risk_of_bias.csv: the JBI critical appraisal checklist for case series (Munn et al. 2020, JBI
Evid Synth 18:2127-2133), 10 items per study, judged from what the extraction of each abstract
records (data/studies.csv, data/outcomes.csv), never from anything else:

1. clear criteria for inclusion          unclear: the extraction records the inotrope status, not the criteria
2. condition measured in a standard way  unclear: not recorded
3. valid identification of the condition unclear: not recorded
4. consecutive inclusion                 yes where the design says "consecutive", else unclear
5. complete inclusion                    unclear: not recorded
6. demographics clearly reported         yes where age and sex are recorded (of these patients), else unclear
7. clinical information clearly reported yes where at least two of NYHA class, LVEF and QRS are recorded
8. outcomes or follow-up clearly reported yes where follow-up and a reported (not derived) count are recorded
9. site demographics reported            yes where the country and the centre setting are recorded
10. statistical analysis appropriate     unclear: not recorded (counts only)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ITEMS = {1: "clear criteria for inclusion", 2: "condition measured in a standard, reliable way",
         3: "valid methods to identify the condition", 4: "consecutive inclusion", 5: "complete inclusion",
         6: "clear reporting of demographics", 7: "clear reporting of clinical information",
         8: "outcomes or follow-up results clearly reported", 9: "clear reporting of the site(s)",
         10: "appropriate statistical analysis"}
NOT_READ = "not recorded in the extraction of the abstract; the full text has not been read"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def judge(st: dict, reported: bool) -> dict[int, tuple[str, str]]:
    """(judgement, support) per JBI item for one study row of studies.csv."""
    design = st["design"].strip()
    out = {i: ("unclear", NOT_READ) for i in ITEMS}
    out[1] = ("unclear", f"inotrope status as recorded: \"{st['inotropes'].strip()}\"; inclusion criteria "
                         f"{NOT_READ.split(';')[0]}")
    if "consecutive" in design.lower():
        out[4] = ("yes", f"design: \"{design}\"")
    age = st["age_mean"] or st["age_median"]
    if age and st["male_pct"] and "whole cohort" in st["baseline_reported"]:
        out[6] = ("unclear", "age and sex recorded for the whole cohort, not for the CRT patients on inotropes")
    elif age and st["male_pct"]:
        out[6] = ("yes", f"age {age} years and {st['male_pct']}% male recorded")
    clinical = [name for name, cols in (("NYHA class", ("nyha_iv_pct",)), ("LVEF", ("lvef_mean", "lvef_median")),
                                        ("QRS", ("qrs_mean", "qrs_median"))) if any(st[c] for c in cols)]
    if len(clinical) >= 2:
        out[7] = ("yes", f"{', '.join(clinical)} recorded: \"{st['baseline_reported'].strip()}\"")
    if st["follow_up_reported"].strip() and reported:
        out[8] = ("yes", f"follow-up \"{st['follow_up_reported'].strip()}\" and a count the abstract reports")
    settings = ("single centre", "single-centre", "multicentre", "two centres")
    if st["country"].strip() and any(s in design.lower() for s in settings):
        out[9] = ("yes", f"{st['country'].strip()}; design: \"{design}\"")
    return out


def main(data_dir: str) -> int:
    data = Path(data_dir)
    studies = _rows(data / "studies.csv")
    reported = {r["study_id"] for r in _rows(data / "outcomes.csv") if r["derivation"] == "reported"}
    with (data / "screening.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["record_id", "pmid", "doi", "title", "year", "source", "stage", "decision", "exclusion_reason",
                    "study_id", "evidence", "date_screened", "note"])
        for st in studies:
            w.writerow([st["study_id"], st["pmid"], st["doi"], st["title"], st["year"], "not_recorded",
                        "title_abstract", "included", "", st["study_id"], st["source"], "",
                        "In the curated abstract extraction data 1.0.0 started from; how it was first found is "
                        f"not recorded. Inclusion: {st['inclusion']}."])
    with (data / "risk_of_bias.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["study_id", "item", "judgement", "support", "source"])
        for st in studies:
            for item, (judgement, support) in judge(st, st["study_id"] in reported).items():
                w.writerow([st["study_id"], item, judgement, support, f"{st['source']}, as extracted in studies.csv"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "data"))
