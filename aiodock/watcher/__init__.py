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

from ._matcher import EventMatcher
from ._replay import EventDeduplicator, backoff_delay
from ._subscription import Policy, Subscription
from ._watcher import EventWatcher, WatcherState

__all__ = [
    "EventDeduplicator",
    "EventMatcher",
    "EventWatcher",
    "Policy",
    "Subscription",
    "WatcherState",
    "backoff_delay",
]
