"""Containers and exec namespaces against FakeDocker (its own answers, or scripted ones):
argument checks, request bodies, log framing decisions, status handling, stats arithmetic."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aiodock import DockerClient, StreamType
from aiodock._convert import structure
from aiodock._streams.frames import encode_frame
from aiodock._tar.archive import parse_path_stat
from aiodock.errors import (
    APIVersionError,
    ContainerNotFound,
    DockerConnectionError,
    DockerTimeoutError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    StreamError,
)
from aiodock.models import ContainerConfig, HostConfig, Mount, RestartPolicy
from aiodock.models.containers import PathStat, Stats
from aiodock.resources.containers import build_create_request, detach_key_bytes, parse_bytes
from aiodock.testing import FakeDocker, FakeRequest
from tests._wait import eventually

FIXTURES = Path(__file__).parent / "fixtures"
Handler = Callable[[FakeRequest], Any]


def calls(fake: FakeDocker, method: str = "*", contains: str = "") -> list[str]:
    """The paths of the recorded requests with ``method`` whose path has ``contains``."""
    return [r.path for r in fake.requests_to(method) if contains in r.path]


def json_reply(data: Any, status: int = 200) -> Handler:
    return lambda req: (status, data)


def status_reply(status: int) -> Handler:
    return lambda req: (status, None)


def body_reply(chunks: list[bytes], content_type: str | None = None, delay: float = 0.0) -> Handler:
    """Stream ``chunks`` as they are (split where the test wants), ``delay`` apart."""

    async def handler(req: FakeRequest) -> web.StreamResponse:
        fake: FakeDocker = req.fake
        writer = await fake.open_stream(req, content_type)
        for chunk in chunks:
            await writer.write(chunk)
            await asyncio.sleep(delay)
        return await writer.finish()

    return handler


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as fake:
        yield fake


@pytest.fixture
async def docker(fake: FakeDocker) -> AsyncIterator[DockerClient]:
    async with fake.client() as client:
        yield client


# --- argument checks: nothing is sent ----------------------------------------------

BAD_CALLS: list[tuple[str, Callable[[DockerClient], Any]]] = [
    ("memory", lambda d: d.containers.create(image="i", memory="lots")),
    ("memory", lambda d: d.containers.create(image="i", memory=-5)),
    ("memory_swap", lambda d: d.containers.create(image="i", memory_swap="1x")),
    ("shm_size", lambda d: d.containers.create(image="i", shm_size=True)),
    ("ports", lambda d: d.containers.create(image="i", ports={"99999": 1})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80/xyz": 1})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80": ("300.1.1.1", 80)})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80": 70000})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80": []})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80": {"x": 1}})),
    ("ports", lambda d: d.containers.create(image="i", ports=["80:80"])),  # type: ignore[arg-type]
    ("ports", lambda d: d.containers.create(image="i", ports={"90-80": None})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80-82": "9000-9001"})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80-82": 9000})),
    ("ports", lambda d: d.containers.create(image="i", ports={"80": "9010-9000"})),
    ("expose", lambda d: d.containers.create(image="i", expose=["70000-70001"])),
    ("expose", lambda d: d.containers.create(image="i", expose=["0"])),
    ("cpus", lambda d: d.containers.create(image="i", cpus=0)),
    ("cpus", lambda d: d.containers.create(image="i", cpus="2")),  # type: ignore[arg-type]
    ("cpu_shares", lambda d: d.containers.create(image="i", cpu_shares=1)),
    ("restart_policy", lambda d: d.containers.create(image="i", restart_policy="sometimes")),
    ("restart_policy", lambda d: d.containers.create(image="i", restart_policy="always:3")),
    ("env", lambda d: d.containers.create(image="i", env={"A=B": "x"})),
    ("env", lambda d: d.containers.create(image="i", env={"A": object()})),  # type: ignore[dict-item]
    ("env", lambda d: d.containers.create(image="i", env="A=1")),
    ("environment", lambda d: d.containers.create(image="i", env=[], environment=[])),  # type: ignore[call-arg]
    ("labels", lambda d: d.containers.create(image="i", labels={"a": 1})),  # type: ignore[dict-item]
    ("name", lambda d: d.containers.create(image="i", name="bad name!")),
    ("volumes", lambda d: d.containers.create(image="i", volumes=["relative"])),
    ("volumes", lambda d: d.containers.create(image="i", volumes=["a:b"])),
    ("volumes", lambda d: d.containers.create(image="i", volumes={"/h": {"bind": "rel"}})),
    ("image", lambda d: d.containers.create(cmd=["true"])),
    ("cmd", lambda d: d.containers.create(image="i", cmd="echo 'unbalanced")),
    ("cmd", lambda d: d.containers.create(image="i", cmd=[])),
    ("cmd", lambda d: d.containers.create(image="i", cmd=["echo", 1])),  # type: ignore[list-item]
    ("tty", lambda d: d.containers.create(image="i", tty="yes")),  # type: ignore[arg-type]
    ("healthcheck", lambda d: d.containers.create(image="i", healthcheck={"bogus": 1})),
    (
        "healthcheck interval",
        lambda d: d.containers.create(image="i", healthcheck={"interval": -1}),
    ),
    ("mounts", lambda d: d.containers.create(image="i", mounts=[{"Target": "/x"}])),  # type: ignore[list-item]
    (
        "network_aliases",
        lambda d: d.containers.create(image="i", network="host", network_aliases=["a"]),
    ),
    ("network_aliases", lambda d: d.containers.create(image="i", network_aliases=["a"])),
    ("log_options", lambda d: d.containers.create(image="i", log_options={"max-size": "1m"})),
    ("tmpfs", lambda d: d.containers.create(image="i", tmpfs={"run": ""})),
    ("stop_signal", lambda d: d.containers.create(image="i", stop_signal="SIG TERM")),
    ("config", lambda d: d.containers.create(config={"Image": "i"})),  # type: ignore[arg-type]
    ("container_id", lambda d: d.containers.inspect("")),
    ("container_id", lambda d: d.containers.start("a\x00b")),
    ("detach_keys", lambda d: d.containers.start("c", detach_keys="ctrl-€")),
    ("detach_keys", lambda d: d.containers.attach("c", detach_keys="ctrl-pp", tty=False)),
    ("timeout", lambda d: d.containers.stop("c", timeout=1.5)),  # type: ignore[arg-type]
    ("signal", lambda d: d.containers.kill("c", signal="SIG KILL")),
    ("signal", lambda d: d.containers.kill("c", signal=500)),
    ("height", lambda d: d.containers.resize("c", height=0, width=80)),
    ("width", lambda d: d.containers.resize("c", height=24, width=-1)),
    ("name", lambda d: d.containers.rename("c", name="")),
    ("condition", lambda d: d.containers.wait("c", condition="done")),
    ("timeout", lambda d: d.containers.wait("c", timeout=-1)),
    ("limit", lambda d: d.containers.list(limit=0)),
    ("all", lambda d: d.containers.list(all="yes")),  # type: ignore[arg-type]
    ("filters", lambda d: d.containers.list(filters={"label": 1.5})),  # type: ignore[dict-item]
    ("filters", lambda d: d.containers.prune(filters=["label=x"])),  # type: ignore[arg-type]
    ("resources", lambda d: d.containers.update("c")),
    ("memory", lambda d: d.containers.update("c", memory="12q")),
    ("one_shot", lambda d: d.containers.stats_once("c", one_shot="yes")),  # type: ignore[arg-type]
    ("path", lambda d: d.containers.put_archive("c", path="", data=b"")),
    ("data", lambda d: d.containers.put_archive("c", path="/", data="x")),  # type: ignore[arg-type]
    ("data", lambda d: d.containers.put_archive("c", path="/", data=Path("/nonexistent-dir"))),
    ("path", lambda d: d.containers.head_archive("c", path="")),
    ("auto_remove", lambda d: d.containers.run("i", ["true"], auto_remove=True)),
    ("stdin", lambda d: d.containers.run("i", ["true"], stdin="text")),  # type: ignore[arg-type]
    ("cmd", lambda d: d.exec.create("c", cmd=[])),
    ("env", lambda d: d.exec.create("c", cmd=["true"], env={"": "x"})),
    ("console_size", lambda d: d.exec.create("c", cmd=["true"], console_size=(0, 80))),
    ("exec_id", lambda d: d.exec.inspect("")),
    ("height", lambda d: d.exec.resize("e", height=0, width=1)),
    ("stdin", lambda d: d.exec.run("c", ["cat"], stdin="text")),  # type: ignore[arg-type]
    ("timeout", lambda d: d.exec.run("c", ["cat"], timeout=-2)),
]


@pytest.mark.parametrize(("parameter", "call"), BAD_CALLS)
async def test_bad_arguments_fail_before_any_request(
    fake: FakeDocker, docker: DockerClient, parameter: str, call: Callable[[DockerClient], Any]
) -> None:
    with pytest.raises(InvalidArgument) as info:
        await call(docker)
    assert info.value.parameter == parameter
    assert fake.requests == []


BAD_STREAM_CALLS: list[tuple[str, Callable[[DockerClient], Any]]] = [
    ("tail", lambda d: d.containers.logs("c", tail=-1)),
    ("tail", lambda d: d.containers.logs("c", tail="last")),
    ("stdout", lambda d: d.containers.logs("c", stdout=False, stderr=False)),
    ("since", lambda d: d.containers.logs("c", since=object())),  # type: ignore[arg-type]
    ("until", lambda d: d.containers.logs("c", until=-3)),
    ("follow", lambda d: d.containers.logs("c", follow=1)),  # type: ignore[arg-type]
    ("tty", lambda d: d.containers.logs("c", tty="no")),  # type: ignore[arg-type]
    ("path", lambda d: d.containers.get_archive("c", path="")),
    ("container_id", lambda d: d.containers.stats("")),
    ("container_id", lambda d: d.containers.export("x\x00")),
]


@pytest.mark.parametrize(("parameter", "call"), BAD_STREAM_CALLS)
async def test_bad_stream_arguments_fail_at_the_call(
    fake: FakeDocker, docker: DockerClient, parameter: str, call: Callable[[DockerClient], Any]
) -> None:
    with pytest.raises(InvalidArgument) as info:
        call(docker)  # streams are lazy, but their arguments are checked at once
    assert info.value.parameter == parameter
    assert fake.requests == []


async def test_unknown_create_keyword_is_a_type_error(docker: DockerClient) -> None:
    with pytest.raises(TypeError, match="create"):
        await docker.containers.run("i", ["true"], colour="blue")  # type: ignore[call-arg]


# --- create bodies ---------------------------------------------------------------------


def test_parse_bytes() -> None:
    assert parse_bytes("512m") == 512 * 2**20
    assert parse_bytes("1g") == 2**30
    assert parse_bytes("1.5G") == 3 * 2**29
    assert parse_bytes("64MiB") == 64 * 2**20
    assert parse_bytes("100kb") == 102400
    assert parse_bytes("2048") == 2048
    assert parse_bytes(7) == 7
    assert parse_bytes("-1", allow_unlimited=True) == -1
    for bad in ("", "m", "1.2.3m", "10 zb", "-1", "1e6"):
        with pytest.raises(InvalidArgument):
            parse_bytes(bad, "memory")


def test_create_request_from_keywords() -> None:
    request, name, platform = build_create_request(
        image="busybox",
        cmd="sh -c 'echo hi there'",
        entrypoint=["/bin/env"],
        env={"A": "1", "B": None, "N": 3},
        labels=["solo", "k=v"],
        name="web-1",
        platform="linux/amd64",
        ports={
            "80/tcp": ("127.0.0.1", 8080),
            53: [("127.0.0.1",), "127.0.0.1:5353"],
            "9000/udp": None,
            "81": 0,
        },
        expose=[7000],
        volumes=["/data", "named:/srv", "/host:/mnt:ro"],
        memory="512m",
        memory_swap=-1,
        cpus=1.5,
        restart_policy="on-failure:3",
        healthcheck={"test": "true", "interval": 2.5, "retries": 3},
        network="appnet",
        network_aliases=["web"],
        log_driver="local",
        log_options={"max-size": "10m"},
        read_only=True,
        extra_hosts={"db": "10.0.0.2"},
        tmpfs=["/run:size=1m"],
    )
    assert name == "web-1"
    assert platform == "linux/amd64"
    from aiodock._convert import unstructure

    body = unstructure(request)
    assert body["Image"] == "busybox"
    assert body["Cmd"] == ["sh", "-c", "echo hi there"]
    assert body["Entrypoint"] == ["/bin/env"]
    assert body["Env"] == ["A=1", "B", "N=3"]
    assert body["Labels"] == {"solo": "", "k": "v"}
    assert body["ExposedPorts"] == {
        "80/tcp": {},
        "53/tcp": {},
        "9000/udp": {},
        "81/tcp": {},
        "7000/tcp": {},
    }
    assert body["Volumes"] == {"/data": {}}
    assert body["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 2_500_000_000,
        "Retries": 3,
    }
    host = body["HostConfig"]
    assert host["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/tcp": [{"HostIp": "127.0.0.1"}, {"HostIp": "127.0.0.1", "HostPort": "5353"}],
        "9000/udp": [{}],
        "81/tcp": [{}],
    }
    assert host["Binds"] == ["named:/srv", "/host:/mnt:ro"]
    assert host["Memory"] == 512 * 2**20
    assert host["MemorySwap"] == -1
    assert host["NanoCpus"] == 1_500_000_000
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["NetworkMode"] == "appnet"
    assert host["LogConfig"] == {"Type": "local", "Config": {"max-size": "10m"}}
    assert host["ReadonlyRootfs"] is True
    assert host["ExtraHosts"] == ["db:10.0.0.2"]
    assert host["Tmpfs"] == {"/run": "size=1m"}
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"appnet": {"Aliases": ["web"]}}}


def test_port_ranges_pair_up_like_docker_run() -> None:
    from aiodock._convert import unstructure

    request, _, _ = build_create_request(
        image="busybox",
        ports={
            "8000-8002": "127.0.0.1:9000-9002",  # paired one to one
            "7000-7001/udp": None,  # any host port for each
            "80": ("127.0.0.1", "9100-9110"),  # the daemon picks one in the range
        },
        expose=["6000-6001"],
    )
    body = unstructure(request)
    assert set(body["ExposedPorts"]) == {
        "8000/tcp", "8001/tcp", "8002/tcp", "7000/udp", "7001/udp", "80/tcp",
        "6000/tcp", "6001/tcp",
    }  # fmt: skip
    bindings = body["HostConfig"]["PortBindings"]
    assert [bindings[f"{p}/tcp"] for p in (8000, 8001, 8002)] == [
        [{"HostIp": "127.0.0.1", "HostPort": str(port)}] for port in (9000, 9001, 9002)
    ]
    assert bindings["7000/udp"] == bindings["7001/udp"] == [{}]
    assert bindings["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "9100-9110"}]


def test_create_keywords_replace_model_fields() -> None:
    config = ContainerConfig(image="base", cmd=["a"], user="nobody", tty=True)
    host = HostConfig(memory=1024, privileged=True, restart_policy=RestartPolicy(name="always"))
    request, _, _ = build_create_request(
        config=config, host_config=host, cmd=["b"], memory="1k", mounts=[Mount(target="/t")]
    )
    assert request.image == "base"
    assert request.cmd == ["b"]
    assert request.user == "nobody"
    assert request.tty is True
    assert request.host_config is not None
    assert request.host_config.memory == 1024
    assert request.host_config.privileged is True
    assert request.host_config.restart_policy == RestartPolicy(name="always")
    assert request.host_config.mounts == [Mount(target="/t")]


async def test_create_sends_name_and_body(fake: FakeDocker, docker: DockerClient) -> None:
    fake.add_route("POST", "/containers/create", json_reply({"Id": "abc", "Warnings": ["w"]}, 201))
    created = await docker.containers.create(
        image="busybox", cmd=["true"], name="n1", ports={"80": ("127.0.0.1", 8080)}
    )
    assert created.id == "abc"
    assert created.warnings == ["w"]
    sent_request = fake.requests[-1]
    assert (sent_request.method, sent_request.path, sent_request.query) == (
        "POST",
        "/containers/create",
        {"name": ["n1"]},
    )
    sent = sent_request.json()
    assert sent["Cmd"] == ["true"]
    assert sent["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]
    }


async def test_create_unknown_image_is_image_not_found(
    fake: FakeDocker, docker: DockerClient
) -> None:
    # The fake's own answer: the image is not in its store.
    with pytest.raises(ImageNotFound, match="No such image"):
        await docker.containers.create(image="nope")
    assert len(fake.containers) == 0


async def test_create_platform_needs_api_1_41(fake: FakeDocker) -> None:
    fake.add_route("POST", "/containers/create", json_reply({"Id": "abc"}, 201))
    async with fake.client(api_version="1.40") as old:
        with pytest.raises(APIVersionError, match="platform"):
            await old.containers.create(image="i", platform="linux/amd64")
    assert calls(fake, "POST") == []
    async with fake.client() as new:
        await new.containers.create(image="i", platform="linux/arm64")
    assert fake.requests[-1].query == {"platform": ["linux/arm64"]}


# --- status handling ----------------------------------------------------------------------


async def test_start_and_stop_report_not_modified(fake: FakeDocker, docker: DockerClient) -> None:
    # The fake's own containers answer 204 or 304 the way the engine does.
    fake.add_container(name="fresh")
    fake.add_container(name="running", cmd=["sleep", "1000"], running=True)
    fake.add_container(name="stopped")
    assert await docker.containers.start("fresh") is True
    assert await docker.containers.start("running") is False
    assert await docker.containers.stop("running", timeout=3) is True
    assert await docker.containers.stop("stopped") is False
    statuses = [(r.path, r.query) for r in fake.requests_to("POST")]
    assert statuses == [
        ("/containers/fresh/start", {}),
        ("/containers/running/start", {}),
        ("/containers/running/stop", {"t": ["3"]}),
        ("/containers/stopped/stop", {}),
    ]
    assert not fake.container("running").running


async def test_unknown_container_is_container_not_found(
    fake: FakeDocker, docker: DockerClient
) -> None:
    # The fake's own 404s: it holds no container "ghost".
    with pytest.raises(ContainerNotFound, match="ghost"):
        await docker.containers.inspect("ghost")
    with pytest.raises(ContainerNotFound, match="ghost"):
        await docker.containers.remove("ghost", force=True)
    assert fake.requests[-1].query == {"force": ["1"], "v": ["0"]}


async def test_ids_are_quoted_into_one_path_segment(fake: FakeDocker, docker: DockerClient) -> None:
    ids: list[str] = []

    def kill(req: FakeRequest) -> None:
        ids.append(req.params["id"])  # ``{id}`` never spans a ``/``, encoded ones aside

    fake.add_route("POST", "/containers/{id}/kill", kill)
    await docker.containers.kill("a/../b?c", signal="HUP")
    assert ids == ["a/../b?c"]
    [sent] = fake.requests_to("POST")
    assert (sent.version, sent.raw_path) == ("1.41", "/containers/a%2F..%2Fb%3Fc/kill")
    assert sent.query == {"signal": ["HUP"]}


async def test_stop_signal_needs_api_1_42(fake: FakeDocker, docker: DockerClient) -> None:
    with pytest.raises(APIVersionError, match="signal"):
        await docker.containers.stop("c", signal="SIGINT")
    assert calls(fake, "POST") == []


async def test_wait_parses_status_and_times_out(fake: FakeDocker, docker: DockerClient) -> None:
    fake.add_route("POST", "/containers/done/wait", json_reply({"StatusCode": 3, "Error": None}))

    # Headers, then nothing: a wait that never ends.
    fake.add_route("POST", "/containers/busy/wait", json_reply({"StatusCode": 0}))
    fake.stall_next("POST", "/containers/busy/wait")
    status = await docker.containers.wait("done", condition="next-exit")
    assert status.status_code == 3
    assert fake.requests[-1].query == {"condition": ["next-exit"]}
    with pytest.raises(DockerTimeoutError, match="busy"):
        await docker.containers.wait("busy", timeout=0.2)
    session = docker._shared.session
    assert session is not None and session.connector is not None
    connector = session.connector
    await eventually(lambda: len(connector._acquired) == 0)  # the timed-out wait let go


async def test_list_encodes_filters(fake: FakeDocker, docker: DockerClient) -> None:
    fake.add_route(
        "GET",
        "/containers/json",
        json_reply(json.loads((FIXTURES / "container_list.json").read_text())),
    )
    result = await docker.containers.list(
        all=True, filters={"label": {"app": "web"}, "status": ["exited"]}
    )
    assert result and result[0].id
    sent = fake.requests[-1]
    assert sent.query["all"] == ["1"]
    assert json.loads(sent.query["filters"][0]) == {"label": ["app=web"], "status": ["exited"]}


# --- logs framing ------------------------------------------------------------------------

MUX = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def inspect_reply(tty: bool) -> Handler:
    return json_reply({"Id": "c", "Config": {"Tty": tty}})


async def test_logs_on_old_api_inspect_once_then_demux_exactly(
    fake: FakeDocker, docker: DockerClient
) -> None:
    out = os.urandom(70_000)
    err = os.urandom(50_000)
    frames = [
        encode_frame(1, out[:30_000]),
        encode_frame(2, err[:10]),
        encode_frame(1, b""),
        encode_frame(2, err[10:]),
        encode_frame(1, out[30_000:]),
    ]
    wire = b"".join(frames)
    chunks = [wire[i : i + 4093] for i in range(0, len(wire), 4093)]  # splits headers too
    fake.add_route("GET", "/containers/c/json", inspect_reply(False))
    fake.add_route("GET", "/containers/c/logs", body_reply(chunks))
    stream = docker.containers.logs("c", tail=10, since=timedelta(minutes=5), timestamps=False)
    assert fake.requests == []  # lazy
    output = await stream.demux()
    assert output.stdout == out
    assert output.stderr == err
    assert stream.tty is False
    assert len(calls(fake, "GET", "/json")) == 1
    order = [r.path for r in fake.requests if r.path != "/_ping"]
    assert order == ["/containers/c/json", "/containers/c/logs"]
    sent = fake.requests[-1]
    assert sent.param("tail") == "10" and sent.param("stdout") == "1"
    assert sent.param("stderr") == "1"
    assert abs(float(sent.query["since"][0]) - (datetime.now().timestamp() - 300)) < 5


async def test_logs_tty_container_stream_raw_chunks(fake: FakeDocker, docker: DockerClient) -> None:
    data = os.urandom(20_000)
    fake.add_route("GET", "/containers/t/json", inspect_reply(True))
    fake.add_route("GET", "/containers/t/logs", body_reply([data[:7], data[7:]], delay=0.05))
    frames = await docker.containers.logs("t").collect()
    assert all(f.stream == StreamType.STDOUT for f in frames)
    assert b"".join(f.data for f in frames) == data
    assert len(frames) >= 2  # chunks as they come, not one byte per item, not one blob


async def test_logs_tty_hint_skips_the_inspect(fake: FakeDocker, docker: DockerClient) -> None:
    fake.add_route("GET", "/containers/c/logs", body_reply([encode_frame(2, b"x")]))
    assert (await docker.containers.logs("c", tty=False).demux()).stderr == b"x"
    assert calls(fake, "GET", "/json") == []


@pytest.mark.parametrize(
    ("content_type", "body", "expected_stdout"),
    [
        (MUX, encode_frame(1, b"framed"), b"framed"),
        (RAW, encode_frame(1, b"raw"), encode_frame(1, b"raw")),
    ],
)
async def test_logs_on_new_api_trust_the_content_type(
    content_type: str, body: bytes, expected_stdout: bytes
) -> None:
    async with FakeDocker(api_version="1.43") as fake, fake.client() as docker:
        fake.add_route("GET", "/containers/c/logs", body_reply([body], content_type))
        output = await docker.containers.logs("c").demux()
    assert output.stdout == expected_stdout
    assert [r.version for r in fake.requests_to("GET", "/containers/*")] == ["1.43"]
    assert calls(fake, "GET", "/json") == []


async def test_logs_on_new_api_without_content_type_ask_the_container() -> None:
    async with FakeDocker(api_version="1.43") as fake, fake.client() as docker:
        fake.add_route("GET", "/containers/c/json", inspect_reply(False))
        # No Content-Type at all, as Engine 20.10 sends logs.
        fake.add_route("GET", "/containers/c/logs", body_reply([encode_frame(2, b"e")]))
        output = await docker.containers.logs("c").demux()
    assert output.stderr == b"e"
    assert len(calls(fake, "GET", "/json")) == 1


async def test_logs_of_unknown_container(fake: FakeDocker, docker: DockerClient) -> None:
    # The fake's own 404: it holds no container "x".
    with pytest.raises(ContainerNotFound, match="x"):
        await docker.containers.logs("x").read()
    assert calls(fake, "GET", "/logs") == []


async def test_logs_daemon_error_frame_raises(fake: FakeDocker, docker: DockerClient) -> None:
    body = encode_frame(1, b"ok\n") + encode_frame(3, b"log driver broke")
    fake.add_route("GET", "/containers/c/logs", body_reply([body]))
    seen: list[bytes] = []
    with pytest.raises(StreamError, match="log driver broke"):
        async for frame in docker.containers.logs("c", tty=False):
            seen.append(frame.data)
    assert seen == [b"ok\n"]


async def test_logs_lines_keep_streams_apart(fake: FakeDocker, docker: DockerClient) -> None:
    body = encode_frame(1, b"a1\na") + encode_frame(2, b"b1\n") + encode_frame(1, b"2\n")
    fake.add_route("GET", "/containers/c/logs", body_reply([body]))
    lines = [(f.stream, f.data) async for f in docker.containers.logs("c", tty=False).lines()]
    assert lines == [(1, b"a1\n"), (2, b"b1\n"), (1, b"a2\n")]


# --- archives -------------------------------------------------------------------------------


def _stat_header(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def test_parse_path_stat() -> None:
    stat = parse_path_stat(
        _stat_header(
            {
                "name": "sh",
                "size": 12,
                "mode": 134218239,
                "mtime": "2024-01-02T03:04:05Z",
                "linkTarget": "/bin/busybox",
            }
        )
    )
    assert stat == PathStat(
        name="sh", size=12, mode=134218239, mtime="2024-01-02T03:04:05Z", link_target="/bin/busybox"
    )
    assert stat.is_symlink and not stat.is_dir and not stat.is_file
    assert stat.st_mode == 0o120777
    assert stat.modified == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    directory = parse_path_stat(_stat_header({"name": "etc", "mode": 2147484141}))
    assert directory.is_dir and directory.permissions == 0o755 and directory.st_mode == 0o40755
    setuid = PathStat(mode=(1 << 23) | 0o755)
    assert setuid.is_file and setuid.st_mode == 0o104755
    for bad in (None, "", "%%%", base64.b64encode(b"[1]").decode()):
        with pytest.raises(DockerConnectionError):
            parse_path_stat(bad)


async def test_archive_404_tells_container_from_path(
    fake: FakeDocker, docker: DockerClient
) -> None:
    # The fake's own answers: container "box" exists without /nope, "gone" does not.
    fake.add_container(name="box")
    with pytest.raises(NotFound, match="/nope") as info:
        await docker.containers.get_archive("box", path="/nope")
    assert not isinstance(info.value, ContainerNotFound)
    with pytest.raises(ContainerNotFound):
        await docker.containers.get_archive("gone", path="/")
    with pytest.raises(ContainerNotFound):
        await docker.containers.put_archive("gone", path="/", data=b"")
    with pytest.raises(NotFound) as info:
        await docker.containers.head_archive("box", path="/nope")
    assert not isinstance(info.value, ContainerNotFound)
    with pytest.raises(ContainerNotFound):
        await docker.containers.head_archive("gone", path="/")
    # A HEAD 404 has no body: the client asked which one was missing.
    assert calls(fake, "GET", "/json") == ["/containers/box/json", "/containers/gone/json"]


async def test_get_archive_streams_chunks_and_stat(fake: FakeDocker, docker: DockerClient) -> None:
    payload = os.urandom(300_000)

    async def archive(req: FakeRequest) -> web.StreamResponse:
        response = web.StreamResponse()
        response.headers["X-Docker-Container-Path-Stat"] = _stat_header({"name": "f", "size": 3})
        response.headers["Content-Type"] = "application/x-tar"
        await response.prepare(req.raw)
        for i in range(0, len(payload), 65536):
            await response.write(payload[i : i + 65536])
        return response

    fake.add_route("GET", "/containers/c/archive", archive)
    stream = docker.containers.get_archive("c", path="/f")
    with pytest.raises(Exception, match="not been started"):
        _ = stream.stat
    async with stream as archive_stream:
        assert archive_stream.stat.name == "f"
        chunks = [chunk async for chunk in archive_stream]
    assert b"".join(chunks) == payload
    assert len(chunks) > 1
    assert fake.requests[-1].query == {"path": ["/f"]}


async def test_put_archive_streams_a_directory(
    fake: FakeDocker, docker: DockerClient, tmp_path: Path
) -> None:
    fake.add_container(name="box")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.bin").write_bytes(b"\x00\xff" * 1000)
    await docker.containers.put_archive("box", path="/tmp", data=tmp_path, copy_uid_gid=True)
    [sent] = fake.requests_to("PUT", "/containers/box/archive")
    assert sent.headers.get("Transfer-Encoding") == "chunked"
    assert sent.query == {"path": ["/tmp"], "copyUIDGID": ["1"]}
    assert fake.read_file("box", "/tmp/sub/f.bin") == b"\x00\xff" * 1000
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(sent.body)) as tar:
        names = tar.getnames()
        data = tar.extractfile("sub/f.bin")
        assert data is not None and data.read() == b"\x00\xff" * 1000
        assert {m.uid for m in tar.getmembers()} == {0}
    assert names == ["sub", "sub/f.bin"]


# --- stats arithmetic ---------------------------------------------------------------------------


def test_stats_from_a_captured_sample() -> None:
    stats = structure(json.loads((FIXTURES / "container_stats.json").read_text()), Stats)
    assert stats.memory_limit > 0
    assert stats.memory_stats is not None and stats.memory_stats.usage is not None
    assert 0 < stats.memory_usage <= stats.memory_stats.usage
    assert stats.network_rx_bytes >= 0


def _sample(**memory_stats: int) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": 3_000_000_000, "percpu_usage": [1, 2, 3, 4]},
            "system_cpu_usage": 120_000_000_000,
            "online_cpus": 2,
        },
        "precpu_stats": {
            "cpu_usage": {"total_usage": 2_000_000_000},
            "system_cpu_usage": 100_000_000_000,
        },
        "memory_stats": {"usage": 10_000, "limit": 40_000, "stats": memory_stats},
        "networks": {"eth0": {"rx_bytes": 5, "tx_bytes": 7}, "eth1": {"rx_bytes": 1}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"op": "Read", "value": 100},
                {"op": "Write", "value": 30},
                {"op": "read", "value": 1},
            ]
        },
    }


def test_stats_cpu_and_memory_like_docker_stats() -> None:
    v1 = structure(_sample(total_inactive_file=1_000, inactive_file=9, cache=5_000), Stats)
    # (1e9 / 20e9) * 2 cpus * 100
    assert v1.cpu_percent == pytest.approx(10.0)
    assert v1.memory_usage == 9_000
    assert v1.memory_percent == pytest.approx(22.5)
    assert v1.network_rx_bytes == 6 and v1.network_tx_bytes == 7
    assert v1.block_read_bytes == 101 and v1.block_write_bytes == 30
    v2 = structure(_sample(inactive_file=2_500, file=3_000), Stats)
    assert v2.memory_usage == 7_500
    bigger = structure(_sample(total_inactive_file=20_000), Stats)
    assert bigger.memory_usage == 10_000
    no_online = _sample()
    del no_online["cpu_stats"]["online_cpus"]
    assert structure(no_online, Stats).cpu_percent == pytest.approx(20.0)  # 4 per-CPU entries
    first = _sample()
    first["precpu_stats"] = {}
    assert structure(first, Stats).cpu_percent == pytest.approx(5.0)
    assert structure({}, Stats).cpu_percent == 0.0
    assert structure({}, Stats).memory_usage == 0


async def test_stats_stream_is_typed(fake: FakeDocker, docker: DockerClient) -> None:
    sample = json.dumps(_sample(cache=1)).encode()
    fake.add_route("GET", "/containers/c/stats", body_reply([sample, sample[:10], sample[10:]]))
    samples = await docker.containers.stats("c").collect()
    assert len(samples) == 2
    assert all(isinstance(s, Stats) for s in samples)
    assert fake.requests[-1].query == {"stream": ["1"]}


# --- misc -----------------------------------------------------------------------------------


def test_detach_key_bytes() -> None:
    assert detach_key_bytes("ctrl-p,ctrl-q") == b"\x10\x11"
    assert detach_key_bytes("ctrl-@,ctrl-[,ctrl-_,a") == b"\x00\x1b\x1fa"
    with pytest.raises(InvalidArgument):
        detach_key_bytes("ctrl-1")


async def test_exec_start_looks_up_tty_and_detach(fake: FakeDocker, docker: DockerClient) -> None:
    fake.add_route("GET", "/exec/e/json", json_reply({"ID": "e", "ProcessConfig": {"tty": True}}))
    fake.add_route("POST", "/exec/e/start", status_reply(200))
    started: Awaitable[object] = docker.exec.start("e", detach=True)
    assert await started is None
    assert fake.requests[-1].json() == {"Detach": True, "Tty": True}
    assert calls(fake) == ["/_ping", "/exec/e/json", "/exec/e/start"]


async def test_exec_exit_code_polls_until_the_process_is_gone(
    fake: FakeDocker, docker: DockerClient
) -> None:
    answers = iter([{"Running": True, "ExitCode": None}] * 3 + [{"Running": False, "ExitCode": 4}])

    def inspect(req: FakeRequest) -> Any:
        return next(answers)

    fake.add_route("GET", "/exec/e/json", inspect)
    assert await docker.exec.exit_code("e") == 4
    assert len(calls(fake, "GET", "/exec/e/json")) == 4
    fake.add_route("GET", "/exec/forever/json", json_reply({"Running": True}))
    with pytest.raises(DockerTimeoutError, match="forever"):
        await docker.exec.exit_code("forever", timeout=0.1)
