"""The streamed container routes: logs, attach and stats."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from .._state.containers import LogEntry
from .._state.stats import MEMORY_TOTAL, idle_stats, running_stats
from .._state.values import now_ns, rfc3339
from .._wire import Abandoned, Answer, FakeRequest, json_body, json_response
from .args import fake_of, time_arg

__all__ = ["container_attach", "container_logs", "container_stats"]


async def container_logs(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    want_out = req.flag("stdout")
    want_err = req.flag("stderr")
    if not (want_out or want_err):
        raise Answer(400, "Bad parameters: you must choose at least one stream")
    follow = req.flag("follow")
    timestamps = req.flag("timestamps")
    tail_arg = (req.arg("tail") or "all").strip()
    since = time_arg(req, "since")
    until = time_arg(req, "until")
    tail: int | None = None
    if tail_arg != "all":
        try:
            tail = int(tail_arg)
        except ValueError:
            tail = None
    streams = {s for s, on in ((1, want_out), (2, want_err)) if on}

    def selected(entries: list[LogEntry]) -> list[LogEntry]:
        out = [e for e in entries if e.stream in streams]
        if since is not None:
            out = [e for e in out if e.time_ns >= since]
        if until is not None:
            out = [e for e in out if e.time_ns <= until]
        return out

    def render(entry: LogEntry) -> bytes:
        data = entry.data
        if timestamps:
            data = rfc3339(entry.time_ns).encode() + b" " + data
        return fake.frame(c, entry.stream, data)

    # Engine 20.10 sends logs without a Content-Type; 1.42+ names the framing.
    content_type: str | None = None
    if req.at_least("1.42"):
        content_type = (
            "application/vnd.docker.raw-stream"
            if c.tty
            else "application/vnd.docker.multiplexed-stream"
        )
    writer = await fake.open_stream(req, content_type)
    history = selected(c.log)
    if tail is not None and tail >= 0:
        history = history[-tail:] if tail else []
    for entry in history:
        await writer.write(render(entry))
    if follow and c.running and until is None:
        cursor = len(c.log)
        generation = c.generation
        while True:
            fresh = c.log[cursor:]
            cursor = len(c.log)
            for entry in selected(fresh):
                await writer.write(render(entry))
            if cursor != len(c.log):
                continue
            if not c.running or c.generation != generation or fake.closing:
                break
            await fake._wait_change()
    return await writer.finish()


async def container_attach(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    logs = req.flag("logs")
    stream = req.flag("stream")
    want = {s for s, on in ((1, req.flag("stdout")), (2, req.flag("stderr"))) if on}
    use_stdin = req.flag("stdin") and bool(c.config.get("OpenStdin"))
    conn, out = await fake.hijack(req, tty=c.tty)
    fake._container_event(c, "attach")

    async def pump_stdin() -> None:
        while True:
            chunk = await conn.inbox.get()
            # Input sent before the start waits for the process, as in the engine's pipe.
            while c.id not in fake._stdin and not c.removed and not fake.closing:
                await fake._wait_change()
            queue = fake._stdin.get(c.id)
            c.stdin.extend(chunk)
            if queue is not None:
                queue.put_nowait(chunk)
            if not chunk:
                return

    pump = asyncio.ensure_future(pump_stdin()) if use_stdin else None
    try:
        cursor = 0 if logs else len(c.log)
        generation = c.generation
        if stream and not c.running:
            # The engine's attach hooks onto the container's output pipes: opened
            # before a start, it streams what the next run writes, then ends.
            for entry in c.log[cursor:]:
                if entry.stream in want:
                    await out.write(fake.frame(c, entry.stream, entry.data))
            cursor = len(c.log)
            while c.generation == generation and not c.removed and not fake.closing:
                await fake._wait_change()
            if c.generation == generation:
                return Abandoned()
            generation = c.generation
        while True:
            fresh = c.log[cursor:]
            cursor = len(c.log)
            for entry in fresh:
                if entry.stream in want:
                    await out.write(fake.frame(c, entry.stream, entry.data))
            if cursor != len(c.log):
                continue
            if not stream or not c.running or c.generation != generation or fake.closing:
                break
            await fake._wait_change()
    except (ConnectionError, OSError):
        pass
    finally:
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(BaseException):
                await pump
        fake.release(conn)
    return Abandoned()


async def container_stats(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    stream = req.flag("stream", True)
    one_shot = req.flag("one-shot")
    if one_shot and stream:
        raise Answer(400, "cannot have stream=true and one-shot=true")
    interval = max(fake.stats_interval, 0.001)
    step = int(interval * 1e9)
    if not stream:
        if not c.running:
            return json_response(idle_stats(c))
        at = now_ns()
        return json_response(running_stats(c, at, None if one_shot else at - step, MEMORY_TOTAL))
    writer = await fake.open_stream(req, "application/json")
    previous: int | None = None
    generation = -1
    while not fake.closing and not c.removed:
        if c.running:
            if c.generation != generation:
                generation, previous = c.generation, None
            at = now_ns()
            await writer.write(json_body(running_stats(c, at, previous, MEMORY_TOTAL)))
            previous = at
        elif generation >= 0:
            # Once a followed container has stopped, the engine sends empty samples.
            await writer.write(json_body(idle_stats(c)))
        if c.running or generation >= 0:
            await fake._sleep(interval)
        else:
            await fake._wait_change()
    if fake.closing:
        return writer.response
    return await writer.finish()
