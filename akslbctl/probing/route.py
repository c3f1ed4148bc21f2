"""The source address this machine would probe a node from: what the vantage line names.

Kept apart from the prober (no asyncio, no httpx), so that naming the vantage costs a process whose
round runs elsewhere (a probe worker) nothing but ``socket``.
"""

from __future__ import annotations

import socket


def local_address_for(address: str) -> str | None:
    """The source address this machine would use to reach ``address`` (the vantage shown to users).

    Connecting a UDP socket only asks the routing table; no packet is sent. None when there is no route.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((address, 9))
            return sock.getsockname()[0]
    except OSError:
        return None
