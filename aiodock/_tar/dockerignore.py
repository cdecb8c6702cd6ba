""".dockerignore parsing and matching with the docker CLI's semantics.

File format (:func:`parse_dockerignore`): one pattern per line; lines whose
first character is ``#`` are comments; surrounding whitespace is dropped,
as are empty lines; a leading ``!`` turns the pattern into an exception
(re-include); every pattern is cleaned like a path (``./a//b/`` -> ``a/b``)
and a leading ``/`` is dropped, because patterns are always relative to the
context root.

Matching (:class:`PatternMatcher`): patterns are tried in order and the last
one that matches decides, so an exception only revives what an earlier
pattern excluded. A pattern matches a path when it matches the path itself
or any of its parent directories (``build`` excludes ``build/out/x``).
Inside a pattern:

- ``*`` matches any run of characters except ``/``; ``?`` one such character;
- ``[...]`` is a character class (``[^...]`` negated; ``[!...]`` is not, the
  ``!`` is a member), which may match ``/``; a ``]`` right after the ``[`` is a
  member; ``\\`` escapes the next character;
- ``**`` matches any number of directories, including none (``**/x`` matches
  ``x`` and ``a/b/x``; ``a/**`` everything under ``a``).

Matching never backtracks (patterns are run as automata, not as ``re``
regular expressions), so its cost is linear in the path's length whatever
the pattern; compiled patterns are cached.

The Dockerfile and ``.dockerignore`` are always sent: see
:func:`context_excludes`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import cast

from ..errors import InvalidArgument

__all__ = [
    "Pattern",
    "PatternMatcher",
    "clean_path",
    "context_excludes",
    "parse_dockerignore",
]

# How a pattern is matched: string comparisons for the first three, the automaton otherwise.
_EXACT, _PREFIX, _SUFFIX, _REGEXP = range(4)

# Token kinds; a compiled pattern is a sequence of (kind, argument) tokens.
_LIT = 0  # the one character in the argument
_ANY = 1  # ``?``: one character other than ``/``
_CLASS = 2  # ``[...]``: one character the _CharClass argument contains
_STAR = 3  # ``*``: any run of characters other than ``/``
_DOTSTAR = 4  # ``**``: any run of characters at all
_OPTIONAL = 5  # consumes nothing; the next two tokens (``**`` then ``/``) may be skipped

# Distinct characters whose transitions one automaton remembers.
_STEP_CACHE_SIZE = 1024


def clean_path(path: str) -> str:
    """Go's ``path.Clean`` for ``/``-separated paths (``""`` -> ``"."``)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def parse_dockerignore(content: str | bytes) -> list[str]:
    """Turn the text of a ``.dockerignore`` file into a list of patterns.

    Exceptions keep their leading ``!``. Bytes are decoded as UTF-8 (a BOM is
    dropped).
    """
    if isinstance(content, (bytes, bytearray)):
        content = bytes(content).decode("utf-8", "surrogateescape")
    if content.startswith("\ufeff"):
        content = content[1:]
    patterns: list[str] = []
    for raw in content.splitlines():
        if raw.startswith("#"):
            continue
        pattern = raw.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = clean_path(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


class _PatternError(ValueError):
    """A pattern that cannot be compiled; the message says why."""


class _CharClass:
    """A ``[...]`` class: character ranges, possibly negated."""

    __slots__ = ("negated", "ranges")

    def __init__(self, ranges: tuple[tuple[str, str], ...], negated: bool) -> None:
        self.ranges = ranges
        self.negated = negated

    def __contains__(self, ch: str) -> bool:
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside is not self.negated


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at ``start``, or -1.

    A ``]`` right after ``[`` (or ``[^``) belongs to the class; ``\\`` escapes
    the next character.
    """
    i = start + 1
    n = len(pattern)
    if i < n and pattern[i] == "^":
        i += 1
    first = True
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            first = False
            continue
        if ch == "]" and not first:
            return i
        first = False
        i += 1
    return -1


def _parse_class(pattern: str, start: int, end: int) -> _CharClass:
    """The class between the ``[`` at ``start`` and the ``]`` at ``end``.

    Items are single characters (``\\x`` is always the literal ``x``) and
    ``lo-hi`` ranges; an unescaped ``-`` first or last is itself an item.
    """
    i = start + 1
    negated = pattern[i] == "^"
    if negated:
        i += 1
    items: list[tuple[str, bool]] = []  # (character, whether it was escaped)
    while i < end:
        if pattern[i] == "\\":
            items.append((pattern[i + 1], True))
            i += 2
        else:
            items.append((pattern[i], False))
            i += 1
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(items):
        lo = items[k][0]
        if k + 2 < len(items) and items[k + 1] == ("-", False):
            hi = items[k + 2][0]
            if hi < lo:
                raise _PatternError(f"bad character range {lo}-{hi}")
            ranges.append((lo, hi))
            k += 3
        else:
            ranges.append((lo, lo))
            k += 1
    return _CharClass(tuple(ranges), negated)


class _Automaton:
    """A compiled pattern run as a bit-parallel position automaton.

    State ``i`` (bit ``1 << i``) means "tokens before ``i`` have matched";
    the last bit accepts. All states advance together, one path character
    at a time, so nothing ever backtracks: a character costs a few integer
    operations on ``len(tokens)``-bit integers, plus one more round for each
    ``*``/``**`` in a row that can be skipped. Matching is linear in the path
    and at worst proportional to path length times pattern length.
    """

    __slots__ = (
        "_accept",
        "_prefix",
        "_required",
        "_skip1",
        "_skip3",
        "_start",
        "_steps",
        "_tokens",
    )

    def __init__(self, tokens: Sequence[tuple[int, object]]) -> None:
        self._tokens = tuple(tokens)
        groups = {i for i, (kind, _) in enumerate(tokens) if kind == _OPTIONAL}
        # Empty moves: past a ``*`` or ``**``, or into an optional group (i -> i + 1);
        # and past the whole group (i -> i + 3).
        self._skip1 = sum(1 << i for i, (kind, _) in enumerate(tokens) if kind >= _STAR)
        self._skip3 = sum(1 << i for i in groups)
        self._accept = 1 << len(tokens)
        self._steps: dict[str, tuple[int, int]] = {}
        # Cheap necessary conditions, checked before running the automaton: the
        # literal characters the pattern starts with, and its longest run of
        # literal characters (somewhere in the path or in any directory above it).
        runs = [""]
        for i, (kind, arg) in enumerate(tokens):
            if kind == _LIT and i - 2 not in groups:
                runs[-1] += cast(str, arg)
            else:
                runs.append("")
        self._prefix = runs[0]
        self._required = max(runs, key=len)
        self._start = self._close(1 << len(self._prefix))

    def _close(self, states: int) -> int:
        skip1, skip3 = self._skip1, self._skip3
        while True:
            more = states | (states & skip1) << 1 | (states & skip3) << 3
            if more == states:
                return states
            states = more

    def _step(self, ch: str) -> tuple[int, int]:
        """Bits of the tokens that consume ``ch`` and move on / stay put."""
        advance = stay = 0
        for i, (kind, arg) in enumerate(self._tokens):
            if kind == _LIT:
                hit = ch == arg
            elif kind == _CLASS:
                hit = ch in cast(_CharClass, arg)
            elif kind == _DOTSTAR:
                stay |= 1 << i
                continue
            elif kind == _OPTIONAL:
                continue
            else:
                hit = ch != "/"
                if kind == _STAR:
                    if hit:
                        stay |= 1 << i
                    continue
            if hit:
                advance |= 1 << i
        step = (advance, stay)
        if len(self._steps) < _STEP_CACHE_SIZE:
            self._steps[ch] = step
        return step

    def run(self, path: str, parents: bool) -> bool:
        """Whether the pattern matches ``path`` or (``parents``) a prefix ending before a ``/``."""
        prefix = self._prefix
        if not path.startswith(prefix) or self._required not in path:
            return False
        states = self._start
        accept = self._accept
        skip1, skip3 = self._skip1, self._skip3
        steps = self._steps
        for ch in path[len(prefix) :] if prefix else path:
            if parents and ch == "/" and states & accept:
                return True
            step = steps.get(ch)
            advance, stay = step if step is not None else self._step(ch)
            states = (states & advance) << 1 | (states & stay)
            if not states:
                return False
            while skip1:
                more = states | (states & skip1) << 1 | (states & skip3) << 3
                if more == states:
                    break
                states = more
        return bool(states & accept)


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> tuple[int, _Automaton | None]:
    """How to match a cleaned pattern: its kind, and the automaton for ``_REGEXP``.

    Raises _PatternError for an unclosed or malformed class.
    """
    tokens: list[tuple[int, object]] = []
    kind = _EXACT
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                first = i == 0
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    # Trailing ``**``: everything, slashes included.
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        tokens.append((_DOTSTAR, None))
                        kind = _REGEXP
                else:
                    # ``**`` or ``**/`` inside: optionally any run ending in ``/``.
                    tokens += ((_OPTIONAL, None), (_DOTSTAR, None), (_LIT, "/"))
                    kind = _REGEXP
                if first:
                    kind = _SUFFIX
                continue
            tokens.append((_STAR, None))
            kind = _REGEXP
        elif ch == "?":
            tokens.append((_ANY, None))
            kind = _REGEXP
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                tokens.append((_LIT, pattern[i]))
                kind = _REGEXP
            else:
                tokens.append((_LIT, "\\"))
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0:
                raise _PatternError("unclosed '['")
            tokens.append((_CLASS, _parse_class(pattern, i, end)))
            kind = _REGEXP
            i = end
        else:
            tokens.append((_LIT, ch))
            if ch == "]":
                kind = _REGEXP
        i += 1
    return kind, (_Automaton(tokens) if kind == _REGEXP else None)


class Pattern:
    """One compiled pattern; ``exclusion`` is true for ``!`` exceptions."""

    __slots__ = ("_automaton", "_kind", "cleaned", "exclusion", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        pattern = clean_path(text.strip())
        self.exclusion = pattern.startswith("!")
        if self.exclusion:
            if len(pattern) == 1:
                raise InvalidArgument("dockerignore", text, 'illegal exclusion pattern "!"')
            pattern = pattern[1:]
        self.cleaned = pattern
        try:
            self._kind, self._automaton = _compile(pattern)
        except _PatternError as exc:
            raise InvalidArgument("dockerignore", text, f"syntax error in pattern: {exc}") from None

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"

    def match(self, path: str) -> bool:
        """Whether this pattern matches ``path`` itself (no parent directories)."""
        return self._match(path, parents=False)

    def _match(self, path: str, parents: bool) -> bool:
        """Whether this pattern matches ``path`` or, with ``parents``, a directory above it.

        The directories are the prefixes of ``path`` that end before a ``/``.
        """
        kind = self._kind
        if kind == _REGEXP:
            return cast(_Automaton, self._automaton).run(path, parents)
        literal = self.cleaned
        if kind == _PREFIX:
            # A directory above a path starts with whatever the path starts with.
            return path.startswith(literal[:-2])
        if kind == _EXACT:
            return path == literal or (parents and path.startswith(literal + "/"))
        suffix = literal[2:]
        rooted = suffix.startswith("/")
        end = len(path)
        while end >= 0:
            if path.endswith(suffix, 0, end) or (rooted and path[:end] == suffix[1:]):
                return True
            if not parents:
                return False
            end = path.rfind("/", 0, end)
        return False


class PatternMatcher:
    """An ordered list of patterns deciding which context paths are left out."""

    __slots__ = ("exclusions", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        compiled: list[Pattern] = []
        for text in patterns:
            if not text.strip():
                continue
            compiled.append(Pattern(text))
        self.patterns: tuple[Pattern, ...] = tuple(compiled)
        #: True when some pattern is an exception (``!``).
        self.exclusions = any(p.exclusion for p in compiled)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (relative, ``/``-separated) is excluded.

        The last pattern that matches the path, or one of its parent
        directories, decides.
        """
        path = clean_path(path)
        # The CLI leaves out the empty "parent" of a top-level "/name".
        parents = path.rfind("/") > 0
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern._match(path, parents):
                matched = not pattern.exclusion
        return matched

    def may_include_below(self, directory: str) -> bool:
        """Whether an exception pattern could re-include something under an excluded directory.

        This is the CLI's rule for descending into a directory that is itself
        excluded: only when some ``!`` pattern starts with ``directory/``.
        """
        if not self.exclusions:
            return False
        prefix = directory + "/"
        return any(p.exclusion and (p.cleaned + "/").startswith(prefix) for p in self.patterns)


def context_excludes(patterns: Sequence[str], dockerfile: str = "Dockerfile") -> list[str]:
    """The exclude list for a build context: ``patterns`` plus what is always sent.

    Like the docker CLI, ``.dockerignore`` and the Dockerfile (path relative
    to the context) are re-included when a pattern would leave them out.
    """
    result = list(patterns)
    if not result:
        return result
    matcher = PatternMatcher(result)
    if matcher.matches(".dockerignore"):
        result.append("!.dockerignore")
    dockerfile = clean_path(dockerfile.replace("\\", "/"))
    if dockerfile.startswith("/"):
        dockerfile = dockerfile[1:]
    if dockerfile and matcher.matches(dockerfile):
        result.append("!" + dockerfile)
    return result
