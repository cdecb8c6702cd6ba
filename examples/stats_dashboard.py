"""A tiny ``docker stats``: CPU and memory of a few containers, live.

Run it against a running local engine: ``python examples/stats_dashboard.py``
(optionally pass a local image; the default is the test image
``aiodock-test/busybox:latest``). It starts one busy and one idle container,
follows their stats streams concurrently for a few samples, prints a table
row per sample (CPU %, memory, network), and exits 0 when the busy container
used clearly more CPU than the idle one.
"""

from __future__ import annotations

import asyncio
import sys

from aiodock import DockerClient
from aiodock.models.containers import Stats

SAMPLES = 3


async def watch(docker: DockerClient, name: str, container_id: str) -> list[Stats]:
    samples: list[Stats] = []
    async with docker.containers.stats(container_id) as stream:
        async for stats in stream:
            if stats.precpu_stats is None or not stats.precpu_stats.system_cpu_usage:
                continue  # the first sample has nothing to compare with
            samples.append(stats)
            print(
                f"{name:<6} cpu {stats.cpu_percent:6.1f}%  "
                f"mem {stats.memory_usage / 2**20:7.2f} MiB / {stats.memory_limit / 2**30:.1f} GiB "
                f"({stats.memory_percent:.2f}%)  net rx {stats.network_rx_bytes} B"
            )
            if len(samples) == SAMPLES:
                break
    return samples


async def main(image: str) -> int:
    async with DockerClient.from_env() as docker:
        ids: dict[str, str] = {}
        try:
            for name, script in (("busy", "while :; do :; done"), ("idle", "sleep 300")):
                container = await docker.containers.create(
                    image=image, cmd=["sh", "-c", script], labels={"aiodock-test": "1"}
                )
                ids[name] = container.id
                await docker.containers.start(container.id)
            busy, idle = await asyncio.gather(
                watch(docker, "busy", ids["busy"]), watch(docker, "idle", ids["idle"])
            )
        finally:
            for container_id in ids.values():
                await docker.containers.remove(container_id, force=True)
    busy_cpu = max(s.cpu_percent for s in busy)
    idle_cpu = max(s.cpu_percent for s in idle)
    ok = busy_cpu > 5.0 and busy_cpu > 5 * idle_cpu and all(s.memory_usage > 0 for s in busy)
    print("stats_dashboard OK" if ok else "stats_dashboard FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "aiodock-test/busybox:latest")))
