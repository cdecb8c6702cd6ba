"""aiodock: an asyncio-native client for the Docker Engine API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from ._client import DockerClient, Repeated
from ._version import __version__
from .errors import (
    APIError,
    APIVersionError,
    BadRequest,
    BuildError,
    ClientClosedError,
    Conflict,
    ContainerError,
    ContainerNotFound,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    Forbidden,
    ImageNotFound,
    InvalidArgument,
    NetworkNotFound,
    NodeNotFound,
    NotFound,
    NotInSwarm,
    PluginNotFound,
    ServerError,
    ServiceNotFound,
    StreamError,
    TruncatedStreamError,
    Unauthorized,
    UsageError,
    VolumeNotFound,
)

if TYPE_CHECKING:
    from ._config import TLSConfig
    from ._frames import Frame, StreamType
    from ._streaming import AsyncStream, FrameStream, HijackedStream, Output

# Imported on first access (module ``__getattr__``), so that ``import aiodock``
# stays cheap: a client only needs them once it streams or configures TLS.
_LAZY = {
    "TLSConfig": "._config",
    "Frame": "._frames",
    "StreamType": "._frames",
    "AsyncStream": "._streaming",
    "FrameStream": "._streaming",
    "HijackedStream": "._streaming",
    "Output": "._streaming",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiodock' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIError",
    "APIVersionError",
    "AsyncStream",
    "BadRequest",
    "BuildError",
    "ClientClosedError",
    "Conflict",
    "ContainerError",
    "ContainerNotFound",
    "DockerClient",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeoutError",
    "Forbidden",
    "Frame",
    "FrameStream",
    "HijackedStream",
    "ImageNotFound",
    "InvalidArgument",
    "NetworkNotFound",
    "NodeNotFound",
    "NotFound",
    "NotInSwarm",
    "Output",
    "PluginNotFound",
    "Repeated",
    "ServerError",
    "ServiceNotFound",
    "StreamError",
    "StreamType",
    "TLSConfig",
    "TruncatedStreamError",
    "Unauthorized",
    "UsageError",
    "VolumeNotFound",
    "__version__",
    "errors",
]
