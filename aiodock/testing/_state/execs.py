"""Exec instances in the fake's store and their Engine JSON."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["FakeExec"]


@attrs.define(eq=False)
class FakeExec:
    """An exec instance in the fake's store."""

    id: str
    container_id: str
    cmd: list[str]
    tty: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = True
    attach_stderr: bool = True
    user: str = ""
    privileged: bool = False
    env: list[str] | None = None
    working_dir: str = ""
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    stdin: bytearray = attrs.Factory(bytearray)

    def inspect(self) -> dict[str, Any]:
        """The exec as ``GET /exec/{id}/json`` answers (Engine JSON)."""
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.tty,
                "entrypoint": self.cmd[0] if self.cmd else "",
                "arguments": self.cmd[1:],
                "privileged": self.privileged,
                **({"user": self.user} if self.user else {}),
            },
            "OpenStdin": self.attach_stdin,
            "OpenStderr": self.attach_stderr,
            "OpenStdout": self.attach_stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": "",
            "Pid": self.pid,
        }
