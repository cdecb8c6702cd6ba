"""``EventWatcher``: one resilient ``/events`` connection fanned out to many consumers.

A watcher keeps a single event stream open for as long as it runs. Each
consumer subscribes with its own bounded queue and its own policy for when it
falls behind:

* ``"drop-oldest"``: the oldest queued event is discarded to make room, and
  the subscription's ``dropped`` counter (also in :attr:`EventWatcher.state`)
  goes up; a warning is logged. A slow consumer never holds up the others.
* ``"block"``: the watcher waits for room (back-pressure). Nothing is
  dropped, but while that consumer is full the watcher reads no further
  events, for anyone; if it stays full for long, the daemon itself starts
  discarding events it cannot send.

When the connection breaks (:class:`~aiodock.errors.DockerConnectionError`,
including a truncated stream, :class:`~aiodock.errors.DockerTimeoutError`, a
5xx answer, or the daemon ending the stream) the watcher reconnects with
exponential backoff and jitter, asking the daemon to replay from ``since`` =
the newest event time it saw minus ``overlap`` seconds. Events in that overlap
that were already delivered are recognised by (``time_nano``, actor id,
``action``, ``type``) and not delivered again. The daemon only keeps its last
256 events (all kinds, all clients) for replay: when the replay does not reach
back to the last event seen, events may have been lost; the watcher counts
that in ``state.possible_gaps`` and logs a warning. If the connection breaks
before any event arrived, the replay starts at the second (daemon clock) the
stream was opened, so it may include events from up to a second before that.

Other API errors (4xx, e.g. an invalid filter) and client misuse are fatal:
the watcher stops and every subscriber gets the error after the events queued
before it; :meth:`EventWatcher.wait` raises it too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as _dt
import email.utils
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._filters import Filters, normalize_filters
from .errors import (
    DockerConnectionError,
    DockerTimeoutError,
    InvalidArgument,
    ServerError,
    StreamError,
    UsageError,
)
from .models.events import Event, EventKey

if TYPE_CHECKING:
    from ._client import DockerClient
    from ._rules import EventTime

__all__ = [
    "EventDeduplicator",
    "EventMatcher",
    "EventWatcher",
    "Policy",
    "Subscription",
    "WatcherState",
    "backoff_delay",
]

_log = logging.getLogger("aiodock.watcher")

Policy = Literal["drop-oldest", "block"]
_POLICIES = ("drop-oldest", "block")
_NS = 1_000_000_000
# Errors after which reconnecting can help.
_RETRYABLE = (DockerConnectionError, DockerTimeoutError, ServerError, StreamError)


# --- pure parts: backoff, de-duplication, client-side filters ---------------------------


def backoff_delay(
    attempt: int,
    *,
    initial: float,
    maximum: float,
    factor: float = 2.0,
    jitter: float = 0.5,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 for the first).

    The delay grows as ``initial * factor**attempt`` up to ``maximum``; then a
    random part of up to ``jitter`` (a fraction) is taken off, so many clients
    cut off at once do not come back in lockstep.
    """
    base = maximum if attempt > 64 else min(maximum, initial * factor**attempt)
    if jitter <= 0:
        return base
    u = (rng or random).random()
    return base * (1.0 - jitter * u)


class EventDeduplicator:
    """Remember recent events to recognise the ones a replay sends again.

    Keys of events within ``window_ns`` nanoseconds of the newest event seen
    are kept; :attr:`resume_since_ns` is the matching point to resume from,
    so everything a replay from there can send is either remembered or new.
    """

    __slots__ = ("_keys", "_newest", "_order", "_window", "duplicates")

    def __init__(self, window_ns: int) -> None:
        if window_ns < 0:
            raise InvalidArgument("overlap", window_ns, "must not be negative")
        self._window = window_ns
        self._keys: set[EventKey] = set()
        self._order: collections.deque[EventKey] = collections.deque()
        self._newest: int | None = None
        self.duplicates = 0

    @property
    def newest_ns(self) -> int | None:
        """The latest ``time_nano`` seen, or ``None`` before the first event."""
        return self._newest

    @property
    def resume_since_ns(self) -> int | None:
        """Where a replay should start (``None`` before the first event)."""
        if self._newest is None:
            return None
        return max(0, self._newest - self._window)

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, event: Event) -> bool:
        """Whether ``event`` is remembered (without recording it)."""
        return event.key in self._keys

    def add(self, event: Event) -> bool:
        """Record ``event``; return ``False`` if it was seen before (a duplicate)."""
        key = event.key
        keys = self._keys
        if key in keys:
            self.duplicates += 1
            return False
        keys.add(key)
        self._order.append(key)
        newest = self._newest
        if newest is None or key.time_nano > newest:
            newest = self._newest = key.time_nano
        floor = newest - self._window
        order = self._order
        while order and order[0].time_nano < floor:
            keys.discard(order.popleft())
        return True


_EVENT_TYPES = (
    "builder",
    "config",
    "container",
    "daemon",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "volume",
)
_FUZZY_EVENTS = frozenset({"health_status", "exec_create", "exec_start"})
# Kinds matched by actor id prefix or name; ``image`` has its own rule.
_NAMED_KINDS = tuple(k for k in _EVENT_TYPES if k != "image")
_MATCHER_KEYS = frozenset({"event", "type", "scope", "label", *_EVENT_TYPES})


def _strip_tag(image: str) -> str:
    if "@" in image:
        return image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


class EventMatcher:
    """Apply ``/events`` filters on the client, the way the daemon applies them.

    Keys are ANDed; the values of one key are ORed, except ``label`` whose
    values must all match (``"k"``: present, ``"k=v"``: equal). ``container``,
    ``network``, ``volume`` and the other object kinds match the actor id by
    prefix or the actor's ``name`` attribute; ``event`` matches the action
    (``exec_start`` also matches ``exec_start: sh``); ``image`` matches the
    image id or name, with or without its tag.
    """

    __slots__ = ("_filters", "_predicate")

    def __init__(
        self,
        filters: Filters | None = None,
        predicate: Callable[[Event], bool] | None = None,
    ) -> None:
        normalized = normalize_filters(filters)
        unknown = sorted(set(normalized) - _MATCHER_KEYS)
        if unknown:
            raise InvalidArgument(
                "filters",
                filters,
                f"unknown event filter {unknown}; expected some of {sorted(_MATCHER_KEYS)}",
            )
        if predicate is not None and not callable(predicate):
            raise InvalidArgument("predicate", predicate, "expected a callable")
        self._filters = {k: frozenset(v) for k, v in normalized.items()}
        self._predicate = predicate

    def __bool__(self) -> bool:
        return bool(self._filters) or self._predicate is not None

    def __call__(self, event: Event) -> bool:
        f = self._filters
        if f and not self._match(f, event):
            return False
        return self._predicate is None or bool(self._predicate(event))

    @staticmethod
    def _fuzzy(values: frozenset[str], source: str) -> bool:
        return source in values or any(source.startswith(v) for v in values)

    def _match(self, f: Mapping[str, frozenset[str]], event: Event) -> bool:
        actions = f.get("event")
        if actions is not None:
            if actions & _FUZZY_EVENTS:
                if not self._fuzzy(actions, event.action):
                    return False
            elif event.action not in actions:
                return False
        types = f.get("type")
        if types is not None and event.type not in types:
            return False
        scopes = f.get("scope")
        if scopes is not None and event.scope not in scopes:
            return False
        attributes = event.attributes
        for kind in _NAMED_KINDS:
            values = f.get(kind)
            if values is not None and not (
                self._fuzzy(values, event.actor_id)
                or self._fuzzy(values, attributes.get("name", ""))
            ):
                return False
        images = f.get("image")
        if images is not None:
            name = attributes.get("name" if event.type == "image" else "image", "")
            candidates = (event.actor_id, name, _strip_tag(event.actor_id), _strip_tag(name))
            if not any(c in images for c in candidates):
                return False
        labels = f.get("label")
        if labels is not None:
            for label in labels:
                key, sep, value = label.partition("=")
                if key not in attributes or (sep and attributes[key] != value):
                    return False
        return True


# --- subscriptions --------------------------------------------------------------------


class Subscription:
    """One consumer of an :class:`EventWatcher`: a bounded queue of matching events.

    Iterate it (``async for event in sub``); use ``async with`` or
    :meth:`aclose` to unsubscribe. Iteration ends when the watcher closes
    (after the queued events), and raises the watcher's error if it failed.
    """

    def __init__(
        self,
        watcher: EventWatcher,
        matcher: EventMatcher,
        *,
        maxsize: int,
        policy: Policy,
        name: str,
    ) -> None:
        self._watcher = watcher
        self._matcher = matcher
        self.maxsize = maxsize
        self.policy: Policy = policy
        self.name = name
        self._items: collections.deque[Event] = collections.deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._ended = False
        self._closed = False
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._callback: CallbackFn | None = None
        #: Events discarded because the queue was full (``drop-oldest`` only).
        self.dropped = 0
        #: Events that matched and were queued.
        self.received = 0
        #: Events handed to the consumer.
        self.delivered = 0
        #: Exceptions raised by the callback (callback subscriptions only).
        self.callback_errors = 0

    def __repr__(self) -> str:
        return (
            f"<Subscription {self.name!r} policy={self.policy} queued={len(self._items)}/"
            f"{self.maxsize} dropped={self.dropped}{' closed' if self._closed else ''}>"
        )

    @property
    def pending(self) -> int:
        """Events queued and not yet consumed."""
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- producer side (the watcher) ----------------------------------------------------

    def _matches(self, event: Event) -> bool:
        return not self._matcher or self._matcher(event)

    def _offer(self, event: Event) -> None:
        """Queue without waiting, discarding the oldest event when full."""
        if self._ended:
            return
        items = self._items
        if len(items) >= self.maxsize:
            items.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                _log.warning(
                    "event subscription %r is too slow: %d event(s) dropped so far "
                    "(queue of %d, policy drop-oldest)",
                    self.name,
                    self.dropped,
                    self.maxsize,
                )
        items.append(event)
        self.received += 1
        self._readable.set()

    async def _put(self, event: Event) -> None:
        """Queue, waiting for room when full (back-pressure)."""
        items = self._items
        while len(items) >= self.maxsize and not self._ended:
            self._writable.clear()
            await self._writable.wait()
        if self._ended:
            return
        items.append(event)
        self.received += 1
        self._readable.set()

    def _finish(self, error: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._error = error
        self._readable.set()
        self._writable.set()

    # -- consumer side ------------------------------------------------------------------

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        items = self._items
        while True:
            if items:
                event = items.popleft()
                self._writable.set()
                self.delivered += 1
                return event
            if self._closed:
                raise StopAsyncIteration
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._readable.clear()
            await self._readable.wait()

    def get_nowait(self) -> Event | None:
        """The next queued event, or ``None`` when the queue is empty."""
        if not self._items:
            return None
        self._writable.set()
        self.delivered += 1
        return self._items.popleft()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe: queued events are discarded and iteration stops."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        self._finish(None)
        self._watcher._unsubscribe(self)
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --- the watcher -------------------------------------------------------------------------

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


CallbackFn = Callable[[Event], "Awaitable[Any] | Any"]


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
        from ._rules import timestamp

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
        if policy not in _POLICIES:
            raise InvalidArgument("policy", policy, f"expected one of {list(_POLICIES)}")
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
