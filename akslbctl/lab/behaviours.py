"""What a simulated node answers on one (address, port): the lab's vocabulary of node behaviour.

A behaviour is plain data; ``akslbctl.lab.nodes`` serves it on a real socket bound to a 127.0.0.0/8
address, so the prober meets exactly what it would meet on a node: a completed handshake, a refusal,
silence, an HTTP answer, or something broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from akslbctl.records import record


@record(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


@record(frozen=True)
class Behaviour:
    """Base class; see the subclasses."""


@record(frozen=True)
class Closed(Behaviour):
    """Nothing listens: the kernel refuses the connection (kube-proxy REJECT looks the same)."""


@record(frozen=True)
class Blackhole(Behaviour):
    """SYNs are dropped (a listener whose accept queue is full): connects time out (kube-proxy DROP)."""


@record(frozen=True)
class Http(Behaviour):
    """An HTTP/1.1 server: ``routes`` by path, ``default`` for every other path.

    kube-proxy's per-service health server answers every path alike: use ``default`` only.
    ``tls`` serves HTTPS with a throwaway self-signed certificate; ``client_cert`` makes that server
    demand a client certificate and refuse a handshake without one (mutual TLS), or with ``"optional"``
    ask for one and answer anyway (nginx ``ssl_verify_client`` answers 400 then); ``tls_max`` caps
    the TLS version (``"1.2"``: the refusal comes inside the handshake; with 1.3, after it).
    """

    default: Reply = Reply(404, b"default backend - 404", (("Content-Type", "text/plain"),))
    routes: Mapping[str, Reply] = field(default_factory=dict)
    tls: bool = False
    client_cert: bool | str = False  # True: required (no handshake without one); "optional": asked for
    tls_max: str | None = None


@record(frozen=True)
class Hang(Behaviour):
    """Accepts and reads the request, then never answers."""


@record(frozen=True)
class Drip(Behaviour):
    """Answers one byte every ``interval`` seconds (a trickling status line)."""

    interval: float = 1.0
    data: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@record(frozen=True)
class ResetMidAnswer(Behaviour):
    """Sends the first bytes of an answer, then resets the connection (RST)."""

    partial: bytes = b"HTTP/1.1 2"


@record(frozen=True)
class ResetOnAccept(Behaviour):
    """Accepts, then resets at once."""


@record(frozen=True)
class CloseOnAccept(Behaviour):
    """Accepts, then closes at once (an orderly FIN; the request that follows meets a reset)."""


@record(frozen=True)
class Garbage(Behaviour):
    """Answers bytes that are not HTTP (HTTP/0.9 style, binary noise) and closes."""

    data: bytes = b"\x00\xffnot http at all\r\n"


@record(frozen=True)
class HugeBody(Behaviour):
    """Answers 200 with a body of ``size`` bytes (the prober must read only a small cap of it)."""

    size: int = 10 * 1024 * 1024
    status: int = 200


@record(frozen=True)
class BrokenTLS(Behaviour):
    """Accepts and answers the TLS ClientHello with garbage."""


@record(frozen=True)
class Sequence(Behaviour):
    """A different behaviour per accepted connection, in order; the last one repeats.

    Drives flapping nodes deterministically: each probe attempt takes the next step. Steps must
    accept connections (not Closed or Blackhole: those have no connection to count).
    """

    steps: tuple[Behaviour, ...] = ()


@record(frozen=True)
class ListenerSpec:
    address: str  # a 127.0.0.0/8 address, one per simulated node
    port: int
    behaviour: Behaviour
