"""Build secrets (``RUN --mount=type=secret``) served through ``Secrets/GetSecret``.

A :class:`BuildSecret` says where the value comes from (bytes, a file, an
environment variable) and is read only when the daemon asks for it. Its
repr, and every error about it, names the source, never the value.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import TypeAlias

from ..errors import InvalidArgument
from . import _proto as pb
from .session import INTERNAL, NOT_FOUND, Call, GrpcError, Handler

__all__ = ["BuildSecret", "SecretLike", "normalize_secrets", "secrets_handler"]


class BuildSecret:
    """A build secret (``RUN --mount=type=secret``): where its value comes from.

    ``BuildSecret(b"...")`` holds the value; ``BuildSecret.from_file(path)``
    and ``BuildSecret.from_env(name)`` read it only when the build asks.
    The repr shows the source, never the value.

    Args:
        value: the secret's value (``str`` is encoded as UTF-8).
    """

    __slots__ = ("_env", "_path", "_value")

    def __init__(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode()
        if not isinstance(value, bytes):
            raise InvalidArgument("secrets", type(value).__name__, "expected bytes or str")
        self._value: bytes | None = value
        self._path: str | None = None
        self._env: str | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> BuildSecret:
        """The content of a file, read when the build asks for it.

        Args:
            path: the file; ``~`` is expanded, a relative path is taken from
                the current directory now.
        """
        secret = cls(b"")
        secret._value = None
        secret._path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        return secret

    @classmethod
    def from_env(cls, name: str) -> BuildSecret:
        """The value of an environment variable, read when the build asks for it.

        Args:
            name: the variable's name.
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgument("secrets", name, "from_env needs a variable name")
        secret = cls(b"")
        secret._value = None
        secret._env = name
        return secret

    def __repr__(self) -> str:
        if self._path is not None:
            return f"BuildSecret.from_file({self._path!r})"
        if self._env is not None:
            return f"BuildSecret.from_env({self._env!r})"
        return "BuildSecret(<hidden>)"

    def check(self, secret_id: str) -> None:
        """Fail early, before the build, when the source is missing.

        Args:
            secret_id: the secret's id, named in the error.
        """
        if self._path is not None and not os.path.isfile(self._path):
            raise InvalidArgument(f"secrets[{secret_id!r}]", self, "no such file")
        if self._env is not None and self._env not in os.environ:
            raise InvalidArgument(f"secrets[{secret_id!r}]", self, "the variable is not set")

    def _read(self) -> bytes:
        if self._value is not None:
            return self._value
        if self._env is not None:
            value = os.environ.get(self._env)
            if value is None:
                raise LookupError(f"environment variable {self._env} is not set")
            return os.fsencode(value)
        path = self._path
        if path is None:  # the constructor takes exactly one source: cannot happen
            raise LookupError("the secret has no source")
        with open(path, "rb") as fh:
            return fh.read(_MAX_SECRET + 1)


#: BuildKit refuses secrets above 500 KiB.
_MAX_SECRET = 500 * 1024

SecretLike: TypeAlias = "BuildSecret | bytes | str"


def normalize_secrets(secrets: Mapping[str, SecretLike] | None) -> dict[str, BuildSecret]:
    """Check the ``secrets=`` argument: id -> :class:`BuildSecret` (bytes or str become values)."""
    if secrets is None:
        return {}
    if not isinstance(secrets, Mapping):
        raise InvalidArgument(
            "secrets", type(secrets).__name__, "expected a mapping id -> BuildSecret"
        )
    result: dict[str, BuildSecret] = {}
    for key, value in secrets.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgument("secrets", key, "a secret id must be a non-empty string")
        if isinstance(value, (bytes, str)):
            value = BuildSecret(value)
        elif not isinstance(value, BuildSecret):
            raise InvalidArgument(
                f"secrets[{key!r}]", type(value).__name__, "expected BuildSecret, bytes or str"
            )
        value.check(key)
        result[key] = value
    return result


def secrets_handler(secrets: Mapping[str, BuildSecret]) -> Handler:
    async def handle(call: Call) -> None:
        request = await call.recv()
        secret_id = pb.text(pb.first(request or b"", 1, b""))
        secret = secrets.get(secret_id)
        if secret is None:
            raise GrpcError(NOT_FOUND, f"secret {secret_id} not found")
        try:
            value = await asyncio.to_thread(secret._read)
        except (OSError, LookupError) as exc:
            # the message names the source, never content
            raise GrpcError(INTERNAL, f"secret {secret_id}: {type(exc).__name__}") from None
        if len(value) > _MAX_SECRET:
            raise GrpcError(INTERNAL, f"secret {secret_id} is larger than 500 KiB")
        await call.send(pb.bytes_field(1, value))

    return handle
