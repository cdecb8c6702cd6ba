"""The ``volumes`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Volumes"]


class Volumes(Resource):
    """Operations on volumes."""

    __slots__ = ()
