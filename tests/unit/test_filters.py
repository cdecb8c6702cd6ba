"""``aiodock._filters``: the natural Python form of ``filters`` to the Engine's JSON."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodock._filters import encode_filters, normalize_filters
from aiodock.errors import InvalidArgument


def decoded(filters: Any) -> Any:
    encoded = encode_filters(filters)
    assert encoded is not None
    return json.loads(encoded)


def test_none_and_empty_give_none() -> None:
    assert encode_filters(None) is None
    assert encode_filters({}) is None
    assert encode_filters({"label": None, "type": []}) is None


def test_scalars() -> None:
    assert decoded({"type": "container", "dangling": True, "all": False, "exited": 0}) == {
        "type": ["container"],
        "dangling": ["true"],
        "all": ["false"],
        "exited": ["0"],
    }


def test_sequences_keep_order_and_drop_duplicates() -> None:
    assert decoded({"event": ["start", "die", "start"], "id": ("a", "b")}) == {
        "event": ["start", "die"],
        "id": ["a", "b"],
    }


def test_sets_are_sorted_for_a_stable_encoding() -> None:
    assert decoded({"name": {"b", "a", "c"}}) == {"name": ["a", "b", "c"]}
    assert encode_filters({"name": frozenset({"y", "x"})}) == encode_filters({"name": ["x", "y"]})


def test_label_mapping_pairs_and_presence() -> None:
    assert decoded({"label": {"app": "web", "tier": True, "port": 80}}) == {
        "label": ["app=web", "tier", "port=80"]
    }


def test_label_list_passes_through() -> None:
    assert decoded({"label": ["app=web", "tier"]}) == {"label": ["app=web", "tier"]}


def test_output_is_compact_json_text() -> None:
    assert encode_filters({"a": "b"}) == '{"a":["b"]}'


def test_non_ascii_survives() -> None:
    assert decoded({"name": "caf\u00e9-\u2603"}) == {"name": ["caf\u00e9-\u2603"]}


def test_normalize_returns_engine_form() -> None:
    assert normalize_filters(OrderedDict(label={"a": "1"}, type="volume")) == {
        "label": ["a=1"],
        "type": ["volume"],
    }
    assert normalize_filters(None) == {}


@pytest.mark.parametrize(
    ("filters", "bad"),
    [
        ("type=container", "type=container"),
        (["type"], ["type"]),
        ({"": "x"}, ""),
        ({1: "x"}, 1),
        ({"a\x00": "x"}, "a\x00"),
        ({"a": 1.5}, 1.5),
        ({"a": b"x"}, b"x"),
        ({"a": object}, object),
        ({"a": [None]}, None),
        ({"a": [1.0]}, 1.0),
        ({"a": [["nested"]]}, ["nested"]),
        ({"a": "x\x00y"}, "x\x00y"),
        ({"label": {"k": False}}, False),
        ({"label": {"k": None}}, None),
        ({"label": {"k=v": "x"}}, "k=v"),
        ({"label": {"": "x"}}, ""),
        ({"label": {1: "x"}}, 1),
        ({"label": {"k": 2.5}}, 2.5),
        ({"label": {"k": ["x"]}}, ["x"]),
    ],
)
def test_invalid_input_names_filters(filters: Any, bad: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        encode_filters(filters)
    assert info.value.parameter == "filters"
    assert info.value.value == bad or info.value.value is bad
    assert "filters" in str(info.value)


def test_invalid_argument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="filters"):
        encode_filters({"a": 1.5})  # type: ignore[dict-item]


# --- properties -------------------------------------------------------------------

_text = st.text(max_size=8)
_scalar = st.one_of(_text, st.booleans(), st.integers())
_anything_scalar = st.one_of(
    _scalar,
    st.none(),
    st.floats(allow_nan=True),
    st.binary(max_size=4),
    st.just(object()),
)
_anything = st.recursive(
    _anything_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.one_of(_text, st.integers()), max_size=4),
        st.dictionaries(st.one_of(_text, st.integers(), st.none()), inner, max_size=4),
    ),
    max_leaves=12,
)
_filters_any = st.one_of(
    st.none(),
    _anything,
    st.dictionaries(st.one_of(_text, st.integers()), _anything, max_size=5),
)


@settings(max_examples=500)
@given(_filters_any)
def test_never_raises_anything_but_invalid_argument(filters: Any) -> None:
    try:
        result = encode_filters(filters)
    except InvalidArgument as exc:
        assert exc.parameter == "filters"
        return
    if result is not None:
        parsed = json.loads(result)
        assert isinstance(parsed, dict)
        for key, values in parsed.items():
            assert isinstance(key, str) and key
            assert isinstance(values, list) and values
            assert all(isinstance(v, str) for v in values)


_valid_value = st.one_of(
    st.none(),  # leaves its key out, and only its key
    _scalar.filter(lambda v: not (isinstance(v, str) and "\x00" in v)),
    st.lists(st.text(max_size=6).filter(lambda s: "\x00" not in s), max_size=4),
    st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda s: "=" not in s and "\x00" not in s),
        st.one_of(st.text(max_size=6).filter(lambda s: "\x00" not in s), st.just(True)),
        max_size=4,
    ),
)
_valid = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s), _valid_value, max_size=5
)


def _engine_value(value: Any) -> str:
    # The documented rules, written out here rather than borrowed from the module.
    if value is True or value is False:
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _engine_form(filters: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        if isinstance(value, dict):
            items = [k if v is True else f"{k}={_engine_value(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            items = [_engine_value(v) for v in value]
        elif value is None:
            items = []
        else:
            items = [_engine_value(value)]
        unique = [v for i, v in enumerate(items) if v not in items[:i]]
        if unique:
            out[key] = unique
    return out


@given(_valid)
def test_valid_input_encodes_to_the_engine_form(filters: dict[str, Any]) -> None:
    expected = _engine_form(filters)
    assert normalize_filters(filters) == expected
    result = encode_filters(filters)
    if not expected:
        assert result is None
    else:
        assert result is not None
        assert json.loads(result) == expected
        assert list(json.loads(result)) == list(expected)  # keys keep the caller's order
