"""ssh:// over asyncssh against the real sshd: one SSH connection per host, channels to the
engine's unix socket (no docker CLI needed on the remote side), reconnect after a drop."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from aiodock import DockerClient
from aiodock._http.sshconn import AsyncSSHConnector, SSHTunnel
from aiodock.errors import DockerConnectionError, InvalidArgument
from tests._wait import eventually
from tests.integration import _infra
from tests.integration.test_transports import _hijack_echo

pytestmark = pytest.mark.integration

asyncssh = pytest.importorskip("asyncssh", reason="the asyncssh transport needs aiodock[ssh]")


@pytest.fixture(autouse=True)
def _asyncssh_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", "asyncssh")


def _tunnel(client: DockerClient) -> SSHTunnel:
    session = client._shared.session
    assert session is not None
    connector = session.connector
    assert isinstance(connector, AsyncSSHConnector)
    return connector.tunnel


def _logins(sshd: _infra.SSHServer) -> int:
    """Accepted logins so far, from sshd's own log: what the server saw, not what we count."""
    return (sshd.workdir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


async def _wait_logins(sshd: _infra.SSHServer, expected: int) -> int:
    for _ in range(50):
        if _logins(sshd) >= expected:
            break
        await asyncio.sleep(0.05)
    return _logins(sshd)


async def test_100_concurrent_calls_share_one_ssh_connection(
    sshd: _infra.SSHServer, busybox: str
) -> None:
    before = _logins(sshd)
    async with DockerClient(sshd.host, ssh_options=sshd.ssh_options) as client:
        infos = await asyncio.gather(*(client.images.inspect(busybox) for _ in range(100)))
        assert len({info.id for info in infos}) == 1
        tunnel = _tunnel(client)
        assert tunnel.connections_opened == 1
        assert 1 <= tunnel.channels_opened <= 100
        # A second round reuses the pooled channels.
        channels = tunnel.channels_opened
        await asyncio.gather(*(client.system.ping() for _ in range(20)))
        assert tunnel.channels_opened <= channels + 20
    assert await _wait_logins(sshd, before + 1) == before + 1


async def test_hijacked_attach_and_exec_go_through_the_same_connection(
    sshd: _infra.SSHServer, busybox: str
) -> None:
    before = _logins(sshd)
    async with DockerClient(sshd.host, ssh_options=sshd.ssh_options) as client:
        assert await client.system.ping()
        out, err = await _hijack_echo(client, busybox)
        assert out == b"hello over the hijacked connection\n"
        assert err == b"done\n"
        created = await client.request(
            "POST",
            "/containers/create",
            json={"Image": busybox, "Cmd": ["sleep", "30"], "Labels": _infra.TEST_LABEL},
        )
        cid = created["Id"]
        try:
            await client.request("POST", f"/containers/{cid}/start")
            result = await client.exec.run(
                cid, ["sh", "-c", "cat; echo err >&2; exit 3"], stdin=b"x" * 100_000
            )
            assert result.exit_code == 3
            assert result.stdout == b"x" * 100_000 and result.stderr == b"err\n"
        finally:
            await client.request("DELETE", f"/containers/{cid}", params={"force": True})
        assert _tunnel(client).connections_opened == 1
    assert await _wait_logins(sshd, before + 1) == before + 1


async def test_a_dropped_connection_fails_the_call_in_flight_and_the_next_call_reconnects(
    sshd: _infra.SSHServer, busybox: str
) -> None:
    async with DockerClient(sshd.host, ssh_options=sshd.ssh_options) as client:
        assert await client.system.ping()
        tunnel = _tunnel(client)
        created = await client.request(
            "POST",
            "/containers/create",
            json={"Image": busybox, "Cmd": ["sleep", "30"], "Labels": _infra.TEST_LABEL},
        )
        cid = created["Id"]
        try:
            await client.request("POST", f"/containers/{cid}/start")
            # A call in flight (wait blocks until the container stops) when the link drops.
            untimed = client.with_options(timeout=None)
            waiting = asyncio.ensure_future(untimed.request("POST", f"/containers/{cid}/wait"))
            await eventually(lambda: client.stats().connections_in_use > 0)  # sent
            assert not waiting.done()
            tunnel.drop()
            with pytest.raises(DockerConnectionError):
                await asyncio.wait_for(waiting, 10)
            # The next call opens a new SSH connection.
            assert await client.system.ping()
            assert tunnel.connections_opened == 2
            assert (await client.images.inspect(busybox)).id
        finally:
            with contextlib.suppress(DockerConnectionError):
                await client.request("DELETE", f"/containers/{cid}", params={"force": True})


async def test_unknown_host_key_is_refused_unless_the_user_opts_in(
    sshd: _infra.SSHServer, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = ["-i", str(sshd.identity_file), "-o", f"UserKnownHostsFile={empty}"]
    async with DockerClient(sshd.host, ssh_options=options, timeout=20) as client:
        with pytest.raises(DockerConnectionError, match=r"(?i)host key"):
            await client.system.ping()
    opted_in = [*options, "-o", "StrictHostKeyChecking=no"]
    async with DockerClient(sshd.host, ssh_options=opted_in, timeout=20) as client:
        assert await client.system.ping()


async def test_wrong_key_is_refused(sshd: _infra.SSHServer, tmp_path: Path) -> None:
    other = tmp_path / "id_other"
    proc = await asyncio.create_subprocess_exec(
        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)
    )
    assert await proc.wait() == 0
    options = [
        "-i",
        str(other),
        "-o",
        f"UserKnownHostsFile={sshd.known_hosts_file}",
        "-o",
        "IdentitiesOnly=yes",
    ]
    async with DockerClient(sshd.host, ssh_options=options, timeout=20) as client:
        with pytest.raises(DockerConnectionError, match=r"(?i)permission denied"):
            await client.system.ping()


async def test_ssh_config_host_alias(sshd: _infra.SSHServer, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host aiodock-alias\n"
        "    HostName 127.0.0.1\n"
        f"    Port {sshd.port}\n"
        f"    User {sshd.user}\n"
        f"    IdentityFile {sshd.identity_file}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {sshd.known_hosts_file}\n"
    )
    async with DockerClient("ssh://aiodock-alias", ssh_options=["-F", str(config)]) as client:
        assert (await client.system.version()).api_version == "1.41"


async def test_a_socket_path_in_the_address_selects_the_remote_engine(
    sshd: _infra.SSHServer, podman_host: str
) -> None:
    # Podman over ssh, with no docker (or podman) CLI involved on the remote side.
    host = f"{sshd.host}{_infra.PODMAN_SOCK}"
    async with DockerClient(host, ssh_options=sshd.ssh_options) as client:
        info = await client.engine_info()
        assert info.name == "Podman"
    async with DockerClient(f"{sshd.host}/nowhere/engine.sock", ssh_options=sshd.ssh_options) as c:
        with pytest.raises(DockerConnectionError, match=r"/nowhere/engine\.sock"):
            await c.system.ping()


async def test_options_without_an_asyncssh_meaning_are_refused_by_name(
    sshd: _infra.SSHServer,
) -> None:
    async with DockerClient(sshd.host, ssh_options=["-o", "ProxyCommand=nc %h %p"]) as client:
        with pytest.raises(InvalidArgument, match="ProxyCommand"):
            await client.system.ping()
