"""``ssh://`` over one SSH connection per host, with asyncssh (``pip install aiodock[ssh]``).

Every pooled HTTP connection, and every hijacked attach/exec connection, is a
channel of one SSH connection to the remote engine's unix socket
(``direct-streamlocal``, what ``ssh -L local:/remote.sock`` uses), so the remote
host needs sshd and the engine, no docker CLI. The SSH connection is opened on
first use and opened again, once, by the next call after it dropped.

Each channel is bridged to one end of a ``socketpair``; aiohttp (or the raw
connection of a hijacked stream) speaks to the other end, so both see an
ordinary socket, half-close included.

``ssh_options`` are the ``ssh`` command's flags that have an asyncssh meaning
(:func:`translate_options`); host keys are checked against ``known_hosts``
(``~/.ssh/known_hosts`` unless ``UserKnownHostsFile`` says otherwise) and an
unknown host is refused unless ``StrictHostKeyChecking=no`` is given explicitly.
``~/.ssh/config`` host aliases, ports, users and identity files apply as far as
asyncssh reads them; the ssh agent (``SSH_AUTH_SOCK``) and default keys are used
unless ``-i``/``IdentitiesOnly`` say otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from ..errors import DockerConnectionError, InvalidArgument
from .rawconn import RawConnection

if TYPE_CHECKING:
    import asyncssh
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

    from .transport import Endpoint

__all__ = [
    "REMOTE_SOCKET",
    "AsyncSSHConnector",
    "SSHTunnel",
    "available",
    "open_raw_ssh",
    "translate_options",
]

#: The engine socket on the remote host (``ssh://host/path`` names another one).
REMOTE_SOCKET = "/var/run/docker.sock"
_CHUNK = 256 * 1024
_YES = ("yes", "true", "on")
_NO = ("no", "false", "off")


def available() -> bool:
    """Whether asyncssh can be imported."""
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        return False
    return True


class Untranslatable(ValueError):
    """An ssh option that the asyncssh transport cannot honour (the reason is the text)."""


def translate_options(options: Sequence[str]) -> dict[str, Any]:
    """asyncssh ``connect`` keywords for ``ssh`` command flags.

    Understood: ``-i FILE``, ``-p PORT``, ``-l USER``, ``-F CONFIG`` and ``-o
    KEY=VALUE`` for ``UserKnownHostsFile``, ``StrictHostKeyChecking`` (``no``
    switches host key checking off; ``accept-new`` is refused like ``yes``,
    asyncssh never writes known_hosts), ``IdentityFile``, ``IdentitiesOnly``,
    ``User``, ``Port``, ``ConnectTimeout``, ``ServerAliveInterval``,
    ``ServerAliveCountMax``, ``BatchMode`` (asyncssh never prompts). Anything
    else raises :class:`Untranslatable`.
    """
    kwargs: dict[str, Any] = {}
    keys: list[str] = []
    args = list(options)
    i = 0

    def value_of(flag: str) -> str:
        nonlocal i
        if i + 1 >= len(args):
            raise Untranslatable(f"{flag} needs a value")
        i += 1
        return args[i]

    while i < len(args):
        arg = args[i]
        if arg in ("-i", "-p", "-l", "-F", "-o"):
            value = value_of(arg)
        elif len(arg) > 2 and arg[:2] in ("-i", "-p", "-l", "-F", "-o"):
            arg, value = arg[:2], arg[2:]
        elif arg in ("-T", "-q", "-4", "-6"):
            i += 1
            continue
        else:
            raise Untranslatable(f"ssh flag {arg!r}")
        i += 1
        if arg == "-i":
            keys.append(value)
        elif arg == "-p":
            kwargs["port"] = _port(value)
        elif arg == "-l":
            kwargs["username"] = value
        elif arg == "-F":
            kwargs["config"] = [value]
        else:
            key, sep, val = value.partition("=")
            if not sep:
                key, _, val = value.partition(" ")
            _option(kwargs, keys, key.strip().lower(), val.strip())
    if keys:
        kwargs["client_keys"] = keys
    return kwargs


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise Untranslatable(f"port {value!r}")
    return int(value)


def _seconds(key: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise Untranslatable(f"{key}={value!r}") from None
    if seconds < 0:
        raise Untranslatable(f"{key}={value!r}")
    return seconds


def _option(kwargs: dict[str, Any], keys: list[str], key: str, value: str) -> None:
    if key == "userknownhostsfile":
        if value.lower() == "/dev/null":
            raise Untranslatable("UserKnownHostsFile=/dev/null (use StrictHostKeyChecking=no)")
        kwargs["known_hosts"] = value
    elif key == "stricthostkeychecking":
        if value.lower() in _NO:
            kwargs["known_hosts"] = None  # the user's explicit opt-in: any host key
        elif value.lower() not in (*_YES, "ask", "accept-new"):
            raise Untranslatable(f"StrictHostKeyChecking={value!r}")
    elif key == "identityfile":
        keys.append(value)
    elif key == "identitiesonly":
        if value.lower() in _YES:
            kwargs["agent_path"] = None
    elif key == "user":
        kwargs["username"] = value
    elif key == "port":
        kwargs["port"] = _port(value)
    elif key == "connecttimeout":
        kwargs["connect_timeout"] = _seconds("ConnectTimeout", value)
    elif key == "serveraliveinterval":
        kwargs["keepalive_interval"] = _seconds("ServerAliveInterval", value)
    elif key == "serveralivecountmax":
        kwargs["keepalive_count_max"] = int(_seconds("ServerAliveCountMax", value))
    elif key == "batchmode":
        pass  # asyncssh never prompts
    else:
        raise Untranslatable(f"ssh option {key!r}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SSHTunnel:
    """One SSH connection to an endpoint; opens channels to the engine's socket.

    ``connections_opened`` counts SSH connections made (reconnects included),
    ``channels_opened`` the channels: what the tests and the benchmark measure.
    """

    def __init__(self, endpoint: Endpoint, options: Sequence[str]) -> None:
        if endpoint.kind != "ssh" or endpoint.hostname is None:
            raise InvalidArgument("host", endpoint.url, "expected an ssh://[user@]host address")
        try:
            self._kwargs = translate_options(options)
        except Untranslatable as exc:
            raise InvalidArgument(
                "ssh_options", list(options), f"not supported over asyncssh: {exc}"
            ) from None
        if endpoint.port is not None:
            self._kwargs["port"] = endpoint.port
        if endpoint.user:
            self._kwargs["username"] = endpoint.user
        self._host = endpoint.hostname
        self._url = endpoint.url
        self.remote_path = endpoint.socket_path or REMOTE_SOCKET
        self._conn: asyncssh.SSHClientConnection | None = None
        self._connecting: asyncio.Lock | None = None
        self._bridges: set[asyncio.Task[None]] = set()
        self.connections_opened = 0
        self.channels_opened = 0
        self.refs = 0
        self.closed = False

    async def _connection(self) -> asyncssh.SSHClientConnection:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            return conn
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:  # concurrent first calls share one connect
            conn = self._conn
            if conn is not None and not conn.is_closed():
                return conn
            if self.closed:
                raise DockerConnectionError(f"the ssh connection to {self._url} was closed")
            import asyncssh

            try:
                conn = await asyncssh.connect(self._host, **self._kwargs)
            except (asyncssh.Error, OSError, asyncio.TimeoutError, ValueError) as exc:
                raise DockerConnectionError(
                    f"cannot open an ssh connection to {self._url}: {_describe(exc)}"
                ) from exc
            self._conn = conn
            self.connections_opened += 1
            return conn

    async def open_socket(self) -> socket.socket:
        """A socket whose peer is a fresh channel to the engine's unix socket."""
        import asyncssh

        conn = await self._connection()
        try:
            reader, writer = await conn.open_unix_connection(self.remote_path)
        except (asyncssh.Error, OSError) as exc:
            if conn.is_closed():
                self._conn = None
            raise DockerConnectionError(
                f"cannot reach {self.remote_path} over ssh on {self._url}: {_describe(exc)}"
            ) from exc
        self.channels_opened += 1
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        task = asyncio.ensure_future(_bridge(theirs, reader, writer))
        self._bridges.add(task)
        task.add_done_callback(self._bridges.discard)
        return ours

    def drop(self) -> None:
        """Cut the SSH connection now (as a network failure would); for tests."""
        if self._conn is not None:
            self._conn.abort()

    async def close(self) -> None:
        self.closed = True
        conn, self._conn = self._conn, None
        for task in list(self._bridges):
            task.cancel()
        if self._bridges:
            await asyncio.gather(*self._bridges, return_exceptions=True)
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()


async def _bridge(
    sock: socket.socket, reader: asyncssh.SSHReader[bytes], writer: asyncssh.SSHWriter[bytes]
) -> None:
    """Copy bytes both ways between ``sock`` and an SSH channel, half-closes included."""
    loop = asyncio.get_running_loop()
    local_reader, local_writer = await asyncio.open_unix_connection(sock=sock, limit=_CHUNK)

    async def outbound() -> None:
        while data := await local_reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def inbound() -> None:
        while data := await reader.read(_CHUNK):
            local_writer.write(data)
            await local_writer.drain()
        if local_writer.can_write_eof():
            local_writer.write_eof()

    up = loop.create_task(outbound())
    down = loop.create_task(inbound())
    failed = True
    try:
        # Both directions end on their own (EOF, half-close first); either failing ends both.
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_EXCEPTION)
        failed = any(t.done() and not t.cancelled() and t.exception() for t in (up, down))
    finally:
        for task in (up, down):
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)
        writer.close()
        if failed:
            local_writer.transport.abort()  # a dropped ssh connection shows as a reset
        else:
            local_writer.transport.close()


# One tunnel per (event loop, endpoint, options): clients and hijacked streams share it.
_TUNNELS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], SSHTunnel]] = (
    weakref.WeakKeyDictionary()
)


def acquire(endpoint: Endpoint, options: Sequence[str]) -> SSHTunnel:
    """The shared tunnel for ``endpoint`` in this event loop (made on first use)."""
    loop = asyncio.get_running_loop()
    tunnels = _TUNNELS.setdefault(loop, {})
    key = (endpoint, tuple(options))
    tunnel = tunnels.get(key)
    if tunnel is None or tunnel.closed:
        tunnel = tunnels[key] = SSHTunnel(endpoint, options)
    tunnel.refs += 1
    return tunnel


async def release(tunnel: SSHTunnel) -> None:
    """Drop one user of ``tunnel``; the last one closes the SSH connection."""
    tunnel.refs -= 1
    if tunnel.refs > 0:
        return
    for tunnels in _TUNNELS.values():
        for key, value in list(tunnels.items()):
            if value is tunnel:
                del tunnels[key]
    await tunnel.close()


class AsyncSSHConnector(aiohttp.BaseConnector):
    """aiohttp connector whose connections are channels of one shared SSH connection."""

    def __init__(self, endpoint: Endpoint, options: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._endpoint = endpoint
        self._options = tuple(options)
        SSHTunnel(endpoint, options)  # refuse bad options now, not on the first call
        self._tunnel: SSHTunnel | None = None

    @property
    def tunnel(self) -> SSHTunnel:
        if self._tunnel is None:
            self._tunnel = acquire(self._endpoint, self._options)
        return self._tunnel

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        sock = await self.tunnel.open_socket()
        try:
            _, protocol = await self._loop.create_unix_connection(self._factory, sock=sock)
        except BaseException:
            sock.close()
            raise
        return protocol

    async def close(self) -> None:  # type: ignore[override]
        await super().close()
        tunnel, self._tunnel = self._tunnel, None
        if tunnel is not None:
            await release(tunnel)


async def open_raw_ssh(endpoint: Endpoint, options: Sequence[str]) -> RawConnection:
    """A hijackable byte stream over the endpoint's shared SSH connection."""
    tunnel = acquire(endpoint, options)
    try:
        sock = await tunnel.open_socket()
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_unix_connection(RawConnection, sock=sock)
    except BaseException:
        await release(tunnel)
        raise
    released = False

    def on_lost(exc: Exception | None) -> None:
        nonlocal released
        original(exc)
        if not released:
            released = True
            task = loop.create_task(release(tunnel))
            _PENDING.add(task)
            task.add_done_callback(_PENDING.discard)

    original = conn.connection_lost
    conn.connection_lost = on_lost  # type: ignore[method-assign]
    return conn


_PENDING: set[asyncio.Task[None]] = set()
