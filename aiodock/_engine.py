"""Which engine answers: Docker or Podman, and its version, from ``GET /version``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["EngineInfo", "engine_from_version"]


@attrs.frozen
class EngineInfo:
    """The engine behind a client.

    ``name`` is ``"Docker"``, ``"Podman"`` or, for anything else, the name the engine
    gives itself; ``version`` is the engine's own version (``"20.10.24"``,
    ``"4.3.1"``) and ``api_version`` the Docker API version it serves. ``platform``
    is ``Platform.Name`` from ``/version`` (often empty for Docker built by a
    distribution).
    """

    name: str
    version: str
    api_version: str
    platform: str = ""

    @property
    def is_podman(self) -> bool:
        return self.name == "Podman"

    @property
    def is_docker(self) -> bool:
        return self.name == "Docker"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def engine_from_version(raw: Mapping[str, Any]) -> EngineInfo:
    """Tell the engine from a ``/version`` answer (the raw JSON object).

    Podman names its component ``"Podman Engine"``; Docker names it ``"Engine"``
    (and Docker Desktop or Docker CE put "Docker" in ``Platform.Name``).
    """
    platform = raw.get("Platform")
    platform_name = _text(platform.get("Name")) if isinstance(platform, Mapping) else ""
    version = _text(raw.get("Version"))
    api_version = _text(raw.get("ApiVersion"))
    components = raw.get("Components")
    names: list[tuple[str, str]] = []
    if isinstance(components, list):
        for item in components:
            if isinstance(item, Mapping):
                names.append((_text(item.get("Name")), _text(item.get("Version"))))
    for name, component_version in names:
        if "podman" in name.lower():
            return EngineInfo("Podman", component_version or version, api_version, platform_name)
    if "podman" in platform_name.lower():
        return EngineInfo("Podman", version, api_version, platform_name)
    for name, component_version in names:
        if name == "Engine":
            return EngineInfo("Docker", component_version or version, api_version, platform_name)
    if "docker" in platform_name.lower() or not names:
        return EngineInfo("Docker", version, api_version, platform_name)
    return EngineInfo(names[0][0], names[0][1] or version, api_version, platform_name)
