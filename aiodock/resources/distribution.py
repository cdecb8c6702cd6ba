"""The ``distribution`` namespace: what a registry holds for an image reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _rules, models
from .._http.request import Request, quote_path
from .._registry.auth import AuthLike
from .._streams.progress import check_auth, registry_auth_header
from ..errors import ImageNotFound
from ._base import Resource

if TYPE_CHECKING:
    from ..models import DistributionInspect

__all__ = ["Distribution"]


class Distribution(Resource):
    """Registry-side information, fetched by the daemon."""

    __slots__ = ()

    async def inspect(self, image: str, *, auth: AuthLike | None = None) -> DistributionInspect:
        """The manifest descriptor (digest, media type, size) and platforms of ``image``.

        Asks the registry through the daemon without pulling anything. A refused
        login raises :class:`~aiodock.errors.RegistryAuthError`.

        Args:
            image: ``[registry/]repo[:tag|@digest]``.
            auth: an :class:`~aiodock.AuthConfig` or a mapping of its fields; when
                ``None``, credentials come from the docker config.
        """
        ref = _rules.reference(image, "image")
        check_auth(auth)
        path = f"/distribution/{quote_path(image, 'image')}/json"
        header = await registry_auth_header(auth, ref.registry_for_auth)
        return await self._client._model(
            Request(
                "GET",
                path,
                headers={"X-Registry-Auth": header},
                not_found=ImageNotFound,
                registry=True,
            ),
            models.DistributionInspect,
        )
