"""``aiodock._filters``: a None filter between others, and the exact reason for each refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiodock._filters import encode_filters, normalize_filters
from aiodock.errors import InvalidArgument


def decoded(filters: Any) -> Any:
    encoded = encode_filters(filters)
    assert encoded is not None
    return json.loads(encoded)


def test_none_value_skips_only_its_own_key() -> None:
    # A None between other keys must not stop the loop: a dropped filter makes prune or
    # list act on more objects than asked for.
    filters = {"label": "keep=1", "until": None, "dangling": True, "before": "img"}
    assert normalize_filters(filters) == {
        "label": ["keep=1"],
        "dangling": ["true"],
        "before": ["img"],
    }
    assert decoded({"a": None, "b": "x"}) == {"b": ["x"]}


def reason_for(filters: Any) -> tuple[object, str]:
    with pytest.raises(InvalidArgument) as caught:
        normalize_filters(filters)
    assert caught.value.parameter == "filters"
    return caught.value.value, caught.value.reason


@pytest.mark.parametrize(
    ("filters", "value", "reason"),
    [
        ([("a", "b")], [("a", "b")], "expected a mapping of filter names to values, not list"),
        ({1: "x"}, 1, "a filter name must be a str, not int"),
        ({"": "x"}, "", "a filter name must not be empty"),
        ({"a\x00": "x"}, "a\x00", "a filter name contains NUL"),
        ({"label": {2: "x"}}, 2, "a key inside 'label' must be a str, not int"),
        ({"label": {"": "x"}}, "", "a key inside 'label' must not be empty"),
        ({"label": {"a\x00": "x"}}, "a\x00", "a key inside 'label' contains NUL"),
        ({"label": {"a=b": "x"}}, "a=b", "a key inside 'label' must not contain '='"),
        (
            {"label": {"app": False}},
            False,
            "label['app'] must be a str/int value, or True for 'present with any value'; "
            "leave the entry out instead of passing False/None",
        ),
        (
            {"label": {"app": None}},
            None,
            "label['app'] must be a str/int value, or True for 'present with any value'; "
            "leave the entry out instead of passing False/None",
        ),
        ({"name": "a\x00b"}, "a\x00b", "the value for 'name' contains NUL"),
        ({"label": {"app": "a\x00"}}, "a\x00", "the value for 'label' contains NUL"),
        (
            {"name": [1.5]},
            1.5,
            "the value for 'name' must be a str, int or bool (or a list of them, or a mapping), "
            "not float",
        ),
        (
            {"name": {b"x"}},
            b"x",
            "the value for 'name' must be a str, int or bool (or a list of them, or a mapping), "
            "not bytes",
        ),
        (
            {"label": {"app": 1.5}},
            1.5,
            "the value for 'label' must be a str, int or bool (or a list of them, or a mapping), "
            "not float",
        ),
        (
            {"since": 1.5},
            1.5,
            "the value for 'since' must be a str, int, bool, a list/tuple/set of them, "
            "or a mapping, not float",
        ),
    ],
)
def test_invalid_input_reasons(filters: Any, value: object, reason: str) -> None:
    assert reason_for(filters) == (value, reason)
