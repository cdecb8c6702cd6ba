"""The ``services`` namespace: swarm services, their logs, and waiting for convergence.

A service is described by a :class:`~aiodock.models.ServiceSpec`; build one
from the generated models or with :func:`aiodock.models.swarm.service_spec`.
Logs come back as :class:`~aiodock.FrameStream` exactly like container logs:
multiplexed stdout/stderr frames, or raw bytes when the service has a TTY
(one inspect per call decides which, unless ``tty=`` says so).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .. import models
from .._convert import parse_time, unstructure
from .._filters import Filters, encode_filters
from .._http.request import Request, quote_path
from .._registry.auth import AuthLike, encode_registry_auth
from .._rules import EventTime
from .._streams.streaming import FrameStream
from ..errors import ConvergenceError, DockerTimeoutError, InvalidArgument, ServiceNotFound
from ..models.swarm import ServiceConvergence, ServiceMode, mode_name
from ._logs import spec_tty, swarm_logs
from ._swarm_base import SwarmResource, version_index

if TYPE_CHECKING:
    from ..models import (
        ObjectVersion,
        Service,
        ServiceCreateResponse,
        ServiceSpec,
        ServiceUpdateResponse,
        Task,
    )

__all__ = ["ConvergenceError", "Services"]

_RUNNING = "running"
_FAILED_STATES = frozenset({"failed", "rejected"})
_UPDATE_BUSY = frozenset({"updating", "rollback_started"})
_UPDATE_STUCK = frozenset({"paused", "rollback_paused"})


# --- bodies ---------------------------------------------------------------------------------


def spec_body(spec: ServiceSpec) -> dict[str, Any]:
    """The JSON body for a service spec.

    Unset fields are left out, except ``Mode.Replicated.Replicas``: the
    engine reads a missing count as 1, so a count of 0 is sent as 0.
    """
    if not isinstance(spec, models.ServiceSpec):
        raise InvalidArgument(
            "spec", type(spec).__name__, "expected a ServiceSpec (see aiodock.models.swarm)"
        )
    mode_name(spec.mode)
    task = spec.task_template
    container = task.container_spec if task is not None else None
    if task is None or (
        container is None and task.plugin_spec is None and task.network_attachment_spec is None
    ):
        raise InvalidArgument("spec", "task_template", "the spec needs a task template")
    if container is not None and not container.image:
        raise InvalidArgument("spec", "image", "the container spec needs an image")
    body: dict[str, Any] = unstructure(spec, keep=("mode.replicated.replicas",))
    return body


def _auth_headers(auth: AuthLike | None) -> dict[str, str] | None:
    if auth is None:
        return None
    return {"X-Registry-Auth": encode_registry_auth(auth)}


# --- convergence ------------------------------------------------------------------------


@attrs.frozen
class _Assessment:
    done: bool
    desired: int
    running: int
    completed: int
    current: list[Task]
    failures: list[Task]
    stuck: str = ""

    def summary(self) -> str:
        return (
            f"{self.running}/{self.desired} running"
            + (f", {self.completed} completed" if self.completed else "")
            + (f"; {len(self.failures)} failed" if self.failures else "")
        )


def _state(task: Task) -> str:
    return task.status.state if task.status is not None else ""


def _failure_line(task: Task) -> str:
    status = task.status
    reason = ""
    if status is not None:
        reason = status.err or status.message
    slot = f" (slot {task.slot})" if task.slot else ""
    return f"task {task.id[:12]}{slot} {_state(task)}: {reason or 'no reason given'}"


def _iteration(obj: ObjectVersion | None) -> int | None:
    return obj.index if obj is not None else None


def assess(service: Service, tasks: list[Task], desired_hint: int | None = None) -> _Assessment:
    """Where a service stands: converged, still moving, or failing."""
    spec = service.spec
    mode = spec.mode if spec is not None else None
    kind = mode_name(mode)
    update = service.update_status
    stuck = ""
    if update is not None and update.state in _UPDATE_STUCK:
        stuck = f"the update is {update.state}: {update.message or 'no message'}"
    busy = update is not None and update.state in _UPDATE_BUSY

    if kind.endswith("-job"):
        iteration = _iteration(service.job_status.job_iteration if service.job_status else None)
        current = [t for t in tasks if _iteration(t.job_iteration) == iteration]
        completed = sum(1 for t in current if _state(t) == "complete")
        running = sum(1 for t in current if _state(t) == _RUNNING)
        failures = [t for t in current if _state(t) in _FAILED_STATES]
        if kind == "replicated-job":
            job = mode.replicated_job if mode is not None else None
            desired = 1
            if job is not None:
                desired = job.total_completions or job.max_concurrent or 1
        else:
            desired = desired_hint if desired_hint else len(current)
        done = completed >= desired > 0
        return _Assessment(done, desired, running, completed, current, failures, stuck)

    since = parse_time(service.updated_at) or parse_time(service.created_at)
    current = [t for t in tasks if t.desired_state == _RUNNING]
    running = sum(1 for t in current if _state(t) == _RUNNING)
    lingering = sum(1 for t in tasks if t.desired_state != _RUNNING and _state(t) == _RUNNING)
    failures = []
    for t in tasks:
        if _state(t) in _FAILED_STATES:
            created = parse_time(t.created_at)
            if since is None or created is None or created >= since:
                failures.append(t)
    if kind == "replicated":
        replicated = mode.replicated if mode is not None else None
        desired = replicated.replicas if replicated is not None else 1
    else:
        desired = desired_hint if desired_hint is not None else max(len(current), 1)
    done = (
        not busy and not stuck and running == desired and len(current) == desired and lingering == 0
    )
    return _Assessment(done, desired, running, 0, current, failures, stuck)


# --- the namespace ------------------------------------------------------------------------


class Services(SwarmResource):
    """Create, inspect, update, scale, remove swarm services and read their logs."""

    __slots__ = ()

    def _path(self, service_id: str, suffix: str = "") -> str:
        return "/services/" + quote_path(service_id, "service_id") + suffix

    async def list(self, *, filters: Filters | None = None, status: bool = False) -> list[Service]:
        """Services of the swarm.

        Args:
            filters: ``id``, ``name``, ``label``, ``mode``.
            status: give each service its ``service_status`` (running, desired and
                completed task counts; API 1.41).
        """
        if status:
            await self._client._require_api("status", "1.41")
        params = {"filters": encode_filters(filters), "status": True if status else None}
        return await self._guard(
            self._client._models(Request("GET", "/services", params=params), models.Service)
        )

    async def create(
        self, spec: ServiceSpec, *, auth: AuthLike | None = None
    ) -> ServiceCreateResponse:
        """Create a service from ``spec``; returns its id (and the engine's warnings).

        Nodes try to pull a tagged image before every task start, even if it is
        present locally; reference a local-only image by its id (``sha256:...``)
        to keep them from contacting a registry.

        Args:
            spec: the service spec (see :func:`aiodock.models.service_spec`).
            auth: credentials sent to the nodes to pull the image from a private registry.
        """
        body = spec_body(spec)
        return await self._guard(
            self._client._model(
                Request("POST", "/services/create", body=body, headers=_auth_headers(auth)),
                models.ServiceCreateResponse,
            )
        )

    async def inspect(self, service_id: str, *, insert_defaults: bool = False) -> Service:
        """One service.

        Args:
            service_id: the service's id or name.
            insert_defaults: fill in the engine's defaults in the spec.
        """
        return await self._guard(
            self._client._model(
                Request(
                    "GET",
                    self._path(service_id),
                    params={"insertDefaults": True if insert_defaults else None},
                    not_found=ServiceNotFound,
                ),
                models.Service,
            )
        )

    async def update(
        self,
        service_id: str,
        spec: ServiceSpec,
        *,
        version: int | ObjectVersion | None,
        auth: AuthLike | None = None,
        registry_auth_from: Literal["spec", "previous-spec"] | None = None,
        rollback: bool = False,
    ) -> ServiceUpdateResponse:
        """Replace a service's spec with ``spec``.

        Args:
            service_id: the service's id or name.
            spec: the new spec.
            version: the service's ``version`` (or ``version.index``) as read by
                :meth:`inspect`; if the service changed since, the engine refuses and
                this raises :class:`~aiodock.errors.Conflict` naming the version sent.
            auth: credentials sent to the nodes to pull the image.
            registry_auth_from: ``"spec"`` or ``"previous-spec"``: whose registry
                credentials to use when ``auth`` is not given.
            rollback: return to the previous spec instead.
        """
        index = version_index(version)
        if registry_auth_from not in (None, "spec", "previous-spec"):
            raise InvalidArgument(
                "registry_auth_from", registry_auth_from, "expected 'spec' or 'previous-spec'"
            )
        body = spec_body(spec)
        params = {
            "version": index,
            "registryAuthFrom": registry_auth_from,
            "rollback": "previous" if rollback else None,
        }
        return await self._guard(
            self._client._model(
                Request(
                    "POST",
                    self._path(service_id, "/update"),
                    params=params,
                    body=body,
                    headers=_auth_headers(auth),
                    not_found=ServiceNotFound,
                ),
                models.ServiceUpdateResponse,
            ),
            version=index,
        )

    async def scale(self, service_id: str, replicas: int) -> ServiceUpdateResponse:
        """Set the number of replicas of a replicated service (inspect, then update).

        Args:
            service_id: the service's id or name.
            replicas: the number of tasks to run.
        """
        mode = ServiceMode.replicated(replicas)
        service = await self.inspect(service_id)
        spec = service.spec
        if spec is None or mode_name(spec.mode) != "replicated":
            raise InvalidArgument(
                "service_id",
                service_id,
                f"only a replicated service can be scaled (this one is "
                f"{mode_name(spec.mode if spec else None)})",
            )
        return await self.update(service.id, attrs.evolve(spec, mode=mode), version=service.version)

    async def rollback(self, service_id: str) -> ServiceUpdateResponse:
        """Return a service to its previous spec (inspect, then update with rollback).

        Args:
            service_id: the service's id or name.
        """
        service = await self.inspect(service_id)
        if service.spec is None:
            raise InvalidArgument("service_id", service_id, "the engine returned no spec")
        return await self.update(service.id, service.spec, version=service.version, rollback=True)

    async def remove(self, service_id: str) -> None:
        """Remove a service (its tasks are stopped and removed).

        Args:
            service_id: the service's id or name.
        """
        await self._guard(
            self._client._status(
                Request("DELETE", self._path(service_id), not_found=ServiceNotFound)
            )
        )

    def logs(
        self,
        service_id: str,
        *,
        stdout: bool = True,
        stderr: bool = True,
        follow: bool = False,
        since: EventTime | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
        details: bool = False,
        tty: bool | None = None,
    ) -> FrameStream:
        """The logs of every task of a service, as :class:`~aiodock.Frame` items.

        Bytes are passed through untouched. With a TTY, stdout and stderr arrive
        merged as stdout.

        Args:
            service_id: the service's id or name.
            stdout: include stdout.
            stderr: include stderr.
            follow: keep the stream open for new output.
            since: only output after this (a ``datetime``, Unix seconds or a daemon
                time string).
            timestamps: prefix each line with its time.
            tail: the number of last lines of each task, or ``"all"``.
            details: include the extra attributes given to the log driver.
            tty: whether the service's containers have a TTY, when you know it;
                otherwise one inspect finds out just before the logs are requested.
        """
        path = self._path(service_id, "/logs")

        async def choose_tty() -> bool:
            service = await self.inspect(service_id)
            return spec_tty(service.spec.task_template if service.spec is not None else None)

        return swarm_logs(
            self._client,
            path,
            choose_tty=choose_tty,
            tty=tty,
            stdout=stdout,
            stderr=stderr,
            follow=follow,
            since=since,
            timestamps=timestamps,
            tail=tail,
            details=details,
            not_found=ServiceNotFound,
            operation="service logs",
            min_api="1.25",
        )

    async def wait_converged(
        self,
        service_id: str,
        *,
        timeout: float | None = 60.0,
        poll_interval: float = 0.5,
        stable_for: float = 1.0,
        max_failures: int = 0,
    ) -> ServiceConvergence:
        """Wait until a service's tasks reach their desired state, and return them.

        Replicated: as many running tasks as replicas (and no update in progress).
        Global: a running task on every eligible node. Jobs: the current iteration
        has completed. When more than ``max_failures`` tasks created for the
        current version of the service fail or are rejected, or its update pauses,
        this raises :class:`ConvergenceError` with each task's error.

        Args:
            service_id: the service's id or name.
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`
                with the last counts; ``None`` waits as long as it takes.
            poll_interval: seconds between two looks at the tasks.
            stable_for: seconds a running service must stay so, with the same tasks,
                so that a task that starts and crashes at once does not count.
            max_failures: failed or rejected tasks tolerated before giving up.
        """
        if timeout is not None and (isinstance(timeout, bool) or timeout < 0):
            raise InvalidArgument("timeout", timeout, "expected seconds >= 0 or None")
        if isinstance(poll_interval, bool) or not poll_interval > 0:
            raise InvalidArgument("poll_interval", poll_interval, "expected seconds > 0")
        if isinstance(stable_for, bool) or not stable_for >= 0:
            raise InvalidArgument("stable_for", stable_for, "expected seconds >= 0")
        if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
            raise InvalidArgument("max_failures", max_failures, "expected an integer >= 0")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        service = await self.inspect(service_id)
        ident = service.id or service_id
        with_status = await self._client._api_at_least("1.41")
        settled_at: float | None = None
        settled: frozenset[str] = frozenset()
        while True:
            desired_hint: int | None = None
            if with_status:
                listed = [
                    s for s in await self.list(filters={"id": ident}, status=True) if s.id == ident
                ]
                if not listed:
                    raise ServiceNotFound(404, f"service {ident} not found", "GET", "/services")
                service = listed[0]
                if service.service_status is not None:
                    desired_hint = service.service_status.desired_tasks
            else:
                service = await self.inspect(ident)
            tasks = await self._guard(
                self._client._models(
                    Request(
                        "GET", "/tasks", params={"filters": encode_filters({"service": ident})}
                    ),
                    models.Task,
                )
            )
            state = assess(service, tasks, desired_hint)
            name = service.spec.name if service.spec is not None and service.spec.name else ident
            if state.stuck:
                raise ConvergenceError(
                    name, [state.stuck, *map(_failure_line, state.failures)], state.failures
                )
            if len(state.failures) > max_failures:
                raise ConvergenceError(
                    name, [_failure_line(t) for t in state.failures], state.failures
                )
            delay = poll_interval
            if state.done:
                now = loop.time()
                ids = frozenset(t.id for t in state.current)
                if settled_at is None or ids != settled:
                    settled_at, settled = now, ids
                waited = now - settled_at
                # A job's completed tasks are final; running tasks must prove stable.
                if state.completed or waited >= stable_for:
                    return ServiceConvergence(
                        service=service,
                        tasks=state.current,
                        desired=state.desired,
                        running=state.running,
                        completed=state.completed,
                    )
                delay = min(delay, stable_for - waited)
            else:
                settled_at = None
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise DockerTimeoutError(
                        f"service {name} did not converge within {timeout} s ({state.summary()})"
                    )
                delay = min(delay, remaining)
            await asyncio.sleep(delay)
