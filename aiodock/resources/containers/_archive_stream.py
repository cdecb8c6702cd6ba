"""The tar stream ``containers.get_archive`` returns, with the archived path's stat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..._streaming import AsyncStream
from ...errors import ContainerNotFound, NotFound, UsageError

if TYPE_CHECKING:
    from ...models.containers import PathStat


def _archive_not_found(exc: NotFound, container_id: str, path: str) -> NotFound:
    """Tell a missing container from a missing path (both are 404 on archive calls)."""
    if isinstance(exc, ContainerNotFound) or "no such container" in exc.message.lower():
        return ContainerNotFound(exc.status, exc.message, exc.method, exc.path)
    message = exc.message
    if not message or message == "no message from the daemon":
        message = f"no such path in container {container_id}: {path}"
    return NotFound(exc.status, message, exc.method, exc.path)


_ArchiveStream = TypeVar("_ArchiveStream", bound="ArchiveStream")


class ArchiveStream(AsyncStream[bytes]):
    """The chunks of a tar archive from ``get_archive``; :attr:`stat` describes the path.

    Made by ``containers.get_archive``; these arguments are for aiodock's own use.

    Args:
        *args: those of :class:`~aiodock.AsyncStream`.
        target: the container and path, for a not-found error that names them.
        **kwargs: those of :class:`~aiodock.AsyncStream`.
    """

    __slots__ = ("_stat", "_target")

    def __init__(self, *args: Any, target: tuple[str, str] = ("", ""), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stat: PathStat | None = None
        self._target = target

    async def _start(self: _ArchiveStream) -> _ArchiveStream:
        started = self._response is not None
        try:
            await super()._start()
        except NotFound as exc:
            raise _archive_not_found(exc, *self._target) from None
        if not started and self._response is not None:
            from ..._archive import PATH_STAT_HEADER, parse_path_stat

            try:
                self._stat = parse_path_stat(self._response.headers.get(PATH_STAT_HEADER))
            except BaseException:
                self._release()
                raise
        return self

    @property
    def stat(self) -> PathStat:
        """The stat of the archived path (available once the stream is started)."""
        if self._stat is None:
            raise UsageError("the archive stream has not been started; await it first")
        return self._stat
