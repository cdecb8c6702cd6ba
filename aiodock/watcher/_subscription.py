"""One consumer of an event watcher: a bounded queue with its policy for when it is full."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from ..models.events import Event
from ._matcher import EventMatcher

if TYPE_CHECKING:
    from ._watcher import EventWatcher

__all__ = ["CallbackFn", "Policy", "Subscription"]

# The logger is the package's: users configure ``aiodock.watcher``.
_log = logging.getLogger("aiodock.watcher")

Policy = Literal["drop-oldest", "block"]
POLICIES = ("drop-oldest", "block")
CallbackFn = Callable[[Event], "Awaitable[Any] | Any"]


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
