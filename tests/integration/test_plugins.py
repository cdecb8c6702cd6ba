"""Managed plugins against the real engine and local registries (never Docker Hub).

The plugin is made here: its rootfs holds busybox and a tiny static program
(compiled with the system's C compiler) that listens on the plugin socket, so
the engine can really enable it. Its interface type is a logging driver, which
the engine only talks to when a container asks for that driver, so enabling it
cannot disturb other tests sharing the engine.

Push and pull go to the plain-HTTP ``registry`` fixture (127.0.0.1:5000) and to
a registry started here with TLS (self-signed, which the engine accepts for
127.0.0.0/8) and htpasswd auth on a free port. The full round trip runs on the
TLS one: over plain HTTP, Engine 20.10 reports a refused login as a failed
HTTPS attempt instead of the registry's 401, and port 5000 may be held by
another test session on the same machine.

Without a C compiler the plugin cannot be enabled for real; enable and disable
are then checked against FakeDocker only (``test_enable_disable_fake`` always
runs).
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

import aiodock
from aiodock.errors import InvalidArgument, PluginNotFound, StreamError, Unauthorized
from aiodock.models import (
    PluginConfig,
    PluginConfigInterface,
    PluginConfigNetwork,
    PluginEnv,
)
from aiodock.testing import FakeDocker, FakeRequest
from tests.integration import _infra

SOCKET = "aiodock.sock"
LISTENER_C = r"""
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(void) {
    static const char reply[] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/vnd.docker.plugins.v1+json\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    struct sockaddr_un addr;
    char buf[4096];
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/run/docker/plugins/" "SOCKET");
    unlink(addr.sun_path);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 16) < 0)
        return 1;
    for (;;) {
        int c = accept(s, 0, 0);
        if (c < 0)
            continue;
        if (read(c, buf, sizeof buf) >= 0)
            (void)!write(c, reply, sizeof reply - 1);
        close(c);
    }
}
""".replace('"SOCKET"', f'"{SOCKET}"')


def _config(description: str) -> PluginConfig:
    return PluginConfig(
        description=description,
        documentation="https://example.invalid/aiodock",
        entrypoint=["/bin/listener"],
        interface=PluginConfigInterface(types=["docker.logdriver/1.0"], socket=SOCKET),
        network=PluginConfigNetwork(type="host"),
        env=[PluginEnv(name="DEBUG", settable=["value"], value="0")],
    )


@pytest.fixture(scope="module")
def compiler() -> str | None:
    return shutil.which("gcc") or shutil.which("cc")


@pytest.fixture
def plugin_dir(tmp_path: Path, compiler: str | None) -> Path:
    """A plugin directory: rootfs/ with busybox (+ the listener when it can be built)."""
    rootfs = tmp_path / "plugin" / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "run" / "docker" / "plugins").mkdir(parents=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    for applet in ("sh", "cat", "ls"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    if compiler is not None:
        source = tmp_path / "listener.c"
        source.write_text(LISTENER_C)
        subprocess.run(
            [compiler, "-static", "-Os", "-o", str(rootfs / "bin" / "listener"), str(source)],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return rootfs.parent


@dataclass(frozen=True)
class TLSRegistry:
    """A docker-registry speaking HTTPS with htpasswd auth on 127.0.0.1:<port>."""

    host: str
    auth: dict[str, str]


def _unavailable(reason: str) -> NoReturn:
    if _infra.ci_mode():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[TLSRegistry]:
    import trustme

    exe = shutil.which("docker-registry")
    htpasswd = shutil.which("htpasswd")
    if exe is None or htpasswd is None:
        _unavailable("docker-registry and htpasswd are needed (scripts/engine.sh install)")
    workdir = _infra.make_workdir("plugin-registry")
    try:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert.cert_chain_pems[0].write_to_path(str(workdir / "cert.pem"))
        cert.private_key_pem.write_to_path(str(workdir / "key.pem"))
        user, password = "plugin-user", "plugin-password"
        creds = subprocess.run(
            [htpasswd, "-Bbn", user, password], check=True, capture_output=True
        ).stdout
        (workdir / "htpasswd").write_bytes(creds)
        port = _infra.free_port()
        config = workdir / "config.yml"
        config.write_text(
            "\n".join(
                [
                    "version: 0.1",
                    "storage:",
                    "  filesystem:",
                    f"    rootdirectory: {workdir / 'data'}",
                    "http:",
                    f"  addr: 127.0.0.1:{port}",
                    "  tls:",
                    f"    certificate: {workdir / 'cert.pem'}",
                    f"    key: {workdir / 'key.pem'}",
                    "auth:",
                    "  htpasswd:",
                    "    realm: aiodock-plugins",
                    f"    path: {workdir / 'htpasswd'}",
                    "",
                ]
            )
        )
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)

        def unauthorized() -> bool:
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=2)
            try:
                conn.request("GET", "/v2/")
                return conn.getresponse().status == 401
            except OSError:
                return False
            finally:
                conn.close()

        daemon = _infra.Daemon(
            "docker-registry (TLS)",
            [*_infra._pdeathsig_prefix(), exe, "serve", str(config)],
            workdir / "registry.log",
        )
        try:
            daemon.wait_until(unauthorized, timeout=30, what="answer /v2/ with 401 over TLS")
            host = f"127.0.0.1:{port}"
            yield TLSRegistry(
                host=host, auth={"username": user, "password": password, "serveraddress": host}
            )
        finally:
            daemon.stop()
    finally:
        _infra.remove_tree(workdir)


def _plugin_names(host: str) -> tuple[str, str]:
    repo = f"{host}/aiodock-test/plugin-{uuid.uuid4().hex[:8]}"
    return f"{repo}:v1", f"{repo}:v2"


@contextlib.asynccontextmanager
async def _removing(docker: aiodock.DockerClient, *names: str) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for name in names:
            with contextlib.suppress(PluginNotFound):
                await docker.plugins.remove(name, force=True)


async def test_plugin_create_inspect_set_push_pull_upgrade_remove(
    docker: aiodock.DockerClient,
    plugin_dir: Path,
    compiler: str | None,
    tls_registry: TLSRegistry,
) -> None:
    registry_auth = tls_registry.auth
    v1, v2 = _plugin_names(tls_registry.host)
    async with _removing(docker, v1, v2):
        await docker.plugins.create(v1, plugin_dir, config=_config("aiodock test plugin v1"))
        plugin = await docker.plugins.inspect(v1)
        assert plugin.name == v1 and not plugin.enabled
        assert plugin.config is not None
        assert plugin.config.description == "aiodock test plugin v1"
        assert plugin.config.entrypoint == ["/bin/listener"]
        assert plugin.config.interface is not None
        assert plugin.config.interface.types == ["docker.logdriver/1.0"]
        assert plugin.settings is not None and plugin.settings.env == ["DEBUG=0"]
        assert v1 in [p.name for p in await docker.plugins.list()]
        listed = await docker.plugins.list(filters={"capability": "logdriver"})
        assert v1 in [p.name for p in listed]

        await docker.plugins.set(v1, {"DEBUG": "1"})
        settings = (await docker.plugins.inspect(v1)).settings
        assert settings is not None and settings.env == ["DEBUG=1"]
        with pytest.raises(aiodock.APIError):
            await docker.plugins.set(v1, {"NOT_SETTABLE": "1"})

        if compiler is not None:
            await docker.plugins.enable(v1, timeout=30)
            assert (await docker.plugins.inspect(v1)).enabled
            enabled = await docker.plugins.list(filters={"enabled": True})
            assert v1 in [p.name for p in enabled]
            with pytest.raises(aiodock.APIError):
                await docker.plugins.remove(v1)  # enabled: refused without force
            with pytest.raises(aiodock.APIError):
                await docker.plugins.set(v1, {"DEBUG": "2"})  # enabled: refused
            await docker.plugins.disable(v1)
            assert not (await docker.plugins.inspect(v1)).enabled

        # Push to the private registry; wrong credentials are refused clearly.
        with pytest.raises(Unauthorized):
            await docker.plugins.push(
                v1, auth={**registry_auth, "password": "wrong-password"}
            ).wait()
        pushed = docker.plugins.push(v1, auth=registry_auth)
        await pushed.wait()
        assert pushed.digest is not None and pushed.digest.startswith("sha256:")

        privileges = await docker.plugins.privileges(v1, auth=registry_auth)
        assert [(p.name, p.value) for p in privileges] == [("network", ["host"])]

        # A second version, pushed, to upgrade to. (The engine refuses a second
        # plugin whose rootfs layer is byte-identical to one it already has.)
        (plugin_dir / "rootfs" / "VERSION").write_text("2\n")
        await docker.plugins.create(v2, plugin_dir, config=_config("aiodock test plugin v2"))
        pushed_v2 = await docker.plugins.push(v2, auth=registry_auth)
        assert pushed_v2.reference == v2
        assert pushed_v2.digest is not None and pushed_v2.digest.startswith("sha256:")
        await docker.plugins.remove(v2)

        # Pull v1 back from the registry.
        await docker.plugins.remove(v1)
        with pytest.raises(PluginNotFound):
            await docker.plugins.inspect(v1)
        # The privileges must be granted; the engine says so inside the stream.
        with pytest.raises(StreamError, match="incorrect privileges"):
            await docker.plugins.pull(v1, auth=registry_auth).wait()
        messages = await docker.plugins.pull(
            v1, privileges=privileges, auth=registry_auth
        ).collect()
        assert messages, "a pull reports progress"
        pulled = await docker.plugins.inspect(v1)
        assert pulled.config is not None
        assert pulled.config.description == "aiodock test plugin v1"
        assert pulled.plugin_reference.endswith(v1.split("/", 1)[1])

        # Upgrade the installed (disabled) plugin to v2, granting what it asks for.
        upgrade = await docker.plugins.upgrade(
            v1, v2, grant_all_privileges=True, auth=registry_auth
        )
        assert upgrade.digest is not None and upgrade.digest.startswith("sha256:")
        upgraded = await docker.plugins.inspect(v1)
        assert upgraded.config is not None
        assert upgraded.config.description == "aiodock test plugin v2"
        assert upgraded.name == v1

        await docker.plugins.remove(v1, force=True)
        with pytest.raises(PluginNotFound):
            await docker.plugins.remove(v1)


async def test_push_and_pull_with_the_plain_http_registry(
    docker: aiodock.DockerClient, plugin_dir: Path, registry: _infra.Registry
) -> None:
    name = _plugin_names(registry.url)[0]
    auth = registry.auth_config
    async with _removing(docker, name):
        await docker.plugins.create(name, plugin_dir, config=_config("over plain http"))
        pushed = docker.plugins.push(name, auth=auth)
        statuses = [message.status async for message in pushed]
        assert "Upload complete" in statuses
        assert pushed.digest is not None and pushed.digest.startswith("sha256:")

        # With wrong credentials the engine gives up on its HTTPS attempt and reports
        # that, inside the stream, instead of the registry's 401 (Engine 20.10).
        with pytest.raises(StreamError, match="HTTP response to HTTPS client"):
            await docker.plugins.push(name, auth={**auth, "password": "wrong"}).wait()

        await docker.plugins.remove(name)
        await docker.plugins.pull(name, grant_all_privileges=True, auth=auth).wait()
        pulled = await docker.plugins.inspect(name)
        assert pulled.config is not None and pulled.config.description == "over plain http"
        assert not pulled.enabled


async def test_plugin_create_refuses_a_directory_without_rootfs(
    docker: aiodock.DockerClient, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgument, match="rootfs"):
        await docker.plugins.create("aiodock-test/never:latest", tmp_path, config=_config("x"))
    with pytest.raises(PluginNotFound):
        await docker.plugins.inspect("aiodock-test/never:latest")


async def test_enable_disable_fake() -> None:
    """enable/disable as the engine answers them, for machines without a C compiler."""
    async with FakeDocker() as fake:
        state = {"enabled": False}

        def toggle(value: bool) -> Callable[[FakeRequest], object]:
            def handler(req: FakeRequest) -> object:
                if state["enabled"] == value:
                    word = "enabled" if value else "disabled"
                    return _error(500, f"plugin {req.params['name']} is already {word}")
                state["enabled"] = value
                return 200, None

            return handler

        fake.add_route("POST", "/plugins/{name:.+}/enable", toggle(True))
        fake.add_route("POST", "/plugins/{name:.+}/disable", toggle(False))
        docker = fake.client()
        await docker.plugins.enable("me/p:latest")
        assert state["enabled"]
        with pytest.raises(aiodock.ServerError, match="already enabled"):
            await docker.plugins.enable("me/p:latest")
        await docker.plugins.disable("me/p:latest")
        assert not state["enabled"]


def _error(status: int, message: str) -> object:
    from aiohttp import web

    return web.json_response({"message": message}, status=status)
