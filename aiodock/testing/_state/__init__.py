"""The objects a fake engine holds, and the JSON shapes Engine 20.10 gives for them: one
module per kind of object, plus the value formats (``values``) and filters they share."""

from __future__ import annotations

from .containers import Endpoint, FakeContainer, LogEntry, Script
from .execs import FakeExec
from .images import FakeImage
from .networks import FakeNetwork
from .volumes import FakeVolume

__all__ = [
    "Endpoint",
    "FakeContainer",
    "FakeExec",
    "FakeImage",
    "FakeNetwork",
    "FakeVolume",
    "LogEntry",
    "Script",
]
