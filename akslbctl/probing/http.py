"""HTTP and HTTPS probes as the Azure LB sends them, built on httpx.

``probe_http`` sends one ``httpx.Request`` through any ``httpx.AsyncBaseTransport`` (respx serves
httpx's own transport in unit tests). ``NodeTransport`` is the one the runner uses: httpx's default
transport spends ~1 ms of CPU per request on pooling and h11, which makes a round over thousands of
nodes take seconds; a probe needs none of it — one connection per request, then close. The probe
also skips ``AsyncClient.send`` (auth, cookies, redirects, event hooks: nothing a probe uses), which
was another ~0.15 ms a request: 5,000 HTTP probes went from ~2.2 s to ~1.4 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator

import httpx

from akslbctl.model.probe import (
    BAD_RESPONSE,
    HTTP_STATUS,
    OK,
    RESET,
    TIMEOUT,
    TLS_ERROR,
    UNREACHABLE,
    ProbeResult,
    ProbeTarget,
)
from akslbctl.probing._common import RESET_ERRNOS, classify_os_error, connect_socket, deadline, now_rfc3339

DEFAULT_BODY_CAP = 4096
HEADER_CAP = 64 * 1024
EXCERPT_CHARS = 200

_STATUS_LINE = re.compile(rb"HTTP/1\.(\d) (\d{3})(?: ([^\r\n]*))?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_PREFIX = b"HTTP/1."
_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\]")
_NO_BODY_STATUSES = frozenset({204, 304})


def probe_ssl_context() -> ssl.SSLContext:
    """The client TLS context for HTTPS probes: no verification, no client certificate.

    The LB's prober does not validate certificates the way a browser does (contract §3), so a
    self-signed or expired certificate must not turn a healthy node into a failure. Build it once per
    run: creating a context costs far more than a handshake on loopback.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(AttributeError, TypeError):  # a Python without the message hook
        ctx._msg_callback = _note_certificate_request  # type: ignore[attr-defined]
    return ctx


_CERTIFICATE_REQUEST = 13  # TLS HandshakeType certificate_request (RFC 8446 §4, RFC 5246 §7.4)
_HANDSHAKE = 22  # TLS ContentType handshake
CLIENT_CERT_TEXT = "the server demands a client certificate, and the LB's prober presents none"
CLIENT_CERT_EXTENSION = "akslbctl.client_cert_requested"  # response extension: the server asked for one


def _note_certificate_request(conn, direction, version, content_type, msg_type, data) -> None:
    """OpenSSL's message hook: mark a connection whose server sent a CertificateRequest.

    With TLS 1.3 the client's side of the handshake completes before the server judges the (empty)
    certificate it got: the refusal then arrives as an alert — or, when the server closes with the
    request unread, as a plain reset — after the request went out. Which of the two the prober sees
    depends on timing; the mark makes either a ``tls-error`` that says why, every time.
    """
    if direction == "read" and content_type == _HANDSHAKE and msg_type == _CERTIFICATE_REQUEST:
        with contextlib.suppress(AttributeError, TypeError):
            conn.akslbctl_client_cert_requested = True


def client_cert_requested(ssl_object: object) -> bool:
    """Whether the server of this TLS connection asked for a client certificate."""
    return bool(getattr(ssl_object, "akslbctl_client_cert_requested", False))


# --------------------------------------------------------------------------------------------------
# The transport


class _Buffered:
    """A byte buffer fed by one connection, with just enough of a reader API to parse HTTP/1.x.

    Reading pauses while ``limit`` bytes are buffered, so a server that sends megabytes costs at most
    ``limit`` plus one socket read of memory. :class:`_Connection` (TLS, through an asyncio transport)
    and :class:`_PlainConnection` (plain HTTP, on the socket itself) feed it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self._loop = loop
        self._limit = limit
        self.buf = bytearray()
        self.eof = False
        self.exc: BaseException | None = None
        self._paused = False
        self._waiter: asyncio.Future | None = None

    def _received(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) >= self._limit and not self._paused:
            self._paused = True
            self._pause()
        self._wake()

    def _ended(self, exc: BaseException | None) -> None:
        self.eof = True
        if exc is not None and self.exc is None:
            self.exc = exc
        self._wake()

    def _pause(self) -> None:
        raise NotImplementedError

    def _resume(self) -> None:
        raise NotImplementedError

    def _wake(self, value: bool = True) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(value)

    async def wait(self, timeout: float | None) -> None:
        """Wait for more data, EOF or an error; raise ``httpx.ReadTimeout`` after ``timeout`` s."""
        if self._paused:
            self._paused = False
            self._resume()
        self._waiter = waiter = self._loop.create_future()
        timer = self._loop.call_later(timeout, self._wake, False) if timeout is not None else None
        try:
            arrived = await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        if not arrived:
            raise httpx.ReadTimeout(f"no data within {timeout:g} s")

    def read_error(self, what: str) -> httpx.HTTPError:
        """The error for a connection that ended while ``what`` was expected."""
        if self.exc is not None:
            named = classify_os_error(self.exc)
            err: httpx.HTTPError = httpx.ReadError(f"{named[1] if named else self.exc} while reading {what}")
            err.__cause__ = self.exc
            return err
        return httpx.RemoteProtocolError(f"connection closed while reading {what}")

    def take(self, n: int) -> bytes:
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def ssl_object(self) -> object | None:
        return None

    def close(self) -> None:
        raise NotImplementedError


class _Connection(_Buffered, asyncio.Protocol):
    """The buffer of a TLS connection: an asyncio transport (``loop.create_connection``) feeds it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        super().__init__(loop, limit)
        self.transport: asyncio.Transport | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received(data)

    def eof_received(self) -> bool:
        self._ended(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    # the connection

    def _pause(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        self.transport.write(data)  # a failure arrives as connection_lost(exc)

    def ssl_object(self) -> object | None:
        return self.transport.get_extra_info("ssl_object") if self.transport is not None else None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _PlainConnection(_Buffered):
    """The buffer of a plain TCP connection, read and written on the socket itself.

    What an asyncio transport would do for a probe — a reader callback that appends what ``recv``
    gives, EOF and errors noted for the reader, writes that never block for a request this small —
    without a transport, its futures and its scheduled callbacks per connection: most of the CPU a
    probe costs on a round of thousands. Errors behave as a transport reports them: a failed write
    or read ends the connection with the ``OSError``, which the reader then names.
    """

    _CHUNK = 256 * 1024  # what an asyncio transport reads at a time

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, sock: socket.socket) -> None:
        super().__init__(loop, limit)
        self._sock = sock
        self._fd = sock.fileno()
        self._reading = False
        self._unsent = b""
        self._closed = False
        loop.add_reader(self._fd, self._readable)  # NotImplementedError on a loop without readers
        self._reading = True

    def _readable(self) -> None:
        try:
            data = self._sock.recv(self._CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(exc)
            return
        if not data:
            self._stop()
            self._ended(None)
            return
        self._received(data)

    def _stop(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def _pause(self) -> None:
        self._stop()

    def _resume(self) -> None:
        if not self._reading and not self.eof and not self._closed:
            self._loop.add_reader(self._fd, self._readable)
            self._reading = True

    def write(self, data: bytes) -> None:
        if self._closed or self.eof:
            return
        if self._unsent:
            self._unsent += data
            return
        sent = self._send(data)
        if sent is not None and sent < len(data):
            self._unsent = data[sent:]
            self._loop.add_writer(self._fd, self._writable)

    def _send(self, data: bytes) -> int | None:
        """Bytes the socket took (0 when it would block), or None: it failed and the connection ended."""
        try:
            return self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            self._fail(exc)
            return None

    def _writable(self) -> None:
        sent = self._send(self._unsent)
        if sent is None:
            return
        self._unsent = self._unsent[sent:]
        if not self._unsent:
            self._loop.remove_writer(self._fd)

    def _fail(self, exc: OSError) -> None:
        """A read or write failed: the connection has ended with ``exc``, as a transport reports it."""
        self._drop_unsent()
        self._stop()
        self._ended(exc)

    def _drop_unsent(self) -> None:
        if self._unsent:
            self._unsent = b""
            self._loop.remove_writer(self._fd)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop()
        self._drop_unsent()
        self._sock.close()


def _head_preview(buf: bytes | bytearray) -> str:
    return repr(bytes(buf[:40]))


def _parse_head(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status, reason and headers of one response head (status line strict, header lines lenient).

    The LB judges by the status code alone, so a quirky header line must not turn a 200 into a
    failure; a status line that is not ``HTTP/1.x NNN`` is not an HTTP answer at all.
    """
    lines = head.split(b"\n")
    status_line = lines[0].rstrip(b"\r")
    m = _STATUS_LINE.fullmatch(status_line)
    if m is None:
        raise httpx.RemoteProtocolError(f"answer is not HTTP/1.x: status line {_head_preview(status_line)}")
    headers: list[tuple[bytes, bytes]] = []
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):  # obsolete line folding: continue the previous value
            if headers:
                name, value = headers[-1]
                headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        name = name.strip()
        if sep and name:
            headers.append((name, value.strip()))
    return int(m.group(2)), m.group(3) or b"", headers


async def _read_head(conn: _Buffered, header_cap: int, read_timeout: float | None):
    """Read until a final (non-1xx) response head; return (status, reason, headers)."""
    scan_from = 0
    while True:
        buf = conn.buf
        n = min(len(buf), len(_PREFIX))
        if buf[:n] != _PREFIX[:n]:
            raise httpx.RemoteProtocolError(f"answer is not HTTP: {_head_preview(buf)}")
        m = _HEAD_END.search(buf, scan_from)
        if m is not None:
            head = conn.take(m.end())
            status, reason, headers = _parse_head(head)
            if 100 <= status < 200 and status != 101:  # interim answer (103 Early Hints…): skip it
                scan_from = 0
                continue
            return status, reason, headers
        if len(buf) > header_cap:
            raise httpx.RemoteProtocolError(f"response head larger than {header_cap} bytes")
        if conn.eof:
            if conn.exc is None and not buf:
                # Closed before a byte of the answer. Had the request still been unread when the node
                # closed, its kernel would have reset the connection instead — which of the two the
                # prober sees is timing, so they are one outcome (``reset``), every round alike.
                raise httpx.ReadError("the node closed the connection without an answer")
            raise conn.read_error("the response head")
        scan_from = max(0, len(buf) - 3)
        await conn.wait(read_timeout)


def _framing(status: int, headers: list[tuple[bytes, bytes]]) -> int | str | None:
    """How the body ends: a byte count, ``"chunked"``, or None for "at EOF"."""
    if status in _NO_BODY_STATUSES:
        return 0
    lengths = set()
    chunked = False
    for name, value in headers:
        lname = name.lower()
        if lname == b"transfer-encoding":
            chunked = value.split(b",")[-1].strip().lower() == b"chunked"
        elif lname == b"content-length":
            lengths.add(value.strip())
    if chunked:
        return "chunked"
    if len(lengths) == 1:
        value = lengths.pop()
        if value.isdigit():
            return int(value)
    return None


class _CappedBody(httpx.AsyncByteStream):
    """The body, decoded from its framing, never more than ``cap`` bytes; closes the connection."""

    def __init__(self, conn: _Buffered, framing: int | str | None, cap: int, read_timeout: float | None) -> None:
        self._conn = conn
        self._framing = framing
        self._cap = cap
        self._timeout = read_timeout
        self.client_cert_requested = False  # the TLS server asked for a client certificate

    def buffered(self) -> bytes | None:
        """The body, when its length is known and it is in the buffer already (a health answer
        nearly always comes in one segment with its head): what iterating would give, without the
        iteration; the connection is closed. None when it must be read from the wire."""
        framing = self._framing
        if type(framing) is not int:
            return None
        want = min(max(self._cap, 0), framing)
        if len(self._conn.buf) < want:
            return None
        data = self._conn.take(want)
        self._conn.close()
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            left = self._cap
            if self._framing == "chunked":
                async for piece in self._chunked():
                    piece = piece[:left]
                    left -= len(piece)
                    yield piece
                    if left <= 0:
                        return
            else:
                want = left if self._framing is None else min(left, self._framing)
                async for piece in self._exactly(want, until_eof=self._framing is None):
                    yield piece
        finally:
            self._conn.close()

    async def _exactly(self, n: int, *, until_eof: bool = False) -> AsyncIterator[bytes]:
        conn = self._conn
        while n > 0:
            if conn.buf:
                piece = conn.take(n)
                n -= len(piece)
                yield piece
                continue
            if conn.eof:
                if until_eof and conn.exc is None:
                    return
                raise conn.read_error("the body")
            await conn.wait(self._timeout)

    async def _line(self, limit: int = 4096) -> bytes:
        conn = self._conn
        while True:
            i = conn.buf.find(b"\n")
            if i >= 0:
                return conn.take(i + 1).rstrip(b"\r\n")
            if len(conn.buf) > limit:
                raise httpx.RemoteProtocolError("chunk size line too long")
            if conn.eof:
                raise conn.read_error("a chunk size")
            await conn.wait(self._timeout)

    async def _chunked(self) -> AsyncIterator[bytes]:
        while True:
            size_text = (await self._line()).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise httpx.RemoteProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                return  # trailers are of no interest
            async for piece in self._exactly(size):
                yield piece
            await self._line()

    async def aclose(self) -> None:
        self._conn.close()


class NodeTransport(httpx.AsyncBaseTransport):
    """One fresh connection per request, ``Connection: close``, bounded reads; TLS without checks.

    Honours httpx's ``connect`` timeout (TCP + TLS handshake) and ``read`` timeout (each wait for
    data); the whole-probe deadline is ``probe_http``'s. Raises httpx's exception types chained from
    the underlying ``OSError`` / ``ssl.SSLError``, so ``probe_http`` classifies them the same way
    whichever transport produced them.
    """

    def __init__(
        self,
        *,
        body_cap: int = DEFAULT_BODY_CAP,
        header_cap: int = HEADER_CAP,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._body_cap = max(0, body_cap)
        self._header_cap = header_cap
        self._ssl = ssl_context
        self._limit = max(header_cap, self._body_cap) + 1

    def _client_ssl(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = probe_ssl_context()
        return self._ssl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"cannot probe {scheme!r} URLs", request=request)
        tls = scheme == "https"
        timeouts = request.extensions.get("timeout") or {}
        status, reason, headers, body = await self.exchange(
            tls,
            url.host,
            url.port or (443 if tls else 80),
            lambda: _serialize(request),
            timeouts.get("connect"),
            timeouts.get("read"),
            request,
        )
        return httpx.Response(
            status,
            headers=headers,
            stream=body,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": reason,
                CLIENT_CERT_EXTENSION: body.client_cert_requested,
            },
        )

    async def exchange(
        self,
        tls: bool,
        host: str,
        port: int,
        message,
        connect_timeout: float | None,
        read_timeout: float | None,
        request: httpx.Request | None = None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], _CappedBody]:
        """Connect, send the request bytes ``await message()`` gives, read the status line and headers.

        The body stays on the wire, to be read through the returned stream (which closes the
        connection). ``probe_http`` calls this directly with bytes it wrote itself: an
        ``httpx.Request`` and ``httpx.Response`` per node cost more CPU than the rest of a probe.
        """
        loop = asyncio.get_running_loop()

        try:
            sock = await connect_socket(loop, host, port, connect_timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except OSError as exc:
            if tls and exc.errno in RESET_ERRNOS:
                # Established, then reset before this side looked: the TLS handshake was cut short, as
                # when the reset comes a moment later, mid-handshake — the same verdict either way.
                failure = _tls_failure(exc, request)
                raise failure from failure.__cause__
            raise httpx.ConnectError(str(exc), request=request) from exc

        conn: _Buffered
        try:
            if not tls:
                try:
                    conn = _PlainConnection(loop, self._limit, sock)
                except NotImplementedError:  # a loop without add_reader (Windows' proactor): a transport
                    conn = _Connection(loop, self._limit)
                    await loop.create_connection(lambda: conn, sock=sock)
            else:
                conn = _Connection(loop, self._limit)
                try:
                    await loop.create_connection(
                        lambda: conn,
                        sock=sock,
                        ssl=self._client_ssl(),
                        server_hostname=host,
                        ssl_handshake_timeout=connect_timeout,
                    )
                except (TimeoutError, asyncio.TimeoutError) as exc:  # distinct types before Python 3.11
                    text = "no TLS handshake before the deadline"
                    raise httpx.ConnectTimeout(text, request=request) from exc
                except (OSError, EOFError) as exc:
                    raise _tls_failure(exc, request)  # noqa: B904 - chained inside, to an SSLError
        except BaseException:
            sock.close()
            raise

        try:
            conn.write(await message())
            status, reason, headers = await _read_head(conn, self._header_cap, read_timeout)
        except httpx.TimeoutException:
            conn.close()
            raise
        except (httpx.HTTPError, OSError) as exc:
            conn.close()
            ssl_object = conn.ssl_object()
            if ssl_object is not None and client_cert_requested(ssl_object):
                # The server refused the empty certificate after the handshake (TLS 1.3).
                failure = _tls_failure(exc, request, True)
                raise failure from failure.__cause__
            raise
        except BaseException:
            conn.close()
            raise
        body = _CappedBody(conn, _framing(status, headers), self._body_cap, read_timeout)
        ssl_object = conn.ssl_object()
        body.client_cert_requested = ssl_object is not None and client_cert_requested(ssl_object)
        return status, reason, headers, body


async def _serialize(request: httpx.Request) -> bytes:
    """The request as HTTP/1.1 bytes with ``Connection: close``; a body only when the request has one."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    has_body = False
    for name, value in request.headers.raw:
        lname = name.lower()
        if lname in (b"content-length", b"transfer-encoding"):
            has_body = True
        elif lname not in (b"connection", b"keep-alive"):
            parts += (name, b": ", value, b"\r\n")
    body = await request.aread() if has_body else b""
    if has_body:
        parts += (b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n")
    parts += (b"Connection: close\r\n\r\n", body)
    return b"".join(parts)


def _tls_failure(exc: BaseException, request: httpx.Request, cert_requested: bool = False) -> httpx.ConnectError:
    """A ConnectError chained from an ``ssl.SSLError`` for any handshake failure.

    asyncio reports a peer that closed or reset mid-handshake as ``ConnectionResetError``; for the
    prober that is still "the HTTPS handshake failed" (``tls-error``), not a plain reset. A server that
    asked for a client certificate is named as such (``cert_requested``), whichever way it refused.
    """
    cause: BaseException
    if cert_requested:
        cause = ssl.SSLError(CLIENT_CERT_TEXT)
        cause.__cause__ = exc
        text = CLIENT_CERT_TEXT
    elif isinstance(exc, ssl.SSLError):
        cause = exc
        text = exc.reason or str(exc)
    else:
        cause = ssl.SSLError(f"handshake interrupted: {exc or type(exc).__name__}")
        cause.__cause__ = exc
        text = f"handshake interrupted ({exc or type(exc).__name__})"
    err = httpx.ConnectError(f"TLS handshake failed: {text}", request=request)
    err.__cause__ = cause
    return err


# --------------------------------------------------------------------------------------------------
# The probe


# A request path the raw probe may write as it stands: what httpx would send unchanged.
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")


def _raw_request(target: ProbeTarget) -> bytes | None:
    """The bytes httpx would send for the probe's GET (same request line, headers and order), or None
    when the path needs httpx's own URL handling (encoding, or refusing it)."""
    path = target.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if not _PLAIN_PATH.match(path) or "%" in path and not _PERCENT.fullmatch(path):
        return None
    tls = target.protocol.lower() == "https"
    host = f"[{target.address}]" if ":" in target.address else target.address
    if target.port != (443 if tls else 80):
        host = f"{host}:{target.port}"
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in PROBE_HEADERS), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


_PERCENT = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """A header's value as httpx gives it: repeated fields joined by ", ", decoded as httpx decodes."""
    values = [v for k, v in headers if k.lower() == name]
    if not values:
        return None
    raw = b", ".join(values)
    for encoding in ("ascii", "utf-8"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("iso-8859-1")


def _probe_url(target: ProbeTarget) -> str:
    path = target.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    host = f"[{target.address}]" if ":" in target.address else target.address
    scheme = "https" if target.protocol.lower() == "https" else "http"
    return f"{scheme}://{host}:{target.port}{path}"


def _chain(exc: BaseException) -> list[BaseException]:
    """exc and its causes, each once (respx links an error and its wrapper in a loop)."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(seen) < 16 and all(cur is not e for e in seen):
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify_http_error(exc: BaseException) -> tuple[str, str]:
    """(outcome, short text) for an exception out of ``client.send``, whichever transport raised it.

    The cause chain (``NodeTransport`` and httpcore chain the ``OSError`` / ``ssl.SSLError``) names
    the failure precisely. Where the chain is lost — respx re-raises a side effect's exception from
    its own wrapper — the ``[Errno N]`` / ``[SSL: …]`` text that httpcore and NodeTransport put into
    the message decides, and failing that the httpx exception type.
    """
    if isinstance(exc, httpx.TimeoutException):
        return TIMEOUT, str(exc) or "timed out"
    chain = _chain(exc)
    for err in chain:
        if isinstance(err, ssl.SSLError):
            reason = getattr(err, "reason", None)
            if not reason:
                reason = err.args[0] if len(err.args) == 1 and isinstance(err.args[0], str) else str(err)
            return TLS_ERROR, f"TLS handshake failed: {reason}"
    for err in chain:
        named = classify_os_error(err)
        if named is not None:
            return named
    text = str(exc)
    if text.startswith("TLS handshake failed") or "[SSL" in text:
        return TLS_ERROR, text if text.startswith("TLS") else f"TLS handshake failed: {text}"
    m = _ERRNO_TEXT.search(text)
    if m is not None:
        named = classify_os_error(OSError(int(m.group(1)), text))
        if named is not None:
            return named
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError)):
        return BAD_RESPONSE, text or "not a valid HTTP answer"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return RESET, text or "connection broken"
    if isinstance(exc, (httpx.ConnectError, httpx.ProxyError)):
        return UNREACHABLE, f"cannot connect: {text}" if text else "cannot connect"
    return BAD_RESPONSE, f"{type(exc).__name__}: {text}"


def parse_health_body(body: bytes) -> tuple[int | None, bool | None, bool | None]:
    """(localEndpoints, serviceProxyHealthy, nodeEligible) from a kube-proxy / Cilium health body.

    Each is None when absent or of the wrong type: older kube-proxy and Cilium omit
    ``serviceProxyHealthy`` and ``nodeEligible``, and absence is not ``false``. Anything that is not
    a JSON object (HTML, a truncated body, bytes that are not UTF-8) gives three Nones.
    """
    if not body:
        return None, None, None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None, None, None
    if not isinstance(doc, dict):
        return None, None, None
    local = doc.get("localEndpoints")
    healthy = doc.get("serviceProxyHealthy")
    eligible = doc.get("nodeEligible")
    return (
        local if type(local) is int else None,
        healthy if isinstance(healthy, bool) else None,
        eligible if isinstance(eligible, bool) else None,
    )


def body_excerpt(body: bytes) -> str | None:
    """At most 200 printable characters of a body, whitespace collapsed (for non-200 answers)."""
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] or None


def _ready(message: bytes):
    async def give() -> bytes:
        return message

    return give


async def _read_capped(chunks, cap: int, into: bytearray) -> None:
    """Append at most ``cap`` body bytes from the async iterator ``chunks`` to ``into`` (kept there if
    the deadline cuts the read short); the iterator is closed either way."""
    try:
        if cap <= 0:
            return
        async for chunk in chunks:
            into += chunk[: cap - len(into)]
            if len(into) >= cap:
                break
    finally:
        await chunks.aclose()


PROBE_HEADERS = (("User-Agent", "akslbctl-probe"), ("Accept", "*/*"), ("Accept-Encoding", "identity"))


async def probe_http(
    transport: httpx.AsyncBaseTransport,
    target: ProbeTarget,
    timeout: float,
    body_cap: int = DEFAULT_BODY_CAP,
) -> ProbeResult:
    """GET target.path (default ``/``) as the LB does: up only on status 200, redirects not followed.

    ``timeout`` bounds the probe as a whole — connect, TLS, request, status line and headers — so a
    server that drips a byte a second is a ``timeout``. The body is then read, within what is left of
    the same deadline, up to ``body_cap`` bytes; a failure while reading it does not change the
    verdict the status gave. Never raises for a network failure.
    """
    started = time.perf_counter()
    response: httpx.Response | httpx.AsyncByteStream | None = None
    status: int | None = None
    server: str | None = None
    latency = 0.0
    raw = bytearray()
    cert_demanded = False  # the TLS server asked for a client certificate (mutual TLS)
    message = _raw_request(target) if isinstance(transport, NodeTransport) else None
    try:
        # One deadline for the whole probe. Once the status line and headers are in, the verdict is
        # known: a deadline or an error while reading the body only costs the body's details.
        async with deadline(timeout):
            if message is not None:  # the request's bytes written here, the head parsed by the transport
                tls = target.protocol.lower() == "https"
                status, _, headers, response = await transport.exchange(
                    tls, target.address, target.port, _ready(message), None, None
                )
                server = _header(headers, b"server")
                cert_demanded = response.client_cert_requested
                latency = round((time.perf_counter() - started) * 1000.0, 3)
                ready = response.buffered() if body_cap == response._cap else None
                if ready is not None:
                    raw += ready
                else:
                    with contextlib.suppress(httpx.HTTPError):
                        await _read_capped(response.__aiter__(), body_cap, raw)
            else:  # straight to the transport: one request, no redirects, no cookies, no proxies
                request = httpx.Request("GET", _probe_url(target), headers=PROBE_HEADERS)
                response = await transport.handle_async_request(request)
                response.request = request
                status = response.status_code
                server = response.headers.get("server")
                cert_demanded = bool(response.extensions.get(CLIENT_CERT_EXTENSION))
                latency = round((time.perf_counter() - started) * 1000.0, 3)
                with contextlib.suppress(httpx.HTTPError):
                    await _read_capped(response.aiter_raw(), body_cap, raw)
    except TimeoutError:
        if status is None:
            return _failed(target, TIMEOUT, f"no complete answer within {timeout:g} s", started)
    except httpx.HTTPError as exc:
        outcome, text = classify_http_error(exc)
        if outcome == TIMEOUT:
            text = f"no complete answer within {timeout:g} s ({text})"
        return _failed(target, outcome, text, started)
    finally:
        if response is not None:
            await response.aclose()
    body = bytes(raw)
    local, healthy, eligible = parse_health_body(body)
    up = status == 200
    if not up and cert_demanded:
        # Mutual TLS that refuses in HTTP (nginx ssl_verify_client: 400 "No required SSL certificate was
        # sent"): the demand for a client certificate is the cause, as when it refuses in TLS.
        return ProbeResult(
            target,
            TLS_ERROR,
            status=status,
            latency_ms=latency,
            body_excerpt=body_excerpt(body),
            error=f"{CLIENT_CERT_TEXT} (it answered HTTP {status} without one)",
            at=now_rfc3339(),
        )
    return ProbeResult(
        target,
        OK if up else HTTP_STATUS,
        status=status,
        latency_ms=latency,
        local_endpoints=local,
        service_proxy_healthy=healthy,
        node_eligible=eligible,
        body_excerpt=None if up else body_excerpt(body),
        error=None if up else f"HTTP {status}",
        at=now_rfc3339(),
        server=None if (up or not server) else (body_excerpt(server.encode("utf-8", "replace")) or "")[:60] or None,
    )


def _failed(target: ProbeTarget, outcome: str, text: str, started: float) -> ProbeResult:
    latency = round((time.perf_counter() - started) * 1000.0, 3)
    return ProbeResult(target, outcome, latency_ms=latency, error=text, at=now_rfc3339())
