"""What the Quarto pages call: ``S = load_site("data")`` (:func:`metaprop.pipeline.load_site`),
then ``S.name(...)`` for each sentence, table and figure.

:class:`Site` is a lookup, nothing more: ``S.estimate("weaned")`` calls
:func:`metaprop.site.sentences.estimate` with this build. Each page function lives in the module
of its kind, listed in that module's ``PAGE``:

- sentences: :mod:`.sentences` (and the coverage study's, :mod:`.coverage`);
- tables: :mod:`.tables` (studies, data), :mod:`.result_tables` (analyses), :mod:`.coverage`;
- figures and widgets: :mod:`.embed`;
- search, selection (PRISMA) and risk of bias: :mod:`.selection`.

A name is in exactly one ``PAGE`` (tests/test_architecture.py).
"""

from __future__ import annotations

import functools

from . import coverage, embed, result_tables, selection, sentences, tables
from .context import Build

__all__ = ["Site", "PAGE_MODULES", "page_functions"]

#: the modules whose ``PAGE`` functions the pages call
PAGE_MODULES = (sentences, tables, result_tables, coverage, embed, selection)


@functools.cache
def page_functions() -> dict:
    """Every page function by name (each takes a :class:`Build` first)."""
    return {name: getattr(m, name) for m in PAGE_MODULES for name in m.PAGE}


class Site:
    """One build, as the pages see it: ``S.data``, ``S.results``, ``S.root``, ``S.headline(o)``,
    ``S.primary(o)`` from the :class:`Build`, and every page function by name."""

    def __init__(self, build: Build):
        self.build = build
        self.data, self.results, self.root = build.data, build.results, build.root

    def __getattr__(self, name: str):
        fn = page_functions().get(name)
        if fn is not None:
            return functools.partial(fn, self.build)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.build, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(page_functions()))
