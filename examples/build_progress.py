"""Build an image from a directory and show the context upload and the build output.

    python examples/build_progress.py [CONTEXT_DIR] [TAG]

Without a directory, a small context is made in a temporary directory
(``FROM aiodock-test/busybox:latest``, with a ``.dockerignore``). The context
is streamed as a tar made on the fly, so its size does not matter for memory.
The image is removed at the end unless a tag is given.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from aiodock import BuildStream, DockerClient
from aiodock.errors import BuildError

BASE = "aiodock-test/busybox:latest"


def sample_context(root: Path) -> Path:
    (root / "Dockerfile").write_text(
        f'FROM {BASE}\nCOPY . /app\nRUN ls -A /app\nLABEL aiodock-example="build_progress"\n'
    )
    (root / ".dockerignore").write_text("*.tmp\n")
    (root / "main.sh").write_text("echo hello\n")
    (root / "scratch.tmp").write_text("left out of the context\n")
    return root


def size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.2f} {unit}"


async def watch_upload(stream: BuildStream) -> None:
    """Redraw how much context has gone out until the daemon starts answering."""
    if not sys.stdout.isatty():
        return
    while True:
        print(f"\rsending build context: {size(stream.context_bytes)}", end="", flush=True)
        await asyncio.sleep(0.1)


async def main(context: Path, tag: str | None) -> int:
    async with DockerClient.from_env() as docker:
        stream = docker.images.build(
            context, tags=[tag] if tag else [], labels={"aiodock-test": "1"}
        )
        watcher = asyncio.create_task(watch_upload(stream))
        first = True
        try:
            async for message in stream:
                if first:
                    watcher.cancel()
                    print(f"\rsent build context: {size(stream.context_bytes)}")
                    first = False
                if message.stream:
                    print(message.stream, end="")
                elif message.status:
                    print(message.status)
            # Read to the end: awaiting the build now gives its result.
            result = await stream
        except BuildError as exc:
            print(f"\nbuild failed: {exc.message}", file=sys.stderr)
            return 1
        finally:
            watcher.cancel()
        tags = f" tagged {', '.join(result.tags)}" if result.tags else ""
        print(f"built {result.image_id}{tags}")
        if not tag:
            await docker.images.remove(result.image_id, force=True)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="aiodock-build-") as tmp:
        ctx = Path(args[0]) if args else sample_context(Path(tmp))
        sys.exit(asyncio.run(main(ctx, args[1] if len(args) > 1 else None)))
