"""Coverage study: which 95% interval for a pooled proportion can be trusted with few, small studies?

Settings like this review's: k = 3, 5 or 10 studies of n ~ uniform{8..50} patients; the median
study's proportion expit(mu) = 0.6, 0.8, 0.9 or 0.98; between-study sd tau = 0, 0.5, 1 or 1.5 on
the logit scale. Per scenario and replication: draw theta_i ~ N(mu, tau^2) and x_i ~ Bin(n_i,
expit(theta_i)), then fit

* GLMM: random-intercept logistic model, ML (R meta's default; the site's former primary
  analysis), with its Freeman-Tukey fallback when every study has 100% or 0%;
* IV-logit-HK: inverse-variance logits (0.5 continuity correction), REML, Hartung-Knapp;
* PFT: Freeman-Tukey double arcsine, REML, Wald interval (R meta's inverse-variance default);
* Bayes-HN0.5 and Bayes-HN1.0: the binomial-normal model with mu ~ N(0, 10^2) and tau ~
  half-normal(0.5) or half-normal(1.0) (metaprop.engine.bayes), credible interval of the
  population-averaged proportion.

The target is the **population-averaged proportion** E[expit(theta)] (what "93% of patients were
weaned" means when studies differ); coverage of the median study's expit(mu) is recorded too.
The site follows a procedure, not a model: its headline rules (metaprop.review.headline) pool no
review of fewer than 3 studies or with every study at 100% (or 0%). Each replication records
whether they would pool it; the table gives the share pooled and the coverage among the pooled
reviews, which is what the site's headline intervals achieve.
Replication r of scenario s uses seed (20261129, s, r): results do not depend on how many
processes run them. Deterministic: the same code writes the same files.

    python analysis/simulation/coverage.py            # 500 replications per scenario (about an hour, 2 cores)
    python analysis/simulation/coverage.py --reps 20  # a quick look

Writes analysis/simulation/coverage.csv (one row per scenario and method) and coverage.json
(settings, software versions, and the first replications of scenario 0 for the test that checks
the files came from this code).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from metaprop.review.protocol import COVERAGE_CANDIDATES, COVERAGE_SOLVER
from metaprop.review.protocol import METHODS as REGISTRY

HERE = Path(__file__).resolve().parent
SEED = 20261129
KS = (3, 5, 10)
PS = (0.6, 0.8, 0.9, 0.98)
TAUS = (0.0, 0.5, 1.0, 1.5)
N_RANGE = (8, 50)
#: the candidates, each as the protocol's registry of methods defines it
METHODS = COVERAGE_CANDIDATES
BAYES_CANDIDATES = tuple(m for m in METHODS if REGISTRY[m].engine == "bayes")
CHECK_REPS = 5


def scenarios() -> list[dict]:
    return [{"scenario": i, "k": k, "p_median": p, "tau": t}
            for i, (k, p, t) in enumerate(itertools.product(KS, PS, TAUS))]


def draw(s: dict, rep: int):
    rng = np.random.default_rng([SEED, s["scenario"], rep])
    n = rng.integers(N_RANGE[0], N_RANGE[1] + 1, size=s["k"])
    mu = math.log(s["p_median"] / (1 - s["p_median"]))
    theta = mu + s["tau"] * rng.standard_normal(s["k"])
    x = rng.binomial(n, 1 / (1 + np.exp(-theta)))
    return x, n


def fit_all(x, n) -> dict:
    """(lower, upper) of each method's 95% interval for the pooled proportion, on the 0-1 scale;
    the Bayesian model also for the median study's proportion. Each candidate is fitted by
    :func:`metaprop.review.analyses.fit_method`, as the site fits it, with the protocol's
    :data:`~metaprop.review.protocol.COVERAGE_SOLVER` for the inverse-variance fits."""
    from metaprop.review.analyses import fit_method

    counts = pd.DataFrame({"events": x, "total": n, "label": [str(i + 1) for i in range(len(x))]})
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in METHODS:
            if name in BAYES_CANDIDATES:
                b = fit_method(name, counts)
                out[name] = (b.p_mean.lower, b.p_mean.upper)
                out[name + "-median"] = (b.p_median.lower, b.p_median.upper)
            else:
                out[name] = fit_method(name, counts, **COVERAGE_SOLVER).back("random")[1:]
    return {k: (float(v[0]), float(v[1])) for k, v in out.items()}


def run_scenario(args) -> list[dict]:
    s, reps = args
    from metaprop.engine.quadrature import mean_proportion
    from metaprop.review.headline import not_pooled_reasons

    mu = math.log(s["p_median"] / (1 - s["p_median"]))
    truth_mean = float(mean_proportion(mu, s["tau"]))
    truth_median = s["p_median"]
    rows = []
    for rep in range(reps):
        x, n = draw(s, rep)
        ints = fit_all(x, n)
        pooled = not not_pooled_reasons(x, n)  # the site's headline rules, applied first
        for m in METHODS:
            lo, hi = ints[m]
            ok = math.isfinite(lo) and math.isfinite(hi)
            # the Bayesian interval for expit(mu) is its own; the others' intervals are for the
            # estimand they target, expit(mu) (logit models) or the back-transformed PFT mean
            mlo, mhi = ints[m + "-median"] if m in BAYES_CANDIDATES else (lo, hi)
            rows.append({"scenario": s["scenario"], "rep": rep, "method": m, "lower": lo, "upper": hi,
                         "cover_mean": ok and lo <= truth_mean <= hi,
                         "cover_median": ok and mlo <= truth_median <= mhi, "failed": not ok,
                         "pooled": pooled})
    return rows


def summarise(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    sc = pd.DataFrame(scenarios()).set_index("scenario")
    from metaprop.engine.quadrature import mean_proportion

    sc["p_mean"] = [float(mean_proportion(math.log(p / (1 - p)), t)) for p, t in zip(sc["p_median"], sc["tau"],
                                                                                     strict=True)]
    df["width"] = df["upper"] - df["lower"]
    g = df.groupby(["scenario", "method"], sort=True)
    pooled = df[df["pooled"]].groupby(["scenario", "method"], sort=True)
    out = pd.DataFrame({
        "reps": g.size(),
        "pooled_share": 100 * g["pooled"].mean(),
        "coverage_mean_pooled": 100 * pooled["cover_mean"].mean(),
        "coverage_mean": 100 * g["cover_mean"].mean(),
        "coverage_median": 100 * g["cover_median"].mean(),
        "median_width": 100 * g["width"].median(),
        "failed": g["failed"].sum(),
    }).reset_index()
    out = out.join(sc, on="scenario")
    cols = ["scenario", "k", "p_median", "p_mean", "tau", "method", "reps", "coverage_mean", "coverage_median",
            "median_width", "failed", "pooled_share", "coverage_mean_pooled"]
    out["method"] = pd.Categorical(out["method"], METHODS, ordered=True)
    return out[cols].sort_values(["scenario", "method"]).reset_index(drop=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args(argv)
    jobs = [(s, a.reps) for s in scenarios()]
    with multiprocessing.Pool(a.processes) as p:
        rows = [r for chunk in p.imap(run_scenario, jobs) for r in chunk]
    table = summarise(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(a.out / "coverage.csv", index=False, lineterminator="\n", float_format="%.6g")
    import scipy

    import metaprop

    check = [{k: (round(v, 12) if isinstance(v, float) else v) for k, v in r.items()}
             for r in rows if r["scenario"] == 0 and r["rep"] < CHECK_REPS]
    meta = {"seed": SEED, "reps": a.reps, "k": list(KS), "p_median": list(PS), "tau": list(TAUS),
            "n_range": list(N_RANGE), "methods": list(METHODS), "level": 0.95,
            "bayes_prior": "mu ~ N(0, 10^2), tau ~ half-normal(0.5) or half-normal(1.0)",
            "software": {"metaprop": metaprop.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                         "python": platform.python_version()},
            "check": check}
    (a.out / "coverage.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(table.groupby("method", observed=True)[["coverage_mean", "coverage_median", "median_width"]].mean())
    return 0


if __name__ == "__main__":
    sys.exit(main())
