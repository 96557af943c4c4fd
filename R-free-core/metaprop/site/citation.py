"""Citation text and BibTeX from the repository's ``CITATION.cff`` (one source of truth)."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["read_cff", "citation_text", "bibtex"]


def read_cff(root=".") -> dict:
    return yaml.safe_load((Path(root) / "CITATION.cff").read_text(encoding="utf-8"))


def _authors(cff: dict) -> list[str]:
    out = []
    for a in cff.get("authors", []):
        if "name" in a:
            out.append(a["name"])
        else:
            out.append(f"{a.get('family-names', '')}, {a.get('given-names', '')}".strip(", "))
    return out


def citation_text(root=".") -> str:
    """'Authors (year). Title. Version X. DOI or "DOI assigned at release".'"""
    cff = read_cff(root)
    year = str(cff.get("date-released", ""))[:4]
    doi = f" https://doi.org/{cff['doi']}" if cff.get("doi") else " (version DOI assigned when the release is archived)"
    return f"{'; '.join(_authors(cff))} ({year}). {cff['title']}. Version {cff['version']}.{doi}"


def bibtex(root=".") -> str:
    """A BibTeX ``@misc`` entry for the release described in ``CITATION.cff``."""
    cff = read_cff(root)
    year = str(cff.get("date-released", ""))[:4]
    fields = {"author": " and ".join("{" + a + "}" for a in _authors(cff)), "title": "{" + cff["title"] + "}",
              "year": year, "version": str(cff["version"]), "note": "Living meta-analysis; dataset and code"}
    if cff.get("doi"):
        fields["doi"] = cff["doi"]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{crt_inotrope_living_{str(cff['version']).replace('.', '_')},\n{body}\n}}"
