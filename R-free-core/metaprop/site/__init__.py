"""What the site shows: figures and theme, tables, page helpers and the pre-render build step.

No statistics are chosen here: every method comes from :mod:`metaprop.review`.
"""
