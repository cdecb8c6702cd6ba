"""Progress operations (pull, push, build, load, import, plugin pull/push/upgrade).

The rule for every operation these classes carry:

- ``await op`` runs it to the end and returns its typed result
  (:class:`~aiodock.models.progress.PullResult`, ``PushResult``,
  ``BuildResult``, ``LoadResult``, ``ImportResult``), or raises what made it
  fail (:class:`~aiodock.errors.StreamError`, :class:`~aiodock.errors.RegistryAuthError`,
  :class:`~aiodock.errors.BuildError`, an HTTP error...). Cancelling the
  awaiting task closes the connection, which cancels the daemon's work.
- ``async for message in op`` streams its
  :class:`~aiodock.models.progress.ProgressMessage` items; ``await op`` after
  (or during) iteration reads whatever is left and returns the result, so both
  work on one object. ``async with op as stream:`` sends the request and
  closes the connection when the block ends; ``await op.open()`` sends the
  request and returns the stream (what ``await op`` used to do).
- An operation whose request was sent and that is dropped before its end
  without being closed emits a :class:`ResourceWarning` (the daemon cancels
  work whose connection goes away, so silently dropping it loses the
  operation). ``await op.aclose()`` cancels it on purpose, without warning.
  An operation never awaited, iterated or opened sends nothing.

Errors the daemon reports inside the stream raise exactly where they occur:
every message before the error is yielded first. Each stream keeps a
:class:`ProgressTracker` up to date in ``op.tracker`` for progress bars.

Data streams (logs, events, stats, ``save``, archives) follow the other half
of the rule in :mod:`aiodock._streams.streaming`: the stream is the result, and
``await stream`` only sends the request.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from .. import models
from .._http.request import Request
from .._registry.auth import AuthLike, encode_registry_auth, is_auth_failure, resolve_auth
from ..errors import (
    DockerConnectionError,
    RegistryAuthError,
    StreamError,
    UsageError,
)
from .frames import JSONStreamDecoder
from .streaming import AsyncStream

if TYPE_CHECKING:
    from .._client import DockerClient
    from ..models.progress import (
        BuildResult,
        ImportResult,
        LoadResult,
        ProgressMessage,
        PullResult,
        PushResult,
    )

__all__ = [
    "BodyGuard",
    "BuildStream",
    "ImportStream",
    "LayerProgress",
    "LoadStream",
    "ProgressStream",
    "ProgressTracker",
    "PullStream",
    "PushStream",
    "check_auth",
    "registry_auth_header",
    "registry_stream",
]

_PS = TypeVar("_PS", bound="ProgressStream[Any]")
R = TypeVar("R")

# --- aggregation ---------------------------------------------------------------------

_TRANSFER = frozenset({"Downloading", "Pushing", "Loading layer", "Importing"})
_TRANSFER_DONE = frozenset({"Download complete", "Verifying Checksum"})
_LAYER_DONE = frozenset({"Pushed", "Layer already exists", "Already exists", "Pull complete"})
_WAITING = frozenset({"Pulling fs layer", "Waiting", "Preparing"})
_LAYER_STATUSES = (
    _TRANSFER
    | _TRANSFER_DONE
    | _LAYER_DONE
    | _WAITING
    | {
        "Extracting",
        "Mounted",
        "Retrying",
    }
)


@attrs.define
class LayerProgress:
    """Byte counts of one layer.

    ``transferred``/``transfer_total`` count the download, upload or load;
    ``extracted``/``extract_total`` the unpacking after a download. A total
    is 0 until the daemon reports it.
    """

    id: str
    status: str = ""
    transferred: int = 0
    transfer_total: int = 0
    extracted: int = 0
    extract_total: int = 0
    done: bool = False


class ProgressTracker:
    """Fold progress messages into per-layer and overall byte counts.

    Feed it every message (:meth:`update`); read :attr:`transferred` of
    :attr:`transfer_total` (or :attr:`fraction`) to draw an overall bar,
    :attr:`layers` for one bar per layer, and :attr:`status` for the last
    message about the whole operation. Totals grow as the daemon reports
    the size of each layer, so the fraction can step back when a new layer
    starts.
    """

    __slots__ = ("layers", "messages", "status")

    def __init__(self) -> None:
        self.layers: dict[str, LayerProgress] = {}
        self.status = ""
        self.messages = 0

    def update(self, message: ProgressMessage) -> LayerProgress | None:
        """Account for one message; returns the layer it changed, if any.

        Streams call this for every message they yield; call it yourself only for
        messages you got elsewhere.

        Args:
            message: one progress message of a pull, push, load or build.
        """
        self.messages += 1
        status = message.status
        layer_id = message.id
        if not layer_id or not status:
            if status:
                self.status = status
            return None
        if status.startswith("Mounted from"):
            kind = "Mounted"
        elif status.startswith("Retrying in"):
            kind = "Retrying"
        else:
            kind = status
        if kind not in _LAYER_STATUSES:
            # e.g. ``{"id": "latest", "status": "Pulling from library/x"}``: not a layer
            self.status = status
            return None
        layer = self.layers.get(layer_id)
        if layer is None:
            layer = self.layers[layer_id] = LayerProgress(layer_id)
        layer.status = status
        detail = message.progress_detail
        if kind in _TRANSFER:
            if detail is not None:
                total = detail.total
                if total > 0:
                    layer.transfer_total = total
                    layer.transferred = min(detail.current, total)
                else:
                    layer.transferred = detail.current
            if kind == "Loading layer" and 0 < layer.transfer_total <= layer.transferred:
                layer.done = True
        elif kind == "Extracting":
            layer.transferred = max(layer.transferred, layer.transfer_total)
            if detail is not None and detail.total > 0:
                layer.extract_total = detail.total
                layer.extracted = min(detail.current, detail.total)
        elif kind in _TRANSFER_DONE:
            layer.transferred = max(layer.transferred, layer.transfer_total)
        elif kind in _LAYER_DONE or kind == "Mounted":
            layer.transferred = max(layer.transferred, layer.transfer_total)
            layer.extracted = max(layer.extracted, layer.extract_total)
            layer.done = True
        elif kind == "Retrying":
            layer.transferred = 0
        return layer

    @property
    def transferred(self) -> int:
        """Bytes downloaded, pushed or loaded so far, over all layers."""
        return sum(layer.transferred for layer in self.layers.values())

    @property
    def transfer_total(self) -> int:
        """Bytes to download, push or load, over the layers whose size is known."""
        return sum(layer.transfer_total for layer in self.layers.values())

    @property
    def extracted(self) -> int:
        return sum(layer.extracted for layer in self.layers.values())

    @property
    def extract_total(self) -> int:
        return sum(layer.extract_total for layer in self.layers.values())

    @property
    def fraction(self) -> float | None:
        """``transferred / transfer_total`` (``None`` while no size is known)."""
        total = self.transfer_total
        if total <= 0:
            return None
        return min(1.0, self.transferred / total)

    @property
    def layers_done(self) -> int:
        return sum(1 for layer in self.layers.values() if layer.done)

    @property
    def layers_total(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return (
            f"<ProgressTracker {self.layers_done}/{self.layers_total} layers, "
            f"{self.transferred}/{self.transfer_total} bytes>"
        )


# --- streams -----------------------------------------------------------------------


class BodyGuard:
    """Wraps a streamed request body: remembers the error that stopped it, closes it early.

    aiohttp reports a failing body as a broken connection; the stream uses
    the remembered error (an unreadable context file, the caller's own
    iterator failing) to raise what actually went wrong. When the request
    fails or is cancelled part-way, :meth:`aclose` closes the body at once
    (and with it any file it was reading) instead of leaving that to the
    garbage collector.
    """

    __slots__ = ("_gen", "error")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self._gen: AsyncGenerator[bytes, None] | None = None

    def wrap(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self._gen = self._guard(body)
        return self._gen

    async def _guard(self, body: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in body:
                yield chunk
        except Exception as exc:
            self.error = exc
            raise
        finally:
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()

    async def aclose(self) -> None:
        gen = self._gen
        if gen is not None and not getattr(gen, "ag_running", False):
            self._gen = None
            await gen.aclose()


# ProgressMessage (and the two generated classes it names) is built when the
# first message is read, not when images or plugins are imported.
class ProgressStream(AsyncStream["ProgressMessage"], Generic[R]):
    """A progress operation: ``await`` it for its result, or iterate its messages.

    ``await op`` reads the operation to its end and returns ``R`` (the
    operation's result class); ``async for message in op`` yields
    :class:`~aiodock.models.progress.ProgressMessage` items, and awaiting
    afterwards returns the result. An error reported inside the stream raises
    where it occurs; messages before it are yielded first. The subclasses
    (:class:`PullStream`, :class:`PushStream`, :class:`BuildStream`,
    :class:`LoadStream`, :class:`ImportStream`) say what the result holds. Made
    by the namespace methods; these arguments are for aiodock's own use.

    Args:
        open: a coroutine function that sends the request and returns the response.
        decoder: the incremental JSON-stream decoder of the body.
        convert: turns each decoded document into a message.
        what: how errors name the call, e.g. ``"POST /images/create"``.
        where: the daemon's address, for messages.
    """

    __slots__ = (
        "_auth_errors",
        "_body",
        "_failure",
        "_finished",
        "_prepare",
        "_reference",
        "aux",
        "digest",
        "image_id",
        "loaded",
        "tracker",
    )

    tracker: ProgressTracker
    aux: dict[str, Any] | None
    digest: str | None
    loaded: list[str]
    image_id: str | None

    def __init__(
        self,
        open: Any,
        decoder: Any,
        convert: Callable[[Any], ProgressMessage] | None = None,
        *,
        what: str = "stream",
        where: str = "",
    ) -> None:
        super().__init__(open, decoder, None, what=what, where=where)
        self._prepare: Callable[[], Awaitable[None]] | None = None
        self._auth_errors = False
        self._body: BodyGuard | None = None
        self._finished = False
        self._failure: Exception | None = None
        self._reference = ""
        #: Folds every message into byte counts (see :class:`ProgressTracker`).
        self.tracker = ProgressTracker()
        #: The last ``aux`` object the daemon sent (a push's ``Tag``/``Digest``/``Size``).
        self.aux: dict[str, Any] | None = None
        #: The image digest reported by a pull (``Digest: ...``) or a push (``aux``).
        self.digest: str | None = None
        #: Images a load reported (``Loaded image: name:tag`` or ``Loaded image ID: ...``).
        self.loaded: list[str] = []
        #: The image an import or a build created, once the daemon has reported it.
        self.image_id: str | None = None

    def _setup(
        self,
        *,
        prepare: Callable[[], Awaitable[None]] | None = None,
        auth_errors: bool = False,
        body: BodyGuard | None = None,
        reference: str = "",
    ) -> None:
        """Run ``prepare`` once before the request; map registry auth failures if asked.

        ``body`` is the guard around a streamed request body: when producing
        the body failed, that error is raised instead of the broken connection
        it caused. ``reference`` is the image or plugin as requested, for results.
        """
        self._prepare = prepare
        self._auth_errors = auth_errors
        self._body = body
        self._reference = reference

    async def _start(self: _PS) -> _PS:
        prepare = self._prepare
        if prepare is not None and not self._closed:
            self._prepare = None
            await prepare()
        try:
            return await super()._start()
        except BaseException as exc:
            body = self._body
            if body is not None:
                # Cancelled or failed part-way: close the body (and its files) now.
                await body.aclose()
            mapped = self._map_start_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def _map_start_error(self, exc: BaseException) -> BaseException:
        # (Refused credentials at the start are mapped by the request core: the
        # request says it goes to a registry.)
        if isinstance(exc, DockerConnectionError):
            body = self._body
            if body is not None and body.error is not None:
                return body.error
        return exc

    async def aclose(self) -> None:
        """Release the connection and close a request body still being sent.

        Closing an operation before its end cancels it on the daemon's side;
        this is the way to do that on purpose (no :class:`ResourceWarning`).
        """
        await super().aclose()
        body = self._body
        if body is not None:
            await body.aclose()

    async def __anext__(self) -> ProgressMessage:
        try:
            raw: Any = await AsyncStream.__anext__(self)
        except StopAsyncIteration:
            # The end of the body, not the end a close forces on a stream.
            if not self._closed:
                self._finished = True
            raise
        except Exception as exc:
            self._failure = exc
            raise
        if raw.__class__ is not dict:
            self._release()
            failure: Exception = StreamError(
                f"{self._what}: expected a JSON object, got {str(raw)[:200]!r}"
            )
            self._failure = failure
            raise failure
        reported = error_parts(raw)
        if reported is not None:
            self._release()
            failure = self._failure = self._error(*reported)
            raise failure
        message = models.ProgressMessage.from_wire(raw)
        self._observe(message)
        return message

    def _observe(self, message: ProgressMessage) -> None:
        self.tracker.update(message)
        aux = message.aux
        if aux is not None:
            self.aux = aux
            digest = aux.get("Digest")
            if isinstance(digest, str) and digest:
                self.digest = digest
        status = message.status
        if status.startswith("Digest: "):
            self.digest = status[8:].strip()
        elif status.startswith("sha256:") and message.id in ("", status):
            # The last message of an import; Podman repeats the id in "id".
            self.image_id = status.strip()
        text = message.stream
        if text.startswith("Loaded image"):
            for line in text.splitlines():
                name = line.partition(": ")[2].strip()
                if line.startswith(("Loaded image: ", "Loaded image ID: ")) and name:
                    # Podman names every image of the archive on one line, comma-separated
                    # (a reference never holds a comma).
                    self.loaded.extend(part for part in map(str.strip, name.split(",")) if part)

    def _error(self, message: str, code: int | None) -> StreamError:
        if self._auth_errors and is_auth_failure(message):
            method, _, path = self._what.partition(" ")
            return RegistryAuthError(message, method=method, path=path, code=code)
        return StreamError(f"{self._what}: {message}", code=code)

    # -- finishing -----------------------------------------------------------------

    def _result(self) -> R:
        """The operation's result, once the stream has ended (subclasses say which).

        A bare ``ProgressStream`` has none: ``None``.
        """
        return None  # type: ignore[return-value]

    async def _finish(self) -> R:
        if not self._finished:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise UsageError(
                    f"{self._what}: the stream was closed before the operation finished"
                )
            try:
                async for _ in self:
                    pass
            finally:
                await self.aclose()
        await self.aclose()
        return self._result()

    def __await__(self) -> Generator[Any, None, R]:  # type: ignore[override]
        return self._finish().__await__()

    async def wait(self) -> R:
        """Read the operation to its end (raising any error it reports) and return its result.

        The same as ``await op``.
        """
        return await self._finish()

    @property
    def finished(self) -> bool:
        """Whether the daemon's stream has ended without an error."""
        return self._finished

    def __del__(self) -> None:
        if getattr(self, "_response", None) is not None:
            # Started, neither finished nor closed: dropping it cancels the daemon's work.
            warnings.warn(
                f"{self._what}: an operation was dropped before it finished, and the "
                "daemon cancels it; await it (or read it to the end), or close it with "
                "aclose() / async with",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )
        super().__del__()


class PullStream(ProgressStream["PullResult"]):
    """An image or plugin pull; ``await`` it for a :class:`~aiodock.models.PullResult`.

    Iterate it for progress; ``op.tracker`` keeps byte counts for a progress bar.

    Made by aiodock's namespaces; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`ProgressStream`.
        **kwargs: those of :class:`ProgressStream`.
    """

    __slots__ = ("_status_line",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._status_line = ""

    def _observe(self, message: ProgressMessage) -> None:
        super()._observe(message)
        status = message.status
        if status.startswith("Status: ") and not message.id:
            self._status_line = status[8:].strip()

    def _result(self) -> PullResult:
        status = self._status_line
        _, found, named = status.rpartition(" for ")
        return models.PullResult(
            reference=named.strip() if found and named.strip() else self._reference,
            digest=self.digest,
            status=status,
            updated=status.startswith("Downloaded newer image"),
        )


class PushStream(ProgressStream["PushResult"]):
    """An image or plugin push; ``await`` it for a :class:`~aiodock.models.PushResult`."""

    __slots__ = ()

    def _result(self) -> PushResult:
        aux = self.aux or {}
        tag = aux.get("Tag")
        size = aux.get("Size")
        return models.PushResult(
            reference=self._reference,
            tag=tag if isinstance(tag, str) and tag else None,
            digest=self.digest,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )


class LoadStream(ProgressStream["LoadResult"]):
    """An image load; ``await`` it for a :class:`~aiodock.models.LoadResult`.

    Made by aiodock's namespaces; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`ProgressStream`.
        **kwargs: those of :class:`ProgressStream`.
    """

    __slots__ = ("_ids",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ids: list[str] = []

    def _observe(self, message: ProgressMessage) -> None:
        super()._observe(message)
        text = message.stream
        if text.startswith("Loaded image ID: "):
            for line in text.splitlines():
                if line.startswith("Loaded image ID: ") and line[17:].strip():
                    self._ids.append(line[17:].strip())

    def _result(self) -> LoadResult:
        ids = self._ids
        tags = [name for name in self.loaded if name not in ids]
        return models.LoadResult(tags=tuple(tags), image_ids=tuple(ids))


class ImportStream(ProgressStream["ImportResult"]):
    """An image import; ``await`` it for a :class:`~aiodock.models.ImportResult`."""

    __slots__ = ()

    def _result(self) -> ImportResult:
        if self.image_id is None:
            raise StreamError(f"{self._what}: the import ended without reporting an image id")
        return models.ImportResult(image_id=self.image_id)


_MAX_LOG = 4 << 20


def check_auth(auth: AuthLike | None) -> None:
    """Validate explicit registry credentials before any request (``None`` is fine)."""
    if auth is not None:
        encode_registry_auth(auth)  # validates keys and types; never shows a secret


async def registry_auth_header(auth: AuthLike | None, registry: str) -> str:
    """The ``X-Registry-Auth`` value: ``auth``, or what the docker config has for ``registry``."""
    if auth is None:
        auth = await resolve_auth(registry)
    return encode_registry_auth(auth)


def registry_stream(
    client: DockerClient,
    path: str,
    stream_class: type[_PS],
    *,
    registry: str,
    reference: str,
    auth: AuthLike | None,
    not_found: type[Any],
    requirement: tuple[str, str] | None = None,
    then: Callable[[], Awaitable[None]] | None = None,
    **request: Any,
) -> _PS:
    """A lazy ``POST path`` operation of ``stream_class`` that talks to a registry.

    Just before the request: check ``requirement`` (``(operation, minimum
    API)``), resolve the ``X-Registry-Auth`` header for ``registry``, then run
    ``then``. Refused credentials raise :class:`RegistryAuthError`. ``request``
    holds the call's ``params``/``body``.
    """
    headers: dict[str, str] = {}

    async def prepare() -> None:
        if requirement is not None:
            await client._require_api(*requirement)
        headers["X-Registry-Auth"] = await registry_auth_header(auth, registry)
        if then is not None:
            await then()

    stream = client._stream(
        Request("POST", path, headers=headers, not_found=not_found, registry=True, **request),
        JSONStreamDecoder(),
        stream_class=stream_class,
    )
    stream._setup(prepare=prepare, auth_errors=True, reference=reference)
    return stream


class BuildStream(ProgressStream["BuildResult"]):
    """An image build; ``await`` it for a :class:`~aiodock.models.BuildResult`.

    Iterate it for :class:`~aiodock.models.progress.ProgressMessage` items
    (build output is in ``message.stream``); :attr:`log` keeps the output.
    A failed build raises :class:`~aiodock.errors.BuildError` whose ``log``
    holds the output received before the error. Made by ``images.build``;
    these arguments are for aiodock's own use.

    Args:
        open: a coroutine function that sends the request and returns the response.
        decoder: the incremental JSON-stream decoder of the body.
        convert: turns each decoded document into a message.
        what: how errors name the call.
        where: the daemon's address, for messages.
        context_counter: counts the build context bytes sent (``count``), if any.
    """

    __slots__ = ("_context_counter", "_log", "_log_size", "tags")

    tags: list[str]

    def __init__(
        self,
        open: Any,
        decoder: Any,
        convert: Callable[[Any], ProgressMessage] | None = None,
        *,
        what: str = "stream",
        where: str = "",
        context_counter: Any = None,
    ) -> None:
        super().__init__(open, decoder, convert, what=what, where=where)
        self._log: list[str] = []
        self._log_size = 0
        #: Tags the daemon reported applying (``Successfully tagged ...``).
        self.tags: list[str] = []
        self._context_counter = context_counter

    @property
    def context_bytes(self) -> int:
        """Bytes of build context handed to the connection so far."""
        counter = self._context_counter
        return int(counter.count) if counter is not None else 0

    @property
    def log(self) -> str:
        """Build output received so far (the last 4 MiB of it for very long builds)."""
        return "".join(self._log)

    def _observe(self, message: ProgressMessage) -> None:
        super()._observe(message)
        aux = message.aux
        if aux is not None:
            image_id = aux.get("ID")
            if isinstance(image_id, str) and image_id:
                self.image_id = image_id
        text = message.stream
        if text:
            self._append_log(text)
            stripped = text.strip()
            if stripped.startswith("Successfully tagged "):
                self.tags.append(stripped[len("Successfully tagged ") :])
            elif self.image_id is None:
                if stripped.startswith("Successfully built "):
                    self.image_id = stripped[len("Successfully built ") :]
                elif stripped.startswith("sha256:") and "\n" not in stripped:
                    self.image_id = stripped  # quiet mode prints just the id
        elif message.status and not message.id:
            self._append_log(message.status + "\n")

    def _append_log(self, text: str) -> None:
        self._log.append(text)
        self._log_size += len(text)
        while self._log_size > _MAX_LOG and len(self._log) > 1:
            self._log_size -= len(self._log.pop(0))

    def _error(self, message: str, code: int | None) -> StreamError:
        from ..errors import BuildError

        return BuildError(message, log=self.log, code=code)

    def _result(self) -> BuildResult:
        if self.image_id is None:
            raise StreamError(f"{self._what}: the build ended without reporting an image id")
        return models.BuildResult(image_id=self.image_id, tags=tuple(self.tags))

    async def result(self) -> str:
        """Read to the end and return the id of the built image (``(await op).image_id``)."""
        return (await self._finish()).image_id


def error_parts(raw: Any) -> tuple[str, int | None] | None:
    """The message and code of a progress message that reports an error, else ``None``.

    Pull, push, build, load and import report failures inside the stream as
    ``{"errorDetail": {"message": ..., "code": ...}, "error": ...}`` (either key
    alone also counts); only an integer is a code.
    """
    if not isinstance(raw, dict) or not (raw.get("errorDetail") or raw.get("error")):
        return None
    detail = raw.get("errorDetail")
    message = ""
    code: int | None = None
    if isinstance(detail, dict):
        message = str(detail.get("message") or "")
        value = detail.get("code")
        if isinstance(value, int) and not isinstance(value, bool):
            code = value
    elif detail:
        message = str(detail)
    if not message:
        error = raw.get("error")
        message = str(error) if error else "the daemon reported an error without a message"
    return message, code
