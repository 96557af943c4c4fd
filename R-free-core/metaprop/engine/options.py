"""Every option of :func:`metaprop.pool` that takes one of a fixed set of values, declared once.

``pool()`` checks its arguments with :func:`check_option` and the command line builds its help
from :data:`OPTIONS`, so the valid choices are written in one place. Names follow R meta
(``sm``, ``method``, ``method.tau`` -> ``method_tau``, ``method.tau.ci`` -> ``method_tau_ci``).
"""

from __future__ import annotations

from ..errors import MetapropError

__all__ = ["OPTIONS", "check_option", "choices_text"]

#: option -> (valid values, what it chooses)
OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sm": (("PLOGIT", "PRAW", "PAS", "PFT"), "summary measure"),
    "method": (("Inverse", "GLMM"), "pooling method"),
    "method_tau": (("REML", "DL", "PM", "ML"), "tau^2 estimator"),
    "method_tau_ci": (("QP", "J", ""), "CI for tau^2: Q-profile, Jackson, or none"),
    "prediction_df": (("k-1", "k-2", "z"), "quantile of the prediction interval"),
    "convention": (("meta", "metafor"), "whose conventions to follow where R meta and metafor differ"),
    "method_ci": (("CP", "WS", "Wald"), "study confidence intervals"),
    "tau2_algorithm": (("metafor", "exact"), "how REML, ML and PM are solved"),
}


def check_option(name: str, value) -> None:
    """Raise :class:`MetapropError` naming the option and its valid values unless ``value`` is one."""
    valid = OPTIONS[name][0]
    if value not in valid:
        raise MetapropError(f"Invalid {name} {value!r}; must be one of {list(valid)}.")


def choices_text(name: str) -> str:
    """'PLOGIT | PRAW | PAS | PFT' for command-line help."""
    return " | ".join(v if v else "''" for v in OPTIONS[name][0])
