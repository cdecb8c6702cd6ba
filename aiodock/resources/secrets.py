"""The ``secrets`` namespace."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Secrets"]


class Secrets(Resource):
    """Operations on secrets."""

    __slots__ = ()
