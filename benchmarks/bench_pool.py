"""Benchmark: whole-process `metaprop pool` vs `Rscript` + metafor on the same synthetic data.

Times REML (rma / --method Inverse --method-tau REML) and GLMM (rma.glmm / --method GLMM) at
k = 100, 1000 and 2000 studies, including process start-up, and prints the ratios and the
largest difference between the two estimates. Not a test: run it with `make benchmark` or
`python benchmarks/bench_pool.py [--k 100 1000 2000] [--repeat 3] [--no-r]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
if (args[2] == "REML") {
  r <- rma(measure = "PLO", xi = d$events, ni = d$total, method = "REML")
} else {
  r <- rma.glmm(measure = "PLO", xi = d$events, ni = d$total, method = "ML")
}
cat(sprintf("%.10f %.10f\n", r$b[1], r$tau2))
"""


def make_data(k: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + k)
    n = rng.integers(10, 200, k)
    p = 1 / (1 + np.exp(-rng.normal(0.5, 0.8, k)))
    return rng.binomial(n, p), n


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, nargs="+", default=[100, 1000, 2000])
    ap.add_argument("--repeat", type=int, default=3, help="runs of metaprop per case (median)")
    ap.add_argument("--no-r", action="store_true", help="time metaprop only")
    args = ap.parse_args()
    rscript = None if args.no_r else shutil.which("Rscript")
    if not args.no_r and rscript is None:
        print("Rscript not found: timing metaprop only (install R with metafor to compare).")
    metaprop = [sys.executable, "-m", "metaprop", "pool"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rfile = Path(tmp) / "fit.R"
        rfile.write_text(R_SCRIPT)
        for k in args.k:
            x, n = make_data(k)
            csv = Path(tmp) / f"k{k}.csv"
            csv.write_text("events,total\n" + "".join(f"{a},{b}\n" for a, b in zip(x, n, strict=True)))
            for model, opts in (("REML", ["--method", "Inverse", "--method-tau", "REML"]),
                                ("GLMM", ["--method", "GLMM"])):
                runs = [timed(metaprop + [str(csv), "--sm", "PLOGIT", *opts, "--json"]) for _ in range(args.repeat)]
                t_py = statistics.median(t for t, _ in runs)
                res = json.loads(runs[0][1])
                te = res["random"]["te"]
                row = {"k": k, "model": model, "metaprop_s": t_py, "R_s": None, "ratio": None, "diff": None}
                if rscript:
                    t_r, out = timed([rscript, str(rfile), str(csv), model])
                    b, tau2 = map(float, out.split())
                    row.update(R_s=t_r, ratio=t_r / t_py, diff=max(abs(b - te), abs(tau2 - res["tau2"])))
                rows.append(row)
                print(f"k = {k:5d}  {model}:  metaprop {t_py:6.2f} s"
                      + (f"   R metafor {row['R_s']:6.2f} s   R/metaprop = {row['ratio']:5.1f}x"
                         f"   max |diff| (estimate, tau^2) = {row['diff']:.1e}" if rscript else ""),
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
