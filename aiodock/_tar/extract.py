"""Safe, bounded tar extraction (the blocking half of :func:`aiodock.extract_archive`).

Every write happens relative to a directory descriptor that was opened with
``O_NOFOLLOW`` from the target's own descriptor, one path component at a time,
so no member is ever written, re-moded or re-timed through a symbolic link,
whatever earlier members (or earlier extractions) left on disk. Symbolic links
themselves are only created when their target, read as the kernel will read
it, cannot leave the target directory:

* relative, with ``..`` components only at its start (``../../lib/x`` is fine;
  ``a/../x`` is refused, because its meaning depends on whether ``a`` is a link,
  which a later member may decide);
* no more ``..`` components than the link's own depth below the target.

The link's own directory is a real directory (members never pass through
links, and a directory is never replaced by a link), so by induction over
the links a path meets, every link in the tree resolves inside the target,
however many archives are unpacked into it and in whatever order.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from typing import IO, Any, cast

from .._names import has_control
from ..errors import DockerError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_MEMBERS",
    "ArchiveExtractionError",
    "ArchiveLimitError",
    "UnsafeArchiveError",
    "extract_fileobj",
]

#: Default cap on the file data one extraction writes (4 GiB).
DEFAULT_MAX_BYTES = 4 * 1024**3
#: Default cap on the number of members one archive may hold.
DEFAULT_MAX_MEMBERS = 1_000_000
#: Largest PAX or GNU long-name header read into memory.
MAX_HEADER_BYTES = 1024 * 1024

_COPY_CHUNK = 256 * 1024
_DIR_CACHE = 64
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
_COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


class UnsafeArchiveError(DockerError, ValueError):
    """A tar member was refused because writing it could reach outside the target.

    Args:
        member: the offending member's name.
        reason: why it was refused: an absolute path, a ``..`` component, a
            control character, a path through a symbolic link, or a link that
            could resolve outside.
    """

    def __init__(self, member: str, reason: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(f"refusing tar member {member!r}: {reason}")


class ArchiveExtractionError(DockerError, OSError):
    """A tar archive could not be unpacked: it is corrupt or truncated, or one of
    its members cannot be written as described (a file used as a directory, a
    full disk).

    Args:
        member: the member's name, if the failure concerns one.
        reason: what went wrong.
    """

    def __init__(self, member: str | None, reason: str) -> None:
        self.member = member
        self.reason = reason
        where = f"tar member {member!r}" if member is not None else "the tar archive"
        super().__init__(f"cannot extract {where}: {reason}")


class ArchiveLimitError(ArchiveExtractionError):
    """The archive goes past ``max_bytes`` or ``max_members``.

    Nothing of the member that would pass the limit is written.

    Args:
        member: the member that would pass the limit.
        limit: which limit: ``"max_bytes"`` or ``"max_members"``.
        value: the limit's value.
    """

    def __init__(self, member: str | None, limit: str, value: int) -> None:
        self.limit = limit
        self.value = value
        what = "bytes of file data" if limit == "max_bytes" else "members"
        super().__init__(
            member,
            f"the archive holds more than {limit}={value} {what}; "
            f"pass a larger {limit} (or None for no limit) if you trust it",
        )


_EXTENDED_HEADER_TYPES = frozenset(
    {
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    }
)


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses extended headers (PAX, GNU long names) too large to read into memory."""

    def _proc_member(self, tar: Any) -> Any:
        if self.type in _EXTENDED_HEADER_TYPES and self.size > MAX_HEADER_BYTES:
            raise ArchiveExtractionError(
                self.name or None,
                f"an extended header of {self.size} bytes (more than {MAX_HEADER_BYTES})",
            )
        return super()._proc_member(tar)  # type: ignore[misc]


class _Prefixed:
    """A reader that gives back ``head`` (already read to sniff the format) first."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size < 0:
            out, self._head = self._head + self._rest.read(), b""
        elif size <= len(self._head):
            out, self._head = self._head[:size], self._head[size:]
        else:
            out, self._head = self._head + self._rest.read(size - len(self._head)), b""
        return out


def _read_exactly(fileobj: IO[bytes], size: int) -> bytes:
    out = b""
    while len(out) < size:
        chunk = fileobj.read(size - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _checked(name: str, what: str, member: str) -> None:
    if has_control(name):
        raise UnsafeArchiveError(member, f"{what} {name!r} contains a control character")


def _member_parts(name: str, what: str, member: str) -> list[str]:
    """The member name as clean path components (empty for the archive root)."""
    _checked(name, what, member)
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(member, f"{what} {name!r} is an absolute path")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(member, f"{what} {name!r} contains a '..' component")
    return parts


def _link_problem(link: str, depth: int) -> str | None:
    """Why a symbolic link ``depth`` directories below the target may not point at
    ``link`` (``None`` when it may)."""
    if not link:
        return "symbolic link without a target"
    if link.startswith("/"):
        return f"symbolic link to absolute path {link!r}"
    ups = 0
    named = False
    for part in link.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            named = True
        elif named:
            return (
                f"symbolic link {link!r} has '..' after a name, so where it leads "
                "depends on whether that name is itself a link"
            )
        else:
            ups += 1
    if ups > depth:
        return f"symbolic link {link!r} leaves the target"
    return None


class Extractor:
    """Writes tar members below ``dest``, each checked before anything touches the disk."""

    def __init__(
        self,
        dest: str,
        *,
        skip_unsafe_links: bool,
        max_bytes: int | None,
        max_members: int | None,
    ) -> None:
        os.makedirs(dest, exist_ok=True)
        self.skip_unsafe_links = skip_unsafe_links
        self.max_bytes = max_bytes
        self.max_members = max_members
        self.names: list[str] = []
        self.members = 0
        self.written = 0
        self._root = os.open(dest, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        self._dirs: dict[tuple[str, ...], int] = {}
        self._dir_times: dict[tuple[str, ...], tuple[int, float]] = {}

    # --- directory descriptors -----------------------------------------------------

    def _open_dir(self, parts: tuple[str, ...], member: str, *, create: bool) -> int:
        """A descriptor of the real directory ``parts`` below the target, creating the
        missing ones if ``create``; refuses to pass through a link or a file."""
        if not parts:
            return self._root
        cached = self._dirs.get(parts)
        if cached is not None:
            return cached
        parent = self._open_dir(parts[:-1], member, create=create)
        name = parts[-1]
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, 0o777, dir_fd=parent)
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                raise UnsafeArchiveError(
                    member,
                    f"its path passes through the symbolic link {'/'.join(parts)!r}, "
                    "which could lead outside the target",
                ) from None
            raise ArchiveExtractionError(
                member, f"{'/'.join(parts)!r} is not a directory"
            ) from None
        if len(self._dirs) >= _DIR_CACHE:
            self._close_dirs()
        self._dirs[parts] = fd
        return fd

    def _close_dirs(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def close(self) -> None:
        self._close_dirs()
        os.close(self._root)

    @staticmethod
    def _existing(name: str, parent: int) -> int | None:
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None

    def _make_room(self, name: str, parent: int, member: str) -> None:
        """Remove a non-directory at ``name`` (a link itself, never what it points at)."""
        mode = self._existing(name, parent)
        if mode is None:
            return
        if stat.S_ISDIR(mode):
            raise ArchiveExtractionError(member, "a directory already stands at that path")
        os.unlink(name, dir_fd=parent)

    # --- members -------------------------------------------------------------------

    def add(self, tar: tarfile.TarFile | None, info: tarfile.TarInfo) -> None:
        """Write one member; ``tar`` (where a regular file's data is read) may be
        ``None`` for the other kinds."""
        self.members += 1
        if self.max_members is not None and self.members > self.max_members:
            raise ArchiveLimitError(info.name, "max_members", self.max_members)
        parts = _member_parts(info.name, "the path", info.name)
        if not parts or info.isdev() or info.isfifo():
            return  # the target itself; device nodes and FIFOs are never created
        if info.issym():
            _checked(info.linkname, "the link target", info.name)
            problem = _link_problem(info.linkname, len(parts) - 1)
            if problem is not None:
                if self.skip_unsafe_links:
                    return
                raise UnsafeArchiveError(info.name, problem)
        elif info.islnk():
            _checked(info.linkname, "the hard link target", info.name)
        *dirs, name = parts
        parent = self._open_dir(tuple(dirs), info.name, create=True)
        if info.isdir():
            self._add_dir(name, parent, info)
            self._dir_times[tuple(parts)] = (info.mode & 0o777, info.mtime)
        elif info.issym():
            self._make_room(name, parent, info.name)
            os.symlink(info.linkname, name, dir_fd=parent)
        elif info.islnk():
            self._add_hard_link(name, parent, len(dirs), info)
        else:  # a regular file, and anything tarfile reads like one
            if tar is None:
                raise ArchiveExtractionError(info.name, "a regular file without its data")
            self._add_file(tar, name, parent, info)
        self.names.append("/".join(parts))

    def create_file(self, info: tarfile.TarInfo) -> int:
        """Create the regular file ``info`` names, checked like a member, and return a
        descriptor to write its data to; :meth:`close_file` sets its mode and time."""
        self.members += 1
        if self.max_members is not None and self.members > self.max_members:
            raise ArchiveLimitError(info.name, "max_members", self.max_members)
        parts = _member_parts(info.name, "the path", info.name)
        if not parts:
            raise UnsafeArchiveError(info.name, "a file at the target's own path")
        *dirs, name = parts
        parent = self._open_dir(tuple(dirs), info.name, create=True)
        self._make_room(name, parent, info.name)
        fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=parent)
        self.names.append("/".join(parts))
        return fd

    def write_file(self, fd: int, data: bytes, member: str) -> None:
        """Append ``data`` to a file from :meth:`create_file`, within ``max_bytes``."""
        if self.max_bytes is not None and self.written + len(data) > self.max_bytes:
            raise ArchiveLimitError(member, "max_bytes", self.max_bytes)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        self.written += len(data)

    @staticmethod
    def close_file(fd: int, info: tarfile.TarInfo) -> None:
        """Set the mode (set-id and sticky bits dropped) and time, and close."""
        try:
            os.fchmod(fd, info.mode & 0o777)
            os.utime(fd, (info.mtime, info.mtime))
        finally:
            os.close(fd)

    def _add_dir(self, name: str, parent: int, info: tarfile.TarInfo) -> None:
        mode = self._existing(name, parent)
        if mode is not None and stat.S_ISDIR(mode):
            return
        if mode is not None and stat.S_ISLNK(mode):
            raise UnsafeArchiveError(
                info.name, "a directory member where a symbolic link stands would follow it"
            )
        if mode is not None:
            os.unlink(name, dir_fd=parent)
        # Owner-only until finish() sets the member's mode: read-only directories fill.
        os.mkdir(name, 0o700, dir_fd=parent)

    def _add_hard_link(self, name: str, parent: int, depth: int, info: tarfile.TarInfo) -> None:
        source = _member_parts(info.linkname, "the hard link target", info.name)
        if not source:
            raise UnsafeArchiveError(info.name, "hard link to the archive root")
        source_dir = self._open_dir(tuple(source[:-1]), info.name, create=False)
        mode = self._existing(source[-1], source_dir)
        if mode is None:
            raise ArchiveExtractionError(info.name, f"hard link to missing {info.linkname!r}")
        if stat.S_ISLNK(mode):
            # The new name shares the link's inode, but its target is read from the new
            # name's directory: check it again from there.
            link = os.readlink(source[-1], dir_fd=source_dir)
            problem = _link_problem(link, depth)
            if problem is not None:
                raise UnsafeArchiveError(info.name, f"hard link to a {problem}")
        self._make_room(name, parent, info.name)
        os.link(source[-1], name, src_dir_fd=source_dir, dst_dir_fd=parent, follow_symlinks=False)

    def _add_file(
        self, tar: tarfile.TarFile, name: str, parent: int, info: tarfile.TarInfo
    ) -> None:
        sparse = cast("list[tuple[int, int]] | None", info.sparse)
        data_bytes = sum(size for _, size in sparse) if sparse else info.size
        if self.max_bytes is not None and self.written + data_bytes > self.max_bytes:
            raise ArchiveLimitError(info.name, "max_bytes", self.max_bytes)
        self._make_room(name, parent, info.name)
        fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=parent)
        try:
            if sparse:
                # The data regions lie back to back in the archive; holes stay holes.
                stream = cast(IO[bytes], tar.fileobj)
                stream.seek(info.offset_data)
                for offset, size in sparse:
                    os.lseek(fd, offset, os.SEEK_SET)
                    _copy(stream, fd, size)
                os.ftruncate(fd, info.size)
            else:
                src = tar.extractfile(info)
                if src is not None:
                    _copy(src, fd, info.size)
            os.fchmod(fd, info.mode & 0o777)  # set-id and sticky bits dropped
            os.utime(fd, (info.mtime, info.mtime))
        finally:
            os.close(fd)
        self.written += data_bytes

    def finish(self) -> list[str]:
        # Directory modes and times last, deepest first, each on the directory itself.
        for parts in sorted(self._dir_times, key=len, reverse=True):
            mode, mtime = self._dir_times[parts]
            fd = self._open_dir(parts, "/".join(parts), create=False)
            os.fchmod(fd, mode)
            os.utime(fd, (mtime, mtime))
        return self.names


def _copy(src: IO[bytes], fd: int, size: int) -> None:
    left = size
    while left > 0:
        chunk = src.read(min(left, _COPY_CHUNK))
        if not chunk:
            raise tarfile.ReadError("unexpected end of data inside a file")
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
        left -= len(chunk)


def _open_tar(fileobj: IO[bytes], decompress: bool) -> tarfile.TarFile:
    head = _read_exactly(fileobj, 6)
    compression = next(
        (kind for magic, kind in _COMPRESSED_MAGIC.items() if head.startswith(magic)), None
    )
    if compression is not None and not decompress:
        raise ArchiveExtractionError(
            None,
            f"the archive is {compression}-compressed; pass decompress=True to unpack "
            "compressed archives (max_bytes bounds what they expand to)",
        )
    if compression == "zstd":
        raise ArchiveExtractionError(None, "zstd-compressed archives are not supported")
    mode = f"r|{compression}" if compression else "r|"
    opened: tarfile.TarFile = tarfile.open(  # noqa: SIM115 (the caller closes it)
        fileobj=cast(IO[bytes], _Prefixed(head, fileobj)),
        mode=mode,  # type: ignore[call-overload]
        bufsize=_COPY_CHUNK,
        tarinfo=_BoundedTarInfo,
    )
    return opened


def extract_fileobj(
    fileobj: IO[bytes],
    dest: str,
    *,
    skip_unsafe_links: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_members: int | None = DEFAULT_MAX_MEMBERS,
    decompress: bool = False,
) -> list[str]:
    """Unpack the tar stream read from ``fileobj`` into ``dest`` (blocking)."""
    extractor = Extractor(
        dest, skip_unsafe_links=skip_unsafe_links, max_bytes=max_bytes, max_members=max_members
    )
    member: str | None = None
    try:
        with _open_tar(fileobj, decompress) as tar:
            while (info := tar.next()) is not None:
                member = info.name
                extractor.add(tar, info)
                # Stream mode keeps every header in ``members``; we never look back.
                cast(Any, tar).members.clear()
            member = None
            return extractor.finish()
    except DockerError:
        raise
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveExtractionError(member, f"not a valid tar stream ({exc})") from exc
    except (OSError, ValueError, RecursionError) as exc:
        raise ArchiveExtractionError(member, str(exc) or type(exc).__name__) from exc
    finally:
        extractor.close()
