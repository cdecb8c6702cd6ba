"""What ``images`` uploads: the build context's Dockerfile, tar files in chunks, guarded bodies."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

from ..._streams.progress import BodyGuard
from ..._tar.dockerignore import clean_path
from ...errors import InvalidArgument

if TYPE_CHECKING:
    pass


def _is_within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def _dockerfile_in(context_dir: str, name: str | None, extra: dict[str, bytes]) -> str | None:
    """Check the Dockerfile exists; bring one from outside the context along in ``extra``."""
    if name is None:
        candidate = os.path.join(context_dir, "Dockerfile")
        if not os.path.exists(candidate):
            raise InvalidArgument("dockerfile", None, f"no Dockerfile in the context {context_dir}")
        return None
    if os.path.isabs(name):
        absolute = os.path.normpath(name)
        if _is_within(absolute, context_dir):
            name = os.path.relpath(absolute, context_dir)
        else:
            try:
                with open(absolute, "rb") as fh:
                    content = fh.read()
            except OSError as exc:
                raise InvalidArgument(
                    "dockerfile", name, f"cannot be read: {exc.strerror or exc}"
                ) from None
            generated = f".dockerfile.{secrets.token_hex(10)}"
            extra[generated] = content
            return generated
    relative = clean_path(name.replace(os.sep, "/"))
    if relative.startswith("../") or relative == "..":
        raise InvalidArgument("dockerfile", name, "a relative path must stay inside the context")
    if not os.path.isfile(os.path.join(context_dir, relative)):
        raise InvalidArgument("dockerfile", name, f"not found in the context {context_dir}")
    return relative


def _guarded(body: bytes | Any, guard: BodyGuard) -> Any:
    return body if isinstance(body, bytes) else guard.wrap(body)


class _ByteCounter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, size: int) -> None:
        self.count += size


def _open_tar(path: str, chunk_size: int) -> Any:
    def chunks() -> Any:
        with open(path, "rb") as fh:
            while True:
                data = fh.read(chunk_size)
                if not data:
                    return
                yield data

    return chunks()
