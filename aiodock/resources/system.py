"""The ``system`` namespace: ping, version, info and friends."""

from __future__ import annotations

from ..models import SystemInfo, SystemVersion
from ._base import Resource

__all__ = ["System"]


class System(Resource):
    """Daemon-wide operations."""

    __slots__ = ()

    async def ping(self, *, head: bool = False) -> bool:
        """Check the daemon answers (``GET /_ping``, or ``HEAD`` with ``head=True``).

        Returns ``True``; an unreachable daemon raises ``DockerConnectionError``.
        """
        await self._client._status("HEAD" if head else "GET", "/_ping", versioned=False)
        return True

    async def version(self) -> SystemVersion:
        """Versions of the engine and its components."""
        return await self._client._model("GET", "/version", SystemVersion)

    async def info(self) -> SystemInfo:
        """System-wide information about the daemon and host."""
        return await self._client._model("GET", "/info", SystemInfo)
