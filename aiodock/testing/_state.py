"""The objects a fake engine holds, and the JSON shapes Engine 20.10 gives for them."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shlex
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

import attrs

from ._wire import Answer

__all__ = [
    "FakeContainer",
    "FakeExec",
    "FakeImage",
    "FakeNetwork",
    "FakeVolume",
    "LogEntry",
    "Script",
]

ZERO_TIME = "0001-01-01T00:00:00Z"
DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_HEX_RE = re.compile(r"^[0-9a-f]+$")


def new_id() -> str:
    return secrets.token_hex(32)


def now_ns() -> int:
    return time.time_ns()


def rfc3339(ns: int) -> str:
    """Go's RFC3339Nano: UTC, trailing zeros of the fraction dropped."""
    if ns <= 0:
        return ZERO_TIME
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def human_duration(seconds: float) -> str:
    """The engine's ``Up 5 seconds`` style of duration."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 60:
        n = int(seconds)
        return "1 second" if n == 1 else f"{n} seconds"
    minutes = int(seconds / 60)
    if minutes < 60:
        return "About a minute" if minutes == 1 else f"{minutes} minutes"
    hours = int(seconds / 3600)
    if hours < 48:
        return "About an hour" if hours == 1 else f"{hours} hours"
    return f"{int(seconds / 86400)} days"


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise Answer(
            400,
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
        )
    return name.lstrip("/")


def parse_filters(raw: str | None) -> dict[str, list[str]]:
    """Decode a ``filters`` query value; both ``{"k": ["v"]}`` and ``{"k": {"v": true}}``."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Answer(400, f"invalid filters: {exc}") from None
    if not isinstance(data, dict):
        raise Answer(400, "invalid filters: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = [str(v) for v, on in value.items() if on]
        else:
            raise Answer(400, f"invalid filter value for {key!r}")
    return out


def check_filter_keys(filters: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in filters:
        if key not in allowed:
            raise Answer(400, f"Invalid filter '{key}'")


def labels_match(labels: Mapping[str, str] | None, wanted: Sequence[str]) -> bool:
    """``label`` filter: every ``key`` must exist and every ``key=value`` must match."""
    labels = labels or {}
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels:
            return False
        if sep and labels[key] != value:
            return False
    return True


def normalize_ref(ref: str) -> str:
    """``busybox`` -> ``busybox:latest``; ``docker.io/library/x:1`` -> ``x:1``."""
    name, at, digest = ref.partition("@")
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name.startswith("library/"):
        name = name[len("library/") :]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not at:
        name += ":latest"
    return name + (at + digest if at else "")


def repo_of(ref: str) -> str:
    """The repository part of a normalized reference (``busybox:latest`` -> ``busybox``)."""
    name = ref.split("@", 1)[0]
    head, sep, last = name.rpartition("/")
    if ":" in last:
        last = last.split(":", 1)[0]
    return f"{head}{sep}{last}"


def parse_signal(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if value.isdigit():
        return int(value)
    name = value.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise Answer(400, f"Invalid signal: {value}") from None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


class LogEntry(NamedTuple):
    """One piece of container output: stream (1 stdout, 2 stderr), bytes, when."""

    stream: int
    data: bytes
    time_ns: int


@attrs.define
class Script:
    """Scripted behaviour of a container or exec: output, then exit (or keep running)."""

    frames: list[tuple[int, bytes]]
    exit_code: int | None = 0
    run_for: float | None = None


@attrs.define(eq=False)
class FakeImage:
    """An image in the fake's store."""

    id: str
    tags: list[str]
    created: int
    labels: dict[str, str] | None = None
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    env: list[str] = attrs.Factory(lambda: [DEFAULT_PATH_ENV])
    size: int = 1985472
    digests: list[str] = attrs.Factory(list)
    working_dir: str = ""

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]

    def summary(self) -> dict[str, Any]:
        """The image as ``GET /images/json`` lists it (Engine JSON)."""
        return {
            "Containers": -1,
            "Created": self.created,
            "Id": self.id,
            "Labels": self.labels,
            "ParentId": "",
            "RepoDigests": self.digests or None,
            "RepoTags": self.tags or None,
            "SharedSize": -1,
            "Size": self.size,
            "VirtualSize": self.size,
        }

    def config(self) -> dict[str, Any]:
        """The image's ``Config`` (Engine JSON)."""
        return {
            "Hostname": "",
            "Domainname": "",
            "User": "",
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": False,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": list(self.env),
            "Cmd": self.cmd,
            "Image": "",
            "Volumes": None,
            "WorkingDir": self.working_dir,
            "Entrypoint": self.entrypoint,
            "OnBuild": None,
            "Labels": self.labels,
        }

    def inspect(self) -> dict[str, Any]:
        """The image as ``GET /images/{name}/json`` answers (Engine JSON)."""
        layer = "sha256:" + hashlib.sha256(self.id.encode()).hexdigest()
        return {
            "Id": self.id,
            "RepoTags": list(self.tags),
            "RepoDigests": list(self.digests),
            "Parent": "",
            "Comment": "",
            "Created": rfc3339(self.created * 1_000_000_000),
            "Container": "",
            "ContainerConfig": self.config(),
            "DockerVersion": "20.10.24",
            "Author": "",
            "Config": self.config(),
            "Architecture": "amd64",
            "Os": "linux",
            "Size": self.size,
            "VirtualSize": self.size,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": [layer]},
            "Metadata": {"LastTagTime": ZERO_TIME},
        }


def image_id_for(ref: str) -> str:
    return "sha256:" + hashlib.sha256(f"aiodock-fake:{ref}".encode()).hexdigest()


@attrs.define(eq=False)
class Endpoint:
    """A container's attachment to one network.

    Args:
        aliases: the DNS aliases asked for (the engine adds the short id on
            user-defined networks).
        ipam: the ``IPAMConfig`` asked for.
        links: the ``Links`` asked for.
        driver_opts: the ``DriverOpts`` asked for.
        joined: whether the container has run while attached (the engine shows
            ``NetworkID`` from then on).
    """

    aliases: list[str] | None = None
    ipam: dict[str, Any] | None = None
    links: list[str] | None = None
    driver_opts: dict[str, str] | None = None
    joined: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Endpoint:
        """From an ``EndpointConfig``/``EndpointsConfig`` entry of a request."""
        config = config or {}
        aliases = config.get("Aliases")
        links = config.get("Links")
        return cls(
            aliases=[str(a) for a in aliases] if aliases else None,
            ipam=config.get("IPAMConfig") or None,
            links=[str(link) for link in links] if links else None,
            driver_opts=config.get("DriverOpts") or None,
        )


@attrs.define(eq=False)
class FakeContainer:
    """A container in the fake's store; tests may read (and adjust) every field."""

    id: str
    name: str
    created_ns: int
    image: str
    image_id: str
    config: dict[str, Any]
    host_config: dict[str, Any]
    path: str
    args: list[str]
    status: str = "created"
    exit_code: int = 0
    started_ns: int = 0
    finished_ns: int = 0
    pid: int = 0
    restart_count: int = 0
    log: list[LogEntry] = attrs.Factory(list)
    exec_ids: list[str] = attrs.Factory(list)
    stdin: bytearray = attrs.Factory(bytearray)
    script: Script | None = None
    removed: bool = False
    generation: int = 0
    #: What ``GET /containers/{id}/stats`` reports while it runs (see ``FakeDocker.set_stats``).
    cpu_percent: float = 0.5
    memory_usage: int = 1 << 20
    pids: int = 1
    #: Attached networks by network id, in the order they were attached.
    endpoints: dict[str, Endpoint] = attrs.Factory(dict)

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("Labels") or {})

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")

    @property
    def argv(self) -> list[str]:
        return [self.path, *self.args] if self.path else list(self.args)

    def state(self) -> dict[str, Any]:
        """The container's ``State`` (Engine JSON)."""
        return {
            "Status": self.status,
            "Running": self.running,
            "Paused": self.status == "paused",
            "Restarting": self.status == "restarting",
            "OOMKilled": False,
            "Dead": self.status == "dead",
            "Pid": self.pid if self.running else 0,
            "ExitCode": self.exit_code,
            "Error": "",
            "StartedAt": rfc3339(self.started_ns),
            "FinishedAt": rfc3339(self.finished_ns),
        }

    def status_text(self) -> str:
        """The ``Status`` of a list entry: ``"Up 3 seconds"``, ``"Exited (0) ..."``."""
        if self.status == "created":
            return "Created"
        if self.running:
            up = human_duration((now_ns() - self.started_ns) / 1e9)
            return f"Up {up} (Paused)" if self.status == "paused" else f"Up {up}"
        if self.status == "exited":
            ago = human_duration((now_ns() - self.finished_ns) / 1e9)
            return f"Exited ({self.exit_code}) {ago} ago"
        return self.status.capitalize()

    def network_mode(self) -> str:
        """``HostConfig.NetworkMode``, ``"default"`` when unset."""
        return str(self.host_config.get("NetworkMode") or "default")

    def networks(self, nets: Mapping[str, FakeNetwork]) -> dict[str, Any]:
        """``NetworkSettings.Networks``: one entry per attached network, by name.

        Args:
            nets: the fake's networks by id.
        """
        out: dict[str, Any] = {}
        running = self.running
        for net_id, ep in self.endpoints.items():
            net = nets.get(net_id)
            if net is None:
                continue
            gateway, address = net.addresses()
            address = str((ep.ipam or {}).get("IPv4Address") or address)
            aliases = list(ep.aliases or [])
            if not net.builtin:
                # User-defined networks always resolve the short id too.
                aliases.append(self.id[:12])
            out[net.name] = {
                "IPAMConfig": ep.ipam,
                "Links": ep.links,
                "Aliases": aliases or None,
                # Kept after the container stops, like the engine does.
                "NetworkID": net.id if ep.joined else "",
                "EndpointID": "",
                "Gateway": gateway if running else "",
                "IPAddress": address if running else "",
                "IPPrefixLen": 16 if running else 0,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": "",
                "DriverOpts": ep.driver_opts,
            }
        return dict(sorted(out.items()))

    def inspect(self, nets: Mapping[str, FakeNetwork]) -> dict[str, Any]:
        """The container as ``GET /containers/{id}/json`` answers (Engine JSON).

        Args:
            nets: the fake's networks by id.
        """
        host_config = {
            "Binds": None,
            "ContainerIDFile": "",
            "Runtime": "runc",
            "LogConfig": {"Type": "json-file", "Config": {}},
            "NetworkMode": "default",
            "PortBindings": None,
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
            "AutoRemove": False,
            "VolumeDriver": "",
            "VolumesFrom": None,
            "CapAdd": None,
            "CapDrop": None,
            "CgroupnsMode": "host",
            "Dns": None,
            "DnsOptions": None,
            "DnsSearch": None,
            "ExtraHosts": None,
            "GroupAdd": None,
            "IpcMode": "private",
            "Cgroup": "",
            "Links": None,
            "OomScoreAdj": 0,
            "PidMode": "",
            "Privileged": False,
            "PublishAllPorts": False,
            "ReadonlyRootfs": False,
            "SecurityOpt": None,
            "UTSMode": "",
            "UsernsMode": "",
            "ShmSize": 67108864,
            "ConsoleSize": [0, 0],
            "Isolation": "",
            "CpuShares": 0,
            "Memory": 0,
            "NanoCpus": 0,
            "CgroupParent": "",
            "BlkioWeight": 0,
            "BlkioWeightDevice": None,
            "BlkioDeviceReadBps": None,
            "BlkioDeviceWriteBps": None,
            "BlkioDeviceReadIOps": None,
            "BlkioDeviceWriteIOps": None,
            "CpuPeriod": 0,
            "CpuQuota": 0,
            "CpuRealtimePeriod": 0,
            "CpuRealtimeRuntime": 0,
            "CpusetCpus": "",
            "CpusetMems": "",
            "Devices": None,
            "DeviceCgroupRules": None,
            "DeviceRequests": None,
            "KernelMemory": 0,
            "KernelMemoryTCP": 0,
            "MemoryReservation": 0,
            "MemorySwap": 0,
            "MemorySwappiness": None,
            "OomKillDisable": False,
            "PidsLimit": None,
            "Ulimits": None,
            "CpuCount": 0,
            "CpuPercent": 0,
            "IOMaximumIOps": 0,
            "IOMaximumBandwidth": 0,
            "MaskedPaths": [
                "/proc/asound",
                "/proc/acpi",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/proc/scsi",
                "/sys/firmware",
            ],
            "ReadonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        }
        host_config.update(self.host_config)
        return {
            "Id": self.id,
            "Created": rfc3339(self.created_ns),
            "Path": self.path,
            "Args": list(self.args),
            "State": self.state(),
            "Image": self.image_id,
            "ResolvConfPath": "",
            "HostnamePath": "",
            "HostsPath": "",
            "LogPath": "",
            "Name": "/" + self.name,
            "RestartCount": self.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": list(self.exec_ids) or None,
            "HostConfig": host_config,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "Mounts": [],
            "Config": dict(self.config),
            "NetworkSettings": {
                "Bridge": "",
                "SandboxID": "",
                "HairpinMode": False,
                "LinkLocalIPv6Address": "",
                "LinkLocalIPv6PrefixLen": 0,
                "Ports": {},
                "SandboxKey": "",
                "SecondaryIPAddresses": None,
                "SecondaryIPv6Addresses": None,
                "EndpointID": "",
                "Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "IPAddress": "",
                "IPPrefixLen": 0,
                "IPv6Gateway": "",
                "MacAddress": "",
                "Networks": self.networks(nets),
            },
        }

    def summary(self, nets: Mapping[str, FakeNetwork]) -> dict[str, Any]:
        """The container as ``GET /containers/json`` lists it (Engine JSON).

        Args:
            nets: the fake's networks by id.
        """
        argv = self.argv
        command = " ".join(shlex.quote(a) for a in argv)
        return {
            "Id": self.id,
            "Names": ["/" + self.name],
            "Image": self.image,
            "ImageID": self.image_id,
            "Command": command,
            "Created": self.created_ns // 1_000_000_000,
            "Ports": [],
            "Labels": self.labels,
            "State": self.status,
            "Status": self.status_text(),
            "HostConfig": {"NetworkMode": self.network_mode()},
            "NetworkSettings": {"Networks": self.networks(nets)},
            "Mounts": [],
        }


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


@attrs.define(eq=False)
class FakeExec:
    """An exec instance in the fake's store."""

    id: str
    container_id: str
    cmd: list[str]
    tty: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = True
    attach_stderr: bool = True
    user: str = ""
    privileged: bool = False
    env: list[str] | None = None
    working_dir: str = ""
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    stdin: bytearray = attrs.Factory(bytearray)

    def inspect(self) -> dict[str, Any]:
        """The exec as ``GET /exec/{id}/json`` answers (Engine JSON)."""
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.tty,
                "entrypoint": self.cmd[0] if self.cmd else "",
                "arguments": self.cmd[1:],
                "privileged": self.privileged,
                **({"user": self.user} if self.user else {}),
            },
            "OpenStdin": self.attach_stdin,
            "OpenStderr": self.attach_stderr,
            "OpenStdout": self.attach_stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": "",
            "Pid": self.pid,
        }


@attrs.define(eq=False)
class FakeNetwork:
    """A network in the fake's store."""

    id: str
    name: str
    driver: str = "bridge"
    scope: str = "local"
    created_ns: int = attrs.Factory(now_ns)
    internal: bool = False
    attachable: bool = False
    ingress: bool = False
    enable_ipv6: bool = False
    ipam: dict[str, Any] = attrs.Factory(
        lambda: {"Driver": "default", "Options": None, "Config": []}
    )
    options: dict[str, str] = attrs.Factory(dict)
    labels: dict[str, str] = attrs.Factory(dict)
    builtin: bool = False

    def inspect(self) -> dict[str, Any]:
        """The network as ``GET /networks/{id}`` answers (Engine JSON)."""
        return {
            "Name": self.name,
            "Id": self.id,
            "Created": rfc3339(self.created_ns),
            "Scope": self.scope,
            "Driver": self.driver,
            "EnableIPv6": self.enable_ipv6,
            "IPAM": self.ipam,
            "Internal": self.internal,
            "Attachable": self.attachable,
            "Ingress": self.ingress,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": {},
            "Options": dict(self.options),
            "Labels": dict(self.labels),
        }

    def addresses(self) -> tuple[str, str]:
        """The gateway and the address a container gets on this network."""
        for config in self.ipam.get("Config") or []:
            subnet = str(config.get("Subnet") or "")
            if subnet.count(".") == 3:
                base = subnet.split("/", 1)[0].rsplit(".", 1)[0]
                return str(config.get("Gateway") or f"{base}.1"), f"{base}.2"
        return "172.18.0.1", "172.18.0.2"


@attrs.define(eq=False)
class FakeVolume:
    """A volume in the fake's store."""

    name: str
    driver: str = "local"
    labels: dict[str, str] | None = None
    options: dict[str, str] | None = None
    created_ns: int = attrs.Factory(now_ns)

    def inspect(self) -> dict[str, Any]:
        """The volume as ``GET /volumes/{name}`` answers (Engine JSON)."""
        created = rfc3339(self.created_ns // 1_000_000_000 * 1_000_000_000)
        return {
            "CreatedAt": created,
            "Driver": self.driver,
            "Labels": self.labels,
            "Mountpoint": f"/var/lib/docker/volumes/{self.name}/_data",
            "Name": self.name,
            "Options": self.options,
            "Scope": "local",
        }


# --- the tiny program interpreter -----------------------------------------------------

Write = Callable[[int, bytes], Awaitable[None]]
Read = Callable[[], Awaitable[bytes]]
Sleep = Callable[[float], Awaitable[None]]


class Forever(Exception):
    """The program does not end on its own (a server, ``sleep infinity``)."""


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def _split_script(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    statements: list[list[str]] = [[]]
    for token in lexer:
        if token in (";", "&&", "||", "&", "|"):
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


async def run_argv(
    argv: Sequence[str],
    *,
    write: Write,
    read: Read,
    sleep: Sleep,
    unknown_runs_forever: bool,
    stdin_open: bool,
) -> int:
    """Pretend to run ``argv``; understands echo, printf, cat, true, false, exit,
    sleep and ``sh -c`` scripts made of those. Returns the exit code.

    Raises :class:`Forever` for programs that would not end on their own.
    """
    if not argv:
        return 0
    prog = argv[0].rsplit("/", 1)[-1]
    args = list(argv[1:])
    if prog in ("sh", "bash", "ash") and len(args) >= 2 and args[0] == "-c":
        code = 0
        for statement in _split_script(args[1]):
            if statement[0] == "exit":
                return int(statement[1]) if len(statement) > 1 else code
            code = await run_argv(
                statement,
                write=write,
                read=read,
                sleep=sleep,
                unknown_runs_forever=unknown_runs_forever,
                stdin_open=stdin_open,
            )
        return code
    stream = 1
    if args and args[-1] in (">&2", "1>&2"):
        args, stream = args[:-1], 2
    elif len(args) >= 2 and args[-2] == ">&" and args[-1] == "2":
        args, stream = args[:-2], 2
    if prog == "echo":
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        await write(stream, (" ".join(args) + ("\n" if newline else "")).encode())
        return 0
    if prog == "printf":
        if args:
            await write(stream, _unescape(args[0]).replace("%%", "%").encode())
        return 0
    if prog == "true":
        return 0
    if prog == "false":
        return 1
    if prog == "exit":
        return int(args[0]) if args else 0
    if prog == "sleep":
        if not args or args[0] in ("infinity", "inf"):
            raise Forever
        try:
            await sleep(float(args[0].rstrip("s")))
        except ValueError:
            return 1
        return 0
    if (prog == "cat" and not args) or (prog in ("sh", "bash", "ash") and not args):
        if not stdin_open:
            return 0
        while True:
            chunk = await read()
            if not chunk:
                return 0
            await write(1, chunk)
    if unknown_runs_forever:
        raise Forever
    return 0
