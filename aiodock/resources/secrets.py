"""The ``secrets`` namespace: sensitive data that swarm services mount as files.

Secret data goes to the engine base64-encoded and never comes back (inspect
shows only the metadata). It is never put in a ``repr``, a log or an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .. import _rules, models
from .._filters import Filters, encode_filters
from .._http.request import Request, quote_path
from ..errors import InvalidArgument, NotFound
from ..models.swarm import SecretCreate
from ._swarm_base import SwarmResource, driver_of, version_index

if TYPE_CHECKING:
    from ..models import Driver, ObjectVersion, Secret

__all__ = ["Secrets"]


def _raw(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidArgument("data", f"<{type(data).__name__}>", "expected bytes or str")


class Secrets(SwarmResource):
    """Create, list, inspect, relabel and remove swarm secrets."""

    __slots__ = ()

    def _path(self, secret_id: str, suffix: str = "") -> str:
        return "/secrets/" + quote_path(secret_id, "secret_id") + suffix

    async def list(self, *, filters: Filters | None = None) -> list[Secret]:
        """Secrets (metadata only).

        Args:
            filters: ``id``, ``name``, ``label``.
        """
        await self._client._require_api("secrets", "1.25")
        return await self._guard(
            self._client._models(
                Request("GET", "/secrets", params={"filters": encode_filters(filters)}),
                models.Secret,
            )
        )

    async def create(
        self,
        name: str,
        data: bytes | bytearray | memoryview | str = b"",
        *,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        driver: str | Driver | None = None,
        templating: str | Driver | None = None,
    ) -> str:
        """Store a secret; returns its id.

        Args:
            name: the secret's name.
            data: bytes (or text, sent as UTF-8) of at most 500 KiB; stays empty
                with ``driver``.
            labels: labels for the secret.
            driver: a secrets driver (name or :class:`~aiodock.models.Driver`) that
                keeps the secret in an external store.
            templating: a templating driver (``"golang"``) that expands the data
                for each task.
        """
        await self._client._require_api("secrets", "1.25")
        request = SecretCreate(
            name=_rules.non_empty(name, "name"),
            data=_raw(data),
            labels=_rules.labels(labels, "labels") or {},
            driver=driver_of(driver, "driver"),
            templating=driver_of(templating, "templating"),
        )
        if not request.data and request.driver is None:
            raise InvalidArgument("data", "<empty>", "a secret needs data (or a driver)")
        answer = await self._guard(
            self._client._json(Request("POST", "/secrets/create", body=request.to_wire()))
        )
        return str((answer or {}).get("ID", ""))

    async def inspect(self, secret_id: str) -> Secret:
        """A secret's metadata (the engine never returns the data).

        Args:
            secret_id: the secret's id or name.
        """
        await self._client._require_api("secrets", "1.25")
        return await self._guard(
            self._client._model(
                Request("GET", self._path(secret_id), not_found=NotFound), models.Secret
            )
        )

    async def update(
        self,
        secret_id: str,
        *,
        labels: Mapping[str, str] | Sequence[str],
        version: int | ObjectVersion | None = None,
    ) -> None:
        """Replace a secret's labels (the only thing the engine lets change).

        The current spec is read first.

        Args:
            secret_id: the secret's id or name.
            labels: the new labels (they replace all the old ones).
            version: the version from an earlier inspect; the update then fails with
                :class:`~aiodock.errors.Conflict` if the secret changed since.
                Without it the version just read is used.
        """
        await self._client._require_api("secret update", "1.26")
        new_labels = _rules.labels(labels, "labels") or {}
        index = None if version is None else version_index(version)
        current = await self.inspect(secret_id)
        if index is None:
            index = version_index(current.version)
        spec = current.spec
        body = SecretCreate(
            name=spec.name if spec is not None else "",
            labels=new_labels,
            driver=spec.driver if spec is not None else None,
            templating=spec.templating if spec is not None else None,
        ).to_wire()
        await self._guard(
            self._client._status(
                Request(
                    "POST",
                    self._path(current.id or secret_id, "/update"),
                    params={"version": index},
                    body=body,
                    not_found=NotFound,
                )
            ),
            version=index,
        )

    async def remove(self, secret_id: str) -> None:
        """Remove a secret (refused while a service uses it).

        Args:
            secret_id: the secret's id or name.
        """
        await self._client._require_api("secrets", "1.25")
        await self._guard(
            self._client._status(Request("DELETE", self._path(secret_id), not_found=NotFound))
        )
