"""Fixtures for tests against the real Docker Engine and real auxiliary daemons.

The engine must answer at unix:///var/run/docker.sock (``bash scripts/engine.sh start``).
Without it, integration tests are skipped on a developer machine and the whole run fails
under CI (``CI`` set), so that a broken machine can never pass for a green run.

Fixtures:
- ``docker``: an ``aiodock.DockerClient`` on the main engine (function scope). In a test
  marked ``@pytest.mark.engines`` it is parametrised over every engine (``ENGINES``):
  Docker on /var/run/docker.sock and Podman's service on ``_infra.PODMAN_SOCK``.
- ``engine_kind``: ``"docker"`` or ``"podman"``, the engine ``docker`` talks to.
- ``engine_difference``: call it with a reason in a test that asserts a documented
  difference of the engine under test; the compatibility table shows the reason.
- ``busybox``: the name of the local test image, built if missing (session scope).
- ``test_label``: a fresh copy of ``TEST_LABEL`` to put on everything a test creates.
- ``tls_daemon``: a second dockerd speaking only mutual TLS (``_infra.TLSDaemon``).
- ``sshd``: an sshd that lets a generated key in as root (``_infra.SSHServer``).
- ``registry``: a docker-registry with htpasswd auth on 127.0.0.1:5000 (``_infra.Registry``).

With ``AIODOCK_COMPAT_JSON=path`` the run writes every (test, engine, outcome) of the
engine-parametrised tests to ``path``; ``tools/compat_table.py`` renders
docs/compatibility.md from it.

Leftovers labelled ``aiodock-test=1`` are removed at the start and at the end of the
session, over plain HTTP (``AIODOCK_TEST_CLEANUP``: ``all``, ``stale`` or ``none``; the
default is ``all`` under CI and ``stale`` elsewhere, which only removes what is older than
ten minutes so that concurrent runs on one engine leave each other alone).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, NoReturn, TypeVar

import pytest

try:
    from . import _infra
except ImportError:  # rootdir-relative import mode without packages
    import _infra  # type: ignore[no-redef,import-not-found]

if TYPE_CHECKING:
    import aiodock

BUSYBOX = _infra.BUSYBOX
TEST_LABEL = _infra.TEST_LABEL
DOCKER_HOST = _infra.DOCKER_HOST
STALE_AFTER = 600.0

_ENGINE_HINT = "integration tests need a real engine; run scripts/engine.sh start"
_T = TypeVar("_T")

#: The engines a test marked ``engines`` runs against.
ENGINES = ("docker", "podman")
_COMPAT_KEY = "aiodock_compat"
_compat_results: list[dict[str, str]] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engines: run against every engine (Docker and Podman) via the docker fixture"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("engines") and "engine_kind" in (
        metafunc.fixturenames
    ):
        metafunc.parametrize("engine_kind", ENGINES, indirect=True)


def _compat_name(nodeid: str) -> str:
    """The test id without its engine parameter (``test_x[podman]`` -> ``test_x``)."""
    base, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    rest = [p for p in params.rstrip("]").split("-") if p not in ENGINES]
    return f"{base}[{'-'.join(rest)}]" if rest else base


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties)
    engine = props.get("engine")
    recording = os.environ.get("AIODOCK_COMPAT_JSON") or os.environ.get("AIODOCK_COMPAT_CHECK")
    if engine is None or not recording:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    outcome: str = report.outcome
    if report.when != "call" and report.failed:
        outcome = "error"
    _compat_results.append(
        {
            "test": _compat_name(report.nodeid),
            "engine": str(engine),
            "outcome": outcome,
            "difference": "; ".join(
                str(v) for k, v in report.user_properties if k == "engine_difference"
            ),
        }
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _check_compat_table(session)
    path = os.environ.get("AIODOCK_COMPAT_JSON")
    if not path or not _compat_results:
        return
    existing: list[dict[str, str]] = []
    if os.path.exists(path):  # several runs (one per module) add up to one table
        with open(path, encoding="utf-8") as fh:
            existing = json.load(fh)
    fresh = {(r["test"], r["engine"]) for r in _compat_results}
    merged = [r for r in existing if (r["test"], r["engine"]) not in fresh] + _compat_results
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(sorted(merged, key=lambda r: (r["test"], r["engine"])), fh, indent=1)
        fh.write("\n")


def _check_compat_table(session: pytest.Session) -> None:
    """With ``AIODOCK_COMPAT_CHECK=docs/compatibility.json`` (CI sets it), fail the run
    when what the engines did differs from the committed table's results."""
    path = os.environ.get("AIODOCK_COMPAT_CHECK")
    if not path or not _compat_results:
        return
    with open(path, encoding="utf-8") as fh:
        committed = {(r["test"], r["engine"]): r for r in json.load(fh)}
    stale = [
        f"{r['test']} on {r['engine']}: {r['outcome']} ({r['difference'] or 'no difference'})"
        for r in _compat_results
        if committed.get((r["test"], r["engine"])) != r
    ]
    if stale:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            reporter.write_line(
                f"{path} does not match this run (regenerate it, see tools/compat_table.py):"
            )
            for line in stale:
                reporter.write_line(f"  {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _unavailable(reason: str) -> NoReturn:
    """Skip for lack of infrastructure, except under CI, where that is a failure."""
    if _infra.ci_mode():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    integration = [item for item in items if item.get_closest_marker("integration")]
    if not integration:
        return
    problem = _infra.engine_ping()
    if problem is None:
        return
    message = f"{_ENGINE_HINT} ({problem})"
    if _infra.ci_mode():
        pytest.exit(f"CI is set and {message}", returncode=pytest.ExitCode.INTERNAL_ERROR)
    skip = pytest.mark.skip(reason=message)
    for item in integration:
        item.add_marker(skip)


def _cleanup(when: str) -> None:
    mode = os.environ.get("AIODOCK_TEST_CLEANUP") or ("all" if _infra.ci_mode() else "stale")
    if mode == "none" or _infra.engine_ping() is not None:
        return
    older_than = None if mode == "all" else STALE_AFTER
    report = _infra.cleanup_labelled(older_than=older_than)
    if _infra.engine_ping(_infra.PODMAN_SOCK) is None:
        podman = _infra.cleanup_labelled(older_than=older_than, sock=_infra.PODMAN_SOCK)
        report.failed.extend(f"podman: {item}" for item in podman.failed)
    if report.failed:
        warnings.warn(
            f"cleanup {when} the session could not remove: {'; '.join(report.failed)}",
            stacklevel=1,
        )


@pytest.fixture(scope="session", autouse=True)
def _remove_labelled_leftovers() -> Iterator[None]:
    _cleanup("before")
    yield
    _cleanup("after")


@pytest.fixture(scope="session")
def busybox() -> str:
    """The local test image (FROM scratch + static busybox); never pulled."""
    problem = _infra.engine_ping()
    if problem is not None:
        _unavailable(f"{_ENGINE_HINT} ({problem})")
    return _infra.ensure_busybox()


@pytest.fixture
def test_label() -> dict[str, str]:
    """Labels to put on everything a test creates (a fresh dict each time)."""
    return dict(TEST_LABEL)


@pytest.fixture(scope="session")
def podman_host() -> str:
    """Podman's API service with the test image loaded (installed and started if needed)."""
    try:
        return _infra.ensure_podman()
    except _infra.InfraError as exc:
        _unavailable(f"cannot start Podman: {exc}")


@pytest.fixture
def engine_kind(request: pytest.FixtureRequest) -> str:
    """Which engine ``docker`` talks to: Docker unless the test is marked ``engines``."""
    kind: str = getattr(request, "param", "docker")
    if hasattr(request, "param"):
        request.node.user_properties.append(("engine", kind))
    return kind


@pytest.fixture
def engine_difference(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record that this test asserts a documented difference of the engine under test."""

    def note(reason: str) -> None:
        request.node.user_properties.append(("engine_difference", reason))

    return note


@pytest.fixture
async def docker(
    request: pytest.FixtureRequest, engine_kind: str
) -> AsyncIterator[aiodock.DockerClient]:
    """A client of the library under test, connected to the engine under test."""
    import aiodock

    host = DOCKER_HOST
    if engine_kind == "podman":
        host = request.getfixturevalue("podman_host")
    async with aiodock.DockerClient(host) as client:
        yield client


def _start(start: Callable[[], _T], what: str) -> _T:
    try:
        return start()
    except _infra.InfraError as exc:
        _unavailable(f"cannot start the {what}: {exc}")


@pytest.fixture(scope="session")
def tls_daemon() -> Iterator[_infra.TLSDaemon]:
    """A second dockerd on tcp://127.0.0.1:PORT requiring client certificates."""
    server = _start(_infra.start_tls_daemon, "TLS dockerd")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sshd() -> Iterator[_infra.SSHServer]:
    """An sshd on 127.0.0.1 for ssh:// hosts (root, one generated ed25519 key)."""
    server = _start(_infra.start_sshd, "sshd")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def registry() -> Iterator[_infra.Registry]:
    """A private registry with htpasswd auth (testuser/testpassword) on 127.0.0.1:5000."""
    server = _start(_infra.start_registry, "registry")
    try:
        yield server
    finally:
        server.stop()
