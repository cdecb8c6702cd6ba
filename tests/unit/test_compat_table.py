"""docs/compatibility.md is what tools/compat_table.py renders from docs/compatibility.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compat_table", ROOT / "tools/compat_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_table_is_current() -> None:
    records = json.loads((ROOT / "docs/compatibility.json").read_text(encoding="utf-8"))
    rendered = _tool().render(records)
    assert (ROOT / "docs/compatibility.md").read_text(encoding="utf-8") == rendered, (
        "regenerate: python tools/compat_table.py docs/compatibility.json > docs/compatibility.md"
    )


def test_cells_say_what_happened() -> None:
    records = [
        {"test": "t.py::a", "engine": "docker", "outcome": "passed", "difference": ""},
        {"test": "t.py::a", "engine": "podman", "outcome": "passed", "difference": "x | y"},
        {"test": "t.py::b", "engine": "docker", "outcome": "passed", "difference": ""},
        {"test": "t.py::b", "engine": "podman", "outcome": "failed", "difference": ""},
    ]
    text = _tool().render(records)
    assert "| `t.py::a` | yes | yes, differs | x / y |" in text
    assert "| `t.py::b` | yes | no |  |" in text
    assert "2 tests; passing: Docker 2, Podman 1." in text
