"""The base of every resource namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import DockerClient


class Resource:
    """A namespace of Engine operations bound to one client (or view)."""

    __slots__ = ("_client",)

    def __init__(self, client: DockerClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
