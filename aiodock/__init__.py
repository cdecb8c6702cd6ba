"""aiodock: an asyncio-native client for the Docker Engine API."""

from __future__ import annotations

from . import errors
from ._client import DockerClient, Repeated
from ._config import TLSConfig
from ._frames import Frame, StreamType
from ._streaming import AsyncStream, FrameStream, HijackedStream, Output
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
