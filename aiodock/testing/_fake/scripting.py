"""How tests script ``FakeDocker``: fault rules, custom routes and the engine's behaviour."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from .._build import BuildPlan
from .._registry import FakeRegistry
from .._state.containers import Script
from .._state.values import normalize_ref
from .._wire import Answer, Handler, Route, Rule, compile_pattern
from .engine import PullPlan
from .exec_session import ExecHandler, ExecRule, ExecSession
from .server import FakeServer

__all__ = ["FakeScripting"]


F = TypeVar("F", bound=Callable[..., Any])


class FakeScripting(FakeServer):
    """How tests script :class:`FakeDocker`: faults, custom routes, programs' output,
    exec handlers, pulls, registries and builds."""

    # -- fault injection ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_glob: str,
        status: int = 500,
        message: str = "boom",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and ``{"message": ...}``.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            status: the HTTP status to answer with.
            message: the error message in the body.
            times: how many matching requests fail.
        """
        self._add_rule(Rule("fail", method, path_glob, times, status=status, message=message))

    def delay_next(self, method: str, path_glob: str, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before handling the next ``times`` matching requests.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            seconds: the delay.
            times: how many matching requests are delayed.
        """
        self._add_rule(Rule("delay", method, path_glob, times, seconds=seconds))

    def truncate_next(
        self,
        method: str,
        path_glob: str,
        after_bytes: int = 0,
        *,
        times: int = 1,
        eof: bool = False,
    ) -> None:
        """Send only the first ``after_bytes`` body bytes of the next matching answer.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            after_bytes: how many body bytes go out before the cut.
            times: how many matching answers are cut.
            eof: end the body cleanly after those bytes, so the client sees a
                well-formed response whose content stops mid-frame; by default the
                connection is dropped (the body is incomplete on the wire).
        """
        self._add_rule(Rule("truncate", method, path_glob, times, after_bytes=after_bytes, eof=eof))

    def stall_next(
        self, method: str, path_glob: str, after_bytes: int = 0, *, times: int = 1
    ) -> None:
        """Send the headers and ``after_bytes`` body bytes of the next matching answer, then stall.

        Nothing more is sent until the client gives up (or the fake closes).

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            after_bytes: how many body bytes go out before the silence.
            times: how many matching answers stall.
        """
        self._add_rule(Rule("stall", method, path_glob, times, after_bytes=after_bytes))

    def clear_faults(self) -> None:
        """Forget every pending ``*_next`` rule."""
        self._rules.clear()

    def close_keepalive(self) -> int:
        """Close every idle keep-alive connection now; returns how many were closed."""
        if self._server is None:
            return 0
        closed = 0
        for handler in self._server.connections:
            transport = handler.transport
            if transport is None or transport.is_closing() or transport in self._active:
                continue
            transport.close()
            closed += 1
        return closed

    def _add_rule(self, rule: Rule) -> None:
        if rule.times < 1:
            raise ValueError("times must be at least 1")
        rule.method = rule.method.upper()
        self._rules.append(rule)

    # -- custom routes ------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method pattern`` with ``handler`` before any built-in route.

        Args:
            method: the HTTP method.
            pattern: a path in aiohttp's syntax (``/containers/{id}/top``,
                ``/images/{name:.+}/json``), matched without the version prefix.
            handler: a coroutine function taking a :class:`FakeRequest`; it may return
                an :class:`aiohttp.web.StreamResponse`, a JSON-able value (200),
                ``None`` (204), ``bytes`` (200, octet-stream), ``(status, json_value)``,
                or ``NotImplemented`` to fall through to the built-in behaviour.
        """
        route = Route(method.upper(), pattern, compile_pattern(pattern), handler)
        self._routes.insert(0, route)

    def route(self, method: str, pattern: str) -> Callable[[F], F]:
        """Decorator form of :meth:`add_route`.

        Args:
            method: the HTTP method.
            pattern: a path in aiohttp's syntax, matched without the version prefix.
        """

        def register(handler: F) -> F:
            self.add_route(method, pattern, handler)
            return handler

        return register

    # -- scripting the engine's behaviour -----------------------------------------------

    def set_output(
        self,
        container: str,
        frames: Iterable[tuple[int, bytes]],
        exit_code: int | None = 0,
        *,
        run_for: float | None = None,
    ) -> None:
        """Script what ``container`` does when started.

        Scripted bytes are logged as given, also for a TTY container (where the
        built-in programs' ``\\n`` comes out as ``\\r\\n``, as through a terminal).

        Args:
            container: the container's id or name, or a name not created yet.
            frames: ``(stream, data)`` pairs (1 stdout, 2 stderr) written at start.
            exit_code: the code it then exits with; ``None`` keeps it running until it
                is stopped, killed or :meth:`exit_container` is called.
            run_for: seconds it runs before exiting with ``exit_code``.
        """
        script = Script([(int(s), bytes(d)) for s, d in frames], exit_code, run_for)
        found = self._find_container(container)
        if found is not None:
            found.script = script
        else:
            self._pending_scripts[container.lstrip("/")] = script

    def write_output(self, container: str, data: bytes, stream: int = 1) -> None:
        """Append output to a container's log now (followers see it at once).

        Args:
            container: the container's id or name.
            data: the bytes to append.
            stream: 1 for stdout, 2 for stderr.
        """
        self._append_output(self._container(container), stream, data)

    def exit_container(self, container: str, exit_code: int = 0) -> None:
        """Make a running container exit.

        Args:
            container: the container's id or name.
            exit_code: its exit code.
        """
        c = self._container(container)
        if not c.running:
            raise Answer(409, f"Container {c.id} is not running")
        self._cancel_proc(c)
        self._exited(c, exit_code)

    def on_exec(
        self,
        handler: ExecHandler,
        *,
        container: str | None = None,
        cmd: Sequence[str] | None = None,
    ) -> None:
        """Run ``handler`` for execs whose argv starts with ``cmd`` (in ``container``).

        Later registrations win. Without a matching handler the fake runs its small
        built-in interpreter (echo, printf, cat, true, false, exit, sleep, ``sh -c``
        of those); anything else exits 0 silently. In a TTY exec the built-in
        programs' ``\\n`` becomes ``\\r\\n`` like through a terminal; what a handler
        writes is sent as given.

        Args:
            handler: a coroutine function taking an :class:`ExecSession` and
                returning the exit code.
            container: only execs in this container (id or name); any when ``None``.
            cmd: only execs whose argv starts with these items; any when ``None``.
        """
        self._exec_rules.insert(
            0, ExecRule(handler, container, tuple(cmd) if cmd is not None else None)
        )

    def set_exec_output(
        self,
        frames: Iterable[tuple[int, bytes]],
        exit_code: int = 0,
        *,
        container: str | None = None,
        cmd: Sequence[str] | None = None,
    ) -> None:
        """Shortcut for :meth:`on_exec`: matching execs write ``frames`` and exit.

        Args:
            frames: ``(stream, data)`` pairs (1 stdout, 2 stderr).
            exit_code: the exit code of the execs.
            container: only execs in this container; any when ``None``.
            cmd: only execs whose argv starts with these items; any when ``None``.
        """
        items = [(int(s), bytes(d)) for s, d in frames]

        async def scripted(session: ExecSession) -> int:
            for stream, data in items:
                await session.write(data, stream)
            return exit_code

        self.on_exec(scripted, container=container, cmd=cmd)

    def set_stats(
        self,
        container: str,
        *,
        cpu_percent: float | None = None,
        memory_usage: int | None = None,
        pids: int | None = None,
    ) -> None:
        """Set what the stats of ``container`` report while it runs.

        A stats stream sends a sample every :attr:`stats_interval` seconds (1.0, like
        the engine); its first sample has no previous CPU figures, and once the
        container has stopped the samples are empty, as the engine's are.

        Args:
            container: the container's id or name.
            cpu_percent: CPU use in percent of one CPU (the fake has 2).
            memory_usage: memory in use, in bytes.
            pids: the number of processes.
        """
        c = self._container(container)
        if cpu_percent is not None:
            c.cpu_percent = float(cpu_percent)
        if memory_usage is not None:
            c.memory_usage = int(memory_usage)
        if pids is not None:
            c.pids = int(pids)
        self._notify()

    def set_pull(
        self,
        ref: str,
        *,
        error: str | None = None,
        status: int | None = None,
        layers: int = 2,
    ) -> None:
        """Script ``POST /images/create`` for ``ref``.

        Args:
            ref: the image reference the script applies to.
            error: fail in-band with this message after the layer progress messages
                (``{"errorDetail": ..., "error": ...}``); with ``status``, the message
                of that HTTP error.
            status: answer this HTTP error before any progress.
            layers: how many layers the progress messages describe.
        """
        self._pull_plans[normalize_ref(ref)] = PullPlan(error=error, status=status, layers=layers)

    def add_registry(
        self, host: str, *, username: str | None = None, password: str | None = None
    ) -> FakeRegistry:
        """Make ``host`` a registry that pushes reach (any other host is unreachable).

        With ``username`` a push must send those credentials (``X-Registry-Auth``);
        without any the stream ends in ``no basic auth credentials``, with wrong
        ones in ``unauthorized: authentication required``, as from a registry
        with htpasswd auth. What was pushed is in ``registry.repositories``.

        Args:
            host: ``host[:port]`` as written in image references.
            username: the login a push needs, or ``None`` for an open registry.
            password: that login's password.
        """
        registry = FakeRegistry(host, username=username, password=password)
        self.registries[host] = registry
        return registry

    def set_build(
        self,
        *,
        output: Iterable[str] = (),
        error: str | None = None,
        code: int | None = None,
        status: int | None = None,
        image_id: str | None = None,
        failing_step: int | None = None,
        log: bytes = b"",
    ) -> None:
        """Script the next ``POST /build`` (each call queues one build's outcome).

        Without a script a classic build runs the Dockerfile like the engine's
        classic builder: a ``Step n/m`` line per instruction, ``RUN`` through
        the fake's small built-in interpreter (echo, printf, true, false, exit,
        ``sh -c`` of those; other programs succeed silently), ``COPY``/``ADD``
        sources checked against the context, and the image added with the
        labels, env, cmd and entrypoint the Dockerfile sets. A BuildKit build
        (``version=2``) fetches the Dockerfile, context and secrets through the
        client's session and traces one step per instruction. Every build is
        recorded in :attr:`builds`.

        Args:
            output: extra output after the steps (classic: ``stream`` lines;
                BuildKit: the last step's log).
            error: fail with this message at ``failing_step``, else after the steps.
            code: ``errorDetail.code`` to send with ``error``.
            status: answer this HTTP status (with ``error`` as message) instead.
            image_id: the id of the image built (``sha256:`` + 64 hex digits).
            failing_step: index (0-based) of the Dockerfile instruction that
                fails with ``error``; ``None``: the build fails after its steps.
            log: the output of the failing step (of the last step when none fails).

        Raises:
            ValueError: ``image_id`` is not ``sha256:`` and 64 hex digits, or
                ``failing_step`` is negative or given without ``error``.
        """
        if image_id is not None and not (image_id.startswith("sha256:") and len(image_id) == 71):
            raise ValueError(f"image_id must be 'sha256:' and 64 hex digits, not {image_id!r}")
        if failing_step is not None and (failing_step < 0 or error is None):
            raise ValueError(
                f"failing_step must be at least 0 and come with an error, not {failing_step!r}"
            )
        self._build_plans.append(
            BuildPlan(
                list(output),
                error=error,
                code=code,
                status=status,
                image_id=image_id,
                failing_step=failing_step,
                log=bytes(log),
            )
        )
