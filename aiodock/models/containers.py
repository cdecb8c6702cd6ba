"""Hand-made types for the ``containers`` and ``exec`` namespaces.

The generated models in :mod:`aiodock.models` cover what the daemon sends;
the types here add what a client needs on top: statistics with the figures
``docker stats`` shows, the stat of a path inside a container (archive
calls), and the results of the ``run`` conveniences.
"""

from __future__ import annotations

import stat as _stat
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._convert import parse_time
from ._generated import ContainerStatsResponse

if TYPE_CHECKING:
    # ContainerInspect: the shorter name of what ``containers.inspect`` returns.
    from ._generated import ContainerInspectResponse as ContainerInspect

__all__ = [
    "ContainerInspect",
    "ExecResult",
    "PathStat",
    "RunResult",
    "Stats",
]


@attrs.frozen(kw_only=True)
class Stats(ContainerStatsResponse):
    """One resource-usage sample of a container, with the figures ``docker stats`` shows.

    ``cpu_percent`` compares this sample with the previous one the daemon
    includes (``precpu_stats``); it is ``0.0`` for the very first sample of a
    stream and for ``one_shot`` samples, which carry no previous one.
    """

    @property
    def cpu_percent(self) -> float:
        """CPU use since the previous sample, in percent of one CPU (200.0 = two busy CPUs)."""
        cpu, pre = self.cpu_stats, self.precpu_stats
        if cpu is None or cpu.cpu_usage is None:
            return 0.0
        pre_total = pre.cpu_usage.total_usage if pre is not None and pre.cpu_usage else 0
        pre_system = (pre.system_cpu_usage or 0) if pre is not None else 0
        cpu_delta = cpu.cpu_usage.total_usage - pre_total
        system_delta = (cpu.system_cpu_usage or 0) - pre_system
        cpus = cpu.online_cpus or len(cpu.cpu_usage.percpu_usage or ())
        if cpu_delta <= 0 or system_delta <= 0 or not cpus:
            return 0.0
        return cpu_delta / system_delta * cpus * 100.0

    @property
    def memory_usage(self) -> int:
        """Memory in use in bytes, without the reclaimable page cache (as ``docker stats``).

        cgroup v1 reports the cache as ``total_inactive_file``, cgroup v2 as
        ``inactive_file``; when neither is smaller than the raw usage, the raw
        usage is returned.
        """
        mem = self.memory_stats
        if mem is None or not mem.usage:
            return 0
        usage = mem.usage
        for key in ("total_inactive_file", "inactive_file"):  # cgroup v1, then v2
            cache = mem.stats.get(key)
            if cache is not None and cache < usage:
                return usage - cache
        return usage

    @property
    def memory_limit(self) -> int:
        """The memory limit in bytes (the host's memory when the container has none)."""
        mem = self.memory_stats
        return (mem.limit or 0) if mem is not None else 0

    @property
    def memory_percent(self) -> float:
        """``memory_usage`` in percent of ``memory_limit`` (0.0 when there is no limit figure)."""
        limit = self.memory_limit
        return self.memory_usage / limit * 100.0 if limit else 0.0

    @property
    def network_rx_bytes(self) -> int:
        """Bytes received, summed over all interfaces."""
        return sum(n.rx_bytes for n in (self.networks or {}).values())

    @property
    def network_tx_bytes(self) -> int:
        """Bytes sent, summed over all interfaces."""
        return sum(n.tx_bytes for n in (self.networks or {}).values())

    @property
    def block_read_bytes(self) -> int:
        """Bytes read from block devices."""
        return self._block_io("read")

    @property
    def block_write_bytes(self) -> int:
        """Bytes written to block devices."""
        return self._block_io("write")

    def _block_io(self, op: str) -> int:
        blkio = self.blkio_stats
        if blkio is None:
            return 0
        return sum(e.value for e in blkio.io_service_bytes_recursive if e.op.lower() == op)


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
    """

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


@attrs.frozen(kw_only=True)
class RunResult:
    """The outcome of :meth:`~aiodock.resources.containers.Containers.run`."""

    container_id: str
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


def __getattr__(name: str) -> Any:
    # ContainerInspect is resolved on first use: importing this module (for
    # ExecResult, PathStat...) does not build the classes an inspect returns.
    if name == "ContainerInspect":
        from ._generated import ContainerInspectResponse

        globals()[name] = ContainerInspectResponse
        return ContainerInspectResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "ContainerInspect"})
