"""The asyncssh transport's option translation and the choice between the two ssh transports."""

from __future__ import annotations

import pytest

from aiodock._http.sshconn import Untranslatable, translate_options
from aiodock._http.transport import parse_host, use_asyncssh
from aiodock.errors import InvalidArgument

pytest.importorskip("asyncssh")


def test_the_ssh_flags_with_an_asyncssh_meaning() -> None:
    kwargs = translate_options(
        [
            "-i",
            "/k/id",
            "-p2222",
            "-l",
            "bob",
            "-F",
            "/c/config",
            "-o",
            "UserKnownHostsFile=/k/known",
            "-o",
            "IdentityFile=/k/other",
            "-oIdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "ServerAliveInterval 10",
            "-o",
            "BatchMode=yes",
            "-T",
        ]
    )
    assert kwargs == {
        "client_keys": ["/k/id", "/k/other"],
        "port": 2222,
        "username": "bob",
        "config": ["/c/config"],
        "known_hosts": "/k/known",
        "agent_path": None,
        "connect_timeout": 5.0,
        "keepalive_interval": 10.0,
    }


def test_host_key_checking_is_off_only_when_asked_for() -> None:
    assert "known_hosts" not in translate_options([])
    for strict in ("yes", "ask", "accept-new"):
        assert "known_hosts" not in translate_options(["-o", f"StrictHostKeyChecking={strict}"])
    assert translate_options(["-o", "StrictHostKeyChecking=no"]) == {"known_hosts": None}
    with pytest.raises(Untranslatable, match="/dev/null"):
        translate_options(["-o", "UserKnownHostsFile=/dev/null"])


@pytest.mark.parametrize(
    "options",
    [["-o", "ProxyCommand=nc %h %p"], ["-J", "jump"], ["-p", "x"], ["-i"], ["-o", "Port=0"]],
)
def test_other_options_are_untranslatable(options: list[str]) -> None:
    with pytest.raises(Untranslatable):
        translate_options(options)


def test_transport_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = parse_host("ssh://me@box:2222")
    with_path = parse_host("ssh://me@box/run/podman/podman.sock")
    assert with_path.socket_path == "/run/podman/podman.sock"
    monkeypatch.delenv("AIODOCK_SSH_TRANSPORT", raising=False)
    assert use_asyncssh(plain, [])
    # Auto falls back to the ssh command for flags only it knows.
    assert not use_asyncssh(plain, ["-o", "ProxyCommand=nc %h %p"])
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", "command")
    assert not use_asyncssh(plain, [])
    with pytest.raises(InvalidArgument, match="asyncssh"):
        use_asyncssh(with_path, [])
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", "asyncssh")
    assert use_asyncssh(plain, ["-o", "ProxyCommand=nc %h %p"])  # refused when connecting
    monkeypatch.setenv("AIODOCK_SSH_TRANSPORT", "telepathy")
    with pytest.raises(InvalidArgument, match="AIODOCK_SSH_TRANSPORT"):
        use_asyncssh(plain, [])


def test_ssh_paths_holding_at_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="'@'"):
        parse_host("ssh://me@box/a@b")
