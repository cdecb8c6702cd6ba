"""Typed models of the Docker Engine API.

Most classes are frozen, keyword-only attrs classes generated from the Engine
API spec by ``tools/gen_models.py`` (the ``_generated`` package). Field names are
snake_case; the JSON key of each field is in its ``metadata["wire"]`` and
:mod:`aiodock._convert` maps between the two. Every field has a default, so
``HostConfig(memory=64 * 2**20)`` is a complete value and unset fields are left
out of request bodies.

The hand-made types next to them cover what the spec leaves loose: stream
items (``Event``, ``ProgressMessage``, ``Stats``), results of conveniences
(``ExecResult``, ``RunResult``, ``PathStat``), results of awaited operations
(``PullResult``, ``PushResult``, ``BuildResult``, ``LoadResult``,
``ImportResult``) and builders for swarm specs. ``AuthConfig`` is the one
registry credentials class, :class:`aiodock.AuthConfig` (the spec's is not
generated: it lacks the token fields).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._generated import __all__ as _generated_all

if TYPE_CHECKING:
    from .._registry.auth import AuthConfig
    from ._generated import *  # noqa: F403
    from .containers import ContainerInspect, ExecResult, PathStat, RunResult, Stats
    from .events import Event
    from .progress import (
        BuildResult,
        ImportResult,
        LoadResult,
        ProgressMessage,
        PullResult,
        PushResult,
    )
    from .swarm import (
        SecretCreate,
        ServiceConvergence,
        ServiceMode,
        config_ref,
        secret_ref,
        service_spec,
    )

__all__ = [
    *_generated_all,
    "AuthConfig",
    "BuildResult",
    "ContainerInspect",
    "Event",
    "ExecResult",
    "ImportResult",
    "LoadResult",
    "PathStat",
    "ProgressMessage",
    "PullResult",
    "PushResult",
    "RunResult",
    "SecretCreate",
    "ServiceConvergence",
    "ServiceMode",
    "Stats",
    "config_ref",
    "secret_ref",
    "service_spec",
]

# Nothing is imported until it is used (module ``__getattr__``): a generated
# class brings only its own module of ``_generated`` and the classes its fields
# name, a hand-made one its module here.
_HAND_MADE = {
    "ExecResult": "containers",
    "PathStat": "containers",
    "RunResult": "containers",
    "Stats": "containers",
    "Event": "events",
    "ProgressMessage": "progress",
    "PullResult": "progress",
    "PushResult": "progress",
    "BuildResult": "progress",
    "LoadResult": "progress",
    "ImportResult": "progress",
    "SecretCreate": "swarm",
    "ServiceConvergence": "swarm",
    "ServiceMode": "swarm",
    "config_ref": "swarm",
    "secret_ref": "swarm",
    "service_spec": "swarm",
}
# Shorter names of generated classes (also in the hand-made module that documents them).
_ALIASES = {"ContainerInspect": "ContainerInspectResponse"}
_SUBMODULES = frozenset(("containers", "events", "progress", "swarm"))
_GENERATED = frozenset(_generated_all)


if not TYPE_CHECKING:  # mypy checks the names against the imports above
    __getattr__ = lazy_attributes(
        globals(),
        {
            **dict.fromkeys(_generated_all, "._generated"),
            **{alias: f"._generated:{target}" for alias, target in _ALIASES.items()},
            **{name: f".{module}" for name, module in _HAND_MADE.items()},
            **{module: f".{module}:" for module in _SUBMODULES},
            "AuthConfig": ".._registry.auth",
        },
    )


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
