"""What every page function receives: one build's data and results (:class:`Build`).

The pipeline (:func:`metaprop.pipeline.load_site`) makes one per render; every sentence, table and
figure of a page is a plain function of it (:mod:`.sentences`, :mod:`.tables`,
:mod:`.result_tables`, :mod:`.coverage`, :mod:`.embed`), and nothing is fitted while a page runs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..review.data import StudyData
from ..review.outputs import ReviewResults

__all__ = ["Build"]


@dataclass(frozen=True)
class Build:
    """One build: the project's ``root`` (results/ and the coverage study live under it), the
    validated ``data`` and every analysis of it (``results``, from :func:`metaprop.review.outputs.analyse`)."""

    root: Path
    data: StudyData
    results: ReviewResults

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def headline(self, outcome: str):
        """The :class:`metaprop.review.headline.Headline` of ``outcome``."""
        return self.results.headlines[outcome]

    def primary(self, outcome: str) -> dict:
        """The GLMM analysis R meta gives (values as a dict; ``result`` the PoolResult or None)."""
        return self.results.primary[outcome]

    def reproduction(self, source: str, outcome: str):
        """Our re-analysis of a published result (a PoolResult), or None where it cannot be rebuilt."""
        for rep, res in self.results.reproductions:
            if (rep.source, rep.outcome) == (source, outcome):
                return res
        raise KeyError((source, outcome))

    @functools.cached_property
    def coverage(self) -> pd.DataFrame:
        """The coverage study's committed table, read once per page."""
        from .coverage import load_coverage

        return load_coverage(self.root)
