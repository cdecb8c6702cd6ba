"""The ``swarm`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Swarm"]


class Swarm(Resource):
    """Operations on swarm."""

    __slots__ = ()
