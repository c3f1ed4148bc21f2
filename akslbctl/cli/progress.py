"""Progress while evidence is collected and nodes are probed: a spinner on stderr, on a terminal only.

Piped or redirected, a run prints nothing but its result (and errors): no spinner frames, no
carriage returns in log files or CI output. stdout never carries progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from akslbctl.cli.common import Terminal


class _Quiet:
    def update(self, message: str) -> None:
        pass


def stderr_is_tty(t: Terminal) -> bool:
    try:
        return bool(t.stderr.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(t: Terminal, message: str, *, enabled: bool = True) -> Iterator:
    """``with progress(t, "collecting…") as p: … p.update("probing…")`` — a rich status on a TTY.

    ``enabled=False`` (``--debug``): the log lines on stderr would tangle with the spinner's frames.
    """
    if not enabled or not stderr_is_tty(t):
        yield _Quiet()
        return
    console = t.console(stderr=True)
    from akslbctl.render.escape import escape

    with console.status(escape(message), spinner="dots") as status:
        yield _Status(status)


class _Status:
    def __init__(self, status) -> None:
        self._status = status

    def update(self, message: str) -> None:
        from akslbctl.render.escape import escape

        self._status.update(escape(message))
