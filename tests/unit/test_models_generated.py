"""The checked-in generated models match the generator and follow its rules."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import keyword
import os
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

from aiodock import models
from aiodock.models import _generated

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "aiodock" / "models" / "_generated"
ALL_MODELS = [getattr(_generated, name) for name in _generated.__all__]


def _generated_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.py"))}


def _load_generator() -> ModuleType:
    path = REPO / "tools" / "gen_models.py"
    spec = importlib.util.spec_from_file_location("gen_models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_models"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen_models = _load_generator()


def test_regenerating_gives_the_checked_in_file(tmp_path: Path) -> None:
    # The generator reads only the committed description (spec/engine-api.json). The
    # checked-in files came from another process (another hash seed), so this is also
    # the determinism check: generate() == generate() in one process proved less.
    out = tmp_path / "_generated"
    assert gen_models.main(["-o", str(out)]) == 0
    assert _generated_files(out) == _generated_files(GENERATED), (
        "aiodock/models/_generated/ is stale: run `python tools/gen_models.py`"
    )


def test_the_generator_reads_the_committed_description() -> None:
    assert Path(gen_models.DEFAULT_SPEC) == REPO / "spec" / "engine-api.json"


def test_regenerating_removes_stale_modules_only(tmp_path: Path) -> None:
    out = tmp_path / "_generated"
    out.mkdir()
    (out / "gone.py").write_text(gen_models.GENERATED_HEADER + " from an older spec.\n")
    (out / "mine.py").write_text("# not generated\n")
    assert gen_models.main(["-o", str(out)]) == 0
    assert not (out / "gone.py").exists()
    assert (out / "mine.py").exists()


def test_the_older_version_adds_its_own_fields() -> None:
    # NetworkContainer exists only in the 1.41 description; without it the model is absent.
    newest_only = gen_models.generate(legacy=False)
    merged = gen_models.generate()
    assert not any("class NetworkContainer(" in text for text in newest_only.values())
    assert any("class NetworkContainer(" in text for text in merged.values())
    assert "(+ 1.41-only fields)" in merged["__init__.py"].splitlines()[0]


# ruff comes with the test environment (scripts/test.sh); CI must never skip this.
@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None and not os.environ.get("CI"),
    reason="ruff is not installed",
)
def test_generated_file_is_ruff_formatted() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", str(GENERATED)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "wire, expected",
    [
        ("OOMKilled", "oom_killed"),
        ("OomKillDisable", "oom_kill_disable"),
        ("IPAddress", "ip_address"),
        ("CpuShares", "cpu_shares"),
        ("CPUShares", "cpu_shares"),
        ("IPv6Address", "ipv6_address"),
        ("GlobalIPv6PrefixLen", "global_ipv6_prefix_len"),
        ("LinkLocalIPv6Address", "link_local_ipv6_address"),
        ("EnableIPv4", "enable_ipv4"),
        ("ID", "id"),
        ("NanoCPUs", "nano_cpus"),
        ("NanoCpus", "nano_cpus"),
        ("RepoDigests", "repo_digests"),
        ("ExecIDs", "exec_ids"),
        ("IPsInUse", "ips_in_use"),
        ("InsecureRegistryCIDRs", "insecure_registry_cidrs"),
        ("BlkioDeviceReadIOps", "blkio_device_read_iops"),
        ("SELinuxContext", "selinux_context"),
        ("NEventsListener", "n_events_listener"),
        ("NCPU", "ncpu"),
        ("TLSInfo", "tls_info"),
        ("timeNano", "time_nano"),
        ("io_service_bytes_recursive", "io_service_bytes_recursive"),
        ("com.docker.network.bridge.name", "com_docker_network_bridge_name"),
        ("os.features", "os_features"),
        ("some-key", "some_key"),
        ("80/tcp", "f_80_tcp"),
        ("from", "from_"),
        ("Global", "global_"),
        ("str", "str_"),
    ],
)
def test_snake_case(wire: str, expected: str) -> None:
    assert gen_models.snake_case(wire) == expected


def test_models_reexport_everything() -> None:
    # Everything generated, then the hand-made types (no name shadows a generated one).
    assert models.__all__[: len(_generated.__all__)] == _generated.__all__
    assert len(set(models.__all__)) == len(models.__all__)
    assert len(set(_generated.__all__)) == len(_generated.__all__) > 200
    for name in models.__all__:
        assert name in dir(models)
        value = getattr(models, name)
        if name in _generated.__all__:
            assert value is getattr(_generated, name)
            assert name in dir(_generated)
    for name in ("containers", "events", "progress", "swarm"):
        assert getattr(models, name) is importlib.import_module(f"aiodock.models.{name}")
    with pytest.raises(AttributeError):
        _ = models.NoSuchModel  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = _generated.NoSuchModel  # type: ignore[attr-defined]


def test_each_class_is_defined_in_the_module_the_package_names() -> None:
    defined: dict[str, str] = {}
    for path in sorted(GENERATED.glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"aiodock.models._generated.{path.stem}")
        for name, value in vars(module).items():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                defined[name] = "." + path.stem
    assert defined == _generated._MODULES
    assert sorted(defined) == sorted(_generated.__all__)


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_model_rules(cls: type[Any]) -> None:
    fields = attrs.fields(cls)
    instance = cls()  # every field has a default
    if fields:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(instance, fields[0].name, None)
    wires = [a.metadata["wire"] for a in fields]
    assert len(set(wires)) == len(wires)
    for a in fields:
        assert a.kw_only
        assert a.name.isidentifier() and not keyword.iskeyword(a.name)
        assert a.name == a.name.lower()


def test_field_types_follow_the_spec() -> None:
    hints = {a.name: a for a in attrs.fields(attrs.resolve_types(_generated.HostConfig))}
    assert hints["cpu_shares"].type is int and hints["cpu_shares"].default == 0
    assert hints["binds"].type == list[str]
    assert hints["binds"].default == attrs.Factory(list)
    assert hints["port_bindings"].type == dict[str, list[_generated.PortBinding] | None]
    assert hints["log_config"].type == _generated.HostConfigLogConfig | None
    assert hints["pids_limit"].type == int | None  # x-nullable keeps None apart from 0
    assert hints["privileged"].default is False
    inspect = attrs.fields(attrs.resolve_types(_generated.ContainerInspectResponse))
    assert inspect.created.type == str | None  # date-time stays a raw string
    assert attrs.fields(_generated.ContainerState).oom_killed.metadata == {"wire": "OOMKilled"}
    stats = attrs.fields(attrs.resolve_types(_generated.ServiceSpecUpdateConfig))
    assert stats.max_failure_ratio.type is float and stats.max_failure_ratio.default == 0.0


def test_operation_and_inline_class_names() -> None:
    for name in [
        "ContainerTopResponse",
        "ContainerWaitResponse",
        "ContainerUpdateResponse",
        "ImageDeleteResponseItem",
        "ImageSearchResponseItem",
        "SystemDataUsageResponse",
        "ContainerCreateRequest",
        "ExecInspectResponse",
        "ContainerSummaryHostConfig",
        "TaskSpecContainerSpecPrivileges",
        "HostConfigLogConfig",
        "GenericResourcesItem",
        "NetworkContainer",  # only in the 1.41 spec, merged in
    ]:
        assert name in _generated.__all__, name


def _wire_keys(node: Any) -> set[str]:
    """Every wire key the description declares (properties of any schema, at any depth)."""
    keys: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("wire"), str):
            keys.add(node["wire"])
        for value in node.values():
            keys |= _wire_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= _wire_keys(value)
    return keys


def test_generated_file_has_no_spec_prose() -> None:
    # The class modules hold code and wire keys only: every string constant in them is a
    # wire key of the description (or of the generator's own extra fields), and there is
    # no docstring. The description itself holds no prose (tests/unit/test_self_contained.py).
    description = json.loads(Path(gen_models.DEFAULT_SPEC).read_text(encoding="utf-8"))
    allowed = _wire_keys(description) | {"wire", ""}  # "" is the default of str fields
    allowed |= {wire for extras in gen_models._EXTRA_FIELDS.values() for wire, _ in extras}
    checked = 0
    for path in sorted(GENERATED.glob("*.py")):
        if path.name in ("__init__.py", "_base.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert strings <= allowed, f"{path.name}: {sorted(strings - allowed)}"
        assert all(
            ast.get_docstring(n) is None for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
        )
        checked += len(strings)
    assert checked > 1000
    text = "".join(p.read_text() for p in sorted(GENERATED.glob("*.py")))
    assert '"""' not in text


def test_repr_lists_only_fields_that_differ_from_defaults() -> None:
    hc = _generated.HostConfig(
        cpu_shares=512, binds=["/a:/b"], log_config=_generated.HostConfigLogConfig(type="local")
    )
    assert repr(hc) == (
        "HostConfig(cpu_shares=512, binds=['/a:/b'], log_config=HostConfigLogConfig(type='local'))"
    )
    assert repr(_generated.ContainerState()) == "ContainerState()"
    namespace = {name: getattr(_generated, name) for name in _generated.__all__}
    assert eval(repr(hc), namespace) == hc


def _classes_behind(cls: type[Any]) -> set[str]:
    """The names of ``cls`` and of every generated class its field types name, transitively."""
    seen: set[str] = set()
    todo: list[Any] = [cls]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and attrs.has(tp):
            if tp.__name__ in seen:
                continue
            seen.add(tp.__name__)
            todo.extend(a.type for a in attrs.fields(attrs.resolve_types(tp)))
        else:
            todo.extend(typing.get_args(tp))
    return seen


_LOADED_MODELS = """
import sys
import typing
{setup}
print(sorted(
    name
    for module in list(sys.modules)
    if module.startswith("aiodock.models._generated.")
    for name, value in vars(sys.modules[module]).items()
    if isinstance(value, type) and value.__module__ == module and name != "_Model"
))
"""


def _models_built_by(setup: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _LOADED_MODELS.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(ast.literal_eval(result.stdout))


@pytest.mark.parametrize(
    "name", ["ContainerInspectResponse", "ContainerStatsResponse", "SystemInfo", "ErrorDetail"]
)
def test_a_response_brings_only_the_classes_its_fields_name(name: str) -> None:
    # The generated modules are cut by the operations that use each class: what one
    # operation returns builds no class that it does not need (ErrorDetail, which no
    # operation names, has a module of its own).
    built = _models_built_by(f"import aiodock.models\naiodock.models.{name}")
    assert built == _classes_behind(getattr(_generated, name))


# A namespace is a module or, once it outgrew one file, a package.
_NAMESPACES = sorted(
    p.stem if p.suffix == ".py" else p.name
    for p in (REPO / "aiodock" / "resources").iterdir()
    if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").is_file())
)


def test_a_namespace_builds_no_model_at_import() -> None:
    # The models come with the calls that return them (ping builds none), and the
    # progress streams build ProgressMessage with their first message.
    setup = "\n".join(f"import aiodock.resources.{name}" for name in _NAMESPACES)
    assert len(_NAMESPACES) == 14
    assert _models_built_by(setup + "\nimport aiodock._streams.progress") == set()


def test_the_run_results_do_not_bring_the_stats_models() -> None:
    # exec.run needs ExecResult, not the statistics models Stats derives from.
    setup = "import aiodock.models.containers as c\nc.ExecResult, c.RunResult, c.PathStat"
    assert _models_built_by(setup) == set()
    stats = _models_built_by(setup + "\nc.Stats")
    assert stats == _classes_behind(_generated.ContainerStatsResponse)


def test_the_container_namespace_builds_models_when_used() -> None:
    setup = "import aiodock.resources.containers"
    assert _models_built_by(setup + "\nimport aiodock.models\naiodock.models.ContainerInspect") == (
        _classes_behind(_generated.ContainerInspectResponse)
    )


def test_the_swarm_helpers_build_models_when_called() -> None:
    setup = "import aiodock.models.swarm as s"
    assert _models_built_by(setup) == set()
    # The hand-made attrs classes still resolve their annotations in a fresh process.
    resolved = _models_built_by(
        setup + "\nimport attrs\nattrs.resolve_types(s.SecretCreate)"
        "\nattrs.resolve_types(s.ServiceConvergence)"
    )
    assert {"Driver", "Service", "Task"} <= resolved
