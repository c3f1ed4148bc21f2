"""TCP probes as the Azure LB sends them: up when the three-way handshake completes."""

from __future__ import annotations

import asyncio
import time

from akslbctl.model.probe import OK, TIMEOUT, UNREACHABLE, ProbeResult, ProbeTarget
from akslbctl.probing._common import RESET_ERRNOS, classify_os_error, connect_socket, now_rfc3339


async def probe_tcp(target: ProbeTarget, timeout: float) -> ProbeResult:
    """Connect to target.address:target.port and close at once (an orderly FIN, as the LB does).

    Outcomes: ``ok``; ``refused`` (RST / ICMP port-unreachable: kube-proxy REJECT, nothing listening);
    ``timeout`` (SYNs dropped: kube-proxy DROP, an NSG, a full accept queue);
    ``unreachable`` (no route, address not available). Never raises for a network failure.

    The verdict is the handshake's alone, whatever the node does after it: a node that accepts and
    resets at once has completed the handshake, so it is ``ok`` — every time. The kernel reports a
    reset that arrived before this side looked as ECONNRESET (or EPIPE / ECONNABORTED) on the connect;
    a RST in answer to the SYN is ECONNREFUSED (``refused``), so a reset error on connect means the
    handshake had completed. Looking before or after the RST must not flip the result between rounds.
    """
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        sock = await connect_socket(loop, target.address, target.port, timeout)
    except OSError as exc:
        latency = (time.perf_counter() - started) * 1000.0
        if exc.errno in RESET_ERRNOS:  # established, then reset by the node: the handshake completed
            return ProbeResult(target, OK, latency_ms=round(latency, 3), at=now_rfc3339())
        outcome, text = classify_os_error(exc) or (UNREACHABLE, f"cannot connect: {exc}")
        if outcome == TIMEOUT:
            text = f"no TCP handshake within {timeout:g} s"
        return ProbeResult(target, outcome, latency_ms=round(latency, 3), error=text, at=now_rfc3339())
    latency = (time.perf_counter() - started) * 1000.0
    sock.close()
    return ProbeResult(target, OK, latency_ms=round(latency, 3), at=now_rfc3339())
