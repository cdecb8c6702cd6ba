"""Reconnecting and resuming: the backoff between attempts, and the memory of recent
events that recognises what a replay sends again."""

from __future__ import annotations

import collections
import random

from ..errors import InvalidArgument
from ..models.events import Event, EventKey

__all__ = ["EventDeduplicator", "backoff_delay"]


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
