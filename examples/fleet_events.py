"""Watch the events of a fleet of engines as one stream, tagged with the host.

``Fleet`` runs one :class:`~aiodock.watcher.EventWatcher` per host (each keeps its own
connection and reconnects on its own) and merges them into one async iterator of
``FleetEvent(host, event)``. A host that goes away does not stop the others: its
watcher keeps trying to reconnect in the background, and ``fleet.status()`` says so.

Usage::

    python examples/fleet_events.py [NAME=HOST ...] [--tls NAME=CERT_DIR]
        [--ssh-options "-i KEY -o UserKnownHostsFile=FILE"] [--flaky] [--image IMAGE]

With no host, ``local`` is the engine ``DockerClient.from_env()`` finds. A ``--tls``
directory holds ``ca.pem``, ``cert.pem`` and ``key.pem`` for a ``tcp://`` host.
``--flaky`` adds a host ``flaky`` that reaches the first unix-socket host through a
proxy this script starts and later stops, to show the fleet surviving a host going
away. The demo creates and removes one labelled container per host, checks that each
host's events arrive tagged with that host, stops the flaky host, does it again on the
others and prints ``fleet_events OK``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from aiodock import DockerClient, TLSConfig
from aiodock.models.events import Event
from aiodock.watcher import EventWatcher, Subscription


@attrs.frozen
class FleetEvent:
    host: str
    event: Event


class Fleet:
    """One ``EventWatcher`` per host, merged into one async iterator of ``FleetEvent``."""

    def __init__(
        self,
        clients: Mapping[str, DockerClient],
        *,
        filters: Any = None,
        maxsize: int = 10_000,
        max_backoff: float = 5.0,
    ) -> None:
        self._clients = dict(clients)
        self._watchers = {
            name: EventWatcher(client, filters=filters, max_backoff=max_backoff, backoff=0.2)
            for name, client in self._clients.items()
        }
        self._queue: asyncio.Queue[FleetEvent] = asyncio.Queue(maxsize)
        self._pumps: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self.failed: dict[str, BaseException] = {}

    async def __aenter__(self) -> Fleet:
        for name, watcher in self._watchers.items():
            watcher.start()
            sub = watcher.subscribe(maxsize=1000, name=name)
            self._subs.append(sub)
            self._pumps.append(asyncio.create_task(self._pump(name, sub)))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for sub in self._subs:
            await sub.aclose()
        for watcher in self._watchers.values():
            await watcher.aclose()

    async def _pump(self, name: str, sub: Subscription) -> None:
        try:
            async for event in sub:
                await self._queue.put(FleetEvent(name, event))
        except Exception as exc:  # a fatal error of one host: the others go on
            self.failed[name] = exc
            print(f"[{name}] watcher stopped: {exc}", file=sys.stderr)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.gather(*(w.wait_connected(timeout) for w in self._watchers.values()))

    def status(self) -> dict[str, str]:
        """Per host: ``connected``, ``reconnecting (N attempts)`` or ``failed``."""
        result = {}
        for name, watcher in self._watchers.items():
            state = watcher.state
            if name in self.failed or state.status == "failed":
                result[name] = "failed"
            elif state.connected:
                result[name] = "connected"
            else:
                result[name] = f"reconnecting ({state.reconnects} attempts)"
        return result

    def __aiter__(self) -> AsyncIterator[FleetEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[FleetEvent]:
        while True:
            yield await self._queue.get()


class SocketProxy:
    """A unix-socket proxy to an engine socket, which can be cut: a host going away."""

    def __init__(self, target: str, path: str) -> None:
        self.target = target
        self.path = path
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, self.path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.target)
        except OSError:
            writer.close()
            return
        self._conns.update((writer, up_writer))

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._conns.difference_update((writer, up_writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._conns):
            writer.transport.abort()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _tls(cert_dir: str) -> TLSConfig:
    d = Path(cert_dir)
    return TLSConfig(ca_cert=d / "ca.pem", client_cert=d / "cert.pem", client_key=d / "key.pem")


async def _touch(client: DockerClient, image: str, labels: dict[str, str]) -> str:
    """Create and remove one container: two events (create, destroy) on that engine."""
    created = await client.containers.create(image=image, cmd=["true"], labels=labels)
    await client.containers.remove(created.id, force=True)
    return created.id


async def _expect(
    fleet: Fleet, wanted: dict[str, str], timeout: float = 30.0
) -> dict[str, list[str]]:
    """Read the merged stream until each host delivered create and destroy of its container."""
    seen: dict[str, list[str]] = {host: [] for host in wanted}

    async def read() -> None:
        async for item in fleet:
            event = item.event
            print(f"[{item.host:<6}] {event.type} {event.action} {event.actor_id[:12]}")
            if wanted.get(item.host) == event.actor_id:
                seen[item.host].append(event.action)
            if all({"create", "destroy"} <= set(actions) for actions in seen.values()):
                return

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(read(), timeout)
    return seen


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Watch events from several engines.")
    parser.add_argument("hosts", nargs="*", help="NAME=HOST (unix://, tcp://, ssh://)")
    parser.add_argument("--tls", action="append", default=[], help="NAME=CERT_DIR")
    parser.add_argument("--ssh-options", default="", help="ssh flags for ssh:// hosts")
    parser.add_argument("--flaky", action="store_true", help="add a host that goes away")
    parser.add_argument("--image", default="aiodock-test/busybox:latest")
    args = parser.parse_args(argv)

    tls = dict(item.split("=", 1) for item in args.tls)
    ssh_options = shlex.split(args.ssh_options)
    clients: dict[str, DockerClient] = {}
    if not args.hosts:
        clients["local"] = DockerClient.from_env()
    for spec in args.hosts:
        name, _, host = spec.partition("=")
        clients[name] = DockerClient(
            host,
            tls=_tls(tls[name]) if name in tls else None,
            ssh_options=ssh_options if host.startswith("ssh://") else (),
        )
    proxy: SocketProxy | None = None
    workdir = tempfile.mkdtemp(prefix="aiodock-fleet-")
    if args.flaky:
        target = next(c for c in clients.values() if c.host.startswith("unix://"))
        proxy = SocketProxy(target.host[len("unix://") :], os.path.join(workdir, "flaky.sock"))
        await proxy.start()
        clients["flaky"] = DockerClient(f"unix://{proxy.path}")

    run = uuid.uuid4().hex[:12]
    labels = {"aiodock-example": f"fleet-{run}", "aiodock-test": "1"}
    ok = True
    try:
        fleet = Fleet(
            clients,
            filters={"type": "container", "label": {"aiodock-example": labels["aiodock-example"]}},
        )
        async with fleet:
            await fleet.wait_connected(timeout=30)
            print(f"watching {', '.join(clients)}: {fleet.status()}")

            # Round 1: every host, each event tagged with the host it came from.
            wanted = {
                name: await _touch(client, args.image, labels) for name, client in clients.items()
            }
            seen = await _expect(fleet, wanted)
            round1 = all({"create", "destroy"} <= set(actions) for actions in seen.values())
            print(f"round 1 (all hosts): {'ok' if round1 else f'missing events: {seen}'}")
            ok &= round1

            if proxy is not None:
                # One host goes away; the others keep delivering.
                await proxy.stop()
                await asyncio.sleep(0.5)
                others = {n: c for n, c in clients.items() if n != "flaky"}
                wanted = {
                    name: await _touch(client, args.image, labels)
                    for name, client in others.items()
                }
                seen = await _expect(fleet, wanted)
                round2 = all({"create", "destroy"} <= set(actions) for actions in seen.values())
                status = fleet.status()
                print(f"round 2 (flaky host gone): {'ok' if round2 else f'missing: {seen}'}")
                print(f"status: {status}")
                ok &= round2 and status["flaky"] != "connected"
                ok &= all(status[name] == "connected" for name in others)
    finally:
        for client in clients.values():
            await client.aclose()
        with contextlib.suppress(OSError):
            os.rmdir(workdir)
    print("fleet_events OK" if ok else "fleet_events FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
