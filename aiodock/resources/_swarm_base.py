"""What the swarm namespaces share (swarm, nodes, services, tasks, secrets, configs).

Swarm endpoints answer 503 when the daemon is not a swarm manager (or its
swarm is locked); :class:`SwarmResource` turns that into
:class:`~aiodock.errors.NotInSwarm` with a hint on what to do, and an update
sent with a stale ``version`` (the engine's 500 "update out of sequence")
into :class:`~aiodock.errors.Conflict` naming the version that was sent.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from .. import models
from ..errors import APIError, Conflict, InvalidArgument, NotInSwarm
from ._base import Resource

if TYPE_CHECKING:
    from ..models import Driver, ObjectVersion

__all__ = ["SwarmResource", "driver_of", "map_swarm_error", "version_index"]

T = TypeVar("T")

_NOT_MANAGER = ("not a swarm manager", "not part of a swarm")
_LOCKED = ("needs to be unlocked", "swarm is locked", "is encrypted")
_OUT_OF_SEQUENCE = "update out of sequence"


def map_swarm_error(exc: APIError, *, version: int | None = None) -> APIError | None:
    """The clearer error for a swarm endpoint's answer, or ``None`` to keep ``exc``."""
    message = exc.message
    lowered = message.lower()
    if exc.status == 503 and not isinstance(exc, NotInSwarm):
        if any(marker in lowered for marker in _NOT_MANAGER):
            return NotInSwarm(
                exc.status,
                f"{message} [this daemon is not a swarm manager: create a swarm with "
                "`await docker.swarm.init(...)` or join one with `await docker.swarm.join(...)`]",
                exc.method,
                exc.path,
            )
        if any(marker in lowered for marker in _LOCKED):
            return NotInSwarm(
                exc.status,
                f"{message} [the swarm is locked: unlock it with `await docker.swarm.unlock(key)`]",
                exc.method,
                exc.path,
            )
    if _OUT_OF_SEQUENCE in lowered and not isinstance(exc, Conflict):
        sent = f"version {version}" if version is not None else "the version sent"
        return Conflict(
            exc.status,
            f"{message} [{sent} is stale: the object was changed since it was read; "
            "inspect it again and retry with its current version.index]",
            exc.method,
            exc.path,
        )
    return None


def version_index(version: int | ObjectVersion | None, parameter: str = "version") -> int:
    """The object version to send with an update (``obj.version`` or ``obj.version.index``)."""
    if isinstance(version, models.ObjectVersion):
        return version.index
    if version is None:
        raise InvalidArgument(parameter, version, "the object has no version; inspect it first")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InvalidArgument(
            parameter,
            version,
            "expected the object's version index (an int, or the ObjectVersion from inspect)",
        )
    return version


class SwarmResource(Resource):
    """A namespace whose endpoints belong to swarm mode (503 becomes ``NotInSwarm``)."""

    __slots__ = ()

    async def _guard(self, call: Awaitable[T], *, version: int | None = None) -> T:
        try:
            return await call
        except APIError as exc:
            mapped = map_swarm_error(exc, version=version)
            if mapped is None:
                raise
            raise mapped from exc


def driver_of(driver: str | Driver | None, parameter: str) -> Driver | None:
    """A driver given by name or as a :class:`~aiodock.models.Driver`."""
    if driver is None or isinstance(driver, models.Driver):
        return driver
    if isinstance(driver, str) and driver:
        return models.Driver(name=driver)
    raise InvalidArgument(parameter, driver, "expected a driver name or a Driver")
