"""Faults with a real engine: the daemon dies mid-stream and comes back.

The shared engine at /var/run/docker.sock is never touched: this module starts a
dedicated ``dockerd`` of its own (unix socket, data root, exec root, pidfile and
containerd namespaces in a private directory; its own network namespace, since
``--bridge=none`` would otherwise delete the host's ``docker0``), loads the test
image into it, runs containers that print forever, opens every kind of stream,
SIGKILLs the daemon, and checks that

- every open stream raises ``DockerConnectionError`` (never ends as if complete);
- ordinary calls fail within 2 s with ``DockerConnectionError``, naming the call;
- once the daemon is back on the same socket, the same client works again.

It also checks that ids crafted to reach other endpoints cannot do so on a real
engine (which answers dot segments with a redirect that aiodock never follows).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiodock import DockerClient
from aiodock.errors import APIError, DockerConnectionError, NotFound
from tests.integration import _infra

pytestmark = pytest.mark.integration

FOREVER = "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.05; done"


# --- a dedicated daemon -----------------------------------------------------------------------


@dataclass
class PlainDaemon:
    """A second dockerd on a private unix socket, which tests may kill and restart."""

    workdir: Path
    socket: Path
    argv: list[str]
    daemon: _infra.Daemon

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
        return _infra.engine_request(method, path, sock=str(self.socket), **kwargs)

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.daemon.wait_until(
            lambda: _infra.engine_ping(str(self.socket), timeout=2.0) is None,
            timeout=timeout,
            what="answer /_ping",
        )

    def kill(self) -> None:
        """SIGKILL dockerd, as a crash would (its containerd follows it)."""
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait(30)

    def restart(self) -> None:
        """Start dockerd again with the same socket, roots and configuration."""
        self.daemon.stop()
        # The killed dockerd's containerd died with it (parent-death signal) but stays a
        # zombie when nothing reaps orphans (as in containers without an init); its pid
        # still "exists", and dockerd would wait for it instead of starting a new one.
        # Both daemons are gone for sure here, so their pidfiles are stale.
        for pidfile in (
            self.workdir / "dockerd.pid",
            self.workdir / "exec/containerd/containerd.pid",
        ):
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()
        self.daemon = _infra.Daemon("faults dockerd", self.argv, self.workdir / "dockerd.log")
        self.wait_ready()

    def load_image(self, name: str = _infra.BUSYBOX) -> None:
        status, tarball = _infra.engine_request(
            "GET", "/images/get", params={"names": name}, timeout=120
        )
        if status != 200:
            raise _infra.InfraError(f"exporting {name} from the main engine: HTTP {status}")
        status, body = self.request(
            "POST",
            "/images/load?quiet=1",
            body=tarball,
            headers={"Content-Type": "application/x-tar"},
            timeout=120,
        )
        if status != 200 or b'"error' in body:
            raise _infra.InfraError(f"loading {name}: HTTP {status} {body[:300]!r}")

    def stop(self) -> None:
        with contextlib.suppress(OSError, _infra.InfraError):
            if _infra.engine_ping(str(self.socket), timeout=2.0) is None:
                _infra.cleanup_labelled(sock=str(self.socket))
        self.daemon.stop()
        _kill_leftovers(self.workdir)
        _infra.remove_tree(self.workdir)


def _kill_leftovers(workdir: Path) -> None:
    """End processes this daemon left (containerd shims of a killed instance)."""
    marker = str(workdir)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def start_plain_daemon(timeout: float = 60.0) -> PlainDaemon:
    """Start a dockerd on its own unix socket, in its own network namespace."""
    dockerd = shutil.which("dockerd")
    unshare = shutil.which("unshare")
    if dockerd is None or unshare is None:
        raise _infra.InfraError("dockerd and unshare are needed (bash scripts/engine.sh install)")
    if os.geteuid() != 0:
        raise _infra.InfraError("a second dockerd needs root")
    workdir = _infra.make_workdir("faults")
    try:
        socket = workdir / "docker.sock"
        config = workdir / "daemon.json"
        config.write_text("{}\n")
        argv = [
            *_infra._pdeathsig_prefix(),
            unshare,
            "--net",
            "--",
            dockerd,
            f"--config-file={config}",
            "-H",
            f"unix://{socket}",
            f"--data-root={workdir / 'data'}",
            f"--exec-root={workdir / 'exec'}",
            f"--pidfile={workdir / 'dockerd.pid'}",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--containerd-namespace=aiodock-faults",
            "--containerd-plugins-namespace=aiodock-faults-plugins",
        ]
        daemon = _infra.Daemon("faults dockerd", argv, workdir / "dockerd.log")
        server = PlainDaemon(workdir, socket, argv, daemon)
        try:
            server.wait_ready(timeout)
            server.load_image()
        except BaseException:
            server.daemon.stop()
            raise
        return server
    except BaseException:
        _kill_leftovers(workdir)
        _infra.remove_tree(workdir)
        raise


@pytest.fixture(scope="module")
def plain_daemon() -> Iterator[PlainDaemon]:
    try:
        server = start_plain_daemon()
    except _infra.InfraError as exc:
        if _infra.ci_mode():
            pytest.fail(f"cannot start the faults dockerd: {exc} (CI is set)", pytrace=False)
        pytest.skip(f"cannot start the faults dockerd: {exc}")
    try:
        yield server
    finally:
        server.stop()


# --- the daemon dies mid-stream ------------------------------------------------------------


async def _run_forever(client: DockerClient, *, tty: bool = False, name: str) -> str:
    created = await client.containers.create(
        image=_infra.BUSYBOX,
        cmd=["sh", "-c", FOREVER],
        tty=tty,
        network="none",
        labels=_infra.TEST_LABEL,
        # Without live-restore the restarted daemon stops what was running: at once.
        stop_signal="SIGKILL",
        name=name,
    )
    await client.containers.start(created.id)
    return created.id


@dataclass
class Outcome:
    items: int = 0
    error: BaseException | None = None
    ended_cleanly: bool = False


async def _consume(stream: Any, outcome: Outcome, started: asyncio.Event) -> None:
    try:
        async with contextlib.AsyncExitStack() as stack:
            if hasattr(stream, "__aenter__"):
                stream = await stack.enter_async_context(stream)
            async for _ in stream:
                outcome.items += 1
                if outcome.items == 1:
                    started.set()
        outcome.ended_cleanly = True
    except Exception as exc:
        outcome.error = exc
    finally:
        started.set()


async def test_streams_raise_and_calls_fail_fast_when_the_daemon_dies(
    plain_daemon: PlainDaemon,
) -> None:
    async with DockerClient(plain_daemon.host, timeout=30) as client:
        plain = await _run_forever(client, name="faults-plain")
        tty = await _run_forever(client, name="faults-tty", tty=True)
        await client.containers.inspect(plain)

        async def exec_stream() -> Any:
            created = await client.exec.create(plain, cmd=["sh", "-c", FOREVER])
            return await client.exec.start(created.id, tty=False)

        streams: dict[str, Any] = {
            "logs": client.containers.logs(plain, follow=True, tty=False),
            "logs-tty": client.containers.logs(tty, follow=True, tty=True),
            "logs-lines": client.containers.logs(plain, follow=True, tty=False).lines(),
            "stats": client.containers.stats(plain),
            "events": client.system.events(),
            "attach": await client.containers.attach(plain, tty=False),
            "exec": await exec_stream(),
        }
        outcomes = {name: Outcome() for name in streams}
        started = {name: asyncio.Event() for name in streams}
        tasks = [
            asyncio.ensure_future(_consume(stream, outcomes[name], started[name]))
            for name, stream in streams.items()
        ]
        # Give the event stream something to deliver: each exec created is an event.
        for _ in range(3):
            await client.exec.create(plain, cmd=["true"])
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started.values())), 30)
        assert all(o.error is None for o in outcomes.values()), outcomes

        plain_daemon.kill()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)

        # A hijacked (attach/exec) connection has no HTTP framing left: a daemon that dies
        # between two frames would look like the process closing its output, so the
        # client checks the daemon before it reports a clean end.
        for name, outcome in outcomes.items():
            assert outcome.items > 0, f"{name} never delivered anything"
            assert not outcome.ended_cleanly, f"{name} ended as if complete"
            assert isinstance(outcome.error, DockerConnectionError), (name, outcome.error)

        # Ordinary calls fail fast and say which call failed.
        calls: list[tuple[Callable[[], Awaitable[Any]], str]] = [
            (client.system.ping, "/_ping"),
            (lambda: client.containers.inspect(plain), f"/containers/{plain}/json"),
            (client.containers.list, "/containers/json"),
        ]
        for call, what in calls:
            began = time.monotonic()
            with pytest.raises(DockerConnectionError) as info:
                await call()
            assert time.monotonic() - began < 2.0
            assert what in str(info.value)
        began = time.monotonic()
        with pytest.raises(DockerConnectionError):
            await client.system.events().collect()
        assert time.monotonic() - began < 2.0

        # Back on the same socket: the same client carries on.
        # In this thread: the daemon is started with a parent-death signal, which Linux
        # sends when the creating *thread* ends (a worker thread would take it down).
        plain_daemon.restart()
        assert await client.system.ping()
        assert (await client.containers.inspect(plain)).id == plain
        async with client.system.events(since=0) as events:
            assert (await anext(aiter(events))).type
        listed = await client.containers.list(all=True, filters={"label": ["aiodock-test=1"]})
        assert {c.id for c in listed} >= {plain, tty}
        for cid in (plain, tty):
            await client.containers.remove(cid, force=True)


# --- hostile ids on a real engine --------------------------------------------------------------


@pytest.mark.parametrize(
    "ident",
    ["../../images/{image}", "..", ".", "../images/json", "x?all=1", "x#y", "x\r\nX-Evil: 1"],
)
async def test_ids_cannot_reach_other_endpoints_of_a_real_engine(
    plain_daemon: PlainDaemon, ident: str
) -> None:
    ident = ident.format(image=urllib.parse.quote(_infra.BUSYBOX, safe=""))
    async with DockerClient(plain_daemon.host) as client:
        for inspect in (client.containers.inspect, client.networks.inspect, client.volumes.inspect):
            with pytest.raises(APIError) as info:
                await inspect(ident)
            # Not found, or a redirect that was refused: never another object's data.
            assert isinstance(info.value, NotFound) or 300 <= info.value.status < 400
