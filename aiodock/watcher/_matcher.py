"""Client-side event filters: :class:`EventMatcher` applies ``/events`` filters the
way the daemon does."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .._filters import Filters, normalize_filters
from ..errors import InvalidArgument
from ..models.events import Event

__all__ = ["EventMatcher"]


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
