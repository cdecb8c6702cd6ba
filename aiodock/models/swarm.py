"""Hand-made helpers for swarm request bodies, and the swarm types that are not generated.

The generated models (:class:`~aiodock.models.ServiceSpec`,
:class:`~aiodock.models.TaskSpec`, :class:`~aiodock.models.EndpointSpec`...)
are the request bodies of services, nodes and the swarm itself; every field
has a default and unset fields are left out of the JSON. What is here fills
the places where building them by hand is awkward:

* :func:`service_spec` builds a complete ``ServiceSpec`` for the common case
  from flat keyword arguments (image, command, replicas, ports, secrets...).
* :class:`ServiceMode` makes the four service modes (``ServiceMode.replicated(3)``,
  ``ServiceMode.global_()``, ``ServiceMode.replicated_job(...)``,
  ``ServiceMode.global_job()``).
* :func:`secret_ref` / :func:`config_ref` attach a secret or config to a
  container with the file target, owner and mode the engine insists on.
* :func:`duration_ns` turns seconds or a ``timedelta`` into the nanoseconds
  the engine uses for delays, timeouts and grace periods.
* :class:`SecretCreate` is the body of ``POST /secrets/create``; its data is
  never shown by ``repr``.
* :class:`ServiceConvergence` is what ``services.wait_converged`` returns.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .. import _rules
from .._rules import duration_ns
from ..errors import InvalidArgument
from . import _generated

# The generated classes are reached through the lazy _generated package when a
# builder runs, not at import: secrets and configs need none of the ~80 classes
# of a service spec. Attrs fields name them as ``_generated.X`` so that their
# annotations still resolve in this module.
if TYPE_CHECKING:
    from ._generated import (
        Config,
        EndpointPortConfig,
        Limit,
        Mount,
        NetworkAttachmentConfig,
        Secret,
        ServiceSpec,
        ServiceSpecMode,
        ServiceSpecUpdateConfig,
        TaskSpecContainerSpecConfigs,
        TaskSpecContainerSpecSecrets,
        TaskSpecLogDriver,
        TaskSpecRestartPolicy,
    )

__all__ = [
    "SecretCreate",
    "ServiceConvergence",
    "ServiceMode",
    "config_ref",
    "decode_data",
    "duration_ns",
    "encode_data",
    "mode_name",
    "secret_ref",
    "service_spec",
]

# --- modes ---------------------------------------------------------------------------


class ServiceMode:
    """Builders for :class:`~aiodock.models.ServiceSpecMode` (how many tasks a service runs)."""

    __slots__ = ()

    @staticmethod
    def replicated(replicas: int = 1) -> ServiceSpecMode:
        """``replicas`` copies of the task, spread over the nodes.

        Args:
            replicas: how many tasks to run (``0`` is allowed).
        """
        return _generated.ServiceSpecMode(
            replicated=_generated.ServiceSpecModeReplicated(
                replicas=_rules.integer(replicas, "replicas")
            )
        )

    @staticmethod
    def global_() -> ServiceSpecMode:
        """One task on every node that satisfies the placement constraints."""
        return _generated.ServiceSpecMode(global_={})

    @staticmethod
    def replicated_job(
        total_completions: int | None = None, *, max_concurrent: int | None = None
    ) -> ServiceSpecMode:
        """A job: run tasks to completion, ``max_concurrent`` at a time.

        Args:
            total_completions: how many tasks must complete; the engine's default is
                ``max_concurrent``.
            max_concurrent: how many tasks run at once; the engine's default is one.
        """
        job = _generated.ServiceSpecModeReplicatedJob(
            max_concurrent=0
            if max_concurrent is None
            else _rules.integer(max_concurrent, "max_concurrent", minimum=1),
            total_completions=0
            if total_completions is None
            else _rules.integer(total_completions, "total_completions", minimum=1),
        )
        return _generated.ServiceSpecMode(replicated_job=job)

    @staticmethod
    def global_job() -> ServiceSpecMode:
        """A job that runs one task to completion on every eligible node."""
        return _generated.ServiceSpecMode(global_job={})


def mode_name(mode: ServiceSpecMode | None) -> str:
    """``"replicated"``, ``"global"``, ``"replicated-job"`` or ``"global-job"``.

    A spec without a mode is replicated (the engine runs one task).
    Several modes at once raise :class:`~aiodock.errors.InvalidArgument`.
    """
    if mode is None:
        return "replicated"
    names = [
        name
        for name, value in (
            ("replicated", mode.replicated),
            ("global", mode.global_),
            ("replicated-job", mode.replicated_job),
            ("global-job", mode.global_job),
        )
        if value is not None
    ]
    if len(names) > 1:
        raise InvalidArgument("mode", names, "a service has exactly one mode")
    return names[0] if names else "replicated"


# --- secrets and configs ---------------------------------------------------------------


def encode_data(data: bytes | bytearray | memoryview | str, parameter: str = "data") -> str:
    """``data`` (bytes, or text sent as UTF-8) as the base64 the engine expects.

    Errors never show the data itself.
    """
    if isinstance(data, str):
        raw = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise InvalidArgument(parameter, f"<{type(data).__name__}>", "expected bytes or str")
    return base64.b64encode(raw).decode("ascii")


def decode_data(value: Config | Secret | str) -> bytes:
    """The payload of a config (from ``configs.inspect``), or base64 text, as bytes.

    The engine never returns the payload of a secret, so for a ``Secret``
    this is ``b""``.
    """
    if isinstance(value, (_generated.Config, _generated.Secret)):
        text = value.spec.data if value.spec is not None else ""
    else:
        text = value
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument("value", "<data>", "not valid base64") from exc


def _masked(value: bytes) -> str:
    return f"<{len(value)} bytes hidden>"


@attrs.frozen(kw_only=True)
class SecretCreate:
    """The body of ``POST /secrets/create``.

    ``data`` is the raw secret (bytes); it is sent base64-encoded and the
    ``repr`` shows only its length. ``driver`` names an external secret store
    (then ``data`` stays empty); ``templating`` a template driver.
    """

    name: str
    data: bytes = attrs.field(default=b"", repr=_masked)
    labels: Mapping[str, str] = attrs.field(factory=dict)
    driver: _generated.Driver | None = None
    templating: _generated.Driver | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON body, keys as the engine spells them (from the generated request model).

        Name and labels are always sent, like a driver's options (as for configs).
        """
        from .._convert import unstructure  # not at import: _convert brings cattrs

        request = _generated.SecretCreateRequest(
            name=self.name,
            labels=dict(self.labels),
            data=base64.b64encode(self.data).decode("ascii"),
            driver=self.driver,
            templating=self.templating,
        )
        return unstructure(  # type: ignore[no-any-return]
            request, keep=("name", "labels", "driver.options", "templating.options")
        )


def _file_mode(mode: int) -> int:
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        raise InvalidArgument("mode", mode, "expected permission bits such as 0o444")
    return mode


def _object_id_name(obj: Secret | Config | str, name: str | None, what: str) -> tuple[str, str]:
    if isinstance(obj, (_generated.Secret, _generated.Config)):
        ident = obj.id
        name = name or (obj.spec.name if obj.spec is not None else "")
    else:
        ident = obj
    if not isinstance(ident, str) or not ident:
        raise InvalidArgument(what, ident, f"expected a {what} id or a {what.title()} model")
    if not name:
        raise InvalidArgument(
            f"{what}_name", name, f"the engine needs the {what}'s name as well as its id"
        )
    return ident, name


def secret_ref(
    secret: Secret | str,
    secret_name: str | None = None,
    *,
    target: str | None = None,
    uid: str = "0",
    gid: str = "0",
    mode: int = 0o444,
) -> TaskSpecContainerSpecSecrets:
    """Mount a secret into a service's containers, as ``docker service create --secret``.

    Args:
        secret: a :class:`~aiodock.models.Secret` (from ``secrets.inspect``) or a
            secret id.
        secret_name: the secret's name, needed with an id (the engine wants both).
        target: the file name under ``/run/secrets/`` (default: the secret's name).
        uid: the owner of the file.
        gid: the group of the file.
        mode: the file mode (default ``0o444``).
    """
    ident, name = _object_id_name(secret, secret_name, "secret")
    return _generated.TaskSpecContainerSpecSecrets(
        secret_id=ident,
        secret_name=name,
        file=_generated.TaskSpecContainerSpecSecretsFile(
            name=target or name, uid=uid, gid=gid, mode=_file_mode(mode)
        ),
    )


def config_ref(
    config: Config | str,
    config_name: str | None = None,
    *,
    target: str | None = None,
    uid: str = "0",
    gid: str = "0",
    mode: int = 0o444,
) -> TaskSpecContainerSpecConfigs:
    """Mount a config into a service's containers, as ``docker service create --config``.

    Args:
        config: a :class:`~aiodock.models.Config` or a config id.
        config_name: the config's name, needed with an id (the engine wants both).
        target: the path in the container (default ``/<name>``).
        uid: the owner of the file.
        gid: the group of the file.
        mode: the file mode (default ``0o444``).
    """
    ident, name = _object_id_name(config, config_name, "config")
    return _generated.TaskSpecContainerSpecConfigs(
        config_id=ident,
        config_name=name,
        file=_generated.TaskSpecContainerSpecConfigsFile(
            name=target or "/" + name, uid=uid, gid=gid, mode=_file_mode(mode)
        ),
    )


# --- a whole service spec ----------------------------------------------------------------


def service_spec(
    image: str,
    *,
    name: str = "",
    command: str | Sequence[str] | None = None,
    args: str | Sequence[str] | None = None,
    env: Mapping[str, str] | Sequence[str] | None = None,
    labels: Mapping[str, str] | Sequence[str] | None = None,
    container_labels: Mapping[str, str] | Sequence[str] | None = None,
    workdir: str = "",
    user: str = "",
    tty: bool = False,
    mode: ServiceSpecMode | None = None,
    replicas: int | None = None,
    ports: Sequence[EndpointPortConfig | int | str | tuple[int, int]] = (),
    mounts: Sequence[Mount] = (),
    secrets: Sequence[TaskSpecContainerSpecSecrets] = (),
    configs: Sequence[TaskSpecContainerSpecConfigs] = (),
    networks: Sequence[str | NetworkAttachmentConfig] = (),
    constraints: Sequence[str] = (),
    restart_policy: TaskSpecRestartPolicy | None = None,
    limits: Limit | None = None,
    update_config: ServiceSpecUpdateConfig | None = None,
    log_driver: str | TaskSpecLogDriver | None = None,
    stop_grace_period: float | _dt.timedelta | None = None,
) -> ServiceSpec:
    """A :class:`~aiodock.models.ServiceSpec` for the common case, from flat arguments.

    For anything else, build the spec from the generated models, or
    ``attrs.evolve`` this one.

    Args:
        image: the image reference or id (an id keeps nodes from asking a
            registry for an image they have locally).
        name: the service's name.
        command: replaces the image's entrypoint: a list, or a string split like a
            POSIX shell does (as ``containers.create(cmd=...)``).
        args: replaces the image's command (a list or a string, like ``command``).
        env: the containers' environment, ``{"K": "v"}`` or ``["K=v"]``. A service
            cannot unset a variable: ``{"K": None}`` raises
            :class:`~aiodock.errors.InvalidArgument`.
        labels: the service's labels.
        container_labels: the labels of its containers.
        workdir: the working directory in the containers.
        user: the user the containers run as.
        tty: give the containers a TTY.
        mode: a :class:`ServiceMode` result (replicated, global, jobs).
        replicas: shortcut for ``mode=ServiceMode.replicated(replicas)``.
        ports: published ports: an :class:`~aiodock.models.EndpointPortConfig`,
            a target port (``80``), ``"8080:80"``, ``"53/udp"`` or
            ``(published, target)``.
        mounts: :class:`~aiodock.models.Mount` models.
        secrets: from :func:`secret_ref`.
        configs: from :func:`config_ref`.
        networks: network names or ids, or attachment configs.
        constraints: placement constraints (``"node.role==manager"``).
        restart_policy: a :class:`~aiodock.models.TaskSpecRestartPolicy`.
        limits: resource limits (:class:`~aiodock.models.Limit`).
        update_config: how updates roll out.
        log_driver: a log driver name or a :class:`~aiodock.models.TaskSpecLogDriver`.
        stop_grace_period: seconds (or a ``timedelta``) between the stop signal and
            the kill.
    """
    if not isinstance(image, str) or not image:
        raise InvalidArgument("image", image, "expected an image reference or id")
    if mode is not None and replicas is not None:
        raise InvalidArgument("replicas", replicas, "give either mode or replicas, not both")
    if replicas is not None:
        mode = ServiceMode.replicated(replicas)
    mode_name(mode)
    container = _generated.TaskSpecContainerSpec(
        image=image,
        command=_rules.command(command, "command") if command else [],
        args=_rules.command(args, "args") if args else [],
        env=[] if env is None else _rules.env(env, "env", unset=False),
        labels=_rules.labels(container_labels, "container_labels") or {},
        dir=workdir,
        user=user,
        tty=tty,
        mounts=_rules.mounts(mounts),
        secrets=list(secrets),
        configs=list(configs),
        stop_grace_period=0
        if stop_grace_period is None
        else duration_ns(stop_grace_period, "stop_grace_period"),
    )
    if isinstance(log_driver, str):
        log_driver = _generated.TaskSpecLogDriver(name=log_driver)
    task = _generated.TaskSpec(
        container_spec=container,
        restart_policy=restart_policy,
        resources=_generated.TaskSpecResources(limits=limits) if limits is not None else None,
        placement=_generated.TaskSpecPlacement(
            constraints=_rules.strings(constraints, "constraints")
        )
        if constraints
        else None,
        networks=[
            _generated.NetworkAttachmentConfig(target=n) if isinstance(n, str) else n
            for n in networks
        ],
        log_driver=log_driver,
    )
    endpoint = (
        _generated.EndpointSpec(ports=[_rules.endpoint_port(p) for p in ports]) if ports else None
    )
    return _generated.ServiceSpec(
        name=name,
        labels=_rules.labels(labels, "labels") or {},
        task_template=task,
        mode=mode,
        update_config=update_config,
        endpoint_spec=endpoint,
    )


# --- responses ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ServiceConvergence:
    """A service that reached its desired state (``services.wait_converged``).

    ``tasks`` are the service's current tasks (those the orchestrator wants
    running, or the completed tasks of the current job iteration);
    ``running``/``completed`` count them by state and ``desired`` is the
    target count.
    """

    service: _generated.Service
    tasks: list[_generated.Task] = attrs.field(factory=list)
    desired: int = 0
    running: int = 0
    completed: int = 0
