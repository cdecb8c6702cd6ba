"""The ``/events`` route: history replay, live events and their filters."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.values import normalize_ref, now_ns
from .._wire import FakeRequest, json_body
from .args import fake_of, time_arg

__all__ = ["events"]


_EVENT_FILTERS = (
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
)


def _event_matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    kind = event.get("Type", "")
    action = str(event.get("Action", ""))
    actor = event.get("Actor") or {}
    actor_id = str(actor.get("ID", ""))
    attributes: dict[str, str] = actor.get("Attributes") or {}
    if "type" in filters and kind not in filters["type"]:
        return False
    if "event" in filters and not any(
        action == v or action.split(":", 1)[0] == v for v in filters["event"]
    ):
        return False
    if "scope" in filters and event.get("scope") not in filters["scope"]:
        return False
    if "label" in filters and not labels_match(attributes, filters["label"]):
        return False
    for key in ("container", "network", "volume"):
        if key in filters:
            if kind != key:
                return False
            name = attributes.get("name", "")
            if not any(actor_id.startswith(v) or name == v for v in filters[key]):
                return False
    if "image" in filters:
        wanted = set(filters["image"]) | {normalize_ref(v) for v in filters["image"]}
        if kind == "container":
            candidates = {attributes.get("image", "")}
        else:
            candidates = {actor_id, attributes.get("name", "")}
        candidates |= {normalize_ref(x) for x in candidates if x}
        if not candidates & wanted:
            return False
    return True


async def events(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, _EVENT_FILTERS)
    since = time_arg(req, "since")
    until = time_arg(req, "until")
    queue = fake._listen()
    history = list(fake.events)
    try:
        content_type = "application/jsonl" if req.at_least("1.52") else "application/json"
        # API 1.52 dropped the legacy top-level status, id and from.
        legacy = () if not req.at_least("1.52") else ("status", "id", "from")

        def wire(event: dict[str, Any]) -> bytes:
            return json_body({k: v for k, v in event.items() if k not in legacy})

        writer = await fake.open_stream(req, content_type)
        if since is not None or until is not None:
            for event in history:
                if since is not None and event["timeNano"] < since:
                    continue
                if until is not None and event["timeNano"] > until:
                    continue
                if _event_matches(event, filters):
                    await writer.write(wire(event))
        if until is not None and until <= now_ns():
            return await writer.finish()
        closing = asyncio.ensure_future(fake._wait_closed())
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                timeout = None if until is None else max((until - now_ns()) / 1e9, 0)
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if until is not None and event["timeNano"] > until:
                    break
                if _event_matches(event, filters):
                    await writer.write(wire(event))
        finally:
            # Also when the client goes away mid-wait (the handler is cancelled).
            closing.cancel()
            if getter is not None:
                getter.cancel()
        return await writer.finish()
    finally:
        fake._unlisten(queue)
