"""Control bytes (and text no OS call can take) in names are refused inside the error tree.

NUL, the other C0 controls and DEL in a daemon address, a credential helper's
name, a registry, a context name or an id must give ``InvalidArgument`` (user
input) or ``ConfigError`` (config.json and environment) naming the parameter,
never a bare ``ValueError`` from ``subprocess``, ``socket`` or ``urllib``. And
``parse_host`` must never accept what a request then fails on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from aiodock import DockerClient
from aiodock._config import resolve
from aiodock._http.request import encode_query, quote_path
from aiodock._http.transport import make_connector, parse_host, ssh_command
from aiodock._registry.auth import all_auths, resolve_auth
from aiodock.errors import ConfigError, DockerError, InvalidArgument

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]
SOME_CONTROLS = ["\x00", "\x01", "\t", "\n", "\x1b", "\x1f", "\x7f"]


@contextlib.contextmanager
def fake_ssh() -> Iterator[Path]:
    """An ``ssh`` on PATH that fails at once, so ssh endpoints can be tried for real."""
    with tempfile.TemporaryDirectory(prefix="aiodock-ssh-") as tmp:
        ssh = Path(tmp) / "ssh"
        ssh.write_text("#!/bin/sh\nexit 255\n")
        ssh.chmod(0o755)
        with mock.patch.dict(os.environ, {"PATH": f"{tmp}{os.pathsep}{os.environ['PATH']}"}):
            yield Path(tmp)


# --- daemon addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("control", SOME_CONTROLS)
@pytest.mark.parametrize(
    "template",
    ["ssh://a{c}b@box", "ssh://a%{h}b@box", "unix:///tmp/a{c}b.sock", "tcp://h:2375/a{c}b"],
)
def test_parse_host_refuses_control_bytes(template: str, control: str) -> None:
    host = template.format(c=control, h=f"{ord(control):02X}")
    with pytest.raises(InvalidArgument) as info:
        parse_host(host)
    assert info.value.parameter == "host"
    assert "control" in str(info.value)


@pytest.mark.parametrize(
    "host", ["ssh://\ud800@box", "unix:///tmp/\ud800.sock", "tcp://h:1/\ud800"]
)
def test_parse_host_refuses_text_no_system_call_takes(host: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_host(host)
    assert info.value.parameter == "host"


async def test_an_ssh_user_written_as_percent_00_is_refused_not_a_raw_value_error() -> None:
    with fake_ssh(), pytest.raises(InvalidArgument) as info:
        DockerClient("ssh://alice%00evil@box", api_version="1.41")
    assert repr("ssh://alice%00evil@box") in str(info.value)


_alphabet = "abz09:/@[]%.-_ \x00\x01\t\n\x1f\x7fé\ud800"
_hosts = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda scheme, rest: scheme + rest,
        st.sampled_from(["unix://", "ssh://", "tcp://", "http://", "https://", "", "/"]),
        st.text(alphabet=_alphabet, max_size=24),
    ),
    st.builds(
        lambda prefix, path: prefix + path,
        st.sampled_from(["unix:///tmp/aiodock-none/", "/tmp/aiodock-none/"]),
        st.text(alphabet="abz09:/@%.-_é\udc80\ud800\x00\x7f", max_size=16),
    ),
    st.builds(
        lambda user, rest: f"ssh://{user}@{rest}",
        st.text(alphabet="ab%0123456789ACDEF\x00\ud800", max_size=12),
        st.sampled_from(["box", "box:22", "[::1]"]),
    ),
)


async def _connector(host: str) -> None:
    """Build (and close) the connector a client on ``host`` would use."""
    endpoint = parse_host(host)
    await make_connector(endpoint, ssl_context=None).close()


async def _try(host: str) -> BaseException | None:
    """Open a client on ``host`` and ping: what does the first request raise?"""
    try:
        async with DockerClient(host, api_version="1.41", timeout=5, connect_timeout=5) as docker:
            await docker.system.ping()
    except BaseException as exc:
        return exc
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host=_hosts)
@example(host="ssh://a%00b@box")
@example(host="ssh://\ud800@box")
@example(host="unix:///tmp/\ud800")
@example(host="unix:///tmp/a\x01b")
@example(host="unix:///tmp/aiodock-none/\udc80")  # an undecodable file name: usable
@example(host="tcp://h:1/a\ud800")
def test_whatever_parse_host_accepts_can_be_used(host: str) -> None:
    try:
        endpoint = parse_host(host)
    except InvalidArgument as exc:
        assert exc.parameter == "host"
        return
    for text in (endpoint.url, endpoint.base_url, endpoint.socket_path or "", endpoint.user or ""):
        assert not any(c in text for c in CONTROLS)
    # What the request core builds its URLs from.
    url = URL(endpoint.base_url + "/v1.41/_ping", encoded=True)
    str(url).encode("utf-8")
    event(f"accepted {endpoint.kind}")
    if endpoint.kind == "tcp":
        asyncio.run(_connector(host))
        return  # a real request would resolve random host names
    if endpoint.kind == "ssh":
        for arg in ssh_command(endpoint, []):
            assert "\x00" not in arg
            os.fsencode(arg)
    # unix and ssh: a real request, which must fail (nothing answers) inside the tree.
    with fake_ssh():
        error = asyncio.run(_try(host))
    assert error is None or isinstance(error, DockerError), repr(error)


# --- credential helpers and registries -------------------------------------------------------


@pytest.mark.parametrize("control", [*SOME_CONTROLS, "\ud800"])
@pytest.mark.parametrize("where", ["credsStore", "credHelpers"])
async def test_a_helper_name_with_control_bytes_is_a_config_error(
    tmp_path: Path, where: str, control: str
) -> None:
    name = f"pass{control}x"
    config: dict[str, Any] = (
        {"credsStore": name} if where == "credsStore" else {"credHelpers": {"r.io": name}}
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    for lookup in (resolve_auth("r.io", config_dir=tmp_path), all_auths(tmp_path)):
        with pytest.raises(ConfigError) as info:
            await lookup
        message = str(info.value)
        assert where in message
        assert repr(name) in message
        assert str(tmp_path / "config.json") in message


@pytest.mark.parametrize("registry", ["r\x00.io", "r.io\n", "\ud800.io"])
async def test_a_registry_with_control_bytes_is_an_invalid_argument(
    tmp_path: Path, registry: str
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "nonexistent-helper"}))
    with pytest.raises(InvalidArgument) as info:
        await resolve_auth(registry, config_dir=tmp_path)
    assert info.value.parameter == "registry"
    assert info.value.value == registry


@pytest.mark.parametrize("key", ["r\x00.io", "\ud800.io"])
async def test_a_registry_key_with_control_bytes_in_config_is_a_config_error(
    tmp_path: Path, key: str
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {key: "pass"}}))
    with pytest.raises(ConfigError, match="credHelpers"):
        await all_auths(tmp_path)


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a\x00b", "ctx\n", "\ud800"])
def test_a_context_name_with_control_bytes_is_a_config_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve({"DOCKER_CONTEXT": name}, config_dir=tmp_path)
    assert "DOCKER_CONTEXT" in str(info.value)
    assert repr(name) in str(info.value)
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": name}))
    with pytest.raises(ConfigError) as info:
        resolve({}, config_dir=tmp_path)
    assert "currentContext" in str(info.value)


@pytest.mark.parametrize("variable", ["DOCKER_CONFIG", "DOCKER_CERT_PATH"])
def test_a_path_variable_with_nul_is_a_config_error(tmp_path: Path, variable: str) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path), "DOCKER_TLS_VERIFY": "1", variable: "/tmp/a\x00b"}
    with pytest.raises(ConfigError) as info:
        resolve(env)
    assert variable in str(info.value)
    assert repr("/tmp/a\x00b") in str(info.value)


def test_config_dir_with_nul_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        resolve({}, config_dir="/tmp/a\x00b")
    assert info.value.parameter == "config_dir"


@pytest.mark.parametrize("value", ["a\x00b", "a\r\nX-Evil: 1", "a\x1b"])
def test_http_headers_with_control_bytes_are_a_config_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"HttpHeaders": {"X-Token": value}}))
    with pytest.raises(ConfigError) as info:
        resolve({}, config_dir=tmp_path)
    assert "HttpHeaders" in str(info.value)
    assert "'X-Token'" in str(info.value)
    assert value not in str(info.value)  # header values may be tokens: never shown


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\x7f", "\ud800"])
def test_client_headers_with_control_bytes_are_refused(value: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        DockerClient("unix:///x", headers={"X-Token": value})
    assert info.value.parameter == "headers"
    assert value not in str(info.value)  # the name is shown, never the value
    DockerClient("unix:///x", headers={"X-Token": "a\tb"})  # a tab is fine


# --- ids in paths and query values -----------------------------------------------------------


@pytest.mark.parametrize("value", ["\ud800", "abc\udfff"])
def test_ids_and_query_values_no_url_can_carry_are_invalid_arguments(value: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        quote_path(value, "container_id")
    assert info.value.parameter == "container_id"
    with pytest.raises(InvalidArgument) as info:
        encode_query({"filters": {"name": [value]}})
    assert info.value.parameter == "filters"
    with pytest.raises(InvalidArgument) as info:
        encode_query({"tag": value})
    assert info.value.parameter == "tag"


async def test_an_id_with_a_lone_surrogate_fails_before_any_request() -> None:
    async with DockerClient("unix:///nonexistent/docker.sock", api_version="1.41") as docker:
        with pytest.raises(InvalidArgument) as info:
            await docker.containers.inspect("\ud800")
    assert info.value.parameter == "container_id"
