"""Events on the real engine: exactly-once delivery at volume, and a watcher that survives
a dropped connection.

The shared dockerd is never restarted: the watcher talks to it through a small
unix-socket proxy that the test can cut (every open connection aborted, new
ones refused) and restore. Containers are labelled with a per-test run label
and the streams filter on it, so other tests' events never interfere.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest

import aiodock
from aiodock import DockerClient
from aiodock._filters import Filters
from aiodock.models.events import Event
from aiodock.watcher import EventWatcher, Subscription

DOCKER_SOCK = "/var/run/docker.sock"
_REQUEST_LINE = re.compile(rb"(?m)^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP/1\.1\r$")


class CuttableProxy:
    """A unix-socket proxy to the engine that the test can take down and bring back."""

    def __init__(self, path: str, target: str = DOCKER_SOCK) -> None:
        self.path = path
        self.target = target
        self.requests: list[str] = []
        self.accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=self.path)

    async def cut(self) -> None:
        """Stop listening (new connections are refused) and abort every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._settle()

    async def _settle(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def aclose(self) -> None:
        await self.cut()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, record=True),
                self._pipe(up_reader, writer, record=False),
            )
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()
            self._tasks.discard(task)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, record: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if record:
                    self.requests.extend(m.group(2).decode() for m in _REQUEST_LINE.finditer(chunk))
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def event_requests(self) -> list[str]:
        return [r for r in self.requests if "/events" in r]


@pytest.fixture
async def proxy() -> AsyncIterator[CuttableProxy]:
    with tempfile.TemporaryDirectory(prefix="aiodock-proxy-") as tmp:
        p = CuttableProxy(str(Path(tmp) / "docker.sock"))
        await p.start()
        try:
            yield p
        finally:
            await p.aclose()


@pytest.fixture
def run_labels(test_label: dict[str, str]) -> dict[str, str]:
    return {**test_label, "aiodock-events-run": uuid.uuid4().hex}


def run_filter(labels: dict[str, str]) -> Filters:
    return {"type": "container", "label": {"aiodock-events-run": labels["aiodock-events-run"]}}


async def churn(
    docker: DockerClient,
    image: str,
    labels: dict[str, str],
    count: int,
    *,
    concurrency: int = 8,
    created: list[str] | None = None,
) -> list[str]:
    """Create and remove ``count`` containers (no start): one create + one destroy each."""
    ids: list[str] = created if created is not None else []
    limit = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with limit:
            c = await docker.request(
                "POST",
                "/containers/create",
                json={"Image": image, "Cmd": ["true"], "Labels": labels},
            )
            ids.append(c["Id"])
            await docker.request("DELETE", f"/containers/{c['Id']}")

    await asyncio.gather(*(one() for _ in range(count)))
    return ids


async def remove_leftovers(docker: DockerClient, labels: dict[str, str]) -> None:
    left = await docker.request(
        "GET",
        "/containers/json",
        params={
            "all": True,
            "filters": {"label": [f"aiodock-events-run={labels['aiodock-events-run']}"]},
        },
    )
    for c in left or []:
        with contextlib.suppress(aiodock.NotFound):
            await docker.request("DELETE", f"/containers/{c['Id']}", params={"force": True})


def assert_exactly_once(events: Iterable[Event], ids: list[str]) -> None:
    counts = collections.Counter((e.action, e.actor_id) for e in events)
    expected = {(action, cid) for cid in ids for action in ("create", "destroy")}
    missing = expected - set(counts)
    extra = set(counts) - expected
    twice = {k: n for k, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} events never arrived, e.g. {sorted(missing)[:3]}"
    assert not extra, f"unexpected events: {sorted(extra)[:3]}"
    assert not twice, f"delivered more than once: {sorted(twice.items())[:3]}"


async def drain(sub: Subscription | Any, n: int, timeout: float) -> list[Event]:
    got: list[Event] = []

    async def run() -> None:
        async for e in sub:
            got.append(e)
            if len(got) == n:
                return

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(run(), timeout)
    return got


async def assert_quiet(sub: Subscription | Any, seconds: float = 0.5) -> None:
    """Nothing more arrives (no late duplicates)."""
    with pytest.raises(asyncio.TimeoutError):
        extra = await asyncio.wait_for(sub.__anext__(), seconds)
        pytest.fail(f"unexpected extra event {extra}")


async def test_200_containers_every_event_exactly_once(
    docker: DockerClient, busybox: str, run_labels: dict[str, str]
) -> None:
    n = 200
    filters = run_filter(run_labels)
    since = time.time() - 1  # covers the moment between the response and the subscription
    ids: list[str] = []
    try:
        async with (
            docker.system.events(filters=filters, since=since) as stream,
            EventWatcher(docker, filters=filters, since=since) as watcher,
        ):
            fast = watcher.subscribe(maxsize=2 * n)
            slow = watcher.subscribe(maxsize=10, name="slow")
            await watcher.wait_connected(10)
            started = time.monotonic()
            churn_task = asyncio.create_task(churn(docker, busybox, run_labels, n, created=ids))
            from_stream, from_watcher = await asyncio.gather(
                drain(stream, 2 * n, 120), drain(fast, 2 * n, 120)
            )
            await churn_task
            elapsed = time.monotonic() - started
            assert len(ids) == n
            assert_exactly_once(from_stream, ids)
            assert_exactly_once(from_watcher, ids)
            await assert_quiet(stream)
            await assert_quiet(fast)
            # The consumer that never read lost the oldest events, visibly, and kept the
            # newest ten; it did not hold up the fast one.
            assert slow.dropped == 2 * n - 10
            assert watcher.state.dropped["slow"] == 2 * n - 10
            assert [e.key for e in await drain(slow, 10, 5)] == [e.key for e in from_watcher[-10:]]
            # Per container, create comes before destroy.
            order = {(e.action, e.actor_id): i for i, e in enumerate(from_stream)}
            assert all(order[("create", c)] < order[("destroy", c)] for c in ids)
        print(f"\n{n} containers, {2 * n} events in {elapsed:.1f}s")
    finally:
        await remove_leftovers(docker, run_labels)


async def test_watcher_reconnects_through_a_cut_and_delivers_each_event_once(
    docker: DockerClient, busybox: str, run_labels: dict[str, str], proxy: CuttableProxy
) -> None:
    filters = run_filter(run_labels)
    before: list[str] = []
    during: list[str] = []
    after: list[str] = []
    try:
        async with (
            DockerClient(proxy.url) as through_proxy,
            EventWatcher(
                through_proxy, filters=filters, backoff=0.05, max_backoff=0.2, overlap=0.5
            ) as watcher,
        ):
            sub = watcher.subscribe(maxsize=10_000)
            await watcher.wait_connected(10)
            assert proxy.event_requests() and "since=" not in proxy.event_requests()[0]

            # Cut in the middle of a burst: the stream is busy when it drops.
            burst = asyncio.create_task(churn(docker, busybox, run_labels, 30, created=before))
            first = await drain(sub, 10, 30)
            assert len(first) == 10
            await proxy.cut()
            await burst

            # While the proxy is down: more containers; reconnects are refused.
            await churn(docker, busybox, run_labels, 10, created=during)
            for _ in range(200):  # the watcher keeps trying (and failing) meanwhile
                if watcher.state.reconnects >= 2:
                    break
                await asyncio.sleep(0.05)
            state = watcher.state
            assert not state.connected and state.reconnects >= 2
            assert isinstance(state.last_error, aiodock.DockerConnectionError)
            newest_before_cut = state.last_time_nano
            assert newest_before_cut > 0

            await proxy.start()
            await watcher.wait_connected(10)
            await churn(docker, busybox, run_labels, 5, created=after)

            ids = before + during + after
            rest = await drain(sub, 2 * len(ids) - len(first), 60)
            got = first + rest
            assert_exactly_once(got, ids)
            await assert_quiet(sub)

            # The reconnect asked the daemon to replay from just before the last event seen.
            resumed = [r for r in proxy.event_requests() if "since=" in r]
            assert resumed, proxy.event_requests()
            match = re.search(r"since=(\d+)\.(\d{9})", resumed[-1])
            assert match is not None, resumed[-1]
            since_ns = int(match.group(1)) * 1_000_000_000 + int(match.group(2))
            assert since_ns == newest_before_cut - 500_000_000  # overlap=0.5
            assert all(r == resumed[-1] for r in resumed)  # every attempt resumed there

            state = watcher.state
            assert state.connected and state.connections == 2
            assert state.events == 2 * len(ids)
            assert state.possible_gaps == 0
            assert state.duplicates >= 1  # at least the last event before the cut came again
            assert state.last_event_time is not None
    finally:
        await remove_leftovers(docker, run_labels)
