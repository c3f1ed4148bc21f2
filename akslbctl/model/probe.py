"""What to probe and what came back. The prober knows nothing about Services."""

from __future__ import annotations

import functools

from akslbctl.records import record

# Outcomes of one probe attempt. The first is success; the others name why it failed and double as
# the verdict reason codes of contract §5.
OK = "ok"
HTTP_STATUS = "http-status"
REFUSED = "refused"
TIMEOUT = "timeout"
RESET = "reset"
TLS_ERROR = "tls-error"
UNREACHABLE = "unreachable"
BAD_RESPONSE = "bad-response"  # not HTTP at all (garbage, HTTP/0.9, truncated status line)

FAILED_OUTCOMES = (HTTP_STATUS, REFUSED, TIMEOUT, RESET, TLS_ERROR, UNREACHABLE, BAD_RESPONSE)


@record(frozen=True)
class ProbeTarget:
    address: str
    port: int
    protocol: str  # Tcp | Http | Https (ARM spelling)
    path: str | None = None

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        if self.protocol == "Tcp":
            return f"tcp://{host}:{self.port}"
        return f"{self.protocol.lower()}://{host}:{self.port}{self.path or '/'}"


@record(frozen=True)
class ProbeResult:
    target: ProbeTarget
    outcome: str
    status: int | None = None
    latency_ms: float | None = None
    local_endpoints: int | None = None  # kube-proxy / Cilium health body
    service_proxy_healthy: bool | None = None
    node_eligible: bool | None = None
    body_excerpt: str | None = None
    error: str | None = None  # short text for failures ("connection refused", …)
    at: str | None = None  # RFC 3339 time the probe finished (recorded results)
    server: str | None = None  # the answer's Server header, sanitised and short (non-200 HTTP answers)

    @property
    def up(self) -> bool:
        return self.outcome == OK


# -- what may be probed ------------------------------------------------------------------------

_MAX_PATH = 2048


@functools.lru_cache(maxsize=1 << 16)  # every rule asks again for the same few thousand node addresses
def address_problem(address: str) -> str | None:
    """Why ``address`` is no node address to probe, or None.

    The LB probes a pool member's private IP. A node address that is not an IP literal (a host name
    would be resolved here, by this machine's DNS), the unspecified address (``0.0.0.0`` and ``::``
    reach this very machine), a link-local address (``169.254.0.0/16``, ``fe80::/10``: this machine's
    own link — ``169.254.169.254`` is its metadata service), a multicast or broadcast address, or an
    IPv4-mapped form of one of those is flagged and never probed. Loopback addresses are probed: they
    are what local test clusters and the lab use.
    """
    text = address or ""
    if not text:
        return "no address"
    octets = _dotted_quad(text)  # the common case, cheaply
    if octets is not None and 0 < octets[0] < 224 and octets[:2] != (169, 254):
        return None  # not 0/8, not 169.254/16, not multicast, reserved or broadcast
    import ipaddress

    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        shown = text if len(text) <= 64 else text[:61] + "..."
        return f"{shown!r} is not an IP address (akslbctl probes addresses as the LB does; it does not resolve names)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        mapped = address_problem(str(ip.ipv4_mapped))
        return f"{text} maps to an IPv4 address that is not a node address: {mapped}" if mapped else None
    if ip.is_unspecified:
        return f"{text} is the unspecified address: a probe would reach this machine, not a node"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("0.0.0.0/8"):
        return f"{text} is in 0.0.0.0/8 ('this network'): no node's address"
    if ip.is_link_local:
        return f"{text} is link-local: it names this machine's own link, not a node's private IP"
    if ip.is_multicast:
        return f"{text} is a multicast address, not a node"
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
        return f"{text} is the broadcast address, not a node"
    return None


def _dotted_quad(text: str) -> tuple[int, ...] | None:
    """The four octets of a strict dotted-quad IPv4 address (ASCII digits, no leading zero, each at
    most 255: what ``ipaddress`` accepts), or None for anything else, which ``ipaddress`` then judges."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for part in parts:
        if not (0 < len(part) <= 3 and part.isascii() and part.isdigit()) or (len(part) > 1 and part[0] == "0"):
            return None
        value = int(part)
        if value > 255:
            return None
        octets.append(value)
    return tuple(octets)


def target_problem(target: ProbeTarget) -> str | None:
    """Why ``target`` cannot be probed as the LB would probe it, or None: the node address
    (:func:`address_problem`), a port outside 1–65535, or a request path that is not one line of
    printable characters without spaces (a CR LF in ARM's ``requestPath`` would inject header lines).
    One plain sentence."""
    problem = address_problem(target.address)
    if problem is not None:
        return f"node address {problem}"
    port = target.port
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"probe port {port!r} is not a TCP port (1-65535)"
    if (target.protocol or "").lower() in ("http", "https"):
        path = target.path or "/"
        if len(path) > _MAX_PATH:
            return f"probe path is {len(path)} characters long (more than {_MAX_PATH})"
        bad = next((ch for ch in path if ch.isspace() or not ch.isprintable()), None)
        if bad is not None:
            return f"probe path holds {bad!r}: a request path is one line without spaces or control characters"
    return None
