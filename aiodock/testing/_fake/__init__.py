"""``FakeDocker``: an in-process Docker Engine for tests, served by aiohttp.web.

The fake keeps containers (with their file trees), images, networks, volumes,
execs, events, builds and registries in memory and answers with the shapes
Engine 20.10 (API 1.41) sends, or those of a newer engine where the request's
API version changes them (``FakeDocker(api_version=...)``). It also
records every request and can inject faults (errors, delays, cut or stalled
bodies, dropped keep-alive connections) so clients can be tested against the
failures a real daemon produces.

One class in layers, one module each: ``engine`` (the stored objects and their
life), ``server`` (the HTTP side), ``scripting`` (how tests script it),
``state_helpers`` (what tests read and put in the store) and ``docker``
(``FakeDocker``, all of them together); ``exec_session`` is what an exec
handler works with.
"""

from __future__ import annotations

from .docker import FakeDocker
from .engine import PullPlan
from .exec_session import ExecSession

__all__ = ["ExecSession", "FakeDocker", "PullPlan"]
