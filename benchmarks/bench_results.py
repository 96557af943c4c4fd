"""How the build grows with the evidence: ``metaprop results`` (whole process, figures and the
explorer's files included) and the size of ``results/`` with 7, 10, 14 and 20 candidate studies
for weaning.

Each run copies ``data/`` to a temporary folder and adds synthetic weaning studies (seeded counts,
about 90% weaned of 8 to 40 patients, marked as synthetic in every text cell) until weaning has the
number of candidates asked for; nothing is written to ``data/``. Writes
``benchmarks/results_scaling.json`` and ``.md`` and prints the table; a benchmark, not a test
(``make bench-results``). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZES = (7, 10, 14, 20)
SOURCE = "synthetic benchmark study (benchmarks/bench_results.py), not a real study"


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def _write(path: Path, fields, rows) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def synthetic_data(dest: Path, candidates: int, seed: int = 20261204) -> Path:
    """A copy of data/ in ``dest`` whose weaning outcome has ``candidates`` candidate studies."""
    data = dest / "data"
    shutil.copytree(ROOT / "data", data)
    fields, studies = _rows(data / "studies.csv")
    ofields, outcomes = _rows(data / "outcomes.csv")
    have = sum(1 for r in outcomes if r["outcome"] == "weaned")
    template = next(r for r in studies if r["inclusion"] == "primary")
    rng = np.random.default_rng(seed)
    for i in range(candidates - have):
        n = int(rng.integers(8, 41))
        x = int(min(n, rng.binomial(n, 0.9)))
        sid = f"bench{i:02d}"
        studies.append(dict.fromkeys(fields, "") | {
            "study_id": sid, "first_author": f"Bench{i:02d} A", "first_author_verified": "yes",
            "year": str(2016 + i % 10), "title": "Synthetic benchmark study", "journal": "Synthetic",
            "design": "case series", "n_crt": str(n), "retracted": "no", "hernandez2018": "unlikely",
            "inclusion": "primary", "inclusion_reason": template["inclusion_reason"], "source": SOURCE,
            "source_location": "synthetic"})
        outcomes.append(dict.fromkeys(ofields, "") | {
            "study_id": sid, "outcome": "weaned", "events": str(x), "total": str(n), "derivation": "reported",
            "source": SOURCE, "location": "synthetic"})
    _write(data / "studies.csv", fields, studies)
    _write(data / "outcomes.csv", ofields, outcomes)
    return data


def run(candidates: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic_data(Path(tmp), candidates)
        out = Path(tmp) / "results"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "metaprop", "results", "--data-dir", str(data), "--out", str(out)],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - t
        files = [p for p in out.iterdir() if p.is_file()]
        explorer = json.loads((out / "explorer_weaned.json").read_text())
        return {"candidates": candidates, "seconds": round(seconds, 2),
                "results_mb": round(sum(p.stat().st_size for p in files) / 1e6, 2), "files": len(files),
                "weaning_subsets_precomputed": len(explorer["results"]), "scope": explorer["precomputed"]}


def main() -> int:
    rows = [run(k) for k in SIZES]
    base = rows[0]["seconds"]
    for r in rows:
        r["ratio_to_7"] = round(r["seconds"] / base, 2)
    doc = {"python": platform.python_version(), "machine": platform.machine(), "rows": rows}
    (ROOT / "benchmarks" / "results_scaling.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = ["| weaning candidates | `metaprop results` (s) | ratio to 7 | results/ (MB) | weaning subsets "
             "precomputed (GLMM, Bayes) |", "|---:|---:|---:|---:|---|"]
    lines += [f"| {r['candidates']} | {r['seconds']:.2f} | {r['ratio_to_7']:.2f} | {r['results_mb']:.2f} | "
              f"{r['weaning_subsets_precomputed']} ({r['scope']}) |" for r in rows]
    table = "\n".join(lines)
    (ROOT / "benchmarks" / "results_scaling.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
