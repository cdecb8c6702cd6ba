"""The ``tasks`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Tasks"]


class Tasks(Resource):
    """Operations on tasks."""

    __slots__ = ()
