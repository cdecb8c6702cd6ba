"""nox sessions: ``nox`` runs tests, lint and typing; ``nox -s docs`` builds the documentation
site into ``site/``; ``nox -s bench`` runs the benchmarks.

Integration tests need the real engine first: ``bash scripts/engine.sh install start``.
Arguments after ``--`` go to pytest (``nox -s tests -- -k events``) or to the benchmarks.

``nox -s unit`` runs the unit suite on every supported Python (``unit-3.10`` ... ``unit-3.13``);
``nox -s floors`` runs it with every dependency at its declared floor, then a round trip
against the real engine (on a shared machine run it under the integration lock).
``nox -s mutate`` runs mutation testing (mutmut) over the parsers, decoders, argument rules
and errors (a developer session: not part of CI).
Interpreters are found on PATH; pyenv's versions are added to it when present.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_venv = "yes"

# The Pythons CI proves (pyproject.toml's classifiers list exactly these).
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ROOT = Path(__file__).parent


def _find_pyenv_pythons() -> None:
    """Put pyenv's ``python3.X`` first on PATH, when pyenv has them.

    CI's non-interactive shell has no pyenv on PATH, and an interactive one has its shims,
    which refuse a version that ``pyenv global`` does not list. A directory of links to
    the interpreters themselves avoids both, and shadows no ``python3``.
    """
    links = ROOT / ".nox" / "pythons"
    roots = {Path("/root/.pyenv/versions"), Path.home() / ".pyenv" / "versions"}
    for version in PYTHONS:
        found = [p for root in roots for p in root.glob(f"{version}.*/bin/python{version}")]
        if not found:
            continue
        best = max(found, key=lambda p: [int(n) for n in re.findall(r"\d+", p.parts[-3])])
        links.mkdir(parents=True, exist_ok=True)
        link = links / f"python{version}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(best)
    if links.is_dir():
        os.environ["PATH"] = f"{links}{os.pathsep}{os.environ.get('PATH', '')}"


_find_pyenv_pythons()


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite, unit and integration."""
    session.install("-e", ".[test]", "-r", "docs/requirements.txt")
    session.run("python", "-m", "pytest", *session.posargs)


# The unit suite as the Python and floor sessions run it. The docs-hook tests need the
# docs build's packages and test no Python-specific code: the main suite runs them. The
# extraction state machine runs its full 2,000 deterministic examples there too.
UNIT_RUN = [
    "python",
    "-m",
    "pytest",
    "tests/unit",
    "-q",
    "-p",
    "no:cacheprovider",
    "--ignore=tests/unit/test_docs_hooks.py",
]
UNIT_ENV = {"AIODOCK_EXTRACT_EXAMPLES": "300"}


@nox.session(python=PYTHONS)
def unit(session: nox.Session) -> None:
    """The unit suite (no engine needed) on one Python."""
    # ruff too: a test checks the generated models are ruff-formatted.
    session.install("-e", ".[test]", "ruff")
    session.run(*UNIT_RUN, *session.posargs, env=UNIT_ENV)


def floor_constraints() -> list[str]:
    """``name==X.Y.*`` for every runtime dependency (and the speedups extra) of pyproject.toml.

    A floor ``>=X.Y`` is tested as its whole minor series ``X.Y.*`` (the newest patch of it),
    so a floor that is only true with a later minor release fails here.
    """
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    requirements = list(project["dependencies"]) + list(
        project["optional-dependencies"]["speedups"]
    )
    pins = []
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*(\d+)(?:\.(\d+))?", requirement)
        if match is None:
            raise ValueError(f"pyproject.toml: dependency {requirement!r} has no >= floor")
        name, major, minor = match.group(1), match.group(2), match.group(3) or "0"
        pins.append(f"{name}=={major}.{minor}.*")
    return pins


@nox.session(python=PYTHONS[0])
def floors(session: nox.Session) -> None:
    """Unit suite and an engine round trip with every dependency at its declared floor.

    The oldest Python, where the oldest releases all have wheels.
    """
    pins = floor_constraints()
    # Not session.create_tmp(): it points TMPDIR into .nox, and the tests' unix socket
    # paths there outgrow the 108-byte limit of AF_UNIX addresses.
    constraints = ROOT / ".nox" / "floors-constraints.txt"
    constraints.parent.mkdir(exist_ok=True)
    constraints.write_text("\n".join(pins) + "\n")
    session.install("-c", str(constraints), "-e", ".[test,speedups]", "ruff")
    # What was installed really is each floor's series (pip would not say if a pin were dropped).
    listed = session.run("python", "-m", "pip", "list", "--format=json", silent=True)
    listing = next(line for line in str(listed).splitlines() if line.startswith("["))
    installed = {p["name"].lower(): p["version"] for p in json.loads(listing)}
    wrong = []
    for pin in pins:
        name, series = pin.split("==")
        got = installed.get(name.lower(), "none")
        if not f"{got}.".startswith(series.rstrip("*")):
            wrong.append(f"{name} {got} (wanted {series})")
    if wrong:
        session.error(f"not at the floor: {', '.join(wrong)}")
    session.log(f"floors: {' '.join(pins)}")
    session.run(*UNIT_RUN, *session.posargs, env=UNIT_ENV)
    session.run("python", "tools/smoke.py")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package and its tests (configured in pyproject.toml)."""
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
    """Every hypothesis test under the ``long`` profile (fresh random examples, ten times
    the usual count), then the extraction state machine with 50,000 (a long session)."""
    session.install("-e", ".[test]")
    session.env["HYPOTHESIS_PROFILE"] = "long"
    session.run(
        "python", "-m", "pytest", "tests/unit", "-m", "hypothesis", "-q",
        "--deselect", "tests/unit/test_extract_state_machine.py",
    )  # fmt: skip
    session.env["AIODOCK_EXTRACT_EXAMPLES"] = session.posargs[0] if session.posargs else "50000"
    session.env["AIODOCK_EXTRACT_RANDOM"] = "1"
    session.run("python", "-m", "pytest", "tests/unit/test_extract_state_machine.py", "-q")


# The modules mutation testing covers. mutmut's other settings (the tests it runs) are in
# pyproject.toml's [tool.mutmut]; equivalent mutants are listed in tests/MUTATION.md.
MUTATE_MODULES = [
    "aiodock/_streams/frames.py",
    "aiodock/_filters.py",
    "aiodock/_registry/reference.py",
    "aiodock/_tar/dockerignore.py",
    "aiodock/errors.py",
    "aiodock/_rules.py",
]
# 3.8.1: the version the scores in tests/MUTATION.md were measured with.
MUTMUT = "mutmut==3.8.1"


@nox.session
def mutate(session: nox.Session) -> None:
    """Mutation testing: each module in MUTATE_MODULES must score at least 90%.

    Prints each module's score and every survivor that tests/MUTATION.md does not list
    (about 10 minutes on 2 cores). ``nox -s mutate -- 'aiodock._streams.frames.*'`` runs those
    mutants again against the previous run; ``mutmut show NAME`` (in the session's
    virtualenv) shows one.
    """
    session.install("-e", ".[test]", MUTMUT)
    rerun = ["--", *session.posargs] if session.posargs else []
    session.run("python", "tools/mutate.py", *MUTATE_MODULES, *rerun)
