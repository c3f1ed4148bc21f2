"""One round of probes over many nodes: concurrency, de-duplication, never an exception per target.

httpx is imported only when a round has HTTP(S) targets, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from akslbctl.logs import quiet_root
from akslbctl.model.probe import BAD_RESPONSE, ProbeResult, ProbeTarget, target_problem
from akslbctl.probing._common import now_rfc3339

quiet_root()  # asyncio reports a lost task's exception through the root logger

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY: int | None = None  # every target at once, as far as the descriptor limit allows
DEFAULT_BODY_CAP = 4096
_SPARE_FDS = 256  # descriptors kept for everything else the process has open
MAX_CONCURRENCY = 65_536  # sockets in flight at most, whatever the hard limit says


def raise_nofile_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit when it is below ``wanted``; return the soft limit.

    Linux distributions often start shells with a soft limit of 1,024, which a round of a few
    thousand concurrent probes (or a lab with thousands of listeners) would exhaust.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else hard  # all the hard limit allows
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else soft


async def run_probes(
    targets: Iterable[ProbeTarget],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int | None = DEFAULT_CONCURRENCY,
    body_cap: int = DEFAULT_BODY_CAP,
) -> dict[ProbeTarget, ProbeResult]:
    """Probe every distinct target once, at most ``concurrency`` at a time; results in target order.

    ``concurrency`` None (the default): as many at once as the file-descriptor limit allows — the soft
    ``RLIMIT_NOFILE`` is raised to the hard limit first — so that when every node hangs (the big
    outage) a round costs about one ``timeout``, whatever the node count; a fixed bound would make it
    cost ``nodes / bound × timeout`` and run into the command's deadline with no diagnosis.

    Concurrency is bounded by a fixed set of ``concurrency`` workers that take the next target as they
    finish one (a task per target behind a semaphore cost ~25% more CPU on a round of 5,000 Tcp
    probes: asyncio wakes semaphore waiters by scanning them). The HTTP transport never pools, so no
    request waits in a pool queue (that made httpx several times slower). Each probe's ``timeout``
    runs from when it starts, not from when the round started.

    A target that cannot be probed as the LB would (``target_problem``: not an IP address, the
    unspecified or a link-local address, a port outside 1-65535, a path with control characters) gets
    no result: nothing is sent to it, and callers report it as not probed, saying why.
    """
    unique = [t for t in dict.fromkeys(targets) if target_problem(t) is None]
    if not unique:
        return {}
    wanted = len(unique) if concurrency is None else concurrency
    concurrency = max(1, min(wanted, len(unique), MAX_CONCURRENCY))
    limit = raise_nofile_limit(concurrency + _SPARE_FDS)
    concurrency = max(1, min(concurrency, limit - _SPARE_FDS))

    from akslbctl.probing.tcp import probe_tcp

    transport = None
    probe_http = None
    if any(t.protocol.lower() in ("http", "https") for t in unique):
        from akslbctl.probing.http import NodeTransport, probe_http

        transport = NodeTransport(body_cap=body_cap)

    async def one(target: ProbeTarget) -> ProbeResult:
        try:
            protocol = target.protocol.lower()
            if protocol == "tcp":
                return await probe_tcp(target, timeout)
            if transport is not None and protocol in ("http", "https"):
                return await probe_http(transport, target, timeout, body_cap)
            return ProbeResult(
                target, BAD_RESPONSE, error=f"cannot probe protocol {target.protocol!r}", at=now_rfc3339()
            )
        except Exception as exc:  # a bug must cost one result, not the round
            text = f"internal error: {type(exc).__name__}: {exc}"
            return ProbeResult(target, BAD_RESPONSE, error=text, at=now_rfc3339())

    results: list[ProbeResult | None] = [None] * len(unique)
    pending = iter(range(len(unique)))

    async def worker() -> None:
        for i in pending:  # one shared iterator: each index goes to exactly one worker
            results[i] = await one(unique[i])

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        if transport is not None:
            await transport.aclose()
    return dict(zip(unique, results, strict=True))


def probe_all(
    targets: Iterable[ProbeTarget],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int | None = DEFAULT_CONCURRENCY,
    body_cap: int = DEFAULT_BODY_CAP,
    round_timeout: float | None = None,
) -> dict[ProbeTarget, ProbeResult]:
    """``run_probes`` for synchronous callers (runs its own event loop).

    ``round_timeout`` bounds the round as a whole (the command's deadline): when it passes, every probe
    still running is cancelled and ``TimeoutError`` is raised — a round is complete or it is not had.
    """
    coro = run_probes(targets, timeout=timeout, concurrency=concurrency, body_cap=body_cap)
    if round_timeout is not None:
        coro = asyncio.wait_for(coro, max(round_timeout, 0.0))
    return asyncio.run(coro)
