"""Argument checks shared by several resource namespaces (run before any request)."""

from __future__ import annotations

import builtins
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ._filters import Filters, encode_filters
from .errors import InvalidArgument

__all__ = ["detach_key_bytes", "non_empty", "parse_bytes", "str_map"]


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


# --- argument checks (all run before any request) -------------------------------


def _flag(value: Any, parameter: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected True or False")
    return value


def _int(value: Any, parameter: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(parameter, value, "expected an integer")
    if value < minimum:
        raise InvalidArgument(parameter, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(parameter, value, f"must be at most {maximum}")
    return value


def _text(value: Any, parameter: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    return value


def _strings(value: Any, parameter: str) -> builtins.list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgument(parameter, value, "expected a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise InvalidArgument(parameter, value, f"item {item!r} is not a string")
    return builtins.list(value)


def _command(value: Any, parameter: str) -> builtins.list[str]:
    """A command as a list; a string is split like a POSIX shell would."""
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise InvalidArgument(parameter, value, f"cannot split it: {exc}") from None
        if not parts:
            raise InvalidArgument(parameter, value, "the command is empty")
        return parts
    parts = _strings(value, parameter)
    if not parts:
        raise InvalidArgument(parameter, value, "the command is empty")
    return parts


def _env(value: Any, parameter: str) -> builtins.list[str]:
    """``{"K": "v"}`` or ``["K=v"]`` as the daemon's list; a ``None`` value unsets ``K``."""
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
                raise InvalidArgument(parameter, value, f"bad variable name {key!r}")
            if item is None:
                out.append(key)
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.append(f"{key}={item}")
            else:
                raise InvalidArgument(parameter, value, f"value of {key!r} is not a string")
        return out
    items = _strings(value, parameter)
    for item in items:
        if not item or item.startswith("="):
            raise InvalidArgument(parameter, value, f"bad entry {item!r} (expected NAME=value)")
    return items


def _labels(value: Any, parameter: str) -> dict[str, str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key or not isinstance(item, str):
                raise InvalidArgument(parameter, value, "expected string keys and values")
        return dict(value)
    out: dict[str, str] = {}
    for item in _strings(value, parameter):
        key, _, val = item.partition("=")
        if not key:
            raise InvalidArgument(parameter, value, f"bad label {item!r}")
        out[key] = val
    return out


# Patterns are compiled (and cached by re) on first use, not at import.
_SIZE = r"(?i)(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?"
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value: int | str, parameter: str = "size", *, allow_unlimited: bool = False) -> int:
    """A size in bytes from an int or a string like ``"512m"``, ``"1.5g"``, ``"64MiB"``.

    Units are binary (``k`` = 1024). With ``allow_unlimited``, ``-1`` (or
    ``"-1"``) is accepted and means no limit.
    """
    if allow_unlimited and value in (-1, "-1"):
        return -1
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected bytes as an int or a string like '512m'")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(parameter, value, "must not be negative")
        return value
    if isinstance(value, str):
        match = re.fullmatch(_SIZE, value.strip())
        if match is not None:
            return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise InvalidArgument(
        parameter, value, "expected bytes as an int or a string like '512m', '1g', '64MiB'"
    )


def _seconds(value: Any, parameter: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidArgument(parameter, value, "expected seconds (a number >= 0 or a timedelta)")
    return float(value)


def _nanoseconds(value: Any, parameter: str) -> int:
    return round(_seconds(value, parameter) * 1e9)


def _cpus(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgument("cpus", value, "expected a number of CPUs greater than 0")
    nano = round(value * 1e9)
    if nano < 1_000_000:
        raise InvalidArgument("cpus", value, "must be at least 0.001")
    return nano


_SIGNAL = r"(?i)(?:SIG)?[A-Z][A-Z0-9]*(?:[+-]\d+)?"


def _signal(value: Any, parameter: str = "signal") -> str:
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected a signal name or number")
    if isinstance(value, int):
        if not 0 < value < 128:
            raise InvalidArgument(parameter, value, "signal numbers are 1..127")
        return str(value)
    if isinstance(value, str) and (value.isdigit() or re.fullmatch(_SIGNAL, value)):
        return value
    raise InvalidArgument(parameter, value, "expected a signal name ('SIGTERM', 'HUP') or number")


_DETACH_KEY = r"[\x20-\x7e]|ctrl-[a-z@\[\\\]^_]"


def _detach_keys(value: Any) -> str:
    """Validate a detach sequence such as ``"ctrl-p,ctrl-q"`` (comma-separated keys)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument("detach_keys", value, "expected keys like 'ctrl-p,ctrl-q'")
    for key in value.split(","):
        if not re.fullmatch(_DETACH_KEY, key):
            raise InvalidArgument(
                "detach_keys",
                value,
                f"unknown key {key!r} (use one printable character or ctrl-<a-z@[\\]^_>)",
            )
    return value


def detach_key_bytes(keys: str) -> bytes:
    """The bytes a detach sequence like ``"ctrl-p,ctrl-q"`` stands for (write them to detach)."""
    out = bytearray()
    for key in _detach_keys(keys).split(","):
        if len(key) == 1:
            out.append(ord(key))
        else:
            char = key[-1]
            out.append(ord(char) - 96 if "a" <= char <= "z" else ord(char) - 64)
    return bytes(out)


def _timestamp(value: Any, parameter: str) -> str:
    """``since``/``until`` as the daemon reads them: Unix seconds, RFC 3339 or a duration."""
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}"
    if isinstance(value, timedelta):
        return f"{time.time() - value.total_seconds():.9f}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise InvalidArgument(parameter, value, "must not be negative")
        return f"{value:.9f}" if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InvalidArgument(
        parameter, value, "expected a datetime, a timedelta (ago), Unix seconds or a string"
    )


def _filters(filters: Filters | None) -> str | None:
    return encode_filters(filters)
