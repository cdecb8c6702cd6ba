"""The ``filters`` query parameter: decoding it, checking its keys, matching labels."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._wire import Answer

__all__ = ["check_filter_keys", "labels_match", "parse_filters"]


def parse_filters(raw: str | None) -> dict[str, list[str]]:
    """Decode a ``filters`` query value; both ``{"k": ["v"]}`` and ``{"k": {"v": true}}``."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Answer(400, f"invalid filters: {exc}") from None
    if not isinstance(data, dict):
        raise Answer(400, "invalid filters: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = [str(v) for v, on in value.items() if on]
        else:
            raise Answer(400, f"invalid filter value for {key!r}")
    return out


def check_filter_keys(filters: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in filters:
        if key not in allowed:
            raise Answer(400, f"Invalid filter '{key}'")


def labels_match(labels: Mapping[str, str] | None, wanted: Sequence[str]) -> bool:
    """``label`` filter: every ``key`` must exist and every ``key=value`` must match."""
    labels = labels or {}
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels:
            return False
        if sep and labels[key] != value:
            return False
    return True
