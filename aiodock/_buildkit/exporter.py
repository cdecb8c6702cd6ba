"""Build outputs (``images.build(..., outputs=...)``): the local and tar exporters.

With an output the daemon stores no image: it sends the result back through
the session's ``FileSend/DiffCopy``, where it is the sender.

- ``local``: fsutil packets, as the context goes the other way: a ``STAT``
  per entry, an empty ``STAT`` to end the listing; the receiver (here) asks
  for each regular file with ``REQ <id>`` (its position in the listing), gets
  ``DATA`` chunks ending with an empty one, and ends with ``FIN``, answered
  by ``FIN``. Entries are written below the destination by
  :class:`aiodock._tar.extract.Extractor`: one path component at a time, never
  through a symbolic link, links that could lead outside refused.
- ``tar``: ``BytesMessage`` chunks of one tar stream, written to the file as
  they come (to a temporary name beside it, renamed at the end).

Memory stays bounded: the session holds back HTTP/2 credit while a call has
unread data, and at most :data:`_OUTSTANDING` files are requested at a time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import tarfile
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import attrs

from .._tar.extract import ArchiveExtractionError, Extractor
from ..errors import DockerError, InvalidArgument
from . import _proto as pb
from .session import INTERNAL, Call, GrpcError, Handler

__all__ = ["BuildOutput", "filesend_handler", "normalize_outputs"]

#: Files requested and not yet complete (each holds an open descriptor).
_OUTSTANDING = 32
#: Messages handled per trip to the worker thread.
_BATCH = 256

_TYPES = ("local", "tar")

# Go's os.FileMode type bits, as fsutil sends them.
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_TYPE = 0xFFF00000 & ~((1 << 23) | (1 << 22) | (1 << 20))  # minus setuid/setgid/sticky


@attrs.define(eq=False)
class BuildOutput:
    """Where a BuildKit build's result goes instead of the image store.

    ``type`` is ``"local"`` (a directory tree at ``dest``) or ``"tar"`` (one tar
    stream into the file ``dest`` or the writable binary file object ``fileobj``).
    """

    type: str
    dest: str | None = None
    fileobj: BinaryIO | None = attrs.field(default=None, repr=False)
    #: The error that made the export fail on this side (raised by the build).
    error: Exception | None = attrs.field(default=None, repr=False)

    def wire(self) -> list[dict[str, Any]]:
        """The ``outputs`` query parameter: the destination stays on this side."""
        return [{"Type": self.type, "Attrs": {}}]


def normalize_outputs(value: Any) -> BuildOutput | None:
    """``outputs=`` as a :class:`BuildOutput` (``None`` when not given).

    Takes the CLI's ``"type=local,dest=DIR"`` / ``"type=tar,dest=FILE"`` (a bare
    path means a local directory), a mapping ``{"type": ..., "dest": ...}``
    (``dest`` of a tar may be a writable binary file object), or a list of one.
    """
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != 1:
            raise InvalidArgument(
                "outputs", value, "this engine's BuildKit exports to exactly one output"
            )
        value = value[0]
    if isinstance(value, (str, os.PathLike)):
        spec: dict[str, Any] = _parse_output(os.fspath(value))
    elif isinstance(value, Mapping):
        spec = {str(key).lower(): item for key, item in value.items()}
    else:
        raise InvalidArgument(
            "outputs", value, "expected 'type=local,dest=DIR', 'type=tar,dest=FILE' or a mapping"
        )
    kind = spec.pop("type", "local")
    if kind not in _TYPES:
        raise InvalidArgument(
            "outputs",
            kind,
            "this engine exports only 'local' (a directory) and 'tar' (a file); "
            "leave outputs out to store an image",
        )
    if "dest" not in spec:
        raise InvalidArgument("outputs", value, f"a {kind} output needs a dest")
    dest = spec.pop("dest")
    if spec:
        raise InvalidArgument(
            "outputs", sorted(spec), f"unknown {kind} output attributes (only type and dest)"
        )
    if kind == "tar" and hasattr(dest, "write") and not isinstance(dest, (str, os.PathLike)):
        return BuildOutput("tar", fileobj=dest)
    if not isinstance(dest, (str, os.PathLike)) or not os.fspath(dest):
        raise InvalidArgument(
            "outputs",
            dest,
            "dest must be a path" + (" or a writable binary file object" if kind == "tar" else ""),
        )
    path = os.path.abspath(os.fspath(dest))
    if kind == "local" and os.path.exists(path) and not os.path.isdir(path):
        raise InvalidArgument("outputs", dest, "a local output's dest must be a directory")
    if kind == "tar":
        if os.path.isdir(path):
            raise InvalidArgument("outputs", dest, "a tar output's dest must be a file, not a dir")
        if not os.path.isdir(os.path.dirname(path)):
            raise InvalidArgument("outputs", dest, "the tar file's directory does not exist")
    return BuildOutput(kind, dest=path)


def _parse_output(text: str) -> dict[str, str]:
    if "=" not in text:
        return {"type": "local", "dest": text}  # the CLI's ``-o DIR``
    spec: dict[str, str] = {}
    for part in text.split(","):
        key, sep, item = part.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument("outputs", text, "expected comma-separated key=value pairs")
        spec[key.strip().lower()] = item
    return spec


def filesend_handler(output: BuildOutput) -> Handler:
    """The ``/moby.filesync.v1.FileSend/DiffCopy`` handler writing ``output``."""

    async def handle(call: Call) -> None:
        try:
            if output.fileobj is not None:
                await _receive_tar_fileobj(call, output.fileobj)
            elif output.type == "tar":
                await _receive_tar(call, output.dest or "")
            else:
                await _LocalReceiver(call, output.dest or "").run()
        except (DockerError, OSError) as exc:
            error: Exception = exc
            if not isinstance(exc, DockerError):
                error = ArchiveExtractionError(None, f"{exc.strerror or exc}")
            if output.error is None:
                output.error = error
            raise GrpcError(INTERNAL, f"aiodock could not write the {output.type} output") from exc

    return handle


# --- tar -------------------------------------------------------------------------------------


async def _receive_tar_fileobj(call: Call, fileobj: BinaryIO) -> None:
    while (message := await call.recv()) is not None:
        data = pb.first(message, 1, b"")
        if isinstance(data, bytes) and data:
            await asyncio.to_thread(fileobj.write, data)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        await asyncio.to_thread(fileobj.flush)


async def _receive_tar(call: Call, dest: str) -> None:
    temp = f"{dest}.aiodock-{os.urandom(4).hex()}.part"
    fd = await asyncio.to_thread(os.open, temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    done = False
    try:
        while True:
            message = await call.recv()
            if message is None:
                break
            chunks = [message]
            while len(chunks) < _BATCH and (more := call.recv_nowait()) is not None:
                chunks.append(more)
            await asyncio.to_thread(_write_chunks, fd, chunks)
        await asyncio.to_thread(os.replace, temp, dest)
        done = True
    finally:
        os.close(fd)
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _write_chunks(fd: int, messages: list[bytes]) -> None:
    for message in messages:
        data = pb.first(message, 1, b"")
        if isinstance(data, bytes):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]


# --- local -----------------------------------------------------------------------------------


def _tarinfo(stat: pb.Stat) -> tarfile.TarInfo | None:
    """The entry as a :class:`tarfile.TarInfo` for the extractor (``None``: skipped)."""
    info = tarfile.TarInfo(stat.path)
    info.mode = stat.mode & 0o777
    info.mtime = stat.mod_time / 1e9
    mode = stat.mode
    if mode & _GO_DIR:
        info.type = tarfile.DIRTYPE
    elif mode & _GO_SYMLINK:
        info.type = tarfile.SYMTYPE
        info.linkname = stat.linkname
    elif mode & _GO_TYPE:
        return None  # devices, pipes, sockets: never created (as extract_archive does)
    elif stat.linkname:
        info.type = tarfile.LNKTYPE
        info.linkname = stat.linkname
    else:
        info.type = tarfile.REGTYPE
        info.size = stat.size
    return info


class _LocalReceiver:
    def __init__(self, call: Call, dest: str) -> None:
        self._call = call
        self._dest = dest
        self._next_id = 0
        self._listed = False
        # Listed entries not yet written (a regular file waits for a free request slot).
        self._pending: collections.deque[tuple[int, tarfile.TarInfo]] = collections.deque()
        self._open: dict[int, tuple[int, tarfile.TarInfo]] = {}
        self._extractor: Extractor | None = None

    async def run(self) -> None:
        self._extractor = await asyncio.to_thread(
            Extractor, self._dest, skip_unsafe_links=False, max_bytes=None, max_members=None
        )
        try:
            await self._receive()
            await asyncio.to_thread(self._extractor.finish)
        finally:
            await asyncio.to_thread(self._close)

    def _close(self) -> None:
        for fd, _ in self._open.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._open.clear()
        if self._extractor is not None:
            self._extractor.close()

    async def _receive(self) -> None:
        call = self._call
        while not (self._listed and not self._pending and not self._open):
            message = await call.recv()
            if message is None:
                raise GrpcError(INTERNAL, "the export ended before all files came")
            packets = [pb.decode_packet(message)]
            while len(packets) < _BATCH and (more := call.recv_nowait()) is not None:
                packets.append(pb.decode_packet(more))
            writes: list[tuple[int, bytes]] = []
            for packet in packets:
                if packet.type == pb.PACKET_STAT:
                    self._listed_entry(packet.stat)
                elif packet.type == pb.PACKET_DATA:
                    if packet.id in self._open:
                        writes.append((packet.id, packet.data))
                    elif packet.data or packet.id >= self._next_id:
                        # (a repeated end of a file done is harmless, as in fsutil)
                        raise GrpcError(INTERNAL, f"data for a file not requested ({packet.id})")
                elif packet.type == pb.PACKET_ERR:
                    text = packet.data.decode("utf-8", "replace")[:500]
                    raise GrpcError(INTERNAL, f"error from sender: {text}")
                elif packet.type == pb.PACKET_FIN:
                    raise GrpcError(INTERNAL, "the sender finished before the receiver")
            requests = await asyncio.to_thread(self._apply, writes)
            for ident in requests:
                await call.send(pb.encode_packet(pb.PACKET_REQ, id=ident))
        await call.send(pb.encode_packet(pb.PACKET_FIN))
        # The sender answers FIN, then ends the call.
        while (message := await call.recv()) is not None:
            if pb.decode_packet(message).type == pb.PACKET_FIN:
                break

    def _listed_entry(self, stat: pb.Stat | None) -> None:
        if self._listed:
            raise GrpcError(INTERNAL, "an entry after the end of the listing")
        if stat is None or not stat.path:
            self._listed = True
            return
        ident = self._next_id
        self._next_id += 1
        info = _tarinfo(stat)
        if info is not None:
            self._pending.append((ident, info))

    def _apply(self, writes: list[tuple[int, bytes]]) -> list[int]:
        """Write the data, then the entries now due; the ids to request (worker thread)."""
        extractor = self._extractor
        if extractor is None:
            raise RuntimeError("the receiver is not running")
        for ident, data in writes:
            fd, info = self._open[ident]
            if data:
                extractor.write_file(fd, data, info.name)
            else:
                del self._open[ident]
                extractor.close_file(fd, info)
        requests = []
        pending = self._pending
        while pending:
            ident, info = pending[0]
            if info.isreg():
                if len(self._open) >= _OUTSTANDING:
                    break
                # Created now, in listing order, so hard links to it find it.
                self._open[ident] = (extractor.create_file(info), info)
                requests.append(ident)
            else:
                extractor.add(None, info)
            pending.popleft()
        return requests
