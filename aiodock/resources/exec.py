"""The ``exec`` namespace: run extra processes in running containers.

The four Engine operations (``create``, ``start``, ``resize``, ``inspect``)
plus conveniences that keep the exit code, which the daemon only reports
through a separate inspect once the process is gone:

* :meth:`Exec.run` runs a command to the end and returns an
  :class:`~aiodock.models.containers.ExecResult` (exit code, stdout, stderr).
* :meth:`Exec.spawn` starts one and returns an :class:`ExecProcess` to stream
  its output and stdin, then ``await process.wait()`` for the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .. import _rules, models
from .._convert import unstructure
from .._http.request import Request, quote_path
from .._streams.frames import Frame
from .._streams.streaming import HijackedStream, Output
from ..errors import (
    ContainerNotFound,
    DockerConnectionError,
    DockerTimeoutError,
    InvalidArgument,
)
from ._base import Resource, within

if TYPE_CHECKING:
    # At run time the calls reach their models through aiodock.models, which
    # builds each class on first use.
    from ..models import ExecInspectResponse, ExecResult, IDResponse

__all__ = ["Exec", "ExecProcess"]

_POLL_DELAYS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
_POLL_MAX = 0.25


def _console_size(value: Any) -> list[int]:
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise InvalidArgument("console_size", value, "expected (height, width), both > 0")
    return [int(value[0]), int(value[1])]


class ExecProcess:
    """A started exec: its output frames, its stdin and, once it exits, its exit code.

    Iterate it (or call :meth:`demux`) for output; :meth:`write` and
    :meth:`close_stdin` feed stdin when it was opened with ``stdin=True``.
    :meth:`wait` returns the exit code once the process has ended. Read the
    output before waiting: a process whose output nobody reads can block.
    Use it as ``async with`` or call :meth:`aclose`. Made by ``exec.spawn``
    and ``exec.start``; these arguments are for aiodock's own use.

    Args:
        execs: the exec namespace that made it.
        exec_id: the exec instance's id.
        container_id: the container it runs in.
        stream: the hijacked connection carrying its stdin and output.
    """

    def __init__(self, execs: Exec, exec_id: str, container_id: str, stream: HijackedStream):
        self._execs = execs
        self.id = exec_id
        self.container_id = container_id
        self.stream = stream

    @property
    def tty(self) -> bool:
        return self.stream.tty

    def __repr__(self) -> str:
        return f"<ExecProcess {self.id[:12]} in {self.container_id[:12]}>"

    async def __aenter__(self) -> ExecProcess:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> ExecProcess:
        return self

    async def __anext__(self) -> Frame:
        return await self.stream.__anext__()

    async def write(self, data: bytes) -> None:
        """Send bytes to the process's stdin.

        Args:
            data: the bytes to write.
        """
        await self.stream.write(data)

    async def close_stdin(self) -> None:
        """Half-close: the process reads end-of-file on stdin; output keeps flowing."""
        await self.stream.close_stdin()

    async def demux(self) -> Output:
        """Read all remaining output, stdout and stderr apart (``bytearray``, held once)."""
        return await self.stream.demux()

    async def wait(self, *, timeout: float | None = None) -> int:
        """The exit code, once the process has ended (polls the exec's state).

        Args:
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`;
                ``None`` waits as long as it takes.
        """
        return await self._execs.exit_code(self.id, timeout=timeout)

    async def aclose(self) -> None:
        """Close the connection (the process itself keeps running if it has not ended)."""
        await self.stream.aclose()


class Exec(Resource):
    """Processes run inside running containers (``docker.exec``)."""

    __slots__ = ()

    @staticmethod
    def _path(exec_id: str, suffix: str) -> str:
        return f"/exec/{quote_path(exec_id, 'exec_id')}{suffix}"

    async def create(
        self,
        container_id: str,
        *,
        cmd: str | Sequence[str],
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        env: Mapping[str, str | None] | Sequence[str] | None = None,
        user: str | None = None,
        working_dir: str | None = None,
        privileged: bool = False,
        detach_keys: str | None = None,
        console_size: tuple[int, int] | None = None,
    ) -> IDResponse:
        """Prepare a command to run in a running container; returns the exec ``id``.

        Args:
            container_id: the container's id or name.
            cmd: the command, a list or a string split like a POSIX shell does.
            stdin: attach stdin when it starts.
            stdout: attach stdout when it starts.
            stderr: attach stderr when it starts.
            tty: allocate a pseudo-TTY (output is then one unframed stream).
            env: extra environment, ``{"K": "v"}`` or ``["K=v"]``.
            user: ``"user"``, ``"uid"``, ``"user:group"`` or ``"uid:gid"``.
            working_dir: the working directory of the command.
            privileged: run with extended privileges.
            detach_keys: override the key sequence that detaches.
            console_size: initial TTY size ``(height, width)``; needs API 1.42.
        """
        config = models.ExecConfig(
            cmd=_rules.command(cmd, "cmd"),
            attach_stdin=_rules.flag(stdin, "stdin"),
            attach_stdout=_rules.flag(stdout, "stdout"),
            attach_stderr=_rules.flag(stderr, "stderr"),
            tty=_rules.flag(tty, "tty"),
            privileged=_rules.flag(privileged, "privileged"),
            env=[] if env is None else _rules.env(env, "env"),
            user="" if user is None else _rules.text(user, "user"),
            working_dir="" if working_dir is None else _rules.text(working_dir, "working_dir"),
            detach_keys="" if detach_keys is None else _rules.detach_keys(detach_keys),
            console_size=None if console_size is None else _console_size(console_size),
        )
        if console_size is not None:
            await self._client._require_api("console_size", "1.42")
        # The flags go out even when false, as before; an empty env given stays sent.
        keep = ["cmd", "attach_stdin", "attach_stdout", "attach_stderr", "tty", "privileged"]
        body = unstructure(config, keep=keep + ([] if env is None else ["env"]))
        return await self._client._model(
            Request(
                "POST",
                f"/containers/{quote_path(container_id, 'container_id')}/exec",
                body=body,
                not_found=ContainerNotFound,
            ),
            models.IDResponse,
        )

    @overload
    async def start(
        self,
        exec_id: str,
        *,
        detach: Literal[False] = False,
        tty: bool | None = None,
        console_size: tuple[int, int] | None = None,
    ) -> HijackedStream: ...

    @overload
    async def start(
        self,
        exec_id: str,
        *,
        detach: Literal[True],
        tty: bool | None = None,
        console_size: tuple[int, int] | None = None,
    ) -> None: ...

    async def start(
        self,
        exec_id: str,
        *,
        detach: bool = False,
        tty: bool | None = None,
        console_size: tuple[int, int] | None = None,
    ) -> HijackedStream | None:
        """Start a created exec.

        Attached (the default) it returns a :class:`~aiodock.HijackedStream` for
        output and stdin; ``detach=True`` returns at once with nothing.

        Args:
            exec_id: the id :meth:`create` returned.
            detach: start it and return without attaching.
            tty: whether the exec has a TTY; it must match the exec's and is looked
                up when not given.
            console_size: initial TTY size ``(height, width)``; needs API 1.42.
        """
        _rules.flag(detach, "detach")
        size = None if console_size is None else _console_size(console_size)
        if size is not None:
            await self._client._require_api("console_size", "1.42")
        if tty is None:
            tty = await self._tty(exec_id)
        body = unstructure(
            models.ExecStartConfig(detach=detach, tty=_rules.flag(tty, "tty"), console_size=size),
            keep=("detach", "tty"),
        )
        path = self._path(exec_id, "/start")
        if detach:
            await self._client._status(Request("POST", path, body=body))
            return None
        return await self._client._hijack(Request("POST", path, body=body), tty=tty)

    async def _tty(self, exec_id: str) -> bool:
        data = await self._client._json(Request("GET", self._path(exec_id, "/json")))
        return bool(((data or {}).get("ProcessConfig") or {}).get("tty"))

    async def resize(self, exec_id: str, *, height: int, width: int) -> None:
        """Resize the TTY of an exec.

        Args:
            exec_id: the exec's id.
            height: rows.
            width: columns.
        """
        params = {
            "h": _rules.integer(height, "height", minimum=1, maximum=65535),
            "w": _rules.integer(width, "width", minimum=1, maximum=65535),
        }
        await self._client._status(Request("POST", self._path(exec_id, "/resize"), params=params))

    async def inspect(self, exec_id: str) -> ExecInspectResponse:
        """The state of an exec: ``running``, ``exit_code`` (once ended), its process.

        Args:
            exec_id: the exec's id.
        """
        return await self._client._model(
            Request("GET", self._path(exec_id, "/json")), models.ExecInspectResponse
        )

    async def exit_code(self, exec_id: str, *, timeout: float | None = None) -> int:
        """Wait until an exec has ended and return its exit code.

        The daemon reports the exit shortly after the output ends; this polls
        ``inspect`` with a short, growing delay.

        Args:
            exec_id: the exec's id.
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`.
        """
        deadline = None
        if timeout is not None:
            deadline = asyncio.get_running_loop().time() + _rules.seconds(timeout, "timeout")
        attempt = 0
        while True:
            info = await self.inspect(exec_id)
            if not info.running and info.exit_code is not None:
                return info.exit_code
            delay = _POLL_DELAYS[attempt] if attempt < len(_POLL_DELAYS) else _POLL_MAX
            attempt += 1
            if deadline is not None and asyncio.get_running_loop().time() + delay > deadline:
                raise DockerTimeoutError(f"exec {exec_id} did not end within {timeout} seconds")
            await asyncio.sleep(delay)

    async def spawn(
        self,
        container_id: str,
        cmd: str | Sequence[str],
        *,
        stdin: bool = False,
        tty: bool = False,
        env: Mapping[str, str | None] | Sequence[str] | None = None,
        user: str | None = None,
        working_dir: str | None = None,
        privileged: bool = False,
        detach_keys: str | None = None,
    ) -> ExecProcess:
        """Create and start an exec; return the running :class:`ExecProcess`.

        Read its output with ``async for`` or ``demux()``, then ``wait()`` for the
        exit code.

        Args:
            container_id: the container's id or name.
            cmd: the command, a list or a string split like a shell does.
            stdin: attach stdin, so that ``write()`` and ``close_stdin()`` work.
            tty: allocate a pseudo-TTY.
            env: extra environment, ``{"K": "v"}`` or ``["K=v"]``.
            user: the user to run as.
            working_dir: the working directory of the command.
            privileged: run with extended privileges.
            detach_keys: override the key sequence that detaches.
        """
        created = await self.create(
            container_id,
            cmd=cmd,
            stdin=stdin,
            tty=tty,
            env=env,
            user=user,
            working_dir=working_dir,
            privileged=privileged,
            detach_keys=detach_keys,
        )
        stream = await self.start(created.id, tty=tty)
        return ExecProcess(self, created.id, container_id, stream)

    async def run(
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
        """Run a command in a running container to its end.

        Returns its exit code and output (bytes, exactly as written). Output is read
        while stdin is written, so large inputs and outputs cannot deadlock.

        Args:
            container_id: the container's id or name.
            cmd: the command, a list or a string split like a shell does.
            stdin: bytes written to the process, then its stdin is closed.
            tty: allocate a pseudo-TTY (stdout and stderr then arrive together).
            env: extra environment, ``{"K": "v"}`` or ``["K=v"]``.
            user: the user to run as.
            working_dir: the working directory of the command.
            privileged: run with extended privileges.
            timeout: seconds before raising :class:`~aiodock.errors.DockerTimeoutError`
                (the process itself is not killed: the Engine cannot do that).
        """
        if stdin is not None and not isinstance(stdin, (bytes, bytearray, memoryview)):
            raise InvalidArgument("stdin", stdin, "expected bytes")
        if timeout is not None:
            _rules.seconds(timeout, "timeout")

        async def go() -> ExecResult:
            process = await self.spawn(
                container_id,
                cmd,
                stdin=stdin is not None,
                tty=tty,
                env=env,
                user=user,
                working_dir=working_dir,
                privileged=privileged,
            )
            async with process:

                async def feed() -> None:
                    if stdin is None:
                        return
                    # The process may exit without reading everything: not an error.
                    with contextlib.suppress(DockerConnectionError):
                        await process.write(bytes(stdin))
                        await process.close_stdin()

                _, output = await asyncio.gather(feed(), process.demux())
            code = await process.wait()
            return models.ExecResult(exit_code=code, stdout=output.stdout, stderr=output.stderr)

        return await within(timeout, go(), f"exec {cmd!r} in container {container_id} did not end")
