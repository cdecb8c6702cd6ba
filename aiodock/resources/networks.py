"""The ``networks`` namespace: list, inspect, create, remove, connect, disconnect, prune."""

from __future__ import annotations

import builtins
import ipaddress
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .. import _rules, models
from .._convert import unstructure
from .._filters import Filters, encode_filters
from .._http.request import NO_LIMIT, Request, quote_path
from ..errors import Conflict, InvalidArgument, NetworkNotFound, NotFound, ServerError
from ._base import Resource

if TYPE_CHECKING:
    from ..models import (
        IPAM,
        EndpointSettings,
        NetworkCreateResponse,
        NetworkInspect,
        NetworkPruneResponse,
        NetworkSummary,
    )

__all__ = ["Networks"]


def _optional_bool(parameter: str, value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(parameter, value, "expected True, False or None")
    return value


def _check_ip(parameter: str, value: str, *, network: bool) -> None:
    if not value:
        return
    try:
        if network:
            ipaddress.ip_network(value, strict=False)
        else:
            ipaddress.ip_address(value)
    except ValueError as exc:
        kind = "a CIDR subnet such as 10.250.0.0/24" if network else "an IP address"
        raise InvalidArgument(parameter, value, f"expected {kind}: {exc}") from None


def _check_ipam(ipam: IPAM) -> None:
    if not isinstance(ipam, models.IPAM):
        raise InvalidArgument("ipam", ipam, "expected an aiodock.models.IPAM")
    for i, config in enumerate(ipam.config):
        where = f"ipam.config[{i}]"
        _check_ip(f"{where}.subnet", config.subnet, network=True)
        _check_ip(f"{where}.ip_range", config.ip_range, network=True)
        _check_ip(f"{where}.gateway", config.gateway, network=False)
        for host, address in config.auxiliary_addresses.items():
            _check_ip(f"{where}.auxiliary_addresses[{host!r}]", address, network=False)


class Networks(Resource):
    """Operations on networks."""

    __slots__ = ()

    @staticmethod
    def _path(network_id: str, suffix: str = "") -> str:
        return f"/networks/{quote_path(network_id, 'network_id')}{suffix}"

    async def list(self, *, filters: Filters | None = None) -> builtins.list[NetworkSummary]:
        """Networks known to the daemon.

        Args:
            filters: ``name``, ``id``, ``driver``, ``label`` (``{"app": "web"}`` or
                ``{"app": True}``), ``scope`` (``local``, ``swarm``, ``global``),
                ``type`` (``custom``, ``builtin``), ``dangling``.
        """
        return await self._client._models(
            Request("GET", "/networks", params={"filters": encode_filters(filters)}),
            models.NetworkSummary,
        )

    async def inspect(
        self, network_id: str, *, verbose: bool = False, scope: str | None = None
    ) -> NetworkInspect:
        """Details of one network, including its attached containers.

        Raises :class:`~aiodock.errors.NetworkNotFound`.

        Args:
            network_id: the network's id or name.
            verbose: add swarm service details.
            scope: look only among ``local``, ``swarm`` or ``global`` networks.
        """
        if scope is not None and scope not in ("local", "swarm", "global"):
            raise InvalidArgument("scope", scope, "expected 'local', 'swarm' or 'global'")
        return await self._client._model(
            Request(
                "GET",
                self._path(network_id),
                params={"verbose": verbose or None, "scope": scope},
                not_found=NetworkNotFound,
            ),
            models.NetworkInspect,
        )

    async def create(
        self,
        name: str,
        *,
        driver: str | None = None,
        ipam: IPAM | None = None,
        internal: bool | None = None,
        attachable: bool | None = None,
        ingress: bool | None = None,
        enable_ipv4: bool | None = None,
        enable_ipv6: bool | None = None,
        options: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        scope: str | None = None,
        config_only: bool | None = None,
        config_from: str | None = None,
        check_duplicate: bool = True,
    ) -> NetworkCreateResponse:
        """Create a network; returns its id (and the daemon's warning, if any).

        Options left ``None`` take the daemon's defaults.

        Args:
            name: the network's name.
            driver: the driver (``"bridge"`` by default, ``"overlay"``, ``"macvlan"``...).
            ipam: address management, for example
                ``IPAM(config=[IPAMConfig(subnet="10.250.1.0/24", gateway="10.250.1.1")])``.
            internal: no external connectivity.
            attachable: standalone containers may join (swarm networks).
            ingress: the swarm routing-mesh network.
            enable_ipv4: IPv4 on the network; needs API 1.47.
            enable_ipv6: IPv6 on the network.
            options: driver options.
            labels: labels for the network.
            scope: ``"local"``, ``"swarm"`` or ``"global"``.
            config_only: a configuration placeholder other networks copy from.
            config_from: the ``config_only`` network to copy the configuration from.
            check_duplicate: ask daemons before API 1.44 to refuse a second network
                of the same name (newer daemons always refuse).
        """
        _rules.non_empty(name, "name")
        if driver is not None:
            _rules.non_empty(driver, "driver")
        if scope is not None and scope not in ("local", "swarm", "global"):
            raise InvalidArgument("scope", scope, "expected 'local', 'swarm' or 'global'")
        if config_from is not None:
            _rules.non_empty(config_from, "config_from")
        flags = {
            "internal": _optional_bool("internal", internal),
            "attachable": _optional_bool("attachable", attachable),
            "ingress": _optional_bool("ingress", ingress),
            "enable_ipv4": _optional_bool("enable_ipv4", enable_ipv4),
            "enable_ipv6": _optional_bool("enable_ipv6", enable_ipv6),
            "config_only": _optional_bool("config_only", config_only),
        }
        given = {k: v for k, v in flags.items() if v is not None}
        if ipam is not None:
            _check_ipam(ipam)
        opts = _rules.str_map(options, "options")
        labs = _rules.labels(labels, "labels")
        if enable_ipv4 is not None:
            await self._client._require_api("enable_ipv4", "1.47")
        check = bool(check_duplicate) and not await self._client._api_at_least("1.44")
        request = models.NetworkCreateRequest(
            name=name,
            driver=driver or "",
            scope=scope or "",
            ipam=ipam,
            options=opts or {},
            labels=labs or {},
            config_from=None
            if config_from is None
            else models.ConfigReference(network=config_from),
            check_duplicate=check,
            **given,
        )
        # A flag given as False is sent (the daemon reads a missing EnableIPv4/EnableIPv6
        # as its own default, which may be true), and so is an empty map given.
        keep = ["name", *given]
        keep += [k for k, v in (("options", opts), ("labels", labs)) if v is not None]
        body = unstructure(request, keep=keep)
        try:
            return await self._client._model(
                Request("POST", "/networks/create", body=body), models.NetworkCreateResponse
            )
        except ServerError as exc:
            # Podman answers a taken name with 500 ("network already exists"), Docker
            # with 409: raise the same class for both (the status stays what was sent).
            if exc.status == 500 and exc.message.endswith("network already exists"):
                raise Conflict(exc.status, exc.message, exc.method, exc.path) from None
            raise

    async def remove(self, network_id: str) -> None:
        """Remove a network.

        Raises :class:`~aiodock.errors.NetworkNotFound`, or ``Conflict``/``Forbidden``
        while containers use it or for the predefined networks.

        Args:
            network_id: the network's id or name.
        """
        await self._client._status(
            Request("DELETE", self._path(network_id), not_found=NetworkNotFound)
        )

    async def connect(
        self,
        network_id: str,
        container: str,
        *,
        endpoint_config: EndpointSettings | None = None,
        aliases: Sequence[str] | None = None,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        links: Sequence[str] | None = None,
    ) -> None:
        """Attach a container to a network.

        A missing network or container raises :class:`~aiodock.errors.NotFound`.

        Args:
            network_id: the network's id or name.
            container: the container's id or name.
            endpoint_config: the full endpoint description.
            aliases: DNS aliases of the container on this network (overrides
                ``endpoint_config``).
            ipv4_address: a fixed IPv4 address (overrides ``endpoint_config``).
            ipv6_address: a fixed IPv6 address (overrides ``endpoint_config``).
            links: legacy links, ``"container:alias"`` (overrides ``endpoint_config``).
        """
        _rules.non_empty(container, "container")
        if endpoint_config is not None and not isinstance(endpoint_config, models.EndpointSettings):
            raise InvalidArgument(
                "endpoint_config", endpoint_config, "expected an aiodock.models.EndpointSettings"
            )
        endpoint = endpoint_config or models.EndpointSettings()
        changes: dict[str, Any] = {}
        alias_list = None if aliases is None else _rules.strings(aliases, "aliases", empty=False)
        if alias_list is not None:
            changes["aliases"] = alias_list
        link_list = None if links is None else _rules.strings(links, "links", empty=False)
        if link_list is not None:
            changes["links"] = link_list
        if ipv4_address is not None or ipv6_address is not None:
            ipam = endpoint.ipam_config or models.EndpointIPAMConfig()
            if ipv4_address is not None:
                _check_ip("ipv4_address", ipv4_address, network=False)
                if ":" in ipv4_address:
                    raise InvalidArgument("ipv4_address", ipv4_address, "not an IPv4 address")
                ipam = attrs.evolve(ipam, ipv4_address=ipv4_address)
            if ipv6_address is not None:
                _check_ip("ipv6_address", ipv6_address, network=False)
                if ":" not in ipv6_address:
                    raise InvalidArgument("ipv6_address", ipv6_address, "not an IPv6 address")
                ipam = attrs.evolve(ipam, ipv6_address=ipv6_address)
            changes["ipam_config"] = ipam
        if changes:
            endpoint = attrs.evolve(endpoint, **changes)
        if endpoint.ipam_config is not None:
            _check_ip("ipv4_address", endpoint.ipam_config.ipv4_address, network=False)
            _check_ip("ipv6_address", endpoint.ipam_config.ipv6_address, network=False)
        request = models.NetworkConnectRequest(
            container=container,
            endpoint_config=None if endpoint == models.EndpointSettings() else endpoint,
        )
        body = unstructure(request, keep=("container",))
        await self._client._status(
            Request("POST", self._path(network_id, "/connect"), body=body, not_found=NotFound)
        )

    async def disconnect(self, network_id: str, container: str, *, force: bool = False) -> None:
        """Detach a container from a network.

        Args:
            network_id: the network's id or name.
            container: the container's id or name.
            force: also when it is not running or, for swarm networks, when the
                container is gone.
        """
        _rules.non_empty(container, "container")
        if not isinstance(force, bool):
            raise InvalidArgument("force", force, "expected a bool")
        body = unstructure(
            models.NetworkDisconnectRequest(container=container, force=force), keep=("container",)
        )
        await self._client._status(
            Request("POST", self._path(network_id, "/disconnect"), body=body, not_found=NotFound)
        )

    async def prune(self, *, filters: Filters | None = None) -> NetworkPruneResponse:
        """Remove every unused network matching ``filters``; returns the names removed.

        Has no total time limit.

        Args:
            filters: ``until``, ``label``, ``label!``.
        """
        return await self._client._model(
            Request(
                "POST",
                "/networks/prune",
                params={"filters": encode_filters(filters)},
                timeout=NO_LIMIT,
            ),
            models.NetworkPruneResponse,
        )
