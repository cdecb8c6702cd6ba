"""The ``swarm`` namespace: create, join, leave, inspect, update and unlock the swarm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import models
from .._convert import unstructure
from .._http.request import NO_LIMIT, Request
from ..errors import InvalidArgument
from ._swarm_base import SwarmResource, version_index

if TYPE_CHECKING:
    from ..models import ObjectVersion, Swarm, SwarmSpec

__all__ = ["SwarmNamespace"]


def _addr_list(value: str | Sequence[str], parameter: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items or not all(isinstance(item, str) and item for item in items):
        raise InvalidArgument(parameter, value, "expected one or more 'host:port' addresses")
    return items


def _optional_str(value: str | None, parameter: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(parameter, value, "expected a string")
    return value or None


def _secret_str(value: str, parameter: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        # never echo what was given: it may be (part of) a secret
        raise InvalidArgument(parameter, f"<{type(value).__name__}>", f"expected the {what}")
    return value


class SwarmNamespace(SwarmResource):
    """Create, join, leave, inspect, update and unlock the swarm.

    Everything but :meth:`init`, :meth:`join` and :meth:`unlock` needs the
    daemon to be a swarm manager, and raises
    :class:`~aiodock.errors.NotInSwarm` otherwise.
    """

    __slots__ = ()

    async def init(
        self,
        *,
        advertise_addr: str | None = None,
        listen_addr: str = "0.0.0.0:2377",
        data_path_addr: str | None = None,
        data_path_port: int | None = None,
        default_addr_pool: Sequence[str] | None = None,
        subnet_size: int | None = None,
        force_new_cluster: bool = False,
        spec: SwarmSpec | None = None,
    ) -> str:
        """Make this daemon the first manager of a new swarm; returns this node's id.

        Args:
            advertise_addr: what other nodes are told to use: an address,
                ``host:port`` or an interface name.
            listen_addr: where managers talk to each other (``host:port``).
            data_path_addr: the address or interface for data-path (overlay) traffic.
            data_path_port: the UDP port of data-path traffic, 1024..49151 (default 4789).
            default_addr_pool: subnets (CIDR) that overlay networks get theirs from.
            subnet_size: the prefix length of each network's subnet from the pool.
            force_new_cluster: start a new single-manager cluster from this node's
                state (to recover from a lost quorum).
            spec: the swarm's settings (raft, dispatcher, CA, autolock...).
        """
        if not isinstance(listen_addr, str) or not listen_addr:
            raise InvalidArgument("listen_addr", listen_addr, "expected 'host:port'")
        if data_path_port is not None:
            if isinstance(data_path_port, bool) or not (
                isinstance(data_path_port, int) and 1024 <= data_path_port <= 49151
            ):
                raise InvalidArgument("data_path_port", data_path_port, "expected 1024..49151")
            await self._client._require_api("data_path_port", "1.40")
        pools = None
        if default_addr_pool is not None:
            pools = _addr_list(default_addr_pool, "default_addr_pool")
            await self._client._require_api("default_addr_pool", "1.39")
        if subnet_size is not None:
            if isinstance(subnet_size, bool) or not (
                isinstance(subnet_size, int) and 0 < subnet_size <= 32
            ):
                raise InvalidArgument("subnet_size", subnet_size, "expected 1..32")
            await self._client._require_api("subnet_size", "1.39")
        if spec is not None and not isinstance(spec, models.SwarmSpec):
            raise InvalidArgument("spec", spec, "expected a SwarmSpec")
        request = models.SwarmInitRequest(
            listen_addr=listen_addr,
            advertise_addr=_optional_str(advertise_addr, "advertise_addr") or "",
            force_new_cluster=bool(force_new_cluster),
            data_path_addr=(data_path_addr and _optional_str(data_path_addr, "data_path_addr"))
            or "",
            data_path_port=data_path_port or 0,
            default_addr_pool=pools or [],
            subnet_size=subnet_size or 0,
            spec=spec,
        )
        keep = ["listen_addr", "advertise_addr", "force_new_cluster"]
        body = unstructure(request, keep=keep + ([] if pools is None else ["default_addr_pool"]))
        node_id = await self._guard(
            self._client._json(Request("POST", "/swarm/init", body=body, timeout=NO_LIMIT))
        )
        return str(node_id or "")

    async def join(
        self,
        remote_addrs: str | Sequence[str],
        join_token: str,
        *,
        listen_addr: str = "0.0.0.0:2377",
        advertise_addr: str | None = None,
        data_path_addr: str | None = None,
    ) -> None:
        """Join an existing swarm through one of its managers.

        Args:
            remote_addrs: one manager address or several (``host:port``).
            join_token: the worker or manager token of that swarm
                (``swarm.inspect().join_tokens``); it never appears in an error.
            listen_addr: where this node listens for managers (``host:port``).
            advertise_addr: what other nodes are told to use to reach this one.
            data_path_addr: the address or interface for data-path (overlay) traffic.
        """
        request = models.SwarmJoinRequest(
            listen_addr=listen_addr,
            advertise_addr=_optional_str(advertise_addr, "advertise_addr") or "",
            remote_addrs=_addr_list(remote_addrs, "remote_addrs"),
            join_token=_secret_str(join_token, "join_token", "swarm's join token"),
            data_path_addr=(data_path_addr and _optional_str(data_path_addr, "data_path_addr"))
            or "",
        )
        body = unstructure(
            request, keep=("listen_addr", "advertise_addr", "remote_addrs", "join_token")
        )
        await self._guard(
            self._client._status(Request("POST", "/swarm/join", body=body, timeout=NO_LIMIT))
        )

    async def leave(self, *, force: bool = False) -> None:
        """Leave the swarm.

        Args:
            force: needed for a manager (it may break the swarm).
        """
        await self._guard(
            self._client._status(
                Request("POST", "/swarm/leave", params={"force": bool(force)}, timeout=NO_LIMIT)
            )
        )

    async def inspect(self) -> Swarm:
        """The swarm's id, version, settings and join tokens."""
        return await self._guard(self._client._model(Request("GET", "/swarm"), models.Swarm))

    async def update(
        self,
        spec: SwarmSpec,
        *,
        version: int | ObjectVersion | None,
        rotate_worker_token: bool = False,
        rotate_manager_token: bool = False,
        rotate_manager_unlock_key: bool = False,
    ) -> None:
        """Replace the swarm's settings with ``spec``.

        Read the current ones first (``s = await docker.swarm.inspect()``), change
        what you need (``attrs.evolve(s.spec, ...)``) and pass ``version=s.version``.

        Args:
            spec: the new settings.
            version: the swarm's ``version`` (or ``version.index``) as read; a stale
                one raises :class:`~aiodock.errors.Conflict`.
            rotate_worker_token: issue a new worker join token.
            rotate_manager_token: issue a new manager join token.
            rotate_manager_unlock_key: issue a new unlock key.
        """
        if not isinstance(spec, models.SwarmSpec):
            raise InvalidArgument("spec", spec, "expected a SwarmSpec (from swarm.inspect())")
        index = version_index(version)
        params = {
            "version": index,
            "rotateWorkerToken": bool(rotate_worker_token),
            "rotateManagerToken": bool(rotate_manager_token),
            "rotateManagerUnlockKey": bool(rotate_manager_unlock_key),
        }
        await self._guard(
            self._client._status(
                Request("POST", "/swarm/update", params=params, body=unstructure(spec))
            ),
            version=index,
        )

    async def unlock_key(self) -> str:
        """The key that unlocks this swarm after a restart when autolock is on (``""`` if off)."""
        answer = await self._guard(
            self._client._model(Request("GET", "/swarm/unlockkey"), models.UnlockKeyResponse)
        )
        return answer.unlock_key

    async def unlock(self, key: str) -> None:
        """Unlock a locked manager with its unlock key (the key never appears in an error).

        A swarm that is not locked answers :class:`~aiodock.errors.Conflict`.

        Args:
            key: the unlock key from :meth:`unlock_key`.
        """
        request = models.SwarmUnlockRequest(
            unlock_key=_secret_str(key, "key", "swarm's unlock key")
        )
        body = unstructure(request, keep=("unlock_key",))
        await self._guard(self._client._status(Request("POST", "/swarm/unlock", body=body)))
