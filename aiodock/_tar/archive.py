"""Tar helpers for the container archive calls.

* :func:`parse_path_stat` decodes the ``X-Docker-Container-Path-Stat`` header.
* :func:`pack_path` turns a local directory (or file) into a tar stream on the
  fly: a worker thread writes the archive while the request body is being
  sent, so the whole archive is never held in memory.
* :func:`iter_fileobj` streams an open binary file (already a tar archive).
* :func:`extract_archive` unpacks a tar archive (bytes, a file object or an
  async iterable of chunks such as ``containers.get_archive``) into a
  directory, refusing members that would land outside it.

Tar parsing and file writing are blocking, so they run in a worker thread;
chunks cross between the thread and the event loop through a small bounded
queue, which keeps memory use flat whatever the archive size.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import functools
import io
import os
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import IO, TYPE_CHECKING, Any

from .._convert import json_loads, structure
from ..errors import DockerConnectionError, InvalidArgument, ResponseValidationError
from .extract import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_MEMBERS,
    ArchiveExtractionError,
    ArchiveLimitError,
    UnsafeArchiveError,
    extract_fileobj,
)
from .tarstream import tar_tree

if TYPE_CHECKING:
    from ..models.containers import PathStat

__all__ = [
    "PATH_STAT_HEADER",
    "ArchiveExtractionError",
    "ArchiveLimitError",
    "UnsafeArchiveError",
    "extract_archive",
    "iter_fileobj",
    "pack_path",
    "parse_path_stat",
]

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"
CHUNK_SIZE = 256 * 1024
_QUEUE_DEPTH = 8
_POLL = 0.2  # how often a blocked worker thread checks whether it was abandoned


def parse_path_stat(value: str | None) -> PathStat:
    """Decode the base64 JSON of the ``X-Docker-Container-Path-Stat`` header."""
    if not value:
        raise DockerConnectionError(f"the daemon sent no {PATH_STAT_HEADER} header")
    try:
        raw = base64.b64decode(value.strip(), validate=False)
        data = json_loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise DockerConnectionError(
            f"the daemon sent an unreadable {PATH_STAT_HEADER} header: {value[:100]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise DockerConnectionError(f"{PATH_STAT_HEADER} is not a JSON object: {data!r}")
    from ..models.containers import PathStat  # not at import: only path-stat calls need it

    try:
        return structure(data, PathStat)
    except Exception as exc:  # a field of the wrong type ("size": "a"): never a bare ValueError
        raise ResponseValidationError(
            "", "", "PathStat", exc, f"{PATH_STAT_HEADER} {str(data)[:100]}"
        ) from exc


# --- thread <-> loop bridges ----------------------------------------------------


class _Abandoned(Exception):
    """The other side went away; the worker thread stops quietly."""


class _Bridge:
    """A bounded asyncio queue a worker thread can put to or get from without hanging.

    A blocked thread re-checks ``stop`` every ``_POLL`` seconds, so it ends
    soon after the asynchronous side is closed, cancelled or its loop stops.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE_DEPTH)
        self.stop = threading.Event()

    def _wait(self, make: Callable[[], Any]) -> Any:
        if self.stop.is_set():
            raise _Abandoned
        try:
            future = asyncio.run_coroutine_threadsafe(make(), self.loop)
        except RuntimeError as exc:  # the loop is closed
            raise _Abandoned from exc
        while True:
            try:
                return future.result(_POLL)
            except concurrent.futures.TimeoutError:
                if self.stop.is_set() or self.loop.is_closed():
                    future.cancel()
                    raise _Abandoned from None
            except concurrent.futures.CancelledError:
                raise _Abandoned from None

    def put(self, item: Any) -> None:
        """From the thread: hand ``item`` to the loop (blocks while the queue is full)."""
        self._wait(lambda: self.queue.put(item))

    def get(self) -> Any:
        """From the thread: take the next item the loop put (blocks while empty)."""
        return self._wait(self.queue.get)

    def drain(self) -> None:
        """From the loop: discard what is queued, which unblocks a thread's pending put."""
        while not self.queue.empty():
            self.queue.get_nowait()


_END = object()


class _QueueReader:
    """The file object ``tarfile`` reads from: pulls chunks from the loop."""

    def __init__(self, bridge: _Bridge) -> None:
        self._bridge = bridge
        self._buffer = bytearray()
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            chunk = self._bridge.get()
            if chunk is _END:
                self._eof = True
            else:
                self._buffer += chunk
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
        else:
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
        return out


# --- packing -----------------------------------------------------------------------


def _pack(source: str, bridge: _Bridge) -> None:
    chunks = tar_tree(source, special_files=True, parameter="data", chunk_size=CHUNK_SIZE)
    with contextlib.closing(chunks):  # an abandoned upload closes the open file now
        for chunk in chunks:
            # The walker may pass the chunk size by a header: keep chunks within it.
            for start in range(0, len(chunk), CHUNK_SIZE):
                bridge.put(chunk[start : start + CHUNK_SIZE])


async def pack_path(source: str | os.PathLike[str]) -> AsyncGenerator[bytes, None]:
    """Yield a tar archive of ``source``, written on the fly by a worker thread.

    The archive is :func:`aiodock._tar.tarstream.tar_tree`'s: a directory
    contributes its contents (not itself) at the archive root, a file itself
    under its base name; links stay links, FIFOs and devices are kept, and
    entries are owned by ``0:0`` (root at the destination, as ``docker cp``
    does). Memory use stays at a few chunks whatever the size.
    """
    path = os.fspath(source)
    loop = asyncio.get_running_loop()
    bridge = _Bridge(loop)

    def work() -> None:
        try:
            _pack(path, bridge)
            bridge.put(_END)
        except _Abandoned:
            pass
        except BaseException as exc:
            with contextlib.suppress(_Abandoned):
                bridge.put(exc)

    thread = threading.Thread(target=work, name="aiodock-tar-pack", daemon=True)
    thread.start()
    try:
        while True:
            item = await bridge.queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        bridge.stop.set()
        bridge.drain()


async def iter_fileobj(
    fileobj: IO[bytes], chunk_size: int = CHUNK_SIZE
) -> AsyncGenerator[bytes, None]:
    """Yield the contents of a binary file object, read in a worker thread."""
    while True:
        chunk = await asyncio.to_thread(fileobj.read, chunk_size)
        if not chunk:
            return
        yield chunk


# --- safe extraction ----------------------------------------------------------------


def _limit(parameter: str, value: int | None) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise InvalidArgument(parameter, value, "must be a whole number >= 0, or None for no limit")


async def extract_archive(
    source: bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes],
    dest: str | os.PathLike[str],
    *,
    skip_unsafe_links: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_members: int | None = DEFAULT_MAX_MEMBERS,
    decompress: bool = False,
) -> list[str]:
    """Unpack a tar archive into directory ``dest`` (created if missing) safely.

    ``source`` is the archive as bytes, a binary file object, or an async
    iterable of chunks (``containers.get_archive(...)`` works directly; it is
    consumed as it arrives, never buffered whole). Returns the relative paths
    written, in archive order.

    Nothing is ever written, re-moded or re-timed outside ``dest``, and after
    extraction no entry below ``dest`` resolves outside it, whatever the order
    and mix of members and however many archives are unpacked into one
    destination. :class:`UnsafeArchiveError` is raised, before that member is
    written, for an absolute member name, a ``..`` component, a control
    character in a name, a path that passes through a symbolic link, a
    directory member where a symbolic link stands, and a symbolic link that is
    absolute, climbs above ``dest``, or has ``..`` after a name (``a/../b``:
    its meaning would depend on whether ``a`` is a link). With
    ``skip_unsafe_links`` such symbolic links (common in container
    filesystems, e.g. ``etc/mtab -> /proc/mounts``) are left out instead.
    Device nodes and FIFOs are skipped; ownership is not restored and set-id
    bits are dropped; a file member replaces a link at its path instead of
    writing through it. Members written before a refused one stay on disk.

    Args:
        source: The archive: bytes, a binary file object or an async iterable of chunks.
        dest: The directory to unpack into; created if missing.
        skip_unsafe_links: Leave out unsafe symbolic links instead of raising.
        max_bytes: Most bytes of file data to write (sparse files count their
            data, not their holes); :class:`ArchiveLimitError` past it. ``None``
            lifts the limit. The default, 4 GiB, stops an archive bomb well
            before it fills a disk.
        max_members: Most members the archive may hold (default one million);
            ``None`` lifts the limit.
        decompress: Accept gzip, bzip2 and xz-compressed archives. Off by
            default: the Engine never compresses archives, and a compressed one
            expands by an unknown factor (``max_bytes`` still bounds it).

    Raises:
        UnsafeArchiveError: A member was refused.
        ArchiveLimitError: ``max_bytes`` or ``max_members`` was passed.
        ArchiveExtractionError: The archive is corrupt, compressed without
            ``decompress``, or a member cannot be written.
        InvalidArgument: ``max_bytes`` or ``max_members`` is not a whole number >= 0.
    """
    extract = functools.partial(
        extract_fileobj,
        dest=os.fspath(dest),
        skip_unsafe_links=skip_unsafe_links,
        max_bytes=_limit("max_bytes", max_bytes),
        max_members=_limit("max_members", max_members),
        decompress=decompress,
    )
    if isinstance(source, (bytes, bytearray, memoryview)):
        return await asyncio.to_thread(extract, io.BytesIO(bytes(source)))
    if not isinstance(source, AsyncIterable):
        return await asyncio.to_thread(extract, source)

    loop = asyncio.get_running_loop()
    bridge = _Bridge(loop)
    reader = _QueueReader(bridge)

    def work() -> list[str]:
        try:
            return extract(reader)  # type: ignore[arg-type]
        finally:
            bridge.stop.set()

    def finished(future: asyncio.Future[list[str]]) -> None:
        bridge.drain()  # unblocks a pending put
        if not future.cancelled():
            future.exception()  # retrieved here; raised again by ``await worker``

    worker = asyncio.ensure_future(asyncio.to_thread(work))
    worker.add_done_callback(finished)
    try:
        async for chunk in source:
            if worker.done():
                break
            if chunk:
                await bridge.queue.put(chunk)
        if not worker.done():
            await bridge.queue.put(_END)
        return await worker
    except _Abandoned:
        raise DockerConnectionError("archive extraction stopped unexpectedly") from None
    finally:
        bridge.stop.set()
        bridge.drain()
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()
        if not worker.done():
            worker.cancel()
