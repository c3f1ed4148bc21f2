"""The plain-HTTP probe's socket reader and writer (``_PlainConnection``) on real socket pairs.

The loopback probe tests cover it end to end (answers, resets, drips, huge bodies); these pin what a
round rarely reaches: a write the kernel takes in parts, a write to a connection already reset, reads
that pause at the buffer limit and resume, EOF and close.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from akslbctl.probing.http import _PlainConnection


def _pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    return ours, theirs


def test_a_write_the_kernel_takes_in_parts_arrives_whole_and_in_order():
    async def main() -> bytes:
        ours, theirs = _pair()
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        conn = _PlainConnection(asyncio.get_running_loop(), 1 << 20, ours)
        data = bytes(range(256)) * 4096  # 1 MiB: far more than the send buffer takes at once
        conn.write(data)
        assert conn._unsent, "the test needs a partial send"
        conn.write(b"tail")  # queued behind what is still unsent
        theirs.setblocking(False)
        got = bytearray()
        while len(got) < len(data) + 4:
            try:
                got += theirs.recv(65536)
            except BlockingIOError:
                await asyncio.sleep(0.001)
        conn.close()
        theirs.close()
        return bytes(got)

    got = asyncio.run(main())
    assert got == bytes(range(256)) * 4096 + b"tail"


def test_reads_pause_at_the_limit_and_resume_when_the_reader_waits():
    async def main() -> list[tuple[int, bool]]:
        ours, theirs = _pair()
        conn = _PlainConnection(asyncio.get_running_loop(), 1000, ours)
        conn._CHUNK = 1500  # one read takes 1,500 bytes: past the limit of 1,000
        theirs.sendall(b"x" * 3000)
        seen = []
        await conn.wait(1.0)
        seen.append((len(conn.take(len(conn.buf))), conn._reading))  # paused: nothing read meanwhile
        await conn.wait(1.0)  # waiting resumes reading
        seen.append((len(conn.take(len(conn.buf))), conn._reading))
        theirs.close()
        await conn.wait(1.0)
        seen.append((len(conn.buf), conn.eof))
        conn.close()
        return seen

    assert asyncio.run(main()) == [(1500, False), (1500, False), (0, True)]


def test_eof_and_a_reset_end_the_connection_as_a_transport_reports_them():
    async def main() -> tuple[bool, BaseException | None, bool, str]:
        loop = asyncio.get_running_loop()
        ours, theirs = _pair()
        conn = _PlainConnection(loop, 1 << 16, ours)
        theirs.sendall(b"HTTP/1.1 200 OK\r\n")
        theirs.close()
        while not conn.eof:
            await conn.wait(1.0)
        eof, exc = conn.eof, conn.exc
        conn.close()
        conn.close()  # twice is harmless

        server = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()  # RST
        client.setblocking(False)
        reset = _PlainConnection(loop, 1 << 16, client)
        while not reset.eof:
            await reset.wait(1.0)
        reset.write(b"GET / HTTP/1.1\r\n\r\n")  # after the end: nothing sent, nothing raised
        err = reset.read_error("the response head")
        reset.close()
        server.close()
        return eof, exc, isinstance(reset.exc, ConnectionResetError), str(err)

    eof, exc, was_reset, text = asyncio.run(main())
    assert eof and exc is None
    assert was_reset
    assert text == "connection reset while reading the response head"


def test_a_wait_without_data_times_out_as_httpx_does():
    async def main() -> None:
        ours, theirs = _pair()
        conn = _PlainConnection(asyncio.get_running_loop(), 1 << 16, ours)
        try:
            with pytest.raises(httpx.ReadTimeout):
                await conn.wait(0.05)
        finally:
            conn.close()
            theirs.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("framing", "cap", "sent"),
    [
        (11, 4096, b"hello world"),  # the whole body, as a health answer comes
        (11, 4096, b"hello worldEXTRA"),  # more bytes than the framing: only the body's
        (5000, 100, b"x" * 200),  # a body past the cap: the cap's worth
        (0, 4096, b""),  # Content-Length: 0, 204, 304
        (0, 0, b"ignored"),
        (7, 0, b"ignored"),  # no body wanted
    ],
)
def test_a_body_already_buffered_is_what_reading_it_gives(framing, cap, sent):
    from akslbctl.probing.http import _CappedBody

    async def read(fast: bool) -> tuple[bytes | None, bool]:
        ours, theirs = _pair()
        conn = _PlainConnection(asyncio.get_running_loop(), 1 << 16, ours)
        theirs.sendall(sent)
        while len(conn.buf) < len(sent):
            await conn.wait(1.0)
        body = _CappedBody(conn, framing, cap, 1.0)
        if fast:
            got = body.buffered()
        else:
            got = b""
            async for piece in body:
                got += piece
                if len(got) >= cap:
                    break
            got = got[:cap]
            await body.aclose()
        closed = conn._closed
        theirs.close()
        return got, closed

    fast, fast_closed = asyncio.run(read(True))
    slow, _ = asyncio.run(read(False))
    assert fast == slow
    assert fast_closed


def test_a_body_not_all_in_yet_is_read_from_the_wire():
    from akslbctl.probing.http import _CappedBody

    async def main() -> tuple[bytes | None, bytes | None]:
        ours, theirs = _pair()
        conn = _PlainConnection(asyncio.get_running_loop(), 1 << 16, ours)
        theirs.sendall(b"abc")
        await conn.wait(1.0)
        partial = _CappedBody(conn, 10, 4096, 1.0).buffered()  # 3 of 10 bytes: not complete
        chunked = _CappedBody(conn, "chunked", 4096, 1.0).buffered()  # no length to check against
        conn.close()
        theirs.close()
        return partial, chunked

    assert asyncio.run(main()) == (None, None)
