"""The generated per-class structure functions of ``aiodock._convert``.

Generated models are filled through their slot descriptors, skipping ``__init__``;
classes whose ``__init__`` does more (converters, validators, post-init hooks,
factories that take ``self``) must still be built through it, and defaults that
differ from what ``null`` gives must survive a missing key.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aiodock._convert import structure
from aiodock.models import ContainerState, HostConfig, PortBinding


@attrs.frozen(kw_only=True)
class Defaults:
    name: str = "unnamed"
    retries: int = 3
    ratio: float = 0.5
    tags: list[str] = attrs.Factory(lambda: ["default"])
    state: ContainerState = attrs.field(factory=lambda: ContainerState(status="new"))
    extra: Any = "x"


def test_missing_keys_take_the_declared_default_and_null_the_zero_value() -> None:
    assert structure({}, Defaults) == Defaults()
    nulls = {k: None for k in ("Name", "Retries", "Ratio", "Tags", "State", "Extra")}
    assert structure(nulls, Defaults) == Defaults(
        name="", retries=0, ratio=0.0, tags=[], state=ContainerState(), extra=None
    )
    # Each instance gets its own mutable default.
    a, b = structure({}, Defaults), structure({}, Defaults)
    assert a.tags == ["default"] and a.tags is not b.tags


@attrs.frozen(kw_only=True)
class Required:
    id: str
    count: int = 0


def test_a_required_field_missing_from_the_payload_raises_naming_the_key() -> None:
    assert structure({"Id": "abc"}, Required) == Required(id="abc")
    with pytest.raises(KeyError, match="Id"):
        structure({"Count": 1}, Required)


def _upper(value: str) -> str:
    return value.upper()


@attrs.frozen(kw_only=True)
class Converted:
    name: str = attrs.field(default="", converter=_upper)
    size: int = attrs.field(default=0, validator=attrs.validators.ge(0))


def test_converters_and_validators_run_through_init() -> None:
    assert structure({"Name": "web", "Size": 2}, Converted).name == "WEB"
    with pytest.raises(ValueError, match="size"):
        structure({"Size": -1}, Converted)


@attrs.define(kw_only=True)
class PostInit:
    first: str = ""
    both: str = attrs.field(init=False, default="")

    def __attrs_post_init__(self) -> None:
        self.both = self.first * 2


@attrs.frozen(kw_only=True)
class TakesSelf:
    base: int = 0
    double: int = attrs.field(default=attrs.Factory(lambda self: self.base * 2, takes_self=True))


@attrs.define(kw_only=True, slots=False)
class DictClass:
    label: str = ""
    binding: PortBinding | None = None


def test_classes_that_need_their_init_are_built_through_it() -> None:
    assert structure({"First": "ab"}, PostInit).both == "abab"
    assert structure({"Base": 4}, TakesSelf) == TakesSelf(base=4, double=8)
    d = structure({"Label": "l", "Binding": {"HostPort": "80"}}, DictClass)
    assert d == DictClass(label="l", binding=PortBinding(host_port="80"))


def test_generated_models_bypass_init_but_equal_what_init_builds() -> None:
    hc = structure(
        {"CpuShares": 2, "Binds": ["/a:/b"], "PortBindings": {"80/tcp": [{"HostPort": "8080"}]}},
        HostConfig,
    )
    assert hc == HostConfig(
        cpu_shares=2, binds=["/a:/b"], port_bindings={"80/tcp": [PortBinding(host_port="8080")]}
    )
    assert hash(ContainerState(pid=3)) == hash(structure({"Pid": 3}, ContainerState))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        hc.cpu_shares = 3  # type: ignore[misc]


def test_scalars_of_the_wrong_json_type_are_converted() -> None:
    s = structure({"Pid": "7", "Running": 1, "Status": 5, "Health": None}, ContainerState)
    assert (s.pid, s.running, s.status, s.health) == (7, True, "5", None)
    with pytest.raises(ValueError):
        structure({"Pid": "seven"}, ContainerState)
