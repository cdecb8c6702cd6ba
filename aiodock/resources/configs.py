"""The ``configs`` namespace: non-sensitive files that swarm services mount.

Unlike secrets, a config's data comes back from inspect (base64 in
``config.spec.data``; :func:`aiodock.models.swarm.decode_data` gives the bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .. import _rules, models
from .._convert import unstructure
from .._filters import Filters, encode_filters
from .._http.request import Request, quote_path
from ..errors import NotFound
from ..models.swarm import encode_data
from ._swarm_base import SwarmResource, driver_of, version_index

if TYPE_CHECKING:
    from ..models import Config, Driver, ObjectVersion

__all__ = ["Configs"]

# Sent even when empty, as the engine's own client does: a driver's options too.
_CONFIG_KEEP = ("name", "labels", "templating.options")


class Configs(SwarmResource):
    """Create, list, inspect, relabel and remove swarm configs."""

    __slots__ = ()

    def _path(self, config_id: str, suffix: str = "") -> str:
        return "/configs/" + quote_path(config_id, "config_id") + suffix

    async def list(self, *, filters: Filters | None = None) -> list[Config]:
        """Configs of the swarm.

        Args:
            filters: ``id``, ``name``, ``label``.
        """
        await self._client._require_api("configs", "1.30")
        return await self._guard(
            self._client._models(
                Request("GET", "/configs", params={"filters": encode_filters(filters)}),
                models.Config,
            )
        )

    async def create(
        self,
        name: str,
        data: bytes | bytearray | memoryview | str,
        *,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        templating: str | Driver | None = None,
    ) -> str:
        """Store a config; returns its id.

        Args:
            name: the config's name.
            data: bytes, or text sent as UTF-8.
            labels: labels for the config.
            templating: a templating driver (``"golang"``) that expands the data
                for each task.
        """
        await self._client._require_api("configs", "1.30")
        request = models.ConfigCreateRequest(
            name=_rules.non_empty(name, "name"),
            labels=_rules.labels(labels, "labels") or {},
            data=encode_data(data),
            templating=driver_of(templating, "templating"),
        )
        body = unstructure(request, keep=(*_CONFIG_KEEP, "data"))
        answer = await self._guard(
            self._client._json(Request("POST", "/configs/create", body=body))
        )
        return str((answer or {}).get("ID", ""))

    async def inspect(self, config_id: str) -> Config:
        """A config, data included (base64 in ``spec.data``).

        Args:
            config_id: the config's id or name.
        """
        await self._client._require_api("configs", "1.30")
        return await self._guard(
            self._client._model(
                Request("GET", self._path(config_id), not_found=NotFound), models.Config
            )
        )

    async def update(
        self,
        config_id: str,
        *,
        labels: Mapping[str, str] | Sequence[str],
        version: int | ObjectVersion | None = None,
    ) -> None:
        """Replace a config's labels (the only thing the engine lets change).

        The current spec is read first and sent back with the new labels.

        Args:
            config_id: the config's id or name.
            labels: the new labels (they replace all the old ones).
            version: the version from an earlier inspect, so that a concurrent
                change fails with :class:`~aiodock.errors.Conflict`.
        """
        await self._client._require_api("configs", "1.30")
        new_labels = _rules.labels(labels, "labels") or {}
        index = None if version is None else version_index(version)
        current = await self.inspect(config_id)
        if index is None:
            index = version_index(current.version)
        spec = current.spec
        request = models.ConfigSpec(
            name=spec.name if spec else "",
            labels=new_labels,
            templating=spec.templating if spec is not None else None,
        )
        body = unstructure(request, keep=_CONFIG_KEEP)
        await self._guard(
            self._client._status(
                Request(
                    "POST",
                    self._path(current.id or config_id, "/update"),
                    params={"version": index},
                    body=body,
                    not_found=NotFound,
                )
            ),
            version=index,
        )

    async def remove(self, config_id: str) -> None:
        """Remove a config (refused while a service uses it).

        Args:
            config_id: the config's id or name.
        """
        await self._client._require_api("configs", "1.30")
        await self._guard(
            self._client._status(Request("DELETE", self._path(config_id), not_found=NotFound))
        )
