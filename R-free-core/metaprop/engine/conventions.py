"""The only place where R meta and metafor differ.

========================  ===============================  ================================
quantity                  ``convention="meta"``            ``convention="metafor"``
========================  ===============================  ================================
PRAW proportion, 0 or n   kept at x/n (variance corrected)  corrected, (x+incr)/(n+2 incr)
I^2                       (Q - df)/Q for every estimator    tau^2/(tau^2 + s^2)
prediction interval df    t(k-1) (meta >= 8)                z; t(k-1) with Hartung-Knapp
tau^2 (REML, ML, PM)      solved to machine precision       metafor's Fisher scoring / uniroot
                                                            with its stopping rules
========================  ===============================  ================================

where :math:`s^2 = (k-1)\\sum w_i / \\{(\\sum w_i)^2 - \\sum w_i^2\\}` is metafor's "typical"
within-study variance (Higgins & Thompson 2002). Both coincide for DerSimonian-Laird.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MetapropError

__all__ = ["Convention", "CONVENTIONS", "PREDICTION_DF", "check_convention"]

PREDICTION_DF = ("k-1", "k-2", "z")


@dataclass(frozen=True, slots=True)
class Convention:
    """Switches that make results match one R package exactly."""

    name: str
    praw_correct_yi: bool
    i2: str  # "Q" or "tau2"
    prediction_df: str  # default when the user does not choose
    tau2_algorithm: str  # "exact" or "metafor"


CONVENTIONS = {
    "meta": Convention("meta", praw_correct_yi=False, i2="Q", prediction_df="k-1",
                       tau2_algorithm="exact"),
    "metafor": Convention("metafor", praw_correct_yi=True, i2="tau2", prediction_df="z",
                          tau2_algorithm="metafor"),
}


def check_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise MetapropError(
            f"Invalid convention {name!r}; must be one of {sorted(CONVENTIONS)}."
        ) from None
