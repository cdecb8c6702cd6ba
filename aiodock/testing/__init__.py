"""Test helpers: :class:`FakeDocker`, an in-process Docker Engine, and a pytest plugin.

::

    from aiodock.testing import FakeDocker

    async def test_lists_nothing():
        async with FakeDocker() as fake, fake.client() as docker:
            assert await docker.request("GET", "/containers/json") == []

The pytest plugin (``aiodock.testing.plugin``, registered automatically when
aiodock is installed) provides the ``fake_docker`` and ``docker_client``
fixtures. Names are imported lazily so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._build import BuildPlan, BuildRecord
    from ._fake import ExecSession, FakeDocker, PullPlan
    from ._files import FakeFile, FileTree
    from ._registry import FakeRegistry
    from ._state.containers import FakeContainer, LogEntry
    from ._state.execs import FakeExec
    from ._state.images import FakeImage
    from ._state.networks import FakeNetwork
    from ._state.volumes import FakeVolume
    from ._wire import Answer, FakeRequest, RecordedRequest

__all__ = [
    "Answer",
    "BuildPlan",
    "BuildRecord",
    "ExecSession",
    "FakeContainer",
    "FakeDocker",
    "FakeExec",
    "FakeFile",
    "FakeImage",
    "FakeNetwork",
    "FakeRegistry",
    "FakeRequest",
    "FakeVolume",
    "FileTree",
    "LogEntry",
    "PullPlan",
    "RecordedRequest",
]

_WHERE = {
    "BuildPlan": "._build",
    "BuildRecord": "._build",
    "ExecSession": "._fake",
    "FakeDocker": "._fake",
    "PullPlan": "._fake",
    "FakeContainer": "._state.containers",
    "FakeExec": "._state.execs",
    "FakeFile": "._files",
    "FileTree": "._files",
    "FakeRegistry": "._registry",
    "FakeImage": "._state.images",
    "FakeNetwork": "._state.networks",
    "FakeVolume": "._state.volumes",
    "LogEntry": "._state.containers",
    "Answer": "._wire",
    "FakeRequest": "._wire",
    "RecordedRequest": "._wire",
}


if not TYPE_CHECKING:  # mypy checks the names against the imports above
    __getattr__ = lazy_attributes(globals(), _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)
