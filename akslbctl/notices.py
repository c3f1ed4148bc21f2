"""Warnings for the user from below the CLI (a source that must say something once, and go on).

The CLI points :data:`sink` at its terminal's stderr (``warning: …``, escaped, masked); until it
does, a warning goes to ``sys.stderr``. Each distinct text is said once per run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

sink: Callable[[str], None] | None = None
_said: set[str] = set()


def warn(text: str) -> None:
    if text in _said:
        return
    _said.add(text)
    if sink is not None:
        sink(text)
        return
    from akslbctl.render.escape import escape

    sys.stderr.write(escape(f"warning: {text}") + "\n")


def reset() -> None:
    """Forget what was said (a new run in the same process: tests)."""
    _said.clear()
