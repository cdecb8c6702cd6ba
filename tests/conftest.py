"""Project-wide test configuration: kept light, the heavy fixtures live in tests/integration."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from .integration import _infra
except ImportError:  # rootdir-relative import mode without packages
    from integration import _infra  # type: ignore[no-redef]

_INTEGRATION_DIR = Path(__file__).parent / "integration"


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
