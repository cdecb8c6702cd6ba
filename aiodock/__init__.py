"""aiodock: an asyncio-native client for the Docker Engine API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from ._client import ClientStats, DockerClient, Repeated
from ._version import __version__
from .errors import (
    APIError,
    APIVersionError,
    BadRequest,
    BuildError,
    ClientClosedError,
    ConfigError,
    Conflict,
    ContainerError,
    ContainerNotFound,
    ConvergenceError,
    CredentialHelperError,
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
    RegistryAuthError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    ServiceNotFound,
    StreamError,
    TruncatedStreamError,
    Unauthorized,
    UsageError,
    VolumeNotFound,
)

if TYPE_CHECKING:
    from ._archive import (
        ArchiveExtractionError,
        ArchiveLimitError,
        UnsafeArchiveError,
        extract_archive,
    )
    from ._auth import AuthConfig
    from ._config import InsecureTLSWarning, TLSConfig
    from ._frames import Frame, StreamType
    from ._progress import BuildStream, ProgressStream, ProgressTracker
    from ._streaming import AsyncStream, FrameStream, HijackedStream, Output
    from .models import Event, ExecResult, ProgressMessage, RunResult, Stats
    from .watcher import EventWatcher

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
    "AuthConfig": "._auth",
    "InsecureTLSWarning": "._config",
    "BuildStream": "._progress",
    "ProgressStream": "._progress",
    "ProgressTracker": "._progress",
    "Event": ".models",
    "ExecResult": ".models",
    "ProgressMessage": ".models",
    "RunResult": ".models",
    "Stats": ".models",
    "EventWatcher": ".watcher",
    "ArchiveExtractionError": "._archive",
    "ArchiveLimitError": "._archive",
    "UnsafeArchiveError": "._archive",
    "extract_archive": "._archive",
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
    "ArchiveExtractionError",
    "ArchiveLimitError",
    "AsyncStream",
    "AuthConfig",
    "BadRequest",
    "BuildError",
    "BuildStream",
    "ClientClosedError",
    "ClientStats",
    "ConfigError",
    "Conflict",
    "ContainerError",
    "ContainerNotFound",
    "ConvergenceError",
    "CredentialHelperError",
    "DockerClient",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeoutError",
    "Event",
    "EventWatcher",
    "ExecResult",
    "Forbidden",
    "Frame",
    "FrameStream",
    "HijackedStream",
    "ImageNotFound",
    "InsecureTLSWarning",
    "InvalidArgument",
    "NetworkNotFound",
    "NodeNotFound",
    "NotFound",
    "NotInSwarm",
    "Output",
    "PluginNotFound",
    "ProgressMessage",
    "ProgressStream",
    "ProgressTracker",
    "RegistryAuthError",
    "Repeated",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RunResult",
    "ServerError",
    "ServiceNotFound",
    "Stats",
    "StreamError",
    "StreamType",
    "TLSConfig",
    "TruncatedStreamError",
    "Unauthorized",
    "UnsafeArchiveError",
    "UsageError",
    "VolumeNotFound",
    "__version__",
    "errors",
    "extract_archive",
]
