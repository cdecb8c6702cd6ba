"""The keywords of ``containers.create`` and ``run``, checked and turned into a create request."""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from ... import _rules, models
from ...errors import InvalidArgument

if TYPE_CHECKING:
    from ...models import (
        ContainerConfig,
        ContainerCreateRequest,
        HealthConfig,
        HostConfig,
        Mount,
        NetworkingConfig,
        RestartPolicy,
    )


_RESTART_NAMES = ("no", "always", "unless-stopped", "on-failure")
_BUILTIN_NETWORKS = ("bridge", "host", "none", "default")


# --- volumes ---------------------------------------------------------------------


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
    for spec in _rules.strings(value, "volumes"):
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
        test = _rules.strings(test, "healthcheck")
        if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            test = ["CMD", *test]
    fields: dict[str, Any] = {"test": test or []}
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if value.get(key) is not None:
            fields[key] = _rules.duration_ns(value[key], f"healthcheck {key}")
    if value.get("retries") is not None:
        fields["retries"] = _rules.integer(value["retries"], "healthcheck retries")
    return models.HealthConfig(**fields)


def _tmpfs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        for path, options in value.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise InvalidArgument("tmpfs", value, f"bad mount point {path!r}")
            if not isinstance(options, str):
                raise InvalidArgument("tmpfs", value, f"options of {path!r} must be a string")
        return dict(value)
    out: dict[str, str] = {}
    for spec in _rules.strings(value, "tmpfs"):
        path, _, options = spec.partition(":")
        if not path.startswith("/"):
            raise InvalidArgument("tmpfs", value, f"bad mount point {path!r}")
        out[path] = options
    return out


def _container_name(value: Any) -> str:
    name = _rules.text(value, "name")
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
        platform = _rules.platform_str(platform)
    if "environment" in options:
        # docker-py's name; one spelling only, so typos and aliases fail the same way.
        raise InvalidArgument("environment", options["environment"], "not an option: use env=")

    cfg: dict[str, Any] = {}
    hst: dict[str, Any] = {}
    for key in ("image", "working_dir", "user", "hostname", "domainname", "stop_signal"):
        if key in options:
            cfg[key] = _rules.text(options.pop(key), key)
    if "stop_signal" in cfg:
        _rules.signal(cfg["stop_signal"], "stop_signal")
    for key in ("tty", "network_disabled"):
        if key in options:
            cfg[key] = _rules.flag(options.pop(key), key)
    if "stdin_open" in options:
        cfg["open_stdin"] = _rules.flag(options.pop("stdin_open"), "stdin_open")
    if "stdin_once" in options:
        cfg["stdin_once"] = _rules.flag(options.pop("stdin_once"), "stdin_once")
    if "stop_timeout" in options:
        cfg["stop_timeout"] = _rules.integer(
            options.pop("stop_timeout"), "stop_timeout", minimum=-1
        )
    if "cmd" in options:
        cfg["cmd"] = _rules.command(options.pop("cmd"), "cmd")
    if "entrypoint" in options:
        entry = options.pop("entrypoint")
        cfg["entrypoint"] = [""] if entry in ("", []) else _rules.command(entry, "entrypoint")
    if "env" in options:
        cfg["env"] = _rules.env(options.pop("env"), "env")
    if "labels" in options:
        cfg["labels"] = _rules.labels(options.pop("labels"), "labels")
    if "healthcheck" in options:
        cfg["healthcheck"] = _healthcheck(options.pop("healthcheck"))
    exposed: dict[str, dict[str, Any]] = {}
    if "expose" in options:
        expose = options.pop("expose")
        if isinstance(expose, (str, int)):
            expose = [expose]
        if not isinstance(expose, Sequence):
            raise InvalidArgument("expose", expose, "expected a list of ports")
        exposed.update({port: {} for p in expose for port in _rules.port_keys(p, "expose")})
    if "ports" in options:
        ports, bindings = _rules.published_ports(options.pop("ports"))
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
            hst[key] = _rules.flag(options.pop(key), key)
    if "read_only" in options:
        hst["readonly_rootfs"] = _rules.flag(options.pop("read_only"), "read_only")
    for key in ("memory", "memory_reservation", "shm_size"):
        if key in options:
            hst[key] = _rules.parse_bytes(options.pop(key), key)
    if "memory_swap" in options:
        hst["memory_swap"] = _rules.parse_bytes(
            options.pop("memory_swap"), "memory_swap", allow_unlimited=True
        )
    if "cpus" in options:
        hst["nano_cpus"] = _rules.cpus(options.pop("cpus"))
    if "cpu_shares" in options:
        hst["cpu_shares"] = _rules.integer(options.pop("cpu_shares"), "cpu_shares", minimum=2)
    if "cpuset_cpus" in options:
        hst["cpuset_cpus"] = _rules.text(options.pop("cpuset_cpus"), "cpuset_cpus")
    if "pids_limit" in options:
        hst["pids_limit"] = _rules.integer(options.pop("pids_limit"), "pids_limit", minimum=-1)
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
            hst[key] = _rules.strings(options.pop(key), key)
    if "extra_hosts" in options:
        hst["extra_hosts"] = _rules.extra_hosts(options.pop("extra_hosts"))
    if "tmpfs" in options:
        hst["tmpfs"] = _tmpfs(options.pop("tmpfs"))
    if "sysctls" in options:
        hst["sysctls"] = _rules.labels(options.pop("sysctls"), "sysctls")
    if "mounts" in options:
        hst["mounts"] = _rules.mounts(options.pop("mounts"))
    log_options = options.pop("log_options", None)
    if "log_driver" in options:
        driver = _rules.text(options.pop("log_driver"), "log_driver")
        hst["log_config"] = models.HostConfigLogConfig(
            type=driver, config=_rules.labels(log_options or {}, "log_options")
        )
    elif log_options is not None:
        raise InvalidArgument("log_options", log_options, "needs log_driver")
    aliases = options.pop("network_aliases", None)
    if "network" in options:
        network = _rules.text(options.pop("network"), "network")
        hst["network_mode"] = network
        builtin = network in _BUILTIN_NETWORKS or network.startswith("container:")
        if aliases is not None and builtin:
            raise InvalidArgument("network_aliases", aliases, "need a user-defined network")
        if not builtin:
            endpoint = models.EndpointSettings(
                aliases=_rules.strings(aliases or [], "network_aliases")
            )
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
