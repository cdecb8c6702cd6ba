"""Namespaces stay independent: no module under ``aiodock/resources/`` imports a sibling
namespace (or a private helper of one); what they share lives in the shared modules
named here, or in ``aiodock._rules``. Nor do they import the transport: they describe
requests (``aiodock._http.request``) and the request core sends them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aiodock.resources

RESOURCES = Path(aiodock.resources.__file__).parent
PACKAGE = "aiodock.resources"
#: Modules every namespace may import: the base class, the log stream, registry
#: login and the swarm error mapping.
SHARED = frozenset({"_base", "_logs", "_login", "_swarm_base"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(RESOURCES).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def imported_modules(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    """Absolute names of the modules (or module attributes) ``source`` imports."""
    package = name if is_package else name.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from . import x`` may name a module: check origin.x as well
            out += [(node.lineno, f"{origin}.{alias.name}") for alias in node.names]
    return out


def namespace_of(module: str) -> str | None:
    """The namespace a module under aiodock.resources belongs to (``None``: shared)."""
    if not module.startswith(PACKAGE + "."):
        return None
    first = module[len(PACKAGE) + 1 :].split(".")[0]
    return None if first in SHARED else first


#: Transport-level packages a namespace must never import.
TRANSPORT = ("aiohttp", "yarl", "multidict")


def violations(source: str, name: str, is_package: bool = False) -> list[str]:
    own = namespace_of(name)
    found = []
    for line, target in imported_modules(source, name, is_package):
        other = namespace_of(target)
        if (other is not None and other != own) or target.split(".")[0] in TRANSPORT:
            found.append(f"{name}:{line} imports {target}")
    return found


def test_the_checker_sees_sibling_imports() -> None:
    name = "aiodock.resources.configs"
    assert violations("from .secrets import labels_of\n", name)
    assert violations("from . import services\n", name)
    assert violations("from .containers._create import _volumes\n", name)
    assert violations("import aiodock.resources.tasks\n", name)
    assert violations("if True:\n    from .images import AuthLike\n", name)
    package = "aiodock.resources.images"
    assert violations("from ..system import System\n", package + "._namespace")
    assert not violations("from ._context import _open_tar\n", package + "._namespace")
    assert not violations("from .._base import Resource\n", package + "._namespace")
    assert not violations("from ._namespace import Images\n", package, is_package=True)
    assert not violations("from ._swarm_base import SwarmResource\n", name)
    assert not violations("from .. import _rules, models\n", name)
    assert violations("import aiohttp\n", name)
    assert violations("from aiohttp import ClientTimeout\n", package + "._namespace")
    assert not violations("from .._request import NO_LIMIT, Request\n", name)


@pytest.mark.parametrize(
    "path", sorted(RESOURCES.rglob("*.py")), ids=lambda p: str(p.relative_to(RESOURCES))
)
def test_no_namespace_imports_a_sibling(path: Path) -> None:
    name = module_name(path)
    found = violations(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    assert found == []
