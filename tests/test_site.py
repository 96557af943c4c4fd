"""The site as readers meet it: a real ``quarto render``, served on 127.0.0.1, opened in Chromium.

Needs ``quarto`` on the PATH (skipped otherwise, with the reason) and a Chromium: the system's
``chromium`` (Debian) or Playwright's own (``playwright install chromium`` on GitHub Actions).
Every page is opened at 1280 px and 390 px; axe-core checks accessibility.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from metaprop.review.protocol import HOME_OUTCOMES

from conftest import ROOT

pytestmark = pytest.mark.site

QUARTO = shutil.which("quarto")
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p), None)
WIDTHS = (1280, 390)
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]

#: set in CI's render job: there a missing Quarto, Playwright or Chromium fails, never skips
REQUIRED = os.environ.get("METAPROP_REQUIRE_SITE") == "1"


def _skip(reason: str, module: bool = False):
    if REQUIRED:
        pytest.fail(f"METAPROP_REQUIRE_SITE=1 and {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


if QUARTO is None:
    _skip("quarto is not on the PATH: the site test renders with the real Quarto 1.10.18 (README, "
          "'Quarto')", module=True)
try:
    import playwright.sync_api  # noqa: F401 - the browser tests need it
except ImportError:
    _skip("playwright is not installed (make setup)", module=True)


# A contributor's author name that is HTML (valid data: only formulas and control characters are
# refused): the study label built from it must reach every page as text. It is given to the first
# primary study without a 12-month survival count, so the label is in that page's "missing"
# sentence (whatever data/ holds; the studies page lists it in any case).
HOSTILE_AUTHOR = "<script>window.__pwned=1</script><img/src=x/onerror=window.__pwned=2>"


def _hostile_target() -> tuple[str, str, bool]:
    """(study_id, label with the hostile author, whether the 12-month page lists it as missing)."""
    from metaprop.review.data import load, study_label

    data = load(ROOT / "data")
    missing = data.missing("alive_12mo")
    sid = missing["study_id"].iloc[0] if len(missing) else data.studies["study_id"].iloc[0]
    row = data.studies.set_index("study_id").loc[sid].to_dict() | {"study_id": sid, "first_author": HOSTILE_AUTHOR}
    return sid, study_label(row), bool(len(missing))


HOSTILE_ID, HOSTILE_LABEL, HOSTILE_ON_12MO = _hostile_target()


def _project_copy(dest: Path) -> Path:
    """The working tree (tracked and untracked, not ignored files), with the hostile author."""
    import csv
    import io

    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    # decoys where a virtual environment or another folder could hold files named like resources:
    # only the project's own data/ and results/ may be published
    for decoy in (".venv/lib/pkg/data/decoy.csv", "vendor/results/decoy.json", "vendor/data/decoy.csv"):
        (dest / decoy).parent.mkdir(parents=True, exist_ok=True)
        (dest / decoy).write_text("decoy\n")
    # the copy's `make prerender` uses this checkout's .venv: its pyproject.toml must never look newer
    # than the venv's install stamp, or make would reinstall the package from the temporary copy
    os.utime(dest / "pyproject.toml", (0, 0))
    studies = dest / "data" / "studies.csv"
    rows = list(csv.reader(io.StringIO(studies.read_text(encoding="utf-8"), newline="")))
    col = rows[0].index("first_author")
    row = next(r for r in rows[1:] if r[0] == HOSTILE_ID)
    row[col] = HOSTILE_AUTHOR
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    studies.write_text(buf.getvalue(), encoding="utf-8")
    return dest


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    """Render the whole site once, from a copy of the project whose data hold one hostile (valid)
    author name, into a temporary folder; return (folder, Quarto's output)."""
    out = tmp_path_factory.mktemp("site")
    project = _project_copy(tmp_path_factory.mktemp("project"))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    # the copy uses this checkout's environment (its pre-render step is `make prerender`)
    env = dict(os.environ, QUARTO_PYTHON=sys.executable, GITHUB_SHA=commit.strip(), VENV=str(ROOT / ".venv"))
    proc = subprocess.run([QUARTO, "render", "--output-dir", str(out)], cwd=project, env=env, capture_output=True,
                          text=True, timeout=900)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return out, log


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture(scope="session")
def served(rendered):
    site, _ = rendered
    srv = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        kw = {"executable_path": CHROMIUM} if CHROMIUM else {}
        try:
            b = p.chromium.launch(args=CHROME_ARGS, **kw)
        except Exception as exc:  # noqa: BLE001 - no browser: say so
            _skip(f"no Chromium to open the site with ({exc.__class__.__name__})")
        yield b
        b.close()


def _pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if "site_libs" not in p.parts)


MEASURE = """() => {
  const main = document.querySelector('main');
  const col = main.getBoundingClientRect().width;
  const wide = [];
  for (const el of main.querySelectorAll('img, svg, figure, pre')) {
    if (el.closest('.table-responsive')) continue;
    const w = el.getBoundingClientRect().width;
    if (w > col + 1) wide.push(el.tagName + ' ' + Math.round(w) + ' > ' + Math.round(col));
  }
  for (const t of main.querySelectorAll('table')) {
    const region = t.closest('.table-responsive');
    const box = region || t;
    const bw = box.getBoundingClientRect().width;
    if (bw > col + 1) wide.push('TABLE ' + Math.round(bw));
    if (!region && t.getBoundingClientRect().width > col + 1) wide.push('unscrollable TABLE');
    if (region && region.scrollWidth > region.clientWidth && region.tabIndex < 0) wide.push('region without focus');
  }
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const items = [...document.querySelectorAll('#navbarCollapse > .navbar-nav > .nav-item')]
    .filter(li => li.getBoundingClientRect().width > 0);
  const nav = {tops: [...new Set(items.map(li => Math.round(li.getBoundingClientRect().top)))].length,
               tallest: Math.max(0, ...items.map(li => Math.round(
                 li.querySelector('.nav-link').getBoundingClientRect().height))),
               titleCut: [...document.querySelectorAll('.navbar-title')].some(t => t.scrollWidth > t.clientWidth + 1)};
  const figures = [...main.querySelectorAll('img')].filter(i => (i.currentSrc || '').endsWith('.svg'))
    .map(i => ({src: i.currentSrc, shown: i.getBoundingClientRect().width, natural: i.naturalWidth}));
  return {wide, broken, nav, figures, pageWidth: document.documentElement.scrollWidth, view: window.innerWidth,
          text: document.body.innerText, footer: (document.querySelector('.nav-footer') || {}).innerText || '',
          pwned: window.__pwned || 0};
}"""


@pytest.fixture(scope="session")
def visits(served, browser):
    """Every page at both widths: measurements, axe-core violations and requests off this host."""
    from axe_playwright_python.sync_playwright import Axe

    site, base = served
    axe = Axe()
    out = {}
    for width in WIDTHS:
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        page = ctx.new_page()
        foreign: list[str] = []
        page.on("request", lambda r, seen=foreign: seen.append(r.url) if not r.url.startswith((base, "data:", "blob:"))
                else None)
        for rel in _pages(site):
            foreign.clear()
            # "load": every script, style sheet, image and font the page names has arrived (no
            # 500 ms network-idle wait per page); the explorer fetches its data after that
            page.goto(f"{base}/{rel}", wait_until="load")
            if rel.endswith("explorer.html"):
                page.wait_for_function("document.querySelector('#explorer-forest svg') !== null")
            m = page.evaluate(MEASURE)
            m["axe"] = [(v["id"], v["impact"], len(v["nodes"])) for v in axe.run(page).response["violations"]]
            m["foreign"] = sorted(set(foreign))
            out[(rel, width)] = m
        ctx.close()
    return out


def test_render_has_no_config_warning_or_code_error(rendered):
    site, log = rendered
    # the kernel's note about its loopback TCP transport and pip's notes (when the pre-render step
    # refreshes the environment) are not the site's; anything else Quarto warns about fails
    ignored = ("Kernel is running over TCP", "is ignored: it is neither a file nor a directory")
    warnings = [ln for ln in log.splitlines() if "WARN" in ln and not any(i in ln for i in ignored)]
    assert not warnings, warnings
    assert len(_pages(site)) == 13
    for page in _pages(site):
        html = (site / page).read_text(encoding="utf-8")
        assert "Traceback" not in html and "cell-output-error" not in html, page


def test_site_publishes_the_projects_files_only(rendered):
    """Quarto's resource globs are anchored at the project root: no decoy (a .venv package's
    data/*.csv, another folder's results/*.json) reaches the site."""
    site, _ = rendered
    files = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    assert not [f for f in files if "decoy" in f]
    assert {f.split("/")[0] for f in files} <= {"index.html", "index_files", "analysis", "data", "results",
                                                 "site_libs", "site-assets", "search.json", "CITATION.cff",
                                                 "sitemap.xml", "robots.txt"}
    assert {"data/studies.csv", "results/results.json", "results/forest_weaned.svg", "CITATION.cff",
            "site-assets/explorer.js", "site-assets/explorer-engine.js"} <= set(files)


def test_home_shows_2018_reproduction_and_live_estimates(visits):
    """Live data: the shapes of the home page's numbers and its data version (exact values are
    tested on the frozen data)."""
    import re

    from metaprop.review.data import load

    text = visits[("index.html", 1280)]["text"]
    assert re.search(r"\d+\.\d\d% \(\d+\.\d\d to \d+\.\d\d\)", text)
    assert re.search(r"\d+\.\d% \(95% credible interval \d+\.\d to \d+\.\d\)", text)
    assert f"Data version {load(ROOT / 'data').version}" in text


def test_figure_text_is_at_least_9_css_px(visits):
    """Every figure's smallest text, as shown, at 390 and 1280 px: its smallest font (9 pt; 10 pt in
    the compact forest plots phones get) times the scale the page shows the SVG at (a pt is 4/3 px
    at natural size). Phones get the compact layout wherever one was drawn."""
    from metaprop.site.figures import COMPACT
    from metaprop.site.theme import FONT_SIZE

    small = {}
    for (rel, width), m in visits.items():
        for f in m["figures"]:
            font = COMPACT["font"] if f["src"].endswith("_compact.svg") else FONT_SIZE
            px = font * 4 / 3 * f["shown"] / f["natural"]
            if px < 9:
                small[f"{rel}@{width}: {f['src'].rsplit('/', 1)[-1]}"] = round(px, 1)
            if width == 390 and "/forest_" in f["src"]:
                assert f["src"].endswith("_compact.svg"), (rel, f["src"])
    assert not small, small
    assert any(f["src"].endswith("_compact.svg") for f in visits[("analysis/weaning.html", 390)]["figures"])


def test_navigation_fits_one_line_and_the_title_is_whole(visits):
    """At 1280 px the menu items stand on one line, none wrapped onto two (a link about 40 px high
    is one line of text plus padding), and the site title is not cut; at 390 px the title is
    whole too (the items fold into the toggle there)."""
    for (rel, width), m in visits.items():
        assert not m["nav"]["titleCut"], (rel, width)
        if width == 1280:
            assert m["nav"]["tops"] == 1 and m["nav"]["tallest"] < 48, (rel, m["nav"])


def test_every_page_fits_loads_and_stays_on_this_host(visits):
    problems = {}
    for (rel, width), m in visits.items():
        bad = m["wide"] + [f"broken image {s}" for s in m["broken"]] + [f"request to {u}" for u in m["foreign"]]
        if m["pageWidth"] > m["view"] + 1:
            bad.append(f"page {m['pageWidth']} px wide in a {m['view']} px window")
        if bad:
            problems[f"{rel}@{width}"] = bad
    assert not problems, problems


def test_no_accessibility_violation(visits):
    """axe-core finds nothing on any page at either width, minor and moderate included (Quarto's
    navbar gets its name and loses its toggle's role="menu" in site-assets/a11y.html)."""
    found = {f"{rel}@{w}": m["axe"] for (rel, w), m in visits.items() if m["axe"]}
    assert not found


def test_home_shows_the_core_headline_and_the_build(visits):
    from metaprop.pipeline import build_info, load_site

    S = load_site(ROOT / "data")
    home = visits[("index.html", 1280)]
    for outcome in HOME_OUTCOMES:
        assert S.estimate(outcome) in home["text"], outcome
    assert f"Data version {S.data.version}" in home["footer"]
    assert build_info(ROOT)["commit"] in home["footer"]


def test_no_page_shows_nan_or_none(visits):
    """What tests/test_pages.py checks of inline values without Quarto, on the rendered pages."""
    import re

    bad = {k: re.findall(r"\b(?:nan|NaN|None)\b", m["text"]) for k, m in visits.items()}
    assert not {k: v for k, v in bad.items() if v}


def test_contributor_text_shows_as_text_never_runs(visits):
    """The hostile author's label is on the 12-month survival page as visible text, and neither its
    script nor its onerror handler ran on any page (issue 9)."""
    assert {k: m["pwned"] for k, m in visits.items() if m["pwned"]} == {}
    assert HOSTILE_LABEL in visits[("analysis/studies.html", 1280)]["text"]
    if HOSTILE_ON_12MO:
        assert HOSTILE_LABEL in visits[("analysis/survival-12mo.html", 1280)]["text"]


def test_explorer_follows_the_reader_offline(served, browser):
    """Untick the last primary study (by keyboard) and pick Freeman-Tukey, computed in the browser:
    the sentence shows the core's value for that subset, the URL records the choice and restores
    it, and nothing is requested from any other host (every such request is refused). Holds for
    any valid data/: the study and the expected numbers are read from it."""
    import json
    import re

    import pandas as pd

    from metaprop.review.explorer import subset_result

    site, url = served
    studies = json.loads((site / "results" / "explorer_weaned.json").read_text())["studies"]
    primary = pd.DataFrame([s for s in studies if s["inclusion"] == "primary"])
    if len(primary) < 3:
        pytest.skip("data/ has fewer than 3 primary weaning studies: nothing to untick and still pool")
    gone = primary.iloc[-1]  # the rendered copy's first study carries the hostile author name
    sub = primary[primary["id"] != gone["id"]].rename(columns={"id": "study_id"})
    r = subset_result(sub, "PFT")
    want = f"{100 * r['est']:.1f}% (95% CI {100 * r['lo']:.1f} to {100 * r['hi']:.1f})"
    ctx = browser.new_context(viewport={"width": 390, "height": 900})
    refused = []

    def gate(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    ctx.route("**/*", gate)
    page = ctx.new_page()
    page.goto(f"{url}/analysis/explorer.html", wait_until="networkidle")
    result = page.locator("#explorer-result")
    assert re.search(r"\d+\.\d% \(95% credible interval", result.text_content())
    page.get_by_label(re.compile("^" + re.escape(gone["label"]) + ":")).focus()
    page.keyboard.press("Space")
    page.select_option("#explorer-method", "PFT")
    assert want in result.text_content()
    assert f"{len(sub)} studies" in result.text_content()
    assert "m=PFT" in page.url and gone["id"] not in page.url and sub["study_id"].iloc[0] in page.url
    again = ctx.new_page()
    again.goto(page.url, wait_until="networkidle")
    assert want in again.locator("#explorer-result").text_content()
    assert not again.get_by_label(re.compile("^" + re.escape(gone["label"]) + ":")).is_checked()
    assert again.locator("#explorer-forest svg rect").count() == len(sub)  # one square per study
    # a precomputed method for a named choice ("Start from"), from the build's JSON
    again.select_option("#explorer-preset", index=1)
    again.select_option("#explorer-method", "GLMM")
    assert re.search(r"\d+\.\d% \(95% CI \d+\.\d to \d+\.\d\)", again.locator("#explorer-result").text_content())
    assert refused == []
    ctx.close()
