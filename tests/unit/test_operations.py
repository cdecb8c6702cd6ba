"""Awaiting an operation finishes it; iterating streams it; dropping a started one warns.

The rule is in :mod:`aiodock._streams.progress`: ``await op`` runs pull, push, build,
load, import and plugin pull/push/upgrade to their end and returns a typed
result; ``async for`` streams progress first; a started operation dropped
unfinished emits a ``ResourceWarning``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import aiodock
from aiodock import DockerClient
from aiodock.errors import StreamError, UsageError
from aiodock.models import BuildResult, ImportResult, LoadResult, PullResult, PushResult
from aiodock.testing import FakeDocker, FakeRequest
from tests._wait import eventually

DIGEST = "sha256:" + "d" * 64
IMAGE_ID = "sha256:" + "e" * 64


def lines(*objects: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\r\n" for o in objects)


PULL = lines(
    {"status": "Pulling from team/app", "id": "1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "abc"},
    {"status": "Pull complete", "progressDetail": {}, "id": "abc"},
    {"status": "Digest: " + DIGEST},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/team/app:1"},
)
PULL_UP_TO_DATE = lines(
    {"status": "Pulling from team/app", "id": "1"},
    {"status": "Digest: " + DIGEST},
    {"status": "Status: Image is up to date for 127.0.0.1:5000/team/app:1"},
)
PUSH = lines(
    {"status": "The push refers to repository [127.0.0.1:5000/team/app]"},
    {"status": "Pushed", "progressDetail": {}, "id": "abc"},
    {"status": "1: digest: " + DIGEST + " size: 527"},
    {"progressDetail": {}, "aux": {"Tag": "1", "Digest": DIGEST, "Size": 527}},
)
BUILD = lines(
    {"stream": "Step 1/1 : FROM scratch\n"},
    {"aux": {"ID": IMAGE_ID}},
    {"stream": "Successfully built eeeeeeeeeeee\n"},
    {"stream": "Successfully tagged app:dev\n"},
)
LOAD = lines(
    {"stream": "Loaded image: aiodock-test/busybox:latest\n"},
    {"stream": "Loaded image ID: " + IMAGE_ID + "\n"},
)
IMPORT = lines({"status": IMAGE_ID})
FAILED = lines(
    {"status": "Pulling from team/app", "id": "1"},
    {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"},
)


class Scripted:
    """FakeDocker routes answering each path in ``bodies`` with that body (the engine
    cannot be made to send these on demand); ``hang`` keeps the body open after it."""

    def __init__(self, fake: FakeDocker) -> None:
        self.fake = fake
        self.bodies: dict[str, bytes] = {}
        self.hang = False
        self.disconnected = asyncio.Event()
        for method in ("GET", "POST"):
            fake.add_route(method, "/{path:.+}", self.answer)

    @property
    def requests(self) -> list[str]:
        """What went on the wire apart from the version negotiation's pings."""
        return [f"{r.method} {r.path}" for r in self.fake.requests if r.path != "/_ping"]

    async def answer(self, req: FakeRequest) -> Any:
        body = self.bodies.get(req.path)
        if body is None:
            return NotImplemented
        content_type = "application/x-tar" if req.method == "GET" else "application/json"
        writer = await self.fake.open_stream(req, content_type)
        await writer.write(body)
        if self.hang:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:  # the client dropped the connection
                self.disconnected.set()
                raise
        return await writer.finish()


@pytest.fixture
async def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scripted]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no credentials from the host
    async with FakeDocker() as fake:
        scripted = Scripted(fake)
        scripted.bodies = {
            "/images/create": PULL,
            "/images/127.0.0.1:5000/team/app/push": PUSH,
            "/build": BUILD,
            "/images/load": LOAD,
            "/plugins/pull": PULL,
            "/plugins/127.0.0.1:5000/me/plug:1/push": PUSH,
        }
        yield scripted


@pytest.fixture
async def docker(daemon: Scripted) -> AsyncIterator[DockerClient]:
    async with daemon.fake.client() as client:
        yield client


# --- await finishes ------------------------------------------------------------------


async def test_awaiting_a_pull_reads_it_to_the_end_and_returns_its_result(
    daemon: Scripted, docker: DockerClient
) -> None:
    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    assert daemon.requests == []  # lazy
    result = await op
    assert result == PullResult(
        reference="127.0.0.1:5000/team/app:1",
        digest=DIGEST,
        status="Downloaded newer image for 127.0.0.1:5000/team/app:1",
        updated=True,
    )
    assert op.finished and op.response is None
    assert op.tracker.layers_done == 1
    assert daemon.requests == ["POST /images/create"]
    # Awaiting again gives the same result without another request.
    assert await op == result
    assert await op.wait() == result
    assert daemon.requests == ["POST /images/create"]


async def test_an_up_to_date_pull_is_not_updated(daemon: Scripted, docker: DockerClient) -> None:
    daemon.bodies["/images/create"] = PULL_UP_TO_DATE
    result = await docker.images.pull("127.0.0.1:5000/team/app", tag="1")
    assert result.updated is False
    assert result.status == "Image is up to date for 127.0.0.1:5000/team/app:1"


async def test_a_pull_without_a_status_line_names_the_requested_reference(
    daemon: Scripted, docker: DockerClient
) -> None:
    daemon.bodies["/images/create"] = lines({"status": "Digest: " + DIGEST})
    result = await docker.images.pull("team/app", tag="2")
    assert result == PullResult(reference="team/app:2", digest=DIGEST)


async def test_awaiting_push_build_load_import(daemon: Scripted, docker: DockerClient) -> None:
    pushed = await docker.images.push("127.0.0.1:5000/team/app:1")
    assert pushed == PushResult(
        reference="127.0.0.1:5000/team/app:1", tag="1", digest=DIGEST, size=527
    )
    built = await docker.images.build(b"not read by the fake", tags="app:dev")
    assert built == BuildResult(image_id=IMAGE_ID, tags=("app:dev",))
    loaded = await docker.images.load(b"tar bytes")
    assert loaded == LoadResult(tags=("aiodock-test/busybox:latest",), image_ids=(IMAGE_ID,))
    daemon.bodies["/images/create"] = IMPORT
    imported = await docker.images.import_image(b"rootfs tar", repository="app", tag="1")
    assert imported == ImportResult(image_id=IMAGE_ID)


async def test_awaiting_plugin_pull_upgrade_and_push(
    daemon: Scripted, docker: DockerClient
) -> None:
    pulled = await docker.plugins.pull("127.0.0.1:5000/me/plug:1", privileges=[])
    assert isinstance(pulled, PullResult) and pulled.digest == DIGEST
    daemon.bodies["/plugins/me/plug/upgrade"] = PULL
    upgraded = await docker.plugins.upgrade("me/plug", "127.0.0.1:5000/me/plug:1", privileges=[])
    assert isinstance(upgraded, PullResult) and upgraded.updated
    pushed = await docker.plugins.push("127.0.0.1:5000/me/plug:1")
    assert pushed.digest == DIGEST and pushed.reference == "127.0.0.1:5000/me/plug:1"


async def test_an_import_without_an_id_raises(daemon: Scripted, docker: DockerClient) -> None:
    daemon.bodies["/images/create"] = lines({"status": "importing"})
    with pytest.raises(StreamError, match="without reporting an image id"):
        await docker.images.import_image(b"rootfs tar")


# --- iterate, then await -----------------------------------------------------------------


async def test_iterating_then_awaiting_returns_the_result(
    daemon: Scripted, docker: DockerClient
) -> None:
    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    statuses = [message.status async for message in op]
    assert statuses[-1].startswith("Status: ")
    result = await op
    assert result.digest == DIGEST
    assert daemon.requests == ["POST /images/create"]


async def test_awaiting_part_way_reads_the_rest(daemon: Scripted, docker: DockerClient) -> None:
    op = docker.images.build(b"ctx")
    first = await op.__anext__()
    assert first.stream == "Step 1/1 : FROM scratch\n"
    assert (await op).image_id == IMAGE_ID
    assert op.log.endswith("Successfully tagged app:dev\n")
    assert await op.result() == IMAGE_ID  # the older spelling still works


async def test_async_with_and_open_still_give_the_stream(
    daemon: Scripted, docker: DockerClient
) -> None:
    async with docker.images.pull("127.0.0.1:5000/team/app:1") as stream:
        assert isinstance(stream, aiodock.PullStream)
        assert len([m async for m in stream]) == 5
    assert (await stream).digest == DIGEST  # finished before the block closed it

    op = docker.images.push("127.0.0.1:5000/team/app:1")
    opened = await op.open()
    assert opened is op and op.response is not None
    assert (await op).size == 527


async def test_an_error_raises_from_await_and_again_after_iteration(
    daemon: Scripted, docker: DockerClient
) -> None:
    daemon.bodies["/images/create"] = FAILED
    with pytest.raises(StreamError, match="manifest unknown"):
        await docker.images.pull("127.0.0.1:5000/team/app:1")

    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    with pytest.raises(StreamError) as first:
        async for _ in op:
            pass
    with pytest.raises(StreamError) as again:
        await op
    assert again.value is first.value
    assert not op.finished


async def test_awaiting_a_closed_unfinished_operation_is_a_usage_error(
    daemon: Scripted, docker: DockerClient
) -> None:
    daemon.hang = True
    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    await op.__anext__()
    await op.aclose()
    with pytest.raises(UsageError, match="closed before the operation finished"):
        await op


async def test_cancelling_the_await_closes_the_connection(
    daemon: Scripted, docker: DockerClient
) -> None:
    daemon.hang = True
    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    for _ in range(5):
        await op.__anext__()
    task = asyncio.ensure_future(op.wait())  # blocked: the body stays open
    response = op.response
    assert response is not None
    await eventually(lambda: response.content._waiter is not None)  # waiting for more body
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert op.response is None
    await asyncio.wait_for(daemon.disconnected.wait(), 5)


# --- dropping ----------------------------------------------------------------------------


async def test_dropping_a_started_operation_warns(daemon: Scripted, docker: DockerClient) -> None:
    daemon.hang = True
    op = docker.images.pull("127.0.0.1:5000/team/app:1")
    async for _ in op:
        break
    with pytest.warns(ResourceWarning, match="POST /images/create: an operation was dropped"):
        del op
        gc.collect()
    await asyncio.wait_for(daemon.disconnected.wait(), 5)  # and the connection is closed


async def test_dropping_an_opened_build_warns(daemon: Scripted, docker: DockerClient) -> None:
    daemon.hang = True
    op = await docker.images.build(b"ctx").open()
    with pytest.warns(ResourceWarning, match="POST /build"):
        del op
        gc.collect()


async def test_finished_closed_or_unstarted_operations_drop_silently(
    daemon: Scripted, docker: DockerClient
) -> None:
    finished = docker.images.pull("127.0.0.1:5000/team/app:1")
    async for _ in finished:
        pass  # read to the end, never awaited: nothing left to cancel
    daemon.hang = True
    closed = docker.images.pull("127.0.0.1:5000/team/app:1")
    async with closed:
        async for _ in closed:
            break
    never_started = docker.images.pull("127.0.0.1:5000/team/app:1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del finished, closed, never_started
        gc.collect()
    assert daemon.requests == ["POST /images/create"] * 2


async def test_data_streams_keep_await_as_open(daemon: Scripted, docker: DockerClient) -> None:
    # The other half of the rule: a data stream is the result; ``await`` opens it.
    daemon.bodies["/images/app/get"] = b"tar bytes"
    stream = docker.images.save("app")
    assert await stream is stream
    assert b"".join(await stream.collect()) == b"tar bytes"
