"""The ``filters`` query parameter, from a natural Python form to the Engine's JSON.

The Engine wants ``filters`` as JSON mapping each key to a list of strings,
``{"label": ["app=web"], "dangling": ["true"]}``. Callers write it the way it
reads in Python instead::

    {"type": "container", "label": {"app": "web", "tier": True}, "dangling": True}

Per value type:

* ``str`` is one value; ``int`` is sent as its decimal form; ``bool`` as
  ``"true"``/``"false"`` (``dangling``, ``all``...).
* a list, tuple, set or frozenset holds several values for the key (the
  daemon ORs them; ``label`` values are ANDed). Its items follow the rules
  above. An empty one leaves the key out.
* a mapping is for key/value filters such as ``label``: ``{"app": "web"}``
  becomes ``app=web`` and ``{"app": True}`` becomes ``app`` (the label is
  present, any value).
* ``None`` leaves the key out, so optional filters can be written inline.

Anything else (floats, bytes, ``None`` inside a list, ``False`` inside a
mapping, empty or non-string keys) raises :class:`~aiodock.errors.InvalidArgument`
naming ``filters`` before a request is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TypeAlias

from .errors import InvalidArgument

__all__ = ["FilterValue", "Filters", "encode_filters", "normalize_filters"]

_Scalar: TypeAlias = str | bool | int
#: What one key of a filters mapping may hold (see the module documentation).
FilterValue: TypeAlias = (
    _Scalar | Sequence[_Scalar] | AbstractSet[_Scalar] | Mapping[str, _Scalar] | None
)
#: The natural Python form of the ``filters`` query parameter.
Filters: TypeAlias = Mapping[str, FilterValue]

_PARAMETER = "filters"


def _fail(value: object, reason: str) -> InvalidArgument:
    return InvalidArgument(_PARAMETER, value, reason)


def _scalar(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if "\x00" in value:
            raise _fail(value, f"the value for {key!r} contains NUL")
        return value
    if isinstance(value, int):
        return str(value)
    raise _fail(
        value,
        f"the value for {key!r} must be a str, int or bool "
        f"(or a list of them, or a mapping), not {type(value).__name__}",
    )


def _check_key(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise _fail(key, f"{where} must be a str, not {type(key).__name__}")
    if not key:
        raise _fail(key, f"{where} must not be empty")
    if "\x00" in key:
        raise _fail(key, f"{where} contains NUL")
    return key


def _pairs(key: str, mapping: Mapping[object, object]) -> list[str]:
    out: list[str] = []
    for name, value in mapping.items():
        name = _check_key(name, f"a key inside {key!r}")
        if "=" in name:
            raise _fail(name, f"a key inside {key!r} must not contain '='")
        if value is True:
            out.append(name)
        elif value is False or value is None:
            raise _fail(
                value,
                f"{key}[{name!r}] must be a str/int value, or True for 'present with any "
                "value'; leave the entry out instead of passing False/None",
            )
        else:
            out.append(f"{name}={_scalar(key, value)}")
    return out


def _values(key: str, value: object) -> list[str]:
    if isinstance(value, (str, bool, int)):
        return [_scalar(key, value)]
    if isinstance(value, Mapping):
        return _pairs(key, value)
    if isinstance(value, (list, tuple)):
        return [_scalar(key, item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_scalar(key, item) for item in value)
    raise _fail(
        value,
        f"the value for {key!r} must be a str, int, bool, a list/tuple/set of them, "
        f"or a mapping, not {type(value).__name__}",
    )


def normalize_filters(filters: Filters | None) -> dict[str, list[str]]:
    """Validate ``filters`` and return the Engine's form: each key to a list of strings.

    Keys whose value is ``None`` or an empty collection are left out; duplicate
    values are dropped, keeping the first occurrence.
    """
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise _fail(
            filters, f"expected a mapping of filter names to values, not {type(filters).__name__}"
        )
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        key = _check_key(key, "a filter name")
        if value is None:
            continue
        values = list(dict.fromkeys(_values(key, value)))
        if values:
            out[key] = values
    return out


def encode_filters(filters: Filters | None) -> str | None:
    """Encode ``filters`` for the query string: JSON text, or ``None`` when there are none.

    See the module documentation for the accepted forms; invalid input raises
    :class:`~aiodock.errors.InvalidArgument` naming ``filters``.
    """
    normalized = normalize_filters(filters)
    if not normalized:
        return None
    from ._convert import json_dumps  # not at import: _convert brings cattrs

    return json_dumps(normalized).decode()
