""".dockerignore parsing and matching, checked against the docker CLI's rules."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from aiodock._tar import dockerignore as _dockerignore
from aiodock._tar.dockerignore import (
    Pattern,
    PatternMatcher,
    clean_path,
    context_excludes,
    parse_dockerignore,
)
from aiodock.errors import InvalidArgument


@pytest.fixture(autouse=True)
def _fresh_compile_cache() -> None:
    # Compiled patterns are cached per process: each test compiles its own, so that what
    # it checks is the compiler's work and not a pattern an earlier test left behind.
    _dockerignore._compile.cache_clear()


# (pattern, path, whether the pattern itself matches the path)
PATTERN_CASES = [
    ("**", "file", True),
    ("**", "dir/file", True),
    ("**/", "file", True),
    ("**/**", "dir/file", True),
    ("dir/**", "dir/file", True),
    ("dir/**", "dir/dir2/file", True),
    ("dir/**/", "dir/dir2/file", True),
    ("dir/**", "dir", False),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/*", "dir/dir2/g/file", False),
    ("**/file", "file", True),
    ("**/file", "dir/dir/file", True),
    ("**/file", "dir/dir/xfile", False),
    ("**/file*", "dir/dir/file", True),
    ("**/file*txt", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/*.txt", "file.txt", True),
    ("**/*.txt", "dir/dir/file.txt", True),
    ("**.txt", "file.txt", True),
    ("**.txt", "dir/dir/file.txt", True),
    ("dir/**/*.txt", "dir/file.txt", True),
    ("dir/**/*.txt", "dir/a/b/file.txt", True),
    ("dir/**/*.txt", "other/file.txt", False),
    ("**/foo/bar", "foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("file", "file", True),
    ("file", "file2", False),
    ("*.txt", "file.txt", True),
    ("*.txt", "dir/file.txt", False),
    ("*", "anything", True),
    ("*", "dir/file", False),
    ("a*", "ab", True),
    ("a*", "a/b", False),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("a?c", "ac", False),
    ("a[bc]d", "abd", True),
    ("a[bc]d", "aed", False),
    ("a[^b]d", "acd", True),
    ("a[^b]d", "abd", False),
    ("a[a-c]z", "abz", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True),
    ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("a+b", "aab", False),
    ("pkg-1.0+g08acad9-py3.whl", "pkg-1.0+g08acad9-py3.whl", True),
    ("^x$", "^x$", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATTERN_CASES)
def test_pattern_match(pattern: str, path: str, expected: bool) -> None:
    assert Pattern(pattern).match(path) is expected


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["build"], "build", True),
        (["build"], "build/out/app.o", True),  # a parent directory matches
        (["build"], "src/build", False),
        (["**/build"], "src/build/x", True),
        (["*.log", "!keep.log"], "keep.log", False),
        (["*.log", "!keep.log"], "other.log", True),
        (["*.log", "!keep.log"], "sub/other.log", False),  # * stops at /
        (["!keep.log", "*.log"], "keep.log", True),  # the last match wins
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs", "!docs/README.md"], "docs/other.md", True),
        (["docs/**", "!docs/keep/**"], "docs/keep/a/b", False),
        (["*", "!src"], "src/main.py", False),
        (["*", "!src"], "README", True),
        (["src", "!src/a", "src/a/tmp"], "src/a/tmp/x", True),
        (["src", "!src/a", "src/a/tmp"], "src/a/keep", False),
        ([], "anything", False),
    ],
)
def test_matcher_order_and_parents(patterns: list[str], path: str, excluded: bool) -> None:
    assert PatternMatcher(patterns).matches(path) is excluded


def test_descend_only_when_an_exception_lies_below() -> None:
    matcher = PatternMatcher(["docs", "!docs/README.md", "vendor"])
    assert matcher.may_include_below("docs")
    assert not matcher.may_include_below("vendor")
    assert not PatternMatcher(["docs"]).may_include_below("docs")


def test_parse_file_like_the_cli() -> None:
    text = (
        "\ufeff# a comment\n"
        "  *.pyc  \n"
        "\n"
        "/build/\n"
        "./dist//x/../y\n"
        "!  keep.pyc\n"
        "  # not a comment because it does not start the line\n"
        "\r\n"
        "node_modules\r\n"
    )
    assert parse_dockerignore(text.encode()) == [
        "*.pyc",
        "build",
        "dist/y",
        "!keep.pyc",
        "# not a comment because it does not start the line",
        "node_modules",
    ]


def test_leading_slash_only_pattern_is_kept() -> None:
    assert parse_dockerignore("/\n") == ["/"]


def test_bad_patterns_are_invalid_arguments() -> None:
    with pytest.raises(InvalidArgument, match="illegal exclusion"):
        PatternMatcher(["!"])
    with pytest.raises(InvalidArgument, match="unclosed"):
        PatternMatcher(["a[bc"])


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        ("a//b/", "a/b"),
        ("./a/./b", "a/b"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("a/b/../c", "a/c"),
        ("/", "/"),
    ],
)
def test_clean_path(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


def test_dockerfile_and_dockerignore_are_always_sent() -> None:
    patterns = context_excludes(["*", "sub"], "sub/Dockerfile.dev")
    matcher = PatternMatcher(patterns)
    assert not matcher.matches(".dockerignore")
    assert not matcher.matches("sub/Dockerfile.dev")
    assert matcher.matches("sub/other")
    assert matcher.matches("app.py")
    assert matcher.may_include_below("sub")


def test_context_excludes_leaves_patterns_alone_when_not_needed() -> None:
    assert context_excludes(["*.log"], "Dockerfile") == ["*.log"]
    assert context_excludes([], "Dockerfile") == []


_NAME = st.text(alphabet="abcxyz._-", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and not s.startswith(("-", "."))
)


@given(
    directory=st.lists(_NAME, min_size=1, max_size=3),
    below=st.lists(_NAME, min_size=1, max_size=3),
)
def test_excluded_directory_excludes_everything_below(
    directory: list[str], below: list[str]
) -> None:
    top = "/".join(directory)
    path = top + "/" + "/".join(below)
    matcher = PatternMatcher([top])
    assert matcher.matches(top)
    assert matcher.matches(path)
    # An exception for exactly that path re-includes it, and nothing else below.
    revived = PatternMatcher([top, "!" + path])
    assert not revived.matches(path)
    assert revived.matches(top + "/" + "/".join(below) + "x")
    assert revived.may_include_below(top)


@given(name=_NAME, other=_NAME)
def test_literal_patterns_match_only_themselves(name: str, other: str) -> None:
    pattern = Pattern(name)
    assert pattern.match(name)
    assert pattern.match(other) is (other == name)


# --- the matcher against a reference ---------------------------------------------------------
#
# The reference is the translation the matcher used to run: each pattern becomes a Python
# regular expression and ``re`` (a backtracking engine) matches it. On small inputs
# backtracking is harmless, so it defines the expected answers; the module's automaton must
# agree with it everywhere.


def _reference_class(pattern: str, start: int) -> tuple[str, int]:
    """The ``re`` class for the ``[`` at ``start`` and the index of its ``]``."""
    out = ["["]
    j = start + 1
    if pattern.startswith("^", j):
        out.append("^")
        j += 1
    first = True
    while j < len(pattern):
        ch = pattern[j]
        if ch == "]" and not first:
            return "".join(out) + "]", j
        if ch == "\\":
            if j + 1 == len(pattern):
                break
            out.append(re.escape(pattern[j + 1]))
            j += 2
        else:
            out.append("\\[" if ch == "[" else ch)
            j += 1
        first = False
    raise ValueError("unclosed class")


def _reference_pattern(pattern: str) -> Callable[[str], bool]:
    """A matcher for one cleaned pattern (no ``!``); ValueError when it is invalid."""
    out: list[str] = []
    kind = "exact"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**", i):
            first = i == 0
            i += 2
            if pattern.startswith("/", i):
                i += 1
            if i < n:
                out.append("(?:.*/)?")
                kind = "regex"
            elif kind == "exact":
                kind = "prefix"
            else:
                out.append(".*")
                kind = "regex"
            if first:
                kind = "suffix"
            continue
        if ch == "*":
            out.append("[^/]*")
            kind = "regex"
        elif ch == "?":
            out.append("[^/]")
            kind = "regex"
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
            kind = "regex"
        elif ch == "[":
            cls, i = _reference_class(pattern, i)
            out.append(cls)
            kind = "regex"
        else:
            out.append(re.escape(ch))
            if ch == "]":
                kind = "regex"
        i += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # e.g. "[!--]": a range, for now
        try:
            regex = re.compile("".join(out), re.DOTALL)
        except re.error as exc:
            raise ValueError(str(exc)) from None
    if kind == "exact":
        return lambda path: path == pattern
    if kind == "prefix":
        return lambda path: path.startswith(pattern[:-2])
    if kind == "suffix":
        suffix = pattern[2:]
        return lambda path: path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
    return lambda path: regex.fullmatch(path) is not None


def _reference_excluded(patterns: list[str], path: str) -> bool:
    path = clean_path(path)
    slash = path.rfind("/")
    parents = []
    if slash > 0:
        parts = path[:slash].split("/")
        parents = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for text in patterns:
        if not text.strip():
            continue  # blank entries are ignored
        cleaned = clean_path(text.strip())
        exception = cleaned.startswith("!")
        match = _reference_pattern(cleaned[1:] if exception else cleaned)
        if any(match(p) for p in [path, *parents]):
            excluded = not exception
    return excluded


_PATTERN_TEXT = st.text(alphabet="ab*?[]^!\\/-.", max_size=10)
_PATH_TEXT = st.text(alphabet="ab/*?[]^!\\-.\n", max_size=14)


@settings(max_examples=500)
@given(pattern=_PATTERN_TEXT, paths=st.lists(_PATH_TEXT, max_size=5))
@example(pattern="*[^x]*", paths=["a/b", "a/", "ab"])  # the class must take the "/"
@example(pattern="[]a]", paths=["]", "a", "]a]"])
@example(pattern="[^]a]b", paths=["]b", "ab", "/b", "cb"])
@example(pattern="[!a]", paths=["!", "a", "b"])
@example(pattern="a[--/]", paths=["a-", "a.", "a/", "a0"])
@example(pattern="a**b", paths=["ab", "axb", "a/b", "a/x/b", "ax/b"])
@example(pattern="**a**b", paths=["ab", "xab", "x/a/b", "a/x/b"])
@example(pattern="**/", paths=["", "a", "a/b"])
@example(pattern="**/**", paths=["", "a", "a/b"])
@example(pattern="a/**/**/b", paths=["a/b", "a/x/b", "a/x/y/b", "ab"])
@example(pattern="a\\*b?\\", paths=["a*bc\\", "axbc\\"])
@example(pattern="[z-a]", paths=["a"])
@example(pattern="[a-]]", paths=["a]", "-]", "b]"])
def test_pattern_agrees_with_the_reference(pattern: str, paths: list[str]) -> None:
    cleaned = clean_path(pattern)
    assume(not cleaned.startswith("!"))
    try:
        reference = _reference_pattern(cleaned)
    except ValueError:
        with pytest.raises(InvalidArgument) as info:
            Pattern(pattern)
        assert info.value.parameter == "dockerignore"
        return
    compiled = Pattern(pattern)
    for path in paths:
        assert compiled.match(path) is reference(path), path


@settings(max_examples=300)
@given(patterns=st.lists(_PATTERN_TEXT, min_size=1, max_size=4), path=_PATH_TEXT)
@example(patterns=["*"], path="/a/b")  # the empty "directory" before the first "/"
@example(patterns=["*"], path="/a")
@example(patterns=["a*", "!a/b"], path="a/b/c")
@example(patterns=["**/b*", "!a/**"], path="a/b/c")
@example(patterns=["a/?", "!a/b/c"], path="a/b/c/d")
def test_matcher_agrees_with_the_reference(patterns: list[str], path: str) -> None:
    try:
        expected = _reference_excluded(patterns, path)
    except ValueError:
        with pytest.raises(InvalidArgument):
            PatternMatcher(patterns)
        return
    assume(all(clean_path(p.strip()) != "!" for p in patterns))
    assert PatternMatcher(patterns).matches(path) is expected


# --- cost ---------------------------------------------------------------------------------
# No timings: a backtracking matcher does not finish these in any reasonable time (the
# first one alone is about 40^12 steps for ``re``), so returning at all is the test.


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        pytest.param("*a" * 12 + "*b", "a" * 40, False, id="stars-12"),
        pytest.param("*a" * 200 + "*b", "a" * 5000, False, id="stars-200"),
        pytest.param("*a" * 200 + "*b", "a" * 5000 + "b", True, id="stars-200-match"),
        pytest.param("*a" * 200 + "*b", "a" * 4000 + "/" + "a" * 1000 + "b", False, id="slash"),
        pytest.param("**/" * 12 + "c", "/".join("x" * 40), False, id="dirs-12"),
        pytest.param("**/" * 200 + "c", "/".join("x" * 3000), False, id="dirs-200"),
        pytest.param("**/" * 200 + "c", "/".join("x" * 3000) + "/c", True, id="dirs-200-match"),
        pytest.param("**/*a" * 50 + "*b", "/".join(["a" * 40] * 60), False, id="mixed"),
        pytest.param("a**" * 100 + "b", "a" * 3000, False, id="inner-double-stars"),
        pytest.param("?*" * 100 + "/y", "x" * 3000, False, id="any-star"),
        pytest.param("[a-z]*" * 100 + "1", "q" * 3000, False, id="class-star"),
        pytest.param("[^/]*" * 100 + "1", "q" * 3000, False, id="negated-class-star"),
    ],
)
def test_pathological_patterns_finish(pattern: str, path: str, expected: bool) -> None:
    assert Pattern(pattern).match(path) is expected
    # Every directory above the path is tried as well, in the same single pass.
    assert PatternMatcher([pattern]).matches(path + "/x/y") is expected


def test_many_distinct_characters() -> None:
    # Transitions are remembered per character up to a bound; past it they are recomputed.
    path = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 3000))
    assert Pattern("*" + path[-1]).match(path)
    assert not Pattern("*" + path[-1] + "?").match(path)
    assert Pattern(path[0] + "*[" + path[-2] + "]?").match(path)
    assert not Pattern(path[0] + "*[" + path[-2] + "]?").match(path + "/")
    assert not Pattern(path[0] + "*[^" + path[-2] + "]?").match(path)


# --- deliberate differences from the old regex translation ----------------------------------


def test_class_starting_with_a_bracket_is_a_class() -> None:
    # Once rejected as a malformed regex; "]" right after "[" is a member, as _class_end says.
    assert Pattern("[]a]").match("]")
    assert Pattern("[]a]").match("a")
    assert not Pattern("[]a]").match("]a]")
    assert Pattern("[^]]x").match("ax")
    assert not Pattern("[^]]x").match("]x")


def test_end_of_pattern_is_end_of_path_even_before_a_newline() -> None:
    # ``re``'s "$" also matched before a final newline; the CLI's anchor (RE2) does not.
    assert not Pattern("*.log").match("a.log\n")
    assert Pattern("*.log?").match("a.log\n")
    assert not PatternMatcher(["?"]).matches("a\n")


def test_compiled_patterns_are_shared() -> None:
    first = PatternMatcher(["**/*.pyc", "!keep/*.pyc"])
    second = PatternMatcher(["!keep/*.pyc"])
    assert first.patterns[1]._automaton is second.patterns[0]._automaton
    assert first.patterns[0]._automaton is not first.patterns[1]._automaton


# --- pinned by mutation testing (nox -s mutate) ------------------------------------------
# Character classes go to Go's regexp in the CLI (moby/patternmatcher), with Perl syntax:
# "\x" is the literal x, a "-" that cannot end a range is a member.


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        ("[a\\-z]", "a-z", "bcy\\"),  # an escaped '-' is no range
        ("[\\]]", "]", "\\["),  # an escaped ']' does not close the class
        ("[]a]", "]a", "b["),  # a ']' first is a member
        ("[a-c-e]", "abc-e", "dfA"),  # a range, then '-' and 'e'
        ("[a-cx-z]", "abcxyz", "dmw-"),  # two ranges in a row
        ("[a-a]", "a", "b"),  # a one-character range
        ("[^a]", "b^-", "a"),  # negated
        ("[\\^a]", "^a", "b"),  # an escaped '^' is a member, not a negation
    ],
)
def test_character_classes(pattern: str, inside: str, outside: str) -> None:
    for ch in inside:
        assert Pattern("x" + pattern).match("x" + ch), (pattern, ch)
    for ch in outside:
        assert not Pattern("x" + pattern).match("x" + ch), (pattern, ch)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[z-a]", "syntax error in pattern: bad character range z-a"),
        ("a[", "syntax error in pattern: unclosed '['"),
        ("[\\]", "syntax error in pattern: unclosed '['"),
        ("[]", "syntax error in pattern: unclosed '['"),
    ],
)
def test_bad_class_is_an_invalid_argument(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        Pattern(pattern)
    assert (info.value.parameter, info.value.value, info.value.reason) == (
        "dockerignore",
        pattern,
        reason,
    )


def test_lone_exclamation_mark_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        Pattern(" ! ")
    assert (info.value.parameter, info.value.value, info.value.reason) == (
        "dockerignore",
        " ! ",
        'illegal exclusion pattern "!"',
    )


def test_pattern_keeps_its_text() -> None:
    pattern = Pattern(" ./a*/ ")
    assert pattern.text == " ./a*/ "
    assert pattern.cleaned == "a*"
    assert repr(pattern) == "Pattern(' ./a*/ ')"


def test_clean_path_like_go() -> None:
    # Go's path.Clean: leading ".." stay on a relative path; nothing left is ".".
    assert clean_path("../../a") == "../../a"
    assert clean_path("a/../../b") == "../b"
    assert clean_path("a/..") == "."
    assert clean_path("/../a") == "/a"


def test_parse_dockerignore_details() -> None:
    assert parse_dockerignore("!keep.txt\n! other\n/a\n/\n") == ["!keep.txt", "!other", "a", "/"]
    # Bytes that are not UTF-8 survive as they are (surrogate escapes), as Go keeps them.
    assert parse_dockerignore(b"caf\xe9\n") == ["caf\udce9"]


def test_matcher_truth_is_whether_it_has_patterns() -> None:
    assert not PatternMatcher([])
    assert not PatternMatcher(["", "  "])
    assert PatternMatcher(["a"])


def test_may_include_below_an_exception_naming_the_directory_itself() -> None:
    assert PatternMatcher(["dir", "!dir"]).may_include_below("dir")
    assert PatternMatcher(["dir", "!dir/keep"]).may_include_below("dir")
    assert not PatternMatcher(["dir", "!dirt"]).may_include_below("dir")


def test_leading_double_star_fails_cleanly_on_deep_paths() -> None:
    matcher = PatternMatcher(["**/x"])
    assert not matcher.matches("a/b/c")
    assert matcher.matches("a/x/c")
    assert matcher.matches("x")


@pytest.mark.parametrize(
    ("patterns", "dockerfile", "expected"),
    [
        (["Dockerfile"], "Dockerfile", ["Dockerfile", "!Dockerfile"]),
        ([".dockerignore"], "Dockerfile", [".dockerignore", "!.dockerignore"]),
        (["*"], "Dockerfile", ["*", "!.dockerignore", "!Dockerfile"]),
        (["sub"], "sub\\Dockerfile", ["sub", "!sub/Dockerfile"]),
        (["sub"], "/sub/Dockerfile", ["sub", "!sub/Dockerfile"]),
        (["other"], "Dockerfile", ["other"]),
        (["dockerfile"], "Dockerfile", ["dockerfile"]),  # matching is case-sensitive
    ],
)
def test_context_excludes_keeps_what_is_always_sent(
    patterns: list[str], dockerfile: str, expected: list[str]
) -> None:
    assert context_excludes(patterns, dockerfile) == expected


def test_context_excludes_default_dockerfile() -> None:
    assert context_excludes(["Dockerfile"]) == ["Dockerfile", "!Dockerfile"]
    assert context_excludes(["dockerfile"]) == ["dockerfile"]
