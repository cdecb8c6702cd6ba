"""The ``networks`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Networks"]


class Networks(Resource):
    """Operations on networks."""

    __slots__ = ()
