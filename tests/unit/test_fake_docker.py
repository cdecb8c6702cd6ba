"""Tests of ``aiodock.testing.FakeDocker`` over plain aiohttp and aiodock's client core."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiodock import DockerClient, FrameStream
from aiodock._http.request import Request, Timeout
from aiodock._streams.frames import JSONStreamDecoder, MultiplexDecoder, encode_frame
from aiodock.errors import (
    APIError,
    BadRequest,
    BuildError,
    Conflict,
    DockerConnectionError,
    DockerTimeoutError,
    NotFound,
    RegistryAuthError,
    ServerError,
    TruncatedStreamError,
)
from aiodock.testing import Answer, ExecSession, FakeDocker, FakeRequest
from tests._wait import eventually, pooled_and_open

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as fake:
        yield fake


@pytest.fixture
async def http(fake: FakeDocker) -> AsyncIterator[aiohttp.ClientSession]:
    assert fake.socket_path is not None
    connector = aiohttp.UnixConnector(fake.socket_path)
    async with aiohttp.ClientSession("http://docker", connector=connector) as session:
        yield session


@pytest.fixture
async def client(fake: FakeDocker) -> AsyncIterator[DockerClient]:
    async with fake.client(timeout=10) as client:
        yield client


async def get_json(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> Any:
    async with http.get(path, **kwargs) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def post(http: aiohttp.ClientSession, path: str, body: Any = None, **kw: Any) -> Any:
    async with http.post(path, json=body, **kw) as resp:
        text = await resp.read()
        return resp.status, (json.loads(text) if text.strip() else None)


async def create(http: aiohttp.ClientSession, name: str | None = None, **body: Any) -> str:
    body.setdefault("Image", "busybox")
    params = {"name": name} if name else {}
    status, answer = await post(http, "/v1.41/containers/create", body, params=params)
    assert status == 201, answer
    return str(answer["Id"])


def unframe(data: bytes) -> list[tuple[int, bytes]]:
    decoder = MultiplexDecoder(coalesce=False)
    frames = decoder.feed(data) + decoder.eof()
    return [(int(f.stream), f.data) for f in frames]


# --- lifecycle ------------------------------------------------------------------------


async def test_unix_socket_lives_in_a_private_dir_removed_on_close() -> None:
    fake = FakeDocker()
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.host
    await fake.start()
    assert fake.host.startswith("unix://")
    path = fake.socket_path
    assert path is not None and stat.S_ISSOCK(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    await fake.close()
    await fake.close()
    assert not Path(path).parent.exists()
    with pytest.raises(RuntimeError, match="closed"):
        await fake.start()


async def test_tcp_mode_listens_on_loopback() -> None:
    async with FakeDocker(tcp=True) as fake:
        assert fake.host.startswith("tcp://127.0.0.1:")
        assert fake.socket_path is None
        async with fake.client() as client:
            assert await client.system.ping()
            assert await client.api_version() == "1.41"
            fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
            created = await client.request(
                "POST",
                "/containers/box/exec",
                json={"Cmd": ["cat"], "AttachStdin": True, "AttachStdout": True},
            )
            stream = await client._hijack(
                Request("POST", f"/exec/{created['Id']}/start", body={"Detach": False}), tty=False
            )
            await stream.write(b"over tcp")
            await stream.close_stdin()
            assert (await asyncio.wait_for(stream.demux(), 5)).stdout == b"over tcp"


async def test_clients_made_by_the_fake_are_closed_with_it() -> None:
    async with FakeDocker() as fake:
        client = fake.client()
        assert await client.system.ping()
    assert client.closed


# --- system ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_ping_headers_like_the_engine(http: aiohttp.ClientSession, method: str) -> None:
    async with http.request(method, "/_ping") as resp:
        body = await resp.read()
        assert resp.status == 200
        assert resp.headers["API-Version"] == "1.41"
        assert resp.headers["Ostype"] == "linux"
        assert resp.headers["Docker-Experimental"] == "false"
        assert resp.headers["Server"].startswith("Docker/")
    assert body == (b"OK" if method == "GET" else b"")


async def test_api_version_option_is_announced_and_enforced() -> None:
    async with FakeDocker(api_version="1.43") as fake, fake.client() as client:
        assert await client.api_version() == "1.43"
        version = await client.request("GET", "/version")
        assert version["ApiVersion"] == "1.43"
        newer = client.with_options(api_version="1.44")
        with pytest.raises(
            BadRequest, match=r"1\.44 is too new\. Maximum supported API version is 1\.43"
        ):
            await newer.request("GET", "/version")
        assert fake.requests[-1].version == "1.44"


async def test_versioned_and_unversioned_paths_answer_alike(http: aiohttp.ClientSession) -> None:
    plain = await get_json(http, "/containers/json")
    versioned = await get_json(http, "/v1.30/containers/json")
    assert plain == versioned == []
    async with http.get("/v1.99/info") as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == (
            "client version 1.99 is too new. Maximum supported API version is 1.41"
        )
    async with http.get("/v1.11/info") as resp:
        assert resp.status == 400
        assert "too old" in (await resp.json())["message"]


async def test_version_and_info(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    version = await get_json(http, "/v1.41/version")
    assert version["ApiVersion"] == "1.41"
    assert version["MinAPIVersion"] == "1.12"
    assert version["Components"][0]["Name"] == "Engine"
    fake.add_container(name="aa", cmd=["sleep", "infinity"], running=True)
    fake.add_container(name="bb")
    info = await get_json(http, "/v1.41/info")
    assert (info["Containers"], info["ContainersRunning"], info["ContainersStopped"]) == (2, 1, 1)
    assert info["Images"] == 1
    assert info["OSType"] == "linux"


async def test_unknown_route_is_page_not_found(http: aiohttp.ClientSession) -> None:
    async with http.get("/v1.41/nope") as resp:
        assert resp.status == 404
        assert await resp.json() == {"message": "page not found"}
    async with http.put("/_ping") as resp:
        assert resp.status == 404


# --- containers -----------------------------------------------------------------------


async def test_container_create_and_conflicts(http: aiohttp.ClientSession) -> None:
    cid = await create(http, "web", Cmd=["true"], Labels={"aiodock-test": "1"})
    assert len(cid) == 64
    status, answer = await post(
        http, "/v1.41/containers/create", {"Image": "busybox"}, params={"name": "web"}
    )
    assert status == 409
    assert answer["message"].startswith('Conflict. The container name "/web" is already in use')
    assert cid in answer["message"]
    status, answer = await post(http, "/containers/create", {"Image": "nope:1"})
    assert (status, answer) == (404, {"message": "No such image: nope:1"})
    status, answer = await post(
        http, "/containers/create", {"Image": "busybox"}, params={"name": "x y"}
    )
    assert status == 400 and "Invalid container name" in answer["message"]
    status, answer = await post(http, "/containers/create", {})
    assert status == 400


async def test_container_create_without_command_fails(fake: FakeDocker) -> None:
    fake.add_image("nocmd:1", cmd=None)
    async with fake.client() as client:
        with pytest.raises(BadRequest, match="No command specified"):
            await client.request("POST", "/containers/create", json={"Image": "nocmd:1"})


async def test_container_inspect_shape(http: aiohttp.ClientSession) -> None:
    cid = await create(http, "box", Cmd=["sh", "-c", "exit 0"], Env=["A=1"], Tty=True)
    info = await get_json(http, f"/v1.41/containers/{cid[:10]}/json")
    assert info["Id"] == cid
    assert info["Name"] == "/box"
    assert (info["Path"], info["Args"]) == ("sh", ["-c", "exit 0"])
    assert info["State"]["Status"] == "created"
    assert info["State"]["StartedAt"] == "0001-01-01T00:00:00Z"
    assert info["Config"]["Tty"] is True
    assert "A=1" in info["Config"]["Env"]
    assert info["Image"].startswith("sha256:")
    assert info["HostConfig"]["NetworkMode"] == "default"
    async with http.get("/containers/missing/json") as resp:
        assert resp.status == 404
        assert await resp.json() == {"message": "No such container: missing"}


async def test_container_list_all_and_label_filters(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.add_container(name="run1", cmd=["sleep", "infinity"], labels={"app": "a"}, running=True)
    fake.add_container(name="stopped", labels={"app": "b", "tier": "x"})
    names = [c["Names"][0] for c in await get_json(http, "/containers/json")]
    assert names == ["/run1"]
    names = [c["Names"][0] for c in await get_json(http, "/containers/json", params={"all": "1"})]
    assert names == ["/stopped", "/run1"]
    flt = json.dumps({"label": ["app=b"]})
    found = await get_json(http, "/containers/json", params={"all": "1", "filters": flt})
    assert [c["Names"] for c in found] == [["/stopped"]]
    flt = json.dumps({"label": {"tier": True}})
    found = await get_json(http, "/containers/json", params={"all": "true", "filters": flt})
    assert [c["Labels"] for c in found] == [{"app": "b", "tier": "x"}]
    flt = json.dumps({"status": ["running"]})
    found = await get_json(http, "/containers/json", params={"all": "1", "filters": flt})
    assert [c["State"] for c in found] == ["running"]
    async with http.get("/containers/json", params={"filters": '{"bogus":["1"]}'}) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "Invalid filter 'bogus'"


async def test_start_stop_kill_status_codes(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    cid = await create(http, "svc", Cmd=["sleep", "infinity"])
    assert (await post(http, f"/containers/{cid}/start"))[0] == 204
    assert (await post(http, f"/containers/{cid}/start"))[0] == 304
    assert fake.container("svc").status == "running"
    assert (await post(http, "/containers/svc/stop", params={"t": "1"}))[0] == 204
    assert (await post(http, "/containers/svc/stop"))[0] == 304
    assert fake.container(cid).exit_code == 143
    assert (await post(http, "/containers/svc/start"))[0] == 204
    assert (await post(http, "/containers/svc/kill", params={"signal": "SIGINT"}))[0] == 204
    assert fake.container(cid).exit_code == 130
    status, answer = await post(http, "/containers/svc/kill")
    assert status == 409 and "is not running" in answer["message"]
    status, answer = await post(http, "/containers/nope/start")
    assert (status, answer) == (404, {"message": "No such container: nope"})


async def test_wait_returns_the_exit_code(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    cid = await create(http, "job", Cmd=["sh", "-c", "echo hi; exit 3"])
    status, answer = await post(http, f"/containers/{cid}/wait")
    assert (status, answer) == (200, {"Error": None, "StatusCode": 0})  # not started yet
    await post(http, f"/containers/{cid}/start")
    status, answer = await post(http, f"/containers/{cid}/wait")
    assert answer == {"Error": None, "StatusCode": 3}


async def test_wait_blocks_until_the_container_exits(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.add_container(name="long", cmd=["sleep", "infinity"], running=True)
    async with http.post("/containers/long/wait") as resp:
        assert resp.status == 200  # headers come first, like the engine
        pending = asyncio.ensure_future(resp.read())
        await eventually(lambda: resp.content._waiter is not None)  # waiting for the body
        assert not pending.done()
        fake.exit_container("long", 7)  # the 7 in the answer proves it waited for this
        body = await asyncio.wait_for(pending, 5)
    assert json.loads(body) == {"Error": None, "StatusCode": 7}


async def test_wait_conditions(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    c = fake.add_container(name="ww", cmd=["true"])
    async with http.post("/containers/ww/wait", params={"condition": "removed"}) as resp:
        pending = asyncio.ensure_future(resp.read())
        await eventually(lambda: resp.content._waiter is not None)  # waiting for the body
        assert not pending.done()
        await post(http, "/containers/ww/start")
        await eventually(lambda: c.status == "exited")
        # A full round trip through the fake after the exit: an answer sent on the exit
        # (the wrong condition) would have arrived by now.
        assert (await post(http, "/containers/ww"))[0] == 404
        assert not pending.done()
        async with http.delete("/containers/ww") as deleted:
            assert deleted.status == 204
        assert json.loads(await asyncio.wait_for(pending, 5))["StatusCode"] == 0
    assert c.removed


async def test_remove_running_needs_force(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    c = fake.add_container(name="rr", cmd=["sleep", "infinity"], running=True)
    async with http.delete("/containers/rr") as resp:
        assert resp.status == 409
        assert "You cannot remove a running container" in (await resp.json())["message"]
    async with http.delete("/containers/rr", params={"force": "1"}) as resp:
        assert resp.status == 204
    assert c.id not in fake.containers
    async with http.delete("/containers/rr") as resp:
        assert resp.status == 404


async def test_builtin_interpreter_and_unknown_commands(fake: FakeDocker) -> None:
    echo = fake.add_container(cmd=["echo", "hello", "world"], running=True)
    shell = fake.add_container(cmd=["sh", "-c", "echo out; echo err >&2; exit 4"], running=True)
    server = fake.add_container(cmd=["nginx", "-g", "daemon off;"], running=True)
    await eventually(lambda: echo.status == shell.status == "exited")
    assert [e.data for e in echo.log] == [b"hello world\n"]
    assert (echo.status, echo.exit_code) == ("exited", 0)
    assert [(e.stream, e.data) for e in shell.log] == [(1, b"out\n"), (2, b"err\n")]
    assert shell.exit_code == 4
    assert server.status == "running"


async def test_sleep_keeps_a_container_running_for_that_long(fake: FakeDocker) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    c = fake.add_container(cmd=["sh", "-c", "echo a; sleep 0.2; echo b"], running=True)
    await eventually(lambda: c.log)
    assert c.running and [e.data for e in c.log] == [b"a\n"]
    await eventually(lambda: not c.running)
    assert [e.data for e in c.log] == [b"a\n", b"b\n"] and c.exit_code == 0
    assert loop.time() - started >= 0.19  # a lower bound: no load makes it flaky


async def test_auto_remove(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    cid = await create(http, Cmd=["true"], HostConfig={"AutoRemove": True})
    await post(http, f"/containers/{cid}/start")
    assert cid not in fake.containers


async def test_pause_unpause_restart_rename(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    c = fake.add_container(name="pp", cmd=["sleep", "infinity"], running=True)
    assert (await post(http, "/containers/pp/pause"))[0] == 204
    assert c.status == "paused"
    assert (await post(http, "/containers/pp/exec", {"Cmd": ["true"]}))[0] == 409
    assert (await post(http, "/containers/pp/unpause"))[0] == 204
    assert (await post(http, "/containers/pp/restart"))[0] == 204
    assert c.status == "running"
    assert (await post(http, "/containers/pp/rename", params={"name": "qq"}))[0] == 204
    assert fake.container("qq") is c


# --- logs ------------------------------------------------------------------------------------


async def test_logs_are_multiplexed_without_tty(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.set_output("app", [(1, b"out1\n"), (2, b"err1\n"), (1, b"\x00\xffbin")], exit_code=0)
    await create(http, "app", Cmd=["x"])
    await post(http, "/containers/app/start")
    async with http.get("/v1.41/containers/app/logs?stdout=1&stderr=1") as resp:
        assert resp.status == 200
        assert "Content-Type" not in resp.headers  # Engine 20.10 sends none
        body = await resp.read()
    assert unframe(body) == [(1, b"out1\n"), (2, b"err1\n"), (1, b"\x00\xffbin")]
    async with http.get("/containers/app/logs?stderr=1") as resp:
        assert unframe(await resp.read()) == [(2, b"err1\n")]
    async with http.get("/containers/app/logs?stdout=1&stderr=1&tail=1") as resp:
        assert unframe(await resp.read()) == [(1, b"\x00\xffbin")]
    async with http.get("/containers/app/logs?stdout=1&tail=0") as resp:
        assert await resp.read() == b""
    async with http.get("/containers/app/logs") as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == (
            "Bad parameters: you must choose at least one stream"
        )


async def test_logs_raw_with_tty_and_timestamps(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    c = fake.add_container(name="tt", cmd=["x"], tty=True)
    fake.set_output("tt", [(1, b"a\r\n"), (2, b"b\r\n")])
    await post(http, "/containers/tt/start")
    async with http.get("/containers/tt/logs?stdout=1&stderr=1") as resp:
        assert await resp.read() == b"a\r\nb\r\n"
    async with http.get("/containers/tt/logs?stdout=1&timestamps=1") as resp:
        lines = (await resp.read()).split(b"\r\n")
    stamp, _, text = lines[0].partition(b" ")
    assert text == b"a" and stamp.endswith(b"Z") and stamp.startswith(b"20")
    assert c.tty


async def test_logs_content_type_on_newer_api() -> None:
    async with FakeDocker(api_version="1.42") as fake:
        fake.add_container(name="nn", cmd=["echo", "x"], running=True)
        assert fake.socket_path is not None
        connector = aiohttp.UnixConnector(fake.socket_path)
        async with (
            aiohttp.ClientSession("http://docker", connector=connector) as http,
            http.get("/v1.42/containers/nn/logs?stdout=1") as resp,
        ):
            assert resp.headers["Content-Type"] == "application/vnd.docker.multiplexed-stream"
            await resp.read()


async def test_logs_follow_streams_new_output_until_exit(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.set_output("ff", [(1, b"first\n")], exit_code=None)
    fake.add_container(name="ff", cmd=["x"], running=True)
    async with http.get("/containers/ff/logs?stdout=1&stderr=1&follow=1") as resp:
        decoder = MultiplexDecoder(coalesce=False)
        first = await asyncio.wait_for(resp.content.readexactly(8 + 6), 5)
        assert decoder.feed(first) == [(1, b"first\n")]
        fake.write_output("ff", b"later\n", stream=2)
        second = await asyncio.wait_for(resp.content.readexactly(8 + 6), 5)
        assert decoder.feed(second) == [(2, b"later\n")]
        fake.exit_container("ff", 0)
        assert await asyncio.wait_for(resp.content.read(), 5) == b""


async def test_follow_on_stopped_container_ends_at_once(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.add_container(name="done", cmd=["echo", "x"], running=True)
    async with http.get("/containers/done/logs?stdout=1&follow=1") as resp:
        assert unframe(await asyncio.wait_for(resp.read(), 5)) == [(1, b"x\n")]


async def test_logs_through_the_client_stream(fake: FakeDocker, client: DockerClient) -> None:
    fake.set_output("ss", [(1, b"o"), (2, b"e")])
    fake.add_container(name="ss", cmd=["x"], running=True)
    stream: FrameStream = client._stream(
        Request("GET", "/containers/ss/logs", params={"stdout": True, "stderr": True}),
        MultiplexDecoder(),
        stream_class=FrameStream,
    )
    out = await stream.demux()
    assert (bytes(out.stdout), bytes(out.stderr)) == (b"o", b"e")


# --- exec ----------------------------------------------------------------------------


async def test_exec_create_inspect_and_errors(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.add_container(name="idle")
    status, answer = await post(http, "/containers/idle/exec", {"Cmd": ["true"]})
    assert status == 409 and answer["message"].endswith("is not running")
    c = fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
    status, answer = await post(http, "/containers/box/exec", {"AttachStdout": True})
    assert status == 400
    status, answer = await post(
        http, "/v1.41/containers/box/exec", {"Cmd": ["echo", "hi"], "AttachStdout": True}
    )
    assert status == 201
    info = await get_json(http, f"/exec/{answer['Id']}/json")
    assert info["ExitCode"] is None and info["Running"] is False
    assert info["ProcessConfig"]["entrypoint"] == "echo"
    assert info["ContainerID"] == c.id
    async with http.get("/exec/nope/json") as resp:
        assert resp.status == 404
        assert await resp.json() == {"message": "No such exec instance: nope"}


async def test_exec_start_without_upgrade_streams_until_close(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
    _, answer = await post(
        http,
        "/containers/box/exec",
        {
            "Cmd": ["sh", "-c", "echo hi; echo e >&2; exit 3"],
            "AttachStdout": True,
            "AttachStderr": True,
        },
    )
    exec_id = answer["Id"]
    async with http.post(f"/exec/{exec_id}/start", json={"Detach": False, "Tty": False}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/vnd.docker.raw-stream"
        assert "Content-Length" not in resp.headers
        assert unframe(await resp.read()) == [(1, b"hi\n"), (2, b"e\n")]
    info = await get_json(http, f"/exec/{exec_id}/json")
    assert (info["Running"], info["ExitCode"]) == (False, 3)
    # Running it again: Engine 20.10 reports this inside the stream.
    async with http.post(f"/exec/{exec_id}/start", json={}) as resp:
        assert b"has already run" in await resp.read()


async def test_exec_hijack_with_stdin_and_half_close(
    fake: FakeDocker, client: DockerClient
) -> None:
    fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
    created = await client.request(
        "POST",
        "/containers/box/exec",
        json={"Cmd": ["cat"], "AttachStdin": True, "AttachStdout": True, "AttachStderr": True},
    )
    stream = await client._hijack(
        Request("POST", f"/exec/{created['Id']}/start", body={"Detach": False, "Tty": False}),
        tty=False,
    )
    async with stream:
        await stream.write(b"hello\n")
        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert (first.stream, first.data) == (1, b"hello\n")
        await stream.write(b"\x00bytes")
        await stream.close_stdin()
        rest = await asyncio.wait_for(stream.demux(), 5)
    assert rest.stdout == b"\x00bytes"
    info = await client.request("GET", f"/exec/{created['Id']}/json")
    assert info["ExitCode"] == 0
    assert fake.execs[created["Id"]].stdin == b"hello\n\x00bytes"
    start = fake.requests_to("POST", "/exec/*/start")[0]
    assert start.headers["Upgrade"] == "tcp"
    assert start.json() == {"Detach": False, "Tty": False}


async def test_exec_tty_and_custom_handlers(fake: FakeDocker, client: DockerClient) -> None:
    fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)

    async def handler(session: ExecSession) -> int:
        data = await session.read_all()
        await session.write(b"got " + data)
        await session.write(b"oops", stream=2)
        return 5

    fake.on_exec(handler, cmd=["my-tool"])
    fake.set_exec_output([(1, b"scripted")], exit_code=9, cmd=["other"])

    async def run(cmd: list[str], tty: bool, stdin: bytes | None = None) -> tuple[Any, Any]:
        created = await client.request(
            "POST",
            "/containers/box/exec",
            json={
                "Cmd": cmd,
                "Tty": tty,
                "AttachStdin": stdin is not None,
                "AttachStdout": True,
                "AttachStderr": True,
            },
        )
        stream = await client._hijack(
            Request("POST", f"/exec/{created['Id']}/start", body={"Detach": False, "Tty": tty}),
            tty=tty,
        )
        if stdin is not None:
            await stream.write(stdin)
            await stream.close_stdin()
        out = await asyncio.wait_for(stream.demux(), 5)
        info = await client.request("GET", f"/exec/{created['Id']}/json")
        return out, info["ExitCode"]

    out, code = await run(["my-tool", "--flag"], tty=False, stdin=b"in")
    assert (out.stdout, out.stderr, code) == (b"got in", b"oops", 5)
    out, code = await run(["my-tool"], tty=True, stdin=b"x")
    assert (out.stdout, out.stderr, code) == (b"got xoops", b"", 5)  # one raw stream
    out, code = await run(["other"], tty=False)
    assert (out.stdout, code) == (b"scripted", 9)


async def test_exec_detach(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
    _, answer = await post(http, "/containers/box/exec", {"Cmd": ["false"]})
    status, _ = await post(http, f"/exec/{answer['Id']}/start", {"Detach": True})
    assert status == 200
    await eventually(lambda: fake.execs[answer["Id"]].exit_code is not None)
    assert fake.execs[answer["Id"]].exit_code == 1


async def test_attach_hijack_replays_logs(fake: FakeDocker, client: DockerClient) -> None:
    fake.set_output("aa", [(1, b"one"), (2, b"two")], exit_code=None)
    fake.add_container(name="aa", cmd=["x"], running=True)
    stream = await client._hijack(
        Request(
            "POST",
            "/containers/aa/attach",
            params={"logs": True, "stream": True, "stdout": True, "stderr": True},
        ),
        tty=False,
    )
    async with stream:
        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert first.data in (b"one", b"onetwo")
        fake.write_output("aa", b"three")
        fake.exit_container("aa")
        rest = await asyncio.wait_for(stream.demux(), 5)
    assert first.data + rest.stdout + rest.stderr in (b"onetwothree", b"onethreetwo")


# --- images ------------------------------------------------------------------------------------


async def test_image_list_inspect_tag_remove(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    images = await get_json(http, "/images/json")
    assert [i["RepoTags"] for i in images] == [["busybox:latest"]]
    image_id = images[0]["Id"]
    info = await get_json(http, "/images/docker.io%2Flibrary%2Fbusybox:latest/json")
    assert info["Id"] == image_id
    assert (await get_json(http, f"/images/{image_id[7:19]}/json"))["Id"] == image_id
    async with http.post("/images/busybox/tag", params={"repo": "me/box", "tag": "v1"}) as resp:
        assert resp.status == 201
    assert (await get_json(http, "/v1.41/images/me/box:v1/json"))["Id"] == image_id
    flt = json.dumps({"reference": ["me/*"]})
    assert len(await get_json(http, "/images/json", params={"filters": flt})) == 1
    async with http.delete("/images/me%2Fbox:v1") as resp:
        assert await resp.json() == [{"Untagged": "me/box:v1"}]
    fake.add_container(name="user", image="busybox")
    async with http.delete("/images/busybox") as resp:
        assert resp.status == 409
        assert "must force" in (await resp.json())["message"]
    async with http.delete("/images/busybox", params={"force": "1"}) as resp:
        assert await resp.json() == [{"Untagged": "busybox:latest"}, {"Deleted": image_id}]
    async with http.get("/images/busybox/json") as resp:
        assert resp.status == 404


async def test_pull_streams_progress_and_adds_the_image(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    async with http.post("/images/create", params={"fromImage": "alpine", "tag": "3"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        decoder = JSONStreamDecoder()
        messages = decoder.feed(await resp.read()) + list(decoder.eof() or [])
    statuses = [m["status"] for m in messages]
    assert statuses[0] == "Pulling from library/alpine"
    assert "Pull complete" in statuses
    assert statuses[-1] == "Status: Downloaded newer image for alpine:3"
    assert fake.image("alpine:3").tags == ["alpine:3"]
    async with http.post("/images/create", params={"fromImage": "alpine:3"}) as resp:
        last = (await resp.read()).strip().splitlines()[-1]
    assert json.loads(last)["status"] == "Status: Image is up to date for alpine:3"


async def test_pull_errors_in_band_and_as_status(
    fake: FakeDocker, client: DockerClient, http: aiohttp.ClientSession
) -> None:
    fake.set_pull("broken:1", error="manifest unknown")
    fake.set_pull("private/x", status=404)
    async with http.post("/images/create", params={"fromImage": "broken:1"}) as resp:
        assert resp.status == 200  # the failure is reported inside the stream
        body = await resp.read()
    last = json.loads(body.strip().splitlines()[-1])
    assert last == {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}
    with pytest.raises(NotFound, match="pull access denied for private/x"):
        await client.request("POST", "/images/create", params={"fromImage": "private/x"})
    assert fake._find_image("broken:1") is None


# --- networks and volumes ---------------------------------------------------------------------


async def test_networks(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    names = sorted(n["Name"] for n in await get_json(http, "/networks"))
    assert names == ["bridge", "host", "none"]
    status, answer = await post(
        http, "/networks/create", {"Name": "net1", "Labels": {"aiodock-test": "1"}}
    )
    assert status == 201 and answer["Warning"] == ""
    net_id = answer["Id"]
    status, answer = await post(http, "/networks/create", {"Name": "net1", "CheckDuplicate": True})
    assert (status, answer) == (409, {"message": "network with name net1 already exists"})
    info = await get_json(http, "/networks/net1")
    assert (info["Id"], info["Driver"], info["Labels"]) == (net_id, "bridge", {"aiodock-test": "1"})
    flt = json.dumps({"label": ["aiodock-test=1"]})
    assert [n["Name"] for n in await get_json(http, "/networks", params={"filters": flt})] == [
        "net1"
    ]
    async with http.delete("/networks/bridge") as resp:
        assert resp.status == 403
    async with http.delete(f"/networks/{net_id}") as resp:
        assert resp.status == 204
    async with http.get("/networks/net1") as resp:
        assert (resp.status, await resp.json()) == (404, {"message": "network net1 not found"})


async def test_volumes(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    status, vol = await post(http, "/volumes/create", {"Name": "v1", "Labels": {"k": "v"}})
    assert status == 201
    assert vol["Mountpoint"] == "/var/lib/docker/volumes/v1/_data"
    assert (await post(http, "/volumes/create", {"Name": "v1"}))[1] == vol  # idempotent
    listing = await get_json(http, "/volumes")
    assert listing == {"Volumes": [vol], "Warnings": None}
    assert await get_json(http, "/volumes/v1") == vol
    fake.add_container(name="user", HostConfig={"Binds": ["v1:/data"]})
    async with http.delete("/volumes/v1") as resp:
        assert resp.status == 409
    async with http.delete("/containers/user") as resp:
        assert resp.status == 204
    async with http.delete("/volumes/v1") as resp:
        assert resp.status == 204
    async with http.get("/volumes/v1") as resp:
        assert (resp.status, await resp.json()) == (404, {"message": "get v1: no such volume"})


# --- events ------------------------------------------------------------------------------------


async def read_events(resp: aiohttp.ClientResponse, count: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(count):
        line = await asyncio.wait_for(resp.content.readline(), 5)
        out.append(json.loads(line))
    return out


async def test_events_stream_container_lifecycle(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    async with http.get("/v1.41/events") as resp:
        assert resp.headers["Content-Type"] == "application/json"
        cid = await create(http, "ev", Cmd=["sh", "-c", "exit 2"], Labels={"team": "a"})
        await post(http, f"/containers/{cid}/start")
        async with http.delete(f"/containers/{cid}") as deleted:
            assert deleted.status == 204
        events = await read_events(resp, 6)
    assert [(e["Type"], e["Action"]) for e in events] == [
        ("container", "create"),
        ("network", "connect"),
        ("container", "start"),
        ("container", "die"),
        ("network", "disconnect"),
        ("container", "destroy"),
    ]
    assert events[1]["Actor"]["Attributes"] == {
        "container": cid,
        "name": "bridge",
        "type": "bridge",
    }
    die = events[3]
    assert die["status"] == "die" and die["id"] == cid and die["from"] == "busybox"
    assert die["Actor"]["Attributes"] == {
        "team": "a",
        "image": "busybox",
        "name": "ev",
        "exitCode": "2",
    }
    assert die["Type"] == "container" and die["scope"] == "local"
    assert die["time"] == die["timeNano"] // 1_000_000_000


async def test_events_filters_and_emit_event(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    flt = json.dumps({"type": ["network"], "event": ["create"], "label": ["k=v"]})
    async with http.get("/events", params={"filters": flt}) as resp:
        fake.emit_event("network", "destroy", "n1", {"k": "v"})
        fake.emit_event("container", "create", "c1", {"k": "v"})
        fake.emit_event("network", "create", "n2", {"k": "w"})
        fake.emit_event("network", "create", "n3", {"k": "v", "name": "xx"})
        (event,) = await read_events(resp, 1)
    assert event["Actor"] == {"ID": "n3", "Attributes": {"k": "v", "name": "xx"}}
    assert "status" not in event  # only container and image events carry the old fields


async def test_events_since_until_replays_and_ends(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    start = time.time()
    fake.emit_event("volume", "create", "v1")
    fake.emit_event("volume", "destroy", "v1")
    until = f"{time.time():.9f}"
    async with http.get("/events", params={"since": f"{start - 1:.3f}", "until": until}) as resp:
        body = await asyncio.wait_for(resp.read(), 5)
    assert [json.loads(line)["Action"] for line in body.splitlines()] == ["create", "destroy"]
    params = {"since": f"{start - 1:.0f}", "filters": json.dumps({"event": ["destroy"]})}
    async with http.get("/events", params=params) as resp:
        (old,) = await read_events(resp, 1)
        fake.emit_event("volume", "destroy", "v2")
        (new,) = await read_events(resp, 1)
    assert (old["Actor"]["ID"], new["Actor"]["ID"]) == ("v1", "v2")


async def test_event_streams_end_when_the_fake_closes() -> None:
    fake = await FakeDocker().start()
    assert fake.socket_path is not None
    connector = aiohttp.UnixConnector(fake.socket_path)
    async with (
        aiohttp.ClientSession("http://docker", connector=connector) as http,
        http.get("/events") as resp,
    ):
        reader = asyncio.ensure_future(resp.read())
        await eventually(lambda: resp.content._waiter is not None)  # waiting for events
        started = time.monotonic()
        await fake.close()
        await asyncio.wait_for(reader, 5)
    assert time.monotonic() - started < 2


# --- failure injection ---------------------------------------------------------------------


async def test_fail_next_matches_unversioned_glob_and_counts(
    fake: FakeDocker, client: DockerClient, http: aiohttp.ClientSession
) -> None:
    fake.fail_next("GET", "/containers/*/json", status=503, message="daemon busy", times=2)
    fake.add_container(name="xx")
    with pytest.raises(ServerError, match="daemon busy") as info:
        await client.request("GET", "/containers/xx/json")
    assert info.value.status == 503
    async with http.get("/containers/xx/json") as resp:
        assert (resp.status, await resp.json()) == (503, {"message": "daemon busy"})
    assert (await client.request("GET", "/containers/xx/json"))["Name"] == "/xx"
    fake.fail_next("*", "/networks*", status=409)
    with pytest.raises(Conflict, match="boom"):
        await client.request("POST", "/networks/create", json={"Name": "n"})
    assert not [n for n in fake.networks.values() if n.name == "n"]


async def test_delay_next(fake: FakeDocker, client: DockerClient) -> None:
    fake.delay_next("GET", "/info", 0.3)
    started = time.monotonic()
    await client.request("GET", "/info")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await client.request("GET", "/info")
    assert time.monotonic() - started < 0.3
    fake.delay_next("GET", "/version", 5)
    await client.api_version()
    with pytest.raises(DockerTimeoutError):
        await client.with_options(timeout=0.2).request("GET", "/version")


async def test_truncate_next_drops_the_connection_mid_body(
    fake: FakeDocker, http: aiohttp.ClientSession, client: DockerClient
) -> None:
    fake.truncate_next("GET", "/info", after_bytes=10)
    async with http.get("/info") as resp:
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) > 10
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    fake.truncate_next("GET", "/version", after_bytes=5)
    with pytest.raises(DockerConnectionError):
        await client.request("GET", "/version")
    assert (await client.request("GET", "/version"))["ApiVersion"] == "1.41"


async def test_truncate_next_with_clean_eof_cuts_json(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    fake.truncate_next("GET", "/version", after_bytes=7, eof=True)
    async with http.get("/version") as resp:
        assert await resp.read() == b'{"Platf'


async def test_truncate_stream_mid_frame(fake: FakeDocker, client: DockerClient) -> None:
    fake.set_output("tt", [(1, b"0123456789"), (2, b"abcdef")])
    fake.add_container(name="tt", cmd=["x"], running=True)

    def logs() -> FrameStream:
        return client._stream(
            Request("GET", "/containers/tt/logs", params={"stdout": True, "stderr": True}),
            MultiplexDecoder(),
            stream_class=FrameStream,
        )

    # Clean end of body inside the second frame's payload: the decoder must notice.
    fake.truncate_next("GET", "/containers/*/logs", after_bytes=18 + 8 + 2, eof=True)
    seen: list[bytes] = []
    with pytest.raises(TruncatedStreamError):
        async with logs() as stream:
            async for frame in stream:
                seen.append(frame.data)
    assert b"".join(seen).startswith(b"0123456789")
    # Dropped connection inside the first frame's header.
    fake.truncate_next("GET", "/containers/*/logs", after_bytes=3)
    with pytest.raises(DockerConnectionError):
        await logs().collect()
    assert [f.data for f in await logs().collect()] == [b"0123456789", b"abcdef"]


async def test_truncate_and_stall_hijacked_exec(fake: FakeDocker, client: DockerClient) -> None:
    fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
    fake.set_exec_output([(1, b"x" * 100)], cmd=["big"])
    created = await client.request(
        "POST", "/containers/box/exec", json={"Cmd": ["big"], "AttachStdout": True}
    )
    fake.truncate_next("POST", "/exec/*/start", after_bytes=8 + 40)
    stream = await client._hijack(
        Request("POST", f"/exec/{created['Id']}/start", body={}), tty=False
    )
    with pytest.raises(DockerConnectionError):
        await asyncio.wait_for(stream.demux(), 5)
    await stream.aclose()
    # A stalled hijacked stream trips the client's read timeout.
    created = await client.request(
        "POST", "/containers/box/exec", json={"Cmd": ["big"], "AttachStdout": True}
    )
    fake.stall_next("POST", "/exec/*/start", after_bytes=8 + 10)
    stream = await client._hijack(
        Request("POST", f"/exec/{created['Id']}/start", body={}, timeout=Timeout(inactivity=0.3)),
        tty=False,
    )
    first = await asyncio.wait_for(stream.__anext__(), 5)
    assert first.data == b"x" * 10
    with pytest.raises(DockerTimeoutError):
        await asyncio.wait_for(stream.__anext__(), 5)
    await stream.aclose()


async def test_stall_next_sends_headers_then_nothing(
    fake: FakeDocker, http: aiohttp.ClientSession, client: DockerClient
) -> None:
    fake.stall_next("GET", "/events", after_bytes=0)
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    async with http.get("/events", timeout=timeout) as resp:
        assert resp.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await resp.content.readline()
    fake.stall_next("GET", "/containers/json", after_bytes=1)
    async with http.get("/containers/json", timeout=timeout) as resp:
        assert await resp.content.readexactly(1) == b"["
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()
    # The same through the client's stream inactivity timeout.
    fake.add_container(name="ss", cmd=["echo", "x"], running=True)
    fake.stall_next("GET", "/containers/ss/logs", after_bytes=4)
    stream: FrameStream = client._stream(
        Request(
            "GET", "/containers/ss/logs", params={"stdout": True}, timeout=Timeout(inactivity=0.3)
        ),
        MultiplexDecoder(),
        stream_class=FrameStream,
    )
    with pytest.raises(DockerTimeoutError):
        await stream.collect()


async def test_stalled_answers_do_not_hold_up_close() -> None:
    fake = await FakeDocker().start()
    fake.stall_next("GET", "/info")
    client = fake.client()
    pending = asyncio.ensure_future(client.request("GET", "/info", versioned=False))
    await eventually(lambda: fake.requests_to("GET", "/info"))  # stalled at the fake
    started = time.monotonic()
    await fake.close()
    assert time.monotonic() - started < 3
    with pytest.raises(DockerConnectionError):
        await asyncio.wait_for(pending, 5)


async def test_close_keepalive_closes_idle_connections(fake: FakeDocker) -> None:
    assert fake.socket_path is not None
    reader, writer = await asyncio.open_unix_connection(fake.socket_path)
    try:
        writer.write(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\nOK"), 5)
        assert head.startswith(b"HTTP/1.1 200")
        assert fake.close_keepalive() == 1
        assert await asyncio.wait_for(reader.read(), 5) == b""
    finally:
        writer.close()
        await writer.wait_closed()
    assert fake.close_keepalive() == 0


async def test_close_keepalive_with_a_pooled_client(fake: FakeDocker, client: DockerClient) -> None:
    await client.request("GET", "/info")
    assert fake.close_keepalive() >= 1
    await eventually(lambda: not pooled_and_open(client))  # the client has seen the close
    assert (await client.request("GET", "/version"))["ApiVersion"] == "1.41"


# --- recording and custom routes ------------------------------------------------------------


async def test_requests_are_recorded(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    await post(
        http,
        "/v1.41/containers/create?name=rec&x=1&x=2",
        {"Image": "busybox", "Cmd": ["true"]},
        headers={"X-Registry-Auth": "abc"},
    )
    await get_json(http, "/containers/json")
    first, second = fake.requests
    assert (first.method, first.path, first.version) == ("POST", "/containers/create", "1.41")
    assert first.query == {"name": ["rec"], "x": ["1", "2"]}
    assert first.param("x") == "2"
    assert first.headers["x-registry-auth"] == "abc"
    assert first.json() == {"Image": "busybox", "Cmd": ["true"]}
    assert (second.path, second.version, second.body) == ("/containers/json", None, b"")
    assert fake.requests_to("post", "/containers/*") == [first]


async def test_large_request_bodies_are_taken_and_recorded_whole(
    fake: FakeDocker, http: aiohttp.ClientSession
) -> None:
    # An image to load or a build context easily passes aiohttp's default 1 MiB.
    fake.add_route("POST", "/images/load", lambda req: {"stream": f"got {len(req.body)}"})
    payload = os.urandom(3 << 20)
    async with http.post("/v1.41/images/load", data=io.BytesIO(payload)) as resp:
        assert resp.status == 200
        assert await resp.json() == {"stream": f"got {len(payload)}"}
    assert fake.requests_to("POST", "/images/load")[0].body == payload


async def test_custom_routes_take_precedence(fake: FakeDocker, client: DockerClient) -> None:
    seen: list[FakeRequest] = []

    @fake.route("GET", "/containers/{id}/json")
    async def inspect(req: FakeRequest) -> Any:
        seen.append(req)
        if req.params["id"] == "real":
            return NotImplemented
        return {"Id": req.params["id"], "Custom": True}

    @fake.route("GET", "/containers/{id}/top")
    def top(req: FakeRequest) -> Any:
        return {"Titles": ["PID"], "Processes": [["1"]], "ps": req.arg("ps_args")}

    fake.add_route(
        "POST", "/images/{name:.+}/push", lambda req: (202, {"pushed": req.params["name"]})
    )
    fake.add_route("DELETE", "/custom", lambda req: None)
    fake.add_route("GET", "/raw", lambda req: web.Response(text="plain"))

    assert await client.request("GET", "/containers/a%2Fb/json") == {"Id": "a/b", "Custom": True}
    fake.add_container(name="real")
    assert (await client.request("GET", "/containers/real/json"))["Name"] == "/real"
    assert (await client.request("GET", "/containers/cc/top", params={"ps_args": "aux"}))[
        "ps"
    ] == "aux"
    assert await client.request("POST", "/images/me/img:1/push") == {"pushed": "me/img:1"}
    assert await client.request("DELETE", "/custom") is None
    assert await client.request("GET", "/raw") == b"plain"
    assert [r.version for r in seen] == ["1.41", "1.41"]


async def test_custom_routes_see_faults_too(fake: FakeDocker, http: aiohttp.ClientSession) -> None:
    fake.add_route("GET", "/thing", lambda req: {"value": "x" * 50})
    fake.truncate_next("GET", "/thing", after_bytes=4, eof=True)
    async with http.get("/v1.41/thing") as resp:
        assert await resp.read() == b'{"va'


def test_pattern_rejects_relative_paths() -> None:
    fake = FakeDocker()
    with pytest.raises(ValueError, match="must start with"):
        fake.add_route("GET", "containers", lambda req: None)
    with pytest.raises(ValueError, match="times"):
        fake.fail_next("GET", "/x", times=0)


def test_frames_encode_like_the_fake() -> None:
    fake = FakeDocker()
    c = fake.add_container(name="xx")
    assert fake.frame(c, 2, b"e") == encode_frame(2, b"e") == b"\x02\x00\x00\x00\x00\x00\x00\x01e"


# --- the pytest plugin ---------------------------------------------------------------------

_PLUGIN_TESTS = """
import pytest

@pytest.mark.asyncio
async def test_client(docker_client):
    assert await docker_client.system.ping()

@pytest.mark.asyncio
async def test_same_fake(fake_docker, docker_client):
    fake_docker.fail_next("GET", "/info", status=500, message="injected")
    assert docker_client.host == fake_docker.host
    with pytest.raises(Exception, match="injected"):
        await docker_client.request("GET", "/info")
    fake_docker.add_container(name="xx")
    assert len(await docker_client.request("GET", "/containers/json", params={"all": 1})) == 1

@pytest.mark.asyncio
async def test_fresh_fake_each_test(fake_docker):
    assert fake_docker.containers == {}

@pytest.mark.real_docker
@pytest.mark.asyncio
async def test_real_only(docker_client):
    assert docker_client.host == "unix:///nonexistent/docker.sock"
"""


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_plugin_use.py").write_text(textwrap.dedent(_PLUGIN_TESTS))
    # Load the plugins explicitly and nothing else: the same run whether or not aiodock's
    # entry point is installed in this environment.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "aiodock.testing.plugin",
        "-p",
        "pytest_asyncio.plugin",
    ]
    cmd += ["-p", "no:cacheprovider"]
    cmd += ["-o", "asyncio_mode=strict", "-rs", *args, str(tmp_path)]
    return subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_plugin_fixtures_in_strict_mode(tmp_path: Path) -> None:
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 1 skipped" in result.stdout
    assert "needs a real Docker engine" in result.stdout


def test_plugin_real_engine_option_skips_fake_tests(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path,
        "--aiodock-real-engine=unix:///nonexistent/docker.sock",
        "-k",
        "real_only or fresh",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "uses FakeDocker-specific APIs" in result.stdout


def test_plugin_option_swallowing_a_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "--aiodock-real-engine", str(tmp_path))
    assert result.returncode != 0
    assert "write --aiodock-real-engine=HOST" in result.stderr


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, aiodock.testing.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('aiodock.testing.', 'aiohttp.web'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['aiodock.testing.plugin']"


# --- attach before start, and run() ----------------------------------------------------------


async def test_run_returns_the_output_like_the_engine(client: DockerClient) -> None:
    result = await client.containers.run(
        "busybox", ["sh", "-c", "echo out; echo err >&2"], timeout=10
    )
    assert (bytes(result.stdout), bytes(result.stderr), result.exit_code) == (b"out\n", b"err\n", 0)


async def test_run_with_stdin_and_a_failing_exit(client: DockerClient) -> None:
    result = await client.containers.run("busybox", ["cat"], stdin=b"fed", timeout=10)
    assert result.stdout == b"fed"
    failed = await client.containers.run(
        "busybox", ["sh", "-c", "echo bad >&2; exit 3"], check=False, timeout=10
    )
    assert (failed.exit_code, bytes(failed.stderr)) == (3, b"bad\n")


async def test_attach_before_start_waits_for_the_start(
    fake: FakeDocker, client: DockerClient
) -> None:
    c = fake.add_container(name="later", cmd=["sh", "-c", "echo hi"])
    stream = await client._hijack(
        Request(
            "POST",
            "/containers/later/attach",
            params={"stream": True, "stdout": True, "stderr": True},
        ),
        tty=False,
    )
    async with stream:
        reader = asyncio.ensure_future(stream.demux())
        await eventually(lambda: stream._conn._read_waiter is not None)  # blocked reading
        assert not reader.done(), "the attach ended before the container started"
        await client.containers.start(c.id)
        out = await asyncio.wait_for(reader, 5)
    assert out.stdout == b"hi\n"


async def test_attach_to_a_container_removed_before_start_ends(
    fake: FakeDocker, client: DockerClient
) -> None:
    c = fake.add_container(name="gone", cmd=["sh", "-c", "echo hi"])
    stream = await client._hijack(
        Request("POST", "/containers/gone/attach", params={"stream": True, "stdout": True}),
        tty=False,
    )
    async with stream:
        reader = asyncio.ensure_future(stream.demux())
        await eventually(lambda: stream._conn._read_waiter is not None)  # blocked reading
        await client.containers.remove(c.id)
        out = await asyncio.wait_for(reader, 5)
    assert out.stdout == b""


# --- archives ----------------------------------------------------------------------------------


def make_tar(*entries: tuple[str, bytes | None], kind: bytes = b"") -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == tarfile.SYMTYPE:
                info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_members(data: bytes) -> list[tuple[str, int, bytes]]:
    import io
    import tarfile

    out = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m) if m.isfile() else None
            out.append((m.name, m.mode, f.read() if f else b""))
    return out


async def test_put_then_get_and_head_archive(fake: FakeDocker, client: DockerClient) -> None:
    c = fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    await client.containers.put_archive(
        "box", path="/tmp", data=make_tar(("d", None), ("d/a.txt", b"alpha"), ("d/x/b", b"b"))
    )
    assert fake.read_file("box", "/tmp/d/a.txt") == b"alpha"
    stat = await client.containers.head_archive("box", path="/tmp/d/a.txt")
    assert (stat.name, stat.size, stat.mode) == ("a.txt", 5, 0o600)
    stat = await client.containers.head_archive("box", path="/tmp/d")
    assert (stat.name, stat.size, stat.mode) == ("d", 4096, (1 << 31) | 0o755)

    stream = client.containers.get_archive("box", path="/tmp/d")
    async with stream:
        body = b"".join([chunk async for chunk in stream])
    assert stream.stat.name == "d"
    assert tar_members(body) == [
        ("d", 0o40755, b""),
        ("d/a.txt", 0o100600, b"alpha"),
        ("d/x", 0o40755, b""),
        ("d/x/b", 0o100600, b"b"),
    ]
    stream = client.containers.get_archive("box", path="/tmp/d/.")
    async with stream:
        body = b"".join([chunk async for chunk in stream])
    assert [m[0] for m in tar_members(body)] == [".", "./a.txt", "./x", "./x/b"]
    assert stream.stat.name == "."
    assert c.id in fake._files


async def test_archive_errors_like_the_engine(fake: FakeDocker, client: DockerClient) -> None:
    c = fake.add_container(name="box", cmd=["sleep", "60"])
    fake.write_file("box", "/etc/f", b"x")
    with pytest.raises(NotFound) as missing:
        await client.containers.get_archive("box", path="/nope")
    assert missing.value.message == f"Could not find the file /nope in container {c.id}"
    with pytest.raises(NotFound):
        await client.containers.head_archive("box", path="/nope")
    # A trailing slash on a file: the engine's lstat fails with ENOTDIR, a 500.
    with pytest.raises(ServerError, match=r"merged/etc/f/: not a directory"):
        await client.containers.get_archive("box", path="/etc/f/")
    with pytest.raises(NotFound, match="Could not find the file /nope"):
        await client.containers.put_archive("box", path="/nope", data=make_tar(("a", b"")))
    with pytest.raises(ServerError, match=r"extraction point is not a directory$"):
        await client.containers.put_archive("box", path="/etc/f", data=make_tar(("a", b"")))
    with pytest.raises(ServerError, match="invalid tar header"):
        await client.containers.put_archive("box", path="/etc", data=b"\x01" * 1024)
    with pytest.raises(ServerError, match="unexpected EOF"):
        await client.containers.put_archive("box", path="/etc", data=b"short")
    with pytest.raises(BadRequest, match="pathcannot be empty"):
        await client._read(Request("GET", "/containers/box/archive", params={"path": ""}))
    with pytest.raises(NotFound, match="No such container"):
        await client.containers.head_archive("ghost", path="/")
    # An empty body is no archive at all: nothing happens.
    await client.containers.put_archive("box", path="/etc", data=b"")


async def test_put_archive_overwrite_rules_and_links(
    fake: FakeDocker, client: DockerClient
) -> None:
    fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    await client.containers.put_archive("box", path="/", data=make_tar(("d/inner", b"1")))
    with pytest.raises(ServerError, match='cannot overwrite directory "/d" with non-directory'):
        await client.containers.put_archive(
            "box", path="/", data=make_tar(("d", b"file")), no_overwrite_dir_non_dir=True
        )
    await client.containers.put_archive("box", path="/", data=make_tar(("d", b"file")))
    assert fake.read_file("box", "/d") == b"file"
    with pytest.raises(KeyError):
        fake.read_file("box", "/d/inner")
    await client.containers.put_archive(
        "box", path="/", data=make_tar(("lnk", b"/etc/hosts"), kind=b"2")
    )
    stat = await client.containers.head_archive("box", path="/lnk")
    assert (stat.size, stat.mode, stat.link_target) == (10, (1 << 27) | 0o777, "/etc/hosts")


async def test_archive_of_a_paused_container_and_after_removal(
    fake: FakeDocker, client: DockerClient
) -> None:
    fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    await client.containers.pause("box")
    await client.containers.put_archive("box", path="/", data=make_tar(("a", b"1")))
    assert fake.read_file("box", "/a") == b"1"
    await client.containers.remove("box", force=True)
    with pytest.raises(KeyError):
        fake.files("box")


# --- network connect / disconnect ----------------------------------------------------------------


async def test_network_connect_disconnect(fake: FakeDocker, client: DockerClient) -> None:
    net = await client.networks.create("appnet")
    c = fake.add_container(name="box", cmd=["sleep", "60"])
    await client.networks.connect("appnet", "box", aliases=["web"])
    await client.networks.connect("appnet", "box", aliases=["web"])  # stopped: no conflict
    info = await client._read(Request("GET", "/containers/box/json"))
    networks = json.loads(info[1])["NetworkSettings"]["Networks"]
    assert sorted(networks) == ["appnet", "bridge"]
    assert networks["appnet"]["Aliases"] == ["web", c.id[:12]]
    assert networks["appnet"]["NetworkID"] == "" and networks["appnet"]["IPAddress"] == ""
    assert (await client.networks.inspect("appnet")).containers == {}

    await client.containers.start("box")
    info = await client._read(Request("GET", "/containers/box/json"))
    networks = json.loads(info[1])["NetworkSettings"]["Networks"]
    assert networks["appnet"]["NetworkID"] == net.id and networks["appnet"]["IPAddress"]
    members = json.loads((await client._read(Request("GET", "/networks/appnet")))[1])["Containers"]
    assert list(members) == [c.id] and members[c.id]["Name"] == "box"
    with pytest.raises(APIError) as twice:
        await client.networks.connect("appnet", "box")
    assert (twice.value.status, twice.value.message) == (
        403,
        "endpoint with name box already exists in network appnet",
    )
    with pytest.raises(APIError, match="has active endpoints") as busy:
        await client.networks.remove("appnet")
    assert busy.value.status == 403

    await client.networks.disconnect("appnet", "box")
    with pytest.raises(ServerError, match=f"container {c.id} is not connected to network appnet"):
        await client.networks.disconnect("appnet", "box")
    events = [(e["Type"], e["Action"]) for e in fake.events if e["Type"] == "network"]
    assert events[-3:] == [
        ("network", "connect"),
        ("network", "connect"),
        ("network", "disconnect"),
    ]
    await client.containers.kill("box")
    with pytest.raises(ServerError, match="is not connected to the network appnet"):
        await client.networks.disconnect("appnet", "box")
    await client.networks.remove("appnet")


async def test_network_connect_errors(fake: FakeDocker, client: DockerClient) -> None:
    await client.networks.create("appnet")
    fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    with pytest.raises(NotFound, match="No such container: ghost"):
        await client.networks.connect("appnet", "ghost")
    with pytest.raises(NotFound, match="network nonet not found"):
        await client.networks.connect("nonet", "box")
    with pytest.raises(NotFound, match="No such container: ghost"):
        await client.networks.disconnect("appnet", "ghost")
    with pytest.raises(NotFound, match="endpoint ghost not found"):
        await client.networks.disconnect("appnet", "ghost", force=True)
    with pytest.raises(BadRequest, match="connected to host network"):
        await client.networks.connect("host", "box")
    with pytest.raises(BadRequest, match="EOF while reading request body"):
        await client._read(
            Request(
                "POST",
                "/networks/appnet/connect",
                data=b"",
                headers={"Content-Type": "application/json"},
            )
        )
    with pytest.raises(BadRequest, match=r"Content-Type specified \(text/plain\)"):
        await client._read(
            Request(
                "POST",
                "/networks/appnet/connect",
                data=b"{}",
                headers={"Content-Type": "text/plain"},
            )
        )


async def test_create_on_a_user_network_with_aliases(
    fake: FakeDocker, client: DockerClient
) -> None:
    await client.networks.create("appnet")
    with pytest.raises(Answer, match="network nonet not found"):
        fake.add_container(name="bad", cmd=["true"], HostConfig={"NetworkMode": "nonet"})
    body = {
        "Image": "busybox",
        "Cmd": ["sleep", "60"],
        "HostConfig": {"NetworkMode": "appnet"},
        "NetworkingConfig": {"EndpointsConfig": {"appnet": {"Aliases": ["db"]}}},
    }
    _, data = await client._read(Request("POST", "/containers/create", body=body))
    cid = json.loads(data)["Id"]
    info = json.loads((await client._read(Request("GET", f"/containers/{cid}/json")))[1])
    assert info["NetworkSettings"]["Networks"]["appnet"]["Aliases"] == ["db", cid[:12]]


# --- prunes and disk usage ------------------------------------------------------------------------


async def test_prunes_remove_only_unused_objects(fake: FakeDocker, client: DockerClient) -> None:
    stopped = fake.add_container(name="stopped", cmd=["true"], labels={"k": "v"})
    running = fake.add_container(name="running", cmd=["sleep", "60"], running=True)
    other = fake.add_container(name="other", cmd=["true"], labels={"k": "w"})
    pruned = await client._read(
        Request("POST", "/containers/prune", params={"filters": '{"label":["k=v"]}'})
    )
    assert json.loads(pruned[1]) == {"ContainersDeleted": [stopped.id], "SpaceReclaimed": 0}
    assert set(fake.containers) == {running.id, other.id}
    pruned = await client._read(
        Request("POST", "/containers/prune", params={"filters": '{"label!":["k"]}'})
    )
    assert json.loads(pruned[1]) == {"ContainersDeleted": None, "SpaceReclaimed": 0}
    prune_events = [e for e in fake.events if e["Action"] == "prune"]
    assert prune_events[-1]["Actor"] == {"ID": "", "Attributes": {"reclaimed": "0"}}
    assert "id" not in prune_events[-1] and prune_events[-1]["status"] == "prune"

    await client.networks.create("idle", labels={"k": "v"})
    await client.networks.create("busy", labels={"k": "v"})
    await client.networks.connect("busy", "running")
    pruned = await client._read(Request("POST", "/networks/prune"))
    assert json.loads(pruned[1]) == {"NetworksDeleted": ["idle"]}

    await client.volumes.create(name="free")
    fake.add_container(name="user", cmd=["true"], HostConfig={"Binds": ["held:/data"]})
    await client.volumes.create(name="held")
    pruned = await client._read(Request("POST", "/volumes/prune"))
    assert json.loads(pruned[1]) == {"VolumesDeleted": ["free"], "SpaceReclaimed": 0}
    pruned = await client._read(Request("POST", "/volumes/prune"))
    assert json.loads(pruned[1]) == {"VolumesDeleted": [], "SpaceReclaimed": 0}


async def test_image_prune_dangling_and_all(fake: FakeDocker, client: DockerClient) -> None:
    dangling = fake.add_image("old:1", size=100)
    dangling.tags.clear()
    unused = fake.add_image("unused:1", size=10)
    result = await client.images.prune()
    assert [d.deleted for d in result.images_deleted or []] == [dangling.id]
    assert result.space_reclaimed == 100
    fake.add_container(name="uses", image="busybox", cmd=["true"])
    raw_answer = await client._read(
        Request("POST", "/images/prune", params={"filters": '{"dangling":["false"]}'})
    )
    body = json.loads(raw_answer[1])
    assert body["ImagesDeleted"] == [
        {"Untagged": "unused:1"},
        {"Deleted": unused.id},
    ]
    assert list(fake.images.values()) == [fake.image("busybox")]


async def test_prune_filters_are_checked(fake: FakeDocker, client: DockerClient) -> None:
    for kind in ("containers", "images", "networks", "volumes"):
        with pytest.raises(BadRequest, match="Invalid filter 'bogus'"):
            await client._read(
                Request("POST", f"/{kind}/prune", params={"filters": '{"bogus":["1"]}'})
            )
    with pytest.raises(BadRequest, match="failed to prune build cache: Invalid filter 'bogus'"):
        await client._read(Request("POST", "/build/prune", params={"filters": '{"bogus":["1"]}'}))
    fake.add_container(name="young", cmd=["true"])
    pruned = await client._read(
        Request("POST", "/containers/prune", params={"filters": '{"until":["1h"]}'})
    )
    assert json.loads(pruned[1])["ContainersDeleted"] is None
    pruned = await client._read(
        Request(
            "POST", "/containers/prune", params={"filters": '{"until":["2999-01-01T00:00:00Z"]}'}
        )
    )
    assert len(json.loads(pruned[1])["ContainersDeleted"]) == 1
    with pytest.raises(BadRequest, match="failed to parse"):
        await client._read(
            Request("POST", "/containers/prune", params={"filters": '{"until":["soon"]}'})
        )


async def test_build_prune_and_system_df(fake: FakeDocker, client: DockerClient) -> None:
    fake.build_cache.extend(
        [
            {"ID": "aaa", "Type": "regular", "Size": 5, "InUse": False, "Shared": False},
            {"ID": "bbb", "Type": "regular", "Size": 7, "InUse": True, "Shared": False},
            {"ID": "ccc", "Type": "source.local", "Size": 3, "InUse": False, "Shared": True},
        ]
    )
    c = fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    fake.write_file("box", "/data", b"12345")
    await client.volumes.create(name="vol")
    df = json.loads((await client._read(Request("GET", "/system/df")))[1])
    assert sorted(df) == [
        "BuildCache",
        "BuilderSize",
        "Containers",
        "Images",
        "LayersSize",
        "Volumes",
    ]
    assert df["BuilderSize"] == 15 and df["LayersSize"] == fake.image("busybox").size
    assert df["Images"][0]["Containers"] == 1
    assert df["Containers"][0]["Id"] == c.id and df["Containers"][0]["SizeRw"] == 5
    assert df["Volumes"][0]["UsageData"] == {"RefCount": 0, "Size": 0}
    typed = await client.system.df()
    assert [r.id for r in typed.build_cache] == ["aaa", "bbb", "ccc"]

    result = await client.images.build_prune(filters={"id": ["a"]})
    assert (result.caches_deleted, result.space_reclaimed) == (["aaa"], 5)
    result = await client.images.build_prune()
    assert not result.caches_deleted
    result = await client.images.build_prune(all=True)
    assert result.caches_deleted == ["ccc"]
    assert [r["ID"] for r in fake.build_cache] == ["bbb"]


# --- push ----------------------------------------------------------------------------------


async def push_messages(
    client: DockerClient, name: str, auth: str = "e30=", **params: Any
) -> list[Any]:
    _, body = await client._read(
        Request(
            "POST", f"/images/{name}/push", params=params or None, headers={"X-Registry-Auth": auth}
        )
    )
    return [json.loads(line) for line in body.splitlines()]


async def test_push_progress_and_registry_state(fake: FakeDocker, client: DockerClient) -> None:
    registry = fake.add_registry("reg.example:5000")
    fake.add_image("reg.example:5000/team/app:1")
    messages = await push_messages(client, "reg.example:5000/team/app", tag="1")
    statuses = [m.get("status") for m in messages]
    assert statuses[0] == "The push refers to repository [reg.example:5000/team/app]"
    assert statuses[1:5] == ["Preparing", "Pushing", "Pushing", "Pushed"]
    digest = registry.repositories["team/app"]["1"]
    assert statuses[5] == f"1: digest: {digest} size: {messages[-1]['aux']['Size']}"
    assert messages[-1] == {
        "aux": {"Tag": "1", "Digest": digest, "Size": messages[-1]["aux"]["Size"]}
    }
    assert messages[2]["progressDetail"]["current"] < messages[3]["progressDetail"]["total"]
    assert (
        f"reg.example:5000/team/app@{digest}" in fake.image("reg.example:5000/team/app:1").digests
    )
    again = await push_messages(client, "reg.example:5000/team/app", tag="1")
    assert [m.get("status") for m in again][2] == "Layer already exists"
    assert any(e["Action"] == "push" for e in fake.events)
    # Through the typed stream: the digest is read from the aux message.
    stream = client.images.push("reg.example:5000/team/app:1")
    await stream.wait()
    assert stream.digest == digest


async def test_push_all_tags_and_errors(fake: FakeDocker, client: DockerClient) -> None:
    registry = fake.add_registry("reg.example", username="u", password="p")
    fake.add_image("reg.example/app:1")
    fake.add_image("reg.example/app:2")
    missing = await push_messages(client, "reg.example/nope", tag="1")
    assert missing[-1]["error"] == "An image does not exist locally with the tag: reg.example/nope"
    assert missing[-1]["errorDetail"] == {"message": missing[-1]["error"]}
    anonymous = await push_messages(client, "reg.example/app", tag="1")
    assert anonymous[-1]["error"] == "no basic auth credentials"
    with pytest.raises(RegistryAuthError):
        await client.images.push(
            "reg.example/app:1", auth={"username": "u", "password": "x"}
        ).wait()
    pushed = await push_messages(client, "reg.example/app", auth=_auth("u", "p"))
    assert [m["aux"]["Tag"] for m in pushed if "aux" in m] == ["1", "2"]
    assert sorted(registry.repositories["app"]) == ["1", "2"]

    unreachable = await push_messages(client, "127.0.0.1:5999/app", tag="1")
    assert (
        unreachable[-1]["error"]
        == "An image does not exist locally with the tag: 127.0.0.1:5999/app"
    )
    fake.add_image("127.0.0.1:5999/app:1")
    unreachable = await push_messages(client, "127.0.0.1:5999/app", tag="1")
    assert unreachable[-1]["error"] == (
        'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused'
    )
    with pytest.raises(BadRequest, match="missing X-Registry-Auth"):
        await client._read(Request("POST", "/images/reg.example/app/push"))


def _auth(username: str, password: str) -> str:
    import base64

    raw = json.dumps({"username": username, "password": password}).encode()
    return base64.urlsafe_b64encode(raw).decode()


# --- build ----------------------------------------------------------------------------------


def build_context(dockerfile: str, **files: bytes) -> bytes:
    return make_tar(("Dockerfile", dockerfile.encode()), *files.items())


async def test_build_runs_the_dockerfile_like_the_classic_builder(
    fake: FakeDocker, client: DockerClient
) -> None:
    dockerfile = (
        "FROM busybox\n"
        "# comment\n"
        "RUN echo hi && \\\n"
        "    echo oops >&2\n"
        "COPY app.py /app.py\n"
        "ENV MODE=prod\n"
        "WORKDIR /srv\n"
        'ENTRYPOINT ["python"]\n'
        "CMD app.py\n"
    )
    context = build_context(dockerfile, **{"app.py": b"print(1)"})
    stream = client.images.build(context, tags=["me/app:1"], labels={"team": "a"})
    image_id = await stream.result()
    record = fake.builds[-1]
    assert record.image_id == image_id and record.tags == ["me/app:1"]
    assert record.files == {"Dockerfile": dockerfile.encode(), "app.py": b"print(1)"}
    assert record.options["t"] == ["me/app:1"] and json.loads(record.options["labels"][0]) == {
        "team": "a"
    }
    image = fake.image("me/app:1")
    assert image.id == image_id
    assert image.labels == {"team": "a"}
    assert "MODE=prod" in image.env and image.working_dir == "/srv"
    assert (image.entrypoint, image.cmd) == (["python"], ["/bin/sh", "-c", "app.py"])

    _, body = await client._read(
        Request("POST", "/build", data=context, headers={"Content-Type": "application/x-tar"})
    )
    lines = [json.loads(line) for line in body.splitlines()]
    streams = [m["stream"] for m in lines if "stream" in m]
    assert streams[:3] == [
        "Step 1/7 : FROM busybox",
        "\n",
        f" ---> {fake.image('busybox').short_id}\n",
    ]
    assert "Step 2/7 : RUN echo hi &&     echo oops >&2" in streams
    assert "hi\n" in streams and "\x1b[91moops\n\x1b[0m" in streams
    copy = streams.index("Step 3/7 : COPY app.py /app.py")
    assert streams[copy + 2].startswith(" ---> ") and "Running in" not in streams[copy + 2]
    # Without the labels the last step differs, and so does the id.
    (second,) = [m["aux"]["ID"] for m in lines if "aux" in m]
    assert second != image_id and second in fake.images
    assert streams[-1] == f"Successfully built {second[7:19]}\n"


async def test_build_failures(fake: FakeDocker, client: DockerClient) -> None:
    with pytest.raises(BuildError) as failed:
        await client.images.build(build_context("FROM busybox\nRUN exit 3\n")).result()
    assert failed.value.code == 3
    assert failed.value.message == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    assert fake.builds[-1].error == failed.value.message
    with pytest.raises(BuildError, match="COPY failed: file not found in build context"):
        await client.images.build(build_context("FROM busybox\nCOPY nope /x\n")).result()
    with pytest.raises(BuildError, match="pull access denied for nothere"):
        await client.images.build(build_context("FROM nothere:1\n")).result()
    with pytest.raises(ServerError, match="Cannot locate specified Dockerfile: Dockerfile"):
        await client.images.build(make_tar(("x", b"1"))).result()
    with pytest.raises(BadRequest, match="line 2: unknown instruction: BOGUS"):
        await client.images.build(build_context("FROM busybox\nbogus x\n")).result()
    with pytest.raises(BadRequest, match="no build stage"):
        await client.images.build(build_context("RUN true\n")).result()


async def test_build_scripted_results(fake: FakeDocker, client: DockerClient) -> None:
    chosen = "sha256:" + "ab" * 32
    fake.set_build(output=["compiling\n"], image_id=chosen)
    fake.set_build(error="disk full", code=7)
    fake.set_build(status=500, error="daemon busy")
    context = build_context("FROM busybox\n")
    stream = client.images.build(context, tags=["x:1"])
    assert await stream.result() == chosen
    assert fake.image("x:1").id == chosen
    with pytest.raises(BuildError, match="disk full") as failed:
        await client.images.build(context).result()
    assert failed.value.code == 7 and "compiling" not in failed.value.log
    with pytest.raises(ServerError, match="daemon busy"):
        await client.images.build(context).result()
    # The queue is used up: back to running the Dockerfile.
    assert (await client.images.build(context).result()).startswith("sha256:")
    with pytest.raises(ValueError, match="image_id"):
        fake.set_build(image_id="nope")


async def test_build_scripted_failing_step_and_log(fake: FakeDocker, client: DockerClient) -> None:
    context = build_context("FROM busybox\nRUN echo ran\nLABEL a=b\n")
    fake.set_build(error="no space left", code=28, failing_step=1, log=b"writing\n")
    fake.set_build(log=b"labelled\n")
    with pytest.raises(BuildError, match="no space left") as failed:
        await client.images.build(context).result()
    assert failed.value.code == 28
    log = failed.value.log
    # The step fails before running: its Step line and the scripted log, no later step.
    assert log.endswith("Step 2/3 : RUN echo ran\nwriting\n")
    assert log.count("ran\n") == 1 and "Step 3/3" not in log
    assert fake.builds[-1].error == "no space left" and fake.builds[-1].image_id is None
    stream = client.images.build(context)
    await stream.result()
    assert "Step 3/3 : LABEL a=b\nlabelled\n" in stream.log and "ran\n" in stream.log
    with pytest.raises(ValueError, match="failing_step"):
        fake.set_build(error="x", failing_step=-1)
    with pytest.raises(ValueError, match="failing_step"):
        fake.set_build(failing_step=0)


async def test_build_quiet_and_unsupported_modes(fake: FakeDocker, client: DockerClient) -> None:
    _, body = await client._read(
        Request(
            "POST",
            "/build",
            params={"q": 1},
            data=build_context("FROM busybox\nLABEL a=b\n"),
            headers={"Content-Type": "application/x-tar"},
        )
    )
    lines = [json.loads(line) for line in body.splitlines()]
    assert len(lines) == 1 and lines[0]["stream"].startswith("sha256:")
    # BuildKit builds are served, through a session the request must name.
    with pytest.raises(APIError, match="needs a session parameter") as buildkit:
        await client._read(Request("POST", "/build", params={"version": "2"}, data=b""))
    assert buildkit.value.status == 400
    with pytest.raises(APIError, match="remote build contexts") as remote:
        await client._read(
            Request("POST", "/build", params={"remote": "https://x/y.git"}, data=b"")
        )
    assert remote.value.status == 501


# --- exec inspect after exit --------------------------------------------------------------


async def test_exec_inspect_after_exit(fake: FakeDocker, client: DockerClient) -> None:
    fake.add_container(name="box", cmd=["sleep", "60"], running=True)
    quick = await client.exec.create("box", cmd=["sh", "-c", "exit 5"])
    before = json.loads((await client._read(Request("GET", f"/exec/{quick.id}/json")))[1])
    assert (before["Running"], before["ExitCode"]) == (False, None)
    await client._read(Request("POST", f"/exec/{quick.id}/start", body={"Detach": True}))
    assert await client.exec.exit_code(quick.id, timeout=5) == 5
    after = json.loads((await client._read(Request("GET", f"/exec/{quick.id}/json")))[1])
    assert (after["Running"], after["ExitCode"]) == (False, 5) and after["Pid"] > 0

    slow = await client.exec.create("box", cmd=["sleep", "600"])
    await client._read(Request("POST", f"/exec/{slow.id}/start", body={"Detach": True}))

    async def running() -> bool:
        return bool(
            json.loads((await client._read(Request("GET", f"/exec/{slow.id}/json")))[1])["Running"]
        )

    await eventually(running)
    await client.containers.kill("box")
    killed = json.loads((await client._read(Request("GET", f"/exec/{slow.id}/json")))[1])
    assert (killed["Running"], killed["ExitCode"]) == (False, 137)
    await client.containers.remove("box")
    with pytest.raises(NotFound, match="No such exec instance"):
        await client.exec.inspect(slow.id)
