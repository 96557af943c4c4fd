"""`metaprop results`: deterministic files, and the forest plot's data checked number by number."""

from __future__ import annotations

import filecmp
import hashlib
import json

import numpy as np
import pytest

from metaprop import pool
from metaprop.site.figures import forest_data, forest_plot, save

from conftest import FROZEN_DATA, ROOT


def test_results_are_byte_identical_and_complete(tmp_path, run_cli, site_build):
    """A fresh `metaprop results` run against the session's build of results/ (same data, same
    code, another process state): every file byte-identical. The explorer's files are left out
    here (--no-explorer, 4 s); tests/test_explorer.py checks them against a fresh computation."""
    a, b = ROOT / "results", tmp_path / "b"
    assert run_cli("results", "--data-dir", ROOT / "data", "--out", b, "--no-explorer")[0] == 0
    names = sorted(p.name for p in b.iterdir())
    assert names == sorted(p.name for p in a.iterdir() if p.name != "build-key.txt"
                           and not p.name.startswith("explorer_"))
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors
    digest = {n: hashlib.md5((a / n).read_bytes()).hexdigest() for n in names}  # noqa: S324 - identity only
    assert len(set(digest.values())) == len(names)
    for outcome in ("weaned", "discharged_alive", "alive_12mo", "died_followup"):
        assert {f"forest_{outcome}.svg", f"forest_{outcome}.png"} <= set(names)
    assert {"results.json", "summary.csv", "alt_text.json", "forest_hernandez2018_weaned.png"} <= set(names)
    # live data: the reproduction's figure describes the number results.json holds, whatever it is
    res = json.loads((a / "results.json").read_text())
    rep = next(r for r in res["reproductions"] if r["source"] == "hernandez2018" and r["outcome"] == "weaned")
    alt = json.loads((a / "alt_text.json").read_text())
    assert f"{100 * rep['reproduced']['estimate']:.1f}%" in alt["forest_hernandez2018_weaned"]


def test_results_json_holds_the_2018_reproduction(tmp_path, run_cli):
    """Frozen data: Hernandez 2018's weaning estimate rebuilt, 93.45% (86.19 to 100.71), as metafor
    gives it on the same five counts (tests/test_data.py)."""
    out = tmp_path / "r"
    assert run_cli("results", "--data-dir", FROZEN_DATA, "--out", out, "--no-figures")[0] == 0
    res = json.loads((out / "results.json").read_text())
    rep = next(r for r in res["reproductions"] if r["source"] == "hernandez2018" and r["outcome"] == "weaned")
    assert [round(100 * rep["reproduced"][k], 2) for k in ("estimate", "ci_lower", "ci_upper")] == [93.45, 86.19,
                                                                                                  100.71]


def test_bad_data_writes_nothing(tmp_path, run_cli):
    import shutil

    d = tmp_path / "data"
    shutil.copytree(FROZEN_DATA, d)
    (d / "outcomes.csv").write_text((d / "outcomes.csv").read_text().replace("hara2011,weaned,9,14",
                                                                              "hara2011,weaned,19,14"))
    out = tmp_path / "out"
    code, _, err = run_cli("results", "--data-dir", d, "--out", out)
    assert code == 2 and "outcomes.csv:8:events: 19 events > 14 total" in err
    assert not out.exists()
    assert not list(tmp_path.glob(".metaprop-*"))


def test_forest_data_matches_the_analysis():
    """Hernandez 2018 weaning (metafor forest(): 93.45 [86.19; 100.71]); weights from 1/(v + tau^2)."""
    r = pool([10, 9, 20, 9, 11], [10, 10, 20, 14, 11], ["A", "B", "C", "D", "E"], sm="PRAW", method_tau="DL",
             convention="metafor")
    d = forest_data(r)
    st = d["studies"]
    assert list(st["study"]) == list("ABCDE") and list(st["y"]) == [8, 7, 6, 5, 4]  # first study on top
    # hand calculation of weights: v_i from corrected proportions, tau^2 = 0.002608 (DL)
    p = np.array([10.5 / 11, 0.9, 20.5 / 21, 9 / 14, 11.5 / 12])
    n = np.array([11, 10, 21, 14, 12])
    w = 1 / (p * (1 - p) / n + r.tau2)
    np.testing.assert_allclose(st["weight"], 100 * w / w.sum(), atol=1e-9)
    assert st["square"].max() == pytest.approx(8.0)  # heaviest study gets the largest square
    np.testing.assert_allclose(st["square"] ** 2 / st["square"].max() ** 2, st["weight"] / st["weight"].max())
    dia = d["pooled"]
    assert [round(100 * v, 2) for v in (dia["lower"][0], dia["estimate"][0], dia["upper"][0])] == [86.19, 93.45,
                                                                                                   100.71]
    assert list(dia["x"]) == pytest.approx([dia["lower"][0], dia["estimate"][0], dia["upper"][0],
                                            dia["estimate"][0]])
    labels = set(d["text"]["label"])
    assert " 93.4 [ 86.2; 100.7]" in labels and "Random effects model" in labels
    het = "Heterogeneity: I\u00b2 = 40%, \u03c4\u00b2 = 0.0026, Q = 6.67 (df = 4)"
    assert any(lbl.startswith(het) for lbl in labels)
    assert not d["pi"].empty and d["pi"]["upper"][0] > 1  # raw proportions: PI beyond 100%


def test_glmm_forest_squares_by_patients(tmp_path):
    r = pool([10, 9, 20, 9, 11], [10, 10, 20, 14, 11])
    st = forest_data(r)["studies"]
    np.testing.assert_allclose(st["weight"], 100 * np.array([10, 10, 20, 14, 11]) / 65)
    save(forest_plot(r), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_is_a_data_product(site_build):
    """Live results/: README.md describes every file and every CSV column (with its unit); one
    convention (proportions 0 to 1, percent columns end in _pct); study ids join data/; every CSV
    row carries the data version and the commit; everyone can read the folder."""
    import csv
    import stat
    from fnmatch import fnmatch

    from metaprop.review.data import load
    from metaprop.review.dictionary import COLUMNS, describe_file

    data = load(ROOT / "data")
    out = ROOT / "results"
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    readme = (out / "README.md").read_text(encoding="utf-8")
    ids = set(data.studies["study_id"])
    for f in sorted(out.iterdir()):
        assert describe_file(f.name), f"results/{f.name} is not in the data dictionary"
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f.name
        if f.suffix != ".csv":
            continue
        cols = next(v for k, v in COLUMNS.items() if fnmatch(f.name, k))
        with f.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows and set(rows[0]) <= set(cols), (f.name, set(rows[0]) - set(cols))
        for c in rows[0]:
            assert f"`{c}`" in readme
        assert "i2" not in rows[0] and {r["data_version"] for r in rows} == {data.version}
        for r in rows:
            for c in ("estimate", "ci_lower", "ci_upper"):
                if r.get(c):
                    assert 0 <= float(r[c]) <= 1, (f.name, c, r[c])
            for c in ("omitted_study_id", "added_study_id"):
                if c in r and r[c]:
                    assert r[c] in ids
    assert json.loads((out / "results.json").read_text())["data_version"] == data.version
