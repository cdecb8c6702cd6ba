"""Push an image to a registry and pull it back, drawing progress bars.

    python examples/pull_push_progress.py [REGISTRY] [IMAGE]

``REGISTRY`` defaults to ``$AIODOCK_REGISTRY`` or ``127.0.0.1:5000`` and
``IMAGE`` to the local ``aiodock-test/busybox:latest``. Credentials come from
``$AIODOCK_REGISTRY_USER``/``$AIODOCK_REGISTRY_PASSWORD`` when set, otherwise
from the docker config (``config.json``, credential helpers), like ``docker push``.
The image is tagged ``REGISTRY/aiodock-example/<name>:progress`` for the
push; that local tag is removed again at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TypeVar

from aiodock import DockerClient, ProgressStream, ProgressTracker, RegistryAuthError
from aiodock.errors import StreamError

R = TypeVar("R")

WIDTH = 30


def bar(tracker: ProgressTracker) -> str:
    fraction = tracker.fraction
    filled = int(WIDTH * (fraction or 0.0))
    percent = f"{fraction * 100:5.1f}%" if fraction is not None else "  ?  "
    return (
        f"[{'#' * filled}{'.' * (WIDTH - filled)}] {percent} "
        f"{tracker.transferred / 1e6:7.2f}/{tracker.transfer_total / 1e6:.2f} MB "
        f"layers {tracker.layers_done}/{tracker.layers_total}"
    )


async def show(title: str, operation: ProgressStream[R]) -> R:
    """Run a pull or push to its end, redrawing one overall bar per message."""
    tty = sys.stdout.isatty()
    async for message in operation:
        line = f"{title}: {bar(operation.tracker)}"
        if tty:
            print("\r" + line, end="", flush=True)
        elif message.status and not message.id:
            print(f"{title}: {message.status}")
    print(("\r" if tty else "") + f"{title}: {bar(operation.tracker)}")
    return await operation  # already read to the end: just the result


async def main(registry: str, image: str) -> int:
    user = os.environ.get("AIODOCK_REGISTRY_USER")
    password = os.environ.get("AIODOCK_REGISTRY_PASSWORD")
    auth = {"username": user, "password": password or ""} if user else None
    name = image.rsplit("/", 1)[-1].split(":", 1)[0]
    target = f"{registry}/aiodock-example/{name}:progress"
    async with DockerClient.from_env() as docker:
        await docker.images.tag(image, target)
        try:
            pushed = await show("push", docker.images.push(target, auth=auth))
            print(f"pushed {target} as {pushed.digest} ({pushed.size} bytes of manifest)")

            await docker.images.remove(target)
            pulled = await show("pull", docker.images.pull(target, auth=auth))
            print(f"pulled {pulled.reference} ({pulled.digest})")
            ok = pulled.digest == pushed.digest
        except RegistryAuthError as exc:
            print(f"\nthe registry refused the credentials: {exc.message}", file=sys.stderr)
            return 2
        except StreamError as exc:
            print(f"\nfailed: {exc}", file=sys.stderr)
            return 1
        finally:
            if await docker.images.exists(target):
                await docker.images.remove(target)
    print("pull/push OK" if ok else "digests differ")
    return 0 if ok else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    registry = args[0] if args else os.environ.get("AIODOCK_REGISTRY", "127.0.0.1:5000")
    image = args[1] if len(args) > 1 else "aiodock-test/busybox:latest"
    sys.exit(asyncio.run(main(registry, image)))
