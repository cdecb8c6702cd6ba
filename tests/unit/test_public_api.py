"""The curated top-level API: what ``import aiodock`` offers and what it costs."""

from __future__ import annotations

import inspect
import subprocess
import sys

import aiodock
from aiodock import errors


def test_every_exported_name_resolves() -> None:
    for name in aiodock.__all__:
        assert getattr(aiodock, name) is not None, name
    assert len(aiodock.__all__) == len(set(aiodock.__all__))
    assert set(aiodock.__all__) <= set(dir(aiodock))


def test_every_error_class_is_exported_and_in_the_tree() -> None:
    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    }
    assert set(classes) == set(errors.__all__)
    for name, cls in classes.items():
        assert issubclass(cls, errors.DockerError), name
        assert getattr(aiodock, name) is cls, name


def test_namespaces_are_attributes_of_the_client() -> None:
    client = aiodock.DockerClient("unix:///nonexistent.sock")
    for name in (
        "containers",
        "images",
        "exec",
        "networks",
        "volumes",
        "system",
        "swarm",
        "services",
        "tasks",
        "nodes",
        "secrets",
        "configs",
        "plugins",
        "distribution",
    ):
        namespace = getattr(client, name)
        assert getattr(client, name) is namespace  # made once per client
        assert namespace._client is client


def test_import_is_lazy() -> None:
    code = (
        "import sys, aiodock; "
        "heavy = [m for m in ('cattrs', 'aiodock.models', 'aiodock._convert', 'aiodock.watcher') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
