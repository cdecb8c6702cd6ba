"""Typed keyword options: the ``TypedDict`` s that ``**options: Unpack[...]`` signatures use.

A signature with ``**options: Any`` lets a misspelt option (``labells=``) through a
type checker; ``Unpack`` of a ``TypedDict`` makes it an error under ``mypy
--strict`` while keeping one declaration of the options. ``Unpack`` is in
:mod:`typing` from Python 3.11; on 3.10 it comes from ``typing_extensions``
(installed there with aiohttp's dependencies). It is used in annotations only,
which are never evaluated at import time, so aiodock does not depend on it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack
else:  # pragma: no cover - Python 3.10
    try:
        from typing_extensions import Unpack
    except ImportError:  # only typing.get_type_hints would miss it
        Unpack: Any = None

if TYPE_CHECKING:
    from aiohttp import TraceConfig

    from ._config import TLSConfig

__all__ = ["ClientOptions", "Unpack"]


class ClientOptions(TypedDict, total=False):
    """The keyword options of :class:`~aiodock.DockerClient` that
    :meth:`~aiodock.DockerClient.from_env` accepts to override the environment.

    Each is described in :class:`~aiodock.DockerClient`.

    Attributes:
        tls: a ``TLSConfig``, or ``True`` for TLS with the system trust store.
        api_version: pin the Engine API version (``"1.41"``).
        timeout: seconds for ordinary calls (``None``: no limit).
        stream_timeout: inactivity limit of streams in seconds.
        connect_timeout: seconds to connect.
        ssh_options: extra ``ssh`` options for ``ssh://`` hosts.
        headers: HTTP headers sent with every request.
        max_connections: concurrent ordinary calls.
        max_response_size: the largest ordinary answer in bytes.
        trace_configs: aiohttp ``TraceConfig`` objects that see every call.
    """

    tls: TLSConfig | bool | None
    api_version: str | None
    timeout: float | None
    stream_timeout: float | None
    connect_timeout: float | None
    ssh_options: Sequence[str]
    headers: Mapping[str, str] | None
    max_connections: int
    max_response_size: int
    trace_configs: Sequence[TraceConfig]
