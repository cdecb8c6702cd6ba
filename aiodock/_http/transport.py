"""Where the daemon lives and how to open connections to it.

``parse_host`` turns a ``DOCKER_HOST``-style string into an :class:`Endpoint`.
``make_connector`` builds the aiohttp connector for ordinary HTTP traffic and
``open_raw`` opens a bare byte stream for hijacked (upgraded) connections;
both speak to the same endpoint kinds: unix sockets, TCP (optionally TLS) and
``ssh://``: channels of one asyncssh connection per host (``sshconn``) when
asyncssh is installed, else ``ssh host docker system dial-stdio`` over a socketpair.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import socket
import ssl
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiohttp
import attrs

from .._names import has_control, unusable
from ..errors import DockerConnectionError, InvalidArgument
from .rawconn import RawConnection
from .timeouts import wait_for

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = ["DEFAULT_HOST", "Endpoint", "make_connector", "open_raw", "parse_host", "redact_host"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
_SCHEMES = ("unix", "tcp", "http", "https", "ssh")


@attrs.frozen
class Endpoint:
    """A parsed daemon address."""

    kind: str  # "unix", "tcp" or "ssh"
    url: str  # the host string as given, password masked (redact_host), for messages
    base_url: str  # what aiohttp requests go to (no trailing slash)
    socket_path: str | None = None
    hostname: str | None = None
    port: int | None = None
    user: str | None = None
    tls: bool = False

    @property
    def http_host(self) -> str:
        """The Host header value for requests over this endpoint."""
        if self.kind == "tcp":
            return f"{self.hostname}:{self.port}"
        return "docker"


_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def redact_host(host: str) -> str:
    """The address as every repr, error and log shows it: any password masked.

    Everything from the user-info colon to the *last* ``@`` becomes ``***``, so
    a password holding ``@``, ``/`` or ``:`` cannot show through (this masks a
    path that holds ``@`` too: better too much than a password). A socket path
    (``unix:///...``, ``/...``) has no user info and is shown as it is.
    """
    scheme, sep, rest = host.partition("://")
    if not sep or not _SCHEME_RE.fullmatch(scheme):
        scheme, sep, rest = "", "", host  # "user:pa://ss@h" has no scheme
    at = rest.rfind("@")
    colon = rest.find(":", 0, at)
    if at < 0 or colon < 0 or rest.startswith("/"):
        return host
    return f"{scheme}{sep}{rest[:colon]}:***{rest[at:]}"


def _check_hostname(hostname: str, host: str) -> None:
    """Refuse a host name no connection could use (bad IDNA, empty or long labels)."""
    try:
        ipaddress.ip_address(hostname)
        return
    except ValueError:
        pass
    try:
        ascii_name = hostname.encode("idna")
    except UnicodeError as exc:
        raise InvalidArgument("host", redact_host(host), f"invalid host name: {exc}") from None
    if not re.fullmatch(rb"[A-Za-z0-9._-]+", ascii_name):
        raise InvalidArgument("host", redact_host(host), "invalid characters in the host name")


def parse_host(host: str, *, tls: bool = False) -> Endpoint:
    """Parse a daemon address like the docker CLI's ``-H``/``DOCKER_HOST``.

    ``tls`` selects https for ``tcp://`` hosts (as ``--tls``/TLS config does).
    Errors name the address with any password masked.
    """
    if not isinstance(host, str) or not host.strip():
        raise InvalidArgument("host", host, "expected an address like unix:///var/run/docker.sock")
    shown = redact_host(host)
    text = host.strip()
    if "://" not in text:
        text = ("unix://" if text.startswith("/") else "tcp://") + text
    scheme = text.split("://", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise InvalidArgument(
            "host", shown, f"unsupported scheme {scheme!r}; use one of {', '.join(_SCHEMES)}"
        )
    # Refuse here what a socket, ssh's argv or a URL would fail on later.
    if " " in text or has_control(text):
        raise InvalidArgument("host", shown, "contains whitespace or control characters")
    reason = unusable(text, os_path=scheme == "unix")
    if reason is not None:
        raise InvalidArgument("host", shown, f"the address {reason}")
    if scheme == "unix":
        path = text[len("unix://") :]
        if not path:
            raise InvalidArgument("host", shown, "unix socket path is empty")
        return Endpoint(
            kind="unix", url=redact_host(host.strip()), base_url="http://docker", socket_path=path
        )

    try:
        parts = urlsplit(text)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        # urlsplit's message quotes parts of the address, maybe of a password.
        raise InvalidArgument(
            "host", shown, "not a valid address (check the port and any [IPv6] brackets)"
        ) from None
    if not hostname:
        raise InvalidArgument("host", shown, "no host name")
    # Brackets hold an IPv6 address and nothing else. Python 3.10's urlsplit does
    # not check that: "tcp://[abc]" became host "abc" and "ssh://]x[y" host "y".
    host_part = parts.netloc.rpartition("@")[2]
    if "[" in host_part or "]" in host_part:
        bracketed = re.fullmatch(r"\[([^\[\]]*)\](:\d*)?", host_part)
        try:
            valid = bracketed is not None and ipaddress.ip_address(bracketed.group(1)).version == 6
        except ValueError:
            valid = False
        if not valid:
            raise InvalidArgument("host", shown, "brackets must hold an IPv6 address")
    if parts.query or parts.fragment:
        raise InvalidArgument("host", shown, "must not carry a query or fragment")
    _check_hostname(hostname, host)
    path = parts.path.rstrip("/")

    if scheme == "ssh":
        if parts.password is not None:
            raise InvalidArgument(
                "host", shown, "ssh:// addresses take no password; use a key or ssh-agent"
            )
        if "@" in path:  # like tcp://: far more often a password holding "/"
            raise InvalidArgument("host", shown, "ssh:// paths must not hold '@'")
        user = unquote(parts.username) if parts.username else None
        if user is not None and unusable(user, os_path=True) is not None:
            raise InvalidArgument(
                "host", shown, "the ssh user (once %-decoded) holds control characters"
            )
        return Endpoint(
            kind="ssh",
            url=redact_host(host.strip()),
            base_url="http://docker",
            # ssh://host/run/podman/podman.sock: the engine socket on the remote host
            # (the asyncssh transport only; `docker system dial-stdio` has its own).
            socket_path=path or None,
            hostname=hostname,
            port=port,
            user=user,
        )
    # "tcp://u:pa/ss@h" parses as host u, port "pa", path "/ss@h": an "@" in
    # the path is a password holding "/" far more often than a real path.
    if parts.username or parts.password or "@" in path:
        raise InvalidArgument("host", shown, "credentials in a tcp address are not supported")
    use_tls = tls or scheme == "https"
    if scheme == "http" and tls:
        raise InvalidArgument("host", shown, "http:// cannot be combined with TLS; use https://")
    if port is None:
        port = 2376 if use_tls else 2375
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    base = f"{'https' if use_tls else 'http'}://{netloc}:{port}{path}"
    return Endpoint(
        kind="tcp",
        url=redact_host(host.strip()),
        base_url=base,
        hostname=hostname,
        port=port,
        tls=use_tls,
    )


#: Which ssh:// transport to use: "auto" (asyncssh when installed and every ssh
#: option has an asyncssh meaning, else the ssh command), "asyncssh" or "command".
SSH_TRANSPORT_ENV = "AIODOCK_SSH_TRANSPORT"


def use_asyncssh(endpoint: Endpoint, options: Sequence[str]) -> bool:
    """Whether ``ssh://`` goes over asyncssh (one SSH connection) or ``ssh`` processes."""
    choice = os.environ.get(SSH_TRANSPORT_ENV, "").strip().lower() or "auto"
    if choice not in ("auto", "asyncssh", "command"):
        raise InvalidArgument(SSH_TRANSPORT_ENV, choice, "expected auto, asyncssh or command")
    from . import sshconn

    if choice == "command":
        if endpoint.socket_path:
            raise InvalidArgument(
                "host", endpoint.url, "a socket path in ssh:// needs the asyncssh transport"
            )
        return False
    if not sshconn.available():
        if choice == "asyncssh" or endpoint.socket_path:
            raise InvalidArgument(
                SSH_TRANSPORT_ENV if choice == "asyncssh" else "host",
                choice if choice == "asyncssh" else endpoint.url,
                "needs asyncssh, which is not installed (pip install 'aiodock[ssh]')",
            )
        return False
    if choice == "auto" and not endpoint.socket_path:
        try:
            sshconn.translate_options(options)
        except sshconn.Untranslatable:
            return False  # the ssh command honours every flag it knows
    return True


def ssh_command(endpoint: Endpoint, options: Sequence[str]) -> list[str]:
    """The argv that runs ``docker system dial-stdio`` on the ssh endpoint."""
    if endpoint.kind != "ssh" or endpoint.hostname is None:
        raise InvalidArgument("host", endpoint.url, "not an ssh:// address")
    argv = ["ssh", "-T", "-o", "BatchMode=yes", *options]
    if endpoint.port is not None:
        argv += ["-p", str(endpoint.port)]
    if endpoint.user:
        argv += ["-l", endpoint.user]
    argv += ["--", endpoint.hostname, "docker", "system", "dial-stdio"]
    return argv


async def _spawn_ssh(argv: Sequence[str]) -> tuple[socket.socket, asyncio.subprocess.Process]:
    """Start ssh with one end of a socketpair as its stdin/stdout; return the other end."""
    ours, theirs = socket.socketpair()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=theirs.fileno(),
            stdout=theirs.fileno(),
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        ours.close()
        raise DockerConnectionError(f"cannot start ssh ({argv[0]}): {exc}") from exc
    finally:
        theirs.close()
    ours.setblocking(False)
    return ours, proc


async def stop_process(proc: asyncio.subprocess.Process | None, grace: float = 5.0) -> None:
    """End an ssh helper process and wait for it, so no child or transport is left behind."""
    if proc is None:
        return
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    try:
        await wait_for(proc.wait(), grace)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


class _SSHConnector(aiohttp.BaseConnector):
    """aiohttp connector whose connections are ``ssh ... docker system dial-stdio`` pipes.

    One ssh process per pooled connection; keep-alive reuses it. A process
    ends when its connection is lost, and ``close`` waits for all of them.
    """

    def __init__(self, endpoint: Endpoint, options: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._argv = ssh_command(endpoint, options)
        self._procs: set[asyncio.subprocess.Process] = set()
        self._stopping: set[asyncio.Future[None]] = set()

    def _stop(self, proc: asyncio.subprocess.Process) -> None:
        self._procs.discard(proc)
        task = asyncio.ensure_future(stop_process(proc))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        sock, proc = await _spawn_ssh(self._argv)
        self._procs.add(proc)
        try:
            _, protocol = await self._loop.create_unix_connection(self._factory, sock=sock)
        except BaseException:
            sock.close()
            self._stop(proc)
            raise
        _watch_connection_lost(protocol, lambda: self._stop(proc))
        return protocol

    async def close(self) -> None:  # type: ignore[override]
        await super().close()
        for proc in list(self._procs):
            self._stop(proc)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)


def _watch_connection_lost(protocol: ResponseHandler, callback: Any) -> None:
    """Call ``callback`` when the aiohttp protocol loses its transport."""
    original = protocol.connection_lost

    def connection_lost(exc: BaseException | None) -> None:
        try:
            original(exc)
        finally:
            callback()

    protocol.connection_lost = connection_lost  # type: ignore[method-assign]


def make_connector(
    endpoint: Endpoint,
    *,
    ssl_context: ssl.SSLContext | None,
    ssh_options: Sequence[str] = (),
) -> aiohttp.BaseConnector:
    """The connector for ordinary requests.

    The pool is unbounded: the client limits ordinary calls itself, so open
    streams can never starve them (aiohttp's default ``limit=100`` would).
    """
    common: dict[str, Any] = {"limit": 0, "limit_per_host": 0, "keepalive_timeout": 30.0}
    if endpoint.kind == "unix":
        return aiohttp.UnixConnector(endpoint.socket_path or "", **common)
    if endpoint.kind == "ssh":
        if use_asyncssh(endpoint, ssh_options):
            from .sshconn import AsyncSSHConnector

            return AsyncSSHConnector(endpoint, ssh_options, **common)
        return _SSHConnector(endpoint, ssh_options, **common)
    tls: ssl.SSLContext | bool = ssl_context if endpoint.tls and ssl_context else endpoint.tls
    return aiohttp.TCPConnector(ssl=tls if endpoint.tls else False, **common)


async def open_raw(
    endpoint: Endpoint,
    *,
    ssl_context: ssl.SSLContext | None,
    ssh_options: Sequence[str] = (),
    connect_timeout: float | None = None,
    server_hostname: str | None = None,
) -> tuple[RawConnection, asyncio.subprocess.Process | None]:
    """Open a bare byte stream to the daemon (for hijacked attach/exec connections)."""
    proc: asyncio.subprocess.Process | None = None
    loop = asyncio.get_running_loop()
    try:
        if endpoint.kind == "unix":
            coro = loop.create_unix_connection(RawConnection, endpoint.socket_path)
            _, conn = await wait_for(coro, connect_timeout)
        elif endpoint.kind == "ssh" and use_asyncssh(endpoint, ssh_options):
            from .sshconn import open_raw_ssh

            conn = await wait_for(open_raw_ssh(endpoint, ssh_options), connect_timeout)
        elif endpoint.kind == "ssh":
            sock, proc = await _spawn_ssh(ssh_command(endpoint, ssh_options))
            _, conn = await loop.create_unix_connection(RawConnection, sock=sock)
        else:
            ctx: ssl.SSLContext | None = None
            if endpoint.tls:
                ctx = ssl_context or ssl.create_default_context()
            if endpoint.hostname is None or endpoint.port is None:
                raise InvalidArgument("host", endpoint.url, "no host name or port")
            coro = loop.create_connection(
                RawConnection,
                endpoint.hostname,
                endpoint.port,
                ssl=ctx,
                server_hostname=(server_hostname or endpoint.hostname) if ctx else None,
            )
            _, conn = await wait_for(coro, connect_timeout)
    except asyncio.TimeoutError as exc:
        await stop_process(proc)
        raise DockerConnectionError(
            f"timed out connecting to {endpoint.url} after {connect_timeout}s"
        ) from exc
    except (OSError, ssl.SSLError) as exc:
        await stop_process(proc)
        raise DockerConnectionError(f"cannot connect to {endpoint.url}: {exc}") from exc
    return conn, proc
