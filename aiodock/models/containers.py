"""Hand-made types for the ``containers`` and ``exec`` namespaces.

The generated models in :mod:`aiodock.models` cover what the daemon sends;
the types here add what a client needs on top: statistics with the figures
``docker stats`` shows, the stat of a path inside a container (archive
calls), and the results of the ``run`` conveniences.
"""

from __future__ import annotations

import stat as _stat
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from .._convert import parse_time
from .._lazy import lazy_attributes

if TYPE_CHECKING:
    # ContainerInspect: the shorter name of what ``containers.inspect`` returns.
    from ._generated import ContainerInspectResponse as ContainerInspect
    from ._stats import Stats

__all__ = [
    "ContainerInspect",
    "ExecResult",
    "PathStat",
    "RunResult",
    "Stats",
]


# Go's os.FileMode bits, as the daemon encodes them in the path-stat header.
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_DEVICE = 1 << 26
_GO_NAMED_PIPE = 1 << 25
_GO_SOCKET = 1 << 24
_GO_SETUID = 1 << 23
_GO_SETGID = 1 << 22
_GO_CHAR_DEVICE = 1 << 21
_GO_STICKY = 1 << 20
_GO_IRREGULAR = 1 << 19


@attrs.frozen(kw_only=True)
class PathStat:
    """What the daemon reports about a path inside a container (archive calls).

    ``mode`` holds the daemon's own file-mode bits (Go's ``os.FileMode``);
    use :attr:`st_mode` for the POSIX form that :mod:`stat` understands.
    """

    name: str = attrs.field(default="", metadata={"wire": "name"})
    size: int = attrs.field(default=0, metadata={"wire": "size"})
    mode: int = attrs.field(default=0, metadata={"wire": "mode"})
    mtime: str = attrs.field(default="", metadata={"wire": "mtime"})
    link_target: str = attrs.field(default="", metadata={"wire": "linkTarget"})

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & _GO_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & _GO_SYMLINK)

    @property
    def is_file(self) -> bool:
        """A regular file (no type bit set)."""
        return _stat.S_ISREG(self.st_mode)

    @property
    def permissions(self) -> int:
        """The permission bits (``0o755`` and so on)."""
        return self.mode & 0o777

    @property
    def modified(self) -> datetime | None:
        """``mtime`` parsed (``None`` when the daemon sent none)."""
        return parse_time(self.mtime)

    @property
    def st_mode(self) -> int:
        """The mode in POSIX ``st_mode`` form (file type and permission bits)."""
        mode = self.mode
        if mode & _GO_DIR:
            kind = _stat.S_IFDIR
        elif mode & _GO_SYMLINK:
            kind = _stat.S_IFLNK
        elif mode & _GO_NAMED_PIPE:
            kind = _stat.S_IFIFO
        elif mode & _GO_SOCKET:
            kind = _stat.S_IFSOCK
        elif mode & _GO_DEVICE:
            kind = _stat.S_IFCHR if mode & _GO_CHAR_DEVICE else _stat.S_IFBLK
        elif mode & _GO_IRREGULAR:
            kind = 0
        else:
            kind = _stat.S_IFREG
        bits = mode & 0o777
        if mode & _GO_SETUID:
            bits |= _stat.S_ISUID
        if mode & _GO_SETGID:
            bits |= _stat.S_ISGID
        if mode & _GO_STICKY:
            bits |= _stat.S_ISVTX
        return kind | bits


@attrs.frozen(kw_only=True)
class ExecResult:
    """The outcome of a finished exec: its exit code and everything it wrote.

    With a TTY the process has one output stream, so ``stderr`` is empty.
    ``stdout`` and ``stderr`` are ``bytearray``, filled as the output arrived
    so that it is held once; they compare equal to ``bytes``.
    """

    exit_code: int
    stdout: bytearray = attrs.field(factory=bytearray)
    stderr: bytearray = attrs.field(factory=bytearray)


@attrs.frozen(kw_only=True)
class RunResult:
    """The outcome of :meth:`~aiodock.resources.containers.Containers.run`.

    ``stdout`` and ``stderr`` are ``bytearray`` (held once; equal to ``bytes``).
    """

    container_id: str
    exit_code: int
    stdout: bytearray = attrs.field(factory=bytearray)
    stderr: bytearray = attrs.field(factory=bytearray)


# ContainerInspect and Stats are resolved on first use: importing this module
# (for ExecResult, PathStat...) builds neither the classes an inspect returns
# nor the statistics models.
if not TYPE_CHECKING:  # mypy checks the names against the imports above
    __getattr__ = lazy_attributes(
        globals(),
        {"ContainerInspect": "._generated:ContainerInspectResponse", "Stats": "._stats"},
    )


def __dir__() -> list[str]:
    return sorted({*globals(), "ContainerInspect", "Stats"})
