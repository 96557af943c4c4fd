"""Distribution functions from :mod:`scipy.special` (the ufuncs behind :mod:`scipy.stats`).

:mod:`scipy.stats` takes about a second to import, which would dominate a command-line run of
``metaprop pool``; these are the same computations (``scipy.stats.norm.ppf`` is
``special.ndtri``, ``t.ppf`` is ``stdtrit`` and so on) without that start-up cost.
"""

from __future__ import annotations

from scipy import special

__all__ = ["norm_ppf", "norm_sf", "t_ppf", "t_sf", "chi2_sf", "chi2_ppf", "beta_ppf"]


def norm_ppf(p):
    """Standard normal quantile (R ``qnorm``)."""
    return special.ndtri(p)


def norm_sf(x):
    """Upper tail of the standard normal (R ``pnorm(x, lower.tail = FALSE)``)."""
    return special.ndtr(-x)


def t_ppf(p, df):
    """Student t quantile (R ``qt``)."""
    return special.stdtrit(df, p)


def t_sf(x, df):
    """Upper tail of Student t (R ``pt(x, df, lower.tail = FALSE)``)."""
    return special.stdtr(df, -x)


def chi2_sf(x, df):
    """Upper tail of chi-square (R ``pchisq(x, df, lower.tail = FALSE)``)."""
    return special.chdtrc(df, x)


def chi2_ppf(p, df):
    """Chi-square quantile (R ``qchisq``)."""
    return special.chdtri(df, 1 - p)


def beta_ppf(p, a, b):
    """Beta quantile (R ``qbeta``)."""
    return special.betaincinv(a, b, p)
