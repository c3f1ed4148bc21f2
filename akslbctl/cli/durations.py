"""Durations as kubectl takes them: ``5s``, ``500ms``, ``1m30s``, ``2h`` — or a plain number of seconds.

kubectl's ``--request-timeout`` and ``--timeout`` take Go durations (a sequence of decimal numbers, each
with a unit: ``ns``, ``us``/``µs``, ``ms``, ``s``, ``m``, ``h``); akslbctl's time flags take the same,
and a bare number keeps meaning seconds, so ``--timeout 5`` and ``--timeout 5s`` are one thing.
"""

from __future__ import annotations

import math
import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TERM = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_PLAIN = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(e[+-]?\d+)?", re.IGNORECASE)
EXAMPLES = "e.g. 5s, 500ms, 1m30s; a plain number is seconds"


def parse_duration(text: str) -> float:
    """Seconds from ``text``; ValueError (with the reason) when it is no duration."""
    value = text.strip()
    if not value:
        raise ValueError("empty")
    if _PLAIN.fullmatch(value):
        seconds = float(value)
    else:
        pos, seconds = 0, 0.0
        while pos < len(value):
            m = _TERM.match(value, pos)
            if m is None:
                raise ValueError(f"{text!r} is not a duration ({EXAMPLES})")
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is not a duration ({EXAMPLES})")
    return seconds


def format_seconds(seconds: float) -> str:
    """``5s``, ``0.05s``, ``120s``: how a default reads in help."""
    return f"{seconds:g}s"


class Duration:
    """A typer ``parser`` for a time flag: Go-style duration or plain seconds, at least ``minimum``.

    A bad value is a usage error: one line naming the flag, exit 2. ``minimum`` is an attribute so
    that the generated command-line table (:mod:`akslbctl.cli.specgen`) can carry it.
    """

    def __init__(self, minimum: float = 0.0) -> None:
        self.minimum = minimum
        self.__name__ = "duration"  # what click names the type in its messages

    def __call__(self, value):
        import typer

        try:
            return self.seconds(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    def seconds(self, value) -> float:
        """``value`` in seconds; ValueError (with the message a user sees) when it is not allowed."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(str(value))
            except ValueError as exc:
                reason = str(exc) if "duration" in str(exc) else f"{value!r} is not a duration ({EXAMPLES})"
                raise ValueError(reason) from None
        if seconds < self.minimum:
            raise ValueError(f"{value} is less than the least it may be, {format_seconds(self.minimum)}")
        return seconds


def duration(minimum: float = 0.0) -> Duration:
    """The parser of a time flag that takes at least ``minimum`` seconds."""
    return Duration(minimum)
