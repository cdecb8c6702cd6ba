"""Image reference, tag and platform checks, shared by ``images`` and ``distribution``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._auth import AuthConfig
from .._convert import json_dumps
from .._reference import Reference, parse_reference
from .._request import Repeated
from ..errors import InvalidArgument

__all__ = ["AuthLike", "PlatformLike"]

#: Credentials for one registry: an :class:`~aiodock._auth.AuthConfig` or a mapping
#: with the Engine's keys (``username``, ``password``, ``serveraddress``...).
AuthLike = AuthConfig | Mapping[str, Any]
#: A platform as ``"os/arch[/variant]"`` or an OCI platform mapping
#: (``{"os": "linux", "architecture": "arm64", "variant": "v8"}``).
PlatformLike = str | Mapping[str, Any]

_PLATFORM_KEYS = ("os", "architecture", "variant", "os.version", "os.features")


# --- argument helpers ------------------------------------------------------------------


def _oci_platform(value: PlatformLike, parameter: str = "platform") -> dict[str, Any]:
    if isinstance(value, str):
        parts = value.split("/")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidArgument(parameter, value, "expected 'os[/architecture[/variant]]'")
        out: dict[str, Any] = {"os": parts[0]}
        if len(parts) > 1:
            out["architecture"] = parts[1]
        if len(parts) > 2:
            out["variant"] = parts[2]
        return out
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in _PLATFORM_KEYS]
        if unknown:
            raise InvalidArgument(
                parameter, value, f"unknown keys {unknown}; allowed: {', '.join(_PLATFORM_KEYS)}"
            )
        return {k: v for k, v in value.items() if v}
    raise InvalidArgument(parameter, value, "expected 'os/arch[/variant]' or an OCI platform map")


def _platform_json(value: PlatformLike | None, parameter: str = "platform") -> str | None:
    if value is None:
        return None
    return json_dumps(_oci_platform(value, parameter)).decode()


def _platform_str(value: PlatformLike | None, parameter: str = "platform") -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        _oci_platform(value, parameter)
        return value
    oci = _oci_platform(value, parameter)
    if "os" not in oci:
        raise InvalidArgument(parameter, value, "an 'os' is required")
    return "/".join(str(oci[k]) for k in ("os", "architecture", "variant") if k in oci)


def _platforms(
    value: PlatformLike | Sequence[PlatformLike] | None, parameter: str
) -> Repeated | None:
    if value is None:
        return None
    items: Sequence[PlatformLike] = [value] if isinstance(value, (str, Mapping)) else list(value)
    return Repeated([_platform_json(item, parameter) for item in items])


def _reference(value: str, parameter: str) -> Reference:
    try:
        return parse_reference(value)
    except InvalidArgument as exc:
        raise InvalidArgument(parameter, value, exc.reason) from None


def _name_and_tag(image: str, tag: str | None, parameter: str) -> tuple[Reference, str | None]:
    """Parse ``image`` and apply an explicit ``tag``; returns the reference and the tag to use."""
    ref = _reference(image, parameter)
    if tag is not None:
        if ref.tag is not None or ref.digest is not None:
            raise InvalidArgument("tag", tag, f"{image!r} already names a tag or digest")
        ref = _reference(f"{image}:{tag}", "tag")
    return ref, ref.api_tag


def _repository_text(image: str, ref: Reference) -> str:
    """``image`` as the caller spelled it, without its tag and digest."""
    text = image.partition("@")[0]
    if ref.tag is not None and text.endswith(":" + ref.tag):
        text = text[: -len(ref.tag) - 1]
    return text


def _split_target(target: str, tag: str | None, parameter: str) -> tuple[str, str | None]:
    """``repo[:tag]`` (plus an optional separate tag) as the ``repo``/``tag`` query pair."""
    ref, api_tag = _name_and_tag(target, tag, parameter)
    if ref.digest is not None:
        raise InvalidArgument(parameter, target, "cannot tag with a digest")
    return _repository_text(target, ref), api_tag


def _tag_or_all(image: str, api_tag: str | None, all_tags: bool, named: str) -> str | None:
    """The tag to pull or push: the one named, ``latest`` by default, none for ``all_tags``."""
    if all_tags:
        if api_tag is not None:
            raise InvalidArgument("all_tags", True, f"{image!r} already names {named}")
        return None
    return "latest" if api_tag is None else api_tag


def _optional_target(repository: str | None, tag: str | None) -> tuple[str | None, str | None]:
    """The repository and tag of an image to create, when one is named (commit, import)."""
    if repository is not None:
        return _split_target(repository, tag, "repository")
    if tag is not None:
        raise InvalidArgument("tag", tag, "a tag needs a repository")
    return None, None


def _changes(changes: Sequence[str] | str | None) -> Repeated | None:
    if changes is None:
        return None
    items = [changes] if isinstance(changes, str) else list(changes)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgument("changes", changes, "expected Dockerfile instructions as strings")
    return Repeated(items)


def _non_negative(value: int | None, parameter: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidArgument(parameter, value, "expected a non-negative integer")
    return value


def _tags(tags: str | Sequence[str]) -> list[str]:
    items = [tags] if isinstance(tags, str) else list(tags)
    for item in items:
        ref = _reference(item, "tags")
        if ref.digest is not None:
            raise InvalidArgument("tags", item, "a build tag cannot carry a digest")
    return items


def _str_map(value: Mapping[str, Any] | None, parameter: str, *, allow_none: bool = False) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(parameter, value, "expected a mapping of strings")
    out: dict[str, str | None] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgument(parameter, key, "keys must be non-empty strings")
        if item is None and allow_none:
            out[key] = None
        elif isinstance(item, str):
            out[key] = item
        else:
            raise InvalidArgument(parameter, {key: item}, "values must be strings")
    return out


def _extra_hosts(value: Mapping[str, str] | Sequence[str] | None) -> Repeated | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        items = [f"{host}:{address}" for host, address in value.items()]
    elif isinstance(value, str):
        items = [value]
    else:
        items = list(value)
    for item in items:
        if not isinstance(item, str) or ":" not in item:
            raise InvalidArgument("extra_hosts", item, "expected 'host:ip' entries")
    return Repeated(items)


def _is_within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False
