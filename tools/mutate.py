"""Mutation testing (mutmut) of the given modules, then a score per module.

    python tools/mutate.py [--min PERCENT] MODULE.py... [-- MUTANT_GLOB...]

Used by ``nox -s mutate``, which owns the list of modules. mutmut's other settings (which
tests run, pytest options) are in ``[tool.mutmut]`` of pyproject.toml; mutmut has no
command-line option for the files to mutate, so this sets ``only_mutate`` from the
arguments before running it. Every run starts from a fresh ``mutants/`` directory unless
mutant names (globs such as ``aiodock._streams.frames.*``) follow ``--``: those are run again
against the previous run's mutants.

A module's score is killed (or timed out) over all its mutants. It prints every survivor
that ``tests/MUTATION.md`` does not list as equivalent and every listed mutant that no
longer survives, and exits 1 when a module scores below ``--min``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_LIST = ROOT / "tests" / "MUTATION.md"
KILLED = {"killed", "timeout", "caught by type check"}


def documented_equivalents() -> set[str]:
    """Mutant names listed in tests/MUTATION.md (as ``aiodock.x.y__mutmut_N`` in backticks)."""
    if not EQUIVALENT_LIST.exists():
        return set()
    return set(re.findall(r"`(aiodock\.[\w.]+__mutmut_\d+)`", EQUIVALENT_LIST.read_text()))


def scores(modules: list[str]) -> dict[str, dict[str, str]]:
    """{module path: {mutant name: status}} from mutmut's meta files."""
    from mutmut.stats import status_by_exit_code

    out: dict[str, dict[str, str]] = {}
    for module in modules:
        meta = ROOT / "mutants" / f"{module}.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        out[module] = {name: status_by_exit_code[code] for name, code in codes.items()}
    return out


def main(argv: list[str]) -> int:
    if "--" in argv:
        split = argv.index("--")
        argv, rerun = argv[:split], argv[split + 1 :]
    else:
        rerun = []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=90.0, help="lowest score accepted (%%)")
    parser.add_argument(
        "modules", nargs="+", help="files to mutate, e.g. aiodock/_streams/frames.py"
    )
    args = parser.parse_args(argv)
    for module in args.modules:
        if not (ROOT / module).is_file():
            parser.error(f"no such module: {module}")

    import mutmut.__main__ as mutmut_main
    from mutmut import configuration

    if not rerun:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    configuration.config().only_mutate = list(args.modules)
    try:
        mutmut_main.cli(["run", *rerun], standalone_mode=False)
    except SystemExit as exc:  # mutmut exits on a failed clean run or forced-fail check
        if exc.code:
            return int(exc.code) if isinstance(exc.code, int) else 1

    equivalent = documented_equivalents()
    failed = False
    total_mutants = 0
    print()
    print(f"{'module':40} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'score':>7}")
    unexplained: list[str] = []
    for module, statuses in scores(args.modules).items():
        total = len(statuses)
        total_mutants += total
        killed = sum(status in KILLED for status in statuses.values())
        listed = sum(name in equivalent for name in statuses)
        score = 100.0 * killed / total if total else 100.0
        low = score < args.min
        failed |= low
        mark = f"  below {args.min:g}%" if low else ""
        print(f"{module:40} {total:8} {killed:7} {listed:7} {score:6.1f}%{mark}")
        unexplained += [
            f"  {name}: {status}"
            for name, status in sorted(statuses.items())
            if status not in KILLED and name not in equivalent
        ]
    print(f"{'total':40} {total_mutants:8}")
    surviving = {
        name
        for statuses in scores(args.modules).values()
        for name, status in statuses.items()
        if status not in KILLED
    }
    # Only the modules of this run: the others' listed mutants were not run.
    prefixes = tuple(module.removesuffix(".py").replace("/", ".") + "." for module in args.modules)
    stale = sorted(n for n in equivalent - surviving if n.startswith(prefixes)) if not rerun else []
    if stale:
        print(f"\n{len(stale)} mutants listed in tests/MUTATION.md are killed or gone")
        print("(a listed function changed, or a module moved: update the list):")
        print("\n".join(f"  {name}" for name in stale))
    if unexplained:
        print(f"\n{len(unexplained)} surviving mutants not listed in tests/MUTATION.md")
        print("(see one with `mutmut show NAME`; kill it with a test, or list it as equivalent):")
        print("\n".join(unexplained))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
