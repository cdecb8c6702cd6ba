"""The ``distribution`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Distribution"]


class Distribution(Resource):
    """Operations on distribution."""

    __slots__ = ()
