"""The :class:`Containers` namespace (``docker.containers``): the Engine's container calls."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ... import _rules, models
from ..._convert import json_loads, structure, unstructure
from ..._filters import Filters, encode_filters
from ..._http.request import NO_LIMIT, Request, Timeout
from ..._options import Unpack
from ..._rules import EventTime
from ..._streams.frames import JSONStreamDecoder
from ..._streams.streaming import AsyncStream, BytesDecoder, HijackedStream
from ...errors import (
    Conflict,
    ContainerError,
    ContainerNotFound,
    DockerConnectionError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    ServerError,
)
from .._base import within
from .._logs import LogStream, open_logs

if TYPE_CHECKING:
    from ...models import (
        ContainerCreateResponse,
        ContainerInspectResponse,
        ContainerPruneResponse,
        ContainerSummary,
        ContainerTopResponse,
        ContainerUpdateRequest,
        ContainerUpdateResponse,
        ContainerWaitResponse,
        FilesystemChange,
        RestartPolicy,
    )
    from ...models.containers import ExecResult, RunResult, Stats

from ..._http.websocket import AttachWebSocket
from ._archives import ContainerArchives
from ._create import (
    CreateOptions,
    RunOptions,
    _container_name,
    _restart_policy,
    build_create_request,
)

_WAIT_CONDITIONS = ("not-running", "next-exit", "removed")


# --- the namespace -------------------------------------------------------------------------


def _attach_params(
    stdin: Any, stdout: Any, stderr: Any, logs: Any, stream: Any, detach_keys: Any
) -> dict[str, Any]:
    """The checked query of ``attach`` and ``attach_websocket``."""
    return {
        "stdin": _rules.flag(stdin, "stdin"),
        "stdout": _rules.flag(stdout, "stdout"),
        "stderr": _rules.flag(stderr, "stderr"),
        "logs": _rules.flag(logs, "logs"),
        "stream": _rules.flag(stream, "stream"),
        "detachKeys": None if detach_keys is None else _rules.detach_keys(detach_keys),
    }


def _stats(data: Any) -> Stats:
    return structure(data, models.Stats)


class Containers(ContainerArchives):
    """Operations on containers (``docker.containers``)."""

    __slots__ = ()

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
            "all": _rules.flag(all, "all"),
            "limit": None if limit is None else _rules.integer(limit, "limit", minimum=1),
            "size": _rules.flag(size, "size"),
            "filters": encode_filters(filters),
        }
        return await self._client._models(
            Request("GET", "/containers/json", params=params), models.ContainerSummary
        )

    async def inspect(self, container_id: str, *, size: bool = False) -> ContainerInspectResponse:
        """Everything the daemon knows about one container.

        Args:
            container_id: the container's id, a unique prefix of it, or its name.
            size: also compute the sizes of its writable layer and root filesystem.
        """
        return await self._client._model(
            Request(
                "GET",
                self._path(container_id, "/json"),
                params={"size": _rules.flag(size, "size") or None},
                not_found=ContainerNotFound,
            ),
            models.ContainerInspectResponse,
        )

    async def top(self, container_id: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """The processes running in a container.

        Args:
            container_id: the container's id or name.
            ps_args: arguments for ``ps`` inside the daemon, e.g. ``"aux"``.
        """
        params = {"ps_args": None if ps_args is None else _rules.text(ps_args, "ps_args")}
        return await self._client._model(
            Request(
                "GET", self._path(container_id, "/top"), params=params, not_found=ContainerNotFound
            ),
            models.ContainerTopResponse,
        )

    async def changes(self, container_id: str) -> builtins.list[FilesystemChange]:
        """Files changed in the container's filesystem (kind 0 modified, 1 added, 2 deleted).

        Args:
            container_id: the container's id or name.
        """
        return await self._client._models(
            Request("GET", self._path(container_id, "/changes"), not_found=ContainerNotFound),
            models.FilesystemChange,
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
                Request(
                    "POST",
                    "/containers/create",
                    params={"name": container_name, "platform": platform_value},
                    body=unstructure(request),
                    not_found=ImageNotFound,
                ),
                models.ContainerCreateResponse,
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
        params = {"detachKeys": None if detach_keys is None else _rules.detach_keys(detach_keys)}
        status = await self._client._status(
            Request(
                "POST",
                self._path(container_id, "/start"),
                params=params,
                not_found=ContainerNotFound,
            )
        )
        return status != 304

    def _stop_timeout(self, seconds: int | None) -> Timeout:
        ordinary = self._client._timeout_value
        if seconds is None or ordinary is None:
            return NO_LIMIT
        return Timeout(ordinary + max(seconds, 0))

    async def _stop_params(self, timeout: int | None, signal: str | int | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if timeout is not None:
            params["t"] = _rules.integer(timeout, "timeout", minimum=-1)
        if signal is not None:
            params["signal"] = _rules.signal(signal)
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
            Request(
                "POST",
                self._path(container_id, "/stop"),
                params=params,
                timeout=self._stop_timeout(timeout),
                not_found=ContainerNotFound,
            )
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
            Request(
                "POST",
                self._path(container_id, "/restart"),
                params=params,
                timeout=self._stop_timeout(timeout),
                not_found=ContainerNotFound,
            )
        )

    async def kill(self, container_id: str, *, signal: str | int | None = None) -> None:
        """Send a signal to a running container.

        Args:
            container_id: the container's id or name.
            signal: a name (``"SIGHUP"``, ``"HUP"``) or a number; default SIGKILL.
        """
        params = {"signal": None if signal is None else _rules.signal(signal)}
        await self._client._status(
            Request(
                "POST",
                self._path(container_id, "/kill"),
                params=params,
                not_found=ContainerNotFound,
            )
        )

    async def pause(self, container_id: str) -> None:
        """Freeze every process of a container.

        Args:
            container_id: the container's id or name.
        """
        await self._client._status(
            Request("POST", self._path(container_id, "/pause"), not_found=ContainerNotFound)
        )

    async def unpause(self, container_id: str) -> None:
        """Resume a paused container.

        Args:
            container_id: the container's id or name.
        """
        await self._client._status(
            Request("POST", self._path(container_id, "/unpause"), not_found=ContainerNotFound)
        )

    async def rename(self, container_id: str, *, name: str) -> None:
        """Give a container a new name.

        Args:
            container_id: the container's id or current name.
            name: the new name.
        """
        await self._client._status(
            Request(
                "POST",
                self._path(container_id, "/rename"),
                params={"name": _container_name(name)},
                not_found=ContainerNotFound,
            )
        )

    async def resize(self, container_id: str, *, height: int, width: int) -> None:
        """Resize the TTY of a container.

        Args:
            container_id: the container's id or name.
            height: rows.
            width: columns.
        """
        params = {
            "h": _rules.integer(height, "height", minimum=1, maximum=65535),
            "w": _rules.integer(width, "width", minimum=1, maximum=65535),
        }
        await self._client._status(
            Request(
                "POST",
                self._path(container_id, "/resize"),
                params=params,
                not_found=ContainerNotFound,
            )
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
                changes[key] = _rules.parse_bytes(value, key)
        if memory_swap is not None:
            changes["memory_swap"] = _rules.parse_bytes(
                memory_swap, "memory_swap", allow_unlimited=True
            )
        if cpus is not None:
            changes["nano_cpus"] = _rules.cpus(cpus)
        if cpu_shares is not None:
            changes["cpu_shares"] = _rules.integer(cpu_shares, "cpu_shares", minimum=2)
        if cpuset_cpus is not None:
            changes["cpuset_cpus"] = _rules.text(cpuset_cpus, "cpuset_cpus")
        if pids_limit is not None:
            changes["pids_limit"] = _rules.integer(pids_limit, "pids_limit", minimum=-1)
        if restart_policy is not None:
            changes["restart_policy"] = _restart_policy(restart_policy)
        request = attrs.evolve(base, **changes)
        if request == models.ContainerUpdateRequest():
            raise InvalidArgument("resources", None, "nothing to update")
        return await self._client._model(
            Request(
                "POST",
                self._path(container_id, "/update"),
                body=unstructure(request),
                not_found=ContainerNotFound,
            ),
            models.ContainerUpdateResponse,
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
            _rules.seconds(timeout, "timeout")
        stream: AsyncStream[bytes] = self._client._stream(
            Request(
                "POST",
                self._path(container_id, "/wait"),
                params={"condition": condition},
                not_found=ContainerNotFound,
                timeout=Timeout(inactivity=None),
            ),
            BytesDecoder(),
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
            "force": _rules.flag(force, "force"),
            "v": _rules.flag(volumes, "volumes"),
            "link": _rules.flag(link, "link") or None,
        }
        await self._client._status(
            Request("DELETE", self._path(container_id), params=params, not_found=ContainerNotFound)
        )

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """Remove every stopped container matching ``filters``.

        Args:
            filters: ``until`` (a time) and ``label`` (``{"label": {"k": "v"}}``,
                or ``label!``) filters.
        """
        return await self._client._model(
            Request(
                "POST",
                "/containers/prune",
                params={"filters": encode_filters(filters)},
                timeout=NO_LIMIT,
            ),
            models.ContainerPruneResponse,
        )

    # -- output ------------------------------------------------------------------------------

    def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: EventTime | None = None,
        until: EventTime | None = None,
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
        if not _rules.flag(stdout, "stdout") and not _rules.flag(stderr, "stderr"):
            raise InvalidArgument("stdout", stdout, "select stdout, stderr or both")
        since_text, until_text = _rules.time_window(since, until)
        params = {
            "follow": _rules.flag(follow, "follow"),
            "stdout": stdout,
            "stderr": stderr,
            "since": since_text,
            "until": until_text,
            "timestamps": _rules.flag(timestamps, "timestamps"),
            "tail": _rules.tail(tail),
            "details": _rules.flag(details, "details") or None,
        }
        if tty is not None:
            _rules.flag(tty, "tty")
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
            Request(
                "POST",
                self._path(container_id, "/attach"),
                params=params,
                not_found=ContainerNotFound,
            ),
            tty=_rules.flag(tty, "tty"),
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
        return await self._client._websocket(
            Request(
                "GET",
                self._path(container_id, "/attach/ws"),
                params=params,
                not_found=ContainerNotFound,
            )
        )

    def stats(self, container_id: str) -> AsyncStream[Stats]:
        """A stream of :class:`~aiodock.models.containers.Stats`, about one per second.

        ``cpu_percent``, ``memory_usage`` and friends give what ``docker stats`` shows.

        Args:
            container_id: the container's id or name.
        """
        stream: AsyncStream[Stats] = self._client._stream(
            Request(
                "GET",
                self._path(container_id, "/stats"),
                params={"stream": True},
                not_found=ContainerNotFound,
            ),
            JSONStreamDecoder(),
            _stats,
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
        if _rules.flag(one_shot, "one_shot"):
            await self._client._require_api("one_shot", "1.41")
        return await self._client._model(
            Request(
                "GET",
                self._path(container_id, "/stats"),
                params={"stream": False, "one-shot": one_shot or None},
                not_found=ContainerNotFound,
            ),
            models.Stats,
        )

    def export(self, container_id: str) -> AsyncStream[bytes]:
        """The container's filesystem as a tar archive, streamed in chunks.

        Args:
            container_id: the container's id or name.
        """
        stream: AsyncStream[bytes] = self._client._stream(
            Request("GET", self._path(container_id, "/export"), not_found=ContainerNotFound),
            BytesDecoder(),
        )
        return stream

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
        _rules.flag(check, "check")
        _rules.flag(remove, "remove")
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
            _rules.seconds(timeout, "timeout")
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
