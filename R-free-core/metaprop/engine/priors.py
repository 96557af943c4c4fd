r"""Priors of the Bayesian model's between-study standard deviation :math:`\tau`, and how they are
written for readers.

Half-normal(:math:`s`): :math:`p(\tau) = \frac{2}{s\sqrt{2\pi}}e^{-\tau^2/(2s^2)}`; half-Cauchy(:math:`s`):
:math:`p(\tau) = \frac{2}{\pi s}\{1 + (\tau/s)^2\}^{-1}`, :math:`\tau \ge 0` (Röver et al. 2021).

References
----------
Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for the
heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods 12:448-474.
doi:10.1002/jrsm.1475
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..errors import MetapropError

__all__ = ["TAU_PRIORS", "TAU_PRIOR_NAMES", "tau_prior_logpdf", "tau_prior_ppf", "prior_text"]

TAU_PRIORS = ("halfnormal", "halfcauchy")
#: how each prior family is written for readers
TAU_PRIOR_NAMES = {"halfnormal": "half-normal", "halfcauchy": "half-Cauchy"}


def tau_prior_logpdf(tau, prior: str = "halfnormal", scale: float = 0.5):
    """Log density of the prior of tau (tau >= 0): half-normal or half-Cauchy with ``scale``."""
    tau = np.asarray(tau, dtype=float)
    if prior == "halfnormal":
        return math.log(2.0) - 0.5 * math.log(2 * math.pi) - math.log(scale) - 0.5 * (tau / scale) ** 2
    if prior == "halfcauchy":
        return math.log(2.0 / math.pi) - math.log(scale) - np.log1p((tau / scale) ** 2)
    raise MetapropError(f"Invalid tau_prior {prior!r}; must be one of {list(TAU_PRIORS)}.")


def tau_prior_ppf(q: float, prior: str, scale: float) -> float:
    """The prior's ``q`` quantile: :math:`s\\Phi^{-1}((1+q)/2)` or :math:`s\\tan(\\pi q/2)`."""
    if prior == "halfnormal":
        return scale * float(special.ndtri(0.5 + q / 2))
    return scale * math.tan(math.pi * q / 2)


def prior_text(mu_prior_mean: float = 0.0, mu_prior_sd: float = 10.0, tau_prior: str = "halfnormal",
               tau_prior_scale: float = 1.0) -> str:
    """'mu ~ N(0, 10^2), tau ~ half-normal(0.5)' for the options of
    :func:`metaprop.engine.bayes.pool_bayes`."""
    name = TAU_PRIOR_NAMES[tau_prior]
    return f"mu ~ N({mu_prior_mean:g}, {mu_prior_sd:g}^2), tau ~ {name}({tau_prior_scale:g})"
