"""Argument checks shared by several resource namespaces (run before any request)."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidArgument

__all__ = ["non_empty", "str_map"]


def str_map(parameter: str, value: Mapping[str, str] | None) -> dict[str, str] | None:
    """``value`` as a plain dict of non-empty str keys to str values (``None`` stays)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(parameter, value, "expected a mapping of str to str")
    for k, v in value.items():
        if not isinstance(k, str) or not k or not isinstance(v, str):
            raise InvalidArgument(parameter, value, "keys must be non-empty str and values str")
    return dict(value)


def non_empty(parameter: str, value: object) -> str:
    """``value`` if it is a string with more than blanks in it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    return value
