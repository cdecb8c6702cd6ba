"""The built-in routes of the fake engine: HTTP in, state changes and engine-shaped JSON out."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import _build, _build_buildkit
from ._files import stat_header
from ._registry import image_push
from ._state.containers import Endpoint, FakeContainer, LogEntry
from ._state.execs import FakeExec
from ._state.filters import check_filter_keys, labels_match, parse_filters
from ._state.networks import FakeNetwork
from ._state.stats import STATS_CPUS, idle_stats, running_stats
from ._state.values import check_name, new_id, normalize_ref, now_ns, parse_signal, rfc3339
from ._state.volumes import FakeVolume
from ._wire import Abandoned, Answer, FakeRequest, empty_response, json_body, json_response

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["builtin_routes"]

Handler = Callable[[FakeRequest], Any]
MEMORY_TOTAL = 2 * 1024**3


def _fake(req: FakeRequest) -> FakeDocker:
    return req.fake  # type: ignore[no-any-return]


def _int_arg(req: FakeRequest, key: str, default: int) -> int:
    value = req.arg(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise Answer(400, f"invalid value for {key}: {value!r}") from None


def _time_arg(req: FakeRequest, key: str) -> int | None:
    """A ``since``/``until`` value in nanoseconds (unix seconds, fractions allowed)."""
    value = req.arg(key)
    if value is None or value == "":
        return None
    try:
        seconds, _, frac = value.partition(".")
        return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)
    except ValueError:
        raise Answer(400, f"invalid value for {key}: {value!r}") from None


# --- system ------------------------------------------------------------------------------


async def ping(req: FakeRequest) -> web.StreamResponse:
    builder = _fake(req).builder_version
    headers = {
        **_fake(req).common_headers(),
        **({"Builder-Version": builder} if builder else {}),
        "Cache-Control": "no-cache, no-store, must-revalidate",
        "Pragma": "no-cache",
        "Content-Type": "text/plain; charset=utf-8",
    }
    body = b"" if req.method == "HEAD" else b"OK"
    return web.Response(body=body, headers=headers)


async def version(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    details = {
        "ApiVersion": fake.api_version,
        "Arch": "amd64",
        "BuildTime": "2023-01-01T00:00:00.000000000+00:00",
        "Experimental": "true" if fake.experimental else "false",
        "GitCommit": "fake",
        "GoVersion": "go1.19.8",
        "KernelVersion": platform.release(),
        "MinAPIVersion": fake.min_api_version,
        "Os": fake.os_type,
    }
    return json_response(
        {
            "Platform": {"Name": ""},
            "Components": [{"Name": "Engine", "Version": fake.engine_version, "Details": details}],
            "Version": fake.engine_version,
            "ApiVersion": fake.api_version,
            "MinAPIVersion": fake.min_api_version,
            "GitCommit": "fake",
            "GoVersion": "go1.19.8",
            "Os": fake.os_type,
            "Arch": "amd64",
            "KernelVersion": platform.release(),
            "BuildTime": details["BuildTime"],
        }
    )


async def info(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    containers = list(fake.containers.values())
    running = sum(1 for c in containers if c.status == "running")
    paused = sum(1 for c in containers if c.status == "paused")
    return json_response(
        {
            "ID": "FAKE:AIOD:OCK0:0000:0000:0000:0000:0000:0000:0000:0000:0000",
            "Containers": len(containers),
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": len(containers) - running - paused,
            "Images": len(fake.images),
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"]],
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "null"],
                "Authorization": None,
                "Log": ["json-file", "local"],
            },
            "MemoryLimit": True,
            "SwapLimit": True,
            "KernelMemory": True,
            "KernelMemoryTCP": True,
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "CPUShares": True,
            "CPUSet": True,
            "PidsLimit": True,
            "IPv4Forwarding": True,
            "BridgeNfIptables": True,
            "BridgeNfIp6tables": True,
            "Debug": False,
            "OomKillDisable": True,
            "NFd": 20,
            "NGoroutines": 30,
            "SystemTime": rfc3339(now_ns()),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": "1",
            "NEventsListener": fake.listener_count,
            "KernelVersion": platform.release(),
            "OperatingSystem": "aiodock FakeDocker",
            "OSVersion": "",
            "OSType": fake.os_type,
            "Architecture": "x86_64",
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "AllowNondistributableArtifactsCIDRs": [],
                "AllowNondistributableArtifactsHostnames": [],
                "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                "IndexConfigs": {},
                "Mirrors": [],
            },
            "NCPU": STATS_CPUS,
            "MemTotal": MEMORY_TOTAL,
            "GenericResources": None,
            "DockerRootDir": "/var/lib/docker",
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": "fake-docker",
            "Labels": [],
            "ExperimentalBuild": fake.experimental,
            "ServerVersion": fake.engine_version,
            "Runtimes": {"runc": {"path": "runc"}},
            "DefaultRuntime": "runc",
            "Swarm": {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "LiveRestoreEnabled": False,
            "Isolation": "",
            "InitBinary": "docker-init",
            "ContainerdCommit": {"ID": "fake", "Expected": "fake"},
            "RuncCommit": {"ID": "fake", "Expected": "fake"},
            "InitCommit": {"ID": "", "Expected": ""},
            "SecurityOptions": ["name=seccomp,profile=default"],
            "Warnings": None,
        }
    )


# --- containers -------------------------------------------------------------------------


async def container_create(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    body = req.json_object()
    c = fake.create_container(body, req.arg("name"))
    return json_response({"Id": c.id, "Warnings": []}, 201)


_CONTAINER_FILTERS = ("ancestor", "exited", "id", "label", "name", "status", "network", "volume")


def _container_matches(fake: FakeDocker, c: FakeContainer, filters: dict[str, list[str]]) -> bool:
    if "label" in filters and not labels_match(c.labels, filters["label"]):
        return False
    if "id" in filters and not any(c.id.startswith(v) for v in filters["id"]):
        return False
    if "name" in filters and not any(v.lstrip("/") in c.name for v in filters["name"]):
        return False
    if "status" in filters and c.status not in filters["status"]:
        return False
    if "exited" in filters and (c.status != "exited" or str(c.exit_code) not in filters["exited"]):
        return False
    if "ancestor" in filters:
        wanted = set()
        for ref in filters["ancestor"]:
            image = fake._find_image(ref)
            if image is not None:
                wanted.add(image.id)
        if c.image_id not in wanted:
            return False
    return True


async def container_list(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, _CONTAINER_FILTERS)
    limit = _int_arg(req, "limit", -1)
    show_all = req.flag("all") or limit > 0
    items = sorted(fake.containers.values(), key=lambda c: c.created_ns, reverse=True)
    if not show_all:
        items = [c for c in items if c.running]
    items = [c for c in items if _container_matches(fake, c, filters)]
    if limit > 0:
        items = items[:limit]
    return json_response([c.summary(fake.networks) for c in items])


async def container_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    return json_response(c.inspect(fake.networks))


async def container_start(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    if c.running:
        return empty_response(304)
    settled = fake._start_now(c)
    await settled.wait()
    return empty_response(204)


async def container_stop(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    _int_arg(req, "t", 10)
    return empty_response(204 if fake.stop_container(c) else 304)


async def container_restart(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    fake.stop_container(c)
    settled = fake._start_now(c)
    await settled.wait()
    fake._container_event(c, "restart")
    return empty_response(204)


async def container_kill(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    signum = parse_signal(req.arg("signal"), 9)
    fake.kill_container(c, signum, req.params["id"])
    return empty_response(204)


async def container_pause(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    if c.status == "paused":
        raise Answer(409, f"Container {c.id} is already paused")
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    c.status = "paused"
    fake._container_event(c, "pause")
    fake._notify()
    return empty_response(204)


async def container_unpause(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    if c.status != "paused":
        raise Answer(409, f"Container {c.id} is not paused")
    c.status = "running"
    fake._container_event(c, "unpause")
    fake._notify()
    return empty_response(204)


async def container_rename(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    new_name = req.arg("name") or ""
    if not new_name:
        raise Answer(400, "Neither old nor new names may be empty")
    new_name = check_name(new_name)
    taken = next((o for o in fake.containers.values() if o.name == new_name), None)
    if taken is not None and taken is not c:
        raise Answer(
            409,
            f'Conflict. The container name "/{new_name}" is already in use by container '
            f'"{taken.id}". You have to remove (or rename) that container to be able to '
            "reuse that name.",
        )
    old = c.name
    c.name = new_name
    fake._container_event(c, "rename", {"oldName": "/" + old})
    return empty_response(204)


async def container_wait(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    condition = req.arg("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise Answer(400, f"invalid condition: {condition!r}")
    finished = c.finished_ns
    writer = await fake.open_stream(req, "application/json")

    def done() -> bool:
        if condition == "removed":
            return c.removed
        if condition == "next-exit":
            return c.finished_ns != finished and not c.running
        return not c.running

    while not done():
        if fake.closing:
            return writer.response
        await fake._wait_change()
    await writer.write(json_body({"Error": None, "StatusCode": c.exit_code}))
    return await writer.finish()


async def container_remove(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    fake.remove_container(c, force=req.flag("force"))
    return empty_response(204)


async def container_logs(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    want_out = req.flag("stdout")
    want_err = req.flag("stderr")
    if not (want_out or want_err):
        raise Answer(400, "Bad parameters: you must choose at least one stream")
    follow = req.flag("follow")
    timestamps = req.flag("timestamps")
    tail_arg = (req.arg("tail") or "all").strip()
    since = _time_arg(req, "since")
    until = _time_arg(req, "until")
    tail: int | None = None
    if tail_arg != "all":
        try:
            tail = int(tail_arg)
        except ValueError:
            tail = None
    streams = {s for s, on in ((1, want_out), (2, want_err)) if on}

    def selected(entries: list[LogEntry]) -> list[LogEntry]:
        out = [e for e in entries if e.stream in streams]
        if since is not None:
            out = [e for e in out if e.time_ns >= since]
        if until is not None:
            out = [e for e in out if e.time_ns <= until]
        return out

    def render(entry: LogEntry) -> bytes:
        data = entry.data
        if timestamps:
            data = rfc3339(entry.time_ns).encode() + b" " + data
        return fake.frame(c, entry.stream, data)

    # Engine 20.10 sends logs without a Content-Type; 1.42+ names the framing.
    content_type: str | None = None
    if req.at_least("1.42"):
        content_type = (
            "application/vnd.docker.raw-stream"
            if c.tty
            else "application/vnd.docker.multiplexed-stream"
        )
    writer = await fake.open_stream(req, content_type)
    history = selected(c.log)
    if tail is not None and tail >= 0:
        history = history[-tail:] if tail else []
    for entry in history:
        await writer.write(render(entry))
    if follow and c.running and until is None:
        cursor = len(c.log)
        generation = c.generation
        while True:
            fresh = c.log[cursor:]
            cursor = len(c.log)
            for entry in selected(fresh):
                await writer.write(render(entry))
            if cursor != len(c.log):
                continue
            if not c.running or c.generation != generation or fake.closing:
                break
            await fake._wait_change()
    return await writer.finish()


async def container_attach(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    logs = req.flag("logs")
    stream = req.flag("stream")
    want = {s for s, on in ((1, req.flag("stdout")), (2, req.flag("stderr"))) if on}
    use_stdin = req.flag("stdin") and bool(c.config.get("OpenStdin"))
    conn, out = await fake.hijack(req, tty=c.tty)
    fake._container_event(c, "attach")

    async def pump_stdin() -> None:
        while True:
            chunk = await conn.inbox.get()
            # Input sent before the start waits for the process, as in the engine's pipe.
            while c.id not in fake._stdin and not c.removed and not fake.closing:
                await fake._wait_change()
            queue = fake._stdin.get(c.id)
            c.stdin.extend(chunk)
            if queue is not None:
                queue.put_nowait(chunk)
            if not chunk:
                return

    pump = asyncio.ensure_future(pump_stdin()) if use_stdin else None
    try:
        cursor = 0 if logs else len(c.log)
        generation = c.generation
        if stream and not c.running:
            # The engine's attach hooks onto the container's output pipes: opened
            # before a start, it streams what the next run writes, then ends.
            for entry in c.log[cursor:]:
                if entry.stream in want:
                    await out.write(fake.frame(c, entry.stream, entry.data))
            cursor = len(c.log)
            while c.generation == generation and not c.removed and not fake.closing:
                await fake._wait_change()
            if c.generation == generation:
                return Abandoned()
            generation = c.generation
        while True:
            fresh = c.log[cursor:]
            cursor = len(c.log)
            for entry in fresh:
                if entry.stream in want:
                    await out.write(fake.frame(c, entry.stream, entry.data))
            if cursor != len(c.log):
                continue
            if not stream or not c.running or c.generation != generation or fake.closing:
                break
            await fake._wait_change()
    except (ConnectionError, OSError):
        pass
    finally:
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(BaseException):
                await pump
        fake.release(conn)
    return Abandoned()


def _running(fake: FakeDocker, ref: str) -> FakeContainer:
    c = fake._container(ref)
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    return c


async def container_top(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = _running(fake, req.params["id"])
    start = datetime.fromtimestamp(c.started_ns / 1e9, timezone.utc).strftime("%H:%M")
    rows = [["root", str(c.pid), str(c.pid - 21), "0", start, "?", "00:00:00", " ".join(c.argv)]]
    for exec_id in c.exec_ids:
        ex = fake.execs.get(exec_id)
        if ex is not None and ex.running:
            cmd = " ".join(ex.cmd)
            rows.append(["root", str(ex.pid), str(c.pid - 21), "0", start, "?", "00:00:00", cmd])
    return json_response(
        {"Processes": rows, "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]}
    )


async def container_resize(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    _int_arg(req, "h", 0)
    _int_arg(req, "w", 0)
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    return web.Response(status=200, content_type="text/plain")


async def container_stats(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    stream = req.flag("stream", True)
    one_shot = req.flag("one-shot")
    if one_shot and stream:
        raise Answer(400, "cannot have stream=true and one-shot=true")
    interval = max(fake.stats_interval, 0.001)
    step = int(interval * 1e9)
    if not stream:
        if not c.running:
            return json_response(idle_stats(c))
        at = now_ns()
        return json_response(running_stats(c, at, None if one_shot else at - step, MEMORY_TOTAL))
    writer = await fake.open_stream(req, "application/json")
    previous: int | None = None
    generation = -1
    while not fake.closing and not c.removed:
        if c.running:
            if c.generation != generation:
                generation, previous = c.generation, None
            at = now_ns()
            await writer.write(json_body(running_stats(c, at, previous, MEMORY_TOTAL)))
            previous = at
        elif generation >= 0:
            # Once a followed container has stopped, the engine sends empty samples.
            await writer.write(json_body(idle_stats(c)))
        if c.running or generation >= 0:
            await fake._sleep(interval)
        else:
            await fake._wait_change()
    if fake.closing:
        return writer.response
    return await writer.finish()


# --- archives ------------------------------------------------------------------------------


def _archive_path(req: FakeRequest) -> str:
    path = req.arg("path") or ""
    if not path:
        # Sic: the engine's message has no space there.
        raise Answer(400, "bad parameter: pathcannot be empty")
    return path


async def archive_get(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    path = _archive_path(req)
    tree = fake.files(c.id)
    headers = fake.common_headers()
    if req.method == "HEAD":
        headers["X-Docker-Container-Path-Stat"] = stat_header(tree.stat(path, c.id))
        return web.Response(status=200, headers=headers)
    body, stat = tree.archive(path, c.id)
    headers["X-Docker-Container-Path-Stat"] = stat_header(stat)
    headers["Content-Type"] = "application/x-tar"
    fake._container_event(c, "archive-path")
    return web.Response(status=200, body=body, headers=headers)


async def archive_put(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    path = _archive_path(req)
    fake.files(c.id).extract(
        path, req.body, c.id, no_overwrite_dir_non_dir=req.flag("noOverwriteDirNonDir")
    )
    fake._container_event(c, "extract-to-dir")
    return web.Response(status=200)


# --- exec --------------------------------------------------------------------------------


async def exec_create(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    c = fake._container(req.params["id"])
    body = req.json_object()
    if c.status == "paused":
        raise Answer(409, f"Container {c.id} is paused, unpause the container before exec")
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd:
        raise Answer(400, "No exec command specified")
    ex = FakeExec(
        id=new_id(),
        container_id=c.id,
        cmd=[str(a) for a in cmd],
        tty=bool(body.get("Tty", False)),
        attach_stdin=bool(body.get("AttachStdin", False)),
        attach_stdout=bool(body.get("AttachStdout", False)),
        attach_stderr=bool(body.get("AttachStderr", False)),
        user=str(body.get("User") or ""),
        privileged=bool(body.get("Privileged", False)),
        env=body.get("Env"),
        working_dir=str(body.get("WorkingDir") or ""),
    )
    fake.execs[ex.id] = ex
    c.exec_ids.append(ex.id)
    fake._container_event(c, "exec_create: " + " ".join(ex.cmd), {"execID": ex.id})
    return json_response({"Id": ex.id}, 201)


def _exec(fake: FakeDocker, exec_id: str) -> FakeExec:
    ex = fake.execs.get(exec_id)
    if ex is None:
        raise Answer(404, f"No such exec instance: {exec_id}")
    return ex


async def exec_inspect(req: FakeRequest) -> web.StreamResponse:
    return json_response(_exec(_fake(req), req.params["id"]).inspect())


async def exec_resize(req: FakeRequest) -> web.StreamResponse:
    _exec(_fake(req), req.params["id"])
    return web.Response(status=200)


async def exec_start(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    ex = _exec(fake, req.params["id"])
    body = req.json_object()
    c = fake.containers.get(ex.container_id)
    if c is None or not c.running:
        raise Answer(409, f"Container {ex.container_id} is not running")
    if ex.running:
        raise Answer(409, f"Exec command {ex.id} is already running")
    if body.get("Tty") is not None:
        ex.tty = bool(body.get("Tty"))

    async def no_stdin() -> bytes:
        return b""

    if body.get("Detach"):
        if ex.started:
            raise Answer(409, f"Exec command {ex.id} has already run")

        async def discard(stream: int, data: bytes) -> None:
            return None

        fake._spawn(fake.run_exec(ex, c, discard, no_stdin))
        return web.Response(status=200)

    conn, out = await fake.hijack(req, tty=ex.tty)
    try:
        if ex.started:
            # Engine 20.10 reports this inside the stream, as stdout text.
            text = f"Error: Exec command {ex.id} has already run\r\n".encode()
            await out.write(fake.frame(ex, 1, text))
            return Abandoned()

        async def write(stream: int, data: bytes) -> None:
            await out.write(fake.frame(ex, stream, data))

        async def read() -> bytes:
            if not ex.attach_stdin:
                return b""
            chunk = await conn.inbox.get()
            ex.stdin.extend(chunk)
            return chunk

        await fake.run_exec(ex, c, write, read)
    except (ConnectionError, OSError):
        pass
    finally:
        fake.release(conn)
    return Abandoned()


# --- images ----------------------------------------------------------------------------


async def image_list(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("before", "dangling", "label", "reference", "since"))
    out = []
    for image in sorted(fake.images.values(), key=lambda i: i.created, reverse=True):
        if "label" in filters and not labels_match(image.labels, filters["label"]):
            continue
        if "dangling" in filters:
            dangling = not image.tags
            if str(dangling).lower() not in [v.lower() for v in filters["dangling"]]:
                continue
        if "reference" in filters:
            patterns = filters["reference"]
            candidates = [*image.tags, *(t.rsplit(":", 1)[0] for t in image.tags)]
            if not any(fnmatch.fnmatchcase(n, p) for n in candidates for p in patterns):
                continue
        doc = _image_shape(req, image.summary())
        if req.at_least("1.42") and req.flag("shared-size"):
            # The fake's images share no layers, so nothing is shared.
            doc["SharedSize"] = 0
        out.append(doc)
    return json_response(out)


def _image_shape(req: FakeRequest, doc: dict[str, Any]) -> dict[str, Any]:
    """Drop the image fields the request's API version no longer has."""
    if req.at_least("1.44"):
        doc.pop("VirtualSize", None)
    if req.at_least("1.45"):
        doc.pop("Container", None)
        doc.pop("ContainerConfig", None)
    if req.at_least("1.52"):
        doc.pop("DockerVersion", None)
        doc.pop("Parent", None)
    return doc


async def image_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    name = req.params["name"]
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"no such image: {name}: No such image: {name}")
    return json_response(_image_shape(req, image.inspect()))


async def image_tag(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    name = req.params["name"]
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"No such image: {name}")
    repo = req.arg("repo") or ""
    if not repo:
        raise Answer(400, "repository name must have at least one component")
    tag = req.arg("tag") or "latest"
    ref = normalize_ref(f"{repo}:{tag}")
    for other in fake.images.values():
        if ref in other.tags and other is not image:
            other.tags.remove(ref)
    if ref not in image.tags:
        image.tags.append(ref)
    fake.emit_event("image", "tag", image.id, {"name": ref})
    return web.Response(status=201)


async def image_remove(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    name = req.params["name"]
    force = req.flag("force")
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"No such image: {name}")
    normalized = normalize_ref(name)
    by_tag = normalized in image.tags
    if by_tag and len(image.tags) > 1:
        image.tags.remove(normalized)
        fake.emit_event("image", "untag", image.id, {"name": normalized})
        return json_response([{"Untagged": normalized}])
    users = [c for c in fake.containers.values() if c.image_id == image.id]
    if users and not force:
        user = users[0]
        if by_tag:
            message = (
                f'conflict: unable to remove repository reference "{name}" (must force) - '
                f"container {user.id[:12]} is using its referenced image {image.short_id}"
            )
        else:
            state = "running" if user.running else "stopped"
            message = (
                f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                f"being used by {state} container {user.id[:12]}"
            )
        raise Answer(409, message)
    if not by_tag and len(image.tags) > 1 and not force:
        raise Answer(
            409,
            f"conflict: unable to delete {image.short_id} (must be forced) - image is "
            "referenced in multiple repositories",
        )
    result: list[dict[str, str]] = []
    for tag in image.tags:
        result.append({"Untagged": tag})
        fake.emit_event("image", "untag", image.id, {"name": tag})
    result.append({"Deleted": image.id})
    del fake.images[image.id]
    fake.emit_event("image", "delete", image.id, {"name": image.id})
    return json_response(result)


def _progress_bar(current: int, total: int) -> str:
    width = 50
    done = width * current // total if total else width
    arrow = "=" * max(done - 1, 0) + (">" if done < width else "=")
    return f"[{arrow}{' ' * (width - len(arrow))}] {current}B/{total}B"


async def image_pull(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    from_image = req.arg("fromImage")
    if not from_image:
        if req.arg("fromSrc"):
            raise Answer(501, "importing images is not supported by FakeDocker")
        raise Answer(400, "fromImage is required")
    tag = req.arg("tag") or ""
    ref = from_image
    if tag:
        ref = f"{from_image}@{tag}" if tag.startswith("sha256:") else f"{from_image}:{tag}"
    ref = normalize_ref(ref)
    plan = fake.pull_plan(ref)
    repo = fake.image_repo(ref)
    if plan.status is not None:
        message = plan.error or (
            f"pull access denied for {repo}, repository does not exist or may require "
            "'docker login': denied: requested access to the resource is denied"
        )
        raise Answer(plan.status, message)
    shown_repo = repo if "/" in repo else f"library/{repo}"
    shown_tag = ref.split("@", 1)[0].rsplit(":", 1)[-1] if "@" not in ref else ref.split("@")[1]
    writer = await fake.open_stream(req, "application/json")
    await writer.write(json_body({"status": f"Pulling from {shown_repo}", "id": shown_tag}))
    existing = fake._find_image(ref)
    if existing is None or plan.error:
        for n in range(plan.layers):
            layer = hashlib.sha256(f"{ref}/{n}".encode()).hexdigest()[:12]
            total = 1024 * (n + 1)
            steps: list[dict[str, Any]] = [
                {"status": "Pulling fs layer", "progressDetail": {}, "id": layer},
                {
                    "status": "Downloading",
                    "progressDetail": {"current": total // 2, "total": total},
                    "progress": _progress_bar(total // 2, total),
                    "id": layer,
                },
                {"status": "Verifying Checksum", "progressDetail": {}, "id": layer},
                {"status": "Download complete", "progressDetail": {}, "id": layer},
                {
                    "status": "Extracting",
                    "progressDetail": {"current": total, "total": total},
                    "progress": _progress_bar(total, total),
                    "id": layer,
                },
                {"status": "Pull complete", "progressDetail": {}, "id": layer},
            ]
            if plan.error:
                steps = steps[:2]
            for step in steps:
                await writer.write(json_body(step))
    if plan.error:
        await writer.write(json_body({"errorDetail": {"message": plan.error}, "error": plan.error}))
        return await writer.finish()
    digest = "sha256:" + hashlib.sha256(f"digest:{ref}".encode()).hexdigest()
    await writer.write(json_body({"status": f"Digest: {digest}"}))
    if existing is None:
        image = fake.add_image(ref)
        image.digests.append(f"{repo}@{digest}")
        status = f"Status: Downloaded newer image for {ref}"
    else:
        status = f"Status: Image is up to date for {ref}"
    await writer.write(json_body({"status": status}))
    fake.emit_event("image", "pull", ref, {"name": repo})
    return await writer.finish()


# --- networks -----------------------------------------------------------------------------


def _network_matches(n: FakeNetwork, filters: dict[str, list[str]]) -> bool:
    if "name" in filters and not any(v in n.name for v in filters["name"]):
        return False
    if "id" in filters and not any(n.id.startswith(v) for v in filters["id"]):
        return False
    if "driver" in filters and n.driver not in filters["driver"]:
        return False
    if "label" in filters and not labels_match(n.labels, filters["label"]):
        return False
    if "type" in filters:
        kind = "builtin" if n.builtin else "custom"
        if kind not in filters["type"]:
            return False
    return not ("scope" in filters and n.scope not in filters["scope"])


async def network_list(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("dangling", "driver", "id", "label", "name", "scope", "type"))
    items = [_network_doc(fake, n) for n in fake.networks.values() if _network_matches(n, filters)]
    return json_response(items)


def _network_doc(fake: FakeDocker, net: FakeNetwork) -> dict[str, Any]:
    doc = net.inspect()
    _, address = net.addresses()
    # Only running containers have an endpoint (an address) on the network.
    doc["Containers"] = {
        c.id: {
            "Name": c.name,
            "EndpointID": "",
            "MacAddress": "",
            "IPv4Address": f"{(c.endpoints[net.id].ipam or {}).get('IPv4Address') or address}/16",
            "IPv6Address": "",
        }
        for c in fake.containers.values()
        if c.running and net.id in c.endpoints
    }
    return doc


async def network_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    return json_response(_network_doc(fake, fake._network(req.params["id"])))


def _endpoint_request(req: FakeRequest) -> tuple[FakeNetwork, dict[str, Any]]:
    fake = _fake(req)
    content_type = req.headers.get("Content-Type", "")
    if content_type and content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise Answer(400, f"Content-Type specified ({content_type}) must be 'application/json'")
    if not req.body.strip():
        raise Answer(400, "got EOF while reading request body")
    body = req.json_object()
    net = fake._network(req.params["id"])
    return net, body


_HOST_NETWORK = "container cannot be disconnected from host network or connected to host network"


async def network_connect(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    net, body = _endpoint_request(req)
    c = fake._container(str(body.get("Container") or ""))
    if net.name == "host" or c.network_mode() == "host":
        raise Answer(400, _HOST_NETWORK)
    endpoint = Endpoint.from_config(body.get("EndpointConfig"))
    if c.running:
        if net.id in c.endpoints:
            raise Answer(403, f"endpoint with name {c.name} already exists in network {net.name}")
        endpoint.joined = True
        c.endpoints[net.id] = endpoint
        fake._network_event(c, net.id, "connect")
    else:
        # A stopped container only records the wish; the start joins it.
        c.endpoints[net.id] = endpoint
    fake._notify()
    return web.Response(status=200)


async def network_disconnect(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    net, body = _endpoint_request(req)
    ref = str(body.get("Container") or "")
    c = fake._find_container(ref)
    if c is None:
        if body.get("Force"):
            raise Answer(404, f"endpoint {ref} not found")
        raise Answer(404, f"No such container: {ref}")
    if net.name == "host":
        raise Answer(400, _HOST_NETWORK)
    if net.id not in c.endpoints:
        the = "" if c.running else "the "
        raise Answer(500, f"container {c.id} is not connected to {the}network {net.name}")
    del c.endpoints[net.id]
    fake._network_event(c, net.id, "disconnect")
    fake._notify()
    return web.Response(status=200)


async def network_create(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    body = req.json_object()
    name = body.get("Name")
    if not name:
        raise Answer(400, "network name is required")
    existing = [n for n in fake.networks.values() if n.name == name]
    warning = ""
    if existing:
        if body.get("CheckDuplicate") or any(n.builtin for n in existing):
            raise Answer(409, f"network with name {name} already exists")
        warning = f"Network with name {name} (id : {existing[0].id}) already exists"
    ipam = body.get("IPAM") or {"Driver": "default", "Options": None, "Config": []}
    net = FakeNetwork(
        id=new_id(),
        name=str(name),
        driver=str(body.get("Driver") or "bridge"),
        internal=bool(body.get("Internal", False)),
        attachable=bool(body.get("Attachable", False)),
        ingress=bool(body.get("Ingress", False)),
        enable_ipv6=bool(body.get("EnableIPv6", False)),
        ipam={"Driver": "default", "Options": None, "Config": [], **ipam},
        options=dict(body.get("Options") or {}),
        labels=dict(body.get("Labels") or {}),
    )
    fake.networks[net.id] = net
    fake.emit_event("network", "create", net.id, {"name": net.name, "type": net.driver})
    return json_response({"Id": net.id, "Warning": warning}, 201)


async def network_remove(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    net = fake._network(req.params["id"])
    if net.builtin:
        raise Answer(403, f"{net.name} is a pre-defined network and cannot be removed")
    if any(c.running and net.id in c.endpoints for c in fake.containers.values()):
        raise Answer(
            403,
            f"error while removing network: network {net.name} id {net.id} has active endpoints",
        )
    for c in fake.containers.values():
        c.endpoints.pop(net.id, None)
    del fake.networks[net.id]
    fake.emit_event("network", "destroy", net.id, {"name": net.name, "type": net.driver})
    return empty_response(204)


# --- volumes ----------------------------------------------------------------------------------


def _volume_users(fake: FakeDocker, name: str) -> list[str]:
    users = []
    for c in fake.containers.values():
        binds = c.host_config.get("Binds") or []
        mounts = c.host_config.get("Mounts") or []
        if any(str(b).split(":", 1)[0] == name for b in binds) or any(
            isinstance(m, dict) and m.get("Source") == name for m in mounts
        ):
            users.append(c.id)
    return users


async def volume_list(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("dangling", "driver", "label", "name"))
    out = []
    for vol in fake.volumes.values():
        if "name" in filters and not any(v in vol.name for v in filters["name"]):
            continue
        if "driver" in filters and vol.driver not in filters["driver"]:
            continue
        if "label" in filters and not labels_match(vol.labels, filters["label"]):
            continue
        if "dangling" in filters:
            dangling = not _volume_users(fake, vol.name)
            if str(dangling).lower() not in [v.lower() for v in filters["dangling"]] and not (
                dangling and "1" in filters["dangling"]
            ):
                continue
        out.append(vol.inspect())
    return json_response({"Volumes": out, "Warnings": None})


async def volume_create(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    body = req.json_object()
    name = str(body.get("Name") or new_id())
    vol = fake.volumes.get(name)
    if vol is None:
        vol = FakeVolume(
            name=name,
            driver=str(body.get("Driver") or "local"),
            labels=body.get("Labels"),
            options=body.get("DriverOpts"),
        )
        fake.volumes[name] = vol
        fake.emit_event("volume", "create", name, {"driver": vol.driver})
    return json_response(vol.inspect(), 201)


def _volume(fake: FakeDocker, name: str) -> FakeVolume:
    vol = fake.volumes.get(name)
    if vol is None:
        raise Answer(404, f"get {name}: no such volume")
    return vol


async def volume_inspect(req: FakeRequest) -> web.StreamResponse:
    return json_response(_volume(_fake(req), req.params["name"]).inspect())


async def volume_remove(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    name = req.params["name"]
    vol = fake.volumes.get(name)
    if vol is None:
        if req.flag("force"):
            return empty_response(204)
        raise Answer(404, f"get {name}: no such volume")
    users = _volume_users(fake, name)
    if users:
        raise Answer(409, f"remove {name}: volume is in use - [{', '.join(users)}]")
    del fake.volumes[name]
    fake.emit_event("volume", "destroy", name, {"driver": vol.driver})
    return empty_response(204)


# --- events ----------------------------------------------------------------------------------

_EVENT_FILTERS = (
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
)


def _event_matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    kind = event.get("Type", "")
    action = str(event.get("Action", ""))
    actor = event.get("Actor") or {}
    actor_id = str(actor.get("ID", ""))
    attributes: dict[str, str] = actor.get("Attributes") or {}
    if "type" in filters and kind not in filters["type"]:
        return False
    if "event" in filters and not any(
        action == v or action.split(":", 1)[0] == v for v in filters["event"]
    ):
        return False
    if "scope" in filters and event.get("scope") not in filters["scope"]:
        return False
    if "label" in filters and not labels_match(attributes, filters["label"]):
        return False
    for key in ("container", "network", "volume"):
        if key in filters:
            if kind != key:
                return False
            name = attributes.get("name", "")
            if not any(actor_id.startswith(v) or name == v for v in filters[key]):
                return False
    if "image" in filters:
        wanted = set(filters["image"]) | {normalize_ref(v) for v in filters["image"]}
        if kind == "container":
            candidates = {attributes.get("image", "")}
        else:
            candidates = {actor_id, attributes.get("name", "")}
        candidates |= {normalize_ref(x) for x in candidates if x}
        if not candidates & wanted:
            return False
    return True


async def events(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, _EVENT_FILTERS)
    since = _time_arg(req, "since")
    until = _time_arg(req, "until")
    queue = fake._listen()
    history = list(fake.events)
    try:
        content_type = "application/jsonl" if req.at_least("1.52") else "application/json"
        # API 1.52 dropped the legacy top-level status, id and from.
        legacy = () if not req.at_least("1.52") else ("status", "id", "from")

        def wire(event: dict[str, Any]) -> bytes:
            return json_body({k: v for k, v in event.items() if k not in legacy})

        writer = await fake.open_stream(req, content_type)
        if since is not None or until is not None:
            for event in history:
                if since is not None and event["timeNano"] < since:
                    continue
                if until is not None and event["timeNano"] > until:
                    continue
                if _event_matches(event, filters):
                    await writer.write(wire(event))
        if until is not None and until <= now_ns():
            return await writer.finish()
        closing = asyncio.ensure_future(fake._wait_closed())
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                timeout = None if until is None else max((until - now_ns()) / 1e9, 0)
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if until is not None and event["timeNano"] > until:
                    break
                if _event_matches(event, filters):
                    await writer.write(wire(event))
        finally:
            # Also when the client goes away mid-wait (the handler is cancelled).
            closing.cancel()
            if getter is not None:
                getter.cancel()
        return await writer.finish()
    finally:
        fake._unlisten(queue)


# --- prunes and disk usage ----------------------------------------------------------------------


def _until_ns(value: str) -> int:
    """A prune ``until`` filter: unix seconds, a Go duration before now, or an RFC 3339 time."""
    text = value.strip()
    try:
        return int(float(text) * 1e9)
    except ValueError:
        pass
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            try:
                return now_ns() - int(float(text[: -len(unit)]) * units[unit] * 1e9)
            except ValueError:
                break
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Answer(400, f"failed to parse value as time or duration: {value!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1e9)


def _prune_filters(req: FakeRequest, allowed: tuple[str, ...], prefix: str = "") -> Any:
    filters = parse_filters(req.arg("filters"))
    try:
        check_filter_keys(filters, allowed)
    except Answer as exc:
        raise Answer(exc.status, prefix + exc.message) from None
    until = min((_until_ns(v) for v in filters.get("until", [])), default=None)

    def keep(labels: dict[str, str] | None, created_ns: int) -> bool:
        """Whether an object passes the ``label``, ``label!`` and ``until`` filters."""
        if "label" in filters and not labels_match(labels, filters["label"]):
            return False
        if "label!" in filters and any(labels_match(labels, [item]) for item in filters["label!"]):
            return False
        return until is None or created_ns <= until

    return filters, keep


def _prune_event(fake: FakeDocker, kind: str, reclaimed: int) -> None:
    fake.emit_event(kind, "prune", "", {"reclaimed": str(reclaimed)})


async def container_prune(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for c in sorted(fake.containers.values(), key=lambda c: c.created_ns):
        if not c.running and keep(c.labels, c.created_ns):
            fake.remove_container(c, force=False)
            deleted.append(c.id)
    _prune_event(fake, "container", 0)
    return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": 0})


async def image_prune(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters, keep = _prune_filters(req, ("dangling", "label", "label!", "until"))
    dangling_only = True
    for value in filters.get("dangling", []):
        dangling_only = value.strip().lower() in ("1", "true")
    used = {c.image_id for c in fake.containers.values()}
    deleted: list[dict[str, str]] = []
    reclaimed = 0
    for image in sorted(fake.images.values(), key=lambda i: i.created):
        if image.id in used or (dangling_only and image.tags):
            continue
        if not keep(image.labels, image.created * 1_000_000_000):
            continue
        for tag in image.tags:
            deleted.append({"Untagged": tag})
            fake.emit_event("image", "untag", image.id, {"name": tag})
        for digest in image.digests:
            deleted.append({"Untagged": digest})
        deleted.append({"Deleted": image.id})
        del fake.images[image.id]
        fake.emit_event("image", "delete", image.id, {"name": image.id})
        reclaimed += image.size
    _prune_event(fake, "image", reclaimed)
    return json_response({"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed})


async def network_prune(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for net in sorted(fake.networks.values(), key=lambda n: n.created_ns):
        if net.builtin or not keep(net.labels, net.created_ns):
            continue
        if any(c.running and net.id in c.endpoints for c in fake.containers.values()):
            continue
        for c in fake.containers.values():
            c.endpoints.pop(net.id, None)
        del fake.networks[net.id]
        fake.emit_event("network", "destroy", net.id, {"name": net.name, "type": net.driver})
        deleted.append(net.name)
    _prune_event(fake, "network", 0)
    return json_response({"NetworksDeleted": deleted or None})


async def volume_prune(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for vol in sorted(fake.volumes.values(), key=lambda v: v.created_ns):
        if _volume_users(fake, vol.name) or not keep(vol.labels, vol.created_ns):
            continue
        # Engine 20.10 sends no destroy event for pruned volumes, only the prune one.
        del fake.volumes[vol.name]
        deleted.append(vol.name)
    _prune_event(fake, "volume", 0)
    return json_response({"VolumesDeleted": deleted, "SpaceReclaimed": 0})


_BUILD_CACHE_FILTERS = (
    "description",
    "id",
    "inuse",
    "parent",
    "private",
    "shared",
    "type",
    "until",
    "unused-for",
)


async def build_prune(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    filters, _ = _prune_filters(req, _BUILD_CACHE_FILTERS, "failed to prune build cache: ")
    _int_arg(req, "keep-storage", 0)
    deleted: list[str] = []
    reclaimed = 0
    kept: list[dict[str, Any]] = []
    for record in fake.build_cache:
        if record.get("InUse") or (record.get("Shared") and not req.flag("all")):
            kept.append(record)
            continue
        if "id" in filters and not any(record["ID"].startswith(v) for v in filters["id"]):
            kept.append(record)
            continue
        if "type" in filters and record.get("Type") not in filters["type"]:
            kept.append(record)
            continue
        if "description" in filters and not any(
            v in str(record.get("Description", "")) for v in filters["description"]
        ):
            kept.append(record)
            continue
        deleted.append(record["ID"])
        reclaimed += int(record.get("Size") or 0)
    fake.build_cache[:] = kept
    return json_response({"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed})


async def system_df(req: FakeRequest) -> web.StreamResponse:
    fake = _fake(req)
    users: dict[str, int] = {}
    for c in fake.containers.values():
        users[c.image_id] = users.get(c.image_id, 0) + 1
    images = []
    for image in sorted(fake.images.values(), key=lambda i: i.created, reverse=True):
        doc = _image_shape(req, image.summary())
        doc["Containers"] = users.get(image.id, 0)
        doc["SharedSize"] = image.size
        doc["RepoTags"] = image.tags or ["<none>:<none>"]
        doc["RepoDigests"] = image.digests or ["<none>@<none>"]
        images.append(doc)
    containers = []
    for c in sorted(fake.containers.values(), key=lambda c: c.created_ns, reverse=True):
        doc = c.summary(fake.networks)
        written = fake.files(c.id).written_bytes() if c.id in fake._files else 0
        if written:
            doc["SizeRw"] = written
        base = fake.images.get(c.image_id)
        doc["SizeRootFs"] = written + (base.size if base is not None else 0)
        containers.append(doc)
    volumes = []
    for vol in fake.volumes.values():
        doc = vol.inspect()
        doc["UsageData"] = {"RefCount": len(_volume_users(fake, vol.name)), "Size": 0}
        volumes.append(doc)
    return json_response(
        {
            "LayersSize": sum(i.size for i in fake.images.values()),
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": list(fake.build_cache),
            "BuilderSize": sum(int(r.get("Size") or 0) for r in fake.build_cache),
        }
    )


# --- the table --------------------------------------------------------------------------------


def builtin_routes() -> list[tuple[str, str, Handler]]:
    """``(method, pattern, handler)`` for every built-in route, most specific first."""
    return [
        ("GET", "/_ping", ping),
        ("HEAD", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
        ("GET", "/events", events),
        ("GET", "/system/df", system_df),
        ("POST", "/containers/prune", container_prune),
        ("POST", "/images/prune", image_prune),
        ("POST", "/networks/prune", network_prune),
        ("POST", "/volumes/prune", volume_prune),
        ("POST", "/build/prune", build_prune),
        ("POST", "/containers/create", container_create),
        ("GET", "/containers/json", container_list),
        ("GET", "/containers/{id}/json", container_inspect),
        ("POST", "/containers/{id}/start", container_start),
        ("POST", "/containers/{id}/stop", container_stop),
        ("POST", "/containers/{id}/restart", container_restart),
        ("POST", "/containers/{id}/kill", container_kill),
        ("POST", "/containers/{id}/pause", container_pause),
        ("POST", "/containers/{id}/unpause", container_unpause),
        ("POST", "/containers/{id}/rename", container_rename),
        ("POST", "/containers/{id}/wait", container_wait),
        ("GET", "/containers/{id}/logs", container_logs),
        ("GET", "/containers/{id}/top", container_top),
        ("GET", "/containers/{id}/stats", container_stats),
        ("POST", "/containers/{id}/resize", container_resize),
        ("POST", "/containers/{id}/attach", container_attach),
        ("POST", "/containers/{id}/exec", exec_create),
        ("GET", "/containers/{id}/archive", archive_get),
        ("HEAD", "/containers/{id}/archive", archive_get),
        ("PUT", "/containers/{id}/archive", archive_put),
        ("DELETE", "/containers/{id}", container_remove),
        ("POST", "/exec/{id}/start", exec_start),
        ("POST", "/exec/{id}/resize", exec_resize),
        ("GET", "/exec/{id}/json", exec_inspect),
        ("POST", "/build", _build.build),
        ("POST", "/build/cancel", _build.build_cancel),
        ("POST", "/session", _build_buildkit.session),
        ("GET", "/images/json", image_list),
        ("POST", "/images/create", image_pull),
        ("GET", "/images/{name:.+}/json", image_inspect),
        ("POST", "/images/{name:.+}/tag", image_tag),
        ("POST", "/images/{name:.+}/push", image_push),
        ("DELETE", "/images/{name:.+}", image_remove),
        ("GET", "/networks", network_list),
        ("POST", "/networks/create", network_create),
        ("GET", "/networks/{id}", network_inspect),
        ("DELETE", "/networks/{id}", network_remove),
        ("POST", "/networks/{id}/connect", network_connect),
        ("POST", "/networks/{id}/disconnect", network_disconnect),
        ("GET", "/volumes", volume_list),
        ("POST", "/volumes/create", volume_create),
        ("GET", "/volumes/{name}", volume_inspect),
        ("DELETE", "/volumes/{name}", volume_remove),
    ]
