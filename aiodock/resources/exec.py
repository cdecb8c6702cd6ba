"""The ``exec`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Exec"]


class Exec(Resource):
    """Operations on exec."""

    __slots__ = ()
