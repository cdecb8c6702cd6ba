"""Tar archives produced on the fly, and request bodies streamed without buffering.

:func:`tar_tree` is the package's one tar packer: it walks a directory (or
takes one file) and yields the bytes of a tar archive of it in chunks of
about ``chunk_size`` bytes: only one chunk (and one file handle) is alive at
a time, whatever the size of the tree. Build contexts use it through
:func:`tar_directory` (with ``.dockerignore`` excludes), ``put_archive``
through :func:`aiodock._tar.archive.pack_path`. It is a plain generator so it
can run in a worker thread; :func:`aiter_sync` turns it (or any blocking
iterator of chunks) into an async iterator that reads the next chunk in a
thread while the current one is being sent.

Entries are written the way the docker CLI writes a build context: paths
relative to the root, owner ``0:0`` without user or group names, permission
bits and modification times kept, symlinks as links, hard links to a file
already in the archive as hard-link entries. Sockets are left out, and so
are FIFOs and device files unless asked for. A file that disappears during
the walk is skipped; a file that changes size while it is read is cut or
zero-padded to the size it had when its header was written, so the archive
stays well-formed.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import tarfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Iterator, Mapping
from typing import IO, Any

from ..errors import InvalidArgument
from .dockerignore import PatternMatcher

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BodySource",
    "aiter_sync",
    "body_stream",
    "tar_directory",
    "tar_tree",
]

DEFAULT_CHUNK_SIZE = 1 << 20
_BLOCK = 512
_ZEROS = bytes(_BLOCK * 2)

#: What a streamed request body may be made from.
BodySource = bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _padding(size: int) -> bytes:
    rest = size % _BLOCK
    return bytes(_BLOCK - rest) if rest else b""


def tar_directory(
    root: str | os.PathLike[str],
    *,
    excludes: PatternMatcher | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield a tar archive of the directory ``root`` (a build context), chunk by chunk.

    ``excludes`` leaves out matching paths (relative, ``/``-separated) with
    the docker CLI's rules: an excluded directory is only entered when an
    exception pattern names something below it. ``extra_files`` adds
    regular files (name -> content) at the start of the archive. Sockets,
    devices and FIFOs are left out. Blocking: run it in a thread (see
    :func:`aiter_sync`).
    """
    base = os.fspath(root)
    try:
        if not stat.S_ISDIR(os.stat(base).st_mode):
            raise InvalidArgument("context", base, "is not a directory")
    except FileNotFoundError:
        raise InvalidArgument("context", base, "does not exist") from None
    yield from tar_tree(base, excludes=excludes, extra_files=extra_files, chunk_size=chunk_size)


_SPECIAL_TYPES = {
    stat.S_IFIFO: tarfile.FIFOTYPE,
    stat.S_IFCHR: tarfile.CHRTYPE,
    stat.S_IFBLK: tarfile.BLKTYPE,
}


def tar_tree(
    root: str | os.PathLike[str],
    *,
    excludes: PatternMatcher | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    special_files: bool = False,
    parameter: str = "context",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Generator[bytes, None, None]:
    """Yield a tar archive of ``root``, chunk by chunk (the one packer of the package).

    A directory contributes its contents (not itself) at the archive root; a
    file (or link) contributes itself under its base name; a missing ``root``
    raises :class:`FileNotFoundError`. ``excludes`` and ``extra_files`` are as
    for :func:`tar_directory`; ``special_files`` keeps FIFOs and device files
    (sockets are always left out). A file or directory that cannot be read is
    an :class:`~aiodock.errors.InvalidArgument` naming ``parameter``. Chunks
    may pass ``chunk_size`` by a header or two. Blocking: run it in a thread.
    """
    base = os.fspath(root)
    buf = bytearray()
    links: dict[tuple[int, int], str] = {}

    for name, content in (extra_files or {}).items():
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mode = 0o644
        buf += _header(info)
        buf += content
        buf += _padding(len(content))

    # Depth-first, names sorted, so the archive is deterministic. Each batch is
    # the (path, archive name) of one directory's entries.
    batches: list[list[tuple[str, str]]] = []
    if stat.S_ISDIR(os.stat(base).st_mode):
        stack: list[tuple[str, str]] = [(base, "")]
    else:
        stack = []
        batches.append([(base, os.path.basename(base))])
    while stack or batches:
        if batches:
            batch = batches.pop()
        else:
            directory, prefix = stack.pop()
            try:
                with os.scandir(directory) as it:
                    names = sorted(entry.name for entry in it)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _unreadable(parameter, directory, exc) from None
            batch = [(os.path.join(directory, name), prefix + name) for name in names]
        subdirs: list[tuple[str, str]] = []
        for path, rel in batch:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _unreadable(parameter, path, exc) from None
            mode = st.st_mode
            is_dir = stat.S_ISDIR(mode)
            if excludes and excludes.matches(rel):
                if is_dir and excludes.may_include_below(rel):
                    subdirs.append((path, rel + "/"))
                continue
            if is_dir:
                buf += _header(_info(rel + "/", st, tarfile.DIRTYPE))
                subdirs.append((path, rel + "/"))
            elif stat.S_ISLNK(mode):
                info = _info(rel, st, tarfile.SYMTYPE)
                try:
                    info.linkname = os.readlink(path)
                except FileNotFoundError:
                    continue
                buf += _header(info)
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1:
                    first = links.get(key)
                    if first is not None:
                        info = _info(rel, st, tarfile.LNKTYPE)
                        info.linkname = first
                        buf += _header(info)
                        continue
                    links[key] = rel
                try:
                    fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise _unreadable(parameter, path, exc) from None
                with fh:
                    size = st.st_size
                    info = _info(rel, st, tarfile.REGTYPE)
                    info.size = size
                    buf += _header(info)
                    remaining = size
                    while remaining:
                        room = chunk_size - len(buf)
                        if room <= 0:
                            yield bytes(buf)
                            buf.clear()
                            room = chunk_size
                        if not buf and remaining >= chunk_size:
                            # Big file: hand its chunks out as they are read.
                            data = fh.read(chunk_size)
                            if not data:
                                break
                            remaining -= len(data)
                            yield data
                            continue
                        data = fh.read(min(room, remaining))
                        if not data:
                            break
                        remaining -= len(data)
                        buf += data
                    if remaining:  # the file shrank while we read it
                        buf += bytes(remaining)
                    buf += _padding(size)
            elif special_files and stat.S_IFMT(mode) in _SPECIAL_TYPES:
                info = _info(rel, st, _SPECIAL_TYPES[stat.S_IFMT(mode)])
                if not stat.S_ISFIFO(mode):
                    info.devmajor = os.major(st.st_rdev)
                    info.devminor = os.minor(st.st_rdev)
                buf += _header(info)
            # sockets (and, unless asked for, devices and FIFOs) are left out
            if len(buf) >= chunk_size:
                yield bytes(buf)
                buf.clear()
        stack.extend(reversed(subdirs))
    buf += _ZEROS
    yield bytes(buf)


def _unreadable(parameter: str, path: str, exc: OSError) -> InvalidArgument:
    return InvalidArgument(parameter, path, f"cannot be read: {exc.strerror or exc}")


def _read_file(fileobj: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    while True:
        data = fileobj.read(chunk_size)
        if not data:
            return
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidArgument(
                "data", type(data).__name__, "the file object must be opened in binary mode"
            )
        yield bytes(data)


async def aiter_sync(
    chunks: Iterator[bytes], *, on_chunk: Callable[[int], None] | None = None
) -> AsyncIterator[bytes]:
    """Run a blocking chunk iterator in worker threads, one chunk ahead of the consumer.

    At most two chunks exist at a time: the one being sent and the one being
    read. Closing the async iterator closes ``chunks`` (and so any file it
    holds), after the read in flight, if any, has finished.
    """
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[bytes | None] | None = loop.run_in_executor(None, next, chunks, None)
    try:
        while pending is not None:
            chunk = await pending
            pending = None
            if chunk is None:
                return
            pending = loop.run_in_executor(None, next, chunks, None)
            if on_chunk is not None:
                on_chunk(len(chunk))
            yield chunk
    finally:
        if pending is not None and not pending.done():
            # The generator is running in a thread: close it once it is back.
            pending.add_done_callback(lambda fut: _close(chunks, fut))
        else:
            if pending is not None and not pending.cancelled():
                pending.exception()  # mark a failure after close as retrieved
            _close(chunks, None)


def _close(chunks: Iterator[bytes], fut: asyncio.Future[Any] | None) -> None:
    if fut is not None and not fut.cancelled():
        fut.exception()
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


async def _aiter_counted(
    source: AsyncIterable[bytes], on_chunk: Callable[[int], None] | None
) -> AsyncIterator[bytes]:
    try:
        async for chunk in source:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise InvalidArgument(
                    "data", type(chunk).__name__, "an async iterator body must yield bytes"
                )
            if on_chunk is not None:
                on_chunk(len(chunk))
            yield bytes(chunk)
    finally:
        # The request consumed the iterator; close it (its files, connections) with it.
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()


async def _aiter_buffer(
    view: memoryview, chunk_size: int, on_chunk: Callable[[int], None] | None
) -> AsyncIterator[bytes]:
    for start in range(0, len(view), chunk_size):
        piece = view[start : start + chunk_size]
        if on_chunk is not None:
            on_chunk(len(piece))
        yield piece  # type: ignore[misc]  # aiohttp writes memoryviews as they are


def body_stream(
    source: Any,
    *,
    parameter: str = "data",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: Callable[[int], None] | None = None,
) -> bytes | AsyncIterator[bytes]:
    """Turn bytes, a binary file object or an async iterable of bytes into a request body.

    Bytes are sent as they are (in ``chunk_size`` slices when larger, without
    copying); file objects are read in worker threads one chunk at a time
    (and left open: they belong to the caller); async iterables are passed
    through and closed (``aclose``) when the body ends, fails or is abandoned. Anything else is an
    :class:`~aiodock.errors.InvalidArgument` naming ``parameter``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > chunk_size:
            # aiohttp would write a large buffer in one go, blocking the loop.
            return _aiter_buffer(memoryview(source).cast("B"), chunk_size, on_chunk)
        data = bytes(source)
        if on_chunk is not None:
            on_chunk(len(data))
        return data
    if isinstance(source, str):
        raise InvalidArgument(
            parameter, source, "expected bytes, a binary file object or an async iterator of bytes"
        )
    if hasattr(source, "__aiter__"):
        return _aiter_counted(source, on_chunk)
    if isinstance(source, io.TextIOBase):
        raise InvalidArgument(parameter, source, "the file object must be opened in binary mode")
    if hasattr(source, "read"):
        return aiter_sync(_read_file(source, chunk_size), on_chunk=on_chunk)
    raise InvalidArgument(
        parameter,
        type(source).__name__,
        "expected bytes, a binary file object or an async iterator of bytes",
    )
