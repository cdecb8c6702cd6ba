"""The ``containers`` namespace: every Container operation of the Engine API.

Ordinary calls return models; output comes as streams that are lazy (nothing
is sent until they are awaited or iterated) and never decode bytes:

* ``logs`` returns a :class:`LogStream` of :class:`~aiodock.Frame` items,
  demultiplexed in one request. Whether the body is framed is decided from
  the response's ``Content-Type`` on API 1.42+, and from the container's
  ``Config.Tty`` (one inspect, before the request) on older engines, which
  label neither kind.
* ``attach`` returns a :class:`~aiodock.HijackedStream` (stdin and output on
  one upgraded connection); ``attach_websocket`` an :class:`AttachWebSocket`.
* ``stats`` streams :class:`~aiodock.models.containers.Stats` samples.
* ``get_archive`` streams a tar archive (:class:`ArchiveStream`, with the
  path's stat); ``put_archive`` uploads bytes, a file object, an async
  iterable or a local directory packed on the fly.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import ipaddress
import os
import re
import shlex
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, TypedDict, TypeVar

import aiohttp
import attrs

from .. import models
from .._client import quote_path
from .._convert import json_loads, structure, unstructure
from .._filters import Filters, encode_filters
from .._frames import JSONStreamDecoder
from .._options import Unpack
from .._streaming import AsyncStream, BytesDecoder, HijackedStream
from ..errors import (
    Conflict,
    ContainerError,
    ContainerNotFound,
    DockerConnectionError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    ServerError,
    UsageError,
    error_class_for,
)
from ._base import Resource, within
from ._logs import LogStream, open_logs

if TYPE_CHECKING:
    from .._archive import UnsafeArchiveError, extract_archive
    from .._client import DockerClient
    from ..models import (
        ContainerConfig,
        ContainerCreateRequest,
        ContainerCreateResponse,
        ContainerInspectResponse,
        ContainerPruneResponse,
        ContainerSummary,
        ContainerTopResponse,
        ContainerUpdateRequest,
        ContainerUpdateResponse,
        ContainerWaitResponse,
        FilesystemChange,
        HealthConfig,
        HostConfig,
        Mount,
        NetworkingConfig,
        PortBinding,
        RestartPolicy,
    )
    from ..models.containers import ExecResult, PathStat, RunResult, Stats

__all__ = [
    "ArchiveStream",
    "AttachWebSocket",
    "Containers",
    "CreateOptions",
    "LogStream",
    "RunOptions",
    "UnsafeArchiveError",
    "build_create_request",
    "detach_key_bytes",
    "extract_archive",
    "parse_bytes",
]

_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)
_WAIT_CONDITIONS = ("not-running", "next-exit", "removed")
_RESTART_NAMES = ("no", "always", "unless-stopped", "on-failure")
_BUILTIN_NETWORKS = ("bridge", "host", "none", "default")
_PROTOCOLS = ("tcp", "udp", "sctp")


# --- argument checks (all run before any request) -------------------------------


def _flag(value: Any, parameter: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected True or False")
    return value


def _int(value: Any, parameter: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(parameter, value, "expected an integer")
    if value < minimum:
        raise InvalidArgument(parameter, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(parameter, value, f"must be at most {maximum}")
    return value


def _text(value: Any, parameter: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    return value


def _strings(value: Any, parameter: str) -> builtins.list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgument(parameter, value, "expected a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise InvalidArgument(parameter, value, f"item {item!r} is not a string")
    return builtins.list(value)


def _command(value: Any, parameter: str) -> builtins.list[str]:
    """A command as a list; a string is split like a POSIX shell would."""
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise InvalidArgument(parameter, value, f"cannot split it: {exc}") from None
        if not parts:
            raise InvalidArgument(parameter, value, "the command is empty")
        return parts
    parts = _strings(value, parameter)
    if not parts:
        raise InvalidArgument(parameter, value, "the command is empty")
    return parts


def _env(value: Any, parameter: str) -> builtins.list[str]:
    """``{"K": "v"}`` or ``["K=v"]`` as the daemon's list; a ``None`` value unsets ``K``."""
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
                raise InvalidArgument(parameter, value, f"bad variable name {key!r}")
            if item is None:
                out.append(key)
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.append(f"{key}={item}")
            else:
                raise InvalidArgument(parameter, value, f"value of {key!r} is not a string")
        return out
    items = _strings(value, parameter)
    for item in items:
        if not item or item.startswith("="):
            raise InvalidArgument(parameter, value, f"bad entry {item!r} (expected NAME=value)")
    return items


def _labels(value: Any, parameter: str) -> dict[str, str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key or not isinstance(item, str):
                raise InvalidArgument(parameter, value, "expected string keys and values")
        return dict(value)
    out: dict[str, str] = {}
    for item in _strings(value, parameter):
        key, _, val = item.partition("=")
        if not key:
            raise InvalidArgument(parameter, value, f"bad label {item!r}")
        out[key] = val
    return out


# Patterns are compiled (and cached by re) on first use, not at import.
_SIZE = r"(?i)(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?"
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value: int | str, parameter: str = "size", *, allow_unlimited: bool = False) -> int:
    """A size in bytes from an int or a string like ``"512m"``, ``"1.5g"``, ``"64MiB"``.

    Units are binary (``k`` = 1024). With ``allow_unlimited``, ``-1`` (or
    ``"-1"``) is accepted and means no limit.
    """
    if allow_unlimited and value in (-1, "-1"):
        return -1
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected bytes as an int or a string like '512m'")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(parameter, value, "must not be negative")
        return value
    if isinstance(value, str):
        match = re.fullmatch(_SIZE, value.strip())
        if match is not None:
            return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise InvalidArgument(
        parameter, value, "expected bytes as an int or a string like '512m', '1g', '64MiB'"
    )


def _seconds(value: Any, parameter: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidArgument(parameter, value, "expected seconds (a number >= 0 or a timedelta)")
    return float(value)


def _nanoseconds(value: Any, parameter: str) -> int:
    return round(_seconds(value, parameter) * 1e9)


def _cpus(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgument("cpus", value, "expected a number of CPUs greater than 0")
    nano = round(value * 1e9)
    if nano < 1_000_000:
        raise InvalidArgument("cpus", value, "must be at least 0.001")
    return nano


_SIGNAL = r"(?i)(?:SIG)?[A-Z][A-Z0-9]*(?:[+-]\d+)?"


def _signal(value: Any, parameter: str = "signal") -> str:
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected a signal name or number")
    if isinstance(value, int):
        if not 0 < value < 128:
            raise InvalidArgument(parameter, value, "signal numbers are 1..127")
        return str(value)
    if isinstance(value, str) and (value.isdigit() or re.fullmatch(_SIGNAL, value)):
        return value
    raise InvalidArgument(parameter, value, "expected a signal name ('SIGTERM', 'HUP') or number")


_DETACH_KEY = r"[\x20-\x7e]|ctrl-[a-z@\[\\\]^_]"


def _detach_keys(value: Any) -> str:
    """Validate a detach sequence such as ``"ctrl-p,ctrl-q"`` (comma-separated keys)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument("detach_keys", value, "expected keys like 'ctrl-p,ctrl-q'")
    for key in value.split(","):
        if not re.fullmatch(_DETACH_KEY, key):
            raise InvalidArgument(
                "detach_keys",
                value,
                f"unknown key {key!r} (use one printable character or ctrl-<a-z@[\\]^_>)",
            )
    return value


def detach_key_bytes(keys: str) -> bytes:
    """The bytes a detach sequence like ``"ctrl-p,ctrl-q"`` stands for (write them to detach)."""
    out = bytearray()
    for key in _detach_keys(keys).split(","):
        if len(key) == 1:
            out.append(ord(key))
        else:
            char = key[-1]
            out.append(ord(char) - 96 if "a" <= char <= "z" else ord(char) - 64)
    return bytes(out)


def _timestamp(value: Any, parameter: str) -> str:
    """``since``/``until`` as the daemon reads them: Unix seconds, RFC 3339 or a duration."""
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}"
    if isinstance(value, timedelta):
        return f"{time.time() - value.total_seconds():.9f}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise InvalidArgument(parameter, value, "must not be negative")
        return f"{value:.9f}" if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InvalidArgument(
        parameter, value, "expected a datetime, a timedelta (ago), Unix seconds or a string"
    )


def _filters(filters: Filters | None) -> str | None:
    return encode_filters(filters)


# --- ports and volumes --------------------------------------------------------------

# A port or a range of them, as ``docker run -p`` writes them: "80", "8000-8010".
_PORTS = r"(\d{1,5})(?:-(\d{1,5}))?"
_PORT_KEY = _PORTS + r"(?:/([a-z]+))?"


def _port_range(match: re.Match[str]) -> tuple[int, int] | None:
    """(first, last) of a ``_PORTS`` match; ``None`` unless 1 <= first <= last <= 65535."""
    first = int(match.group(1))
    last = int(match.group(2) or first)
    return (first, last) if 1 <= first <= last <= 65535 else None


def _port_keys(key: Any, parameter: str) -> builtins.list[str]:
    """``80``, ``"80/udp"`` or a range ``"8000-8010/tcp"`` -> ``["8000/tcp", ...]``."""
    if isinstance(key, bool):
        raise InvalidArgument(parameter, key, "expected a port like 80, '80/tcp' or '80-89'")
    if isinstance(key, int):
        ports, proto = ((key, key) if 1 <= key <= 65535 else None), "tcp"
    elif isinstance(key, str) and (match := re.fullmatch(_PORT_KEY, key.strip().lower())):
        ports, proto = _port_range(match), match.group(3) or "tcp"
    else:
        raise InvalidArgument(parameter, key, "expected a port like 80, '80/tcp' or '80-89'")
    if ports is None:
        raise InvalidArgument(parameter, key, "container ports are 1..65535, ranges low-high")
    first, last = ports
    if proto not in _PROTOCOLS:
        raise InvalidArgument(parameter, key, f"protocol must be one of {', '.join(_PROTOCOLS)}")
    return [f"{port}/{proto}" for port in range(first, last + 1)]


def _host_ip(ip: Any, spec: Any) -> str:
    if ip in (None, ""):
        return ""
    if isinstance(ip, str):
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(ip.strip("[]")))
    raise InvalidArgument("ports", spec, f"bad host IP {ip!r}")


def _host_port(port: Any, spec: Any) -> str:
    """A host port, ``""`` for any, or a range ``"9000-9010"``."""
    if port is None or port == "":
        return ""
    if isinstance(port, str) and "-" in port:
        match = re.fullmatch(_PORTS, port.strip())
        ports = _port_range(match) if match is not None and match.group(2) else None
        if ports is not None:
            return f"{ports[0]}-{ports[1]}"
    elif isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgument(
            "ports", spec, f"bad host port {port!r} (0..65535, 0 = any, or a range low-high)"
        )
    return str(port) if port else ""


def _binding(value: Any, spec: Any) -> PortBinding:
    if value is None:
        return models.PortBinding()
    if isinstance(value, (int, bool)):
        return models.PortBinding(host_port=_host_port(value, spec))
    if isinstance(value, str):
        ip, sep, port = value.rpartition(":")
        if not sep:
            return models.PortBinding(host_port=_host_port(value, spec))
        return models.PortBinding(host_ip=_host_ip(ip, spec), host_port=_host_port(port, spec))
    if isinstance(value, tuple) and 1 <= len(value) <= 2:
        host_port = value[1] if len(value) == 2 else None
        return models.PortBinding(
            host_ip=_host_ip(value[0], spec), host_port=_host_port(host_port, spec)
        )
    raise InvalidArgument(
        "ports",
        spec,
        f"bad binding {value!r} (use a port, 'ip:port', (ip, port), (ip,), None or a list)",
    )


def _spread(binding: PortBinding, count: int, key: Any, spec: Any) -> builtins.list[PortBinding]:
    """One binding per port of a container range of ``count`` ports (like ``docker run -p``).

    A host range must be as long as the container range; any port stays any port.
    A single container port may take a host range: the daemon picks a free port in it.
    """
    first, dash, last = binding.host_port.partition("-")
    if count == 1:
        return [binding]
    if not binding.host_port:
        return [binding] * count
    if not dash or int(last) - int(first) + 1 != count:
        raise InvalidArgument(
            "ports",
            spec,
            f"{key!r} has {count} ports but host port {binding.host_port!r} "
            f"{'is one port' if not dash else 'a range of another length'}",
        )
    return [attrs.evolve(binding, host_port=str(int(first) + i)) for i in range(count)]


def _ports(
    value: Any,
) -> tuple[dict[str, dict[str, Any]], dict[str, builtins.list[PortBinding] | None]]:
    """``{"80/tcp": ("127.0.0.1", 8080)}`` and friends -> (exposed ports, port bindings)."""
    if not isinstance(value, Mapping):
        raise InvalidArgument("ports", value, "expected a mapping of container port to binding")
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, builtins.list[PortBinding] | None] = {}
    for key, binding in value.items():
        ports = _port_keys(key, "ports")
        items = binding if isinstance(binding, builtins.list) else [binding]
        if not items:
            raise InvalidArgument("ports", value, f"no binding given for {key!r}")
        spread = [_spread(_binding(b, value), len(ports), key, value) for b in items]
        for i, port in enumerate(ports):
            exposed[port] = {}
            bindings[port] = [*(bindings.get(port) or []), *(per_port[i] for per_port in spread)]
    return exposed, bindings


def _volumes(value: Any) -> tuple[builtins.list[str], dict[str, dict[str, Any]]]:
    """``-v`` style specs -> (binds, anonymous volumes).

    ``"/data"`` is an anonymous volume; ``"src:/dst[:mode]"`` binds a host
    path or a named volume. A mapping ``{src: "/dst"}`` or ``{src: {"bind":
    "/dst", "mode": "ro"}}`` binds too.
    """
    binds: builtins.list[str] = []
    anonymous: dict[str, dict[str, Any]] = {}
    if isinstance(value, Mapping):
        for source, target in value.items():
            mode = ""
            if isinstance(target, Mapping):
                unknown = set(target) - {"bind", "mode"}
                if unknown:
                    raise InvalidArgument("volumes", value, f"unknown keys {sorted(unknown)}")
                mode = target.get("mode", "")
                target = target.get("bind")
            if not isinstance(source, str) or not source:
                raise InvalidArgument("volumes", value, f"bad source {source!r}")
            if not isinstance(target, str) or not target.startswith("/"):
                raise InvalidArgument("volumes", value, f"bad target {target!r} for {source!r}")
            if not isinstance(mode, str):
                raise InvalidArgument("volumes", value, f"bad mode {mode!r}")
            binds.append(f"{source}:{target}:{mode}" if mode else f"{source}:{target}")
        return binds, anonymous
    for spec in _strings(value, "volumes"):
        parts = spec.split(":")
        if len(parts) == 1:
            if not spec.startswith("/"):
                raise InvalidArgument("volumes", value, f"{spec!r}: a path must be absolute")
            anonymous[spec] = {}
        elif len(parts) in (2, 3) and parts[0] and parts[1].startswith("/"):
            if len(parts) == 3 and not parts[2]:
                raise InvalidArgument("volumes", value, f"{spec!r}: empty mode")
            binds.append(spec)
        else:
            raise InvalidArgument("volumes", value, f"{spec!r}: expected 'src:/dst[:mode]'")
    return binds, anonymous


def _restart_policy(value: Any) -> RestartPolicy:
    if isinstance(value, models.RestartPolicy):
        return value
    if isinstance(value, str):
        name, _, count = value.partition(":")
        if name in _RESTART_NAMES:
            if not count:
                return models.RestartPolicy(name=name)
            if name == "on-failure" and count.isdigit():
                return models.RestartPolicy(name=name, maximum_retry_count=int(count))
    raise InvalidArgument(
        "restart_policy",
        value,
        "expected 'no', 'always', 'unless-stopped', 'on-failure[:N]' or a RestartPolicy",
    )


def _healthcheck(value: Any) -> HealthConfig:
    if isinstance(value, models.HealthConfig):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument("healthcheck", value, "expected a HealthConfig or a mapping")
    known = {"test", "interval", "timeout", "retries", "start_period", "start_interval"}
    unknown = set(value) - known
    if unknown:
        raise InvalidArgument("healthcheck", value, f"unknown keys {sorted(unknown)}")
    test: Any = value.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    elif test is not None:
        test = _strings(test, "healthcheck")
        if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            test = ["CMD", *test]
    fields: dict[str, Any] = {"test": test or []}
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if value.get(key) is not None:
            fields[key] = _nanoseconds(value[key], f"healthcheck {key}")
    if value.get("retries") is not None:
        fields["retries"] = _int(value["retries"], "healthcheck retries")
    return models.HealthConfig(**fields)


def _extra_hosts(value: Any) -> builtins.list[str]:
    if isinstance(value, Mapping):
        out = []
        for host, ip in value.items():
            if not isinstance(host, str) or not host or not isinstance(ip, str) or not ip:
                raise InvalidArgument("extra_hosts", value, "expected {hostname: ip}")
            out.append(f"{host}:{ip}")
        return out
    return _strings(value, "extra_hosts")


def _tmpfs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        for path, options in value.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise InvalidArgument("tmpfs", value, f"bad mount point {path!r}")
            if not isinstance(options, str):
                raise InvalidArgument("tmpfs", value, f"options of {path!r} must be a string")
        return dict(value)
    out: dict[str, str] = {}
    for spec in _strings(value, "tmpfs"):
        path, _, options = spec.partition(":")
        if not path.startswith("/"):
            raise InvalidArgument("tmpfs", value, f"bad mount point {path!r}")
        out[path] = options
    return out


def _container_name(value: Any) -> str:
    name = _text(value, "name")
    if not re.fullmatch(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
        raise InvalidArgument("name", value, "allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    return name


def build_create_request(**options: Any) -> tuple[ContainerCreateRequest, str | None, str | None]:
    """Build the create body from :class:`CreateOptions` keywords.

    Returns the request, the container name and the platform (both query
    parameters). Raises :class:`~aiodock.errors.InvalidArgument` naming the
    first bad keyword; nothing is sent.
    """
    options = {k: v for k, v in options.items() if v is not None}
    config = options.pop("config", None) or models.ContainerConfig()
    host = options.pop("host_config", None) or models.HostConfig()
    networking = options.pop("networking_config", None)
    if not isinstance(config, models.ContainerConfig):
        raise InvalidArgument("config", config, "expected a ContainerConfig")
    if not isinstance(host, models.HostConfig):
        raise InvalidArgument("host_config", host, "expected a HostConfig")
    if networking is not None and not isinstance(networking, models.NetworkingConfig):
        raise InvalidArgument("networking_config", networking, "expected a NetworkingConfig")
    name = options.pop("name", None)
    if name is not None:
        name = _container_name(name)
    platform = options.pop("platform", None)
    if platform is not None:
        platform = _text(platform, "platform")
    if "environment" in options:
        # docker-py's name; one spelling only, so typos and aliases fail the same way.
        raise InvalidArgument("environment", options["environment"], "not an option: use env=")

    cfg: dict[str, Any] = {}
    hst: dict[str, Any] = {}
    for key in ("image", "working_dir", "user", "hostname", "domainname", "stop_signal"):
        if key in options:
            cfg[key] = _text(options.pop(key), key)
    if "stop_signal" in cfg:
        _signal(cfg["stop_signal"], "stop_signal")
    for key in ("tty", "network_disabled"):
        if key in options:
            cfg[key] = _flag(options.pop(key), key)
    if "stdin_open" in options:
        cfg["open_stdin"] = _flag(options.pop("stdin_open"), "stdin_open")
    if "stdin_once" in options:
        cfg["stdin_once"] = _flag(options.pop("stdin_once"), "stdin_once")
    if "stop_timeout" in options:
        cfg["stop_timeout"] = _int(options.pop("stop_timeout"), "stop_timeout", minimum=-1)
    if "cmd" in options:
        cfg["cmd"] = _command(options.pop("cmd"), "cmd")
    if "entrypoint" in options:
        entry = options.pop("entrypoint")
        cfg["entrypoint"] = [""] if entry in ("", []) else _command(entry, "entrypoint")
    if "env" in options:
        cfg["env"] = _env(options.pop("env"), "env")
    if "labels" in options:
        cfg["labels"] = _labels(options.pop("labels"), "labels")
    if "healthcheck" in options:
        cfg["healthcheck"] = _healthcheck(options.pop("healthcheck"))
    exposed: dict[str, dict[str, Any]] = {}
    if "expose" in options:
        expose = options.pop("expose")
        if isinstance(expose, (str, int)):
            expose = [expose]
        if not isinstance(expose, Sequence):
            raise InvalidArgument("expose", expose, "expected a list of ports")
        exposed.update({port: {} for p in expose for port in _port_keys(p, "expose")})
    if "ports" in options:
        ports, bindings = _ports(options.pop("ports"))
        exposed.update(ports)
        hst["port_bindings"] = bindings
    if exposed:
        cfg["exposed_ports"] = exposed
    if "volumes" in options:
        binds, anonymous = _volumes(options.pop("volumes"))
        if binds:
            hst["binds"] = binds
        if anonymous:
            cfg["volumes"] = anonymous

    for key in ("auto_remove", "privileged", "init", "publish_all_ports", "oom_kill_disable"):
        if key in options:
            hst[key] = _flag(options.pop(key), key)
    if "read_only" in options:
        hst["readonly_rootfs"] = _flag(options.pop("read_only"), "read_only")
    for key in ("memory", "memory_reservation", "shm_size"):
        if key in options:
            hst[key] = parse_bytes(options.pop(key), key)
    if "memory_swap" in options:
        hst["memory_swap"] = parse_bytes(
            options.pop("memory_swap"), "memory_swap", allow_unlimited=True
        )
    if "cpus" in options:
        hst["nano_cpus"] = _cpus(options.pop("cpus"))
    if "cpu_shares" in options:
        hst["cpu_shares"] = _int(options.pop("cpu_shares"), "cpu_shares", minimum=2)
    if "cpuset_cpus" in options:
        hst["cpuset_cpus"] = _text(options.pop("cpuset_cpus"), "cpuset_cpus")
    if "pids_limit" in options:
        hst["pids_limit"] = _int(options.pop("pids_limit"), "pids_limit", minimum=-1)
    if "restart_policy" in options:
        hst["restart_policy"] = _restart_policy(options.pop("restart_policy"))
    for key in (
        "cap_add",
        "cap_drop",
        "dns",
        "dns_search",
        "security_opt",
        "volumes_from",
        "group_add",
    ):
        if key in options:
            hst[key] = _strings(options.pop(key), key)
    if "extra_hosts" in options:
        hst["extra_hosts"] = _extra_hosts(options.pop("extra_hosts"))
    if "tmpfs" in options:
        hst["tmpfs"] = _tmpfs(options.pop("tmpfs"))
    if "sysctls" in options:
        hst["sysctls"] = _labels(options.pop("sysctls"), "sysctls")
    if "mounts" in options:
        mounts = options.pop("mounts")
        if not isinstance(mounts, Sequence) or not all(isinstance(m, models.Mount) for m in mounts):
            raise InvalidArgument("mounts", mounts, "expected a list of aiodock.models.Mount")
        hst["mounts"] = builtins.list(mounts)
    log_options = options.pop("log_options", None)
    if "log_driver" in options:
        driver = _text(options.pop("log_driver"), "log_driver")
        hst["log_config"] = models.HostConfigLogConfig(
            type=driver, config=_labels(log_options or {}, "log_options")
        )
    elif log_options is not None:
        raise InvalidArgument("log_options", log_options, "needs log_driver")
    aliases = options.pop("network_aliases", None)
    if "network" in options:
        network = _text(options.pop("network"), "network")
        hst["network_mode"] = network
        builtin = network in _BUILTIN_NETWORKS or network.startswith("container:")
        if aliases is not None and builtin:
            raise InvalidArgument("network_aliases", aliases, "need a user-defined network")
        if not builtin:
            endpoint = models.EndpointSettings(aliases=_strings(aliases or [], "network_aliases"))
            endpoints = dict(networking.endpoints_config) if networking else {}
            endpoints.setdefault(network, endpoint)
            networking = models.NetworkingConfig(endpoints_config=endpoints)
    elif aliases is not None:
        raise InvalidArgument("network_aliases", aliases, "needs network")
    if options:
        unknown = ", ".join(sorted(options))
        raise TypeError(f"create() got unexpected keyword arguments: {unknown}")

    config = attrs.evolve(config, **cfg)
    if not config.image:
        raise InvalidArgument("image", None, "an image is required (image=... or config.image)")
    host = attrs.evolve(host, **hst)
    fields = {f.name: getattr(config, f.name) for f in attrs.fields(models.ContainerConfig)}
    request = models.ContainerCreateRequest(
        **fields,
        host_config=host if host != models.HostConfig() else None,
        networking_config=networking,
    )
    return request, name, platform


# --- streams ---------------------------------------------------------------------------


def _archive_not_found(exc: NotFound, container_id: str, path: str) -> NotFound:
    """Tell a missing container from a missing path (both are 404 on archive calls)."""
    if isinstance(exc, ContainerNotFound) or "no such container" in exc.message.lower():
        return ContainerNotFound(exc.status, exc.message, exc.method, exc.path)
    message = exc.message
    if not message or message == "no message from the daemon":
        message = f"no such path in container {container_id}: {path}"
    return NotFound(exc.status, message, exc.method, exc.path)


_ArchiveStream = TypeVar("_ArchiveStream", bound="ArchiveStream")


class ArchiveStream(AsyncStream[bytes]):
    """The chunks of a tar archive from ``get_archive``; :attr:`stat` describes the path.

    Made by ``containers.get_archive``; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`~aiodock.AsyncStream`.
        **kwargs: those of :class:`~aiodock.AsyncStream`.
    """

    __slots__ = ("_stat", "_target")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stat: PathStat | None = None
        self._target = ("", "")

    async def _start(self: _ArchiveStream) -> _ArchiveStream:
        started = self._response is not None
        try:
            await super()._start()
        except NotFound as exc:
            raise _archive_not_found(exc, *self._target) from None
        if not started and self._response is not None:
            from .._archive import PATH_STAT_HEADER, parse_path_stat

            try:
                self._stat = parse_path_stat(self._response.headers.get(PATH_STAT_HEADER))
            except BaseException:
                self._release()
                raise
        return self

    @property
    def stat(self) -> PathStat:
        """The stat of the archived path (available once the stream is started)."""
        if self._stat is None:
            raise UsageError("the archive stream has not been started; await it first")
        return self._stat


class AttachWebSocket:
    """A container attached over a WebSocket (``/containers/{id}/attach/ws``).

    Iterate it for output as ``bytes`` messages (never multiplexed: stdout
    and stderr arrive mixed); :meth:`send` writes to stdin. Use it as an
    ``async with`` block or call :meth:`aclose`. Made by
    ``containers.attach_websocket``; these arguments are for aiodock's own use.

    Args:
        ws: the open WebSocket.
        what: how errors name the call.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool], what: str) -> None:
        self._ws = ws
        self._what = what

    async def __aenter__(self) -> AttachWebSocket:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while True:
            try:
                msg = await self._ws.receive()
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                await self.aclose()
                raise DockerConnectionError(f"{self._what}: {exc or type(exc).__name__}") from exc
            if msg.type == aiohttp.WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type == aiohttp.WSMsgType.TEXT:
                return str(msg.data).encode()
            if msg.type == aiohttp.WSMsgType.ERROR:
                await self.aclose()
                raise DockerConnectionError(f"{self._what}: {msg.data}")
            if msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                await self.aclose()
                raise StopAsyncIteration

    async def send(self, data: bytes) -> None:
        """Write bytes to the container's stdin.

        Args:
            data: the bytes to send, as one binary WebSocket message.
        """
        if self._ws.closed:
            raise UsageError(f"{self._what}: the WebSocket is closed")
        try:
            await self._ws.send_bytes(bytes(data))
        except (aiohttp.ClientError, OSError, ConnectionError) as exc:
            raise DockerConnectionError(f"{self._what}: writing stdin: {exc}") from exc

    async def read(self) -> bytes:
        """Read until the connection closes; return all output."""
        return b"".join([chunk async for chunk in self])

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def aclose(self) -> None:
        """Close the WebSocket; safe to call more than once."""
        if not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.close()


# --- the namespace -------------------------------------------------------------------------


def _attach_params(
    stdin: Any, stdout: Any, stderr: Any, logs: Any, stream: Any, detach_keys: Any
) -> dict[str, Any]:
    """The checked query of ``attach`` and ``attach_websocket``."""
    return {
        "stdin": _flag(stdin, "stdin"),
        "stdout": _flag(stdout, "stdout"),
        "stderr": _flag(stderr, "stderr"),
        "logs": _flag(logs, "logs"),
        "stream": _flag(stream, "stream"),
        "detachKeys": None if detach_keys is None else _detach_keys(detach_keys),
    }


def _stats(data: Any) -> Stats:
    return structure(data, models.Stats)


class RunOptions(TypedDict, total=False):
    """The options of :meth:`Containers.run`: every :meth:`Containers.create` keyword
    but ``image`` and ``cmd`` (which ``run`` takes positionally).

    Declared once, for both calls and for type checkers: ``**options:
    Unpack[RunOptions]`` makes a misspelt keyword a type error, and at run
    time an unknown keyword raises ``TypeError`` naming it. ``None`` leaves an
    option unset. ``config``, ``host_config`` and ``networking_config`` take
    full models for anything else; the other keywords replace the matching
    fields of those models.

    Attributes:
        entrypoint: the entrypoint, a list or a string split like ``cmd``.
        env: environment, ``{"K": "v"}`` or ``["K=v"]``; a ``None`` value unsets ``K``.
        labels: ``{"key": "value"}`` or ``["key=value"]``.
        name: the container name (``/?[a-zA-Z0-9][a-zA-Z0-9_.-]+``).
        platform: ``"os/arch[/variant]"`` of the image to use (``"linux/amd64"``);
            needs API 1.41.
        tty: allocate a pseudo-TTY (output is then one unframed stream).
        stdin_open: keep stdin open even when nothing is attached.
        stdin_once: close stdin after the first attached client detaches.
        working_dir: the working directory of the command.
        user: ``"user"``, ``"uid"``, ``"user:group"`` or ``"uid:gid"``.
        hostname: the container's host name.
        domainname: the container's domain name.
        expose: ports to expose without publishing them: ``80``, ``"53/udp"``,
            ``"8000-8010"``.
        ports: ports to publish, ``{"80/tcp": ("127.0.0.1", 8080)}``. A binding is
            a host port, ``"ip:port"``, ``(ip, port)``, ``(ip,)`` (any port),
            ``None`` (any port, all interfaces) or a list of these. Ranges work as
            with ``docker run -p``: ``{"8000-8002": "127.0.0.1:9000-9002"}`` pairs
            the ports; ``{"80": "127.0.0.1:9000-9010"}`` lets the daemon pick one.
        publish_all_ports: publish every exposed port on a random host port.
        volumes: ``["/data", "named:/srv", "/host:/mnt:ro"]`` (anonymous volume,
            named volume, bind mount) or ``{"/host": {"bind": "/mnt", "mode": "ro"}}``.
        volumes_from: containers whose volumes to mount (``"name[:ro|rw]"``).
        mounts: :class:`~aiodock.models.Mount` models, for every mount option.
        tmpfs: tmpfs mounts, ``{"/run": "size=64m"}`` or ``["/run:size=64m"]``.
        network: a network mode (``"bridge"``, ``"host"``, ``"none"``,
            ``"container:<id>"``) or a user-defined network to join.
        network_aliases: aliases on the user-defined ``network``.
        network_disabled: no networking at all.
        dns: DNS servers.
        dns_search: DNS search domains.
        extra_hosts: ``/etc/hosts`` entries, ``{"host": "ip"}`` or ``["host:ip"]``.
        memory: memory limit, bytes or a string such as ``"512m"``.
        memory_reservation: soft memory limit, bytes or ``"256m"``.
        memory_swap: memory plus swap limit, bytes or a string; ``-1`` is unlimited.
        shm_size: size of ``/dev/shm``, bytes or a string.
        cpus: number of CPUs, e.g. ``1.5``.
        cpu_shares: relative CPU weight.
        cpuset_cpus: CPUs the container may use, e.g. ``"0-2"`` or ``"0,1"``.
        pids_limit: maximum number of processes; ``-1`` is unlimited.
        restart_policy: ``"no"``, ``"always"``, ``"unless-stopped"``,
            ``"on-failure[:N]"`` or a :class:`~aiodock.models.RestartPolicy`.
        auto_remove: the daemon removes the container when it exits.
        privileged: give the container extended privileges.
        read_only: mount the root filesystem read-only.
        init: run an init process that forwards signals and reaps processes.
        oom_kill_disable: disable the OOM killer for the container.
        cap_add: kernel capabilities to add (``"NET_ADMIN"``).
        cap_drop: kernel capabilities to drop.
        group_add: additional groups the process runs with.
        security_opt: security options (``"no-new-privileges"``).
        sysctls: namespaced kernel parameters, ``{"net.ipv4.ip_forward": "1"}``.
        log_driver: logging driver (``"json-file"``, ``"local"``, ``"none"``).
        log_options: options of ``log_driver`` (needs ``log_driver``).
        healthcheck: a :class:`~aiodock.models.HealthConfig` or a mapping with keys
            ``test`` (a shell string or a list), ``interval``, ``timeout``,
            ``start_period``, ``start_interval`` (seconds or timedelta) and ``retries``.
        stop_signal: the signal :meth:`stop` sends first (``"SIGTERM"``).
        stop_timeout: seconds to wait after the stop signal before SIGKILL.
        config: a full :class:`~aiodock.models.ContainerConfig` for other options.
        host_config: a full :class:`~aiodock.models.HostConfig` for other options.
        networking_config: a full :class:`~aiodock.models.NetworkingConfig`.
    """

    entrypoint: str | Sequence[str] | None
    env: Mapping[str, str | None] | Sequence[str] | None
    labels: Mapping[str, str] | Sequence[str] | None
    name: str | None
    platform: str | None
    tty: bool | None
    stdin_open: bool | None
    stdin_once: bool | None
    working_dir: str | None
    user: str | None
    hostname: str | None
    domainname: str | None
    expose: Sequence[int | str] | None
    ports: Mapping[int | str, Any] | None
    publish_all_ports: bool | None
    volumes: Sequence[str] | Mapping[str, str | Mapping[str, str]] | None
    volumes_from: Sequence[str] | None
    mounts: Sequence[Mount] | None
    tmpfs: Mapping[str, str] | Sequence[str] | None
    network: str | None
    network_aliases: Sequence[str] | None
    network_disabled: bool | None
    dns: Sequence[str] | None
    dns_search: Sequence[str] | None
    extra_hosts: Mapping[str, str] | Sequence[str] | None
    memory: int | str | None
    memory_reservation: int | str | None
    memory_swap: int | str | None
    shm_size: int | str | None
    cpus: float | None
    cpu_shares: int | None
    cpuset_cpus: str | None
    pids_limit: int | None
    restart_policy: str | RestartPolicy | None
    auto_remove: bool | None
    privileged: bool | None
    read_only: bool | None
    init: bool | None
    oom_kill_disable: bool | None
    cap_add: Sequence[str] | None
    cap_drop: Sequence[str] | None
    group_add: Sequence[str] | None
    security_opt: Sequence[str] | None
    sysctls: Mapping[str, str] | None
    log_driver: str | None
    log_options: Mapping[str, str] | None
    healthcheck: HealthConfig | Mapping[str, Any] | None
    stop_signal: str | None
    stop_timeout: int | None
    config: ContainerConfig | None
    host_config: HostConfig | None
    networking_config: NetworkingConfig | None


class CreateOptions(RunOptions, total=False):
    """The keywords of :meth:`Containers.create`: :class:`RunOptions` plus ``image`` and ``cmd``.

    Attributes:
        image: the image reference (``"busybox"``, ``"registry:5000/app:1"``, an id).
        cmd: the command, a list or a string split like a POSIX shell does.
    """

    image: str | None
    cmd: str | Sequence[str] | None


class Containers(Resource):
    """Operations on containers (``docker.containers``)."""

    __slots__ = ()

    def _path(self, container_id: str, suffix: str = "") -> str:
        return f"/containers/{quote_path(container_id, 'container_id')}{suffix}"

    async def _tty(self, container_id: str) -> bool:
        data = await self._client._json(
            "GET", self._path(container_id, "/json"), not_found=ContainerNotFound
        )
        return bool(((data or {}).get("Config") or {}).get("Tty"))

    # -- listing and inspection ------------------------------------------------------

    async def list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        size: bool = False,
        filters: Filters | None = None,
    ) -> builtins.list[ContainerSummary]:
        """List containers (running ones unless ``all=True``).

        Args:
            all: include stopped and created containers too.
            limit: at most this many, the most recently created first.
            size: also compute ``size_rw`` and ``size_root_fs`` (slower).
            filters: a natural form such as ``{"label": {"app": "web"},
                "status": ["running", "paused"]}`` (a mapping of filter name to a
                string, a list of strings or a ``{key: value}`` mapping).
        """
        params = {
            "all": _flag(all, "all"),
            "limit": None if limit is None else _int(limit, "limit", minimum=1),
            "size": _flag(size, "size"),
            "filters": _filters(filters),
        }
        return await self._client._models(
            "GET", "/containers/json", models.ContainerSummary, params=params
        )

    async def inspect(self, container_id: str, *, size: bool = False) -> ContainerInspectResponse:
        """Everything the daemon knows about one container.

        Args:
            container_id: the container's id, a unique prefix of it, or its name.
            size: also compute the sizes of its writable layer and root filesystem.
        """
        return await self._client._model(
            "GET",
            self._path(container_id, "/json"),
            models.ContainerInspectResponse,
            params={"size": _flag(size, "size") or None},
            not_found=ContainerNotFound,
        )

    async def top(self, container_id: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """The processes running in a container.

        Args:
            container_id: the container's id or name.
            ps_args: arguments for ``ps`` inside the daemon, e.g. ``"aux"``.
        """
        params = {"ps_args": None if ps_args is None else _text(ps_args, "ps_args")}
        return await self._client._model(
            "GET",
            self._path(container_id, "/top"),
            models.ContainerTopResponse,
            params=params,
            not_found=ContainerNotFound,
        )

    async def changes(self, container_id: str) -> builtins.list[FilesystemChange]:
        """Files changed in the container's filesystem (kind 0 modified, 1 added, 2 deleted).

        Args:
            container_id: the container's id or name.
        """
        return await self._client._models(
            "GET",
            self._path(container_id, "/changes"),
            models.FilesystemChange,
            not_found=ContainerNotFound,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def create(self, **options: Unpack[CreateOptions]) -> ContainerCreateResponse:
        """Create a container (not started). Returns its ``id`` and the daemon's ``warnings``.

        Keywords cover the usual options (each is described in
        :class:`CreateOptions`); ``config``, ``host_config`` and
        ``networking_config`` take full models for anything else, and the
        keywords replace the matching fields of those models. An unknown image
        raises :class:`~aiodock.errors.ImageNotFound` (images are never pulled
        here). An unknown keyword raises ``TypeError`` before any request
        (docker-py's ``environment=`` raises :class:`~aiodock.errors.InvalidArgument`
        pointing to ``env=``).

        Args:
            **options: the keywords of :class:`CreateOptions`, e.g. ``image="busybox"``,
                ``cmd=["sh", "-c", "echo hi"]``, ``env={"K": "v"}``, ``labels={...}``.
        """
        request, container_name, platform_value = build_create_request(**options)
        if platform_value is not None:
            await self._client._require_api("platform", "1.41")
        try:
            return await self._client._model(
                "POST",
                "/containers/create",
                models.ContainerCreateResponse,
                params={"name": container_name, "platform": platform_value},
                body=unstructure(request),
                not_found=ImageNotFound,
            )
        except ServerError as exc:
            # Podman answers a taken name with 500, Docker with 409: one class for both.
            if exc.status == 500 and exc.message.endswith("that name is already in use"):
                raise Conflict(exc.status, exc.message, exc.method, exc.path) from None
            raise

    async def start(self, container_id: str, *, detach_keys: str | None = None) -> bool:
        """Start a container. Returns ``False`` if it was already running (not an error).

        Args:
            container_id: the container's id or name.
            detach_keys: override the key sequence that detaches from the container.
        """
        params = {"detachKeys": None if detach_keys is None else _detach_keys(detach_keys)}
        status = await self._client._status(
            "POST", self._path(container_id, "/start"), params=params, not_found=ContainerNotFound
        )
        return status != 304

    def _stop_timeout(self, seconds: int | None) -> aiohttp.ClientTimeout:
        ordinary = self._client._timeout_value
        if seconds is None or ordinary is None:
            return _NO_TIMEOUT
        return aiohttp.ClientTimeout(total=ordinary + max(seconds, 0))

    async def _stop_params(self, timeout: int | None, signal: str | int | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if timeout is not None:
            params["t"] = _int(timeout, "timeout", minimum=-1)
        if signal is not None:
            params["signal"] = _signal(signal)
            await self._client._require_api("signal", "1.42")
        return params

    async def stop(
        self, container_id: str, *, timeout: int | None = None, signal: str | int | None = None
    ) -> bool:
        """Stop a container: its stop signal, then SIGKILL after ``timeout`` seconds.

        Returns ``False`` if it was not running (not an error).

        Args:
            container_id: the container's id or name.
            timeout: seconds to wait before killing it (default: the container's
                ``stop_timeout``, else 10).
            signal: the signal to send instead of the container's stop signal; needs API 1.42.
        """
        params = await self._stop_params(timeout, signal)
        status = await self._client._status(
            "POST",
            self._path(container_id, "/stop"),
            params=params,
            timeout=self._stop_timeout(timeout),
            not_found=ContainerNotFound,
        )
        return status != 304

    async def restart(
        self, container_id: str, *, timeout: int | None = None, signal: str | int | None = None
    ) -> None:
        """Stop (as :meth:`stop`) and start a container again.

        Args:
            container_id: the container's id or name.
            timeout: seconds to wait before killing it.
            signal: the signal to stop it with; needs API 1.42.
        """
        params = await self._stop_params(timeout, signal)
        await self._client._status(
            "POST",
            self._path(container_id, "/restart"),
            params=params,
            timeout=self._stop_timeout(timeout),
            not_found=ContainerNotFound,
        )

    async def kill(self, container_id: str, *, signal: str | int | None = None) -> None:
        """Send a signal to a running container.

        Args:
            container_id: the container's id or name.
            signal: a name (``"SIGHUP"``, ``"HUP"``) or a number; default SIGKILL.
        """
        params = {"signal": None if signal is None else _signal(signal)}
        await self._client._status(
            "POST", self._path(container_id, "/kill"), params=params, not_found=ContainerNotFound
        )

    async def pause(self, container_id: str) -> None:
        """Freeze every process of a container.

        Args:
            container_id: the container's id or name.
        """
        await self._client._status(
            "POST", self._path(container_id, "/pause"), not_found=ContainerNotFound
        )

    async def unpause(self, container_id: str) -> None:
        """Resume a paused container.

        Args:
            container_id: the container's id or name.
        """
        await self._client._status(
            "POST", self._path(container_id, "/unpause"), not_found=ContainerNotFound
        )

    async def rename(self, container_id: str, *, name: str) -> None:
        """Give a container a new name.

        Args:
            container_id: the container's id or current name.
            name: the new name.
        """
        await self._client._status(
            "POST",
            self._path(container_id, "/rename"),
            params={"name": _container_name(name)},
            not_found=ContainerNotFound,
        )

    async def resize(self, container_id: str, *, height: int, width: int) -> None:
        """Resize the TTY of a container.

        Args:
            container_id: the container's id or name.
            height: rows.
            width: columns.
        """
        params = {
            "h": _int(height, "height", minimum=1, maximum=65535),
            "w": _int(width, "width", minimum=1, maximum=65535),
        }
        await self._client._status(
            "POST", self._path(container_id, "/resize"), params=params, not_found=ContainerNotFound
        )

    async def update(
        self,
        container_id: str,
        *,
        memory: int | str | None = None,
        memory_reservation: int | str | None = None,
        memory_swap: int | str | None = None,
        cpus: float | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        pids_limit: int | None = None,
        restart_policy: str | RestartPolicy | None = None,
        resources: ContainerUpdateRequest | None = None,
    ) -> ContainerUpdateResponse:
        """Change resource limits or the restart policy of a container.

        Args:
            container_id: the container's id or name.
            memory: memory limit, bytes or a string such as ``"512m"``.
            memory_reservation: soft memory limit, bytes or a string.
            memory_swap: memory plus swap limit; ``-1`` is unlimited.
            cpus: number of CPUs, e.g. ``0.5``.
            cpu_shares: relative CPU weight.
            cpuset_cpus: CPUs the container may use, e.g. ``"0-1"``.
            pids_limit: maximum number of processes; ``-1`` is unlimited.
            restart_policy: ``"no"``, ``"always"``, ``"unless-stopped"``,
                ``"on-failure[:N]"`` or a :class:`~aiodock.models.RestartPolicy`.
            resources: a full :class:`~aiodock.models.ContainerUpdateRequest`; the
                keywords replace its fields.
        """
        base = resources if resources is not None else models.ContainerUpdateRequest()
        if not isinstance(base, models.ContainerUpdateRequest):
            raise InvalidArgument("resources", resources, "expected a ContainerUpdateRequest")
        changes: dict[str, Any] = {}
        for key, value in (("memory", memory), ("memory_reservation", memory_reservation)):
            if value is not None:
                changes[key] = parse_bytes(value, key)
        if memory_swap is not None:
            changes["memory_swap"] = parse_bytes(memory_swap, "memory_swap", allow_unlimited=True)
        if cpus is not None:
            changes["nano_cpus"] = _cpus(cpus)
        if cpu_shares is not None:
            changes["cpu_shares"] = _int(cpu_shares, "cpu_shares", minimum=2)
        if cpuset_cpus is not None:
            changes["cpuset_cpus"] = _text(cpuset_cpus, "cpuset_cpus")
        if pids_limit is not None:
            changes["pids_limit"] = _int(pids_limit, "pids_limit", minimum=-1)
        if restart_policy is not None:
            changes["restart_policy"] = _restart_policy(restart_policy)
        request = attrs.evolve(base, **changes)
        if request == models.ContainerUpdateRequest():
            raise InvalidArgument("resources", None, "nothing to update")
        return await self._client._model(
            "POST",
            self._path(container_id, "/update"),
            models.ContainerUpdateResponse,
            body=unstructure(request),
            not_found=ContainerNotFound,
        )

    async def wait(
        self,
        container_id: str,
        *,
        condition: str | None = None,
        timeout: float | None = None,
    ) -> ContainerWaitResponse:
        """Wait until a container stops and return its exit status (``.status_code``).

        A waiting call does not count against the client's limit of concurrent
        ordinary calls.

        Args:
            container_id: the container's id or name.
            condition: ``"not-running"`` (default), ``"next-exit"`` or ``"removed"``.
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`;
                by default it waits as long as it takes.
        """
        stream = self._wait_stream(container_id, condition, timeout)
        return await self._wait_result(container_id, stream, timeout)

    def _wait_stream(
        self, container_id: str, condition: str | None, timeout: float | None
    ) -> AsyncStream[bytes]:
        if condition is not None and condition not in _WAIT_CONDITIONS:
            raise InvalidArgument("condition", condition, f"one of {', '.join(_WAIT_CONDITIONS)}")
        if timeout is not None:
            _seconds(timeout, "timeout")
        stream: AsyncStream[bytes] = self._client._stream(
            "POST",
            self._path(container_id, "/wait"),
            BytesDecoder(),
            params={"condition": condition},
            inactivity_timeout=None,
            not_found=ContainerNotFound,
        )
        return stream

    async def _wait_result(
        self, container_id: str, stream: AsyncStream[bytes], timeout: float | None
    ) -> ContainerWaitResponse:
        async def read() -> bytes:
            async with stream:
                return b"".join([chunk async for chunk in stream])

        body = await within(timeout, read(), f"container {container_id} did not stop")
        try:
            return structure(json_loads(body), models.ContainerWaitResponse)
        except ValueError as exc:
            raise DockerConnectionError(
                f"waiting for container {container_id}: unreadable answer {body[:200]!r}"
            ) from exc

    async def remove(
        self,
        container_id: str,
        *,
        force: bool = False,
        volumes: bool = False,
        link: bool = False,
    ) -> None:
        """Remove a container.

        Args:
            container_id: the container's id or name.
            force: kill it first if it is running.
            volumes: also remove its anonymous volumes.
            link: remove the link named ``container_id`` instead of a container.
        """
        params = {
            "force": _flag(force, "force"),
            "v": _flag(volumes, "volumes"),
            "link": _flag(link, "link") or None,
        }
        await self._client._status(
            "DELETE", self._path(container_id), params=params, not_found=ContainerNotFound
        )

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """Remove every stopped container matching ``filters``.

        Args:
            filters: ``until`` (a time) and ``label`` (``{"label": {"k": "v"}}``,
                or ``label!``) filters.
        """
        return await self._client._model(
            "POST",
            "/containers/prune",
            models.ContainerPruneResponse,
            params={"filters": _filters(filters)},
            timeout=_NO_TIMEOUT,
        )

    # -- output ------------------------------------------------------------------------------

    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: datetime | timedelta | float | str | None = None,
        until: datetime | timedelta | float | str | None = None,
        timestamps: bool = False,
        tail: int | str | None = None,
        details: bool = False,
        tty: bool | None = None,
    ) -> LogStream:
        """A container's output as a lazy :class:`LogStream` of frames (one request).

        Each frame says whether its bytes came from stdout or stderr (a TTY
        container has only stdout). Use ``.demux()``, ``.read()``, ``.lines()``
        or ``async for``.

        Args:
            container_id: the container's id or name.
            follow: keep the stream open for new output until the container stops;
                it is not subject to the client's ordinary-call timeout.
            stdout: include stdout.
            stderr: include stderr.
            since: only output after this: a ``datetime``, a ``timedelta`` (that long
                ago), Unix seconds or a daemon time string.
            until: only output before this (same forms as ``since``).
            timestamps: prefix each line with its RFC 3339 time.
            tail: the number of last lines to return, or ``"all"``.
            details: include the extra attributes given to the log driver.
            tty: whether the container has a TTY, when you know it: skips the
                inspect that old engines (before API 1.42) need to know the framing.
        """
        if not _flag(stdout, "stdout") and not _flag(stderr, "stderr"):
            raise InvalidArgument("stdout", stdout, "select stdout, stderr or both")
        if tail is not None and tail != "all":
            tail = _int(tail, "tail")
        params = {
            "follow": _flag(follow, "follow"),
            "stdout": stdout,
            "stderr": stderr,
            "since": None if since is None else _timestamp(since, "since"),
            "until": None if until is None else _timestamp(until, "until"),
            "timestamps": _flag(timestamps, "timestamps"),
            "tail": None if tail is None else str(tail),
            "details": _flag(details, "details") or None,
        }
        if tty is not None:
            _flag(tty, "tty")
        return open_logs(
            self._client,
            self._path(container_id, "/logs"),
            lambda: self._tty(container_id),
            tty=tty,
            params=params,
            not_found=ContainerNotFound,
            labelled=True,
        )

    async def attach(
        self,
        container_id: str,
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        logs: bool = False,
        stream: bool = True,
        detach_keys: str | None = None,
        tty: bool | None = None,
    ) -> HijackedStream:
        """Attach to a container: write its stdin, read its output frames, on one connection.

        Attach before :meth:`start` to see all output. ``close_stdin()``
        half-closes so the process reads end-of-file (with ``stdin_once``
        the container's stdin closes then). Close the stream when done.

        Args:
            container_id: the container's id or name.
            stdin: attach stdin, so that ``write()`` reaches the process.
            stdout: attach stdout.
            stderr: attach stderr.
            logs: first replay the output the container already wrote.
            stream: stream output as it is written (``False``: only the ``logs``).
            detach_keys: the key sequence that, written, ends the attachment without
                stopping the container (``"ctrl-p,ctrl-q"``).
            tty: whether the container has a TTY, when you know it: skips the
                inspect that finds out whether output is framed.
        """
        params = _attach_params(stdin, stdout, stderr, logs, stream, detach_keys)
        if tty is None:
            tty = await self._tty(container_id)
        return await self._client._hijack(
            "POST",
            self._path(container_id, "/attach"),
            tty=_flag(tty, "tty"),
            params=params,
            not_found=ContainerNotFound,
        )

    async def attach_websocket(
        self,
        container_id: str,
        *,
        stdin: bool = True,
        stdout: bool = True,
        stderr: bool = True,
        logs: bool = False,
        stream: bool = True,
        detach_keys: str | None = None,
    ) -> AttachWebSocket:
        """Attach over a WebSocket; output arrives as unframed ``bytes`` messages.

        Engines before API 1.42 ignore the stream selection and attach all three.

        Args:
            container_id: the container's id or name.
            stdin: attach stdin.
            stdout: attach stdout.
            stderr: attach stderr.
            logs: first replay the output the container already wrote.
            stream: stream output as it is written.
            detach_keys: the key sequence that ends the attachment.
        """
        params = _attach_params(stdin, stdout, stderr, logs, stream, detach_keys)
        client: DockerClient = self._client
        client._check_open()
        path = self._path(container_id, "/attach/ws")
        url = await client._url(path, params, True)
        shared = client._shared
        session = shared.session or shared.open_session()
        what = f"GET {path} (websocket) on {shared.endpoint.url}"
        timeout_cls = getattr(aiohttp, "ClientWSTimeout", None)
        timeouts: dict[str, Any] = (
            {"timeout": timeout_cls(ws_receive=None, ws_close=10.0)}
            if timeout_cls is not None
            else {"receive_timeout": None}
        )
        try:
            ws = await session.ws_connect(
                url,
                **timeouts,
                autoping=True,
                max_msg_size=0,
                server_hostname=shared.server_hostname,
            )
        except aiohttp.WSServerHandshakeError as exc:
            cls = error_class_for(exc.status, ContainerNotFound)
            message = exc.message or "websocket handshake failed"
            if exc.status == 404:
                message = f"no such container: {container_id}"
            raise cls(exc.status, message, "GET", path) from exc
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise DockerConnectionError(f"{what}: {exc or type(exc).__name__}") from exc
        return AttachWebSocket(ws, what)

    def stats(self, container_id: str) -> AsyncStream[Stats]:
        """A stream of :class:`~aiodock.models.containers.Stats`, about one per second.

        ``cpu_percent``, ``memory_usage`` and friends give what ``docker stats`` shows.

        Args:
            container_id: the container's id or name.
        """
        stream: AsyncStream[Stats] = self._client._stream(
            "GET",
            self._path(container_id, "/stats"),
            JSONStreamDecoder(),
            _stats,
            params={"stream": True},
            not_found=ContainerNotFound,
        )
        return stream

    async def stats_once(self, container_id: str, *, one_shot: bool = False) -> Stats:
        """One stats sample.

        Args:
            container_id: the container's id or name.
            one_shot: answer at once, without the previous CPU sample that
                ``cpu_percent`` needs (API 1.41); otherwise the daemon takes about
                a second.
        """
        if _flag(one_shot, "one_shot"):
            await self._client._require_api("one_shot", "1.41")
        return await self._client._model(
            "GET",
            self._path(container_id, "/stats"),
            models.Stats,
            params={"stream": False, "one-shot": one_shot or None},
            not_found=ContainerNotFound,
        )

    def export(self, container_id: str) -> AsyncStream[bytes]:
        """The container's filesystem as a tar archive, streamed in chunks.

        Args:
            container_id: the container's id or name.
        """
        stream: AsyncStream[bytes] = self._client._stream(
            "GET", self._path(container_id, "/export"), BytesDecoder(), not_found=ContainerNotFound
        )
        return stream

    # -- archives -------------------------------------------------------------------------

    def _archive_stream(self, method: str, container_id: str, path: str) -> ArchiveStream:
        stream: ArchiveStream = self._client._stream(
            method,
            self._path(container_id, "/archive"),
            BytesDecoder(),
            stream_class=ArchiveStream,
            params={"path": _text(path, "path")},
            not_found=NotFound,
        )
        stream._target = (container_id, path)
        return stream

    def get_archive(self, container_id: str, *, path: str) -> ArchiveStream:
        """A tar archive of ``path`` inside the container, streamed (never buffered whole).

        After the stream is awaited (or entered), :attr:`ArchiveStream.stat`
        describes the path. Unpack it safely with :func:`extract_archive` or
        iterate the chunks. A missing path raises
        :class:`~aiodock.errors.NotFound`, a missing container
        :class:`~aiodock.errors.ContainerNotFound`.

        Args:
            container_id: the container's id or name.
            path: the file or directory inside the container.
        """
        return self._archive_stream("GET", container_id, path)

    async def head_archive(self, container_id: str, *, path: str) -> PathStat:
        """Stat ``path`` inside the container without transferring it.

        Args:
            container_id: the container's id or name.
            path: the file or directory inside the container.
        """
        stream = self._archive_stream("HEAD", container_id, path)
        try:
            async with stream:
                async for _ in stream:  # no body: this hands the connection back
                    pass
                return stream.stat
        except ContainerNotFound:
            raise
        except NotFound:
            # A HEAD answer has no text: find out which of the two is missing.
            await self._tty(container_id)
            raise

    async def put_archive(
        self,
        container_id: str,
        *,
        path: str,
        data: bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes] | os.PathLike[str],
        no_overwrite_dir_non_dir: bool = False,
        copy_uid_gid: bool = False,
    ) -> None:
        """Extract a tar archive into directory ``path`` inside the container.

        Args:
            container_id: the container's id or name.
            path: the directory inside the container to extract into; it must exist.
            data: the archive as bytes, a binary file object or an async iterable of
                chunks, or a local path (``pathlib.Path``): a directory is uploaded
                with its contents placed in ``path``, a file under its own name; it is
                packed while it is sent, never whole in memory.
            no_overwrite_dir_non_dir: fail if the archive would replace a directory
                with a non-directory or the other way round.
            copy_uid_gid: give the extracted files the archive's owners.
        """
        params = {
            "path": _text(path, "path"),
            "noOverwriteDirNonDir": _flag(no_overwrite_dir_non_dir, "no_overwrite_dir_non_dir")
            or None,
            "copyUIDGID": _flag(copy_uid_gid, "copy_uid_gid") or None,
        }
        from .._archive import CHUNK_SIZE, iter_fileobj, pack_path

        body: Any
        if isinstance(data, (bytes, bytearray, memoryview)):
            # Large bodies go in slices, so the event loop never copies them at once.
            body = bytes(data) if len(data) <= CHUNK_SIZE else _slices(memoryview(data))
        elif isinstance(data, os.PathLike):
            local = os.fspath(data)
            if not await asyncio.to_thread(os.path.exists, local):
                raise InvalidArgument("data", data, "no such file or directory")
            body = pack_path(local)
        elif isinstance(data, AsyncIterable):
            body = data
        elif hasattr(data, "read"):
            body = iter_fileobj(data)
        else:
            raise InvalidArgument(
                "data", data, "expected bytes, a file object, an async iterable or a pathlib.Path"
            )
        try:
            await self._client._status(
                "PUT",
                self._path(container_id, "/archive"),
                params=params,
                data=body,
                headers={"Content-Type": "application/x-tar"},
                timeout=_NO_TIMEOUT,
                not_found=NotFound,
            )
        except NotFound as exc:
            raise _archive_not_found(exc, container_id, path) from None
        finally:
            closer = getattr(body, "aclose", None)
            if closer is not None and body is not data:
                await closer()

    # -- conveniences ------------------------------------------------------------------

    async def run(
        self,
        image: str,
        cmd: str | Sequence[str] | None = None,
        *,
        stdin: bytes | None = None,
        check: bool = True,
        remove: bool = True,
        timeout: float | None = None,
        **options: Unpack[RunOptions],
    ) -> RunResult:
        """Create and start a container, collect its output, wait for it to exit.

        Like ``docker run``: it attaches before starting, so no output is lost and
        any log driver works. The image must be local.

        Args:
            image: the image reference.
            cmd: the command, a list or a string split like a shell does.
            stdin: bytes written to the container's stdin, which is then closed.
            check: raise :class:`~aiodock.errors.ContainerError`, carrying the exit
                code and stderr, when the exit code is not zero.
            remove: remove the container afterwards (also on errors).
            timeout: seconds to wait before raising
                :class:`~aiodock.errors.DockerTimeoutError`.
            **options: the other :meth:`create` keywords (:class:`RunOptions`), e.g.
                ``env={"K": "v"}``, ``labels={...}``, ``network="none"``.
        """
        _flag(check, "check")
        _flag(remove, "remove")
        if options.get("auto_remove"):
            raise InvalidArgument(
                "auto_remove", True, "run() removes the container itself; use remove=True"
            )
        if stdin is not None:
            if not isinstance(stdin, (bytes, bytearray, memoryview)):
                raise InvalidArgument("stdin", stdin, "expected bytes")
            options.setdefault("stdin_open", True)
            options.setdefault("stdin_once", True)
        if timeout is not None:
            _seconds(timeout, "timeout")
        created = await self.create(image=image, cmd=cmd, **options)
        container_id = created.id
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            tty = options.get("tty")
            if not isinstance(tty, bool) or options.get("config") is not None:
                tty = await self._tty(container_id)
            waiter = await self._wait_stream(container_id, "next-exit", None)
            try:
                attached = await self.attach(container_id, stdin=stdin is not None, tty=tty)
                try:
                    await self.start(container_id)

                    async def feed() -> None:
                        if stdin is not None:
                            with contextlib.suppress(DockerConnectionError):
                                await attached.write(bytes(stdin))
                                await attached.close_stdin()

                    async def collect() -> Any:
                        return await attached.demux()

                    output = await within(
                        timeout,
                        asyncio.gather(feed(), collect()),
                        f"container {container_id} did not finish",
                    )
                    left = None if deadline is None else max(deadline - loop.time(), 0.001)
                    status = await self._wait_result(container_id, waiter, left)
                finally:
                    await attached.aclose()
            finally:
                await waiter.aclose()
        finally:
            if remove:
                with contextlib.suppress(NotFound):
                    await self.remove(container_id, force=True)
        out = output[1]
        if status.error is not None and status.error.message:
            raise ContainerError(
                container_id, status.status_code, status.error.message.encode(), image
            )
        if check and status.status_code != 0:
            raise ContainerError(container_id, status.status_code, out.stderr or out.stdout, image)
        return models.RunResult(
            container_id=container_id,
            exit_code=status.status_code,
            stdout=out.stdout,
            stderr=out.stderr,
        )

    async def exec_run(
        self,
        container_id: str,
        cmd: str | Sequence[str],
        *,
        stdin: bytes | None = None,
        tty: bool = False,
        env: Mapping[str, str | None] | Sequence[str] | None = None,
        user: str | None = None,
        working_dir: str | None = None,
        privileged: bool = False,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run a command in a running container; see :meth:`aiodock.resources.exec.Exec.run`.

        Args:
            container_id: the container's id or name.
            cmd: the command, a list or a string split like a shell does.
            stdin: bytes written to the command's stdin, which is then closed.
            tty: allocate a pseudo-TTY (stdout and stderr then arrive together).
            env: extra environment, ``{"K": "v"}`` or ``["K=v"]``.
            user: the user to run as.
            working_dir: the working directory of the command.
            privileged: run with extended privileges.
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`.
        """
        return await self._client.exec.run(
            container_id,
            cmd,
            stdin=stdin,
            tty=tty,
            env=env,
            user=user,
            working_dir=working_dir,
            privileged=privileged,
            timeout=timeout,
        )


async def _slices(data: memoryview) -> AsyncIterator[bytes]:
    from .._archive import CHUNK_SIZE

    for start in range(0, len(data), CHUNK_SIZE):
        yield data[start : start + CHUNK_SIZE].tobytes()


# Re-exported from _archive, which this module imports only when an archive call
# needs it: it brings tarfile, threads and the tar helpers.
_FROM_ARCHIVE = ("UnsafeArchiveError", "extract_archive")


def __getattr__(name: str) -> Any:
    if name in _FROM_ARCHIVE:
        from .. import _archive

        return getattr(_archive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> builtins.list[str]:
    return sorted({*globals(), *_FROM_ARCHIVE})
