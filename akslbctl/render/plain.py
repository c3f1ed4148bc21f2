"""The console for output that can carry no colour: a pipe, a file, a CI log.

Where rich's ``Console`` would write no escape code at all (stdout is not a terminal and nothing
forces one: ``FORCE_COLOR``, ``TTY_COMPATIBLE=1``), what it writes for a ``Text`` is the text's
wrapped lines and nothing else. :class:`PlainConsole` writes exactly those lines, wrapped by the
same ``Text.wrap``, without importing ``rich.console``: that import (its themes, markup, pretty
printer and log renderer) is a fifth of an offline ``explain -f`` run. Anything else printed through
it (a tree, an alignment, a style for the whole line) goes to a real rich ``Console`` on the same
stream, made when first needed; the two write in the order they are called.

tests/unit/test_plain_console.py prints the same renderables through both and compares the bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TextIO

_TAB_SIZE = 8  # rich's default; the terminal's console is built with it too


def colourless(tty: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether rich would write a stream without colour or control codes: no terminal behind it
    (``tty`` False) and nothing in the environment that makes rich treat it as one."""
    env = os.environ if environ is None else environ
    tty_compatible = env.get("TTY_COMPATIBLE", "")
    if tty_compatible == "1":
        return False
    if tty_compatible != "0" and env.get("FORCE_COLOR") not in (None, ""):
        return False
    return not tty


class PlainConsole:
    """Prints ``Text`` (and ``str``, taken as text, never as markup) as rich's ``Console`` prints it
    to a stream without colour, ``width`` cells wide. ``rich`` makes the console for everything else."""

    def __init__(self, file: TextIO, width: int, rich: Callable[[], object]) -> None:
        self.file = file
        self.width = width
        self._make_rich = rich
        self._rich = None

    def _real(self):
        if self._rich is None:
            self._rich = self._make_rich()
        return self._rich

    def print(
        self,
        *objects,
        sep: str = " ",
        end: str = "\n",
        justify: str | None = None,
        overflow: str | None = None,
        no_wrap: bool | None = None,
        crop: bool = True,
        **other,
    ) -> None:
        from rich.text import Text

        # What rich aligns, justifies, styles or lays out itself is left to rich.
        if other or justify not in (None, "default") or not all(isinstance(o, (str, Text)) for o in objects):
            self._real().print(
                *objects, sep=sep, end=end, justify=justify, overflow=overflow, no_wrap=no_wrap, crop=crop, **other
            )
            return
        if not objects:
            if end == "\n":
                self._write("\n")
                return
            objects = ("",)
        # As rich does: the objects joined by a copy of the separator that carries the print's justify
        # and end (the texts' own justify, overflow and no_wrap do not survive the join).
        texts = [o if isinstance(o, Text) else Text(o) for o in objects]
        text = Text(sep, justify=justify, end=end).join(texts)
        lines = text.wrap(
            None,  # type: ignore[arg-type]  # read only to justify, which rich does (above)
            self.width,
            justify=justify or "default",
            overflow=overflow or "fold",
            tab_size=_TAB_SIZE,
            no_wrap=bool(no_wrap),
        )
        body = "\n".join(line.plain for line in lines) + text.end
        if crop:
            body = _crop(body, self.width)
        self._write(body)

    def _write(self, text: str) -> None:
        if text:
            self.file.write(text)
        self.file.flush()


def _crop(text: str, width: int) -> str:
    """Each line cut to ``width`` cells, as rich crops a printed line (no padding)."""
    from rich.cells import cell_len, set_cell_size

    out = []
    for line in text.split("\n"):
        out.append(set_cell_size(line, width) if cell_len(line) > width else line)
    return "\n".join(out)
