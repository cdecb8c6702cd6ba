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
- ``[...]`` is a character class (``[^...]`` negated), ``\\`` escapes the next
  character;
- ``**`` matches any number of directories, including none (``**/x`` matches
  ``x`` and ``a/b/x``; ``a/**`` everything under ``a``).

The Dockerfile and ``.dockerignore`` are always sent: see
:func:`context_excludes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .errors import InvalidArgument

__all__ = [
    "Pattern",
    "PatternMatcher",
    "clean_path",
    "context_excludes",
    "parse_dockerignore",
]

_EXACT, _PREFIX, _SUFFIX, _REGEXP = range(4)
# Characters that mean something to ``re`` but nothing to a dockerignore pattern.
_LITERAL_SPECIALS = frozenset(".+()|{}$^")


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


class Pattern:
    """One compiled pattern; ``exclusion`` is true for ``!`` exceptions."""

    __slots__ = ("_kind", "_literal", "_regex", "cleaned", "exclusion", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        pattern = clean_path(text.strip())
        self.exclusion = pattern.startswith("!")
        if self.exclusion:
            if len(pattern) == 1:
                raise InvalidArgument("dockerignore", text, 'illegal exclusion pattern "!"')
            pattern = pattern[1:]
        self.cleaned = pattern
        self._compile()

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"

    def _compile(self) -> None:
        pattern = self.cleaned
        out = ["^"]
        kind = _EXACT
        i = 0
        n = len(pattern)
        in_class = False
        while i < n:
            ch = pattern[i]
            if in_class:
                if ch == "\\" and i + 1 < n:
                    out.append(re.escape(pattern[i + 1]))
                    i += 2
                    continue
                if ch == "]":
                    in_class = False
                out.append("\\[" if ch == "[" else ch)
                i += 1
                continue
            if ch == "*":
                if i + 1 < n and pattern[i + 1] == "*":
                    first = i == 0
                    i += 2
                    if i < n and pattern[i] == "/":
                        i += 1
                    if i >= n:
                        if kind == _EXACT:
                            kind = _PREFIX
                        else:
                            out.append(".*")
                            kind = _REGEXP
                    else:
                        out.append("(?:.*/)?")
                        kind = _REGEXP
                    if first:
                        kind = _SUFFIX
                    continue
                out.append("[^/]*")
                kind = _REGEXP
            elif ch == "?":
                out.append("[^/]")
                kind = _REGEXP
            elif ch == "\\":
                if i + 1 < n:
                    out.append(re.escape(pattern[i + 1]))
                    kind = _REGEXP
                    i += 1
                else:
                    out.append("\\\\")
            elif ch == "[":
                end = _class_end(pattern, i)
                if end < 0:
                    raise InvalidArgument(
                        "dockerignore", self.text, "syntax error in pattern: unclosed '['"
                    )
                out.append("[")
                if i + 1 < n and pattern[i + 1] == "^":
                    out.append("^")
                    i += 1
                in_class = True
                kind = _REGEXP
            elif ch == "]":
                out.append("\\]")
                kind = _REGEXP
            elif ch in _LITERAL_SPECIALS:
                out.append("\\" + ch)
            else:
                out.append(re.escape(ch))
            i += 1
        out.append("$")
        self._kind = kind
        self._literal = pattern
        try:
            self._regex: re.Pattern[str] | None = (
                re.compile("".join(out), re.DOTALL) if kind == _REGEXP else None
            )
        except re.error as exc:
            raise InvalidArgument(
                "dockerignore", self.text, f"syntax error in pattern: {exc}"
            ) from None

    def match(self, path: str) -> bool:
        """Whether this pattern matches ``path`` itself (no parent directories)."""
        kind = self._kind
        if kind == _EXACT:
            return path == self._literal
        if kind == _PREFIX:
            return path.startswith(self._literal[:-2])
        if kind == _SUFFIX:
            suffix = self._literal[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self._regex is not None
        return self._regex.match(path) is not None


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at ``start``, or -1."""
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
        slash = path.rfind("/")
        parents: list[str] = []
        if slash > 0:
            parts = path[:slash].split("/")
            parents = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit:
                for parent in parents:
                    if pattern.match(parent):
                        hit = True
                        break
            if hit:
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
