"""The hypothesis profiles of tests/conftest.py: which one runs, and what each promises."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests import conftest


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "dev"),
        ({"CI": "1"}, "ci"),
        ({"CI": "false"}, "dev"),
        ({"HYPOTHESIS_PROFILE": "long"}, "long"),
        ({"CI": "1", "HYPOTHESIS_PROFILE": "long"}, "long"),
    ],
)
def test_the_profile_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in ("CI", "HYPOTHESIS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert conftest.hypothesis_profile() == expected


def test_ci_is_reproducible_and_long_is_larger() -> None:
    ci, dev, long = (settings.get_profile(name) for name in ("ci", "dev", "long"))
    # CI: the same examples every run, none replayed from a local database.
    assert ci.derandomize and ci.database is None and ci.max_examples == 100
    assert not dev.derandomize and not long.derandomize
    assert long.max_examples >= 10 * dev.max_examples
    for profile in (ci, dev, long):
        assert profile.deadline is None and profile.print_blob
