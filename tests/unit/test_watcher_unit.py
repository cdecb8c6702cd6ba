"""EventWatcher and its pure parts, against a scripted ``/events`` server (aiohttp.web).

The fake server behaves like the daemon where it matters: ``since`` replays the
logged events with ``timeNano >= since`` and subscribes atomically after the
replay snapshot; the test decides when a connection is cut (abruptly, cleanly,
or in the middle of a JSON document) and which requests fail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from aiodock import (
    BadRequest,
    DockerClient,
    DockerConnectionError,
    InvalidArgument,
    ResponseValidationError,
    ServerError,
    UsageError,
)
from aiodock._rules import timestamp as format_event_time
from aiodock.models.events import Event, EventActor, parse_event
from aiodock.watcher import (
    EventDeduplicator,
    EventMatcher,
    EventWatcher,
    backoff_delay,
)
from tests.unit._server import ping_app, serve

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def watch(client: DockerClient, **options: Any) -> EventWatcher:
    """A watcher that reconnects quickly (tests do not wait for real backoff)."""
    options = {"backoff": 0.01, "max_backoff": 0.05, "jitter": 0.0, **options}
    return EventWatcher(client, **options)


def ev(
    t: int,
    action: str = "create",
    actor: str = "c1",
    type: str = "container",
    **attributes: str,
) -> Event:
    return Event(
        type=type,
        action=action,
        actor=EventActor(id=actor, attributes=attributes),
        time=t // NS,
        time_nano=t,
    )


# --- backoff ------------------------------------------------------------------------


def test_backoff_grows_and_caps_without_jitter() -> None:
    delays = [backoff_delay(n, initial=0.5, maximum=4.0, jitter=0) for n in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert backoff_delay(10_000, initial=0.5, maximum=4.0, jitter=0) == 4.0


def test_backoff_jitter_stays_within_bounds_and_varies() -> None:
    rng = random.Random(7)
    values = [backoff_delay(3, initial=1.0, maximum=30.0, jitter=0.5, rng=rng) for _ in range(200)]
    assert all(4.0 <= v <= 8.0 for v in values)
    assert len({round(v, 6) for v in values}) > 100


# --- de-duplication -------------------------------------------------------------------


def test_dedup_recognises_the_same_event() -> None:
    d = EventDeduplicator(window_ns=NS)
    assert d.resume_since_ns is None
    a = ev(T0, "create")
    assert d.add(a) is True
    assert d.add(ev(T0, "create")) is False
    assert d.duplicates == 1
    # Same time, different action / actor / type: distinct events.
    assert d.add(ev(T0, "start")) is True
    assert d.add(ev(T0, "create", actor="c2")) is True
    assert d.add(ev(T0, "create", type="network")) is True
    assert d.add(ev(T0 + 1, "create")) is True
    assert d.duplicates == 1
    assert d.newest_ns == T0 + 1
    assert d.resume_since_ns == T0 + 1 - NS


def test_dedup_forgets_only_what_a_replay_cannot_send_again() -> None:
    d = EventDeduplicator(window_ns=100)
    for t in range(T0, T0 + 1000, 10):
        assert d.add(ev(t, actor=f"c{t}"))
    since = d.resume_since_ns
    assert since == T0 + 990 - 100
    # Everything a replay from ``since`` sends again is recognised...
    for t in range(since, T0 + 1000, 10):
        assert d.seen(ev(t, actor=f"c{t}")), t
        assert d.add(ev(t, actor=f"c{t}")) is False
    # ...and memory stays bounded by the window.
    assert len(d) == 11


def test_dedup_accepts_slightly_out_of_order_events() -> None:
    d = EventDeduplicator(window_ns=50)
    assert d.add(ev(T0 + 100))
    assert d.add(ev(T0 + 90, actor="late"))  # stamped earlier, logged later
    assert d.add(ev(T0 + 90, actor="late")) is False
    assert d.resume_since_ns == T0 + 50


def test_dedup_rejects_negative_window() -> None:
    with pytest.raises(InvalidArgument):
        EventDeduplicator(window_ns=-1)


# --- client-side filters ------------------------------------------------------------------


def test_matcher_type_event_scope() -> None:
    m = EventMatcher({"type": ["container", "network"], "event": ["start", "die"]})
    assert m(ev(T0, "start"))
    assert m(ev(T0, "die", type="network"))
    assert not m(ev(T0, "create"))
    assert not m(ev(T0, "start", type="image"))
    scoped = EventMatcher({"scope": "local"})
    assert scoped(Event(type="container", action="start", scope="local"))
    assert not scoped(Event(type="container", action="start", scope="swarm"))


def test_matcher_exec_events_match_by_prefix() -> None:
    m = EventMatcher({"event": "exec_start"})
    assert m(ev(T0, "exec_start: sh -c true"))
    assert not m(ev(T0, "exec_create: sh"))
    exact = EventMatcher({"event": "start"})
    assert not exact(ev(T0, "start: x"))


def test_matcher_labels_are_anded() -> None:
    m = EventMatcher({"label": {"app": "web", "tier": True}})
    assert m(ev(T0, app="web", tier="front"))
    assert not m(ev(T0, app="web"))
    assert not m(ev(T0, app="db", tier="x"))


def test_matcher_objects_by_id_prefix_or_name() -> None:
    m = EventMatcher({"container": ["abc", "web"]})
    assert m(ev(T0, actor="abcdef"))
    assert m(ev(T0, actor="zzz", name="web"))
    assert not m(ev(T0, actor="zzz", name="db"))
    net = EventMatcher({"network": "mynet"})
    assert net(ev(T0, "connect", actor="n1", type="network", name="mynet"))


def test_matcher_image_with_and_without_tag() -> None:
    m = EventMatcher({"image": "busybox"})
    assert m(ev(T0, image="busybox:latest"))
    assert m(ev(T0, "pull", actor="busybox:1.36", type="image", name="busybox:1.36"))
    assert not m(ev(T0, image="alpine:3"))
    assert EventMatcher({"image": "reg:5000/app"})(ev(T0, image="reg:5000/app:v1"))


def test_matcher_predicate_and_unknown_keys() -> None:
    m = EventMatcher(predicate=lambda e: e.actor_id.startswith("x"))
    assert m(ev(T0, actor="x1")) and not m(ev(T0, actor="y1"))
    assert not EventMatcher()
    with pytest.raises(InvalidArgument, match="unknown event filter"):
        EventMatcher({"colour": "red"})
    with pytest.raises(InvalidArgument):
        EventMatcher({"type": 1.5})  # type: ignore[dict-item]


# --- event parsing and times ----------------------------------------------------------------


def test_parse_event_full_and_legacy_fields() -> None:
    raw = {
        "status": "start",
        "id": "abc",
        "from": "busybox",
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": "abc", "Attributes": {"name": "x", "image": "busybox"}},
        "scope": "local",
        "time": 1_700_000_000,
        "timeNano": 1_700_000_000_123_456_789,
    }
    e = parse_event(raw)
    assert (e.type, e.action, e.actor_id, e.scope) == ("container", "start", "abc", "local")
    assert (e.status, e.id, e.from_) == ("start", "abc", "busybox")
    assert e.attributes == {"name": "x", "image": "busybox"}
    assert e.time_nano == 1_700_000_000_123_456_789
    assert e.datetime.isoformat() == "2023-11-14T22:13:20.123456+00:00"
    assert e.key == (1_700_000_000_123_456_789, "abc", "start", "container")


def test_parse_event_tolerates_nulls_and_old_daemons() -> None:
    e = parse_event({"status": "die", "id": "abc", "time": 5, "Actor": None})
    assert e.action == "die" and e.actor_id == "abc" and e.time_nano == 5 * NS
    assert parse_event({}).key == (0, "", "", "")
    with pytest.raises(TypeError):
        parse_event([1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000, "1700000000"),
        (1_700_000_000.5, "1700000000.500000000"),
        (0.1, "0.100000000"),
        ("10m", "10m"),
        ("2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z"),
    ],
)
def test_format_event_time(value: Any, expected: str) -> None:
    assert format_event_time(value) == expected


def test_format_event_time_datetime_is_exact() -> None:
    import datetime as dt

    value = dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.timezone.utc)
    assert format_event_time(value) == "1700000000.123456000"
    offset = value.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert format_event_time(offset) == "1700000000.123456000"


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), "", " ", True, b"1", None])
def test_format_event_time_rejects(bad: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        format_event_time(bad, "until")
    assert info.value.parameter == "until"


# --- a scripted /events server -------------------------------------------------------------

CUT = "cut"  # close the connection abruptly (no terminating chunk)
END = "end"  # end the response body cleanly
HALF = "half"  # send half a JSON document, then cut
BAD = "bad"  # send a JSON document that is not an event


class FakeEvents:
    """The daemon's event log and ``GET /events``, scripted by the test."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.live: list[asyncio.Queue[Any]] = []
        self.fail_next: list[int | str] = []
        self.t = T0
        self.connected = asyncio.Event()

    def emit(
        self, action: str = "create", actor: str = "c1", type: str = "container", **attrs: str
    ) -> dict[str, Any]:
        self.t += 1000
        raw = {
            "Type": type,
            "Action": action,
            "Actor": {"ID": actor, "Attributes": attrs},
            "scope": "local",
            "time": self.t // NS,
            "timeNano": self.t,
        }
        self.log.append(raw)
        for q in self.live:
            q.put_nowait(raw)
        return raw

    def control(self, what: str) -> None:
        for q in self.live:
            q.put_nowait(what)

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.query))
        if self.fail_next:
            failure = self.fail_next.pop(0)
            if failure == "refuse":
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.json_response({"message": f"scripted {failure}"}, status=int(failure))
        since = request.query.get("since")
        snapshot: list[dict[str, Any]] = []
        if since is not None:
            seconds, _, frac = since.partition(".")
            since_ns = int(seconds) * NS + int((frac or "0").ljust(9, "0")[:9])
            snapshot = [e for e in self.log if e["timeNano"] >= since_ns]
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.live.append(queue)
        try:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            self.connected.set()
            for raw in snapshot:
                await response.write(json.dumps(raw).encode() + b"\n")
            while True:
                item = await queue.get()
                if item == END:
                    await response.write_eof()
                    return response
                if item == BAD:
                    await response.write(b"[1, 2]\n")
                    continue
                if item in (CUT, HALF):
                    if item == HALF:
                        await response.write(b'{"Type": "container", "Act')
                    assert request.transport is not None
                    request.transport.close()
                    return response
                await response.write(json.dumps(item).encode() + b"\n")
        finally:
            self.live.remove(queue)
            self.connected.clear()


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeEvents, DockerClient]]:
    events = FakeEvents()
    app = ping_app("1.41")
    app.router.add_get("/v1.41/events", events.handler)
    async with serve(app) as url, DockerClient(url) as client:
        yield events, client


async def take(sub: Any, n: int, timeout: float = 5.0) -> list[Event]:
    async def run() -> list[Event]:
        return [await sub.__anext__() for _ in range(n)]

    return await asyncio.wait_for(run(), timeout)


async def settle(condition: Any, timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds (the watcher's counters have no change events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


def keys(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.action, e.actor_id) for e in events]


# --- system.events --------------------------------------------------------------------


async def test_events_stream_sends_encoded_parameters(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    server.emit("create", "a")
    server.emit("start", "a")
    stream = client.system.events(
        filters={"type": "container", "label": {"x": "1"}}, since=T0 // NS, until="1h"
    )
    async with stream:
        server.control(END)
        got = [e async for e in stream]
    assert keys(got) == [("create", "a"), ("start", "a")]
    query = server.requests[-1]
    assert json.loads(query["filters"]) == {"type": ["container"], "label": ["x=1"]}
    assert query["since"] == str(T0 // NS) and query["until"] == "1h"


def test_events_rejects_bad_arguments_before_any_request() -> None:
    client = DockerClient("unix:///nonexistent.sock")
    with pytest.raises(InvalidArgument, match="filters"):
        client.system.events(filters={"type": 1.5})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="until"):
        client.system.events(since=200, until=100)
    with pytest.raises(InvalidArgument, match="inactivity_timeout"):
        client.system.events(inactivity_timeout=0)


# --- the watcher ------------------------------------------------------------------------


async def test_reconnects_resumes_with_since_and_delivers_each_event_once(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    async with watch(client, overlap=0.0000025) as watcher:
        sub = watcher.subscribe()
        await watcher.wait_connected(5)
        for i in range(5):
            server.emit("create", f"c{i}")
        first = await take(sub, 5)
        server.fail_next = [500, 503]
        server.control(CUT)
        await settle(lambda: not watcher.connected)
        for i in range(5, 8):  # while the watcher is away
            server.emit("create", f"c{i}")
        await settle(lambda: watcher.connected)
        server.emit("create", "c8")  # live after the resume
        rest = await take(sub, 4)
        # c8 is the last thing the daemon sends and the reader has handled it (9 events,
        # 3 duplicates), so nothing more can arrive: the queue must be empty now.
        assert (watcher.state.events, watcher.state.duplicates) == (9, 3)
        assert sub.pending == 0
    got = first + rest
    assert keys(got) == [("create", f"c{i}") for i in range(9)]
    # The resume asked for a replay from the newest event seen minus the overlap.
    since_ns = server.log[4]["timeNano"] - 2500
    assert server.requests[-1]["since"] == f"{since_ns // NS}.{since_ns % NS:09d}"
    assert [r.get("since") for r in server.requests[1:]] == [server.requests[-1]["since"]] * 3
    state = watcher.state
    assert state.reconnects == 3  # 500, 503, then the good one
    assert state.connections == 2
    assert state.duplicates == 3  # c2..c4 fall in the 2.5 us overlap
    assert state.events == 9
    assert state.possible_gaps == 0
    assert state.status == "closed"
    assert isinstance(state.last_error, ServerError)


async def test_truncated_document_and_clean_end_both_reconnect(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    async with watch(client) as watcher:
        sub = watcher.subscribe()
        await watcher.wait_connected(5)
        server.emit("create", "a")
        await take(sub, 1)
        server.control(HALF)
        await settle(lambda: watcher.state.connections == 2)
        server.emit("start", "a")
        await take(sub, 1)
        server.control(END)
        await settle(lambda: watcher.state.connections == 3)
        server.emit("die", "a")
        assert keys(await take(sub, 1)) == [("die", "a")]
        assert watcher.state.events == 3


async def test_resume_before_any_event_uses_the_daemon_connection_time(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    async with watch(client) as watcher:
        await watcher.wait_connected(5)
        assert "since" not in server.requests[0]
        server.control(CUT)
        await settle(lambda: len(server.requests) == 2 and watcher.connected)
    since = server.requests[1]["since"]
    seconds = int(since.split(".")[0])
    import time as _time

    assert abs(seconds - _time.time()) < 5


async def test_possible_gap_is_counted_when_the_replay_misses_the_last_event(
    fake: tuple[FakeEvents, DockerClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = fake
    async with watch(client, overlap=0) as watcher:
        sub = watcher.subscribe()
        await watcher.wait_connected(5)
        server.emit("create", "a")
        await take(sub, 1)
        server.control(CUT)
        await settle(lambda: not watcher.connected)
        server.log.clear()  # the daemon's buffer rolled over
        server.emit("create", "b")
        with caplog.at_level(logging.WARNING, logger="aiodock.watcher"):
            await take(sub, 1)
        assert watcher.state.possible_gaps == 1
    assert "gap" in caplog.text


async def test_slow_subscriber_does_not_stall_the_others(
    fake: tuple[FakeEvents, DockerClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = fake
    n = 200
    async with watch(client) as watcher:
        slow = watcher.subscribe(maxsize=5, name="slow")
        fast = watcher.subscribe(maxsize=n, name="fast")
        await watcher.wait_connected(5)
        with caplog.at_level(logging.WARNING, logger="aiodock.watcher"):
            for i in range(n):
                server.emit("create", f"c{i}")
            got = await take(fast, n)
        assert keys(got) == [("create", f"c{i}") for i in range(n)]
        assert slow.dropped == n - 5
        state = watcher.state
        assert state.dropped == {"slow": n - 5, "fast": 0}
        assert state.total_dropped == n - 5
        # The slow consumer keeps the newest events.
        assert keys(await take(slow, 5)) == [("create", f"c{i}") for i in range(n - 5, n)]
    assert "'slow' is too slow" in caplog.text


async def test_block_policy_applies_back_pressure_and_loses_nothing(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    async with watch(client) as watcher:
        blocking = watcher.subscribe(maxsize=2, policy="block")
        other = watcher.subscribe(maxsize=100)
        await watcher.wait_connected(5)
        for i in range(10):
            server.emit("create", f"c{i}")
        # Stalled: the reader waits for room in the blocking queue (a full queue's
        # _put clears _writable and waits on it), and handles nothing more meanwhile.
        await settle(lambda: blocking.pending == 2 and not blocking._writable.is_set())
        assert other.pending == 3
        got = await take(blocking, 10)
        assert keys(got) == [("create", f"c{i}") for i in range(10)]
        assert len(await take(other, 10)) == 10
        assert blocking.dropped == 0 and watcher.state.total_dropped == 0


async def test_subscription_filters_and_callbacks(
    fake: tuple[FakeEvents, DockerClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = fake
    seen_sync: list[Event] = []
    seen_async: list[Event] = []

    async def slow_async(event: Event) -> None:
        await asyncio.sleep(0)
        seen_async.append(event)

    def failing(event: Event) -> None:
        raise RuntimeError("callback bug")

    async with watch(client) as watcher:
        starts = watcher.subscribe({"event": "start"})
        watcher.add_callback(seen_sync.append, {"label": {"app": "web"}})
        bad = watcher.add_callback(failing, name="bad")
        await watcher.wait_connected(5)
        watcher.add_callback(slow_async)  # added while running
        with caplog.at_level(logging.ERROR, logger="aiodock.watcher"):
            server.emit("create", "a", app="web")
            server.emit("start", "a", app="web")
            server.emit("start", "b", app="db")
            got = await take(starts, 2)
            await settle(lambda: len(seen_async) == 3 and bad.callback_errors == 3)
        assert keys(got) == [("start", "a"), ("start", "b")]
        assert keys(seen_sync) == [("create", "a"), ("start", "a")]
    assert "callback bug" in caplog.text


async def test_client_errors_are_fatal_and_reach_every_subscriber(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    server.fail_next = [400]
    watcher = watch(client)
    sub = watcher.subscribe()
    async with watcher:
        with pytest.raises(BadRequest, match="scripted 400"):
            await sub.__anext__()
        with pytest.raises(BadRequest):
            await watcher.wait()
        with pytest.raises(BadRequest):
            await watcher.wait_connected(1)
        state = watcher.state
        assert state.status == "failed" and state.reconnects == 0
        with pytest.raises(UsageError):
            watcher.subscribe()
    assert len(server.requests) == 1


async def test_gives_up_after_max_reconnects(fake: tuple[FakeEvents, DockerClient]) -> None:
    server, client = fake
    server.fail_next = [502] * 10
    async with watch(client, max_reconnects=3) as watcher:
        with pytest.raises(ServerError, match="scripted 502"):
            await asyncio.wait_for(watcher.wait(), 5)
        assert watcher.state.reconnects == 3
    assert len(server.requests) == 4


async def test_inactivity_timeout_reconnects(fake: tuple[FakeEvents, DockerClient]) -> None:
    _, client = fake
    async with watch(client, inactivity_timeout=0.1) as watcher:
        await watcher.wait_connected(5)
        await settle(lambda: watcher.state.connections >= 2)
        assert "timed out" in str(watcher.state.last_error)


async def test_aclose_ends_iteration_and_cancels_callbacks(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    blocker = asyncio.Event()

    async def never_done(event: Event) -> None:
        await blocker.wait()

    watcher = watch(client)
    sub = watcher.subscribe()
    cb = watcher.add_callback(never_done)
    async with watcher:
        await watcher.wait_connected(5)
        server.emit("create", "a")
        await settle(lambda: cb.delivered == 1)

        async def consume() -> list[Event]:
            return [e async for e in sub]

        consumer = asyncio.create_task(consume())
        await settle(lambda: sub.delivered == 1)  # has "a" and waits for the next event
    got = await asyncio.wait_for(consumer, 5)
    assert keys(got) == [("create", "a")]
    assert watcher.state.status == "closed"
    await settle(lambda: not server.live)  # the connection is gone
    await watcher.aclose()  # idempotent
    with pytest.raises(UsageError):
        watcher.start()


async def test_cancelling_the_owner_task_stops_the_watcher(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    holder: list[EventWatcher] = []

    async def owner() -> None:
        async with watch(client) as watcher:
            holder.append(watcher)
            async with watcher.subscribe() as sub:
                async for _ in sub:
                    pass

    task = asyncio.create_task(owner())
    await settle(lambda: bool(holder) and holder[0].connected)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert holder[0].state.status == "closed"
    await settle(lambda: not server.live)


async def test_unsubscribe_while_blocking_releases_the_reader(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    server, client = fake
    async with watch(client) as watcher:
        blocking = watcher.subscribe(maxsize=1, policy="block")
        other = watcher.subscribe()
        await watcher.wait_connected(5)
        for i in range(5):
            server.emit("create", f"c{i}")
        await settle(lambda: other.pending == 2)
        await blocking.aclose()
        assert len(await take(other, 5)) == 5
        assert watcher.state.subscribers == 1


def test_watcher_validates_options() -> None:
    client = DockerClient("unix:///nonexistent.sock")
    for kwargs in (
        {"backoff": 0},
        {"backoff": 2, "max_backoff": 1},
        {"jitter": 2},
        {"overlap": -1},
        {"max_reconnects": -1},
        {"inactivity_timeout": 0},
        {"filters": {"type": 2.5}},
        {"since": -5},
    ):
        with pytest.raises(InvalidArgument):
            EventWatcher(client, **kwargs)
    watcher = EventWatcher(client)
    with pytest.raises(InvalidArgument, match="policy"):
        watcher.subscribe(policy="fastest")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="maxsize"):
        watcher.subscribe(maxsize=0)
    watcher.subscribe(name="a")
    with pytest.raises(InvalidArgument, match="name"):
        watcher.subscribe(name="a")


async def test_a_malformed_event_is_a_validation_error_and_the_watcher_stops(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    # An event that does not fit the model is a client/daemon mismatch, not a
    # network fault: reconnecting would get the same event again, forever.
    server, client = fake
    async with client.system.events() as stream:
        server.control(BAD)
        with pytest.raises(ResponseValidationError, match="does not fit Event") as caught:
            await stream.__anext__()
    assert not isinstance(caught.value, DockerConnectionError)
    assert (caught.value.method, caught.value.path, caught.value.model) == (
        "GET",
        "/events",
        "Event",
    )
    async with watch(client) as watcher:
        sub = watcher.subscribe()
        await watcher.wait_connected(5)
        server.control(BAD)
        await settle(lambda: watcher.state.status == "failed")
        assert isinstance(watcher.error, ResponseValidationError)
        assert watcher.state.connections == 1  # no reconnection
        with pytest.raises(ResponseValidationError):
            await take(sub, 1)


async def test_reader_cancelled_from_outside_ends_subscriptions(
    fake: tuple[FakeEvents, DockerClient],
) -> None:
    _, client = fake
    watcher = watch(client)
    sub = watcher.subscribe()
    with pytest.raises(UsageError, match="not started"):
        await watcher.wait()
    async with watcher:
        await watcher.wait_connected(5)
        task = watcher._task
        assert task is not None
        task.cancel()  # as the loop does when it shuts down
        assert [e async for e in sub] == []
        await asyncio.wait_for(watcher.wait(), 5)
        assert watcher.state.status == "closed"


# --- the same guarantees against aiodock.testing.FakeDocker ---------------------------------


async def test_fake_docker_slow_subscriber_does_not_stall_and_faults_reconnect() -> None:
    from aiodock.testing import FakeDocker

    async with FakeDocker() as fake, fake.client() as client:
        fake.fail_next("GET", "/events", status=500, message="daemon hiccup")
        async with watch(client, filters={"type": "container"}) as watcher:
            slow = watcher.subscribe(maxsize=3, name="slow")
            fast = watcher.subscribe(maxsize=500, name="fast")
            await watcher.wait_connected(5)
            assert watcher.state.reconnects == 1
            assert "daemon hiccup" in str(watcher.state.last_error)
            for i in range(100):
                fake.emit_event("container", "create", f"c{i}", {"name": f"n{i}"})
                fake.emit_event("network", "create", f"n{i}")  # filtered by the daemon
            got = await take(fast, 100)
            assert keys(got) == [("create", f"c{i}") for i in range(100)]
            assert slow.dropped == 97 and watcher.state.dropped["slow"] == 97
            assert keys(await take(slow, 3)) == [("create", f"c{i}") for i in (97, 98, 99)]
            assert watcher.state.events == 100


async def test_fake_docker_client_error_is_fatal() -> None:
    from aiodock.testing import FakeDocker

    async with FakeDocker() as fake, fake.client() as client:
        fake.fail_next("GET", "/events", status=400, message="bad filter")
        async with watch(client) as watcher:
            sub = watcher.subscribe()
            with pytest.raises(BadRequest, match="bad filter"):
                await asyncio.wait_for(sub.__anext__(), 5)
            assert watcher.state.status == "failed" and watcher.state.reconnects == 0
