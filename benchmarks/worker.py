"""One repetition of one scenario for one client, in its own process.

``python -m benchmarks.worker SCENARIO CLIENT PARAMS_JSON [--profile FILE]``
prints ``RESULT {json}`` as its last line (``READY`` first for ``events``).
Only the client under test is imported, so its memory and start-up are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import json
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

CLIENT_MODULES = {
    "limit": "benchmarks.client_limit",
    "aiohttp": "benchmarks.client_aiohttp",
    "aiohttp-json": "benchmarks.client_aiohttp_json",
    "aiodock": "benchmarks.client_aiodock",
    "aiodocker": "benchmarks.client_aiodocker",
    "docker-py": "benchmarks.client_dockerpy",
}


WARMUP_LABEL = "aiodock-bench.warmup=none"


class Profiler:
    """Around the timed part: the CPU time this process used (all its threads), and
    cProfile stats with ``--profile``."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.profile = cProfile.Profile() if path else None
        self.cpu = 0.0

    def __enter__(self) -> Profiler:
        self._cpu_start = time.process_time()
        if self.profile is not None:
            self.profile.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self._cpu_start
        if self.profile is not None:
            self.profile.disable()
            assert self.path is not None
            self.profile.dump_stats(self.path)


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``; ``ru_maxrss`` would include the
    parent's peak, which Linux carries over ``fork``/``exec``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def drive(op: Callable[[], Awaitable[Any]], total: int, concurrency: int) -> float:
    """Run ``op`` ``total`` times from ``concurrency`` tasks; return the elapsed seconds."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await op()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


def check_output(got: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """Compare byte counts and digests; return what is wrong, or ``None``."""
    problems = []
    for stream in ("stdout", "stderr"):
        n, sha = got[f"{stream}_bytes"], got[f"{stream}_sha256"]
        want_n, want_sha = expected[f"{stream}_bytes"], expected[f"{stream}_sha256"]
        if n != want_n or sha != want_sha:
            problems.append(
                f"{stream}: {n} bytes (expected {want_n})"
                + ("" if n != want_n else ", same length but different bytes")
            )
    return "wrong bytes: " + "; ".join(problems) if problems else None


async def run(
    scenario: str, client_name: str, p: dict[str, Any], profile: Profiler
) -> dict[str, Any]:
    module = importlib.import_module(CLIENT_MODULES[client_name])
    concurrency = int(p.get("concurrency", 1))
    out: dict[str, Any] = {"metrics": {}, "errors": [], "cpu": {}}
    metrics = out["metrics"]
    cpu = out["cpu"]  # client CPU per unit of work, robust against a busy machine
    async with module.Client(concurrency=concurrency) as client:
        if scenario in (
            "logs",
            "logs-collect",
            "logs-raw",
            "events",
            "exec-rt",
            "exec-out",
            "exec-out-raw",
        ):
            # First use: connections, API version, lazily imported modules.
            await client.ping()
            await client.list(WARMUP_LABEL)
        if scenario.startswith(("ping", "inspect")):
            if scenario.startswith("ping"):
                op: Callable[[], Awaitable[Any]] = client.ping
            else:
                cid = p["container"]

                def op() -> Awaitable[Any]:
                    return client.inspect(cid)

            total = int(p["requests"])
            await drive(op, max(2 * concurrency, total // 10), concurrency)
            with profile:
                elapsed = await drive(op, total, concurrency)
            metrics[scenario] = total / elapsed
            cpu[scenario] = 1e6 * profile.cpu / total  # µs per request

        elif scenario == "list":
            label, calls, want = p["label"], int(p["calls"]), int(p["containers"])
            got = await client.list(label)
            if len(got) != want:
                out["errors"].append(f"listed {len(got)} containers, expected {want}")
            with profile:
                start = time.perf_counter()
                for _ in range(calls):
                    await client.list(label)
                elapsed = time.perf_counter() - start
            metrics["list"] = 1000 * elapsed / calls
            cpu["list"] = 1000 * profile.cpu / calls  # ms per call

        elif scenario == "logs":
            expected = p["expected"]
            with profile:
                start = time.perf_counter()
                got = await client.logs(p["container"])
                elapsed = time.perf_counter() - start
            total = expected["stdout_bytes"] + expected["stderr_bytes"]
            metrics["logs"] = total / elapsed / 1e6
            cpu["logs"] = 1000 * profile.cpu / (total / 1e6)  # ms per MB
            out["requests"] = got.get("requests")
            problem = check_output(got, expected)
            if problem:
                out["errors"].append(problem)

        elif scenario == "logs-collect":
            # The whole output held in memory (demux()): rate, CPU and peak RSS.
            from ._common import collected

            expected = p["expected"]
            with profile:
                start = time.perf_counter()
                out_data, err_data = await client.logs_collect(p["container"])
                elapsed = time.perf_counter() - start
            total = expected["stdout_bytes"] + expected["stderr_bytes"]
            metrics["logs-collect"] = total / elapsed / 1e6
            cpu["logs-collect"] = 1000 * profile.cpu / (total / 1e6)  # ms per MB
            problem = check_output(collected(out_data, err_data), expected)
            del out_data, err_data
            if problem:
                out["errors"].append(problem)

        elif scenario in ("logs-raw", "exec-out-raw"):
            # Reference only: the raw multiplexed body read and hashed whole, no
            # demultiplexing; the rate counts payload bytes like the other rows.
            expected = p["expected"]
            payload = expected["stdout_bytes"] + expected["stderr_bytes"]
            calls = int(p.get("calls", 1))
            if scenario == "exec-out-raw":
                await client.exec_raw(p["container"], ["true"])
            results = []
            with profile:
                start = time.perf_counter()
                for _ in range(calls):
                    if scenario == "logs-raw":
                        results.append(await client.logs_raw(p["container"]))
                    else:
                        results.append(await client.exec_raw(p["container"], ["cat", p["path"]]))
                elapsed = time.perf_counter() - start
            metrics[scenario] = calls * payload / elapsed / 1e6
            cpu[scenario] = 1000 * profile.cpu / (calls * payload / 1e6)
            short = [r["raw_bytes"] for r in results if r["raw_bytes"] < payload]
            if short:
                out["errors"].append(f"raw body of {short[0]} bytes for {payload} payload bytes")

        elif scenario == "events":
            count = int(p["count"])

            def ready() -> None:
                print("READY", flush=True)

            with profile:
                latencies = await client.events(
                    p["prefix"], count, ready, time.monotonic() + float(p.get("timeout", 60))
                )
            lost = count - len(latencies)
            cpu["events"] = 1e6 * profile.cpu / max(1, len(latencies))  # µs per event
            if lost:
                out["errors"].append(f"{lost} of {count} events not delivered")
            if latencies:
                ms = sorted(x / 1e6 for x in latencies)
                metrics["events-p50"] = statistics.median(ms)
                metrics["events-p99"] = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]

        elif scenario == "exec-rt":
            cid, calls = p["container"], int(p["calls"])
            for _ in range(3):
                await client.exec(cid, ["true"])
            codes = []
            with profile:
                start = time.perf_counter()
                for _ in range(calls):
                    codes.append((await client.exec(cid, ["true"]))["exit_code"])
                elapsed = time.perf_counter() - start
            bad = [c for c in codes if c != 0]
            if bad:
                out["errors"].append(f"{len(bad)} of {calls} exit codes wrong: {bad[:3]}")
            metrics["exec-rt"] = 1000 * elapsed / calls
            cpu["exec-rt"] = 1000 * profile.cpu / calls  # ms per round trip

        elif scenario == "exec-out":
            cid, calls, expected = p["container"], int(p["calls"]), p["expected"]
            cmd = ["cat", p["path"]]
            await client.exec(cid, ["true"])
            results = []
            with profile:
                start = time.perf_counter()
                for _ in range(calls):
                    results.append(await client.exec(cid, cmd))
                elapsed = time.perf_counter() - start
            metrics["exec-out"] = calls * expected["stdout_bytes"] / elapsed / 1e6
            cpu["exec-out"] = 1000 * profile.cpu / (calls * expected["stdout_bytes"] / 1e6)
            for got in results:
                problem = check_output(got, expected)
                if problem:
                    out["errors"].append(problem)
                    break
            codes = [g["exit_code"] for g in results if g["exit_code"] != 0]
            if codes:
                out["errors"].append(f"exit code {codes[0]!r} instead of 0")
        elif scenario.startswith(("stats-", "logs-")):
            await run_streams(client, scenario, p, profile, out)
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run_streams(
    client: Any, scenario: str, p: dict[str, Any], profile: Profiler, out: dict[str, Any]
) -> None:
    """``N`` concurrent follow streams on one client for ``seconds``: client CPU per
    sample (stats) or per MB (logs), and the memory each open stream holds."""
    from ._common import Counter

    kind = scenario.split("-")[0]
    cids, n, seconds = p["containers"], int(p["streams"]), float(p["seconds"])
    follow = client.stream_stats if kind == "stats" else client.stream_logs
    await client.ping()
    # First use (lazily imported modules, the first decoder) is not per-stream memory.
    warm = Counter()
    task = asyncio.ensure_future(follow(cids[0], warm))
    while not (warm.opened and warm.items) and not task.done():  # noqa: ASYNC110 - polled counter
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    counter = Counter()
    rss_before = rss_mb()
    tasks = [asyncio.ensure_future(follow(cids[i % len(cids)], counter)) for i in range(n)]
    deadline = time.monotonic() + 60
    while counter.opened < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        failed = [t for t in tasks if t.done()]
        if failed:
            break
    if counter.opened < n:
        out["errors"].append(f"{counter.opened} of {n} streams opened")
    rss_open = rss_mb()
    items0, bytes0 = counter.items, counter.bytes
    with profile:
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - start
        items, nbytes = counter.items - items0, counter.bytes - bytes0
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    problems = {
        repr(r)[:200]
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    }
    out["errors"].extend(sorted(problems))
    out["streams"] = {"items": items, "bytes": nbytes, "seconds": elapsed, "n": n}
    out["metrics"][f"{scenario}-rate"] = items / elapsed  # samples or chunks per second
    out["metrics"][f"{scenario}-mem"] = 1024 * (rss_open - rss_before) / n  # KiB per stream
    if kind == "stats":
        out["cpu"][scenario] = 1e6 * profile.cpu / max(items, 1)  # µs per sample
    else:
        out["cpu"][scenario] = 1000 * profile.cpu / max(nbytes / 1e6, 1e-9)  # ms per MB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("scenario")
    parser.add_argument("client", choices=sorted(CLIENT_MODULES))
    parser.add_argument("params", help="JSON object")
    parser.add_argument("--profile", help="write cProfile stats of the timed part here")
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(
            run(args.scenario, args.client, json.loads(args.params), Profiler(args.profile))
        )
    except Exception as exc:
        traceback.print_exc()
        result = {"metrics": {}, "errors": [f"crashed: {type(exc).__name__}: {exc}"[:500]]}
    result["rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
