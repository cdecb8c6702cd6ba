"""Every type a user may annotate or catch is importable from a public module.

The walk starts at :class:`aiodock.DockerClient` and its namespaces, resolves
every public method's and property's annotations with ``typing.get_type_hints``
(``Unpack[...]`` options included), then does the same for each aiodock class
it meets (a stream's ``tracker``, a result's fields...). A class found that way
must be reachable without naming a private module: exported from ``aiodock``
(or ``aiodock.models``, ``aiodock.errors``), or defined in a module whose path
has no ``_`` part. Examples import only public names.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import pkgutil
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiodock
from aiodock import DockerClient

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES = ("aiodock", "aiodock.models", "aiodock.errors")


def _namespace() -> dict[str, Any]:
    """Names the annotations use: every aiodock module's globals (TYPE_CHECKING
    imports included, as their targets), the models and the top-level exports."""
    names: dict[str, Any] = {}
    for info in pkgutil.walk_packages(aiodock.__path__, "aiodock."):
        if ".testing" in info.name or "._generated." in info.name:
            continue
        module = importlib.import_module(info.name)
        names.update({k: v for k, v in vars(module).items() if inspect.isclass(v)})
        for name, annotation in vars(module).get("__annotations__", {}).items():
            value = getattr(module, name, None)
            if "TypeAlias" in str(annotation):
                # ``X: TypeAlias = "a | b"`` stays a string at run time: evaluate it here.
                names[name] = eval(value, vars(module)) if isinstance(value, str) else value
    import aiohttp

    import aiodock.models as models

    # aiohttp's public classes (TraceConfig) appear in signatures under their own names.
    names.update({k: v for k, v in vars(aiohttp).items() if inspect.isclass(v)})
    names.update({name: getattr(models, name) for name in models.__all__})
    names.update({name: getattr(aiodock, name) for name in aiodock.__all__})
    return names


def _classes_in(tp: Any, namespace: dict[str, Any]) -> Iterator[type]:
    if isinstance(tp, typing.ForwardRef):  # ``Base["Name"]`` keeps the string
        tp = eval(tp.__forward_arg__, namespace)
    origin = typing.get_origin(tp)
    if origin is not None:
        args = typing.get_args(tp)
        if getattr(origin, "__name__", "") == "Unpack" or repr(origin).endswith("Unpack"):
            options = args[0]
            yield options
            hints = typing.get_type_hints(options, localns=namespace)
            for hint in hints.values():
                yield from _classes_in(hint, namespace)
            return
        if inspect.isclass(origin):
            yield origin
        for arg in args:
            yield from _classes_in(arg, namespace)
    elif inspect.isclass(tp):
        yield tp


def _members(cls: type, *, constructor: bool) -> Iterator[tuple[str, Any]]:
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and not (constructor and name == "__init__"):
            continue
        if isinstance(member, property):
            yield name, member.fget
        elif isinstance(member, functools.cached_property):
            yield name, member.func
        elif inspect.isfunction(member) or inspect.ismethod(member):
            yield name, member


def _walk() -> dict[type, set[str]]:
    namespace = _namespace()
    seen: dict[type, set[str]] = {}
    client = DockerClient("unix:///nonexistent.sock")
    todo: list[tuple[type, bool]] = [(DockerClient, True)]
    for name in dir(client):
        if not name.startswith("_"):
            value = getattr(client, name)
            if type(value).__module__.startswith("aiodock.resources"):
                todo.append((type(value), False))
    done: set[type] = set()
    while todo:
        cls, constructor = todo.pop()
        if cls in done:
            continue
        done.add(cls)
        # What a generic base is parametrised with is what its methods return
        # (``PullStream(ProgressStream[PullResult])``: ``await`` gives a PullResult).
        hints = [("<base>", base) for base in getattr(cls, "__orig_bases__", ())]
        attributes = typing.get_type_hints(cls, localns=namespace) if inspect.isclass(cls) else {}
        hints.extend((name, hint) for name, hint in attributes.items() if not name.startswith("_"))
        for name, function in _members(cls, constructor=constructor):
            resolved = typing.get_type_hints(function, localns=namespace)
            hints.extend((name, hint) for hint in resolved.values())
        for name, hint in hints:
            for found in _classes_in(hint, namespace):
                if found.__module__.startswith("aiodock"):
                    seen.setdefault(found, set()).add(f"{cls.__name__}.{name}")
                    todo.append((found, False))
    return seen


def _public_paths(cls: type) -> list[str]:
    name = cls.__name__
    paths = [m for m in PUBLIC_MODULES if getattr(importlib.import_module(m), name, None) is cls]
    # Its own module, or the public package a private submodule of it re-exports from.
    parts = cls.__module__.split(".")
    public = ".".join(itertools.takewhile(lambda part: not part.startswith("_"), parts))
    if public and getattr(importlib.import_module(public), name, None) is cls:
        paths.append(public)
    return paths


def test_the_walk_reaches_the_public_surface() -> None:
    seen = _walk()
    for expected in (
        aiodock.PullStream,
        aiodock.PullResult,
        aiodock.BuildResult,
        aiodock.LogStream,
        aiodock.ExecProcess,
        aiodock.ArchiveStream,
        aiodock.PathStat,
        aiodock.ProgressTracker,
        aiodock.LayerProgress,
        aiodock.RunOptions,
        aiodock.CreateOptions,
        aiodock.ClientOptions,
        aiodock.models.Mount,  # a field of CreateOptions, through Unpack
    ):
        assert expected in seen, expected


def test_no_public_signature_names_a_class_only_a_private_module_offers() -> None:
    private = {
        f"{cls.__module__}.{cls.__qualname__} (in {sorted(where)[:3]})"
        for cls, where in _walk().items()
        if not _public_paths(cls)
    }
    assert private == set()


def test_the_types_users_annotate_are_exported_from_aiodock() -> None:
    for name in (
        "LogStream",
        "ExecProcess",
        "ArchiveStream",
        "AttachWebSocket",
        "PathStat",
        "LayerProgress",
        "ProgressTracker",
        "ProgressStream",
        "PullStream",
        "PushStream",
        "BuildStream",
        "LoadStream",
        "ImportStream",
        "PullResult",
        "PushResult",
        "BuildResult",
        "LoadResult",
        "ImportResult",
        "CreateOptions",
        "RunOptions",
        "ClientOptions",
    ):
        assert name in aiodock.__all__, name
        assert inspect.isclass(getattr(aiodock, name)), name


def test_examples_import_only_public_names() -> None:
    private = re.compile(r"\baiodock(\.\w+)*\._\w+")
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted((ROOT / "examples").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line) or re.search(r"\bfrom \.?\w*\s+import\s+_", line)
    ]
    assert offenders == []
