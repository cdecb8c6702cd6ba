"""The ``configs`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Configs"]


class Configs(Resource):
    """Operations on configs."""

    __slots__ = ()
