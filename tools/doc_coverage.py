"""Report which public methods document each of their parameters in a Google-style
``Args:`` section (what mkdocstrings renders in the API reference).

Walks, with :mod:`inspect`:

* ``namespaces``: every public method of the 14 namespace classes that
  ``DockerClient`` exposes as attributes (``containers``, ``exec``, ...), found from
  the client's own attributes so that a new namespace is checked without editing this;
* ``exported``: every public class in ``aiodock.__all__`` (its hand-written constructor
  and its public methods) and the public functions there, plus ``EventWatcher`` and the
  classes of ``aiodock.testing``.

A method counts as documented when it has a docstring; its parameters count as
documented when each one (``self``/``cls`` aside) is named in the docstring's
``Args:`` section, and that section names no parameter the signature lacks.
A constructor's parameters may be documented in the class docstring or in ``__init__``'s.
Constructors that attrs generates are skipped: their fields are the attributes.

Usage (from the repository root)::

    python tools/doc_coverage.py              # summary per group
    python tools/doc_coverage.py --verbose    # every method, and what is missing
    python tools/doc_coverage.py --require namespaces   # exit 1 unless that group is 100%
"""

from __future__ import annotations

import argparse
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments):\s*$")
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:")


@dataclass
class Entry:
    """One public callable and how well its parameters are documented."""

    group: str
    name: str
    has_doc: bool
    params: list[str]
    documented: list[str]
    unknown: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [p for p in self.params if p not in self.documented]

    @property
    def complete(self) -> bool:
        return self.has_doc and not self.missing and not self.unknown


def args_section(doc: str) -> list[str]:
    """The parameter names listed in the ``Args:`` sections of a (dedented) docstring."""
    names: list[str] = []
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        if not _SECTION.match(lines[i]):
            i += 1
            continue
        i += 1
        indent: int | None = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            width = len(line) - len(line.lstrip())
            if width == 0:
                break  # the next section, or prose after the section
            if indent is None:
                indent = width
            if width == indent:
                match = _ENTRY.match(line.strip())
                if match:
                    names.append(match.group(1).lstrip("*"))
            i += 1
    return names


def _parameters(func: Callable[..., Any]) -> list[str]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [name for name in signature.parameters if name not in ("self", "cls")]


def _entry(group: str, name: str, func: Callable[..., Any], *docs: str | None) -> Entry:
    text = "\n".join(inspect.cleandoc(d) for d in docs if d)
    params = _parameters(func)
    listed = args_section(text)
    return Entry(
        group,
        name,
        has_doc=bool(text.strip()),
        params=params,
        documented=[p for p in params if p in listed],
        unknown=[p for p in listed if p not in params],
    )


def _own_methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Public methods defined in aiodock by ``cls`` or its aiodock base classes."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("aiodock"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if inspect.isfunction(value):
                yield name, value


def _constructor(group: str, cls: type) -> Entry | None:
    init = vars(cls).get("__init__")
    if init is None or not inspect.isfunction(init):
        return None
    if init.__code__.co_filename.startswith("<attrs generated"):
        return None  # attrs wrote it from the fields: those are documented as attributes
    return _entry(group, f"{cls.__name__}()", init, cls.__doc__, init.__doc__)


def _class_entries(group: str, cls: type) -> Iterator[Entry]:
    ctor = _constructor(group, cls)
    if ctor is not None:
        yield ctor
    for name, func in _own_methods(cls):
        yield _entry(group, f"{cls.__name__}.{name}", func, func.__doc__)


def namespace_classes() -> dict[str, type]:
    """``{"containers": Containers, ...}``: the client's namespace attributes."""
    from aiodock import DockerClient

    client = DockerClient("unix:///nonexistent/doc-coverage.sock")
    try:
        found: dict[str, type] = {}
        for name, value in vars(DockerClient).items():
            if isinstance(value, functools.cached_property) and not name.startswith("_"):
                found[name] = type(getattr(client, name))
        return found
    finally:
        client._owner = False  # never opened: nothing to close, and no warning on exit


def exported_classes() -> list[type]:
    import aiodock
    import aiodock.testing

    classes: list[type] = []
    for module in (aiodock, aiodock.testing):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and value not in classes:
                classes.append(value)
    return classes


def exported_functions() -> list[tuple[str, Callable[..., Any]]]:
    import aiodock
    import aiodock.testing

    functions = []
    for module in (aiodock, aiodock.testing):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value):
                functions.append((name, value))
    return functions


def collect() -> list[Entry]:
    entries: list[Entry] = []
    namespaces = namespace_classes()
    for cls in namespaces.values():
        entries.extend(_class_entries("namespaces", cls))
    for cls in exported_classes():
        if cls in namespaces.values():
            continue
        entries.extend(_class_entries("exported", cls))
    for name, func in exported_functions():
        entries.append(_entry("exported", name, func, func.__doc__))
    return entries


@dataclass
class Summary:
    methods: int
    with_doc: int
    complete: int
    params: int
    params_documented: int

    @property
    def percent(self) -> float:
        return 100.0 * self.complete / self.methods if self.methods else 100.0


def summarize(entries: list[Entry], group: str) -> Summary:
    mine = [e for e in entries if e.group == group]
    return Summary(
        methods=len(mine),
        with_doc=sum(e.has_doc for e in mine),
        complete=sum(e.complete for e in mine),
        params=sum(len(e.params) for e in mine),
        params_documented=sum(len(e.documented) for e in mine),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list every method")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        choices=["namespaces", "exported"],
        help="exit 1 unless this group is fully documented",
    )
    args = parser.parse_args(argv)
    entries = collect()
    status = 0
    for group in ("namespaces", "exported"):
        s = summarize(entries, group)
        print(
            f"{group}: {s.methods} public methods, {s.with_doc} with a docstring, "
            f"{s.complete} with every parameter in Args ({s.percent:.1f}%); "
            f"parameters documented {s.params_documented}/{s.params}"
        )
        if group in args.require and s.complete != s.methods:
            status = 1
    for e in entries:
        if args.verbose or (e.group in args.require and not e.complete):
            mark = "ok " if e.complete else "-- "
            detail = []
            if not e.has_doc:
                detail.append("no docstring")
            if e.missing:
                detail.append("missing: " + ", ".join(e.missing))
            if e.unknown:
                detail.append("not in the signature: " + ", ".join(e.unknown))
            print(f"  {mark}{e.group:10} {e.name}  {'; '.join(detail)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
