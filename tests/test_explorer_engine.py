"""The explorer's in-browser engine (site-assets/explorer-engine.js) against the Python engine:
the same estimate, interval, range for a new study and tau on thousands of random subsets,
including 0% and 100% studies, one-event studies and many identical studies. Runs the script in
node, as the reader's browser would run it."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from metaprop.engine import dist
from metaprop.review.explorer import subset_result
from metaprop.review.protocol import EXPLORER

from conftest import ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the in-browser engine is not run")

# worst difference observed on 4,000 cases: about 2e-15 on proportions (same operations in the same
# order as the Python engine's plain-float path), so 1e-12; the explorer shows 0.1 percentage point
TOL = 1e-12


def _cases(seed: int, count: int):
    rng = np.random.default_rng(seed)
    out = []
    for j in range(count):
        k = int(rng.integers(2, 31))
        n = rng.integers(1, 80, size=k)
        kind = j % 4
        if kind == 0:  # near 100%, as weaning and discharge are
            x = np.minimum(n, rng.binomial(n, rng.uniform(0.8, 1.0)))
        elif kind == 1:  # anywhere
            x = rng.binomial(n, rng.uniform(0.02, 0.98, size=k))
        elif kind == 2:  # every study at 100% or 0%
            x = np.where(rng.random(k) < 0.5, n, 0)
        else:  # identical studies (tau^2 = 0, Hartung-Knapp SE 0)
            n = np.full(k, int(n[0]))
            x = np.full(k, int(rng.integers(0, n[0] + 1)))
        for method in EXPLORER["in_browser"]:
            out.append({"events": x.tolist(), "total": n.tolist(), "method": method})
    return out


def _run_node(cases):
    t975 = [float(dist.t_ppf(0.975, df)) for df in range(1, 31)]
    proc = subprocess.run([NODE, str(ROOT / "tests" / "explorer_engine_check.js")],
                          input=json.dumps({"t975": t975, "cases": cases}), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_browser_engine_equals_python_engine_on_random_subsets():
    cases = _cases(20261204, 2000)
    got = _run_node(cases)
    worst, refused = 0.0, 0
    for case, js in zip(cases, got, strict=True):
        counts = pd.DataFrame({"events": case["events"], "total": case["total"],
                               "label": [f"s{i}" for i in range(len(case["events"]))]})
        py = subset_result(counts, case["method"])
        if "est" not in py:  # the engine refuses (metafor's Fisher scoring does not converge): so does the port
            assert py["note"].startswith("Fisher scoring") and js["error"].startswith("Fisher scoring"), (case, js)
            refused += 1
            continue
        assert "error" not in js, (case, js)
        assert js["k"] == py["k"] and js["events"] == py["events"] and js["patients"] == py["patients"]
        for key in ("est", "lo", "hi", "pil", "piu", "tau"):
            assert py[key] is not None, (case, key)
            worst = max(worst, abs(js[key] - py[key]))
            # Python's values are rounded to 6 decimals for the JSON; compare to that rounding
            assert js[key] == pytest.approx(py[key], abs=5e-7 + TOL), (case, key, js[key], py[key])
    assert worst <= 5e-7 and refused < len(cases) // 20


def test_browser_engine_hand_calculation():
    """Two studies 10/10 and 5/10, logit with 0.5 added to the 100% study: y = log(10.5/0.5) =
    3.0445, v = 1/10.5 + 1/0.5 = 2.0952; y = 0, v = 0.4. tau^2 by REML; Hartung-Knapp with
    t(0.975, 1) = 12.706; the interval is the whole range, the estimate expit(mu)."""
    t975 = [12.706204736174707]
    out = _run_node([{"events": [10, 5], "total": [10, 10], "method": "IV-logit-HK"}])[0]
    y = np.array([np.log(10.5 / 0.5), 0.0])
    v = np.array([1 / 10.5 + 1 / 0.5, 0.4])
    tau2 = out["tau"] ** 2
    w = 1 / (v + tau2)
    mu = float((w * y).sum() / w.sum())
    assert out["est"] == pytest.approx(1 / (1 + np.exp(-mu)), abs=1e-12)
    se = np.sqrt(float((w * (y - mu) ** 2).sum()) / w.sum())
    assert out["hi"] == pytest.approx(1 / (1 + np.exp(-(mu + t975[0] * se))), abs=1e-12)


def test_browser_engine_refuses_what_it_cannot_do():
    out = _run_node([{"events": [3], "total": [10], "method": "PFT"},
                     {"events": [3, 4], "total": [10, 10], "method": "GLMM"}])
    assert "at least two studies" in out[0]["error"] and "unknown method" in out[1]["error"]
