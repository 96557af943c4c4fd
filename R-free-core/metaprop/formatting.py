"""How numbers and methods are written for readers: one place for every page, table and message.

Proportions arrive as fractions (0.934) or as percentages (93.4, ``scale=1``); missing values
become an em dash. Pages, tables, figures' alt text and ``metaprop compare`` all call these.
"""

from __future__ import annotations

import math

__all__ = ["DASH", "num", "interval", "estimate_ci", "fmt_estimate", "fmt_p", "method_label"]

DASH = "\u2014"
_SM_NAME = {"PLOGIT": "logit", "PFT": "Freeman-Tukey", "PAS": "arcsine", "PRAW": "untransformed"}


def num(v, digits: int | None = None) -> str:
    """A number in a sentence: ``digits`` decimals, or as short as it is (``:g``) when None.

    Examples
    --------
    >>> num(3.8766, 2), num(0.5), num(94.04, 0)
    ('3.88', '0.5', '94')
    """
    return f"{v:g}" if digits is None else f"{v:.{digits}f}"


def _number(v, digits, scale) -> str:
    v = scale * v
    return f"{v:g}" if digits is None else f"{v:.{digits}f}"


def _decimals(v) -> int:
    """Decimals of a number written with the fewest digits that give it back: 89.3 -> 1, 97.0 -> 0."""
    text = repr(float(v))
    if "." not in text or "e" in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


def _as_published(values, scale) -> int:
    """The decimals a published estimate and its limits are written with: those of the most precise
    of them. A paper writes one precision per result ('89.3 (77.6 to 97.0)'), and a number read
    from a CSV has lost its trailing zeros (97.0 reads as 97)."""
    return max(_decimals(scale * v) for v in values)


def _missing(*values) -> bool:
    return any(v is None or (isinstance(v, float) and not math.isfinite(v)) for v in values)


def interval(lo, hi, *, digits: int | None = 1, scale: float = 100, unit: str = "") -> str:
    """'86.2 to 100.0' (``unit="%"``: '86.2 to 100.0%'); a dash when a limit is missing.
    ``digits=None``: as published, both limits with the decimals of the more precise one."""
    if _missing(lo, hi):
        return DASH
    if digits is None:
        digits = _as_published((lo, hi), scale)
    return f"{_number(lo, digits, scale)} to {_number(hi, digits, scale)}{unit}"


def estimate_ci(est, lo, hi, *, digits: int | None = 1, scale: float = 100, unit: str = "",
                ci_label: str = "") -> str:
    """'93.4 (86.2 to 100.0)'; ``unit="%", ci_label="95% CI "``: '93.4% (95% CI 86.2 to 100.0)';
    ``digits=None`` writes numbers as published, all three with the decimals of the most precise.

    >>> estimate_ci(93, 86, 100, digits=None, scale=1, unit="%")
    '93% (86 to 100)'
    >>> estimate_ci(89.3, 77.6, 97.0, digits=None, scale=1)
    '89.3 (77.6 to 97.0)'
    """
    if _missing(est, lo, hi):
        return DASH
    if digits is None:
        digits = _as_published((est, lo, hi), scale)
    return f"{_number(est, digits, scale)}{unit} ({ci_label}{interval(lo, hi, digits=digits, scale=scale)})"


def fmt_estimate(h: dict) -> str:
    """'97.1% (95% CI 64.2 to 99.8)' from a :func:`metaprop.review.analyses.headline_values` dict
    (percentages)."""
    if h.get("result") is None:
        return "not estimable: no study reports it"
    return estimate_ci(h["estimate"], h["ci_lower"], h["ci_upper"], scale=1, unit="%", ci_label="95% CI ")


def fmt_p(p: float) -> str:
    """p-value as R meta prints it: ``< 0.0001`` below 1e-4, else 4 decimals."""
    if p is None or not math.isfinite(p):
        return "--"
    if p == 0:
        return "0"  # R meta's formatPT: a p-value that underflows to 0 prints as 0
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def method_label(sm: str, method: str, method_tau: str, *, long: bool = False) -> str:
    """'GLMM (logit)' or 'PFT, REML'; ``long=True``: 'GLMM (random-intercept logistic), ML' or
    'Freeman-Tukey random effects (REML)'.

    >>> method_label("PFT", "Inverse", "REML", long=True)
    'Freeman-Tukey random effects (REML)'
    """
    if method == "GLMM":
        return "GLMM (random-intercept logistic), ML" if long else "GLMM (logit)"
    if long:
        name = _SM_NAME.get(sm, sm)
        return f"{name[:1].upper()}{name[1:]} random effects ({method_tau})"  # 'Freeman-Tukey', not 'Freeman-tukey'
    return f"{sm}, {method_tau}"
