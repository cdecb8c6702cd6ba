"""Progress messages of pull, push, build, load and import.

The daemon reports these operations as a stream of JSON objects (Docker's
``JSONMessage``). :class:`ProgressMessage` is one of them, typed: a layer's
``status`` with byte counts, a line of build output in ``stream``, or
auxiliary data (``aux``: the built image id, a pushed digest). Errors the
daemon reports in the stream are raised by the stream, never yielded.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._generated import ErrorDetail, ProgressDetail

__all__ = ["ProgressMessage"]


def _int(value: Any) -> int:
    if value.__class__ is int:
        return int(value)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@attrs.frozen(kw_only=True)
class ProgressMessage:
    """One progress message from the daemon.

    - ``id``: the layer (or tag, for a pull's first message) the message is
      about; empty for messages about the whole operation.
    - ``status``: what is happening (``Downloading``, ``Pushed``,
      ``Loading layer``...).
    - ``progress``: the daemon's own text progress bar.
    - ``progress_detail``: byte counts (``current`` of ``total``), or ``None``.
    - ``stream``: a piece of build output (text, usually ending in a newline).
    - ``aux``: auxiliary data as sent (``{"ID": ...}`` after a build,
      ``{"Tag", "Digest", "Size"}`` after a push).
    - ``error`` / ``error_detail``: set only on error messages, which the
      streams raise instead of yielding.
    """

    id: str = attrs.field(default="", metadata={"wire": "id"})
    status: str = attrs.field(default="", metadata={"wire": "status"})
    progress: str = attrs.field(default="", metadata={"wire": "progress"})
    progress_detail: ProgressDetail | None = attrs.field(
        default=None, metadata={"wire": "progressDetail"}
    )
    stream: str = attrs.field(default="", metadata={"wire": "stream"})
    aux: dict[str, Any] | None = attrs.field(default=None, metadata={"wire": "aux"})
    error: str = attrs.field(default="", metadata={"wire": "error"})
    error_detail: ErrorDetail | None = attrs.field(default=None, metadata={"wire": "errorDetail"})

    @property
    def current(self) -> int:
        """Bytes done so far (0 without byte counts)."""
        detail = self.progress_detail
        return detail.current if detail is not None else 0

    @property
    def total(self) -> int:
        """Bytes to do in all (0 when unknown)."""
        detail = self.progress_detail
        return detail.total if detail is not None else 0

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ProgressMessage:
        """Build a message from one decoded JSON object (fast path; unknown keys ignored).

        Args:
            data: one JSON document of the progress stream.
        """
        get = data.get
        detail = get("progressDetail")
        progress_detail = None
        if detail and isinstance(detail, dict):
            progress_detail = ProgressDetail(
                current=_int(detail.get("current")), total=_int(detail.get("total"))
            )
        error_detail = None
        raw_error = get("errorDetail")
        if raw_error and isinstance(raw_error, dict):
            error_detail = ErrorDetail(
                code=_int(raw_error.get("code")), message=str(raw_error.get("message") or "")
            )
        aux = get("aux")
        return cls(
            id=str(get("id") or ""),
            status=str(get("status") or ""),
            progress=str(get("progress") or ""),
            progress_detail=progress_detail,
            stream=str(get("stream") or ""),
            aux=aux if isinstance(aux, dict) else None,
            error=str(get("error") or ""),
            error_detail=error_detail,
        )
