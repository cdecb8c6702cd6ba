"""FakeDocker speaking Engine API 1.41, 1.44 and the newest version aiodock knows.

The version-sensitive paths of aiodock (stream framing, events, version-gated
options, negotiation) run against each; raw requests check the wire shapes the
fake sends at each version.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from aiodock import APIVersionError, BadRequest, DockerClient
from aiodock._config import MAX_API_VERSION
from aiodock.testing import FakeDocker
from aiodock.watcher import EventWatcher
from tests._wait import eventually

VERSIONS = ["1.41", "1.44", MAX_API_VERSION]
LEGACY_EVENT_FIELDS = {"status", "id", "from"}


def at_least(version: str, floor: str) -> bool:
    return tuple(map(int, version.split("."))) >= tuple(map(int, floor.split(".")))


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def raw_session(fake: FakeDocker) -> aiohttp.ClientSession:
    assert fake.socket_path is not None
    return aiohttp.ClientSession("http://docker", connector=aiohttp.UnixConnector(fake.socket_path))


def inspects(fake: FakeDocker) -> int:
    return len(fake.requests_to("GET", "/containers/*/json"))


# --- negotiation --------------------------------------------------------------------------


async def test_client_negotiates_the_fakes_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        assert await client.api_version() == version
        info = await client.system.version()
        assert info.api_version == version
        await client.containers.list()
        assert fake.requests[-1].version == version


async def test_min_api_version_follows_the_engine(version: str) -> None:
    expected = {"1.41": "1.12", "1.44": "1.24"}.get(version, "1.44")
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        info = await client.request("GET", "/version")
        assert info["MinAPIVersion"] == expected
        too_old = client.with_options(api_version="1.23")
        if version == "1.41":
            assert await too_old.request("GET", "/version")
        else:
            with pytest.raises(BadRequest, match=r"1\.23 is too old"):
                await too_old.request("GET", "/version")


async def test_client_pinned_newer_than_the_fake_is_refused() -> None:
    async with FakeDocker(api_version="1.44") as fake:
        assert fake.host is not None
        async with DockerClient(fake.host, api_version=MAX_API_VERSION) as client:
            with pytest.raises(BadRequest, match=r"Maximum supported API version is 1\.44"):
                await client.containers.list()


# --- logs, attach and exec framing --------------------------------------------------------


@pytest.mark.parametrize("tty", [False, True])
async def test_logs_framing_by_version(version: str, tty: bool) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        talk = fake.add_container(name="talk", cmd=["echo", "hello"], tty=tty, running=True)
        await eventually(lambda: talk.log)
        before = inspects(fake)
        out = await client.containers.logs("talk").demux()
        assert out.stdout.replace(b"\r", b"") == b"hello\n"
        # Before 1.42 nothing labels the body, so aiodock looks the TTY up first.
        expected_lookups = 0 if at_least(version, "1.42") else 1
        assert inspects(fake) - before == expected_lookups
        async with (
            raw_session(fake) as http,
            http.get(f"/v{version}/containers/talk/logs?stdout=1") as resp,
        ):
            await resp.read()
            kind = "raw-stream" if tty else "multiplexed-stream"
            expected = f"application/vnd.docker.{kind}" if at_least(version, "1.42") else None
            assert resp.headers.get("Content-Type") == expected


@pytest.mark.parametrize("tty", [False, True])
async def test_exec_framing_by_version(version: str, tty: bool) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        fake.add_container(name="box", cmd=["sleep", "1000"], running=True)
        fake.set_exec_output([(1, b"out"), (2, b"err")], exit_code=3, cmd=["tool"])
        result = await client.exec.run("box", ["tool"], tty=tty)
        assert result.exit_code == 3
        if tty:
            assert b"out" in result.stdout and result.stderr == b""
        else:
            assert (bytes(result.stdout), bytes(result.stderr)) == (b"out", b"err")
        created = await client.exec.create("box", cmd=["tool"], tty=tty)
        async with (
            raw_session(fake) as http,
            http.post(
                f"/v{version}/exec/{created.id}/start", json={"Detach": False, "Tty": tty}
            ) as resp,
        ):
            await resp.read()
            multiplexed = not tty and at_least(version, "1.42")
            kind = "multiplexed-stream" if multiplexed else "raw-stream"
            assert resp.headers["Content-Type"] == f"application/vnd.docker.{kind}"


async def test_attach_framing_by_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        fake.add_container(name="plain", cmd=["sleep", "1000"], running=True)
        fake.add_container(name="term", cmd=["sleep", "1000"], tty=True, running=True)
        for name, tty in (("plain", False), ("term", True)):
            async with await client.containers.attach(name, tty=tty) as stream:
                assert stream.tty is tty
            async with (
                raw_session(fake) as http,
                http.post(f"/v{version}/containers/{name}/attach?stream=0&stdout=1&logs=1") as resp,
            ):
                multiplexed = not tty and at_least(version, "1.42")
                kind = "multiplexed-stream" if multiplexed else "raw-stream"
                assert resp.headers["Content-Type"] == f"application/vnd.docker.{kind}"


# --- events -------------------------------------------------------------------------------


async def test_event_wire_shape_by_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake:
        fake.add_container(name="ev", running=True)
        async with (
            raw_session(fake) as http,
            http.get(f"/v{version}/events?since=0&until={time.time() + 0.2:.3f}") as resp,
        ):
            lines = [json.loads(line) for line in (await resp.read()).splitlines() if line]
            content_type = resp.headers["Content-Type"]
    containers = [e for e in lines if e["Type"] == "container"]
    assert [e["Action"] for e in containers][:2] == ["create", "start"]
    for event in containers:
        assert {"Type", "Action", "Actor", "scope", "time", "timeNano"} <= set(event)
        legacy = LEGACY_EVENT_FIELDS & set(event)
        assert legacy == (set() if at_least(version, "1.52") else LEGACY_EVENT_FIELDS)
    newest = at_least(version, "1.52")
    assert content_type == ("application/jsonl" if newest else "application/json")


async def test_events_model_by_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        c = fake.add_container(name="ev", running=True)
        got = []
        async with client.system.events(since=0, until=time.time() + 0.2) as stream:
            async for event in stream:
                got.append(event)
    started = [e for e in got if e.type == "container" and e.action == "start"]
    assert len(started) == 1
    event = started[0]
    assert event.actor_id == c.id
    assert event.attributes["name"] == "ev"
    assert event.time_nano > 0
    # The legacy fields are only filled where the engine still sends them.
    legacy = (event.status, event.id, event.from_)
    expected = ("", "", "") if at_least(version, "1.52") else ("start", c.id, "busybox:latest")
    assert legacy == expected


async def test_event_watcher_by_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        watcher = EventWatcher(client, backoff=0.01, max_backoff=0.05, jitter=0.0)
        async with watcher:
            sub = watcher.subscribe({"type": "container"})
            await watcher.wait_connected(5)
            created = fake.add_container(name="w1", running=True)
            seen: list[Any] = []

            async def take_two() -> None:
                async for event in sub:
                    seen.append(event)
                    if len(seen) == 2:
                        return

            await asyncio.wait_for(take_two(), 5)
    assert [(e.action, e.actor_id) for e in seen] == [
        ("create", created.id),
        ("start", created.id),
    ]


# --- version-gated options ----------------------------------------------------------------


async def test_shared_size_needs_1_42(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        await client.api_version()
        if not at_least(version, "1.42"):
            sent = len(fake.requests)
            with pytest.raises(APIVersionError, match="shared_size"):
                await client.images.list(shared_size=True)
            assert len(fake.requests) == sent  # refused before any request
            return
        images = await client.images.list(shared_size=True)
        assert images and all(i.shared_size == 0 for i in images)
        assert fake.requests[-1].query.get("shared-size") == ["1"]
        plain = await client.images.list()
        assert all(i.shared_size == -1 for i in plain)


async def test_image_fields_dropped_by_version(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        summary = (await client.request("GET", "/images/json"))[0]
        inspect = await client.request("GET", "/images/busybox:latest/json")
        assert ("VirtualSize" in summary) is (not at_least(version, "1.44"))
        assert ("VirtualSize" in inspect) is (not at_least(version, "1.44"))
        assert ("ContainerConfig" in inspect) is (not at_least(version, "1.45"))
        assert ("DockerVersion" in inspect) is (not at_least(version, "1.52"))
        # aiodock's models read every shape.
        image = await client.images.inspect("busybox:latest")
        assert image.size == inspect["Size"]
        listed = await client.images.list()
        assert listed[0].size == summary["Size"]


async def test_stop_signal_needs_1_42(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        c = fake.add_container(name="box", cmd=["sleep", "1000"], running=True)
        await client.api_version()
        sent = len(fake.requests)
        if not at_least(version, "1.42"):
            with pytest.raises(APIVersionError, match="signal"):
                await client.containers.stop("box", signal="SIGKILL", timeout=1)
            assert len(fake.requests) == sent
            assert c.running
            return
        await client.containers.stop("box", signal="SIGKILL", timeout=1)
        assert fake.requests[-1].query.get("signal") == ["SIGKILL"]
        assert not c.running


async def test_exec_console_size_needs_1_42(version: str) -> None:
    async with FakeDocker(api_version=version) as fake, fake.client() as client:
        fake.add_container(name="box", cmd=["sleep", "1000"], running=True)
        await client.api_version()
        sent = len(fake.requests)
        if not at_least(version, "1.42"):
            with pytest.raises(APIVersionError, match="console_size"):
                await client.exec.create("box", cmd=["tool"], tty=True, console_size=(24, 80))
            assert len(fake.requests) == sent
            return
        created = await client.exec.create("box", cmd=["tool"], tty=True, console_size=(24, 80))
        assert fake.requests[-1].json()["ConsoleSize"] == [24, 80]
        assert created.id in fake.execs
