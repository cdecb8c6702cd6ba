"""``GET /containers/{id}/stats`` samples, shaped like Engine 20.10's on a cgroup v1 host."""

from __future__ import annotations

from typing import Any

from .containers import FakeContainer
from .values import ZERO_TIME, rfc3339

__all__ = ["MEMORY_TOTAL", "STATS_CPUS", "idle_stats", "running_stats"]


_CPU_ZERO = {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0}
_THROTTLING_ZERO = {"periods": 0, "throttled_periods": 0, "throttled_time": 0}
_BLKIO_KEYS = (
    "io_service_bytes_recursive",
    "io_serviced_recursive",
    "io_queue_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "io_time_recursive",
    "sectors_recursive",
)
# cgroup v1 memory counters, as Engine 20.10 reports them on a cgroup v1 host.
_MEMORY_KEYS = (
    "active_anon",
    "active_file",
    "cache",
    "dirty",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "inactive_anon",
    "inactive_file",
    "mapped_file",
    "pgfault",
    "pgmajfault",
    "pgpgin",
    "pgpgout",
    "rss",
    "rss_huge",
    "unevictable",
    "writeback",
)
STATS_CPUS = 2
#: The memory the fake machine has (``/info`` ``MemTotal``, the stats limit by default).
MEMORY_TOTAL = 2 * 1024**3


def idle_stats(c: FakeContainer) -> dict[str, Any]:
    """The sample the engine sends for a container that is not running: zero times, no use."""
    cpu = {"cpu_usage": dict(_CPU_ZERO), "throttling_data": dict(_THROTTLING_ZERO)}
    return {
        "read": ZERO_TIME,
        "preread": ZERO_TIME,
        "pids_stats": {},
        "blkio_stats": dict.fromkeys(_BLKIO_KEYS),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu,
        "precpu_stats": {"cpu_usage": dict(_CPU_ZERO), "throttling_data": dict(_THROTTLING_ZERO)},
        "memory_stats": {},
        "name": "/" + c.name,
        "id": c.id,
    }


def _cpu_stats(c: FakeContainer, at_ns: int) -> dict[str, Any]:
    # Counters chosen so that the usual formula (cpu delta / system delta * cpus * 100)
    # gives ``c.cpu_percent`` between any two samples.
    total = int(max(at_ns - c.started_ns, 0) * c.cpu_percent / 100)
    share = total // STATS_CPUS
    return {
        "cpu_usage": {
            "total_usage": total,
            "percpu_usage": [total - share * (STATS_CPUS - 1)] + [share] * (STATS_CPUS - 1),
            "usage_in_kernelmode": total // 3 // 10_000_000 * 10_000_000,
            "usage_in_usermode": total * 2 // 3 // 10_000_000 * 10_000_000,
        },
        "system_cpu_usage": at_ns * STATS_CPUS,
        "online_cpus": STATS_CPUS,
        "throttling_data": dict(_THROTTLING_ZERO),
    }


def running_stats(
    c: FakeContainer, at_ns: int, previous_ns: int | None, memory_total: int
) -> dict[str, Any]:
    """A sample of a running container at ``at_ns``; ``previous_ns`` is the sample before
    it (``None``: the first of a stream, or one-shot, whose ``precpu_stats`` are empty)."""
    limit = int(c.host_config.get("Memory") or 0) or memory_total
    counters = dict.fromkeys(_MEMORY_KEYS, 0)
    counters.update(
        {
            "active_anon": c.memory_usage // 2,
            "inactive_anon": c.memory_usage - c.memory_usage // 2,
            "rss": c.memory_usage,
            "hierarchical_memory_limit": limit,
            "hierarchical_memsw_limit": limit,
        }
    )
    counters.update({f"total_{k}": v for k, v in list(counters.items()) if not k.startswith("h")})
    sample: dict[str, Any] = {
        "read": rfc3339(at_ns),
        "preread": ZERO_TIME,
        "pids_stats": {"current": c.pids},
        "blkio_stats": {key: [] for key in _BLKIO_KEYS},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu_stats(c, at_ns),
        "precpu_stats": {"cpu_usage": dict(_CPU_ZERO), "throttling_data": dict(_THROTTLING_ZERO)},
        "memory_stats": {
            "usage": c.memory_usage,
            "max_usage": c.memory_usage,
            "stats": dict(sorted(counters.items())),
            "limit": limit,
        },
        "name": "/" + c.name,
        "id": c.id,
    }
    if previous_ns is not None:
        sample["preread"] = rfc3339(previous_ns)
        sample["precpu_stats"] = _cpu_stats(c, previous_ns)
    if c.network_mode() not in ("none", "host"):
        sample["networks"] = {
            "eth0": dict.fromkeys(
                (
                    "rx_bytes",
                    "rx_packets",
                    "rx_errors",
                    "rx_dropped",
                    "tx_bytes",
                    "tx_packets",
                    "tx_errors",
                    "tx_dropped",
                ),
                0,
            )
        }
    return sample
