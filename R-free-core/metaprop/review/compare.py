"""Before/after table of what the site reports, between a git ref and the working tree.

``metaprop compare origin/main`` is what the pull-request check posts. Per outcome, first the
headline as readers see it (the protocol's model, or "not pooled" and why, with its certainty),
then R meta's default analysis and the protocol's sensitivity sets, then the other methods of the
sensitivity explorer on the primary set; every row names its method, k, events and patients, and
the change in percentage points. A change of headline status or of method is said in words. The
version rules (:mod:`metaprop.review.versioning`) are checked against the same base. A base whose
data do not validate is reported as such, not as an error.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from ..engine.priors import prior_text
from ..errors import MetapropError
from ..formatting import estimate_ci, method_label
from .analyses import fit_method
from .data import StudyData, load
from .headline import headline
from .outputs import fit_sets, summary_frame
from .protocol import BAYES, EXPLORER, METHODS, OUTCOMES, SENSITIVITY_SETS

__all__ = ["estimates", "compare_data", "compare_ref", "format_markdown", "to_json", "data_at_ref", "MARKER"]

MARKER = "<!-- metaprop-compare -->"
COLUMNS = ["outcome", "analysis", "analysis_label", "method", "status", "certainty", "k", "events", "patients",
           "estimate", "ci_lower", "ci_upper"]
HEADLINE_METHOD = ("Bayesian binomial-normal model, mean proportion, 95% credible interval "
                   f"({prior_text(**BAYES).replace('^2', '²')})")


def _headline_row(data: StudyData, outcome: str) -> dict:
    counts = data.counts(outcome, "primary")
    h = headline(data, outcome, counts)
    row = {"outcome": outcome, "analysis": "headline", "analysis_label": "Headline (what the site reports)",
           "status": h.status, "certainty": h.certainty.level if h.certainty is not None else "",
           "k": h.k, "events": h.events, "patients": h.patients}
    if h.status != "pooled":
        return row | {"method": f"not pooled: {h.why_not_pooled}", "estimate": float("nan"),
                      "ci_lower": float("nan"), "ci_upper": float("nan")}
    p = h.bayes.p_mean
    return row | {"method": HEADLINE_METHOD, "estimate": 100 * p.median, "ci_lower": 100 * p.lower,
                  "ci_upper": 100 * p.upper}


def estimates(data: StudyData) -> pd.DataFrame:
    """One row per outcome and analysis (percent): the headline, each analysis set by the
    protocol's primary method (R meta's default), and the explorer's other methods."""
    sets = summary_frame(fit_sets(data))
    labels = {k: lbl for k, lbl, _, _ in SENSITIVITY_SETS}
    rows = []
    for o in OUTCOMES:
        rows.append(_headline_row(data, o))
        mine = sets[sets["outcome"] == o]
        for _, r in pd.concat([mine[mine["analysis"] == "primary"], mine[mine["analysis"] != "primary"]]).iterrows():
            if pd.isna(r.get("method")):
                method = f"not estimable: {r['note']}" if r.get("note") else "not estimable"
            else:
                method = method_label(r["sm"], r["method"], r["method_tau"], long=True)
                if r["method"] != "GLMM":
                    method += ", as the GLMM has no finite estimate (every study at 0% or 100%)"
                elif r["analysis"] == "primary":
                    method += " (R meta's default)"
            rows.append({"outcome": o, "analysis": r["analysis"], "analysis_label": labels[r["analysis"]],
                         "method": method, "status": "", "certainty": "", "k": r["k"], "events": r["events"],
                         "patients": r["patients"], "estimate": 100 * r.get("estimate", float("nan")),
                         "ci_lower": 100 * r.get("ci_lower", float("nan")),
                         "ci_upper": 100 * r.get("ci_upper", float("nan"))})
            if r["analysis"] == "primary":
                rows += _other_methods(data, o, labels["primary"])
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def _other_methods(data: StudyData, o: str, label: str) -> list[dict]:
    """The explorer's other methods on the primary set of outcome ``o``."""
    rows = []
    counts = data.counts(o, "primary")
    for m in EXPLORER["in_browser"]:
            row = {"outcome": o, "analysis": f"primary:{m}", "analysis_label": label,
                   "method": METHODS[m].label, "status": "", "certainty": "", "k": len(counts),
                   "events": int(counts["events"].sum()), "patients": int(counts["total"].sum()),
                   "estimate": float("nan"), "ci_lower": float("nan"), "ci_upper": float("nan")}
            if len(counts) >= 2:
                try:
                    est, lo, hi = fit_method(m, counts).back("random")
                    row |= {"estimate": 100 * est, "ci_lower": 100 * lo, "ci_upper": 100 * hi}
                except MetapropError as exc:
                    row["method"] += f" (not estimable: {exc})"
            rows.append(row)
    return rows


def compare_data(base: StudyData | None, head: StudyData) -> pd.DataFrame:
    """Merge the estimates of two datasets (``base`` None: the base did not validate); rows present
    on one side only keep empty cells on the other."""
    after = estimates(head)
    if base is None:
        before = after[["outcome", "analysis", "analysis_label"]].reindex(columns=COLUMNS)
    else:
        before = estimates(base)
    out = before.merge(after, on=["outcome", "analysis"], how="outer", suffixes=("_before", "_after"), sort=False)
    out["analysis_label"] = out["analysis_label_after"].fillna(out["analysis_label_before"])
    order = {o: i for i, o in enumerate(OUTCOMES)}
    position = {a: i for i, a in enumerate(dict.fromkeys(list(after["analysis"]) + list(before["analysis"])))}
    out["_o"] = out["outcome"].map(order)
    out["_a"] = out["analysis"].map(position)
    out = out.sort_values(["_o", "_a"], kind="stable").drop(columns=["_o", "_a", "analysis_label_before",
                                                                      "analysis_label_after"])
    out["change"] = out["estimate_after"] - out["estimate_before"]
    return out.reset_index(drop=True)


def _verified_commit(ref: str, repo: str) -> str:
    """The commit ``ref`` names, checked before any other git call: a ref is never read as an
    option (``--end-of-options``), and anything that is not a commit is refused."""
    try:
        out = subprocess.run(["git", "-C", repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                              f"{ref}^{{commit}}"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise MetapropError(f"cannot run git to read ref {ref!r}: {exc}") from None
    sha = out.stdout.strip()
    if out.returncode != 0 or len(sha) not in (40, 64) or not all(c in "0123456789abcdef" for c in sha):
        raise MetapropError(f"{ref!r} is not a commit in this repository")
    return sha


def data_at_ref(ref: str, data_dir: str, repo: str, dest: Path) -> Path:
    """Extract ``data_dir`` as it is at ``ref`` into ``dest`` with ``git archive``."""
    sha = _verified_commit(ref, repo)
    try:
        archive = subprocess.run(["git", "-C", repo, "archive", "--format=tar", sha, "--", data_dir],
                                 capture_output=True, check=True, timeout=120).stdout
        subprocess.run(["tar", "-x", "--no-same-owner", "-C", str(dest)], input=archive, check=True,
                       capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise MetapropError(f"cannot read {data_dir}/ at git ref {ref!r}: "
                            f"{detail.decode(errors='replace').strip() or exc}") from None
    return dest / data_dir


def compare_ref(base_ref: str, data_dir: str = "data", repo: str = ".") -> pd.DataFrame:
    """Compare ``data_dir`` in the working tree with the same folder at ``base_ref``."""
    from .versioning import check_version

    head = load(Path(repo) / data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = data_at_ref(base_ref, data_dir, repo, Path(tmp))
        try:
            base = load(base_dir)
        except Exception:  # any failure to read the base: "the base does not validate", never a traceback
            base = None
        try:
            check = check_version(base_dir, Path(repo) / data_dir)
        except Exception:  # a base in a form the rules cannot read: said, never a traceback
            check = None
    table = compare_data(base, head)
    table.attrs["base_ref"] = base_ref
    table.attrs["base_valid"] = base is not None
    table.attrs["versions"] = (None if base is None else base.version, head.version)
    table.attrs["version_check"] = (None if check is None else
                                    {"ok": check.ok, "summary": check.summary(), "problems": list(check.problems)})
    return table


def _cell(r, side: str) -> str:
    k = r[f"k_{side}"]
    if pd.isna(k):
        return "—"
    est = r[f"estimate_{side}"]
    what = f"k = {int(k)}, {int(r[f'events_{side}'])}/{int(r[f'patients_{side}'])}"
    if pd.isna(est):
        status = r[f"status_{side}"]
        return f"not pooled, {what}" if isinstance(status, str) and status else f"not estimable, {what}"
    cert = r[f"certainty_{side}"]
    cert = f"; certainty {cert}" if isinstance(cert, str) and cert else ""
    return f"{estimate_ci(est, r[f'ci_lower_{side}'], r[f'ci_upper_{side}'], scale=1)}, {what}{cert}"


def _md(text) -> str:
    """Cell text for a Markdown table: pipes and line ends cannot break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def format_markdown(table: pd.DataFrame) -> str:
    """The pull-request comment: per outcome, a table with the headline first; changed cells in
    bold; changes of headline status or method said in words."""
    base_v, head_v = table.attrs.get("versions", (None, None))
    lines = [MARKER, "### How this pull request changes what the site reports", ""]
    if not table.attrs.get("base_valid", True):
        ref = _md(table.attrs.get("base_ref"))
        lines += [f"The data at `{ref}` do not validate; only the new values are shown.", ""]
    check = table.attrs.get("version_check")
    version = f"Data version {base_v or '—'} → {head_v}."
    if check is not None:
        version += (f" Version rules: {'followed' if check['ok'] else 'NOT followed'} ({_md(check['summary'])})."
                    + "".join(f" {_md(p)}." for p in check["problems"]))
    lines += [version, "Estimates in %, with 95% intervals (credible for the headline, confidence otherwise).", ""]
    changed = 0
    for o, rows in table.groupby("outcome", sort=False):
        lines += [f"#### {OUTCOMES[o]}", "", "| analysis | method | before | after | change (points) |",
                  "|---|---|---|---|---|"]
        words = []
        for _, r in rows.iterrows():
            before, after = _cell(r, "before"), _cell(r, "after")
            differs = before != after
            changed += differs
            mb, ma = r["method_before"], r["method_after"]
            method = ma if isinstance(ma, str) else mb
            if isinstance(mb, str) and isinstance(ma, str) and mb != ma:
                what = "headline" if r["analysis"] == "headline" else r["analysis_label"].lower()
                words.append(f"{what}: {_md(mb)} → {_md(ma)}")
            delta = "" if pd.isna(r["change"]) else f"{r['change']:+.1f}"
            label = f"**{r['analysis_label']}**" if r["analysis"] == "headline" else r["analysis_label"]
            shown = f"**{_md(after)}**" if differs else _md(after)
            lines.append(f"| {_md(label)} | {_md(method)} | {_md(before)} | {shown} | {delta} |")
        lines.append("")
        lines += [f"- Changed: {w}" for w in words]
        if words:
            lines.append("")
    lines.append(f"{changed} of {len(table)} rows change.")
    return "\n".join(lines)


def to_json(table: pd.DataFrame) -> dict:
    """The same content as :func:`format_markdown`, as a JSON-ready dict (NaN as null)."""
    import json

    # results/'s convention (metaprop.review.dictionary): a column in percent ends in _pct
    pct = {f"{c}_{side}": f"{c}_pct_{side}" for c in ("estimate", "ci_lower", "ci_upper")
           for side in ("before", "after")}
    rows = json.loads(table.rename(columns=pct | {"change": "change_pct"}).to_json(orient="records"))
    base_v, head_v = table.attrs.get("versions", (None, None))
    return {"base_ref": table.attrs.get("base_ref"), "base_valid": table.attrs.get("base_valid", True),
            "versions": {"before": base_v, "after": head_v}, "version_check": table.attrs.get("version_check"),
            "units": "columns ending in _pct are percent (estimate, its interval, the change in points)",
            "rows": rows}
