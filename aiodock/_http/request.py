"""What a call to the Engine is, described before anything is sent.

Resources build a :class:`Request` (method, path, query, body, time limits, which
``NotFound`` a 404 becomes) and hand it to the client's request core, which
serves every kind of call from it: ordinary calls, streams, hijacked
connections, the session upgrade and the attach WebSocket. Nothing here does
I/O or imports aiohttp, so resources stay free of the transport.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from ..errors import InvalidArgument, NotFound

__all__ = ["NO_LIMIT", "UNSET", "Repeated", "Request", "Timeout", "encode_query", "quote_path"]

#: "Not given" for a body (``None`` is a JSON ``null``) and for optional arguments.
UNSET: Any = object()


class Timeout:
    """The time limits of one call, in seconds; ``None`` is no limit.

    Args:
        total: the whole of an ordinary call, from sending to the last byte of
            the answer (streams and hijacked connections have no total).
        inactivity: the longest silence between two reads of a stream or a
            hijacked connection.
    """

    __slots__ = ("inactivity", "total")

    def __init__(self, total: float | None = None, *, inactivity: float | None = None) -> None:
        self.total = total
        self.inactivity = inactivity

    def __repr__(self) -> str:
        return f"Timeout(total={self.total!r}, inactivity={self.inactivity!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Timeout:
            return NotImplemented
        return (self.total, self.inactivity) == (other.total, other.inactivity)

    def __hash__(self) -> int:
        return hash((self.total, self.inactivity))


#: No limit at all: for calls that last as long as the daemon's work does
#: (commit, prune, swarm init, a ``wait`` for a container to exit).
NO_LIMIT: Final = Timeout()


class Request:
    """One call to the Engine.

    A plain class with slots rather than an attrs one: it is built on every call,
    and this costs the least (the request core only reads it).

    Args:
        method: the HTTP method.
        path: the path after the ``/v1.xx`` prefix, its ids already quoted
            (:func:`quote_path`).
        params: the query (see :func:`encode_query`).
        body: a body sent as JSON (``UNSET``: none).
        data: a body sent as it is (bytes, or an async iterable of bytes).
        headers: extra headers; a sequence of pairs may repeat a name.
        timeout: the call's limits; ``None`` keeps the client's.
        not_found: the :class:`~aiodock.errors.NotFound` subclass a 404 becomes.
        versioned: put the API version prefix before ``path``.
        requires: ``(option, minimum API version)`` checked before sending, for
            an option that the negotiated version may not have.
        registry: the daemon talks to a registry for this call: an answer saying
            the registry refused (or wanted) credentials raises
            :class:`~aiodock.errors.RegistryAuthError`.
    """

    __slots__ = (
        "body",
        "data",
        "headers",
        "method",
        "not_found",
        "params",
        "path",
        "registry",
        "requires",
        "timeout",
        "versioned",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = UNSET,
        data: Any = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        timeout: Timeout | None = None,
        not_found: type[NotFound] = NotFound,
        versioned: bool = True,
        requires: tuple[str, str] | None = None,
        registry: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.data = data
        self.headers = headers
        self.timeout = timeout
        self.not_found = not_found
        self.versioned = versioned
        self.requires = requires
        self.registry = registry

    def __repr__(self) -> str:
        # Never the query, headers or body: they may hold credentials.
        return f"<Request {self.method} {self.path}>"

    def header_pairs(self) -> Sequence[tuple[str, str]]:
        """The extra headers as (name, value) pairs."""
        headers = self.headers
        if headers is None:
            return ()
        if isinstance(headers, Mapping):
            return tuple(headers.items())
        return headers


_PLAIN_SEGMENT: Final = re.compile(r"[A-Za-z0-9_.\-]+").fullmatch


def quote_path(value: str, parameter: str = "id") -> str:
    """Quote one path segment (an id or name) so it cannot leave its place in the URL.

    ``/``, ``?``, ``#`` and ``%`` are escaped, and a segment of only dots is
    escaped too so that URL normalisation cannot turn it into ``..``.
    """
    if value.__class__ is str and _PLAIN_SEGMENT(value) and value.strip("."):
        return value  # ids and names: nothing to quote (urllib's quote costs ~1.5 us)
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    try:
        quoted = quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidArgument(
            parameter, value, "must be encodable text (a lone surrogate?)"
        ) from None
    if quoted.strip(".") == "":
        quoted = quoted.replace(".", "%2E")
    return quoted


class Repeated:
    """A query value sent as the key repeated once per item (``names=a&names=b``).

    Args:
        items: the values, one ``key=value`` each.
    """

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = tuple(items)


def _query_value(value: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, (Mapping, list, tuple)):
        from .._convert import json_dumps

        return json_dumps(value).decode()
    return str(value)


def encode_query(params: Mapping[str, Any]) -> str:
    """Encode query parameters; ``None`` values are left out, bools are ``1``/``0``.

    Maps, lists and tuples are sent as JSON, which is what the Engine expects
    for ``filters``, ``buildargs``, ``labels`` and friends; wrap a sequence in
    :class:`Repeated` to repeat the key instead (``names=a&names=b``).
    """
    parts: list[str] = []
    for key, value in params.items():
        if value is None:
            continue
        try:
            if isinstance(value, Repeated):
                for item in value.items:
                    parts.append(f"{key}={quote(str(item), safe='')}")
                continue
            parts.append(f"{key}={quote(_query_value(value), safe='')}")
        except UnicodeEncodeError:
            raise InvalidArgument(
                key, value, "must be encodable text (a lone surrogate?)"
            ) from None
    return "&".join(parts)
