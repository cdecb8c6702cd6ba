"""The typed daemon event (``GET /events``), hand-made for speed and convenience.

The generated ``EventMessage`` mirrors the wire form; :class:`Event` adds what a
consumer needs: a never-``None`` actor, nanosecond time as an ``int`` with a
``datetime`` view, and the identity key used to recognise the same event when
a watcher replays a time window after reconnecting.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, NamedTuple

import attrs

from .._convert import converter
from ._generated import EventActor

__all__ = ["Event", "EventActor", "EventKey", "parse_event"]

_NS = 1_000_000_000
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class EventKey(NamedTuple):
    """What identifies one event: the same key twice means the same event delivered twice."""

    time_nano: int
    id: str
    action: str
    type: str


@attrs.frozen(kw_only=True)
class Event:
    """One event reported by the daemon.

    ``type`` is the kind of object (``container``, ``image``, ``network``,
    ``volume``, ``daemon``, ``plugin``, ``service``, ``node``, ``secret``,
    ``config``); ``action`` what happened to it (``create``, ``start``,
    ``die``, ``exec_start: sh -c ...``). ``actor`` names the object and carries
    its attributes (for containers: ``name``, ``image`` and the labels).
    ``time_nano`` is the daemon's timestamp in nanoseconds since the epoch;
    ``time`` the same in whole seconds.

    ``status``, ``id`` and ``from_`` are the legacy fields older daemons send
    for container and image events (removed in Engine API 1.52); prefer
    ``action``, ``actor.id`` and ``actor.attributes["image"]``.
    """

    type: str = ""
    action: str = ""
    actor: EventActor = attrs.field(factory=EventActor)
    scope: str = ""
    time: int = 0
    time_nano: int = 0
    status: str = ""
    id: str = ""
    from_: str = ""

    @property
    def actor_id(self) -> str:
        """The id of the object the event is about (``actor.id``, else the legacy ``id``)."""
        return self.actor.id or self.id

    @property
    def attributes(self) -> Mapping[str, str]:
        """The actor's attributes (name, image, labels...)."""
        return self.actor.attributes

    @property
    def datetime(self) -> _dt.datetime:
        """The event time as an aware UTC ``datetime`` (microsecond precision)."""
        seconds, nanos = divmod(self.time_nano, _NS)
        return _EPOCH + _dt.timedelta(seconds=seconds, microseconds=nanos // 1000)

    @property
    def key(self) -> EventKey:
        """The identity of this event (time, actor id, action, type) for de-duplication."""
        return EventKey(self.time_nano, self.actor_id, self.action, self.type)


def _str(value: Any) -> str:
    if value.__class__ is str:
        return value
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    if value.__class__ is int:
        return value
    if value is None or value == "":
        return 0
    return int(value)


def parse_event(data: Any) -> Event:
    """Build an :class:`Event` from one decoded ``/events`` document.

    Missing or ``null`` fields take their zero value; unknown keys are ignored.
    When the daemon only sends whole seconds, ``time_nano`` is derived from them.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"an event must be a JSON object, got {type(data).__name__}")
    raw_actor = data.get("Actor")
    if raw_actor:
        attributes = raw_actor.get("Attributes") or {}
        actor = EventActor(
            id=_str(raw_actor.get("ID")),
            attributes={_str(k): _str(v) for k, v in attributes.items()},
        )
    else:
        actor = EventActor()
    time = _int(data.get("time"))
    time_nano = _int(data.get("timeNano")) or time * _NS
    return Event(
        type=_str(data.get("Type")),
        action=_str(data.get("Action") or data.get("status")),
        actor=actor,
        scope=_str(data.get("scope")),
        time=time or time_nano // _NS,
        time_nano=time_nano,
        status=_str(data.get("status")),
        id=_str(data.get("id")),
        from_=_str(data.get("from")),
    )


def _unstructure_event(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Type": event.type,
        "Action": event.action,
        "Actor": {"ID": event.actor.id, "Attributes": dict(event.actor.attributes)},
        "scope": event.scope,
        "time": event.time,
        "timeNano": event.time_nano,
    }
    if event.status:
        out["status"] = event.status
    if event.id:
        out["id"] = event.id
    if event.from_:
        out["from"] = event.from_
    return out


converter.register_structure_hook(Event, lambda data, _: parse_event(data))
converter.register_unstructure_hook(Event, _unstructure_event)
