"""Configuration resolution: environment, config.json, contexts, TLS, API versions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import ssl
import stat
import tempfile
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from aiodock._config import (
    DEFAULT_HOST,
    DEFAULT_TLS_HOST,
    MAX_API_VERSION,
    MIN_API_VERSION,
    ConfigError,
    InsecureTLSWarning,
    TLSConfig,
    config_dir_from_env,
    negotiate_api_version,
    parse_api_version,
    read_config_file,
    resolve,
)
from aiodock.errors import APIVersionError, DockerConnectionError, DockerError, InvalidArgument

# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def client_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("client.example")


@pytest.fixture
def cdir(tmp_path: Path) -> Path:
    d = tmp_path / "docker-config"
    d.mkdir()
    return d


def write_config(cdir: Path, data: dict[str, Any]) -> None:
    (cdir / "config.json").write_text(json.dumps(data))


def write_tls_dir(
    directory: Path,
    ca: trustme.CA,
    client: trustme.LeafCert,
    *,
    files: tuple[str, ...] = ("ca.pem", "cert.pem", "key.pem"),
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    content = {
        "ca.pem": ca.cert_pem.bytes(),
        "cert.pem": client.cert_chain_pems[0].bytes(),
        "key.pem": client.private_key_pem.bytes(),
    }
    for name in files:
        (directory / name).write_bytes(content[name])


def make_context(
    cdir: Path,
    name: str,
    host: str,
    *,
    skip_verify: bool | None = None,
    meta: Any = None,
) -> Path:
    """Write a context the way `docker context create` lays it out; return its TLS dir."""
    cid = hashlib.sha256(name.encode()).hexdigest()
    meta_dir = cdir / "contexts" / "meta" / cid
    meta_dir.mkdir(parents=True)
    endpoint: dict[str, Any] = {"Host": host}
    if skip_verify is not None:
        endpoint["SkipTLSVerify"] = skip_verify
    doc = (
        meta
        if meta is not None
        else {"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}}
    )
    (meta_dir / "meta.json").write_text(json.dumps(doc))
    return cdir / "contexts" / "tls" / cid / "docker"


# --- API versions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.41", (1, 41)),
        ("1.24", (1, 24)),
        ("1.56", (1, 56)),
        ("2.0", (2, 0)),
        ("10.100", (10, 100)),
    ],
)
def test_parse_api_version_valid(text: str, expected: tuple[int, int]) -> None:
    assert parse_api_version(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1.",
        ".41",
        "1.41.0",
        "v1.41",
        " 1.41",
        "1.41 ",
        "1.4a",
        "01.41",
        "1.041",
        "\u0661.\u0664\u0661",  # Arabic-Indic digits
        "1,41",
    ],
)
def test_parse_api_version_invalid(text: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_api_version(text)
    assert info.value.parameter == "api_version"
    assert repr(text) in str(info.value)


def test_parse_api_version_rejects_non_string() -> None:
    with pytest.raises(InvalidArgument):
        parse_api_version(1.41)  # type: ignore[arg-type]


def test_version_bounds_are_ordered() -> None:
    assert parse_api_version(MIN_API_VERSION) < parse_api_version(MAX_API_VERSION)
    assert MAX_API_VERSION == "1.56"
    assert MIN_API_VERSION == "1.24"


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("1.41", "1.41"),
        ("1.45", "1.45"),
        ("1.56", "1.56"),
        ("1.60", MAX_API_VERSION),  # numeric, not string, comparison: 1.60 > 1.56
        ("2.0", MAX_API_VERSION),
        ("", MIN_API_VERSION),  # a daemon too old to send the header
    ],
)
def test_negotiate_api_version(server: str, expected: str) -> None:
    assert negotiate_api_version(server, "unix:///x.sock") == expected


def test_negotiation_refuses_too_old_and_malformed_versions() -> None:
    with pytest.raises(APIVersionError) as old:
        negotiate_api_version("1.9", "unix:///x.sock")  # 1.9 < 1.41 numerically
    assert (old.value.required, old.value.negotiated) == (MIN_API_VERSION, "1.9")
    with pytest.raises(DockerConnectionError, match=r"unix:///x\.sock.*'garbage'"):
        negotiate_api_version("garbage", "unix:///x.sock")


# --- config dir and config.json ---------------------------------------------------


def test_config_dir_from_env(tmp_path: Path) -> None:
    assert config_dir_from_env({"DOCKER_CONFIG": "/x/y", "HOME": "/h"}) == Path("/x/y")
    assert config_dir_from_env({"HOME": str(tmp_path)}) == tmp_path / ".docker"
    assert config_dir_from_env({"DOCKER_CONFIG": "", "HOME": "/h"}) == Path("/h/.docker")


def test_read_config_file_missing_and_empty(cdir: Path) -> None:
    assert read_config_file(cdir / "nope") == {}
    assert read_config_file(cdir) == {}
    (cdir / "config.json").write_text("  \n")
    assert read_config_file(cdir) == {}


def test_read_config_file_invalid_json_names_path(cdir: Path) -> None:
    (cdir / "config.json").write_text('{"auths": {')
    with pytest.raises(ConfigError) as info:
        read_config_file(cdir)
    assert str(cdir / "config.json") in str(info.value)
    assert "not valid JSON" in str(info.value)
    assert isinstance(info.value, DockerError)


def test_read_config_file_requires_object(cdir: Path) -> None:
    (cdir / "config.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        read_config_file(cdir)


# --- default resolution ---------------------------------------------------------------


def test_resolve_defaults(cdir: Path) -> None:
    cfg = resolve({}, config_dir=str(cdir))
    assert cfg.host == DEFAULT_HOST == "unix:///var/run/docker.sock"
    assert cfg.tls is None
    assert cfg.api_version is None
    assert dict(cfg.http_headers) == {}
    assert cfg.context is None
    assert cfg.source == "default"
    assert cfg.config_dir == str(cdir)


def test_resolve_uses_os_environ_by_default(monkeypatch: pytest.MonkeyPatch, cdir: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
    monkeypatch.setenv("DOCKER_CONFIG", str(cdir))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    cfg = resolve()
    assert cfg.host == "tcp://10.0.0.1:2375"
    assert cfg.config_dir == str(cdir)


def test_docker_host(cdir: Path) -> None:
    cfg = resolve({"DOCKER_HOST": " tcp://127.0.0.1:2375 "}, config_dir=cdir)
    assert cfg.host == "tcp://127.0.0.1:2375"
    assert cfg.source == "DOCKER_HOST"
    assert cfg.context is None


def test_empty_docker_host_is_unset(cdir: Path) -> None:
    assert resolve({"DOCKER_HOST": ""}, config_dir=cdir).host == DEFAULT_HOST


def test_docker_config_env_selects_config_dir(cdir: Path, tmp_path: Path) -> None:
    write_config(cdir, {"HttpHeaders": {"X-From": "env"}})
    cfg = resolve({"DOCKER_CONFIG": str(cdir), "HOME": str(tmp_path / "home")})
    assert dict(cfg.http_headers) == {"X-From": "env"}
    assert cfg.config_dir == str(cdir)


def test_config_dir_argument_beats_docker_config(cdir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_config(cdir, {"HttpHeaders": {"X-From": "arg"}})
    write_config(other, {"HttpHeaders": {"X-From": "env"}})
    cfg = resolve({"DOCKER_CONFIG": str(other)}, config_dir=cdir)
    assert dict(cfg.http_headers) == {"X-From": "arg"}


def test_home_dot_docker_is_default(tmp_path: Path) -> None:
    d = tmp_path / ".docker"
    d.mkdir()
    write_config(d, {"HttpHeaders": {"X-Home": "1"}})
    cfg = resolve({"HOME": str(tmp_path)})
    assert dict(cfg.http_headers) == {"X-Home": "1"}
    assert cfg.config_dir == str(d)


def test_http_headers_are_read_only(cdir: Path) -> None:
    write_config(cdir, {"HttpHeaders": {"X-Meta-Team": "infra", "X-Other": "1"}})
    cfg = resolve({}, config_dir=cdir)
    assert dict(cfg.http_headers) == {"X-Meta-Team": "infra", "X-Other": "1"}
    with pytest.raises(TypeError):
        cfg.http_headers["X-New"] = "x"  # type: ignore[index]


@pytest.mark.parametrize("bad", [["X-A"], {"X-A": 1}, "x"])
def test_invalid_http_headers(cdir: Path, bad: object) -> None:
    write_config(cdir, {"HttpHeaders": bad})
    with pytest.raises(ConfigError, match="HttpHeaders"):
        resolve({}, config_dir=cdir)


def test_invalid_config_json_fails_resolve(cdir: Path) -> None:
    (cdir / "config.json").write_text("{nope")
    with pytest.raises(ConfigError, match=str(cdir / "config.json")):
        resolve({}, config_dir=cdir)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1.41", "1.41"), ("v1.40", "1.40"), (" 1.24 ", "1.24")]
)
def test_docker_api_version(cdir: Path, raw: str, expected: str) -> None:
    assert resolve({"DOCKER_API_VERSION": raw}, config_dir=cdir).api_version == expected


@pytest.mark.parametrize("raw", ["latest", "1", "1.41.2", "v"])
def test_docker_api_version_invalid(cdir: Path, raw: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        resolve({"DOCKER_API_VERSION": raw}, config_dir=cdir)
    assert info.value.parameter == "DOCKER_API_VERSION"


def test_resolved_config_is_frozen(cdir: Path) -> None:
    cfg = resolve({}, config_dir=cdir)
    with pytest.raises(AttributeError):
        cfg.host = "x"  # type: ignore[misc]


# --- environment TLS ----------------------------------------------------------------------


def test_tls_verify_from_cert_path(
    cdir: Path, tmp_path: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    certs = tmp_path / "certs"
    write_tls_dir(certs, ca, client_cert)
    cfg = resolve(
        {
            "DOCKER_HOST": "tcp://127.0.0.1:2376",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(certs),
        },
        config_dir=cdir,
    )
    assert cfg.host == "tcp://127.0.0.1:2376"
    assert cfg.tls == TLSConfig(
        ca_cert=str(certs / "ca.pem"),
        client_cert=str(certs / "cert.pem"),
        client_key=str(certs / "key.pem"),
        verify=True,
    )


def test_tls_verify_without_host_defaults_to_tls_port(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)  # DOCKER_CERT_PATH defaults to the config dir
    cfg = resolve({"DOCKER_TLS_VERIFY": "1"}, config_dir=cdir)
    assert cfg.host == DEFAULT_TLS_HOST == "tcp://localhost:2376"
    assert cfg.tls is not None
    assert cfg.tls.ca_cert == str(cdir / "ca.pem")
    assert cfg.tls.verify is True


def test_tls_verify_any_nonempty_value_counts(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)
    cfg = resolve({"DOCKER_TLS_VERIFY": "0", "DOCKER_HOST": "tcp://h:1"}, config_dir=cdir)
    assert cfg.tls is not None and cfg.tls.verify is True


def test_tls_verify_empty_means_off(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)
    cfg = resolve({"DOCKER_TLS_VERIFY": "", "DOCKER_HOST": "tcp://h:1"}, config_dir=cdir)
    assert cfg.tls is None


def test_tls_verify_without_ca_fails(cdir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}, config_dir=cdir)
    assert str(tmp_path / "ca.pem") in str(info.value)


def test_tls_verify_ca_only_has_no_client_cert(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert, files=("ca.pem",))
    cfg = resolve({"DOCKER_TLS_VERIFY": "1"}, config_dir=cdir)
    assert cfg.tls is not None
    assert cfg.tls.client_cert is None and cfg.tls.client_key is None


@pytest.mark.parametrize("present", ["cert.pem", "key.pem"])
def test_tls_half_key_pair_fails(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert, present: str
) -> None:
    write_tls_dir(cdir, ca, client_cert, files=("ca.pem", present))
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_TLS_VERIFY": "1"}, config_dir=cdir)
    assert present in str(info.value)


def test_docker_tls_without_verify(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)
    cfg = resolve({"DOCKER_TLS": "1", "DOCKER_HOST": "tcp://h:2376"}, config_dir=cdir)
    assert cfg.tls is not None
    assert cfg.tls.verify is False
    assert cfg.tls.ca_cert is None
    assert cfg.tls.client_cert == str(cdir / "cert.pem")
    with pytest.warns(InsecureTLSWarning):
        ctx = cfg.tls.ssl_context()
    assert ctx.verify_mode == ssl.CERT_NONE


def test_docker_tls_needs_no_files(cdir: Path) -> None:
    cfg = resolve({"DOCKER_TLS": "yes"}, config_dir=cdir)
    assert cfg.host == DEFAULT_TLS_HOST
    assert cfg.tls == TLSConfig(verify=False)


def test_tls_verify_beats_docker_tls(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)
    cfg = resolve({"DOCKER_TLS": "1", "DOCKER_TLS_VERIFY": "1"}, config_dir=cdir)
    assert cfg.tls is not None and cfg.tls.verify is True


# --- contexts -----------------------------------------------------------------------------


def test_docker_context_env(cdir: Path) -> None:
    make_context(cdir, "remote", "tcp://192.0.2.1:2375")
    cfg = resolve({"DOCKER_CONTEXT": "remote"}, config_dir=cdir)
    assert cfg.host == "tcp://192.0.2.1:2375"
    assert cfg.context == "remote"
    assert cfg.tls is None
    assert "remote" in cfg.source


def test_current_context_from_config(cdir: Path) -> None:
    make_context(cdir, "ssh-box", "ssh://me@box")
    write_config(cdir, {"currentContext": "ssh-box"})
    cfg = resolve({}, config_dir=cdir)
    assert cfg.host == "ssh://me@box"
    assert cfg.context == "ssh-box"


def test_docker_context_beats_current_context(cdir: Path) -> None:
    make_context(cdir, "a", "tcp://a:1")
    make_context(cdir, "b", "tcp://b:1")
    write_config(cdir, {"currentContext": "a"})
    assert resolve({"DOCKER_CONTEXT": "b"}, config_dir=cdir).host == "tcp://b:1"


def test_docker_host_beats_contexts(cdir: Path) -> None:
    make_context(cdir, "a", "tcp://a:1")
    write_config(cdir, {"currentContext": "a"})
    cfg = resolve({"DOCKER_HOST": "tcp://h:9", "DOCKER_CONTEXT": "a"}, config_dir=cdir)
    assert cfg.host == "tcp://h:9"
    assert cfg.context is None
    assert cfg.source == "DOCKER_HOST"


def test_default_context_name_means_local_socket(cdir: Path) -> None:
    make_context(cdir, "a", "tcp://a:1")
    write_config(cdir, {"currentContext": "a"})
    cfg = resolve({"DOCKER_CONTEXT": "default"}, config_dir=cdir)
    assert cfg.host == DEFAULT_HOST
    assert cfg.context is None


def test_unknown_context_from_env(cdir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_CONTEXT": "nosuch"}, config_dir=cdir)
    message = str(info.value)
    assert "'nosuch'" in message
    assert "DOCKER_CONTEXT" in message
    assert str(cdir / "contexts" / "meta") in message


def test_unknown_context_from_config(cdir: Path) -> None:
    write_config(cdir, {"currentContext": "gone"})
    with pytest.raises(ConfigError) as info:
        resolve({}, config_dir=cdir)
    assert "'gone'" in str(info.value)
    assert "currentContext" in str(info.value)


def test_context_tls_files(cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert) -> None:
    tls_dir = make_context(cdir, "secure", "tcp://127.0.0.1:2376")
    write_tls_dir(tls_dir, ca, client_cert)
    cfg = resolve({"DOCKER_CONTEXT": "secure"}, config_dir=cdir)
    assert cfg.tls == TLSConfig(
        ca_cert=str(tls_dir / "ca.pem"),
        client_cert=str(tls_dir / "cert.pem"),
        client_key=str(tls_dir / "key.pem"),
        verify=True,
    )
    ctx = cfg.tls.ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_context_skip_tls_verify(cdir: Path) -> None:
    make_context(cdir, "lax", "tcp://h:2376", skip_verify=True)
    cfg = resolve({"DOCKER_CONTEXT": "lax"}, config_dir=cdir)
    assert cfg.tls is not None
    assert cfg.tls.verify is False
    with pytest.warns(InsecureTLSWarning):
        cfg.tls.ssl_context()


def test_context_ignores_half_key_pair(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    tls_dir = make_context(cdir, "half", "tcp://h:2376")
    write_tls_dir(tls_dir, ca, client_cert, files=("ca.pem", "cert.pem"))
    cfg = resolve({"DOCKER_CONTEXT": "half"}, config_dir=cdir)
    assert cfg.tls is not None
    assert cfg.tls.ca_cert == str(tls_dir / "ca.pem")
    assert cfg.tls.client_cert is None


def test_context_ignores_env_tls(cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert) -> None:
    write_tls_dir(cdir, ca, client_cert)
    make_context(cdir, "plain", "tcp://h:2375")
    cfg = resolve({"DOCKER_CONTEXT": "plain", "DOCKER_TLS_VERIFY": "1"}, config_dir=cdir)
    assert cfg.tls is None


def test_context_env_tls_applies_to_docker_host(
    cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    write_tls_dir(cdir, ca, client_cert)
    make_context(cdir, "plain", "tcp://h:2375")
    cfg = resolve(
        {"DOCKER_CONTEXT": "plain", "DOCKER_HOST": "tcp://x:2376", "DOCKER_TLS_VERIFY": "1"},
        config_dir=cdir,
    )
    assert cfg.tls is not None and cfg.tls.verify


@pytest.mark.parametrize(
    "meta",
    [
        {"Name": "c", "Endpoints": {}},
        {"Name": "c", "Endpoints": {"docker": {"SkipTLSVerify": False}}},
        {"Name": "c", "Endpoints": {"docker": {"Host": ""}}},
        ["not", "an", "object"],
    ],
)
def test_context_without_docker_endpoint(cdir: Path, meta: Any) -> None:
    make_context(cdir, "c", "unused", meta=meta)
    with pytest.raises(ConfigError, match="'c'"):
        resolve({"DOCKER_CONTEXT": "c"}, config_dir=cdir)


def test_context_meta_invalid_json(cdir: Path) -> None:
    make_context(cdir, "c", "tcp://h:1")
    meta = cdir / "contexts" / "meta" / hashlib.sha256(b"c").hexdigest() / "meta.json"
    meta.write_text("{")
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_CONTEXT": "c"}, config_dir=cdir)
    assert str(meta) in str(info.value)


def test_context_name_is_hashed_not_joined(cdir: Path) -> None:
    # A context name is never used as a path: "../x" cannot escape the store.
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_CONTEXT": "../../etc"}, config_dir=cdir)
    assert hashlib.sha256(b"../../etc").hexdigest() in str(info.value)


# --- TLSConfig -------------------------------------------------------------------------------


def test_tls_repr_hides_in_memory_material(client_cert: trustme.LeafCert, ca: trustme.CA) -> None:
    key = client_cert.private_key_pem.bytes()
    tls = TLSConfig(
        ca_cert=ca.cert_pem.bytes(),
        client_cert=client_cert.cert_chain_pems[0].bytes(),
        client_key=key,
    )
    body = key.split(b"\n")[1].decode()
    for text in (repr(tls), str(tls)):
        assert body not in text
        assert "PRIVATE" not in text
        assert "BEGIN" not in text
        assert "<in-memory PEM>" in text


def test_tls_repr_shows_paths() -> None:
    tls = TLSConfig(ca_cert="/c/ca.pem", client_cert=Path("/c/cert.pem"), client_key="/c/key.pem")
    assert "'/c/ca.pem'" in repr(tls)
    assert "'/c/cert.pem'" in repr(tls)


def test_tls_key_without_cert_is_rejected(client_cert: trustme.LeafCert) -> None:
    key = client_cert.private_key_pem.bytes()
    with pytest.raises(InvalidArgument) as info:
        TLSConfig(client_key=key)
    assert key.split(b"\n")[1].decode() not in str(info.value)
    assert info.value.parameter == "client_key"


def test_tls_verify_false_warns() -> None:
    with pytest.warns(InsecureTLSWarning, match="verification"):
        ctx = TLSConfig(verify=False).ssl_context()
    assert ctx.check_hostname is False
    assert ctx.verify_mode == ssl.CERT_NONE


def test_tls_verify_true_is_silent_and_strict(ca: trustme.CA) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctx = TLSConfig(ca_cert=ca.cert_pem.bytes()).ssl_context()
    assert ctx.check_hostname is True
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_tls_system_trust_store_when_no_ca() -> None:
    ctx = TLSConfig().ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_tls_missing_ca_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError) as info:
        TLSConfig(ca_cert=missing).ssl_context()
    assert str(missing) in str(info.value)


def test_tls_bad_key_message_has_no_material(client_cert: trustme.LeafCert, ca: trustme.CA) -> None:
    other = ca.issue_cert("other.example").private_key_pem.bytes()
    tls = TLSConfig(client_cert=client_cert.cert_chain_pems[0].bytes(), client_key=other)
    with pytest.raises(ConfigError) as info:
        tls.ssl_context()
    message = str(info.value)
    assert "in-memory" in message
    assert other.split(b"\n")[1].decode() not in message
    assert info.value.__cause__ is None


def test_tls_garbage_key_bytes(client_cert: trustme.LeafCert) -> None:
    tls = TLSConfig(client_cert=client_cert.cert_chain_pems[0].bytes(), client_key=b"garbage")
    with pytest.raises(ConfigError, match="client certificate"):
        tls.ssl_context()


def test_tls_garbage_ca_bytes() -> None:
    with pytest.raises(ConfigError, match="CA certificate"):
        TLSConfig(
            ca_cert=b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"
        ).ssl_context()


def test_tls_der_ca_bytes(ca: trustme.CA) -> None:
    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    ctx = TLSConfig(ca_cert=der).ssl_context()
    assert len(ctx.get_ca_certs()) == 1


@pytest.fixture
def spy_cert_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, str | None, int, int | None]]:
    """Record the paths (and their modes) handed to load_cert_chain."""
    calls: list[tuple[str, str | None, int, int | None]] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(
        self: ssl.SSLContext, certfile: str, keyfile: str | None = None, password: Any = None
    ) -> None:
        mode = stat.S_IMODE(os.stat(certfile).st_mode)
        dmode = None
        if not certfile.startswith("/proc/"):
            dmode = stat.S_IMODE(os.stat(os.path.dirname(certfile)).st_mode)
        calls.append((certfile, keyfile, mode, dmode))
        original(self, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    return calls


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    yield d


def test_tls_bytes_use_memfd_and_no_files(
    client_cert: trustme.LeafCert,
    ca: trustme.CA,
    spy_cert_chain: list[Any],
    private_tmp: Path,
) -> None:
    if not hasattr(os, "memfd_create") or not os.path.exists("/proc/self/fd"):
        pytest.skip("memfd needs Linux with /proc")
    tls = TLSConfig(
        ca_cert=ca.cert_pem.bytes(),
        client_cert=client_cert.cert_chain_pems[0].bytes(),
        client_key=client_cert.private_key_pem.bytes(),
    )
    tls.ssl_context()
    (certfile, keyfile, _mode, _dmode) = spy_cert_chain[0]
    assert certfile.startswith("/proc/self/fd/")
    assert keyfile is not None and keyfile.startswith("/proc/self/fd/")
    assert list(private_tmp.iterdir()) == []


def test_tls_bytes_fallback_private_temp_file(
    monkeypatch: pytest.MonkeyPatch,
    client_cert: trustme.LeafCert,
    spy_cert_chain: list[Any],
    private_tmp: Path,
) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    tls = TLSConfig(
        client_cert=client_cert.cert_chain_pems[0].bytes(),
        client_key=client_cert.private_key_pem.bytes(),
        verify=True,
    )
    tls.ssl_context()
    certfile, keyfile, mode, dmode = spy_cert_chain[0]
    assert certfile.startswith(str(private_tmp))
    assert keyfile is not None and keyfile.startswith(str(private_tmp))
    assert mode == 0o600
    assert dmode == 0o700
    assert list(private_tmp.iterdir()) == []  # deleted right after loading


def test_tls_fallback_cleans_up_on_error(
    monkeypatch: pytest.MonkeyPatch, client_cert: trustme.LeafCert, private_tmp: Path
) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    tls = TLSConfig(client_cert=client_cert.cert_chain_pems[0].bytes(), client_key=b"not a key")
    with pytest.raises(ConfigError):
        tls.ssl_context()
    assert list(private_tmp.iterdir()) == []


# --- real handshakes ------------------------------------------------------------------------


@pytest.fixture
async def tls_server(ca: trustme.CA, server_cert: trustme.LeafCert) -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 that requires a client certificate from ``ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"hello")
            await writer.drain()
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ssl.SSLError, ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def talk(port: int, ctx: ssl.SSLContext) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    try:
        return await asyncio.wait_for(reader.read(5), 5)
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()


def _materials(
    ca: trustme.CA, client: trustme.LeafCert, tmp_path: Path
) -> dict[str, Callable[[], TLSConfig]]:
    write_tls_dir(tmp_path / "files", ca, client)
    f = tmp_path / "files"
    return {
        "paths": lambda: TLSConfig(
            ca_cert=str(f / "ca.pem"), client_cert=f / "cert.pem", client_key=str(f / "key.pem")
        ),
        "bytes": lambda: TLSConfig(
            ca_cert=ca.cert_pem.bytes(),
            client_cert=client.cert_chain_pems[0].bytes(),
            client_key=client.private_key_pem.bytes(),
        ),
        "combined": lambda: TLSConfig(
            ca_cert=ca.cert_pem.bytes(),
            client_cert=client.cert_chain_pems[0].bytes() + client.private_key_pem.bytes(),
        ),
    }


@pytest.mark.parametrize("kind", ["paths", "bytes", "combined"])
async def test_handshake_with_client_cert(
    tls_server: int, ca: trustme.CA, client_cert: trustme.LeafCert, tmp_path: Path, kind: str
) -> None:
    tls = _materials(ca, client_cert, tmp_path)[kind]()
    assert await talk(tls_server, tls.ssl_context()) == b"hello"


async def test_handshake_rejects_unknown_ca(tls_server: int, client_cert: trustme.LeafCert) -> None:
    stranger = trustme.CA()
    tls = TLSConfig(
        ca_cert=stranger.cert_pem.bytes(),
        client_cert=client_cert.cert_chain_pems[0].bytes(),
        client_key=client_cert.private_key_pem.bytes(),
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        await talk(tls_server, tls.ssl_context())


async def test_handshake_without_verify_accepts_unknown_ca(
    tls_server: int, client_cert: trustme.LeafCert
) -> None:
    tls = TLSConfig(
        ca_cert=trustme.CA().cert_pem.bytes(),
        client_cert=client_cert.cert_chain_pems[0].bytes(),
        client_key=client_cert.private_key_pem.bytes(),
        verify=False,
    )
    with pytest.warns(InsecureTLSWarning):
        ctx = tls.ssl_context()
    assert await talk(tls_server, ctx) == b"hello"


async def test_handshake_from_resolved_context(
    tls_server: int, cdir: Path, ca: trustme.CA, client_cert: trustme.LeafCert
) -> None:
    tls_dir = make_context(cdir, "tls-ctx", f"tcp://127.0.0.1:{tls_server}")
    write_tls_dir(tls_dir, ca, client_cert)
    cfg = resolve({"DOCKER_CONTEXT": "tls-ctx"}, config_dir=cdir)
    assert cfg.tls is not None
    assert await talk(tls_server, cfg.tls.ssl_context()) == b"hello"
