"""What a type checker sees of the public API: typed options and return types.

A user script is checked with ``mypy --strict`` in a subprocess (mypy's own
API would share this process's state): the misspelt options must be errors,
and the ``assert_type`` checks of the main calls must hold.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aiodock
from aiodock import DockerClient
from aiodock.errors import InvalidArgument

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
from __future__ import annotations

from typing_extensions import assert_type

import aiodock
from aiodock import DockerClient


async def main() -> None:
    docker = DockerClient.from_env(timeout=5.0, api_version="1.41", max_connections=10)
    assert_type(docker, DockerClient)
    images = docker.images
    assert_type(images.pull("app:1"), aiodock.PullStream)
    assert_type(await images.pull("app:1"), aiodock.PullResult)
    assert_type(await images.push("reg/app:1"), aiodock.PushResult)
    assert_type(await images.build("ctx", tags="app:dev"), aiodock.BuildResult)
    assert_type(await images.build("ctx").result(), str)
    assert_type(await images.load(b""), aiodock.LoadResult)
    assert_type(await images.import_image(b""), aiodock.ImportResult)
    assert_type(await docker.plugins.pull("me/p"), aiodock.PullResult)
    assert_type(await docker.plugins.upgrade("p", "me/p:2"), aiodock.PullResult)
    assert_type(await docker.plugins.push("me/p"), aiodock.PushResult)

    op = images.pull("app:1")
    async for message in op:
        assert_type(message, aiodock.ProgressMessage)
    assert_type(op.tracker, aiodock.ProgressTracker)
    assert_type(await op.wait(), aiodock.PullResult)
    assert_type(await op.open(), aiodock.PullStream)
    async with images.push("reg/app:1") as stream:
        assert_type(stream, aiodock.PushStream)

    run = await docker.containers.run(
        "busybox", ["true"], env={"A": "1"}, labels={"a": "b"}, network="none", check=False
    )
    assert_type(run, aiodock.RunResult)
    created = await docker.containers.create(image="busybox", cmd="true", memory="64m")
    assert_type(created.id, str)
    assert_type(await docker.containers.exec_run("c", ["true"], env=["A=1"]), aiodock.ExecResult)
    assert_type(docker.containers.logs("c"), aiodock.LogStream)
    assert_type(docker.containers.get_archive("c", path="/"), aiodock.ArchiveStream)
    assert_type(await docker.containers.head_archive("c", path="/"), aiodock.PathStat)
    assert_type(await docker.exec.spawn("c", ["true"]), aiodock.ExecProcess)
    assert_type(docker.system.events(), aiodock.AsyncStream[aiodock.Event])
    assert_type(docker.containers.stats("c"), aiodock.AsyncStream[aiodock.Stats])
    await docker.aclose()
"""

# Each line must be reported; the marker names what mypy must say about it.
BAD = """
from __future__ import annotations

from aiodock import DockerClient


async def main(docker: DockerClient) -> None:
    await docker.containers.run("busybox", labells={"a": "b"})  # E: labells
    await docker.containers.create(image="busybox", environment=["A=1"])  # E: environment
    await docker.containers.run("busybox", memory=[64])  # E: memory
    await docker.containers.exec_run("c", ["true"], enviroment=["A=1"])  # E: enviroment
    DockerClient.from_env(timout=5)  # E: timout
    DockerClient.from_env(max_connections="10")  # E: max_connections
    stream = await docker.images.pull("app:1")
    stream.tracker  # E: tracker
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("typing")
    (tmp / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp / "bad.py").write_text(textwrap.dedent(BAD))
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    outputs: dict[str, str] = {}
    for name in ("good", "bad"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--cache-dir",
                os.devnull,
                "--no-error-summary",
                "--hide-error-context",
                str(tmp / f"{name}.py"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=600,
        )
        outputs[name] = result.stdout + result.stderr
    return outputs


@pytest.mark.slow
def test_the_main_calls_have_the_documented_types(mypy_output: dict[str, str]) -> None:
    assert mypy_output["good"].strip() == ""


@pytest.mark.slow
def test_misspelt_and_mistyped_options_are_type_errors(mypy_output: dict[str, str]) -> None:
    output = mypy_output["bad"]
    errors: dict[int, str] = {}
    for line in output.splitlines():
        found = re.match(r".*bad\.py:(\d+): error: (.*)", line)
        if found:
            errors[int(found.group(1))] = errors.get(int(found.group(1)), "") + found.group(2)
    source = textwrap.dedent(BAD).splitlines()
    expected = {
        number: line.split("# E: ")[1] for number, line in enumerate(source, 1) if "# E: " in line
    }
    assert set(errors) == set(expected), output
    for number, word in expected.items():
        assert word in errors[number], (number, errors[number])


def test_client_options_are_the_client_keywords() -> None:
    keywords = {
        name
        for name, p in inspect.signature(DockerClient.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    options = aiodock.ClientOptions
    assert options.__optional_keys__ | options.__required_keys__ == keywords


def test_run_options_are_the_create_options_but_image_and_cmd() -> None:
    create = aiodock.CreateOptions.__optional_keys__
    run = aiodock.RunOptions.__optional_keys__
    assert create - run == {"image", "cmd"}
    assert "environment" not in create and "env" in create


async def test_environment_is_refused_pointing_to_env() -> None:
    docker = DockerClient("unix:///nonexistent.sock")
    try:
        with pytest.raises(InvalidArgument, match="use env=") as info:
            await docker.containers.create(image="busybox", environment=["A=1"])  # type: ignore[call-arg]
        assert info.value.parameter == "environment"
        with pytest.raises(InvalidArgument, match="use env="):
            await docker.containers.run("busybox", environment={"A": "1"})  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="labells"):
            await docker.containers.create(image="busybox", labells={})  # type: ignore[call-arg]
    finally:
        await docker.aclose()
