"""Run commands in a running container and keep their exit codes.

Run it against a running local engine: ``python examples/exec_exit_code.py``
(optionally pass a local image; the default is the test image
``aiodock-test/busybox:latest``). It shows the three ways to exec:

* ``exec.run``: run to the end, get ``ExecResult(exit_code, stdout, stderr)``,
  optionally feeding stdin;
* ``exec.spawn``: stream the output as it comes, then ``await process.wait()``
  for the exit code (which docker-py loses when streaming);
* a failing command: a non-zero exit code is a result, not an exception.

It exits 0 when every exit code and output is what the commands produce.
"""

from __future__ import annotations

import asyncio
import sys

from aiodock import DockerClient, StreamType


async def main(image: str) -> int:
    async with DockerClient.from_env() as docker:
        container = await docker.containers.create(
            image=image, cmd=["sleep", "300"], labels={"aiodock-test": "1"}
        )
        try:
            await docker.containers.start(container.id)

            counted = await docker.exec.run(container.id, ["wc", "-c"], stdin=b"x" * 1000)
            print(f"wc -c: exit {counted.exit_code}, stdout {counted.stdout!r}")

            script = "for i in 1 2 3; do echo step $i; sleep 0.2; done; echo failing >&2; exit 3"
            process = await docker.exec.spawn(container.id, ["sh", "-c", script])
            async with process:
                async for frame in process:
                    where = "stdout" if frame.stream == StreamType.STDOUT else "stderr"
                    print(f"  streamed {where}: {frame.data!r}")
            streamed_code = await process.wait()
            print(f"streamed exec exit code: {streamed_code}")

            missing = await docker.exec.run(container.id, ["/no/such/command"])
            print(f"missing command: exit {missing.exit_code}")
        finally:
            await docker.containers.remove(container.id, force=True)
    ok = (
        counted.exit_code == 0
        and counted.stdout.strip() == b"1000"
        and streamed_code == 3
        and missing.exit_code in (126, 127)
    )
    print("exec_exit_code OK" if ok else "exec_exit_code FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "aiodock-test/busybox:latest")))
