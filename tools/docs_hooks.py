"""mkdocs hooks for the documentation site (see mkdocs.yml).

* ``<!-- readme: Section -->`` on a line of its own is replaced by the body of the
  README section ``## Section`` (its subsections one level up), so that the docs reuse
  the README's text instead of copying it; ``<!-- readme: Section | Start -->`` takes
  the part of it from the first line that starts with ``Start``. A missing section or
  start fails the build.
* Files of the repository that pages link to but that live outside ``docs/``
  (examples, tests, benchmark results) are published under ``source/``, and relative
  links to them are rewritten to point there (a code span naming such a file, like
  ``tests/unit/test_load.py::test_x``, becomes a link to it): ``docs/operations.md`` links each test
  file, the README names examples and results. A link to a repository file that does
  not exist is left alone, so mkdocs' strict link check reports it.
* Docstrings name other objects with Sphinx roles (``:class:`~aiodock.Frame```), which
  Markdown renders as text. They become optional cross-references: a link where the
  object is in the API reference, plain code where it is not.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
# Published as they are under source/ (viewable next to the page that links them).
SOURCE_GLOBS = (
    "README.md",
    "CONTRIBUTING.md",
    "ARCHITECTURE.md",
    "examples/*.py",
    "tests/*.py",
    "tests/unit/*.py",
    "tests/integration/*.py",
    "benchmarks/results/*",
    "benchmarks/*.py",
    "tools/*.py",
)
# README links whose target has a page of its own on the site (none yet; the rest go
# to their copy under source/).
PAGE_FOR: dict[str, str] = {}

_MARKER = re.compile(r"^<!-- readme: (.+?)(?: \| (.+?))? -->$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):<code>(~?)([\w.]+)(\(\))?</code>")
_TEST_SPAN = re.compile(
    r"(?<![\[`])`((?:tests|examples|tools|benchmarks)/[\w/.-]+\.py)((?:::\w+)?)`"
)
_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def readme_section(title: str, start: str | None = None, text: str | None = None) -> str:
    """The body of ``## title`` in the README, its ``###`` headings made ``##``.

    With ``start``, only the part from the first line starting with it.
    """
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    try:
        first = lines.index(f"## {title}") + 1
    except ValueError:
        raise PluginError(f"README.md has no section '## {title}'") from None
    body: list[str] = []
    fenced = False
    for line in lines[first:]:
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            break
        if not fenced and line.startswith("###"):
            line = line[1:]
        body.append(line)
    if start is not None:
        found = [i for i, line in enumerate(body) if line.startswith(start)]
        if not found:
            raise PluginError(f"README.md section '## {title}' has no line starting {start!r}")
        body = body[found[0] :]
    return "\n".join(body).strip("\n") + "\n"


def _outside_fences(markdown: str, edit: Any) -> str:
    """Apply ``edit`` to the parts of ``markdown`` that are not fenced code."""
    parts = re.split(r"(^(?:```|~~~).*?^(?:```|~~~)[^\n]*$)", markdown, flags=re.M | re.S)
    return "".join(part if i % 2 else edit(part) for i, part in enumerate(parts))


def rewrite_links(markdown: str, base: str, page: str) -> str:
    """Point relative links at repository files outside docs/ to their ``source/`` copy.

    ``base`` is the repository directory the links are relative to (``docs/guides``
    for a page, ``""`` for README text); ``page`` is the page's path in docs/.
    """
    page_dir = posixpath.dirname(page)

    def target(match: re.Match[str]) -> str:
        link = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("/"):
            return match.group(0)
        repo_path = posixpath.normpath(posixpath.join(base, link))
        if repo_path in PAGE_FOR:
            site_path = PAGE_FOR[repo_path]
        elif repo_path.startswith("docs/"):
            site_path = repo_path[len("docs/") :]
        elif (REPO / repo_path).is_file() and not repo_path.startswith(".."):
            site_path = f"source/{repo_path}"
        else:
            return match.group(0)
        new = posixpath.relpath(site_path, page_dir or ".")
        return f"{match.group(1)}{new}{match.group(3) or ''}{match.group(4)}"

    def test_file(match: re.Match[str]) -> str:
        path = match.group(1)
        if not (REPO / path).is_file():
            return match.group(0)
        new = posixpath.relpath(f"source/{path}", page_dir or ".")
        return f"[`{path}{match.group(2)}`]({new})"

    def edit(text: str) -> str:
        return _TEST_SPAN.sub(test_file, _LINK.sub(target, text))

    return _outside_fences(markdown, edit)


GENERATED_PAGE = "reference/generated-models.md"
_GENERATED_INTRO = """# Generated models

The request and response models of the Engine API, generated by
`tools/gen_models.py`. Import them from `aiodock.models`
(`from aiodock.models import HostConfig, Mount`). They are frozen attrs classes;
every field is keyword-only and has a default, field names are snake_case, and the
JSON key of each field is in the table (and in its `metadata["wire"]`). Fields
holding secrets are left out of the `repr`.
"""


def _default(field: Any) -> str:
    import attrs

    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return f"`{getattr(default.factory, '__name__', 'factory')}()`"
    if default is attrs.NOTHING:
        return "required"
    return f"`{default!r}`"


def _type_text(kind: Any) -> str:
    """A field's type as its source spells it, also once attrs resolved it to objects
    (converting a model resolves its annotations: the page must not depend on that)."""
    if isinstance(kind, str):
        return kind
    if isinstance(kind, type) and not getattr(kind, "__args__", None):
        return kind.__name__
    return re.sub(r"\b(?:typing|[\w.]*_generated\.\w+|builtins)\.", "", str(kind))


def generated_models_page() -> str:
    """One section per generated model class: its fields, types, JSON keys, defaults."""
    import attrs

    import aiodock.models as models
    from aiodock.models import _generated

    parts = [_GENERATED_INTRO]
    for name in sorted(_generated.__all__):
        cls = getattr(models, name)
        if not attrs.has(cls):
            continue
        module = cls.__module__.rsplit(".", 1)[-1]
        parts.append(f"## {name} {{#aiodock.models.{name}}}\n")
        source = f"aiodock/models/_generated/{module}.py"
        parts.append(f"`from aiodock.models import {name}` (`{source}`)\n")
        rows = ["| field | type | JSON key | default |", "|---|---|---|---|"]
        for field in attrs.fields(cls):
            # A "|" in a table cell must not be Markdown's: the type goes in as HTML.
            kind = html.escape(_type_text(field.type)).replace("|", "&#124;")
            wire = field.metadata.get("wire", "")
            rows.append(f"| `{field.name}` | <code>{kind}</code> | `{wire}` | {_default(field)} |")
        parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, GENERATED_PAGE, content=generated_models_page()))
    for pattern in SOURCE_GLOBS:
        for path in sorted(REPO.glob(pattern)):
            rel = path.relative_to(REPO).as_posix()
            files.append(File.generated(config, f"source/{rel}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    page_path = page.file.src_uri
    if page_path.startswith("source/"):
        base = posixpath.dirname(page_path[len("source/") :])
    else:
        base = posixpath.join("docs", posixpath.dirname(page_path))
    markdown = rewrite_links(markdown, base, page_path)

    def include(match: re.Match[str]) -> str:
        section = readme_section(match.group(1), match.group(2))
        return rewrite_links(section, "", page_path)

    return _MARKER.sub(include, markdown)


def link_roles(html: str) -> str:
    """Sphinx roles in rendered docstrings -> optional autorefs (see the module doc)."""

    def replace(match: re.Match[str]) -> str:
        tilde, target, call = match.group(1), match.group(2), match.group(3) or ""
        shown = (target.rsplit(".", 1)[-1] if tilde else target) + call
        return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(replace, html)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    return link_roles(html)
