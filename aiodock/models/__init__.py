"""Typed models of the Docker Engine API.

Most classes are frozen, keyword-only attrs classes generated from the Engine
API spec by ``tools/gen_models.py`` (see ``_generated.py``). Field names are
snake_case; the JSON key of each field is in its ``metadata["wire"]`` and
:mod:`aiodock._convert` maps between the two. Every field has a default, so
``HostConfig(memory=64 * 2**20)`` is a complete value and unset fields are left
out of request bodies.

The hand-made types next to them cover what the spec leaves loose: stream
items (``Event``, ``ProgressMessage``, ``Stats``), results of conveniences
(``ExecResult``, ``RunResult``, ``PathStat``) and builders for swarm specs.
"""

from ._generated import *  # noqa: F403
from ._generated import __all__ as _generated_all
from .containers import ContainerInspect, ExecResult, PathStat, RunResult, Stats
from .events import Event
from .progress import ProgressMessage
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
    "ContainerInspect",
    "Event",
    "ExecResult",
    "PathStat",
    "ProgressMessage",
    "RunResult",
    "SecretCreate",
    "ServiceConvergence",
    "ServiceMode",
    "Stats",
    "config_ref",
    "secret_ref",
    "service_spec",
]
