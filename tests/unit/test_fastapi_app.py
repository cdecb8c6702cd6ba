"""examples/fastapi_app.py against FakeDocker: the endpoints through an ASGI client with
the app's lifespan, and the log stream through a real uvicorn server on 127.0.0.1, read
and then disconnected, after which the app's DockerClient holds no connection.

The helpers here (``load_example``, ``running_app``, ``acquired``) are reused by the
integration test of the examples against the real engine.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager

from aiodock import DockerClient
from aiodock.testing import FakeDocker
from tests._wait import eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (examples are not a package)."""
    module_name = f"aiodock_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def acquired(docker: DockerClient) -> int:
    """Connections the client has in use (handed out and not given back)."""
    return docker.stats().connections_in_use


@asynccontextmanager
async def running_app(app: Any, *, graceful: float = 3.0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        # uvicorn annotates an int, but a float is honoured: tests keep the wait short.
        timeout_graceful_shutdown=graceful,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), timeout=10)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, graceful + 10)
        sock.close()


@asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``app`` in-process, with its lifespan run around it."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield http


async def read_events(
    lines: AsyncIterator[str], until: str | Callable[[list[tuple[str, str]]], bool]
) -> list[tuple[str, str]]:
    """Parse server-sent events from ``lines`` (comments as ``("comment", text)``) until
    one whose data is ``until``, or ``until(events)`` is true, or the end; the rest stays
    unread."""
    done = until if callable(until) else lambda events: events[-1][1] == until
    events: list[tuple[str, str]] = []
    event = "message"
    async for line in lines:
        if line.startswith(":"):
            events.append(("comment", line[1:].strip()))
        elif line.startswith("event: "):
            event = line[len("event: ") :]
            continue
        elif line.startswith("data: "):
            events.append((event, line[len("data: ") :]))
            event = "message"
        else:
            continue
        if done(events):
            return events
    return events


@pytest.fixture
def example() -> ModuleType:
    return load_example("fastapi_app")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as fake:
        yield fake


async def test_importing_the_example_connects_nowhere(example: ModuleType) -> None:
    # The module-level app makes its client in the lifespan, not at import.
    assert not hasattr(example.app.state, "docker")


async def test_list_inspect_start_stop(example: ModuleType, fake: FakeDocker) -> None:
    app = example.create_app(fake.host)
    web = fake.add_container(name="web", cmd=["sleep", "infinity"], labels={"app": "web"})
    fake.add_container(name="other", cmd=["sleep", "infinity"], running=True)
    async with asgi_client(app) as http:
        docker: DockerClient = app.state.docker
        assert not docker.closed

        response = await http.post("/containers/web/start")
        assert response.status_code == 200
        assert response.json() == {"id": "web", "changed": True}
        assert (await http.post("/containers/web/start")).json()["changed"] is False

        listed = (await http.get("/containers", params={"label": "app=web"})).json()
        assert [(c["id"], c["name"], c["state"]) for c in listed] == [(web.id, "web", "running")]
        assert len((await http.get("/containers")).json()) == 2

        info = (await http.get(f"/containers/{web.id[:12]}")).json()
        assert info["name"] == "web" and info["running"] is True
        assert info["labels"] == {"app": "web"} and info["image"] == "busybox:latest"

        stopped = await http.post("/containers/web/stop", params={"timeout": 1})
        assert stopped.json() == {"id": "web", "changed": True}
        assert (await http.post("/containers/web/stop")).json()["changed"] is False
        info = (await http.get("/containers/web")).json()
        assert (info["running"], info["status"], info["exit_code"]) == (False, "exited", 143)
        assert [c["name"] for c in (await http.get("/containers?all=true")).json()] == [
            "other",
            "web",
        ]
    assert docker.closed, "the lifespan shutdown closes the client"


async def test_errors_map_to_http_statuses(example: ModuleType, fake: FakeDocker) -> None:
    app = example.create_app(fake.host)
    async with asgi_client(app) as http:
        missing = await http.get("/containers/nope")
        assert missing.status_code == 404
        assert "No such container: nope" in missing.json()["detail"]
        assert (await http.get("/containers/nope/logs")).status_code == 404
        assert (await http.post("/containers/nope/start")).status_code == 404
        fake.fail_next("POST", "/containers/*/stop", status=500, message="daemon broke")
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        failed = await http.post("/containers/box/stop")
        assert failed.status_code == 502 and failed.json()["detail"] == "daemon broke"
        fake.fail_next("GET", "/containers/json", status=409, message="busy")
        assert (await http.get("/containers")).status_code == 409


async def test_unreachable_daemon_is_503(example: ModuleType, tmp_path: Path) -> None:
    app = example.create_app(f"unix://{tmp_path}/absent.sock")
    async with asgi_client(app) as http:
        response = await http.get("/containers")
    assert response.status_code == 503


async def test_finite_logs_as_server_sent_events(example: ModuleType, fake: FakeDocker) -> None:
    app = example.create_app(fake.host)
    fake.add_container(name="job", cmd=["job"])
    fake.set_output("job", [(1, b"one\n"), (2, b"two\r\n"), (1, b"x\xff")], exit_code=0)
    async with asgi_client(app) as http:
        await http.post("/containers/job/start")
        response = await http.get("/containers/job/logs", params={"follow": "false"})
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await read_events(response.aiter_lines(), until="")
    assert events == [("stdout", "one"), ("stderr", "two"), ("stdout", "x\ufffd"), ("end", "")]
    assert acquired(app.state.docker) == 0


async def test_followed_logs_are_released_when_the_browser_goes(
    example: ModuleType, fake: FakeDocker
) -> None:
    app = example.create_app(fake.host, heartbeat=0.2)
    fake.add_container(name="srv", cmd=["sleep", "infinity"], running=True)
    fake.write_output("srv", b"booted\n")
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as http:
        docker: DockerClient = app.state.docker
        async with http.stream("GET", "/containers/srv/logs", params={"follow": "true"}) as r:
            assert r.status_code == 200
            lines = r.aiter_lines()
            assert await read_events(lines, until="booted") == [("stdout", "booted")]
            fake.write_output("srv", b"later\n", stream=2)
            assert await read_events(lines, until="later") == [("stderr", "later")]
            # Quiet: the heartbeat keeps the connection checked.
            assert await asyncio.wait_for(anext(lines), 5) == ""  # the end of "later"
            assert await asyncio.wait_for(anext(lines), 5) == ": keep-alive"
            assert acquired(docker) == 1
            follows = len(fake.requests_to("GET", "/containers/srv/logs"))
        # The browser went away mid-stream: the log stream's connection is released.
        await eventually(lambda: acquired(docker) == 0)
        assert follows == 1
        assert len(http._transport._pool.connections) == 0  # type: ignore[attr-defined]
        # And the app keeps serving.
        assert (await http.get("/containers/srv")).json()["running"] is True
        assert acquired(docker) == 0
    assert docker.closed


async def test_log_stream_ends_when_the_container_stops(
    example: ModuleType, fake: FakeDocker
) -> None:
    app = example.create_app(fake.host, heartbeat=5)
    fake.add_container(name="srv", cmd=["sleep", "infinity"], running=True)
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as http:
        async with http.stream("GET", "/containers/srv/logs") as r:
            lines = r.aiter_lines()
            fake.write_output("srv", b"bye\n")
            assert await read_events(lines, until="bye") == [("stdout", "bye")]
            fake.exit_container("srv", 0)
            rest = await asyncio.wait_for(read_events(lines, until=""), 5)
        assert rest == [("end", "")]
        assert acquired(app.state.docker) == 0


async def test_shutdown_with_an_open_log_stream_is_clean(
    example: ModuleType, fake: FakeDocker
) -> None:
    app = example.create_app(fake.host, heartbeat=5)
    fake.add_container(name="srv", cmd=["sleep", "infinity"], running=True)
    fake.write_output("srv", b"up\n")
    started = time.monotonic()
    async with httpx.AsyncClient() as http:
        async with running_app(app, graceful=0.5) as url:
            response = await http.send(
                http.build_request("GET", f"{url}/containers/srv/logs"), stream=True
            )
            assert await read_events(response.aiter_lines(), until="up") == [("stdout", "up")]
        # uvicorn gave up waiting for the stream, cancelled it, then ran the lifespan shutdown.
        assert app.state.docker.closed
        assert acquired(app.state.docker) == 0
        await response.aclose()
    assert time.monotonic() - started < 10
