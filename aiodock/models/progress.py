"""Progress messages and results of pull, push, build, load and import.

The daemon reports these operations as a stream of JSON objects (Docker's
``JSONMessage``). :class:`ProgressMessage` is one of them, typed: a layer's
``status`` with byte counts, a line of build output in ``stream``, or
auxiliary data (``aux``: the built image id, a pushed digest). Errors the
daemon reports in the stream are raised by the stream, never yielded.

Awaiting an operation (``await docker.images.pull(ref)``) runs it to its end
and returns one of the result classes here, built from what the daemon's
messages reported: :class:`PullResult`, :class:`PushResult`,
:class:`BuildResult`, :class:`LoadResult`, :class:`ImportResult`.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._generated import ErrorDetail, ProgressDetail

__all__ = [
    "BuildResult",
    "ImportResult",
    "LoadResult",
    "ProgressMessage",
    "PullResult",
    "PushResult",
]


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


# --- results of awaited operations -----------------------------------------------------


@attrs.frozen(kw_only=True)
class PullResult:
    """What a finished pull (image or plugin) reported.

    - ``reference``: the image the daemon says it pulled (``"127.0.0.1:5000/app:1"``),
      or the reference as requested when the daemon named none.
    - ``digest``: the manifest digest (``"sha256:..."``) from the ``Digest:``
      message, ``None`` when the daemon sent none.
    - ``status``: the daemon's closing line without ``"Status: "``, e.g.
      ``"Downloaded newer image for app:1"`` or ``"Image is up to date for app:1"``.
    - ``updated``: whether anything new was downloaded (``False`` when the local
      image was already up to date).
    """

    reference: str
    digest: str | None = None
    status: str = ""
    updated: bool = False


@attrs.frozen(kw_only=True)
class PushResult:
    """What a finished push (image or plugin) reported.

    - ``reference``: the repository (and tag) that was pushed, as requested.
    - ``tag``: the tag the daemon reported pushing (the last one for ``all_tags``).
    - ``digest``: the pushed manifest's digest (``"sha256:..."``); ``None`` only
      if the daemon did not report one.
    - ``size``: the manifest's size in bytes, when reported.
    """

    reference: str
    tag: str | None = None
    digest: str | None = None
    size: int | None = None


@attrs.frozen(kw_only=True)
class BuildResult:
    """What a finished build reported.

    - ``image_id``: the built image (``"sha256:..."``); a build that reported
      none raises instead of returning.
    - ``tags``: the tags the daemon reported applying, in order.
    """

    image_id: str
    tags: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class LoadResult:
    """What a finished load reported.

    - ``tags``: ``name:tag`` of each image loaded with a tag (``Loaded image: ...``).
    - ``image_ids``: ids of images loaded without a tag (``Loaded image ID: ...``).
    """

    tags: tuple[str, ...] = ()
    image_ids: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class ImportResult:
    """What a finished import reported: ``image_id``, the new image's id."""

    image_id: str
