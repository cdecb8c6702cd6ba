"""Credentials, tokens and secret data never show in a repr, a str, an error or a log.

Three layers:

- every attrs class anywhere in aiodock is searched for fields that hold secret
  material (by name, so a field added later is covered without touching this
  file); each is set to a sentinel and the sentinel must not appear in ``repr``
  or ``str`` of the object, nor of a model that contains it;
- every exception class aiodock defines is built with secret-bearing objects as
  its arguments and must not show the sentinel;
- calls that send secrets (login, pull with auth, swarm join/unlock, secret
  create) fail against FakeDocker, and neither the exception chain nor any log
  record shows the sentinel, while the request on the wire does carry it (so the
  test is not passing because the secret was never used).
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import logging
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import aiodock
from aiodock import DockerClient
from aiodock._config import TLSConfig
from aiodock._convert import unstructure
from aiodock._http.transport import parse_host
from aiodock._registry.auth import AuthConfig as ClientAuthConfig
from aiodock.errors import DockerError, InvalidArgument
from aiodock.models import JoinTokens, SecretSpec, Swarm, SwarmSpec, SwarmSpecCAConfig
from aiodock.testing import FakeDocker

SENTINEL = "Zq7-s3ntinel-pw-91X"
SENTINEL_BYTES = SENTINEL.encode()

# A field holds secret material when its name says so, when it is the data of a
# Secret* object, or when it is one of a set of tokens (JoinTokens).
_SECRET_NAME = re.compile(
    r"password|passwd|passphrase|token$|unlock_key|signing_ca_key|client_key|private_key"
)


def _all_modules() -> Iterator[Any]:
    yield aiodock
    for info in pkgutil.walk_packages(aiodock.__path__, "aiodock."):
        yield importlib.import_module(info.name)


def _attrs_classes() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in _all_modules():
        for obj in vars(module).values():
            if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _is_secret(cls: type[Any], field: attrs.Attribute[Any]) -> bool:
    text_like = any(t in str(field.type) for t in ("str", "bytes", "PemSource"))
    if not text_like or "bool" in str(field.type):
        return False
    if _SECRET_NAME.search(field.name):
        return True
    if cls.__name__.startswith("Secret") and field.name == "data":
        return True
    return cls.__name__.endswith("Tokens")


def _short_module(cls: type[Any]) -> str:
    """The last part of the module name; ``_generated`` for every generated module."""
    if cls.__module__.startswith("aiodock.models._generated."):
        return "_generated"
    return cls.__module__.rsplit(".", 1)[-1]


SECRET_FIELDS = [
    pytest.param(cls, field.name, id=f"{_short_module(cls)}.{cls.__name__}.{field.name}")
    for cls in _attrs_classes()
    for field in attrs.fields(cls)
    if _is_secret(cls, field)
]

# Extra arguments some classes need before they can hold the secret field.
_NEEDS: dict[str, dict[str, Any]] = {
    "TLSConfig": {"client_cert": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    "SecretCreate": {"name": "db-password"},
    "FakeRegistry": {"host": "registry.test:5000"},
}


def _secret_value(field: attrs.Attribute[Any]) -> Any:
    kind = str(field.type)
    if "bytes" in kind or "PemSource" in kind:
        return b"-----BEGIN PRIVATE KEY-----\n" + SENTINEL_BYTES + b"\n-----END PRIVATE KEY-----\n"
    return SENTINEL


def _texts(obj: Any) -> list[str]:
    return [repr(obj), str(obj), f"{obj}", f"{obj!r}", repr([obj]), repr({"k": obj})]


def test_the_search_finds_the_known_secret_fields() -> None:
    ids = {p.id for p in SECRET_FIELDS}
    expected = {
        "auth.AuthConfig.password",
        "auth.AuthConfig.identitytoken",
        "auth.AuthConfig.registrytoken",
        "_config.TLSConfig.client_key",
        "_generated.AuthResponse.identity_token",
        "_generated.JoinTokens.worker",
        "_generated.JoinTokens.manager",
        "_generated.SecretSpec.data",
        "_generated.SecretCreateRequest.data",
        "_generated.SwarmJoinRequest.join_token",
        "_generated.SwarmSpecCAConfig.signing_ca_key",
        "_generated.SwarmUnlockRequest.unlock_key",
        "_generated.UnlockKeyResponse.unlock_key",
        "swarm.SecretCreate.data",
    }
    assert expected <= ids, sorted(expected - ids)


@pytest.mark.parametrize(("cls", "name"), SECRET_FIELDS)
def test_secret_field_never_shows_in_repr_or_str(cls: type[Any], name: str) -> None:
    field = attrs.fields_dict(cls)[name]
    value = _secret_value(field)
    obj = cls(**{**_NEEDS.get(cls.__name__, {}), name: value})
    assert getattr(obj, name) == value  # masking changes the display, not the data
    for text in _texts(obj):
        assert SENTINEL not in text, text
    # It says a value is there, without showing it.
    assert re.search(r"\*\*\*|hidden|in-memory", repr(obj)), repr(obj)


def test_generated_models_keep_the_secret_on_the_wire() -> None:
    spec = SecretSpec(name="db", data=SENTINEL)
    assert unstructure(spec) == {"Name": "db", "Data": SENTINEL}
    assert "name='db'" in repr(spec) and "data='***'" in repr(spec)


def test_secrets_stay_hidden_inside_containing_models() -> None:
    swarm = Swarm(
        id="x",
        join_tokens=JoinTokens(worker=SENTINEL, manager=SENTINEL + "m"),
        spec=SwarmSpec(name="default", ca_config=SwarmSpecCAConfig(signing_ca_key=SENTINEL)),
    )
    for text in _texts(swarm):
        assert SENTINEL not in text
    assert "JoinTokens(worker='***', manager='***')" in repr(swarm)


def test_client_auth_and_tls_config_hide_secrets_in_repr() -> None:
    auth = ClientAuthConfig(
        username="alice", password=SENTINEL, identitytoken=SENTINEL, registrytoken=SENTINEL
    )
    tls = TLSConfig(
        ca_cert=SENTINEL_BYTES, client_cert=SENTINEL_BYTES + b"c", client_key=SENTINEL_BYTES
    )
    for obj in (auth, tls):
        for text in _texts(obj):
            assert SENTINEL not in text
    assert "alice" in repr(auth)


# --- exceptions ----------------------------------------------------------------------------


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in _all_modules():
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, DockerError)
                and obj.__module__ == module.__name__
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


_SECRET_OBJECTS: list[Any] = [
    ClientAuthConfig(username="u", password=SENTINEL),
    TLSConfig(client_cert=SENTINEL_BYTES, client_key=SENTINEL_BYTES),
    SecretSpec(name="n", data=SENTINEL),
    JoinTokens(worker=SENTINEL),
]


def _arguments(cls: type[BaseException], secret: Any) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for ``cls``: the secret-bearing object wherever an object fits."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = str(p.annotation)
        if annotation.startswith("list[str"):
            value: Any = ["text"]
        elif annotation.startswith("list"):
            value = [secret]
        elif "int" in annotation and "str" not in annotation:
            value = 401
        elif "bytes" in annotation:
            value = b"stderr"
        elif annotation in ("str", "'str'"):
            value = "text"
        else:
            value = secret  # object, Any, unions: the secret-bearing object
        if p.kind == p.KEYWORD_ONLY:
            if p.default is p.empty:
                kwargs[p.name] = value
        else:
            args.append(value)
    return args, kwargs


EXCEPTIONS = _exception_classes()


def test_every_exception_class_is_covered() -> None:
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"InvalidArgument", "APIError", "StreamError", "ContainerError"} <= names
    assert {"UnsafeArchiveError", "RegistryAuthError", "CredentialHelperError"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("secret", _SECRET_OBJECTS, ids=lambda o: type(o).__name__)
def test_exceptions_built_from_secret_bearing_objects_do_not_show_them(
    cls: type[BaseException], secret: Any
) -> None:
    args, kwargs = _arguments(cls, secret)
    exc = cls(*args, **kwargs)
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert SENTINEL not in text, text


# --- end to end against FakeDocker ---------------------------------------------------------


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _assert_hidden(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    for link in _chain(exc):
        for text in (str(link), repr(link), repr(link.args)):
            assert SENTINEL not in text, text
    assert SENTINEL not in caplog.text
    for record in caplog.records:
        assert SENTINEL not in record.getMessage()


@pytest.fixture
async def fake(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.DEBUG)
    async with FakeDocker() as fake:
        yield fake


async def test_failed_login_hides_the_password(
    fake: FakeDocker, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("POST", "/auth", 401, "login attempt to http://127.0.0.1:5000/v2/ failed")
    async with fake.client() as docker:
        with pytest.raises(DockerError) as info:
            await docker.system.login(
                username="alice", password=SENTINEL, registry="127.0.0.1:5000"
            )
    _assert_hidden(info.value, caplog)
    (sent,) = fake.requests_to("POST", "/auth")
    assert json.loads(sent.body)["password"] == SENTINEL


@pytest.mark.parametrize("in_band", [False, True])
async def test_failed_pull_with_credentials_hides_them(
    fake: FakeDocker, caplog: pytest.LogCaptureFixture, in_band: bool
) -> None:
    ref = "127.0.0.1:5000/private/app:1"
    if in_band:
        fake.set_pull(ref, error="unauthorized: authentication required")
    else:
        fake.set_pull(ref, status=401, error="unauthorized: authentication required")
    auth = ClientAuthConfig(username="alice", password=SENTINEL, serveraddress="127.0.0.1:5000")
    async with fake.client() as docker:
        with pytest.raises(DockerError) as info:
            await docker.images.pull(ref, auth=auth).collect()
    _assert_hidden(info.value, caplog)
    (sent,) = fake.requests_to("POST", "/images/create")
    header = sent.headers["X-Registry-Auth"]
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert decoded["password"] == SENTINEL


async def test_failed_swarm_join_and_unlock_hide_token_and_key(
    fake: FakeDocker, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("POST", "/swarm/join", 500, "could not join: connection refused")
    fake.fail_next("POST", "/swarm/unlock", 500, "invalid key")
    async with fake.client() as docker:
        with pytest.raises(DockerError) as joined:
            await docker.swarm.join(["127.0.0.1:2377"], SENTINEL)
        with pytest.raises(DockerError) as unlocked:
            await docker.swarm.unlock(SENTINEL)
    _assert_hidden(joined.value, caplog)
    _assert_hidden(unlocked.value, caplog)
    assert json.loads(fake.requests_to("POST", "/swarm/join")[0].body)["JoinToken"] == SENTINEL
    assert json.loads(fake.requests_to("POST", "/swarm/unlock")[0].body)["UnlockKey"] == SENTINEL


async def test_failed_secret_create_hides_the_data(
    fake: FakeDocker, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("POST", "/secrets/create", 500, "rpc error: code = Unavailable")
    async with fake.client() as docker:
        with pytest.raises(DockerError) as info:
            await docker.secrets.create("db-password", SENTINEL)
    _assert_hidden(info.value, caplog)
    body = json.loads(fake.requests_to("POST", "/secrets/create")[0].body)
    assert base64.b64decode(body["Data"]) == SENTINEL_BYTES


@pytest.mark.parametrize("secret", [SENTINEL, "", None, 5, b"x"])
async def test_invalid_secret_arguments_are_refused_without_echoing(
    secret: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing is sent: the client is never even connected.
    async with DockerClient("unix:///nonexistent/docker.sock", api_version="1.41") as docker:
        with pytest.raises(DockerError) as info:
            await docker.swarm.join([], secret)  # no addresses: refused before any request
    assert isinstance(info.value, InvalidArgument)
    _assert_hidden(info.value, caplog)


# --- daemon addresses with credentials ------------------------------------------------------


def test_refused_tcp_address_with_credentials_does_not_echo_the_password() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_host(f"tcp://alice:{SENTINEL}@127.0.0.1:2375")
    assert SENTINEL not in str(info.value)


async def test_ssh_address_with_a_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_host(f"ssh://alice:{SENTINEL}@127.0.0.1:22")
    assert SENTINEL not in str(info.value)
