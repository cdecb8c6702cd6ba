"""``Stats``, kept apart so that importing :mod:`aiodock.models.containers` (for
``ExecResult``, ``RunResult``, ``PathStat``) does not build the statistics models.

The class is public as ``aiodock.models.containers.Stats`` (and
``aiodock.models.Stats``), resolved on first use; its ``__module__`` says so.
"""

from __future__ import annotations

import attrs

from ._generated import ContainerStatsResponse

__all__ = ["Stats"]


@attrs.frozen(kw_only=True)
class Stats(ContainerStatsResponse):
    """One resource-usage sample of a container, with the figures ``docker stats`` shows.

    ``cpu_percent`` compares this sample with the previous one the daemon
    includes (``precpu_stats``); it is ``0.0`` for the very first sample of a
    stream and for ``one_shot`` samples, which carry no previous one.
    """

    __module__ = "aiodock.models.containers"

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
