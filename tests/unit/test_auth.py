"""Registry auth: config.json auths, credential helpers, X-Registry-Auth encoding."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from aiodock._config import ConfigError
from aiodock._registry.auth import (
    DOCKER_HUB_AUTH_KEY,
    AuthConfig,
    CredentialHelperError,
    all_auths,
    encode_registry_auth,
    encode_registry_config,
    load_docker_config,
    normalize_registry,
    resolve_auth,
)
from aiodock.errors import DockerError, InvalidArgument
from tests._wait import eventually

SECRET = "s3cr3t-Pa55"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decode_header(value: str) -> Any:
    assert "+" not in value and "/" not in value
    return json.loads(base64.urlsafe_b64decode(value.encode()))


@pytest.fixture
def cdir(tmp_path: Path) -> Path:
    d = tmp_path / "docker-config"
    d.mkdir()
    return d


def write_config(cdir: Path, data: dict[str, Any]) -> None:
    (cdir / "config.json").write_text(json.dumps(data))


# --- AuthConfig -----------------------------------------------------------------------


def test_authconfig_repr_and_str_mask_secrets() -> None:
    auth = AuthConfig(
        username="alice",
        password=SECRET,
        email="a@example.com",
        serveraddress="r.example",
        identitytoken="idtok-123",
        registrytoken="regtok-456",
    )
    for text in (repr(auth), str(auth), f"{auth}", f"{[auth]}"):
        assert SECRET not in text
        assert "idtok-123" not in text
        assert "regtok-456" not in text
        assert "'***'" in text
        assert "alice" in text


def test_authconfig_repr_shows_absent_secrets_as_none() -> None:
    assert "password=None" in repr(AuthConfig(username="bob"))


def test_authconfig_to_dict_omits_empty() -> None:
    auth = AuthConfig(username="u", password="p", email="", serveraddress="r")
    assert auth.to_dict() == {"username": "u", "password": "p", "serveraddress": "r"}
    assert AuthConfig().to_dict() == {}
    assert not AuthConfig(serveraddress="x").has_credentials
    assert AuthConfig(identitytoken="t").has_credentials


# --- config.json ------------------------------------------------------------------------


def test_load_docker_config_missing_and_empty(cdir: Path) -> None:
    assert load_docker_config(cdir / "absent") == {}
    assert load_docker_config(cdir) == {}
    (cdir / "config.json").write_text("")
    assert load_docker_config(cdir) == {}


def test_load_docker_config_reads(cdir: Path) -> None:
    write_config(cdir, {"auths": {"r": {}}})
    assert load_docker_config(str(cdir)) == {"auths": {"r": {}}}


def test_load_docker_config_uses_docker_config_env(
    cdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(cdir, {"credsStore": "x"})
    monkeypatch.setenv("DOCKER_CONFIG", str(cdir))
    assert load_docker_config() == {"credsStore": "x"}


def test_load_docker_config_invalid_json(cdir: Path) -> None:
    (cdir / "config.json").write_text('{"auths": ')
    with pytest.raises(ConfigError) as info:
        load_docker_config(cdir)
    assert str(cdir / "config.json") in str(info.value)
    assert isinstance(info.value, DockerError)


# --- registry names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        (None, DOCKER_HUB_AUTH_KEY),
        ("", DOCKER_HUB_AUTH_KEY),
        ("docker.io", DOCKER_HUB_AUTH_KEY),
        ("index.docker.io", DOCKER_HUB_AUTH_KEY),
        ("registry-1.docker.io", DOCKER_HUB_AUTH_KEY),
        ("https://index.docker.io/v1/", DOCKER_HUB_AUTH_KEY),
        ("https://index.docker.io/v1", DOCKER_HUB_AUTH_KEY),
        ("localhost:5000", "localhost:5000"),
        ("https://localhost:5000/v2/", "localhost:5000"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("Registry.Example.COM", "registry.example.com"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_normalize_registry(registry: str | None, expected: str) -> None:
    assert normalize_registry(registry) == expected


# --- auths entries --------------------------------------------------------------------------


async def test_auths_entry_decodes_user_password(cdir: Path) -> None:
    write_config(
        cdir, {"auths": {"localhost:5000": {"auth": b64(f"alice:{SECRET}"), "email": "a@x"}}}
    )
    auth = await resolve_auth("localhost:5000", config_dir=cdir)
    assert auth == AuthConfig(
        username="alice", password=SECRET, email="a@x", serveraddress="localhost:5000"
    )


async def test_password_may_contain_colons(cdir: Path) -> None:
    write_config(cdir, {"auths": {"r.io": {"auth": b64("bob:a:b:c")}}})
    auth = await resolve_auth("r.io", config_dir=cdir)
    assert auth is not None and auth.username == "bob" and auth.password == "a:b:c"


async def test_auth_without_padding(cdir: Path) -> None:
    write_config(cdir, {"auths": {"r.io": {"auth": b64("ab:c").rstrip("=")}}})
    auth = await resolve_auth("r.io", config_dir=cdir)
    assert auth is not None and auth.password == "c"


@pytest.mark.parametrize(
    "alias", [None, "", "docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB_AUTH_KEY]
)
async def test_docker_hub_aliases(cdir: Path, alias: str | None) -> None:
    write_config(cdir, {"auths": {DOCKER_HUB_AUTH_KEY: {"auth": b64("hubuser:hubpass")}}})
    auth = await resolve_auth(alias, config_dir=cdir)
    assert auth is not None and auth.username == "hubuser"


@pytest.mark.parametrize("key", ["docker.io", "index.docker.io", "https://index.docker.io/v1"])
async def test_docker_hub_stored_under_other_names(cdir: Path, key: str) -> None:
    write_config(cdir, {"auths": {key: {"auth": b64("hubuser:hubpass")}}})
    auth = await resolve_auth("docker.io", config_dir=cdir)
    assert auth is not None and auth.password == "hubpass"


async def test_auths_keys_given_as_urls(cdir: Path) -> None:
    write_config(cdir, {"auths": {"https://localhost:5000/v2/": {"auth": b64("u:p")}}})
    auth = await resolve_auth("localhost:5000", config_dir=cdir)
    assert auth is not None and auth.username == "u"
    assert auth.serveraddress == "https://localhost:5000/v2/"


async def test_exact_key_wins_over_url_key(cdir: Path) -> None:
    write_config(
        cdir,
        {
            "auths": {
                "https://r.io/v2/": {"auth": b64("url:1")},
                "r.io": {"auth": b64("exact:2")},
            }
        },
    )
    auth = await resolve_auth("r.io", config_dir=cdir)
    assert auth is not None and auth.username == "exact"


async def test_identity_token_entry(cdir: Path) -> None:
    write_config(cdir, {"auths": {"r.io": {"auth": b64("u:"), "identitytoken": "tok"}}})
    auth = await resolve_auth("r.io", config_dir=cdir)
    assert auth is not None
    assert auth.identitytoken == "tok"
    assert auth.password is None


async def test_empty_entry_and_unknown_registry(cdir: Path) -> None:
    write_config(cdir, {"auths": {"r.io": {}}})
    assert await resolve_auth("r.io", config_dir=cdir) is None
    assert await resolve_auth("other.io", config_dir=cdir) is None
    assert await resolve_auth("r.io", config_dir=cdir / "nowhere") is None


@pytest.mark.parametrize("bad", ["!!!notbase64", b64("no-colon-here" + SECRET)])
async def test_bad_auth_value_does_not_leak(cdir: Path, bad: str) -> None:
    write_config(cdir, {"auths": {"r.io": {"auth": bad}}})
    with pytest.raises(ConfigError) as info:
        await resolve_auth("r.io", config_dir=cdir)
    assert SECRET not in str(info.value)
    assert bad not in str(info.value)
    assert "r.io" in str(info.value)
    assert str(cdir / "config.json") in str(info.value)


async def test_preloaded_docker_config_is_used(cdir: Path) -> None:
    (cdir / "config.json").write_text("{broken")
    config = {"auths": {"r.io": {"auth": b64("pre:loaded")}}}
    auth = await resolve_auth("r.io", config_dir=cdir, docker_config=config)
    assert auth is not None and auth.username == "pre"


# --- credential helpers -------------------------------------------------------------------


HELPERS = {
    # answers with a user and a secret that depends on the server it was asked for
    "ok": """
server=$(cat)
printf '%s' "$server" > "$LOGDIR/ok.stdin"
echo "$1" > "$LOGDIR/ok.action"
printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cr3t-Pa55"}' "$server"
""",
    "token": """
cat >/dev/null
printf '{"ServerURL":"x","Username":"<token>","Secret":"refresh-tok"}'
""",
    "notfound": """
cat >/dev/null
echo "credentials not found in native keychain"
exit 1
""",
    "fail": """
cat >/dev/null
echo "boom: the keychain is locked" >&2
exit 3
""",
    "failsecret": """
cat >/dev/null
echo '{"Username":"alice","Secret":"s3cr3t-Pa55"}'
exit 1
""",
    # prints a token as it fails, without the word "secret" anywhere
    "leaky": """
cat >/dev/null
echo "login failed for token ghp_LeakedToken123 (retry later)"
echo "fatal: bearer ghp_LeakedToken123 was refused" >&2
exit 4
""",
    "leakylist": """
if [ "$1" = list ]; then
  echo "cannot list: vault said ghp_LeakedToken123" >&2
  exit 2
fi
cat >/dev/null
exit 1
""",
    "notfoundlist": """
echo "credentials not found in native keychain ghp_LeakedToken123"
exit 1
""",
    "badjson": """
cat >/dev/null
echo "this is not json s3cr3t-Pa55"
""",
    "hang": """
echo $$ > "$LOGDIR/hang.pid"
sleep 60 &
echo $! > "$LOGDIR/hang.child"
wait
""",
    "escape": """
setsid sleep 60 &
echo $! > "$LOGDIR/escape.pid"
exec sleep 60
""",
    "lister": """
if [ "$1" = list ]; then
  printf '{"https://index.docker.io/v1/":"hubuser","store.example":"sam","shadow.example":"x"}'
  exit 0
fi
server=$(cat)
if [ "$server" = "store.example" ]; then
  printf '{"ServerURL":"store.example","Username":"sam","Secret":"store-secret"}'
elif [ "$server" = "https://index.docker.io/v1/" ]; then
  printf '{"ServerURL":"hub","Username":"hubuser","Secret":"hub-secret"}'
else
  echo "credentials not found in native keychain"; exit 1
fi
""",
}


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """docker-credential-<name> scripts on PATH; they log into the returned directory."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    logdir = tmp_path / "log"
    logdir.mkdir()
    for name, body in HELPERS.items():
        script = bindir / f"docker-credential-{name}"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
    noexec = bindir / "docker-credential-noexec"
    noexec.write_text("#!/bin/sh\nexit 0\n")
    noexec.chmod(0o644)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("LOGDIR", str(logdir))
    return logdir


def _gone(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie left for init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def _wait_gone(pid: int) -> bool:
    return await eventually(lambda: _gone(pid), what=f"process {pid} exits")


async def test_cred_helper_success(helpers: Path) -> None:
    config = {"credHelpers": {"r.example": "ok"}}
    auth = await resolve_auth("https://r.example/v2/", docker_config=config)
    assert auth == AuthConfig(username="alice", password=SECRET, serveraddress="r.example")
    assert (helpers / "ok.stdin").read_text() == "r.example"
    assert (helpers / "ok.action").read_text().strip() == "get"


async def test_cred_helper_gets_hub_url(helpers: Path) -> None:
    config = {"credHelpers": {DOCKER_HUB_AUTH_KEY: "ok"}}
    auth = await resolve_auth("docker.io", docker_config=config)
    assert auth is not None and auth.username == "alice"
    assert (helpers / "ok.stdin").read_text() == DOCKER_HUB_AUTH_KEY


async def test_cred_helper_key_as_hostname_for_hub(helpers: Path) -> None:
    auth = await resolve_auth(None, docker_config={"credHelpers": {"docker.io": "ok"}})
    assert auth is not None and auth.username == "alice"


async def test_cred_helper_token_username(helpers: Path) -> None:
    auth = await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "token"}})
    assert auth == AuthConfig(identitytoken="refresh-tok", serveraddress="r.io")
    assert auth is not None and auth.username is None


async def test_cred_helper_not_found_returns_none(helpers: Path) -> None:
    assert await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "notfound"}}) is None


async def test_cred_helper_not_found_falls_back_to_auths(helpers: Path) -> None:
    config = {"credsStore": "notfound", "auths": {"r.io": {"auth": b64("file:pw")}}}
    auth = await resolve_auth("r.io", docker_config=config)
    assert auth is not None and auth.username == "file"


async def test_cred_helper_wins_over_auths(helpers: Path) -> None:
    config = {"credHelpers": {"r.io": "ok"}, "auths": {"r.io": {"auth": b64("file:pw")}}}
    auth = await resolve_auth("r.io", docker_config=config)
    assert auth is not None and auth.username == "alice"


async def test_cred_helpers_win_over_creds_store(helpers: Path) -> None:
    config = {"credsStore": "fail", "credHelpers": {"r.io": "ok"}}
    auth = await resolve_auth("r.io", docker_config=config)
    assert auth is not None and auth.username == "alice"
    with pytest.raises(CredentialHelperError):
        await resolve_auth("other.io", docker_config=config)


async def test_creds_store(helpers: Path) -> None:
    auth = await resolve_auth("q.io", docker_config={"credsStore": "ok"})
    assert auth is not None and auth.password == SECRET
    assert (helpers / "ok.stdin").read_text() == "q.io"


async def test_cred_helper_failure(helpers: Path) -> None:
    with pytest.raises(CredentialHelperError) as info:
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "fail"}})
    err = info.value
    assert err.helper == "fail"
    assert err.registry == "r.io"
    assert "docker-credential-fail" in str(err)
    assert "'r.io'" in str(err)
    assert "'get' exited with status 3" in str(err)
    assert "keychain is locked" not in str(err)  # helper output is never shown
    assert isinstance(err, DockerError)


LEAKED = "ghp_LeakedToken123"


def _assert_no_output(err: BaseException, caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """Neither the error, its arguments, its chain nor any log record holds helper output."""
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    texts = [str(e) for e in seen] + [repr(e) for e in seen] + [repr(e.args) for e in seen]
    texts += [repr(vars(e)) for e in seen]
    texts += [record.getMessage() for record in caplog.records]
    for secret in secrets:
        for text in texts:
            assert secret not in text


@pytest.mark.parametrize("helper", ["failsecret", "leaky"])
async def test_failing_helper_output_never_reaches_the_error(
    helpers: Path, helper: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with pytest.raises(CredentialHelperError) as info:
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": helper}})
    _assert_no_output(info.value, caplog, SECRET, LEAKED, "login failed", "refused")
    message = str(info.value)
    assert f"docker-credential-{helper}" in message
    assert "'get' exited with status" in message
    assert "credentials not found" not in message


async def test_failing_helper_list_output_never_reaches_the_error(
    helpers: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with pytest.raises(CredentialHelperError) as info:
        await all_auths(docker_config={"credsStore": "leakylist"})
    _assert_no_output(info.value, caplog, LEAKED, "vault")
    assert "docker-credential-leakylist" in str(info.value)
    assert "'list' exited with status 2" in str(info.value)


async def test_a_recognised_not_found_answer_gives_a_fixed_hint_only(
    helpers: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(CredentialHelperError) as info:
        await all_auths(docker_config={"credsStore": "notfoundlist"})
    _assert_no_output(info.value, caplog, LEAKED, "native keychain")
    message = str(info.value)
    assert "'list' exited with status 1" in message
    assert message.endswith("(the helper reports: credentials not found)")


async def test_cred_helper_bad_json(helpers: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(CredentialHelperError) as info:
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "badjson"}})
    assert "not JSON" in str(info.value)
    _assert_no_output(info.value, caplog, SECRET)
    assert info.value.__context__ is None  # not even the JSON error, which holds the output


async def test_cred_helper_missing_binary(helpers: Path) -> None:
    with pytest.raises(CredentialHelperError) as info:
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "doesnotexist"}})
    assert "docker-credential-doesnotexist" in str(info.value)
    assert "PATH" in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("name", ["../ok", "x/y", " "])
async def test_cred_helper_name_cannot_be_a_path(helpers: Path, name: str) -> None:
    with pytest.raises(CredentialHelperError, match="plain name"):
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": name}})


async def test_cred_helper_not_executable(helpers: Path) -> None:
    with pytest.raises(CredentialHelperError, match="docker-credential-noexec"):
        await resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "noexec"}})


async def test_cred_helper_timeout_kills_it(helpers: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CredentialHelperError) as info:
        await resolve_auth(
            "r.io", docker_config={"credHelpers": {"r.io": "hang"}}, helper_timeout=0.5
        )
    assert time.monotonic() - started < 5
    assert "killed" in str(info.value)
    assert "0.5" in str(info.value)
    pid = int((helpers / "hang.pid").read_text())
    child = int((helpers / "hang.child").read_text())
    assert await _wait_gone(pid)
    assert await _wait_gone(child)  # the helper's own children die with it
    gc.collect()  # no unclosed transports (ResourceWarning is an error here)


async def test_timeout_with_escaped_child_does_not_hang(helpers: Path) -> None:
    # A grandchild in its own session survives the kill and keeps the pipes open.
    started = time.monotonic()
    try:
        with pytest.raises(CredentialHelperError, match="killed"):
            await resolve_auth(
                "r.io", docker_config={"credHelpers": {"r.io": "escape"}}, helper_timeout=0.3
            )
        assert time.monotonic() - started < 10
        gc.collect()
    finally:
        pid = int((helpers / "escape.pid").read_text())
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


async def test_cancelled_lookup_kills_helper(helpers: Path) -> None:
    task = asyncio.ensure_future(
        resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "hang"}}, helper_timeout=30)
    )
    pidfile = helpers / "hang.child"
    await eventually(lambda: pidfile.exists() and pidfile.read_text().strip())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _wait_gone(int((helpers / "hang.pid").read_text()))
    assert await _wait_gone(int(pidfile.read_text()))


@pytest.mark.parametrize("steps", range(8))
async def test_a_lookup_cancelled_while_the_helper_starts_kills_it_at_once(
    helpers: Path, steps: int
) -> None:
    # Cancelled a few loop steps in, possibly while asyncio is still connecting the
    # helper's pipes: closing then would wait for its child (sleep 60) to let go of them.
    task = asyncio.ensure_future(
        resolve_auth("r.io", docker_config={"credHelpers": {"r.io": "hang"}}, helper_timeout=30)
    )
    for _ in range(steps):
        await asyncio.sleep(0)  # one loop step each: the cancellation lands at each point
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert task in done and task.cancelled()
    for name in ("hang.pid", "hang.child"):  # whatever it had started is gone
        pidfile = helpers / name
        if pidfile.exists() and pidfile.read_text().strip():
            assert await _wait_gone(int(pidfile.read_text()))


async def test_helper_name_must_be_string(helpers: Path, cdir: Path) -> None:
    with pytest.raises(ConfigError, match="credsStore"):
        await resolve_auth("r.io", docker_config={"credsStore": 5})


# --- all_auths -------------------------------------------------------------------------------


async def test_all_auths_combines_sources(helpers: Path, cdir: Path) -> None:
    write_config(
        cdir,
        {
            "auths": {
                "file.example": {"auth": b64("f:fp")},
                "empty.example": {},
                "store.example": {},
            },
            "credsStore": "lister",
            "credHelpers": {"helper.example": "ok", "shadow.example": "token"},
        },
    )
    result = await all_auths(cdir)
    assert set(result) == {
        "file.example",
        "store.example",
        DOCKER_HUB_AUTH_KEY,
        "helper.example",
        "shadow.example",
    }
    assert result["file.example"].password == "fp"
    assert result["store.example"].password == "store-secret"
    assert result[DOCKER_HUB_AUTH_KEY].username == "hubuser"
    assert result["helper.example"].password == SECRET
    # credHelpers beats the store's listing for the same registry
    assert result["shadow.example"].identitytoken == "refresh-tok"


async def test_all_auths_without_helpers(cdir: Path) -> None:
    write_config(cdir, {"auths": {"a.io": {"auth": b64("a:1")}, "b.io": {"identitytoken": "t"}}})
    result = await all_auths(cdir)
    assert result == {
        "a.io": AuthConfig(username="a", password="1", serveraddress="a.io"),
        "b.io": AuthConfig(identitytoken="t", serveraddress="b.io"),
    }


async def test_all_auths_missing_config(cdir: Path) -> None:
    assert await all_auths(cdir / "nothing") == {}


async def test_all_auths_raises_helper_failure(helpers: Path) -> None:
    config = {"credHelpers": {"a.io": "ok", "b.io": "fail"}}
    with pytest.raises(CredentialHelperError) as info:
        await all_auths(docker_config=config)
    assert info.value.registry == "b.io"


# --- headers ------------------------------------------------------------------------------------


def test_encode_registry_auth_from_authconfig() -> None:
    auth = AuthConfig(username="u", password="p", serveraddress="r.io", email="")
    assert decode_header(encode_registry_auth(auth)) == {
        "username": "u",
        "password": "p",
        "serveraddress": "r.io",
    }


def test_encode_registry_auth_identity_token() -> None:
    decoded = decode_header(encode_registry_auth(AuthConfig(identitytoken="t", serveraddress="r")))
    assert decoded == {"identitytoken": "t", "serveraddress": "r"}


def test_encode_registry_auth_none_is_empty_object() -> None:
    assert decode_header(encode_registry_auth(None)) == {}


def test_encode_registry_auth_is_urlsafe() -> None:
    # this password makes standard base64 use both '+' and '/'
    password = "?>?>~~~"
    auth = AuthConfig(username="u", password=password)
    standard = base64.b64encode(
        json.dumps(auth.to_dict(), separators=(",", ":"), sort_keys=True).encode()
    )
    assert b"+" in standard or b"/" in standard
    assert decode_header(encode_registry_auth(auth))["password"] == password


def test_encode_registry_auth_from_mapping() -> None:
    decoded = decode_header(
        encode_registry_auth(
            {"Username": "u", "Password": "p", "email": None, "ServerAddress": "r"}
        )
    )
    assert decoded == {"username": "u", "password": "p", "serveraddress": "r"}


def test_encode_registry_auth_unknown_key_does_not_leak() -> None:
    with pytest.raises(InvalidArgument) as info:
        encode_registry_auth({"user": "u", "password": SECRET})
    assert "user" in str(info.value)
    assert SECRET not in str(info.value)


def test_encode_registry_auth_non_string_value() -> None:
    with pytest.raises(InvalidArgument) as info:
        encode_registry_auth({"username": "u", "password": 12345678})
    assert "12345678" not in str(info.value)


def test_encode_registry_auth_wrong_type() -> None:
    with pytest.raises(InvalidArgument):
        encode_registry_auth(["u", "p"])  # type: ignore[arg-type]


def test_encode_registry_config() -> None:
    value = encode_registry_config(
        {
            "localhost:5000": AuthConfig(username="u", password="p"),
            DOCKER_HUB_AUTH_KEY: {"identitytoken": "t"},
        }
    )
    assert decode_header(value) == {
        "localhost:5000": {"username": "u", "password": "p"},
        DOCKER_HUB_AUTH_KEY: {"identitytoken": "t"},
    }
    assert decode_header(encode_registry_config({})) == {}


async def test_a_reaped_helper_leaves_no_open_pipes(tmp_path: Path) -> None:
    # The helper exits (killed) while a grandchild in its own session holds the pipes:
    # reaping must close them from our side, or the transport stays open and warns later.
    from aiodock._registry.auth import _reap

    pidfile = tmp_path / "escaped.pid"
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        f'setsid sleep 60 & echo $! > "{pidfile}"; exec sleep 60',
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )

    def left_the_session() -> bool:  # the grandchild has left the helper's session (setsid ran)
        if not (pidfile.exists() and pidfile.read_text().strip()):
            return False
        with open(f"/proc/{int(pidfile.read_text())}/stat") as f:
            session = int(f.read().rsplit(")", 1)[1].split()[3])
        return session != proc.pid

    try:
        await eventually(left_the_session)
        await _reap(proc)
        assert proc.returncode == -signal.SIGKILL
        assert proc._transport.is_closing()  # type: ignore[attr-defined]
    finally:
        escaped = int(pidfile.read_text())
        if not _gone(escaped):
            os.kill(escaped, signal.SIGKILL)
