"""aiodock: an asyncio-native client for the Docker Engine API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from ._lazy import lazy_attributes
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
    NoEngineFound,
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
    from ._buildkit.secrets import BuildSecret
    from ._buildkit.stream import BuildKitStream
    from ._buildkit.trace import BuildProgress
    from ._client import ClientStats, DockerClient
    from ._config import InsecureTLSWarning, TLSConfig
    from ._engine import EngineInfo
    from ._http.request import Repeated
    from ._options import ClientOptions
    from ._registry.auth import AuthConfig
    from ._streams.frames import Frame, StreamType
    from ._streams.progress import (
        BuildStream,
        ImportStream,
        LayerProgress,
        LoadStream,
        ProgressStream,
        ProgressTracker,
        PullStream,
        PushStream,
    )
    from ._streams.streaming import AsyncStream, FrameStream, HijackedStream, Output
    from ._tar.archive import (
        ArchiveExtractionError,
        ArchiveLimitError,
        UnsafeArchiveError,
        extract_archive,
    )
    from .models import (
        BuildResult,
        Event,
        ExecResult,
        ImportResult,
        LoadResult,
        PathStat,
        ProgressMessage,
        PullResult,
        PushResult,
        RunResult,
        Stats,
    )
    from .resources._logs import LogStream
    from .resources.containers import ArchiveStream, AttachWebSocket, CreateOptions, RunOptions
    from .resources.exec import ExecProcess
    from .watcher import EventWatcher

# Imported on first access (module ``__getattr__``), so that ``import aiodock``
# stays cheap: a client only needs them once it streams or configures TLS, and the
# pytest plugin (aiodock.testing.plugin, loaded by every pytest run where aiodock is
# installed) imports no aiohttp until a test uses its fixtures.
_LAZY = {
    "ClientStats": "._client",
    "DockerClient": "._client",
    "Repeated": "._http.request",
    "TLSConfig": "._config",
    "Frame": "._streams.frames",
    "StreamType": "._streams.frames",
    "AsyncStream": "._streams.streaming",
    "FrameStream": "._streams.streaming",
    "HijackedStream": "._streams.streaming",
    "Output": "._streams.streaming",
    "AuthConfig": "._registry.auth",
    "InsecureTLSWarning": "._config",
    "EngineInfo": "._engine",
    "BuildStream": "._streams.progress",
    "BuildKitStream": "._buildkit.stream",
    "BuildProgress": "._buildkit.trace",
    "BuildSecret": "._buildkit.secrets",
    "ImportStream": "._streams.progress",
    "LayerProgress": "._streams.progress",
    "LoadStream": "._streams.progress",
    "ProgressStream": "._streams.progress",
    "ProgressTracker": "._streams.progress",
    "PullStream": "._streams.progress",
    "PushStream": "._streams.progress",
    "BuildResult": ".models",
    "ImportResult": ".models",
    "LoadResult": ".models",
    "PullResult": ".models",
    "PushResult": ".models",
    "Event": ".models",
    "ExecResult": ".models",
    "ProgressMessage": ".models",
    "RunResult": ".models",
    "Stats": ".models",
    "EventWatcher": ".watcher",
    "ClientOptions": "._options",
    "ArchiveStream": ".resources.containers",
    "AttachWebSocket": ".resources.containers",
    "CreateOptions": ".resources.containers",
    "ExecProcess": ".resources.exec",
    "LogStream": ".resources._logs",
    "PathStat": ".models",
    "RunOptions": ".resources.containers",
    "ArchiveExtractionError": "._tar.archive",
    "ArchiveLimitError": "._tar.archive",
    "UnsafeArchiveError": "._tar.archive",
    "extract_archive": "._tar.archive",
}


if not TYPE_CHECKING:  # mypy checks the names against the imports above
    __getattr__ = lazy_attributes(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIError",
    "APIVersionError",
    "ArchiveExtractionError",
    "ArchiveLimitError",
    "ArchiveStream",
    "AsyncStream",
    "AttachWebSocket",
    "AuthConfig",
    "BadRequest",
    "BuildError",
    "BuildKitStream",
    "BuildProgress",
    "BuildResult",
    "BuildSecret",
    "BuildStream",
    "ClientClosedError",
    "ClientOptions",
    "ClientStats",
    "ConfigError",
    "Conflict",
    "ContainerError",
    "ContainerNotFound",
    "ConvergenceError",
    "CreateOptions",
    "CredentialHelperError",
    "DockerClient",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeoutError",
    "EngineInfo",
    "Event",
    "EventWatcher",
    "ExecProcess",
    "ExecResult",
    "Forbidden",
    "Frame",
    "FrameStream",
    "HijackedStream",
    "ImageNotFound",
    "ImportResult",
    "ImportStream",
    "InsecureTLSWarning",
    "InvalidArgument",
    "LayerProgress",
    "LoadResult",
    "LoadStream",
    "LogStream",
    "NetworkNotFound",
    "NoEngineFound",
    "NodeNotFound",
    "NotFound",
    "NotInSwarm",
    "Output",
    "PathStat",
    "PluginNotFound",
    "ProgressMessage",
    "ProgressStream",
    "ProgressTracker",
    "PullResult",
    "PullStream",
    "PushResult",
    "PushStream",
    "RegistryAuthError",
    "Repeated",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RunOptions",
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
