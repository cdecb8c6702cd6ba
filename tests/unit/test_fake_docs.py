"""The reference page lists every documented public member of ``FakeDocker``.

``FakeDocker`` is assembled from several classes (``aiodock/testing/_fake/``), so its
page names the members, in reading order, instead of relying on source order.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from aiodock.testing import FakeDocker

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "testing.md"


def listed_members() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(r"::: aiodock\.testing\.FakeDocker\n((?:    .*\n)+)", text)
    assert block is not None
    return re.findall(r"^        - (\w+)$", block.group(1), flags=re.MULTILINE)


def documented_members() -> set[str]:
    found: set[str] = set()
    for klass in FakeDocker.__mro__:
        if not klass.__module__.startswith("aiodock"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            target = value.fget if isinstance(value, property) else value
            if (inspect.isfunction(target) or isinstance(value, property)) and inspect.getdoc(
                target
            ):
                found.add(name)
    return found


def test_the_page_lists_each_documented_member_once() -> None:
    listed = listed_members()
    assert len(listed) == len(set(listed))
    assert set(listed) == documented_members()
