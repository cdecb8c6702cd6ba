"""The engine behind ``FakeDocker``: stored objects and their life, without the HTTP side."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._build import BuildPlan, BuildRecord
from .._files import FileTree
from .._programs import Forever, run_argv
from .._registry import DEFAULT_REGISTRY, FakeRegistry
from .._state.containers import Endpoint, FakeContainer, LogEntry, Script, name_in_use
from .._state.execs import FakeExec
from .._state.images import FakeImage
from .._state.networks import FakeNetwork
from .._state.values import check_name, new_id, normalize_ref, now_ns, repo_of, signal_name
from .._state.volumes import FakeVolume
from .._wire import Answer
from .exec_session import ExecHandler, ExecRule, ExecSession

if TYPE_CHECKING:
    from .docker import FakeDocker

__all__ = ["FakeEngine", "PullPlan"]


_EVENT_HISTORY = 1024


@attrs.define
class PullPlan:
    """How ``POST /images/create`` behaves for one reference (see :meth:`FakeDocker.set_pull`)."""

    error: str | None = None
    status: int | None = None
    layers: int = 2


class FakeEngine:
    """The engine behind :class:`FakeDocker`: the objects it stores and their life
    (containers run their programs, execs run, events go out), without the HTTP side."""

    def __init__(self) -> None:
        #: Stored objects, keyed by id (volumes by name).
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, FakeImage] = {}
        self.networks: dict[str, FakeNetwork] = {}
        self.volumes: dict[str, FakeVolume] = {}
        self.execs: dict[str, FakeExec] = {}
        self._files: dict[str, FileTree] = {}
        #: Registries a push can reach, by host; Docker Hub (no login needed) to start with.
        self.registries: dict[str, FakeRegistry] = {
            DEFAULT_REGISTRY: FakeRegistry(DEFAULT_REGISTRY)
        }
        #: Every ``POST /build`` received, classic or BuildKit (see :class:`BuildRecord`).
        self.builds: list[BuildRecord] = []
        self._build_plans: list[BuildPlan] = []
        #: Build cache records (``GET /system/df`` ``BuildCache`` shapes), added by builds.
        self.build_cache: list[dict[str, Any]] = []
        #: Events emitted so far (the most recent ones).
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=_EVENT_HISTORY)

        #: Seconds between two samples of a ``GET /containers/{id}/stats`` stream.
        self.stats_interval = 1.0

        self._change: asyncio.Future[None] | None = None
        self._closed = False
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._pending_scripts: dict[str, Script] = {}
        self._exec_rules: list[ExecRule] = []
        self._pull_plans: dict[str, PullPlan] = {}
        #: Sent as ``/_ping``'s ``Builder-Version`` when set (``"2"``: BuildKit by default).
        self.builder_version: str | None = None
        self._build_sessions: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._procs: dict[str, asyncio.Task[None]] = {}
        self._stdin: dict[str, asyncio.Queue[bytes]] = {}
        self._pids = itertools.count(4242)
        self._last_event_ns = 0

        for network in ("bridge", "host", "none"):
            driver = {"none": "null"}.get(network, network)
            net = FakeNetwork(id=new_id(), name=network, driver=driver, builtin=True)
            if network == "bridge":
                net.ipam["Config"] = [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
                net.options = {"com.docker.network.bridge.default_bridge": "true"}
            self.networks[net.id] = net

    # -- events -----------------------------------------------------------------------

    def emit_event(
        self,
        type: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str] | None = None,
        *,
        scope: str = "local",
    ) -> dict[str, Any]:
        """Record an event and push it to every connected ``GET /events`` stream.

        Args:
            type: the object kind (``"container"``, ``"image"``, ``"network"``...).
            action: what happened (``"start"``, ``"die"``...).
            actor_id: the object's id.
            attributes: the actor's attributes (for containers: ``name``, ``image``,
                labels).
            scope: ``"local"`` or ``"swarm"``.
        """
        stamp = max(now_ns(), self._last_event_ns + 1)
        self._last_event_ns = stamp
        attrs_ = dict(attributes or {})
        event: dict[str, Any] = {}
        if type in ("container", "image"):
            event["status"] = action
            if actor_id:
                event["id"] = actor_id
            if type == "container" and "image" in attrs_:
                event["from"] = attrs_["image"]
        event.update(
            {
                "Type": type,
                "Action": action,
                "Actor": {"ID": actor_id, "Attributes": attrs_},
                "scope": scope,
                "time": stamp // 1_000_000_000,
                "timeNano": stamp,
            }
        )
        self.events.append(event)
        for queue in self._listeners:
            queue.put_nowait(event)
        return event

    def _container_event(
        self, c: FakeContainer, action: str, extra: dict[str, str] | None = None
    ) -> None:
        attributes = {**c.labels, "image": c.image, "name": c.name, **(extra or {})}
        self.emit_event("container", action, c.id, attributes)

    # -- internals: waiting ---------------------------------------------------------------

    def _notify(self) -> None:
        fut, self._change = self._change, None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _wait_change(self, timeout: float | None = None) -> None:
        """Wait until the state changes (or ``timeout`` passes, or the fake closes)."""
        if self._closed:
            return
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._change), timeout)

    @property
    def closing(self) -> bool:
        return self._closed

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- internals: lookups ---------------------------------------------------------------

    def _find_container(self, ref: str) -> FakeContainer | None:
        if ref in self.containers:
            return self.containers[ref]
        name = ref.lstrip("/")
        for c in self.containers.values():
            if c.name == name:
                return c
        matches = [c for c in self.containers.values() if c.id.startswith(ref)] if ref else []
        if len(matches) > 1:
            raise Answer(400, f"multiple IDs found with provided prefix: {ref}")
        return matches[0] if matches else None

    def _container(self, ref: str) -> FakeContainer:
        found = self._find_container(ref)
        if found is None:
            raise Answer(404, f"No such container: {ref}")
        return found

    def _find_image(self, ref: str) -> FakeImage | None:
        if ref.startswith("sha256:"):
            hex_id = ref[len("sha256:") :]
        else:
            hex_id = ref
            normalized = normalize_ref(ref)
            for image in self.images.values():
                if normalized in image.tags or normalized in image.digests:
                    return image
        if hex_id and all(ch in "0123456789abcdef" for ch in hex_id):
            matches = [i for i in self.images.values() if i.id[len("sha256:") :].startswith(hex_id)]
            if len(matches) == 1:
                return matches[0]
        return None

    def _find_network(self, ref: str) -> FakeNetwork | None:
        if ref in self.networks:
            return self.networks[ref]
        by_name = [n for n in self.networks.values() if n.name == ref]
        if len(by_name) > 1:
            raise Answer(
                400, f"network {ref} is ambiguous ({len(by_name)} matches found based on name)"
            )
        if by_name:
            return by_name[0]
        by_prefix = [n for n in self.networks.values() if n.id.startswith(ref)]
        return by_prefix[0] if len(by_prefix) == 1 else None

    def _network(self, ref: str) -> FakeNetwork:
        found = self._find_network(ref)
        if found is None:
            raise Answer(404, f"network {ref} not found")
        return found

    def _bridge_id(self) -> str:
        net = self._find_network("bridge")
        return net.id if net is not None else ""

    # -- internals: container life ---------------------------------------------------------

    def create_container(self, body: dict[str, Any], name: str | None) -> FakeContainer:
        """Create a container from a ``POST /containers/create`` body (used by the route).

        Args:
            body: the request body, Engine JSON (``Image``, ``Cmd``, ``HostConfig``...).
            name: the container's name; a random one when ``None``.
        """
        image_ref = body.get("Image")
        if not image_ref:
            raise Answer(400, "Config cannot be empty in order to create a container")
        if name:
            name = check_name(name)
            taken = next((c for c in self.containers.values() if c.name == name), None)
            if taken is not None:
                raise name_in_use(name, taken.id)
        image = self._find_image(str(image_ref))
        if image is None:
            raise Answer(404, f"No such image: {image_ref}")
        entrypoint = body.get("Entrypoint")
        if isinstance(entrypoint, str):
            entrypoint = [entrypoint]
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if entrypoint is None:
            entrypoint = image.entrypoint
            if cmd is None:
                cmd = image.cmd
        argv = [*(entrypoint or []), *(cmd or [])]
        if not argv:
            raise Answer(400, "No command specified")
        cid = new_id()
        config: dict[str, Any] = {
            "Hostname": body.get("Hostname") or cid[:12],
            "Domainname": body.get("Domainname", ""),
            "User": body.get("User", ""),
            "AttachStdin": bool(body.get("AttachStdin", False)),
            "AttachStdout": bool(body.get("AttachStdout", False)),
            "AttachStderr": bool(body.get("AttachStderr", False)),
            "Tty": bool(body.get("Tty", False)),
            "OpenStdin": bool(body.get("OpenStdin", False)),
            "StdinOnce": bool(body.get("StdinOnce", False)),
            "Env": [*image.env, *(body.get("Env") or [])],
            "Cmd": cmd,
            "Image": str(image_ref),
            "Volumes": body.get("Volumes"),
            "WorkingDir": body.get("WorkingDir", image.working_dir),
            "Entrypoint": entrypoint,
            "OnBuild": None,
            "Labels": {**(image.labels or {}), **(body.get("Labels") or {})},
        }
        for key in ("ExposedPorts", "StopSignal", "StopTimeout", "Healthcheck"):
            if key in body:
                config[key] = body[key]
        host_config = dict(body.get("HostConfig") or {})
        endpoints = self._initial_endpoints(host_config, body.get("NetworkingConfig"))
        c = FakeContainer(
            id=cid,
            name=name or f"fake_{cid[:8]}",
            created_ns=now_ns(),
            image=str(image_ref),
            image_id=image.id,
            config=config,
            host_config=host_config,
            path=argv[0],
            args=argv[1:],
            endpoints=endpoints,
        )
        c.script = self._pending_scripts.pop(c.name, None)
        self.containers[cid] = c
        self._container_event(c, "create")
        self._notify()
        return c

    def _initial_endpoints(
        self, host_config: dict[str, Any], networking: Any
    ) -> dict[str, Endpoint]:
        mode = str(host_config.get("NetworkMode") or "default")
        if mode.startswith("container:"):
            return {}
        name = "bridge" if mode == "default" else mode
        net = self._find_network(name)
        if net is None:
            raise Answer(404, f"network {name} not found")
        configs = (networking or {}).get("EndpointsConfig") or {}
        config = configs.get(name) or configs.get(net.name) or configs.get(net.id)
        return {net.id: Endpoint.from_config(config)}

    def _network_event(self, c: FakeContainer, net_id: str, action: str) -> None:
        net = self.networks.get(net_id)
        if net is not None:
            attributes = {"container": c.id, "name": net.name, "type": net.driver}
            self.emit_event("network", action, net.id, attributes)

    def _start_now(self, c: FakeContainer) -> asyncio.Event:
        """Mark ``c`` running and launch its program; the event is set once the
        program's first burst of output is written (or it ended)."""
        c.status = "running"
        c.started_ns = now_ns()
        c.pid = next(self._pids)
        c.exit_code = 0
        c.generation += 1
        self._stdin[c.id] = asyncio.Queue()
        for net_id, ep in c.endpoints.items():
            ep.joined = True
            self._network_event(c, net_id, "connect")
        self._container_event(c, "start")
        settled = asyncio.Event()
        self._procs[c.id] = asyncio.ensure_future(self._container_main(c, c.generation, settled))
        self._notify()
        return settled

    async def _container_main(
        self, c: FakeContainer, generation: int, settled: asyncio.Event
    ) -> None:
        async def write(stream: int, data: bytes) -> None:
            self._append_output(c, stream, _through_tty(data) if c.tty else data)

        async def read() -> bytes:
            settled.set()
            queue = self._stdin.get(c.id)
            return await queue.get() if queue is not None else b""

        async def sleep(seconds: float) -> None:
            settled.set()
            await asyncio.sleep(seconds)

        code: int | None
        try:
            script = c.script
            if script is not None:
                for stream, data in script.frames:
                    self._append_output(c, stream, data)
                if script.exit_code is None:
                    raise Forever
                if script.run_for:
                    await sleep(script.run_for)
                code = script.exit_code
            else:
                code = await run_argv(
                    c.argv,
                    write=write,
                    read=read,
                    sleep=sleep,
                    unknown_runs_forever=True,
                    stdin_open=bool(c.config.get("OpenStdin")),
                )
        except Forever:
            code = None
        finally:
            settled.set()
        if code is not None and c.generation == generation and c.running:
            self._procs.pop(c.id, None)
            self._exited(c, code)

    def _cancel_proc(self, c: FakeContainer) -> None:
        task = self._procs.pop(c.id, None)
        if task is not None and not task.done():
            task.cancel()
        queue = self._stdin.pop(c.id, None)
        if queue is not None:
            queue.put_nowait(b"")

    def _exited(self, c: FakeContainer, code: int) -> None:
        c.status = "exited"
        c.exit_code = code
        c.finished_ns = now_ns()
        c.pid = 0
        self._stdin.pop(c.id, None)
        for exec_id in c.exec_ids:
            ex = self.execs.get(exec_id)
            if ex is not None and ex.running:
                ex.running = False
                ex.exit_code = 137
        self._container_event(c, "die", {"exitCode": str(code)})
        for net_id in c.endpoints:
            self._network_event(c, net_id, "disconnect")
        self._notify()
        if c.host_config.get("AutoRemove"):
            self.remove_container(c, force=True)

    def _append_output(self, c: FakeContainer, stream: int, data: bytes) -> None:
        if stream not in (1, 2):
            raise ValueError(f"container output goes to stream 1 or 2, not {stream}")
        c.log.append(LogEntry(1 if c.tty else stream, bytes(data), now_ns()))
        self._notify()

    def kill_container(self, c: FakeContainer, signum: int, ref: str | None = None) -> None:
        """Kill a running container (used by the routes).

        Args:
            c: the container.
            signum: the signal number.
            ref: how the caller named the container, for the error message.
        """
        if not c.running:
            raise Answer(
                409, f"Cannot kill container: {ref or c.id}: Container {c.id} is not running"
            )
        self._container_event(c, "kill", {"signal": str(signum)})
        self._cancel_proc(c)
        self._exited(c, 128 + signum)

    def stop_container(self, c: FakeContainer) -> bool:
        """Stop a container; ``False`` when it was not running (the route answers 304).

        Args:
            c: the container.
        """
        if not c.running:
            return False
        self._container_event(c, "kill", {"signal": "15"})
        self._cancel_proc(c)
        self._exited(c, 143)
        self._container_event(c, "stop")
        return True

    def remove_container(self, c: FakeContainer, *, force: bool) -> None:
        """Remove a container (used by the route); a running one needs ``force``.

        Args:
            c: the container.
            force: kill it first if it is running.
        """
        if c.removed:
            return
        if c.running:
            if not force:
                raise Answer(
                    409,
                    f"You cannot remove a running container {c.id}. Stop the container "
                    "before attempting removal or force remove",
                )
            self.kill_container(c, 9)
            if c.removed:
                return
        c.removed = True
        self.containers.pop(c.id, None)
        self._files.pop(c.id, None)
        for exec_id in c.exec_ids:
            self.execs.pop(exec_id, None)
        self._container_event(c, "destroy")
        self._notify()

    # -- internals: exec ----------------------------------------------------------------------

    def _exec_handler(self, ex: FakeExec, c: FakeContainer) -> ExecHandler | None:
        for rule in self._exec_rules:
            if rule.container is not None:
                found = self._find_container(rule.container)
                if found is None or found.id != c.id:
                    continue
            if rule.cmd is not None and tuple(ex.cmd[: len(rule.cmd)]) != rule.cmd:
                continue
            return rule.handler
        return None

    async def run_exec(
        self,
        ex: FakeExec,
        c: FakeContainer,
        write: Callable[[int, bytes], Awaitable[None]],
        read: Callable[[], Awaitable[bytes]],
    ) -> int:
        """Run an exec's program to its end and record its exit code.

        Args:
            ex: the exec.
            c: the container it runs in.
            write: a coroutine function ``(stream, data)`` that sends output.
            read: a coroutine function returning the next chunk of stdin.
        """
        ex.started = True
        ex.running = True
        ex.pid = next(self._pids)
        self._container_event(c, "exec_start: " + " ".join(ex.cmd), {"execID": ex.id})

        async def out(stream: int, data: bytes) -> None:
            if ex.tty:
                stream = 1
            if (stream == 1 and not ex.attach_stdout) or (stream == 2 and not ex.attach_stderr):
                return
            await write(stream, data)

        code: int | None = None
        try:
            handler = self._exec_handler(ex, c)
            if handler is not None:
                code = await handler(ExecSession(cast("FakeDocker", self), ex, c, out, read)) or 0
            else:

                async def program_out(stream: int, data: bytes) -> None:
                    await out(stream, _through_tty(data) if ex.tty else data)

                try:
                    code = await run_argv(
                        ex.cmd,
                        write=program_out,
                        read=read,
                        sleep=asyncio.sleep,
                        unknown_runs_forever=False,
                        stdin_open=ex.attach_stdin,
                    )
                except Forever:
                    while c.running and not self._closed:
                        await self._wait_change()
                    code = 137
        finally:
            ex.running = False
            ex.exit_code = code if code is not None else 137
            self._container_event(c, "exec_die", {"execID": ex.id, "exitCode": str(ex.exit_code)})
            self._notify()
        return ex.exit_code

    # -- internals: events plumbing and answers the routes share -----------------------

    def _listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.add(queue)
        return queue

    def _unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard(queue)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def pull_plan(self, ref: str) -> PullPlan:
        """How a pull of ``ref`` behaves (see :meth:`set_pull`; the default plan otherwise).

        Args:
            ref: the image reference.
        """
        return self._pull_plans.get(normalize_ref(ref), PullPlan())

    def image_repo(self, ref: str) -> str:
        """The repository part of an image reference, normalized (``busybox:1`` -> ``busybox``).

        Args:
            ref: the image reference.
        """
        return repo_of(normalize_ref(ref))

    def signal_name(self, signum: int) -> str:
        """The engine's name of a signal number (``9`` -> ``"SIGKILL"``).

        Args:
            signum: the signal number.
        """
        return signal_name(signum)


# --- helpers ------------------------------------------------------------------------------


def _through_tty(data: bytes) -> bytes:
    """What a program's output looks like after a terminal: every ``\n`` becomes ``\r\n``."""
    return data.replace(b"\n", b"\r\n")
