"""pytest plugin of aiodock: ``fake_docker`` and ``docker_client`` fixtures.

* ``fake_docker``: a started :class:`~aiodock.testing.FakeDocker` for one test.
* ``docker_client``: an :class:`~aiodock.DockerClient` bound to that fake
  (the same one the test gets from ``fake_docker``), closed after the test.
* ``fake_docker_options``: override it to pass options to ``FakeDocker``.

With ``--aiodock-real-engine`` (``DOCKER_HOST`` / docker context) or
``--aiodock-real-engine=HOST``, ``docker_client`` talks to a real engine
instead, and tests that use ``fake_docker`` (the fake's own API: faults,
recorded requests, scripted output) are skipped. Tests marked
``@pytest.mark.real_docker`` need a real engine and are skipped without the
option.

The fixtures are declared with ``pytest_asyncio.fixture``, so they work in
both ``auto`` and ``strict`` mode (``pip install "aiodock[testing]"`` brings
pytest and pytest-asyncio). Nothing heavy is imported until a fixture is used:
pytest loads this module in every run where aiodock is installed, and importing
it loads no aiohttp, attrs or aiodock client code (tests/unit/test_packaging.py).
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio pytest reports the async fixture
    _async_fixture = pytest.fixture  # type: ignore[assignment]

if TYPE_CHECKING:
    from aiodock import DockerClient
    from aiodock.testing import FakeDocker

_OPTION = "--aiodock-real-engine"
_DEST = "aiodock_real_engine"
_SKIP_FAKE = (
    "uses FakeDocker-specific APIs (fake_docker); skipped because "
    f"{_OPTION} runs docker_client against a real engine"
)
_SKIP_REAL = f"needs a real Docker engine; run pytest with {_OPTION}[=HOST]"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiodock", "aiodock Docker client")
    group.addoption(
        _OPTION,
        action="store",
        nargs="?",
        const="",
        default=None,
        dest=_DEST,
        metavar="HOST",
        help=(
            "bind the docker_client fixture to a real Docker engine (HOST, or DOCKER_HOST / "
            "the current docker context when no HOST is given; write it as "
            f"{_OPTION}=HOST) and skip tests that use fake_docker"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"real_docker: the test needs a real Docker engine (skipped unless {_OPTION} is given)",
    )
    value = config.getoption(_DEST, default=None)
    if value and "://" not in value and _is_plain_path(value):
        raise pytest.UsageError(
            f"{_OPTION} took {value!r} as the engine address; write {_OPTION}=HOST, "
            "or put the option after the test paths"
        )


def _is_plain_path(value: str) -> bool:
    try:
        mode = os.stat(value).st_mode
    except OSError:
        return False
    return not stat.S_ISSOCK(mode)


def real_engine(config: pytest.Config) -> str | None:
    """``None`` for the fake; ``""`` for the environment's engine; else the host given."""
    value = config.getoption(_DEST, default=None)
    return None if value is None else str(value)


def pytest_report_header(config: pytest.Config) -> str | None:
    host = real_engine(config)
    if host is None:
        return None
    from .._http.transport import redact_host

    shown = redact_host(host) if host else "DOCKER_HOST/context"
    return f"aiodock: docker_client uses the real engine at {shown}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    real = real_engine(config) is not None
    skip_fake = pytest.mark.skip(reason=_SKIP_FAKE)
    skip_real = pytest.mark.skip(reason=_SKIP_REAL)
    for item in items:
        if real:
            if "fake_docker" in getattr(item, "fixturenames", ()):
                item.add_marker(skip_fake)
        elif item.get_closest_marker("real_docker") is not None:
            item.add_marker(skip_real)


class FakeHolder:
    """Starts one FakeDocker on first use in a test and closes it after the last user."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.fake: FakeDocker | None = None
        self.users = 0

    async def acquire(self) -> FakeDocker:
        if self.fake is None:
            from aiodock.testing import FakeDocker

            self.fake = await FakeDocker(**self.options).start()
        self.users += 1
        return self.fake

    async def release(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.fake is not None:
            fake, self.fake = self.fake, None
            await fake.close()


@pytest.fixture
def fake_docker_options() -> dict[str, Any]:
    """Keyword arguments for the ``FakeDocker`` behind ``fake_docker``; override to change."""
    return {}


@pytest.fixture
def _aiodock_fake_holder(fake_docker_options: dict[str, Any]) -> FakeHolder:
    return FakeHolder(dict(fake_docker_options))


@_async_fixture
async def fake_docker(
    request: pytest.FixtureRequest, _aiodock_fake_holder: FakeHolder
) -> AsyncIterator[FakeDocker]:
    """A started FakeDocker (closed after the test)."""
    if real_engine(request.config) is not None:
        pytest.skip(_SKIP_FAKE)
    fake = await _aiodock_fake_holder.acquire()
    try:
        yield fake
    finally:
        await _aiodock_fake_holder.release()


@_async_fixture
async def docker_client(
    request: pytest.FixtureRequest, _aiodock_fake_holder: FakeHolder
) -> AsyncIterator[DockerClient]:
    """A DockerClient bound to ``fake_docker`` (or to the real engine with the option)."""
    from aiodock import DockerClient

    host = real_engine(request.config)
    if host is not None:
        client = DockerClient(host) if host else DockerClient.from_env()
        try:
            yield client
        finally:
            await client.aclose()
        return
    fake = await _aiodock_fake_holder.acquire()
    try:
        client = DockerClient(fake.host)
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        await _aiodock_fake_holder.release()
