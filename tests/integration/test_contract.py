"""Contract test: one list of scenarios runs against FakeDocker and the real engine.

Each scenario drives a client through a sequence of calls and records, per step,
only what must not differ between the two: status codes, error classes with the
gist of their message (and the whole message, ids and this run's names replaced
by placeholders), JSON key sets (at chosen paths), framing of output, exit codes
and event fields. Every scenario runs once per backend
(``test_scenario[<scenario>-fake|real]``, which also checks the scenario's own
expectations) and ``test_fake_matches_engine[<scenario>]`` then compares the
two recordings step by step, so the fake cannot drift from the engine
unnoticed. The few places where the fake answers a documented subset are listed
in ``FAKE_MAY_LACK`` (key sets the fake need not have) and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import attrs
import pytest

from aiodock import DockerClient
from aiodock._http.request import Request
from aiodock._streams.frames import MultiplexDecoder
from aiodock.errors import (
    APIError,
    BadRequest,
    Conflict,
    ContainerNotFound,
    Forbidden,
    ImageNotFound,
    NetworkNotFound,
    NotFound,
    VolumeNotFound,
)
from aiodock.testing import FakeDocker
from tests.integration._infra import BUSYBOX, DOCKER_HOST, TEST_LABEL

pytestmark = pytest.mark.integration

BACKENDS = ("fake", "real")
_HEX_ID = re.compile(r"\b[0-9a-f]{12,64}\b")
Observation = dict[str, Any]

# (scenario, step, path) -> keys the real engine has that the fake may leave out.
# Add an entry (with the reason) only for keys the fake cannot sensibly produce.
FAKE_MAY_LACK: dict[tuple[str, str, str], frozenset[str]] = {
    # Only an engine that is part of a swarm reports these; the fake never is, and the
    # shared engine may be in a swarm while other tests run.
    ("version-info", "info", "Swarm"): frozenset({"Cluster", "Managers", "Nodes"}),
}

# Keys each backend must have whatever the other says (the ones clients rely on).
IMPORTANT = {
    "version": {"Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "Components"},
    "info": {
        "ID",
        "Containers",
        "ContainersRunning",
        "Images",
        "ServerVersion",
        "OSType",
        "Architecture",
        "NCPU",
        "MemTotal",
        "Swarm",
        "Driver",
    },
    "container": {"Id", "Name", "State", "Config", "HostConfig", "NetworkSettings", "Image"},
    "state": {"Status", "Running", "ExitCode", "Pid", "StartedAt", "FinishedAt"},
    "summary": {"Id", "Names", "Image", "ImageID", "Command", "Created", "State", "Status"},
    "exec": {"ID", "Running", "ExitCode", "ProcessConfig", "ContainerID", "Pid"},
    "event": {"Type", "Action", "Actor", "time", "timeNano"},
}


@attrs.define
class Backend:
    """A client bound to the fake or the real engine, with per-run names and cleanup."""

    name: str
    client: DockerClient
    image: str
    run: str = attrs.Factory(lambda: uuid.uuid4().hex[:10])
    containers: list[str] = attrs.Factory(list)
    networks: list[str] = attrs.Factory(list)
    volumes: list[str] = attrs.Factory(list)

    @property
    def labels(self) -> dict[str, str]:
        return {**TEST_LABEL, "aiodock-contract": self.run}

    def unique(self, what: str) -> str:
        return f"aiodock-contract-{what}-{self.run}"

    async def create(self, cmd: list[str], **options: Any) -> str:
        created = await self.client.containers.create(
            image=self.image, cmd=cmd, labels=self.labels, **options
        )
        self.containers.append(created.id)
        return created.id

    async def cleanup(self) -> None:
        for cid in self.containers:
            with contextlib.suppress(NotFound):
                await self.client.containers.remove(cid, force=True)
        for net in self.networks:
            with contextlib.suppress(NotFound):
                await self.client.networks.remove(net)
        for vol in self.volumes:
            with contextlib.suppress(NotFound):
                await self.client.volumes.remove(vol, force=True)


class Recorder:
    """Collects one observation per named step (a step name is used once)."""

    def __init__(self, run: str) -> None:
        self.run = run
        self.steps: dict[str, Observation] = {}

    def add(self, step: str, **observed: Any) -> None:
        assert step not in self.steps, f"step {step!r} recorded twice"
        self.steps[step] = observed

    async def error(
        self,
        step: str,
        expected: type[APIError],
        status: int,
        gist: str,
        call: Awaitable[Any],
    ) -> None:
        """Run ``call``, which must raise ``expected`` with ``status`` and ``gist`` (a regex)."""
        with pytest.raises(expected) as caught:
            await call
        exc = caught.value
        assert exc.status == status, exc
        found = re.search(gist, exc.message, re.IGNORECASE)
        assert found, f"{step}: {exc.message!r} does not say {gist!r}"
        self.add(
            step,
            error=type(exc).__name__,
            status=exc.status,
            gist=self.normalize(found.group(0).lower()),
            message=self.normalize(exc.message),
        )

    def normalize(self, text: str) -> str:
        """Ids and this run's names replaced by placeholders, so runs can be compared."""
        return _HEX_ID.sub("<id>", text.replace(self.run, "<run>"))


def keys_at(doc: Any, *paths: str) -> dict[str, list[str]]:
    """The sorted key set of ``doc`` at each dotted path (``""`` is the top)."""
    out: dict[str, list[str]] = {}
    for path in paths:
        node = doc
        for part in path.split(".") if path else ():
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert isinstance(node, dict), f"{path!r} is not an object: {node!r}"
        out[path] = sorted(node)
    return out


async def raw(
    client: DockerClient, method: str, path: str, body: Any = None, **params: Any
) -> tuple[int, Any]:
    """Status and decoded JSON body, through the client's request core (errors raise)."""
    kwargs: dict[str, Any] = {"params": params or None}
    if body is not None:
        kwargs["body"] = body
    response, data = await client._read(Request(method, path, **kwargs))
    from aiodock._convert import json_loads

    return response.status, (json_loads(data) if data.strip() else None)


def frames(data: bytes) -> list[tuple[int, bytes]]:
    decoder = MultiplexDecoder(coalesce=False)
    return [(int(f.stream), f.data) for f in decoder.feed(data) + decoder.eof()]


# --- scenarios ---------------------------------------------------------------------------


async def ping(b: Backend, rec: Recorder) -> None:
    response = await b.client._send(Request("GET", "/_ping", versioned=False))
    try:
        body = await response.read()
        headers = {k.lower() for k in response.headers}
        api_version = response.headers.get("Api-Version")
        server = response.headers.get("Server", "")
    finally:
        response.release()
    assert body == b"OK"
    assert api_version == "1.41"
    assert re.match(r"Docker/\S+ \(linux\)$", server), server
    wanted = {
        "api-version",
        "cache-control",
        "content-type",
        "docker-experimental",
        "ostype",
        "pragma",
        "server",
    }
    assert wanted <= headers
    rec.add("ping", status=response.status, headers=sorted(wanted & headers), body=body.decode())
    assert await b.client.system.ping(head=True)


async def version_and_info(b: Backend, rec: Recorder) -> None:
    status, version = await raw(b.client, "GET", "/version")
    assert IMPORTANT["version"] <= set(version)
    assert version["ApiVersion"] == "1.41"
    engine = next(c for c in version["Components"] if c["Name"] == "Engine")
    rec.add("version", status=status, keys=keys_at(version, "", "Platform"))
    rec.add("version-engine", keys=keys_at(engine, "", "Details"))
    status, info = await raw(b.client, "GET", "/info")
    assert IMPORTANT["info"] <= set(info)
    rec.add(
        "info",
        status=status,
        keys=keys_at(info, "", "Plugins", "RegistryConfig", "Swarm", "Runtimes.runc"),
    )
    # The typed models read both.
    typed = await b.client.system.version()
    assert typed.api_version == "1.41"
    assert (await b.client.system.info()).os_type == "linux"


async def container_lifecycle(b: Backend, rec: Recorder) -> None:
    name = b.unique("box")
    # A long-running container for conflicts, 304s and kill.
    status, created = await raw(
        b.client,
        "POST",
        "/containers/create",
        {
            "Image": b.image,
            "Cmd": ["sh", "-c", "echo out; echo err >&2; sleep 600"],
            "Labels": b.labels,
        },
        name=name,
    )
    b.containers.append(created["Id"])
    cid = created["Id"]
    rec.add("create", status=status, keys=sorted(created))
    await rec.error(
        "create-name-conflict",
        Conflict,
        409,
        r'name "/[^"]+" is already in use',
        b.client.containers.create(image=b.image, cmd=["true"], name=name, labels=b.labels),
    )
    assert await b.client.containers.start(cid) is True
    assert await b.client.containers.start(cid) is False
    rec.add("start-twice", first=204, second=304)

    status, inspect = await raw(b.client, "GET", f"/containers/{cid}/json")
    assert IMPORTANT["container"] <= set(inspect)
    assert IMPORTANT["state"] <= set(inspect["State"])
    assert inspect["State"]["Running"] is True and inspect["Name"] == "/" + name
    rec.add(
        "inspect",
        status=status,
        state=inspect["State"]["Status"],
        keys=keys_at(
            inspect,
            "",
            "State",
            "Config",
            "HostConfig",
            "HostConfig.LogConfig",
            "HostConfig.RestartPolicy",
            "NetworkSettings",
            "NetworkSettings.Networks",
            "NetworkSettings.Networks.bridge",
            "GraphDriver",
        ),
    )
    typed = await b.client.containers.inspect(name)
    assert typed.id == cid and typed.state is not None and typed.state.running

    status, listed = await raw(
        b.client,
        "GET",
        "/containers/json",
        filters={"label": [f"aiodock-contract={b.run}"]},
    )
    assert [c["Id"] for c in listed] == [cid]
    assert IMPORTANT["summary"] <= set(listed[0])
    rec.add(
        "list-label-filter",
        status=status,
        count=len(listed),
        state=listed[0]["State"],
        status_text=re.sub(r"\d+ seconds?|Less than a second", "N", listed[0]["Status"]),
        keys=keys_at(listed[0], "", "HostConfig", "NetworkSettings"),
    )
    by_model = await b.client.containers.list(filters={"label": {"aiodock-contract": b.run}})
    assert [c.id for c in by_model] == [cid]

    # A short container: demultiplexed logs and the exit code.
    short = await b.create(["sh", "-c", "echo out; echo err >&2"])
    await b.client.containers.start(short)
    waited = await raw(b.client, "POST", f"/containers/{short}/wait")
    assert waited[1]["StatusCode"] == 0
    rec.add("wait", status=waited[0], keys=sorted(waited[1]), code=waited[1]["StatusCode"])
    output = await b.client.containers.logs(short).demux()
    assert (bytes(output.stdout), bytes(output.stderr)) == (b"out\n", b"err\n")
    response = await b.client._send(
        Request("GET", f"/containers/{short}/logs", params={"stdout": 1, "stderr": 1})
    )
    try:
        body = await response.read()
        content_type = response.headers.get("Content-Type")
    finally:
        response.release()
    # stdout and stderr are copied by separate goroutines: their order is not fixed.
    logged = sorted(frames(body))
    assert logged == [(1, b"out\n"), (2, b"err\n")]
    rec.add("logs", content_type=content_type, frames=[[s, d.decode()] for s, d in logged])
    stdout_only = await b.client.containers.logs(short, stderr=False).read()
    assert stdout_only == b"out\n"

    await rec.error(
        "remove-running",
        Conflict,
        409,
        r"cannot remove a running container",
        b.client.containers.remove(cid),
    )
    await b.client.containers.kill(cid)
    code = (await b.client.containers.wait(cid, timeout=30)).status_code
    rec.add("kill-wait", code=code)
    assert code == 137
    for step, ref in (("kill-stopped-by-id", cid), ("kill-stopped-by-name", name)):
        await rec.error(step, Conflict, 409, r"is not running", b.client.containers.kill(ref))
    assert await b.client.containers.stop(cid) is False
    await b.client.containers.remove(cid)
    await rec.error(
        "inspect-removed",
        ContainerNotFound,
        404,
        r"no such container",
        b.client.containers.inspect(cid),
    )
    await rec.error(
        "remove-removed",
        ContainerNotFound,
        404,
        r"no such container",
        b.client.containers.remove(cid),
    )


async def exec_exit_code(b: Backend, rec: Recorder) -> None:
    cid = await b.create(["sleep", "600"])
    await b.client.containers.start(cid)
    status, created = await raw(
        b.client,
        "POST",
        f"/containers/{cid}/exec",
        {
            "Cmd": ["sh", "-c", "echo hi; echo oops >&2; exit 7"],
            "AttachStdout": True,
            "AttachStderr": True,
        },
    )
    rec.add("exec-create", status=status, keys=sorted(created))
    exec_id = created["Id"]
    status, before = await raw(b.client, "GET", f"/exec/{exec_id}/json")
    assert IMPORTANT["exec"] <= set(before)
    rec.add(
        "exec-inspect-before",
        status=status,
        running=before["Running"],
        exit_code=before["ExitCode"],
        keys=keys_at(before, "", "ProcessConfig"),
    )
    stream = await b.client.exec.start(exec_id)
    output = await asyncio.wait_for(stream.demux(), 30)
    assert (bytes(output.stdout), bytes(output.stderr)) == (b"hi\n", b"oops\n")
    code = await b.client.exec.exit_code(exec_id, timeout=30)
    assert code == 7
    status, after = await raw(b.client, "GET", f"/exec/{exec_id}/json")
    rec.add(
        "exec-inspect-after",
        status=status,
        running=after["Running"],
        exit_code=after["ExitCode"],
        keys=keys_at(after, "", "ProcessConfig"),
    )
    result = await b.client.exec.run(cid, ["sh", "-c", "printf abc; exit 3"])
    rec.add("exec-run", exit_code=result.exit_code, stdout=result.stdout.decode())
    await rec.error(
        "exec-missing",
        NotFound,
        404,
        r"no such exec instance",
        b.client.exec.inspect("0" * 64),
    )
    await b.client.containers.kill(cid)
    await rec.error(
        "exec-in-stopped",
        Conflict,
        409,
        r"is not running",
        b.client.exec.create(cid, cmd=["true"]),
    )


async def tty_and_exited(b: Backend, rec: Recorder) -> None:
    cid = await b.create(["sh", "-c", "echo one; echo two >&2; exit 2"], tty=True)
    _, created = await raw(b.client, "GET", f"/containers/{cid}/json")
    rec.add(
        "created",
        state=created["State"]["Status"],
        network_id=bool(created["NetworkSettings"]["Networks"]["bridge"]["NetworkID"]),
        exit_code=created["State"]["ExitCode"],
        started=created["State"]["StartedAt"].startswith("0001-"),
    )
    await b.client.containers.start(cid)
    assert (await b.client.containers.wait(cid, timeout=30)).status_code == 2
    # A terminal turns every newline into CRLF; the stream is raw, everything on stdout.
    logs = b.client.containers.logs(cid)
    output = await logs.demux()
    assert logs.tty is True
    assert (bytes(output.stdout), bytes(output.stderr)) == (b"one\r\ntwo\r\n", b"")
    rec.add("tty-logs", stdout=output.stdout.decode(), stderr=output.stderr.decode())
    _, exited = await raw(b.client, "GET", f"/containers/{cid}/json")
    bridge = exited["NetworkSettings"]["Networks"]["bridge"]
    rec.add(
        "exited",
        state=exited["State"]["Status"],
        running=exited["State"]["Running"],
        exit_code=exited["State"]["ExitCode"],
        pid=exited["State"]["Pid"],
        network_id=bool(bridge["NetworkID"]),
        ip=bridge["IPAddress"],
        keys=keys_at(exited, "State", "NetworkSettings.Networks.bridge"),
    )

    box = await b.create(["sleep", "600"])
    await b.client.containers.start(box)
    created_exec = await b.client.exec.create(box, cmd=["sh", "-c", "echo a; echo b >&2"], tty=True)
    stream = await b.client.exec.start(created_exec.id)
    assert stream.tty
    out = await asyncio.wait_for(stream.demux(), 30)
    rec.add("tty-exec", stdout=out.stdout.decode(), stderr=out.stderr.decode())
    assert (bytes(out.stdout), bytes(out.stderr)) == (b"a\r\nb\r\n", b"")


async def stats_top_resize(b: Backend, rec: Recorder) -> None:
    idle = await b.create(["sleep", "600"])
    await rec.error(
        "top-created",
        Conflict,
        409,
        r"is not running",
        b.client.containers.top(idle),
    )
    await rec.error(
        "resize-created",
        Conflict,
        409,
        r"is not running",
        b.client.containers.resize(idle, height=24, width=80),
    )
    status, sample = await raw(b.client, "GET", f"/containers/{idle}/stats", stream=False)
    rec.add(
        "stats-created",
        status=status,
        read=sample["read"],
        keys=keys_at(sample, "", "cpu_stats", "cpu_stats.cpu_usage", "memory_stats"),
    )

    cid = await b.create(["sleep", "600"])
    await b.client.containers.start(cid)
    top = await raw(b.client, "GET", f"/containers/{cid}/top")
    rec.add(
        "top",
        status=top[0],
        keys=sorted(top[1]),
        titles=top[1]["Titles"],
        first=top[1]["Processes"][0][-1],
        columns=len(top[1]["Processes"][0]),
    )
    await b.client.containers.resize(cid, height=24, width=80)
    rec.add("resize", ok=True)

    status, once = await raw(
        b.client, "GET", f"/containers/{cid}/stats", stream=False, **{"one-shot": True}
    )
    assert once["preread"].startswith("0001-")
    rec.add(
        "stats-one-shot",
        status=status,
        keys=keys_at(
            once,
            "",
            "cpu_stats",
            "cpu_stats.cpu_usage",
            "cpu_stats.throttling_data",
            "precpu_stats",
            "precpu_stats.cpu_usage",
            "memory_stats",
            "pids_stats",
            "blkio_stats",
            "networks.eth0",
        ),
        pids=once["pids_stats"]["current"],
    )
    typed = await b.client.containers.stats_once(cid)
    assert typed.memory_usage > 0 and typed.memory_limit > 0
    assert typed.precpu_stats is not None and typed.precpu_stats.system_cpu_usage

    from aiodock._streams.frames import JSONStreamDecoder
    from aiodock._streams.streaming import AsyncStream

    samples: list[dict[str, Any]] = []
    stream: AsyncStream[dict[str, Any]] = b.client._stream(
        Request("GET", f"/containers/{cid}/stats", params={"stream": True}), JSONStreamDecoder()
    )
    async with stream:
        async for item in stream:
            samples.append(item)
            if len(samples) == 2:
                break
    first, second = samples
    rec.add(
        "stats-stream",
        first_has_precpu=bool(first["precpu_stats"].get("system_cpu_usage")),
        second_has_precpu=bool(second["precpu_stats"].get("system_cpu_usage")),
        first_preread_zero=first["preread"].startswith("0001-"),
        keys=keys_at(second, "", "precpu_stats"),
    )


async def image_missing(b: Backend, rec: Recorder) -> None:
    missing = f"aiodock-contract/missing-{b.run}:nope"
    await rec.error(
        "image-inspect-missing",
        ImageNotFound,
        404,
        r"no such image",
        b.client.images.inspect(missing),
    )
    assert not await b.client.images.exists(missing)
    await rec.error(
        "create-from-missing-image",
        ImageNotFound,
        404,
        r"no such image",
        b.client.containers.create(image=missing, cmd=["true"], labels=b.labels),
    )
    status, image = await raw(b.client, "GET", f"/images/{b.image}/json")
    rec.add(
        "image-inspect",
        status=status,
        keys=keys_at(image, "", "Config", "RootFS", "GraphDriver", "Metadata"),
    )


async def networks_and_volumes(b: Backend, rec: Recorder) -> None:
    net_name = b.unique("net")
    status, created = await raw(
        b.client, "POST", "/networks/create", {"Name": net_name, "Labels": b.labels}
    )
    b.networks.append(created["Id"])
    rec.add("network-create", status=status, keys=sorted(created))
    status, net = await raw(b.client, "GET", f"/networks/{created['Id']}")
    assert net["Name"] == net_name and net["Driver"] == "bridge"
    rec.add("network-inspect", status=status, keys=keys_at(net, "", "IPAM", "ConfigFrom"))
    listed = await b.client.networks.list(filters={"label": {"aiodock-contract": b.run}})
    assert [n.name for n in listed] == [net_name]
    await b.client.networks.remove(net_name)
    await rec.error(
        "network-inspect-removed",
        NetworkNotFound,
        404,
        r"network \S+ not found",
        b.client.networks.inspect(net_name),
    )
    await rec.error(
        "network-remove-builtin",
        APIError,
        403,
        r"pre-defined network",
        b.client.networks.remove("bridge"),
    )

    vol_name = b.unique("vol")
    status, vol = await raw(
        b.client, "POST", "/volumes/create", {"Name": vol_name, "Labels": b.labels}
    )
    b.volumes.append(vol_name)
    rec.add("volume-create", status=status, keys=sorted(vol))
    status, again = await raw(b.client, "GET", f"/volumes/{vol_name}")
    assert again["Name"] == vol_name and again["Driver"] == "local"
    rec.add("volume-inspect", status=status, keys=sorted(again))
    status, listing = await raw(b.client, "GET", "/volumes")
    rec.add("volume-list", status=status, keys=sorted(listing))
    await b.client.volumes.remove(vol_name)
    await rec.error(
        "volume-inspect-removed",
        VolumeNotFound,
        404,
        r"no such volume",
        b.client.volumes.inspect(vol_name),
    )
    await rec.error(
        "volume-remove-removed",
        VolumeNotFound,
        404,
        r"no such volume",
        b.client.volumes.remove(vol_name),
    )


async def container_events(b: Backend, rec: Recorder) -> None:
    wanted = ["create", "start", "die", "destroy"]
    filters: dict[str, Any] = {"type": "container", "label": {"aiodock-contract": b.run}}
    async with b.client.system.events(filters=filters) as events:
        cid = await b.create(["sh", "-c", "exit 5"])
        await b.client.containers.start(cid)
        await b.client.containers.wait(cid, timeout=30)
        await b.client.containers.remove(cid)
        seen: list[Any] = []

        async def read() -> None:
            async for event in events:
                seen.append(event)
                if event.action == "destroy":
                    return

        await asyncio.wait_for(read(), 30)
    raw_events = [e for e in seen if e.actor_id == cid]
    actions = [e.action for e in raw_events]
    assert actions == wanted, actions
    replay = b.client.system.events(
        filters=filters, since=time.time() - 120, until=time.time() + 0.2
    )
    replayed = [e async for e in replay]
    assert [e.action for e in replayed if e.actor_id == cid] == wanted
    # The same events as raw JSON, for their key sets.
    response, body = await b.client._read(
        Request(
            "GET",
            "/events",
            params={
                "filters": {"type": ["container"], "label": [f"aiodock-contract={b.run}"]},
                "since": f"{time.time() - 120:.3f}",
                "until": f"{time.time() + 0.2:.3f}",
            },
        )
    )
    from aiodock._convert import json_loads

    docs = [json_loads(line) for line in body.splitlines() if line.strip()]
    assert [d["Action"] for d in docs] == wanted
    for doc in docs:
        assert IMPORTANT["event"] <= set(doc)
        label = f"event-{doc['Action']}"
        rec.add(
            label,
            keys=keys_at(doc, "", "Actor"),
            attributes=sorted(doc["Actor"]["Attributes"]),
            type=doc["Type"],
            status=doc.get("status"),
            exit_code=doc["Actor"]["Attributes"].get("exitCode"),
        )
    rec.add("events-http", status=response.status)


async def run_output(b: Backend, rec: Recorder) -> None:
    # run() attaches before it starts the container: the output must come through.
    cmd = ["sh", "-c", "echo out; echo err >&2; exit 4"]
    result = await b.client.containers.run(b.image, cmd, check=False, labels=b.labels, timeout=30)
    rec.add(
        "run",
        stdout=result.stdout.decode(),
        stderr=result.stderr.decode(),
        exit_code=result.exit_code,
    )
    assert (bytes(result.stdout), bytes(result.stderr), result.exit_code) == (b"out\n", b"err\n", 4)
    fed = await b.client.containers.run(b.image, ["cat"], stdin=b"fed\n", labels=b.labels)
    rec.add("run-stdin", stdout=fed.stdout.decode(), exit_code=fed.exit_code)
    tty = await b.client.containers.run(
        b.image, ["sh", "-c", "echo a; echo b >&2"], tty=True, labels=b.labels
    )
    rec.add("run-tty", stdout=tty.stdout.decode(), stderr=tty.stderr.decode())


def _tar(*entries: tuple[str, bytes | None]) -> bytes:
    """A tar of files (bytes) and directories (None)."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o640
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _members(data: bytes) -> list[list[Any]]:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [[m.name, m.type.decode(), m.size, m.mode] for m in tar.getmembers()]


async def archives(b: Backend, rec: Recorder) -> None:
    cid = await b.create(["sleep", "600"])
    await b.client.containers.start(cid)
    where = f"/etc/{b.unique('arc')}"
    upload = _tar(
        (where[5:], None), (f"{where[5:]}/a.txt", b"alpha\n"), (f"{where[5:]}/sub/b", b"b")
    )
    await b.client.containers.put_archive(cid, path="/etc", data=upload)
    rec.add("put", ok=True)
    for step, path in (("head-dir", where), ("head-file", f"{where}/a.txt")):
        stat = await b.client.containers.head_archive(cid, path=path)
        rec.add(step, name=rec.normalize(stat.name), size=stat.size, mode=stat.mode)
    response = await b.client._send(
        Request("GET", f"/containers/{cid}/archive", params={"path": where})
    )
    try:
        body = await response.read()
        rec.add(
            "get-dir",
            status=response.status,
            content_type=response.headers.get("Content-Type"),
            has_stat="X-Docker-Container-Path-Stat" in response.headers,
            members=[[rec.normalize(m[0]), *m[1:]] for m in _members(body)],
        )
    finally:
        response.release()
    stream = b.client.containers.get_archive(cid, path=f"{where}/.")
    async with stream:
        data = b"".join([chunk async for chunk in stream])
    rec.add("get-dot", members=_members(data), stat_name=stream.stat.name)
    stream = b.client.containers.get_archive(cid, path=f"{where}/a.txt")
    async with stream:
        data = b"".join([chunk async for chunk in stream])
    rec.add("get-file", members=_members(data))

    await rec.error(
        "get-missing",
        NotFound,
        404,
        r"could not find the file|no such path",
        b.client.containers.get_archive(cid, path=f"{where}/nope"),
    )
    await rec.error(
        "get-file-as-dir",
        APIError,
        500,
        r"not a directory",
        b.client.containers.get_archive(cid, path=f"{where}/a.txt/"),
    )
    await rec.error(
        "head-missing",
        NotFound,
        404,
        r"no such path",
        b.client.containers.head_archive(cid, path=f"{where}/nope"),
    )
    await rec.error(
        "put-missing-dir",
        NotFound,
        404,
        r"could not find the file|no such path",
        b.client.containers.put_archive(cid, path=f"{where}/nope", data=upload),
    )
    await rec.error(
        "put-into-file",
        APIError,
        500,
        r"extraction point is not a directory",
        b.client.containers.put_archive(cid, path=f"{where}/a.txt", data=upload),
    )
    await rec.error(
        "put-not-tar",
        APIError,
        500,
        r"error processing tar file",
        b.client.containers.put_archive(cid, path=where, data=b"\x01" * 1024),
    )
    await rec.error(
        "get-empty-path",
        BadRequest,
        400,
        r"cannot be empty",
        b.client._read(Request("GET", f"/containers/{cid}/archive", params={"path": ""})),
    )
    await rec.error(
        "archive-no-container",
        ContainerNotFound,
        404,
        r"no such container",
        b.client.containers.head_archive(f"nope-{b.run}", path="/etc"),
    )
    # A file where a directory was replaces it, unless noOverwriteDirNonDir.
    await rec.error(
        "put-no-overwrite",
        APIError,
        500,
        r"cannot overwrite directory",
        b.client.containers.put_archive(
            cid, path=where, data=_tar(("sub", b"file")), no_overwrite_dir_non_dir=True
        ),
    )
    await b.client.containers.put_archive(cid, path=where, data=_tar(("sub", b"file")))
    stat = await b.client.containers.head_archive(cid, path=f"{where}/sub")
    rec.add("put-overwrite", size=stat.size, mode=stat.mode)


def _net_view(inspect: dict[str, Any], run: str) -> dict[str, Any]:
    """Per attached network (names normalized): whether it has an id, an address, aliases."""
    return {
        name.replace(run, "<run>"): {
            "network_id": bool(ep["NetworkID"]),
            "ip": bool(ep["IPAddress"]),
            "aliases": [
                a if a != inspect["Id"][:12] else "<short-id>" for a in ep["Aliases"] or []
            ],
            "keys": sorted(ep),
        }
        for name, ep in inspect["NetworkSettings"]["Networks"].items()
    }


async def network_connect(b: Backend, rec: Recorder) -> None:
    net_name = b.unique("cnet")
    created = await b.client.networks.create(net_name, labels=b.labels)
    b.networks.append(created.id)
    cid = await b.create(["sleep", "600"], name=b.unique("cbox"))
    # Connecting a stopped container records it; the start joins the network.
    await b.client.networks.connect(net_name, cid, aliases=["web"])
    await b.client.networks.connect(net_name, cid, aliases=["web"])
    _, stopped = await raw(b.client, "GET", f"/containers/{cid}/json")
    rec.add("connect-stopped", networks=_net_view(stopped, b.run))
    _, net = await raw(b.client, "GET", f"/networks/{net_name}")
    rec.add("network-stopped", containers=len(net["Containers"]))
    await b.client.containers.start(cid)
    _, running = await raw(b.client, "GET", f"/containers/{cid}/json")
    rec.add("started", networks=_net_view(running, b.run))
    _, net = await raw(b.client, "GET", f"/networks/{net_name}")
    members = net["Containers"]
    rec.add(
        "network-running",
        ids=[k == cid for k in members],
        keys=sorted(members[cid]) if cid in members else [],
        name=rec.normalize(members[cid]["Name"]) if cid in members else None,
    )
    await rec.error(
        "connect-twice-running",
        Forbidden,
        403,
        r"endpoint with name \S+ already exists in network",
        b.client.networks.connect(net_name, cid),
    )
    await rec.error(
        "remove-in-use",
        Forbidden,
        403,
        r"has active endpoints",
        b.client.networks.remove(net_name),
    )
    await b.client.networks.disconnect("bridge", cid)
    await b.client.networks.disconnect(net_name, cid)
    _, detached = await raw(b.client, "GET", f"/containers/{cid}/json")
    rec.add("disconnected", networks=_net_view(detached, b.run))
    await rec.error(
        "disconnect-again",
        APIError,
        500,
        r"is not connected to network",
        b.client.networks.disconnect(net_name, cid),
    )
    await rec.error(
        "connect-missing-container",
        NotFound,
        404,
        r"no such container",
        b.client.networks.connect(net_name, f"nope-{b.run}"),
    )
    await rec.error(
        "connect-missing-network",
        NotFound,
        404,
        r"network \S+ not found",
        b.client.networks.connect(f"nonet-{b.run}", cid),
    )
    await rec.error(
        "disconnect-missing-container-force",
        NotFound,
        404,
        r"endpoint \S+ not found",
        b.client.networks.disconnect(net_name, f"nope-{b.run}", force=True),
    )
    await rec.error(
        "connect-host",
        BadRequest,
        400,
        r"host network",
        b.client.networks.connect("host", cid),
    )
    await rec.error(
        "connect-no-body",
        BadRequest,
        400,
        r"EOF while reading request body",
        b.client._read(
            Request(
                "POST",
                f"/networks/{net_name}/connect",
                data=b"",
                headers={"Content-Type": "application/json"},
            )
        ),
    )
    await rec.error(
        "connect-not-json",
        BadRequest,
        400,
        r"must be 'application/json'",
        b.client._read(Request("POST", f"/networks/{net_name}/connect", data=b"x")),
    )
    await b.client.containers.kill(cid)
    await b.client.containers.wait(cid, timeout=30)
    await rec.error(
        "disconnect-stopped-not-connected",
        APIError,
        500,
        r"is not connected to the network",
        b.client.networks.disconnect(net_name, cid),
    )


async def prunes_and_df(b: Backend, rec: Recorder) -> None:
    # Every prune is limited to this run's label: the engine is shared.
    mine = {"label": [f"aiodock-contract={b.run}"]}
    nothing = {"label": [f"aiodock-contract=none-{b.run}"]}
    for kind in ("containers", "images", "networks", "volumes"):
        status, empty = await raw(b.client, "POST", f"/{kind}/prune", filters=nothing)
        rec.add(f"{kind}-prune-none", status=status, result=empty)
        await rec.error(
            f"{kind}-prune-bad-filter",
            BadRequest,
            400,
            r"invalid filter 'bogus'",
            raw(b.client, "POST", f"/{kind}/prune", filters={"bogus": ["1"]}),
        )
    status, empty = await raw(b.client, "POST", "/build/prune", filters={"id": [f"nope{b.run}"]})
    rec.add("build-prune-none", status=status, result=empty)
    await rec.error(
        "build-prune-bad-filter",
        BadRequest,
        400,
        r"failed to prune build cache: invalid filter 'bogus'",
        raw(b.client, "POST", "/build/prune", filters={"bogus": ["1"]}),
    )

    stopped = await b.create(["true"])
    running = await b.create(["sleep", "600"])
    await b.client.containers.start(running)
    net = await b.client.networks.create(b.unique("pnet"), labels=b.labels)
    b.networks.append(net.id)
    busy = await b.client.networks.create(b.unique("busy"), labels=b.labels)
    b.networks.append(busy.id)
    await b.client.networks.connect(busy.id, running)
    vol = b.unique("pvol")
    await b.client.volumes.create(name=vol, labels=b.labels)
    b.volumes.append(vol)

    status, df = await raw(b.client, "GET", "/system/df")
    own = next(c for c in df["Containers"] if c["Id"] == stopped)
    own_volume = next(v for v in df["Volumes"] if v["Name"] == vol)
    image = next(i for i in df["Images"] if b.image in (i["RepoTags"] or []))
    rec.add(
        "df",
        status=status,
        container_state=own["State"],
        volume_refs=own_volume["UsageData"]["RefCount"],
        image_counts_containers=image["Containers"] >= 2,
        keys=keys_at(df, "", "Volumes.0.UsageData")
        | {
            "container": sorted(own),
            "volume": sorted(own_volume),
            "image": sorted(image),
        },
    )
    typed = await b.client.system.df()
    assert any(c.id == stopped for c in typed.containers or [])

    status, pruned = await raw(b.client, "POST", "/containers/prune", filters=mine)
    rec.add(
        "containers-prune",
        status=status,
        keys=sorted(pruned),
        deleted=[rec.normalize(i) for i in pruned["ContainersDeleted"] or []],
        ours=pruned["ContainersDeleted"] == [stopped],
    )
    status, pruned = await raw(b.client, "POST", "/networks/prune", filters=mine)
    rec.add(
        "networks-prune",
        status=status,
        deleted=[rec.normalize(n) for n in pruned["NetworksDeleted"] or []],
    )
    status, pruned = await raw(b.client, "POST", "/volumes/prune", filters=mine)
    rec.add(
        "volumes-prune",
        status=status,
        deleted=[rec.normalize(n) for n in pruned["VolumesDeleted"]],
        space=pruned["SpaceReclaimed"],
    )
    typed_prune = await b.client.containers.prune(filters={"label": {"aiodock-contract": b.run}})
    rec.add("containers-prune-again", deleted=typed_prune.containers_deleted)


REGISTRY = "127.0.0.1:5000"
REGISTRY_USER = ("testuser", "testpassword")


def _auth_header(username: str | None = None, password: str | None = None) -> str:
    import base64
    import json

    config = {} if username is None else {"username": username, "password": password}
    if username is not None:
        config["serveraddress"] = REGISTRY
    return base64.urlsafe_b64encode(json.dumps(config).encode()).decode()


async def _push_messages(b: Backend, name: str, tag: str | None, auth: str) -> list[dict[str, Any]]:
    from aiodock._convert import json_loads

    params = {"tag": tag} if tag else None
    response = await b.client._send(
        Request("POST", f"/images/{name}/push", params=params, headers={"X-Registry-Auth": auth})
    )
    try:
        body = await response.read()
    finally:
        response.release()
    return [json_loads(line) for line in body.splitlines() if line.strip()]


def _push_view(rec: Recorder, name: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What must match: the status sequence (layer ids and digests masked), errors, aux keys."""
    statuses: list[str] = []
    for message in messages:
        text = message.get("status") or ("error" if "error" in message else "")
        if "aux" in message:
            text = "aux"
        text = re.sub(r"sha256:[0-9a-f]{64}", "<digest>", text.replace(name, "<name>"))
        text = re.sub(r"size: \d+", "size: N", text)
        if not statuses or statuses[-1] != text:
            statuses.append(text)
    aux = next((m["aux"] for m in messages if "aux" in m), None)
    errors = [rec.normalize(m["error"]) for m in messages if "error" in m]
    return {
        "statuses": statuses,
        "errors": errors,
        "aux_keys": sorted(aux) if aux else None,
        "keys": sorted({k for m in messages for k in m}),
    }


async def push(b: Backend, rec: Recorder) -> None:
    missing = f"{REGISTRY}/aiodock-contract/missing-{b.run}"
    messages = await _push_messages(b, missing, "v1", _auth_header(*REGISTRY_USER))
    rec.add("push-missing", **_push_view(rec, missing, messages))
    await rec.error(
        "push-no-auth-header",
        BadRequest,
        400,
        r"missing X-Registry-Auth",
        b.client._read(Request("POST", f"/images/{missing}/push")),
    )
    name = f"{REGISTRY}/aiodock-contract/push-{b.run}"
    await b.client.images.tag(b.image, f"{name}:v1")
    try:
        messages = await _push_messages(b, name, "v1", _auth_header())
        rec.add("push-no-credentials", **_push_view(rec, name, messages))
        messages = await _push_messages(b, name, "v1", _auth_header(REGISTRY_USER[0], "wrong"))
        rec.add("push-wrong-password", **_push_view(rec, name, messages))
        messages = await _push_messages(b, name, "v1", _auth_header(*REGISTRY_USER))
        view = _push_view(rec, name, messages)
        # A layer may already be there from other runs (or mounted from another repository).
        view["statuses"] = [
            "Pushed"
            if s in ("Layer already exists", "Pushing") or s.startswith("Mounted from")
            else s
            for s in view["statuses"]
        ]
        view["statuses"] = [
            s for i, s in enumerate(view["statuses"]) if s != view["statuses"][i - 1] or i == 0
        ]
        # Only an uploaded layer has a progress bar, and which layers are uploaded
        # depends on what the registry holds already.
        view["keys"] = [k for k in view["keys"] if k != "progress"]
        rec.add("push", **view)
        again = await _push_messages(b, name, "v1", _auth_header(*REGISTRY_USER))
        rec.add("push-again", **_push_view(rec, name, again))
        typed = b.client.images.push(
            f"{name}:v1", auth={"username": REGISTRY_USER[0], "password": REGISTRY_USER[1]}
        )
        await typed.wait()
        assert typed.digest is not None and typed.digest.startswith("sha256:")
        rec.add("push-typed", aux_tag=typed.aux["Tag"] if typed.aux else None)
    finally:
        with contextlib.suppress(NotFound):
            await b.client.images.remove(f"{name}:v1")


def _context(dockerfile: str, **files: bytes) -> bytes:
    return _tar(("Dockerfile", dockerfile.encode()), *files.items())


async def _build_messages(b: Backend, context: bytes, **params: Any) -> list[dict[str, Any]]:
    from aiodock._convert import json_loads

    response = await b.client._send(
        Request(
            "POST",
            "/build",
            params={"forcerm": True, **params},
            data=context,
            headers={"Content-Type": "application/x-tar"},
        )
    )
    try:
        body = await response.read()
    finally:
        response.release()
    return [json_loads(line) for line in body.splitlines() if line.strip()]


def _build_view(rec: Recorder, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The stream with ids masked; the aux and error messages' key sets."""
    lines = []
    for message in messages:
        if "stream" in message:
            lines.append(rec.normalize(message["stream"]))
        elif "aux" in message:
            lines.append(f"<aux {sorted(message['aux'])}>")
        elif "error" in message:
            lines.append(f"<error {rec.normalize(message['error'])} {message['errorDetail']}>")
    # A RUN step's stdout and stderr are copied separately: their order is not fixed.
    ordered: list[str] = []
    output: list[str] = []
    for line in lines:
        if line.startswith((" ---> Running in", "Removing intermediate", "<error")):
            ordered.extend(sorted(output))
            output = []
            ordered.append(line)
        elif ordered and (output or ordered[-1].startswith(" ---> Running in")):
            output.append(line)
        else:
            ordered.append(line)
    ordered.extend(sorted(output))
    return {"lines": ordered, "keys": sorted({k for m in messages for k in m})}


async def build(b: Backend, rec: Recorder) -> None:
    tag = f"aiodock-contract/build-{b.run}:1"
    dockerfile = (
        f"FROM {b.image}\n"
        "# a comment\n"
        "LABEL stage=one\n"
        "RUN echo hi && \\\n"
        "    echo there >&2\n"
        "COPY data.txt /data.txt\n"
        "ENV GREETING=hello\n"
        'CMD ["sh", "-c", "echo $GREETING"]\n'
    )
    context = _context(dockerfile, **{"data.txt": b"payload"})
    try:
        messages = await _build_messages(
            b, context, t=tag, labels={"aiodock-contract": b.run, "aiodock-test": "1"}
        )
        rec.add("build", **_build_view(rec, messages))
        image_id = next(m["aux"]["ID"] for m in messages if "aux" in m)
        _, image = await raw(b.client, "GET", f"/images/{tag}/json")
        assert image["Id"] == image_id
        config = image["Config"]
        rec.add(
            "built-image",
            labels=sorted(config["Labels"]),
            cmd=config["Cmd"],
            greeting=[e for e in config["Env"] if e.startswith("GREETING=")],
        )
        typed = b.client.images.build(context, tags=[f"{tag}-typed"], labels=b.labels)
        built = await typed.result()
        rec.add("build-typed", same_shape=built.startswith("sha256:"))
        quiet = await _build_messages(b, context, q=True, labels={"aiodock-contract": b.run})
        rec.add("build-quiet", **_build_view(rec, quiet))
    finally:
        for ref in (tag, f"{tag}-typed"):
            with contextlib.suppress(NotFound):
                await b.client.images.remove(ref, force=True)

    failing = _context(f"FROM {b.image}\nRUN exit 3\n")
    messages = await _build_messages(b, failing, labels={"aiodock-contract": b.run})
    rec.add("build-run-fails", **_build_view(rec, messages))
    missing_copy = _context(f"FROM {b.image}\nCOPY nope.txt /x\n")
    messages = await _build_messages(b, missing_copy, labels={"aiodock-contract": b.run})
    rec.add("build-copy-missing", **_build_view(rec, messages))
    await rec.error(
        "build-no-dockerfile",
        APIError,
        500,
        r"cannot locate specified dockerfile: \S+",
        _build_messages(b, _tar(("other.txt", b"x"))),
    )
    await rec.error(
        "build-other-dockerfile-missing",
        APIError,
        500,
        r"cannot locate specified dockerfile: \S+",
        _build_messages(b, context, dockerfile="sub/Dockerfile.dev"),
    )
    await rec.error(
        "build-unknown-instruction",
        BadRequest,
        400,
        r"unknown instruction: \S+",
        _build_messages(b, _context(f"FROM {b.image}\nBOGUS x\n")),
    )


async def exec_after_exit(b: Backend, rec: Recorder) -> None:
    cid = await b.create(["sleep", "600"])
    await b.client.containers.start(cid)
    quick = await b.client.exec.create(cid, cmd=["sh", "-c", "exit 5"])
    await b.client._read(Request("POST", f"/exec/{quick.id}/start", body={"Detach": True}))
    code = await b.client.exec.exit_code(quick.id, timeout=30)
    _, done = await raw(b.client, "GET", f"/exec/{quick.id}/json")
    rec.add(
        "detached-exited",
        code=code,
        running=done["Running"],
        exit_code=done["ExitCode"],
        pid_kept=done["Pid"] > 0,
    )
    slow = await b.client.exec.create(cid, cmd=["sleep", "600"])
    await b.client._read(Request("POST", f"/exec/{slow.id}/start", body={"Detach": True}))
    for _ in range(100):
        _, running = await raw(b.client, "GET", f"/exec/{slow.id}/json")
        if running["Running"]:
            break
        await asyncio.sleep(0.05)
    rec.add("long-running", running=running["Running"], exit_code=running["ExitCode"])
    await b.client.containers.kill(cid)
    await b.client.containers.wait(cid, timeout=30)
    for _ in range(100):
        _, after = await raw(b.client, "GET", f"/exec/{slow.id}/json")
        if not after["Running"]:
            break
        await asyncio.sleep(0.05)
    rec.add("after-container-exit", running=after["Running"], exit_code=after["ExitCode"])
    await b.client.containers.remove(cid)
    await rec.error(
        "after-container-removed",
        NotFound,
        404,
        r"no such exec instance",
        b.client.exec.inspect(slow.id),
    )


SCENARIOS: dict[str, Callable[[Backend, Recorder], Awaitable[None]]] = {
    "ping": ping,
    "version-info": version_and_info,
    "container-lifecycle": container_lifecycle,
    "exec": exec_exit_code,
    "tty-and-exited": tty_and_exited,
    "stats-top-resize": stats_top_resize,
    "image-missing": image_missing,
    "networks-volumes": networks_and_volumes,
    "events": container_events,
    "run": run_output,
    "archives": archives,
    "network-connect": network_connect,
    "prunes-df": prunes_and_df,
    "push": push,
    "build": build,
    "exec-after-exit": exec_after_exit,
}

# Scenarios that need more of the test infrastructure than the engine.
NEEDS_REGISTRY = {"push"}

# Recordings by (scenario, backend), filled by test_scenario and reused by the comparison.
_RECORDED: dict[tuple[str, str], dict[str, Observation]] = {}


@contextlib.asynccontextmanager
async def open_backend(kind: str, image: str) -> AsyncIterator[Backend]:
    if kind == "fake":
        async with FakeDocker(images=[image]) as fake, fake.client(timeout=30) as client:
            # The registry the integration tests start: htpasswd auth, empty at first.
            fake.add_registry(REGISTRY, username=REGISTRY_USER[0], password=REGISTRY_USER[1])
            yield Backend("fake", client, image)
        return
    async with DockerClient(DOCKER_HOST, timeout=30) as client:
        yield Backend("real", client, image)


async def record(kind: str, scenario: str, image: str) -> dict[str, Observation]:
    async with open_backend(kind, image) as backend:
        rec = Recorder(backend.run)
        try:
            await SCENARIOS[scenario](backend, rec)
        finally:
            await backend.cleanup()
    _RECORDED[(scenario, kind)] = rec.steps
    return rec.steps


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_scenario(
    scenario: str, backend: str, busybox: str, request: pytest.FixtureRequest
) -> None:
    """The scenario's own expectations hold on this backend."""
    assert busybox == BUSYBOX
    if scenario in NEEDS_REGISTRY and backend == "real":
        request.getfixturevalue("registry")
    steps = await record(backend, scenario, busybox)
    assert steps, "the scenario recorded nothing"


def compare(scenario: str, fake: dict[str, Observation], real: dict[str, Observation]) -> list[str]:
    """Every difference between the two recordings that no allowance covers."""
    problems: list[str] = []
    if list(fake) != list(real):
        problems.append(f"steps differ: fake {list(fake)} real {list(real)}")
    for step in real.keys() & fake.keys():
        f, r = fake[step], real[step]
        for field in sorted(set(f) | set(r)):
            fv, rv = f.get(field), r.get(field)
            if field == "keys" and isinstance(rv, dict):
                fk = fv if isinstance(fv, dict) else {}
                for path in sorted(set(fk) | set(rv)):
                    problems.extend(
                        _key_problems(scenario, step, path, set(fk.get(path, ())), set(rv[path]))
                    )
            elif field == "keys":
                problems.extend(_key_problems(scenario, step, "", set(fv or ()), set(rv or ())))
            elif fv != rv:
                problems.append(f"{step}.{field}: fake {fv!r} != real {rv!r}")
    return problems


def _key_problems(
    scenario: str, step: str, path: str, fake: set[str], real: set[str]
) -> Iterable[str]:
    allowed = FAKE_MAY_LACK.get((scenario, step, path), frozenset())
    lacking = real - fake - allowed
    extra = fake - real
    where = f"{step}[{path or '.'}]"
    if lacking:
        yield f"{where}: the fake lacks {sorted(lacking)}"
    if extra:
        yield f"{where}: the fake has keys the engine does not: {sorted(extra)}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_fake_matches_engine(
    scenario: str, busybox: str, request: pytest.FixtureRequest
) -> None:
    """FakeDocker and the engine answer the scenario with the same shapes."""
    if scenario in NEEDS_REGISTRY:
        request.getfixturevalue("registry")
    recorded = {}
    for kind in BACKENDS:
        recorded[kind] = _RECORDED.get((scenario, kind)) or await record(kind, scenario, busybox)
    problems = compare(scenario, recorded["fake"], recorded["real"])
    assert not problems, "FakeDocker drifted from the engine:\n" + "\n".join(problems)


def test_compare_reports_drift() -> None:
    """The comparison itself notices a missing key, an extra key and a changed value."""
    real: dict[str, Observation] = {
        "s": {"status": 200, "keys": {"": ["A", "B"]}},
        "t": {"error": "Conflict"},
    }
    fake: dict[str, Observation] = {
        "s": {"status": 201, "keys": {"": ["A", "C"]}},
        "t": {"error": "Conflict"},
    }
    problems = compare("x", fake, real)
    assert any("lacks ['B']" in p for p in problems)
    assert any("does not: ['C']" in p for p in problems)
    assert any("status" in p for p in problems)
    assert not any(p.startswith("t.") for p in problems)
    assert compare("x", real, real) == []
