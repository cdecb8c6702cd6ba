"""Exec routes: create, inspect, resize and start (detached or hijacked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .._state.execs import FakeExec
from .._state.values import new_id
from .._wire import Abandoned, Answer, FakeRequest, json_response
from .args import fake_of

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = ["exec_create", "exec_inspect", "exec_resize", "exec_start"]


async def exec_create(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    body = req.json_object()
    if c.status == "paused":
        raise Answer(409, f"Container {c.id} is paused, unpause the container before exec")
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd:
        raise Answer(400, "No exec command specified")
    ex = FakeExec(
        id=new_id(),
        container_id=c.id,
        cmd=[str(a) for a in cmd],
        tty=bool(body.get("Tty", False)),
        attach_stdin=bool(body.get("AttachStdin", False)),
        attach_stdout=bool(body.get("AttachStdout", False)),
        attach_stderr=bool(body.get("AttachStderr", False)),
        user=str(body.get("User") or ""),
        privileged=bool(body.get("Privileged", False)),
        env=body.get("Env"),
        working_dir=str(body.get("WorkingDir") or ""),
    )
    fake.execs[ex.id] = ex
    c.exec_ids.append(ex.id)
    fake._container_event(c, "exec_create: " + " ".join(ex.cmd), {"execID": ex.id})
    return json_response({"Id": ex.id}, 201)


def _exec(fake: FakeDocker, exec_id: str) -> FakeExec:
    ex = fake.execs.get(exec_id)
    if ex is None:
        raise Answer(404, f"No such exec instance: {exec_id}")
    return ex


async def exec_inspect(req: FakeRequest) -> web.StreamResponse:
    return json_response(_exec(fake_of(req), req.params["id"]).inspect())


async def exec_resize(req: FakeRequest) -> web.StreamResponse:
    _exec(fake_of(req), req.params["id"])
    return web.Response(status=200)


async def exec_start(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    ex = _exec(fake, req.params["id"])
    body = req.json_object()
    c = fake.containers.get(ex.container_id)
    if c is None or not c.running:
        raise Answer(409, f"Container {ex.container_id} is not running")
    if ex.running:
        raise Answer(409, f"Exec command {ex.id} is already running")
    if body.get("Tty") is not None:
        ex.tty = bool(body.get("Tty"))

    async def no_stdin() -> bytes:
        return b""

    if body.get("Detach"):
        if ex.started:
            raise Answer(409, f"Exec command {ex.id} has already run")

        async def discard(stream: int, data: bytes) -> None:
            return None

        fake._spawn(fake.run_exec(ex, c, discard, no_stdin))
        return web.Response(status=200)

    conn, out = await fake.hijack(req, tty=ex.tty)
    try:
        if ex.started:
            # Engine 20.10 reports this inside the stream, as stdout text.
            text = f"Error: Exec command {ex.id} has already run\r\n".encode()
            await out.write(fake.frame(ex, 1, text))
            return Abandoned()

        async def write(stream: int, data: bytes) -> None:
            await out.write(fake.frame(ex, stream, data))

        async def read() -> bytes:
            if not ex.attach_stdin:
                return b""
            chunk = await conn.inbox.get()
            ex.stdin.extend(chunk)
            return chunk

        await fake.run_exec(ex, c, write, read)
    except (ConnectionError, OSError):
        pass
    finally:
        fake.release(conn)
    return Abandoned()
