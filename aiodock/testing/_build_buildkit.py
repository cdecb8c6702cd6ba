"""FakeDocker's BuildKit builds (``POST /build?version=2&session=...``).

The build finds the session the client opened (``POST /session``, upgraded to
h2c) and, like the daemon, acts as its gRPC client: it fetches the Dockerfile
and the context through ``FileSync/DiffCopy`` and the secrets the Dockerfile
mounts through ``Secrets/GetSecret``, records them in the build's
:class:`~._build.BuildRecord`, then answers with ``moby.buildkit.trace``
progress (one step per Dockerfile instruction) and the image id, or the failure
scripted with :meth:`FakeDocker.set_build`. Needs ``h2``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._buildkit import _proto as pb
from ._build import (
    BuildPlan,
    BuildRecord,
    ImageConfig,
    extra_labels,
    parse_dockerfile,
    requested_tags,
    store_image,
    tag_image,
)
from ._wire import Abandoned, Answer, FakeRequest, json_body

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["build_buildkit", "session"]

_SESSION_WAIT = 5.0
_MAX_CONTEXT = 64 << 20
_SECRET_MOUNT = re.compile(r"--mount=(\S*type=secret\S*)")


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


def _secret_ids(dockerfile: str) -> list[str]:
    ids = []
    for match in _SECRET_MOUNT.finditer(dockerfile):
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
    digest = hashlib.sha256(record.dockerfile.encode())
    for path in sorted(record.files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(record.files[path]).digest())
    return "sha256:" + digest.hexdigest()


async def _fetch(sess: _Session, record: BuildRecord) -> None:
    """The Dockerfile, the context and the mounted secrets, from the session."""
    name = record.params.get("dockerfile") or "Dockerfile"
    record.session_methods = sess.methods
    dockerfile_files, _, _ = await sess.diffcopy("dockerfile", [name])
    if name not in dockerfile_files:
        raise Answer(500, f"failed to read dockerfile: open {name}: no such file")
    record.dockerfile = dockerfile_files[name].decode("utf-8", "replace")
    record.files, record.modes, record.links = await sess.diffcopy("context")
    for secret_id in _secret_ids(record.dockerfile):
        status, answer = await sess.unary(
            "/moby.buildkit.secrets.v1.Secrets/GetSecret", pb.string_field(1, secret_id)
        )
        value = pb.first(answer or b"", 1, b"") if status == 0 else None
        record.secrets[secret_id] = value if isinstance(value, bytes) else None


async def _fail(writer: Any, record: BuildRecord, plan: BuildPlan) -> web.StreamResponse:
    message = plan.error or ""
    record.error = message
    detail: dict[str, Any] = {"message": message}
    if plan.code is not None:
        detail = {"code": plan.code, "message": message}
    await writer.write(json_body({"errorDetail": detail, "error": message}))
    finished: web.StreamResponse = await writer.finish()
    return finished


async def build_buildkit(
    req: FakeRequest, record: BuildRecord, plan: BuildPlan
) -> web.StreamResponse:
    """Fetch through the session, then trace one step per instruction (``plan`` may fail one)."""
    fake = req.fake
    session_id = record.params.get("session", "")
    if not session_id:
        raise Answer(400, "a BuildKit build (version=2) needs a session parameter")
    deadline = time.monotonic() + _SESSION_WAIT
    while session_id not in _sessions(fake):
        if time.monotonic() > deadline:
            raise Answer(400, f"no active session for {session_id}: context deadline exceeded")
        await asyncio.sleep(0.01)
    await _fetch(_sessions(fake)[session_id], record)
    labels = extra_labels(req)
    steps = parse_dockerfile(record.dockerfile, strict=False)
    failing = None
    if plan.error is not None:
        failing = plan.failing_step if plan.failing_step is not None else len(steps) - 1
    # The scripted log (and output) belongs to the failing step, else to the last one.
    log_at = failing if failing is not None else len(steps) - 1
    config = ImageConfig()
    writer = await fake.open_stream(req, "application/json")
    try:
        now = time.time()
        for index, step in enumerate(steps):
            name = f"[{index + 1}/{len(steps)}] {step.text}"
            digest = "sha256:" + hashlib.sha256(f"{index}/{step.text}".encode()).hexdigest()
            failed = index == failing
            await writer.write(_trace([_vertex(digest, name, started=now, completed=None)]))
            output = plan.log + "".join(plan.output).encode() if index == log_at else b""
            logs = [pb.string_field(1, digest) + pb.int_field(3, 1) + pb.bytes_field(4, output)]
            error = (plan.error or "") if failed else ""
            done = _vertex(digest, name, started=now, completed=now + 0.001, error=error)
            await writer.write(_trace([done], logs if output else []))
            if failed:
                return await _fail(writer, record, plan)
            if step.keyword == "FROM":
                base = fake._find_image(step.args.split()[0]) if step.args else None
                if base is not None:  # an unknown base builds as from scratch
                    config.start_from(base)
            else:
                config.apply(step)
        if plan.error is not None:  # a failing step past the last instruction
            return await _fail(writer, record, plan)
        config.labels.update(labels)
        image_id = plan.image_id or _image_id(record)
        image = store_image(fake, image_id, config)
        record.tags = requested_tags(req)
        for tag in record.tags:
            tag_image(fake, image, tag)
        record.image_id = image_id
        await writer.write(json_body({"id": "moby.image.id", "aux": {"ID": image_id}}))
        response: web.StreamResponse = await writer.finish()
        return response
    except (ConnectionError, OSError):
        return Abandoned()  # the client went away (a cancelled build)
