"""Progress streams of pull, push, build, load and import, and a progress aggregator.

- :class:`ProgressStream` is the ``AsyncStream[ProgressMessage]`` those
  operations return. Errors the daemon reports inside the stream raise
  (:class:`~aiodock.errors.StreamError`, or :class:`RegistryAuthError` when
  the registry refused the credentials) exactly where they occur: every
  message before the error is yielded first. :meth:`ProgressStream.wait`
  reads to the end (the daemon cancels the operation if the stream is
  dropped early).
- :class:`BuildStream` adds the build log, the built image id
  (:attr:`BuildStream.image_id`, :meth:`BuildStream.result`) and raises
  :class:`~aiodock.errors.BuildError` with the log received so far.
- :class:`ProgressTracker` folds messages into per-layer and overall byte
  counts for a progress bar; every stream keeps one up to date in
  ``stream.tracker``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import models
from ._auth import AuthLike, encode_registry_auth, resolve_auth
from ._frames import JSONStreamDecoder
from ._streaming import AsyncStream
from .errors import DockerConnectionError, RegistryAuthError, ServerError, StreamError, Unauthorized

if TYPE_CHECKING:
    from ._client import DockerClient
    from .models.progress import ProgressMessage

__all__ = [
    "BodyGuard",
    "BuildStream",
    "LayerProgress",
    "ProgressStream",
    "ProgressTracker",
    "RegistryAuthError",
    "check_auth",
    "is_auth_failure",
    "registry_auth_header",
    "registry_stream",
]

_PS = TypeVar("_PS", bound="ProgressStream")

# What the daemon says when a registry turns the credentials down (in-band or as a 500).
_AUTH_MARKERS = (
    "no basic auth credentials",
    "unauthorized",
    "authentication required",
    "incorrect username or password",
    "requested access to the resource is denied",
)


def is_auth_failure(message: str) -> bool:
    """Whether a daemon error message says the registry refused (or wanted) credentials."""
    lowered = message.lower()
    return any(marker in lowered for marker in _AUTH_MARKERS)


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
        """Account for one message; returns the layer it changed, if any."""
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
class ProgressStream(AsyncStream["ProgressMessage"]):
    """A stream of :class:`~aiodock.models.progress.ProgressMessage` (pull, push, load, import).

    Read it to the end (``async for``, :meth:`wait` or ``collect()``): the
    daemon cancels the operation when the stream is closed early. An error
    reported inside the stream raises where it occurs; messages before it
    are yielded first.
    """

    __slots__ = (
        "_auth_errors",
        "_body",
        "_prepare",
        "aux",
        "digest",
        "image_id",
        "loaded",
        "tracker",
    )

    def __init__(
        self,
        open: Any,
        decoder: Any,
        convert: Callable[[Any], ProgressMessage] | None = None,
        *,
        what: str = "stream",
    ) -> None:
        super().__init__(open, decoder, None, what=what)
        self._prepare: Callable[[], Awaitable[None]] | None = None
        self._auth_errors = False
        self._body: BodyGuard | None = None
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
    ) -> None:
        """Run ``prepare`` once before the request; map registry auth failures if asked.

        ``body`` is the guard around a streamed request body: when producing
        the body failed, that error is raised instead of the broken connection
        it caused.
        """
        self._prepare = prepare
        self._auth_errors = auth_errors
        self._body = body

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
        if isinstance(exc, (ServerError, Unauthorized)) and not isinstance(exc, RegistryAuthError):
            if self._auth_errors and (
                isinstance(exc, Unauthorized) or is_auth_failure(exc.message)
            ):
                return RegistryAuthError(
                    exc.message, method=exc.method, path=exc.path, http_status=exc.status
                )
        elif isinstance(exc, DockerConnectionError):
            body = self._body
            if body is not None and body.error is not None:
                return body.error
        return exc

    async def aclose(self) -> None:
        """Release the connection and close a request body still being sent."""
        await super().aclose()
        body = self._body
        if body is not None:
            await body.aclose()

    async def __anext__(self) -> ProgressMessage:
        raw: Any = await AsyncStream.__anext__(self)
        if raw.__class__ is not dict:
            self._release()
            raise StreamError(f"{self._what}: expected a JSON object, got {str(raw)[:200]!r}")
        if raw.get("errorDetail") or raw.get("error"):
            self._release()
            raise self._error(raw)
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

    def _error(self, raw: dict[str, Any]) -> StreamError:
        message, code = _error_parts(raw)
        if self._auth_errors and is_auth_failure(message):
            method, _, path = self._what.partition(" ")
            return RegistryAuthError(message, method=method, path=path, code=code)
        return StreamError(f"{self._what}: {message}", code=code)

    async def wait(self) -> None:
        """Read the stream to its end (raising any error it reports) and release it."""
        async with self:
            async for _ in self:
                pass


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
    *,
    registry: str,
    auth: AuthLike | None,
    not_found: type[Any],
    requirement: tuple[str, str] | None = None,
    then: Callable[[], Awaitable[None]] | None = None,
    **request: Any,
) -> ProgressStream:
    """A lazy ``POST path`` progress stream that talks to a registry (pull, push, install).

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

    stream: ProgressStream = client._stream(
        "POST",
        path,
        JSONStreamDecoder(),
        stream_class=ProgressStream,
        headers=headers,
        not_found=not_found,
        **request,
    )
    stream._setup(prepare=prepare, auth_errors=True)
    return stream


class BuildStream(ProgressStream):
    """The output of an image build.

    Iterate it for :class:`~aiodock.models.progress.ProgressMessage` items
    (build output is in ``message.stream``), or ``await stream.result()`` to
    read to the end and get the image id. A failed build raises
    :class:`~aiodock.errors.BuildError` whose ``log`` holds the output
    received before the error.
    """

    __slots__ = ("_context_counter", "_log", "_log_size", "tags")

    def __init__(
        self,
        open: Any,
        decoder: Any,
        convert: Callable[[Any], ProgressMessage] | None = None,
        *,
        what: str = "stream",
    ) -> None:
        super().__init__(open, decoder, convert, what=what)
        self._log: list[str] = []
        self._log_size = 0
        #: Tags the daemon reported applying (``Successfully tagged ...``).
        self.tags: list[str] = []
        self._context_counter: Any = None

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

    def _error(self, raw: dict[str, Any]) -> StreamError:
        from .errors import BuildError

        message, code = _error_parts(raw)
        return BuildError(message, log=self.log, code=code)

    async def result(self) -> str:
        """Read to the end and return the id of the built image."""
        await self.wait()
        if self.image_id is None:
            raise StreamError(f"{self._what}: the build ended without reporting an image id")
        return self.image_id


def _error_parts(raw: dict[str, Any]) -> tuple[str, int | None]:
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
