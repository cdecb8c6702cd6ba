"""``client.system`` against the real engine: ping, version, info, df, login, finite events."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import aiodock
from aiodock import APIVersionError, DockerClient, InvalidArgument
from aiodock._filters import Filters
from aiodock.models import (
    AuthResponse,
    ContainerSummary,
    ImageSummary,
    SystemDataUsageResponse,
    SystemInfo,
    SystemVersion,
    Volume,
)
from aiodock.models.events import Event
from tests.integration import _infra


@pytest.fixture
def labels(test_label: dict[str, str]) -> dict[str, str]:
    return {**test_label, "aiodock-test-run": uuid.uuid4().hex}


@pytest.mark.engines
async def test_ping_get_and_head(docker: DockerClient) -> None:
    assert await docker.system.ping() is True
    assert await docker.system.ping(head=True) is True


async def test_ping_unreachable_daemon_raises_connection_error() -> None:
    async with DockerClient("unix:///nonexistent/aiodock.sock") as docker:
        with pytest.raises(aiodock.DockerConnectionError):
            await docker.system.ping()


@pytest.mark.engines
async def test_version_and_info(
    docker: DockerClient, engine_kind: str, engine_difference: Callable[[str], None]
) -> None:
    version = await docker.system.version()
    assert isinstance(version, SystemVersion)
    assert version.api_version == await docker.api_version()
    assert version.version and version.os == "linux"
    engine = "Engine"
    if engine_kind == "podman":
        engine = "Podman Engine"
        engine_difference('/version names its component "Podman Engine", not "Engine"')
    assert any(c.name == engine for c in version.components)
    info = await docker.system.info()
    assert isinstance(info, SystemInfo)
    assert info.id and info.name and info.server_version == version.version
    assert info.containers >= info.containers_running >= 0
    assert info.images >= 1  # at least the test image


async def test_df_is_typed_and_sees_what_we_created(
    docker: DockerClient, busybox: str, labels: dict[str, str]
) -> None:
    volume = await docker.volumes.create(f"aiodock-df-{uuid.uuid4().hex[:10]}", labels=labels)
    created: dict[str, Any] = {}
    try:
        created = await docker.request(
            "POST",
            "/containers/create",
            json={
                "Image": busybox,
                "Cmd": ["true"],
                "Labels": labels,
                "HostConfig": {"Binds": [f"{volume.name}:/data"]},
            },
        )
        df = await docker.system.df()
        assert isinstance(df, SystemDataUsageResponse)
        assert df.layers_size > 0
        assert all(isinstance(i, ImageSummary) for i in df.images)
        assert any(busybox in i.repo_tags for i in df.images)
        ours = [c for c in df.containers if c.id == created["Id"]]
        assert len(ours) == 1 and isinstance(ours[0], ContainerSummary)
        assert ours[0].labels == labels
        vols = [v for v in df.volumes if v.name == volume.name]
        assert len(vols) == 1 and isinstance(vols[0], Volume)
        assert vols[0].usage_data is not None and vols[0].usage_data.ref_count == 1
    finally:
        if created:
            with contextlib.suppress(aiodock.NotFound):
                await docker.request("DELETE", f"/containers/{created['Id']}")
        with contextlib.suppress(aiodock.NotFound):
            await docker.volumes.remove(volume.name)


@pytest.mark.engines
async def test_df_types_are_validated_and_gated(docker: DockerClient) -> None:
    with pytest.raises(InvalidArgument, match="types"):
        await docker.system.df(types=["containers"])
    with pytest.raises(InvalidArgument, match="types"):
        await docker.system.df(types="volume")
    if await docker._api_at_least("1.42"):
        df = await docker.system.df(types=["volume"])
        assert df.images == []
    else:
        with pytest.raises(APIVersionError, match=r"1\.42"):
            await docker.system.df(types=["volume"])


async def _create_and_remove(docker: DockerClient, image: str, labels: dict[str, str]) -> str:
    created = await docker.request(
        "POST", "/containers/create", json={"Image": image, "Cmd": ["true"], "Labels": labels}
    )
    await docker.request("DELETE", f"/containers/{created['Id']}")
    return str(created["Id"])


async def test_finite_event_read_with_every_time_form(
    docker: DockerClient, busybox: str, labels: dict[str, str]
) -> None:
    start = time.time()
    start_dt = dt.datetime.now(dt.timezone.utc)
    cid = await _create_and_remove(docker, busybox, labels)
    end = time.time() + 0.5
    filters: Filters = {
        "type": "container",
        "label": {"aiodock-test-run": labels["aiodock-test-run"]},
    }
    forms: list[tuple[Any, Any]] = [
        (start - 1, end),  # float seconds
        (int(start) - 1, int(end) + 1),  # int seconds
        (start_dt - dt.timedelta(seconds=1), dt.datetime.fromtimestamp(end, dt.timezone.utc)),
        (f"{start - 1:.3f}", f"{end:.3f}"),  # strings the daemon parses
    ]
    for since, until in forms:
        events = await docker.system.events(filters=filters, since=since, until=until).collect()
        assert [(e.action, e.actor_id) for e in events] == [("create", cid), ("destroy", cid)]
        create = events[0]
        assert isinstance(create, Event)
        assert create.type == "container" and create.scope == "local"
        assert create.attributes["aiodock-test-run"] == labels["aiodock-test-run"]
        assert create.attributes["image"] == busybox  # as given to create
        assert abs(create.datetime.timestamp() - start) < 10
        assert create.time_nano // 1_000_000_000 == create.time
        assert events[0].time_nano <= events[1].time_nano


async def test_events_filter_by_event_and_daemon_errors_raise(
    docker: DockerClient, busybox: str, labels: dict[str, str]
) -> None:
    start = time.time()
    cid = await _create_and_remove(docker, busybox, labels)
    filters: Filters = {
        "type": "container",
        "event": "destroy",
        "label": {"aiodock-test-run": labels["aiodock-test-run"]},
    }
    events = await docker.system.events(
        filters=filters, since=start - 1, until=time.time()
    ).collect()
    assert [(e.action, e.actor_id) for e in events] == [("destroy", cid)]
    # Strings are passed through for the daemon to judge: it refuses until < since.
    with pytest.raises(aiodock.BadRequest) as info:
        await docker.system.events(since="200", until="100")
    assert info.value.status == 400 and info.value.path == "/events"


async def test_login_against_the_private_registry(
    docker: DockerClient, registry: _infra.Registry
) -> None:
    answer = await docker.system.login(
        username=registry.username, password=registry.password, registry=registry.url
    )
    assert isinstance(answer, AuthResponse)
    assert answer.status == "Login Succeeded"
    as_mapping = await docker.system.login(registry.auth_config)
    assert as_mapping.status == "Login Succeeded"
    with pytest.raises(aiodock.Unauthorized):
        await docker.system.login(
            username=registry.username, password="wrong-password", registry=registry.url
        )
    with pytest.raises(InvalidArgument):
        await docker.system.login(password="no-user")


async def test_session_upgrades_to_h2c_and_the_daemon_speaks_http2(docker: DockerClient) -> None:
    stream = await docker.system.session(
        session_id="aiodock-test-session",
        name="aiodock",
        shared_key="k",
        grpc_methods=["/moby.filesync.v1.FileSync/DiffCopy"],
    )
    async with stream:
        first = await asyncio.wait_for(stream.__anext__(), 10)
    # The daemon is the gRPC client on a session: it opens with the HTTP/2 preface.
    assert first.data.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")


async def test_session_refuses_header_injection(docker: DockerClient) -> None:
    with pytest.raises(aiodock.InvalidArgument, match="headers"):
        await docker.system.session(session_id="x\r\nHost: evil")


@pytest.mark.engines
async def test_engine_info_names_the_engine(docker: DockerClient, engine_kind: str) -> None:
    info = await docker.engine_info()
    version = await docker.system.version()
    assert info.name == ("Podman" if engine_kind == "podman" else "Docker")
    assert info.version == version.version and info.api_version == "1.41"
