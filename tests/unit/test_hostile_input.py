"""Hostile input: ids that try to leave their URL segment, redirects, archives, TLS.

- Path parameters: every operation of the Engine API that takes an id or name
  (the table of tests/unit/test_operation_coverage.py) is called with ids built
  to escape (``../../images/x``, ``?``, ``#``, CR/LF, ``%2e``...). Either the
  method refuses the id before sending anything (``InvalidArgument``), or every
  request it sends carries the id as one opaque, percent-encoded path segment:
  no other endpoint, no query, no header is reachable. Query values get the
  same treatment.
- Redirects are never followed, for any method; a 3xx is an error.
- Archive extraction: what tests/unit/test_archive.py does not already try
  (pre-existing links in the target, hard links through them, backslashes,
  link loops, set-id bits), nothing is ever written outside the target.
- TLS: verification is on unless switched off explicitly, and switching it off
  always warns; checked end to end against a real TLS server.
- A hostile or faulty daemon: invalid or wrongly shaped JSON, huge error bodies,
  frames cut short, malformed event JSON, an error in the middle of a pull, bodies
  that stall, keep-alive connections it drops: always a ``DockerError`` subclass,
  never a made-up end of stream, never a hang.

SSH host keys are checked strictly (``BatchMode=yes``, the user's known_hosts):
tests/integration/test_transports.py::test_ssh_unknown_host_key_is_refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import ssl
import stat
import tarfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import trustme
from aiohttp import web

from aiodock import DockerClient
from aiodock._config import InsecureTLSWarning, TLSConfig
from aiodock._http.request import Request
from aiodock._http.transport import ssh_command
from aiodock._tar.archive import ArchiveExtractionError, UnsafeArchiveError, extract_archive
from aiodock.errors import (
    APIError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    ResponseValidationError,
    ServerError,
    StreamError,
    TruncatedStreamError,
)
from aiodock.testing import FakeDocker
from tests._wait import eventually, pooled_and_open
from tests.unit import test_operation_coverage as coverage
from tests.unit._server import ping_app, reply, serve

HOSTILE_IDS = [
    "../../images/x",
    "..",
    ".",
    "...",
    "a/b",
    "a?all=1&x=y",
    "a#frag",
    "x\r\nX-Evil: 1",
    "x\nHost: evil",
    "%2e%2e",
    "%2F..%2Fimages",
    "sp ace",
    "naïve-日本",
    "a;b=c",
]

# --- path parameters ---------------------------------------------------------------------


def _id_operations() -> list[Any]:
    cases = []
    for op_id, op in [*coverage.OPERATIONS.items(), *coverage.ALSO]:
        positions = [i for i, arg in enumerate(op.args) if arg == coverage.ID]
        listed = [
            i for i, arg in enumerate(op.args) if isinstance(arg, list) and coverage.ID in arg
        ]
        if positions or listed:
            cases.append(pytest.param(op_id, op, id=f"{op_id}-{op.method}"))
    return cases


ID_OPERATIONS = _id_operations()


def _with_id(op: coverage.Op, ident: str) -> coverage.Op:
    """A copy of ``op`` called with ``ident`` wherever the table used its dummy id."""
    args = tuple(
        ident
        if arg == coverage.ID
        else [ident if x == coverage.ID else x for x in arg]
        if isinstance(arg, list)
        else arg
        for arg in op.args
    )
    copy = coverage.Op(op.method, *args, **op.kwargs)
    copy.reply, copy.content_type, copy.headers = op.reply, op.content_type, op.headers
    copy.api = op.api
    # A lookup answer naming the object (secrets.update reads the current spec) names it
    # by the same hostile id.
    copy.lookup = op.lookup.replace(json.dumps(coverage.ID).encode(), json.dumps(ident).encode())
    return copy


def test_the_table_gives_enough_operations_with_ids() -> None:
    assert len(ID_OPERATIONS) >= 55


Seen = list[tuple[str, str, str, list[str]]]


def recording_app(op: coverage.Op, expected: tuple[str, str], seen: Seen) -> web.Application:
    """Records (method, raw path, raw query, header names); answers like the coverage table."""
    inner = coverage.recording_app(op, expected, [])
    answer = next(iter(inner.router.routes())).handler

    # A middleware sees every request, even one whose path no route pattern matches
    # (aiohttp's ``.*`` stops at a decoded newline).
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        raw_path, _, raw_query = request.raw_path.partition("?")
        seen.append((request.method, raw_path, raw_query, sorted(request.headers)))
        return await answer(request)

    return web.Application(middlewares=[record])


async def _run(op: coverage.Op, expected: tuple[str, str]) -> tuple[Seen, BaseException | None]:
    seen: Seen = []
    error: BaseException | None = None
    async with (
        serve(recording_app(op, expected, seen)) as address,
        DockerClient(address, api_version=op.api) as client,
    ):
        try:
            await asyncio.wait_for(coverage.perform(client, op), 10)
        except DockerError as exc:
            error = exc
    return seen, error


def _segment(ident: str) -> str:
    quoted = quote(ident, safe="")
    return quoted.replace(".", "%2E") if quoted.strip(".") == "" else quoted


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (HTTP method, path template) from spec/engine-api.json."""
    return coverage.load_operations()


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))


@pytest.mark.usefixtures("no_docker_config")
@pytest.mark.parametrize(("op_id", "op"), ID_OPERATIONS)
async def test_hostile_ids_stay_in_their_path_segment(
    op_id: str, op: coverage.Op, operations: dict[str, tuple[str, str]]
) -> None:
    http_method, template = operations[op_id]

    def expected_for(ident: str) -> tuple[str, str]:
        segment = _segment(ident)
        return http_method, template.replace("{id}", segment).replace("{name}", segment)

    benign, benign_error = await _run(_with_id(op, coverage.ID), expected_for(coverage.ID))
    assert benign_error is None, f"{op_id} fails even with a plain id: {benign_error}"
    assert any(coverage.ID in path + query for _, path, query, _ in benign)
    sent = 0
    for ident in HOSTILE_IDS:
        seen, error = await _run(_with_id(op, ident), expected_for(ident))
        if not seen:
            # Refused before any request: fine, as long as it says so clearly.
            assert isinstance(error, InvalidArgument), f"{op_id} {ident!r}: {error!r}"
            continue
        sent += 1
        assert error is None, f"{op_id} {ident!r}: {error!r}"
        # The same requests as with a plain id; the id percent-encoded in its place.
        assert len(seen) == len(benign), (op_id, ident, seen)
        for (method, path, query, headers), (b_method, b_path, b_query, b_headers) in zip(
            seen, benign, strict=True
        ):
            assert method == b_method
            assert path == b_path.replace(coverage.ID, _segment(ident)), (op_id, ident)
            assert not any(c in path for c in "?#\r\n \x00")
            want = {
                k: [v.replace(coverage.ID, ident) for v in vs]
                for k, vs in parse_qs(b_query, keep_blank_values=True).items()
            }
            assert parse_qs(query, keep_blank_values=True) == want, (op_id, ident)
            assert headers == b_headers  # nothing injected
    assert sent, f"{op_id}: every hostile id was refused; nothing was checked on the wire"


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[web.Request]]]:
    app = ping_app()
    seen: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({})

    app.router.add_route("*", "/v1.41/{tail:.*}", record)
    async with serve(app) as host:
        yield host, seen


@pytest.mark.parametrize("value", HOSTILE_IDS)
async def test_hostile_query_values_stay_in_their_parameter(
    recorder: tuple[str, list[web.Request]], value: str
) -> None:
    host, seen = recorder
    async with DockerClient(host) as docker:
        await docker.containers.top("c1", ps_args=value)
        await docker.request("GET", "/x", params={"filters": {"label": [value]}, "v": value})
        await docker.networks.list(filters={"name": [value]})
    top, raw, listing = seen
    assert parse_qs(urlsplit(top.raw_path).query) == {"ps_args": [value]}
    query = parse_qs(urlsplit(raw.raw_path).query)
    assert set(query) == {"filters", "v"} and query["v"] == [value]
    assert json.loads(query["filters"][0]) == {"label": [value]}
    filters = json.loads(parse_qs(urlsplit(listing.raw_path).query)["filters"][0])
    assert filters == {"name": {value: True}} or filters == {"name": [value]}
    for request in seen:
        assert "X-Evil" not in request.headers and request.host != "evil"


def test_ssh_uses_batch_mode_and_no_host_key_override() -> None:
    from aiodock._http.transport import parse_host

    argv = ssh_command(parse_host("ssh://me@example.test:2222"), [])
    assert "BatchMode=yes" in argv
    assert not any("StrictHostKeyChecking" in a or "UserKnownHostsFile" in a for a in argv)
    # Host and command come after "--": a host name cannot smuggle in options.
    assert argv[argv.index("--") + 1 :] == ["example.test", "docker", "system", "dial-stdio"]


async def test_ssh_host_that_looks_like_an_option_is_not_one() -> None:
    from aiodock._http.transport import parse_host

    try:
        endpoint = parse_host("ssh://-oProxyCommand=touch /tmp/pwned")
    except InvalidArgument:
        return
    argv = ssh_command(endpoint, [])
    assert argv.index("--") < argv.index(endpoint.hostname or "")


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("location", ["/v1.41/images/json", "http://127.0.0.1:9/steal"])
async def test_redirects_are_never_followed(status: int, method: str, location: str) -> None:
    app = ping_app()
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=status, headers={"Location": location})

    async def target(request: web.Request) -> web.Response:
        hits.append("TARGET")
        return web.json_response([{"Id": "leaked"}])

    app.router.add_route("*", "/v1.41/containers/{id}/{tail:.*}", redirect)
    app.router.add_route("*", "/v1.41/images/json", target)
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(APIError) as info:
            await docker._read(Request(method, "/containers/c1/x"))
    assert info.value.status == status
    assert "redirect" in str(info.value)
    assert hits == ["/v1.41/containers/c1/x"]


async def test_a_redirected_stream_is_not_followed() -> None:
    app = ping_app()
    app.router.add_get(
        "/v1.41/containers/c1/json",
        reply(lambda: web.json_response({"Id": "c1", "Config": {"Tty": False}})),
    )
    app.router.add_get(
        "/v1.41/containers/c1/logs",
        reply(lambda: web.Response(status=307, headers={"Location": "/v1.41/events"})),
    )
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(APIError):
            await docker.containers.logs("c1").read()


# --- archives --------------------------------------------------------------------------------


def _tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def _entry(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o755
    return info, None


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    out: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        out[str(path.relative_to(root))] = (st.st_mode, data)
    return out


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(outside, dest): ``outside`` holds a file and a read-only directory to protect."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_bytes(b"precious")
    (outside / "ro").mkdir(mode=0o555)
    dest = tmp_path / "dest"
    dest.mkdir()
    before = _snapshot(outside)
    yield outside, dest
    assert _snapshot(outside) == before, "something outside the target changed"
    assert sorted(os.listdir(tmp_path)) == ["dest", "outside"]


async def test_hard_link_through_a_pre_existing_symlink_is_refused(
    sandbox: tuple[Path, Path],
) -> None:
    outside, dest = sandbox
    (dest / "ln").symlink_to(outside / "file")
    with pytest.raises(UnsafeArchiveError):
        await extract_archive(_tar(_entry("h", tarfile.LNKTYPE, "ln")), dest)


async def test_directory_member_over_a_symlink_to_outside_is_refused(
    sandbox: tuple[Path, Path],
) -> None:
    outside, dest = sandbox
    (dest / "d").symlink_to(outside / "ro")
    archive = _tar(_entry("d", tarfile.DIRTYPE), _file("d/planted"))
    with pytest.raises(UnsafeArchiveError):
        await extract_archive(archive, dest)


async def test_file_member_over_a_symlink_to_outside_replaces_the_link(
    sandbox: tuple[Path, Path],
) -> None:
    outside, dest = sandbox
    (dest / "f").symlink_to(outside / "file")
    await extract_archive(_tar(_file("f", b"mine")), dest)
    assert not (dest / "f").is_symlink()
    assert (dest / "f").read_bytes() == b"mine"


@pytest.mark.parametrize("name", ["..\\evil", "a\\..\\..\\evil", "C:\\evil", "\\evil"])
async def test_windows_style_escapes_are_refused(sandbox: tuple[Path, Path], name: str) -> None:
    _, dest = sandbox
    with pytest.raises(UnsafeArchiveError):
        await extract_archive(_tar(_file(name)), dest)


async def test_skipped_unsafe_link_does_not_redirect_later_members(
    sandbox: tuple[Path, Path],
) -> None:
    _, dest = sandbox
    archive = _tar(_entry("l", tarfile.SYMTYPE, "../outside"), _file("l/planted", b"p"))
    names = await extract_archive(archive, dest, skip_unsafe_links=True)
    assert names == ["l/planted"]
    assert (dest / "l").is_dir() and not (dest / "l").is_symlink()


@pytest.mark.parametrize(
    "members",
    [
        [_entry("a", tarfile.SYMTYPE, "a"), _file("a/x")],
        [_entry("a", tarfile.SYMTYPE, "b"), _entry("b", tarfile.SYMTYPE, "a"), _file("a/x")],
        [_file("x"), _entry("x/y", tarfile.DIRTYPE)],
        [_entry("h", tarfile.LNKTYPE, "missing")],
        [_file("n" * 300)],
    ],
    ids=["self-loop", "loop", "file-as-dir", "dangling-hard-link", "long-name"],
)
async def test_malformed_archives_fail_without_touching_anything_outside(
    sandbox: tuple[Path, Path], members: list[tuple[tarfile.TarInfo, bytes | None]]
) -> None:
    _, dest = sandbox
    # Refused (UnsafeArchiveError) or failing (ArchiveExtractionError): a DockerError either way.
    with pytest.raises((UnsafeArchiveError, ArchiveExtractionError)):
        await extract_archive(_tar(*members), dest)


async def test_set_id_bits_and_device_nodes_are_dropped(sandbox: tuple[Path, Path]) -> None:
    _, dest = sandbox
    archive = _tar(
        _file("suid", b"#!/bin/sh\n", 0o6755),
        _entry("dev", tarfile.CHRTYPE),
        _entry("fifo", tarfile.FIFOTYPE),
    )
    assert await extract_archive(archive, dest) == ["suid"]
    assert stat.S_IMODE((dest / "suid").stat().st_mode) == 0o755
    assert sorted(os.listdir(dest)) == ["suid"]


# --- TLS -------------------------------------------------------------------------------------


class TLSServer:
    def __init__(self, ca: trustme.CA, port: int) -> None:
        self.ca = ca
        self.port = port
        self.host = f"tcp://127.0.0.1:{port}"

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()


@pytest.fixture
async def tls_server() -> AsyncIterator[TLSServer]:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    runner = web.AppRunner(ping_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield TLSServer(ca, port)
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def no_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("how", ["tls=True", "https://", "TLSConfig()"])
async def test_untrusted_certificate_is_refused_by_default(tls_server: TLSServer, how: str) -> None:
    if how == "https://":
        client = DockerClient(f"https://127.0.0.1:{tls_server.port}")
    else:
        client = DockerClient(tls_server.host, tls=True if how == "tls=True" else TLSConfig())
    with no_warnings():
        async with client:
            with pytest.raises(DockerConnectionError) as info:
                await client.system.ping()
    assert "certificate" in str(info.value).lower()


async def test_trusted_certificate_works_without_warning(tls_server: TLSServer) -> None:
    with no_warnings():
        async with DockerClient(tls_server.host, tls=TLSConfig(ca_cert=tls_server.ca_pem)) as c:
            assert await c.system.ping()


async def test_certificate_for_another_name_is_refused(tls_server: TLSServer) -> None:
    tls = TLSConfig(ca_cert=tls_server.ca_pem, server_hostname="docker.example")
    async with DockerClient(tls_server.host, tls=tls) as client:
        with pytest.raises(DockerConnectionError):
            await client.system.ping()


async def test_hijacked_connections_verify_too(tls_server: TLSServer) -> None:
    async with DockerClient(tls_server.host, tls=True, api_version="1.41") as client:
        with pytest.raises(DockerConnectionError):
            await client._hijack(Request("POST", "/containers/c1/attach"), tty=True)


async def test_switching_verification_off_is_explicit_and_warns(tls_server: TLSServer) -> None:
    with pytest.warns(InsecureTLSWarning, match="verification"):
        client = DockerClient(tls_server.host, tls=TLSConfig(verify=False))
    async with client:
        assert await client.system.ping()


def _cert_dir(tmp_path: Path, ca_pem: bytes | None) -> Path:
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir()
    if ca_pem is not None:
        (cert_dir / "ca.pem").write_bytes(ca_pem)
    return cert_dir


async def test_env_without_tls_verify_warns(tls_server: TLSServer, tmp_path: Path) -> None:
    env = {
        "DOCKER_HOST": tls_server.host,
        "DOCKER_TLS": "1",
        "DOCKER_CERT_PATH": str(_cert_dir(tmp_path, None)),
        "DOCKER_CONFIG": str(tmp_path),
    }
    with pytest.warns(InsecureTLSWarning):
        client = DockerClient.from_env(env)
    async with client:
        assert await client.system.ping()


@pytest.mark.parametrize("trusted", [True, False])
async def test_env_with_tls_verify_checks_the_certificate(
    tls_server: TLSServer, tmp_path: Path, trusted: bool
) -> None:
    ca = tls_server.ca_pem if trusted else trustme.CA().cert_pem.bytes()
    env = {
        "DOCKER_HOST": tls_server.host,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(_cert_dir(tmp_path, ca)),
        "DOCKER_CONFIG": str(tmp_path),
    }
    with no_warnings():
        async with DockerClient.from_env(env) as client:
            if trusted:
                assert await client.system.ping()
            else:
                with pytest.raises(DockerConnectionError):
                    await client.system.ping()


# --- hostile daemon answers --------------------------------------------------------------


async def test_invalid_json_from_the_daemon_is_a_validation_error() -> None:
    app = ping_app()
    app.router.add_get(
        "/v1.41/containers/c1/json",
        reply(lambda: web.Response(body=b'{"Id": "c1", ', content_type="application/json")),
    )
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(ResponseValidationError, match="invalid JSON") as caught:
            await docker.containers.inspect("c1")
        assert not isinstance(caught.value, DockerConnectionError)
        assert (caught.value.method, caught.value.path) == ("GET", "/containers/c1/json")


async def test_a_huge_error_body_is_not_read_whole() -> None:
    app = ping_app()
    huge = b"E" * (16 << 20)
    app.router.add_get(
        "/v1.41/containers/c1/json",
        reply(lambda: web.Response(status=500, body=huge, content_type="text/plain")),
    )
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(APIError) as info:
            await docker.containers.inspect("c1")
    assert info.value.status == 500
    assert len(info.value.message) <= 1 << 20


@pytest.mark.parametrize(
    "body", [b"5", b'{"Args": 5}', b'{"State": {"Pid": "abc"}}'], ids=["number", "int-list", "pid"]
)
async def test_a_wrongly_shaped_answer_is_a_docker_error(body: bytes) -> None:
    app = ping_app()
    app.router.add_get(
        "/v1.41/containers/c1/json",
        reply(lambda: web.Response(body=body, content_type="application/json")),
    )
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(ResponseValidationError) as caught:
            inspected = await docker.containers.inspect("c1")
            # Nested parts are structured on first access: a bad one raises there.
            _ = inspected.state
    assert not isinstance(caught.value, DockerConnectionError)
    assert "does not fit ContainerInspectResponse" in str(caught.value)


# --- a faulty daemon, through the public methods (FakeDocker) -------------------------------


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[FakeDocker, DockerClient]]:
    async with FakeDocker() as fake, fake.client() as docker:
        fake.set_output("talker", [(1, b"0123456789"), (2, b"abcdef"), (1, b"ghij")], None)
        talker = fake.add_container(name="talker", cmd=["talk"], running=True)
        await eventually(lambda: len(talker.log) == 3)  # the scripted output is in the log
        yield fake, docker


async def test_a_log_frame_cut_by_a_clean_end_of_body_raises(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    fake.truncate_next("GET", "/containers/*/logs", after_bytes=18 + 8 + 2, eof=True)
    seen: list[bytes] = []
    with pytest.raises(TruncatedStreamError):
        async for frame in docker.containers.logs("talker", tty=False):
            seen.append(frame.data)
    assert b"".join(seen) == b"0123456789ab"  # everything before the cut, nothing made up
    assert await docker.containers.logs("talker", tty=False).read() == b"0123456789abcdefghij"


@pytest.mark.parametrize("after", [3, 12, 30])
async def test_a_log_body_cut_by_a_dropped_connection_raises(
    faulty: tuple[FakeDocker, DockerClient], after: int
) -> None:
    fake, docker = faulty
    fake.truncate_next("GET", "/containers/*/logs", after_bytes=after)
    with pytest.raises(DockerConnectionError):
        await docker.containers.logs("talker", tty=False).read()


async def test_malformed_json_in_the_event_stream_raises_after_the_good_events(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    good = json.dumps({"Type": "container", "Action": "start", "Actor": {"ID": "x"}})

    @fake.route("GET", "/events")
    async def events(request: Any) -> bytes:
        return (good + "\n" + '{"Type": "container", "Action": \n').encode()

    got = []
    with pytest.raises(StreamError, match="malformed JSON"):
        async for event in docker.system.events():
            got.append(event)
    assert [(e.type, e.action) for e in got] == [("container", "start")]


async def test_an_error_in_the_middle_of_a_pull_raises_after_the_progress(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    fake.set_pull("127.0.0.1:5000/app:1", error="received unexpected HTTP status: 500")
    messages = []
    with pytest.raises(StreamError, match="unexpected HTTP status: 500"):
        async for message in docker.images.pull("127.0.0.1:5000/app:1", auth={}):
            messages.append(message)
    assert messages, "the progress before the error is delivered"
    assert not any(getattr(m, "error", None) for m in messages)  # the error is never an item


async def test_a_stalled_stream_trips_the_inactivity_timeout(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    fake.stall_next("GET", "/events", after_bytes=0)
    began = time.monotonic()
    with pytest.raises(DockerTimeoutError):
        await docker.system.events(inactivity_timeout=0.3).collect()
    fake.stall_next("GET", "/containers/*/logs", after_bytes=18)
    quick = docker.with_options(stream_timeout=0.3)
    with pytest.raises(DockerTimeoutError):
        await quick.containers.logs("talker", follow=True, tty=False).read()
    assert time.monotonic() - began < 5
    assert await docker.containers.logs("talker", tty=False).read() == b"0123456789abcdefghij"


async def test_a_stalled_ordinary_call_times_out_then_calls_work(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    fake.stall_next("GET", "/containers/*/json", after_bytes=5)
    with pytest.raises(DockerTimeoutError):
        await docker.with_options(timeout=0.3).containers.inspect("talker")
    fake.fail_next("GET", "/containers/*/json", 500, "the daemon hiccuped")
    with pytest.raises(ServerError, match="the daemon hiccuped") as info:
        await docker.containers.inspect("talker")
    assert "/containers/talker/json" in str(info.value)
    assert (await docker.containers.inspect("talker")).name == "/talker"


async def test_keepalive_connections_closed_by_the_daemon_are_not_an_error(
    faulty: tuple[FakeDocker, DockerClient],
) -> None:
    fake, docker = faulty
    for _ in range(3):
        await docker.containers.inspect("talker")
        assert fake.close_keepalive() >= 1
        await eventually(lambda: not pooled_and_open(docker))  # the close has arrived
        await docker.containers.inspect("talker")  # GET
        await docker.exec.create("talker", cmd=["true"])  # POST
