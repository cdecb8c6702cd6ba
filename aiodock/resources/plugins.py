"""The ``plugins`` namespace: managed (v2) Engine plugins.

Pull and upgrade return a :class:`~aiodock.PullStream`, push a
:class:`~aiodock.PushStream`: ``await`` the call to run it to its end and get
its result, or iterate it for :class:`~aiodock.models.progress.ProgressMessage`
items first; errors the daemon reports inside it raise. A
plugin asks for privileges (host network, mounts, capabilities...): fetch
them with :meth:`Plugins.privileges`, review them, and pass them to
:meth:`Plugins.pull` / :meth:`Plugins.upgrade` (or pass
``grant_all_privileges=True`` to accept whatever the plugin asks for).

:meth:`Plugins.create` builds a plugin from a directory holding ``rootfs/``
and ``config.json`` (or a ``config`` given here), sent as a tar made on the
fly.
"""

from __future__ import annotations

import builtins
import os
import stat
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import models
from .._convert import json_dumps, unstructure
from .._filters import Filters, encode_filters
from .._http.request import NO_LIMIT, Request, quote_path
from .._registry.auth import AuthLike
from .._registry.reference import parse_reference
from .._streams.progress import (
    PullStream,
    PushStream,
    check_auth,
    registry_auth_header,
    registry_stream,
)
from .._tar.dockerignore import PatternMatcher
from .._tar.tarstream import aiter_sync, body_stream, tar_directory
from ..errors import InvalidArgument, PluginNotFound
from ._base import Resource

if TYPE_CHECKING:
    from ..models import Plugin, PluginConfig, PluginPrivilege

__all__ = ["Plugins"]

_CONFIG_FILE = "config.json"


def _name(name: str, parameter: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(
            parameter, name, "expected a plugin name such as 'vieux/sshfs:latest'"
        )
    return name


def _registry(remote: str, parameter: str) -> str:
    try:
        return parse_reference(remote).registry_for_auth
    except InvalidArgument as exc:
        raise InvalidArgument(parameter, remote, exc.reason) from None


def _privileges_body(privileges: Sequence[PluginPrivilege] | None) -> list[dict[str, Any]]:
    if privileges is None:
        return []
    out = []
    for item in privileges:
        if not isinstance(item, models.PluginPrivilege):
            raise InvalidArgument(
                "privileges", item, "expected PluginPrivilege items (from plugins.privileges())"
            )
        out.append(unstructure(item, keep=("name", "description", "value")))
    return out


def _settings(settings: Mapping[str, str] | Sequence[str]) -> list[str]:
    if isinstance(settings, Mapping):
        out = []
        for key, value in settings.items():
            if not isinstance(key, str) or not key or "=" in key or not isinstance(value, str):
                raise InvalidArgument(
                    "settings", key, "expected names without '=' mapped to string values"
                )
            out.append(f"{key}={value}")
        return out
    if isinstance(settings, str):
        settings = [settings]
    items = list(settings)
    for item in items:
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise InvalidArgument("settings", item, "expected 'NAME=value' strings")
    return items


def _config_bytes(config: PluginConfig | Mapping[str, Any]) -> bytes:
    if isinstance(config, models.PluginConfig):
        return json_dumps(unstructure(config))
    if isinstance(config, Mapping):
        return json_dumps(dict(config))
    raise InvalidArgument("config", type(config).__name__, "expected a PluginConfig or a mapping")


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _plugin_tar(root: str, config: PluginConfig | Mapping[str, Any] | None) -> Any:
    """The tar stream of a plugin directory (``rootfs/`` + ``config.json``), checked first."""
    if not _is_dir(root):
        raise InvalidArgument("path", root, "is not a directory")
    if not _is_dir(os.path.join(root, "rootfs")):
        raise InvalidArgument("path", root, "has no rootfs/ directory")
    extra: dict[str, bytes] = {}
    excludes = None
    if config is not None:
        extra[_CONFIG_FILE] = _config_bytes(config)
        excludes = PatternMatcher([_CONFIG_FILE])
    elif not os.path.isfile(os.path.join(root, _CONFIG_FILE)):
        raise InvalidArgument("config", None, f"{root} has no {_CONFIG_FILE}; pass config=")
    return aiter_sync(tar_directory(root, excludes=excludes, extra_files=extra))


class Plugins(Resource):
    """Install, configure, enable, share and remove managed plugins."""

    __slots__ = ()

    def _path(self, name: str, suffix: str = "") -> str:
        return "/plugins/" + quote_path(_name(name), "name") + suffix

    async def list(self, *, filters: Filters | None = None) -> list[Plugin]:
        """Installed plugins.

        Args:
            filters: ``capability``, ``enabled``.
        """
        return await self._client._models(
            Request("GET", "/plugins", params={"filters": encode_filters(filters)}), models.Plugin
        )

    async def privileges(
        self, remote: str, *, auth: AuthLike | None = None
    ) -> builtins.list[PluginPrivilege]:
        """What the plugin at ``remote`` asks to be allowed, before pulling it.

        Args:
            remote: the plugin reference, e.g. ``"vieux/sshfs:latest"``.
            auth: registry credentials; when ``None``, from the docker config.
        """
        _name(remote, "remote")
        registry = _registry(remote, "remote")
        check_auth(auth)
        await self._client._require_api("plugin privileges", "1.25")
        header = await registry_auth_header(auth, registry)
        return await self._client._models(
            Request(
                "GET",
                "/plugins/privileges",
                params={"remote": remote},
                headers={"X-Registry-Auth": header},
            ),
            models.PluginPrivilege,
        )

    def _install_stream(
        self,
        path: str,
        params: dict[str, Any],
        remote: str,
        *,
        privileges: Sequence[PluginPrivilege] | None,
        grant_all_privileges: bool,
        auth: AuthLike | None,
        min_api: str,
        operation: str,
    ) -> PullStream:
        registry = _registry(remote, "remote")
        check_auth(auth)
        if grant_all_privileges and privileges is not None:
            raise InvalidArgument(
                "grant_all_privileges", True, "give either privileges or grant_all_privileges"
            )
        # Sent as JSON when the request goes out, so ``prepare`` can still fill it in.
        body = _privileges_body(privileges)

        async def grant_all() -> None:
            body[:] = _privileges_body(await self.privileges(remote, auth=auth))

        return registry_stream(
            self._client,
            path,
            PullStream,
            registry=registry,
            reference=remote,
            auth=auth,
            not_found=PluginNotFound,
            requirement=(operation, min_api),
            then=grant_all if grant_all_privileges else None,
            params=params,
            body=body,
        )

    def pull(
        self,
        remote: str,
        *,
        name: str | None = None,
        privileges: Sequence[PluginPrivilege] | None = None,
        grant_all_privileges: bool = False,
        auth: AuthLike | None = None,
    ) -> PullStream:
        """Install the plugin at ``remote`` (disabled); enable it with :meth:`enable`.

        ``await`` it to install; it returns a :class:`~aiodock.models.PullResult`.

        Args:
            remote: the plugin reference, e.g. ``"vieux/sshfs:latest"``.
            name: the local name to install it under (default: ``remote``).
            privileges: the privileges to grant; they must match what the plugin
                asks for (:meth:`privileges`).
            grant_all_privileges: fetch what it asks for and grant it all.
            auth: registry credentials; when ``None``, from the docker config.
        """
        _name(remote, "remote")
        if name is not None:
            _name(name)
        return self._install_stream(
            "/plugins/pull",
            {"remote": remote, "name": name},
            remote,
            privileges=privileges,
            grant_all_privileges=grant_all_privileges,
            auth=auth,
            min_api="1.24",
            operation="plugin pull",
        )

    def upgrade(
        self,
        name: str,
        remote: str,
        *,
        privileges: Sequence[PluginPrivilege] | None = None,
        grant_all_privileges: bool = False,
        auth: AuthLike | None = None,
    ) -> PullStream:
        """Replace a (disabled) plugin's files with those of ``remote``, keeping its settings.

        ``await`` it to upgrade; it returns a :class:`~aiodock.models.PullResult`.

        Args:
            name: the installed plugin's name.
            remote: the plugin reference to upgrade to.
            privileges: the privileges to grant; they must match what it asks for.
            grant_all_privileges: fetch what it asks for and grant it all.
            auth: registry credentials; when ``None``, from the docker config.
        """
        path = self._path(name, "/upgrade")
        _name(remote, "remote")
        return self._install_stream(
            path,
            {"remote": remote},
            remote,
            privileges=privileges,
            grant_all_privileges=grant_all_privileges,
            auth=auth,
            min_api="1.26",
            operation="plugin upgrade",
        )

    def push(self, name: str, *, auth: AuthLike | None = None) -> PushStream:
        """Push a plugin to the registry its name points at.

        ``await`` it to push; it returns a :class:`~aiodock.models.PushResult`.

        A refused login raises an :class:`~aiodock.errors.Unauthorized` (the
        registry auth error).

        Args:
            name: the plugin's name.
            auth: registry credentials; when ``None``, from the docker config.
        """
        path = self._path(name, "/push")
        registry = _registry(name, "name")
        check_auth(auth)
        return registry_stream(
            self._client,
            path,
            PushStream,
            registry=registry,
            reference=name,
            auth=auth,
            not_found=PluginNotFound,
            requirement=("plugin push", "1.25"),
        )

    async def inspect(self, name: str) -> Plugin:
        """One installed plugin: its config, settings and whether it is enabled.

        Args:
            name: the plugin's name or id.
        """
        path = self._path(name, "/json")
        await self._client._require_api("plugin inspect", "1.25")
        return await self._client._model(
            Request("GET", path, not_found=PluginNotFound), models.Plugin
        )

    async def remove(self, name: str, *, force: bool = False) -> None:
        """Remove a plugin.

        Args:
            name: the plugin's name or id.
            force: needed for an enabled plugin.
        """
        await self._client._status(
            Request(
                "DELETE",
                self._path(name),
                params={"force": True if force else None},
                not_found=PluginNotFound,
            )
        )

    async def enable(self, name: str, *, timeout: int = 0) -> None:
        """Start a plugin.

        Args:
            name: the plugin's name or id.
            timeout: seconds it may take to answer (0: the engine's default).
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise InvalidArgument("timeout", timeout, "expected whole seconds >= 0")
        await self._client._status(
            Request(
                "POST",
                self._path(name, "/enable"),
                params={"timeout": timeout},
                not_found=PluginNotFound,
                timeout=NO_LIMIT if timeout else None,
            )
        )

    async def disable(self, name: str, *, force: bool = False) -> None:
        """Stop a plugin.

        Args:
            name: the plugin's name or id.
            force: even while something uses it.
        """
        await self._client._status(
            Request(
                "POST",
                self._path(name, "/disable"),
                params={"force": True if force else None},
                not_found=PluginNotFound,
            )
        )

    async def set(self, name: str, settings: Mapping[str, str] | Sequence[str]) -> None:
        """Change a (disabled) plugin's settable values.

        Args:
            name: the plugin's name or id.
            settings: names mapped to values, or a list of ``"NAME=value"``:
                environment variables (``DEBUG=1``), ``<mount>.source=/path``,
                ``<device>.path=/dev/x`` and ``args=...``.
        """
        path = self._path(name, "/set")
        body = _settings(settings)
        await self._client._require_api("plugin set", "1.25")
        await self._client._status(Request("POST", path, body=body, not_found=PluginNotFound))

    async def create(
        self,
        name: str,
        path: str | os.PathLike[str] | None = None,
        *,
        config: PluginConfig | Mapping[str, Any] | None = None,
        archive: Any = None,
    ) -> None:
        """Create a plugin from local files (``docker plugin create``); it is created disabled.

        Args:
            name: the new plugin's name.
            path: a directory holding ``rootfs/`` (the plugin's filesystem) and
                ``config.json``, sent as a tar made on the fly.
            config: a :class:`~aiodock.models.PluginConfig` or a mapping in the
                engine's JSON form that replaces ``config.json``.
            archive: such a tar already (bytes, a binary file object or an async
                iterator of bytes), instead of ``path``.
        """
        _name(name)
        if (path is None) == (archive is None):
            raise InvalidArgument("path", path, "give either a plugin directory or an archive")
        data: Any
        if path is not None:
            data = _plugin_tar(os.fspath(path), config)
        else:
            if config is not None:
                raise InvalidArgument("config", "<config>", "an archive already holds config.json")
            data = body_stream(archive, parameter="archive")
        await self._client._require_api("plugin create", "1.25")
        await self._client._status(
            Request(
                "POST",
                "/plugins/create",
                params={"name": name},
                data=data,
                headers={"Content-Type": "application/x-tar"},
                timeout=NO_LIMIT,
            )
        )
