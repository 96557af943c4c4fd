"""Benchmark: metaprop against R metafor, in-process and whole-process, idle and busy.

In one run, beside R (issue 16's targets; ratios, not absolute times, are the result):

- one GLMM fit (``pool(method="GLMM")`` / ``rma.glmm(measure="PLO", method="ML")``) at
  k = 5 (the five weaning studies of data/), 20, 100 and 1000, in-process;
- one inverse-variance REML fit (``pool(method="Inverse")`` / ``rma(measure="PLO")``) at k = 5
  and 1000, in-process;
- the same in-process fits while a second process keeps both cores busy ("busy");
- ``analyse()`` on data/ (every fit the site shows), in-process;
- whole-process ``metaprop pool`` against ``Rscript`` at k = 1000 (REML and GLMM), including
  process start-up.

In-process times are the median over repeated blocks, each block running the fit until at least
0.2 s have passed, the same way on both sides. Writes ``benchmarks/engine.json`` and
``benchmarks/engine.md`` (a table); the README quotes the table. Run with ``make benchmark``.
Not a test: timings belong to a machine, not to a pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WEANING = ([10, 9, 20, 9, 11], [10, 10, 20, 14, 11])  # data/: the five weaning studies
TARGETS = {  # issue 16
    "glmm_k5_ms": 3.0,            # at most, in-process, idle
    "glmm_ratio_min": 1.0,        # faster than metafor at every k, idle and busy
    "glmm_k5_ratio": 10.0,        # at least 10x faster than metafor at k = 5
    "iv_ratio": 20.0,             # at least 20x faster than metafor at k = 5 and 1000
    "analyse_s": 0.3,             # at most
    "process_k1000_fraction": 0.05,  # at most metafor's whole-process time
}

R_INPROCESS = r"""
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyVector = FALSE)
timeit <- function(f, min_time = 0.2, blocks = 5) {
  f()  # warm-up
  per <- numeric(blocks)
  for (b in seq_len(blocks)) {
    reps <- 0; t0 <- proc.time()[["elapsed"]]
    repeat { f(); reps <- reps + 1; el <- proc.time()[["elapsed"]] - t0; if (el >= min_time) break }
    per[b] <- el / reps
  }
  median(per)
}
out <- lapply(cases, function(cs) {
  xi <- unlist(cs$x); ni <- unlist(cs$n)
  f <- if (cs$model == "GLMM") function() rma.glmm(measure = "PLO", xi = xi, ni = ni, method = "ML")
       else function() rma(measure = "PLO", xi = xi, ni = ni, method = "REML")
  list(name = cs$name, seconds = timeit(f, blocks = cs$blocks))
})
cat(toJSON(list(results = out, R = R.version.string, metafor = as.character(packageVersion("metafor")),
                lme4 = as.character(packageVersion("lme4"))), auto_unbox = TRUE, digits = NA))
"""

R_PROCESS = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
r <- if (args[2] == "GLMM") rma.glmm(measure = "PLO", xi = d$events, ni = d$total, method = "ML") else
  rma(measure = "PLO", xi = d$events, ni = d$total, method = "REML")
cat(sprintf("%.10f %.10f\n", r$b[1], r$tau2))
"""


def make_data(k: int, seed: int = 2026) -> tuple[list[int], list[int]]:
    """Synthetic studies: n from 10 to 199, logit proportions N(0.5, 0.8^2)."""
    rng = np.random.default_rng(seed + k)
    n = rng.integers(10, 200, k)
    p = 1 / (1 + np.exp(-rng.normal(0.5, 0.8, k)))
    return rng.binomial(n, p).tolist(), n.tolist()


def timeit(f, min_time: float = 0.2, blocks: int = 5) -> float:
    """Median over blocks of the mean time per call, each block running >= min_time seconds."""
    f()
    per = []
    for _ in range(blocks):
        reps, t0 = 0, time.perf_counter()
        while True:
            f()
            reps += 1
            el = time.perf_counter() - t0
            if el >= min_time:
                break
        per.append(el / reps)
    return statistics.median(per)


def cases() -> list[dict]:
    out = []
    for k in (5, 20, 100, 1000):
        x, n = WEANING if k == 5 else make_data(k)
        out.append({"name": f"GLMM k={k}", "model": "GLMM", "k": k, "x": x, "n": n, "blocks": 3 if k == 1000 else 5})
    for k in (5, 1000):
        x, n = WEANING if k == 5 else make_data(k)
        out.append({"name": f"REML k={k}", "model": "REML", "k": k, "x": x, "n": n, "blocks": 5})
    return out


def time_python(cs: list[dict]) -> dict[str, float]:
    from metaprop import pool

    res = {}
    for c in cs:
        method = "GLMM" if c["model"] == "GLMM" else "Inverse"
        res[c["name"]] = timeit(lambda c=c, m=method: pool(c["x"], c["n"], sm="PLOGIT", method=m, method_tau=(
            "ML" if m == "GLMM" else "REML")), blocks=c["blocks"])
    return res


def time_r(rscript: str, cs: list[dict], tmp: Path) -> tuple[dict[str, float], dict]:
    script, spec = tmp / "inprocess.R", tmp / "cases.json"
    script.write_text(R_INPROCESS)
    spec.write_text(json.dumps(cs))
    out = json.loads(subprocess.run([rscript, str(script), str(spec)], capture_output=True, text=True,
                                    check=True).stdout)
    return {r["name"]: r["seconds"] for r in out["results"]}, {k: out[k] for k in ("R", "metafor", "lme4")}


class Busy:
    """Two processes spinning on the CPU (one per core) while the block runs."""

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def time_process(rscript: str | None, tmp: Path) -> list[dict]:
    x, n = make_data(1000)
    csv = tmp / "k1000.csv"
    csv.write_text("events,total\n" + "".join(f"{a},{b}\n" for a, b in zip(x, n, strict=True)))
    rfile = tmp / "process.R"
    rfile.write_text(R_PROCESS)
    rows = []

    def start(c):
        t0 = time.perf_counter()
        subprocess.run(c, capture_output=True, check=True)
        return time.perf_counter() - t0

    # the floor: starting Python and importing numpy and scipy.special, which metaprop needs for
    # its distribution functions (scipy >= 1.14 imports numpy.f2py, numpy.testing and more with
    # scipy.special, through its vendored array-api-compat); and R's start-up with metafor loaded
    floor = statistics.median(start([sys.executable, "-c", "import numpy, scipy.special"]) for _ in range(5))
    r_startup = (statistics.median(start([rscript, "-e", "suppressPackageStartupMessages(library(metafor))"])
                                   for _ in range(3)) if rscript else None)
    for model, opts in (("REML", ["--method", "Inverse", "--method-tau", "REML"]), ("GLMM", ["--method", "GLMM"])):
        cmd = [sys.executable, "-m", "metaprop", "pool", str(csv), "--sm", "PLOGIT", *opts, "--json"]

        def run(c):
            t0 = time.perf_counter()
            out = subprocess.run(c, capture_output=True, text=True, check=True).stdout
            return time.perf_counter() - t0, out

        py = [run(cmd) for _ in range(5)]
        t_py = statistics.median(t for t, _ in py)
        res = json.loads(py[0][1])
        row = {"name": f"metaprop pool, k=1000, {model}", "metaprop_s": t_py, "import_floor_s": floor}
        if rscript:
            rr = [run([rscript, str(rfile), str(csv), model]) for _ in range(3)]
            row["R_startup_s"] = r_startup
            b, tau2 = map(float, rr[0][1].split())
            row.update(R_s=statistics.median(t for t, _ in rr),
                       max_abs_diff=max(abs(b - res["random"]["te"]), abs(tau2 - res["tau2"])))
            row["fraction_of_R"] = t_py / row["R_s"]
            row["floor_fraction_of_R"] = floor / row["R_s"]
        rows.append(row)
    return rows


def time_analyse() -> float:
    from metaprop.review.data import load
    from metaprop.review.outputs import analyse

    data = load(ROOT / "data")
    return timeit(lambda: analyse(data), min_time=1.0, blocks=3)


def table(report: dict) -> str:
    lines = ["| fit | metaprop | R metafor | metafor / metaprop |", "|---|---:|---:|---:|"]
    for load in ("idle", "busy"):
        for name, row in report["inprocess"][load].items():
            r = row.get("R_s")
            lines.append(f"| {name} ({load}) | {1e3 * row['metaprop_s']:.2f} ms | "
                         + (f"{1e3 * r:.2f} ms | {r / row['metaprop_s']:.1f}x |" if r else "- | - |"))
    for row in report["process"]:
        r = row.get("R_s")
        lines.append(f"| {row['name']} (whole process) | {row['metaprop_s']:.2f} s | "
                     + (f"{r:.2f} s | {r / row['metaprop_s']:.1f}x |" if r else "- | - |"))
    lines.append(f"| `analyse()` on data/ | {report['analyse_s']:.3f} s | - | - |")
    row = report["process"][0]
    lines.append(f"| start-up floor: Python + `import numpy, scipy.special` / Rscript + `library(metafor)` | "
                 f"{row['import_floor_s']:.2f} s | "
                 + (f"{row['R_startup_s']:.2f} s | - |" if row.get("R_startup_s") else "- | - |"))
    out = "\n".join(lines) + "\n"
    if row.get("R_s"):
        out += (f"\nThe start-up floor alone is {row['floor_fraction_of_R']:.3f} of metafor's whole-process REML "
                f"time at k = 1000; the 0.05 target needs metaprop's whole process under "
                f"{0.05 * row['R_s']:.2f} s.\n")
    return out


def check(report: dict) -> list[str]:
    """Each target of issue 16, met or not."""
    idle, busy = report["inprocess"]["idle"], report["inprocess"]["busy"]
    out = [("GLMM k=5 at most 3 ms", idle["GLMM k=5"]["metaprop_s"] <= TARGETS["glmm_k5_ms"] / 1e3),
           ("analyse() at most 0.3 s", report["analyse_s"] <= TARGETS["analyse_s"])]
    if report["R"]:
        out.append(("GLMM k=5 at least 10x faster than metafor",
                    idle["GLMM k=5"]["R_s"] / idle["GLMM k=5"]["metaprop_s"] >= TARGETS["glmm_k5_ratio"]))
        for load, rows in (("idle", idle), ("busy", busy)):
            for name, row in rows.items():
                need = TARGETS["glmm_ratio_min"] if name.startswith("GLMM") else TARGETS["iv_ratio"]
                out.append((f"{name} ({load}) at least {need:g}x faster than metafor",
                            row["R_s"] / row["metaprop_s"] >= need))
        for row in report["process"]:
            out.append((f"{row['name']} at most 0.05 of metafor's time",
                        row["fraction_of_R"] <= TARGETS["process_k1000_fraction"]))
    return [f"{'met ' if ok else 'MISSED'}  {text}" for text, ok in out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-r", action="store_true", help="time metaprop only")
    ap.add_argument("--no-busy", action="store_true", help="skip the runs under load")
    args = ap.parse_args()
    rscript = None if args.no_r else shutil.which("Rscript")
    if not args.no_r and rscript is None:
        print("Rscript not found: timing metaprop only (install R with metafor to compare).")
    cs = cases()
    report = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count()},
              "R": None, "targets": TARGETS, "inprocess": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for load in ("idle",) + (() if args.no_busy else ("busy",)):
            with Busy() if load == "busy" else contextlib.nullcontext():
                py = time_python(cs)
                r, versions = time_r(rscript, cs, tmp) if rscript else ({}, None)
            report["R"] = versions
            report["inprocess"][load] = {c["name"]: {"metaprop_s": py[c["name"]], "R_s": r.get(c["name"])}
                                         for c in cs}
            print(f"in-process ({load}) done", flush=True)
        report["analyse_s"] = time_analyse()
        report["process"] = time_process(rscript, tmp)
    if args.no_busy:
        report["inprocess"]["busy"] = {}
    report["checks"] = check(report)
    (HERE / "engine.json").write_text(json.dumps(report, indent=2) + "\n")
    (HERE / "engine.md").write_text(table(report) + "\n" + "\n".join(f"- {c}" for c in report["checks"]) + "\n")
    print(table(report))
    print("\n".join(report["checks"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
