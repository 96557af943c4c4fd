"""Read a study CSV with the standard library's :mod:`csv` (no pandas: the command line stays fast).

Accepts what spreadsheets save (UTF-8 with or without BOM, CRLF line ends) and turns everything
else (missing, empty, binary, non-UTF-8, ragged rows, bad cells) into a
:class:`~metaprop.errors.DataError` that names ``FILE:LINE:COLUMN``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import DataError

__all__ = ["read_rows", "read_counts", "parse_count", "read_table", "INTEGER_TEXT", "NUMBER_TEXT"]


def read_rows(path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (as written) and ``(line number, cells)`` for each non-blank row (header = line 1):
    the one CSV parser of the package (:func:`read_counts` and :func:`read_table` build on it)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise DataError(f"{path}: not a text CSV file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 text (save the file as CSV UTF-8)") from None
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        rows = []
        while True:
            line = reader.line_num + 1  # where the record starts (a quoted cell may span lines)
            cells = next(reader, None)
            if cells is None:
                break
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise DataError(f"{path}:{line}: row has {len(cells)} cells; "
                                f"the header has {len(header)}")
            rows.append((line, cells))
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return header, rows


#: how data/ writes numbers: ASCII digits only (Python's int() and float() also take 1_0, 1e1
#: and non-ASCII digits); validation applies the same patterns to integer and number cells
INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
NUMBER_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)")


def parse_count(text: str) -> int:
    """A count as data/ writes it: ASCII digits only, as validation's integer type reads it.

    ``1e1``, ``10.0``, ``1_0`` and non-ASCII digits are refused (Python's ``int`` and ``float``
    would take them). Raises ValueError with the reason; negative counts are the caller's check.
    """
    t = text.strip()
    if INTEGER_TEXT.fullmatch(t):
        return int(t)
    if _DECIMAL.fullmatch(t):
        raise ValueError(f"{t!r} is not a whole number")
    try:
        float(t)
    except ValueError:
        raise ValueError(f"{t!r} is not a number") from None
    raise ValueError(f"{t!r} is not written as a count (digits 0-9 only, e.g. 10)")


def _count(path, line: int, col: str, cell: str) -> int:
    text = cell.strip()
    if text == "":
        raise DataError(f"{path}:{line}:{col}: empty cell; a count is required")
    try:
        v = parse_count(text)
    except ValueError as exc:
        raise DataError(f"{path}:{line}:{col}: {exc}") from None
    if v < 0:
        raise DataError(f"{path}:{line}:{col}: {text} is negative")
    return v


def read_counts(path):
    """``(events, total, labels, extra)`` from a CSV with columns ``events,total`` (optional ``study``).

    ``labels`` is None without a ``study`` column; ``extra`` maps every other column to its cells.
    """
    header, rows = read_rows(path)
    header = [h.strip() for h in header]
    missing = [c for c in ("events", "total") if c not in header]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}")
    if not rows:
        raise DataError(f"{path}: no studies (k = 0)")
    ie, it = header.index("events"), header.index("total")
    events, total = [], []
    for line, cells in rows:
        x = _count(path, line, "events", cells[ie])
        n = _count(path, line, "total", cells[it])
        if n < 1:
            raise DataError(f"{path}:{line}:total: total = {n}; must be at least 1")
        if x > n:
            raise DataError(f"{path}:{line}:events: {x} events > {n} total")
        events.append(x)
        total.append(n)
    labels = [cells[header.index("study")] for _, cells in rows] if "study" in header else None
    extra = {h: [cells[i] for _, cells in rows] for i, h in enumerate(header) if h not in ("events", "total")}
    return events, total, labels, extra


def read_table(path):
    """A data/ CSV as text cells (strings only, nothing parsed, headers as written), with the file's
    line numbers as index (header = line 1): what validation checks is exactly what the analysis
    then types. The CSV rules are the code's: UTF-8 (a BOM allowed), comma, double quote; a
    repeated header name gets ``.1``, ``.2`` as pandas names it (validation reports the repeat)."""
    import pandas as pd

    header, rows = read_rows(path)
    seen: dict[str, int] = {}
    names = []
    for h in header:
        names.append(f"{h}.{seen[h]}" if h in seen else h)
        seen[h] = seen.get(h, 0) + 1
    return pd.DataFrame([cells for _, cells in rows], columns=names,
                        index=pd.Index([line for line, _ in rows], name="line"), dtype=object)
