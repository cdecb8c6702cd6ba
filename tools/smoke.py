"""A round trip against the real engine with the installed aiodock: create, start, wait,
logs, inspect, remove. Exit status 0 when every step gave what it should.

    python tools/smoke.py [IMAGE]      # default: the local aiodock-test/busybox:latest

Used by ``nox -s floors`` (dependencies at their floors) and to check a built wheel in a
clean virtualenv; it reads nothing from the source tree. The engine comes from the
environment like the docker CLI (DOCKER_HOST, docker context, else the local socket).
"""

from __future__ import annotations

import asyncio
import sys
from importlib.metadata import version

import aiodock
from aiodock import DockerClient

IMAGE = "aiodock-test/busybox:latest"


async def round_trip(image: str) -> list[str]:
    problems: list[str] = []
    async with DockerClient.from_env() as docker:
        container = await docker.containers.create(
            image=image,
            cmd=["sh", "-c", "echo out; echo err >&2; exit 7"],
            labels={"aiodock-test": "1", "aiodock-smoke": "1"},
        )
        try:
            await docker.containers.start(container.id)
            status = await docker.containers.wait(container.id)
            output = await docker.containers.logs(container.id).demux()
            info = await docker.containers.inspect(container.id)
            if status.status_code != 7:
                problems.append(f"wait: exit code {status.status_code}, expected 7")
            if (output.stdout, output.stderr) != (b"out\n", b"err\n"):
                problems.append(f"logs: {output.stdout!r} {output.stderr!r}")
            if info.id != container.id:
                problems.append(f"inspect: id {info.id!r}, expected {container.id!r}")
            if info.state is None or info.state.exit_code != 7 or info.state.running:
                problems.append(f"inspect: state {info.state!r}")
            if info.config is None or info.config.labels.get("aiodock-smoke") != "1":
                problems.append("inspect: the label set at create is missing")
        finally:
            await docker.containers.remove(container.id, force=True)
        try:
            await docker.containers.inspect(container.id)
            problems.append("remove: the container is still there")
        except aiodock.ContainerNotFound:
            pass
    return problems


def main() -> int:
    image = sys.argv[1] if len(sys.argv) > 1 else IMAGE
    names = ("aiohttp", "attrs", "cattrs")
    print(
        f"aiodock {aiodock.__version__} from {aiodock.__file__}; Python {sys.version.split()[0]}; "
        + ", ".join(f"{name} {version(name)}" for name in names)
    )
    problems = asyncio.run(round_trip(image))
    for problem in problems:
        print(f"smoke: FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("smoke: create/start/wait/logs/inspect/remove OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
