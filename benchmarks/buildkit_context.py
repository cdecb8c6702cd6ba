"""BuildKit build-context transfer: aiodock next to ``DOCKER_BUILDKIT=1 docker build``.

    python benchmarks/buildkit_context.py [--size-mb 200] [--rounds 2] [--shape small|large|both]

Needs the local engine, ``aiodock-test/busybox:latest`` and a docker CLI that
builds with BuildKit by itself (20.10; a newer CLI needs buildx). Everything
stays on this machine.

Two contexts of ``--size-mb`` MB of random data: many small files (4 KiB each,
in directories of 500) and a few large ones (50 MB each). The Dockerfile bind-
mounts the whole context into a ``RUN`` (``du -s``), so the build's cost is
essentially the context transfer, and writes no layer. BuildKit keeps a copy of
a context to send only what changed next time, keyed by the context's path: so
each build gets the context under a new directory name (a rename), and both
tools transfer all of it every time. aiodock runs in a child process so its
peak RSS can be read; the CLI's is measured the same way.

Prints a table and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BASE = "aiodock-test/busybox:latest"
# The 20.10 CLI (Debian's docker.io) builds with BuildKit without buildx.
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else shutil.which("docker")

_MEASURE = textwrap.dedent(
    """
    import json, os, resource, subprocess, sys, time
    start = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_BUILDKIT": "1"})
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
            stream = docker.images.build(ctx, buildkit=True, labels={"aiodock-test": "1"})
            image = await stream.result()
            total = time.perf_counter() - start
            await docker.images.remove(image, force=True)
            print(json.dumps({"total_s": total, "rss_before": before, "rss_peak": peak()}))

    asyncio.run(main(sys.argv[1]))
    """
)


def make_context(root: Path, size_mb: int, shape: str) -> tuple[int, int]:
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        f'LABEL aiodock-test="1" run="{uuid.uuid4().hex}"\n'
        "RUN --mount=type=bind,target=/ctx du -s /ctx\n"
    )
    total = size_mb << 20
    size = 4096 if shape == "small" else 50 << 20
    count = 0
    written = 0
    block = os.urandom(1 << 20)
    while written < total:
        n = min(size, total - written)
        directory = root / f"d{count // 500:04d}" if shape == "small" else root
        directory.mkdir(exist_ok=True)
        with (directory / f"f{count:06d}.bin").open("wb") as fh:
            left = n
            while left:
                piece = min(left, len(block))
                # vary the data so no two files are alike
                fh.write(block[(count * 7919) % 4096 :][:piece].ljust(piece, b"x"))
                left -= piece
        written += n
        count += 1
    return count, written


def bench_shape(shape: str, size_mb: int, rounds: int) -> dict[str, Any]:
    results: dict[str, list[dict[str, float]]] = {"aiodock": [], "docker CLI": []}
    with tempfile.TemporaryDirectory(prefix="aiodock-bench-bk-") as tmp:
        current = Path(tmp) / "ctx-0"
        files, size = make_context(current, size_mb, shape)
        n = 0
        for r in range(rounds):
            order = ["aiodock", "docker CLI"] if r % 2 == 0 else ["docker CLI", "aiodock"]
            for tool in order:
                n += 1
                moved = Path(tmp) / f"ctx-{n}"
                current.rename(moved)  # a new path: no copy from an earlier build is reused
                current = moved
                if tool == "aiodock":
                    proc = subprocess.run(
                        [sys.executable, "-c", _CHILD, str(current), str(REPO_ROOT)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    data = json.loads(proc.stdout.strip().splitlines()[-1])
                    results[tool].append(
                        {
                            "total_s": data["total_s"],
                            "rss_peak_mb": data["rss_peak"] / 2**20,
                            "rss_growth_mb": (data["rss_peak"] - data["rss_before"]) / 2**20,
                        }
                    )
                else:
                    assert DOCKER is not None
                    proc = subprocess.run(
                        [sys.executable, "-c", _MEASURE, DOCKER, "build", "-q", str(current)],
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
    summary: dict[str, Any] = {"shape": shape, "files": files, "context_mb": size / 1e6}
    for tool, runs in results.items():
        summary[tool] = {key: statistics.median(run[key] for run in runs) for key in runs[0]} | {
            "runs": runs
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shape", choices=["small", "large", "both"], default="both")
    args = parser.parse_args()
    shapes = ["small", "large"] if args.shape == "both" else [args.shape]
    summaries = [bench_shape(shape, args.size_mb, args.rounds) for shape in shapes]
    print("| context | tool | wall time (median) | peak RSS | RSS growth |")
    print("|---|---|---:|---:|---:|")
    for s in summaries:
        what = f"{s['context_mb']:.0f} MB, {s['files']:,} files"
        for tool in ("aiodock", "docker CLI"):
            m = s[tool]
            growth = f"{m['rss_growth_mb']:.1f} MB" if "rss_growth_mb" in m else "-"
            print(
                f"| {what} | {tool} | {m['total_s']:.2f} s | {m['rss_peak_mb']:.1f} MB | {growth} |"
            )
    print(json.dumps(summaries, indent=1))


if __name__ == "__main__":
    main()
