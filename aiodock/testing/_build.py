"""FakeDocker's image builds: classic (a tar body) and BuildKit (a session it calls back).

A BuildKit build (``POST /build?version=2&session=...``) finds the session the
client opened (``POST /session``, upgraded to h2c) and, like the daemon,
acts as its gRPC client: it fetches the Dockerfile and the context through
``FileSync/DiffCopy`` and the secrets the Dockerfile mounts through
``Secrets/GetSecret``, records all of it as a :class:`BuildRecord`
(``fake.builds``), then answers with ``moby.buildkit.trace`` progress (one
step per Dockerfile instruction) and the image id, or the failure scripted
with :meth:`FakeDocker.set_build`. A classic build records the tar's files
and answers with ``Step n/m`` lines. Needs ``h2`` for BuildKit builds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import re
import tarfile
import time
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from .._buildkit import _proto as pb
from ._state import FakeImage, normalize_ref, now_ns
from ._wire import Abandoned, Answer, FakeRequest, json_body

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["BuildPlan", "BuildRecord", "build", "build_cancel", "session"]

_SESSION_WAIT = 5.0
_MAX_CONTEXT = 64 << 20
_SECRET_MOUNT = re.compile(r"--mount=(\S*type=secret\S*)")


@attrs.define
class BuildPlan:
    """What the next builds answer: an image id, or a failing step with its log."""

    error: str | None = None
    #: Index (0-based) of the Dockerfile instruction that fails; default the last one.
    failing_step: int | None = None
    log: bytes = b""
    image_id: str | None = None


@attrs.define
class BuildRecord:
    """One build the fake received.

    ``files`` maps context paths to their content (regular files), ``modes``
    every context entry to its mode (Go ``os.FileMode`` bits for BuildKit,
    tar modes for classic), ``secrets`` the values the session gave for the
    secrets the Dockerfile mounts (hidden from the repr).
    """

    params: dict[str, str]
    buildkit: bool
    dockerfile: bytes = b""
    files: dict[str, bytes] = attrs.Factory(dict)
    modes: dict[str, int] = attrs.Factory(dict)
    links: dict[str, str] = attrs.Factory(dict)
    secrets: dict[str, bytes | None] = attrs.field(factory=dict, repr=False)
    image_id: str | None = None
    error: str | None = None
    cancelled: bool = False
    session_methods: tuple[str, ...] = ()


# --- the session: the fake is the gRPC client -----------------------------------------


class _Stream:
    def __init__(self, session: _Session, stream_id: int) -> None:
        self.session = session
        self.stream_id = stream_id
        self.messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.buffer = bytearray()
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[1:5], "big"):
            size = int.from_bytes(buf[1:5], "big")
            self.messages.put_nowait(bytes(buf[5 : 5 + size]))
            del buf[: 5 + size]

    async def send(self, message: bytes, *, end: bool = False) -> None:
        frame = b"\x00" + len(message).to_bytes(4, "big") + message
        self.session.h2.send_data(self.stream_id, frame, end_stream=end)
        await self.session.flush()

    async def recv(self) -> bytes | None:
        message = await asyncio.wait_for(self.messages.get(), 30)
        if message is None:
            self.messages.put_nowait(None)
        return message

    @property
    def status(self) -> int:
        return int(self.trailers.get("grpc-status", "2"))


class _Session:
    def __init__(self, conn: Any, methods: tuple[str, ...]) -> None:
        import h2.config
        import h2.connection

        self.conn = conn
        self.methods = methods
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        self.streams: dict[int, _Stream] = {}
        self.closed = asyncio.Event()

    async def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            await self.conn.write(data)

    async def run(self) -> None:
        import h2.events

        self.h2.initiate_connection()
        await self.flush()
        try:
            while True:
                data = await self.conn.inbox.get()
                if not data:
                    return
                for event in self.h2.receive_data(data):
                    stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
                    if isinstance(event, h2.events.DataReceived):
                        self.h2.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                        if stream is not None:
                            stream.feed(event.data)
                    elif stream is None:
                        continue
                    elif isinstance(
                        event, (h2.events.ResponseReceived, h2.events.TrailersReceived)
                    ):
                        for key, value in event.headers or ():
                            stream.trailers[_text(key)] = _text(value)
                    elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                        stream.messages.put_nowait(None)
                await self.flush()
        finally:
            self.closed.set()
            for stream in self.streams.values():
                stream.messages.put_nowait(None)

    async def open(self, method: str, metadata: list[tuple[str, str]]) -> _Stream:
        if method not in self.methods:
            raise Answer(500, f"the session does not serve {method}")
        stream_id = self.h2.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", "fake-session"),
            ("content-type", "application/grpc"),
            *metadata,
        ]
        stream = self.streams[stream_id] = _Stream(self, stream_id)
        self.h2.send_headers(stream_id, headers)
        await self.flush()
        return stream

    async def unary(self, method: str, request: bytes) -> tuple[int, bytes | None]:
        stream = await self.open(method, [])
        await stream.send(request, end=True)
        answer = await stream.recv()
        while await stream.recv() is not None:
            pass
        return stream.status, answer

    async def diffcopy(
        self, name: str, followpaths: list[str] | None = None
    ) -> tuple[dict[str, bytes], dict[str, int], dict[str, str]]:
        metadata = [("dir-name", name)]
        metadata += [("followpaths", p) for p in followpaths or ()]
        stream = await self.open("/moby.filesync.v1.FileSync/DiffCopy", metadata)
        stats: list[pb.Stat] = []
        while True:
            raw = await stream.recv()
            if raw is None:
                raise Answer(500, f"DiffCopy {name}: the session ended the listing early")
            packet = pb.decode_packet(raw)
            if packet.type == pb.PACKET_ERR:
                raise Answer(500, f"DiffCopy {name}: {packet.data.decode(errors='replace')}")
            if packet.stat is None:
                break
            stats.append(packet.stat)
        wanted = {i: s.path for i, s in enumerate(stats) if s.mode >> 20 == 0 and not s.linkname}
        for ident in wanted:
            await stream.send(pb.encode_packet(pb.PACKET_REQ, id=ident))
        parts: dict[int, list[bytes]] = {i: [] for i in wanted}
        open_ids = set(wanted)
        total = 0
        while open_ids:
            raw = await stream.recv()
            if raw is None:
                raise Answer(500, f"DiffCopy {name}: the session ended before all files came")
            packet = pb.decode_packet(raw)
            if packet.type != pb.PACKET_DATA or packet.id not in open_ids:
                raise Answer(500, f"DiffCopy {name}: unexpected packet {packet.type}")
            if packet.data:
                total += len(packet.data)
                if total > _MAX_CONTEXT:
                    raise Answer(500, "FakeDocker keeps contexts up to 64 MiB")
                parts[packet.id].append(packet.data)
            else:
                open_ids.discard(packet.id)
        await stream.send(pb.encode_packet(pb.PACKET_FIN), end=True)
        while await stream.recv() is not None:
            pass
        files = {wanted[i]: b"".join(chunks) for i, chunks in parts.items()}
        modes = {s.path: s.mode for s in stats}
        links = {s.path: s.linkname for s in stats if s.linkname}
        return files, modes, links


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _sessions(fake: FakeDocker) -> dict[str, _Session]:
    return fake._build_sessions


async def session(req: FakeRequest) -> web.StreamResponse:
    """``POST /session``: upgrade, then serve as the gRPC client until the client goes."""
    fake = req.fake
    session_id = req.headers.get("X-Docker-Expose-Session-Uuid", "")
    if not session_id:
        raise Answer(400, "X-Docker-Expose-Session-Uuid is required")
    headers: Any = req.recorded.headers  # a multidict: the method header repeats
    methods = tuple(headers.getall("X-Docker-Expose-Session-Grpc-Method", []))
    conn, _ = await fake.hijack(req)
    sess = _Session(conn, methods)
    _sessions(fake)[session_id] = sess
    try:
        await sess.run()
    except (ConnectionError, OSError):
        pass
    finally:
        _sessions(fake).pop(session_id, None)
        fake.release(conn)
    return Abandoned()


# --- the build --------------------------------------------------------------------------


def _instructions(dockerfile: bytes) -> list[str]:
    lines = []
    pending = ""
    for line in dockerfile.decode("utf-8", "replace").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    return lines


def _secret_ids(dockerfile: bytes) -> list[str]:
    ids = []
    for match in _SECRET_MOUNT.finditer(dockerfile.decode("utf-8", "replace")):
        options: dict[str, str] = {}
        for part in match.group(1).split(","):
            key, _, value = part.partition("=")
            options[key] = value
        secret_id = options.get("id") or options.get("target", "").rsplit("/", 1)[-1]
        if secret_id:
            ids.append(secret_id)
    return ids


def _timestamp(seconds: float) -> bytes:
    whole = int(seconds)
    return pb.int_field(1, whole) + pb.int_field(2, int((seconds - whole) * 1e9))


def _trace(vertexes: list[bytes] = (), logs: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    body = b"".join(pb.bytes_field(1, v) for v in vertexes)
    body += b"".join(pb.bytes_field(3, log) for log in logs)
    return json_body({"id": "moby.buildkit.trace", "aux": base64.b64encode(body).decode()})


def _vertex(
    digest: str, name: str, *, started: float, completed: float | None, error: str = ""
) -> bytes:
    return b"".join(
        (
            pb.string_field(1, digest),
            pb.string_field(3, name),
            pb.bytes_field(5, _timestamp(started)),
            pb.bytes_field(6, _timestamp(completed)) if completed is not None else b"",
            pb.string_field(7, error),
        )
    )


def _image_id(record: BuildRecord) -> str:
    digest = hashlib.sha256(record.dockerfile)
    for path in sorted(record.files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(record.files[path]).digest())
    return "sha256:" + digest.hexdigest()


async def build(req: FakeRequest) -> web.StreamResponse:
    """``POST /build``: BuildKit through the session for ``version=2``, else classic."""
    fake = req.fake
    params = {key: values[-1] for key, values in req.query.items() if values}
    buildkit = params.get("version") == "2"
    record = BuildRecord(params=params, buildkit=buildkit)
    plan: BuildPlan = fake._build_plan
    dockerfile_name = params.get("dockerfile") or "Dockerfile"
    if buildkit:
        session_id = params.get("session", "")
        deadline = time.monotonic() + _SESSION_WAIT
        while session_id not in _sessions(fake):
            if time.monotonic() > deadline:
                raise Answer(400, f"no active session for {session_id}: context deadline exceeded")
            await asyncio.sleep(0.01)
        sess = _sessions(fake)[session_id]
        record.session_methods = sess.methods
        dockerfile_files, _, _ = await sess.diffcopy("dockerfile", [dockerfile_name])
        if dockerfile_name not in dockerfile_files:
            raise Answer(500, f"failed to read dockerfile: open {dockerfile_name}: no such file")
        record.dockerfile = dockerfile_files[dockerfile_name]
        record.files, record.modes, record.links = await sess.diffcopy("context")
        for secret_id in _secret_ids(record.dockerfile):
            status, answer = await sess.unary(
                "/moby.buildkit.secrets.v1.Secrets/GetSecret", pb.string_field(1, secret_id)
            )
            value = pb.first(answer or b"", 1, b"") if status == 0 else None
            record.secrets[secret_id] = value if isinstance(value, bytes) else None
    else:
        try:
            with tarfile.open(fileobj=io.BytesIO(req.body)) as tar:
                for member in tar:
                    record.modes[member.name] = member.mode
                    if member.isfile():
                        extracted = tar.extractfile(member)
                        record.files[member.name] = extracted.read() if extracted else b""
                    elif member.issym() or member.islnk():
                        record.links[member.name] = member.linkname
        except tarfile.TarError as exc:
            raise Answer(500, f"the build context is not a tar: {exc}") from None
        record.dockerfile = record.files.get(dockerfile_name, b"")
        if not record.dockerfile:
            raise Answer(500, f"Cannot locate specified Dockerfile: {dockerfile_name}")
    fake.builds.append(record)
    steps = _instructions(record.dockerfile)
    failing = None
    if plan.error is not None:
        failing = plan.failing_step if plan.failing_step is not None else len(steps) - 1
    writer = await fake.open_stream(req, "application/json")
    try:
        now = time.time()
        for index, text in enumerate(steps):
            name = f"[{index + 1}/{len(steps)}] {text}"
            digest = "sha256:" + hashlib.sha256(f"{index}/{text}".encode()).hexdigest()
            failed = index == failing
            if buildkit:
                await writer.write(_trace([_vertex(digest, name, started=now, completed=None)]))
                logs = []
                if plan.log and (failed or (failing is None and index == len(steps) - 1)):
                    logs.append(
                        pb.string_field(1, digest)
                        + pb.int_field(3, 1)
                        + pb.bytes_field(4, plan.log)
                    )
                error = (plan.error or "") if failed else ""
                done = _vertex(digest, name, started=now, completed=now + 0.001, error=error)
                await writer.write(_trace([done], logs))
            else:
                await writer.write(
                    json_body({"stream": f"Step {index + 1}/{len(steps)} : {text}\n"})
                )
                if plan.log and (failed or (failing is None and index == len(steps) - 1)):
                    await writer.write(json_body({"stream": plan.log.decode(errors="replace")}))
            if failed:
                record.error = plan.error
                assert plan.error is not None
                await writer.write(
                    json_body({"errorDetail": {"message": plan.error}, "error": plan.error})
                )
                finished: web.StreamResponse = await writer.finish()
                return finished
        image_id = plan.image_id or _image_id(record)
        record.image_id = image_id
        tags = [normalize_ref(tag) for tag in req.query.get("t", [])]
        for other in fake.images.values():
            other.tags = [t for t in other.tags if t not in tags]
        labels = None
        with contextlib.suppress(ValueError):
            labels = json.loads(params.get("labels") or "null") or None
        fake.images[image_id] = FakeImage(
            id=image_id, tags=tags, created=now_ns() // 1_000_000_000, labels=labels
        )
        if buildkit:
            await writer.write(json_body({"id": "moby.image.id", "aux": {"ID": image_id}}))
        else:
            await writer.write(json_body({"aux": {"ID": image_id}}))
            await writer.write(json_body({"stream": f"Successfully built {image_id[7:19]}\n"}))
        response: web.StreamResponse = await writer.finish()
        return response
    except (ConnectionError, OSError):
        return Abandoned()  # the client went away (a cancelled build)


async def build_cancel(req: FakeRequest) -> web.StreamResponse:
    build_id = req.arg("id") or ""
    for record in req.fake.builds:
        if record.params.get("buildid") == build_id:
            record.cancelled = True
    return web.Response(status=200)
