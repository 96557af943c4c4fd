"""Text from ``data/`` made safe for the page: escaped for Markdown and HTML wherever it is shown.

Study labels, notes and versions come from pull requests; a label such as
``<img src=x onerror=...>`` or ``$x$`` must reach the reader as those characters, never as markup.
"""

from __future__ import annotations

import html
import re

__all__ = ["md_escape", "html_escape", "MarkdownText"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^$@=:\"'])")


def html_escape(text) -> str:
    """``&``, ``<``, ``>`` and quotes as HTML entities."""
    return html.escape(str(text), quote=True)


def md_escape(text) -> str:
    r"""Text for Pandoc Markdown: HTML-escaped, then every Markdown punctuation backslash-escaped.

    Examples
    --------
    >>> md_escape("<img src=x onerror=alert(1)>")
    '&lt;img src\\=x onerror\\=alert\\(1\\)&gt;'
    >>> md_escape("Smith* 2010 $x$")
    'Smith\\* 2010 \\$x\\$'
    """
    return _MD_SPECIAL.sub(r"\\\1", html_escape(str(text)).replace("&#x27;", "'").replace("&quot;", '"'))


class MarkdownText(str):
    """A sentence for an inline ``{python}`` expression, given to Quarto as Markdown.

    Quarto inserts a plain ``str`` result with only partial escaping (an ``<img/...>`` in it became
    an element); build these with :func:`md_escape` around every text from ``data/`` instead, and
    Quarto renders the escapes back to the literal characters.
    """

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        return str(self)
