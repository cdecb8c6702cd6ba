"""The ``plugins`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Plugins"]


class Plugins(Resource):
    """Operations on plugins."""

    __slots__ = ()
