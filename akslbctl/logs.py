"""akslbctl's debug log, and the root logger kept quiet, without importing ``logging`` where nothing logs.

An offline ``explain -f`` logs nothing unless ``--debug`` asks (which loads ``logging`` and installs
the handler, ``cli.common.setup_logging``): :class:`DebugLog` writes a message only when ``logging``
is loaded, and is otherwise free. The client libraries log through the root logger (the kubernetes
client reports a failing exec credential plugin with ``logging.error()``, asyncio a lost task's
exception): :func:`quiet_root` gives the root logger a handler that drops them, so that no library
prints beside akslbctl's one error line. The modules that load those libraries call it when they are
imported.
"""

from __future__ import annotations

import sys


class DebugLog:
    """``logging.getLogger(name).debug`` once ``logging`` is loaded; nothing before (then no handler
    could show the message: ``--debug`` loads ``logging`` before any command runs)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def enabled(self) -> bool:
        logging = sys.modules.get("logging")
        return logging is not None and logging.getLogger(self.name).isEnabledFor(logging.DEBUG)

    def debug(self, msg: str, *args, **kwargs) -> None:
        logging = sys.modules.get("logging")
        if logging is not None:
            logging.getLogger(self.name).debug(msg, *args, stacklevel=2, **kwargs)


def quiet_root() -> None:
    """A root logger without handlers would print a library's warnings on stderr (logging's last
    resort): give it one that drops them. What akslbctl logs has its own handler under --debug."""
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
