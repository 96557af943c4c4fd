"""Quarto metadata written before a render: ``_variables.yml`` (footer: versions and commit) and
``_citation.yml`` (the "cite as" box), both with a YAML library, so that no value can add a key."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..provenance import build_info

__all__ = ["write_variables", "write_citation_metadata"]


def write_variables(root, data) -> Path:
    """Write ``_variables.yml`` for ``{{< var ... >}}`` shortcodes (footer: versions and commit).

    Written with a YAML library, so that no value can add a key of its own.
    """

    b = build_info(root)
    doc = {"data": {"version": str(data.version), "date": str(data.created)},
           "metaprop": {"version": b["metaprop_version"]}, "build": {"commit": b["commit"]}}
    path = Path(root) / "_variables.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=True, allow_unicode=False), encoding="utf-8")
    return path


def write_citation_metadata(root, data) -> Path:
    """Write ``_citation.yml``: Quarto ``citation`` metadata from ``CITATION.cff`` and the data's date.

    Authors are CSL literals (a group name is not a person's given and family name), and the date
    is the data version's, so the "cite as" box reads "CRT living meta-analysis contributors
    (2026)" rather than "contributors, CRT. n.d.".
    """
    from .citation import read_cff

    cff = read_cff(root)
    authors = [{"name": {"literal": a["name"]}} if "name" in a else
               {"name": {"family": a.get("family-names", ""), "given": a.get("given-names", "")}}
               for a in cff.get("authors", [])]
    citation = {"type": "dataset", "title": str(cff["title"]), "author": authors,
                "issued": str(data.created), "version": str(cff["version"]), "note": f"Data version {data.version}",
                "publisher": "GitHub"}
    if cff.get("doi"):
        citation["doi"] = str(cff["doi"])
    path = Path(root) / "_citation.yml"
    path.write_text(yaml.safe_dump({"citation": citation}, sort_keys=True), encoding="utf-8")
    return path

