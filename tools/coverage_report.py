"""Write docs/operations.md: each Engine API operation, its aiodock method, and its tests.

For every operationId of ``spec/engine-api.json`` (the committed Engine API description
written by ``tools/extract_engine_api.py``) this takes the method from
the table of ``tests/unit/test_operation_coverage.py`` (which checks, without an engine,
that the method sends the operation's request) and looks for calls of that method in
``tests/integration/*.py`` (tests against the real engine): ``.containers.list(``,
``docker.images.save_many(`` and so on. When two operations share a method
(``system.ping`` and ``system.ping(head=True)``), a call counts for the one whose keyword
arguments it passes.

Usage (from the repository root)::

    python tools/coverage_report.py            # (re)write docs/operations.md
    python tools/coverage_report.py --check    # exit 1 if docs/operations.md is stale
    python tools/coverage_report.py --missing  # print operations with no integration test
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
INTEGRATION_DIR = REPO_ROOT / "tests" / "integration"
OUTPUT = REPO_ROOT / "docs" / "operations.md"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.unit.test_operation_coverage import (  # noqa: E402
    ALSO,
    ENGINE_API_DESCRIPTION,
    KNOWN_GAPS,
    OPERATIONS,
    Op,
    load_operations,
)


def call_arguments(text: str, open_paren: int) -> str:
    """The text between the parenthesis at ``open_paren`` and the one closing it."""
    depth = 0
    for index in range(open_paren, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[open_paren + 1 : index]
    return text[open_paren + 1 :]


def keyword_pattern(name: str, value: Any) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(name)}\s*=\s*{re.escape(repr(value))}(?![\w.])")


class Matcher:
    """Finds the calls of one table entry's method that belong to its operation."""

    def __init__(self, op: Op, siblings: Iterable[Op]) -> None:
        namespace, _, name = op.method.partition(".")
        self.call = re.compile(rf"\.{re.escape(namespace)}\.{re.escape(name)}\(")
        # Keyword arguments that tell this operation from others sharing the method.
        self.required = [
            keyword_pattern(k, v)
            for k, v in op.kwargs.items()
            if any(s.kwargs.get(k, object()) != v for s in siblings)
        ]
        self.forbidden = [
            keyword_pattern(k, v)
            for s in siblings
            for k, v in s.kwargs.items()
            if op.kwargs.get(k, object()) != v
        ]

    def calls(self, source: str) -> set[int]:
        """Offsets of the matching calls in ``source``."""
        found = set()
        for match in self.call.finditer(source):
            arguments = call_arguments(source, match.end() - 1)
            if all(p.search(arguments) for p in self.required) and not any(
                p.search(arguments) for p in self.forbidden
            ):
                found.add(match.start())
        return found


def entries() -> dict[str, list[Op]]:
    """operationId -> its table method first, then further methods sending the same request."""
    table: dict[str, list[Op]] = {op_id: [op] for op_id, op in OPERATIONS.items()}
    for op_id, op in ALSO:
        table[op_id].append(op)
    return table


def integration_hits(sources: dict[str, str]) -> dict[str, dict[str, int]]:
    """operationId -> {integration test file: number of calls}."""
    table = entries()
    by_method: dict[str, list[tuple[str, Op]]] = {}
    for op_id, ops in table.items():
        for op in ops:
            by_method.setdefault(op.method, []).append((op_id, op))
    hits: dict[str, dict[str, int]] = {op_id: {} for op_id in table}
    for op_id, ops in table.items():
        if op_id in KNOWN_GAPS:
            continue
        matchers = [
            Matcher(op, [o for other, o in by_method[op.method] if other != op_id]) for op in ops
        ]
        for filename, source in sources.items():
            # Entries of one operation may share a method: count each call once.
            offsets = set().union(*(m.calls(source) for m in matchers))
            if offsets:
                hits[op_id][filename] = len(offsets)
    return hits


def read_sources(directory: Path = INTEGRATION_DIR) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.py"))}


def method_label(op: Op) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in op.kwargs.items() if isinstance(v, bool))
    return f"`{op.method}({arguments})`" if arguments else f"`{op.method}`"


def render(operations: dict[str, tuple[str, str]], hits: dict[str, dict[str, int]]) -> str:
    table = entries()
    wrapped = [op_id for op_id in operations if op_id not in KNOWN_GAPS]
    untested = [op_id for op_id in operations if op_id not in KNOWN_GAPS and not hits[op_id]]
    lines = [
        "# Engine API coverage",
        "",
        "Generated by `python tools/coverage_report.py` from `spec/engine-api.json`; "
        "do not edit by hand.",
        "",
        f"- Operations: {len(operations)}; with an aiodock method: {len(wrapped)}.",
        "- *Unit-checked*: `tests/unit/test_operation_coverage.py` calls the method against a "
        "recording server and checks it sends this HTTP method and path.",
        "- *Integration tests*: files of `tests/integration/` (run against the real engine) "
        "that call the method, with the number of calls.",
        f"- Operations with no integration test: {len(untested)}.",
        "",
        "| operationId | Request | aiodock | Unit-checked | Integration tests |",
        "|---|---|---|---|---|",
    ]
    for op_id, (method, path) in operations.items():
        ops = table.get(op_id, [])
        if op_id in KNOWN_GAPS or not ops:
            label, checked = "not wrapped", "no"
        else:
            label = ", ".join(method_label(op) for op in ops)
            notes = sorted({op.note for op in ops if op.note})
            if notes:
                label += " (" + "; ".join(notes) + ")"
            checked = "yes"
        files = hits.get(op_id, {})
        tested = (
            ", ".join(
                f"[{name}](../tests/integration/{name}) ({count})"
                for name, count in sorted(files.items())
            )
            or "none"
        )
        lines.append(f"| {op_id} | `{method} {path}` | {label} | {checked} | {tested} |")
    lines += ["", "## Not wrapped", ""]
    gaps = [op_id for op_id in operations if op_id in KNOWN_GAPS]
    lines += [f"- {op_id}: {KNOWN_GAPS[op_id]}." for op_id in gaps] or ["None."]
    lines += ["", "## Wrapped, with no integration test", ""]
    lines += [
        f"- {op_id} (`{operations[op_id][0]} {operations[op_id][1]}`): "
        + ", ".join(method_label(op) for op in table[op_id])
        for op_id in untested
    ] or ["None."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--missing", action="store_true", help="list untested operations")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not ENGINE_API_DESCRIPTION.is_file():
        print(f"error: {ENGINE_API_DESCRIPTION} is missing", file=sys.stderr)
        return 2
    operations = load_operations()
    unknown = sorted(set(operations) ^ set(OPERATIONS))
    if unknown:
        print(f"error: the table and the description disagree on {unknown}", file=sys.stderr)
        return 2
    hits = integration_hits(read_sources())
    if args.missing:
        for op_id in operations:
            if not hits[op_id]:
                print(op_id)
        return 0
    text = render(operations, hits)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run python tools/coverage_report.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
