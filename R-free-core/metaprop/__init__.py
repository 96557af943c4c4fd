"""metaprop: meta-analysis of single proportions that matches R meta and metafor, without R."""

from .engine.measures import SM, escalc, ipft, ipft_hm, pft
from .engine.pooling import pool
from .engine.results import Estimate, PoolResult
from .engine.study_ci import study_ci
from .errors import ConvergenceWarning, DataError, MetapropError

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning", "DataError", "Estimate", "MetapropError", "PoolResult", "SM",
    "escalc", "ipft", "ipft_hm", "pft", "pool", "study_ci", "__version__",
]
