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
default method, PLOGIT    GLMM                              inverse variance (``rma()``)
one study                 tau^2, I^2, H, PI not computed    tau^2 = 0, I^2 = 0, H = 1, PI = CI
one study, GLMM PI        the confidence interval           none
========================  ===============================  ================================

Every other module asks the :class:`Convention` (``CONVENTIONS[result.convention]``) instead of
testing the name: a new difference is a new field here.

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
    praw_correct_yi: bool  # PRAW estimates of 0% and 100% studies continuity-corrected too
    i2: str  # "Q" or "tau2"
    prediction_df: str  # default when the user does not choose
    prediction_df_hakn: str  # default with Hartung-Knapp
    prediction_se: str  # "classic": sqrt(1/sum w*), also under Hartung-Knapp; "model": the model's SE
    praw_clip: bool  # PRAW back-transformed values cut to [0, 1]
    default_glmm: bool  # PLOGIT without other options: GLMM (R meta) or inverse variance (metafor rma())
    one_study_zero: bool  # one study: tau^2 = 0, I^2 = 0, H = 1, PI = CI (metafor) or not computed (meta)
    one_study_glmm_pi_is_ci: bool  # one study, GLMM: the "prediction interval" is its CI (R meta)

    @property
    def i2_definition(self) -> str:
        """How I^2 is computed, in words (results.json, summary.csv)."""
        return ("from Cochran's Q, (Q - df)/Q, as R meta prints it" if self.i2 == "Q"
                else "from tau^2, as metafor prints it")

    @property
    def i2_basis(self) -> str:
        """'Q' or 'tau^2', as R meta's printout says."""
        return "Q" if self.i2 == "Q" else "tau^2"


CONVENTIONS = {
    "meta": Convention("meta", praw_correct_yi=False, i2="Q", prediction_df="k-1", prediction_df_hakn="k-1",
                       prediction_se="classic", praw_clip=True, default_glmm=True, one_study_zero=False,
                       one_study_glmm_pi_is_ci=True),
    "metafor": Convention("metafor", praw_correct_yi=True, i2="tau2", prediction_df="z", prediction_df_hakn="k-1",
                          prediction_se="model", praw_clip=False, default_glmm=False, one_study_zero=True,
                          one_study_glmm_pi_is_ci=False),
}


def check_convention(name: str) -> Convention:
    check_option("convention", name)
    return CONVENTIONS[name]
