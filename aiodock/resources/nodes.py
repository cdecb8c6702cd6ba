"""The ``nodes`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Nodes"]


class Nodes(Resource):
    """Operations on nodes."""

    __slots__ = ()
