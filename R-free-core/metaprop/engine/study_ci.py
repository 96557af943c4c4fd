r"""Confidence intervals for a single study's proportion (R meta ``method.ci``).

``CP``: Clopper-Pearson exact interval (R meta default),
:math:`[B_{\alpha/2}(x, n-x+1),\; B_{1-\alpha/2}(x+1, n-x)]`, with :math:`B` the beta quantile.
``WS``: Wilson score interval. ``NAsm``/``Wald``: :math:`\hat p \pm z\sqrt{\hat p(1-\hat p)/n}`,
limited to [0, 1].

References
----------
Clopper CJ, Pearson ES (1934). Biometrika 26:404-413. doi:10.1093/biomet/26.4.404
Wilson EB (1927). J Am Stat Assoc 22:209-212. doi:10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import numpy as np

from ..errors import MetapropError
from . import dist

__all__ = ["study_ci", "METHOD_CI"]

METHOD_CI = {"CP": "Clopper-Pearson", "WS": "Wilson", "Wald": "Wald"}
_ALIASES = {"clopper-pearson": "CP", "cp": "CP", "wilson": "WS", "ws": "WS", "wald": "Wald",
            "nasm": "Wald"}


def study_ci(events, total, method: str = "CP", level: float = 0.95):
    """Proportions and confidence limits for each study.

    Parameters
    ----------
    events, total : array_like of int
    method : {"CP", "WS", "Wald"}
        Clopper-Pearson (default, as R meta), Wilson or Wald.
    level : float

    Returns
    -------
    p, lower, upper : ndarray

    Examples
    --------
    >>> p, lo, hi = study_ci([9], [10])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.555, 0.9975)
    """
    key = _ALIASES.get(str(method).lower())
    if key is None:
        raise MetapropError(f"Invalid method_ci {method!r}; must be one of {sorted(METHOD_CI)}.")
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    p = x / n
    alpha = 1 - level
    z = dist.norm_ppf(1 - alpha / 2)
    if key == "CP":
        with np.errstate(invalid="ignore"):
            lo = np.where(x == 0, 0.0, dist.beta_ppf(alpha / 2, x, n - x + 1))
            hi = np.where(x == n, 1.0, dist.beta_ppf(1 - alpha / 2, x + 1, n - x))
    elif key == "WS":
        centre = (x + z**2 / 2) / (n + z**2)
        half = z * np.sqrt(n) / (n + z**2) * np.sqrt(p * (1 - p) + z**2 / (4 * n))
        lo, hi = centre - half, centre + half
    else:
        half = z * np.sqrt(p * (1 - p) / n)
        lo, hi = np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
    return p, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
