"""The Python code blocks of the documentation site (docs/**/*.md) are real code.

Each ```python block must compile (top-level ``await`` allowed, as in an async
REPL), and its calls into aiodock must match the API: ``<client>.<namespace>.<method>(...)``
names an existing method of that namespace with keyword arguments it takes and no more
positional arguments than it has, and names imported from aiodock exist and, when
called, accept the keywords given. Blocks that include a file (``--8<--``) are skipped:
the files they include are tested where they live (examples/).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiodock import DockerClient

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def code_blocks() -> Iterator[tuple[str, int, str]]:
    """(page, line, code) of every python block under docs/."""
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            indent = len(match.group(1))
            code = "\n".join(line[indent:] for line in match.group(2).splitlines())
            if "--8<--" in code:
                continue
            line = text.count("\n", 0, match.start()) + 2
            yield str(path.relative_to(DOCS)), line, code


BLOCKS = list(code_blocks())


def _namespace_classes() -> dict[str, type[Any]]:
    """``{"containers": Containers, ...}`` from the client's namespace attributes."""
    client = DockerClient("unix:///nonexistent/docs-snippets.sock")
    client._owner = False  # never opened: nothing to close
    return {
        name: type(getattr(client, name))
        for name, value in vars(DockerClient).items()
        if isinstance(value, functools.cached_property)
    }


NAMESPACES = _namespace_classes()


def _check_call(
    what: str,
    func: Callable[..., Any],
    call: ast.Call,
    bound: bool,
    extra: Callable[..., Any] | None,
) -> list[str]:
    """Problems with the keywords and positional count of ``call`` against ``func``."""
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if bound and params and params[0].name in ("self", "cls"):
        params = params[1:]
    names = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if extra is not None:  # **options forwarded to another method
        names |= set(inspect.signature(extra).parameters)
    open_kw = extra is None and any(p.kind is p.VAR_KEYWORD for p in params)
    for p in params:
        # ``**options: Unpack[SomeOptions]``: the TypedDict's keys are the keywords.
        annotation = str(p.annotation)
        if p.kind is p.VAR_KEYWORD and annotation.startswith("Unpack["):
            options = func.__globals__[annotation[len("Unpack[") : -1]]
            names |= options.__required_keys__ | options.__optional_keys__
            open_kw = False
    problems = []
    for keyword in call.keywords:
        if keyword.arg is not None and not open_kw and keyword.arg not in names:
            problems.append(f"{what}() has no parameter {keyword.arg!r}")
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = any(p.kind is p.VAR_POSITIONAL for p in params)
    if not star and len(call.args) > len(positional):
        problems.append(f"{what}() takes {len(positional)} positional arguments")
    return problems


# Methods whose ``**options`` go to another method of the same namespace.
FORWARDED: dict[tuple[str, str], str | None] = {}


def _client_names(tree: ast.AST) -> set[str]:
    """Names that hold a DockerClient in a snippet: ``docker``, the ``docker_client``
    fixture, parameters annotated ``DockerClient`` and views from ``with_options``."""
    names = {"docker", "docker_client"}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and isinstance(node.annotation, ast.Name):
            if node.annotation.id == "DockerClient":
                names.add(node.arg)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "with_options":
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def check_snippet(code: str) -> list[str]:
    """Compile ``code`` and check its use of aiodock; return the problems found."""
    tree = compile(code, "<snippet>", "exec", flags=_FLAGS | ast.PyCF_ONLY_AST)
    compile(tree, "<snippet>", "exec", flags=_FLAGS)
    problems: list[str] = []
    imported: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aiodock"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    problems.append(f"{node.module} has no {alias.name!r}")
                else:
                    imported[alias.asname or alias.name] = getattr(module, alias.name)
    clients = _client_names(tree)

    def is_client(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Name):
            return expr.id in clients
        if isinstance(expr, ast.Attribute):  # self.docker, app.state.docker
            return expr.attr == "docker"
        return (  # docker.with_options(...).containers...
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "with_options"
        )

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and func.value.attr in NAMESPACES
            and is_client(func.value.value)
        ):
            namespace, method = func.value.attr, func.attr
            target = getattr(NAMESPACES[namespace], method, None)
            if target is None:
                problems.append(f"docker.{namespace} has no method {method!r}")
                continue
            forward = FORWARDED.get((namespace, method), ...)
            extra = None
            if forward is None:  # exec_run: **options go to exec.run
                extra = NAMESPACES["exec"].run
            elif forward is not ...:
                extra = getattr(NAMESPACES[namespace], forward)
            what = f"docker.{namespace}.{method}"
            problems += _check_call(what, target, node, True, extra)
        elif isinstance(func, ast.Name) and func.id in imported:
            obj = imported[func.id]
            if callable(obj) and not isinstance(obj, type(re)):
                target = obj.__init__ if inspect.isclass(obj) else obj
                if inspect.isclass(obj) and target is object.__init__:
                    continue
                problems += _check_call(func.id, target, node, inspect.isclass(obj), None)
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in imported
            and inspect.isclass(imported[func.value.id])
        ):
            cls = imported[func.value.id]
            target = getattr(cls, func.attr, None)
            if target is None:
                problems.append(f"{cls.__name__} has no attribute {func.attr!r}")
            elif callable(target):
                problems += _check_call(f"{cls.__name__}.{func.attr}", target, node, False, None)
    return problems


def test_the_docs_have_python_blocks() -> None:
    assert len(BLOCKS) >= 30, BLOCKS
    assert {page.split("/")[0] for page, _, _ in BLOCKS} >= {"guides", "recipes"}


@pytest.mark.parametrize(
    ("page", "line", "code"), BLOCKS, ids=[f"{page}:{line}" for page, line, _ in BLOCKS]
)
def test_snippet_compiles_and_matches_the_api(page: str, line: int, code: str) -> None:
    assert check_snippet(code) == []


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("await docker.containers.create(image='x', comand=['a'])", "no parameter 'comand'"),
        ("await docker.containers.get('x')", "no method 'get'"),
        ("await docker.containers.run('img', ['echo'], detach=True)", "no parameter 'detach'"),
        ("await docker.containers.inspect('a', 'b')", "takes 1 positional"),
        ("from aiodock import Nope", "has no 'Nope'"),
        ("from aiodock import DockerClient\nDockerClient(hots='x')", "no parameter 'hots'"),
        ("from aiodock import DockerClient\nDockerClient.from_environ()", "no attribute"),
    ],
)
def test_the_checker_catches_api_mistakes(code: str, problem: str) -> None:
    problems = check_snippet(code)
    assert any(problem in p for p in problems), problems


def test_the_checker_accepts_forwarded_options() -> None:
    code = "await docker.containers.run('img', ['true'], volumes=['a:/b'], check=False)"
    assert check_snippet(code) == []


def test_a_block_that_does_not_compile_fails() -> None:
    with pytest.raises(SyntaxError):
        check_snippet("def broken(:\n    pass")
