"""The ``system`` namespace: ping, version, info, disk usage and the event stream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import _rules, models
from .._filters import Filters, encode_filters
from .._http.request import NO_LIMIT, UNSET, Repeated, Request, Timeout
from .._rules import EventTime
from .._streams.frames import JSONStreamDecoder
from .._streams.streaming import AsyncStream, HijackedStream
from ..errors import InvalidArgument, ResponseValidationError
from ._base import Resource

if TYPE_CHECKING:
    from .._registry.auth import AuthLike
    from ..models import AuthResponse, SystemDataUsageResponse, SystemInfo, SystemVersion
    from ..models.events import Event

__all__ = ["DF_TYPES", "EventTime", "System"]

#: Object kinds ``System.df(types=...)`` can restrict the report to.
DF_TYPES = frozenset({"container", "image", "volume", "build-cache"})


def _event_parser() -> Callable[[Any], Event]:
    # models.events (and the converter it registers Event with) is imported when
    # events are asked for, not with the namespace: a ping needs neither. Likewise
    # the other calls name their models through aiodock.models, which builds a
    # class on first use.
    from ..models.events import parse_event

    def parse(data: Any) -> Event:
        try:
            return parse_event(data)
        except (TypeError, ValueError, AttributeError) as exc:
            # Not a network fault: EventWatcher must not reconnect over it forever.
            raise ResponseValidationError(
                "GET", "/events", "Event", exc, f"{str(data)[:200]!r}: {exc}"
            ) from exc

    return parse


class System(Resource):
    """Daemon-wide operations."""

    __slots__ = ()

    async def ping(self, *, head: bool = False) -> bool:
        """Check the daemon answers.

        Returns ``True``; an unreachable daemon raises
        :class:`~aiodock.errors.DockerConnectionError`.

        Args:
            head: send ``HEAD /_ping`` instead of ``GET``.
        """
        await self._client._status(Request("HEAD" if head else "GET", "/_ping", versioned=False))
        return True

    async def version(self) -> SystemVersion:
        """Versions of the engine and its components."""
        return await self._client._model(Request("GET", "/version"), models.SystemVersion)

    async def info(self) -> SystemInfo:
        """System-wide information about the daemon and host."""
        return await self._client._model(Request("GET", "/info"), models.SystemInfo)

    async def login(
        self,
        auth: AuthLike | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        registry: str | None = None,
        email: str | None = None,
        identity_token: str | None = None,
    ) -> AuthResponse:
        """Check registry credentials through the daemon (``POST /auth``).

        Give an ``AuthConfig``/mapping, or the parts as keywords. Returns the
        daemon's answer (``status``, and an ``identity_token`` when the registry
        hands one out). Wrong credentials raise
        :class:`~aiodock.errors.RegistryAuthError`. Nothing is stored.

        Args:
            auth: an :class:`~aiodock.AuthConfig` or a mapping of its fields
                (instead of the keywords).
            username: the user name.
            password: the password or access token.
            registry: the registry address; Docker Hub by default.
            email: an email address (ignored by most registries).
            identity_token: a token from an earlier login, instead of the password.
        """
        from ._login import auth_login

        return await auth_login(
            self._client,
            auth,
            username=username,
            password=password,
            registry=registry,
            email=email,
            identity_token=identity_token,
        )

    async def session(
        self,
        *,
        session_id: str,
        name: str = "",
        shared_key: str = "",
        grpc_methods: Sequence[str] = (),
    ) -> HijackedStream:
        """Open an interactive session (``POST /session``) for BuildKit-style gRPC.

        The connection is upgraded to ``h2c`` and handed over raw: the daemon then
        acts as the HTTP/2 (gRPC) client of the methods you expose in
        ``grpc_methods``, and the caller serves them over the returned stream
        (``write`` / iterate frames of raw bytes / ``aclose``).

        Args:
            session_id: the session's id (``X-Docker-Expose-Session-Uuid``).
            name: the session's name.
            shared_key: the key that lets builds reuse the session.
            grpc_methods: the gRPC method paths the caller serves.
        """
        if not session_id or not isinstance(session_id, str):
            raise InvalidArgument("session_id", session_id, "expected a non-empty string")
        if isinstance(grpc_methods, str):
            raise InvalidArgument("grpc_methods", grpc_methods, "expected a sequence of names")
        headers = [
            ("X-Docker-Expose-Session-Uuid", session_id),
            ("X-Docker-Expose-Session-Name", name),
            ("X-Docker-Expose-Session-Sharedkey", shared_key),
        ]
        headers += [("X-Docker-Expose-Session-Grpc-Method", m) for m in grpc_methods]
        return await self._client._hijack(
            Request("POST", "/session", headers=headers), tty=True, upgrade="h2c"
        )

    async def df(self, *, types: Sequence[str] | None = None) -> SystemDataUsageResponse:
        """Disk usage of images, containers, volumes and the build cache.

        The daemon may take a while to compute sizes, so this call has no total
        time limit.

        Args:
            types: only some of ``container``, ``image``, ``volume`` and
                ``build-cache``; needs API 1.42.
        """
        params: dict[str, Any] = {}
        if types is not None:
            if isinstance(types, str) or not all(isinstance(t, str) for t in types):
                raise InvalidArgument("types", types, "expected a sequence of strings")
            unknown = sorted(set(types) - DF_TYPES)
            if unknown:
                raise InvalidArgument(
                    "types", types, f"unknown kinds {unknown}; expected some of {sorted(DF_TYPES)}"
                )
            await self._client._require_api("df(types=...)", "1.42")
            params["type"] = Repeated(list(types))
        return await self._client._model(
            Request("GET", "/system/df", params=params, timeout=NO_LIMIT),
            models.SystemDataUsageResponse,
        )

    def events(
        self,
        *,
        filters: Filters | None = None,
        since: EventTime | None = None,
        until: EventTime | None = None,
        inactivity_timeout: float | None = UNSET,
    ) -> AsyncStream[Event]:
        """Stream daemon events as :class:`~aiodock.models.events.Event`.

        Use it as ``async with docker.system.events(...) as stream: async for e in
        stream`` so the connection is released however the loop ends. For a
        long-running consumer that reconnects and fans out, see
        :class:`aiodock.watcher.EventWatcher`.

        Args:
            filters: ``type``, ``event``, ``container``, ``image``, ``label``,
                ``network``, ``volume``, ``scope``... (``{"type": ["container"]}``).
            since: first replay what the daemon still holds from this time on (it
                keeps only its most recent events): a ``datetime``, Unix seconds, or a
                string (an RFC 3339 time, or a duration such as ``"10m"``: that long ago).
            until: end the stream at this time; in the past, the stream ends after
                the replay. Without it the stream stays open.
            inactivity_timeout: end the stream with
                :class:`~aiodock.errors.DockerTimeoutError` after that many silent
                seconds (default: the client's ``stream_timeout``).
        """
        start, end = _rules.time_window(since, until)
        params: dict[str, Any] = {"filters": encode_filters(filters), "since": start, "until": end}
        if (
            inactivity_timeout is not UNSET
            and inactivity_timeout is not None
            and not inactivity_timeout > 0
        ):
            raise InvalidArgument(
                "inactivity_timeout", inactivity_timeout, "must be positive or None"
            )
        timeout = None if inactivity_timeout is UNSET else Timeout(inactivity=inactivity_timeout)
        stream: AsyncStream[Event] = self._client._stream(
            Request("GET", "/events", params=params, timeout=timeout),
            JSONStreamDecoder(),
            _event_parser(),
        )
        return stream
