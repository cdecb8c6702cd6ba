"""The ``containers`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Containers"]


class Containers(Resource):
    """Operations on containers."""

    __slots__ = ()
