"""A small asyncio HTTP/1.1 server for the lab's Kubernetes API and ARM.

Only what the two API servers need, and nothing that akslbctl could notice as unusual: keep-alive,
``Content-Length`` bodies (chunked request bodies are accepted), optional TLS with a throwaway CA, a
request log and per-route fault hooks. Node data planes are served by ``akslbctl.lab.nodes``, not
here.

The request log records method, path, query, status and route — never header values, so bearer
tokens cannot leak into test output.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fnmatch
import ipaddress
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from akslbctl.records import record

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Requests and responses


@record(frozen=True)
class Request:
    method: str
    target: str  # the raw request target ("/api/v1/nodes?limit=5")
    path: str  # percent-decoded path, without the query
    query_string: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes = b""
    version: str = "HTTP/1.1"

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (names compared exactly, as servers do)."""
        values = self.query.get(name)
        return values[0] if values else default

    def bearer_token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


@record(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def json_response(status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(status, body, (("Content-Type", "application/json; charset=utf-8"), *headers))


def text_response(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, text.encode(), (("Content-Type", "text/plain; charset=utf-8"), *headers))


@record(frozen=True)
class Route:
    """What a request resolved to: a name (for the log and for faults) and the call that answers it.

    ``faultable=False`` keeps wildcard faults off answers that must stay as they are (a 401 for a
    wrong token is a 401 whatever else the scenario breaks). ``write`` marks a write attempt.
    """

    name: str
    call: Callable[[], Response]
    faultable: bool = True
    write: bool = False


class App:
    """The interface the server drives: resolve a request to a :class:`Route`."""

    def resolve(self, request: Request) -> Route:  # pragma: no cover - interface
        raise NotImplementedError


class Router:
    """Path patterns with ``{name}`` segments → handlers, for one or more methods.

    ``case_insensitive`` matches literal segments regardless of case (ARM does; Kubernetes does not).
    """

    def __init__(self, *, case_insensitive: bool = False) -> None:
        self._routes: list[tuple[tuple[str, ...], tuple[str, ...], str, Callable[..., Response]]] = []
        self._ci = case_insensitive

    def add(self, methods: str | Iterable[str], pattern: str, name: str, handler: Callable[..., Response]) -> None:
        ms = (methods,) if isinstance(methods, str) else tuple(methods)
        segs = tuple(s for s in pattern.split("/") if s)
        if self._ci:
            segs = tuple(s if s.startswith("{") else s.lower() for s in segs)
        self._routes.append((tuple(m.upper() for m in ms), segs, name, handler))

    def match(self, method: str, path: str) -> tuple[str, Callable[..., Response], dict[str, str], bool] | None:
        """(name, handler, params, method_ok) of the first pattern that matches the path."""
        parts = [p for p in path.split("/") if p]
        fallback = None
        for methods, segs, name, handler in self._routes:
            if len(segs) != len(parts):
                continue
            params: dict[str, str] = {}
            for seg, part in zip(segs, parts, strict=True):
                if seg.startswith("{") and seg.endswith("}"):
                    params[seg[1:-1]] = part
                elif seg != (part.lower() if self._ci else part):
                    break
            else:
                if method.upper() in methods:
                    return name, handler, params, True
                if fallback is None:
                    fallback = (name, handler, params, False)
        return fallback


# ---------------------------------------------------------------------------------------------
# Faults


@record(frozen=True)
class Fault:
    """A transport-level misbehaviour for the routes whose name matches ``route`` (a glob).

    At most one of ``hang``, ``reset``, ``garbage`` applies; ``delay`` waits before answering;
    ``status`` (+ ``body``/``headers``) replaces the answer; ``drip`` sends the answer one byte every
    ``drip`` seconds. ``times`` limits the fault to the first N matching requests.
    """

    api: str = "*"  # "kube", "arm" or "*" (used by the lab to pick the server)
    route: str = "*"
    status: int | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    hang: bool = False
    reset: bool = False
    garbage: bool = False
    drip: float | None = None
    times: int | None = None
    # The answer made afresh for each request (a list that hands out a new continue token every page):
    # replaces the route's answer, as ``status`` does.
    respond: Callable[[Request], Response] | None = None
    # Send the answer's head (its Content-Length the whole body's) and only this many bytes of its
    # body, then close: a body cut short.
    cut: int | None = None
    # Send the answer's body this many times over as one body (its Content-Length the whole): a huge
    # answer that the lab need not hold in memory.
    repeat: int | None = None

    @property
    def label(self) -> str:
        for kind in ("hang", "reset", "garbage"):
            if getattr(self, kind):
                return kind
        if self.status is not None:
            return f"status-{self.status}"
        if self.drip is not None:
            return "drip"
        if self.respond is not None:
            return "respond"
        if self.cut is not None:
            return "cut"
        return "delay" if self.delay else "none"


class FaultTable:
    """Faults in force, safe to change from any thread while the server runs."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[list[Any]] = []  # [fault, remaining or None]
        for f in faults:
            self.add(f)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append([fault, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, route: Route) -> Fault | None:
        """The first fault for this route, counting one use of it."""
        with self._lock:
            for entry in self._faults:
                fault, remaining = entry
                if not fnmatch.fnmatchcase(route.name, fault.route):
                    continue
                if fault.route == "*" and not route.faultable:
                    continue
                if remaining is not None:
                    if remaining <= 0:
                        continue
                    entry[1] = remaining - 1
                return fault
        return None


# ---------------------------------------------------------------------------------------------
# The request log


@record(frozen=True)
class RequestRecord:
    api: str
    method: str
    path: str
    query: str
    status: int | None  # None: no status line was sent (reset, hang, garbage)
    route: str
    write: bool = False
    fault: str | None = None


# ---------------------------------------------------------------------------------------------
# TLS material


@record(frozen=True)
class TlsFiles:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(self.cert_pem), str(self.key_pem))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx


_TLS_CACHE: tuple[bytes, bytes, bytes] | None = None
_TLS_LOCK = threading.Lock()


def _generate_tls(*, expired: bool = False) -> tuple[bytes, bytes, bytes]:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost (EC P-256: fast to make);
    ``expired``: the server certificate's validity ended yesterday (a hostile server's, for tests)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "akslbctl lab CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(days=30) if expired else start)
        .not_valid_after(now - datetime.timedelta(days=1) if expired else end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca_cert.public_bytes(pem), cert.public_bytes(pem), key_pem


def write_tls_files(directory: str | Path) -> TlsFiles:
    """Write the CA, server certificate and key into ``directory`` (made once per process)."""
    global _TLS_CACHE
    with _TLS_LOCK:
        if _TLS_CACHE is None:
            _TLS_CACHE = _generate_tls()
        ca, cert, key = _TLS_CACHE
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(d / "ca.pem", d / "server.pem", d / "server-key.pem")
    files.ca_pem.write_bytes(ca)
    files.cert_pem.write_bytes(cert)
    files.key_pem.touch(mode=0o600)
    files.key_pem.write_bytes(key)
    return files


# ---------------------------------------------------------------------------------------------
# The server


class _BadRequest(Exception):
    pass


class HttpServer:
    """Serve an :class:`App` on ``host:port`` (port 0 picks a free one) from the running loop."""

    def __init__(
        self,
        app: App,
        *,
        api: str,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsFiles | None = None,
        faults: FaultTable | None = None,
        log: list[RequestRecord] | None = None,
    ) -> None:
        self.app = app
        self.api = api
        self.host = host
        self.port = port
        self.tls = tls
        self.faults = faults if faults is not None else FaultTable()
        self.log: list[RequestRecord] = log if log is not None else []
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def writes(self) -> list[RequestRecord]:
        return [r for r in self.log if r.write]

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(
            self._serve_connection,
            self.host,
            self.port,
            ssl=self.tls.server_context() if self.tls else None,
            reuse_address=True,
            backlog=128,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        assert self._stopping is not None
        self._stopping.set()
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        # Handlers still sleeping in a fault (drip, delay) end now, not when the loop is torn down.
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        await asyncio.sleep(0)  # handlers of connections accepted meanwhile start, see stopping, and end

    # -- one connection ------------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping is not None and self._stopping.is_set():
            writer.transport.abort()  # a connection (or TLS handshake) that completed while stopping
            return
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                # Keep-alive clients otherwise stall ~40 ms on the second request (Nagle + delayed ACK).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    request = await self._read_request(reader)
                except _BadRequest as exc:
                    await self._send(writer, text_response(400, f"400 Bad Request: {exc}"), close=True)
                    return
                if request is None:
                    return
                keep_alive = await self._answer(request, writer)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            return
        except asyncio.CancelledError:
            if self._stopping is not None and self._stopping.is_set():
                return  # stop() ends this handler; asyncio's stream callback mishandles a cancelled task
            raise
        finally:
            self._writers.discard(writer)
            if not writer.is_closing():
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise _BadRequest("truncated request head") from None
            return None
        except asyncio.LimitOverrunError:
            raise _BadRequest("request head too large") from None
        if len(head) > MAX_HEADER_BYTES:
            raise _BadRequest("request head too large")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest("malformed request line") from None
        if not version.startswith("HTTP/1."):
            raise _BadRequest("unsupported HTTP version")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest("malformed header line")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked(reader)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if length < 0 or length > MAX_BODY_BYTES:
                raise _BadRequest("bad Content-Length")
            body = await reader.readexactly(length)
        path, _, query_string = target.partition("?")
        return Request(
            method=method.upper(),
            target=target,
            path=unquote(path),
            query_string=query_string,
            query=parse_qs(query_string, keep_blank_values=True),
            headers=headers,
            body=body,
            version=version,
        )

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        chunks = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                # Trailers, then the final CRLF.
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must not be reused."""
        route = self.app.resolve(request)
        fault = self.faults.take(route)
        client_close = request.headers.get("connection", "").lower() == "close" or (
            request.version == "HTTP/1.0" and request.headers.get("connection", "").lower() != "keep-alive"
        )

        def record(status: int | None) -> None:
            self.log.append(
                RequestRecord(
                    api=self.api,
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    status=status,
                    route=route.name,
                    write=route.write,
                    fault=fault.label if fault else None,
                )
            )

        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.hang:
                record(None)
                assert self._stopping is not None
                await self._stopping.wait()
                return False
            if fault.reset:
                record(None)
                _reset(writer)
                return False
            if fault.garbage:
                record(None)
                writer.write(b"\x00\xff\x13 this is not HTTP \xfe\r\n\r\n")
                await writer.drain()
                return False
        if fault is not None and fault.respond is not None:
            response = fault.respond(request)
        elif fault is not None and fault.status is not None:
            response = Response(
                fault.status,
                fault.body if fault.body is not None else b"",
                fault.headers or (("Content-Type", "application/json; charset=utf-8"),),
            )
            if route.write:
                # A write refused by a fault is still a write attempt: run the route for its bookkeeping.
                route.call()
        else:
            response = route.call()
        record(response.status)
        if fault is not None and fault.drip is not None:
            await self._drip(writer, response, fault.drip)
            return False
        if fault is not None and fault.repeat is not None:
            head = self._encode(Response(response.status, b"", response.headers), close=True)
            head = head.replace(
                b"Content-Length: 0\r\n", f"Content-Length: {len(response.body) * fault.repeat}\r\n".encode()
            )
            writer.write(head)
            for _ in range(fault.repeat):
                writer.write(response.body)
                await writer.drain()
            writer.close()
            return False
        if fault is not None and fault.cut is not None:
            data = self._encode(response, close=True)
            writer.write(data[: len(data) - len(response.body) + min(fault.cut, len(response.body))])
            await writer.drain()
            writer.close()
            return False
        await self._send(writer, response, close=client_close)
        return not client_close

    @staticmethod
    def _encode(response: Response, *, close: bool) -> bytes:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Date: {formatdate(usegmt=True)}"]
        for name, value in response.headers:
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(response.body)}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body

    async def _send(self, writer: asyncio.StreamWriter, response: Response, *, close: bool) -> None:
        writer.write(self._encode(response, close=close))
        await writer.drain()

    async def _drip(self, writer: asyncio.StreamWriter, response: Response, interval: float) -> None:
        data = self._encode(response, close=True)
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(interval)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


__all__ = [
    "App",
    "Fault",
    "FaultTable",
    "HttpServer",
    "Request",
    "RequestRecord",
    "Response",
    "Route",
    "Router",
    "TlsFiles",
    "json_response",
    "text_response",
    "write_tls_files",
]
