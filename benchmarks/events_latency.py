"""Event delivery latency: aiodock (stream and EventWatcher) vs bare aiohttp, same run.

Usage: ``python benchmarks/events_latency.py [--containers 200] [--rounds 3]``

Three consumers read the same ``/events`` stream (filtered on a label only
this run uses) at the same time, in one event loop:

* ``aiohttp``: a bare ``aiohttp`` request, ``async for line in response.content``
  and ``json.loads`` (orjson when installed) per line: the floor.
* ``aiodock stream``: ``docker.system.events(...)`` yielding typed ``Event``.
* ``aiodock watcher``: an ``EventWatcher`` subscription (dedup + fan-out queue).

Events are produced by another process (so it does not compete for this
process's GIL or loop), creating and removing labelled containers (two events
each). The consumers are started in a different order each round, since the
loop serves ready connections in order. Latency is the local receive time
minus the event's ``timeNano`` (same host, same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from aiodock import DockerClient
from aiodock.watcher import EventWatcher

try:
    import orjson

    loads: Any = orjson.loads
except ImportError:  # pragma: no cover
    loads = json.loads

SOCK = "/var/run/docker.sock"
#: receive time (ns) per event, keyed by (timeNano, actor id, action)
Received = dict[tuple[int, str, str], int]
IMAGE = "aiodock-test/busybox:latest"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def bare_aiohttp(filters: str, expected: int, out: Received, ready: asyncio.Event) -> None:
    connector = aiohttp.UnixConnector(path=SOCK)
    async with (
        aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        ) as session,
        session.get("http://localhost/v1.41/events", params={"filters": filters}) as response,
    ):
        ready.set()
        async for line in response.content:
            if not line.strip():
                continue
            now = time.time_ns()
            event = loads(line)
            out[(event["timeNano"], event["Actor"]["ID"], event["Action"])] = now
            if len(out) == expected:
                return


async def aiodock_stream(
    docker: DockerClient,
    filters: dict[str, Any],
    expected: int,
    out: Received,
    ready: asyncio.Event,
) -> None:
    async with docker.system.events(filters=filters) as stream:
        ready.set()
        async for event in stream:
            out[(event.time_nano, event.actor_id, event.action)] = time.time_ns()
            if len(out) == expected:
                return


async def aiodock_watcher(
    docker: DockerClient,
    filters: dict[str, Any],
    expected: int,
    out: Received,
    ready: asyncio.Event,
) -> None:
    watcher = EventWatcher(docker, filters=filters)
    async with watcher, watcher.subscribe(maxsize=expected * 2) as sub:
        await watcher.wait_connected(10)
        ready.set()
        async for event in sub:
            out[(event.time_nano, event.actor_id, event.action)] = time.time_ns()
            if len(out) == expected:
                return


def produce(run_label: str, containers: int) -> None:
    """Create and remove labelled containers (runs in a child process)."""

    async def churn() -> None:
        async with DockerClient(f"unix://{SOCK}") as docker:
            limit = asyncio.Semaphore(4)

            async def one() -> None:
                async with limit:
                    c = await docker.request(
                        "POST",
                        "/containers/create",
                        json={
                            "Image": IMAGE,
                            "Cmd": ["true"],
                            "Labels": {"aiodock-test": "1", "aiodock-bench": run_label},
                        },
                    )
                    await docker.request("DELETE", f"/containers/{c['Id']}")

            await asyncio.gather(*(one() for _ in range(containers)))

    asyncio.run(churn())


async def one_round(containers: int, rotation: int) -> dict[str, Received]:
    run_label = uuid.uuid4().hex
    filters = {"type": "container", "label": {"aiodock-bench": run_label}}
    raw_filters = json.dumps({"type": ["container"], "label": [f"aiodock-bench={run_label}"]})
    expected = 2 * containers
    results: dict[str, Received] = {"aiohttp": {}, "aiodock stream": {}, "aiodock watcher": {}}
    readiness = [asyncio.Event() for _ in range(3)]
    async with DockerClient(f"unix://{SOCK}") as docker:
        makers: list[Callable[[], Coroutine[Any, Any, None]]] = [
            lambda: bare_aiohttp(raw_filters, expected, results["aiohttp"], readiness[0]),
            lambda: aiodock_stream(
                docker, filters, expected, results["aiodock stream"], readiness[1]
            ),
            lambda: aiodock_watcher(
                docker, filters, expected, results["aiodock watcher"], readiness[2]
            ),
        ]
        order = makers[rotation % 3 :] + makers[: rotation % 3]
        consumers = [asyncio.create_task(make()) for make in order]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readiness)), 10)
        await asyncio.sleep(0.2)  # all three subscribed on the daemon side
        producer = multiprocessing.get_context("spawn").Process(
            target=produce, args=(run_label, containers)
        )
        producer.start()
        try:
            await asyncio.wait_for(asyncio.gather(*consumers), 300)
        finally:
            for task in consumers:
                task.cancel()
            await asyncio.to_thread(producer.join)
        if producer.exitcode != 0:
            raise RuntimeError(f"the producer process failed (exit code {producer.exitcode})")
    return results


def latencies(received: Received) -> list[float]:
    """Milliseconds from the daemon's timestamp to the consumer's hands."""
    return [(at - key[0]) / 1e6 for key, at in received.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--containers", type=int, default=200, help="per round (2 events each)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    totals: dict[str, list[float]] = {}
    paired: dict[str, list[float]] = {}
    for n in range(args.rounds):
        results = asyncio.run(one_round(args.containers, n))
        base = results["aiohttp"]
        for name, received in results.items():
            totals.setdefault(name, []).extend(latencies(received))
            if name != "aiohttp":
                # Same event, same loop: how much later than bare aiohttp it arrived.
                paired.setdefault(name, []).extend(
                    (at - base[key]) / 1e6 for key, at in received.items() if key in base
                )
        line = ", ".join(
            f"{name} p50 {statistics.median(latencies(r)):.2f} ms" for name, r in results.items()
        )
        print(f"round {n + 1}: {line}")
    print(f"\n{args.rounds} rounds x {2 * args.containers} events; latency = receive - timeNano")
    print(f"{'consumer':<17}{'events':>7}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, values in totals.items():
        print(
            f"{name:<17}{len(values):>7}{percentile(values, 50):>9.2f}"
            f"{percentile(values, 90):>9.2f}{percentile(values, 99):>9.2f}{max(values):>9.2f}"
        )
    print("\npaired with bare aiohttp (same event): receive time - aiohttp's receive time")
    print(f"{'consumer':<17}{'events':>7}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}")
    for name, values in paired.items():
        print(
            f"{name:<17}{len(values):>7}{percentile(values, 50):>9.3f}"
            f"{percentile(values, 90):>9.3f}{percentile(values, 99):>9.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
