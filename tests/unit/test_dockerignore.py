""".dockerignore parsing and matching, checked against the docker CLI's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodock._dockerignore import (
    Pattern,
    PatternMatcher,
    clean_path,
    context_excludes,
    parse_dockerignore,
)
from aiodock.errors import InvalidArgument

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
