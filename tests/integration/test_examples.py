"""Every script in examples/ runs against the real engine, and the FastAPI example serves
list/inspect/start/stop and a followed log stream that is released when the client goes.

The examples are found with a glob: a new example that no test here knows how to run
fails ``test_every_example_is_exercised`` until it is added below.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import attrs
import httpx
import pytest

from aiodock import DockerClient
from aiodock.errors import NotFound
from tests._wait import eventually
from tests.integration import _infra
from tests.integration._infra import DOCKER_HOST, REPO_ROOT
from tests.unit.test_fastapi_app import (
    acquired,
    asgi_client,
    load_example,
    read_events,
    running_app,
)

pytestmark = pytest.mark.integration

EXAMPLES = REPO_ROOT / "examples"


@attrs.frozen
class Script:
    """How to run one example script and the line that says it worked."""

    expect: str
    args: tuple[str, ...] = ()
    registry: bool = False
    timeout: float = 180.0


SCRIPTS = {
    "quickstart": Script(expect="quickstart OK"),
    "logs_follow": Script(expect="logs_follow OK"),
    "exec_exit_code": Script(expect="exec_exit_code OK"),
    "stats_dashboard": Script(expect="stats_dashboard OK"),
    "events_watcher": Script(expect="events_watcher OK"),
    "build_progress": Script(expect="built sha256:", timeout=300),
    "pull_push_progress": Script(expect="pull/push OK", registry=True, timeout=300),
}
# Not scripts: imported and served in the tests below.
APPS = {"fastapi_app"}
# Scripts that need auxiliary daemons: run by their own tests below.
FLEET = {"fleet_events"}


def test_every_example_is_exercised() -> None:
    found = {path.stem for path in EXAMPLES.glob("*.py")}
    tested = set(SCRIPTS) | APPS | FLEET
    assert found == tested, (
        f"examples without a test here: {sorted(found - tested)}; "
        f"tests for missing examples: {sorted(tested - found)}"
    )


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an example: the main engine, an empty docker config."""
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")
    }
    env.update(
        {"PYTHONPATH": str(REPO_ROOT), "DOCKER_HOST": DOCKER_HOST, "DOCKER_CONFIG": str(config)}
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_script_runs(
    name: str, busybox: str, example_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    script = SCRIPTS[name]
    args = list(script.args)
    if script.registry:
        registry: _infra.Registry = request.getfixturevalue("registry")
        args.append(registry.url)
        example_env["AIODOCK_REGISTRY_USER"] = registry.username
        example_env["AIODOCK_REGISTRY_PASSWORD"] = registry.password
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=script.timeout,
        cwd=REPO_ROOT,
        env=example_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, output
    assert script.expect in proc.stdout, output
    assert "Traceback" not in proc.stderr, output
    assert "ResourceWarning" not in proc.stderr, output


@pytest.mark.slow
def test_fleet_events_local_tls_ssh_and_a_host_that_goes_away(
    busybox: str,
    example_env: dict[str, str],
    tls_daemon: _infra.TLSDaemon,
    sshd: _infra.SSHServer,
) -> None:
    tls_daemon.load_image(busybox)
    args = [
        f"local={DOCKER_HOST}",
        f"tls={tls_daemon.host}",
        f"ssh={sshd.host}",
        "--tls",
        f"tls={tls_daemon.cert_dir}",
        "--ssh-options",
        " ".join(sshd.ssh_options),
        "--flaky",
        "--image",
        busybox,
    ]
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "fleet_events.py"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
        env=example_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, output
    assert "fleet_events OK" in proc.stdout, output
    assert "round 1 (all hosts): ok" in proc.stdout, output
    assert "round 2 (flaky host gone): ok" in proc.stdout, output
    # Every host's own events came tagged with that host.
    for host in ("local", "tls", "ssh", "flaky"):
        assert f"[{host:<6}] container create" in proc.stdout, output
    assert "Traceback" not in proc.stderr, output
    assert "ResourceWarning" not in proc.stderr, output


# --- the FastAPI example ------------------------------------------------------------------


@pytest.fixture
def fastapi_example() -> ModuleType:
    return load_example("fastapi_app")


@pytest.fixture
async def box(
    docker: DockerClient, busybox: str, test_label: dict[str, str]
) -> AsyncIterator[tuple[str, str]]:
    """A created (not started) container that logs on both streams, and its run label."""
    run = uuid.uuid4().hex[:10]
    created = await docker.containers.create(
        image=busybox,
        cmd=["sh", "-c", "echo ready; echo warn >&2; sleep 600"],
        labels={**test_label, "aiodock-example-run": run},
        name=f"aiodock-fastapi-{run}",
    )
    try:
        yield created.id, run
    finally:
        with contextlib.suppress(NotFound):
            await docker.containers.remove(created.id, force=True)


async def test_fastapi_list_inspect_start_stop(
    fastapi_example: ModuleType, box: tuple[str, str]
) -> None:
    cid, run = box
    app = fastapi_example.create_app(DOCKER_HOST)
    async with asgi_client(app) as http:
        docker: DockerClient = app.state.docker
        label = {"label": f"aiodock-example-run={run}"}
        assert (await http.get("/containers", params=label)).json() == []
        listed = (await http.get("/containers", params={**label, "all": "true"})).json()
        assert [(c["id"], c["name"], c["state"]) for c in listed] == [
            (cid, f"aiodock-fastapi-{run}", "created")
        ]

        assert (await http.post(f"/containers/{cid}/start")).json() == {
            "id": cid,
            "changed": True,
        }
        assert (await http.post(f"/containers/{cid}/start")).json()["changed"] is False
        info = (await http.get(f"/containers/aiodock-fastapi-{run}")).json()
        assert info["id"] == cid and info["running"] is True and info["status"] == "running"
        assert info["labels"]["aiodock-example-run"] == run

        stopped = await http.post(f"/containers/{cid}/stop", params={"timeout": 1})
        assert stopped.json() == {"id": cid, "changed": True}
        assert (await http.post(f"/containers/{cid}/stop")).json()["changed"] is False
        info = (await http.get(f"/containers/{cid}")).json()
        assert (info["running"], info["status"]) == (False, "exited")

        missing = await http.get(f"/containers/{cid}0")
        assert missing.status_code == 404 and "No such container" in missing.json()["detail"]
        assert acquired(docker) == 0
    assert docker.closed


async def test_fastapi_log_stream_is_released_on_disconnect(
    fastapi_example: ModuleType, box: tuple[str, str], docker: DockerClient
) -> None:
    cid, _ = box
    await docker.containers.start(cid)
    app = fastapi_example.create_app(DOCKER_HOST, heartbeat=0.3)
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as http:
        app_docker: DockerClient = app.state.docker
        async with http.stream("GET", f"/containers/{cid}/logs") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            wanted = {("stdout", "ready"), ("stderr", "warn")}
            seen = await asyncio.wait_for(
                read_events(lines, until=lambda events: wanted <= set(events)), 30
            )
            assert sorted(e for e in seen if e[0] != "comment") == sorted(wanted)
            # Nothing more is logged: keep-alive comments flow while the stream is open.
            quiet = await asyncio.wait_for(
                read_events(lines, until=lambda events: events[-1][0] == "comment"), 10
            )
            assert quiet == [("comment", "keep-alive")]
            assert acquired(app_docker) == 1
        # The client went away: the app closes the follow stream to the engine.
        await eventually(lambda: acquired(app_docker) == 0)
        assert (await http.get(f"/containers/{cid}")).json()["running"] is True
        # The finished stream of a stopped container ends with an "end" event.
        await docker.containers.kill(cid)
        response = await http.get(f"/containers/{cid}/logs", params={"follow": "false"})
        events = await read_events(response.aiter_lines(), until="")
        assert sorted(events[:-1]) == [("stderr", "warn"), ("stdout", "ready")]
        assert events[-1] == ("end", "")
    assert app_docker.closed
