"""nox sessions: ``nox`` runs tests, lint and typing; ``nox -s docs`` builds the documentation
site into ``site/``; ``nox -s bench`` runs the benchmarks.

Integration tests need the real engine first: ``bash scripts/engine.sh install start``.
Arguments after ``--`` go to pytest (``nox -s tests -- -k events``) or to the benchmarks.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_venv = "yes"


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite, unit and integration."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package (configured in pyproject.toml)."""
    session.install("-e", ".[test]", "mypy")
    session.run("mypy", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs-material + mkdocstrings), strict: a warning fails it."""
    session.install("-r", "docs/requirements.txt", "-e", ".")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """aiodock against aiodocker, docker-py and bare aiohttp on the real engine."""
    session.install("-e", ".[test]", "aiodocker", "docker", "matplotlib")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The extraction state machine with 50,000 fresh random examples (about 10 minutes)."""
    session.install("-e", ".[test]")
    session.env["AIODOCK_EXTRACT_EXAMPLES"] = session.posargs[0] if session.posargs else "50000"
    session.env["AIODOCK_EXTRACT_RANDOM"] = "1"
    session.run("python", "-m", "pytest", "tests/unit/test_extract_state_machine.py", "-q")
