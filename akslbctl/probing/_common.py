"""Pieces the TCP and HTTP probers share: the raw connect, deadlines, error classes, timestamps.

Kept free of httpx so that a TCP-only round (and ``import akslbctl.probing.tcp``) stays cheap.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from datetime import datetime, timezone

from akslbctl.model.probe import REFUSED, RESET, TIMEOUT, UNREACHABLE

# Errors that mean "no path to the node": the LB would never get an answer either.
UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}
)
RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds (``2025-01-31T12:00:00.123Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def classify_os_error(exc: BaseException) -> tuple[str, str] | None:
    """(outcome, short text) for a socket-level error, or None when it is not one we can name."""
    if isinstance(exc, socket.gaierror):
        return UNREACHABLE, f"cannot resolve address: {exc.strerror or exc}"
    if not isinstance(exc, OSError):
        return None
    code = exc.errno
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return REFUSED, "connection refused"
    if code in RESET_ERRNOS or isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
        return RESET, "connection reset"
    if isinstance(exc, TimeoutError) or code == errno.ETIMEDOUT:
        return TIMEOUT, "timed out"
    if code in UNREACHABLE_ERRNOS:
        return UNREACHABLE, os.strerror(code).lower()
    return None


def _numeric_family(host: str) -> int | None:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family
    return None


async def connect_socket(loop: asyncio.AbstractEventLoop, host: str, port: int, timeout: float | None) -> socket.socket:
    """A connected non-blocking TCP socket to (host, port).

    Raises the kernel's own ``OSError`` (ECONNREFUSED, ENETUNREACH, …) or ``TimeoutError``. Done by hand
    (``connect_ex`` + a writer callback + one ``call_later``) rather than ``loop.sock_connect`` under
    ``asyncio.timeout``: on loopback that is ~30% less CPU per probe, which is what bounds a round of
    thousands of probes.
    """
    family = _numeric_family(host)
    address: tuple = (host, port)
    if family is None:  # a name, or an IPv6 address with a zone: let the resolver decide
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(address)
        if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
            err = await _wait_connected(loop, sock, timeout)
        if err:
            raise OSError(err, os.strerror(err))
        return sock
    except BaseException:
        sock.close()
        raise


_TIMED_OUT = -1


async def _wait_connected(loop: asyncio.AbstractEventLoop, sock: socket.socket, timeout: float | None) -> int:
    fut = loop.create_future()
    fd = sock.fileno()

    def writable() -> None:
        if not fut.done():
            fut.set_result(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

    def expired() -> None:
        if not fut.done():
            fut.set_result(_TIMED_OUT)

    loop.add_writer(fd, writable)
    timer = loop.call_later(timeout, expired) if timeout is not None else None
    try:
        err = await fut
    finally:
        loop.remove_writer(fd)
        if timer is not None:
            timer.cancel()
    if err == _TIMED_OUT:
        raise TimeoutError("no TCP handshake before the deadline")
    return err


if sys.version_info >= (3, 11):
    deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10 has no asyncio.timeout

    class deadline:  # named like asyncio.timeout, which it stands in for
        """Cancel the enclosed block after ``delay`` seconds and raise ``TimeoutError`` instead."""

        def __init__(self, delay: float | None) -> None:
            self._delay = delay
            self._handle: asyncio.TimerHandle | None = None
            self._fired = False

        async def __aenter__(self) -> deadline:
            if self._delay is not None:
                task = asyncio.current_task()
                loop = asyncio.get_running_loop()

                def fire() -> None:
                    self._fired = True
                    task.cancel()

                self._handle = loop.call_later(max(self._delay, 0), fire)
            return self

        async def __aexit__(self, exc_type, exc, tb) -> bool:
            if self._handle is not None:
                self._handle.cancel()
            if self._fired and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
            return False
