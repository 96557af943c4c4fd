"""Read study data: a counts CSV for the command line, and the project's ``data/`` directory.

Every reader returns typed pandas frames and raises :class:`~metaprop.errors.DataError` with
``FILE:ROW:COLUMN`` (ROW = the file's line number, header = line 1) for a bad cell.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["read_csv_text", "read_counts_csv", "read_table_csv"]


def read_csv_text(path) -> pd.DataFrame:
    """Read a CSV as text cells (no type guessing), accepting a UTF-8 BOM and CRLF line ends.

    Raises :class:`DataError` for a missing, binary, non-UTF-8, empty or ragged file.
    """
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
        raise DataError(f"{path}:{line}: not valid UTF-8 text (save the file as UTF-8)") from None
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    for i, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise DataError(f"{path}:{i}: row has {len(row)} cells; the header has {len(header)}")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    # pandas numbers rows from 0 after the header; the file's line number is index + 2 when no
    # blank lines are skipped. Keep the true line numbers.
    lines = [i for i, row in enumerate(rows[1:], start=2) if row]
    df.index = pd.Index(lines[: len(df)], name="line")
    return df


def _int_column(df: pd.DataFrame, col: str, path) -> np.ndarray:
    out = []
    for line, cell in df[col].items():
        text = str(cell).strip()
        if text == "":
            raise DataError(f"{path}:{line}:{col}: empty cell; a count is required")
        try:
            v = float(text)
        except ValueError:
            raise DataError(f"{path}:{line}:{col}: {text!r} is not a number") from None
        if not np.isfinite(v) or v != int(v):
            raise DataError(f"{path}:{line}:{col}: {text!r} is not a whole number")
        if v < 0:
            raise DataError(f"{path}:{line}:{col}: {text} is negative")
        out.append(int(v))
    return np.array(out, dtype=int)


def read_counts_csv(path):
    """Read ``events,total`` (and optional ``study``) from a CSV for ``metaprop pool``.

    Returns ``(events, total, labels)``; labels are None without a ``study`` column.
    """
    df = read_csv_text(path)
    missing = [c for c in ("events", "total") if c not in df.columns]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)}; "
                        f"found {', '.join(df.columns) or 'none'}")
    if len(df) == 0:
        raise DataError(f"{path}: no studies (k = 0)")
    events = _int_column(df, "events", path)
    total = _int_column(df, "total", path)
    for (line, _), x, n in zip(df.iterrows(), events, total, strict=True):
        if n < 1:
            raise DataError(f"{path}:{line}:total: total = {n}; must be at least 1")
        if x > n:
            raise DataError(f"{path}:{line}:events: {x} events > {n} total")
    labels = list(df["study"]) if "study" in df.columns else None
    return events, total, labels


def read_table_csv(path) -> pd.DataFrame:
    """A study-level CSV with counts and extra columns (year, subgroup) for sensitivity analyses."""
    events, total, labels = read_counts_csv(path)
    df = read_csv_text(path)
    out = df.copy()
    out["events"] = events
    out["total"] = total
    out["study"] = labels if labels is not None else [str(i + 1) for i in range(len(df))]
    if "year" in out.columns:
        out["year"] = pd.to_numeric(out["year"], errors="coerce")
    return out.reset_index(drop=True)
