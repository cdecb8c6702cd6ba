"""SSH agent forwarding for ``RUN --mount=type=ssh`` (``moby.sshforward.v1.SSH``).

``CheckAgent`` says whether an id is served; ``ForwardAgent`` is a stream of
``BytesMessage`` carrying one agent connection: each call opens the local
agent socket and copies bytes both ways until either side ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from . import _proto as pb
from .session import NOT_FOUND, UNAVAILABLE, Call, GrpcError, Handler

__all__ = ["check_agent_handler", "forward_agent_handler"]

#: The metadata key ForwardAgent names its id with.
_ID_KEY = "buildkit.ssh.id"


def _agent(agents: Mapping[str, str], ssh_id: str) -> str:
    path = agents.get(ssh_id or "default")
    if path is None:
        raise GrpcError(NOT_FOUND, f"unset ssh forward key {ssh_id or 'default'}")
    return path


def check_agent_handler(agents: Mapping[str, str]) -> Handler:
    async def handle(call: Call) -> None:
        request = await call.recv()
        _agent(agents, pb.text(pb.first(request or b"", 1, b"")))
        await call.send(b"")

    return handle


def forward_agent_handler(agents: Mapping[str, str]) -> Handler:
    async def handle(call: Call) -> None:
        path = _agent(agents, call.header(_ID_KEY))
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError as exc:
            raise GrpcError(UNAVAILABLE, f"cannot reach the ssh agent: {exc.strerror}") from None

        async def to_agent() -> None:
            while True:
                message = await call.recv()
                if message is None:
                    break
                data = pb.first(message, 1, b"")
                if isinstance(data, bytes) and data:
                    writer.write(data)
                    await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        async def from_agent() -> None:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                await call.send(pb.bytes_field(1, data))

        upstream = asyncio.ensure_future(to_agent())
        try:
            await from_agent()
        finally:
            upstream.cancel()
            with contextlib.suppress(BaseException):
                await upstream
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return handle
