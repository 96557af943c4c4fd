"""metaprop: meta-analysis of single proportions that matches R meta and metafor, without R."""

from .errors import ConvergenceWarning, DataError, MetapropError
from .measures import SM, escalc, ipft, ipft_hm, pft
from .pooling import pool
from .results import Estimate, PoolResult
from .study_ci import study_ci

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning", "DataError", "Estimate", "MetapropError", "PoolResult", "SM",
    "escalc", "ipft", "ipft_hm", "pft", "pool", "study_ci", "__version__",
]
