"""What every client implementation shares (stdlib only: imported into every worker)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

DOCKER_URL = "unix:///var/run/docker.sock"
SOCKET = "/var/run/docker.sock"
STDOUT = 1
STDERR = 2


@dataclass
class Digest:
    """Byte count and sha256 of each output stream, updated as data arrives."""

    out_len: int = 0
    err_len: int = 0
    out_sha: Any = field(default_factory=hashlib.sha256)
    err_sha: Any = field(default_factory=hashlib.sha256)

    def add(self, stream: int, data: bytes | memoryview) -> None:
        if stream == STDERR:
            self.err_len += len(data)
            self.err_sha.update(data)
        else:
            self.out_len += len(data)
            self.out_sha.update(data)

    def result(self) -> dict[str, Any]:
        return {
            "stdout_bytes": self.out_len,
            "stdout_sha256": self.out_sha.hexdigest(),
            "stderr_bytes": self.err_len,
            "stderr_sha256": self.err_sha.hexdigest(),
        }


class InlineDemux:
    """The bare reference's minimal demultiplexer: headers parsed inline, payloads hashed
    straight from the received chunk (no copies)."""

    __slots__ = ("digest", "header", "remaining", "stream")

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self.header = b""
        self.remaining = 0
        self.stream = STDOUT

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        pos, n = 0, len(chunk)
        add = self.digest.add
        while pos < n:
            if self.remaining:
                take = min(self.remaining, n - pos)
                add(self.stream, view[pos : pos + take])
                self.remaining -= take
                pos += take
                continue
            need = 8 - len(self.header)
            self.header += chunk[pos : pos + need]
            pos += need
            if len(self.header) == 8:
                self.stream = self.header[0]
                self.remaining = int.from_bytes(self.header[4:8], "big")
                self.header = b""

    def check_eof(self) -> None:
        if self.header or self.remaining:
            raise RuntimeError("multiplexed stream cut short")


class Collect:
    """Demultiplex into two bytearrays, payload slices copied once from the received chunk."""

    __slots__ = ("err", "header", "out", "remaining", "target")

    def __init__(self, out: bytearray, err: bytearray) -> None:
        self.out = out
        self.err = err
        self.header = b""
        self.remaining = 0
        self.target = out

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        pos, n = 0, len(view)
        while pos < n:
            if self.remaining:
                take = min(self.remaining, n - pos)
                self.target += view[pos : pos + take]
                self.remaining -= take
                pos += take
                continue
            need = 8 - len(self.header)
            self.header += view[pos : pos + need].tobytes()
            pos += need
            if len(self.header) == 8:
                self.target = self.err if self.header[0] == 2 else self.out
                self.remaining = int.from_bytes(self.header[4:8], "big")
                self.header = b""


def collected(out: bytes | bytearray, err: bytes | bytearray) -> dict[str, Any]:
    """The digest of output held whole (checked like the streamed rows)."""
    digest = Digest()
    digest.add(STDOUT, out)
    digest.add(STDERR, err)
    return digest.result()


class Counter:
    """What the open streams of a streams scenario delivered so far."""

    __slots__ = ("bytes", "items", "opened")

    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0
        self.opened = 0

    def add(self, stream: int, data: bytes | memoryview) -> None:
        """``InlineDemux``'s digest interface: count a payload piece."""
        self.bytes += len(data)
