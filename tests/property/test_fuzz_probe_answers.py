"""Whatever bytes a node answers — noise, half a status line, a body that is not JSON — the HTTP probe
classifies it (an outcome the LB knows, a status when there was one) and the health-body parser reads
what it can; neither ever raises."""

from __future__ import annotations

import asyncio

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.model.probe import FAILED_OUTCOMES, OK, ProbeTarget
from akslbctl.probing.http import NodeTransport, body_excerpt, parse_health_body, probe_http

HOST = "127.93.0.1"

heads = st.sampled_from(
    [
        b"",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.0 200\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"\x16\x03\x01\x00",
    ]
)
answers = st.one_of(st.binary(max_size=512), st.tuples(heads, st.binary(max_size=256)).map(b"".join))


async def _probe(answer: bytes, close_early: bool):
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not close_early:
                await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    transport = NodeTransport()
    try:
        return await probe_http(transport, ProbeTarget(HOST, port, "Http", "/healthz"), timeout=2.0)
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()


@FUZZ
@given(answer=answers, close_early=st.booleans())
def test_any_answer_is_classified(answer, close_early):
    result = asyncio.run(_probe(answer, close_early))
    assert result.outcome in (OK, *FAILED_OUTCOMES)
    assert (result.status is not None) == (result.outcome in (OK, "http-status"))
    assert result.up == (result.status == 200)
    assert result.error is None or "\n" not in result.error


@FUZZ
@given(body=st.binary(max_size=512) | st.text(max_size=64).map(str.encode))
def test_health_bodies(body):
    local, healthy, eligible = parse_health_body(body)
    assert local is None or type(local) is int
    assert healthy in (None, True, False) and eligible in (None, True, False)
    excerpt = body_excerpt(body)
    assert excerpt is None or (len(excerpt) <= 200 and excerpt.isprintable())
