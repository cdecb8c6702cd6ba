"""The mkdocs hooks that reuse README text and link repository files (tools/docs_hooks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Needs the docs build's packages (docs/requirements.txt), which scripts/test.sh and
# nox -s tests install; the per-Python nox sessions leave this file out.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import docs_hooks

README = """# x

intro

## Alpha

Text [ops](docs/operations.md) and `tests/unit/test_load.py::test_a`.

### Sub

```python
## not a heading inside a fence
```

What the rows say: here.

## Beta

other
"""


def test_a_readme_section_is_cut_at_the_next_section_with_subsections_raised() -> None:
    body = docs_hooks.readme_section("Alpha", text=README)
    assert body.startswith("Text [ops]")
    assert "## Sub" in body and "### Sub" not in body
    assert "## not a heading inside a fence" in body  # fenced lines are left alone
    assert "other" not in body


def test_a_section_can_start_at_a_line() -> None:
    assert docs_hooks.readme_section("Alpha", "What the rows", text=README) == (
        "What the rows say: here.\n"
    )


def test_a_missing_section_or_start_fails_the_build() -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="Gamma"):
        docs_hooks.readme_section("Gamma", text=README)
    with pytest.raises(PluginError, match="Nope"):
        docs_hooks.readme_section("Alpha", "Nope", text=README)


def test_links_to_repository_files_point_at_their_published_copy() -> None:
    text = docs_hooks.readme_section("Alpha", text=README)
    out = docs_hooks.rewrite_links(text, "", "guides/page.md")
    assert "[ops](../operations.md)" in out
    assert "[`tests/unit/test_load.py::test_a`](../source/tests/unit/test_load.py)" in out
    # A link from a page in docs/ to an example.
    link = "[ex](../../examples/quickstart.py)"
    out = docs_hooks.rewrite_links(link, "docs/guides", "guides/x.md")
    assert out == "[ex](../source/examples/quickstart.py)"


def test_links_that_are_not_repository_files_are_left_for_mkdocs_to_check() -> None:
    for link in ("[a](https://example.com/x.py)", "[b](missing/file.py)", "[c](#anchor)"):
        assert docs_hooks.rewrite_links(link, "", "index.md") == link
    fenced = "```python\nx = a[0](b)\n```\n"
    assert docs_hooks.rewrite_links(fenced, "", "index.md") == fenced


def test_sphinx_roles_become_optional_cross_references() -> None:
    html = ":class:<code>~aiodock.errors.NotFound</code> and :meth:<code>stop</code>"
    out = docs_hooks.link_roles(html)
    assert '<autoref identifier="aiodock.errors.NotFound" optional><code>NotFound</code>' in out
    assert '<autoref identifier="stop" optional><code>stop</code></autoref>' in out
    assert ":class:" not in out and ":meth:" not in out


def test_the_generated_models_page_lists_every_generated_class() -> None:
    from aiodock.models import _generated

    page = docs_hooks.generated_models_page()
    assert page.count("\n## ") == len(_generated.__all__)
    assert "## Mount {#aiodock.models.Mount}" in page
    assert "| `read_only` | <code>bool</code> | `ReadOnly` | `False` |" in page
    assert "<code>OCIDescriptor &#124; None</code>" in page  # no bare | in a cell
