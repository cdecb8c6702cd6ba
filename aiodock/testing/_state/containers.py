"""Containers in the fake's store (their output, script and network attachments) and their
Engine JSON."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from .._wire import Answer
from .values import now_ns, rfc3339

if TYPE_CHECKING:
    from .networks import FakeNetwork

__all__ = ["Endpoint", "FakeContainer", "LogEntry", "Script", "name_in_use"]


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


def name_in_use(name: str, holder: str) -> Answer:
    """The engine's 409 for a container name (create, rename) that ``holder`` has."""
    return Answer(
        409,
        f'Conflict. The container name "/{name}" is already in use by container '
        f'"{holder}". You have to remove (or rename) that container to be able to '
        "reuse that name.",
    )


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
