"""Registry credentials the way the docker CLI finds them.

Lookup order for one registry (:func:`resolve_auth`):

1. a credential helper named for the registry in ``credHelpers``,
   else the default helper in ``credsStore``
   (``docker-credential-<name> get``, server address on stdin);
2. the ``auths`` section of ``config.json`` (base64 ``auth`` = ``user:password``,
   or an ``identitytoken``).

Docker Hub answers to several names (``docker.io``, ``index.docker.io``,
``registry-1.docker.io``); its key in ``config.json`` and for helpers is
``https://index.docker.io/v1/``. Keys written as URLs (``https://host:port/v2/``)
match their host.

The Engine receives credentials as base64url JSON in ``X-Registry-Auth``
(:func:`encode_registry_auth`) or, for builds, a map of them in
``X-Registry-Config`` (:func:`encode_registry_config`).

Secrets never appear in a repr, a ``str`` or an exception message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import re
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias, cast

import attrs

from .._config import ConfigError, config_dir_from_env, read_config_file
from .._http.timeouts import wait_for
from .._names import unusable
from ..errors import CredentialHelperError, InvalidArgument

__all__ = [
    "DOCKER_HUB_AUTH_KEY",
    "AuthConfig",
    "CredentialHelperError",
    "all_auths",
    "encode_registry_auth",
    "encode_registry_config",
    "load_docker_config",
    "normalize_registry",
    "resolve_auth",
]

#: The key Docker Hub credentials are stored under (config.json and helpers).
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
_HUB_HOSTNAMES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

#: A helper answering with this user name returned an identity token as Secret.
_TOKEN_USERNAME = "<token>"
_NOT_FOUND_TEXT = "credentials not found"
#: How long to wait for a killed helper to go away.
_REAP_TIMEOUT = 2.0
_AUTH_KEYS = (
    "username",
    "password",
    "auth",
    "email",
    "serveraddress",
    "identitytoken",
    "registrytoken",
)


def _mask(value: str | None) -> str:
    return "'***'" if value else repr(value)


@attrs.frozen
class AuthConfig:
    """Credentials for one registry, as the Engine's ``AuthConfig`` object.

    ``identitytoken`` is an OAuth refresh token (from a login or a helper's
    ``<token>`` answer); ``registrytoken`` a bearer token sent as is. The
    repr (and so ``str``) shows ``'***'`` for password and tokens.
    """

    username: str | None = None
    password: str | None = attrs.field(default=None, repr=_mask)
    email: str | None = None
    serveraddress: str | None = None
    identitytoken: str | None = attrs.field(default=None, repr=_mask)
    registrytoken: str | None = attrs.field(default=None, repr=_mask)

    def to_dict(self) -> dict[str, str]:
        """The Engine's JSON form: lowercase keys, empty fields left out."""
        return {
            key: value
            for key in (
                "username",
                "password",
                "email",
                "serveraddress",
                "identitytoken",
                "registrytoken",
            )
            if (value := getattr(self, key))
        }

    @property
    def has_credentials(self) -> bool:
        """True when there is something to authenticate with."""
        return bool(self.username or self.password or self.identitytoken or self.registrytoken)


# A real alias (not a string), so that typing.get_type_hints resolves signatures using it.
AuthLike: TypeAlias = AuthConfig | Mapping[str, Any]


# --- config.json ---------------------------------------------------------------------


def load_docker_config(config_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read ``config.json`` from ``config_dir`` (default ``DOCKER_CONFIG`` or ``~/.docker``).

    A missing or empty file gives ``{}``; invalid JSON raises :class:`ConfigError`
    naming the file.
    """
    directory = Path(config_dir) if config_dir is not None else config_dir_from_env()
    return read_config_file(directory)


def _hostname(key: str) -> str:
    """``https://host:port/v2/`` -> ``host:port`` (what the CLI calls ConvertToHostname)."""
    stripped = key.strip()
    for scheme in ("https://", "http://"):
        if stripped.lower().startswith(scheme):
            stripped = stripped[len(scheme) :]
            break
    return stripped.split("/", 1)[0].lower()


def normalize_registry(registry: str | None) -> str:
    """The key credentials for ``registry`` are stored under.

    Docker Hub (any of its names, or an empty string) gives
    :data:`DOCKER_HUB_AUTH_KEY`; anything else its ``host[:port]``.
    """
    if not registry:
        return DOCKER_HUB_AUTH_KEY
    host = _hostname(registry)
    if not host or host in _HUB_HOSTNAMES:
        return DOCKER_HUB_AUTH_KEY
    return host


def _same_registry(config_key: str, wanted: str) -> bool:
    return normalize_registry(config_key) == wanted


def _lookup(section: Any, wanted: str) -> tuple[str, Any] | None:
    """Find ``wanted`` (a normalised key) in a config section, exactly first."""
    if not isinstance(section, Mapping):
        return None
    if wanted in section:
        return wanted, section[wanted]
    for key, value in section.items():
        if isinstance(key, str) and _same_registry(key, wanted):
            return key, value
    return None


def _where(config_dir: str | os.PathLike[str] | None) -> str:
    return str(Path(config_dir) / "config.json") if config_dir is not None else "the docker config"


def _decode_auths_entry(key: str, entry: Any, where: str) -> AuthConfig | None:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"auths entry {key!r} in {where} must be a JSON object")
    username = entry.get("username") or None
    password = entry.get("password") or None
    encoded = entry.get("auth")
    if encoded:
        if not isinstance(encoded, str):
            raise ConfigError(f"the 'auth' value for {key!r} in {where} must be a string")
        try:
            raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"the 'auth' value for {key!r} in {where} is not base64 of 'user:password'"
            ) from None
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise ConfigError(
                f"the 'auth' value for {key!r} in {where} does not decode to 'user:password'"
            )
        username, password = user or None, secret or None
    identitytoken = entry.get("identitytoken") or None
    registrytoken = entry.get("registrytoken") or None
    email = entry.get("email") or None
    for name, value in (
        ("username", username),
        ("password", password),
        ("identitytoken", identitytoken),
        ("registrytoken", registrytoken),
        ("email", email),
    ):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name} for {key!r} in {where} must be a string")
    auth = AuthConfig(
        username=username,
        password=password,
        email=email,
        serveraddress=key,
        identitytoken=identitytoken,
        registrytoken=registrytoken,
    )
    return auth if auth.has_credentials else None


# --- credential helpers --------------------------------------------------------------


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return  # already reaped: its pid may belong to someone else by now
    try:
        # The helper runs in its own session; take its children down with it.
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError, OSError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill a helper and wait (briefly) until it and its pipes are gone."""
    _kill(proc)
    with contextlib.suppress(asyncio.TimeoutError):
        await wait_for(proc.wait(), _REAP_TIMEOUT)
    # Close the pipes from our side: the helper may have exited before its pipes
    # reported EOF (the transport then stays open if the loop ends first, and warns),
    # or something that left its session still holds them.
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


async def _run_helper(
    helper: str, action: str, payload: bytes, registry: str, timeout: float
) -> tuple[int, bytes, bytes]:
    program = f"docker-credential-{helper}"
    if "/" in helper or "\\" in helper or not helper.strip():
        raise CredentialHelperError(
            helper, registry, "a helper name must be a plain name, not a path"
        )
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            program,
            action,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    )
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # Cancelled while the helper starts: asyncio would close it by waiting until
        # nothing holds its pipes, the helper's own children included (a `sleep 60`
        # made this take a minute). Let the start finish, then kill the whole session.
        with contextlib.suppress(BaseException):
            await _reap(await spawn)
        raise
    except FileNotFoundError:
        raise CredentialHelperError(
            helper, registry, f"{program} is not installed (not found on PATH)"
        ) from None
    except OSError as exc:
        raise CredentialHelperError(
            helper, registry, f"cannot run {program}: {exc.strerror or exc}"
        ) from None
    try:
        out, err = await wait_for(proc.communicate(payload), timeout)
    except asyncio.TimeoutError:
        await _reap(proc)
        raise CredentialHelperError(
            helper, registry, f"no answer within {timeout:g} s; the helper was killed"
        ) from None
    except BaseException:
        with contextlib.suppress(BaseException):
            await _reap(proc)
        raise
    # communicate() returned: the process was reaped and has an exit status.
    return cast(int, proc.returncode), out, err


def _json_or_none(out: bytes) -> Any:
    """The helper's JSON answer, or ``None``; the decode error (which holds the
    output) is dropped here so that no exception raised later can chain to it."""
    try:
        return json.loads(out)
    except ValueError:
        return None


def _not_found(out: bytes, err: bytes) -> bool:
    """Did the helper print its documented "credentials not found" message?"""
    return _NOT_FOUND_TEXT in (out + err).decode("utf-8", "replace").lower()


def _helper_failed(
    helper: str, registry: str, action: str, code: int, not_found: bool
) -> Exception:
    # A helper's output is never shown (nor logged): helpers print tokens in
    # their errors, and no filter can tell a token from other text.
    hint = " (the helper reports: credentials not found)" if not_found else ""
    return CredentialHelperError(helper, registry, f"{action!r} exited with status {code}{hint}")


async def _helper_get(helper: str, server: str, timeout: float) -> AuthConfig | None:
    code, out, err = await _run_helper(helper, "get", server.encode("utf-8"), server, timeout)
    if code != 0:
        if _not_found(out, err):
            return None
        raise _helper_failed(helper, server, "get", code, False)
    answer = _json_or_none(out)
    if answer is None:
        raise CredentialHelperError(
            helper, server, f"answered with {len(out)} bytes that are not JSON"
        )
    if not isinstance(answer, dict):
        raise CredentialHelperError(helper, server, "answered with JSON that is not an object")
    username = answer.get("Username")
    secret = answer.get("Secret")
    if not isinstance(username, (str, type(None))) or not isinstance(secret, (str, type(None))):
        raise CredentialHelperError(helper, server, "answered with a non-string Username or Secret")
    if not username and not secret:
        return None
    if username == _TOKEN_USERNAME:
        return AuthConfig(serveraddress=server, identitytoken=secret or None)
    return AuthConfig(username=username or None, password=secret or None, serveraddress=server)


async def _helper_list(helper: str, timeout: float) -> list[str]:
    code, out, err = await _run_helper(helper, "list", b"", "*", timeout)
    if code != 0:
        raise _helper_failed(helper, "*", "list", code, _not_found(out, err))
    answer = _json_or_none(out) if out.strip() else {}
    if answer is None:
        raise CredentialHelperError(helper, "*", "'list' answered with invalid JSON")
    if not isinstance(answer, dict):
        raise CredentialHelperError(helper, "*", "'list' answered with JSON that is not an object")
    keys = [key for key in answer if isinstance(key, str)]
    if any(unusable(key) is not None for key in keys):
        # Not echoed: nothing a helper prints goes into an error.
        raise CredentialHelperError(
            helper, "*", "'list' answered with a registry name holding control characters"
        )
    return keys


def _helper_name(value: Any, where: str, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{what} in {where} must be a string")
    reason = unusable(value, os_path=True)
    if reason is not None:
        raise ConfigError(f"{what} in {where} names no usable helper: {value!r} {reason}")
    return value


def _check_key(key: Any, where: str, section: str) -> None:
    """A registry key from config.json goes to a helper's stdin and into headers."""
    reason = unusable(key) if isinstance(key, str) else "must be a string"
    if reason is not None:
        raise ConfigError(f"the {section} key {key!r} in {where} {reason}")


# --- public lookups ------------------------------------------------------------------


async def resolve_auth(
    registry: str | None,
    *,
    config_dir: str | os.PathLike[str] | None = None,
    docker_config: Mapping[str, Any] | None = None,
    helper_timeout: float = 10.0,
) -> AuthConfig | None:
    """Credentials for ``registry`` (a host, ``host:port``, URL or Docker Hub name).

    ``docker_config`` is an already loaded ``config.json`` (else it is read
    from ``config_dir``). Returns ``None`` when nothing is stored. A helper
    that cannot be run, fails, hangs past ``helper_timeout`` seconds (it is
    killed) or answers garbage raises :class:`CredentialHelperError`.
    """
    if isinstance(registry, str) and (reason := unusable(registry)) is not None:
        raise InvalidArgument("registry", registry, reason)
    key = normalize_registry(registry)
    where = _where(config_dir)
    config = docker_config if docker_config is not None else load_docker_config(config_dir)

    helper: str | None = None
    found = _lookup(config.get("credHelpers"), key)
    if found is not None:
        _check_key(found[0], where, "credHelpers")
        helper = _helper_name(found[1], where, f"credHelpers[{found[0]!r}]")
    if helper is None:
        helper = _helper_name(config.get("credsStore"), where, "credsStore")
    if helper is not None:
        auth = await _helper_get(helper, key, helper_timeout)
        if auth is not None:
            return auth

    entry = _lookup(config.get("auths"), key)
    if entry is None:
        return None
    _check_key(entry[0], where, "auths")
    return _decode_auths_entry(entry[0], entry[1], where)


async def all_auths(
    config_dir: str | os.PathLike[str] | None = None,
    *,
    docker_config: Mapping[str, Any] | None = None,
    helper_timeout: float = 10.0,
) -> dict[str, AuthConfig]:
    """Every stored credential, keyed by registry as in ``config.json`` (for builds).

    Combines ``auths`` entries, everything the ``credsStore`` helper lists and
    every ``credHelpers`` registry; helper answers win over file entries.
    Registries without stored credentials are left out. Helpers run
    concurrently; the first failure is raised once all have finished.
    """
    where = _where(config_dir)
    config = docker_config if docker_config is not None else load_docker_config(config_dir)
    result: dict[str, AuthConfig] = {}

    auths = config.get("auths")
    if isinstance(auths, Mapping):
        for key, entry in auths.items():
            _check_key(key, where, "auths")
            auth = _decode_auths_entry(key, entry, where)
            if auth is not None:
                result[key] = auth

    per_registry: dict[str, str] = {}
    cred_helpers = config.get("credHelpers")
    if isinstance(cred_helpers, Mapping):
        for key, value in cred_helpers.items():
            _check_key(key, where, "credHelpers")
            name = _helper_name(value, where, f"credHelpers[{key!r}]")
            if name is not None:
                per_registry[key] = name
    store = _helper_name(config.get("credsStore"), where, "credsStore")

    wanted: dict[str, str] = {}
    if store is not None:
        covered = {normalize_registry(k) for k in per_registry}
        for key in await _helper_list(store, helper_timeout):
            if normalize_registry(key) not in covered:
                wanted[key] = store
    wanted.update(per_registry)

    keys = list(wanted)
    answers = await asyncio.gather(
        *(_helper_get(wanted[k], k, helper_timeout) for k in keys), return_exceptions=True
    )
    for key, answer in zip(keys, answers, strict=True):
        if isinstance(answer, BaseException):
            raise answer
        if answer is not None:
            result[key] = answer
    return result


# --- headers -------------------------------------------------------------------------


def _auth_dict(auth: AuthLike, parameter: str) -> dict[str, str]:
    if isinstance(auth, AuthConfig):
        return auth.to_dict()
    if not isinstance(auth, Mapping):
        raise InvalidArgument(parameter, type(auth).__name__, "expected an AuthConfig or a mapping")
    out: dict[str, str] = {}
    unknown: list[str] = []
    for raw_key, value in auth.items():
        key = str(raw_key).lower()
        if key not in _AUTH_KEYS:
            unknown.append(str(raw_key))
            continue
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidArgument(parameter, f"<{key}>", f"{key} must be a string")
        out[key] = value
    if unknown:
        raise InvalidArgument(
            parameter, sorted(unknown), f"unknown auth keys; allowed: {', '.join(_AUTH_KEYS)}"
        )
    return out


def _b64url_json(value: Any) -> str:
    data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii")


def encode_registry_auth(auth: AuthLike | None) -> str:
    """The ``X-Registry-Auth`` header value for ``auth`` (``None`` sends ``{}``)."""
    return _b64url_json({} if auth is None else _auth_dict(auth, "auth"))


def encode_registry_config(auths: Mapping[str, AuthLike]) -> str:
    """The ``X-Registry-Config`` header value (registry -> credentials) for builds."""
    if not isinstance(auths, Mapping):
        raise InvalidArgument(
            "registry_config", type(auths).__name__, "expected a mapping of registry to auth"
        )
    return _b64url_json(
        {str(registry): _auth_dict(auth, "registry_config") for registry, auth in auths.items()}
    )


# What the daemon says when a registry turns the credentials down (in-band or as a 500).
_AUTH_MARKERS = (
    "no basic auth credentials",
    "unauthorized",
    "authentication required",
    "incorrect username or password",
    "requested access to the resource is denied",
)


def is_auth_failure(message: str) -> bool:
    """Whether a daemon error message says the registry refused (or wanted) credentials."""
    lowered = message.lower()
    return any(marker in lowered for marker in _AUTH_MARKERS)


def registry_refused(status: int, message: str) -> bool:
    """Whether an error answer (``status``, the daemon's message) is a registry refusing.

    The daemon passes a registry's 401 on as a 401, or as a 500 whose message says so.
    """
    return status == 401 or (
        status >= 500 and (is_auth_failure(message) or _HTTP_401(message) is not None)
    )


_HTTP_401 = re.compile(r"\b401\b").search
