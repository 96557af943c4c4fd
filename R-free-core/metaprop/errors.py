"""Exceptions and warnings of metaprop (one place, as plotnine's ``exceptions.py``)."""


class MetapropError(ValueError):
    """Bad input or options: the command line prints it on one line and exits 2."""


class DataError(MetapropError):
    """Study data that cannot be analysed (unreadable file, invalid counts)."""


class ConvergenceWarning(UserWarning):
    """A fit did not converge; the result says what was reported instead."""
