"""The one log stream behind container, service and task logs.

A logs body is either multiplexed (stdout/stderr frames) or raw (the
process has a TTY). The stream works this out at most once per call:

* ``tty=`` given by the caller: use it, ask nothing;
* container logs on API 1.42+: the response's ``Content-Type`` says which
  (an unlabelled body falls back to the lookup, after the response);
* otherwise: one ``lookup_tty()`` (an inspect) just before the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .. import _rules
from .._http.request import Request
from .._streams.frames import Frame, MultiplexDecoder, RawDecoder
from .._streams.streaming import FrameStream
from ..errors import (
    DockerConnectionError,
    DockerTimeoutError,
    InvalidArgument,
    StreamError,
    UsageError,
)

if TYPE_CHECKING:
    from .._client import DockerClient
    from .._rules import EventTime
    from ..models import TaskSpec

__all__ = ["LogStream", "open_logs", "spec_tty", "swarm_logs"]

_MUX_TYPE = "application/vnd.docker.multiplexed-stream"
_RAW_TYPE = "application/vnd.docker.raw-stream"
# The first API version whose logs responses say in Content-Type how they are framed.
_LABELLED_FROM = "1.42"

TTYLookup = Callable[[], Awaitable[bool]]


class _Framing:
    """The decoder of one logs call: multiplexed or raw, chosen when the request is made."""

    __slots__ = (
        "_call",
        "_client",
        "_inner",
        "_labelled",
        "_lookup",
        "_requirement",
        "_tty",
        "_views",
    )

    def __init__(
        self,
        client: DockerClient,
        lookup_tty: TTYLookup,
        *,
        tty: bool | None,
        labelled: bool,
        requirement: tuple[str, str] | None,
        call: str,
    ) -> None:
        self._client = client
        self._lookup = lookup_tty
        self._tty = tty
        self._labelled = labelled
        self._requirement = requirement
        self._inner: MultiplexDecoder | RawDecoder | None = None
        self._call = call  # the user's logs call, for errors of the lookup
        self._views = False

    async def _looked_up(self) -> bool:
        """The lookup's answer; its transport failure names the user's logs call first."""
        try:
            return await self._lookup()
        except (DockerConnectionError, DockerTimeoutError) as exc:
            raise type(exc)(
                f"{self._call}: looking up whether the container has a TTY (to know how "
                f"its logs are framed) failed: {exc}"
            ) from exc

    def _select(self, tty: bool) -> None:
        self._inner = RawDecoder() if tty else MultiplexDecoder()
        if self._views:
            self.emit_views()

    def emit_views(self) -> None:
        """Frames may carry views of the received chunk (see ``MultiplexDecoder``)."""
        self._views = True
        if isinstance(self._inner, MultiplexDecoder):
            self._inner.emit_views()

    async def before_request(self) -> None:
        if self._inner is not None:
            return
        if self._requirement is not None:
            await self._client._require_api(*self._requirement)
        if self._tty is not None:
            self._select(self._tty)
        elif not (self._labelled and await self._client._api_at_least(_LABELLED_FROM)):
            # The body will not say how it is framed: ask before sending.
            self._select(await self._looked_up())

    async def after_response(self, content_type: str) -> None:
        if self._inner is not None:
            return
        if content_type.startswith(_MUX_TYPE):
            self._select(False)
        elif content_type.startswith(_RAW_TYPE):
            self._select(True)
        else:
            self._select(await self._looked_up())

    @property
    def tty(self) -> bool | None:
        """Whether the body turned out raw (TTY); ``None`` before the request."""
        return None if self._inner is None else isinstance(self._inner, RawDecoder)

    @property
    def error(self) -> StreamError | None:
        """The in-band error the chosen decoder failed with, if any."""
        error: StreamError | None = getattr(self._inner, "error", None)
        return error

    def feed(self, data: bytes) -> list[Frame]:
        if self._inner is None:
            raise UsageError("logs: the stream was read before its request was sent")
        return self._inner.feed(data)

    def eof(self) -> list[Frame]:
        if self._inner is None:
            raise UsageError("logs: the stream was read before its request was sent")
        return self._inner.eof()


_LogStream = TypeVar("_LogStream", bound="LogStream")


class LogStream(FrameStream):
    """A :class:`~aiodock.FrameStream` of container, service or task logs.

    Before the request is sent (or once the response arrives) it works out
    whether the body is multiplexed; :attr:`tty` tells the outcome. Made by the
    ``logs`` methods; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`~aiodock.FrameStream`.
        framing: works out the body's framing (its decoder too).
        **kwargs: those of :class:`~aiodock.FrameStream`.
    """

    __slots__ = ("_framing",)

    def __init__(self, *args: Any, framing: _Framing | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._framing = framing

    async def _start(self: _LogStream) -> _LogStream:
        framing = self._framing
        if self._response is None and not self._closed and framing is not None:
            await framing.before_request()
            await super()._start()
            try:
                if self._response is None:
                    raise UsageError(f"{self._what}: the stream was closed")
                await framing.after_response(self._response.headers.get("Content-Type", ""))
            except BaseException:
                self._release()
                raise
            return self
        await super()._start()
        return self

    @property
    def tty(self) -> bool | None:
        """True for a TTY's raw output; ``None`` until the request was made."""
        return self._framing.tty if self._framing is not None else None


def open_logs(
    client: DockerClient,
    path: str,
    lookup_tty: TTYLookup,
    *,
    tty: bool | None,
    params: dict[str, Any],
    not_found: type[Any],
    labelled: bool = False,
    requirement: tuple[str, str] | None = None,
) -> LogStream:
    """A lazy :class:`LogStream` for ``GET path`` (a ``.../logs`` endpoint).

    ``lookup_tty`` is awaited (once at most) when the framing cannot be known
    otherwise; ``labelled`` says the endpoint labels its body's framing on API
    1.42+; ``requirement`` is an ``(operation, minimum API)`` checked first.
    """
    framing = _Framing(
        client,
        lookup_tty,
        tty=tty,
        labelled=labelled,
        requirement=requirement,
        call=f"GET {path} on {client.host}",
    )
    stream: LogStream = client._stream(
        Request("GET", path, params=params, not_found=not_found),
        framing,
        stream_class=LogStream,
        framing=framing,
    )
    return stream


# --- service and task logs ---------------------------------------------------------------


def spec_tty(task: TaskSpec | None) -> bool:
    """Whether the containers of a task spec have a TTY (their logs are then raw)."""
    container = task.container_spec if task is not None else None
    return bool(container is not None and container.tty)


def swarm_logs(
    client: DockerClient,
    path: str,
    *,
    choose_tty: Callable[[], Awaitable[bool]],
    tty: bool | None,
    stdout: bool,
    stderr: bool,
    follow: bool,
    since: EventTime | None,
    timestamps: bool,
    tail: int | Literal["all"] | None,
    details: bool,
    not_found: type[Any],
    operation: str,
    min_api: str,
) -> LogStream:
    """The logs of a service or task (``path`` ends in ``/logs``)."""
    if not (stdout or stderr):
        raise InvalidArgument("stdout", stdout, "ask for stdout, stderr or both")
    params = {
        "stdout": bool(stdout),
        "stderr": bool(stderr),
        "follow": bool(follow),
        "timestamps": bool(timestamps),
        "details": bool(details),
        "since": None if since is None else _rules.timestamp(since, "since"),
        "tail": _rules.tail(tail),
    }
    if tty is not None and not isinstance(tty, bool):
        raise InvalidArgument("tty", tty, "expected True, False or None (ask the engine)")
    return open_logs(
        client,
        path,
        choose_tty,
        tty=tty,
        params=params,
        not_found=not_found,
        requirement=(operation, min_api),
    )
