"""Nested parts structured on first access give exactly what eager structuring gives.

Every recorded fixture is structured twice: in this process (lazy, the default)
and in a fresh interpreter with ``aiodock._convert.LAZY = False`` (every part
structured at once, the path before laziness). The fully resolved forms
(``attrs.asdict``, recursing into every nested model) must be equal.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import attrs
import pytest

from aiodock import _convert
from aiodock._convert import structure, structure_list
from aiodock.errors import DockerConnectionError, ResponseValidationError
from aiodock.models import (
    ContainerInspectResponse,
    ContainerStatsResponse,
    ContainerSummary,
    EventMessage,
    ExecInspectResponse,
    ImageInspect,
    ImageSummary,
    NetworkInspect,
    SystemDataUsageResponse,
    SystemInfo,
    SystemVersion,
    Volume,
)
from tests._eager import eager_forms, resolved_form

FIXTURES = Path(__file__).parent / "fixtures"
# fixture -> (model, is a list)
CASES: dict[str, tuple[type[Any], bool]] = {
    "container_inspect_exited.json": (ContainerInspectResponse, False),
    "container_inspect_running.json": (ContainerInspectResponse, False),
    "container_list.json": (ContainerSummary, True),
    "container_stats.json": (ContainerStatsResponse, False),
    "events.jsonl": (EventMessage, True),
    "exec_inspect.json": (ExecInspectResponse, False),
    "image_inspect.json": (ImageInspect, False),
    "image_list.json": (ImageSummary, True),
    "network_inspect.json": (NetworkInspect, False),
    "system_df.json": (SystemDataUsageResponse, False),
    "system_info.json": (SystemInfo, False),
    "system_version.json": (SystemVersion, False),
    "volume_create.json": (Volume, False),
}


def load(name: str) -> Any:
    text = (FIXTURES / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def lazy(name: str) -> Any:
    cls, many = CASES[name]
    return structure_list(load(name), cls) if many else structure(load(name), cls)


@pytest.fixture(scope="module")
def eager() -> dict[str, str]:
    return eager_forms(CASES, FIXTURES)


def test_every_fixture_is_covered() -> None:
    assert sorted(CASES) == sorted(p.name for p in FIXTURES.iterdir() if p.is_file())


@pytest.mark.parametrize("name", sorted(CASES))
def test_lazy_equals_eager(name: str, eager: dict[str, str]) -> None:
    assert resolved_form(lazy(name)) == eager[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_untouched_and_touched_instances_compare_equal(name: str) -> None:
    untouched, touched = lazy(name), lazy(name)
    resolved_form(touched)
    assert untouched == touched
    assert repr(untouched) == repr(touched)
    assert pickle.loads(pickle.dumps(lazy(name))) == touched


def test_nested_parts_wait_for_first_access() -> None:
    assert _convert.LAZY
    data = load("container_inspect_running.json")
    c = structure(data, ContainerInspectResponse)
    assert type(ContainerInspectResponse.__dict__["host_config"]) is _convert._LazySlot
    member = ContainerInspectResponse.__dict__["host_config"]._member
    with pytest.raises(AttributeError):
        member.__get__(c, ContainerInspectResponse)  # the slot is not filled yet
    first = c.host_config
    assert first is c.host_config  # structured once, then stored
    assert member.__get__(c, ContainerInspectResponse) is first
    assert first == structure(data["HostConfig"], type(first))
    assert attrs.evolve(c, name="/other").host_config == first


def test_null_and_missing_nested_parts_give_their_zero_values() -> None:
    data = load("container_inspect_running.json")
    data["HostConfig"] = None
    del data["Mounts"]
    data["NetworkSettings"] = {"Networks": None}
    c = structure(data, ContainerInspectResponse)
    assert c.host_config is None
    assert c.mounts == []
    assert c.network_settings is not None and c.network_settings.networks == {}
    # Each instance gets its own empty list, not one shared between instances.
    other = structure(data, ContainerInspectResponse)
    assert other.mounts == [] and other.mounts is not c.mounts


def test_an_instance_built_by_init_has_no_lazy_state() -> None:
    made = ContainerSummary(id="x")
    assert made.ports == [] and made.host_config is None
    with pytest.raises(AttributeError):
        _ = made._raw  # type: ignore[attr-defined]


def test_string_collections_are_checked_item_by_item() -> None:
    # All strings: kept as decoded. Anything else: every item goes through the str rule.
    data: dict[str, Any] = {"Names": ["/a", 5, None], "Labels": {"a": 1, "b": None, "c": "x"}}
    c = structure(data, ContainerSummary)
    assert c.names == ["/a", "5", ""]
    assert c.labels == {"a": "1", "b": "", "c": "x"}
    # Wrong container type: structured as before the fast path (a list of the keys).
    c = structure({"Names": {"k": "v"}, "Labels": None}, ContainerSummary)
    assert c.names == ["k"] and c.labels == {}
    good = {"Names": ["/a", "/b"], "Labels": {"a": "1"}}
    c = structure(good, ContainerSummary)
    assert c.names == ["/a", "/b"] and c.labels == {"a": "1"}


def test_a_nested_part_of_the_wrong_shape_raises_on_access() -> None:
    data = load("container_inspect_running.json")
    data["HostConfig"] = ["not", "an", "object"]
    c = structure(data, ContainerInspectResponse)
    assert c.name == load("container_inspect_running.json")["Name"]
    with pytest.raises(
        ResponseValidationError, match=r"does not fit ContainerInspectResponse\.host_config"
    ) as caught:
        _ = c.host_config
    assert caught.value.model == "ContainerInspectResponse.host_config"
    assert not isinstance(caught.value, DockerConnectionError)
