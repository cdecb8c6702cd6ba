"""Cancellation at any point leaves nothing behind.

A thousand concurrent operations (ordinary calls, slow calls, follow streams, event
streams, hijacked attach and exec connections, streams started but never read,
calls under ``asyncio.timeout``) run against a FakeDocker whose container and event
stream never stop, and each is cancelled at a random moment: before its request is
sent, while waiting for headers, or in the middle of the body. Afterwards:

- the connector holds no connection (``connector._acquired`` is empty) and the
  ordinary-call limiter is back to full;
- no task of the client's is pending, and the event loop reported nothing;
- no ``ResourceWarning``/``Unclosed ...`` was raised anywhere (warnings are errors
  here, the loop runs in debug mode, and garbage collection is forced);
- every file descriptor opened during the run is closed once the client is;
- the same client still works.

FakeDocker runs in a thread with its own event loop, so every task and file
descriptor of the test's loop belongs to the client under test.

On Python < 3.12 ``asyncio.wait_for`` swallows a cancellation that arrives in the
very loop iteration where its awaitable completes; aiodock bounds awaits with
``aiodock._http.timeouts.wait_for`` instead, and the tests below would catch a relapse.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import random
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from aiodock import DockerClient
from aiodock._http.rawconn import RawConnection
from aiodock.testing import ExecSession, FakeDocker
from tests._wait import eventually

pytestmark = pytest.mark.filterwarnings("error")

T = TypeVar("T")
TALKER = "talker"


class ThreadedFake:
    """A :class:`FakeDocker` serving from its own thread and event loop.

    The container ``talker`` runs forever and writes a line every few
    milliseconds; an event is emitted as often; execs of ``forever`` write output
    until their connection goes; ``GET /slow`` answers after up to 50 ms.
    """

    def __init__(self, *, chatter: float = 0.003) -> None:
        self._chatter = chatter
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-docker")
        self.fake = FakeDocker()
        self._tasks: list[asyncio.Task[None]] = []

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    @property
    def host(self) -> str:
        return self.fake.host

    def start(self) -> ThreadedFake:
        self._thread.start()
        self.call(self._setup())
        return self

    async def _setup(self) -> None:
        fake = self.fake
        await fake.__aenter__()
        fake.set_output(TALKER, [], exit_code=None)
        talker = fake.add_container(name=TALKER, cmd=["talk"], running=True)

        async def forever(session: ExecSession) -> int:
            while True:
                await session.write(b"x" * 64 + b"\n")
                await asyncio.sleep(self._chatter)

        fake.on_exec(forever, cmd=["forever"])

        @fake.route("GET", "/slow")
        async def slow(request: Any) -> Any:
            await asyncio.sleep(random.uniform(0, 0.05))
            return {"slow": True}

        async def chatter() -> None:
            n = 0
            while True:
                n += 1
                fake.write_output(TALKER, b"line %d\n" % n, 1 + n % 2)
                fake.emit_event("container", "exec_create", talker.id, {"n": str(n)})
                await asyncio.sleep(self._chatter)

        self._tasks.append(asyncio.ensure_future(chatter()))

    async def _teardown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.fake.__aexit__(None, None, None)
        # The fake must not leave a task behind (its events handler once did).
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
        assert not rest, f"FakeDocker left tasks behind: {rest}"

    def stop(self) -> None:
        try:
            self.call(self._teardown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


@contextlib.contextmanager
def threaded_fake(**options: Any) -> Iterator[ThreadedFake]:
    server = ThreadedFake(**options).start()
    try:
        yield server
    finally:
        server.stop()


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def acquired(client: DockerClient) -> int:
    session = client._shared.session
    if session is None or session.connector is None:
        return 0
    return len(session.connector._acquired)


# --- the operations ----------------------------------------------------------------------

Op = Callable[[DockerClient], Awaitable[Any]]


async def ping(d: DockerClient) -> Any:
    return await d.system.ping()


async def inspect(d: DockerClient) -> Any:
    return await d.containers.inspect(TALKER)


async def listing(d: DockerClient) -> Any:
    return await d.containers.list(all=True)


async def slow(d: DockerClient) -> Any:
    return await d.request("GET", "/slow")


#: Items received per operation: proof that streams were cancelled mid-body too.
RECEIVED: collections.Counter[str] = collections.Counter()
#: Chance that a stream, on receiving an item, gets cancelled a moment later (set by
#: the storm; 0 elsewhere), so that cancellations also land in the middle of bodies.
MID_BODY_CANCEL = [0.0]


def received(name: str) -> None:
    RECEIVED[name] += 1
    if random.random() < MID_BODY_CANCEL[0]:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_later(random.uniform(0, 0.01), task.cancel)


async def follow_logs(d: DockerClient) -> None:
    async for _ in d.containers.logs(TALKER, follow=True, tty=False):
        received("follow_logs")


async def follow_logs_with(d: DockerClient) -> None:
    async with d.containers.logs(TALKER, follow=True) as stream:
        async for _ in stream.lines():
            received("follow_logs_with")


async def events(d: DockerClient) -> None:
    async for _ in d.system.events():
        received("events")


async def attach(d: DockerClient) -> None:
    async with await d.containers.attach(TALKER, tty=False) as stream:
        async for _ in stream:
            received("attach")


async def exec_output(d: DockerClient) -> None:
    created = await d.exec.create(TALKER, cmd=["forever"])
    async with await d.exec.start(created.id, tty=False) as stream:
        async for _ in stream:
            received("exec_output")


#: Operations that reached the point where they hold on until cancelled.
HOLDING: set[str] = set()


async def started_never_read(d: DockerClient) -> None:
    stream = await d.containers.logs(TALKER, follow=True, tty=False)
    assert stream.response is not None
    HOLDING.add("started_never_read")
    await asyncio.sleep(3600)  # held open, unread, until cancelled


async def never_started(d: DockerClient) -> None:
    d.system.events()  # created, never awaited: must hold nothing
    HOLDING.add("never_started")
    await asyncio.sleep(3600)  # until cancelled


async def under_timeout(d: DockerClient) -> None:
    op = random.choice([follow_logs, events, slow, attach, inspect])
    delay = random.uniform(0, 0.2)
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(delay):
            await op(d)
    else:  # pragma: no cover - Python 3.10
        await asyncio.wait_for(op(d), delay)


OPS: list[Op] = [
    ping,
    inspect,
    listing,
    slow,
    follow_logs,
    follow_logs_with,
    events,
    attach,
    exec_output,
    started_never_read,
    never_started,
    under_timeout,
]


MID_BODY_OPS = {follow_logs, follow_logs_with, events, attach, exec_output}


async def test_a_thousand_operations_cancelled_at_random_points_leave_nothing_behind() -> None:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 10.0  # debug mode's timing reports are not the point
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    RECEIVED.clear()
    MID_BODY_CANCEL[0] = 0.3
    before_fds = open_fds()

    with threaded_fake() as server:
        client = DockerClient(server.host, max_connections=50)
        try:
            await client.system.ping()  # negotiated once, outside the storm
            tasks: dict[asyncio.Task[Any], Op] = {}
            for _ in range(1000):
                op = rng.choice(OPS)
                task = asyncio.ensure_future(op(client))
                tasks[task] = op
                # Half are cancelled early (before the request is sent, while waiting for
                # headers); streams among the rest are cancelled mid-body by received().
                early = rng.random() < 0.5 or op not in MID_BODY_OPS
                loop.call_later(rng.uniform(0, 0.6) if early else 3.0, task.cancel)
            done, pending = await asyncio.wait(tasks, timeout=20)
            # A task still running here had its cancellation swallowed (what
            # asyncio.wait_for does before Python 3.12; aiodock never uses it).
            swallowed = sorted(tasks[t].__name__ for t in pending)
            assert not swallowed, f"seed {seed}: cancellation did not end {swallowed}"
            results = [t.exception() if not t.cancelled() else None for t in tasks]
            timeout = asyncio.TimeoutError  # TimeoutError on 3.11+, its own class on 3.10
            unexpected = [r for r in results if r is not None and not isinstance(r, timeout)]
            assert not unexpected, f"seed {seed}: {unexpected[:5]}"
            cancelled = sum(t.cancelled() for t in tasks)
            assert cancelled > 500, f"seed {seed}: only {cancelled} cancelled; test too lax"
            # Streams were cut in the middle of their bodies too, not only before (each kind
            # on its own: test_each_operation_cancelled_mid_flight_releases_its_connection).
            assert len(RECEIVED) >= 2 and sum(RECEIVED.values()) > 20, RECEIVED
            del tasks, done, pending, results

            def released() -> bool:  # closing callbacks may still be due: wait for them
                gc.collect()
                others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                return acquired(client) == 0 and client._shared.limiter.free == 50 and not others

            with contextlib.suppress(AssertionError):  # the checks below say what is held
                await eventually(released, interval=0.05)
            assert acquired(client) == 0, f"seed {seed}: connections still held"
            assert client._shared.limiter.free == 50, f"seed {seed}: limiter not released"
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert not left, f"seed {seed}: tasks left: {left[:5]}"
            assert not problems, f"seed {seed}: the loop reported {problems[:3]}"
            # Still fully usable: more concurrent calls than the limit, and a stream.
            assert all(await asyncio.gather(*(client.system.ping() for _ in range(120))))
            async with client.system.events() as stream:
                await anext(aiter(stream))
        finally:
            MID_BODY_CANCEL[0] = 0.0
            await client.aclose()
            loop.set_debug(False)
    gc.collect()
    leaked = open_fds() - before_fds
    assert not leaked, f"seed {seed}: file descriptors left open: {sorted(leaked)}"


async def test_hijack_cancelled_as_the_daemon_answers_is_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiodock._streams import streaming as _streaming

    real = _streaming.read_response_head
    outer: list[asyncio.Task[Any]] = []

    async def head_then_cancel(reader: RawConnection, what: str) -> Any:
        result = await real(reader, what)
        outer[0].cancel()  # the caller is cancelled just as the answer is complete
        return result

    monkeypatch.setattr(_streaming, "read_response_head", head_then_cancel)
    with threaded_fake() as server:
        async with DockerClient(server.host, api_version="1.41") as client:

            async def attach_and_read() -> str:
                async with await client.containers.attach(TALKER, tty=False) as stream:
                    async for _ in stream:
                        return "the cancellation was swallowed: reading on"
                return "ended"

            task = asyncio.ensure_future(attach_and_read())
            outer.append(task)
            done, _ = await asyncio.wait([task], timeout=5)
            assert task in done
            assert task.cancelled(), task.result()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
async def test_each_operation_cancelled_mid_flight_releases_its_connection(op: Op) -> None:
    """One operation at a time, cancelled once it is surely under way (streams: after
    their first items), in debug mode."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    RECEIVED.clear()
    try:
        with threaded_fake() as server:
            async with DockerClient(server.host) as client:
                await client.system.ping()
                sent = len(server.fake.requests)
                HOLDING.clear()
                task = asyncio.ensure_future(op(client))

                def under_way(task: asyncio.Future[Any] = task) -> bool:
                    if op in MID_BODY_OPS:
                        return RECEIVED[op.__name__] >= 3  # a few items into the body
                    if op in (started_never_read, never_started):
                        return op.__name__ in HOLDING
                    return len(server.fake.requests) > sent or task.done()  # at the daemon

                await eventually(under_way, what=f"{op.__name__} gets under way")
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                    await task
                # Python 3.10 keeps the cancelled coroutine's frame (and a stream it
                # holds unread) alive through the task; a caller drops its tasks too.
                del task, under_way
                gc.collect()
                await asyncio.sleep(0)
                assert acquired(client) == 0
                assert client._shared.limiter.free == 100
                assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                assert await client.system.ping()
    finally:
        loop.set_debug(False)
    assert not problems
