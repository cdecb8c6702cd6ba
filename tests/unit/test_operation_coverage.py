"""Every Engine API operation has a public method, and that method sends the right request.

``OPERATIONS`` maps each operationId of the Engine API description ``spec/engine-api.json``
(108 of them) to the public method that performs it, with dummy arguments to call it. The
tests check that:

- the table names exactly the operations of the description;
- each method exists on a ``DockerClient`` and is a coroutine function or returns a stream;
- calling it against a tiny recording server (no FakeDocker, no engine) sends the
  operation's HTTP method and path. Lookups a method makes first (``logs`` and ``attach``
  inspect the container to pick the framing, ``secrets.update`` reads the current spec)
  are allowed as GET requests before the expected one; nothing may follow it.

``tools/coverage_report.py`` imports this table to write ``docs/operations.md``.
The description is committed (``tools/extract_engine_api.py`` writes it), so nothing here
depends on files outside the repository.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from aiodock import DockerClient
from aiodock._streams.streaming import AsyncStream
from aiodock.models import ClusterVolumeSpec, NodeSpec, SwarmSpec
from aiodock.models.swarm import service_spec
from tests.unit._server import serve

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_API_DESCRIPTION = REPO_ROOT / "spec" / "engine-api.json"

ID = "abc123"
ENGINE_API = "1.41"  # what the engine of the integration tests speaks
JSON = "application/json"


class Op:
    """One row of the table: ``namespace.method``, the dummy call, and what to answer.

    ``ident`` replaces ``{id}``/``{name}`` in the operation's path; ``reply`` is the body
    of the answer to the expected request (``None``: an upgrade, answered with 101 or a
    WebSocket handshake); ``lookup`` answers any other GET the method makes first.
    """

    def __init__(self, method: str, *args: Any, **kwargs: Any) -> None:
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.ident = ID
        self.reply: bytes | None = b"{}"
        self.content_type: str | None = JSON
        self.headers: dict[str, str] = {}
        self.lookup: bytes = b"{}"
        self.api = ENGINE_API
        self.note = ""

    def answer(
        self,
        body: bytes | None,
        content_type: str | None = JSON,
        headers: Mapping[str, str] | None = None,
    ) -> Op:
        self.reply = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        return self

    def stream(self, body: bytes = b"", content_type: str | None = None) -> Op:
        """An answer streamed as the daemon does (an empty stream unless told)."""
        return self.answer(body, content_type)

    def upgrade(self) -> Op:
        return self.answer(None, None)

    def looking_up(self, body: Any) -> Op:
        self.lookup = json.dumps(body).encode()
        return self

    def needs_api(self, version: str) -> Op:
        self.api = version
        return self

    def on(self, ident: str) -> Op:
        self.ident = ident
        return self

    def noted(self, note: str) -> Op:
        self.note = note
        return self

    def __repr__(self) -> str:
        return f"Op({self.method})"


EMPTY_LIST = b"[]"
TAR = b"\0" * 1024  # an empty tar archive: two zero blocks
PATH_STAT = base64.b64encode(
    json.dumps(
        {"name": "etc", "size": 4096, "mode": 2147484141, "mtime": "2024-01-01T00:00:00Z"}
    ).encode()
).decode()
CURRENT_SPEC = {"ID": ID, "Version": {"Index": 7}, "Spec": {"Name": "dummy"}}
SPEC = service_spec("busybox")

OPERATIONS: dict[str, Op] = {
    # -- containers
    "ContainerList": Op("containers.list").answer(EMPTY_LIST),
    "ContainerCreate": Op("containers.create", image="busybox").answer(b'{"Id": "abc123"}'),
    "ContainerInspect": Op("containers.inspect", ID),
    "ContainerTop": Op("containers.top", ID),
    "ContainerLogs": Op("containers.logs", ID).stream().noted("inspects first for the framing"),
    "ContainerChanges": Op("containers.changes", ID).answer(EMPTY_LIST),
    "ContainerExport": Op("containers.export", ID).stream(content_type="application/x-tar"),
    "ContainerStats": Op("containers.stats", ID).stream(b"{}\n", JSON),
    "ContainerResize": Op("containers.resize", ID, height=24, width=80),
    "ContainerStart": Op("containers.start", ID).answer(b""),
    "ContainerStop": Op("containers.stop", ID).answer(b""),
    "ContainerRestart": Op("containers.restart", ID).answer(b""),
    "ContainerKill": Op("containers.kill", ID).answer(b""),
    "ContainerUpdate": Op("containers.update", ID, memory=64 << 20),
    "ContainerRename": Op("containers.rename", ID, name="renamed"),
    "ContainerPause": Op("containers.pause", ID).answer(b""),
    "ContainerUnpause": Op("containers.unpause", ID).answer(b""),
    "ContainerAttach": Op("containers.attach", ID)
    .upgrade()
    .noted("inspects first for the framing"),
    "ContainerAttachWebsocket": Op("containers.attach_websocket", ID).upgrade(),
    "ContainerWait": Op("containers.wait", ID).answer(b'{"StatusCode": 0}'),
    "ContainerDelete": Op("containers.remove", ID).answer(b""),
    "ContainerArchiveInfo": Op("containers.head_archive", ID, path="/etc").answer(
        b"", None, {"X-Docker-Container-Path-Stat": PATH_STAT}
    ),
    "ContainerArchive": Op("containers.get_archive", ID, path="/etc").answer(
        TAR, "application/x-tar", {"X-Docker-Container-Path-Stat": PATH_STAT}
    ),
    "PutContainerArchive": Op("containers.put_archive", ID, path="/tmp", data=TAR).answer(b""),
    "ContainerPrune": Op("containers.prune"),
    # -- images
    "ImageList": Op("images.list").answer(EMPTY_LIST),
    "ImageBuild": Op("images.build", TAR).stream(b'{"aux": {"ID": "sha256:abc"}}\n', JSON),
    "BuildPrune": Op("images.build_prune"),
    "ImageCreate": Op("images.pull", "busybox").stream(b'{"status": "done"}\n', JSON),
    "ImageInspect": Op("images.inspect", ID),
    "ImageAttestations": Op("images.attestations", ID).answer(EMPTY_LIST).needs_api("1.55"),
    "ImageHistory": Op("images.history", ID).answer(EMPTY_LIST),
    "ImagePush": Op("images.push", ID).stream(
        b'{"status": "latest: digest: sha256:'
        + b"0" * 64
        + b' size: 528"}\n{"aux": {"Tag": "latest", "Digest": "sha256:'
        + b"0" * 64
        + b'", "Size": 528}}\n',
        JSON,
    ),
    "ImageTag": Op("images.tag", ID, "repo:tag").answer(b""),
    "ImageDelete": Op("images.remove", ID).answer(EMPTY_LIST),
    "ImageSearch": Op("images.search", "busybox").answer(EMPTY_LIST),
    "ImagePrune": Op("images.prune"),
    "ImageCommit": Op("images.commit", ID).answer(b'{"Id": "sha256:abc"}'),
    "ImageGet": Op("images.save", ID).stream(TAR, "application/x-tar"),
    "ImageGetAll": Op("images.save_many", [ID, "other"]).stream(TAR, "application/x-tar"),
    "ImageLoad": Op("images.load", TAR).stream(b'{"stream": "Loaded image: x:latest\\n"}\n', JSON),
    # -- system
    "SystemAuth": Op("system.login", username="u", password="p", registry="127.0.0.1:5000").answer(
        b'{"Status": "Login Succeeded"}'
    ),
    "SystemInfo": Op("system.info"),
    "SystemVersion": Op("system.version"),
    "SystemPing": Op("system.ping").answer(b"OK", "text/plain"),
    "SystemPingHead": Op("system.ping", head=True).answer(b"", "text/plain"),
    "SystemEvents": Op("system.events").stream(content_type=JSON),
    "SystemDataUsage": Op("system.df"),
    # -- exec
    "ContainerExec": Op("exec.create", ID, cmd=["true"]).answer(b'{"Id": "e1"}'),
    "ExecStart": Op("exec.start", ID).upgrade().noted("inspects the exec first for its TTY"),
    "ExecResize": Op("exec.resize", ID, height=24, width=80).answer(b""),
    "ExecInspect": Op("exec.inspect", ID),
    # -- volumes
    "VolumeList": Op("volumes.list").answer(b'{"Volumes": [], "Warnings": []}'),
    "VolumeCreate": Op("volumes.create").answer(b'{"Name": "v"}'),
    "VolumeInspect": Op("volumes.inspect", ID),
    "VolumeUpdate": Op("volumes.update", ID, version=1, spec=ClusterVolumeSpec())
    .answer(b"")
    .needs_api("1.42"),
    "VolumeDelete": Op("volumes.remove", ID).answer(b""),
    "VolumePrune": Op("volumes.prune"),
    # -- networks
    "NetworkList": Op("networks.list").answer(EMPTY_LIST),
    "NetworkInspect": Op("networks.inspect", ID),
    "NetworkDelete": Op("networks.remove", ID).answer(b""),
    "NetworkCreate": Op("networks.create", "net").answer(b'{"Id": "n1"}'),
    "NetworkConnect": Op("networks.connect", ID, "ctr").answer(b""),
    "NetworkDisconnect": Op("networks.disconnect", ID, "ctr").answer(b""),
    "NetworkPrune": Op("networks.prune"),
    # -- plugins
    "PluginList": Op("plugins.list").answer(EMPTY_LIST),
    "GetPluginPrivileges": Op("plugins.privileges", "vieux/sshfs").answer(EMPTY_LIST),
    "PluginPull": Op("plugins.pull", "vieux/sshfs").stream(b'{"status": "done"}\n', JSON),
    "PluginInspect": Op("plugins.inspect", ID),
    "PluginDelete": Op("plugins.remove", ID),
    "PluginEnable": Op("plugins.enable", ID).answer(b""),
    "PluginDisable": Op("plugins.disable", ID).answer(b""),
    "PluginUpgrade": Op("plugins.upgrade", ID, "vieux/sshfs:next").stream(
        b'{"status": "done"}\n', JSON
    ),
    "PluginCreate": Op("plugins.create", ID, archive=TAR).answer(b""),
    "PluginPush": Op("plugins.push", ID).stream(b'{"status": "done"}\n', JSON),
    "PluginSet": Op("plugins.set", ID, {"DEBUG": "1"}).answer(b""),
    # -- swarm
    "NodeList": Op("nodes.list").answer(EMPTY_LIST),
    "NodeInspect": Op("nodes.inspect", ID),
    "NodeDelete": Op("nodes.remove", ID).answer(b""),
    "NodeUpdate": Op("nodes.update", ID, NodeSpec(), version=1).answer(b""),
    "SwarmInspect": Op("swarm.inspect"),
    "SwarmInit": Op("swarm.init").answer(b'"node-id"'),
    "SwarmJoin": Op("swarm.join", ["127.0.0.1:2377"], "SWMTKN-1-dummy").answer(b""),
    "SwarmLeave": Op("swarm.leave").answer(b""),
    "SwarmUpdate": Op("swarm.update", SwarmSpec(), version=1).answer(b""),
    "SwarmUnlockkey": Op("swarm.unlock_key").answer(b'{"UnlockKey": "SWMKEY-1-dummy"}'),
    "SwarmUnlock": Op("swarm.unlock", "SWMKEY-1-dummy").answer(b""),
    "ServiceList": Op("services.list").answer(EMPTY_LIST),
    "ServiceCreate": Op("services.create", SPEC).answer(b'{"ID": "s1"}'),
    "ServiceInspect": Op("services.inspect", ID),
    "ServiceDelete": Op("services.remove", ID).answer(b""),
    "ServiceUpdate": Op("services.update", ID, SPEC, version=1),
    "ServiceLogs": Op("services.logs", ID).stream().noted("inspects the service for its TTY"),
    "TaskList": Op("tasks.list").answer(EMPTY_LIST),
    "TaskInspect": Op("tasks.inspect", ID),
    "TaskLogs": Op("tasks.logs", ID).stream().noted("inspects the task for its TTY"),
    "SecretList": Op("secrets.list").answer(EMPTY_LIST),
    "SecretCreate": Op("secrets.create", "s", b"data").answer(b'{"ID": "s1"}'),
    "SecretInspect": Op("secrets.inspect", ID),
    "SecretDelete": Op("secrets.remove", ID).answer(b""),
    "SecretUpdate": Op("secrets.update", ID, labels={"a": "b"})
    .answer(b"")
    .looking_up(CURRENT_SPEC)
    .noted("reads the current spec first"),
    "ConfigList": Op("configs.list").answer(EMPTY_LIST),
    "ConfigCreate": Op("configs.create", "c", b"data").answer(b'{"ID": "c1"}'),
    "ConfigInspect": Op("configs.inspect", ID),
    "ConfigDelete": Op("configs.remove", ID).answer(b""),
    "ConfigUpdate": Op("configs.update", ID, labels={"a": "b"})
    .answer(b"")
    .looking_up(CURRENT_SPEC)
    .noted("reads the current spec first"),
    # -- distribution
    "DistributionInspect": Op("distribution.inspect", "busybox").on("busybox"),
    # -- session (BuildKit's gRPC session over an h2c upgrade; deprecated)
    "Session": Op("system.session", session_id="s1").upgrade(),
}

#: Operations with no public method yet: the tests for them are expected to fail, strictly,
#: so that wrapping one makes its test pass and forces this entry out.
KNOWN_GAPS: dict[str, str] = {}

#: Further public methods that send the same request as the table's method.
ALSO: list[tuple[str, Op]] = [
    ("ContainerStats", Op("containers.stats_once", ID)),
    ("ImageCreate", Op("images.import_image", TAR).stream(b'{"status": "sha256:abc"}\n', JSON)),
    ("ExecStart", Op("exec.start", ID, detach=True, tty=False).answer(b"")),
]


def load_operations(path: Path = ENGINE_API_DESCRIPTION) -> dict[str, tuple[str, str]]:
    """operationId -> (HTTP method, path template), as the description lists them."""
    operations = json.loads(path.read_text(encoding="utf-8"))["operations"]
    return {op_id: (op["method"], op["path"]) for op_id, op in sorted(operations.items())}


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str]]:
    return load_operations()


def resolve(client: DockerClient, dotted: str) -> Any:
    namespace, _, name = dotted.partition(".")
    return getattr(getattr(client, namespace), name)


def _params(cases: list[tuple[str, Op]]) -> list[Any]:
    params = []
    for op_id, op in cases:
        marks = []
        if op_id in KNOWN_GAPS:
            marks.append(pytest.mark.xfail(reason=KNOWN_GAPS[op_id], strict=True))
        params.append(pytest.param(op_id, op, id=f"{op_id}-{op.method}", marks=marks))
    return params


ALL_CASES = _params(list(OPERATIONS.items()) + ALSO)


# -- the table ------------------------------------------------------------------------------


def test_table_names_exactly_the_operations_of_the_description(
    operations: dict[str, tuple[str, str]],
) -> None:
    assert len(operations) == 108
    missing = sorted(set(operations) - set(OPERATIONS))
    unknown = sorted(set(OPERATIONS) - set(operations))
    assert not missing, f"operations with no entry in the table: {missing}"
    assert not unknown, f"table entries that are not operations of the description: {unknown}"
    for op_id, _ in ALSO:
        assert op_id in operations


def test_known_gaps_are_table_entries() -> None:
    assert set(KNOWN_GAPS) <= set(OPERATIONS)


@pytest.mark.parametrize(("op_id", "op"), ALL_CASES)
async def test_method_exists_and_is_async_or_streams(op_id: str, op: Op) -> None:
    client = DockerClient("unix:///nonexistent.sock")
    try:
        namespace, _, name = op.method.partition(".")
        assert hasattr(client, namespace), f"{op_id}: DockerClient has no namespace {namespace!r}"
        assert hasattr(getattr(client, namespace), name), f"{op_id}: {op.method} does not exist"
        method = resolve(client, op.method)
        assert callable(method)
        if inspect.iscoroutinefunction(method):
            return
        # Not a coroutine function: it must return a stream, lazily (nothing is sent here,
        # and the socket does not exist, so any request would fail).
        result = method(*op.args, **op.kwargs)
        try:
            assert isinstance(result, AsyncStream), (
                f"{op_id}: {op.method} is neither async nor returns a stream: {type(result)}"
            )
        finally:
            await result.aclose()
    finally:
        await client.aclose()


# -- the request each method sends ------------------------------------------------------------

_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")


def recording_app(
    op: Op, expected: tuple[str, str], seen: list[tuple[str, str]]
) -> web.Application:
    """Record ``(method, raw path without /vX.Y)``; answer the expected request as ``op`` says."""

    async def handler(request: web.Request) -> web.StreamResponse:
        path = _VERSION_PREFIX.sub("", request.raw_path.split("?", 1)[0])
        await request.read()
        seen.append((request.method, path))
        if (request.method, path) != expected:
            return web.Response(body=op.lookup, content_type=JSON)
        if op.reply is None:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                await ws.close()
                return ws
            upgrade = web.StreamResponse(
                status=101,
                reason="UPGRADED",
                headers={
                    "Content-Type": "application/vnd.docker.raw-stream",
                    "Connection": "Upgrade",
                    "Upgrade": request.headers.get("Upgrade", "tcp"),
                },
            )
            await upgrade.prepare(request)
            await upgrade.write_eof()
            if request.transport is not None:
                request.transport.close()
            return upgrade
        response = web.StreamResponse(headers=op.headers)
        if op.content_type is not None:
            response.content_type = op.content_type
        response.content_length = len(op.reply)
        await response.prepare(request)
        if op.reply and request.method != "HEAD":
            await response.write(op.reply)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def perform(client: DockerClient, op: Op) -> None:
    """Call the method; read a stream to its end; close what stays open."""
    method = resolve(client, op.method)
    result = method(*op.args, **op.kwargs)
    if inspect.iscoroutinefunction(method):
        result = await result
    if isinstance(result, AsyncStream):
        async with result as stream:
            async for _ in stream:
                pass
    elif hasattr(result, "aclose"):
        await result.aclose()


@pytest.mark.parametrize(("op_id", "op"), ALL_CASES)
async def test_method_sends_the_operations_request(
    op_id: str,
    op: Op,
    operations: dict[str, tuple[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No credentials of this machine leak into the requests, and none are needed.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    http_method, template = operations[op_id]
    ident = quote(op.ident, safe="")
    expected = (http_method, template.replace("{id}", ident).replace("{name}", ident))
    seen: list[tuple[str, str]] = []
    async with (
        serve(recording_app(op, expected, seen)) as address,
        DockerClient(address, api_version=op.api) as client,
    ):
        await perform(client, op)
    assert expected in seen, f"{op_id}: {op.method} sent {seen}, not {expected}"
    before = seen[: seen.index(expected)]
    after = seen[seen.index(expected) + 1 :]
    assert all(method == "GET" for method, _ in before), (
        f"{op_id}: {op.method} sent more than lookups before its request: {before}"
    )
    assert not after, f"{op_id}: {op.method} sent more after its request: {after}"


def test_operations_doc_is_current(operations: dict[str, tuple[str, str]]) -> None:
    # docs/operations.md is generated from this table and the integration tests' calls.
    result = subprocess.run(
        [sys.executable, "tools/coverage_report.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
