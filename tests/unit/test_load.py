"""Load: many requests through one client, many open streams beside ordinary calls.

- 10,000 typed ``containers.inspect`` calls (a payload captured from Engine 20.10,
  structured into the model each time) at a concurrency of 500 on one client, all
  correct, none failing; the server really saw hundreds in flight at once; the
  client does not keep anything per request (object count and RSS stay flat after a
  warm-up round).
- 200 open follow streams (FakeDocker's ``logs --follow``) do not slow ordinary calls
  down: with the client's defaults, 200 calls still complete quickly while every
  stream is open and delivering.

The server runs in its own thread and event loop, so the client's loop and object
counts are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing
import resource
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from aiodock import DockerClient
from tests._wait import eventually
from tests.unit.test_cancellation import TALKER, acquired, threaded_fake

pytestmark = pytest.mark.filterwarnings("error")

FIXTURE = Path(__file__).parent / "fixtures" / "container_inspect_running.json"


def _raise_fd_limit(wanted: int = 4096) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


class _Engine(asyncio.Protocol):
    """One connection of the minimal engine (see :class:`InspectServer`)."""

    def __init__(self, state: dict[str, int], head: bytes, tail: bytes) -> None:
        self.state = state
        self.head = head
        self.tail = tail
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        state = self.state
        state["connections"] += 1
        state["peak_connections"] = max(state["peak_connections"], state["connections"])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            target = head.split(b" ", 2)[1]
            state = self.state
            state["in_flight"] += 1
            state["peak_in_flight"] = max(state["peak_in_flight"], state["in_flight"])
            loop.call_later(0.01, self.answer, target)

    def answer(self, target: bytes) -> None:
        self.state["in_flight"] -= 1
        if self.transport.is_closing():
            return
        if target == b"/_ping":
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 2\r\n\r\nOK"
            )
            return
        body = self.head + target.split(b"/")[3] + self.tail
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.state["served"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.state["connections"] -= 1


def _serve(path: str, control: Connection) -> None:
    """Process entry point: serve on ``path`` until told to stop, then send the counters."""
    payload = FIXTURE.read_bytes()
    head, _, tail = payload.partition(json.loads(payload)["Id"].encode())
    state = dict.fromkeys(
        ("connections", "peak_connections", "in_flight", "peak_in_flight", "served"), 0
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(
            lambda: _Engine(state, head, tail), path, backlog=1024
        )
        control.send("ready")
        await loop.run_in_executor(None, control.recv)
        server.close()
        control.send(state)

    asyncio.run(main())


class InspectServer:
    """A minimal engine in another process, on a unix socket: ``/_ping`` and inspect.

    A raw asyncio protocol (keep-alive) in its own process, so that the client, not
    the server or the GIL they would share, is what the test measures. Each inspect
    answers the captured payload with the requested id, 10 ms later, so that requests
    overlap. Afterwards ``stats`` has ``peak_connections`` and ``peak_in_flight`` (how
    many connections were open and how many requests were being answered at once)
    and ``served``.
    """

    def __init__(self, tmp: Path) -> None:
        self.path = str(tmp / "docker.sock")
        self.stats: dict[str, int] = {}

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.path, theirs), daemon=True
        )
        process.start()
        try:
            if not ours.poll(60) or ours.recv() != "ready":
                raise RuntimeError("the load server did not start")
            yield f"unix://{self.path}"
            ours.send("stop")
            if ours.poll(30):
                self.stats = ours.recv()
        finally:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
            ours.close()
            theirs.close()


def _pooled(client: DockerClient) -> int:
    session = client._shared.session
    assert session is not None and session.connector is not None
    return sum(len(idle) for idle in session.connector._conns.values())


async def _inspect_many(client: DockerClient, count: int, concurrency: int) -> int:
    """``count`` inspects by ``concurrency`` workers; returns how many came back right."""
    ids = iter(range(count))
    good = 0

    async def worker() -> None:
        nonlocal good
        for n in ids:
            ident = f"c{n:06d}"
            info = await client.containers.inspect(ident)
            if info.id == ident and info.state is not None and info.state.running:
                good += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return good


async def test_ten_thousand_requests_at_concurrency_500_on_one_client(tmp_path: Path) -> None:
    _raise_fd_limit()
    server = InspectServer(tmp_path)
    with server.running() as host:
        async with DockerClient(host, max_connections=500) as client:
            # Warm-up: every connection opened (the pool grows to the concurrency),
            # converter hooks built, caches filled.
            for _ in range(5):
                assert await _inspect_many(client, 1_000, 500) == 1_000
                if _pooled(client) == 500:
                    break
            assert _pooled(client) == 500
            gc.collect()
            objects_before = len(gc.get_objects())
            rss_before = _rss()
            started = time.monotonic()
            assert await _inspect_many(client, 10_000, 500) == 10_000
            elapsed = time.monotonic() - started
            gc.collect()
            objects_growth = len(gc.get_objects()) - objects_before
            rss_growth = _rss() - rss_before
            assert _pooled(client) == 500  # the pool never grows past the concurrency
            assert acquired(client) == 0
            assert client._shared.limiter.free == 500
    stats = server.stats
    assert stats["served"] >= 11_000
    assert stats["peak_connections"] == 500
    # How many overlap at the server depends on how fast this machine lets the client send;
    # 500 connections in use at once is the proof of the concurrency.
    assert stats["peak_in_flight"] >= 50, f"only {stats['peak_in_flight']} requests overlapped"
    # Nothing kept per request: 10,000 more requests leave (almost) no objects behind.
    assert objects_growth < 2_000, f"{objects_growth} objects more after 10,000 requests"
    assert rss_growth < 40 * 2**20, f"RSS grew by {rss_growth / 2**20:.1f} MiB"
    print(
        f"10,000 inspects at concurrency 500: {elapsed:.2f}s "
        f"({10_000 / elapsed:.0f}/s), peak in flight {stats['peak_in_flight']}, "
        f"objects +{objects_growth}, RSS {rss_growth / 2**20:+.1f} MiB"
    )


async def test_two_hundred_open_follow_streams_do_not_starve_ordinary_calls() -> None:
    _raise_fd_limit()
    with threaded_fake() as server:
        async with DockerClient(server.host) as client:  # the defaults: 100 ordinary calls
            await client.system.ping()
            alone = time.monotonic()
            await asyncio.gather(*(client.containers.inspect(TALKER) for _ in range(200)))
            alone = time.monotonic() - alone

            received = [0] * 200
            opened = asyncio.Event()
            open_count = 0

            async def follow(i: int) -> None:
                nonlocal open_count
                async with client.containers.logs(TALKER, follow=True, tty=False) as stream:
                    first = True
                    async for _ in stream:
                        received[i] += 1
                        if first:
                            first = False
                            open_count += 1
                            if open_count == 200:
                                opened.set()

            streams = [asyncio.ensure_future(follow(i)) for i in range(200)]
            try:
                await asyncio.wait_for(opened.wait(), 30)
                assert acquired(client) >= 200
                before = sum(received)
                busy = time.monotonic()
                infos = await asyncio.gather(
                    *(client.containers.inspect(TALKER) for _ in range(200))
                )
                busy = time.monotonic() - busy
                assert all(i.name == "/" + TALKER for i in infos)
                await eventually(  # still delivering (the deadline allows for a busy machine)
                    lambda: sum(received) > before, what="the streams keep delivering"
                )
                assert not any(s.done() for s in streams), "a stream ended"
            finally:
                for s in streams:
                    s.cancel()
                await asyncio.gather(*streams, return_exceptions=True)
            assert acquired(client) == 0
    # 200 calls beside 200 live streams: done in a few seconds at worst, not blocked.
    assert busy < max(5.0, 20 * alone), f"{busy:.2f}s with streams open vs {alone:.2f}s alone"
    print(f"200 inspects: {alone:.2f}s alone, {busy:.2f}s beside 200 open follow streams")


@pytest.mark.parametrize("kind", ["events", "logs"])
async def test_streams_beyond_the_ordinary_call_limit_all_open(kind: str) -> None:
    """With max_connections=10, 50 streams still open: streams are not counted."""
    with threaded_fake() as server:
        async with DockerClient(server.host, max_connections=10) as client:
            await client.system.ping()

            def make() -> Any:
                if kind == "events":
                    return client.system.events()
                return client.containers.logs(TALKER, follow=True, tty=False)

            streams = [make() for _ in range(50)]
            try:
                await asyncio.wait_for(asyncio.gather(*(s._start() for s in streams)), 20)
                assert acquired(client) >= 50
                assert await asyncio.wait_for(client.system.ping(), 5)
            finally:
                for s in streams:
                    await s.aclose()
            assert acquired(client) == 0
