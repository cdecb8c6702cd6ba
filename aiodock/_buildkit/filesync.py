"""``FileSync/DiffCopy``: send a local directory to the daemon, file by file, on request.

The fsutil sender protocol: a ``STAT`` packet per entry in walk order (names
sorted per directory, depth first, as fsutil walks), an empty ``STAT`` to end
the listing; the receiver asks for file contents with ``REQ <id>`` (the id is
the entry's position in the listing) and gets ``DATA`` chunks ending with an
empty ``DATA``; ``FIN`` from the receiver is answered with ``FIN``.

Walking runs in a worker thread a batch at a time; large files are read
there a chunk at a time, small ones (64 KiB at most) inline. A context of
any size is streamed with bounded memory: at most a walk batch and a few
chunks per concurrent request are held, and sending waits for HTTP/2
flow-control credit.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import stat as st
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import attrs

from .._tar.dockerignore import PatternMatcher, clean_path
from . import _proto as pb
from .session import INTERNAL, INVALID_ARGUMENT, NOT_FOUND, Call, GrpcError, Handler

__all__ = ["SyncedDir", "diffcopy_handler", "go_mode", "walk"]

#: Bytes per DATA packet (the receiver accepts any size; fsutil sends 32 KiB).
CHUNK = 128 * 1024
#: Files up to this size are read without a worker thread (see ``_serve_requests``).
_INLINE = 64 * 1024
#: Entries stat'ed per trip to the worker thread.
_BATCH = 512
#: Bytes of small files' DATA packed into one send.
_SEND_BATCH = 256 * 1024
#: Files read concurrently (fsutil uses 4 workers too).
_WORKERS = 4

# Go's os.FileMode type bits, which fsutil puts on the wire.
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_DEVICE = 1 << 26
_GO_PIPE = 1 << 25
_GO_SOCKET = 1 << 24
_GO_SETUID = 1 << 23
_GO_SETGID = 1 << 22
_GO_CHARDEV = 1 << 21
_GO_STICKY = 1 << 20


def go_mode(mode: int) -> int:
    """A POSIX ``st_mode`` as Go's ``os.FileMode``."""
    result = mode & 0o777
    if mode & st.S_ISUID:
        result |= _GO_SETUID
    if mode & st.S_ISGID:
        result |= _GO_SETGID
    if mode & st.S_ISVTX:
        result |= _GO_STICKY
    kind = st.S_IFMT(mode)
    if kind == st.S_IFDIR:
        result |= _GO_DIR
    elif kind == st.S_IFLNK:
        result |= _GO_SYMLINK
    elif kind == st.S_IFIFO:
        result |= _GO_PIPE
    elif kind == st.S_IFSOCK:
        result |= _GO_SOCKET
    elif kind == st.S_IFCHR:
        result |= _GO_DEVICE | _GO_CHARDEV
    elif kind == st.S_IFBLK:
        result |= _GO_DEVICE
    return result


@attrs.frozen
class SyncedDir:
    """A directory the session offers under a name (``context``, ``dockerfile``).

    ``excludes`` (from ``.dockerignore``) replace the exclude patterns the
    daemon sends, as the docker CLI does, unless it asks ``override-excludes``.
    ``only`` limits the directory to these names (a Dockerfile outside the context).
    """

    path: str
    #: ``None``: use the patterns the daemon sends.
    excludes: tuple[str, ...] | None = None
    only: tuple[str, ...] | None = None


@attrs.define
class _Walk:
    root: str
    excludes: PatternMatcher | None
    includes: PatternMatcher | None
    include_texts: tuple[str, ...]
    seen_inodes: dict[tuple[int, int], str] = attrs.Factory(dict)


def _may_include_below(walk: _Walk, directory: str) -> bool:
    prefix = directory + "/"
    for text in walk.include_texts:
        if any(c in text for c in "*?[\\"):
            return True
        if clean_path(text).lstrip("/").startswith(prefix):
            return True
    return False


def _entry_stat(path: str, full: str, info: os.stat_result, walk: _Walk) -> pb.Stat:
    mode = info.st_mode
    stat = pb.Stat(
        path=path,
        mode=go_mode(mode),
        size=info.st_size if st.S_ISREG(mode) else 0,
        mod_time=info.st_mtime_ns,
    )
    # uid/gid are reset to 0 like the docker CLI: the context's owner means nothing in the image.
    if st.S_ISLNK(mode):
        stat.linkname = os.readlink(full)
    elif st.S_ISCHR(mode) or st.S_ISBLK(mode):
        stat.devmajor = os.major(info.st_rdev)
        stat.devminor = os.minor(info.st_rdev)
    elif st.S_ISREG(mode) and info.st_nlink > 1:
        key = (info.st_dev, info.st_ino)
        first = walk.seen_inodes.get(key)
        if first is not None:
            stat.linkname = first  # a hard link to an entry already sent
            stat.size = 0
        else:
            walk.seen_inodes[key] = path
    return stat


def walk(
    root: str,
    *,
    excludes: Sequence[str] = (),
    includes: Sequence[str] = (),
    followpaths: Sequence[str] = (),
) -> Iterator[tuple[pb.Stat, str | None]]:
    """Yield ``(stat, file path or None)`` for every entry to send, in fsutil's walk order.

    A file path comes with regular files (what a ``REQ`` reads). Blocking:
    run it in a thread.
    """
    include_list = list(includes)
    for follow in followpaths:
        include_list.extend(_follow(root, follow))
    state = _Walk(
        root=root,
        excludes=PatternMatcher(excludes) if excludes else None,
        includes=PatternMatcher(include_list) if include_list else None,
        include_texts=tuple(include_list),
    )
    # Directories entered only for what an include pattern may find below them are
    # sent just before the first entry under them that is included.
    pending: list[tuple[str, pb.Stat]] = []
    yield from _subtree(state, root, "", pending, None)


def _subtree(
    state: _Walk,
    directory: str,
    prefix_rel: str,
    pending: list[tuple[str, pb.Stat]],
    unsent: pb.Stat | None,
) -> Iterator[tuple[pb.Stat, str | None]]:
    """Walk ``directory`` (entry ``prefix_rel``); ``unsent`` is its own stat if not yet sent."""
    if unsent is not None:
        pending.append((prefix_rel, unsent))
    try:
        with os.scandir(directory) as it:
            names = sorted(entry.name for entry in it)
    except (FileNotFoundError, NotADirectoryError):
        names = []
    for name in names:
        rel = f"{prefix_rel}/{name}" if prefix_rel else name
        full = os.path.join(directory, name)
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            continue
        is_dir = st.S_ISDIR(info.st_mode)
        excluded = state.excludes is not None and state.excludes.matches(rel)
        if excluded and not (is_dir and state.excludes.may_include_below(rel)):  # type: ignore[union-attr]
            continue
        included = True
        if state.includes is not None and not state.includes.matches(rel):
            included = False
            if not (is_dir and _may_include_below(state, rel)):
                continue
        if st.S_ISSOCK(info.st_mode):
            continue
        entry = _entry_stat(rel, full, info, state)
        if included:
            for _, parent in pending:
                yield parent, None
            pending.clear()
            yield entry, full if st.S_ISREG(info.st_mode) and not entry.linkname else None
        if is_dir:
            yield from _subtree(state, full, rel, pending, None if included else entry)
    if unsent is not None and pending and pending[-1][1] is unsent:
        pending.pop()  # nothing below it was sent: leave it out


def _follow(root: str, path: str) -> list[str]:
    """``path`` and, while it is a symlink, what it points at (relative to ``root``)."""
    found: list[str] = []
    current = clean_path(path.replace("\\", "/")).lstrip("/")
    for _ in range(40):  # a symlink loop stops here
        if not current or current == "." or current == ".." or current.startswith("../"):
            break
        found.append(current)
        try:
            target = os.readlink(os.path.join(root, current))
        except OSError:
            break
        if target.startswith("/"):
            current = clean_path(target).lstrip("/")
        else:
            current = clean_path(posixpath.join(posixpath.dirname(current), target)).lstrip("/")
    return found


def _take(
    entries: Iterator[tuple[pb.Stat, str | None]], count: int
) -> list[tuple[pb.Stat, str | None]]:
    batch = []
    for item in entries:
        batch.append(item)
        if len(batch) >= count:
            break
    return batch


def _read_small(paths: list[tuple[int, str]]) -> list[tuple[int, bytes | OSError]]:
    out: list[tuple[int, bytes | OSError]] = []
    for ident, path in paths:
        try:
            with open(path, "rb") as fh:
                out.append((ident, fh.read(CHUNK + 1)))
        except OSError as exc:
            out.append((ident, exc))
    return out


def diffcopy_handler(dirs: dict[str, SyncedDir]) -> Handler:
    """The ``/moby.filesync.v1.FileSync/DiffCopy`` handler for these named directories."""

    async def handle(call: Call) -> None:
        name = call.header("dir-name")
        synced = dirs.get(name)
        if synced is None:
            raise GrpcError(NOT_FOUND, f"no access allowed to dir {name!r}")
        excludes: Sequence[str] = call.metadata.get("exclude-patterns", [])
        if synced.excludes is not None and call.header("override-excludes") != "true":
            excludes = synced.excludes
        includes = list(call.metadata.get("include-patterns", []))
        followpaths = call.metadata.get("followpaths", [])
        if synced.only is not None and not includes and not followpaths:
            includes = list(synced.only)
        await _DiffCopySender(call, synced, excludes, includes, followpaths).run()

    return handle


class _DiffCopySender:
    def __init__(
        self,
        call: Call,
        synced: SyncedDir,
        excludes: Sequence[str],
        includes: Sequence[str],
        followpaths: Sequence[str],
    ) -> None:
        self._call = call
        self._synced = synced
        self._walk_args = (excludes, includes, followpaths)
        # id -> (path, size) of the regular files listed so far
        self._files: dict[int, tuple[str, int]] = {}
        self._requests: asyncio.Queue[int] = asyncio.Queue()

    async def run(self) -> None:
        call = self._call
        tasks = [asyncio.ensure_future(self._list())]
        tasks += [asyncio.ensure_future(self._serve_requests()) for _ in range(_WORKERS)]
        receiver = asyncio.ensure_future(self._receive())
        try:
            # The listing and the file requests overlap; the receiver's FIN ends it all.
            waiting = {receiver, *tasks}
            while not (receiver.done() and tasks[0].done()):
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            await self._requests.join()
            for task in tasks:
                if task.done():
                    task.result()
            await call.send(pb.encode_packet(pb.PACKET_FIN))
        finally:
            for task in (*tasks, receiver):
                task.cancel()
            await asyncio.gather(*tasks, receiver, return_exceptions=True)

    async def _list(self) -> None:
        call = self._call
        excludes, includes, followpaths = self._walk_args
        root = self._synced.path
        only = self._synced.only
        entries = walk(root, excludes=excludes, includes=includes, followpaths=followpaths)
        ident = 0
        try:
            while True:
                batch = await asyncio.to_thread(_take, entries, _BATCH)
                if not batch:
                    break
                packets = []
                for stat, path in batch:
                    if only is not None and stat.path.partition("/")[0] not in only:
                        continue
                    if path is not None:
                        self._files[ident] = (path, stat.size)
                    packets.append(pb.encode_packet(pb.PACKET_STAT, stat=stat))
                    ident += 1
                await call.send_many(packets)
        except OSError as exc:
            message = f"reading the build context: {exc.strerror or exc}: {exc.filename}"
            await call.send(pb.encode_packet(pb.PACKET_ERR, data=message.encode()))
            raise GrpcError(INTERNAL, message) from None
        finally:
            close = getattr(entries, "close", None)
            if close is not None:
                close()
        await call.send(pb.encode_packet(pb.PACKET_STAT))

    async def _receive(self) -> None:
        call = self._call
        while True:
            message = await call.recv()
            if message is None:
                return
            packet = pb.decode_packet(message)
            if packet.type == pb.PACKET_REQ:
                if packet.id not in self._files:
                    raise GrpcError(INVALID_ARGUMENT, f"invalid file request {packet.id}")
                self._requests.put_nowait(packet.id)
            elif packet.type == pb.PACKET_FIN:
                return
            elif packet.type == pb.PACKET_ERR:
                text = packet.data.decode("utf-8", "replace")[:500]
                raise GrpcError(INTERNAL, f"error from receiver: {text}")

    async def _serve_requests(self) -> None:
        queue = self._requests
        files = self._files
        while True:
            ident = await queue.get()
            batch = [ident]
            try:
                # Requests waiting together for small files are read in one go, right
                # here: a page-cache read of a few KiB costs less than the trip to a
                # worker thread, which made many-small-file contexts 2x slower.
                while len(batch) < 64 and files[batch[-1]][1] <= _INLINE and not queue.empty():
                    batch.append(queue.get_nowait())
                small = [(i, files[i][0]) for i in batch if files[i][1] <= _INLINE]
                large = [i for i in batch if files[i][1] > _INLINE]
                packets: list[bytes] = []
                pending = 0
                for i, content in _read_small(small):
                    if isinstance(content, OSError):
                        raise _unreadable(files[i][0], content)
                    if len(content) > CHUNK:
                        large.append(i)  # grew since the listing
                        continue
                    if content:
                        packets.append(pb.encode_packet(pb.PACKET_DATA, id=i, data=content))
                        pending += len(content)
                    packets.append(pb.encode_packet(pb.PACKET_DATA, id=i))  # the end
                    if pending >= _SEND_BATCH:
                        await self._call.send_many(packets)
                        packets, pending = [], 0
                await self._call.send_many(packets)
                for i in large:
                    await self._send_file(i)
            finally:
                for _ in batch:
                    queue.task_done()

    async def _send_data(self, ident: int, data: bytes) -> None:
        await self._call.send(pb.encode_packet(pb.PACKET_DATA, id=ident, data=data))

    async def _send_file(self, ident: int) -> None:
        path = self._files[ident][0]
        try:
            fh = await _open_for_reading(path)
        except OSError as exc:
            raise _unreadable(path, exc) from None
        try:
            while True:
                try:
                    chunk = await asyncio.to_thread(fh.read, CHUNK)
                except OSError as exc:
                    raise _unreadable(path, exc) from None
                if not chunk:
                    break
                await self._send_data(ident, chunk)
        finally:
            fh.close()
        await self._send_data(ident, b"")


async def _open_for_reading(path: str) -> BinaryIO:
    """Open ``path`` in a worker thread; a cancelled caller never leaks the file.

    The thread cannot be stopped: if the caller is cancelled while it runs, the
    file it opens is closed as soon as it is there.
    """
    opening: asyncio.Future[BinaryIO] = asyncio.ensure_future(asyncio.to_thread(_open_rb, path))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _open_rb(path: str) -> BinaryIO:
    return open(path, "rb")


def _close_opened(opening: asyncio.Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _unreadable(path: str, exc: OSError) -> GrpcError:
    return GrpcError(INTERNAL, f"cannot read {path}: {exc.strerror or exc}")
