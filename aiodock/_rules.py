"""Argument rules: how every caller's argument is checked and put on the wire.

One home for the rules the namespaces (``aiodock.resources``) and the spec
builders (``aiodock.models``) share: environment, labels, sizes, durations and
timestamps, signals, ports, mounts, hosts, platforms and image references.
Each rule takes the value and the name of the parameter it came in, and
returns what the daemon reads or raises :class:`~aiodock.errors.InvalidArgument`
naming that parameter. All of them run before any request.

Pure logic: no I/O and no client; the models and the JSON encoder are reached
when a rule needs them, so importing this module stays cheap.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as _dt
import ipaddress
import math
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from ._registry.reference import Reference, parse_reference
from .errors import InvalidArgument

if TYPE_CHECKING:
    from .models import EndpointPortConfig, Mount, PortBinding

__all__ = ["EventTime", "PlatformLike", "detach_key_bytes", "parse_bytes"]

#: What ``since``/``until`` accept everywhere (events, container, service and
#: task logs): a ``datetime`` (naive means local time), a ``timedelta`` (that
#: long before now), seconds since the epoch as ``int``/``float``, or a string
#: the daemon parses itself (``"1700000000.5"``, an RFC 3339 time, or a
#: duration such as ``"10m"`` meaning that long ago).
EventTime: TypeAlias = _dt.datetime | _dt.timedelta | int | float | str

#: A platform as ``"os/arch[/variant]"`` or an OCI platform mapping
#: (``{"os": "linux", "architecture": "arm64", "variant": "v8"}``).
PlatformLike: TypeAlias = str | Mapping[str, Any]

_NS = 1_000_000_000


# --- scalars and lists ----------------------------------------------------------------------


def flag(value: Any, parameter: str) -> bool:
    """``value`` if it is a bool (no truthiness: ``"no"`` is refused)."""
    if not isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected True or False")
    return value


def integer(value: Any, parameter: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An int (not a bool) in ``minimum..maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(parameter, value, "expected an integer")
    if value < minimum:
        raise InvalidArgument(parameter, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(parameter, value, f"must be at most {maximum}")
    return value


def non_negative(value: int | None, parameter: str) -> int | None:
    """An int >= 0, or ``None``."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidArgument(parameter, value, "expected a non-negative integer")
    return value


def text(value: Any, parameter: str) -> str:
    """A non-empty string without NUL."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    return value


def non_empty(value: object, parameter: str) -> str:
    """``value`` if it is a string with more than blanks in it and no NUL (object names)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    return value


def strings(value: Any, parameter: str, *, empty: bool = True) -> builtins.list[str]:
    """A list of strings (a lone string is refused: it is most likely a mistake).

    Without ``empty``, an empty string in the list is refused (names, aliases).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgument(parameter, value, "expected a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise InvalidArgument(parameter, value, f"item {item!r} is not a string")
        if not empty and not item:
            raise InvalidArgument(parameter, value, "items must not be empty")
    return builtins.list(value)


def command(value: Any, parameter: str) -> builtins.list[str]:
    """A command as a list; a string is split like a POSIX shell would."""
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise InvalidArgument(parameter, value, f"cannot split it: {exc}") from None
        if not parts:
            raise InvalidArgument(parameter, value, "the command is empty")
        return parts
    parts = strings(value, parameter)
    if not parts:
        raise InvalidArgument(parameter, value, "the command is empty")
    return parts


# --- environment, labels, string maps -------------------------------------------------------


def env(value: Any, parameter: str = "env", *, unset: bool = True) -> builtins.list[str]:
    """``{"K": "v"}`` or ``["K=v"]`` as the daemon's ``["K=v"]`` list.

    With ``unset`` (containers and exec, whose Engine API reads an entry without
    ``=`` as "remove this variable"), a ``None`` value sends ``"K"``. Without it
    (a service's ``ContainerSpec.Env`` documents only ``K=v``), ``None`` and an
    entry without ``=`` are refused.
    """
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
                raise InvalidArgument(parameter, value, f"bad variable name {key!r}")
            if item is None:
                if not unset:
                    raise InvalidArgument(
                        parameter,
                        {key: None},
                        f"{key!r} has no value (a service's environment cannot unset a variable)",
                    )
                out.append(key)
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.append(f"{key}={item}")
            else:
                raise InvalidArgument(parameter, value, f"value of {key!r} is not a string")
        return out
    items = strings(value, parameter)
    for item in items:
        if not item or item.startswith("="):
            raise InvalidArgument(parameter, value, f"bad entry {item!r} (expected NAME=value)")
        if not unset and "=" not in item:
            raise InvalidArgument(parameter, value, f"{item!r} has no value (expected NAME=value)")
    return items


@overload
def labels(value: None, parameter: str = ...) -> None: ...
@overload
def labels(value: Mapping[str, str] | Sequence[str], parameter: str = ...) -> dict[str, str]: ...
def labels(value: Any, parameter: str = "labels") -> dict[str, str] | None:
    """``{"k": "v"}`` or ``["k=v"]`` as a dict of str to str (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key or not isinstance(item, str):
                raise InvalidArgument(parameter, value, "expected string keys and values")
        return dict(value)
    out: dict[str, str] = {}
    for item in strings(value, parameter):
        key, _, val = item.partition("=")
        if not key:
            raise InvalidArgument(parameter, value, f"bad label {item!r}")
        out[key] = val
    return out


def str_map(value: Mapping[str, Any] | None, parameter: str, *, allow_none: bool = False) -> Any:
    """A mapping of non-empty str keys to str values as a dict (``None`` stays ``None``).

    With ``allow_none``, ``None`` values pass (build args: "take it from the
    environment of the build").
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(parameter, value, "expected a mapping of str to str")
    out: dict[str, str | None] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgument(parameter, key, "keys must be non-empty strings")
        if item is None and allow_none:
            out[key] = None
        elif isinstance(item, str):
            out[key] = item
        else:
            raise InvalidArgument(parameter, {key: item}, "values must be strings")
    return out


def extra_hosts(value: Any, parameter: str = "extra_hosts") -> builtins.list[str]:
    """``/etc/hosts`` entries, ``{"host": "ip"}`` or ``["host:ip"]``, as ``["host:ip"]``."""
    if isinstance(value, Mapping):
        items = []
        for host, ip in value.items():
            if not isinstance(host, str) or not host or not isinstance(ip, str) or not ip:
                raise InvalidArgument(parameter, value, "expected {hostname: ip}")
            items.append(f"{host}:{ip}")
        return items
    items = [value] if isinstance(value, str) else strings(value, parameter)
    for item in items:
        if ":" not in item or item.startswith(":"):
            raise InvalidArgument(parameter, item, "expected 'host:ip' entries")
    return items


# The resource names the daemon knows (Linux RLIMIT_*, lower case without the prefix).
_ULIMITS = frozenset(
    {
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    }
)


def _ulimit_value(value: Any, parameter: str, name: str) -> tuple[int, int]:
    if isinstance(value, tuple | list) and len(value) == 2:
        soft, hard = value
    else:
        soft = hard = value
    for limit in (soft, hard):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < -1:
            raise InvalidArgument(
                parameter, {name: value}, "expected a limit or (soft, hard), integers >= -1"
            )
    if hard != -1 and (soft == -1 or soft > hard):
        raise InvalidArgument(parameter, {name: value}, "the soft limit exceeds the hard limit")
    return soft, hard


def ulimits(value: Any, parameter: str = "ulimits") -> builtins.list[dict[str, Any]]:
    """Resource limits as the Engine's ``[{"Name", "Soft", "Hard"}]`` (-1: unlimited).

    ``{"nofile": (1024, 2048), "nproc": 512}`` (one number sets both), or a
    sequence of :class:`~aiodock.models.ResourcesUlimits`, of mappings with
    ``name``/``soft``/``hard`` (either case), or of ``"nofile=1024:2048"`` strings.
    """
    from . import models

    pairs: builtins.list[tuple[Any, Any]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            if isinstance(item, models.ResourcesUlimits):
                pairs.append((item.name, (item.soft, item.hard)))
            elif isinstance(item, Mapping):
                keys = {str(key).lower(): item[key] for key in item}
                if set(keys) - {"name", "soft", "hard"} or "name" not in keys:
                    raise InvalidArgument(parameter, item, "expected name, soft and hard")
                hard = keys.get("hard", keys.get("soft"))
                pairs.append((keys["name"], (keys.get("soft", hard), hard)))
            elif isinstance(item, str) and "=" in item:
                name, _, limits = item.partition("=")
                soft_text, _, hard_text = limits.partition(":")
                try:
                    soft = int(soft_text)
                    hard = int(hard_text) if hard_text else soft
                except ValueError:
                    raise InvalidArgument(parameter, item, "expected 'name=soft[:hard]'") from None
                pairs.append((name, (soft, hard)))
            else:
                raise InvalidArgument(
                    parameter, item, "expected a ResourcesUlimits, a mapping or 'name=soft[:hard]'"
                )
    else:
        raise InvalidArgument(
            parameter, value, "expected {name: limit or (soft, hard)} or a list of limits"
        )
    out: builtins.list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, limits in pairs:
        if not isinstance(name, str) or name not in _ULIMITS:
            raise InvalidArgument(
                parameter, name, f"unknown resource; expected one of {', '.join(sorted(_ULIMITS))}"
            )
        if name in seen:
            raise InvalidArgument(parameter, name, "given twice")
        seen.add(name)
        soft, hard = _ulimit_value(limits, parameter, name)
        out.append({"Name": name, "Soft": soft, "Hard": hard})
    return out


# --- sizes --------------------------------------------------------------------------------

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


def optional_bytes(
    value: int | str | None, parameter: str, *, allow_unlimited: bool = False
) -> int | None:
    """:func:`parse_bytes`, with ``None`` passed through."""
    if value is None:
        return None
    return parse_bytes(value, parameter, allow_unlimited=allow_unlimited)


def cpus(value: Any, parameter: str = "cpus") -> int:
    """A number of CPUs (``1.5``) as the engine's nano-CPUs."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgument(parameter, value, "expected a number of CPUs greater than 0")
    nano = round(value * 1e9)
    if nano < 1_000_000:
        raise InvalidArgument(parameter, value, "must be at least 0.001")
    return nano


# --- durations and timestamps --------------------------------------------------------------


def _delta_ns(value: _dt.timedelta) -> int:
    """A timedelta as whole nanoseconds, without going through a float."""
    return (value.days * 86_400 + value.seconds) * _NS + value.microseconds * 1000


def seconds(value: Any, parameter: str) -> float:
    """A client-side time limit: seconds (``>= 0``) or a ``timedelta``."""
    if isinstance(value, _dt.timedelta):
        value = value.total_seconds()
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
        or value < 0
    ):
        raise InvalidArgument(parameter, value, "expected seconds (a number >= 0 or a timedelta)")
    return float(value)


def duration_ns(value: float | _dt.timedelta, parameter: str = "duration") -> int:
    """Seconds (``int``/``float``) or a ``timedelta`` as whole nanoseconds.

    The engine counts durations (health check intervals, every swarm delay,
    timeout and grace period) in nanoseconds.
    """
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected seconds or a timedelta")
    if isinstance(value, _dt.timedelta):
        ns = _delta_ns(value)
    elif isinstance(value, int):
        ns = value * _NS
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(parameter, value, "must be finite")
        ns = round(value * _NS)
    else:
        raise InvalidArgument(
            parameter, value, f"expected seconds or a timedelta, not {type(value).__name__}"
        )
    if ns < 0:
        raise InvalidArgument(parameter, value, "must not be negative")
    return ns


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _ns_text(ns: int) -> str:
    whole, nanos = divmod(ns, _NS)
    return f"{whole}.{nanos:09d}"


def timestamp(value: EventTime, parameter: str = "since") -> str:
    """A ``since``/``until`` value as the daemon parses it (``seconds.nanoseconds``).

    A ``datetime`` and a float are converted exactly; a ``timedelta`` counts back
    from now; an int and a string are sent as given (a string stripped of blanks).
    """
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected a datetime, seconds or a string")
    if isinstance(value, _dt.datetime):
        # Aware only when the tzinfo gives an offset (Python's rule); else local time.
        aware = value if value.utcoffset() is not None else value.astimezone()
        ns = _delta_ns(aware - _EPOCH)
        if ns < 0:
            raise InvalidArgument(parameter, value, "must not be before 1970")
        return _ns_text(ns)
    if isinstance(value, _dt.timedelta):
        ns = time.time_ns() - _delta_ns(value)
        if ns < 0:
            raise InvalidArgument(parameter, value, "must not reach back before 1970")
        return _ns_text(ns)
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(parameter, value, "must not be negative")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise InvalidArgument(parameter, value, "must be a finite, non-negative number")
        # float(): a subclass's repr may not be a number (NumPy 2: "np.float64(1.5)").
        ns = int((Decimal(repr(float(value))) * _NS).to_integral_value())
        return _ns_text(ns)
    if isinstance(value, str):
        if not value.strip():
            raise InvalidArgument(parameter, value, "must not be empty")
        if "\x00" in value:
            raise InvalidArgument(parameter, value, "must not contain NUL")
        return value.strip()
    raise InvalidArgument(
        parameter,
        value,
        "expected a datetime, a timedelta (that long ago), Unix seconds or a string, "
        f"not {type(value).__name__}",
    )


def time_window(since: EventTime | None, until: EventTime | None) -> tuple[str | None, str | None]:
    """``since`` and ``until`` encoded; ``until`` before ``since`` is refused when both
    are times the client can compare (not daemon strings)."""
    start = None if since is None else timestamp(since, "since")
    end = None if until is None else timestamp(until, "until")
    if (
        start is not None
        and end is not None
        and not isinstance(since, str)
        and not isinstance(until, str)
        and float(end) < float(start)
    ):
        raise InvalidArgument("until", until, f"is before since={since!r}")
    return start, end


def tail(value: Any, parameter: str = "tail") -> str | None:
    """How many last log lines: a count >= 0 or ``"all"`` (``None``: the daemon's default)."""
    if value is None:
        return None
    if value == "all":
        return "all"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(parameter, value, "expected a number of lines >= 0 or 'all'")
    return str(value)


# --- signals and detach keys ---------------------------------------------------------------

_SIGNAL = r"(?i)(?:SIG)?[A-Z][A-Z0-9]*(?:[+-]\d+)?"


def signal(value: Any, parameter: str = "signal") -> str:
    """A signal name (``"SIGTERM"``, ``"HUP"``, ``"SIGRTMIN+3"``) or number."""
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


def detach_keys(value: Any, parameter: str = "detach_keys") -> str:
    """A detach sequence such as ``"ctrl-p,ctrl-q"`` (comma-separated keys)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected keys like 'ctrl-p,ctrl-q'")
    for key in value.split(","):
        if not re.fullmatch(_DETACH_KEY, key):
            raise InvalidArgument(
                parameter,
                value,
                f"unknown key {key!r} (use one printable character or ctrl-<a-z@[\\]^_>)",
            )
    return value


def detach_key_bytes(keys: str) -> bytes:
    """The bytes a detach sequence like ``"ctrl-p,ctrl-q"`` stands for (write them to detach)."""
    out = bytearray()
    for key in detach_keys(keys).split(","):
        if len(key) == 1:
            out.append(ord(key))
        else:
            char = key[-1]
            out.append(ord(char) - 96 if "a" <= char <= "z" else ord(char) - 64)
    return bytes(out)


# --- ports -------------------------------------------------------------------------------

_PROTOCOLS = ("tcp", "udp", "sctp")
# A port or a range of them, as ``docker run -p`` writes them: "80", "8000-8010".
_PORTS = r"(\d{1,5})(?:-(\d{1,5}))?"
_PORT_KEY = _PORTS + r"(?:/([a-z]+))?"


def _port_range(match: re.Match[str]) -> tuple[int, int] | None:
    """(first, last) of a ``_PORTS`` match; ``None`` unless 1 <= first <= last <= 65535."""
    first = int(match.group(1))
    last = int(match.group(2) or first)
    return (first, last) if 1 <= first <= last <= 65535 else None


def protocol(value: Any, parameter: str, spec: Any) -> str:
    """``tcp``, ``udp`` or ``sctp`` (``spec`` is what the error shows)."""
    if value not in _PROTOCOLS:
        raise InvalidArgument(parameter, spec, f"protocol must be one of {', '.join(_PROTOCOLS)}")
    return str(value)


def port_keys(key: Any, parameter: str) -> builtins.list[str]:
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
    protocol(proto, parameter, key)
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
    from . import models

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
    import attrs

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


def published_ports(
    value: Any,
) -> tuple[dict[str, dict[str, Any]], dict[str, builtins.list[PortBinding] | None]]:
    """A container's ``{"80/tcp": ("127.0.0.1", 8080)}`` and friends -> (exposed, bindings)."""
    if not isinstance(value, Mapping):
        raise InvalidArgument("ports", value, "expected a mapping of container port to binding")
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, builtins.list[PortBinding] | None] = {}
    for key, binding in value.items():
        ports = port_keys(key, "ports")
        items = binding if isinstance(binding, builtins.list) else [binding]
        if not items:
            raise InvalidArgument("ports", value, f"no binding given for {key!r}")
        spread = [_spread(_binding(b, value), len(ports), key, value) for b in items]
        for i, port in enumerate(ports):
            exposed[port] = {}
            bindings[port] = [*(bindings.get(port) or []), *(per_port[i] for per_port in spread)]
    return exposed, bindings


def _port_number(value: Any, spec: Any, *, minimum: int, parameter: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 65535:
        raise InvalidArgument(parameter, spec, f"ports are {minimum}..65535, not {value!r}")
    return value


def endpoint_port(value: Any, parameter: str = "ports") -> EndpointPortConfig:
    """A service's published port: ``8080`` (target only), ``"8080:80"`` or
    ``(8080, 80)`` (published:target), ``"53/udp"``, or an ``EndpointPortConfig``."""
    from . import models

    if isinstance(value, models.EndpointPortConfig):
        return value
    if isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected a port")
    if isinstance(value, int):
        target = _port_number(value, value, minimum=1, parameter=parameter)
        return models.EndpointPortConfig(target_port=target, protocol="tcp")
    if isinstance(value, tuple) and len(value) == 2:
        published = _port_number(value[0], value, minimum=0, parameter=parameter)
        target = _port_number(value[1], value, minimum=1, parameter=parameter)
        return models.EndpointPortConfig(
            published_port=published, target_port=target, protocol="tcp"
        )
    if isinstance(value, str):
        port_text, _, proto = value.partition("/")
        published_text, sep, target_text = port_text.rpartition(":")
        if not target_text.isdigit() or (sep and not published_text.isdigit()):
            raise InvalidArgument(
                parameter, value, "expected 'published:target[/proto]' or 'target[/proto]'"
            )
        return models.EndpointPortConfig(
            published_port=_port_number(published_text or 0, value, minimum=0, parameter=parameter),
            target_port=_port_number(target_text, value, minimum=1, parameter=parameter),
            protocol=protocol(proto or "tcp", parameter, value),
        )
    raise InvalidArgument(parameter, value, "expected an EndpointPortConfig, int, str or a pair")


# --- mounts ------------------------------------------------------------------------------


def mounts(value: Any, parameter: str = "mounts") -> builtins.list[Mount]:
    """A list of :class:`~aiodock.models.Mount` models (the one spelling for every mount option)."""
    from . import models

    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or not all(isinstance(m, models.Mount) for m in value)
    ):
        raise InvalidArgument(parameter, value, "expected a list of aiodock.models.Mount")
    return builtins.list(value)


# --- platforms ---------------------------------------------------------------------------

_PLATFORM_KEYS = ("os", "architecture", "variant", "os.version", "os.features")


def oci_platform(value: PlatformLike, parameter: str = "platform") -> dict[str, Any]:
    """A platform as an OCI platform mapping."""
    if isinstance(value, str):
        parts = value.split("/")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidArgument(parameter, value, "expected 'os[/architecture[/variant]]'")
        out: dict[str, Any] = {"os": parts[0]}
        if len(parts) > 1:
            out["architecture"] = parts[1]
        if len(parts) > 2:
            out["variant"] = parts[2]
        return out
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in _PLATFORM_KEYS]
        if unknown:
            raise InvalidArgument(
                parameter, value, f"unknown keys {unknown}; allowed: {', '.join(_PLATFORM_KEYS)}"
            )
        return {k: v for k, v in value.items() if v}
    raise InvalidArgument(parameter, value, "expected 'os/arch[/variant]' or an OCI platform map")


def platform_json(value: PlatformLike | None, parameter: str = "platform") -> str | None:
    """A platform as the JSON text of its OCI mapping (``None`` stays ``None``)."""
    if value is None:
        return None
    from ._convert import json_dumps  # not at import: _convert brings cattrs

    return json_dumps(oci_platform(value, parameter)).decode()


def platform_str(value: PlatformLike | None, parameter: str = "platform") -> str | None:
    """A platform as ``"os/arch[/variant]"`` (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, str):
        oci_platform(value, parameter)
        return value
    oci = oci_platform(value, parameter)
    if "os" not in oci:
        raise InvalidArgument(parameter, value, "an 'os' is required")
    return "/".join(str(oci[k]) for k in ("os", "architecture", "variant") if k in oci)


def platforms(
    value: PlatformLike | Sequence[PlatformLike] | None, parameter: str
) -> builtins.list[str] | None:
    """One or several platforms as JSON texts (a repeated query value)."""
    if value is None:
        return None
    items: Sequence[PlatformLike] = (
        [value] if isinstance(value, (str, Mapping)) else builtins.list(value)
    )
    from ._convert import json_dumps

    # oci_platform, not platform_json: None in the list is refused, not sent as "".
    return [json_dumps(oci_platform(item, parameter)).decode() for item in items]


# --- image references ----------------------------------------------------------------------


def reference(value: str, parameter: str) -> Reference:
    """An image reference, parsed (errors name ``parameter``)."""
    try:
        return parse_reference(value)
    except InvalidArgument as exc:
        raise InvalidArgument(parameter, value, exc.reason) from None


def name_and_tag(image: str, tag: str | None, parameter: str) -> tuple[Reference, str | None]:
    """Parse ``image`` and apply an explicit ``tag``; returns the reference and the tag to use."""
    ref = reference(image, parameter)
    if tag is not None:
        if ref.tag is not None or ref.digest is not None:
            raise InvalidArgument("tag", tag, f"{image!r} already names a tag or digest")
        ref = reference(f"{image}:{tag}", "tag")
    return ref, ref.api_tag


def repository_text(image: str, ref: Reference) -> str:
    """``image`` as the caller spelled it, without its tag and digest."""
    out = image.partition("@")[0]
    if ref.tag is not None and out.endswith(":" + ref.tag):
        out = out[: -len(ref.tag) - 1]
    return out


def split_target(target: str, tag: str | None, parameter: str) -> tuple[str, str | None]:
    """``repo[:tag]`` (plus an optional separate tag) as the ``repo``/``tag`` query pair."""
    ref, api_tag = name_and_tag(target, tag, parameter)
    if ref.digest is not None:
        raise InvalidArgument(parameter, target, "cannot tag with a digest")
    return repository_text(target, ref), api_tag


def tag_or_all(image: str, api_tag: str | None, all_tags: bool, named: str) -> str | None:
    """The tag to pull or push: the one named, ``latest`` by default, none for ``all_tags``."""
    if all_tags:
        if api_tag is not None:
            raise InvalidArgument("all_tags", True, f"{image!r} already names {named}")
        return None
    return "latest" if api_tag is None else api_tag


def optional_target(repository: str | None, tag: str | None) -> tuple[str | None, str | None]:
    """The repository and tag of an image to create, when one is named (commit, import)."""
    if repository is not None:
        return split_target(repository, tag, "repository")
    if tag is not None:
        raise InvalidArgument("tag", tag, "a tag needs a repository")
    return None, None


def changes(value: Sequence[str] | str | None) -> builtins.list[str] | None:
    """Dockerfile instructions to apply (commit, import)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else builtins.list(value)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgument("changes", value, "expected Dockerfile instructions as strings")
    return items


def tags(value: str | Sequence[str]) -> builtins.list[str]:
    """Build tags: references without a digest."""
    items = [value] if isinstance(value, str) else builtins.list(value)
    for item in items:
        ref = reference(item, "tags")
        if ref.digest is not None:
            raise InvalidArgument("tags", item, "a build tag cannot carry a digest")
    return items
