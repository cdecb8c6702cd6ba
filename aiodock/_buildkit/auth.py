"""Registry credentials for the daemon's pulls during a build (``Auth/Credentials``).

The daemon asks for a host; the answer comes from the same sources as
pull and push (``registry_auth=`` given to the build, else the docker
config and its credential helpers). ``FetchToken`` and the token-authority
methods answer Unimplemented, as older docker CLIs do; the daemon then does
the token dance itself with the basic credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .._registry.auth import AuthConfig, AuthLike, normalize_registry, resolve_auth
from ..errors import DockerError
from . import _proto as pb
from .session import UNAVAILABLE, Call, GrpcError, Handler

__all__ = ["auth_handler"]

_log = logging.getLogger("aiodock.buildkit")


def _as_config(auth: AuthLike) -> AuthConfig:
    if isinstance(auth, AuthConfig):
        return auth
    return AuthConfig(
        username=auth.get("username"),
        password=auth.get("password"),
        identitytoken=auth.get("identitytoken"),
        registrytoken=auth.get("registrytoken"),
    )


def auth_handler(explicit: Mapping[str, AuthLike] | None) -> Handler:
    given = (
        {normalize_registry(key): _as_config(value) for key, value in explicit.items()}
        if explicit is not None
        else None
    )

    async def handle(call: Call) -> None:
        request = await call.recv()
        host = pb.text(pb.first(request or b"", 1, b""))
        key = normalize_registry(host)
        if given is not None:
            auth = given.get(key)
        else:
            try:
                auth = await resolve_auth(host)
            except DockerError:
                raise GrpcError(UNAVAILABLE, f"credentials for {host} could not be read") from None
        found = auth is not None and auth.has_credentials
        _log.debug("session: credentials for %s asked: %s", host, "given" if found else "none")
        response = b""
        if auth is not None:
            if auth.identitytoken:
                response = pb.string_field(2, auth.identitytoken)
            else:
                response = pb.string_field(1, auth.username or "") + pb.string_field(
                    2, auth.password or ""
                )
        await call.send(response)

    return handle
