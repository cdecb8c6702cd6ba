"""The argument rules (aiodock/_rules.py), each on its own.

Every rule either returns what the daemon reads or raises InvalidArgument naming the
parameter and the value; the expected wire forms follow the docker CLI (binary size
units, ``-p`` port specs, ``os/arch[/variant]`` platforms, detach key codes,
``since``/``until`` timestamps, image references).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest

from aiodock import _rules as rules
from aiodock.errors import InvalidArgument


def rejects(call: Callable[[], object], parameter: str, value: object, reason: str) -> None:
    """``call()`` raises InvalidArgument for ``parameter``/``value``, saying ``reason``."""
    with pytest.raises(InvalidArgument) as caught:
        call()
    err = caught.value
    assert err.parameter == parameter
    assert err.value is value or err.value == value
    assert err.reason == reason


# --- str_map, non_empty -----------------------------------------------------------------


def test_str_map() -> None:
    assert rules.str_map(None, "labels") is None
    given = {"a": "1", "b": ""}
    out = rules.str_map(given, "labels")
    assert out == {"a": "1", "b": ""}
    assert type(out) is dict and out is not given


@pytest.mark.parametrize("key", ["", 1])
def test_str_map_rejects_bad_keys(key: Any) -> None:
    value = {"a": "1", key: "x"}
    rejects(
        lambda: rules.str_map(value, "options"), "options", key, "keys must be non-empty strings"
    )


@pytest.mark.parametrize("item", [1, None, b"x"])
def test_str_map_rejects_bad_values(item: Any) -> None:
    value = {"ok": "1", "a": item}
    rejects(
        lambda: rules.str_map(value, "options"), "options", {"a": item}, "values must be strings"
    )


def test_str_map_rejects_a_non_mapping() -> None:
    value = [("a", "b")]
    rejects(
        lambda: rules.str_map(value, "opts"),  # type: ignore[arg-type]
        "opts",
        value,
        "expected a mapping of str to str",
    )


def test_non_empty() -> None:
    assert rules.non_empty(" x ", "name") == " x "
    for value in ["", "   ", "\t\n", None, 3, b"x"]:
        rejects(
            partial(rules.non_empty, value, "name"), "name", value, "expected a non-empty string"
        )


# --- scalars ---------------------------------------------------------------------------


def test_flag() -> None:
    assert rules.flag(True, "tty") is True
    assert rules.flag(False, "tty") is False
    for value in [1, 0, "true", None]:
        rejects(partial(rules.flag, value, "tty"), "tty", value, "expected True or False")


def test_integer_bounds() -> None:
    assert rules.integer(0, "n") == 0
    assert rules.integer(5, "n", minimum=5, maximum=5) == 5
    assert rules.integer(10**12, "n") == 10**12  # no maximum unless given
    rejects(lambda: rules.integer(-1, "n"), "n", -1, "must be at least 0")
    rejects(lambda: rules.integer(4, "n", minimum=5), "n", 4, "must be at least 5")
    rejects(lambda: rules.integer(6, "n", minimum=5, maximum=5), "n", 6, "must be at most 5")
    for value in [True, False, 1.0, "1", None]:
        rejects(partial(rules.integer, value, "n"), "n", value, "expected an integer")


def test_text() -> None:
    assert rules.text("x", "workdir") == "x"
    for value in ["", None, 1, b"x"]:
        rejects(
            partial(rules.text, value, "workdir"),
            "workdir",
            value,
            "expected a non-empty string",
        )
    rejects(lambda: rules.text("a\x00b", "workdir"), "workdir", "a\x00b", "must not contain NUL")


def test_strings() -> None:
    given = ("a", "b")
    out = rules.strings(given, "cmd")
    assert out == ["a", "b"] and type(out) is list
    assert rules.strings([], "cmd") == []
    for value in ["ab", b"ab", None, 3, {"a": 1}.keys()]:
        rejects(partial(rules.strings, value, "cmd"), "cmd", value, "expected a list of strings")
    rejects(lambda: rules.strings(["a", 1], "cmd"), "cmd", ["a", 1], "item 1 is not a string")


def test_command_string_is_split_like_a_shell() -> None:
    assert rules.command("sh -c 'echo hi; exit 3'", "cmd") == ["sh", "-c", "echo hi; exit 3"]
    assert rules.command(["echo", "a b"], "cmd") == ["echo", "a b"]
    rejects(
        lambda: rules.command("echo 'open", "cmd"),
        "cmd",
        "echo 'open",
        "cannot split it: No closing quotation",
    )
    rejects(lambda: rules.command("  ", "cmd"), "cmd", "  ", "the command is empty")
    rejects(lambda: rules.command([], "entrypoint"), "entrypoint", [], "the command is empty")
    rejects(lambda: rules.command(["a", 2], "cmd"), "cmd", ["a", 2], "item 2 is not a string")


# --- env and labels -------------------------------------------------------------------


def test_env_mapping() -> None:
    env = {"A": "1", "B": 2, "C": 1.5, "UNSET": None, "EMPTY": ""}
    assert rules.env(env, "env") == ["A=1", "B=2", "C=1.5", "UNSET", "EMPTY="]


@pytest.mark.parametrize("key", ["", "A=B", "A\x00", 1])
def test_env_rejects_bad_names(key: Any) -> None:
    value = {key: "v"}
    rejects(lambda: rules.env(value, "env"), "env", value, f"bad variable name {key!r}")


@pytest.mark.parametrize("item", [True, b"v", ["v"]])
def test_env_rejects_bad_values(item: Any) -> None:
    value = {"K": item}
    rejects(lambda: rules.env(value, "env"), "env", value, "value of 'K' is not a string")


def test_env_list() -> None:
    assert rules.env(["A=1", "B", "C="], "env") == ["A=1", "B", "C="]
    rejects(
        lambda: rules.env(["A=1", ""], "env"),
        "env",
        ["A=1", ""],
        "bad entry '' (expected NAME=value)",
    )
    rejects(lambda: rules.env(["=x"], "env"), "env", ["=x"], "bad entry '=x' (expected NAME=value)")
    rejects(lambda: rules.env("A=1", "env"), "env", "A=1", "expected a list of strings")


def test_labels() -> None:
    given = {"a": "1", "b": ""}
    out = rules.labels(given, "labels")
    assert out == given and out is not given
    assert rules.labels(["a=1", "b", "c=x=y", "d="], "labels") == {
        "a": "1",
        "b": "",
        "c": "x=y",
        "d": "",
    }
    for bad in [{"a": 1}, {"": "x"}, {2: "x"}]:
        rejects(
            partial(rules.labels, bad, "labels"),
            "labels",
            bad,
            "expected string keys and values",
        )
    rejects(lambda: rules.labels(["=x"], "labels"), "labels", ["=x"], "bad label '=x'")
    rejects(lambda: rules.labels(["a", 1], "labels"), "labels", ["a", 1], "item 1 is not a string")


# --- sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (512, 512),
        ("512", 512),
        ("1b", 1),
        ("1k", 1024),
        ("1K", 1024),
        ("1kb", 1024),
        ("1KiB", 1024),
        ("512m", 512 << 20),
        ("64MiB", 64 << 20),
        ("1.5g", 3 << 29),
        ("1 GB", 1 << 30),
        ("2t", 2 << 40),
        ("1p", 1 << 50),
        (" 10m ", 10 << 20),
    ],
)
def test_parse_bytes_binary_units(value: int | str, expected: int) -> None:
    # Like the docker CLI's RAMInBytes: k, m, g... are powers of 1024, "b"/"ib" optional.
    assert rules.parse_bytes(value) == expected


@pytest.mark.parametrize(
    "value", ["", "m", "1x", "-1", "1.g", "1 2", "1mm", "1e3", "0x10", 1.5, None]
)
def test_parse_bytes_rejects(value: Any) -> None:
    rejects(
        lambda: rules.parse_bytes(value, "memory"),
        "memory",
        value,
        "expected bytes as an int or a string like '512m', '1g', '64MiB'",
    )


def test_parse_bytes_negative_and_unlimited() -> None:
    rejects(lambda: rules.parse_bytes(-1, "memory"), "memory", -1, "must not be negative")
    rejects(
        lambda: rules.parse_bytes(True),  # type: ignore[arg-type]
        "size",
        True,
        "expected bytes as an int or a string like '512m'",
    )
    assert rules.parse_bytes(-1, "memory_swap", allow_unlimited=True) == -1
    assert rules.parse_bytes("-1", "memory_swap", allow_unlimited=True) == -1
    rejects(
        lambda: rules.parse_bytes(-2, "memory_swap", allow_unlimited=True),
        "memory_swap",
        -2,
        "must not be negative",
    )


# --- durations, CPUs -------------------------------------------------------------------


def test_seconds() -> None:
    assert rules.seconds(0, "t") == 0.0
    assert rules.seconds(2, "t") == 2.0 and type(rules.seconds(2, "t")) is float
    assert rules.seconds(timedelta(milliseconds=1500), "t") == 1.5
    for value in [-0.1, True, "1", None, timedelta(seconds=-1)]:
        expected = -1.0 if isinstance(value, timedelta) else value
        rejects(
            partial(rules.seconds, value, "timeout"),
            "timeout",
            expected,
            "expected seconds (a number >= 0 or a timedelta)",
        )


def test_duration_ns() -> None:
    assert rules.duration_ns(1.5, "interval") == 1_500_000_000
    assert rules.duration_ns(timedelta(microseconds=1), "interval") == 1000
    assert rules.duration_ns(0.0000000014, "interval") == 1  # rounded, not cut
    rejects(lambda: rules.duration_ns(-1, "interval"), "interval", -1, "must not be negative")


def test_cpus() -> None:
    assert rules.cpus(1) == 1_000_000_000
    assert rules.cpus(0.5) == 500_000_000
    assert rules.cpus(0.001) == 1_000_000
    assert rules.cpus(0.0015) == 1_500_000
    for value in [0, -1, True, "1", None]:
        rejects(
            partial(rules.cpus, value),
            "cpus",
            value,
            "expected a number of CPUs greater than 0",
        )
    rejects(lambda: rules.cpus(0.0009), "cpus", 0.0009, "must be at least 0.001")


# --- signals and detach keys -----------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["SIGTERM", "TERM", "hup", "SIGRTMIN+3", "RTMAX-1", "9", "SIGUSR1"]
)
def test_signal_names(value: str) -> None:
    assert rules.signal(value) == value


def test_signal_numbers() -> None:
    assert rules.signal(1) == "1"
    assert rules.signal(127) == "127"
    rejects(lambda: rules.signal(0, "stop_signal"), "stop_signal", 0, "signal numbers are 1..127")
    rejects(lambda: rules.signal(128), "signal", 128, "signal numbers are 1..127")
    rejects(lambda: rules.signal(True), "signal", True, "expected a signal name or number")


@pytest.mark.parametrize("value", ["", "SIG TERM", "9x", "-9", "1SIG", None, 1.0])
def test_signal_rejects(value: Any) -> None:
    rejects(
        lambda: rules.signal(value),
        "signal",
        value,
        "expected a signal name ('SIGTERM', 'HUP') or number",
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        # Docker's detach keys: ctrl-a..ctrl-z are 1..26, ctrl-@ 0, ctrl-[ 27 ... ctrl-_ 31.
        ("ctrl-p,ctrl-q", b"\x10\x11"),
        ("ctrl-a", b"\x01"),
        ("ctrl-z", b"\x1a"),
        ("ctrl-@", b"\x00"),
        ("ctrl-[", b"\x1b"),
        ("ctrl-\\", b"\x1c"),
        ("ctrl-]", b"\x1d"),
        ("ctrl-^", b"\x1e"),
        ("ctrl-_", b"\x1f"),
        ("a,b", b"ab"),
        ("~", b"~"),
        (" ", b" "),
        ("ctrl-x,y", b"\x18y"),
    ],
)
def test_detach_key_bytes(keys: str, expected: bytes) -> None:
    assert rules.detach_key_bytes(keys) == expected
    assert rules.detach_keys(keys) == keys


@pytest.mark.parametrize(
    "keys", ["ctrl-", "ctrl-A", "ctrl-1", "ab", "a,,b", "\x7f", "\x1f", "ctrl-pq"]
)
def test_detach_keys_rejects_unknown_keys(keys: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        rules.detach_key_bytes(keys)
    assert caught.value.parameter == "detach_keys"
    assert caught.value.value == keys
    assert "unknown key" in caught.value.reason
    assert "use one printable character or ctrl-<a-z@[\\]^_>" in caught.value.reason


@pytest.mark.parametrize("keys", ["", None, 1])
def test_detach_keys_rejects_non_strings(keys: Any) -> None:
    rejects(
        lambda: rules.detach_keys(keys), "detach_keys", keys, "expected keys like 'ctrl-p,ctrl-q'"
    )


# --- timestamps --------------------------------------------------------------------------


def test_timestamp_forms() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=timezone.utc)
    assert rules.timestamp(moment, "since") == "1704164645.250000000"
    assert rules.timestamp(1704164645, "since") == "1704164645"
    assert rules.timestamp(0, "since") == "0"
    assert rules.timestamp(1.5, "until") == "1.500000000"
    assert rules.timestamp(" 10m ", "since") == "10m"
    assert rules.timestamp("2024-01-02T03:04:05Z", "since") == "2024-01-02T03:04:05Z"


def test_timestamp_timedelta_is_ago() -> None:
    before = time.time()
    got = float(rules.timestamp(timedelta(minutes=5), "since"))
    after = time.time()
    assert before - 300 <= got <= after - 300


@pytest.mark.parametrize("value", [None, b"1", [1]])
def test_timestamp_rejects(value: Any) -> None:
    rejects(
        lambda: rules.timestamp(value, "since"),
        "since",
        value,
        "expected a datetime, a timedelta (that long ago), Unix seconds or a string, "
        f"not {type(value).__name__}",
    )


def test_timestamp_rejects_negative() -> None:
    rejects(lambda: rules.timestamp(-1, "until"), "until", -1, "must not be negative")
    rejects(
        lambda: rules.timestamp(-0.5, "until"),
        "until",
        -0.5,
        "must be a finite, non-negative number",
    )
