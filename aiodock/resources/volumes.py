"""The ``volumes`` namespace: list, create, inspect, update, remove, prune."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .. import _rules, models
from .._convert import unstructure
from .._filters import Filters, encode_filters, normalize_filters
from .._http.request import NO_LIMIT, Request, quote_path
from ..errors import InvalidArgument, VolumeNotFound
from ._base import Resource

if TYPE_CHECKING:
    from ..models import ClusterVolumeSpec, Volume, VolumePruneResponse

__all__ = ["Volumes"]

_log = logging.getLogger("aiodock.volumes")


class Volumes(Resource):
    """Operations on volumes."""

    __slots__ = ()

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Volume]:
        """Volumes known to the daemon.

        Warnings the daemon sends with the list are logged on ``aiodock.volumes``.

        Args:
            filters: ``name``, ``driver``, ``label`` (``{"app": "web"}`` or
                ``{"app": True}``), ``dangling`` (``True``: not used by any container).
        """
        response = await self._client._model(
            Request("GET", "/volumes", params={"filters": encode_filters(filters)}),
            models.VolumeListResponse,
        )
        for warning in response.warnings:
            _log.warning("volume list: %s", warning)
        return response.volumes

    async def create(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        cluster_volume_spec: ClusterVolumeSpec | None = None,
    ) -> Volume:
        """Create a volume.

        Creating a volume whose name already exists with the same driver returns
        the existing one.

        Args:
            name: the volume's name; the daemon picks a random one when ``None``.
            driver: the volume driver (``"local"`` by default).
            driver_opts: driver options (for ``local``: ``type``, ``device``, ``o``).
            labels: labels for the volume.
            cluster_volume_spec: a swarm CSI volume's spec; needs API 1.42.
        """
        if name is not None:
            _rules.non_empty(name, "name")
        if driver is not None:
            _rules.non_empty(driver, "driver")
        opts = _rules.str_map(driver_opts, "driver_opts")
        labs = _rules.labels(labels, "labels")
        if cluster_volume_spec is not None:
            if not isinstance(cluster_volume_spec, models.ClusterVolumeSpec):
                raise InvalidArgument(
                    "cluster_volume_spec",
                    cluster_volume_spec,
                    "expected an aiodock.models.ClusterVolumeSpec",
                )
            await self._client._require_api("cluster_volume_spec", "1.42")
        request = models.VolumeCreateRequest(
            name=name or "",
            driver=driver or "",
            driver_opts=opts or {},
            labels=labs or {},
            cluster_volume_spec=cluster_volume_spec,
        )
        # An empty map given is sent as given.
        keep = [k for k, v in (("driver_opts", opts), ("labels", labs)) if v is not None]
        body = unstructure(request, keep=keep)
        return await self._client._model(
            Request("POST", "/volumes/create", body=body), models.Volume
        )

    async def inspect(self, name: str) -> Volume:
        """Details of one volume (raises :class:`~aiodock.errors.VolumeNotFound`).

        Args:
            name: the volume's name.
        """
        return await self._client._model(
            Request("GET", f"/volumes/{quote_path(name, 'name')}", not_found=VolumeNotFound),
            models.Volume,
        )

    async def update(self, name: str, *, version: int, spec: ClusterVolumeSpec) -> None:
        """Change the spec of a swarm cluster (CSI) volume; needs Engine API 1.42.

        Only cluster volumes can be updated.

        Args:
            name: the volume's name or id.
            version: the volume's current ``cluster_volume.version.index``; the
                daemon refuses a stale one, so concurrent updates cannot overwrite
                each other.
            spec: the new spec.
        """
        quoted = quote_path(name, "name")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidArgument("version", version, "expected a non-negative int")
        if not isinstance(spec, models.ClusterVolumeSpec):
            raise InvalidArgument("spec", spec, "expected an aiodock.models.ClusterVolumeSpec")
        await self._client._require_api("volumes.update", "1.42")
        await self._client._status(
            Request(
                "PUT",
                f"/volumes/{quoted}",
                params={"version": version},
                body=unstructure(models.VolumeUpdateRequest(spec=spec)),
                not_found=VolumeNotFound,
            )
        )

    async def remove(self, name: str, *, force: bool = False) -> None:
        """Remove a volume (raises :class:`~aiodock.errors.VolumeNotFound`).

        Args:
            name: the volume's name.
            force: remove it even if the driver fails to (a volume in use still
                raises ``Conflict``).
        """
        if not isinstance(force, bool):
            raise InvalidArgument("force", force, "expected a bool")
        await self._client._status(
            Request(
                "DELETE",
                f"/volumes/{quote_path(name, 'name')}",
                params={"force": force or None},
                not_found=VolumeNotFound,
            )
        )

    async def prune(self, *, filters: Filters | None = None) -> VolumePruneResponse:
        """Remove unused volumes; returns the names removed and the space freed.

        Has no total time limit.

        Args:
            filters: ``label``, ``label!``; from API 1.42 also ``all``: since then
                only anonymous volumes go unless ``all`` is true.
        """
        normalized = normalize_filters(filters)
        if "all" in normalized:
            await self._client._require_api("prune filter 'all'", "1.42")
        return await self._client._model(
            Request(
                "POST",
                "/volumes/prune",
                params={"filters": encode_filters(filters)},
                timeout=NO_LIMIT,
            ),
            models.VolumePruneResponse,
        )
