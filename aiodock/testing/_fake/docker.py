"""``FakeDocker``: the engine, its HTTP side, the scripting API and the state helpers in one
class."""

from __future__ import annotations

from collections.abc import Iterable

from .scripting import FakeScripting
from .state_helpers import FakeStateHelpers

__all__ = ["FakeDocker"]


class FakeDocker(FakeScripting, FakeStateHelpers):
    """An in-process Docker Engine on a unix socket (or loopback TCP with ``tcp=True``).

    Use ``async with FakeDocker() as fake:``; ``fake.host`` is its address and
    ``fake.client()`` a :class:`~aiodock.DockerClient` bound to it. Every
    route answers both with and without a ``/vX.Y`` prefix; a prefix newer
    than ``api_version`` is refused with 400 like the engine does.

    Args:
        api_version: the API version the fake announces (``/_ping``
            ``API-Version``) and the newest it accepts. Answers follow the
            request's version where the engine's do: from 1.42 hijacked
            attach/exec and logs bodies say ``multiplexed-stream`` or
            ``raw-stream`` in ``Content-Type`` and ``shared-size`` is
            honoured; from 1.44 images lose ``VirtualSize`` (1.45:
            ``Container``/``ContainerConfig``; 1.52: ``DockerVersion``,
            ``Parent``); from 1.52 events lose the legacy ``status``/``id``/
            ``from`` and come as ``application/jsonl``. ``MinAPIVersion`` is
            1.12, 1.24 from 1.44 and 1.44 from 1.52, and older requests get 400.
        tcp: listen on ``127.0.0.1:<free port>`` instead of a unix socket.
        images: references present from the start.
        engine_version: the engine version ``/version`` and the ``Server`` header report.
        os_type: the operating system the fake reports (``Ostype`` header, ``/version``).
        experimental: what the ``Docker-Experimental`` header and ``/version`` say.
        keepalive_timeout: seconds an idle keep-alive connection stays open.
    """

    def __init__(
        self,
        *,
        api_version: str = "1.41",
        tcp: bool = False,
        images: Iterable[str] = ("busybox:latest",),
        engine_version: str = "20.10.24",
        os_type: str = "linux",
        experimental: bool = False,
        keepalive_timeout: float = 75.0,
    ) -> None:
        super().__init__(
            api_version=api_version,
            tcp=tcp,
            engine_version=engine_version,
            os_type=os_type,
            experimental=experimental,
            keepalive_timeout=keepalive_timeout,
        )
        for ref in images:
            self.add_image(ref)

    async def __aenter__(self) -> FakeDocker:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> FakeDocker:
        """Start serving; returns ``self``."""
        if self._runner is None:
            await self._serve()
        return self
