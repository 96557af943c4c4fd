"""Before/after table of every pooled estimate between a git ref and the working tree.

``metaprop compare origin/main`` is what the pull-request check posts: for each outcome and
analysis set, k, events/total and the estimate with its CI at the base ref and now, and the change
in percentage points. A base whose data do not validate is reported as such, not as an error.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import MetapropError
from ..formatting import estimate_ci
from .data import StudyData, load
from .outputs import fit_sets, summary_frame
from .protocol import OUTCOMES, SENSITIVITY_SETS

__all__ = ["estimates", "compare_data", "compare_ref", "format_markdown", "MARKER"]

MARKER = "<!-- metaprop-compare -->"
COLUMNS = ["outcome", "analysis", "k", "events", "patients", "estimate", "ci_lower", "ci_upper"]


def estimates(data: StudyData) -> pd.DataFrame:
    """One row per outcome and analysis set: k, events, patients, estimate and CI (percent)."""
    df = summary_frame(fit_sets(data)).reindex(columns=COLUMNS)
    df[["estimate", "ci_lower", "ci_upper"]] *= 100
    return df


def compare_data(base: StudyData | None, head: StudyData) -> pd.DataFrame:
    """Merge the estimates of two datasets (``base`` None: the base did not validate)."""
    after = estimates(head)
    if base is None:
        before = after[["outcome", "analysis"]].assign(k=pd.NA, events=pd.NA, patients=pd.NA,
                                                       estimate=float("nan"), ci_lower=float("nan"),
                                                       ci_upper=float("nan"))
    else:
        before = estimates(base)
    out = before.merge(after, on=["outcome", "analysis"], suffixes=("_before", "_after"))
    out["change"] = out["estimate_after"] - out["estimate_before"]
    return out


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


def _data_at_ref(ref: str, data_dir: str, repo: str, dest: Path) -> Path:
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
    head = load(Path(repo) / data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = _data_at_ref(base_ref, data_dir, repo, Path(tmp))
        try:
            base = load(base_dir)
        except Exception:  # any failure to read the base: "the base does not validate", never a traceback
            base = None
    table = compare_data(base, head)
    table.attrs["base_ref"] = base_ref
    table.attrs["base_valid"] = base is not None
    table.attrs["versions"] = (None if base is None else base.version, head.version)
    return table


def _cell(k, e, n, est, lo, hi) -> str:
    if pd.isna(k):
        return "—"
    if pd.isna(est):
        return f"k = {k}: not estimable"
    return f"{estimate_ci(est, lo, hi, scale=1)}, k = {k}, {e}/{n}"


def format_markdown(table: pd.DataFrame) -> str:
    """The pull-request comment: a Markdown table, changed rows first marked in bold."""
    labels = {k: lbl for k, lbl, _, _ in SENSITIVITY_SETS}
    base_v, head_v = table.attrs.get("versions", (None, None))
    lines = [MARKER, "### How this pull request changes the pooled estimates", ""]
    if not table.attrs.get("base_valid", True):
        lines.append(f"The data at `{table.attrs.get('base_ref')}` do not validate; only the new values are shown.")
        lines.append("")
    lines.append(f"Data version {base_v or '—'} → {head_v}. Estimates in %, 95% CI; primary method GLMM "
                 "(PFT random effects when every study reports 100% or 0%).")
    lines += ["", "| outcome | analysis | before | after | change (points) |", "|---|---|---|---|---|"]
    changed = 0
    for _, r in table.iterrows():
        before = _cell(r["k_before"], r["events_before"], r["patients_before"], r["estimate_before"],
                       r["ci_lower_before"], r["ci_upper_before"])
        after = _cell(r["k_after"], r["events_after"], r["patients_after"], r["estimate_after"],
                      r["ci_lower_after"], r["ci_upper_after"])
        delta = "" if pd.isna(r["change"]) else f"{r['change']:+.1f}"
        differs = before != after
        changed += differs
        row = f"| {OUTCOMES[r['outcome']]} | {labels[r['analysis']]} | {before} | {after} | {delta} |"
        lines.append(row.replace(f"| {after} |", f"| **{after}** |") if differs else row)
    lines += ["", f"{changed} of {len(table)} estimates change."]
    return "\n".join(lines)
