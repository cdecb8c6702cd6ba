"""The argument rules (aiodock/_rules.py), each on its own.

Every rule either returns what the daemon reads or raises InvalidArgument naming the
parameter and the value; the expected wire forms follow the docker CLI (binary size
units, ``-p`` port specs, ``os/arch[/variant]`` platforms, detach key codes,
``since``/``until`` timestamps, image references).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest

from aiodock import _rules as rules
from aiodock import models
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
    bad_item: list[Any] = ["a", 1]
    rejects(lambda: rules.labels(bad_item, "labels"), "labels", bad_item, "item 1 is not a string")


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
        lambda: rules.parse_bytes(True),
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


# --- more scalars and lists --------------------------------------------------------------


def test_non_negative() -> None:
    assert rules.non_negative(None, "n") is None
    assert rules.non_negative(0, "n") == 0
    assert rules.non_negative(7, "n") == 7
    values: list[Any] = [-1, True, 1.0, "1"]
    for value in values:
        rejects(
            partial(rules.non_negative, value, "timeout"),
            "timeout",
            value,
            "expected a non-negative integer",
        )


def test_non_empty_rejects_nul() -> None:
    rejects(lambda: rules.non_empty("a\x00", "name"), "name", "a\x00", "must not contain NUL")


def test_strings_without_empty_items() -> None:
    assert rules.strings(["a", ""], "aliases") == ["a", ""]  # empty items pass by default
    assert rules.strings(["a", "b"], "aliases", empty=False) == ["a", "b"]
    value = ["a", ""]
    rejects(
        lambda: rules.strings(value, "aliases", empty=False),
        "aliases",
        value,
        "items must not be empty",
    )


def test_command_copies_a_sequence_into_a_list() -> None:
    out = rules.command(("echo", "hi"), "cmd")
    assert out == ["echo", "hi"] and type(out) is list


# --- env, labels, str_map, extra hosts: defaults and options -----------------------------


def test_env_without_unset_refuses_bare_names() -> None:
    # A service's ContainerSpec.Env has no "remove this variable" entry.
    assert rules.env({"A": "1"}, "env", unset=False) == ["A=1"]
    assert rules.env(["A=1", "B="], "env", unset=False) == ["A=1", "B="]
    rejects(
        lambda: rules.env({"A": "1", "B": None}, "env", unset=False),
        "env",
        {"B": None},
        "'B' has no value (a service's environment cannot unset a variable)",
    )
    rejects(
        lambda: rules.env(["A=1", "B"], "env", unset=False),
        "env",
        ["A=1", "B"],
        "'B' has no value (expected NAME=value)",
    )


def test_env_and_labels_name_their_parameter_by_default() -> None:
    assert rules.env({"K": None}) == ["K"]  # unset by default
    assert rules.env(["K"]) == ["K"]
    rejects(lambda: rules.env({"": "v"}), "env", {"": "v"}, "bad variable name ''")
    assert rules.labels(None) is None
    rejects(lambda: rules.labels(["=x"]), "labels", ["=x"], "bad label '=x'")


def test_labels_rejects_a_lone_string() -> None:
    rejects(
        lambda: rules.labels("a=b", "labels"),
        "labels",
        "a=b",
        "expected a list of strings",
    )


def test_str_map_allow_none() -> None:
    # Build args: None means "take it from the build's environment".
    assert rules.str_map({"A": None, "B": "1"}, "buildargs", allow_none=True) == {
        "A": None,
        "B": "1",
    }
    rejects(
        lambda: rules.str_map({"A": 1}, "buildargs", allow_none=True),
        "buildargs",
        {"A": 1},
        "values must be strings",
    )


def test_extra_hosts() -> None:
    # The docker CLI's --add-host host:ip.
    assert rules.extra_hosts({"db": "10.0.0.2", "v6": "::1"}) == ["db:10.0.0.2", "v6:::1"]
    assert rules.extra_hosts("db:10.0.0.2") == ["db:10.0.0.2"]
    assert rules.extra_hosts(["db:10.0.0.2", "gw:host-gateway"]) == [
        "db:10.0.0.2",
        "gw:host-gateway",
    ]
    for bad in [{"": "1.2.3.4"}, {"h": ""}, {1: "1.2.3.4"}, {"h": 1}, {"a": "1.1.1.1", "b": None}]:
        rejects(partial(rules.extra_hosts, bad, "hosts"), "hosts", bad, "expected {hostname: ip}")
    for item in ["db", ":10.0.0.2"]:
        rejects(
            partial(rules.extra_hosts, ["ok:1.1.1.1", item]),
            "extra_hosts",
            item,
            "expected 'host:ip' entries",
        )
    rejects(lambda: rules.extra_hosts(5), "extra_hosts", 5, "expected a list of strings")


# --- sizes: fractions, optional ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.5", 1), ("1.5k", 1536), ("0.5m", 512 << 10), ("1ib", 1), ("1 kb", 1024), ("3MB", 3 << 20)],
)
def test_parse_bytes_fractions(value: str, expected: int) -> None:
    assert rules.parse_bytes(value) == expected


def test_parse_bytes_default_parameter() -> None:
    rejects(
        lambda: rules.parse_bytes("lots"),
        "size",
        "lots",
        "expected bytes as an int or a string like '512m', '1g', '64MiB'",
    )
    rejects(lambda: rules.parse_bytes(-1), "size", -1, "must not be negative")
    rejects(
        lambda: rules.parse_bytes("-1", "memory"),
        "memory",
        "-1",
        "expected bytes as an int or a string like '512m', '1g', '64MiB'",
    )


def test_optional_bytes() -> None:
    assert rules.optional_bytes(None, "shm_size") is None
    assert rules.optional_bytes("64m", "shm_size") == 64 << 20
    assert rules.optional_bytes(-1, "memory_swap", allow_unlimited=True) == -1
    rejects(
        lambda: rules.optional_bytes(-1, "memory_swap"), "memory_swap", -1, "must not be negative"
    )
    rejects(
        lambda: rules.optional_bytes("x", "shm_size"),
        "shm_size",
        "x",
        "expected bytes as an int or a string like '512m', '1g', '64MiB'",
    )


def test_cpus_names_its_parameter() -> None:
    assert rules.cpus(2.5, "nano_cpus") == 2_500_000_000
    rejects(
        lambda: rules.cpus(0, "nano_cpus"),
        "nano_cpus",
        0,
        "expected a number of CPUs greater than 0",
    )
    rejects(lambda: rules.cpus(1e-4, "limit"), "limit", 1e-4, "must be at least 0.001")


# --- durations ---------------------------------------------------------------------------


def test_seconds_rejects_nan() -> None:
    nan = float("nan")
    rejects(
        lambda: rules.seconds(nan, "timeout"),
        "timeout",
        nan,
        "expected seconds (a number >= 0 or a timedelta)",
    )
    assert rules.seconds(0.25, "timeout") == 0.25


def test_duration_ns_forms() -> None:
    # Health check intervals and swarm delays are nanoseconds on the wire.
    assert rules.duration_ns(2) == 2_000_000_000
    assert rules.duration_ns(0) == 0
    assert rules.duration_ns(0.0) == 0
    assert rules.duration_ns(timedelta(days=1, seconds=1, microseconds=1)) == 86_401_000_001_000
    assert rules.duration_ns(timedelta(days=2)) == 172_800 * 10**9
    assert rules.duration_ns(timedelta(seconds=3)) == 3 * 10**9
    assert rules.duration_ns(timedelta(0)) == 0
    # Exact for long durations: no float on the way.
    assert (
        rules.duration_ns(timedelta(days=40_000, microseconds=1)) == 40_000 * 86_400 * 10**9 + 1000
    )


def test_duration_ns_rejects() -> None:
    rejects(lambda: rules.duration_ns(True), "duration", True, "expected seconds or a timedelta")
    rejects(
        lambda: rules.duration_ns(False, "delay"), "delay", False, "expected seconds or a timedelta"
    )
    for value in [float("inf"), float("-inf"), float("nan")]:
        rejects(partial(rules.duration_ns, value, "interval"), "interval", value, "must be finite")
    rejects(
        lambda: rules.duration_ns("1s", "interval"),  # type: ignore[arg-type]
        "interval",
        "1s",
        "expected seconds or a timedelta, not str",
    )
    rejects(
        lambda: rules.duration_ns(None),  # type: ignore[arg-type]
        "duration",
        None,
        "expected seconds or a timedelta, not NoneType",
    )
    rejects(lambda: rules.duration_ns(-0.5), "duration", -0.5, "must not be negative")
    rejects(
        lambda: rules.duration_ns(timedelta(microseconds=-1), "grace"),
        "grace",
        timedelta(microseconds=-1),
        "must not be negative",
    )


# --- timestamps ----------------------------------------------------------------------------


def test_timestamp_datetimes() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert rules.timestamp(epoch) == "0.000000000"
    plus_two = timezone(timedelta(hours=2))
    assert rules.timestamp(datetime(2024, 1, 2, 5, 4, 5, tzinfo=plus_two)) == "1704164645.000000000"
    assert rules.timestamp(datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=timezone.utc)) == (
        "1704164645.000001000"
    )
    naive = datetime(2024, 1, 2, 3, 4, 5, 500000)  # local time
    assert rules.timestamp(naive) == f"{int(naive.timestamp())}.500000000"
    before = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    rejects(lambda: rules.timestamp(before), "since", before, "must not be before 1970")
    rejects(lambda: rules.timestamp(before, "until"), "until", before, "must not be before 1970")


def test_timestamp_timedelta_exact_and_too_far() -> None:
    got = rules.timestamp(timedelta(0), "until")
    whole, _, frac = got.partition(".")
    assert len(frac) == 9 and abs(int(whole) - time.time()) < 5
    far = timedelta(days=365 * 200)
    rejects(lambda: rules.timestamp(far), "since", far, "must not reach back before 1970")


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: Python counts such a datetime as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "nowhere"


def test_timestamp_datetime_without_offset_is_local_time() -> None:
    # Was a bare TypeError (aware minus naive) instead of local time.
    naive = datetime(2024, 1, 2, 3, 4, 5)
    assert rules.timestamp(naive.replace(tzinfo=_NoOffset())) == rules.timestamp(naive)


def test_timestamp_far_future_aware_datetime_is_exact() -> None:
    # Taken as given, not moved to local time first (which would pass year 9999 here).
    late = datetime(9999, 12, 31, 23, 0, 0, 7, tzinfo=timezone(timedelta(hours=-12)))
    whole = (late - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(seconds=1)
    assert rules.timestamp(late) == f"{whole}.000007000"


def test_timestamp_timedelta_counts_back_from_now(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ns = 1_700_000_000_123_456_789
    monkeypatch.setattr(rules, "time", SimpleNamespace(time_ns=lambda: now_ns))
    assert rules.timestamp(timedelta(seconds=100, microseconds=5)) == "1699999900.123451789"
    assert rules.timestamp(timedelta(microseconds=now_ns // 1000)) == "0.000000789"
    # Back to the epoch itself is allowed, a microsecond more is not.
    monkeypatch.setattr(rules, "time", SimpleNamespace(time_ns=lambda: 1_700_000_000_123_456_000))
    to_epoch = timedelta(seconds=1_700_000_000, microseconds=123_456)
    assert rules.timestamp(to_epoch, "until") == "0.000000000"
    one_more = to_epoch + timedelta(microseconds=1)
    rejects(
        lambda: rules.timestamp(one_more, "until"),
        "until",
        one_more,
        "must not reach back before 1970",
    )


class _PrintedFloat(float):
    """A float whose repr is not a bare number, like NumPy 2's ``np.float64(1.5)``."""

    def __repr__(self) -> str:
        return f"PrintedFloat({float(self)!r})"


def test_timestamp_float_subclass() -> None:
    # Was refused ("not a usable number of seconds"): the repr was parsed, not the number.
    assert rules.timestamp(_PrintedFloat(1.5)) == "1.500000000"
    assert rules.timestamp(_PrintedFloat(1704164645.123456)) == "1704164645.123456000"


def test_timestamp_floats() -> None:
    assert rules.timestamp(0.0) == "0.000000000"
    # Converted from the float's shortest repr, not its binary expansion.
    assert rules.timestamp(1704164645.123456) == "1704164645.123456000"
    assert rules.timestamp(0.1) == "0.100000000"
    assert rules.timestamp(2.0000000005) == "2.000000000"  # half to even
    assert rules.timestamp(2.0000000015) == "2.000000002"
    for value in [float("nan"), float("inf"), -1e-9]:
        rejects(
            partial(rules.timestamp, value, "until"),
            "until",
            value,
            "must be a finite, non-negative number",
        )


def test_timestamp_strings_and_bad_types() -> None:
    assert rules.timestamp("1700000000.5") == "1700000000.5"
    for value in ["", "  "]:
        rejects(partial(rules.timestamp, value), "since", value, "must not be empty")
    rejects(lambda: rules.timestamp("1\x00"), "since", "1\x00", "must not contain NUL")
    rejects(
        lambda: rules.timestamp(True),
        "since",
        True,
        "expected a datetime, seconds or a string",
    )
    rejects(
        lambda: rules.timestamp(False, "until"),
        "until",
        False,
        "expected a datetime, seconds or a string",
    )
    rejects(lambda: rules.timestamp(-1), "since", -1, "must not be negative")


def test_time_window() -> None:
    assert rules.time_window(None, None) == (None, None)
    assert rules.time_window(1, None) == ("1", None)
    assert rules.time_window(None, 2.5) == (None, "2.500000000")
    assert rules.time_window(1, 2) == ("1", "2")
    assert rules.time_window(5, 5) == ("5", "5")
    # Daemon strings are not compared: "10m" (ago) and a number mean different things.
    assert rules.time_window("10m", 5) == ("10m", "5")
    assert rules.time_window(5, "10m") == ("5", "10m")
    assert rules.time_window("2000", 1000) == ("2000", "1000")
    assert rules.time_window(2000, "1000") == ("2000", "1000")
    rejects(lambda: rules.time_window(2, 1), "until", 1, "is before since=2")
    moment = datetime(2024, 1, 2, tzinfo=timezone.utc)
    rejects(
        lambda: rules.time_window(moment, 1.5),
        "until",
        1.5,
        f"is before since={moment!r}",
    )
    rejects(lambda: rules.time_window(-1, None), "since", -1, "must not be negative")
    rejects(lambda: rules.time_window(None, -1), "until", -1, "must not be negative")


def test_tail() -> None:
    assert rules.tail(None) is None
    assert rules.tail("all") == "all"
    assert rules.tail(0) == "0"
    assert rules.tail(25) == "25"
    for value in [-1, True, "10", 1.5, "ALL"]:
        rejects(
            partial(rules.tail, value), "tail", value, "expected a number of lines >= 0 or 'all'"
        )
    rejects(
        lambda: rules.tail(-2, "lines"), "lines", -2, "expected a number of lines >= 0 or 'all'"
    )


# --- signals and detach keys: exact reasons ---------------------------------------------


@pytest.mark.parametrize("keys", ["ctrl-", "ctrl-A", "ctrl-1", "ab", "\x7f", "ctrl-pq"])
def test_detach_keys_reason_names_the_key(keys: str) -> None:
    value = f"ctrl-p,{keys}"
    rejects(
        lambda: rules.detach_keys(value, "keys"),
        "keys",
        value,
        f"unknown key {keys!r} (use one printable character or ctrl-<a-z@[\\]^_>)",
    )


def test_signal_rejects_with_its_parameter() -> None:
    rejects(
        lambda: rules.signal("SIG TERM", "stop_signal"),
        "stop_signal",
        "SIG TERM",
        "expected a signal name ('SIGTERM', 'HUP') or number",
    )
    rejects(lambda: rules.signal(False, "kill"), "kill", False, "expected a signal name or number")


# --- ports (docker run -p, docker service create -p) ----------------------------------------

ANY = models.PortBinding()


def bound(ip: str = "", port: str = "") -> models.PortBinding:
    return models.PortBinding(host_ip=ip, host_port=port)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (80, ["80/tcp"]),
        (1, ["1/tcp"]),
        (65535, ["65535/tcp"]),
        ("80", ["80/tcp"]),
        ("80/udp", ["80/udp"]),
        ("53/sctp", ["53/sctp"]),
        (" 80/UDP ", ["80/udp"]),
        ("8000-8002/tcp", ["8000/tcp", "8001/tcp", "8002/tcp"]),
        ("8000-8001", ["8000/tcp", "8001/tcp"]),
        ("80-80", ["80/tcp"]),
        ("65534-65535/udp", ["65534/udp", "65535/udp"]),
    ],
)
def test_port_keys(key: Any, expected: list[str]) -> None:
    assert rules.port_keys(key, "ports") == expected


@pytest.mark.parametrize("key", [0, 65536, -1, "0", "65536", "0-1", "10-9", "65535-65536"])
def test_port_keys_rejects_out_of_range(key: Any) -> None:
    rejects(
        lambda: rules.port_keys(key, "expose"),
        "expose",
        key,
        "container ports are 1..65535, ranges low-high",
    )


@pytest.mark.parametrize("key", [True, "http", "80/", "80:80", "/tcp", "123456", 1.5, None])
def test_port_keys_rejects_malformed(key: Any) -> None:
    rejects(
        lambda: rules.port_keys(key, "expose"),
        "expose",
        key,
        "expected a port like 80, '80/tcp' or '80-89'",
    )


def test_port_keys_rejects_unknown_protocols() -> None:
    rejects(
        lambda: rules.port_keys("80/icmp", "expose"),
        "expose",
        "80/icmp",
        "protocol must be one of tcp, udp, sctp",
    )
    assert rules.protocol("udp", "p", "53/udp") == "udp"
    rejects(
        lambda: rules.protocol("TCP", "p", "spec"),
        "p",
        "spec",
        "protocol must be one of tcp, udp, sctp",
    )


def test_published_ports_forms() -> None:
    exposed, bindings = rules.published_ports(
        {
            80: None,
            "81/tcp": 8081,
            "82": "127.0.0.1:8082",
            "83/udp": "[::1]:8083",
            84: ("127.0.0.1", 8084),
            85: ("10.0.0.1",),
            86: [8086, "0.0.0.0:9086"],
            87: 0,
            88: "8088",
            89: ":8089",
            90: "0",
            91: ("", None),
            92: "9000-9010",
            93: "127.0.0.1:",
            94: ("127.0.0.1", ""),
        }
    )
    assert exposed == {
        k: {}
        for k in [
            "80/tcp", "81/tcp", "82/tcp", "83/udp", "84/tcp", "85/tcp", "86/tcp",
            "87/tcp", "88/tcp", "89/tcp", "90/tcp", "91/tcp", "92/tcp", "93/tcp", "94/tcp",
        ]
    }  # fmt: skip
    assert bindings == {
        "80/tcp": [ANY],
        "81/tcp": [bound(port="8081")],
        "82/tcp": [bound("127.0.0.1", "8082")],
        "83/udp": [bound("::1", "8083")],
        "84/tcp": [bound("127.0.0.1", "8084")],
        "85/tcp": [bound("10.0.0.1")],
        "86/tcp": [bound(port="8086"), bound("0.0.0.0", "9086")],
        "87/tcp": [ANY],
        "88/tcp": [bound(port="8088")],
        "89/tcp": [bound(port="8089")],
        "90/tcp": [ANY],
        "91/tcp": [ANY],
        # One container port, a host range: the daemon picks a free port in it.
        "92/tcp": [bound(port="9000-9010")],
        # docker run -p 127.0.0.1::93: any host port on that address.
        "93/tcp": [bound("127.0.0.1")],
        "94/tcp": [bound("127.0.0.1")],
    }


def test_published_ports_ranges() -> None:
    # docker run -p 9000-9001:8000-8001: port by port.
    exposed, bindings = rules.published_ports(
        {
            "8000-8001": "127.0.0.1:9000-9001",
            "7000-7002/udp": None,
            "6000-6001": [None, "5000-5001"],
        }
    )
    assert list(exposed) == [
        "8000/tcp", "8001/tcp", "7000/udp", "7001/udp", "7002/udp", "6000/tcp", "6001/tcp"
    ]  # fmt: skip
    assert bindings == {
        "8000/tcp": [bound("127.0.0.1", "9000")],
        "8001/tcp": [bound("127.0.0.1", "9001")],
        "7000/udp": [ANY],
        "7001/udp": [ANY],
        "7002/udp": [ANY],
        "6000/tcp": [ANY, bound(port="5000")],
        "6001/tcp": [ANY, bound(port="5001")],
    }


def test_published_ports_merges_keys_naming_one_port() -> None:
    _, bindings = rules.published_ports({80: 8080, "80/tcp": [8081, 8082]})
    assert bindings == {"80/tcp": [bound(port="8080"), bound(port="8081"), bound(port="8082")]}


def test_published_ports_range_lengths_must_match() -> None:
    value = {"8000-8001": 9000}
    rejects(
        lambda: rules.published_ports(value),
        "ports",
        value,
        "'8000-8001' has 2 ports but host port '9000' is one port",
    )
    value2 = {"8000-8002/udp": "9000-9001"}
    rejects(
        lambda: rules.published_ports(value2),
        "ports",
        value2,
        "'8000-8002/udp' has 3 ports but host port '9000-9001' a range of another length",
    )
    value3 = {"8000-8001": "9000-9002"}
    rejects(
        lambda: rules.published_ports(value3),
        "ports",
        value3,
        "'8000-8001' has 2 ports but host port '9000-9002' a range of another length",
    )


def test_published_ports_rejects_bad_host_ports() -> None:
    reason = "bad host port {!r} (0..65535, 0 = any, or a range low-high)"
    cases: list[tuple[Any, Any]] = [
        (65536, 65536),
        (-1, -1),
        (True, True),
        ("70000", 70000),
        ("http", "http"),
        ("9010-9000", "9010-9000"),
        ("0-5", "0-5"),
        ("9000-", "9000-"),
        ("-5", "-5"),
        ("1.2.3.4:x", "x"),
        (("1.2.3.4", 1.5), 1.5),
        (("1.2.3.4", True), True),
    ]
    for binding, shown in cases:
        value = {80: binding}
        rejects(partial(rules.published_ports, value), "ports", value, reason.format(shown))
    assert rules.published_ports({80: 65535})[1] == {"80/tcp": [bound(port="65535")]}
    assert rules.published_ports({80: "1-65535"})[1] == {"80/tcp": [bound(port="1-65535")]}


def test_published_ports_rejects_bad_host_ips() -> None:
    # Only IPv6 brackets are taken off an address.
    cases: list[tuple[Any, Any]] = [
        ("nohost:80", "nohost"),
        ("X10.0.0.1:80", "X10.0.0.1"),
        (("1.2.3", 80), "1.2.3"),
        ((5, 80), 5),
    ]
    for binding, ip in cases:
        value = {80: binding}
        rejects(partial(rules.published_ports, value), "ports", value, f"bad host IP {ip!r}")


@pytest.mark.parametrize("binding", [1.5, (), ("1.2.3.4", 80, "x"), {"ip": "1.2.3.4"}, b"80"])
def test_published_ports_rejects_bad_bindings(binding: Any) -> None:
    value = {80: binding}
    rejects(
        lambda: rules.published_ports(value),
        "ports",
        value,
        f"bad binding {binding!r} (use a port, 'ip:port', (ip, port), (ip,), None or a list)",
    )


def test_published_ports_rejects_bad_shapes() -> None:
    rejects(
        lambda: rules.published_ports([80]),
        "ports",
        [80],
        "expected a mapping of container port to binding",
    )
    value: dict[Any, Any] = {80: 8080, 81: []}
    rejects(lambda: rules.published_ports(value), "ports", value, "no binding given for 81")
    rejects(
        lambda: rules.published_ports({"x": 1}),
        "ports",
        "x",
        "expected a port like 80, '80/tcp' or '80-89'",
    )


def test_endpoint_port_forms() -> None:
    EPC = models.EndpointPortConfig
    given = EPC(target_port=80, published_port=8080, protocol="udp")
    assert rules.endpoint_port(given) is given
    assert rules.endpoint_port(80) == EPC(target_port=80, protocol="tcp")
    assert rules.endpoint_port(1) == EPC(target_port=1, protocol="tcp")
    assert rules.endpoint_port(65535) == EPC(target_port=65535, protocol="tcp")
    assert rules.endpoint_port((8080, 80)) == EPC(
        published_port=8080, target_port=80, protocol="tcp"
    )
    assert rules.endpoint_port((0, 1)) == EPC(published_port=0, target_port=1, protocol="tcp")
    assert rules.endpoint_port(("65535", "65535")) == EPC(
        published_port=65535, target_port=65535, protocol="tcp"
    )
    assert rules.endpoint_port("8080:80") == EPC(
        published_port=8080, target_port=80, protocol="tcp"
    )
    assert rules.endpoint_port("80") == EPC(published_port=0, target_port=80, protocol="tcp")
    assert rules.endpoint_port("53/udp") == EPC(target_port=53, protocol="udp")
    assert rules.endpoint_port("5353:53/udp") == EPC(
        published_port=5353, target_port=53, protocol="udp"
    )
    assert rules.endpoint_port("0:9/sctp") == EPC(published_port=0, target_port=9, protocol="sctp")
    assert rules.endpoint_port("65535:1/tcp") == EPC(
        published_port=65535, target_port=1, protocol="tcp"
    )


def test_endpoint_port_rejects_out_of_range() -> None:
    cases: list[tuple[Any, str]] = [
        (0, "ports are 1..65535, not 0"),
        (65536, "ports are 1..65535, not 65536"),
        (-1, "ports are 1..65535, not -1"),
        ((8080, 0), "ports are 1..65535, not 0"),
        ((-1, 80), "ports are 0..65535, not -1"),
        ((65536, 80), "ports are 0..65535, not 65536"),
        ((True, 80), "ports are 0..65535, not True"),
        ((8080, 1.5), "ports are 1..65535, not 1.5"),
        ((8080, "x"), "ports are 1..65535, not 'x'"),
        ("70000:80", "ports are 0..65535, not 70000"),
        ("8080:0", "ports are 1..65535, not 0"),
        ("0", "ports are 1..65535, not 0"),
        ("65536/udp", "ports are 1..65535, not 65536"),
    ]
    for value, reason in cases:
        rejects(partial(rules.endpoint_port, value, "publish"), "publish", value, reason)
    rejects(lambda: rules.endpoint_port(0), "ports", 0, "ports are 1..65535, not 0")


def test_endpoint_port_rejects_malformed() -> None:
    for value in ["", "a:80", "8080:b", ":80", "80:", "8080:80:90", "-1:80", "http/tcp"]:
        rejects(
            partial(rules.endpoint_port, value, "publish"),
            "publish",
            value,
            "expected 'published:target[/proto]' or 'target[/proto]'",
        )
    rejects(
        lambda: rules.endpoint_port("8080:80/icmp", "publish"),
        "publish",
        "8080:80/icmp",
        "protocol must be one of tcp, udp, sctp",
    )
    rejects(lambda: rules.endpoint_port(True), "ports", True, "expected a port")
    rejects(lambda: rules.endpoint_port(False, "publish"), "publish", False, "expected a port")
    for other in [1.5, (1, 2, 3), (80,), None, [8080, 80]]:
        rejects(
            partial(rules.endpoint_port, other),
            "ports",
            other,
            "expected an EndpointPortConfig, int, str or a pair",
        )


# --- mounts ------------------------------------------------------------------------------


def test_mounts() -> None:
    a = models.Mount(type="bind", source="/src", target="/dst", read_only=True)
    b = models.Mount(type="tmpfs", target="/tmp")
    given = (a, b)
    out = rules.mounts(given)
    assert out == [a, b] and type(out) is list
    assert rules.mounts([]) == []
    for bad in ["/src:/dst", b"x", None, [a, "/src:/dst"], [{"Type": "bind"}], a]:
        rejects(
            partial(rules.mounts, bad), "mounts", bad, "expected a list of aiodock.models.Mount"
        )
    rejects(
        lambda: rules.mounts("x", "volumes"),
        "volumes",
        "x",
        "expected a list of aiodock.models.Mount",
    )


# --- platforms (os/arch[/variant]) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("linux", {"os": "linux"}),
        ("linux/amd64", {"os": "linux", "architecture": "amd64"}),
        ("linux/arm64/v8", {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        (
            {"os": "linux", "architecture": "arm", "variant": ""},
            {"os": "linux", "architecture": "arm"},
        ),
        (
            {"os": "windows", "os.version": "10.0.17763", "os.features": ["win32k"]},
            {"os": "windows", "os.version": "10.0.17763", "os.features": ["win32k"]},
        ),
        ({}, {}),
    ],
)
def test_oci_platform(value: Any, expected: dict[str, Any]) -> None:
    assert rules.oci_platform(value) == expected


@pytest.mark.parametrize("value", ["", "/", "linux/", "/amd64", "linux//v8", "linux/arm/v7/x"])
def test_oci_platform_rejects_bad_strings(value: str) -> None:
    rejects(
        lambda: rules.oci_platform(value),
        "platform",
        value,
        "expected 'os[/architecture[/variant]]'",
    )


def test_oci_platform_rejects_unknown_keys_and_types() -> None:
    value = {"os": "linux", "arch": "arm64", "Variant": "v8"}
    rejects(
        lambda: rules.oci_platform(value, "platforms"),
        "platforms",
        value,
        "unknown keys ['arch', 'Variant']; allowed: os, architecture, variant, os.version, "
        "os.features",
    )
    bads: list[Any] = [5, None, ["linux", "amd64"]]
    for bad in bads:
        rejects(
            partial(rules.oci_platform, bad),
            "platform",
            bad,
            "expected 'os/arch[/variant]' or an OCI platform map",
        )


def test_platform_json() -> None:
    assert rules.platform_json(None) is None
    assert rules.platform_json("linux/arm64/v8") == (
        '{"os":"linux","architecture":"arm64","variant":"v8"}'
    )
    assert rules.platform_json({"os": "linux"}) == '{"os":"linux"}'
    rejects(
        lambda: rules.platform_json("a/b/c/d"),
        "platform",
        "a/b/c/d",
        "expected 'os[/architecture[/variant]]'",
    )
    rejects(
        lambda: rules.platform_json("a//b", "target"),
        "target",
        "a//b",
        "expected 'os[/architecture[/variant]]'",
    )


def test_platform_str() -> None:
    assert rules.platform_str(None) is None
    assert rules.platform_str("linux/arm/v7") == "linux/arm/v7"
    assert rules.platform_str({"variant": "v8", "architecture": "arm64", "os": "linux"}) == (
        "linux/arm64/v8"
    )
    assert rules.platform_str({"os": "windows", "os.version": "10.0"}) == "windows"
    assert rules.platform_str({"os": "linux", "architecture": "amd64"}) == "linux/amd64"
    rejects(
        lambda: rules.platform_str("linux/"),
        "platform",
        "linux/",
        "expected 'os[/architecture[/variant]]'",
    )
    rejects(
        lambda: rules.platform_str("x//", "p"), "p", "x//", "expected 'os[/architecture[/variant]]'"
    )
    arch_only = {"architecture": "arm64"}
    rejects(lambda: rules.platform_str(arch_only), "platform", arch_only, "an 'os' is required")
    empty_os = {"os": "", "architecture": "arm64"}
    rejects(lambda: rules.platform_str(empty_os, "p"), "p", empty_os, "an 'os' is required")
    rejects(
        lambda: rules.platform_str({"cpu": "x"}, "p"),
        "p",
        {"cpu": "x"},
        "unknown keys ['cpu']; allowed: os, architecture, variant, os.version, os.features",
    )


def test_platforms() -> None:
    assert rules.platforms(None, "platform") is None
    assert rules.platforms("linux/amd64", "platform") == ['{"os":"linux","architecture":"amd64"}']
    assert rules.platforms({"os": "linux"}, "platform") == ['{"os":"linux"}']
    assert rules.platforms(("linux/amd64", {"os": "linux", "architecture": "arm64"}), "p") == [
        '{"os":"linux","architecture":"amd64"}',
        '{"os":"linux","architecture":"arm64"}',
    ]
    # None in a list is a mistake, not "no platform" (it used to go out as platform=).
    rejects(
        lambda: rules.platforms(["linux", None], "platforms"),  # type: ignore[list-item]
        "platforms",
        None,
        "expected 'os/arch[/variant]' or an OCI platform map",
    )
    rejects(
        lambda: rules.platforms(["linux", "a//b"], "platforms"),
        "platforms",
        "a//b",
        "expected 'os[/architecture[/variant]]'",
    )


# --- image references --------------------------------------------------------------------

DIGEST = "sha256:" + "ab" * 32


def ref(registry: str, repository: str, tag: str | None = None, digest: str | None = None) -> Any:
    from aiodock._registry.reference import Reference

    return Reference(registry=registry, repository=repository, tag=tag, digest=digest)


def test_reference() -> None:
    assert rules.reference("ubuntu:22.04", "image") == ref("docker.io", "library/ubuntu", "22.04")
    rejects(
        lambda: rules.reference("Ubuntu", "from_image"),
        "from_image",
        "Ubuntu",
        "repository name 'library/Ubuntu' must be lowercase",
    )


def test_name_and_tag() -> None:
    assert rules.name_and_tag("ubuntu", None, "image") == (ref("docker.io", "library/ubuntu"), None)
    assert rules.name_and_tag("ubuntu:22.04", None, "image") == (
        ref("docker.io", "library/ubuntu", "22.04"),
        "22.04",
    )
    assert rules.name_and_tag("localhost:5000/app", "v1", "image") == (
        ref("localhost:5000", "app", "v1"),
        "v1",
    )
    assert rules.name_and_tag(f"app@{DIGEST}", None, "image") == (
        ref("docker.io", "library/app", None, DIGEST),
        DIGEST,
    )
    for image in ["app:1", f"app@{DIGEST}"]:
        rejects(
            partial(rules.name_and_tag, image, "2", "image"),
            "tag",
            "2",
            f"{image!r} already names a tag or digest",
        )
    rejects(
        lambda: rules.name_and_tag("app", "bad tag", "image"),
        "tag",
        "app:bad tag",
        "tag 'bad tag' must be 1-128 characters of letters, digits, '_', '.' and '-', "
        "not starting with '.' or '-'",
    )
    rejects(
        lambda: rules.name_and_tag("", "1", "image"),
        "image",
        "",
        "an image reference cannot be empty",
    )


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ubuntu", "ubuntu"),
        ("ubuntu:22.04", "ubuntu"),
        (f"ubuntu@{DIGEST}", "ubuntu"),
        (f"ubuntu:22.04@{DIGEST}", "ubuntu"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("localhost:5000/app:5000", "localhost:5000/app"),
        ("docker.io/library/ubuntu:x", "docker.io/library/ubuntu"),
    ],
)
def test_repository_text_keeps_the_callers_spelling(image: str, expected: str) -> None:
    assert rules.repository_text(image, rules.reference(image, "image")) == expected


def test_split_target() -> None:
    assert rules.split_target("localhost:5000/app:1", None, "repo") == ("localhost:5000/app", "1")
    assert rules.split_target("app", "v2", "repo") == ("app", "v2")
    assert rules.split_target("app", None, "repo") == ("app", None)
    target = f"app@{DIGEST}"
    rejects(
        lambda: rules.split_target(target, None, "repo"), "repo", target, "cannot tag with a digest"
    )
    rejects(
        lambda: rules.split_target("APP", None, "repo"),
        "repo",
        "APP",
        "repository name 'library/APP' must be lowercase",
    )


def test_tag_or_all() -> None:
    assert rules.tag_or_all("app", None, False, "a tag") == "latest"
    assert rules.tag_or_all("app:1", "1", False, "a tag") == "1"
    assert rules.tag_or_all("app", None, True, "a tag") is None
    rejects(
        lambda: rules.tag_or_all("app:1", "1", True, "a tag"),
        "all_tags",
        True,
        "'app:1' already names a tag",
    )


def test_optional_target() -> None:
    assert rules.optional_target(None, None) == (None, None)
    assert rules.optional_target("app:1", None) == ("app", "1")
    assert rules.optional_target("app", "2") == ("app", "2")
    assert rules.optional_target("app", None) == ("app", None)
    rejects(lambda: rules.optional_target(None, "1"), "tag", "1", "a tag needs a repository")
    rejects(
        lambda: rules.optional_target("App", None),
        "repository",
        "App",
        "repository name 'library/App' must be lowercase",
    )


def test_changes() -> None:
    assert rules.changes(None) is None
    assert rules.changes("ENV A=1") == ["ENV A=1"]
    out = rules.changes(("ENV A=1", 'CMD ["sh"]'))
    assert out == ["ENV A=1", 'CMD ["sh"]'] and type(out) is list
    for bad in ["", "  ", ["ENV A=1", ""], ["ENV A=1", " \t"], ["ENV A=1", 1]]:
        rejects(
            partial(rules.changes, bad),  # type: ignore[arg-type]
            "changes",
            bad,
            "expected Dockerfile instructions as strings",
        )


def test_tags() -> None:
    assert rules.tags("app:1") == ["app:1"]
    out = rules.tags(("app", "localhost:5000/app:2"))
    assert out == ["app", "localhost:5000/app:2"] and type(out) is list
    item = f"app@{DIGEST}"
    rejects(lambda: rules.tags(["x", item]), "tags", item, "a build tag cannot carry a digest")
    rejects(
        lambda: rules.tags(["x", "Y"]), "tags", "Y", "repository name 'library/Y' must be lowercase"
    )


# --- ulimits (docker run --ulimit nofile=1024:2048) ---------------------------------------

_ULIMIT_NAMES = (
    "core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, "
    "rttime, sigpending, stack"
)


def limit(name: str, soft: int, hard: int) -> dict[str, Any]:
    return {"Name": name, "Soft": soft, "Hard": hard}


def test_ulimits_mapping() -> None:
    # One number sets both limits; -1 is unlimited.
    assert rules.ulimits(
        {"nofile": (1024, 2048), "nproc": 64, "core": -1, "stack": [10, -1], "rss": (5, 5)}
    ) == [
        limit("nofile", 1024, 2048),
        limit("nproc", 64, 64),
        limit("core", -1, -1),
        limit("stack", 10, -1),
        limit("rss", 5, 5),
    ]
    assert rules.ulimits({}) == []
    assert rules.ulimits({"memlock": (-1, -1), "cpu": 0}) == [
        limit("memlock", -1, -1),
        limit("cpu", 0, 0),
    ]


def test_ulimits_list_forms() -> None:
    assert rules.ulimits(
        [
            models.ResourcesUlimits(name="nofile", soft=1024, hard=2048),
            {"name": "nproc", "soft": 64, "hard": 128},
            {"Name": "core", "Soft": 0, "Hard": -1},
            {"name": "rss", "soft": 7},  # hard defaults to soft
            {"NAME": "stack", "HARD": 9},  # soft defaults to hard
            "msgqueue=1024:2048",
            "nice=5",
            "rtprio=-1",
            "locks=3:",
        ]
    ) == [
        limit("nofile", 1024, 2048),
        limit("nproc", 64, 128),
        limit("core", 0, -1),
        limit("rss", 7, 7),
        limit("stack", 9, 9),
        limit("msgqueue", 1024, 2048),
        limit("nice", 5, 5),
        limit("rtprio", -1, -1),
        limit("locks", 3, 3),
    ]
    assert rules.ulimits(()) == []


@pytest.mark.parametrize(
    "limits", ["many", True, 1.5, -2, None, (1, 2, 3), (1,), [1], (1, True), (-2, 5), (1, "2")]
)
def test_ulimits_rejects_bad_limits(limits: Any) -> None:
    value = {"nproc": 1, "nofile": limits}
    rejects(
        lambda: rules.ulimits(value, "limits"),
        "limits",
        {"nofile": limits},
        "expected a limit or (soft, hard), integers >= -1",
    )


@pytest.mark.parametrize("limits", [(2048, 1024), (-1, 10), (1, 0)])
def test_ulimits_rejects_soft_above_hard(limits: Any) -> None:
    rejects(
        lambda: rules.ulimits({"nofile": limits}),
        "ulimits",
        {"nofile": limits},
        "the soft limit exceeds the hard limit",
    )


def test_ulimits_rejects_a_mapping_item_without_both_limits() -> None:
    rejects(
        lambda: rules.ulimits([{"name": "nofile"}]),
        "ulimits",
        {"nofile": (None, None)},
        "expected a limit or (soft, hard), integers >= -1",
    )


@pytest.mark.parametrize("item", [{"name": "nofile", "limit": 3}, {"soft": 1, "hard": 2}, {}])
def test_ulimits_rejects_mapping_items_with_other_keys(item: Any) -> None:
    rejects(lambda: rules.ulimits([item], "limits"), "limits", item, "expected name, soft and hard")


@pytest.mark.parametrize("item", ["nofile=x", "nofile=1:x", "nofile=", "nofile=1.5", "nofile=1=2"])
def test_ulimits_rejects_bad_strings(item: str) -> None:
    rejects(
        lambda: rules.ulimits(["nproc=1", item], "limits"),
        "limits",
        item,
        "expected 'name=soft[:hard]'",
    )


@pytest.mark.parametrize("item", [42, "nofile", None, ("nofile", 1), b"nofile=1"])
def test_ulimits_rejects_other_items(item: Any) -> None:
    rejects(
        lambda: rules.ulimits(["nproc=1", item]),
        "ulimits",
        item,
        "expected a ResourcesUlimits, a mapping or 'name=soft[:hard]'",
    )


@pytest.mark.parametrize("value", ["nofile=1", b"nofile=1", 5, None])
def test_ulimits_rejects_other_shapes(value: Any) -> None:
    rejects(
        lambda: rules.ulimits(value),
        "ulimits",
        value,
        "expected {name: limit or (soft, hard)} or a list of limits",
    )


@pytest.mark.parametrize(
    ("value", "name"),
    [({"bogus": 1}, "bogus"), ({"NOFILE": 1}, "NOFILE"), ({1: 1}, 1), (["=5"], "")],
)
def test_ulimits_rejects_unknown_resources(value: Any, name: Any) -> None:
    rejects(
        lambda: rules.ulimits(value, "limits"),
        "limits",
        name,
        f"unknown resource; expected one of {_ULIMIT_NAMES}",
    )


def test_ulimits_rejects_a_resource_given_twice() -> None:
    twice: list[Any] = [models.ResourcesUlimits(name="nofile", soft=1, hard=1), "nofile=2"]
    rejects(lambda: rules.ulimits(twice), "ulimits", "nofile", "given twice")
    rejects(
        lambda: rules.ulimits(["nproc=1", "nofile=1", "nofile=1"], "limits"),
        "limits",
        "nofile",
        "given twice",
    )
