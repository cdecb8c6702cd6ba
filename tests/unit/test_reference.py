"""Image reference parsing, normalisation and formatting."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from aiodock._registry.reference import Reference, parse_reference
from aiodock.errors import InvalidArgument

D256 = "sha256:" + "0123456789abcdef" * 4
D512 = "sha512:" + "0123456789abcdef" * 8

# input -> (registry, repository, tag, digest, familiar, str)
VALID = [
    ("ubuntu", "docker.io", "library/ubuntu", None, None, "ubuntu", "docker.io/library/ubuntu"),
    (
        "ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
        "ubuntu:22.04",
        "docker.io/library/ubuntu:22.04",
    ),
    (
        "library/ubuntu",
        "docker.io",
        "library/ubuntu",
        None,
        None,
        "ubuntu",
        "docker.io/library/ubuntu",
    ),
    (
        "docker.io/ubuntu",
        "docker.io",
        "library/ubuntu",
        None,
        None,
        "ubuntu",
        "docker.io/library/ubuntu",
    ),
    (
        "index.docker.io/ubuntu:x",
        "docker.io",
        "library/ubuntu",
        "x",
        None,
        "ubuntu:x",
        "docker.io/library/ubuntu:x",
    ),
    (
        "docker.io/library/ubuntu",
        "docker.io",
        "library/ubuntu",
        None,
        None,
        "ubuntu",
        "docker.io/library/ubuntu",
    ),
    ("user/app", "docker.io", "user/app", None, None, "user/app", "docker.io/user/app"),
    (
        "user/app/sub:v1",
        "docker.io",
        "user/app/sub",
        "v1",
        None,
        "user/app/sub:v1",
        "docker.io/user/app/sub:v1",
    ),
    (
        "docker.io/library/a/b",
        "docker.io",
        "library/a/b",
        None,
        None,
        "library/a/b",
        "docker.io/library/a/b",
    ),
    ("localhost/app", "localhost", "app", None, None, "localhost/app", "localhost/app"),
    (
        "localhost:5000/app:1.0",
        "localhost:5000",
        "app",
        "1.0",
        None,
        "localhost:5000/app:1.0",
        "localhost:5000/app:1.0",
    ),
    (
        "127.0.0.1:5000/a/b/c",
        "127.0.0.1:5000",
        "a/b/c",
        None,
        None,
        "127.0.0.1:5000/a/b/c",
        "127.0.0.1:5000/a/b/c",
    ),
    ("[::1]:5000/app", "[::1]:5000", "app", None, None, "[::1]:5000/app", "[::1]:5000/app"),
    (
        "[2001:db8::1]/app:t",
        "[2001:db8::1]",
        "app",
        "t",
        None,
        "[2001:db8::1]/app:t",
        "[2001:db8::1]/app:t",
    ),
    (
        "ghcr.io/owner/repo",
        "ghcr.io",
        "owner/repo",
        None,
        None,
        "ghcr.io/owner/repo",
        "ghcr.io/owner/repo",
    ),
    (
        "my-registry.example.com:443/team/app",
        "my-registry.example.com:443",
        "team/app",
        None,
        None,
        "my-registry.example.com:443/team/app",
        "my-registry.example.com:443/team/app",
    ),
    (
        "Registry.Example/app",
        "Registry.Example",
        "app",
        None,
        None,
        "Registry.Example/app",
        "Registry.Example/app",
    ),
    ("Foo/bar", "Foo", "bar", None, None, "Foo/bar", "Foo/bar"),  # upper case => a registry
    (
        "app@" + D256,
        "docker.io",
        "library/app",
        None,
        D256,
        "app@" + D256,
        "docker.io/library/app@" + D256,
    ),
    (
        "app:tag@" + D256,
        "docker.io",
        "library/app",
        "tag",
        D256,
        "app:tag@" + D256,
        "docker.io/library/app:tag@" + D256,
    ),
    ("r.io/app@" + D512, "r.io", "app", None, D512, "r.io/app@" + D512, "r.io/app@" + D512),
    (
        "a_b__c-d---e/f.g_h",
        "docker.io",
        "a_b__c-d---e/f.g_h",
        None,
        None,
        "a_b__c-d---e/f.g_h",
        "docker.io/a_b__c-d---e/f.g_h",
    ),
    (
        "app:_under",
        "docker.io",
        "library/app",
        "_under",
        None,
        "app:_under",
        "docker.io/library/app:_under",
    ),
    (
        "app:UPPER.case-ok_1",
        "docker.io",
        "library/app",
        "UPPER.case-ok_1",
        None,
        "app:UPPER.case-ok_1",
        "docker.io/library/app:UPPER.case-ok_1",
    ),
    (
        "app:" + "t" * 128,
        "docker.io",
        "library/app",
        "t" * 128,
        None,
        "app:" + "t" * 128,
        "docker.io/library/app:" + "t" * 128,
    ),
    (
        "localhost",
        "docker.io",
        "library/localhost",
        None,
        None,
        "localhost",
        "docker.io/library/localhost",
    ),
    (
        "localhost:5000",
        "docker.io",
        "library/localhost",
        "5000",
        None,
        "localhost:5000",
        "docker.io/library/localhost:5000",
    ),
    (
        "0123456789abcdef" * 4 + "0",
        "docker.io",
        "library/" + "0123456789abcdef" * 4 + "0",
        None,
        None,
        "0123456789abcdef" * 4 + "0",
        "docker.io/library/" + "0123456789abcdef" * 4 + "0",
    ),
]


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "familiar", "full"), VALID
)
def test_valid_references(
    text: str,
    registry: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    familiar: str,
    full: str,
) -> None:
    ref = parse_reference(text)
    assert ref == Reference(registry, repository, tag, digest)
    assert ref.familiar == familiar
    assert str(ref) == full
    assert ref.name == f"{registry}/{repository}"
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar) == ref


INVALID = [
    ("", "empty"),
    ("Ubuntu", "lowercase"),
    ("user/App", "lowercase"),
    ("r.io/Team/app", "lowercase"),
    ("ubuntu:", "tag"),
    ("ubuntu:-x", "tag"),
    ("ubuntu:.x", "tag"),
    ("ubuntu:" + "t" * 129, "tag"),
    ("ubuntu:a+b", "tag"),
    ("ubuntu:tag with space", "tag"),
    (":tag", "missing"),
    ("@" + D256, "missing"),
    ("/app", "empty path component"),
    ("a_b.c/d", "registry"),  # a dot makes the first component a (bad) registry
    ("app/", "empty path component"),
    ("a//b", "empty path component"),
    ("-app", "component"),
    ("app-", "component"),
    ("a..b", "component"),
    ("a___b", "component"),
    ("a.-b", "component"),
    ("a b", "component"),
    ("héllo", "component"),
    ("app@sha256:abc", "64"),
    ("app@sha256:" + "A" * 64, "lower-case"),
    ("app@sha256:" + "0" * 63, "64"),
    ("app@md5:" + "0" * 32, "unsupported"),
    ("app@" + "0" * 64, "algorithm:hex"),
    ("app@", "algorithm:hex"),
    ("app@" + D256 + "@" + D256, "algorithm:hex"),
    ("app:tag:more", "component"),
    ("-bad.host/app", "registry"),
    ("bad-.host/app", "registry"),
    ("host:port/app", "registry"),
    ("[::1/app", "registry"),
    ("r.io/" + "a" * 251, "255"),
    ("0123456789abcdef" * 4, "image id"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_references(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_reference(text)
    err = info.value
    assert err.parameter == "image"
    assert err.value == text
    assert reason in err.reason
    assert repr(text) in str(err)


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        parse_reference(None)  # type: ignore[arg-type]


def test_name_length_limit_counts_normalised_name() -> None:
    # "docker.io/library/" (18 characters) + 237 = 255 is the longest allowed
    assert parse_reference("a" * 237).repository == "library/" + "a" * 237
    with pytest.raises(InvalidArgument):
        parse_reference("a" * 238)


def test_with_default_tag() -> None:
    assert parse_reference("ubuntu").with_default_tag().tag == "latest"
    assert str(parse_reference("ubuntu").with_default_tag()) == "docker.io/library/ubuntu:latest"
    tagged = parse_reference("ubuntu:22.04")
    assert tagged.with_default_tag() is tagged
    digested = parse_reference("ubuntu@" + D256)
    assert digested.with_default_tag() is digested


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", "https://index.docker.io/v1/"),
        ("user/app:1", "https://index.docker.io/v1/"),
        ("index.docker.io/user/app", "https://index.docker.io/v1/"),
        ("localhost:5000/app", "localhost:5000"),
        ("ghcr.io/o/r", "ghcr.io"),
    ],
)
def test_registry_for_auth(text: str, expected: str) -> None:
    assert parse_reference(text).registry_for_auth == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", ("ubuntu", None)),
        ("ubuntu:22.04", ("ubuntu", "22.04")),
        ("docker.io/library/ubuntu:22.04", ("ubuntu", "22.04")),
        ("user/app:v1", ("user/app", "v1")),
        ("localhost:5000/app", ("localhost:5000/app", None)),
        ("localhost:5000/app:1", ("localhost:5000/app", "1")),
        ("app@" + D256, ("app", D256)),
        ("app:tag@" + D256, ("app", D256)),  # the digest is what gets pulled
    ],
)
def test_familiar_name_and_api_tag_as_the_pull_api_takes_them(
    text: str, expected: tuple[str, str | None]
) -> None:
    ref = parse_reference(text)
    assert (ref.familiar_name, ref.api_tag) == expected


def test_reference_is_frozen_and_hashable() -> None:
    ref = parse_reference("ubuntu")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse_reference("docker.io/library/ubuntu")} == {ref}


# --- property tests --------------------------------------------------------------------

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_alnum_run = st.text(alphabet=_LOWER_ALNUM, min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def _component(draw: st.DrawFn) -> str:
    out = draw(_alnum_run)
    for _ in range(draw(st.integers(0, 3))):
        out += draw(_separator) + draw(_alnum_run)
    return out


_domain_part = st.builds(
    lambda a, mid, b: a + (mid + b if b else ""),
    st.sampled_from(_ALNUM),
    st.text(alphabet=_ALNUM + "-", max_size=6),
    st.text(alphabet=_ALNUM, max_size=1),
)
_port = st.integers(min_value=0, max_value=65535).map(lambda p: f":{p}")
_dotted_domain = st.lists(_domain_part, min_size=2, max_size=4).map(".".join)
_registry = st.one_of(
    st.builds(lambda d, p: d + p, _dotted_domain, st.one_of(st.just(""), _port)),
    st.builds(lambda d, p: d + p, _domain_part, _port),
    st.just("localhost"),
    st.builds(lambda p: "[::1]" + p, st.one_of(st.just(""), _port)),
)
_tag = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_ALNUM + "_"),
    st.text(alphabet=_ALNUM + "_.-", max_size=20),
)
_hex = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_digest = _hex.map(lambda h: "sha256:" + h)


@given(
    registry=st.one_of(st.none(), _registry),
    path=st.lists(_component(), min_size=1, max_size=4),
    tag=st.one_of(st.none(), _tag),
    digest=st.one_of(st.none(), _digest),
)
def test_generated_valid_references(
    registry: str | None, path: list[str], tag: str | None, digest: str | None
) -> None:
    repo = "/".join(path)
    text = (f"{registry}/" if registry else "") + repo
    text += f":{tag}" if tag else ""
    text += f"@{digest}" if digest else ""
    if registry is None:
        # without a registry the first component must not look like one
        assume("." not in path[0] or len(path) == 1)
        assume(len(path) == 1 or path[0] != "localhost")
    expected_registry = registry if registry else "docker.io"
    expected_repo = repo if (registry or len(path) > 1) else f"library/{repo}"
    assume(len(f"{expected_registry}/{expected_repo}") <= 255)
    assume(len(text) != 64 or registry or tag or digest or len(path) > 1)

    ref = parse_reference(text)
    assert ref.registry == expected_registry
    assert ref.repository == expected_repo
    assert ref.tag == tag
    assert ref.digest == digest
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar) == ref


_interesting = st.text(alphabet="abcAZ019:/@._-[]+ é", max_size=40)


@given(st.one_of(st.text(max_size=60), _interesting))
@example("a" * 64)
@example("[::1]:5000/x@sha256:" + "0" * 64)
@example("docker.io/library")
@example("library/x/y")
def test_parse_never_raises_anything_else(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidArgument as err:
        assert err.parameter == "image"
        return
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar) == ref
    assert ref.repository.split("/")[-1] in text


# --- pinned by mutation testing (nox -s mutate) ------------------------------------------

D384 = "sha384:" + "0123456789abcdef" * 6


def reason_for(text: object) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_reference(text)  # type: ignore[arg-type]
    assert caught.value.parameter == "image"
    assert caught.value.value == text
    return caught.value.reason


def test_sha384_digest() -> None:
    ref = parse_reference("r.io/app@" + D384)
    assert ref.digest == D384
    assert str(ref) == "r.io/app@" + D384
    assert "96 lower-case hex digits" in reason_for("app@sha384:" + "0" * 64)
    assert "96 lower-case hex digits" in reason_for("app@sha384:" + "0" * 97)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "expected a string"),
        (b"ubuntu", "expected a string"),
        ("", "an image reference cannot be empty"),
        ("0" * 64, "a 64-character hex string is an image id, not a repository name"),
        (":x", "the repository name is missing"),
        ("a//b", "the repository name has an empty path component"),
        ("user/APP", "repository name 'user/APP' must be lowercase"),
        ("user/App", "repository name 'user/App' must be lowercase"),
        (
            "app@md5:00",
            "unsupported digest algorithm 'md5' (expected one of sha256, sha384, sha512)",
        ),
        (
            "app:-x",
            "tag '-x' must be 1-128 characters of letters, digits, '_', '.' and '-', "
            "not starting with '.' or '-'",
        ),
        # Not lower-case, and not a valid component once lowered either: the general reason.
        (
            "user/Ab!c",
            "repository path component 'Ab!c' may only use lower-case letters, digits and "
            "the separators '.', '_', '__' or '-' between them",
        ),
        # A ':' before the last '/' is no tag separator (docker: "invalid reference format").
        (
            "user/a:b/c",
            "repository path component 'a:b' may only use lower-case letters, digits and "
            "the separators '.', '_', '__' or '-' between them",
        ),
    ],
)
def test_invalid_reference_reasons(text: object, reason: str) -> None:
    assert reason_for(text) == reason


def test_tag_and_digest_suffix() -> None:
    ref = parse_reference("app:1.0@" + D256)
    assert (ref.tag, ref.digest) == ("1.0", D256)
    assert str(ref) == "docker.io/library/app:1.0@" + D256
    assert ref.familiar == "app:1.0@" + D256
    assert parse_reference("app:1.0").familiar == "app:1.0"
