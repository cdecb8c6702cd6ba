"""Follow a container's logs live, line by line, stdout and stderr kept apart.

Run it against a running local engine: ``python examples/logs_follow.py``
(optionally pass a local image; the default is the test image
``aiodock-test/busybox:latest``). A container prints a few lines on both
streams over about two seconds; the script prints each line as it arrives with
the stream it came from, then checks that nothing was lost or mixed up and
exits 0.
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiodock import DockerClient, StreamType

SCRIPT = "for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; sleep 0.4; done"


async def main(image: str) -> int:
    async with DockerClient.from_env() as docker:
        container = await docker.containers.create(
            image=image, cmd=["sh", "-c", SCRIPT], labels={"aiodock-test": "1"}
        )
        try:
            await docker.containers.start(container.id)
            started = time.monotonic()
            seen: dict[StreamType, list[bytes]] = {StreamType.STDOUT: [], StreamType.STDERR: []}
            # ``follow=True`` keeps the one request open until the container stops.
            async for line in docker.containers.logs(container.id, follow=True).lines():
                name = "stdout" if line.stream == StreamType.STDOUT else "stderr"
                print(f"{time.monotonic() - started:5.2f}s {name}: {line.data!r}")
                seen[line.stream].append(line.data)
        finally:
            await docker.containers.remove(container.id, force=True)
    expected_out = [b"out %d\n" % i for i in range(1, 6)]
    expected_err = [b"err %d\n" % i for i in range(1, 6)]
    ok = seen[StreamType.STDOUT] == expected_out and seen[StreamType.STDERR] == expected_err
    print("logs_follow OK" if ok else "logs_follow FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "aiodock-test/busybox:latest")))
