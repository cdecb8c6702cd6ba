"""Every host kind for real: unix socket, TCP with mutual TLS, ssh://, and env/contexts."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from aiodock import DockerClient, TLSConfig
from aiodock._http.request import Request
from aiodock._streams.frames import StreamType
from aiodock.errors import BadRequest, DockerConnectionError
from tests._wait import eventually
from tests.integration import _infra

pytestmark = pytest.mark.integration


async def _hijack_echo(client: DockerClient, busybox: str) -> tuple[bytes, bytes]:
    """Attach to a ``cat`` container over a hijacked connection; send stdin, half-close."""
    created = await client.request(
        "POST",
        "/containers/create",
        json={
            "Image": busybox,
            "Cmd": ["sh", "-c", "cat; echo done >&2"],
            "OpenStdin": True,
            "StdinOnce": True,
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Labels": _infra.TEST_LABEL,
        },
    )
    cid = created["Id"]
    try:
        stream = await client._hijack(
            Request(
                "POST",
                f"/containers/{cid}/attach",
                params={"stream": True, "stdin": True, "stdout": True, "stderr": True},
            ),
            tty=False,
        )
        async with stream:
            await client.request("POST", f"/containers/{cid}/start")
            await stream.write(b"hello over the hijacked connection\n")
            await stream.close_stdin()
            out: list[bytes] = []
            err: list[bytes] = []
            async for frame in stream:
                (err if frame.stream == StreamType.STDERR else out).append(frame.data)
        return b"".join(out), b"".join(err)
    finally:
        await client.request("DELETE", f"/containers/{cid}", params={"force": True})


async def test_unix_socket_negotiates_engine_api(docker: DockerClient) -> None:
    assert await docker.system.ping()
    assert await docker.system.ping(head=True)
    version = await docker.system.version()
    assert version.api_version == "1.41"
    assert await docker.api_version() == "1.41"
    info = await docker.system.info()
    assert info.id and info.ncpu >= 1


async def test_pinned_older_version_is_used_in_paths(docker: DockerClient) -> None:
    old = docker.with_options(api_version="1.40")
    version = await old.system.version()
    assert version.api_version == "1.41"  # the daemon's own version, served under /v1.40
    assert await old.api_version() == "1.40"


async def test_unix_hijacked_attach_round_trip(docker: DockerClient, busybox: str) -> None:
    out, err = await _hijack_echo(docker, busybox)
    assert out == b"hello over the hijacked connection\n"
    assert err == b"done\n"


def _tls(daemon: _infra.TLSDaemon, *, in_memory: bool = False) -> TLSConfig:
    if in_memory:
        return TLSConfig(
            ca_cert=daemon.ca_pem,
            client_cert=daemon.client_cert_pem,
            client_key=daemon.client_key_pem,
        )
    return TLSConfig(
        ca_cert=daemon.ca_file,
        client_cert=daemon.client_cert_file,
        client_key=daemon.client_key_file,
    )


@pytest.mark.parametrize("in_memory", [False, True], ids=["files", "pem-bytes"])
async def test_tls_with_client_certificate(tls_daemon: _infra.TLSDaemon, in_memory: bool) -> None:
    async with DockerClient(tls_daemon.host, tls=_tls(tls_daemon, in_memory=in_memory)) as client:
        assert client._shared.endpoint.base_url.startswith("https://127.0.0.1:")
        assert await client.system.ping()
        version = await client.system.version()
        assert version.api_version == "1.41"
        results = await asyncio.gather(*(client.system.ping() for _ in range(10)))
        assert results == [True] * 10


async def test_tls_wrong_ca_is_refused(tls_daemon: _infra.TLSDaemon) -> None:
    tls = TLSConfig(
        ca_cert=tls_daemon.other_ca_file,
        client_cert=tls_daemon.client_cert_file,
        client_key=tls_daemon.client_key_file,
    )
    async with DockerClient(tls_daemon.host, tls=tls) as client:
        with pytest.raises(DockerConnectionError) as info:
            await client.system.ping()
    assert "certificate" in str(info.value).lower()


async def test_tls_without_client_certificate_is_refused(tls_daemon: _infra.TLSDaemon) -> None:
    async with DockerClient(tls_daemon.host, tls=TLSConfig(ca_cert=tls_daemon.ca_file)) as client:
        with pytest.raises(DockerConnectionError):
            await client.system.ping()


async def test_plain_http_to_tls_daemon_fails_clearly(tls_daemon: _infra.TLSDaemon) -> None:
    async with DockerClient(f"tcp://127.0.0.1:{tls_daemon.port}", timeout=10) as client:
        with pytest.raises(BadRequest, match="HTTPS"):
            await client.system.ping()


async def test_from_env_tls_verify(tls_daemon: _infra.TLSDaemon, tmp_path: Path) -> None:
    env = {
        "DOCKER_HOST": tls_daemon.host,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tls_daemon.cert_dir),
        "DOCKER_CONFIG": str(tmp_path),
    }
    async with DockerClient.from_env(env) as client:
        assert (await client.system.version()).api_version == "1.41"


async def test_from_env_context_with_tls_material(
    tls_daemon: _infra.TLSDaemon, tmp_path: Path
) -> None:
    name = "aiodock-tls"
    context_id = hashlib.sha256(name.encode()).hexdigest()
    meta = tmp_path / "contexts" / "meta" / context_id
    meta.mkdir(parents=True)
    meta_doc: dict[str, Any] = {
        "Name": name,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": tls_daemon.host, "SkipTLSVerify": False}},
    }
    (meta / "meta.json").write_text(json.dumps(meta_doc))
    tls_dir = tmp_path / "contexts" / "tls" / context_id / "docker"
    tls_dir.mkdir(parents=True)
    (tls_dir / "ca.pem").write_bytes(tls_daemon.ca_pem)
    (tls_dir / "cert.pem").write_bytes(tls_daemon.client_cert_pem)
    (tls_dir / "key.pem").write_bytes(tls_daemon.client_key_pem)
    (tmp_path / "config.json").write_text(
        json.dumps({"currentContext": name, "HttpHeaders": {"X-Aiodock-Test": "ctx"}})
    )
    async with DockerClient.from_env({"DOCKER_CONFIG": str(tmp_path)}) as client:
        assert client.host == tls_daemon.host
        assert client._shared.headers["X-Aiodock-Test"] == "ctx"
        assert await client.system.ping()


async def test_from_env_default_is_local_socket(tmp_path: Path) -> None:
    async with DockerClient.from_env(
        {"DOCKER_CONFIG": str(tmp_path), "DOCKER_API_VERSION": "1.40"}
    ) as client:
        assert client.host == "unix:///var/run/docker.sock"
        assert await client.api_version() == "1.40"
        assert (await client.system.version()).api_version == "1.41"


async def test_ssh_transport(
    sshd: _infra.SSHServer, busybox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ssh-command transport (the asyncssh one: test_ssh_asyncssh.py).
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", "command")
    async with DockerClient(sshd.host, ssh_options=sshd.ssh_options) as client:
        assert await client.system.ping()
        assert (await client.system.version()).api_version == "1.41"
        # concurrent calls open several ssh connections; keep-alive reuses them
        results = await asyncio.gather(*(client.system.ping() for _ in range(8)))
        assert results == [True] * 8
        out, err = await _hijack_echo(client, busybox)
        assert out == b"hello over the hijacked connection\n"
        assert err == b"done\n"
        connector = client._shared.session.connector if client._shared.session else None
        processes = list(getattr(connector, "_procs", ()))
        assert processes, "the ssh connector should have started ssh processes"
    await eventually(  # reaped shortly after the client closes
        lambda: all(p.returncode is not None for p in processes),
        what="ssh processes end with the client",
    )


@pytest.mark.parametrize("transport", ["command", "asyncssh"])
async def test_ssh_unknown_host_key_is_refused(
    sshd: _infra.SSHServer, tmp_path: Path, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if transport == "asyncssh":
        pytest.importorskip("asyncssh")
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", transport)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = [
        "-i",
        str(sshd.identity_file),
        "-o",
        f"UserKnownHostsFile={empty}",
        "-o",
        "IdentitiesOnly=yes",
    ]
    async with DockerClient(sshd.host, ssh_options=options, timeout=20) as client:
        with pytest.raises(DockerConnectionError):
            await client.system.ping()
