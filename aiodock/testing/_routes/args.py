"""What every route reads from its request: the fake serving it, integer and time arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._wire import Answer, FakeRequest

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = ["fake_of", "int_arg", "time_arg"]


def fake_of(req: FakeRequest) -> FakeDocker:
    return req.fake  # type: ignore[no-any-return]


def int_arg(req: FakeRequest, key: str, default: int) -> int:
    value = req.arg(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise Answer(400, f"invalid value for {key}: {value!r}") from None


def time_arg(req: FakeRequest, key: str) -> int | None:
    """A ``since``/``until`` value in nanoseconds (unix seconds, fractions allowed)."""
    value = req.arg(key)
    if value is None or value == "":
        return None
    try:
        seconds, _, frac = value.partition(".")
        return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)
    except ValueError:
        raise Answer(400, f"invalid value for {key}: {value!r}") from None
