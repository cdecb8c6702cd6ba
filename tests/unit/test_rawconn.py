"""RawConnection, the byte connection under attach/exec streams, over a real socket pair."""

from __future__ import annotations

import asyncio
import socket

import pytest

from aiodock._http import rawconn as _rawconn
from aiodock._http.rawconn import RawConnection
from tests._wait import eventually


async def _pair() -> tuple[RawConnection, socket.socket]:
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_unix_connection(RawConnection, sock=ours)
    return conn, theirs


async def _send(sock: socket.socket, data: bytes) -> None:
    await asyncio.get_running_loop().sock_sendall(sock, data)


async def test_head_then_chunks_as_delivered_then_eof() -> None:
    conn, peer = await _pair()
    await _send(peer, b"HTTP/1.1 101 UPGRADED\r\nA: b\r\n\r\nfirst")
    head = await conn.read_until(b"\r\n\r\n")
    assert head == b"HTTP/1.1 101 UPGRADED\r\nA: b\r\n\r\n"
    assert await conn.read_chunk() == b"first"  # what followed the head comes next
    await _send(peer, b"second")
    assert await conn.read_chunk() == b"second"
    peer.shutdown(socket.SHUT_WR)
    assert await conn.read_chunk() == b""
    assert await conn.read_chunk() == b""
    # The daemon closed its output; our side can still write (half-close).
    conn.write(b"stdin")
    await conn.drain()
    assert await asyncio.get_running_loop().sock_recv(peer, 10) == b"stdin"
    conn.write_eof()
    assert await asyncio.get_running_loop().sock_recv(peer, 10) == b""
    conn.close()
    await conn.wait_closed()
    peer.close()


async def test_read_exactly_and_read_until_limits() -> None:
    conn, peer = await _pair()
    await _send(peer, b"3\r\nabc\r\n")
    assert await conn.read_until(b"\n") == b"3\r\n"
    assert await conn.read_exactly(3) == b"abc"
    assert await conn.read_exactly(2) == b"\r\n"
    await _send(peer, b"x" * 100)
    with pytest.raises(asyncio.LimitOverrunError):
        await conn.read_until(b"\r\n\r\n", limit=50)
    peer.close()
    with pytest.raises(asyncio.IncompleteReadError) as caught:
        await conn.read_exactly(1000)
    assert caught.value.partial == b"x" * 100
    conn.close()


async def test_reading_pauses_above_the_limit_and_resumes_when_drained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_rawconn, "_READ_LIMIT", 1000)
    conn, peer = await _pair()
    await _send(peer, b"a" * 5000)
    await eventually(lambda: conn._reading_paused)
    received = b""
    while len(received) < 5000:
        received += await conn.read_chunk()
    assert received == b"a" * 5000
    assert not conn._reading_paused
    conn.close()
    peer.close()


async def test_set_exception_wakes_a_blocked_reader() -> None:
    conn, peer = await _pair()
    reading = asyncio.create_task(conn.read_chunk())
    await asyncio.sleep(0)
    conn.set_exception(ConnectionAbortedError("client closed"))
    with pytest.raises(ConnectionAbortedError):
        await reading
    with pytest.raises(ConnectionAbortedError):
        await conn.read_chunk()
    conn.close()
    peer.close()


async def test_a_cancelled_read_loses_nothing() -> None:
    conn, peer = await _pair()
    reading = asyncio.create_task(conn.read_chunk())
    await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await _send(peer, b"kept")
    assert await conn.read_chunk() == b"kept"
    conn.close()
    peer.close()


async def test_drain_after_the_connection_is_lost_raises() -> None:
    conn, peer = await _pair()
    peer.close()
    assert await conn.read_chunk() == b""
    conn.close()
    await conn.wait_closed()
    with pytest.raises(ConnectionResetError):
        conn.write(b"x")
        await conn.drain()
