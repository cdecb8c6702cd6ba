"""Request bodies come from models through the converter: what goes on the wire,
including the fields sent at their default on purpose (``keep``), and no resource
module builds a wire dict by hand."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import aiodock
import aiodock.resources
from aiodock import models
from aiodock._convert import unstructure
from aiodock.models.swarm import SecretCreate, ServiceMode, service_spec
from aiodock.resources.services import spec_body
from aiodock.testing import FakeDocker

RESOURCES = Path(aiodock.resources.__file__).parent
WIRE_KEY = re.compile(r"[A-Z][A-Za-z0-9]*")  # "Name", "EnableIPv4"; not "X-Registry-Auth"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as server:
        server.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        yield server


@pytest.fixture
def docker(fake: FakeDocker) -> aiodock.DockerClient:
    return fake.client()


def hand_built_wire_keys(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        keys: list[object] = []
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.slice, ast.Constant)
        ):
            keys = [node.slice.value]
        line = getattr(node, "lineno", 0)
        found += [(line, k) for k in keys if isinstance(k, str) and WIRE_KEY.fullmatch(k)]
    return found


def test_the_scan_sees_hand_built_bodies() -> None:
    assert hand_built_wire_keys('body = {"Name": name}\n') == [(1, "Name")]
    assert hand_built_wire_keys('body["Force"] = True\n') == [(1, "Force")]
    assert hand_built_wire_keys('headers = {"X-Registry-Auth": a, "name": 1}\n') == []


@pytest.mark.parametrize(
    "path", sorted(RESOURCES.rglob("*.py")), ids=lambda p: str(p.relative_to(RESOURCES))
)
def test_no_resource_builds_a_wire_dict(path: Path) -> None:
    assert hand_built_wire_keys(path.read_text(encoding="utf-8")) == []


def test_keep_sends_defaults_by_name_and_skips_absent_parents() -> None:
    driver = models.Driver(name="golang")
    assert unstructure(driver) == {"Name": "golang"}
    assert unstructure(driver, keep=("options",)) == {"Name": "golang", "Options": {}}
    spec = models.ConfigSpec(name="c")
    assert unstructure(spec, keep=("labels", "templating.options")) == {"Name": "c", "Labels": {}}
    with_driver = models.ConfigSpec(name="c", templating=driver)
    assert unstructure(with_driver, keep=("templating.options",)) == {
        "Name": "c",
        "Templating": {"Name": "golang", "Options": {}},
    }


def test_a_zero_replica_count_is_sent() -> None:
    body = spec_body(service_spec("busybox", mode=ServiceMode.replicated(0)))
    assert body["Mode"] == {"Replicated": {"Replicas": 0}}
    assert "Mode" not in spec_body(service_spec("busybox"))


def test_secret_bodies_send_driver_options_like_configs() -> None:
    request = SecretCreate(name="s", driver=models.Driver(name="vault"))
    assert request.to_wire() == {
        "Name": "s",
        "Labels": {},
        "Driver": {"Name": "vault", "Options": {}},
    }


async def test_exec_bodies(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    created = await docker.exec.create("box", cmd="echo hi")
    assert fake.requests_to("POST", "/containers/*/exec")[-1].json() == {
        "Cmd": ["echo", "hi"],
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": False,
        "Privileged": False,
    }
    await docker.exec.create("box", cmd=["true"], env=[], user="nobody", working_dir="/tmp")
    body = fake.requests_to("POST", "/containers/*/exec")[-1].json()
    assert (body["Env"], body["User"], body["WorkingDir"]) == ([], "nobody", "/tmp")
    await docker.exec.start(created.id, detach=True, tty=False)
    assert fake.requests_to("POST", "/exec/*/start")[-1].json() == {"Detach": True, "Tty": False}


async def test_network_bodies(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    await docker.networks.create("n1", check_duplicate=False)
    assert fake.requests_to("POST", "/networks/create")[-1].json() == {"Name": "n1"}
    await docker.networks.create("n2", labels={}, options={}, internal=False)
    assert fake.requests_to("POST", "/networks/create")[-1].json() == {
        "Name": "n2",
        "Internal": False,
        "Labels": {},
        "Options": {},
        "CheckDuplicate": True,
    }
    await docker.networks.connect("n1", "box")
    assert fake.requests_to("POST", "/networks/*/connect")[-1].json() == {"Container": "box"}
    await docker.networks.connect("n2", "box", aliases=["web"])
    assert fake.requests_to("POST", "/networks/*/connect")[-1].json() == {
        "Container": "box",
        "EndpointConfig": {"Aliases": ["web"]},
    }
    await docker.networks.disconnect("n1", "box", force=True)
    assert fake.requests_to("POST", "/networks/*/disconnect")[-1].json() == {
        "Container": "box",
        "Force": True,
    }


async def test_a_false_enable_ipv4_is_sent() -> None:
    # The daemon reads a missing EnableIPv4 as true: False must be on the wire.
    async with FakeDocker(api_version="1.47") as fake:
        fake.add_route(
            "POST", "/networks/create", lambda req: web.json_response({"Id": "x"}, status=201)
        )
        async with fake.client() as docker:
            await docker.networks.create("n", enable_ipv4=False, enable_ipv6=False)
        assert fake.requests_to("POST", "/networks/create")[-1].json() == {
            "Name": "n",
            "EnableIPv4": False,
            "EnableIPv6": False,
        }


async def test_volume_bodies(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    await docker.volumes.create()
    assert fake.requests_to("POST", "/volumes/create")[-1].json() == {}
    await docker.volumes.create("v1", labels={}, driver_opts={"o": "x"})
    assert fake.requests_to("POST", "/volumes/create")[-1].json() == {
        "Name": "v1",
        "Labels": {},
        "DriverOpts": {"o": "x"},
    }
