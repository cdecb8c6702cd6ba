"""Volumes in the fake's store and their Engine JSON."""

from __future__ import annotations

from typing import Any

import attrs

from .values import now_ns, rfc3339

__all__ = ["FakeVolume"]


@attrs.define(eq=False)
class FakeVolume:
    """A volume in the fake's store."""

    name: str
    driver: str = "local"
    labels: dict[str, str] | None = None
    options: dict[str, str] | None = None
    created_ns: int = attrs.Factory(now_ns)

    def inspect(self) -> dict[str, Any]:
        """The volume as ``GET /volumes/{name}`` answers (Engine JSON)."""
        created = rfc3339(self.created_ns // 1_000_000_000 * 1_000_000_000)
        return {
            "CreatedAt": created,
            "Driver": self.driver,
            "Labels": self.labels,
            "Mountpoint": f"/var/lib/docker/volumes/{self.name}/_data",
            "Name": self.name,
            "Options": self.options,
            "Scope": "local",
        }
