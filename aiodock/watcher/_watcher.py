"""``EventWatcher``: the one shared ``/events`` connection, its reconnects and its fan-out
to the subscriptions (the behaviour is described in :mod:`aiodock.watcher`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import email.utils
import inspect
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

import attrs

from .._filters import Filters, normalize_filters
from ..errors import (
    DockerConnectionError,
    DockerTimeoutError,
    InvalidArgument,
    ServerError,
    StreamError,
    UsageError,
)
from ..models.events import Event
from ._matcher import EventMatcher
from ._replay import EventDeduplicator, backoff_delay
from ._subscription import POLICIES, CallbackFn, Policy, Subscription

if TYPE_CHECKING:
    from .._client import DockerClient
    from .._rules import EventTime

__all__ = ["EventWatcher", "WatcherState"]

# The logger is the package's: users configure ``aiodock.watcher``.
_log = logging.getLogger("aiodock.watcher")

_NS = 1_000_000_000
# Errors after which reconnecting can help.
_RETRYABLE = (DockerConnectionError, DockerTimeoutError, ServerError, StreamError)

Status = Literal["idle", "connecting", "connected", "reconnecting", "closed", "failed"]


@attrs.frozen(kw_only=True)
class WatcherState:
    """A snapshot of what an :class:`EventWatcher` is doing."""

    status: Status
    connected: bool
    reconnecting: bool
    #: Time of the newest event received (UTC), ``None`` before the first.
    last_event_time: _dt.datetime | None
    last_time_nano: int
    #: Reconnect attempts made since the watcher started.
    reconnects: int
    #: Successful connections (the first one included).
    connections: int
    #: Distinct events received (duplicates from replays not counted).
    events: int
    #: Replayed events recognised as already delivered and suppressed.
    duplicates: int
    #: Resumes whose replay did not reach back to the last event seen.
    possible_gaps: int
    #: Events dropped per subscription name (``drop-oldest`` subscriptions).
    dropped: Mapping[str, int]
    total_dropped: int
    subscribers: int
    last_error: BaseException | None


class EventWatcher:
    """A long-running event consumer with reconnection and fan-out.

    ::

        async with EventWatcher(docker, filters={"type": "container"}) as watcher:
            async with watcher.subscribe(filters={"event": ["start", "die"]}) as events:
                async for event in events:
                    print(event.action, event.actor.attributes.get("name"))

    Args:
        client: the client whose connection the one shared stream uses.
        filters: filters sent to the daemon for the one shared stream
            (:mod:`aiodock._filters` forms); subscribers can narrow further.
        since: replay from this time on the first connection (see
            :meth:`~aiodock.resources.system.System.events`).
        backoff: first reconnect delay in seconds; it grows by ``backoff_factor``
            up to ``max_backoff``, minus up to ``jitter`` (a fraction) at random.
        max_backoff: the longest reconnect delay in seconds.
        backoff_factor: how much the delay grows after each failed attempt (>= 1).
        jitter: the fraction (0..1) of each delay that may be taken off at random,
            so that many watchers do not reconnect in step.
        max_reconnects: give up (fail) after this many reconnects in a row
            without a stable connection; ``None``: never give up.
        overlap: seconds before the newest event seen to resume from, so that
            events the daemon stamped slightly out of order are not missed; what is
            replayed twice is recognised and suppressed.
        inactivity_timeout: reconnect when the stream stays silent this
            long (detects dead TCP connections; events can legitimately be rare).
        stable_after: seconds a connection must stay up before the backoff and
            the count of reconnects in a row start again from the beginning.
        rng: the random generator for the jitter (pass a seeded one in tests).
    """

    def __init__(
        self,
        client: DockerClient,
        *,
        filters: Filters | None = None,
        since: EventTime | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        backoff_factor: float = 2.0,
        jitter: float = 0.5,
        max_reconnects: int | None = None,
        overlap: float = 1.0,
        inactivity_timeout: float | None = None,
        stable_after: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        from .._rules import timestamp

        if not backoff > 0:
            raise InvalidArgument("backoff", backoff, "must be positive")
        if not max_backoff >= backoff:
            raise InvalidArgument("max_backoff", max_backoff, "must be at least backoff")
        if not backoff_factor >= 1:
            raise InvalidArgument("backoff_factor", backoff_factor, "must be at least 1")
        if not 0 <= jitter <= 1:
            raise InvalidArgument("jitter", jitter, "must be between 0 and 1")
        if max_reconnects is not None and max_reconnects < 0:
            raise InvalidArgument("max_reconnects", max_reconnects, "must be >= 0 or None")
        if not overlap >= 0:
            raise InvalidArgument("overlap", overlap, "must not be negative")
        if inactivity_timeout is not None and not inactivity_timeout > 0:
            raise InvalidArgument("inactivity_timeout", inactivity_timeout, "must be positive")
        self._client = client
        self._filters = normalize_filters(filters)
        self._since = None if since is None else timestamp(since, "since")
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._factor = backoff_factor
        self._jitter = jitter
        self._max_reconnects = max_reconnects
        self._inactivity = inactivity_timeout
        self._stable_after = stable_after
        self._rng = rng
        self._dedup = EventDeduplicator(round(overlap * _NS))
        self._subs: list[Subscription] = []
        self._names = 0
        self._task: asyncio.Task[None] | None = None
        self._status: Status = "idle"
        self._connected = asyncio.Event()
        self._stopped = asyncio.Event()
        self._error: BaseException | None = None
        self._last_error: BaseException | None = None
        self._reconnects = 0
        self._connections = 0
        self._events = 0
        self._gaps = 0
        self._anchor_ns: int | None = None  # resume point before the first event
        self._dropped_gone: dict[str, int] = {}

    def __repr__(self) -> str:
        return (
            f"<EventWatcher {self._status} events={self._events} "
            f"reconnects={self._reconnects} subscribers={len(self._subs)}>"
        )

    # -- subscribing --------------------------------------------------------------------

    def _new_subscription(
        self,
        filters: Filters | None,
        predicate: Callable[[Event], bool] | None,
        maxsize: int,
        policy: str,
        name: str | None,
    ) -> Subscription:
        if self._status in ("closed", "failed"):
            raise UsageError(f"this EventWatcher is {self._status}; create a new one")
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise InvalidArgument("maxsize", maxsize, "must be a positive int")
        if policy not in POLICIES:
            raise InvalidArgument("policy", policy, f"expected one of {list(POLICIES)}")
        matcher = EventMatcher(filters, predicate)
        self._names += 1
        label = name if name is not None else f"subscriber-{self._names}"
        if any(s.name == label for s in self._subs):
            raise InvalidArgument("name", name, "another subscription has this name")
        sub = Subscription(self, matcher, maxsize=maxsize, policy=policy, name=label)  # type: ignore[arg-type]
        self._subs.append(sub)
        return sub

    def subscribe(
        self,
        filters: Filters | None = None,
        *,
        predicate: Callable[[Event], bool] | None = None,
        maxsize: int = 1000,
        policy: Policy = "drop-oldest",
        name: str | None = None,
    ) -> Subscription:
        """A new consumer: an async iterator of the events matching ``filters``/``predicate``.

        Subscribe before or after :meth:`start`; a subscription sees the events
        received from then on.

        Args:
            filters: narrow the watcher's events further, in the same forms as the
                daemon's filters (``{"event": ["start", "die"]}``), matched here.
            predicate: a function of the event; only events it returns true for are queued.
            maxsize: the most events queued for this subscriber.
            policy: what happens when the queue is full: ``"drop-oldest"`` (counted
                in ``dropped``) or ``"block"`` (back-pressure on the shared stream).
            name: a name for logs and ``state.dropped``; one is made up if not given.
        """
        return self._new_subscription(filters, predicate, maxsize, policy, name)

    def add_callback(
        self,
        callback: CallbackFn,
        filters: Filters | None = None,
        *,
        predicate: Callable[[Event], bool] | None = None,
        maxsize: int = 1000,
        policy: Policy = "drop-oldest",
        name: str | None = None,
    ) -> Subscription:
        """Call ``callback(event)`` (a function or a coroutine function) for each event.

        The callback runs in its own task, fed by its own queue, so a slow one does
        not hold up the others (with the default policy). Exceptions it raises are
        logged on ``aiodock.watcher`` and counted in ``callback_errors``; the
        callback keeps receiving events. Remove it with the returned
        subscription's ``aclose``.

        Args:
            callback: a function or coroutine function taking one
                :class:`~aiodock.models.events.Event`.
            filters: narrow the watcher's events further (matched here).
            predicate: a function of the event; only events it returns true for are delivered.
            maxsize: the most events queued for this callback.
            policy: ``"drop-oldest"`` or ``"block"`` when the queue is full.
            name: a name for logs and ``state.dropped``.
        """
        if not callable(callback):
            raise InvalidArgument("callback", callback, "expected a callable")
        sub = self._new_subscription(filters, predicate, maxsize, policy, name)
        sub._callback = callback
        if self._task is not None:
            self._start_callback(sub)
        return sub

    def _start_callback(self, sub: Subscription) -> None:
        callback, sub._callback = sub._callback, None
        if callback is not None:
            loop = asyncio.get_running_loop()
            sub._task = loop.create_task(
                self._run_callback(sub, callback), name=f"aiodock-event-callback-{sub.name}"
            )

    def _unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            if sub.dropped:
                self._dropped_gone[sub.name] = self._dropped_gone.get(sub.name, 0) + sub.dropped

    async def _run_callback(self, sub: Subscription, callback: CallbackFn) -> None:
        try:
            async for event in sub:
                try:
                    result = callback(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    sub.callback_errors += 1
                    _log.exception("event callback %r failed on %s", sub.name, event.key)
        except Exception:
            pass  # the watcher failed: wait() raises the error and state shows it

    # -- state ----------------------------------------------------------------------------

    @property
    def state(self) -> WatcherState:
        """A snapshot of the connection state and the counters."""
        dropped = dict(self._dropped_gone)
        for sub in self._subs:
            dropped[sub.name] = dropped.get(sub.name, 0) + sub.dropped
        newest = self._dedup.newest_ns
        last_time = None
        if newest is not None:
            seconds, nanos = divmod(newest, _NS)
            last_time = _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc) + _dt.timedelta(
                microseconds=nanos // 1000
            )
        return WatcherState(
            status=self._status,
            connected=self._status == "connected",
            reconnecting=self._status == "reconnecting",
            last_event_time=last_time,
            last_time_nano=newest or 0,
            reconnects=self._reconnects,
            connections=self._connections,
            events=self._events,
            duplicates=self._dedup.duplicates,
            possible_gaps=self._gaps,
            dropped=dropped,
            total_dropped=sum(dropped.values()),
            subscribers=len(self._subs),
            last_error=self._last_error,
        )

    @property
    def connected(self) -> bool:
        return self._status == "connected"

    @property
    def error(self) -> BaseException | None:
        """The error the watcher failed with, if it did."""
        return self._error

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading events in a background task (``async with`` does this)."""
        if self._status in ("closed", "failed"):
            raise UsageError(f"this EventWatcher is {self._status}; create a new one")
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="aiodock-event-watcher")
        for sub in self._subs:
            self._start_callback(sub)

    async def __aenter__(self) -> EventWatcher:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the stream is open (raises the watcher's error if it fails first).

        Args:
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`;
                ``None`` waits as long as it takes.
        """
        if self._task is None:
            raise UsageError("the EventWatcher is not started; use 'async with' or start()")
        connected = asyncio.ensure_future(self._connected.wait())
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait(
                {connected, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
            stopped.cancel()
        if self._connected.is_set():
            return
        if self._error is not None:
            raise self._error
        if self._stopped.is_set():
            raise UsageError("the EventWatcher was closed before it connected")
        raise DockerTimeoutError(f"the event stream did not connect within {timeout} s")

    async def wait(self) -> None:
        """Run until the watcher is closed; raise the error it failed with, if any."""
        if self._task is None and not self._stopped.is_set():
            raise UsageError("the EventWatcher is not started; use 'async with' or start()")
        await self._stopped.wait()
        if self._error is not None:
            raise self._error

    async def aclose(self) -> None:
        """Stop: close the connection, end every subscription. Idempotent.

        Iterating subscribers get the events already queued, then the end of
        iteration; callback tasks are cancelled.
        """
        if self._status not in ("failed",):
            self._status = "closed"
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected.clear()
        self._stopped.set()
        tasks = []
        for sub in list(self._subs):
            sub._finish(self._error)
            if sub._task is not None:
                tasks.append(sub._task)
                sub._task.cancel()
                sub._task = None
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    # -- the reader --------------------------------------------------------------------

    def _resume_since(self) -> str | None:
        since_ns = self._dedup.resume_since_ns
        if since_ns is None:
            since_ns = self._anchor_ns
        if since_ns is None:
            return self._since
        seconds, nanos = divmod(since_ns, _NS)
        return f"{seconds}.{nanos:09d}"

    def _on_connected(self, headers: Mapping[str, str] | None) -> None:
        self._connections += 1
        self._status = "connected"
        self._connected.set()
        if self._anchor_ns is None and self._since is None:
            # Nothing seen yet: should this connection break, replay from the
            # daemon's own clock at connection time (its Date header).
            anchor: float | None = None
            date = headers.get("Date") if headers is not None else None
            if date:
                with contextlib.suppress(TypeError, ValueError, IndexError):
                    anchor = email.utils.parsedate_to_datetime(date).timestamp()
            if anchor is None:
                anchor = time.time() - 1.0
            self._anchor_ns = int(anchor) * _NS

    async def _run(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        try:
            while True:
                since = self._resume_since()
                check_gap_from = self._dedup.newest_ns
                self._status = "connecting" if self._connections == 0 else "reconnecting"
                opened_at: float | None = None
                try:
                    stream = self._client.system.events(
                        filters=self._filters or None,
                        since=since,
                        inactivity_timeout=self._inactivity,
                    )
                    async with stream:
                        response = stream.response
                        opened_at = loop.time()
                        self._on_connected(response.headers if response is not None else None)
                        first = True
                        async for event in stream:
                            if first:
                                first = False
                                if (
                                    check_gap_from is not None
                                    and event.time_nano > check_gap_from
                                    and not self._dedup.seen(event)
                                ):
                                    self._gaps += 1
                                    _log.warning(
                                        "event stream resumed after a gap: the daemon no longer "
                                        "held the last event seen (%d); events may have been "
                                        "lost",
                                        check_gap_from,
                                    )
                            await self._dispatch(event)
                    error: BaseException = DockerConnectionError(
                        "the daemon ended the event stream"
                    )
                except _RETRYABLE as exc:
                    error = exc
                self._connected.clear()
                self._last_error = error
                if opened_at is not None and loop.time() - opened_at >= self._stable_after:
                    attempt = 0
                if self._max_reconnects is not None and attempt >= self._max_reconnects:
                    raise error
                delay = backoff_delay(
                    attempt,
                    initial=self._backoff,
                    maximum=self._max_backoff,
                    factor=self._factor,
                    jitter=self._jitter,
                    rng=self._rng,
                )
                _log.log(
                    logging.WARNING if opened_at is not None else logging.INFO,
                    "event stream %s (%s); reconnecting in %.2f s (attempt %d)",
                    "lost" if opened_at is not None else "unavailable",
                    error,
                    delay,
                    attempt + 1,
                )
                self._status = "reconnecting"
                await asyncio.sleep(delay)
                attempt += 1
                self._reconnects += 1
        except asyncio.CancelledError:
            # aclose(), or the loop shutting down: end the subscriptions either way.
            if self._status != "failed":
                self._status = "closed"
            self._connected.clear()
            self._stopped.set()
            for sub in self._subs:
                sub._finish(None)
            raise
        except BaseException as exc:
            self._fail(exc)
            if not isinstance(exc, Exception):
                raise

    def _fail(self, exc: BaseException) -> None:
        _log.error("event watcher stopped: %s", exc)
        self._error = exc
        self._last_error = exc
        self._status = "failed"
        self._connected.clear()
        self._stopped.set()
        for sub in self._subs:
            sub._finish(exc)

    async def _dispatch(self, event: Event) -> None:
        if not self._dedup.add(event):
            return
        self._events += 1
        blocking: list[Subscription] | None = None
        for sub in self._subs:
            if not sub._matches(event):
                continue
            if sub.policy == "block":
                if blocking is None:
                    blocking = []
                blocking.append(sub)
            else:
                sub._offer(event)
        if blocking is not None:
            for sub in blocking:
                await sub._put(event)
