"""The ``images`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Images"]


class Images(Resource):
    """Operations on images."""

    __slots__ = ()
