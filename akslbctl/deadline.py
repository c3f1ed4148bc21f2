"""The overall deadline of one command (``--deadline``): a budget every stage draws from.

The tool runs during incidents, against API servers and nodes in bad shape. Per-request and per-probe
timeouts bound each wait, but not their sum: a Kubernetes API that drips its answer a byte at a time
never trips a read timeout, retries add up, and a long-running ARM operation may never finish. The
deadline bounds the whole command. Sources take their per-request timeouts from what is left of it,
a probe round and ARM's rule-health wait stop at it, and :func:`run_within` returns control to the
caller when it passes even if the work is stuck in a blocking call — the work goes on in a daemon
thread, whose result is discarded, and the command ends with one line and exit 3.

This module reads the clock; :mod:`akslbctl.analysis` never imports it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import field
from typing import TypeVar

from akslbctl.errors import DeadlineExceeded
from akslbctl.records import record

T = TypeVar("T")

DEFAULT_DEADLINE = 120.0  # seconds: generous; a healthy explain of 5,000 nodes takes a few seconds
MIN_WAIT = 0.05  # the shortest timeout handed to a client library (0 means "no timeout" to some)


@record
class Deadline:
    """``seconds`` from ``started`` (a ``time.monotonic()`` reading) on; None: no deadline."""

    seconds: float | None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, seconds: float | None) -> Deadline:
        """A deadline from now; None, 0 or less, or not finite: none."""
        if seconds is None or not math.isfinite(seconds) or seconds <= 0:
            return cls(None)
        return cls(seconds)

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline; never negative)."""
        if self.seconds is None:
            return float("inf")
        return max(0.0, self.started + self.seconds - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def bound(self, timeout: float, *, reserve: float = 0.0) -> float:
        """``timeout``, shortened to what is left (less ``reserve``), never below :data:`MIN_WAIT`."""
        return max(MIN_WAIT, min(timeout, self.remaining() - reserve))

    def check(self, what: str) -> None:
        """Raise :class:`DeadlineExceeded` when the deadline has passed."""
        if self.expired:
            raise self.exceeded(what)

    def exceeded(self, what: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{what} did not finish within the {self.seconds:g} s deadline",
            hint="a server or node is answering slowly or not at all: retry with --debug to see which, "
            "or allow more time with --deadline",
        )


def run_within(deadline: Deadline | None, fn: Callable[[], T], what: str) -> T:
    """``fn()``, or :class:`DeadlineExceeded` as soon as the deadline passes, whatever ``fn`` is doing.

    ``fn`` runs in a daemon thread, so a call blocked on a server that never answers cannot hold the
    command (or the process's exit) hostage; the caller's thread waits interruptibly, so Ctrl-C ends
    the wait at once. ``fn``'s exception, if any, is re-raised in the caller's thread.
    """
    if deadline is None or deadline.seconds is None:
        return fn()
    deadline.check(what)
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread, which decides
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name=f"akslbctl-{what[:40]}", daemon=True)
    worker.start()
    if not done.wait(min(deadline.remaining(), threading.TIMEOUT_MAX)):
        raise deadline.exceeded(what)
    worker.join(1.0)  # it has set ``done`` as its last act: gone in a moment, no thread left behind
    if "error" in box:
        error = box["error"]
        assert isinstance(error, BaseException)
        raise error.with_traceback(None)
    return box["value"]  # type: ignore[return-value]
