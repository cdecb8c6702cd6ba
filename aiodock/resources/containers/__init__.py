"""The ``containers`` namespace: every Container operation of the Engine API.

Ordinary calls return models; output comes as streams that are lazy (nothing
is sent until they are awaited or iterated) and never decode bytes:

* ``logs`` returns a :class:`LogStream` of :class:`~aiodock.Frame` items,
  demultiplexed in one request. Whether the body is framed is decided from
  the response's ``Content-Type`` on API 1.42+, and from the container's
  ``Config.Tty`` (one inspect, before the request) on older engines, which
  label neither kind.
* ``attach`` returns a :class:`~aiodock.HijackedStream` (stdin and output on
  one upgraded connection); ``attach_websocket`` an :class:`AttachWebSocket`.
* ``stats`` streams :class:`~aiodock.models.containers.Stats` samples.
* ``get_archive`` streams a tar archive (:class:`ArchiveStream`, with the
  path's stat); ``put_archive`` uploads bytes, a file object, an async
  iterable or a local directory packed on the fly.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from ..._http.websocket import AttachWebSocket
from ..._lazy import lazy_attributes
from ..._rules import detach_key_bytes, parse_bytes
from .._logs import LogStream
from ._archives import ArchiveStream
from ._create import CreateOptions, RunOptions, build_create_request
from ._namespace import Containers

if TYPE_CHECKING:
    from ..._tar.archive import UnsafeArchiveError, extract_archive

__all__ = [
    "ArchiveStream",
    "AttachWebSocket",
    "Containers",
    "CreateOptions",
    "LogStream",
    "RunOptions",
    "UnsafeArchiveError",
    "build_create_request",
    "detach_key_bytes",
    "extract_archive",
    "parse_bytes",
]

# Re-exported from _archive, which this package imports only when an archive call
# needs it: it brings tarfile, threads and the tar helpers.
_FROM_ARCHIVE = ("UnsafeArchiveError", "extract_archive")


if not TYPE_CHECKING:  # mypy checks the names against the imports above
    __getattr__ = lazy_attributes(globals(), {name: "..._tar.archive" for name in _FROM_ARCHIVE})


def __dir__() -> builtins.list[str]:
    return sorted({*globals(), *_FROM_ARCHIVE})
