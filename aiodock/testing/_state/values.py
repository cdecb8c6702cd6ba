"""Values as the engine writes and reads them: ids, times, container names, image
references and signals."""

from __future__ import annotations

import re
import secrets
import signal
import time
from datetime import datetime, timezone

from .._wire import Answer

__all__ = [
    "ZERO_TIME",
    "check_name",
    "new_id",
    "normalize_ref",
    "now_ns",
    "parse_signal",
    "progress_bar",
    "repo_of",
    "rfc3339",
    "signal_name",
]

ZERO_TIME = "0001-01-01T00:00:00Z"
_NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def new_id() -> str:
    return secrets.token_hex(32)


def now_ns() -> int:
    return time.time_ns()


def rfc3339(ns: int) -> str:
    """Go's RFC3339Nano: UTC, trailing zeros of the fraction dropped."""
    if ns <= 0:
        return ZERO_TIME
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise Answer(
            400,
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
        )
    return name.lstrip("/")


def normalize_ref(ref: str) -> str:
    """``busybox`` -> ``busybox:latest``; ``docker.io/library/x:1`` -> ``x:1``."""
    name, at, digest = ref.partition("@")
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name.startswith("library/"):
        name = name[len("library/") :]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not at:
        name += ":latest"
    return name + (at + digest if at else "")


def repo_of(ref: str) -> str:
    """The repository part of a normalized reference (``busybox:latest`` -> ``busybox``)."""
    name = ref.split("@", 1)[0]
    head, sep, last = name.rpartition("/")
    if ":" in last:
        last = last.split(":", 1)[0]
    return f"{head}{sep}{last}"


def parse_signal(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if value.isdigit():
        return int(value)
    name = value.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise Answer(400, f"Invalid signal: {value}") from None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def progress_bar(current: int, total: int) -> str:
    """The engine's ``[====>   ] 512B/1024B`` text of a pull or push progress message."""
    width = 50
    done = width * current // total if total else width
    arrow = "=" * max(done - 1, 0) + (">" if done < width else "=")
    return f"[{arrow}{' ' * (width - len(arrow))}] {current}B/{total}B"
