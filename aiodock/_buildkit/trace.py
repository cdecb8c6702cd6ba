"""BuildKit progress: the ``moby.buildkit.trace`` aux messages, decoded and folded.

Each trace message is a base64 ``moby.buildkit.v1.StatusResponse`` (field
numbers from BuildKit's ``control.proto``, Apache-2.0; the decoder is our
own). :func:`decode_status` turns one into a :class:`SolveStatus` of typed
events; :class:`BuildProgress` folds them into one :class:`Step` per vertex
(started, cached, completed, error, timings, its log, transfer counts) for a
progress display.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

import attrs

from . import _proto as pb

__all__ = [
    "BuildProgress",
    "SolveStatus",
    "Step",
    "VertexEvent",
    "VertexLogEvent",
    "VertexStatusEvent",
    "VertexWarningEvent",
    "decode_status",
    "decode_trace",
]

#: Log bytes kept per step (the tail of a very chatty step).
MAX_STEP_LOG = 1 << 20


@attrs.frozen
class VertexEvent:
    """A build step (a vertex of the build graph) changed: started, cached, completed or failed."""

    digest: str
    name: str
    inputs: tuple[str, ...] = ()
    cached: bool = False
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""


@attrs.frozen
class VertexStatusEvent:
    """Progress of one task inside a step (a transfer, an extraction): ``current`` of ``total``."""

    id: str
    vertex: str
    name: str = ""
    current: int = 0
    total: int = 0
    timestamp: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None


@attrs.frozen
class VertexLogEvent:
    """Output of a step (``stream`` 1 is stdout, 2 stderr)."""

    vertex: str
    data: bytes
    stream: int = 1
    timestamp: datetime | None = None


@attrs.frozen
class VertexWarningEvent:
    vertex: str
    short: str
    detail: tuple[str, ...] = ()
    url: str = ""
    level: int = 0


@attrs.frozen
class SolveStatus:
    """One decoded trace message."""

    vertexes: tuple[VertexEvent, ...] = ()
    statuses: tuple[VertexStatusEvent, ...] = ()
    logs: tuple[VertexLogEvent, ...] = ()
    warnings: tuple[VertexWarningEvent, ...] = ()


def _timestamp(buf: int | bytes) -> datetime | None:
    if not isinstance(buf, bytes):
        return None
    seconds = nanos = 0
    for n, value in pb.fields(buf):
        if n == 1:
            seconds = pb.signed(pb.number(value))
        elif n == 2:
            nanos = pb.number(value)
    try:
        return datetime.fromtimestamp(seconds + nanos / 1e9, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _vertex(buf: bytes) -> VertexEvent:
    digest = name = error = ""
    inputs: list[str] = []
    cached = False
    started = completed = None
    for n, value in pb.fields(buf):
        if n == 1:
            digest = pb.text(value)
        elif n == 2:
            inputs.append(pb.text(value))
        elif n == 3:
            name = pb.text(value)
        elif n == 4:
            cached = bool(pb.number(value))
        elif n == 5:
            started = _timestamp(value)
        elif n == 6:
            completed = _timestamp(value)
        elif n == 7:
            error = pb.text(value)
    return VertexEvent(digest, name, tuple(inputs), cached, started, completed, error)


def _vertex_status(buf: bytes) -> VertexStatusEvent:
    values: dict[str, object] = {}
    for n, value in pb.fields(buf):
        if n == 1:
            values["id"] = pb.text(value)
        elif n == 2:
            values["vertex"] = pb.text(value)
        elif n == 3:
            values["name"] = pb.text(value)
        elif n == 4:
            values["current"] = pb.signed(pb.number(value))
        elif n == 5:
            values["total"] = pb.signed(pb.number(value))
        elif n in (6, 7, 8):
            values[("timestamp", "started", "completed")[n - 6]] = _timestamp(value)
    values.setdefault("id", "")
    values.setdefault("vertex", "")
    return VertexStatusEvent(**values)  # type: ignore[arg-type]


def _vertex_log(buf: bytes) -> VertexLogEvent:
    vertex = ""
    data = b""
    stream = 1
    timestamp = None
    for n, value in pb.fields(buf):
        if n == 1:
            vertex = pb.text(value)
        elif n == 2:
            timestamp = _timestamp(value)
        elif n == 3:
            stream = pb.number(value)
        elif n == 4 and isinstance(value, bytes):
            data = value
    return VertexLogEvent(vertex, data, stream, timestamp)


def _vertex_warning(buf: bytes) -> VertexWarningEvent:
    vertex = short = url = ""
    detail: list[str] = []
    level = 0
    for n, value in pb.fields(buf):
        if n == 1:
            vertex = pb.text(value)
        elif n == 2:
            level = pb.signed(pb.number(value))
        elif n == 3:
            short = pb.text(value)
        elif n == 4:
            detail.append(pb.text(value))
        elif n == 5:
            url = pb.text(value)
    return VertexWarningEvent(vertex, short, tuple(detail), url, level)


def decode_status(buf: bytes) -> SolveStatus:
    """Decode a ``StatusResponse``; raises :class:`~._proto.DecodeError` on malformed bytes."""
    vertexes: list[VertexEvent] = []
    statuses: list[VertexStatusEvent] = []
    logs: list[VertexLogEvent] = []
    warnings: list[VertexWarningEvent] = []
    for n, value in pb.fields(buf):
        if not isinstance(value, bytes):
            continue
        if n == 1:
            vertexes.append(_vertex(value))
        elif n == 2:
            statuses.append(_vertex_status(value))
        elif n == 3:
            logs.append(_vertex_log(value))
        elif n == 4:
            warnings.append(_vertex_warning(value))
    return SolveStatus(tuple(vertexes), tuple(statuses), tuple(logs), tuple(warnings))


def decode_trace(aux: object) -> SolveStatus | None:
    """Decode the ``aux`` of a ``moby.buildkit.trace`` message (``None`` if it is not one)."""
    if not isinstance(aux, str):
        return None
    try:
        return decode_status(base64.b64decode(aux, validate=True))
    except (binascii.Error, pb.DecodeError, ValueError):
        return None


@attrs.define
class Step:
    """What is known about one build step (a vertex)."""

    digest: str
    #: 1, 2, ... in the order the daemon first named the steps (the CLI's ``#N``).
    number: int = 0
    name: str = ""
    inputs: tuple[str, ...] = ()
    cached: bool = False
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""
    #: Transfers and other tasks of the step, by id.
    statuses: dict[str, VertexStatusEvent] = attrs.Factory(dict)
    _log: bytearray = attrs.field(factory=bytearray, repr=False)
    warnings: list[VertexWarningEvent] = attrs.Factory(list)

    @property
    def done(self) -> bool:
        return self.completed is not None or self.cached

    @property
    def duration(self) -> float | None:
        """Seconds from start to completion (``None`` until both are known)."""
        if self.started is None or self.completed is None:
            return None
        return (self.completed - self.started).total_seconds()

    @property
    def transferred(self) -> int:
        """Bytes its tasks report done (the context upload, layer pulls)."""
        return sum(task.current for task in self.statuses.values())

    @property
    def transfer_total(self) -> int:
        """Bytes its tasks report in all (0 while unknown, as for a context upload)."""
        return sum(task.total for task in self.statuses.values())

    @property
    def log(self) -> str:
        """The step's output (stdout and stderr interleaved; the last MiB of a long one)."""
        return self._log.decode("utf-8", "replace")


class BuildProgress:
    """The state of a BuildKit build for a progress display, fed one :class:`SolveStatus` at a time.

    :attr:`steps` holds one :class:`Step` per vertex in the order the daemon
    first named them; :attr:`started`, :attr:`cached`, :attr:`completed` and
    :attr:`failed` count them; :attr:`transferred` / :attr:`transfer_total`
    sum the byte counts of the steps' tasks (context upload, layer pulls).
    """

    __slots__ = ("steps", "updates", "warnings")

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.warnings: list[VertexWarningEvent] = []
        self.updates = 0

    def _step(self, digest: str) -> Step:
        step = self.steps.get(digest)
        if step is None:
            step = self.steps[digest] = Step(digest, len(self.steps) + 1)
        return step

    def update(self, status: SolveStatus) -> None:
        """Fold one decoded trace message into the steps.

        Args:
            status: the message (the stream calls this for each one it reads).
        """
        self.updates += 1
        for vertex in status.vertexes:
            # Each message carries the vertex's whole state: a step that runs again
            # (the context is loaded twice) comes back started and not completed.
            step = self._step(vertex.digest)
            step.name = vertex.name or step.name
            step.inputs = vertex.inputs or step.inputs
            step.cached = vertex.cached
            step.started = vertex.started
            step.completed = vertex.completed
            step.error = vertex.error
        for task in status.statuses:
            self._step(task.vertex).statuses[task.id] = task
        for log in status.logs:
            buf = self._step(log.vertex)._log
            buf += log.data
            if len(buf) > MAX_STEP_LOG:
                del buf[: len(buf) - MAX_STEP_LOG]
        for warning in status.warnings:
            self._step(warning.vertex).warnings.append(warning)
            self.warnings.append(warning)

    @property
    def started(self) -> int:
        return sum(1 for s in self.steps.values() if s.started is not None)

    @property
    def cached(self) -> int:
        return sum(1 for s in self.steps.values() if s.cached)

    @property
    def completed(self) -> int:
        return sum(1 for s in self.steps.values() if s.completed is not None)

    @property
    def failed(self) -> list[Step]:
        return [s for s in self.steps.values() if s.error]

    @property
    def transferred(self) -> int:
        return sum(step.transferred for step in self.steps.values())

    @property
    def transfer_total(self) -> int:
        return sum(step.transfer_total for step in self.steps.values())

    def __repr__(self) -> str:
        return (
            f"<BuildProgress {self.completed}/{len(self.steps)} steps done, "
            f"{self.cached} cached, {len(self.failed)} failed>"
        )
