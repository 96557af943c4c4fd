"""Time a full ``quarto render`` of the site, cold (build cache cleared) and warm, into a temporary folder.

Writes ``benchmarks/site_render.json`` and prints a table; a benchmark, not a test (`make bench-site`).
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(out: Path) -> float:
    env = dict(os.environ, QUARTO_PYTHON=sys.executable)
    t = time.perf_counter()
    subprocess.run([shutil.which("quarto") or "quarto", "render", "--output-dir", str(out)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> int:
    if not shutil.which("quarto"):
        print("quarto is not on the PATH", file=sys.stderr)
        return 1
    shutil.rmtree(ROOT / "build" / "cache", ignore_errors=True)
    with tempfile.TemporaryDirectory() as d:
        cold = render(Path(d) / "a")
        warm = render(Path(d) / "b")
        site = Path(d) / "b"
        weights = {}
        for p in sorted(site.rglob("*.html")):
            if "site_libs" not in p.parts:
                files = [p, *(p.parent / (p.stem + "_files")).rglob("*")]
                weights[str(p.relative_to(site))] = sum(f.stat().st_size for f in files if f.is_file())
    quarto = subprocess.run(["quarto", "--version"], capture_output=True, text=True).stdout.strip()
    res = {"quarto": quarto, "python": platform.python_version(), "cpus": os.cpu_count(),
           "cold_seconds": round(cold, 1), "warm_seconds": round(warm, 1), "page_bytes": weights}
    (ROOT / "benchmarks" / "site_render.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"quarto render: cold {cold:.1f} s, warm {warm:.1f} s (Quarto {quarto}, {os.cpu_count()} cores)")
    for page, b in weights.items():
        print(f"  {page:32s} {b / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
