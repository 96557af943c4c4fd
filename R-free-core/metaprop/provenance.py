"""Where a build comes from: the metaprop version and the commit (results/, footer, version line)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import __version__

__all__ = ["build_info"]


def build_info(root=".") -> dict:
    """Version and the commit the site is built from (``GITHUB_SHA`` in CI, else ``git rev-parse``
    in ``root``; "unknown" outside a repository)."""
    commit = os.environ.get("GITHUB_SHA", "")
    if not commit:
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(root), capture_output=True, text=True,
                                    timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
    return {"metaprop_version": __version__, "commit": commit[:12] or "unknown"}
