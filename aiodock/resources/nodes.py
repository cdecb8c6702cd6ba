"""The ``nodes`` namespace: the machines of a swarm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import models
from .._convert import unstructure
from .._filters import Filters, encode_filters
from .._http.request import Request, quote_path
from ..errors import InvalidArgument, NodeNotFound
from ._swarm_base import SwarmResource, version_index

if TYPE_CHECKING:
    from ..models import Node, NodeSpec, ObjectVersion

__all__ = ["Nodes"]


class Nodes(SwarmResource):
    """List, inspect, update (role, availability, labels) and remove swarm nodes."""

    __slots__ = ()

    def _path(self, node_id: str, suffix: str = "") -> str:
        return "/nodes/" + quote_path(node_id, "node_id") + suffix

    async def list(self, *, filters: Filters | None = None) -> list[Node]:
        """Nodes of the swarm.

        Args:
            filters: ``id``, ``name``, ``role``, ``membership``, ``label``,
                ``node.label``; e.g. ``{"role": "manager"}``.
        """
        return await self._guard(
            self._client._models(
                Request("GET", "/nodes", params={"filters": encode_filters(filters)}), models.Node
            )
        )

    async def inspect(self, node_id: str) -> Node:
        """One node (``"self"`` is not special: use the id from ``system.info()``).

        Args:
            node_id: the node's id or name.
        """
        return await self._guard(
            self._client._model(
                Request("GET", self._path(node_id), not_found=NodeNotFound), models.Node
            )
        )

    async def update(
        self, node_id: str, spec: NodeSpec, *, version: int | ObjectVersion | None
    ) -> None:
        """Replace a node's spec: its name, labels, role and availability.

        Read the node first and change its spec (``attrs.evolve(node.spec, labels={...})``).

        Args:
            node_id: the node's id.
            spec: the new spec.
            version: ``node.version`` (or its index) as read; a stale one raises
                :class:`~aiodock.errors.Conflict`.
        """
        if not isinstance(spec, models.NodeSpec):
            raise InvalidArgument("spec", type(spec).__name__, "expected a NodeSpec")
        if spec.role not in ("", "worker", "manager"):
            raise InvalidArgument("spec.role", spec.role, "expected 'worker' or 'manager'")
        if spec.availability not in ("", "active", "pause", "drain"):
            raise InvalidArgument(
                "spec.availability", spec.availability, "expected 'active', 'pause' or 'drain'"
            )
        index = version_index(version)
        await self._guard(
            self._client._status(
                Request(
                    "POST",
                    self._path(node_id, "/update"),
                    params={"version": index},
                    body=unstructure(spec),
                    not_found=NodeNotFound,
                )
            ),
            version=index,
        )

    async def remove(self, node_id: str, *, force: bool = False) -> None:
        """Remove a node from the swarm. A manager must be demoted first.

        Args:
            node_id: the node's id.
            force: needed for a node that is still up.
        """
        await self._guard(
            self._client._status(
                Request(
                    "DELETE",
                    self._path(node_id),
                    params={"force": True if force else None},
                    not_found=NodeNotFound,
                )
            )
        )
