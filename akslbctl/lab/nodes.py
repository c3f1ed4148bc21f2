"""Serve lab node behaviours (``akslbctl.lab.behaviours``) on real sockets bound to 127.0.0.0/8.

The prober must meet what it would meet on a node, from the kernel up: a refusal is a real RST, a
dropped SYN is a real full accept queue, a reset is a real SO_LINGER-0 close. Everything runs on one
asyncio loop and scales to ~10,000 listeners: a listener is a bare listening socket plus a reader
callback (no ``asyncio.Server`` per port), and each accepted connection is one small Protocol.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import struct
from collections.abc import Iterable
from http import HTTPStatus

from akslbctl.lab.behaviours import (
    Behaviour,
    Blackhole,
    BrokenTLS,
    Closed,
    CloseOnAccept,
    Drip,
    Garbage,
    Hang,
    Http,
    HugeBody,
    ListenerSpec,
    Reply,
    ResetMidAnswer,
    ResetOnAccept,
    Sequence,
)

REQUEST_HEAD_CAP = 64 * 1024
_LINGER_RST = struct.pack("ii", 1, 0)
_FILL = memoryview(b"x" * 65536)  # HugeBody streams slices of this one buffer
# A TLS record header for a handshake message followed by bytes that are no handshake message.
_NOT_TLS = b"\x16\x03\x03\x00\x06\xde\xad\xbe\xef\x00\x00"
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


@functools.lru_cache(maxsize=1024)
def _render(reply: Reply) -> bytes:
    """One reply as bytes, built once per distinct Reply rather than per connection."""
    names = {name.lower() for name, _ in reply.headers}
    lines = [f"HTTP/1.1 {reply.status} {_phrase(reply.status)}"]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(reply.body)}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body


@functools.lru_cache(maxsize=4)
def server_ssl_context(client_cert: bool | str = False, tls_max: str | None = None) -> ssl.SSLContext:
    """A TLS server context with a throwaway self-signed certificate, made once per process.

    The key and certificate exist only in memory; ``load_cert_chain`` needs files, so they touch a
    private temporary directory for the duration of the call.
    """
    import datetime
    import ipaddress
    import os
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "akslbctl lab node")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="akslbctl-lab-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        ctx.load_cert_chain(cert_path, key_path)
        if client_cert:  # mutual TLS: a client certificate signed by this (self-signed) CA, or no handshake
            ctx.load_verify_locations(cert_path)
            ctx.verify_mode = ssl.CERT_OPTIONAL if client_cert == "optional" else ssl.CERT_REQUIRED
    if tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _tls_of(behaviour: Behaviour) -> ssl.SSLContext | None:
    if isinstance(behaviour, Http) and behaviour.tls:
        return server_ssl_context(behaviour.client_cert, behaviour.tls_max)
    return None


def _check(behaviour: Behaviour) -> None:
    if not isinstance(behaviour, Behaviour) or type(behaviour) is Behaviour:
        raise TypeError(f"not a node behaviour: {behaviour!r}")
    if isinstance(behaviour, Sequence):
        if not behaviour.steps:
            raise ValueError("Sequence needs at least one step")
        for step in behaviour.steps:
            if isinstance(step, (Closed, Blackhole, Sequence)):
                raise ValueError(f"a Sequence step must accept connections, not {type(step).__name__}")
            _check(step)


def _needs_tls(behaviour: Behaviour) -> bool:
    if isinstance(behaviour, Sequence):
        return any(_needs_tls(step) for step in behaviour.steps)
    return isinstance(behaviour, Http) and behaviour.tls


def _socket_kind(behaviour: Behaviour) -> str | None:
    if isinstance(behaviour, Closed):
        return None
    if isinstance(behaviour, Blackhole):
        return "blackhole"
    return "serve"


class _Listener:
    """One simulated (node address, port) and what currently listens there."""

    __slots__ = ("address", "port", "behaviour", "kind", "sock", "fillers", "accepted", "step")

    def __init__(self, address: str, port: int, behaviour: Behaviour) -> None:
        self.address = address
        self.port = port
        self.behaviour = behaviour
        self.kind: str | None = None
        self.sock: socket.socket | None = None
        self.fillers: list[socket.socket] = []
        self.accepted = 0
        self.step = 0

    def next_behaviour(self) -> Behaviour:
        behaviour = self.behaviour
        if isinstance(behaviour, Sequence):
            steps = behaviour.steps
            behaviour = steps[min(self.step, len(steps) - 1)]
            self.step += 1
        return behaviour


class NodeListeners:
    """Every simulated node's listening ports, on the running asyncio loop.

    ``start`` and ``stop`` are coroutines; ``set`` and ``connections`` must be called on the loop's
    thread (from another thread use ``loop.call_soon_threadsafe``).
    """

    def __init__(self, *, backlog: int = 512) -> None:
        self._backlog = backlog
        self._listeners: dict[tuple[str, int], _Listener] = {}
        self._connections: set[_NodeConnection] = set()
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> NodeListeners:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self, specs: Iterable[ListenerSpec]) -> None:
        """Open a listener per spec (a later spec for the same address and port wins).

        Every behaviour is checked before the first socket opens, so a bad spec opens nothing.
        """
        specs = list(specs)
        for spec in specs:
            _check(spec.behaviour)
        from akslbctl.probing.runner import raise_nofile_limit

        raise_nofile_limit(len(self._listeners) + len(specs) * 2 + 1024)
        for spec in specs:
            self.set(spec.address, spec.port, spec.behaviour)
        await asyncio.sleep(0)

    def set(self, address: str, port: int, behaviour: Behaviour) -> None:
        """Serve ``behaviour`` on (address, port) from the next accepted connection on.

        Opens or closes the listening socket when the kind changes (Closed: none; Blackhole: a full
        accept queue; anything else: a served socket). Connections already open keep their behaviour;
        a Sequence starts again at its first step.
        """
        _check(behaviour)
        if _needs_tls(behaviour):
            # make the certificates now, not inside the first probe's handshake
            for step in behaviour.steps if isinstance(behaviour, Sequence) else (behaviour,):
                _tls_of(step)
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        key = (address, port)
        listener = self._listeners.get(key)
        if listener is None:
            listener = self._listeners[key] = _Listener(address, port, behaviour)
        listener.behaviour = behaviour
        listener.step = 0
        kind = _socket_kind(behaviour)
        if kind != listener.kind or (kind is not None and listener.sock is None):
            self._close_socket(listener)
            self._open_socket(listener, kind)

    def connections(self, address: str, port: int) -> int:
        """Connections accepted so far on (address, port) (a Blackhole accepts none)."""
        listener = self._listeners.get((address, port))
        return listener.accepted if listener else 0

    async def stop(self) -> None:
        """Close every listener and abort every open connection."""
        for listener in self._listeners.values():
            self._close_socket(listener)
        self._listeners.clear()
        for conn in list(self._connections):
            conn.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let aborted transports run connection_lost

    # sockets

    def _new_socket(self, listener: _Listener) -> socket.socket:
        family = socket.AF_INET6 if ":" in listener.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((listener.address, listener.port))
        except OSError as exc:
            sock.close()
            where = f"{listener.address}:{listener.port}"
            raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from exc
        return sock

    def _open_socket(self, listener: _Listener, kind: str | None) -> None:
        listener.kind = kind
        if kind is None:
            return
        sock = self._new_socket(listener)
        if kind == "blackhole":
            # A backlog of 0 holds one completed connection; the lab makes that connection itself
            # and never accepts it, so the kernel drops every further SYN: the prober's connect times
            # out exactly as against kube-proxy's DROP.
            sock.listen(0)
            listener.sock = sock
            filler = socket.socket(sock.family, socket.SOCK_STREAM)
            filler.settimeout(1.0)
            try:
                filler.connect((listener.address, listener.port))
            except OSError:
                filler.close()
                raise
            filler.setblocking(False)
            listener.fillers.append(filler)
            return
        sock.listen(self._backlog)
        sock.setblocking(False)
        listener.sock = sock
        assert self._loop is not None
        self._loop.add_reader(sock.fileno(), self._accept, listener)

    def _close_socket(self, listener: _Listener) -> None:
        sock = listener.sock
        if sock is not None:
            if listener.kind == "serve" and self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
            listener.sock = None
        for filler in listener.fillers:
            filler.close()
        listener.fillers.clear()
        listener.kind = None

    def _accept(self, listener: _Listener) -> None:
        sock = listener.sock
        if sock is None:
            return
        for _ in range(self._backlog):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # the client gave up before we accepted, or out of descriptors
                return
            listener.accepted += 1
            self._serve(conn, listener.next_behaviour())

    def _serve(self, conn: socket.socket, behaviour: Behaviour) -> None:
        if isinstance(behaviour, (ResetOnAccept, CloseOnAccept)):
            if isinstance(behaviour, ResetOnAccept):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
            conn.close()
            return
        conn.setblocking(False)
        protocol = _NodeConnection(self, behaviour)
        tls = _tls_of(behaviour)
        assert self._loop is not None
        task = self._loop.create_task(self._adopt(conn, protocol, tls))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _adopt(self, conn: socket.socket, protocol: _NodeConnection, tls: ssl.SSLContext | None) -> None:
        assert self._loop is not None
        try:
            await self._loop.connect_accepted_socket(lambda: protocol, conn, ssl=tls)
        except (OSError, EOFError, asyncio.TimeoutError):  # a TLS handshake the client broke off
            conn.close()


class _NodeConnection(asyncio.Protocol):
    """One accepted connection playing one behaviour."""

    def __init__(self, lab: NodeListeners, behaviour: Behaviour) -> None:
        self._lab = lab
        self._behaviour = behaviour
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None
        self._left = 0  # HugeBody bytes still to send, or Drip bytes already sent
        self._paused = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._lab._connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return  # Hang, Drip, HugeBody: whatever else the client sends is read and ignored
        behaviour = self._behaviour
        if isinstance(behaviour, (Garbage, BrokenTLS)):
            self._answered = True
            self._transport.write(behaviour.data if isinstance(behaviour, Garbage) else _NOT_TLS)
            self._transport.close()
            return
        self._buf += data
        if not self._looks_like_http():  # a TLS ClientHello, noise: no request head will follow
            if isinstance(behaviour, Http):
                self._answer_bytes(_BAD_REQUEST)
            else:
                self._answer(b"")
            return
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            end = self._buf.find(b"\n\n")
        if end >= 0:
            self._answer(bytes(self._buf[:end]))
        elif len(self._buf) > REQUEST_HEAD_CAP:
            if isinstance(behaviour, Http):
                self._answer_bytes(_HEAD_TOO_LARGE)
            else:
                self._answer(b"")

    def eof_received(self) -> bool:
        return False  # the client is done: close (a TCP probe, or a prober that gave up)

    def connection_lost(self, exc: Exception | None) -> None:
        self._answered = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._lab._connections.discard(self)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if isinstance(self._behaviour, HugeBody):
            self._pump()

    # behaviours

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _looks_like_http(self) -> bool:
        """False as soon as the request cannot be ``METHOD SP …`` (a TLS ClientHello, binary noise)."""
        for i, byte in enumerate(self._buf):
            if byte == 0x20:
                return i > 0
            if byte not in _TOKEN:
                return False
        return True

    def _answer_bytes(self, data: bytes) -> None:
        self._answered = True
        self._transport.write(data)
        self._transport.close()

    def _answer(self, head: bytes) -> None:
        self._answered = True
        self._buf = bytearray()
        behaviour = self._behaviour
        transport = self._transport
        if isinstance(behaviour, Http):
            request_line = head.split(b"\n", 1)[0].rstrip(b"\r").split(b" ")
            if len(request_line) != 3 or not request_line[2].startswith(b"HTTP/1."):
                self._answer_bytes(_BAD_REQUEST)
                return
            path = request_line[1].split(b"?", 1)[0].decode("latin-1")
            self._answer_bytes(_render(behaviour.routes.get(path, behaviour.default)))
        elif isinstance(behaviour, Hang):
            pass
        elif isinstance(behaviour, Drip):
            self._drip()
        elif isinstance(behaviour, ResetMidAnswer):
            transport.write(behaviour.partial)
            transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
            transport.abort()
        elif isinstance(behaviour, HugeBody):
            head_out = (
                f"HTTP/1.1 {behaviour.status} {_phrase(behaviour.status)}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {behaviour.size}\r\n"
                "Connection: close\r\n\r\n"
            )
            transport.write(head_out.encode("latin-1"))
            self._left = behaviour.size
            self._pump()
        else:  # pragma: no cover - every behaviour is handled above or in _serve
            transport.abort()

    def _drip(self) -> None:
        behaviour = self._behaviour
        assert isinstance(behaviour, Drip)
        self._timer = None
        if self._transport is None or self._transport.is_closing():
            return
        sent = self._left
        if sent >= len(behaviour.data):
            self._transport.close()
            return
        self._transport.write(behaviour.data[sent : sent + 1])
        self._left = sent + 1
        self._timer = asyncio.get_running_loop().call_later(behaviour.interval, self._drip)

    def _pump(self) -> None:
        transport = self._transport
        while self._left > 0 and not self._paused and not transport.is_closing():
            n = min(self._left, len(_FILL))
            transport.write(_FILL[:n])
            self._left -= n
        if self._left <= 0 and not transport.is_closing():
            transport.close()
