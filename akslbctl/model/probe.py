"""What to probe and what came back. The prober knows nothing about Services."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
