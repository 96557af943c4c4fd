"""Profile one fit: where the time of ``pool()`` goes, by function (cProfile, internal time).

``python benchmarks/profile_engine.py [GLMM|Inverse] [--k 5] [--top 15]`` fits the five weaning
studies of data/ (k = 5) or the benchmark's synthetic studies (other k) repeatedly under cProfile
and prints the time per fit without the profiler, then the top lines. Not a test; issue 16 asks for
the profile before and after the speed work, and this is how it was taken.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from bench_engine import WEANING, make_data

from metaprop import pool


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("method", choices=["GLMM", "Inverse"])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=1.0, help="profiled time, roughly")
    args = ap.parse_args()
    x, n = WEANING if args.k == 5 else make_data(args.k)
    kw = {"sm": "PLOGIT", "method": args.method, "method_tau": "ML" if args.method == "GLMM" else "REML"}
    pool(x, n, **kw)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        pool(x, n, **kw)
        reps += 1
    per = (time.perf_counter() - t0) / reps
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(reps):
        pool(x, n, **kw)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(args.top)
    print(f"{args.method}, k = {args.k}: {1e3 * per:.3f} ms per fit without the profiler ({reps} fits)")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
