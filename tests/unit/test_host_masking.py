"""A password in a daemon address never shows: not in errors, reprs, ``host`` nor logs.

Every place that shows an address goes through ``redact_host``, which masks
everything from the user-info colon to the last ``@``, so a password holding
``@``, ``/`` or ``:`` cannot show through.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aiodock import DockerClient
from aiodock._config import resolve
from aiodock._http.transport import parse_host, redact_host
from aiodock.errors import InvalidArgument
from aiodock.testing import plugin

_SCHEMES = ["tcp://", "ssh://", "http://", "https://", "TCP://", ""]


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("tcp://alice:p@ss/w0rd@h", "tcp://alice:***@h"),
        ("tcp://alice:pw@h:2375", "tcp://alice:***@h:2375"),
        ("ssh://bob:a:b:c@box", "ssh://bob:***@box"),
        ("alice:p@ss/x@h:1", "alice:***@h:1"),
        ("alice:p://x@h", "alice:***@h"),
        ("tcp://:pw@h", "tcp://:***@h"),
        # no password: nothing to mask
        ("ssh://me@box:2222", "ssh://me@box:2222"),
        ("tcp://127.0.0.1:2375", "tcp://127.0.0.1:2375"),
        # a socket path is not user info
        ("unix:///run/a:b@c.sock", "unix:///run/a:b@c.sock"),
        ("/run/a:b@c.sock", "/run/a:b@c.sock"),
    ],
)
def test_redact_host(host: str, shown: str) -> None:
    assert redact_host(host) == shown


def _texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), repr(exc.args), repr(getattr(exc, "value", ""))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scheme=st.sampled_from(_SCHEMES),
    user=st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True),
    # Q... Q: no message or address part holds a Q, so a Q shown is the password.
    password=st.builds(
        lambda mid: f"Q{mid}Q", st.text(alphabet="abcXYZ019@/:?#%. \t", max_size=24)
    ),
    rest=st.sampled_from(["h", "127.0.0.1:2375", "box:22", "[::1]:2376", "h/path"]),
)
@example(scheme="tcp://", user="alice", password="Qp@ss/w0rdQ", rest="h")
@example(scheme="ssh://", user="alice", password="Qpa/ssQ", rest="h")
@example(scheme="", user="alice", password="Qa://bQ", rest="h")
def test_a_password_never_shows(scheme: str, user: str, password: str, rest: str) -> None:
    host = f"{scheme}{user}:{password}@{rest}"
    shown = f"{scheme}{user}:***@{rest}"
    assert redact_host(host) == shown
    try:
        endpoint = parse_host(host)
    except InvalidArgument as exc:
        assert exc.parameter == "host"
        for text in _texts(exc):
            assert password not in text
        return
    # Accepted (a "password" that reads as a port then a path): still masked.
    client = DockerClient(host)
    for text in (endpoint.url, repr(endpoint), client.host, repr(client)):
        assert password not in text


@pytest.mark.parametrize("password", ["2375/sec", "12/x@y", "pa/ss"])
def test_a_password_that_parses_as_a_port_and_path_is_refused_masked(password: str) -> None:
    # "tcp://alice:2375/sec@h" is host alice, port 2375, path "/sec@h" to a URL
    # parser, and a password holding "/" to a person: refused, never shown.
    with pytest.raises(InvalidArgument) as info:
        DockerClient(f"tcp://alice:{password}@127.0.0.1")
    for text in _texts(info.value):
        assert password not in text
    assert info.value.value == "tcp://alice:***@127.0.0.1"


def test_resolved_config_repr_masks_the_password(tmp_path: Path) -> None:
    config = resolve({"DOCKER_HOST": "tcp://alice:p@ss/w0rd@h:2375"}, config_dir=tmp_path)
    assert config.host == "tcp://alice:p@ss/w0rd@h:2375"  # the value itself is kept
    assert "p@ss" not in repr(config)
    assert "w0rd" not in repr(config)
    assert "tcp://alice:***@h:2375" in repr(config)


def test_pytest_plugin_header_masks_the_password() -> None:
    class Config:
        def getoption(self, name: str, default: object = None) -> str:
            return "tcp://alice:p@ss/w0rd@h:2375"

    header = plugin.pytest_report_header(Config())  # type: ignore[arg-type]
    assert header is not None
    assert "p@ss" not in header
    assert "w0rd" not in header
