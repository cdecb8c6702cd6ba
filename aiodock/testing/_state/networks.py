"""Networks in the fake's store and their Engine JSON."""

from __future__ import annotations

from typing import Any

import attrs

from .values import now_ns, rfc3339

__all__ = ["FakeNetwork"]


@attrs.define(eq=False)
class FakeNetwork:
    """A network in the fake's store."""

    id: str
    name: str
    driver: str = "bridge"
    scope: str = "local"
    created_ns: int = attrs.Factory(now_ns)
    internal: bool = False
    attachable: bool = False
    ingress: bool = False
    enable_ipv6: bool = False
    ipam: dict[str, Any] = attrs.Factory(
        lambda: {"Driver": "default", "Options": None, "Config": []}
    )
    options: dict[str, str] = attrs.Factory(dict)
    labels: dict[str, str] = attrs.Factory(dict)
    builtin: bool = False

    def inspect(self) -> dict[str, Any]:
        """The network as ``GET /networks/{id}`` answers (Engine JSON)."""
        return {
            "Name": self.name,
            "Id": self.id,
            "Created": rfc3339(self.created_ns),
            "Scope": self.scope,
            "Driver": self.driver,
            "EnableIPv6": self.enable_ipv6,
            "IPAM": self.ipam,
            "Internal": self.internal,
            "Attachable": self.attachable,
            "Ingress": self.ingress,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": {},
            "Options": dict(self.options),
            "Labels": dict(self.labels),
        }

    def addresses(self) -> tuple[str, str]:
        """The gateway and the address a container gets on this network."""
        for config in self.ipam.get("Config") or []:
            subnet = str(config.get("Subnet") or "")
            if subnet.count(".") == 3:
                base = subnet.split("/", 1)[0].rsplit(".", 1)[0]
                return str(config.get("Gateway") or f"{base}.1"), f"{base}.2"
        return "172.18.0.1", "172.18.0.2"
