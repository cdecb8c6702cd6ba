"""Watch daemon events with ``EventWatcher`` while a labelled container comes and goes.

Run it against a running local engine: ``python examples/events_watcher.py``
(optionally pass a local image; the default is the test image
``aiodock-test/busybox:latest``). It starts a watcher filtered on a label only
this run uses, subscribes twice (an iterator and a callback), creates, starts
and removes one container, prints the events as they arrive and exits 0 once
it has seen ``create``, ``start``, ``die`` and ``destroy`` for that container.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from aiodock import DockerClient
from aiodock.models.events import Event
from aiodock.watcher import EventWatcher

EXPECTED = ["create", "start", "die", "destroy"]


async def main(image: str) -> int:
    run = uuid.uuid4().hex[:12]
    labels = {"aiodock-example": f"events-{run}", "aiodock-test": "1"}
    callback_seen: list[str] = []

    def on_event(event: Event) -> None:
        callback_seen.append(event.action)

    async with DockerClient.from_env() as docker:
        watcher = EventWatcher(
            docker, filters={"type": "container", "label": {"aiodock-example": f"events-{run}"}}
        )
        async with watcher, watcher.subscribe(maxsize=100) as events:
            watcher.add_callback(on_event)
            await watcher.wait_connected(timeout=10)
            print(f"watching container events labelled aiodock-example=events-{run}")

            container = await docker.containers.create(image=image, cmd=["true"], labels=labels)
            try:
                await docker.containers.start(container.id)
                await docker.containers.wait(container.id)
            finally:
                await docker.containers.remove(container.id, force=True)

            seen: list[str] = []

            async def collect() -> None:
                async for event in events:
                    name = event.attributes.get("name", "?")
                    print(
                        f"{event.datetime.isoformat()}  {event.type:<9} {event.action:<8} "
                        f"{event.actor_id[:12]} ({name})"
                    )
                    if event.actor_id == container.id:
                        seen.append(event.action)
                    if all(action in seen for action in EXPECTED):
                        return

            try:
                await asyncio.wait_for(collect(), timeout=30)
            except asyncio.TimeoutError:
                print(f"timed out; saw {seen}")
            for _ in range(100):  # the callback runs in its own task: let it catch up
                if set(EXPECTED) <= set(callback_seen):
                    break
                await asyncio.sleep(0.02)
            state = watcher.state
            print(
                f"watcher: {state.status}, {state.events} events, "
                f"{state.reconnects} reconnects, {state.total_dropped} dropped"
            )

    ok = [a for a in seen if a in EXPECTED] == EXPECTED and set(EXPECTED) <= set(callback_seen)
    print("events_watcher OK" if ok else f"events_watcher FAILED (saw {seen})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "aiodock-test/busybox:latest")))
