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
import io
import os
import shutil
import stat
import tarfile
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import IO, TYPE_CHECKING, Any

from ._convert import json_loads, structure
from ._tarstream import tar_tree
from .errors import DockerConnectionError, DockerError

if TYPE_CHECKING:
    from .models.containers import PathStat

__all__ = [
    "PATH_STAT_HEADER",
    "ArchiveExtractionError",
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


class UnsafeArchiveError(DockerError, ValueError):
    """A tar member would be written outside the extraction directory.

    ``member`` is the offending member name and ``reason`` says why it was
    refused (absolute path, ``..`` component, or a link leaving the target).
    """

    def __init__(self, member: str, reason: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(f"refusing tar member {member!r}: {reason}")


class ArchiveExtractionError(DockerError, OSError):
    """A tar archive could not be unpacked: it is corrupt or truncated, or one of
    its members cannot be written as described (a file used as a directory, a
    link loop, a full disk). ``member`` names the member, if any.
    """

    def __init__(self, member: str | None, reason: str) -> None:
        self.member = member
        self.reason = reason
        where = f"tar member {member!r}" if member is not None else "the tar archive"
        super().__init__(f"cannot extract {where}: {reason}")


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
    from .models.containers import PathStat  # not at import: only path-stat calls need it

    return structure(data, PathStat)


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

    The archive is :func:`aiodock._tarstream.tar_tree`'s: a directory
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


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _member_path(name: str, what: str, member: str | None = None) -> str | None:
    """The member name as a clean relative path; ``None`` for the archive root itself."""
    member = name if member is None else member
    if "\x00" in name:
        raise UnsafeArchiveError(member, f"{what} contains a NUL byte")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(member, f"{what} {name!r} is an absolute path")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(member, f"{what} {name!r} contains a '..' component")
    return "/".join(parts) or None


class _Extractor:
    """Writes tar members below ``root``, checking every one before touching the disk."""

    def __init__(self, dest: str, skip_unsafe_links: bool = False) -> None:
        os.makedirs(dest, exist_ok=True)
        self.skip_unsafe_links = skip_unsafe_links
        self.root = os.path.realpath(dest)
        self.names: list[str] = []
        self._dir_modes: list[tuple[str, int, float]] = []

    def _target(self, member: tarfile.TarInfo, rel: str) -> str:
        target = os.path.join(self.root, rel)
        parent = os.path.realpath(os.path.dirname(target))
        if not _inside(self.root, parent):
            raise UnsafeArchiveError(member.name, "its directory leads outside the target")
        return os.path.join(parent, os.path.basename(target))

    def _check_symlink(self, member: tarfile.TarInfo, rel: str, target: str) -> None:
        link = member.linkname
        if not link:
            raise UnsafeArchiveError(member.name, "symbolic link without a target")
        if link.startswith("/"):
            raise UnsafeArchiveError(member.name, f"symbolic link to absolute path {link!r}")
        lexical = os.path.normpath(os.path.join(os.path.dirname(rel), link))
        if lexical == ".." or lexical.startswith(".." + os.sep):
            raise UnsafeArchiveError(member.name, f"symbolic link {link!r} leaves the target")
        resolved = os.path.realpath(os.path.join(os.path.dirname(target), link))
        if not _inside(self.root, resolved):
            raise UnsafeArchiveError(member.name, f"symbolic link {link!r} leaves the target")

    def _hardlink_source(self, member: tarfile.TarInfo) -> str:
        source_rel = _member_path(member.linkname, "the hard link target", member.name)
        if source_rel is None:
            raise UnsafeArchiveError(member.name, "hard link to the archive root")
        source = os.path.realpath(os.path.join(self.root, source_rel))
        if not _inside(self.root, source):
            raise UnsafeArchiveError(member.name, "hard link leaves the target")
        return source

    @staticmethod
    def _clear(target: str) -> None:
        """Remove a non-directory already at ``target`` (never write through a link)."""
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(target)

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        rel = _member_path(member.name, "the path")
        if rel is None:
            return
        if member.isdev() or member.isfifo():
            return  # device nodes and FIFOs are not created
        target = self._target(member, rel)
        if member.issym():
            try:
                self._check_symlink(member, rel, target)
            except UnsafeArchiveError:
                if self.skip_unsafe_links:
                    return
                raise
        elif member.islnk():
            source = self._hardlink_source(member)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        mode = member.mode & 0o777
        if member.isdir():
            if os.path.lexists(target) and not os.path.isdir(target):
                os.unlink(target)
            os.makedirs(target, exist_ok=True)
            if not _inside(self.root, os.path.realpath(target)):
                raise UnsafeArchiveError(member.name, "directory leads outside the target")
            self._dir_modes.append((target, mode, member.mtime))
        elif member.issym():
            self._clear(target)
            os.symlink(member.linkname, target)
        elif member.islnk():
            self._clear(target)
            os.link(source, target, follow_symlinks=False)
        else:  # regular file (and anything tarfile treats like one)
            self._clear(target)
            src = tar.extractfile(member)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(target, flags, 0o600)
            with os.fdopen(fd, "wb") as out:
                if src is not None:
                    shutil.copyfileobj(src, out, CHUNK_SIZE)
            os.chmod(target, mode)
            os.utime(target, (member.mtime, member.mtime))
        self.names.append(rel)

    def finish(self) -> list[str]:
        # Directory modes last, deepest first, so read-only directories can be filled.
        for path, mode, mtime in sorted(self._dir_modes, key=lambda d: d[0], reverse=True):
            os.chmod(path, mode)
            os.utime(path, (mtime, mtime))
        return self.names


def _extract_fileobj(fileobj: Any, dest: str, skip_unsafe_links: bool = False) -> list[str]:
    extractor = _Extractor(dest, skip_unsafe_links)
    member: str | None = None
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*", bufsize=CHUNK_SIZE) as tar:
            for info in tar:
                member = info.name
                extractor.add(tar, info)
            member = None
        return extractor.finish()
    except tarfile.TarError as exc:
        raise ArchiveExtractionError(None, f"not a valid tar stream ({exc})") from exc
    except (OSError, RecursionError) as exc:
        if isinstance(exc, DockerError):
            raise
        raise ArchiveExtractionError(member, str(exc) or type(exc).__name__) from exc


async def extract_archive(
    source: bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes],
    dest: str | os.PathLike[str],
    *,
    skip_unsafe_links: bool = False,
) -> list[str]:
    """Unpack a tar archive into directory ``dest`` (created if missing) safely.

    ``source`` is the archive as bytes, a binary file object, or an async
    iterable of chunks (``containers.get_archive(...)`` works directly; it is
    consumed as it arrives, never buffered whole). Returns the relative paths
    written, in archive order.

    Raises :class:`UnsafeArchiveError`, before writing that member, for an
    absolute member name, a ``..`` component, a symbolic link whose target is
    absolute or resolves outside ``dest``, a hard link to outside ``dest``, or
    a path that would be reached through such a link. With
    ``skip_unsafe_links`` such symbolic links (common in container
    filesystems, e.g. ``etc/mtab -> /proc/mounts``) are left out instead.
    Device nodes and FIFOs are skipped; ownership is not restored and set-id
    bits are dropped. Members written before a refused one stay on disk.
    """
    target = os.fspath(dest)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = io.BytesIO(bytes(source))
        return await asyncio.to_thread(_extract_fileobj, data, target, skip_unsafe_links)
    if not isinstance(source, AsyncIterable):
        return await asyncio.to_thread(_extract_fileobj, source, target, skip_unsafe_links)

    loop = asyncio.get_running_loop()
    bridge = _Bridge(loop)
    reader = _QueueReader(bridge)

    def work() -> list[str]:
        try:
            return _extract_fileobj(reader, target, skip_unsafe_links)
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
