"""Engine discovery (from_env with nothing configured) and telling Docker from Podman."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodock import DockerClient, NoEngineFound, _config
from aiodock._config import discover_host, resolve
from aiodock._engine import EngineInfo, engine_from_version

PLACES = ["docker", "rootless-docker", "rootless-podman", "podman"]


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The four default places, moved into tmp_path (XDG_RUNTIME_DIR = tmp_path/xdg)."""
    root = tmp_path / "root"
    xdg = tmp_path / "xdg"
    (xdg / "podman").mkdir(parents=True)
    (root / "run" / "podman").mkdir(parents=True)
    monkeypatch.setattr(
        _config,
        "DEFAULT_SOCKETS",
        [
            (str(root / "docker.sock"), "Docker"),
            ("$XDG_RUNTIME_DIR/docker.sock", "rootless Docker"),
            ("$XDG_RUNTIME_DIR/podman/podman.sock", "rootless Podman"),
            (str(root / "run" / "podman" / "podman.sock"), "Podman"),
        ],
    )
    return {
        "docker": root / "docker.sock",
        "rootless-docker": xdg / "docker.sock",
        "rootless-podman": xdg / "podman" / "podman.sock",
        "podman": root / "run" / "podman" / "podman.sock",
        "xdg": xdg,
    }


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    yield socks
    for sock in socks:
        sock.close()


def _listen(path: Path, socks: list[socket.socket]) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(8)
    socks.append(sock)


def _env(places: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    return {"XDG_RUNTIME_DIR": str(places["xdg"]), "DOCKER_CONFIG": str(tmp_path / "cfg")}


@pytest.mark.parametrize("place", PLACES)
def test_each_default_place_is_found_alone(
    places: dict[str, Path], listening: list[socket.socket], tmp_path: Path, place: str
) -> None:
    _listen(places[place], listening)
    host, source = discover_host(_env(places, tmp_path))
    assert host == f"unix://{places[place]}"
    assert str(places[place]) in source and "discovered" in source


@pytest.mark.parametrize("first", range(len(PLACES)))
def test_the_earliest_answering_place_wins(
    places: dict[str, Path], listening: list[socket.socket], tmp_path: Path, first: int
) -> None:
    for place in PLACES[first:]:
        _listen(places[place], listening)
    host, _ = discover_host(_env(places, tmp_path))
    assert host == f"unix://{places[PLACES[first]]}"


def test_nothing_answers_lists_every_place_and_why(
    places: dict[str, Path], listening: list[socket.socket], tmp_path: Path
) -> None:
    # docker: missing; rootless docker: a plain file; rootless podman: a socket nobody
    # listens on; podman: missing.
    places["rootless-docker"].write_text("not a socket")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(places["rootless-podman"]))
    dead.close()
    with pytest.raises(NoEngineFound) as info:
        discover_host(_env(places, tmp_path))
    tried = dict(info.value.tried)
    assert list(tried) == [str(places[p]) for p in PLACES]
    assert tried[str(places["docker"])] == "does not exist"
    assert tried[str(places["rootless-docker"])] == "is not a socket"
    assert tried[str(places["rootless-podman"])].startswith("does not accept connections")
    assert tried[str(places["podman"])] == "does not exist"
    message = str(info.value)
    for place in PLACES:
        assert str(places[place]) in message
    assert isinstance(info.value, ConnectionError)  # a DockerConnectionError


def test_without_xdg_runtime_dir_the_rootless_places_say_so(
    places: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(NoEngineFound) as info:
        discover_host({"DOCKER_CONFIG": str(tmp_path)})
    reasons = [why for _, why in info.value.tried]
    assert reasons.count("XDG_RUNTIME_DIR is not set") == 2
    assert len(reasons) == 4


def test_configured_hosts_come_first_and_are_never_probed(
    places: dict[str, Path], tmp_path: Path
) -> None:
    env = {**_env(places, tmp_path), "DOCKER_HOST": "unix:///nowhere/docker.sock"}
    assert resolve(env, discover=True).host == "unix:///nowhere/docker.sock"
    # Without discover, resolve stays pure: the CLI's default, nothing probed.
    assert resolve(_env(places, tmp_path)).host == "unix:///var/run/docker.sock"


async def test_from_env_uses_the_discovered_socket(
    places: dict[str, Path], listening: list[socket.socket], tmp_path: Path
) -> None:
    _listen(places["rootless-podman"], listening)
    async with DockerClient.from_env(_env(places, tmp_path)) as client:
        assert client.host == f"unix://{places['rootless-podman']}"
    with pytest.raises(NoEngineFound):
        DockerClient.from_env({"DOCKER_CONFIG": str(tmp_path)})


DOCKER_VERSION = {
    "Platform": {"Name": ""},
    "Components": [
        {"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {"ApiVersion": "1.41"}},
        {"Name": "containerd", "Version": "1.6.20~ds1"},
    ],
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
}
PODMAN_VERSION = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [
        {"Name": "Podman Engine", "Version": "4.3.1", "Details": {"APIVersion": "4.3.1"}},
        {"Name": "Conmon", "Version": "conmon version 2.1.6"},
    ],
    "Version": "4.3.1",
    "ApiVersion": "1.41",
}


def test_engine_from_version_tells_docker_and_podman() -> None:
    docker = engine_from_version(DOCKER_VERSION)
    assert docker == EngineInfo("Docker", "20.10.24+dfsg1", "1.41", "")
    assert docker.is_docker and not docker.is_podman
    podman = engine_from_version(PODMAN_VERSION)
    assert podman == EngineInfo("Podman", "4.3.1", "1.41", "linux/amd64/debian-12")
    assert podman.is_podman
    desktop = engine_from_version({"Platform": {"Name": "Docker Desktop 4.30"}, "Version": "26"})
    assert desktop.name == "Docker" and desktop.version == "26"
    other = engine_from_version({"Components": [{"Name": "Fancy", "Version": "1"}]})
    assert other.name == "Fancy"
    assert engine_from_version({"Components": "garbage", "Platform": 3}).name == "Docker"
