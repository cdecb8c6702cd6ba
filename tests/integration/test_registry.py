"""Push, pull, distribution inspect and login against a real registry with htpasswd auth.

The registry (``registry`` fixture) listens on 127.0.0.1:5000 and wants testuser /
testpassword. Credentials reach the engine from an explicit argument, from config.json in
a temporary ``DOCKER_CONFIG`` and from a credential helper script put on ``PATH``. Only the
local busybox image is pushed (under unique names); nothing comes from Docker Hub.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodock import AuthConfig, DockerClient, PullResult, PushResult, RegistryAuthError
from aiodock.errors import NotFound, StreamError, Unauthorized
from aiodock.resources.images import auth_login

try:
    from . import _infra
except ImportError:  # rootdir-relative import mode without packages
    import _infra  # type: ignore[no-redef,import-not-found]


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG, so that no stored credential is used by accident."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


@pytest.fixture
async def pushed_name(docker: DockerClient, busybox: str) -> AsyncIterator[str]:
    """``127.0.0.1:5000/aiodock-test/img-<uuid>``, tagged locally; every local tag removed after."""
    host, port = _infra.REGISTRY_ADDR
    name = f"{host}:{port}/aiodock-test/img-{uuid.uuid4().hex[:12]}"
    await docker.images.tag(busybox, f"{name}:1")
    try:
        yield name
    finally:
        for image in await docker.images.list(filters={"reference": f"{name}*"}):
            for tag in image.repo_tags:
                if tag.startswith(name):
                    with contextlib.suppress(NotFound):
                        await docker.images.remove(tag, force=True)


def explicit(registry: _infra.Registry) -> AuthConfig:
    return AuthConfig(
        username=registry.username, password=registry.password, serveraddress=registry.url
    )


async def test_push_without_credentials_is_an_auth_error(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    stream = docker.images.push(f"{pushed_name}:1")
    with pytest.raises(RegistryAuthError) as info:
        await stream.wait()
    error = info.value
    assert isinstance(error, Unauthorized) and isinstance(error, StreamError)
    assert error.http_status is None  # the engine reported it inside the stream
    assert "no basic auth credentials" in error.message


async def test_push_with_wrong_password_is_an_auth_error(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    wrong = {"username": registry.username, "password": "not-the-password"}
    with pytest.raises(RegistryAuthError) as info:
        await docker.images.push(f"{pushed_name}:1", auth=wrong).wait()
    assert "not-the-password" not in str(info.value)
    assert "not-the-password" not in repr(info.value)


async def test_push_pull_inspect_with_explicit_credentials(
    docker: DockerClient,
    busybox: str,
    registry: _infra.Registry,
    docker_config: Path,
    pushed_name: str,
) -> None:
    auth = explicit(registry)
    push = docker.images.push(f"{pushed_name}:1", auth=auth)
    statuses = [message.status async for message in push]
    assert push.digest is not None and push.digest.startswith("sha256:")
    assert push.aux is not None and push.aux["Tag"] == "1"
    # Each layer ends up in the registry one way: uploaded, already there, or mounted
    # from another repository of the same registry (other tests push the same layers).
    assert any(
        s == "Pushed" or s == "Layer already exists" or s.startswith("Mounted from")
        for s in statuses
    ), statuses
    tracker = push.tracker
    assert tracker.layers_total >= 1 and tracker.layers_done == tracker.layers_total
    assert tracker.fraction in (None, 1.0)

    # The registry really has it, under the digest the push reported.
    status, body = registry.get(f"/v2/{pushed_name.split('/', 1)[1]}/tags/list")
    assert status == 200 and json.loads(body)["tags"] == ["1"]
    info = await docker.distribution.inspect(f"{pushed_name}:1", auth=auth)
    assert info.descriptor is not None and info.descriptor.digest == push.digest
    assert any(p.architecture for p in info.platforms)

    # Pull it back under the pushed name after removing the local tag.
    original = await docker.images.inspect(busybox)
    await docker.images.remove(f"{pushed_name}:1")
    pull = docker.images.pull(f"{pushed_name}:1", auth=auth)
    await pull.wait()
    assert pull.digest == push.digest
    assert (await docker.images.inspect(f"{pushed_name}:1")).id == original.id

    # By digest too.
    await docker.images.pull(f"{pushed_name}@{push.digest}", auth=auth).wait()


async def test_awaiting_a_push_and_a_pull_finishes_them(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    auth = explicit(registry)
    pushed = await docker.images.push(f"{pushed_name}:1", auth=auth)
    assert isinstance(pushed, PushResult)
    assert pushed.reference == f"{pushed_name}:1" and pushed.tag == "1"
    assert pushed.digest is not None and pushed.digest.startswith("sha256:")
    assert pushed.size is not None and pushed.size > 0
    info = await docker.distribution.inspect(f"{pushed_name}:1", auth=auth)
    assert info.descriptor is not None and info.descriptor.digest == pushed.digest

    await docker.images.remove(f"{pushed_name}:1")
    assert not await docker.images.exists(f"{pushed_name}:1")
    pulled = await docker.images.pull(f"{pushed_name}:1", auth=auth)
    # Nothing was iterated: the await itself ran the pull until the image was there.
    assert await docker.images.exists(f"{pushed_name}:1")
    assert pulled == PullResult(
        reference=f"{pushed_name}:1",
        digest=pushed.digest,
        status=f"Downloaded newer image for {pushed_name}:1",
        updated=True,
    )
    again = await docker.images.pull(f"{pushed_name}:1", auth=auth)
    assert again.updated is False and again.digest == pushed.digest
    assert again.status == f"Image is up to date for {pushed_name}:1"


async def test_dropping_a_started_pull_warns(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    auth = explicit(registry)
    await docker.images.push(f"{pushed_name}:1", auth=auth)
    await docker.images.remove(f"{pushed_name}:1")
    pull = docker.images.pull(f"{pushed_name}:1", auth=auth)
    async for _ in pull:
        break
    with pytest.warns(ResourceWarning, match="dropped before it finished"):
        del pull
        gc.collect()
    # Closed on purpose instead, nothing is said.
    pull = docker.images.pull(f"{pushed_name}:1", auth=auth)
    async for _ in pull:
        break
    await pull.aclose()
    del pull
    gc.collect()


async def test_pull_without_credentials_is_an_auth_error(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    await docker.images.push(f"{pushed_name}:1", auth=explicit(registry)).wait()
    with pytest.raises(RegistryAuthError) as info:
        await docker.images.pull(f"{pushed_name}:1").wait()
    assert info.value.http_status == 500  # what Engine 20.10 answers
    with pytest.raises(RegistryAuthError):
        await docker.distribution.inspect(f"{pushed_name}:1")


async def test_missing_tag_is_not_found(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    await docker.images.push(f"{pushed_name}:1", auth=explicit(registry)).wait()
    with pytest.raises(NotFound):
        await docker.images.pull(f"{pushed_name}:no-such-tag", auth=explicit(registry)).wait()


async def test_credentials_from_config_json(
    docker: DockerClient, registry: _infra.Registry, docker_config: Path, pushed_name: str
) -> None:
    token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {f"http://{registry.url}": {"auth": token}}})
    )
    push = docker.images.push(f"{pushed_name}:1")
    await push.wait()
    assert push.digest is not None
    await docker.images.remove(f"{pushed_name}:1")
    await docker.images.pull(f"{pushed_name}:1").wait()
    assert await docker.images.exists(f"{pushed_name}:1")
    info = await docker.distribution.inspect(f"{pushed_name}:1")
    assert info.descriptor is not None and info.descriptor.digest == push.digest


async def test_credentials_from_a_credential_helper(
    docker: DockerClient,
    registry: _infra.Registry,
    docker_config: Path,
    pushed_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "helper-calls"
    helper = bindir / "docker-credential-aiodocktest"
    helper.write_text(
        "#!/bin/sh\n"
        f'echo "$1" >> "{calls}"\n'
        '[ "$1" = get ] || exit 1\n'
        "read server\n"
        f'[ "$server" = "{registry.url}" ] || {{ echo "credentials not found"; exit 1; }}\n'
        f'printf \'{{"ServerURL":"%s","Username":"{registry.username}",'
        f'"Secret":"{registry.password}"}}\' "$server"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    (docker_config / "config.json").write_text(
        json.dumps({"credHelpers": {registry.url: "aiodocktest"}})
    )
    await docker.images.push(f"{pushed_name}:1").wait()
    await docker.images.remove(f"{pushed_name}:1")
    await docker.images.pull(f"{pushed_name}:1").wait()
    assert await docker.images.exists(f"{pushed_name}:1")
    assert calls.read_text().split() == ["get", "get"]


async def test_login(docker: DockerClient, registry: _infra.Registry) -> None:
    answer = await auth_login(
        docker, username=registry.username, password=registry.password, registry=registry.url
    )
    assert answer.status == "Login Succeeded"
    with pytest.raises(RegistryAuthError) as info:
        await auth_login(
            docker, username=registry.username, password="wrong-password", registry=registry.url
        )
    assert "wrong-password" not in str(info.value)


def test_pull_push_progress_example_runs(
    busybox: str, registry: _infra.Registry, docker_config: Path
) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "AIODOCK_REGISTRY_USER": registry.username,
        "AIODOCK_REGISTRY_PASSWORD": registry.password,
    }
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "pull_push_progress.py"), registry.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pull/push OK" in proc.stdout
    assert "layers 2/2" in proc.stdout
    # Without credentials the example reports the refusal with its own exit status.
    env.pop("AIODOCK_REGISTRY_USER")
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "pull_push_progress.py"), registry.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=env,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refused the credentials" in proc.stderr
