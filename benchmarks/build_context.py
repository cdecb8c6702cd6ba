"""Build-context upload and push/pull timings: aiodock next to the docker CLI.

    python benchmarks/build_context.py [--size-mb 200] [--layer-mb 64] [--rounds 3]

Needs the local engine, ``aiodock-test/busybox:latest`` (``bash scripts/engine.sh
image``), ``docker-registry`` and ``htpasswd``; everything stays on this machine.

1. Build context: a directory of ``--size-mb`` MB (random data) built ``FROM scratch``.
   aiodock runs in a child process so its peak RSS can be read; the upload rate is
   the context size over the time until the daemon's first message (the classic
   builder answers only once it has read the whole context). The docker CLI
   (``DOCKER_BUILDKIT=0 docker build``) gets the same context; its wall time and peak
   RSS are measured the same way.
2. Push and pull: a private registry with htpasswd auth on a free 127.0.0.1 port.
   Each round builds a fresh image (busybox + a ``--layer-mb`` MB random layer, so the
   push really uploads), pushes it, removes it locally and pulls it back; once with
   aiodock, once with ``docker push``/``docker pull`` after ``docker login``, in
   alternating order. Only push and pull are timed.

Prints a table and a JSON summary. Everything made is labelled ``aiodock-test=1``
and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import aiodock  # noqa: E402

BASE = "aiodock-test/busybox:latest"
DOCKER = shutil.which("docker") or "/usr/bin/docker"
USER, PASSWORD = "bench", "bench-password"

# Runs a command and reports its wall time and peak RSS (the wrapper's only child).
_MEASURE = textwrap.dedent(
    """
    import json, os, resource, subprocess, sys, time
    start = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_BUILDKIT": "0"})
    elapsed = time.perf_counter() - start
    if proc.returncode:
        sys.exit(proc.stderr)
    print(json.dumps({"total_s": elapsed, "stdout": proc.stdout,
                      "rss_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
    """
)

_CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time
    sys.path.insert(0, sys.argv[2])
    import aiodock

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    async def main(ctx):
        async with aiodock.DockerClient() as docker:
            await docker.system.ping()
            before = peak()
            start = time.perf_counter()
            stream = docker.images.build(ctx, labels={"aiodock-test": "1"})
            first = None
            async for _ in stream:
                if first is None:
                    first = time.perf_counter() - start
            total = time.perf_counter() - start
            await docker.images.remove(stream.image_id, force=True)
            print(json.dumps({"upload_s": first, "total_s": total, "sent": stream.context_bytes,
                              "rss_before": before, "rss_peak": peak()}))

    asyncio.run(main(sys.argv[1]))
    """
)


def make_context(root: Path, size_mb: int) -> Path:
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f'FROM scratch\nLABEL aiodock-test="1" run="{uuid.uuid4().hex}"\n'
    )
    chunk = os.urandom(1 << 20)
    remaining = size_mb
    index = 0
    while remaining > 0:  # 16 MB files: a realistic mix of a few big files
        n = min(16, remaining)
        with (root / f"data{index:03d}.bin").open("wb") as fh:
            for _ in range(n):
                fh.write(chunk)
        remaining -= n
        index += 1
    return root


def bench_context(size_mb: int, rounds: int) -> dict[str, Any]:
    results: dict[str, list[dict[str, float]]] = {"aiodock": [], "docker CLI": []}
    with tempfile.TemporaryDirectory(prefix="aiodock-bench-") as tmp:
        ctx = make_context(Path(tmp) / "ctx", size_mb)
        size = sum(p.stat().st_size for p in ctx.iterdir())
        for r in range(rounds):
            order = ["aiodock", "docker CLI"] if r % 2 == 0 else ["docker CLI", "aiodock"]
            for tool in order:
                if tool == "aiodock":
                    proc = subprocess.run(
                        [sys.executable, "-c", _CHILD, str(ctx), str(REPO_ROOT)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    data = json.loads(proc.stdout.strip().splitlines()[-1])
                    results[tool].append(
                        {
                            "upload_s": data["upload_s"],
                            "total_s": data["total_s"],
                            "rss_peak_mb": data["rss_peak"] / 2**20,
                            "rss_growth_mb": (data["rss_peak"] - data["rss_before"]) / 2**20,
                        }
                    )
                else:
                    proc = subprocess.run(
                        [sys.executable, "-c", _MEASURE, DOCKER, "build", "-q", str(ctx)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    data = json.loads(proc.stdout.strip().splitlines()[-1])
                    image_id = data["stdout"].strip().splitlines()[-1]
                    subprocess.run([DOCKER, "rmi", "-f", image_id], capture_output=True)
                    results[tool].append(
                        {"total_s": data["total_s"], "rss_peak_mb": data["rss_peak"] / 2**20}
                    )
    summary: dict[str, Any] = {"context_mb": size / 1e6}
    for tool, runs in results.items():
        entry = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
        if "upload_s" in entry:
            entry["upload_mb_s"] = size / 1e6 / entry["upload_s"]
        entry["total_mb_s"] = size / 1e6 / entry["total_s"]
        summary[tool] = entry
    return summary


# --- registry -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Registry:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"127.0.0.1:{self.port}"
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, check=True
        ).stdout
        (workdir / "htpasswd").write_bytes(htpasswd)
        (workdir / "config.yml").write_text(
            textwrap.dedent(
                f"""\
                version: 0.1
                log:
                  level: error
                storage:
                  filesystem:
                    rootdirectory: {workdir / "data"}
                http:
                  addr: {self.url}
                auth:
                  htpasswd:
                    realm: aiodock-bench
                    path: {workdir / "htpasswd"}
                """
            )
        )
        self.log = (workdir / "registry.log").open("wb")
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(workdir / "config.yml")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    """Run the docker CLI to completion (blocking on purpose: it is what is timed)."""
    subprocess.run(
        [DOCKER, *args],
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        env=env,
        check=True,
    )


async def build_image(docker: aiodock.DockerClient, tag: str, layer_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="aiodock-bench-img-") as tmp:
        (Path(tmp) / "layer.bin").write_bytes(os.urandom(layer_mb << 20))
        (Path(tmp) / "Dockerfile").write_text(
            f'FROM {BASE}\nCOPY layer.bin /layer.bin\nLABEL aiodock-test="1"\n'
        )
        await docker.images.build(tmp, tags=[tag]).result()


async def bench_registry(layer_mb: int, rounds: int) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {
        "aiodock": {"push_s": [], "pull_s": []},
        "docker CLI": {"push_s": [], "pull_s": []},
    }
    with tempfile.TemporaryDirectory(prefix="aiodock-bench-reg-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        config = work / "docker-config"
        config.mkdir()
        registry = Registry(work)
        cli_env = {**os.environ, "DOCKER_CONFIG": str(config)}
        try:
            cli(["login", "-u", USER, "--password-stdin", registry.url], cli_env, PASSWORD)
            # aiodock reads the same config.json the CLI login wrote.
            os.environ["DOCKER_CONFIG"] = str(config)
            async with aiodock.DockerClient() as docker:
                for r in range(rounds):
                    order = ["aiodock", "docker CLI"] if r % 2 == 0 else ["docker CLI", "aiodock"]
                    for tool in order:
                        slug = "aiodock" if tool == "aiodock" else "cli"
                        tag = f"{registry.url}/bench/{slug}-{uuid.uuid4().hex[:8]}:1"
                        await build_image(docker, tag, layer_mb)
                        start = time.perf_counter()
                        if tool == "aiodock":
                            await docker.images.push(tag).wait()
                        else:
                            cli(["push", tag], cli_env)
                        results[tool]["push_s"].append(time.perf_counter() - start)
                        await docker.images.remove(tag, force=True)
                        start = time.perf_counter()
                        if tool == "aiodock":
                            await docker.images.pull(tag).wait()
                        else:
                            cli(["pull", tag], cli_env)
                        results[tool]["pull_s"].append(time.perf_counter() - start)
                        await docker.images.remove(tag, force=True)
        finally:
            registry.stop()
    summary: dict[str, Any] = {"layer_mb": layer_mb}
    for tool, timings in results.items():
        summary[tool] = {k: statistics.median(v) for k, v in timings.items()}
        summary[tool].update({k.replace("_s", "_all"): v for k, v in timings.items()})
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--layer-mb", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-registry", action="store_true")
    args = parser.parse_args()

    context = bench_context(args.size_mb, args.rounds)
    print(f"\nbuild context: {context['context_mb']:.0f} MB, median of {args.rounds}")
    print(f"{'':12} {'upload MB/s':>12} {'total s':>9} {'total MB/s':>11} {'peak RSS MB':>12}")
    for tool in ("aiodock", "docker CLI"):
        e = context[tool]
        upload = f"{e['upload_mb_s']:.0f}" if "upload_mb_s" in e else "-"
        print(
            f"{tool:12} {upload:>12} {e['total_s']:>9.2f} {e['total_mb_s']:>11.0f} "
            f"{e['rss_peak_mb']:>12.1f}"
        )
    print(f"aiodock RSS growth during the build: {context['aiodock']['rss_growth_mb']:.1f} MB")

    summary: dict[str, Any] = {"context": context}
    if not args.skip_registry:
        registry = asyncio.run(bench_registry(args.layer_mb, args.rounds))
        summary["registry"] = registry
        print(f"\npush/pull of busybox + {args.layer_mb} MB layer, median of {args.rounds}")
        print(f"{'':12} {'push s':>8} {'pull s':>8}")
        for tool in ("aiodock", "docker CLI"):
            e = registry[tool]
            print(f"{tool:12} {e['push_s']:>8.2f} {e['pull_s']:>8.2f}")
    print("\n" + json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
