"""The ``tasks`` namespace: the units of work swarm services schedule onto nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .. import models
from .._filters import Filters, encode_filters
from .._http.request import Request, quote_path
from .._rules import EventTime
from .._streams.streaming import FrameStream
from ..errors import NotFound
from ._logs import spec_tty, swarm_logs
from ._swarm_base import SwarmResource

if TYPE_CHECKING:
    from ..models import Task

__all__ = ["Tasks"]


class Tasks(SwarmResource):
    """List and inspect swarm tasks and read their logs."""

    __slots__ = ()

    def _path(self, task_id: str, suffix: str = "") -> str:
        return "/tasks/" + quote_path(task_id, "task_id") + suffix

    async def list(self, *, filters: Filters | None = None) -> list[Task]:
        """Tasks of the swarm.

        Args:
            filters: ``service``, ``node``, ``desired-state``, ``label``, ``name``,
                ``id``; e.g. ``{"service": svc_id, "desired-state": "running"}``.
        """
        return await self._guard(
            self._client._models(
                Request("GET", "/tasks", params={"filters": encode_filters(filters)}), models.Task
            )
        )

    async def inspect(self, task_id: str) -> Task:
        """One task: its spec, node, slot, desired state and current status.

        Args:
            task_id: the task's id.
        """
        return await self._guard(
            self._client._model(
                Request("GET", self._path(task_id), not_found=NotFound), models.Task
            )
        )

    def logs(
        self,
        task_id: str,
        *,
        stdout: bool = True,
        stderr: bool = True,
        follow: bool = False,
        since: EventTime | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
        details: bool = False,
        tty: bool | None = None,
    ) -> FrameStream:
        """The logs of one task, as :class:`~aiodock.Frame` items (bytes untouched).

        Args:
            task_id: the task's id.
            stdout: include stdout.
            stderr: include stderr.
            follow: keep the stream open for new output.
            since: only output after this (a ``datetime``, Unix seconds or a daemon
                time string).
            timestamps: prefix each line with its time.
            tail: the number of last lines, or ``"all"``.
            details: include the extra attributes given to the log driver.
            tty: whether the task's container has a TTY, when you know it; otherwise
                one inspect of the task decides between raw and multiplexed framing.
        """

        async def choose_tty() -> bool:
            return spec_tty((await self.inspect(task_id)).spec)

        return swarm_logs(
            self._client,
            self._path(task_id, "/logs"),
            choose_tty=choose_tty,
            tty=tty,
            stdout=stdout,
            stderr=stderr,
            follow=follow,
            since=since,
            timestamps=timestamps,
            tail=tail,
            details=details,
            not_found=NotFound,
            operation="task logs",
            min_api="1.29",
        )
