"""Every public namespace method documents each parameter in a Google-style ``Args:``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import doc_coverage


def test_args_section_parser_reads_google_style() -> None:
    doc = (
        "Summary.\n\nArgs:\n    name: the name.\n    tags (list[str]): tags,\n"
        "        continued: not a parameter.\n    **options: more.\n\nReturns:\n    x: no.\n"
    )
    assert doc_coverage.args_section(doc) == ["name", "tags", "options"]


def test_a_missing_and_an_unknown_parameter_are_reported() -> None:
    def f(self: object, a: int, *, b: int = 0) -> None:
        """Do it.

        Args:
            a: first.
            c: not a parameter.
        """

    entry = doc_coverage._entry("namespaces", "f", f, f.__doc__)
    assert entry.params == ["a", "b"]
    assert entry.missing == ["b"]
    assert entry.unknown == ["c"]
    assert not entry.complete


def test_every_namespace_method_documents_every_parameter() -> None:
    entries = doc_coverage.collect()
    namespaces = [e for e in entries if e.group == "namespaces"]
    # 14 namespaces, each with several methods: the walk found them.
    assert len({e.name.split(".")[0] for e in namespaces}) == 14
    assert len(namespaces) > 100
    incomplete = [
        f"{e.name}: missing {e.missing}, unknown {e.unknown}, doc {e.has_doc}"
        for e in namespaces
        if not e.complete
    ]
    assert incomplete == []


def test_the_command_line_fails_when_a_required_group_is_incomplete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert doc_coverage.main(["--require", "namespaces"]) == 0
    original = doc_coverage.collect

    def with_a_gap() -> list[doc_coverage.Entry]:
        return [*original(), doc_coverage.Entry("namespaces", "X.y", True, ["a"], [])]

    monkeypatch.setattr(doc_coverage, "collect", with_a_gap)
    assert doc_coverage.main(["--require", "namespaces"]) == 1
    assert "X.y  missing: a" in capsys.readouterr().out


def test_every_exported_class_and_function_documents_every_parameter() -> None:
    exported = [e for e in doc_coverage.collect() if e.group == "exported"]
    assert len(exported) > 150
    incomplete = [
        f"{e.name}: missing {e.missing}, unknown {e.unknown}, doc {e.has_doc}"
        for e in exported
        if not e.complete
    ]
    assert incomplete == []
