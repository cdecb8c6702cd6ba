"""BuildKit session pieces without a daemon: the codec, trace decoding, the DiffCopy
sender against a fake receiver, the gRPC server against an h2 client, and argument checks."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import stat
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import pytest

pytest.importorskip("h2")

import h2.config
import h2.connection
import h2.events

from aiodock import BuildKitStream, BuildSecret, DockerClient
from aiodock._buildkit import _proto as pb
from aiodock._buildkit.filesync import CHUNK, SyncedDir, diffcopy_handler, go_mode, walk
from aiodock._buildkit.secrets import normalize_secrets, secrets_handler
from aiodock._buildkit.session import GrpcError, GrpcServer
from aiodock._buildkit.trace import BuildProgress, decode_status, decode_trace
from aiodock._http.rawconn import RawConnection
from aiodock._http.request import Request
from aiodock._streams.streaming import HijackedStream
from aiodock.errors import InvalidArgument

# --- codec -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**32, 2**63 - 1, -1, -(2**63)])
def test_varint_round_trip(value: int) -> None:
    encoded = pb.int_field(1, value)
    if value == 0:
        assert encoded == b""
        return
    [(number, decoded)] = list(pb.fields(encoded))
    assert number == 1
    assert pb.signed(pb.number(decoded)) == value
    assert len(encoded) == (11 if value < 0 else len(pb.varint(value)) + 1)


def test_packet_round_trip_and_known_bytes() -> None:
    stat_ = pb.Stat(
        path="dir/file", mode=0o644, size=5, mod_time=-5, linkname="", devmajor=0, devminor=0
    )
    raw = pb.encode_packet(pb.PACKET_STAT, stat=stat_)
    packet = pb.decode_packet(raw)
    assert packet.type == pb.PACKET_STAT and packet.stat == stat_
    # REQ 300: type=1 (08 01), ID=300 (18 ac 02)
    assert pb.encode_packet(pb.PACKET_REQ, id=300) == b"\x08\x01\x18\xac\x02"
    # the end of the listing: an empty STAT with no stat at all
    assert pb.encode_packet(pb.PACKET_STAT) == b""
    data = pb.decode_packet(pb.encode_packet(pb.PACKET_DATA, id=7, data=b"xyz"))
    assert (data.type, data.id, data.data) == (pb.PACKET_DATA, 7, b"xyz")


@pytest.mark.parametrize(
    "raw", [b"\x08", b"\x12\x05abc", b"\x00\x01", b"\x0b", b"\xff" * 11, b"\x09\x00"]
)
def test_malformed_messages_raise_decode_error(raw: bytes) -> None:
    with pytest.raises(pb.DecodeError):
        list(pb.fields(raw))


def test_go_file_modes() -> None:
    assert go_mode(stat.S_IFREG | 0o644) == 0o644
    assert go_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert go_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert go_mode(stat.S_IFCHR | 0o600) == (1 << 26) | (1 << 21) | 0o600


# --- trace -------------------------------------------------------------------------


def _ts(seconds: int, nanos: int = 0) -> bytes:
    return pb.int_field(1, seconds) + pb.int_field(2, nanos)


def _status_bytes() -> bytes:
    vertex = b"".join(
        (
            pb.string_field(1, "sha256:aaa"),
            pb.string_field(2, "sha256:base"),
            pb.string_field(3, "[2/3] RUN make"),
            pb.bytes_field(5, _ts(1_700_000_000)),
            pb.bytes_field(6, _ts(1_700_000_002, 500_000_000)),
            pb.string_field(7, "exit code: 2"),
        )
    )
    cached = (
        pb.string_field(1, "sha256:bbb") + pb.string_field(3, "[1/3] FROM x") + pb.int_field(4, 1)
    )
    task = b"".join(
        (
            pb.string_field(1, "transferring context"),
            pb.string_field(2, "sha256:ccc"),
            pb.int_field(4, 700),
            pb.int_field(5, 1000),
        )
    )
    log = pb.string_field(1, "sha256:aaa") + pb.int_field(3, 2) + pb.bytes_field(4, b"boom\n")
    warning = pb.string_field(1, "sha256:aaa") + pb.bytes_field(3, b"deprecated")
    return b"".join(
        (
            pb.bytes_field(1, vertex),
            pb.bytes_field(1, cached),
            pb.bytes_field(2, task),
            pb.bytes_field(3, log),
            pb.bytes_field(4, warning),
        )
    )


def test_decode_status_and_fold_progress() -> None:
    status = decode_status(_status_bytes())
    first = status.vertexes[0]
    assert first.name == "[2/3] RUN make" and first.inputs == ("sha256:base",)
    assert first.started == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert first.error == "exit code: 2"
    assert status.vertexes[1].cached
    assert status.statuses[0].current == 700 and status.statuses[0].total == 1000
    assert status.logs[0].data == b"boom\n" and status.logs[0].stream == 2
    assert status.warnings[0].short == "deprecated"

    progress = BuildProgress()
    progress.update(status)
    step = progress.steps["sha256:aaa"]
    assert step.number == 1 and step.duration == 2.5 and step.log == "boom\n"
    assert [s.name for s in progress.failed] == ["[2/3] RUN make"]
    assert progress.cached == 1 and progress.transferred == 700 and progress.transfer_total == 1000
    assert "1 failed" in repr(progress)


def test_decode_trace_ignores_what_is_not_a_trace() -> None:
    encoded = base64.b64encode(_status_bytes()).decode()
    decoded = decode_trace(encoded)
    assert decoded is not None and len(decoded.vertexes) == 2
    assert decode_trace("not base64!") is None
    assert decode_trace({"ID": "x"}) is None
    assert decode_trace(base64.b64encode(b"\x0a\x05ab").decode()) is None


# --- DiffCopy sender against a fake receiver ----------------------------------------


class FakeCall:
    """A gRPC call as the sender sees it, driven by a test receiver."""

    def __init__(self, metadata: dict[str, list[str]]) -> None:
        self.metadata = metadata
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self.largest = 0

    def header(self, name: str, default: str = "") -> str:
        values = self.metadata.get(name)
        return values[0] if values else default

    async def recv(self) -> bytes | None:
        return await self.incoming.get()

    async def send(self, message: bytes) -> None:
        self.largest = max(self.largest, len(message))
        await self.outgoing.put(message)

    async def send_many(self, messages: Any) -> None:
        for message in messages:
            await self.send(message)


async def receive_all(
    call: FakeCall, want: Any = lambda stat: True
) -> tuple[list[pb.Stat], dict[str, bytes]]:
    """Act as fsutil's receiver: read the listing, request files, collect data, FIN."""
    stats: list[pb.Stat] = []
    while True:
        packet = pb.decode_packet(await call.outgoing.get())
        assert packet.type == pb.PACKET_STAT
        if packet.stat is None:
            break
        stats.append(packet.stat)
    wanted = {
        i: s.path
        for i, s in enumerate(stats)
        if stat.S_IFMT(s.mode) == 0 and not (s.mode >> 20) and not s.linkname and want(s)
    }
    for ident in wanted:
        call.incoming.put_nowait(pb.encode_packet(pb.PACKET_REQ, id=ident))
    chunks: dict[int, list[bytes]] = {i: [] for i in wanted}
    open_ids = set(wanted)
    while open_ids:
        packet = pb.decode_packet(await call.outgoing.get())
        assert packet.type == pb.PACKET_DATA and packet.id in open_ids
        if packet.data:
            chunks[packet.id].append(packet.data)
        else:
            open_ids.discard(packet.id)
    call.incoming.put_nowait(pb.encode_packet(pb.PACKET_FIN))
    assert pb.decode_packet(await call.outgoing.get()).type == pb.PACKET_FIN
    return stats, {wanted[i]: b"".join(parts) for i, parts in chunks.items()}


def make_tree(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    (root / "b" / "inner.txt").write_bytes(b"inner")
    (root / "a.txt").write_bytes(b"a")
    (root / "a").mkdir()
    (root / "a" / "z").write_bytes(b"z")
    (root / "big.bin").write_bytes(os.urandom(CHUNK * 3 + 17))
    (root / "run.sh").write_bytes(b"#!/bin/sh\n")
    (root / "run.sh").chmod(0o750)
    (root / "link").symlink_to("a.txt")
    os.link(root / "a.txt", root / "hard.txt")
    (root / "skip.log").write_bytes(b"no")
    (root / "b" / "keep.log").write_bytes(b"yes")
    os.utime(root / "a.txt", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))


async def run_sender(
    root: Path, metadata: dict[str, list[str]], synced: SyncedDir | None = None, **kwargs: Any
) -> tuple[list[pb.Stat], dict[str, bytes], FakeCall]:
    handler = diffcopy_handler({"context": synced or SyncedDir(str(root))})
    call = FakeCall({"dir-name": ["context"], **metadata})
    task = asyncio.ensure_future(handler(call))  # type: ignore[arg-type]
    stats, files = await asyncio.wait_for(receive_all(call, **kwargs), 10)
    await asyncio.wait_for(task, 5)
    return stats, files, call


async def test_diffcopy_lists_in_walk_order_and_sends_requested_files(tmp_path: Path) -> None:
    make_tree(tmp_path)
    stats, files, call = await run_sender(tmp_path, {"exclude-patterns": ["*.log", "!b/keep.log"]})
    paths = [s.path for s in stats]
    # fsutil's order: per directory sorted, depth first ("a/z" before "a.txt")
    assert paths == [
        "a", "a/z", "a.txt", "b", "b/inner.txt", "b/keep.log",
        "big.bin", "hard.txt", "link", "run.sh",
    ]  # fmt: skip
    by_path = {s.path: s for s in stats}
    assert by_path["a"].mode == (1 << 31) | (os.stat(tmp_path / "a").st_mode & 0o777)
    assert by_path["run.sh"].mode == 0o750
    assert by_path["link"].mode & (1 << 27) and by_path["link"].linkname == "a.txt"
    assert by_path["hard.txt"].linkname == "a.txt" and by_path["hard.txt"].size == 0
    assert by_path["a.txt"].mod_time == 1_600_000_000_123_456_789
    assert by_path["big.bin"].size == CHUNK * 3 + 17
    assert all(s.uid == 0 and s.gid == 0 for s in stats)
    assert files["big.bin"] == (tmp_path / "big.bin").read_bytes()
    assert files["a/z"] == b"z" and files["b/keep.log"] == b"yes"
    assert "hard.txt" not in files and "skip.log" not in files
    assert call.largest <= CHUNK + 64  # streamed in chunks, never a whole file


async def test_diffcopy_local_excludes_win_and_includes_bring_parents(tmp_path: Path) -> None:
    make_tree(tmp_path)
    synced = SyncedDir(str(tmp_path), excludes=("big.bin",))
    stats, files, _ = await run_sender(
        tmp_path, {"exclude-patterns": ["*"], "include-patterns": ["b/inner.txt", "big.bin"]},
        synced,
    )  # fmt: skip
    assert [s.path for s in stats] == ["b", "b/inner.txt"]
    assert files == {"b/inner.txt": b"inner"}


async def test_diffcopy_followpaths_follow_symlinks(tmp_path: Path) -> None:
    make_tree(tmp_path)
    stats, files, _ = await run_sender(tmp_path, {"followpaths": ["link"]})
    assert [s.path for s in stats] == ["a.txt", "link"]
    assert files == {"a.txt": b"a"}


async def test_diffcopy_only_serves_named_entries(tmp_path: Path) -> None:
    make_tree(tmp_path)
    synced = SyncedDir(str(tmp_path), excludes=(), only=("run.sh",))
    stats, files, _ = await run_sender(tmp_path, {}, synced)
    assert [s.path for s in stats] == ["run.sh"] and files == {"run.sh": b"#!/bin/sh\n"}


async def test_diffcopy_refuses_unknown_dirs_and_requests(tmp_path: Path) -> None:
    make_tree(tmp_path)
    handler = diffcopy_handler({"context": SyncedDir(str(tmp_path))})
    with pytest.raises(GrpcError) as info:
        await handler(FakeCall({"dir-name": ["../etc"]}))  # type: ignore[arg-type]
    assert info.value.code == 5
    call = FakeCall({"dir-name": ["context"]})
    task = asyncio.ensure_future(handler(call))  # type: ignore[arg-type]
    call.incoming.put_nowait(pb.encode_packet(pb.PACKET_REQ, id=10_000))
    with pytest.raises(GrpcError) as info:
        await asyncio.wait_for(task, 5)
    assert "invalid file request" in info.value.message


def test_walk_is_lazy_for_large_trees(tmp_path: Path) -> None:
    for i in range(2000):
        (tmp_path / f"f{i:05d}").write_bytes(b"x")
    entries = walk(str(tmp_path))
    first = [next(entries) for _ in range(3)]
    assert [s.path for s, _ in first] == ["f00000", "f00001", "f00002"]


# --- the gRPC server against an h2 client --------------------------------------------


class H2Client:
    """The daemon's side: an HTTP/2 client on a socket pair."""

    def __init__(self, sock: socket.socket, window: int) -> None:
        self.sock = sock
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.responses: dict[int, dict[str, Any]] = {}

    async def start(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(sock=self.sock)
        await self.flush()

    async def flush(self) -> None:
        self.writer.write(self.conn.data_to_send())
        await self.writer.drain()

    async def call(
        self, method: str, messages: list[bytes], metadata: Any = (), end: bool = True
    ) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"), (":scheme", "http"), (":path", method),
            (":authority", "session"), ("content-type", "application/grpc"), *metadata,
        ]  # fmt: skip
        self.conn.send_headers(sid, headers)
        self.responses[sid] = {"data": b"", "trailers": {}, "ended": False}
        for message in messages:
            self.send(sid, message)
        if end:
            self.conn.end_stream(sid)
        await self.flush()
        return sid

    def send(self, sid: int, message: bytes) -> None:
        self.conn.send_data(sid, b"\x00" + len(message).to_bytes(4, "big") + message)

    async def run_until(self, sid: int, until: Any = None) -> dict[str, Any]:
        while not self.responses[sid]["ended"]:
            if until is not None and until(self.responses[sid]):
                break
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            assert data, "server closed the connection"
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    # Credit is given back slowly, so the server must wait for it.
                    self.responses[event.stream_id]["data"] += event.data
                    self.conn.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id
                    )
                elif isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
                    self.responses[event.stream_id]["trailers"].update(dict(event.headers))
                elif isinstance(event, h2.events.StreamEnded):
                    self.responses[event.stream_id]["ended"] = True
            await self.flush()
        return self.responses[sid]


def split_messages(data: bytes) -> list[bytes]:
    out = []
    while data:
        size = int.from_bytes(data[1:5], "big")
        out.append(data[5 : 5 + size])
        data = data[5 + size :]
    return out


async def served(handlers: dict[str, Any], window: int = 65535) -> AsyncIterator[Any]:
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_unix_connection(RawConnection, sock=ours)
    stream = HijackedStream(conn, tty=True, what="test session")
    server = GrpcServer(stream, handlers)
    task = asyncio.ensure_future(server.serve())
    client = H2Client(theirs, window)
    await client.start()
    try:
        yield client
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stream.aclose()
        client.writer.close()


async def test_grpc_server_health_unimplemented_and_secrets() -> None:
    secrets = normalize_secrets({"tok": b"value-1"})
    async for client in served(
        {"/moby.buildkit.secrets.v1.Secrets/GetSecret": secrets_handler(secrets)}
    ):
        sid = await client.call("/grpc.health.v1.Health/Check", [b""])
        response = await client.run_until(sid)
        assert split_messages(response["data"]) == [b"\x08\x01"]
        assert response["trailers"]["grpc-status"] == "0"

        sid = await client.call("/moby.filesync.v1.Auth/FetchToken", [b""])
        response = await client.run_until(sid)
        assert response["trailers"]["grpc-status"] == "12" and response["data"] == b""

        sid = await client.call(
            "/moby.buildkit.secrets.v1.Secrets/GetSecret", [pb.string_field(1, "tok")]
        )
        response = await client.run_until(sid)
        assert split_messages(response["data"]) == [pb.bytes_field(1, b"value-1")]

        sid = await client.call(
            "/moby.buildkit.secrets.v1.Secrets/GetSecret", [pb.string_field(1, "nope")]
        )
        response = await client.run_until(sid)
        assert response["trailers"]["grpc-status"] == "5"
        assert "value-1" not in response["trailers"].get("grpc-message", "")


async def test_grpc_server_diffcopy_respects_a_small_flow_control_window(tmp_path: Path) -> None:
    make_tree(tmp_path)
    handlers = {
        "/moby.filesync.v1.FileSync/DiffCopy": diffcopy_handler(
            {"context": SyncedDir(str(tmp_path))}
        )
    }
    async for client in served(handlers, window=1000):
        # A 1000-byte window: every message waits for credit the client gives back.
        sid = await client.call(
            "/moby.filesync.v1.FileSync/DiffCopy",
            [],
            [("dir-name", "context"), ("exclude-patterns", "*.log")],
            end=False,
        )
        await client.run_until(sid, lambda r: r["data"].endswith(b"\x00\x00\x00\x00\x00"))
        listing = [pb.decode_packet(m) for m in split_messages(client.responses[sid]["data"])]
        assert listing[6].stat is not None and listing[6].stat.path == "big.bin"
        client.send(sid, pb.encode_packet(pb.PACKET_REQ, id=6))
        client.send(sid, pb.encode_packet(pb.PACKET_FIN))
        client.conn.end_stream(sid)
        await client.flush()
        response = await client.run_until(sid)
        assert response["trailers"]["grpc-status"] == "0"
        packets = [pb.decode_packet(m) for m in split_messages(response["data"])]
        data = b"".join(p.data for p in packets if p.type == pb.PACKET_DATA and p.id == 6)
        assert data == (tmp_path / "big.bin").read_bytes()
        assert packets[-1].type == pb.PACKET_FIN


# --- arguments ---------------------------------------------------------------------


def test_secret_sources_never_show_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert repr(BuildSecret(b"hunter2")) == "BuildSecret(<hidden>)"
    monkeypatch.setenv("AIODOCK_TEST_SECRET", "hunter2")
    env = BuildSecret.from_env("AIODOCK_TEST_SECRET")
    assert "hunter2" not in repr(env) and env._read() == b"hunter2"
    with pytest.raises(InvalidArgument) as info:
        normalize_secrets({"x": BuildSecret.from_file(tmp_path / "missing")})
    assert info.value.parameter == "secrets['x']"
    with pytest.raises(InvalidArgument):
        normalize_secrets({"x": 3})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument):
        normalize_secrets({"": b"v"})
    monkeypatch.delenv("AIODOCK_TEST_SECRET")
    with pytest.raises(InvalidArgument) as info:
        normalize_secrets({"e": env})
    assert "hunter2" not in str(info.value)


async def test_buildkit_arguments_fail_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    async with DockerClient("unix:///nonexistent.sock") as docker:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"context": tmp_path, "buildkit": "yes"}, "buildkit"),
            ({"context": b"tar", "buildkit": True}, "context"),
            ({"context": tmp_path, "buildkit": True, "squash": True}, "squash"),
            ({"context": tmp_path, "buildkit": True, "memory": 10}, "memory"),
            ({"context": tmp_path, "buildkit": True, "shm_size": 2**26}, "shm_size"),
            ({"context": tmp_path, "buildkit": True, "ulimits": {"nofile": 10}}, "ulimits"),
            ({"context": tmp_path, "ulimits": {"nofiles": 10}}, "ulimits"),
            ({"context": tmp_path, "buildkit": False, "secrets": {"a": b"x"}}, "secrets"),
            ({"context": tmp_path, "ssh": {"default": str(tmp_path / "nope")}}, "ssh['default']"),
            ({"context": tmp_path, "buildkit": True, "dockerfile": "Missing"}, "dockerfile"),
        ]
        for kwargs, parameter in cases:
            with pytest.raises(InvalidArgument) as info:
                docker.images.build(**kwargs)
            assert info.value.parameter == parameter, kwargs


class _PingResponse:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    async def read(self) -> bytes:
        return b"OK"

    def release(self) -> None:
        pass


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Builder-Version": "2"}, True), ({"Builder-Version": "1"}, False), ({}, False)],
)
async def test_default_follows_the_daemons_builder_version(
    monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], expected: bool
) -> None:
    from aiodock._buildkit.stream import daemon_uses_buildkit

    async with DockerClient("unix:///nonexistent.sock") as docker:
        sent: list[tuple[str, str]] = []

        async def send(request: Request, timeout: object = None) -> _PingResponse:
            sent.append((request.method, request.path))
            assert request.versioned is False
            return _PingResponse(headers)

        monkeypatch.setattr(docker, "_send", send)
        assert await daemon_uses_buildkit(docker) is expected
        assert await daemon_uses_buildkit(docker.with_options(timeout=3)) is expected
        assert sent == [("GET", "/_ping")]  # asked once per client


async def test_default_build_kinds(tmp_path: Path) -> None:
    from aiodock import BuildKitStream, BuildStream

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    async with DockerClient("unix:///nonexistent.sock") as docker:
        tar_build = docker.images.build(b"not really a tar")
        assert type(tar_build) is BuildStream  # a tar context can only be classic
        dir_build = docker.images.build(tmp_path)
        assert isinstance(dir_build, BuildKitStream) and dir_build.uses_buildkit is None
        classic = docker.images.build(tmp_path, buildkit=False)
        assert type(classic) is BuildStream
        for stream in (tar_build, dir_build, classic):
            await stream.aclose()


def test_a_step_run_again_is_not_completed_until_it_completes_again() -> None:
    from aiodock._buildkit.trace import SolveStatus, VertexEvent

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t1 = datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc)
    t2 = datetime(2026, 1, 1, 0, 0, 5, tzinfo=timezone.utc)
    progress = BuildProgress()
    progress.update(SolveStatus(vertexes=(VertexEvent("d", "load", started=t0, completed=t1),)))
    assert progress.steps["d"].done
    progress.update(SolveStatus(vertexes=(VertexEvent("d", "load", started=t2),)))
    step = progress.steps["d"]
    assert not step.done and step.duration is None and progress.completed == 0


# --- ulimits ------------------------------------------------------------------------------


def test_ulimits_rule_takes_mappings_models_and_strings() -> None:
    from aiodock import _rules, models

    wire = [
        {"Name": "nofile", "Soft": 1024, "Hard": 2048},
        {"Name": "nproc", "Soft": 64, "Hard": 64},
    ]
    assert _rules.ulimits({"nofile": (1024, 2048), "nproc": 64}) == wire
    assert (
        _rules.ulimits(
            [
                models.ResourcesUlimits(name="nofile", soft=1024, hard=2048),
                {"name": "nproc", "soft": 64, "hard": 64},
            ]
        )
        == wire
    )
    assert _rules.ulimits([{"Name": "nofile", "Soft": 1024, "Hard": 2048}, "nproc=64"]) == wire
    assert _rules.ulimits(["nofile=1024:2048", "core=-1"])[1] == {
        "Name": "core",
        "Soft": -1,
        "Hard": -1,
    }
    bad: list[Any] = [
        {"nofile": (2048, 1024)},  # soft above hard
        {"nofile": (-1, 10)},  # unlimited soft under a finite hard
        {"nofile": "many"},
        {"nofile": True},
        {"nofile": (1, 2, 3)},
        {"bogus": 1},
        ["nofile=x"],
        ["nofile=1", "nofile=2"],
        [{"name": "nofile", "limit": 3}],
        [42],
        "nofile=1",
    ]
    for value in bad:
        with pytest.raises(InvalidArgument) as info:
            _rules.ulimits(value)
        assert info.value.parameter == "ulimits", value


async def test_classic_build_sends_ulimits_as_json(tmp_path: Path) -> None:
    import json

    from aiodock.testing import FakeDocker

    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN true\n")
    async with FakeDocker() as fake, fake.client() as docker:
        await docker.images.build(
            tmp_path, buildkit=False, ulimits={"nofile": (1024, 2048)}
        ).result()
        [build] = [r for r in fake.requests if r.path == "/build"]
        assert json.loads(build.param("ulimits") or "") == [
            {"Name": "nofile", "Soft": 1024, "Hard": 2048}
        ]
        await docker.images.build(tmp_path, buildkit=False).result()
        assert [r for r in fake.requests if r.path == "/build"][-1].param("ulimits") is None


# --- FakeDocker's build route ------------------------------------------------------------


async def test_fake_docker_records_a_buildkit_build(tmp_path: Path) -> None:
    from aiodock.errors import BuildError
    from aiodock.testing import FakeDocker

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\nCOPY . /app\n"
    )
    (ctx / ".dockerignore").write_text("*.log\n")
    (ctx / "app.py").write_text("print(1)\n")
    (ctx / "debug.log").write_text("left out\n")
    async with FakeDocker() as fake, fake.client() as docker:
        stream = docker.images.build(
            ctx, tags="app:dev", buildkit=True, secrets={"tok": b"s3cret"}, labels={"a": "b"}
        )
        assert isinstance(stream, BuildKitStream)
        image_id = await stream.result()
        [record] = fake.builds
        assert record.buildkit and record.image_id == image_id
        assert record.files == {
            ".dockerignore": b"*.log\n",
            "Dockerfile": (ctx / "Dockerfile").read_bytes(),
            "app.py": b"print(1)\n",
        }
        assert record.secrets == {"tok": b"s3cret"} and "s3cret" not in repr(record)
        assert [s.name for s in stream.progress.steps.values()] == [
            "[1/3] FROM busybox",
            "[2/3] RUN --mount=type=secret,id=tok cat /run/secrets/tok",
            "[3/3] COPY . /app",
        ]
        assert (await docker.images.inspect("app:dev")).id == image_id

        fake.set_build(error="exit code: 3", failing_step=1, log=b"it broke\n")
        with pytest.raises(BuildError) as info:
            await docker.images.build(ctx, buildkit=True, secrets={"tok": b"x"}).result()
        assert info.value.step == "[2/3] RUN --mount=type=secret,id=tok cat /run/secrets/tok"
        assert info.value.log == "it broke\n" and fake.builds[-1].error == "exit code: 3"


async def test_fake_docker_default_builder_and_classic_builds(tmp_path: Path) -> None:
    from aiodock.testing import FakeDocker

    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN true\n")
    async with FakeDocker() as fake, fake.client() as docker:
        classic = docker.images.build(tmp_path)
        await classic.result()
        assert classic.uses_buildkit is False  # type: ignore[attr-defined]
        assert not fake.builds[-1].buildkit and "Dockerfile" in fake.builds[-1].files
        assert "Step 2/2 : RUN true" in classic.log

    async with FakeDocker() as fake, fake.client() as docker:
        fake.builder_version = "2"
        default = docker.images.build(tmp_path)
        await default.result()
        assert default.uses_buildkit is True  # type: ignore[attr-defined]
        assert fake.builds[-1].buildkit


async def test_fake_docker_buildkit_follows_the_queued_plans_and_the_dockerfile_config(
    tmp_path: Path,
) -> None:
    from aiodock.errors import BuildError
    from aiodock.testing import FakeDocker

    (tmp_path / "Dockerfile").write_text(
        'FROM busybox\nENV MODE=prod\nLABEL team=a\nRUN make \\\n    all\nCMD ["serve"]\n'
    )
    chosen = "sha256:" + "cd" * 32
    async with FakeDocker() as fake, fake.client() as docker:
        fake.set_build(image_id=chosen, output=["compiled\n"], log=b"made\n")
        fake.set_build(error="disk full", code=7)
        stream = docker.images.build(tmp_path, tags="app:1", buildkit=True, labels={"x": "y"})
        assert isinstance(stream, BuildKitStream)
        assert await stream.result() == chosen
        *_, last = stream.progress.steps.values()
        assert last.name == '[5/5] CMD ["serve"]' and last.log == "made\ncompiled\n"
        assert "[4/5] RUN make     all" in [s.name for s in stream.progress.steps.values()]
        image = fake.image("app:1")
        assert image.id == chosen and fake.builds[-1].tags == ["app:1"]
        assert image.labels == {"team": "a", "x": "y"} and "MODE=prod" in image.env
        assert image.cmd == ["serve"]

        # The second plan: failing after the steps, with its code; nothing built.
        with pytest.raises(BuildError, match="disk full") as failed:
            await docker.images.build(tmp_path, tags="app:2", buildkit=True).result()
        assert failed.value.code == 7 and "compiled" not in failed.value.log
        assert fake.builds[-1].image_id is None and fake.builds[-1].error == "disk full"
        with pytest.raises(KeyError):
            fake.image("app:2")
        # The queue is used up: an id from the Dockerfile and the context.
        built = await docker.images.build(tmp_path, buildkit=True).result()
        assert built.startswith("sha256:") and built != chosen


async def test_a_file_opened_for_a_cancelled_transfer_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The open runs in a thread that cancellation cannot stop: the file it
    # opens after the caller has gone must be closed, not left to the GC.
    from aiodock._buildkit import filesync

    target = tmp_path / "f.bin"
    target.write_bytes(b"x")
    entered, release = threading.Event(), threading.Event()
    opened: list[BinaryIO] = []

    def slow_open(path: str) -> BinaryIO:
        entered.set()
        release.wait(5)
        fh = open(path, "rb")  # noqa: SIM115 - closed by the code under test
        opened.append(fh)
        return fh

    monkeypatch.setattr(filesync, "_open_rb", slow_open)
    task = asyncio.ensure_future(filesync._open_for_reading(str(target)))
    await asyncio.to_thread(entered.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    for _ in range(500):
        if opened and opened[0].closed:
            break
        await asyncio.sleep(0.01)
    assert opened and opened[0].closed


# --- outputs: the local and tar exporters ----------------------------------------------------


class PipeCall:
    """One end of a call between our DiffCopy sender and our FileSend receiver."""

    def __init__(self, metadata: dict[str, list[str]] | None = None) -> None:
        self.metadata = metadata or {}
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.peer: PipeCall | None = None

    def header(self, name: str, default: str = "") -> str:
        values = self.metadata.get(name)
        return values[0] if values else default

    async def recv(self) -> bytes | None:
        message = await self.incoming.get()
        if message is None:
            self.incoming.put_nowait(None)
        return message

    def recv_nowait(self) -> bytes | None:
        if self.incoming.empty():
            return None
        message = self.incoming.get_nowait()
        if message is None:
            self.incoming.put_nowait(None)
        return message

    async def send(self, message: bytes) -> None:
        assert self.peer is not None
        self.peer.incoming.put_nowait(message)

    async def send_many(self, messages: Any) -> None:
        for message in messages:
            await self.send(message)


def pipe() -> tuple[PipeCall, PipeCall]:
    sender, receiver = PipeCall({"dir-name": ["context"]}), PipeCall()
    sender.peer, receiver.peer = receiver, sender
    return sender, receiver


async def test_local_output_round_trip_keeps_bytes_modes_times_and_links(tmp_path: Path) -> None:
    from aiodock._buildkit.exporter import filesend_handler, normalize_outputs

    src, dest = tmp_path / "src", tmp_path / "out" / "dest"
    make_tree(src)
    many = src / "many"
    many.mkdir()
    for i in range(100):  # more files than requests in flight
        (many / f"f{i:03}").write_bytes(os.urandom(i * 97))
    (tmp_path / "victim").write_bytes(b"untouched")
    dest.mkdir(parents=True)
    (dest / "a.txt").symlink_to(tmp_path / "victim")  # left by someone: replaced, not followed
    output = normalize_outputs({"type": "local", "dest": dest})
    assert output is not None and output.wire() == [{"Type": "local", "Attrs": {}}]
    sender, receiver = pipe()
    sending = asyncio.ensure_future(diffcopy_handler({"context": SyncedDir(str(src))})(sender))  # type: ignore[arg-type]
    await asyncio.wait_for(filesend_handler(output)(receiver), 10)  # type: ignore[arg-type]
    sender.incoming.put_nowait(None)
    await asyncio.wait_for(sending, 5)
    assert output.error is None
    assert (tmp_path / "victim").read_bytes() == b"untouched"
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        got = dest / rel
        info, mine = path.lstat(), got.lstat()
        assert stat.S_IFMT(info.st_mode) == stat.S_IFMT(mine.st_mode), rel
        assert stat.S_IMODE(info.st_mode) == stat.S_IMODE(mine.st_mode), rel
        if path.is_symlink():
            assert os.readlink(got) == os.readlink(path)
        elif path.is_file():
            assert got.read_bytes() == path.read_bytes(), rel
            assert abs(mine.st_mtime_ns - info.st_mtime_ns) < 1000, rel
    assert (dest / "hard.txt").stat().st_ino == (dest / "a.txt").stat().st_ino


async def hostile_export(dest: Path, packets: list[bytes]) -> BaseException | None:
    """Feed a scripted sender's packets to the receiver; the error the output records."""
    from aiodock._buildkit.exporter import filesend_handler, normalize_outputs

    output = normalize_outputs(str(dest))
    assert output is not None
    _, receiver = pipe()
    for packet in packets:
        receiver.incoming.put_nowait(packet)
    receiver.incoming.put_nowait(None)
    with pytest.raises(GrpcError):
        await asyncio.wait_for(filesend_handler(output)(receiver), 5)  # type: ignore[arg-type]
    return output.error


def stat_packet(path: str, mode: int, **fields: Any) -> bytes:
    return pb.encode_packet(pb.PACKET_STAT, stat=pb.Stat(path=path, mode=mode, **fields))


async def test_local_output_refuses_escapes_and_writes_nothing_outside(tmp_path: Path) -> None:
    from aiodock._tar.extract import UnsafeArchiveError

    outside = tmp_path / "outside"
    outside.mkdir()
    end = pb.encode_packet(pb.PACKET_STAT)
    cases = [
        [stat_packet("../escape", 0o644, size=1), end],
        [stat_packet("/abs", 0o644, size=1), end],
        [stat_packet("ln", (1 << 27) | 0o777, linkname=str(outside)), end],
        [
            stat_packet("up", (1 << 27) | 0o777, linkname="../.."),
            stat_packet("up/x", 0o644, size=1),
            end,
        ],
    ]
    for i, packets in enumerate(cases):
        dest = tmp_path / f"dest{i}"
        error = await hostile_export(dest, packets)
        assert isinstance(error, UnsafeArchiveError), (i, error)
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape").exists()

    # Data for a file never requested, and a listing cut short, end the call.
    error = await hostile_export(
        tmp_path / "d5", [pb.encode_packet(pb.PACKET_DATA, id=3, data=b"x")]
    )
    assert error is None  # a protocol error, reported to the daemon
    error = await hostile_export(tmp_path / "d6", [stat_packet("f", 0o644, size=1)])
    assert error is None


async def test_tar_output_to_a_file_and_a_file_object(tmp_path: Path) -> None:
    import io

    from aiodock._buildkit.exporter import filesend_handler, normalize_outputs

    chunks = [os.urandom(1000) for _ in range(50)]
    for dest in (tmp_path / "out.tar", io.BytesIO()):
        output = normalize_outputs({"type": "tar", "dest": dest})
        assert output is not None and output.wire() == [{"Type": "tar", "Attrs": {}}]
        _, receiver = pipe()
        for chunk in chunks:
            receiver.incoming.put_nowait(pb.bytes_field(1, chunk))
        receiver.incoming.put_nowait(None)
        await asyncio.wait_for(filesend_handler(output)(receiver), 5)  # type: ignore[arg-type]
        got = dest.getvalue() if isinstance(dest, io.BytesIO) else dest.read_bytes()
        assert got == b"".join(chunks)
    assert sorted(os.listdir(tmp_path)) == ["out.tar"]  # no temporary left

    # Cut short (the call reset): the destination is not created, no temporary is left.
    output = normalize_outputs(f"type=tar,dest={tmp_path / 'cut.tar'}")
    assert output is not None
    _, receiver = pipe()
    receiver.incoming.put_nowait(pb.bytes_field(1, b"partial"))
    task = asyncio.ensure_future(filesend_handler(output)(receiver))  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(os.listdir(tmp_path)) == ["out.tar"]


def test_outputs_arguments(tmp_path: Path) -> None:
    from aiodock._buildkit.exporter import normalize_outputs

    (tmp_path / "file").write_text("x")
    local = normalize_outputs(str(tmp_path / "new"))
    assert local is not None and (local.type, local.dest) == ("local", str(tmp_path / "new"))
    tar = normalize_outputs([f"type=tar,dest={tmp_path / 'o.tar'}"])
    assert tar is not None and (tar.type, tar.dest) == ("tar", str(tmp_path / "o.tar"))
    bad: list[Any] = [
        "type=image,name=x",
        "type=oci,dest=x.tar",
        "type=local",
        {"type": "local", "dest": tmp_path, "extra": "1"},
        {"type": "local", "dest": tmp_path / "file"},
        {"type": "tar", "dest": tmp_path},
        {"type": "tar", "dest": tmp_path / "missing" / "o.tar"},
        {"type": "local", "dest": 3},
        ["a", "b"],
        [],
        "type=local,,dest=x",
        42,
    ]
    for value in bad:
        with pytest.raises(InvalidArgument) as info:
            normalize_outputs(value)
        assert info.value.parameter == "outputs", value


async def test_outputs_need_buildkit_and_make_a_default_build_buildkit(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    async with DockerClient("unix:///nonexistent.sock") as docker:
        with pytest.raises(InvalidArgument) as info:
            docker.images.build(tmp_path, buildkit=False, outputs=str(tmp_path / "o"))
        assert info.value.parameter == "outputs"
        with pytest.raises(InvalidArgument) as info:
            docker.images.build(b"tar", outputs=str(tmp_path / "o"))
        assert info.value.parameter == "context"
        stream = docker.images.build(tmp_path, outputs=f"type=tar,dest={tmp_path / 'o.tar'}")
        assert isinstance(stream, BuildKitStream)
        plan = stream._plan
        assert plan is not None and plan.buildkit is True
        assert plan.params["outputs"] == [{"Type": "tar", "Attrs": {}}]
        await stream.aclose()


async def test_grpc_server_holds_back_credit_while_a_call_has_unread_data() -> None:
    from aiodock._buildkit import session

    release = asyncio.Event()
    received: list[int] = []

    async def slow_reader(call: Any) -> None:
        await release.wait()
        while (message := await call.recv()) is not None:
            received.append(len(message))

    async for client in served({"/test.Slow/Read": slow_reader}):
        sid = await client.call("/test.Slow/Read", [], end=False)
        message = pb.bytes_field(1, b"x" * 16000)  # one frame each
        sent = 0
        while sent < 4 << 20:
            if client.conn.local_flow_control_window(sid) < len(message) + 5:
                try:
                    data = await asyncio.wait_for(client.reader.read(65536), 0.5)
                except asyncio.TimeoutError:
                    break  # no credit comes back: the server holds it
                client.conn.receive_data(data)
                continue
            client.send(sid, message)
            await client.flush()
            sent += 1
        held = sent * (len(message) + 5)
        assert held <= session._RECV_QUEUE + 3 * 65535, held  # bounded, not the 4 MiB
        release.set()
        client.conn.end_stream(sid)
        await client.flush()
        response = await client.run_until(sid)
        assert response["trailers"]["grpc-status"] == "0"
        assert len(received) == sent


async def test_grpc_server_packs_messages_into_few_frames_and_writes_them_soon() -> None:
    frames: list[int] = []

    async def many(call: Any) -> None:
        await call.recv()
        await call.send_many([b"m" * 10] * 100)  # 1,500 bytes: one frame, one write
        await call.send(b"last")

    async for client in served({"/test.Many/Send": many}):
        original = client.conn.receive_data

        def counting(data: bytes, original: Any = original) -> Any:
            events = original(data)
            frames.extend(len(e.data) for e in events if isinstance(e, h2.events.DataReceived))
            return events

        client.conn.receive_data = counting
        sid = await client.call("/test.Many/Send", [b""])
        response = await client.run_until(sid)
        assert split_messages(response["data"]) == [b"m" * 10] * 100 + [b"last"]
        assert response["trailers"]["grpc-status"] == "0"
        assert len(frames) <= 2, frames  # not one frame per message
