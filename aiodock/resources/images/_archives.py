"""Image archives: ``save``/``save_many`` (``docker save``), ``load`` and ``import_image``.

:class:`ImageArchives` is the part of :class:`~aiodock.resources.images.Images` that
moves images in and out as tar archives, streamed both ways.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ... import _rules
from ..._http.request import Repeated, Request, quote_path
from ..._rules import PlatformLike
from ..._streams.frames import JSONStreamDecoder
from ..._streams.progress import BodyGuard, ImportStream, LoadStream
from ..._streams.streaming import AsyncStream, BytesDecoder
from ..._tar.tarstream import body_stream
from ...errors import ImageNotFound, InvalidArgument
from .._base import Resource
from ._context import _guarded

_TAR = "application/x-tar"


def _repeated(items: builtins.list[str] | None) -> Repeated | None:
    return None if items is None else Repeated(items)


# --- the namespace -----------------------------------------------------------------------


class ImageArchives(Resource):
    """Images in and out as tar archives (part of ``docker.images``)."""

    def save(self, name: str, *, platform: PlatformLike | None = None) -> AsyncStream[bytes]:
        """Export one image as a tar archive (``docker save``), streamed in chunks.

        ``async for chunk in docker.images.save("app:1")`` writes it anywhere
        without holding it in memory.

        Args:
            name: an image reference or id.
            platform: the platform variant to save, ``"os/arch[/variant]"`` or an OCI
                mapping; needs API 1.48.
        """
        path = f"/images/{quote_path(name, 'name')}/get"
        platforms = _repeated(_rules.platforms(platform, "platform"))
        stream: AsyncStream[bytes] = self._client._stream(
            Request(
                "GET",
                path,
                params={"platform": platforms},
                not_found=ImageNotFound,
                requires=None if platforms is None else ("platform", "1.48"),
            ),
            BytesDecoder(),
        )
        return stream

    def save_many(
        self,
        names: Sequence[str],
        *,
        platform: PlatformLike | Sequence[PlatformLike] | None = None,
    ) -> AsyncStream[bytes]:
        """Export several images into one tar archive, streamed in chunks.

        Args:
            names: image references or ids.
            platform: one platform or several, ``"os/arch[/variant]"`` or an OCI
                mapping; needs API 1.48.
        """
        if isinstance(names, str):
            names = [names]
        items = list(names)
        if not items:
            raise InvalidArgument("names", names, "expected at least one image")
        for item in items:
            if not isinstance(item, str) or not item:
                raise InvalidArgument("names", item, "expected non-empty strings")
        platforms = _repeated(_rules.platforms(platform, "platform"))
        stream: AsyncStream[bytes] = self._client._stream(
            Request(
                "GET",
                "/images/get",
                params={"names": Repeated(items), "platform": platforms},
                not_found=ImageNotFound,
                requires=None if platforms is None else ("platform", "1.48"),
            ),
            BytesDecoder(),
        )
        return stream

    def load(
        self,
        data: Any,
        *,
        quiet: bool = False,
        platform: PlatformLike | Sequence[PlatformLike] | None = None,
    ) -> LoadStream:
        """Load images from a tar archive made by :meth:`save` (``docker load``).

        ``await docker.images.load(data)`` returns a :class:`~aiodock.models.LoadResult`
        naming the images the daemon reported loading.

        Args:
            data: bytes, a binary file object or an async iterator of bytes; it is
                streamed, never read whole.
            quiet: suppress the progress output.
            platform: load only these platform variants; needs API 1.48.
        """
        guard = BodyGuard()
        body = _guarded(body_stream(data, parameter="data"), guard)
        platforms = _repeated(_rules.platforms(platform, "platform"))
        client = self._client

        async def prepare() -> None:
            if platforms is not None:
                await client._require_api("platform", "1.48")

        stream = client._stream(
            Request(
                "POST",
                "/images/load",
                params={"quiet": quiet, "platform": platforms},
                data=body,
                headers={"Content-Type": _TAR},
            ),
            JSONStreamDecoder(),
            stream_class=LoadStream,
        )
        stream._setup(prepare=prepare, body=guard)
        return stream

    def import_image(
        self,
        source: Any = None,
        *,
        url: str | None = None,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        changes: Sequence[str] | str | None = None,
        platform: PlatformLike | None = None,
    ) -> ImportStream:
        """Create an image from a root filesystem tarball (``docker import``).

        ``await docker.images.import_image(data)`` returns an
        :class:`~aiodock.models.ImportResult` with the new image's id.

        Args:
            source: bytes, a binary file object or an async iterator of bytes
                (streamed); leave it out when ``url`` is given.
            url: a URL for the daemon to download the tarball from.
            repository: the new image's repository; it may carry the tag.
            tag: the tag, when it is not in ``repository``.
            message: the commit message of the image.
            changes: Dockerfile instructions applied to the image.
            platform: the platform of the image, ``"os/arch[/variant]"`` or an OCI mapping.
        """
        if (source is None) == (url is None):
            raise InvalidArgument("source", source, "give exactly one of source or url=")
        repo, api_tag = _rules.optional_target(repository, tag)
        body = None
        guard = BodyGuard()
        headers: dict[str, str] = {}
        if source is not None:
            body = _guarded(body_stream(source, parameter="source"), guard)
            headers["Content-Type"] = _TAR
        elif not isinstance(url, str) or not url:
            raise InvalidArgument("url", url, "expected a URL")
        params = {
            "fromSrc": "-" if source is not None else url,
            "repo": repo,
            "tag": api_tag,
            "message": message,
            "changes": _repeated(_rules.changes(changes)),
            "platform": _rules.platform_str(platform),
        }
        stream = self._client._stream(
            Request("POST", "/images/create", params=params, data=body, headers=headers),
            JSONStreamDecoder(),
            stream_class=ImportStream,
        )
        stream._setup(body=guard)
        return stream
