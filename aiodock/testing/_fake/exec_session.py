"""What an exec handler (``FakeDocker.on_exec``) works with, and how handlers are registered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs

from .._state.containers import FakeContainer
from .._state.execs import FakeExec

if TYPE_CHECKING:
    from .docker import FakeDocker

__all__ = ["ExecHandler", "ExecRule", "ExecSession"]


class ExecSession:
    """What an exec handler (:meth:`FakeDocker.on_exec`) works with.

    The fake makes it for each exec a handler runs; ``fake``, ``exec`` and
    ``container`` are its attributes.

    Args:
        fake: the :class:`FakeDocker` running the exec.
        exec_: the exec's record (its ``cmd``, ``tty``, ``env``...).
        container: the container the exec runs in.
        write: a coroutine function ``(stream, data)`` that sends output.
        read: a coroutine function returning the next chunk of stdin.
    """

    def __init__(
        self,
        fake: FakeDocker,
        exec_: FakeExec,
        container: FakeContainer,
        write: Callable[[int, bytes], Awaitable[None]],
        read: Callable[[], Awaitable[bytes]],
    ) -> None:
        self.fake = fake
        self.exec = exec_
        self.container = container
        self._write = write
        self._read = read

    @property
    def cmd(self) -> list[str]:
        return list(self.exec.cmd)

    @property
    def tty(self) -> bool:
        return self.exec.tty

    async def read(self) -> bytes:
        """The next chunk of stdin.

        Returns ``b""`` at end of input, or at once when stdin is not attached.
        """
        return await self._read()

    async def read_all(self) -> bytes:
        """All of stdin, up to end of input (half-close) from the client."""
        parts: list[bytes] = []
        while chunk := await self._read():
            parts.append(chunk)
        return b"".join(parts)

    async def write(self, data: bytes, stream: int = 1) -> None:
        """Send output to the client.

        Args:
            data: the bytes to send.
            stream: 1 for stdout, 2 for stderr (a TTY exec has one raw stream).
        """
        await self._write(stream, data)


ExecHandler = Callable[[ExecSession], Awaitable[int | None]]


@attrs.define(eq=False)
class ExecRule:
    handler: ExecHandler
    container: str | None
    cmd: tuple[str, ...] | None
