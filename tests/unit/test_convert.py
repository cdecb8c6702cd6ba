"""The converter against payloads captured from a real Engine 20.10 (API 1.41).

Fixtures under ``fixtures/`` were saved with ``curl --unix-socket
/var/run/docker.sock`` from a labelled busybox container (CpuShares 512, 64 MiB
memory, port 8080 published on 127.0.0.1, a health check) that was then removed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodock import _convert
from aiodock._convert import (
    _wire_key,
    converter,
    json_dumps,
    json_loads,
    parse_time,
    structure,
    structure_list,
    unstructure,
)
from aiodock.models import (
    ContainerConfig,
    ContainerCreateRequest,
    ContainerInspectResponse,
    ContainerState,
    ContainerStatsResponse,
    ContainerSummary,
    EventActor,
    EventMessage,
    ExecInspectResponse,
    HealthConfig,
    HostConfig,
    ImageInspect,
    ImageSummary,
    NetworkInspect,
    PortBinding,
    Resources,
    ServiceSpec,
    ServiceSpecMode,
    ServiceSpecUpdateConfig,
    SystemDataUsageResponse,
    SystemInfo,
    SystemVersion,
    Volume,
    _generated,
)

FIXTURES = Path(__file__).parent / "fixtures"
ALL_MODELS = sorted(
    (getattr(_generated, name) for name in _generated.__all__), key=lambda c: c.__name__
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# --- real payloads ------------------------------------------------------------


def test_container_inspect_running() -> None:
    raw = load("container_inspect_running.json")
    c = structure(raw, ContainerInspectResponse)
    assert c.id == raw["Id"] and len(c.id) == 64
    assert c.name == "/aiodock-fixture"
    assert c.created == "2026-11-23T15:01:25.775864317Z"  # raw, nanoseconds kept
    assert c.args == ["-c", "sleep 300"]
    assert c.exec_ids is None  # x-nullable and null on the wire
    assert c.state is not None
    assert c.state.running is True and c.state.status == "running"
    assert c.state.pid == 11657
    assert c.state.oom_killed is False
    assert c.state.finished_at == "0001-01-01T00:00:00Z"
    assert c.state.health is not None and c.state.health.status == "healthy"
    assert c.state.health.log[0].exit_code == 0
    hc = c.host_config
    assert hc is not None
    assert hc.cpu_shares == 512
    assert hc.memory == 64 * 2**20
    assert hc.memory_swap == 128 * 2**20
    assert hc.binds == []  # null -> []
    assert hc.pids_limit is None  # nullable in the spec, null on the wire
    assert hc.memory_swappiness == 0  # not nullable in the spec: null -> 0
    assert hc.blkio_device_read_iops == []
    assert hc.console_size == [0, 0]
    assert hc.runtime == "runc"
    assert hc.log_config is not None and hc.log_config.type == "json-file"
    assert hc.port_bindings == {"8080/tcp": [PortBinding(host_ip="127.0.0.1", host_port="")]}
    assert hc.restart_policy is not None and hc.restart_policy.name == "no"
    assert "/proc/kcore" in hc.masked_paths
    cfg = c.config
    assert cfg is not None
    assert cfg.labels == {"aiodock-test": "1", "com.example.role": "fixture"}
    assert cfg.exposed_ports == {"8080/tcp": {}}
    assert cfg.env[0] == "FOO=bar"
    assert cfg.healthcheck == HealthConfig(test=["CMD-SHELL", "true"], interval=10**9)
    assert cfg.entrypoint == []  # null -> []
    ns = c.network_settings
    assert ns is not None
    # Top-level address fields only exist in API <= 1.43; the model keeps them.
    assert ns.ip_address == "172.17.0.2"
    assert ns.ip_prefix_len == 16
    assert ns.gateway == "172.17.0.1"
    assert ns.ports["8080/tcp"] == [PortBinding(host_ip="127.0.0.1", host_port="32768")]
    bridge = ns.networks["bridge"]
    assert bridge.ip_address == "172.17.0.2"
    assert bridge.mac_address == "02:42:ac:11:00:02"
    assert bridge.global_ipv6_prefix_len == 0
    assert bridge.ipam_config is None and bridge.aliases == []
    assert c.graph_driver is not None and c.graph_driver.name == "overlay2"


def test_container_inspect_exited() -> None:
    c = structure(load("container_inspect_exited.json"), ContainerInspectResponse)
    assert c.state is not None
    assert (c.state.status, c.state.running, c.state.exit_code) == ("exited", False, 137)
    assert c.state.finished_at == "2026-11-23T15:01:29.456361509Z"
    assert c.state.health is not None and len(c.state.health.log) == 3


def test_oom_killed_and_other_acronyms_map_when_set() -> None:
    raw = load("container_inspect_running.json")
    raw["State"]["OOMKilled"] = True
    raw["HostConfig"]["NanoCpus"] = 1_500_000_000
    raw["HostConfig"]["OomKillDisable"] = True
    raw["HostConfig"]["IOMaximumIOps"] = 7
    raw["NetworkSettings"]["Networks"]["bridge"]["GlobalIPv6PrefixLen"] = 64
    raw["NetworkSettings"]["Networks"]["bridge"]["GlobalIPv6Address"] = "fd00::2"
    c = structure(raw, ContainerInspectResponse)
    assert c.state is not None and c.state.oom_killed is True
    assert c.host_config is not None
    assert c.host_config.nano_cpus == 1_500_000_000
    assert c.host_config.oom_kill_disable is True
    assert c.host_config.io_maximum_iops == 7
    assert c.network_settings is not None
    bridge = c.network_settings.networks["bridge"]
    assert (bridge.global_ipv6_address, bridge.global_ipv6_prefix_len) == ("fd00::2", 64)


def test_container_list() -> None:
    [c] = structure_list(load("container_list.json"), ContainerSummary)
    assert c.names == ["/aiodock-fixture"]
    assert c.image == "aiodock-test/busybox:latest"
    assert c.image_id.startswith("sha256:")
    assert c.command == "sh -c 'sleep 300'"
    assert c.created == 1795446085
    assert c.state == "running" and c.status.startswith("Up ")
    [port] = c.ports
    assert (port.ip, port.private_port, port.public_port, port.type) == (
        "127.0.0.1",
        8080,
        32768,
        "tcp",
    )
    assert c.host_config is not None and c.host_config.network_mode == "default"
    assert c.network_settings is not None
    assert c.network_settings.networks["bridge"].ip_address == "172.17.0.2"
    assert c.mounts == []


def test_system_info() -> None:
    info = structure(load("system_info.json"), SystemInfo)
    assert info.ncpu == 2
    assert info.mem_total == 25276502016
    assert info.server_version == "20.10.24+dfsg1"
    assert info.driver == "overlay2"
    assert info.os_type == "linux"
    assert info.n_goroutines == 40
    assert info.ipv4_forwarding is True
    assert info.cgroup_version == "1"
    assert info.swarm is not None and info.swarm.local_node_state == "inactive"
    assert info.swarm.remote_managers is None
    assert info.runtimes["runc"].path == "runc"
    assert info.registry_config is not None
    assert info.registry_config.insecure_registry_cidrs == ["127.0.0.0/8"]
    assert info.registry_config.index_configs["docker.io"].official is True
    assert info.plugins is not None and "bridge" in info.plugins.network
    assert info.plugins.authorization == []  # null -> []


def test_system_version() -> None:
    v = structure(load("system_version.json"), SystemVersion)
    assert (v.version, v.api_version, v.min_api_version) == ("20.10.24+dfsg1", "1.41", "1.12")
    assert v.platform is not None and v.platform.name == ""
    assert [c.name for c in v.components] == ["Engine", "containerd", "runc", "docker-init"]
    assert v.components[0].details is not None
    assert v.components[0].details["ApiVersion"] == "1.41"


def test_images() -> None:
    [img] = structure_list(load("image_list.json"), ImageSummary)
    assert img.repo_tags == ["aiodock-test/busybox:latest"]
    assert img.repo_digests == [] and img.labels == {}  # both null on the wire
    assert img.containers == -1 and img.size == 1985472
    assert img.virtual_size == 1985472  # API 1.41-only key
    inspect = structure(load("image_inspect.json"), ImageInspect)
    assert inspect.id == img.id
    assert inspect.architecture == "amd64" and inspect.os == "linux"
    assert inspect.root_fs is not None and inspect.root_fs.type == "layers"
    assert inspect.config is not None and inspect.config.cmd == []
    assert inspect.container_config is not None  # API 1.41-only key
    assert inspect.container_config.cmd == ["/bin/busybox", "--install", "-s", "/bin"]
    assert inspect.docker_version == "20.10.24+dfsg1"


def test_network_volume_exec() -> None:
    net = structure(load("network_inspect.json"), NetworkInspect)
    assert (net.name, net.driver, net.scope) == ("bridge", "bridge", "local")
    assert net.ipam is not None and net.ipam.config[0].subnet == "172.17.0.0/16"
    assert net.ipam.options == {}
    assert net.options["com.docker.network.bridge.name"] == "docker0"
    assert net.enable_ipv6 is False
    vol = structure(load("volume_create.json"), Volume)
    assert vol.name == "aiodock-fixture-vol" and vol.labels == {"aiodock-test": "1"}
    assert vol.mountpoint.endswith("/_data") and vol.options == {}
    ex = structure(load("exec_inspect.json"), ExecInspectResponse)
    assert ex.id.startswith("eacb14f1") and ex.container_id.startswith("a8a4e735")
    assert ex.exit_code is None  # null means "not finished", kept apart from 0
    assert ex.open_stdout is True
    assert ex.process_config is not None and ex.process_config.entrypoint == "true"


def test_events_stats_df() -> None:
    lines = (FIXTURES / "events.jsonl").read_bytes().splitlines()
    events = [structure(json_loads(line), EventMessage) for line in lines]
    assert [e.action for e in events][:2] == ["create", "start"]
    first = events[0]
    assert first.type == "container" and first.scope == "local"
    assert first.actor is not None and first.actor.id == first.id
    assert first.actor.attributes["name"] == "aiodock-fixture2"
    assert first.from_ == "aiodock-test/busybox:latest" and first.status == "create"
    assert first.time_nano // 10**9 == first.time
    stats = structure(load("container_stats.json"), ContainerStatsResponse)
    assert stats.read.startswith("2026-") and stats.pids_stats is not None
    assert stats.pids_stats.current == 1
    assert stats.cpu_stats is not None and stats.cpu_stats.online_cpus == 2
    assert stats.cpu_stats.cpu_usage is not None
    assert stats.cpu_stats.cpu_usage.total_usage > 0
    assert stats.memory_stats is not None and stats.memory_stats.limit
    df = structure(load("system_df.json"), SystemDataUsageResponse)
    assert df.layers_size == 1985472  # the API 1.41 shape of /system/df
    assert df.images[0].repo_tags == ["aiodock-test/busybox:latest"]
    assert df.build_cache == []


# --- null tolerance and unknown keys ------------------------------------------------


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_every_field_tolerates_null(cls: type[Any]) -> None:
    nulls = {wire_name(cls, a.name): None for a in attrs.fields(cls)}
    assert structure(nulls, cls) == cls()
    assert structure({}, cls) == cls()


def test_nulls_become_zero_values() -> None:
    s = structure({"Status": None, "Running": None, "Pid": None, "Health": None}, ContainerState)
    assert (s.status, s.running, s.pid, s.health) == ("", False, 0, None)
    r = structure({"CpuShares": None, "Ulimits": None, "DeviceCgroupRules": None}, Resources)
    assert (r.cpu_shares, r.ulimits, r.device_cgroup_rules) == (0, [], [])
    hc = structure({"PortBindings": {"80/tcp": None}, "Sysctls": None}, HostConfig)
    assert hc.port_bindings == {"80/tcp": None} and hc.sysctls is None
    # null elements: zero for scalars, dropped for objects
    cfg = structure({"Cmd": ["a", None]}, ContainerConfig)
    assert cfg.cmd == ["a", ""]
    inspect = structure({"Mounts": [None, {"Type": "bind"}]}, ContainerInspectResponse)
    assert [m.type for m in inspect.mounts] == ["bind"]
    assert structure_list(None, ContainerSummary) == []
    assert structure_list([None, {"Id": "x"}], ContainerSummary) == [ContainerSummary(id="x")]


def test_unknown_keys_are_ignored() -> None:
    raw = load("container_inspect_running.json")
    expected = structure(raw, ContainerInspectResponse)
    raw["FutureKey"] = {"nested": [1, 2]}
    raw["State"]["SomethingNew"] = None
    raw["HostConfig"]["Whatever"] = 3
    assert structure(raw, ContainerInspectResponse) == expected


def test_numbers_are_coerced() -> None:
    s = structure({"Pid": 12.0, "ExitCode": "3", "Status": 5}, ContainerState)
    assert (s.pid, s.exit_code, s.status) == (12, 3, "5")
    mode = structure({"Replicated": {"Replicas": 2}}, ServiceSpecMode)
    assert mode.replicated is not None and mode.replicated.replicas == 2


# --- unstructure ---------------------------------------------------------------------


def test_unstructure_omits_defaults() -> None:
    assert unstructure(HostConfig()) == {}
    body = ContainerCreateRequest(
        image="aiodock-test/busybox:latest",
        cmd=["true"],
        labels={"aiodock-test": "1"},
        host_config=HostConfig(
            cpu_shares=512,
            oom_kill_disable=True,
            port_bindings={"80/tcp": [PortBinding(host_ip="127.0.0.1")]},
        ),
    )
    assert unstructure(body) == {
        "Image": "aiodock-test/busybox:latest",
        "Cmd": ["true"],
        "Labels": {"aiodock-test": "1"},
        "HostConfig": {
            "CpuShares": 512,
            "OomKillDisable": True,
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1"}]},
        },
    }
    # A set-but-empty nested object is sent ({}), an unset one is not.
    assert unstructure(ContainerCreateRequest(host_config=HostConfig())) == {"HostConfig": {}}


def test_unstructure_keeps_meaningful_zeroes() -> None:
    # Nullable fields default to None, so an explicit zero/false/empty is sent.
    assert unstructure(ContainerConfig(stop_timeout=0)) == {"StopTimeout": 0}
    assert unstructure(Resources(init=False, pids_limit=0)) == {"Init": False, "PidsLimit": 0}
    # An empty free-form object is meaningful too (global service mode).
    spec = ServiceSpec(name="x", mode=ServiceSpecMode(global_={}))
    assert unstructure(spec) == {"Name": "x", "Mode": {"Global": {}}}


def test_unstructure_lists_and_dicts_of_models() -> None:
    items = [PortBinding(host_port="80"), PortBinding()]
    assert unstructure(items) == [{"HostPort": "80"}, {}]
    assert unstructure({"a": PortBinding(host_ip="::1")}) == {"a": {"HostIp": "::1"}}


@pytest.mark.parametrize(
    "fixture, cls",
    [
        ("container_inspect_running.json", ContainerInspectResponse),
        ("container_inspect_exited.json", ContainerInspectResponse),
        ("system_info.json", SystemInfo),
        ("system_version.json", SystemVersion),
        ("image_inspect.json", ImageInspect),
        ("network_inspect.json", NetworkInspect),
        ("container_stats.json", ContainerStatsResponse),
        ("system_df.json", SystemDataUsageResponse),
    ],
)
def test_fixture_round_trip(fixture: str, cls: type[Any]) -> None:
    model = structure(load(fixture), cls)
    wire = unstructure(model)
    assert structure(json_loads(json_dumps(wire)), cls) == model
    # Omitted keys are exactly the ones that carried a zero value.
    raw = load(fixture)
    for key, value in wire.items():
        assert key in raw
        if not isinstance(value, dict | list):
            assert raw[key] == value


# --- hand-made classes ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Handmade:
    cpu_shares: int = 0
    oom_kill_disable: bool = attrs.field(default=False, metadata={"wire": "OomKillDisable"})
    state: ContainerState | None = None
    bindings: list[PortBinding] = attrs.Factory(list)
    from_: str = ""
    actor: EventActor = attrs.field(factory=EventActor)


def wire_name(cls: type[Any], field: str) -> str:
    """The JSON key the converter uses for attribute ``field`` of ``cls``."""
    return _wire_key(attrs.fields_dict(cls)[field])


def test_handmade_class_derives_wire_names() -> None:
    assert wire_name(Handmade, "cpu_shares") == "CpuShares"
    assert wire_name(Handmade, "oom_kill_disable") == "OomKillDisable"
    assert wire_name(Handmade, "from_") == "From"
    assert wire_name(ContainerState, "oom_killed") == "OOMKilled"
    assert wire_name(EventMessage, "from_") == "from"
    h = structure(
        {
            "CpuShares": 3,
            "OomKillDisable": True,
            "State": {"OOMKilled": True},
            "Bindings": None,
            "From": "x",
            "Actor": None,
        },
        Handmade,
    )
    assert h == Handmade(
        cpu_shares=3, oom_kill_disable=True, state=ContainerState(oom_killed=True), from_="x"
    )
    assert h.actor == EventActor()
    h2 = structure({"Actor": {"ID": "abc", "Attributes": None}}, Handmade)
    assert h2.actor == EventActor(id="abc")
    assert unstructure(h) == {
        "CpuShares": 3,
        "OomKillDisable": True,
        "State": {"OOMKilled": True},
        "From": "x",
    }


def test_hooks_are_generated_once_per_class() -> None:
    first = converter.get_structure_hook(ContainerInspectResponse)
    assert converter.get_structure_hook(ContainerInspectResponse) is first
    assert converter.get_unstructure_hook(HostConfig) is converter.get_unstructure_hook(HostConfig)


# --- JSON and time helpers -------------------------------------------------------------


def test_json_helpers() -> None:
    data = {"a": [1, 2.5, None, True], "b": "é\u2028"}
    encoded = json_dumps(data)
    assert isinstance(encoded, bytes)
    assert b" " not in encoded.replace("é".encode(), b"")
    assert json_loads(encoded) == data
    assert json_loads(encoded.decode()) == data
    # orjson refuses non-str keys and huge ints; the stdlib fallback does not.
    assert json_loads(json_dumps({1: 2**70})) == {"1": 2**70}


def test_json_without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    # Load a private copy of the module as if orjson were not installed.
    monkeypatch.setitem(sys.modules, "orjson", None)
    spec = importlib.util.spec_from_file_location("_convert_no_orjson", _convert.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HAS_ORJSON is False
    assert module.json_dumps({"k": ["é", 1]}) == '{"k":["é",1]}'.encode()
    assert module.json_loads(memoryview(b'{"a": [1]}')) == {"a": [1]}
    assert module.json_loads('{"a": null}') == {"a": None}


def test_parse_time() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("") is None and parse_time(None) is None
    t = parse_time("2026-11-23T15:01:25.775864317Z")
    assert t == datetime(2026, 11, 23, 15, 1, 25, 775864, tzinfo=timezone.utc)
    t = parse_time("2026-05-07T21:09:36.000000000+02:00")
    assert t is not None and t.utcoffset() == timedelta(hours=2)
    assert parse_time("2026-11-23T15:01:29Z") == datetime(
        2026, 11, 23, 15, 1, 29, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError, match="not a daemon timestamp"):
        parse_time("yesterday")


# --- property: any model instance survives unstructure -> JSON -> structure ------------

_scalars: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=8),
    int: st.integers(min_value=-(2**63), max_value=2**64 - 1),
    float: st.floats(allow_nan=False, allow_infinity=False),
    bool: st.booleans(),
    Any: st.none() | st.integers(-5, 5) | st.text(max_size=3),
}


def _strategy(t: Any, depth: int) -> st.SearchStrategy[Any]:
    if t in _scalars:
        return _scalars[t]
    origin = get_origin(t)
    if origin is Union or isinstance(t, type(int | None)):
        return st.one_of(*(_strategy(a, depth) for a in get_args(t)))
    if t is type(None):
        return st.none()
    if origin is list:
        return st.lists(_strategy(get_args(t)[0], depth), max_size=2 if depth < 2 else 0)
    if origin is dict:
        value = _strategy(get_args(t)[1], depth)
        return st.dictionaries(st.text(max_size=4), value, max_size=2 if depth < 2 else 0)
    if attrs.has(t):
        return _model(t, depth + 1)
    raise AssertionError(f"no strategy for {t!r}")


def _model(cls: type[Any], depth: int = 0) -> st.SearchStrategy[Any]:
    attrs.resolve_types(cls)
    fields = {}
    for a in attrs.fields(cls):
        if depth > 2 and attrs.has(_optional_inner(a.type)):
            continue  # keep nesting shallow
        fields[a.name] = _strategy(a.type, depth)
    return st.fixed_dictionaries({}, optional=fields).map(lambda kw: cls(**kw))


def _optional_inner(t: Any) -> Any:
    args = [a for a in get_args(t) if a is not type(None)]
    return args[0] if len(args) == 1 else t


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_MODELS).flatmap(_model))
def test_round_trip_property(model: Any) -> None:
    wire = json_loads(json_dumps(unstructure(model)))
    assert structure(wire, type(model)) == model


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**63), 2**63 - 1))
def test_float_and_int_fields_survive(value: float, number: int) -> None:
    # Ratios are floats on the wire; integers must never go through float.
    cfg = structure({"MaxFailureRatio": value, "Delay": number}, ServiceSpecUpdateConfig)
    assert (cfg.delay, cfg.max_failure_ratio) == (number, value)
    assert structure({"MaxFailureRatio": 1}, ServiceSpecUpdateConfig).max_failure_ratio == 1.0
