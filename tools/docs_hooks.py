"""mkdocs hooks for the documentation site (see mkdocs.yml).

* ``<!-- readme: Section -->`` on a line of its own is replaced by the body of the
  README section ``## Section`` (its subsections one level up), so that the docs reuse
  the README's text instead of copying it. A missing section fails the build.
* Files of the repository that pages link to but that live outside ``docs/``
  (examples, tests, benchmark results) are published under ``source/``, and relative
  links to them are rewritten to point there: ``docs/operations.md`` links each test
  file, the README names examples and results. A link to a repository file that does
  not exist is left alone, so mkdocs' strict link check reports it.
"""

from __future__ import annotations

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
    "examples/*.py",
    "tests/unit/*.py",
    "tests/integration/*.py",
    "benchmarks/results/*",
)
# README links whose target has a page of its own on the site.
PAGE_FOR = {"benchmarks/results/latest.md": "benchmarks.md"}

_MARKER = re.compile(r"^<!-- readme: (.+?) -->$", re.MULTILINE)
_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def readme_section(title: str, text: str | None = None) -> str:
    """The body of ``## title`` in the README, its ``###`` headings made ``##``."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    try:
        start = lines.index(f"## {title}") + 1
    except ValueError:
        raise PluginError(f"README.md has no section '## {title}'") from None
    body: list[str] = []
    fenced = False
    for line in lines[start:]:
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            break
        if not fenced and line.startswith("###"):
            line = line[1:]
        body.append(line)
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

    return _outside_fences(markdown, lambda text: _LINK.sub(target, text))


def on_files(files: Files, config: Any) -> Files:
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
        return rewrite_links(readme_section(match.group(1)), "", page_path)

    return _MARKER.sub(include, markdown)
