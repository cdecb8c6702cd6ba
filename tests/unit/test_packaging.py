"""Packaging promises: one version source, classifiers that match CI, a free pytest plugin."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import aiodock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_has_one_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    source = ROOT / PYPROJECT["tool"]["hatch"]["version"]["path"]
    assert source == ROOT / "aiodock" / "_version.py"
    written = re.findall(r'^__version__ = "([^"]+)"$', source.read_text(), re.MULTILINE)
    assert written == [aiodock.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", aiodock.__version__)


def test_python_classifiers_are_the_versions_ci_runs() -> None:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    pythons = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "PYTHONS" for t in node.targets)
    )
    prefix = "Programming Language :: Python :: 3."
    classified = [
        c.removeprefix("Programming Language :: Python :: ")
        for c in PYPROJECT["project"]["classifiers"]
        if c.startswith(prefix)
    ]
    assert classified == pythons
    assert PYPROJECT["project"]["requires-python"] == f">={pythons[0]}"


def test_every_dependency_has_a_floor() -> None:
    # nox -s floors tests each floor's minor series; a requirement without one is untested.
    project = PYPROJECT["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["speedups"]:
        assert re.match(r"[A-Za-z0-9_.-]+>=\d+\.\d+", requirement), requirement


# What importing the plugin may load: nothing of aiodock beyond these, and no third party
# package of the client (pytest loads the plugin in every run where aiodock is installed).
_LIGHT = {
    "aiodock",
    "aiodock._lazy",
    "aiodock._version",
    "aiodock.errors",
    "aiodock.testing",
    "aiodock.testing.plugin",
}
_HEAVY = ("aiohttp", "yarl", "multidict", "attrs", "attr", "cattrs", "orjson")


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_the_pytest_plugin_loads_no_client_code() -> None:
    out = _run(
        "import sys, aiodock.testing.plugin\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiodock',) + "
        f"{_HEAVY!r}))"
    )
    assert set(ast.literal_eval(out)) == _LIGHT


def test_the_client_is_still_importable_from_the_top_level() -> None:
    out = _run(
        "import sys; from aiodock import DockerClient, Repeated\n"
        "print(DockerClient.__module__, Repeated.__module__, 'aiohttp' in sys.modules)"
    )
    assert out == "aiodock._client aiodock._http.request True"


_PLUGIN_RUN = """
import sys


def test_collected_and_run_without_the_client():
    assert [m for m in ("aiohttp", "aiodock._client", "cattrs") if m in sys.modules] == []


async def test_the_fixture_brings_the_client(docker_client):
    assert "aiodock._client" in sys.modules
    assert await docker_client.system.ping()
"""


def test_a_pytest_run_loads_the_client_only_for_a_test_that_uses_a_fixture(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_lazy_plugin.py").write_text(textwrap.dedent(_PLUGIN_RUN))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cmd = [sys.executable, "-m", "pytest", "-p", "aiodock.testing.plugin"]
    cmd += ["-p", "pytest_asyncio.plugin", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"]
    cmd += ["-q", "-p", "no:randomly", str(tmp_path)]
    result = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
