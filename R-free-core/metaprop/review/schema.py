"""The data rules of the review (Table Schemas: types, keys, enums, ranges), held by the code.

``data/datapackage.json`` documents the same schemas for readers and tools, but a pull request
against ``data/`` cannot change the rules by editing it: :func:`package_problems` reports any
difference from ``schema.json`` (beside this module), and validation and loading use only the
rules here. No ``dialect``, ``profile`` or URL in the data package is honoured; every CSV is read
by :mod:`metaprop.review.csvfile`'s rules (UTF-8, comma, double quote).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

__all__ = ["resources", "resource", "in_package", "package_problems", "ALLOWED_PACKAGE_KEYS", "ALLOWED_RESOURCE_KEYS",
           "RESOURCE_CONSTANTS"]

#: documentation-only keys a data package may carry (anything else, e.g. a remote profile, is refused)
ALLOWED_PACKAGE_KEYS = {"profile", "name", "title", "description", "version", "licenses", "resources",
                        "contributors", "sources", "keywords", "homepage"}
ALLOWED_RESOURCE_KEYS = {"name", "path", "title", "description", "profile", "format", "mediatype", "encoding",
                         "schema"}
#: the only values these resource keys may have (the CSV rules are the code's, not the file's)
RESOURCE_CONSTANTS = {"profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
                      "encoding": "utf-8"}


@cache
def resources() -> tuple[dict, ...]:
    """The review's resources: ``name``, ``path`` (a file name inside data/) and Table ``schema``."""
    text = (Path(__file__).with_name("schema.json")).read_text(encoding="utf-8")
    return tuple(json.loads(text)["resources"])


def resource(name: str) -> dict:
    return next(r for r in resources() if r["name"] == name)


def in_package(descriptor) -> tuple[dict, ...]:
    """The resources a data package holds: every required one, and each optional one (the review's
    records: ``screening``, ``risk_of_bias``) that ``descriptor`` lists, so that data from before
    they existed stay valid."""
    listed = {r.get("name") for r in descriptor.get("resources", []) if isinstance(r, dict)} \
        if isinstance(descriptor, dict) and isinstance(descriptor.get("resources"), list) else set()
    return tuple(r for r in resources() if not r.get("optional") or r["name"] in listed)


def _diff(a, b, where: str) -> list[str]:
    """Where two JSON values differ, as short paths (at most a few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{where}.{k} added")
            elif k not in b:
                out.append(f"{where}.{k} removed")
            else:
                out += _diff(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where} changed"]


def package_problems(descriptor) -> list[str]:
    """Messages for every way ``descriptor`` (data/datapackage.json) departs from the code's rules."""
    if not isinstance(descriptor, dict):
        return ["is not a JSON object"]
    out = [f"key {k!r} is not allowed in this data package" for k in sorted(set(descriptor) - ALLOWED_PACKAGE_KEYS)]
    prof = descriptor.get("profile")
    if prof is not None and prof != "tabular-data-package":
        out.append(f"profile {prof!r} is not allowed (only 'tabular-data-package'; no URL is fetched)")
    got = descriptor.get("resources")
    if not isinstance(got, list):
        return out + ["resources must be a list"]
    want = {r["name"]: r for r in resources()}
    required = sorted(n for n, r in want.items() if not r.get("optional"))
    names = [r.get("name") if isinstance(r, dict) else None for r in got]
    if not set(required) <= set(map(str, names)) <= set(want) or len(set(names)) != len(names):
        out.append(f"resources {names} differ from the review's {required} (and optionally "
                   f"{sorted(set(want) - set(required))})")
    for r in got:
        if not isinstance(r, dict) or r.get("name") not in want:
            continue
        w = want[r["name"]]
        extra = sorted(set(r) - ALLOWED_RESOURCE_KEYS)
        if extra:
            out.append(f"resource {r['name']!r}: keys {extra} are not allowed (e.g. no dialect)")
        for k, v in RESOURCE_CONSTANTS.items():
            if k in r and r[k] != v:
                out.append(f"resource {r['name']!r}: {k} must be {v!r}")
        if r.get("path") != w["path"]:
            out.append(f"resource {r['name']!r}: path must be {w['path']!r}")
        diffs = _diff(r.get("schema"), w["schema"], "schema")
        if diffs:
            out.append(f"resource {r['name']!r}: its Table Schema differs from the review's rules "
                       f"({'; '.join(diffs[:3])}{'; ...' if len(diffs) > 3 else ''}). The rules live in the "
                       "code (metaprop/review/schema.json); a data pull request cannot change them")
    return out
