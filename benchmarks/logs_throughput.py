"""Logs throughput: aiodock's demultiplexed logs against bare aiohttp on the same endpoint.

Usage: ``python benchmarks/logs_throughput.py [--mb 250] [--runs 3] [--image IMAGE]``

A container (local log driver, no rotation) writes about ``--mb`` megabytes of
output, half to stdout and half to stderr at the same time, then exits. Each
measurement then runs in a fresh Python process that reads the whole
``/containers/{id}/logs`` body once and discards it:

* ``aiodock``: ``docker.containers.logs(id)`` iterated frame by frame
  (demultiplexed, bytes counted per stream, nothing kept);
* ``aiohttp``: a bare ``aiohttp`` GET of the same URL reading raw chunks (no
  demultiplexing at all: the floor any client can reach).

Runs alternate between the two; the median of ``--runs`` is reported for the
rate (payload MB/s, MB = 10**6 bytes), the client's CPU time while reading and
its peak RSS (``VmHWM`` of the child process, which includes the interpreter
and imports; the peak and the resident size just before the request, and the
resident size after it, are shown next to it: streaming adds nothing when the
peak does not move). Two workloads are
measured: short text lines (many small frames) and random binary (large frames).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

SOCKET = "/var/run/docker.sock"
LINE = "x" * 119  # with the newline: 120-byte log lines
WORKLOADS = {
    "lines": "(yes {line} | head -c {half}) & (yes {line} | head -c {half} >&2); wait",
    "binary": "(head -c {half} /dev/urandom) & (head -c {half} /dev/urandom >&2); wait",
}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


async def _child_aiodock(container_id: str) -> dict[str, Any]:
    from aiodock import DockerClient, StreamType

    out = err = frames = 0
    async with DockerClient(f"unix://{SOCKET}") as docker:
        await docker.containers.inspect(container_id)  # warm up: imports, connection, API
        rss_start = _status_kib("VmRSS")
        hwm_start = _status_kib("VmHWM")
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with docker.containers.logs(container_id) as stream:
            async for stream_type, data in stream:
                frames += 1
                if stream_type == StreamType.STDOUT:
                    out += len(data)
                else:
                    err += len(data)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "payload": out + err,
        "stdout": out,
        "stderr": err,
        "items": frames,
        "rss_start_kib": rss_start,
        "hwm_start_kib": hwm_start,
        "rss_end_kib": _status_kib("VmRSS"),
    }


async def _child_aiohttp(container_id: str) -> dict[str, Any]:
    import aiohttp

    total = chunks = 0
    connector = aiohttp.UnixConnector(SOCKET)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:
        async with session.get("http://docker/_ping") as ping:
            version = ping.headers.get("API-Version", "1.41")
        url = f"http://docker/v{version}/containers/{container_id}/logs?stdout=1&stderr=1"
        rss_start = _status_kib("VmRSS")
        hwm_start = _status_kib("VmHWM")
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with session.get(url) as response:
            async for chunk in response.content.iter_any():
                chunks += 1
                total += len(chunk)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "payload": total,
        "items": chunks,
        "rss_start_kib": rss_start,
        "hwm_start_kib": hwm_start,
        "rss_end_kib": _status_kib("VmRSS"),
    }


def child(mode: str, container_id: str) -> None:
    runner = _child_aiodock if mode == "aiodock" else _child_aiohttp
    result = asyncio.run(runner(container_id))
    result["peak_rss_kib"] = _status_kib("VmHWM")
    # ru_maxrss agrees with VmHWM; kept as a cross-check.
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def measure(mode: str, container_id: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, container_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def prepare(image: str, workload: str, total: int) -> str:
    from aiodock import DockerClient

    half = total // 2
    script = WORKLOADS[workload].format(line=LINE, half=half)
    async with DockerClient(f"unix://{SOCKET}") as docker:
        created = await docker.containers.create(
            image=image,
            cmd=["sh", "-c", script],
            labels={"aiodock-test": "1", "aiodock-bench": "logs"},
            log_driver="local",
            log_options={"max-size": "2g", "max-file": "1", "compress": "false"},
        )
        await docker.containers.start(created.id)
        status = await docker.containers.wait(created.id)
        if status.status_code != 0:
            raise SystemExit(f"the log writer failed with {status.status_code}")
        return created.id


async def remove(container_id: str) -> None:
    from aiodock import DockerClient

    async with DockerClient(f"unix://{SOCKET}") as docker:
        await docker.containers.remove(container_id, force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--image", default="aiodock-test/busybox:latest")
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONTAINER"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    total = args.mb * 10**6
    workloads = list(WORKLOADS) if args.workload == "all" else [args.workload]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for workload in workloads:
        t0 = time.monotonic()
        container_id = asyncio.run(prepare(args.image, workload, total))
        print(f"\n[{workload}] {args.mb} MB written in {time.monotonic() - t0:.1f}s")
        try:
            results: dict[str, list[dict[str, Any]]] = {"aiodock": [], "aiohttp": []}
            for _ in range(args.runs):
                for mode in results:
                    results[mode].append(measure(mode, container_id))
        finally:
            asyncio.run(remove(container_id))
        for mode, runs in results.items():
            rates = [r["payload"] / r["elapsed"] / 1e6 for r in runs]
            rate = statistics.median(rates)
            cpu = statistics.median(r["cpu"] for r in runs)
            peak = statistics.median(r["peak_rss_kib"] for r in runs) / 1024
            start = statistics.median(r["rss_start_kib"] for r in runs) / 1024
            hwm_start = statistics.median(r["hwm_start_kib"] for r in runs) / 1024
            end = statistics.median(r["rss_end_kib"] for r in runs) / 1024
            items = runs[0]["items"]
            what = "frames" if mode == "aiodock" else "raw chunks"
            extra = ""
            if mode == "aiodock":
                ok = all(r["stdout"] == r["stderr"] == total // 2 for r in runs)
                extra = f", bytes exact: {ok}"
            print(
                f"  {mode:8} {rate:7.1f} MB/s (runs: {', '.join(f'{r:.0f}' for r in rates)}), "
                f"cpu {cpu:.2f}s, peak RSS {peak:.1f} MiB (peak before the request "
                f"{hwm_start:.1f}, RSS before/after {start:.1f}/{end:.1f} MiB), "
                f"{items} {what}{extra}"
            )


if __name__ == "__main__":
    main()
