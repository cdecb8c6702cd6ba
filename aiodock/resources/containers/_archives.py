"""Container archives: ``get_archive``/``head_archive``/``put_archive`` and their stream.

:class:`ContainerArchives` is the part of :class:`~aiodock.resources.containers.Containers`
that copies files in and out of containers; :class:`ArchiveStream` is the tar stream
``get_archive`` returns, with the archived path's stat.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, TYPE_CHECKING, Any, TypeVar

from ... import _rules
from ..._http.request import NO_LIMIT, Request, quote_path
from ..._streams.streaming import AsyncStream, BytesDecoder
from ...errors import ContainerNotFound, InvalidArgument, NotFound, UsageError
from .._base import Resource

if TYPE_CHECKING:
    from ...models.containers import PathStat


def _archive_not_found(exc: NotFound, container_id: str, path: str) -> NotFound:
    """Tell a missing container from a missing path (both are 404 on archive calls)."""
    if isinstance(exc, ContainerNotFound) or "no such container" in exc.message.lower():
        return ContainerNotFound(exc.status, exc.message, exc.method, exc.path)
    message = exc.message
    if not message or message == "no message from the daemon":
        message = f"no such path in container {container_id}: {path}"
    return NotFound(exc.status, message, exc.method, exc.path)


_ArchiveStream = TypeVar("_ArchiveStream", bound="ArchiveStream")


class ArchiveStream(AsyncStream[bytes]):
    """The chunks of a tar archive from ``get_archive``; :attr:`stat` describes the path.

    Made by ``containers.get_archive``; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`~aiodock.AsyncStream`.
        target: the container and path, for a not-found error that names them.
        **kwargs: those of :class:`~aiodock.AsyncStream`.
    """

    __slots__ = ("_stat", "_target")

    def __init__(self, *args: Any, target: tuple[str, str] = ("", ""), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stat: PathStat | None = None
        self._target = target

    async def _start(self: _ArchiveStream) -> _ArchiveStream:
        started = self._response is not None
        try:
            await super()._start()
        except NotFound as exc:
            raise _archive_not_found(exc, *self._target) from None
        if not started and self._response is not None:
            from ..._tar.archive import PATH_STAT_HEADER, parse_path_stat

            try:
                self._stat = parse_path_stat(self._response.headers.get(PATH_STAT_HEADER))
            except BaseException:
                self._release()
                raise
        return self

    @property
    def stat(self) -> PathStat:
        """The stat of the archived path (available once the stream is started)."""
        if self._stat is None:
            raise UsageError("the archive stream has not been started; await it first")
        return self._stat


class ContainerArchives(Resource):
    """Copying files in and out of containers (part of ``docker.containers``)."""

    def _path(self, container_id: str, suffix: str = "") -> str:
        return f"/containers/{quote_path(container_id, 'container_id')}{suffix}"

    async def _tty(self, container_id: str) -> bool:
        data = await self._client._json(
            Request("GET", self._path(container_id, "/json"), not_found=ContainerNotFound)
        )
        return bool(((data or {}).get("Config") or {}).get("Tty"))

    def _archive_stream(self, method: str, container_id: str, path: str) -> ArchiveStream:
        stream: ArchiveStream = self._client._stream(
            Request(
                method,
                self._path(container_id, "/archive"),
                params={"path": _rules.text(path, "path")},
                not_found=NotFound,
            ),
            BytesDecoder(),
            stream_class=ArchiveStream,
            target=(container_id, path),
        )
        return stream

    def get_archive(self, container_id: str, *, path: str) -> ArchiveStream:
        """A tar archive of ``path`` inside the container, streamed (never buffered whole).

        After the stream is awaited (or entered), :attr:`ArchiveStream.stat`
        describes the path. Unpack it safely with :func:`extract_archive` or
        iterate the chunks. A missing path raises
        :class:`~aiodock.errors.NotFound`, a missing container
        :class:`~aiodock.errors.ContainerNotFound`.

        Args:
            container_id: the container's id or name.
            path: the file or directory inside the container.
        """
        return self._archive_stream("GET", container_id, path)

    async def head_archive(self, container_id: str, *, path: str) -> PathStat:
        """Stat ``path`` inside the container without transferring it.

        Args:
            container_id: the container's id or name.
            path: the file or directory inside the container.
        """
        stream = self._archive_stream("HEAD", container_id, path)
        try:
            async with stream:
                async for _ in stream:  # no body: this hands the connection back
                    pass
                return stream.stat
        except ContainerNotFound:
            raise
        except NotFound:
            # A HEAD answer has no text: find out which of the two is missing.
            await self._tty(container_id)
            raise

    async def put_archive(
        self,
        container_id: str,
        *,
        path: str,
        data: bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes] | os.PathLike[str],
        no_overwrite_dir_non_dir: bool = False,
        copy_uid_gid: bool = False,
    ) -> None:
        """Extract a tar archive into directory ``path`` inside the container.

        Args:
            container_id: the container's id or name.
            path: the directory inside the container to extract into; it must exist.
            data: the archive as bytes, a binary file object or an async iterable of
                chunks, or a local path (``pathlib.Path``): a directory is uploaded
                with its contents placed in ``path``, a file under its own name; it is
                packed while it is sent, never whole in memory.
            no_overwrite_dir_non_dir: fail if the archive would replace a directory
                with a non-directory or the other way round.
            copy_uid_gid: give the extracted files the archive's owners.
        """
        params = {
            "path": _rules.text(path, "path"),
            "noOverwriteDirNonDir": _rules.flag(
                no_overwrite_dir_non_dir, "no_overwrite_dir_non_dir"
            )
            or None,
            "copyUIDGID": _rules.flag(copy_uid_gid, "copy_uid_gid") or None,
        }
        from ..._tar.archive import CHUNK_SIZE, iter_fileobj, pack_path

        body: Any
        if isinstance(data, (bytes, bytearray, memoryview)):
            # Large bodies go in slices, so the event loop never copies them at once.
            body = bytes(data) if len(data) <= CHUNK_SIZE else _slices(memoryview(data))
        elif isinstance(data, os.PathLike):
            local = os.fspath(data)
            if not await asyncio.to_thread(os.path.exists, local):
                raise InvalidArgument("data", data, "no such file or directory")
            body = pack_path(local)
        elif isinstance(data, AsyncIterable):
            body = data
        elif hasattr(data, "read"):
            body = iter_fileobj(data)
        else:
            raise InvalidArgument(
                "data", data, "expected bytes, a file object, an async iterable or a pathlib.Path"
            )
        try:
            await self._client._status(
                Request(
                    "PUT",
                    self._path(container_id, "/archive"),
                    params=params,
                    data=body,
                    headers={"Content-Type": "application/x-tar"},
                    timeout=NO_LIMIT,
                    not_found=NotFound,
                )
            )
        except NotFound as exc:
            raise _archive_not_found(exc, container_id, path) from None
        finally:
            closer = getattr(body, "aclose", None)
            if closer is not None and body is not data:
                await closer()


async def _slices(data: memoryview) -> AsyncIterator[bytes]:
    from ..._tar.archive import CHUNK_SIZE

    for start in range(0, len(data), CHUNK_SIZE):
        yield data[start : start + CHUNK_SIZE].tobytes()
