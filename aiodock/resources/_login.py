"""Registry login (``docker.system.login`` and :func:`auth_login`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import models
from .._http.request import Request
from .._registry.auth import AuthConfig, AuthLike, encode_registry_auth
from ..errors import InvalidArgument

if TYPE_CHECKING:
    from .._client import DockerClient
    from ..models import AuthResponse


# --- login --------------------------------------------------------------------------------


async def auth_login(
    client: DockerClient,
    auth: AuthLike | None = None,
    *,
    username: str | None = None,
    password: str | None = None,
    registry: str | None = None,
    email: str | None = None,
    identity_token: str | None = None,
) -> AuthResponse:
    """Check credentials against a registry through the daemon (``POST /auth``).

    Give an ``AuthConfig``/mapping, or the parts as keywords (``registry``
    defaults to Docker Hub). Returns the daemon's answer (``status``, and an
    ``identity_token`` when the registry hands one out). Wrong credentials
    raise :class:`~aiodock.errors.RegistryAuthError`. Nothing is stored.
    """
    if auth is not None:
        if any(v is not None for v in (username, password, registry, email, identity_token)):
            raise InvalidArgument("auth", "<auth>", "give either auth or the keyword parts")
        body = _login_body(auth)
    else:
        if not username and not identity_token:
            raise InvalidArgument("username", username, "a username (or identity_token) is needed")
        body = AuthConfig(
            username=username,
            password=password,
            email=email,
            serveraddress=registry or None,
            identitytoken=identity_token,
        ).to_dict()
    return await client._model(
        Request("POST", "/auth", body=body, registry=True), models.AuthResponse
    )


def _login_body(auth: AuthLike) -> dict[str, Any]:
    if isinstance(auth, AuthConfig):
        return auth.to_dict()
    encode_registry_auth(auth)  # validates keys and value types
    return {str(k).lower(): v for k, v in auth.items() if v not in (None, "")}
