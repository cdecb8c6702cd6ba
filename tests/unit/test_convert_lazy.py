"""Nested parts structured on first access give exactly what eager structuring gives.

Every recorded fixture is structured twice: in this process (lazy, the default)
and in a fresh interpreter with ``aiodock._convert.LAZY = False`` (every part
structured at once, the path before laziness). The fully resolved forms
(``attrs.asdict``, recursing into every nested model) must be equal.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
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

# Run in a fresh interpreter: structure every case eagerly, print the resolved forms.
EAGER = """
import json, sys, attrs
from pathlib import Path
import aiodock._convert as c
c.LAZY = False
from aiodock import models
from aiodock._convert import structure, structure_list
out = {}
for name, (cls_name, many) in json.loads(sys.argv[1]).items():
    text = (Path(sys.argv[2]) / name).read_text()
    lines = [json.loads(x) for x in text.splitlines() if x.strip()]
    data = lines if name.endswith(".jsonl") else json.loads(text)
    cls = getattr(models, cls_name)
    got = structure_list(data, cls) if many else structure(data, cls)
    assert not any(isinstance(v, c._LazySlot) for v in vars(cls).values())
    out[name] = repr([attrs.asdict(m) for m in got] if many else attrs.asdict(got))
print(json.dumps(out))
"""


def load(name: str) -> Any:
    text = (FIXTURES / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def lazy(name: str) -> Any:
    cls, many = CASES[name]
    return structure_list(load(name), cls) if many else structure(load(name), cls)


def resolved(value: Any) -> str:
    return repr(
        [attrs.asdict(m) for m in value] if isinstance(value, list) else attrs.asdict(value)
    )


@pytest.fixture(scope="module")
def eager() -> dict[str, str]:
    cases = {name: (cls.__name__, many) for name, (cls, many) in CASES.items()}
    proc = subprocess.run(
        [sys.executable, "-c", EAGER, json.dumps(cases), str(FIXTURES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent.parent,
    )
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def test_every_fixture_is_covered() -> None:
    assert sorted(CASES) == sorted(p.name for p in FIXTURES.iterdir() if p.is_file())


@pytest.mark.parametrize("name", sorted(CASES))
def test_lazy_equals_eager(name: str, eager: dict[str, str]) -> None:
    assert resolved(lazy(name)) == eager[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_untouched_and_touched_instances_compare_equal(name: str) -> None:
    untouched, touched = lazy(name), lazy(name)
    resolved(touched)
    assert untouched == touched
    assert repr(untouched) == repr(touched)
    assert pickle.loads(pickle.dumps(lazy(name))) == touched


def test_nested_parts_wait_for_first_access() -> None:
    assert _convert.LAZY
    c = lazy("container_inspect_running.json")
    assert type(ContainerInspectResponse.__dict__["host_config"]) is _convert._LazySlot
    member = ContainerInspectResponse.__dict__["host_config"]._member
    assert type(member.__get__(c, ContainerInspectResponse)) is _convert._Pending
    first = c.host_config
    assert first is c.host_config  # structured once, then stored
    assert type(member.__get__(c, ContainerInspectResponse)) is not _convert._Pending
    assert attrs.evolve(c, name="/other").host_config == first


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
