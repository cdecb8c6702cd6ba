"""Quickstart: talk to the local engine, run a container, read its logs demultiplexed.

Run it with ``bash scripts/quickstart.sh`` (sets up the engine and the test
image first) or ``python examples/quickstart.py`` against a running engine.
The image defaults to the locally built ``aiodock-test/busybox:latest``;
pass another local image as the first argument.
"""

from __future__ import annotations

import asyncio
import sys

from aiodock import DockerClient


async def main(image: str) -> int:
    async with DockerClient.from_env() as docker:
        version = await docker.system.version()
        print(f"engine {version.version}, API {await docker.api_version()}")

        container = await docker.containers.create(
            image=image,
            cmd=["sh", "-c", "echo hello from stdout; echo hello from stderr >&2; exit 3"],
            labels={"aiodock-example": "quickstart"},
        )
        try:
            await docker.containers.start(container.id)
            status = await docker.containers.wait(container.id)
            output = await docker.containers.logs(container.id).demux()
            print(f"exit code: {status.status_code}")
            print(f"stdout: {bytes(output.stdout)!r}")
            print(f"stderr: {bytes(output.stderr)!r}")
            ok = (
                status.status_code == 3
                and output.stdout == b"hello from stdout\n"
                and output.stderr == b"hello from stderr\n"
            )
        finally:
            await docker.containers.remove(container.id, force=True)
    print("quickstart OK" if ok else "quickstart FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "aiodock-test/busybox:latest")))
