"""ssh:// transports compared: asyncssh (one SSH connection) vs the ssh command (one per call).

Usage (as root, with the engine running; under the integration lock)::

    flock /tmp/aiodock-integration.lock \
        python benchmarks/ssh_transports.py [--calls 100] [--rounds 5]

Starts the test suite's sshd on 127.0.0.1 (it forwards to the local engine's socket),
then, for each transport, opens a fresh client and runs ``--rounds`` rounds of
``--calls`` concurrent ``images.inspect`` of the local test image. Reported per
transport: SSH logins the server accepted (from sshd's own log), the ssh processes or
channels opened, the first (cold) round and the best warm round in inspects/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiodock import DockerClient
from tests.integration import _infra


def _logins(server: _infra.SSHServer) -> int:
    return (server.workdir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


async def _measure(
    server: _infra.SSHServer, transport: str, calls: int, rounds: int
) -> dict[str, Any]:
    os.environ["AIODOCK_SSH_TRANSPORT"] = transport
    before = _logins(server)
    times: list[float] = []
    opened = 0
    async with DockerClient(
        server.host, ssh_options=server.ssh_options, max_connections=calls
    ) as client:
        for _ in range(rounds):
            start = time.perf_counter()
            infos = await asyncio.gather(
                *(client.images.inspect(_infra.BUSYBOX) for _ in range(calls))
            )
            times.append(time.perf_counter() - start)
            assert len({i.id for i in infos}) == 1
        connector: Any = client._shared.session.connector if client._shared.session else None
        if transport == "asyncssh":
            opened = connector.tunnel.channels_opened
        else:
            opened = len(getattr(connector, "_procs", ())) + len(
                getattr(connector, "_stopping", ())
            )
    await asyncio.sleep(0.5)  # let sshd write its log
    return {
        "transport": transport,
        "ssh_logins": _logins(server) - before,
        "opened": opened,
        "cold": calls / times[0],
        "warm": calls / min(times[1:] or times),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _infra.ensure_busybox()
    server = _infra.start_sshd()
    try:
        results = [
            await _measure(server, transport, args.calls, args.rounds)
            for transport in ("asyncssh", "command")
        ]
    finally:
        server.stop()
    print(f"{args.calls} concurrent images.inspect over ssh://127.0.0.1, {args.rounds} rounds")
    print(
        "| transport | SSH logins | channels / ssh processes | cold inspects/s | warm inspects/s |"
    )
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['transport']} | {r['ssh_logins']} | {r['opened']} | "
            f"{r['cold']:.0f} | {r['warm']:.0f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
