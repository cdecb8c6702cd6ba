"""Image references (``[registry/]repository[:tag][@digest]``) parsed like the docker CLI.

Grammar, as the CLI accepts it:

- the first ``/``-separated component is a registry when it contains ``.`` or
  ``:``, is ``localhost``, or has upper-case letters; otherwise the registry is
  ``docker.io`` and a single-component name gets ``library/`` in front;
- a registry is a host name (components of letters, digits and inner ``-``,
  joined by ``.``), an IPv4 address or a bracketed IPv6 address, with an
  optional ``:port``; ``index.docker.io`` is spelled ``docker.io``;
- repository components are lower-case letters and digits, with single
  ``.``/``_``, a double ``__`` or any run of ``-`` between them;
- a tag is a word character then up to 127 of ``[A-Za-z0-9_.-]``;
- a digest is ``algorithm:hex`` (``sha256``, ``sha384`` or ``sha512`` with the
  matching number of lower-case hex digits);
- the fully qualified name is at most 255 characters, and a bare 64-hex string
  is refused (it is an image id, not a name).
"""

from __future__ import annotations

import re

import attrs

from ..errors import InvalidArgument

__all__ = [
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "Reference",
    "parse_reference",
]

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_REGISTRY = "index.docker.io"
_HUB_AUTH_KEY = "https://index.docker.io/v1/"
_OFFICIAL_PREFIX = "library/"
NAME_MAX_LENGTH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_REGISTRY_RE = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_ID_RE = re.compile(r"[a-f0-9]{64}")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+")


def _invalid(value: str, reason: str) -> InvalidArgument:
    return InvalidArgument("image", value, reason)


@attrs.frozen
class Reference:
    """A parsed image reference. Build one with :func:`parse_reference`.

    ``registry`` is ``docker.io`` for Docker Hub, ``repository`` is the full
    path (``library/ubuntu`` for official images), ``tag`` and ``digest`` are
    ``None`` when absent. ``str()`` gives the fully qualified form,
    :attr:`familiar` the short form the CLI prints.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository``, e.g. ``docker.io/library/ubuntu``."""
        return f"{self.registry}/{self.repository}"

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DEFAULT_REGISTRY

    @property
    def familiar_name(self) -> str:
        """The name as the CLI shows it: ``ubuntu``, ``user/app``, ``localhost:5000/app``."""
        if not self.is_docker_hub:
            return self.name
        repo = self.repository
        if repo.startswith(_OFFICIAL_PREFIX) and "/" not in repo[len(_OFFICIAL_PREFIX) :]:
            return repo[len(_OFFICIAL_PREFIX) :]
        return repo

    @property
    def familiar(self) -> str:
        """The short form with tag and digest: ``ubuntu:22.04``, ``app@sha256:...``."""
        return self.familiar_name + self._suffix()

    @property
    def registry_for_auth(self) -> str:
        """The key credentials are stored under (``https://index.docker.io/v1/`` for Hub)."""
        return _HUB_AUTH_KEY if self.is_docker_hub else self.registry

    @property
    def api_tag(self) -> str | None:
        """What the pull API takes as ``tag``: the digest when there is one, else the tag."""
        return self.digest if self.digest is not None else self.tag

    def with_default_tag(self) -> Reference:
        """This reference, tagged ``latest`` if it has neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return attrs.evolve(self, tag=DEFAULT_TAG)
        return self

    def _suffix(self) -> str:
        out = ""
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    def __str__(self) -> str:
        return self.name + self._suffix()


def _validate_digest(value: str, digest: str) -> None:
    match = _DIGEST_RE.fullmatch(digest)
    if match is None:
        raise _invalid(value, f"digest {digest!r} is not of the form algorithm:hex")
    algorithm, encoded = match.groups()
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise _invalid(
            value,
            f"unsupported digest algorithm {algorithm!r} "
            f"(expected one of {', '.join(_DIGEST_HEX_LENGTHS)})",
        )
    if len(encoded) != expected or _LOWER_HEX_RE.fullmatch(encoded) is None:
        raise _invalid(
            value, f"a {algorithm} digest needs exactly {expected} lower-case hex digits"
        )


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        registry, remainder = first, rest
    else:
        registry, remainder = DEFAULT_REGISTRY, name
    if registry == _LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return registry, remainder


def parse_reference(value: str) -> Reference:
    """Parse an image reference; anything malformed raises ``InvalidArgument("image", ...)``."""
    if not isinstance(value, str):
        raise InvalidArgument("image", value, "expected a string")
    if not value:
        raise _invalid(value, "an image reference cannot be empty")
    if _ID_RE.fullmatch(value):
        raise _invalid(value, "a 64-character hex string is an image id, not a repository name")

    rest, at, digest = value.partition("@")
    if at:
        _validate_digest(value, digest)
    tag: str | None = None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise _invalid(
                value,
                f"tag {tag!r} must be 1-128 characters of letters, digits, '_', '.' "
                "and '-', not starting with '.' or '-'",
            )
    if not rest:
        raise _invalid(value, "the repository name is missing")

    registry, repository = _split_registry(rest)
    if not _REGISTRY_RE.fullmatch(registry):
        raise _invalid(value, f"{registry!r} is not a valid registry host[:port]")
    for component in repository.split("/"):
        if _PATH_COMPONENT_RE.fullmatch(component):
            continue
        if component.lower() != component and _PATH_COMPONENT_RE.fullmatch(component.lower()):
            raise _invalid(value, f"repository name {repository!r} must be lowercase")
        if not component:
            raise _invalid(value, "the repository name has an empty path component")
        raise _invalid(
            value,
            f"repository path component {component!r} may only use lower-case letters, "
            "digits and the separators '.', '_', '__' or '-' between them",
        )
    full_name = f"{registry}/{repository}"
    if len(full_name) > NAME_MAX_LENGTH:
        raise _invalid(value, f"the repository name is longer than {NAME_MAX_LENGTH} characters")
    return Reference(
        registry=registry, repository=repository, tag=tag, digest=digest if at else None
    )
