"""``python -m benchmarks``: run the scenarios, write ``benchmarks/results/latest.*``.

Every repetition of every scenario runs each client in a fresh process; the
clients take turns (their order rotates per repetition) so that slow drifts of
the machine hit all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from . import fixtures, report
from ._engine import IMAGE, Engine

CLIENTS = ["limit", "aiohttp", "aiohttp-json", "aiodock", "aiodocker", "docker-py"]
# Always measured: the reference (bare aiohttp + orjson) and the limit.
ALWAYS = ["limit", "aiohttp"]
SCENARIOS = [
    "ping-c1",
    "ping-c32",
    "inspect-c1",
    "inspect-c32",
    "list",
    "logs",
    "logs-collect",
    "events",
    "exec-rt",
    "exec-out",
    "import",
    "cold-start",
    "cold-event",
    "stats-streams",
    "logs-streams",
    "stats-growth",
]
STREAM_SCENARIOS = {"stats-streams", "logs-streams", "stats-growth"}
GROUPS = {
    "ping": ["ping-c1", "ping-c32"],
    "inspect": ["inspect-c1", "inspect-c32"],
    "exec": ["exec-rt", "exec-out"],
    "streams": ["stats-streams", "logs-streams", "stats-growth"],
    "cold": ["cold-start", "cold-event"],
}
# The reference also reads these raw (whole multiplexed body, no demultiplexing),
# interleaved with the clients in every repetition.
RAW_VARIANT = {"logs": "logs-raw", "exec-out": "exec-out-raw"}
# Scenarios a client takes part in, where not all: stdlib-json decoding only
# matters where there is JSON to decode; holding whole logs is measured for
# the clients that can demultiplex them into memory.
ONLY = {
    "limit": set(SCENARIOS) - STREAM_SCENARIOS - {"cold-event"},
    "aiohttp-json": {"inspect-c1", "inspect-c32", "list", "events", "cold-start"},
    "aiodocker": set(SCENARIOS) - {"logs-collect", "cold-event"} - STREAM_SCENARIOS,
    "docker-py": set(SCENARIOS) - {"logs-collect", "cold-event"} - STREAM_SCENARIOS,
}


def variants(scenario: str, sizes: fixtures.Sizes) -> list[str]:
    """The worker scenarios one scenario of the table runs (stream counts from the sizes)."""
    if scenario == "stats-streams":
        return [f"stats-{sizes.stats_streams}"]
    if scenario == "logs-streams":
        return [f"logs-{sizes.logs_streams}"]
    if scenario == "stats-growth":
        return [f"stats-{n}" for n in sizes.growth]
    return [scenario]


# First event delivered in a fresh interpreter, timed from before the import: the
# harness made a volume event just before, which the daemon replays (``since``).
COLD_EVENT = {
    "aiohttp": """
import asyncio, json, aiohttp, orjson
async def main():
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector("/var/run/docker.sock")) as s:
        params = {"since": "{since}", "filters": json.dumps({"type": ["volume"]})}
        async with s.get("http://docker/v1.41/events", params=params) as r:
            r.raise_for_status()
            orjson.loads(await r.content.readline())
asyncio.run(main())
""",
    "aiodock": """
import asyncio, aiodock
async def main():
    async with aiodock.DockerClient() as docker:
        async with docker.system.events(since={since}, filters={"type": ["volume"]}) as s:
            async for event in s:
                break
asyncio.run(main())
""",
}
IMPORT_MODULES = {
    "limit": "benchmarks.client_limit",
    "aiohttp": "aiohttp",
    "aiohttp-json": "aiohttp",
    "aiodock": "aiodock",
    "aiodocker": "aiodocker",
    "docker-py": "docker",
}
# First typed inspect in a fresh interpreter, timed from before the import: what a
# short script pays in total (lazy imports only move cost, this shows where to).
COLD_START = {
    "limit": """
import asyncio
from benchmarks.client_limit import Client
async def main():
    async with Client() as client:
        await client.inspect("{cid}")
asyncio.run(main())
""",
    "aiohttp": """
import asyncio, aiohttp, orjson
async def main():
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector("/var/run/docker.sock")) as s:
        async with s.get("http://docker/v1.41/containers/{cid}/json") as r:
            r.raise_for_status()
            orjson.loads(await r.read())
asyncio.run(main())
""",
    "aiohttp-json": """
import asyncio, aiohttp
async def main():
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector("/var/run/docker.sock")) as s:
        async with s.get("http://docker/v1.41/containers/{cid}/json") as r:
            r.raise_for_status()
            await r.json()
asyncio.run(main())
""",
    "aiodock": """
import asyncio, aiodock
async def main():
    async with aiodock.DockerClient() as docker:
        await docker.containers.inspect("{cid}")
asyncio.run(main())
""",
    "aiodocker": """
import asyncio, aiodocker
async def main():
    async with aiodocker.Docker() as docker:
        await docker.containers.get("{cid}")
asyncio.run(main())
""",
    "docker-py": """
import docker
client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
client.containers.get("{cid}")
client.close()
""",
}
WARM_MODULES = [
    "aiodock.resources.containers, aiodock.resources.exec, aiodock.resources.system",
    "aiodock._convert, aiodock._config, aiodock._http.transport, aiodock._streams.streaming",
    "benchmarks.worker, benchmarks.client_aiohttp, benchmarks.client_aiodock",
    "benchmarks.client_limit, benchmarks.client_aiohttp_json",
    "benchmarks.client_aiodocker, benchmarks.client_dockerpy",
]
RESULTS = Path(__file__).parent / "results"
WORKER_TIMEOUT = 900


def _expand(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        for item in GROUPS.get(name, [name]):
            if item not in SCENARIOS:
                raise SystemExit(
                    f"unknown scenario {item!r}; choose from {SCENARIOS + list(GROUPS)}"
                )
            if item not in out:
                out.append(item)
    return [s for s in SCENARIOS if s in out]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="aiodock against aiodocker, docker-py and bare aiohttp on the local engine.",
    )
    parser.add_argument(
        "-s",
        "--scenarios",
        nargs="+",
        default=["all"],
        metavar="NAME",
        help=f"scenarios or groups to run (default all): {', '.join(SCENARIOS + list(GROUPS))}",
    )
    parser.add_argument(
        "-c",
        "--clients",
        nargs="+",
        default=CLIENTS,
        choices=CLIENTS,
        help="clients to measure (the limit and aiohttp, the reference, are always included)",
    )
    parser.add_argument("-r", "--repetitions", type=int, help="repetitions (default 5, --quick 2)")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and 2 repetitions: checks the harness"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=RESULTS,
        help="directory for latest.md/.png/.json (default benchmarks/results)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also write cProfile stats of aiodock's timed part per scenario and repetition",
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        help="how long the streams scenarios keep their streams open (default 30, --quick 3)",
    )
    parser.add_argument(
        "--stream-repetitions",
        type=int,
        help="repetitions of the streams scenarios (default: --repetitions)",
    )
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    args = parser.parse_args(argv)
    args.scenarios = SCENARIOS if args.scenarios == ["all"] else _expand(args.scenarios)
    args.clients = [c for c in CLIENTS if c in ALWAYS or c in args.clients]
    if args.repetitions is None:
        args.repetitions = 2 if args.quick else 5
    if args.repetitions < 1:
        raise SystemExit("--repetitions must be at least 1")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _child_env() -> dict[str, str]:
    # Bytecode must be written: a source file newer than its .pyc would
    # otherwise be compiled again in every fresh process, and counted.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


async def run_worker(
    scenario: str,
    client: str,
    params: dict[str, Any],
    engine: Engine,
    profile: Path | None,
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.worker", scenario, client, json.dumps(params)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    env = _child_env()
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    result: dict[str, Any] | None = None
    generator: asyncio.Future[None] | None = None

    async def read() -> None:
        nonlocal result, generator
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line == "READY" and scenario == "events":
                generator = asyncio.ensure_future(
                    fixtures.make_events(engine, params["prefix"], params["count"])
                )
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])

    try:
        await asyncio.wait_for(read(), WORKER_TIMEOUT)
        await proc.wait()
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        result = {"metrics": {}, "errors": [f"timed out after {WORKER_TIMEOUT} s"]}
    finally:
        if generator is not None:
            try:
                await generator
            except Exception as exc:
                log(f"  event generator failed: {exc}")
    stderr = (await stderr_task).decode(errors="replace")
    if result is None:
        result = {"metrics": {}, "errors": [f"worker exited {proc.returncode}: {stderr[-500:]}"]}
    elif result["errors"] and stderr.strip():
        log(stderr[-2000:])
    return result


async def measure_import(module: str) -> dict[str, Any]:
    code = (
        "import time; t = time.perf_counter(); c = time.process_time(); "
        f"import {module}; print(time.perf_counter() - t, time.process_time() - c)"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_env(),
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        return {"metrics": {}, "errors": [err.decode(errors="replace")[-300:]]}
    wall, cpu = (1000 * float(x) for x in out.split())
    return {"metrics": {"import": wall}, "cpu": {"import": cpu}, "errors": []}


async def measure_cold_start(client: str, cid: str) -> dict[str, Any]:
    body = COLD_START[client].replace("{cid}", cid)
    code = (
        "import time\nt = time.perf_counter()\nc = time.process_time()\n"
        + body
        + "\nprint(time.perf_counter() - t, time.process_time() - c)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_env(),
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        return {"metrics": {}, "errors": [err.decode(errors="replace")[-300:]]}
    wall, cpu = (1000 * float(x) for x in out.split())
    return {"metrics": {"cold-start": wall}, "cpu": {"cold-start": cpu}, "errors": []}


async def measure_cold_event(client: str, since: int) -> dict[str, Any]:
    if client not in COLD_EVENT:
        return {"metrics": {}, "errors": [f"no cold-event code for {client}"]}
    body = COLD_EVENT[client].replace("{since}", str(since))
    code = (
        "import time\nt = time.perf_counter()\nc = time.process_time()\n"
        + body
        + "\nprint(time.perf_counter() - t, time.process_time() - c)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return {"metrics": {}, "errors": ["no event within 60 s"]}
    if proc.returncode != 0:
        return {"metrics": {}, "errors": [err.decode(errors="replace")[-300:]]}
    wall, cpu = (1000 * float(x) for x in out.split())
    return {"metrics": {"cold-event": wall}, "cpu": {"cold-event": cpu}, "errors": []}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = fixtures.QUICK if args.quick else fixtures.FULL
    if args.stream_seconds is not None:
        sizes = dataclasses.replace(sizes, stream_seconds=args.stream_seconds)
    run_id = uuid.uuid4().hex[:10]
    started = time.time()
    runs: list[dict[str, Any]] = []
    async with Engine() as engine:
        ping = await engine.ping()
        version = await engine.version()
        if not await engine.image_exists():
            raise SystemExit(f"test image {IMAGE} is missing (bash scripts/engine.sh image)")
        # Warm the OS page cache and write fresh bytecode for every client's
        # modules, including the ones aiodock imports on first use.
        for module in [*IMPORT_MODULES.values(), *WARM_MODULES]:
            await measure_import(module)
        try:
            log(f"run {run_id}: {', '.join(args.scenarios)}")
            made = fixtures.Fixtures(engine, run_id, sizes)
            for scenario in args.scenarios:
                runs_of = [
                    (variant, client)
                    for variant in variants(scenario, sizes)
                    for client in args.clients
                    if scenario in ONLY.get(client, SCENARIOS)
                ]
                if scenario == "cold-event":
                    # One volume event to replay, made once per run.
                    name = f"aiodock-bench-{run_id}-cold"
                    cold_since = int(time.time()) - 1
                    await engine.create_volume(name)
                    await engine.remove_volume(name)
                reps = args.repetitions
                if scenario in STREAM_SCENARIOS and args.stream_repetitions is not None:
                    reps = args.stream_repetitions
                if scenario in RAW_VARIANT:
                    runs_of.append((RAW_VARIANT[scenario], "aiohttp"))
                for rep in range(reps):
                    shift = rep % len(runs_of)
                    for variant, client in runs_of[shift:] + runs_of[:shift]:
                        if scenario == "import":
                            # Best of three fresh interpreters per repetition: an
                            # import is short, one scheduling hiccup would dominate.
                            tries = [await measure_import(IMPORT_MODULES[client]) for _ in range(3)]
                            result = min(tries, key=lambda r: r["metrics"].get("import", 1e9))
                        elif scenario == "cold-start":
                            target = (await made.params("cold-start"))["container"]
                            result = await measure_cold_start(client, target)
                        elif scenario == "cold-event":
                            result = await measure_cold_event(client, cold_since)
                        else:
                            profile = None
                            if args.profile is not None and client == "aiodock":
                                args.profile.mkdir(parents=True, exist_ok=True)
                                profile = args.profile / f"{variant}-{rep}.prof"
                            for attempt in range(2):
                                p = await made.params(variant)
                                if scenario == "events":
                                    p["prefix"] = f"aiodock-bench-{run_id}-{rep}-{client}-"
                                result = await run_worker(variant, client, p, engine, profile)
                                remade = made.remade
                                if not result["errors"] or attempt:
                                    break
                                # Another test session may have swept this run's
                                # containers mid-run: not the client's failure.
                                await made.params(variant)
                                if made.remade == remade:
                                    break
                                log(f"{variant} rep {rep} {client}: fixture swept, run again")
                        result.update(scenario=variant, client=client, rep=rep)
                        runs.append(result)
                        shown = ", ".join(f"{k}={v:.4g}" for k, v in result["metrics"].items())
                        errors = f"  ERRORS: {result['errors']}" if result["errors"] else ""
                        log(f"{variant:<12} rep {rep} {client:<10} {shown}{errors}")
        finally:
            removed = await engine.remove_run(run_id)
            await engine.remove_volumes(f"aiodock-bench-{run_id}-")
            log(f"removed {removed} containers")
    return {
        "started": started,
        "finished": time.time(),
        "quick": args.quick,
        "repetitions": args.repetitions,
        "sizes": sizes.__dict__,
        "scenarios": args.scenarios,
        "clients": args.clients,
        "engine": {"version": version.get("Version"), "api": ping.get("Api-Version")},
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(Path(__file__).parent.parent)
    data = asyncio.run(run(args))
    data["machine"] = report.machine_info()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
    table = report.markdown(data)
    (args.output / "latest.md").write_text(table)
    print(table)
    if not args.no_chart:
        try:
            report.chart(data, args.output / "latest.png")
        except ImportError:
            log("matplotlib is not installed: no chart (pip install matplotlib)")
    failed = any(r["errors"] and r["client"] in ("aiohttp", "aiodock") for r in data["runs"])
    return 1 if failed else 0
