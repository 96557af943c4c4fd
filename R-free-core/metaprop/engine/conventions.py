"""The only place where R meta and metafor differ.

========================  ===============================  ================================
quantity                  ``convention="meta"``            ``convention="metafor"``
========================  ===============================  ================================
PRAW proportion, 0 or n   kept at x/n (variance corrected)  corrected, (x+incr)/(n+2 incr)
I^2                       (Q - df)/Q for every estimator    tau^2/(tau^2 + s^2)
prediction interval df    t(k-1) (meta >= 8)                z; t(k-1) with Hartung-Knapp
prediction interval SE    classic, also with Hartung-Knapp  the model's (Hartung-Knapp) SE
H                         max(1, sqrt(Q/df))                sqrt(1/(1 - I^2))
PRAW back-transformation  cut to [0, 1]                     not cut
========================  ===============================  ================================

Both solve tau^2 (REML, ML, PM) with metafor's algorithms and stopping rules, since R meta calls
metafor's ``rma.uni``; ``pool(..., tau2_algorithm="exact")`` asks for the exact optimum instead.

where :math:`s^2 = (k-1)\\sum w_i / \\{(\\sum w_i)^2 - \\sum w_i^2\\}` is metafor's "typical"
within-study variance (Higgins & Thompson 2002). Both coincide for DerSimonian-Laird.
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import check_option

__all__ = ["Convention", "CONVENTIONS", "PREDICTION_DF", "check_convention"]

PREDICTION_DF = ("k-1", "k-2", "z")


@dataclass(frozen=True, slots=True)
class Convention:
    """Switches that make results match one R package exactly."""

    name: str
    praw_correct_yi: bool
    i2: str  # "Q" or "tau2"
    prediction_df: str  # default when the user does not choose


CONVENTIONS = {
    "meta": Convention("meta", praw_correct_yi=False, i2="Q", prediction_df="k-1"),
    "metafor": Convention("metafor", praw_correct_yi=True, i2="tau2", prediction_df="z"),
}


def check_convention(name: str) -> Convention:
    check_option("convention", name)
    return CONVENTIONS[name]
