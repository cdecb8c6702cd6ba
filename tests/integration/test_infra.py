"""The integration fixtures work, proven without the client under test."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import aiodock

try:
    from . import _infra
except ImportError:  # rootdir-relative import mode without packages
    import _infra  # type: ignore[no-redef,import-not-found]


def _json(status_body: tuple[int, bytes], expected: int = 200) -> object:
    status, body = status_body
    assert status == expected, (status, body[:300])
    return json.loads(body) if body else None


@pytest.fixture
def unique_label() -> dict[str, str]:
    """TEST_LABEL plus a label no other test run shares."""
    return {**_infra.TEST_LABEL, "aiodock-test-infra": uuid.uuid4().hex}


def _run_container(
    request: _infra.RequestFn,
    image: str,
    cmd: list[str],
    labels: dict[str, str],
    network_mode: str = "default",
) -> tuple[int, bytes]:
    """Create, start and wait for a container over plain HTTP; return (exit code, logs)."""
    config = {
        "Image": image,
        "Cmd": cmd,
        "Labels": labels,
        "HostConfig": {"NetworkMode": network_mode},
    }
    created = _json(
        request(
            "POST",
            "/containers/create",
            body=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
        ),
        201,
    )
    assert isinstance(created, dict)
    cid = created["Id"]
    try:
        assert request("POST", f"/containers/{cid}/start")[0] == 204
        waited = _json(request("POST", f"/containers/{cid}/wait"))
        assert isinstance(waited, dict)
        status, logs = request("GET", f"/containers/{cid}/logs?stdout=1&stderr=1")
        assert status == 200
        return waited["StatusCode"], logs
    finally:
        request("DELETE", f"/containers/{cid}?force=1&v=1")


_main_engine: _infra.RequestFn = _infra.engine_request


# --------------------------------------------------------------------------------------
# main engine, test image, cleanup


def test_engine_answers_ping_and_version() -> None:
    assert _infra.engine_ping() is None
    version = _infra.engine_version()
    major, minor = (int(part) for part in version["ApiVersion"].split("."))
    assert (major, minor) >= (1, 41)


def test_busybox_image_runs_a_shell(busybox: str, unique_label: dict[str, str]) -> None:
    assert busybox == "aiodock-test/busybox:latest"
    code, logs = _run_container(
        _main_engine, busybox, ["sh", "-c", "echo out; echo err >&2; exit 3"], unique_label
    )
    assert code == 3
    # Multiplexed log frames: [stream, 0, 0, 0, size]. The engine copies stdout and stderr
    # separately, so their relative order in the log is not guaranteed.
    frames = {logs[:12], logs[12:]}
    assert frames == {
        b"\x01\x00\x00\x00\x00\x00\x00\x04out\n",
        b"\x02\x00\x00\x00\x00\x00\x00\x04err\n",
    }


def test_busybox_image_has_no_registry_origin(busybox: str) -> None:
    image = _json(_infra.engine_request("GET", f"/images/{busybox}/json"))
    assert isinstance(image, dict)
    assert image["RepoDigests"] == []  # built here, never pulled
    assert (image["Config"].get("Labels") or {}) == {}  # containers inherit no test label


def test_cleanup_removes_exactly_the_labelled_objects(
    busybox: str, unique_label: dict[str, str]
) -> None:
    label = "aiodock-test-infra=" + unique_label["aiodock-test-infra"]
    # Same label key, another value: must survive, as must everything else on the engine.
    bystander_label = {**unique_label, "aiodock-test-infra": uuid.uuid4().hex}
    name = f"aiodock-test-infra-{uuid.uuid4().hex[:12]}"
    headers = {"Content-Type": "application/json"}

    def post(path: str, payload: dict[str, object]) -> str:
        status, body = _infra.engine_request(
            "POST", path, body=json.dumps(payload).encode(), headers=headers
        )
        assert status == 201, body
        created = json.loads(body)
        return str(created.get("Id") or created.get("Name"))

    def all_containers() -> set[str]:
        listed = _json(_infra.engine_request("GET", "/containers/json?all=1"))
        assert isinstance(listed, list)
        return {c["Id"] for c in listed}

    container = {"Image": busybox, "Cmd": ["true"]}
    ids = {
        post(f"/containers/create?name={name}", {**container, "Labels": unique_label}),
        post("/networks/create", {"Name": name, "Labels": unique_label}),
        post("/volumes/create", {"Name": name, "Labels": unique_label}),
    }
    bystander = post(
        f"/containers/create?name={name}-bystander", {**container, "Labels": bystander_label}
    )
    try:
        # Objects younger than the grace period survive a "stale" cleanup...
        kept = _infra.cleanup_labelled(older_than=600, label=label)
        assert kept.removed == [] and kept.failed == []
        assert _infra.engine_request("GET", f"/containers/{name}/json")[0] == 200
        # ...and a full cleanup removes all three kinds, and nothing else.
        report = _infra.cleanup_labelled(label=label)
        assert report.failed == []
        assert {entry.split()[1] for entry in report.removed} == ids
        assert sorted(entry.split()[0] for entry in report.removed) == [
            "container",
            "network",
            "volume",
        ]
        assert _infra.engine_request("GET", f"/containers/{name}/json")[0] == 404
        assert _infra.engine_request("GET", f"/networks/{name}")[0] == 404
        assert _infra.engine_request("GET", f"/volumes/{name}")[0] == 404
        assert bystander in all_containers()
    finally:
        for path in (
            f"/containers/{name}?force=1",
            f"/containers/{name}-bystander?force=1",
            f"/networks/{name}",
            f"/volumes/{name}",
        ):
            _infra.engine_request("DELETE", path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, 1700000000.0),
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T22:13:20.123456789Z", 1700000000.123456),
        ("2023-11-14T23:13:20.5+01:00", 1700000000.5),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_created_timestamps_parse(value: object, expected: float | None) -> None:
    result = _infra._parse_created(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------------------
# TLS daemon


def test_tls_daemon_answers_with_the_client_certificate(tls_daemon: _infra.TLSDaemon) -> None:
    assert tls_daemon.host == f"tcp://127.0.0.1:{tls_daemon.port}"
    assert tls_daemon.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert tls_daemon.client_cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE KEY" in tls_daemon.client_key_pem
    assert tls_daemon.other_ca_pem != tls_daemon.ca_pem
    assert sorted(p.name for p in tls_daemon.cert_dir.iterdir()) == [
        "ca.pem",
        "cert.pem",
        "key.pem",
    ]
    assert _infra.tls_ping(tls_daemon.port, tls_daemon.ssl_context(client=tls_daemon.client))
    info = _json(tls_daemon.request("GET", "/info"))
    assert isinstance(info, dict)
    # A daemon of its own, not the main engine behind another door.
    assert info["DockerRootDir"] == str(tls_daemon.workdir / "data")
    main_info = _json(_infra.engine_request("GET", "/info"))
    assert isinstance(main_info, dict)
    assert info["DockerRootDir"] != main_info["DockerRootDir"]


def _handshake_error(port: int, ctx: ssl.SSLContext) -> BaseException | None:
    """Open a TLS connection and send a request; return the error, if any."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            # TLS 1.3 reports a rejected client certificate only on the first read.
            tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = tls.recv(4096)
    except (OSError, ssl.SSLError) as exc:
        return exc
    return None if data.startswith(b"HTTP/1.1 200") else ConnectionError(repr(data))


def test_tls_daemon_refuses_clients_without_a_certificate(tls_daemon: _infra.TLSDaemon) -> None:
    error = _handshake_error(tls_daemon.port, tls_daemon.ssl_context(client=None))
    assert isinstance(error, (ssl.SSLError, ConnectionResetError, BrokenPipeError)), error


def test_tls_daemon_refuses_a_certificate_from_another_ca(tls_daemon: _infra.TLSDaemon) -> None:
    error = _handshake_error(tls_daemon.port, tls_daemon.ssl_context(client=tls_daemon.other))
    assert isinstance(error, (ssl.SSLError, ConnectionResetError, BrokenPipeError)), error


def test_tls_daemon_is_not_trusted_by_the_other_ca(tls_daemon: _infra.TLSDaemon) -> None:
    ctx = tls_daemon.ssl_context(ca=tls_daemon.other, client=tls_daemon.client)
    error = _handshake_error(tls_daemon.port, ctx)
    assert isinstance(error, ssl.SSLCertVerificationError), error


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_tls_daemon_with_curl(tls_daemon: _infra.TLSDaemon) -> None:
    base = ["curl", "-sS", "--max-time", "10", "--cacert", str(tls_daemon.ca_file)]
    url = f"https://127.0.0.1:{tls_daemon.port}/_ping"
    good = subprocess.run(
        [
            *base,
            "--cert",
            str(tls_daemon.client_cert_file),
            "--key",
            str(tls_daemon.client_key_file),
            url,
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (good.returncode, good.stdout) == (0, b"OK"), good.stderr
    bad = subprocess.run([*base, url], capture_output=True, timeout=30, check=False)
    assert bad.returncode != 0 and bad.stdout == b""


def test_tls_daemon_runs_containers(tls_daemon: _infra.TLSDaemon, busybox: str) -> None:
    tls_daemon.load_image(busybox)
    code, logs = _run_container(
        tls_daemon.request, busybox, ["echo", "over tls"], dict(_infra.TEST_LABEL), "none"
    )
    assert (code, logs) == (0, b"\x01\x00\x00\x00\x00\x00\x00\x09over tls\n")


def test_tls_daemon_leaves_the_main_engine_networking_alone(
    tls_daemon: _infra.TLSDaemon, busybox: str, unique_label: dict[str, str]
) -> None:
    # A second dockerd with --bridge=none in the host's namespace would delete docker0.
    assert tls_daemon.daemon.alive()
    code, logs = _run_container(
        _main_engine, busybox, ["sh", "-c", "ip -o -4 addr show eth0"], unique_label, "bridge"
    )
    assert code == 0
    assert b"inet 172." in logs or b"inet 10." in logs or b"inet 192.168." in logs, logs


# --------------------------------------------------------------------------------------
# sshd


def test_sshd_runs_commands_as_root(sshd: _infra.SSHServer) -> None:
    assert sshd.host == f"ssh://root@127.0.0.1:{sshd.port}"
    assert sshd.ssh_options[:2] == ["-i", str(sshd.identity_file)]
    proc = subprocess.run(
        sshd.ssh_argv("id -u; command -v docker"), capture_output=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    uid, docker_path = proc.stdout.decode().split()
    assert uid == "0"
    assert docker_path.endswith("/docker")


def test_sshd_dial_stdio_reaches_the_engine(sshd: _infra.SSHServer) -> None:
    request = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
    proc = subprocess.run(
        sshd.ssh_argv("docker", "system", "dial-stdio"),
        input=request,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.stdout.startswith(b"HTTP/1.1 200 OK"), (proc.stdout, proc.stderr)
    assert proc.stdout.endswith(b"\r\n\r\nOK")


def test_sshd_rejects_unknown_keys_and_hosts(sshd: _infra.SSHServer, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
        check=True,
        capture_output=True,
    )
    options = list(sshd.ssh_options)
    options[1] = str(stranger)
    wrong_key = subprocess.run(
        ["ssh", *options, "-p", str(sshd.port), "root@127.0.0.1", "true"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert wrong_key.returncode == 255
    assert b"Permission denied" in wrong_key.stderr

    empty = tmp_path / "known_hosts"
    empty.touch()
    options = [o.replace(str(sshd.known_hosts_file), str(empty)) for o in sshd.ssh_options]
    unknown_host = subprocess.run(
        ["ssh", *options, "-p", str(sshd.port), "root@127.0.0.1", "true"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert unknown_host.returncode == 255
    assert b"verification failed" in unknown_host.stderr


# --------------------------------------------------------------------------------------
# registry


def test_registry_requires_auth(registry: _infra.Registry) -> None:
    assert (registry.url, registry.username, registry.password) == (
        "127.0.0.1:5000",
        "testuser",
        "testpassword",
    )
    assert registry.get("/v2/", auth=False)[0] == 401
    assert registry.get("/v2/")[0] == 200
    wrong = _infra.Registry(
        registry.url, registry.username, "nope", registry.workdir, registry.daemon
    )
    assert wrong.get("/v2/")[0] == 401


def test_engine_pushes_to_the_registry(registry: _infra.Registry, busybox: str) -> None:
    repo = f"{registry.url}/aiodock-test/infra-{uuid.uuid4().hex[:8]}"
    status, body = _infra.engine_request(
        "POST", f"/images/{busybox}/tag", params={"repo": repo, "tag": "v1"}
    )
    assert status == 201, body
    try:
        anonymous = base64.urlsafe_b64encode(b"{}").decode()
        denied = _infra.engine_request(
            "POST",
            f"/images/{repo}/push",
            params={"tag": "v1"},
            headers={"X-Registry-Auth": anonymous},
        )
        # Without credentials the registry says no, in-band in the progress stream.
        assert denied[0] == 200 and b"errorDetail" in denied[1], denied
        status, body = _infra.engine_request(
            "POST",
            f"/images/{repo}/push",
            params={"tag": "v1"},
            headers={"X-Registry-Auth": registry.x_registry_auth},
        )
        assert status == 200 and b"errorDetail" not in body, body
        _, tags = registry.get(f"/v2/{repo.split('/', 1)[1]}/tags/list")
        assert json.loads(tags)["tags"] == ["v1"]
    finally:
        _infra.engine_request("DELETE", f"/images/{repo}:v1")


# --------------------------------------------------------------------------------------
# process helpers


def test_daemon_stop_is_idempotent_and_reaps(tmp_path: Path) -> None:
    daemon = _infra.Daemon("sleeper", ["sleep", "600"], tmp_path / "sleep.log")
    assert daemon.alive()
    started = time.monotonic()
    daemon.stop()
    daemon.stop()
    assert not daemon.alive()
    assert time.monotonic() - started < 5


def test_daemon_wait_until_reports_an_early_exit(tmp_path: Path) -> None:
    daemon = _infra.Daemon("quitter", ["sh", "-c", "echo boom; exit 7"], tmp_path / "q.log")
    try:
        with pytest.raises(_infra.InfraError, match=r"(?s)quitter exited with status 7.*boom"):
            daemon.wait_until(lambda: False, timeout=10, what="be ready")
    finally:
        daemon.stop()


# --------------------------------------------------------------------------------------
# the client fixture (the only test here that goes through aiodock)


async def test_docker_fixture_talks_to_the_main_engine(docker: aiodock.DockerClient) -> None:
    assert await docker.system.ping() is True
