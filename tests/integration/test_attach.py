"""Attach (hijacked and WebSocket) against the real engine: stdin, half-close, byte-exact
output, TTY mode, detach keys, resize."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiodock import DockerClient, StreamType
from aiodock.errors import NotFound
from aiodock.resources.containers import detach_key_bytes

MiB = 1 << 20
Make = Callable[..., Awaitable[str]]


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def make(
    docker: DockerClient, busybox: str, test_label: dict[str, str]
) -> AsyncIterator[Make]:
    created: list[str] = []

    async def make(**options: Any) -> str:
        container = await docker.containers.create(image=busybox, labels=test_label, **options)
        created.append(container.id)
        return container.id

    try:
        yield make
    finally:
        for container_id in created:
            with contextlib.suppress(NotFound):
                await docker.containers.remove(container_id, force=True)


async def test_stdin_in_and_both_streams_out_byte_exact(docker: DockerClient, make: Make) -> None:
    data = os.urandom(10 * MiB + 11)
    cid = await make(cmd=["tee", "/dev/stderr"], stdin_open=True, stdin_once=True)
    async with await docker.containers.attach(cid, stdin=True) as stream:
        assert not stream.tty  # found out by one inspect
        await docker.containers.start(cid)

        async def feed() -> None:
            await stream.write(data)
            await stream.close_stdin()  # tee sees end of input and exits

        _, output = await asyncio.gather(feed(), stream.demux())
    assert (len(output.stdout), sha(output.stdout)) == (len(data), sha(data))
    assert (len(output.stderr), sha(output.stderr)) == (len(data), sha(data))
    assert (await docker.containers.wait(cid, timeout=30)).status_code == 0


async def test_binary_output_from_start(docker: DockerClient, make: Make) -> None:
    out, err = os.urandom(10 * MiB + 1), os.urandom(10 * MiB + 2)
    cid = await make(cmd=["sh", "-c", "cat /out & cat /err >&2; wait"])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, payload in (("out", out), ("err", err)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    await docker.containers.put_archive(cid, path="/", data=buf.getvalue())
    stream = await docker.containers.attach(cid, tty=False)
    await docker.containers.start(cid)
    output = await stream.demux()
    assert sha(output.stdout) == sha(out) and sha(output.stderr) == sha(err)


async def read_until(stream: Any, *needles: bytes, timeout: float = 10) -> bytes:
    """Read frames (hijacked) or messages (WebSocket) until every needle was seen."""
    seen = b""

    async def go() -> bytes:
        nonlocal seen
        async for item in stream:
            if isinstance(item, bytes):
                seen += item
            else:
                assert not stream.tty or item.stream == StreamType.STDOUT
                seen += item.data
            if all(needle in seen for needle in needles):
                return seen
        return seen

    return await asyncio.wait_for(go(), timeout)


async def test_tty_attach_and_detach_keys(docker: DockerClient, make: Make) -> None:
    cid = await make(cmd=["cat"], tty=True, stdin_open=True)
    await docker.containers.start(cid)
    stream = await docker.containers.attach(cid, stdin=True, detach_keys="ctrl-x,ctrl-y")
    async with stream:
        assert stream.tty
        await stream.write(b"hello\n")
        seen = await read_until(stream, b"hello\r\nhello\r\n")  # the TTY echo, then cat
        assert seen.count(b"hello") == 2
        await stream.write(detach_key_bytes("ctrl-x,ctrl-y"))
        rest = await asyncio.wait_for(stream.demux(), 10)  # the daemon lets go of us
    assert b"hello" not in rest.stdout
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and state.running  # detached, not stopped


async def test_resize_reaches_the_tty(docker: DockerClient, make: Make) -> None:
    # The container watches its own terminal size (up to 10 s) instead of sleeping
    # "long enough" for the resize; without the resize it prints the old size.
    script = (
        'i=0; while [ $i -lt 200 ] && [ "$(stty size 2>/dev/null)" != "40 120" ]; do '
        "i=$((i+1)); sleep 0.05; done; stty size"
    )
    cid = await make(cmd=["sh", "-c", script], tty=True)
    stream = await docker.containers.attach(cid, tty=True)
    await docker.containers.start(cid)
    await docker.containers.resize(cid, height=40, width=120)
    output = await asyncio.wait_for(stream.demux(), 20)
    assert output.stdout == b"40 120\r\n", bytes(output.stdout)


async def test_attach_to_a_running_container_sees_new_output(
    docker: DockerClient, make: Make
) -> None:
    script = "read x; echo out:$x; echo err:$x >&2; sleep 600"
    cid = await make(cmd=["sh", "-c", script], stdin_open=True)
    await docker.containers.start(cid)
    async with await docker.containers.attach(cid, stdin=True, logs=True) as stream:
        await stream.write(b"ping\n")
        frames: list[tuple[int, bytes]] = []
        async for frame in stream:
            frames.append((frame.stream, frame.data))
            if len(b"".join(d for _, d in frames)) >= len(b"out:ping\nerr:ping\n"):
                break
    assert (StreamType.STDOUT, b"out:ping\n") in frames
    assert (StreamType.STDERR, b"err:ping\n") in frames


async def test_attach_websocket(docker: DockerClient, make: Make) -> None:
    script = 'while read x; do [ "$x" = quit ] && exit 0; echo out:$x; echo err:$x >&2; done'
    cid = await make(cmd=["sh", "-c", script], stdin_open=True)
    await docker.containers.start(cid)
    ws = await docker.containers.attach_websocket(cid)
    async with ws:
        await ws.send(b"one\n")
        # stdout and stderr arrive unframed, in either order
        seen = await read_until(ws, b"err:one\n", b"out:one\n")
        assert len(seen) == len(b"out:one\nerr:one\n")
        await ws.send(b"quit\n")
        rest = await asyncio.wait_for(ws.read(), 15)  # ends when the container exits
    assert b"quit" not in rest
    assert ws.closed
    assert (await docker.containers.wait(cid, timeout=15)).status_code == 0


async def test_attach_websocket_binary_output(docker: DockerClient, make: Make) -> None:
    payload = os.urandom(2 * MiB)
    # The output starts when our line arrives through the attach: by then it is surely
    # connected (a fixed sleep before the output only made that likely).
    cid = await make(cmd=["sh", "-c", "read x; cat /blob"], stdin_open=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("blob")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    await docker.containers.put_archive(cid, path="/", data=buf.getvalue())
    ws = await docker.containers.attach_websocket(cid)
    async with ws:
        await docker.containers.start(cid)
        await ws.send(b"go\n")
        received = await asyncio.wait_for(ws.read(), 30)
    assert sha(received) == sha(payload)
