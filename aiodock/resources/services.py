"""The ``services`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Services"]


class Services(Resource):
    """Operations on services."""

    __slots__ = ()
