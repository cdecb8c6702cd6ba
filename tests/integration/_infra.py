"""Real auxiliary daemons and plain engine access for the integration tests.

Nothing in this module uses aiodock: the fixtures built on it must keep working (and keep
cleaning up) even when the client under test is broken.

- ``engine_request`` / ``engine_ping``: blocking HTTP over the engine's unix socket.
- ``ensure_podman``: Podman's API service on ``PODMAN_SOCK`` with the test image loaded
  (``scripts/engine.sh podman``), for tests that run against both engines.
- ``cleanup_labelled``: removes what tests labelled ``aiodock-test=1`` and left behind.
- ``start_tls_daemon``: a second ``dockerd`` that only speaks mutual TLS on 127.0.0.1.
- ``start_sshd``: an ``sshd`` on 127.0.0.1 accepting one generated key for root.
- ``start_registry``: a ``docker-registry`` with htpasswd auth on 127.0.0.1:5000.

Every daemon started here gets ``setpriv --pdeathsig TERM`` so that it goes away with the
pytest process even if teardown never runs.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO_ROOT / "scripts" / "engine.sh"
DOCKER_SOCK = "/var/run/docker.sock"
DOCKER_HOST = f"unix://{DOCKER_SOCK}"
BUSYBOX = "aiodock-test/busybox:latest"
TEST_LABEL_KEY = "aiodock-test"
TEST_LABEL = {TEST_LABEL_KEY: "1"}
#: Podman's Docker-compatible API service (scripts/engine.sh podman), next to dockerd.
PODMAN_SOCK = os.environ.get("AIODOCK_PODMAN_SOCK") or "/run/aiodock-podman/podman.sock"
PODMAN_HOST = f"unix://{PODMAN_SOCK}"
REGISTRY_ADDR = ("127.0.0.1", 5000)
REGISTRY_USER = "testuser"
REGISTRY_PASSWORD = "testpassword"

# Variables that would make a daemon or CLI we start talk to (or listen on) something else.
_DOCKER_ENV = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")


RequestFn = Callable[..., tuple[int, bytes]]
"""``(method, path, *, body=None, headers=None) -> (status, body)``, for either daemon."""


class InfraError(RuntimeError):
    """An auxiliary daemon could not be set up; the message says which and why."""


def ci_mode() -> bool:
    """True when running under CI, where nothing may be skipped for lack of infrastructure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------------------
# plain engine access (no aiodock)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._unix_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def engine_request(
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    sock: str = DOCKER_SOCK,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """Send one request to the engine over its unix socket; return (status, body)."""
    if params:
        path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
    conn = _UnixHTTPConnection(sock, timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def engine_ping(sock: str = DOCKER_SOCK, timeout: float = 5.0) -> str | None:
    """Return None when the engine answers ``/_ping``, else a reason it does not."""
    if not os.path.exists(sock):
        return f"{sock} does not exist"
    try:
        status, body = engine_request("GET", "/_ping", sock=sock, timeout=timeout)
    except OSError as exc:
        return f"cannot reach {sock}: {exc}"
    if status != 200:
        return f"{sock} answered /_ping with HTTP {status}: {body[:200]!r}"
    return None


def engine_version(sock: str = DOCKER_SOCK) -> dict[str, Any]:
    status, body = engine_request("GET", "/version", sock=sock)
    if status != 200:
        raise InfraError(f"GET /version answered HTTP {status}: {body[:200]!r}")
    result: dict[str, Any] = json.loads(body)
    return result


def image_exists(name: str, sock: str = DOCKER_SOCK) -> bool:
    status, _ = engine_request("GET", f"/images/{name}/json", sock=sock)
    return status == 200


def ensure_busybox() -> str:
    """Make sure the test image exists on the engine, building it if needed."""
    if not image_exists(BUSYBOX):
        proc = subprocess.run(
            ["bash", str(ENGINE_SCRIPT), "image"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0 or not image_exists(BUSYBOX):
            raise InfraError(
                f"could not build {BUSYBOX} (scripts/engine.sh image exited "
                f"{proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
    return BUSYBOX


def ensure_podman() -> str:
    """Make sure Podman answers on PODMAN_SOCK with the test image; return its address.

    ``scripts/engine.sh podman`` installs Podman when missing, starts its service and
    loads the image from dockerd's store (never from a registry).
    """
    if engine_ping(PODMAN_SOCK) is None and image_exists(BUSYBOX, sock=PODMAN_SOCK):
        return PODMAN_HOST
    env = _child_env({"AIODOCK_PODMAN_SOCK": PODMAN_SOCK})
    proc = subprocess.run(
        ["bash", str(ENGINE_SCRIPT), "podman"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    problem = engine_ping(PODMAN_SOCK)
    if proc.returncode != 0 or problem is not None or not image_exists(BUSYBOX, sock=PODMAN_SOCK):
        raise InfraError(
            f"Podman is not usable on {PODMAN_SOCK} (scripts/engine.sh podman exited "
            f"{proc.returncode}; {problem or 'image missing'}):\n{proc.stdout}{proc.stderr}"
        )
    return PODMAN_HOST


# --------------------------------------------------------------------------------------
# cleanup of labelled leftovers

_FRACTION = re.compile(r"\.(\d+)")


def _parse_created(value: Any) -> float | None:
    """Creation time as a unix timestamp, from an int or an RFC 3339 string."""
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    text = text.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@dataclass
class CleanupReport:
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def cleanup_labelled(
    *,
    older_than: float | None = None,
    label: str = f"{TEST_LABEL_KEY}=1",
    sock: str = DOCKER_SOCK,
) -> CleanupReport:
    """Remove everything on the engine that carries ``label``.

    Order: services, containers (forced, with anonymous volumes), networks, volumes,
    secrets, configs, images. With ``older_than`` (seconds), only objects created at least
    that long ago are removed, so that another test run sharing the engine keeps its
    in-flight objects. Errors are collected, never raised.
    """
    report = CleanupReport()
    key, _, value = label.partition("=")
    filters = json.dumps({"label": [label]})
    cutoff = None if older_than is None else time.time() - older_than

    def wanted(obj: dict[str, Any], created: Any) -> bool:
        # Check the label here too: a filter the engine ignored must never widen the sweep.
        labels = obj.get("Labels") or (obj.get("Spec") or {}).get("Labels") or {}
        if labels.get(key) != value:
            return False
        if cutoff is None:
            return True
        stamp = _parse_created(created)
        return stamp is not None and stamp <= cutoff

    def listing(path: str, **params: Any) -> list[dict[str, Any]]:
        try:
            status, body = engine_request(
                "GET", path, params={**params, "filters": filters}, sock=sock
            )
        except OSError as exc:
            report.failed.append(f"GET {path}: {exc}")
            return []
        if status != 200:
            # 503 from the swarm endpoints means "not a swarm manager": nothing to clean.
            if status not in (503, 404):  # 404: an engine without swarm (Podman)
                report.failed.append(f"GET {path}: HTTP {status} {body[:200]!r}")
            return []
        data = json.loads(body)
        if isinstance(data, dict):  # GET /volumes wraps its list
            data = data.get("Volumes")
        return list(data or [])

    def remove(kind: str, ident: str, path: str, params: dict[str, Any] | None = None) -> None:
        try:
            status, body = engine_request("DELETE", path, params=params, sock=sock, timeout=60)
        except OSError as exc:
            report.failed.append(f"{kind} {ident}: {exc}")
            return
        if status in (200, 204, 404):
            report.removed.append(f"{kind} {ident}")
        else:
            report.failed.append(f"{kind} {ident}: HTTP {status} {body[:200]!r}")

    for svc in listing("/services"):
        if wanted(svc, svc.get("CreatedAt")):
            remove("service", svc["ID"], f"/services/{svc['ID']}")
    for ctr in listing("/containers/json", all=1):
        if wanted(ctr, ctr.get("Created")):
            remove("container", ctr["Id"], f"/containers/{ctr['Id']}", {"force": 1, "v": 1})
    for net in listing("/networks"):
        if wanted(net, net.get("Created")):
            remove("network", net["Id"], f"/networks/{net['Id']}")
    for vol in listing("/volumes"):
        if wanted(vol, vol.get("CreatedAt")):
            name = urllib.parse.quote(vol["Name"], safe="")
            remove("volume", vol["Name"], f"/volumes/{name}", {"force": 1})
    for secret in listing("/secrets"):
        if wanted(secret, secret.get("CreatedAt")):
            remove("secret", secret["ID"], f"/secrets/{secret['ID']}")
    for cfg in listing("/configs"):
        if wanted(cfg, cfg.get("CreatedAt")):
            remove("config", cfg["ID"], f"/configs/{cfg['ID']}")
    for img in listing("/images/json"):
        if wanted(img, img.get("Created")):
            remove("image", img["Id"], f"/images/{img['Id']}", {"force": 1})
    return report


# --------------------------------------------------------------------------------------
# generic process helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DOCKER_ENV}
    env.update(extra or {})
    return env


def _pdeathsig_prefix() -> list[str]:
    """Have the kernel send SIGTERM to the daemon when the pytest process dies."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


class Daemon:
    """A background process whose output goes to a log file; stop() is idempotent."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        pass_fds: Iterable[int] = (),
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log: IO[bytes] | None = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env if env is not None else _child_env(),
                pass_fds=tuple(pass_fds),
                cwd=cwd,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            self._log = None
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], *, timeout: float, what: str) -> float:
        """Poll ``ready`` until it is true; return the seconds it took."""
        start = time.monotonic()
        delay = 0.02
        while True:
            if ready():
                return time.monotonic() - start
            if not self.alive():
                raise InfraError(
                    f"{self.name} exited with status {self.proc.returncode} before {what}; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if time.monotonic() - start > timeout:
                self.stop()
                raise InfraError(
                    f"{self.name} did not {what} within {timeout:.0f}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(10)
        else:
            self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def _unmount_below(root: Path) -> None:
    """Lazily unmount anything a daemon left mounted under ``root`` (deepest first)."""
    prefix = str(root.resolve()) + "/"
    try:
        with open("/proc/self/mounts") as fh:
            points = [line.split()[1] for line in fh]
    except OSError:
        return
    points = [p.encode().decode("unicode_escape") for p in points]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def remove_tree(root: Path) -> None:
    _unmount_below(root)
    shutil.rmtree(root, ignore_errors=True)


def make_workdir(kind: str) -> Path:
    """A short private directory under /tmp (unix socket paths must stay short)."""
    return Path(tempfile.mkdtemp(prefix=f"aiodock-{kind}-", dir="/tmp"))


# --------------------------------------------------------------------------------------
# TLS daemon


@dataclass(frozen=True)
class TLSMaterial:
    """PEM files for one CA and a client certificate it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()

    @property
    def cert_pem(self) -> bytes:
        return self.cert_file.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key_file.read_bytes()


@dataclass
class TLSDaemon:
    """A second dockerd listening only on ``host`` with mutual TLS.

    ``cert_dir`` holds ``ca.pem``, ``cert.pem`` and ``key.pem`` as ``DOCKER_CERT_PATH``
    expects them; ``other`` is a CA unrelated to the daemon with a client certificate of its
    own, for wrong-CA tests. ``env`` is what ``DockerClient.from_env()`` would need.
    """

    host: str
    port: int
    cert_dir: Path
    client: TLSMaterial
    other: TLSMaterial
    server_cert_file: Path
    server_key_file: Path
    workdir: Path
    daemon: Daemon
    startup_seconds: float

    @property
    def ca_file(self) -> Path:
        return self.client.ca_file

    @property
    def client_cert_file(self) -> Path:
        return self.client.cert_file

    @property
    def client_key_file(self) -> Path:
        return self.client.key_file

    @property
    def ca_pem(self) -> bytes:
        return self.client.ca_pem

    @property
    def client_cert_pem(self) -> bytes:
        return self.client.cert_pem

    @property
    def client_key_pem(self) -> bytes:
        return self.client.key_pem

    @property
    def other_ca_file(self) -> Path:
        return self.other.ca_file

    @property
    def other_ca_pem(self) -> bytes:
        return self.other.ca_pem

    @property
    def env(self) -> dict[str, str]:
        return {
            "DOCKER_HOST": self.host,
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(self.cert_dir),
        }

    def ssl_context(
        self, *, ca: TLSMaterial | None = None, client: TLSMaterial | None = None
    ) -> ssl.SSLContext:
        """A client context trusting ``ca`` (default: the daemon's CA), presenting
        ``client``'s certificate if given."""
        return client_ssl_context(ca or self.client, client)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """One HTTPS request with the right client certificate; return (status, body)."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=timeout, context=self.ssl_context(client=self.client)
        )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def load_image(self, name: str = BUSYBOX) -> None:
        """Copy an image from the main engine into this daemon (idempotent, ~0.5 s)."""
        status, _ = self.request("GET", f"/images/{name}/json")
        if status == 200:
            return
        conn = _UnixHTTPConnection(DOCKER_SOCK, 120.0)
        try:
            conn.request("GET", f"/images/get?{urllib.parse.urlencode({'names': name})}")
            resp = conn.getresponse()
            if resp.status != 200:
                raise InfraError(f"exporting {name} from the main engine: HTTP {resp.status}")
            tarball = resp.read()
        finally:
            conn.close()
        status, body = self.request(
            "POST",
            "/images/load?quiet=1",
            body=tarball,
            headers={"Content-Type": "application/x-tar"},
        )
        if status != 200 or b'"error' in body:
            raise InfraError(f"loading {name} into the TLS daemon: HTTP {status} {body[:300]!r}")

    def stop(self) -> None:
        self.daemon.stop()
        remove_tree(self.workdir)


def client_ssl_context(ca: TLSMaterial, client: TLSMaterial | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca.ca_file))
    if client is not None:
        ctx.load_cert_chain(str(client.cert_file), str(client.key_file))
    return ctx


def _write_ca(directory: Path, organization: str) -> tuple[Any, TLSMaterial]:
    import trustme

    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name=organization)
    client = ca.issue_cert("aiodock-test-client", common_name="aiodock-test-client")
    material = TLSMaterial(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    ca.cert_pem.write_to_path(str(material.ca_file))
    client.private_key_pem.write_to_path(str(material.key_file))
    material.cert_file.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
    os.chmod(material.key_file, 0o600)
    return ca, material


def tls_ping(port: int, ctx: ssl.SSLContext, timeout: float = 5.0) -> bool:
    """True when the daemon answers ``/_ping`` over TLS with this context."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    except (OSError, ssl.SSLError):
        return False
    return data.startswith(b"HTTP/1.1 200") and data.endswith(b"OK")


# Hands the listening socket to dockerd as fd 3 (systemd socket activation, `-H fd://`).
# LISTEN_PID must be the pid of dockerd itself: every step below execs in place.
_FD_SHIM = (
    'if [ "$AIODOCK_LISTEN_FD" != 3 ]; then '
    'exec 3<&"$AIODOCK_LISTEN_FD"; exec {AIODOCK_LISTEN_FD}<&-; fi; '
    'unset AIODOCK_LISTEN_FD; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"'
)


def start_tls_daemon(timeout: float = 60.0) -> TLSDaemon:
    """Start a second dockerd that accepts only mutual-TLS clients on 127.0.0.1.

    The daemon runs in its own network namespace (``unshare --net``), so nothing it does to
    networking (``--bridge=none`` deletes ``docker0``!) touches the host or the main
    engine. Its TCP listener is created here, in the host's namespace, and passed in by
    socket activation; so the port is known before it starts and never races. It has its
    own data root, exec root, pidfile and (supervised) containerd, in containerd
    namespaces of its own in case a system containerd is shared.
    """
    dockerd = shutil.which("dockerd")
    unshare = shutil.which("unshare")
    if dockerd is None or unshare is None:
        raise InfraError("dockerd and unshare are needed (run: bash scripts/engine.sh install)")
    if os.geteuid() != 0:
        raise InfraError("a second dockerd needs root")
    workdir = make_workdir("tls")
    try:
        server_dir = workdir / "server"
        server_dir.mkdir()
        ca, client = _write_ca(workdir / "client", "aiodock test CA")
        _, other = _write_ca(workdir / "other", "aiodock unrelated CA")
        server = ca.issue_cert("127.0.0.1", "localhost", common_name="aiodock-test-daemon")
        server_cert = server_dir / "server-cert.pem"
        server_key = server_dir / "server-key.pem"
        server_cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
        server.private_key_pem.write_to_path(str(server_key))
        os.chmod(server_key, 0o600)
        config = workdir / "daemon.json"
        config.write_text("{}\n")

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            port: int = listener.getsockname()[1]
            fd = listener.fileno()
            argv = [
                "bash",
                "-c",
                _FD_SHIM,
                "aiodock-tls-shim",
                *_pdeathsig_prefix(),
                unshare,
                "--net",
                "--",
                dockerd,
                f"--config-file={config}",
                "--tlsverify",
                f"--tlscacert={client.ca_file}",
                f"--tlscert={server_cert}",
                f"--tlskey={server_key}",
                "-H",
                "fd://",
                f"--data-root={workdir / 'data'}",
                f"--exec-root={workdir / 'exec'}",
                f"--pidfile={workdir / 'dockerd.pid'}",
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--ip-forward=false",
                "--containerd-namespace=aiodock-tls",
                "--containerd-plugins-namespace=aiodock-tls-plugins",
            ]
            started = time.monotonic()
            daemon = Daemon(
                "TLS dockerd",
                argv,
                workdir / "dockerd.log",
                env=_child_env({"AIODOCK_LISTEN_FD": str(fd)}),
                pass_fds=(fd,),
            )
        finally:
            # dockerd holds its own copy of the listening socket now.
            listener.close()
        ctx = client_ssl_context(client, client)
        try:
            daemon.wait_until(lambda: tls_ping(port, ctx), timeout=timeout, what="answer /_ping")
        except BaseException:
            daemon.stop()
            raise
        return TLSDaemon(
            host=f"tcp://127.0.0.1:{port}",
            port=port,
            cert_dir=client.ca_file.parent,
            client=client,
            other=other,
            server_cert_file=server_cert,
            server_key_file=server_key,
            workdir=workdir,
            daemon=daemon,
            startup_seconds=time.monotonic() - started,
        )
    except BaseException:
        remove_tree(workdir)
        raise


# --------------------------------------------------------------------------------------
# sshd


@dataclass
class SSHServer:
    """An sshd on 127.0.0.1 that lets ``identity_file`` log in as root."""

    host: str
    port: int
    user: str
    identity_file: Path
    known_hosts_file: Path
    ssh_options: list[str]
    workdir: Path
    daemon: Daemon

    def ssh_argv(self, *command: str) -> list[str]:
        """An ``ssh`` command line that runs ``command`` on this server."""
        return ["ssh", *self.ssh_options, "-p", str(self.port), f"{self.user}@127.0.0.1", *command]

    def stop(self) -> None:
        self.daemon.stop()
        remove_tree(self.workdir)


def _ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            return sock.recv(64).startswith(b"SSH-2.0-")
    except OSError:
        return False


def start_sshd(timeout: float = 30.0) -> SSHServer:
    sshd = "/usr/sbin/sshd"  # sshd re-executes itself and insists on an absolute path
    keygen = shutil.which("ssh-keygen")
    if not os.path.exists(sshd) or keygen is None or shutil.which("ssh") is None:
        raise InfraError(
            "sshd, ssh and ssh-keygen are needed (run: bash scripts/engine.sh install)"
        )
    if os.geteuid() != 0:
        raise InfraError("the sshd fixture logs in as root and must be started by root")
    workdir = make_workdir("sshd")
    try:
        identity = workdir / "id_ed25519"
        host_key = workdir / "ssh_host_ed25519_key"
        for path, comment in ((identity, "aiodock-test"), (host_key, "aiodock-test-host")):
            subprocess.run(
                [keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                check=True,
                capture_output=True,
            )
        authorized = workdir / "authorized_keys"
        shutil.copyfile(identity.with_suffix(".pub"), authorized)
        port = free_port()
        host_pub = host_key.with_suffix(".pub").read_text().split()
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
        config = workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "StrictModes no",
                    # Debian's PAM stack lets root in even when its password is locked ("!").
                    "UsePAM yes",
                    "PrintMotd no",
                    "MaxStartups 200",
                    "MaxSessions 200",
                    # The asyncssh transport opens channels to the engine socket.
                    "AllowStreamLocalForwarding yes",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        daemon = Daemon(
            "sshd",
            [*_pdeathsig_prefix(), sshd, "-D", "-e", "-f", str(config)],
            workdir / "sshd.log",
        )
        try:
            daemon.wait_until(lambda: _ssh_banner(port), timeout=timeout, what="accept connections")
        except BaseException:
            daemon.stop()
            raise
        options = [
            "-i",
            str(identity),
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ]
        return SSHServer(
            host=f"ssh://root@127.0.0.1:{port}",
            port=port,
            user="root",
            identity_file=identity,
            known_hosts_file=known_hosts,
            ssh_options=options,
            workdir=workdir,
            daemon=daemon,
        )
    except BaseException:
        remove_tree(workdir)
        raise


# --------------------------------------------------------------------------------------
# registry


@dataclass
class Registry:
    """A docker-registry (distribution 2.8) with htpasswd auth on 127.0.0.1:5000."""

    url: str
    username: str
    password: str
    workdir: Path
    daemon: Daemon

    @property
    def auth_config(self) -> dict[str, str]:
        """The engine's AuthConfig for this registry."""
        return {"username": self.username, "password": self.password, "serveraddress": self.url}

    @property
    def x_registry_auth(self) -> str:
        """The ``X-Registry-Auth`` header value for this registry."""
        raw = json.dumps(self.auth_config).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def get(self, path: str, *, auth: bool = True, timeout: float = 10.0) -> tuple[int, bytes]:
        """One plain HTTP GET against the registry, with or without basic auth."""
        headers = {}
        if auth:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        conn = http.client.HTTPConnection(*REGISTRY_ADDR, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.daemon.stop()
        remove_tree(self.workdir)


def _registry_unauthorized() -> bool:
    conn = http.client.HTTPConnection(*REGISTRY_ADDR, timeout=2.0)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status == 401
    except OSError:
        return False
    finally:
        conn.close()


def start_registry(timeout: float = 30.0) -> Registry:
    registry = shutil.which("docker-registry")
    htpasswd = shutil.which("htpasswd")
    if registry is None or htpasswd is None:
        raise InfraError(
            "docker-registry and htpasswd are needed (run: bash scripts/engine.sh install)"
        )
    host, port = REGISTRY_ADDR
    if port_in_use(host, port):
        raise InfraError(
            f"{host}:{port} is already in use (another registry or test run?); "
            "the registry fixture needs that port for itself"
        )
    workdir = make_workdir("registry")
    try:
        creds = subprocess.run(
            [htpasswd, "-Bbn", REGISTRY_USER, REGISTRY_PASSWORD],
            check=True,
            capture_output=True,
        ).stdout
        (workdir / "htpasswd").write_bytes(creds)
        (workdir / "data").mkdir()
        config = workdir / "config.yml"
        config.write_text(
            "\n".join(
                [
                    "version: 0.1",
                    "log:",
                    "  level: info",
                    "storage:",
                    "  filesystem:",
                    f"    rootdirectory: {workdir / 'data'}",
                    "  delete:",
                    "    enabled: true",
                    "http:",
                    f"  addr: {host}:{port}",
                    "auth:",
                    "  htpasswd:",
                    "    realm: aiodock-test",
                    f"    path: {workdir / 'htpasswd'}",
                    "",
                ]
            )
        )
        daemon = Daemon(
            "docker-registry",
            [*_pdeathsig_prefix(), registry, "serve", str(config)],
            workdir / "registry.log",
        )
        try:
            daemon.wait_until(_registry_unauthorized, timeout=timeout, what="answer /v2/ with 401")
        except BaseException:
            daemon.stop()
            raise
        return Registry(
            url=f"{host}:{port}",
            username=REGISTRY_USER,
            password=REGISTRY_PASSWORD,
            workdir=workdir,
            daemon=daemon,
        )
    except BaseException:
        remove_tree(workdir)
        raise


@contextlib.contextmanager
def running(start: Callable[[], Any]) -> Iterator[Any]:
    """Start a daemon with ``start`` and stop it when the block ends."""
    server = start()
    try:
        yield server
    finally:
        server.stop()
