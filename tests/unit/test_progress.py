"""Progress messages, the progress aggregator and the pull/push/build stream semantics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import attrs
import pytest
from aiohttp import web

from aiodock import DockerClient
from aiodock._convert import structure
from aiodock._http.request import Request
from aiodock._registry.auth import is_auth_failure, registry_refused
from aiodock._streams.frames import JSONStreamDecoder
from aiodock._streams.progress import BuildStream, ProgressStream, ProgressTracker, error_parts
from aiodock.errors import (
    BuildError,
    RegistryAuthError,
    ServerError,
    StreamError,
    Unauthorized,
)
from aiodock.models.progress import ProgressMessage
from tests.unit._server import ping_app, serve


def msg(**data: Any) -> ProgressMessage:
    return ProgressMessage.from_wire(data)


# --- ProgressMessage -------------------------------------------------------------------

WIRE = [
    {"status": "Pulling from library/x", "id": "latest"},
    {"status": "Downloading", "progressDetail": {"current": 10, "total": 100}, "id": "abc"},
    {"status": "Preparing", "progressDetail": {}, "id": "abc"},
    {"stream": "Step 1/2 : FROM scratch\n"},
    {"aux": {"ID": "sha256:" + "a" * 64}},
    {"progressDetail": {}, "aux": {"Tag": "1", "Digest": "sha256:" + "b" * 64, "Size": 736}},
    {"errorDetail": {"code": 1, "message": "boom"}, "error": "boom"},
    {"status": "x", "unknown": {"key": 1}, "progressDetail": {"current": None, "total": "7"}},
]


@pytest.mark.parametrize("data", WIRE)
def test_from_wire_matches_the_converter(data: dict[str, Any]) -> None:
    fast = ProgressMessage.from_wire(data)
    slow = structure(data, ProgressMessage)
    if fast.progress_detail is None and slow.progress_detail is not None:
        # ``{}`` means "no byte counts": the fast path leaves it out.
        assert slow.progress_detail.current == slow.progress_detail.total == 0
        slow = attrs.evolve(slow, progress_detail=None)
    assert fast == slow


def test_message_byte_shortcuts() -> None:
    m = msg(status="Downloading", progressDetail={"current": 5, "total": 9}, id="l")
    assert (m.current, m.total) == (5, 9)
    assert (msg(status="Waiting").current, msg(status="Waiting").total) == (0, 0)


# --- tracker -------------------------------------------------------------------------


def feed(tracker: ProgressTracker, messages: Iterable[dict[str, Any]]) -> None:
    for m in messages:
        tracker.update(ProgressMessage.from_wire(m))


PULL: list[dict[str, Any]] = [
    {"status": "Pulling from aiodock/app", "id": "1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "l1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "l2"},
    {"status": "Already exists", "progressDetail": {}, "id": "l0"},
    {"status": "Downloading", "progressDetail": {"current": 100, "total": 1000}, "id": "l1"},
    {"status": "Downloading", "progressDetail": {"current": 50, "total": 500}, "id": "l2"},
]


def test_tracker_follows_a_pull() -> None:
    t = ProgressTracker()
    feed(t, PULL)
    assert t.status == "Pulling from aiodock/app"  # the tag line is not a layer
    assert set(t.layers) == {"l0", "l1", "l2"}
    assert t.layers["l0"].done
    assert (t.transferred, t.transfer_total) == (150, 1500)
    assert t.fraction == pytest.approx(0.1)
    feed(
        t,
        [
            {"status": "Download complete", "progressDetail": {}, "id": "l1"},
            {"status": "Extracting", "progressDetail": {"current": 10, "total": 2000}, "id": "l1"},
        ],
    )
    assert t.layers["l1"].transferred == 1000
    assert (t.extracted, t.extract_total) == (10, 2000)
    feed(
        t,
        [
            {"status": "Pull complete", "progressDetail": {}, "id": "l1"},
            {"status": "Verifying Checksum", "progressDetail": {}, "id": "l2"},
            {"status": "Pull complete", "progressDetail": {}, "id": "l2"},
            {"status": "Digest: sha256:" + "c" * 64},
            {"status": "Status: Downloaded newer image for aiodock/app:1"},
        ],
    )
    assert t.layers_done == t.layers_total == 3
    assert t.fraction == 1.0
    assert t.extracted == t.extract_total == 2000
    assert t.status.startswith("Status: Downloaded")
    assert t.messages == len(PULL) + 7


def test_tracker_clamps_overshooting_push_counts() -> None:
    # The engine reports more bytes pushed than the layer's size (seen on 20.10).
    t = ProgressTracker()
    feed(
        t,
        [
            {"status": "Preparing", "progressDetail": {}, "id": "a"},
            {"status": "Pushing", "progressDetail": {"current": 138752, "total": 3216}, "id": "a"},
            {"status": "Mounted from other/repo", "progressDetail": {}, "id": "b"},
            {"status": "Retrying in 5 seconds", "progressDetail": {}, "id": "c"},
        ],
    )
    assert t.layers["a"].transferred == 3216
    assert t.layers["b"].done
    assert not t.layers["c"].done
    feed(t, [{"status": "Pushed", "progressDetail": {}, "id": "a"}])
    assert t.layers_done == 2


def test_tracker_load_layers_finish_at_their_total() -> None:
    t = ProgressTracker()
    feed(
        t,
        [
            {
                "status": "Loading layer",
                "progressDetail": {"current": 32768, "total": 65536},
                "id": "x",
            },
            {
                "status": "Loading layer",
                "progressDetail": {"current": 65536, "total": 65536},
                "id": "x",
            },
        ],
    )
    assert t.layers["x"].done
    assert t.fraction == 1.0
    assert "1/1 layers" in repr(t)


def test_tracker_unknown_totals_give_no_fraction() -> None:
    t = ProgressTracker()
    assert t.fraction is None
    feed(t, [{"status": "Waiting", "id": "a"}, {"stream": "no status"}])
    assert t.fraction is None
    assert t.layers["a"].status == "Waiting"


# --- auth failure detection ------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("no basic auth credentials", True),
        ("unauthorized: authentication required", True),
        ("login attempt to http://r/v2/ failed with status: 401 Unauthorized", True),
        ("denied: requested access to the resource is denied", True),
        ("manifest unknown", False),
        ("connection refused", False),
    ],
)
def test_is_auth_failure(message: str, expected: bool) -> None:
    assert is_auth_failure(message) is expected


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (401, "anything", True),
        (500, "Get https://r/v2/: unauthorized: authentication required", True),
        (500, "login attempt to http://r/v2/ failed with status: 401", True),
        (500, "manifest unknown", False),
        (500, "dial tcp: port 4010 refused", False),  # 401 inside a number is not a status
        (404, "unauthorized", False),  # a missing image stays a NotFound
    ],
)
def test_registry_refused(status: int, message: str, expected: bool) -> None:
    assert registry_refused(status, message) is expected


def test_registry_auth_error_is_both_unauthorized_and_stream_error() -> None:
    exc = RegistryAuthError("no basic auth credentials", method="POST", path="/images/x/push")
    assert isinstance(exc, Unauthorized)
    assert isinstance(exc, StreamError)
    assert exc.status == 401 and exc.http_status is None
    assert exc.message == "no basic auth credentials"
    assert "POST /images/x/push" in str(exc) and "refused" in str(exc)


# --- streams against a scripted server ----------------------------------------------------


def lines(*objects: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\r\n" for o in objects)


def scripted(chunks: list[bytes], *, status: int = 200, delay: float = 0.0) -> web.Application:
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        if status != 200:
            return web.json_response({"message": chunks[0].decode()}, status=status)
        response = web.StreamResponse()
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
            if delay:
                await asyncio.sleep(delay)
        return response

    app.router.add_post("/v1.41/op", handler)
    return app


def open_stream(client: DockerClient, cls: type[ProgressStream[Any]], **setup: Any) -> Any:
    # A registry operation's request says so; its stream maps in-band refusals.
    request = Request("POST", "/op", registry=setup.get("auth_errors", False))
    stream = client._stream(request, JSONStreamDecoder(), stream_class=cls)
    stream._setup(**setup)
    return stream


async def test_push_error_raises_after_the_messages_before_it() -> None:
    body = lines(
        {"status": "The push refers to repository [127.0.0.1:5000/x]"},
        {"status": "Preparing", "progressDetail": {}, "id": "a"},
        {"errorDetail": {"message": "blob upload unknown"}, "error": "blob upload unknown"},
        {"status": "never seen"},
    )
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        stream = open_stream(client, ProgressStream, auth_errors=True)
        seen: list[str] = []
        with pytest.raises(StreamError, match="blob upload unknown") as info:
            async for m in stream:
                seen.append(m.status)
        assert not isinstance(info.value, Unauthorized)
        assert seen == ["The push refers to repository [127.0.0.1:5000/x]", "Preparing"]
        assert stream.response is None  # released


async def test_in_band_auth_failure_raises_registry_auth_error() -> None:
    body = lines(
        {"status": "Preparing", "progressDetail": {}, "id": "a"},
        {
            "errorDetail": {"message": "unauthorized: authentication required"},
            "error": "unauthorized: authentication required",
        },
    )
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        stream = open_stream(client, ProgressStream, auth_errors=True)
        with pytest.raises(RegistryAuthError) as info:
            await stream.wait()
        assert info.value.http_status is None
        assert info.value.path == "/op"


async def test_http_auth_failure_maps_to_registry_auth_error() -> None:
    app = scripted([b"Head http://r/v2/x/manifests/1: no basic auth credentials"], status=500)
    async with serve(app) as url, DockerClient(url) as client:
        with pytest.raises(RegistryAuthError) as info:
            await open_stream(client, ProgressStream, auth_errors=True)
        assert info.value.http_status == 500
        assert info.value.message == "Head http://r/v2/x/manifests/1: no basic auth credentials"
        # Without auth mapping the plain server error comes through.
        with pytest.raises(ServerError) as plain:
            await open_stream(client, ProgressStream)
        assert not isinstance(plain.value, Unauthorized)


async def test_pull_digest_push_digest_load_names_and_import_id() -> None:
    digest = "sha256:" + "d" * 64
    body = lines(
        {"status": "Digest: " + digest},
        {"progressDetail": {}, "aux": {"Tag": "1", "Digest": digest, "Size": 1}},
        {"stream": "Loaded image: aiodock-test/busybox:latest\n"},
        {"stream": "Loaded image ID: sha256:" + "e" * 64 + "\n"},
        {"status": "sha256:" + "f" * 64},
    )
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        stream = open_stream(client, ProgressStream)
        await stream.wait()
        assert stream.digest == digest
        assert stream.aux == {"Tag": "1", "Digest": digest, "Size": 1}
        assert stream.loaded == ["aiodock-test/busybox:latest", "sha256:" + "e" * 64]
        assert stream.image_id == "sha256:" + "f" * 64
        assert stream.tracker.messages == 5


async def test_non_object_item_raises() -> None:
    async with serve(scripted([b'"just a string"\n'])) as url, DockerClient(url) as client:
        with pytest.raises(StreamError, match="expected a JSON object"):
            await open_stream(client, ProgressStream).wait()


BUILD_OK = lines(
    {"stream": "Step 1/2 : FROM scratch"},
    {"stream": "\n"},
    {"stream": " ---> Running in 123\n"},
    {"aux": {"ID": "sha256:" + "1" * 64}},
    {"stream": "Successfully built 111111111111\n"},
    {"stream": "Successfully tagged aiodock-test/x:1\n"},
)


async def test_build_stream_reports_id_tags_and_log() -> None:
    # Split the body at awkward places: the decoder must reassemble documents.
    chunks = [BUILD_OK[i : i + 7] for i in range(0, len(BUILD_OK), 7)]
    async with serve(scripted(chunks)) as url, DockerClient(url) as client:
        stream = open_stream(client, BuildStream)
        assert await stream.result() == "sha256:" + "1" * 64
        assert stream.tags == ["aiodock-test/x:1"]
        assert stream.log.startswith("Step 1/2 : FROM scratch\n ---> Running in 123\n")
        assert stream.context_bytes == 0


async def test_build_without_aux_falls_back_to_successfully_built() -> None:
    body = lines({"stream": "Successfully built 0123456789ab\n"})
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        assert await open_stream(client, BuildStream).result() == "0123456789ab"


async def test_quiet_build_prints_just_the_id() -> None:
    body = lines({"stream": "sha256:" + "2" * 64 + "\n"})
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        assert await open_stream(client, BuildStream).result() == "sha256:" + "2" * 64


async def test_build_error_carries_the_log_so_far() -> None:
    body = lines(
        {"stream": "Step 1/2 : RUN false\n"},
        {"stream": " ---> Running in 456\n"},
        {
            "errorDetail": {
                "code": 1,
                "message": "The command '/bin/sh -c false' returned a non-zero code: 1",
            },
            "error": "The command '/bin/sh -c false' returned a non-zero code: 1",
        },
    )
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        stream = open_stream(client, BuildStream)
        with pytest.raises(BuildError) as info:
            await stream.result()
        assert info.value.code == 1
        assert "returned a non-zero code: 1" in info.value.message
        assert info.value.log == "Step 1/2 : RUN false\n ---> Running in 456\n"


async def test_build_without_id_is_an_error() -> None:
    body = lines({"stream": "Step 1/1 : FROM scratch\n"})
    async with serve(scripted([body])) as url, DockerClient(url) as client:
        with pytest.raises(StreamError, match="without reporting an image id"):
            await open_stream(client, BuildStream).result()


async def test_build_log_is_capped() -> None:
    from aiodock._streams import progress as _progress

    stream = BuildStream(None, JSONStreamDecoder(), what="POST /build")
    piece = "x" * (1 << 20) + "\n"
    for _ in range(6):
        stream._observe(ProgressMessage(stream=piece))
    assert len(stream.log) <= _progress._MAX_LOG
    assert stream.log.endswith(piece)


async def test_prepare_runs_once_before_the_request() -> None:
    calls: list[int] = []

    async def prepare() -> None:
        calls.append(1)

    async with serve(scripted([lines({"status": "ok"})])) as url, DockerClient(url) as client:
        stream = open_stream(client, ProgressStream, prepare=prepare)
        async with stream as entered:
            assert entered is stream
            assert [m.status async for m in entered] == ["ok"]
        assert calls == [1]


async def test_opening_returns_the_subclass() -> None:
    async with serve(scripted([BUILD_OK])) as url, DockerClient(url) as client:
        stream = open_stream(client, BuildStream)
        started = await stream.open()
        assert started is stream
        messages = await stream.collect()
        assert len(messages) == 6
        assert stream.image_id == "sha256:" + "1" * 64


# --- errors reported inside a progress stream ----------------------------------------------


def test_normal_progress_messages_report_no_error() -> None:
    assert error_parts({"status": "Pulling fs layer", "id": "abc", "progressDetail": {}}) is None
    assert error_parts({"stream": "Step 1/2 : FROM scratch\n"}) is None
    assert error_parts({"error": "", "errorDetail": {}}) is None
    assert error_parts([1, 2]) is None
    assert error_parts("error") is None


def test_error_detail_message_and_code_win_over_error() -> None:
    detail = {"errorDetail": {"message": "manifest unknown", "code": 404}, "error": "other"}
    assert error_parts(detail) == ("manifest unknown", 404)
    denied = "denied: requested access to the resource is denied"
    assert error_parts({"error": denied}) == (denied, None)


def test_a_detail_without_message_falls_back_to_error() -> None:
    assert error_parts({"errorDetail": {"code": 1}, "error": "build failed"}) == ("build failed", 1)
    missing = "the daemon reported an error without a message"
    assert error_parts({"errorDetail": {"code": "x"}}) == (missing, None)
    assert error_parts({"errorDetail": {"message": ""}, "error": ""}) == (missing, None)


def test_only_an_integer_is_an_error_code_and_a_plain_detail_is_the_message() -> None:
    assert error_parts({"errorDetail": {"message": "m", "code": "5"}}) == ("m", None)
    assert error_parts({"errorDetail": {"message": "m", "code": True}}) == ("m", None)
    assert error_parts({"errorDetail": "boom"}) == ("boom", None)
