"""The BuildKit build stream: session + ``POST /build?version=2`` + trace decoding.

:class:`BuildKitStream` is a :class:`~aiodock._streams.progress.BuildStream` whose
start opens the session (``POST /session``, upgraded to h2c, served by
:class:`~.session.GrpcServer`) and then sends the build request naming it.
With ``buildkit=None`` it first asks the daemon which builder it uses
(``/_ping``'s ``Builder-Version``) and, for the classic builder, behaves
exactly like the classic build stream it was created as.

Closing the stream before the build ended (a cancelled task, ``break``)
cancels the build at the daemon (``POST /build/cancel``) and closes the
session; nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import secrets as _random
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from .. import models
from .._http.request import Request
from .._streams.progress import BuildStream, error_parts
from .._streams.streaming import AsyncStream
from ..errors import BuildError, DockerError, InvalidArgument, StreamError
from .trace import BuildProgress, SolveStatus, Step, decode_trace

if TYPE_CHECKING:
    from .._client import DockerClient
    from .._registry.auth import AuthLike
    from .._streams.streaming import HijackedStream
    from ..models.progress import ProgressMessage
    from .exporter import BuildOutput
    from .filesync import SyncedDir
    from .secrets import BuildSecret
    from .session import GrpcServer

__all__ = ["BuildKitPlan", "BuildKitStream", "daemon_uses_buildkit"]

_log = logging.getLogger("aiodock.buildkit")

_TRACE = "moby.buildkit.trace"
_CANCEL_TIMEOUT = 10.0

_SECRETS = "/moby.buildkit.secrets.v1.Secrets/GetSecret"
_HEALTH = "/grpc.health.v1.Health/Check"
_DIFFCOPY = "/moby.filesync.v1.FileSync/DiffCopy"
_FILESEND = "/moby.filesync.v1.FileSend/DiffCopy"
_CREDENTIALS = "/moby.filesync.v1.Auth/Credentials"
_SSH_CHECK = "/moby.sshforward.v1.SSH/CheckAgent"
_SSH_FORWARD = "/moby.sshforward.v1.SSH/ForwardAgent"


# What each client's daemon answered, asked once per client like the API version.
_BUILDER: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


async def daemon_uses_buildkit(client: DockerClient) -> bool:
    """What the docker CLI does by default: BuildKit when ``/_ping`` says ``Builder-Version: 2``."""
    known = _BUILDER.get(client._shared)
    if known is not None:
        return known
    response = await client._send(Request("GET", "/_ping", versioned=False))
    try:
        value = response.headers.get("Builder-Version", "")
        await response.read()
    finally:
        response.release()
    _BUILDER[client._shared] = answer = value.strip() == "2"
    return answer


@attrs.define
class BuildKitPlan:
    """Everything a BuildKit build needs besides the classic request."""

    client: DockerClient
    #: ``True``: BuildKit; ``None``: ask the daemon at start.
    buildkit: bool | None
    params: dict[str, Any]
    dirs: dict[str, SyncedDir]
    secrets: dict[str, BuildSecret]
    ssh: dict[str, str]
    registry_auth: Mapping[str, AuthLike] | None
    name: str
    shared_key: str
    #: Why this build cannot fall back to the classic builder (``(parameter, value)``).
    needs_buildkit: tuple[str, object] | None = None
    #: Options BuildKit cannot take, checked when ``buildkit=None`` resolves to BuildKit.
    unsupported: tuple[tuple[str, object, str], ...] = ()
    #: Where the result goes instead of the image store (``outputs=``).
    output: BuildOutput | None = None


def shared_key(path: str) -> str:
    """A stable key for a context directory: the daemon reuses what it has of it."""
    return hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogateescape")).hexdigest()


class BuildKitStream(BuildStream):
    """A :class:`~aiodock._streams.progress.BuildStream` for BuildKit builds.

    Besides the classic stream's ``log``, ``image_id`` and ``result()``:
    :attr:`progress` (a :class:`~aiodock._buildkit.trace.BuildProgress`) holds
    the steps with their timings, cache state and logs, :attr:`last_status`
    the latest decoded trace message, and :meth:`statuses` yields each
    :class:`~aiodock._buildkit.trace.SolveStatus` as it arrives.

    Made by aiodock's namespaces; these arguments are for aiodock's own use.

    Args:
        open: a coroutine function that sends the request and returns the response.
        decoder: the incremental JSON-stream decoder of the body.
        convert: turns each decoded document into a message.
        what: how errors name the call.
        where: the daemon's address, for messages.
        context_counter: counts the build context bytes sent, if any.
        plan: what the BuildKit session will offer (``None``: set later).
    """

    __slots__ = (
        "_bk_client",
        "_build_id",
        "_ended",
        "_output",
        "_plan",
        "_server",
        "_server_task",
        "_session",
        "_teardown_task",
        "_uses_buildkit",
        "last_status",
        "progress",
    )

    def __init__(
        self,
        open: Any,
        decoder: Any,
        convert: Any = None,
        *,
        what: str = "stream",
        where: str = "",
        context_counter: Any = None,
        plan: BuildKitPlan | None = None,
    ) -> None:
        super().__init__(
            open, decoder, convert, what=what, where=where, context_counter=context_counter
        )
        self._plan = plan
        self._output = plan.output if plan is not None else None
        self._bk_client: DockerClient | None = plan.client if plan is not None else None
        self._session: HijackedStream | None = None
        self._server: GrpcServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._teardown_task: asyncio.Task[None] | None = None
        self._build_id = ""
        self._ended = False
        self._uses_buildkit: bool | None = None
        #: The steps of the build so far (see :class:`~aiodock._buildkit.trace.BuildProgress`).
        self.progress = BuildProgress()
        #: The last decoded ``moby.buildkit.trace`` message.
        self.last_status: SolveStatus | None = None

    @property
    def uses_buildkit(self) -> bool | None:
        """Whether the build went through BuildKit (``None`` before it started)."""
        return self._uses_buildkit

    @property
    def build_id(self) -> str:
        """The ``buildid`` the build was started with (for ``/build/cancel``)."""
        return self._build_id

    # -- start ---------------------------------------------------------------------

    async def _start(self) -> BuildKitStream:
        plan = self._plan
        if plan is not None and self._response is None and not self._closed:
            self._plan = None
            use = plan.buildkit
            if use is None:
                use = plan.needs_buildkit is not None or await daemon_uses_buildkit(plan.client)
            self._uses_buildkit = use
            if use:
                for parameter, value, reason in plan.unsupported:
                    raise InvalidArgument(parameter, value, reason)
                # Neither the classic tar body nor X-Registry-Config (every stored
                # credential) is sent: the daemon asks the session for what it needs.
                self._prepare = None
                body = self._body
                if body is not None:
                    self._body = None
                    await body.aclose()
                try:
                    await self._open_session(plan)
                except BaseException:
                    await self._teardown(cancel=False)
                    raise
        elif plan is not None and self._uses_buildkit is None:
            self._uses_buildkit = False
        try:
            return await super()._start()
        except BaseException:
            await self._teardown(cancel=True)
            raise

    async def _open_session(self, plan: BuildKitPlan) -> None:
        try:
            from .session import GrpcServer
        except ImportError as exc:
            raise InvalidArgument(
                "buildkit",
                plan.buildkit,
                "BuildKit builds need the 'h2' package: pip install 'aiodock[buildkit]'",
            ) from exc
        from .auth import auth_handler
        from .filesync import diffcopy_handler
        from .secrets import secrets_handler

        client = plan.client
        session_id = _random.token_hex(16)
        self._build_id = _random.token_hex(16)
        handlers: dict[str, Any] = {
            _DIFFCOPY: diffcopy_handler(plan.dirs),
            _SECRETS: secrets_handler(plan.secrets),
            _CREDENTIALS: auth_handler(plan.registry_auth),
        }
        if plan.output is not None:
            from .exporter import filesend_handler

            handlers[_FILESEND] = filesend_handler(plan.output)
        if plan.ssh:
            from .ssh import check_agent_handler, forward_agent_handler

            handlers[_SSH_CHECK] = check_agent_handler(plan.ssh)
            handlers[_SSH_FORWARD] = forward_agent_handler(plan.ssh)
        methods = [_HEALTH, *handlers]
        self._session = await client.system.session(
            session_id=session_id,
            name=plan.name,
            shared_key=plan.shared_key,
            grpc_methods=methods,
        )
        server = self._server = GrpcServer(self._session, handlers)
        self._server_task = asyncio.get_running_loop().create_task(server.serve())
        params = dict(plan.params)
        params.update(
            version="2",
            remote="client-session",
            session=session_id,
            buildid=self._build_id,
        )
        headers = {"Content-Type": "application/x-tar"}
        self._open = functools.partial(
            client._open_stream_response,
            Request("POST", "/build", params=params, data=b"", headers=headers),
        )

    # -- reading -------------------------------------------------------------------

    async def __anext__(self) -> ProgressMessage:
        while True:
            # The bookkeeping of ProgressStream.__anext__ (finished, failure), which
            # this replaces to decode the trace messages before they become models.
            try:
                raw: Any = await AsyncStream.__anext__(self)
            except StopAsyncIteration:
                self._ended = True
                if not self._closed:
                    self._finished = True
                await self._teardown(cancel=False)
                raise
            except BaseException as exc:
                if isinstance(exc, Exception):
                    self._failure = exc
                await self._teardown(cancel=not self._ended)
                raise
            if raw.__class__ is not dict:
                self._release()
                await self._teardown(cancel=True)
                failure: Exception = StreamError(
                    f"{self._what}: expected a JSON object, got {str(raw)[:200]!r}"
                )
                self._failure = failure
                raise failure
            reported = error_parts(raw)
            if reported is not None:
                self._ended = True  # the daemon ended the build
                self._release()
                await self._teardown(cancel=False)
                failure = self._failure = self._error(*reported)
                output = self._output
                if output is not None and output.error is not None:
                    # The export failed on this side: that cause, not the daemon's echo of it.
                    self._failure = output.error
                    raise output.error from failure
                raise failure
            if raw.get("id") == _TRACE:
                status = decode_trace(raw.get("aux"))
                if status is not None:
                    self._observe_status(status)
                raw = {"id": _TRACE}
            message = models.ProgressMessage.from_wire(raw)
            self._observe(message)
            return message

    def _observe_status(self, status: SolveStatus) -> None:
        progress = self.progress
        steps = progress.steps
        before = {}
        for vertex in status.vertexes:
            known = steps.get(vertex.digest)
            if known is not None:
                before[vertex.digest] = (known.started, known.cached, known.error)
        progress.update(status)
        for vertex in status.vertexes:
            step = steps[vertex.digest]
            was_started, was_cached, was_error = before.get(vertex.digest, (None, False, ""))
            if step.started is not None and was_started is None:
                self._append_log(f"#{step.number} {step.name}\n")
            if step.cached and not was_cached:
                self._append_log(f"#{step.number} CACHED\n")
            if step.error and not was_error:
                self._append_log(f"#{step.number} ERROR: {step.error}\n")
        for log in status.logs:
            number = steps[log.vertex].number if log.vertex in steps else 0
            for line in log.data.decode("utf-8", "replace").splitlines(keepends=True):
                self._append_log(f"#{number} {line}")
        self.last_status = status

    async def statuses(self) -> Any:
        """Read the build to its end, yielding each decoded trace message (typed events)."""
        async with self:
            seen = None
            async for _ in self:
                status = self.last_status
                if status is not None and status is not seen:
                    seen = status
                    yield status

    def _result(self) -> models.BuildResult:
        if self._output is not None and self.image_id is None:
            return models.BuildResult(image_id="", tags=())  # exported: no image
        return super()._result()

    def _error(self, message: str, code: int | None) -> StreamError:
        error = super()._error(message, code)
        failed = self.progress.failed
        if not failed or not isinstance(error, BuildError):
            return error
        step: Step = failed[-1]
        message = str(error.args[0]) if error.args else step.error
        return BuildError(message, log=step.log, code=error.code, step=step.name)

    # -- teardown ------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the build: a build still running is cancelled at the daemon, and the
        session, its server and connection are closed."""
        await super().aclose()
        await self._teardown(cancel=not self._ended)

    async def _teardown(self, *, cancel: bool) -> None:
        """Cancel the build at the daemon if asked, stop serving and close the session."""
        if self._session is None and self._server_task is None:
            return
        if self._teardown_task is None:
            self._teardown_task = asyncio.get_running_loop().create_task(self._do_teardown(cancel))
        # Shielded: a second cancellation must not leave the session open.
        await asyncio.shield(self._teardown_task)

    async def _do_teardown(self, cancel: bool) -> None:
        plan_client = self._bk_client
        if cancel and self._build_id and plan_client is not None:
            with contextlib.suppress(
                DockerError, OSError, asyncio.TimeoutError, aiohttp.ClientError
            ):
                await asyncio.wait_for(
                    plan_client._status(
                        Request("POST", "/build/cancel", params={"id": self._build_id})
                    ),
                    _CANCEL_TIMEOUT,
                )
        task, self._server_task = self._server_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.aclose()
        if self._server is not None and self._server.error is not None:
            _log.debug("session ended after an error: %r", type(self._server.error).__name__)


def plan_build(
    client: DockerClient,
    *,
    buildkit: bool | None,
    context: str | None,
    dockerfile: str | os.PathLike[str] | None,
    ignore_patterns: Sequence[str] | None,
    params: Mapping[str, Any],
    registry_auth: Mapping[str, AuthLike] | None,
    secrets: Mapping[str, Any] | None,
    ssh: Mapping[str, str | os.PathLike[str] | None] | None,
    remote: str | None,
    classic_only: Mapping[str, object],
    outputs: Any = None,
) -> BuildKitPlan | None:
    """Check a build's BuildKit options; ``None`` when it can only be a classic build.

    ``context`` is the context directory (``None`` for a tar or a remote).
    With ``buildkit=True`` every problem raises now; with ``None`` the
    options the classic builder cannot take (``secrets``, ``ssh``) make it
    BuildKit, and those BuildKit cannot take are checked at start.
    """
    from .exporter import normalize_outputs
    from .filesync import SyncedDir
    from .secrets import normalize_secrets

    secret_map = normalize_secrets(secrets)
    ssh_map = _normalize_ssh(ssh)
    output = normalize_outputs(outputs)
    needs: tuple[str, object] | None = None
    if secret_map:
        needs = ("secrets", "...")
    elif ssh_map:
        needs = ("ssh", sorted(ssh_map))
    elif output is not None:
        needs = ("outputs", output.type)
    strict = buildkit is True or needs is not None
    if context is None:
        if not strict:
            return None
        if remote is not None:
            raise InvalidArgument("remote", remote, "BuildKit builds here need a context directory")
        raise InvalidArgument(
            "context", "<tar>", "a BuildKit build needs a context directory, not a tar"
        )
    unsupported = tuple(
        (name, value, "not supported by BuildKit builds (use buildkit=False)")
        for name, value in classic_only.items()
        if value is not None
    )
    if strict and unsupported:
        raise InvalidArgument(*unsupported[0])
    if dockerfile is None:
        dockerfile_path = os.path.join(context, "Dockerfile")
    else:
        dockerfile_path = os.path.join(context, os.fspath(dockerfile))  # absolute stays absolute
    dockerfile_path = os.path.abspath(dockerfile_path)
    if not os.path.isfile(dockerfile_path):
        raise InvalidArgument("dockerfile", dockerfile, f"no such file: {dockerfile_path}")
    dockerfile_dir, dockerfile_name = os.path.split(dockerfile_path)
    bk_params = {
        key: value
        for key, value in params.items()
        if key not in ("rm", "forcerm", "q", "memory", "memswap", "squash", "shmsize", "ulimits")
        and not key.startswith("cpu")
    }
    bk_params["dockerfile"] = dockerfile_name
    if output is not None:
        bk_params["outputs"] = output.wire()
    dirs = {
        "context": SyncedDir(
            context, excludes=None if ignore_patterns is None else tuple(ignore_patterns)
        ),
        "dockerfile": SyncedDir(
            dockerfile_dir,
            excludes=(),
            only=(dockerfile_name, dockerfile_name + ".dockerignore"),
        ),
    }
    return BuildKitPlan(
        client=client,
        buildkit=True if strict else None,
        params=bk_params,
        dirs=dirs,
        secrets=secret_map,
        ssh=ssh_map,
        registry_auth=registry_auth,
        name=os.path.basename(context.rstrip(os.sep)) or "context",
        shared_key=shared_key(context),
        needs_buildkit=needs,
        unsupported=unsupported,
        output=output,
    )


def _normalize_ssh(ssh: Mapping[str, str | os.PathLike[str] | None] | None) -> dict[str, str]:
    if ssh is None:
        return {}
    if not isinstance(ssh, Mapping):
        raise InvalidArgument("ssh", ssh, "expected a mapping id -> agent socket path or None")
    result: dict[str, str] = {}
    for key, value in ssh.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgument("ssh", key, "an ssh id must be a non-empty string")
        if value is None:
            path = os.environ.get("SSH_AUTH_SOCK", "")
            if not path:
                raise InvalidArgument(f"ssh[{key!r}]", None, "SSH_AUTH_SOCK is not set")
        else:
            path = os.fspath(value)
        if not os.path.exists(path):
            raise InvalidArgument(f"ssh[{key!r}]", path, "no such agent socket")
        result[key] = path
    return result
