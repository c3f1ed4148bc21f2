"""Wrapping for the human renderers that are not the explain table: a head with a hanging indent, and
a cut that always says so.

Text that does not fit is wrapped at word boundaries under itself (past its head), never cut; where a
renderer must keep something on one line (the live ``probe`` view), :func:`fit` cuts it with an
ellipsis so the reader sees that something is missing.
"""

from __future__ import annotations

import textwrap

ELLIPSIS = "…"


def wrap_lines(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells (at least 20), words kept whole where they fit."""
    return textwrap.wrap(text, max(width, 20), break_on_hyphens=False, break_long_words=True) or [""]


def hanging(head: str, body: str, width: int, *, head_style: str = "", body_style: str = "", indent: int = 0):
    """``head`` then ``body``; the lines after the first start under the body's first character.

    ``indent``: a first-line prefix already printed before ``head`` (it counts for the width only).
    """
    from rich.text import Text

    lead = indent + len(head)
    if lead > width // 2:  # a long head (a long code) would leave too little room: hang under it less
        lead = indent + 4
    first_room = max(width - indent - len(head), 20)
    parts = wrap_lines(body, first_room)
    line = Text()
    line.append(head, style=head_style)
    line.append(parts[0], style=body_style)
    rest = " ".join(parts[1:])
    if rest:
        for part in wrap_lines(rest, width - lead):
            line.append("\n" + " " * lead + part, style=body_style)
    return line


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with a closing ellipsis, or as it is when it fits."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    return set_cell_size(text, width - 1) + ELLIPSIS
