"""Project-wide test configuration: kept light, the heavy fixtures live in tests/integration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

try:
    from .integration import _infra
except ImportError:  # rootdir-relative import mode without packages
    from integration import _infra  # type: ignore[no-redef,import-not-found]

_INTEGRATION_DIR = Path(__file__).parent / "integration"


# --- hypothesis profiles ---------------------------------------------------------------
#
# Loaded here, before any test module is imported: a test's own @settings(...) takes
# every value it does not set from the profile active at that moment. No profile has a
# deadline: a shared, loaded machine makes timing flaky, and timing is for benchmarks.
# Each is based on hypothesis' own "default" profile, not on whatever is active (with
# CI set, hypothesis activates its built-in "ci" profile on import).
_BASE = settings.get_profile("default")

#: Developers: fresh random examples each run, failures replayed from .hypothesis/.
settings.register_profile("dev", _BASE, deadline=None, print_blob=True)
#: CI: the same examples on every run (derandomized, no example database), so a red
#: build is reproducible and a green one means the same thing every time.
settings.register_profile(
    "ci",
    _BASE,
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Long sessions (``HYPOTHESIS_PROFILE=long``, ``nox -s fuzz``): many more random
#: examples; tests that set their own max_examples get LONG_FACTOR times theirs.
settings.register_profile(
    "long",
    _BASE,
    max_examples=2_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
LONG_FACTOR = 10


def hypothesis_profile() -> str:
    """``HYPOTHESIS_PROFILE`` when set, else ``ci`` under CI, else ``dev``."""
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "").strip()
    return chosen or ("ci" if _infra.ci_mode() else "dev")


settings.load_profile(hypothesis_profile())

#: Skip (or xfail) reasons a CI run accepts, as {substring of the reason: why}. Under CI
#: (``CI`` set) any other skipped or xfailed test fails the run: a green CI run means every
#: test ran and passed. Deliberately empty; CONTRIBUTING.md says why.
CI_ALLOWED_SKIPS: dict[str, str] = {}


def pytest_report_header(config: pytest.Config) -> str:
    """Say which engine the integration tests will talk to (or why there is none)."""
    problem = _infra.engine_ping()
    if problem is not None:
        return f"engine: not available ({problem})"
    try:
        version = _infra.engine_version()
    except (OSError, _infra.InfraError) as exc:
        return f"engine: answers /_ping, but /version failed: {exc}"
    engine, api = version.get("Version"), version.get("ApiVersion")
    return f"engine: {engine} (API {api}) at {_infra.DOCKER_HOST}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the real engine: mark it so."""
    for item in items:
        if _INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.integration)
    if settings.get_current_profile_name() == "long":
        for item in items:
            _scale_examples(item)


def _scale_examples(item: pytest.Item) -> None:
    """Under ``long``, give a test with its own max_examples LONG_FACTOR times as many.

    Hypothesis has no public way to scale explicit settings, so this replaces the
    settings that @given keeps on the test function; a test without them is left alone.
    """
    test = getattr(item, "obj", None)
    own = getattr(test, "_hypothesis_internal_use_settings", None)
    if not isinstance(own, settings) or own.max_examples == settings().max_examples:
        return  # not a hypothesis test, or it already runs the profile's count
    wanted = max(own.max_examples * LONG_FACTOR, settings().max_examples)
    test._hypothesis_internal_use_settings = settings(own, max_examples=wanted)  # type: ignore[union-attr]


# --- under CI, nothing is skipped ---------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    if _infra.ci_mode():
        config.pluginmanager.register(SkipGate(CI_ALLOWED_SKIPS), "aiodock-ci-skip-gate")


def skip_reason(report: pytest.CollectReport | pytest.TestReport) -> tuple[str, str] | None:
    """``("skipped" or "xfailed", reason)`` when ``report`` is a skip or an xfail, else None."""
    if not report.skipped:
        return None
    wasxfail = getattr(report, "wasxfail", None)
    if wasxfail is not None:
        return "xfailed", str(wasxfail)
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return "skipped", str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped", str(longrepr)


class SkipGate:
    """Fails a run that skipped or xfailed a test for a reason not in ``allowed``.

    Registered only under CI. The run's own outcome is kept when it already failed;
    otherwise the exit status becomes TESTS_FAILED and the summary lists the tests.
    """

    def __init__(self, allowed: dict[str, str]) -> None:
        self.allowed = allowed
        self.unaccepted: list[tuple[str, str, str]] = []  # (node id, outcome, reason)

    def _record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        found = skip_reason(report)
        if found is not None and not any(text in found[1] for text in self.allowed):
            self.unaccepted.append((report.nodeid, *found))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unaccepted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.unaccepted:
            return
        terminalreporter.section("skipped or xfailed under CI", red=True, bold=True)
        for nodeid, outcome, reason in self.unaccepted:
            terminalreporter.line(f"{outcome.upper()} {nodeid}: {reason}")
        terminalreporter.line(
            f"CI is set: {len(self.unaccepted)} test(s) did not run for a reason that "
            "tests/conftest.py (CI_ALLOWED_SKIPS) does not accept, so the run fails."
        )
