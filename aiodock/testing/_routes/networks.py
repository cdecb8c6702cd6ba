"""Network routes: list, inspect, create, remove, connect and disconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._state.containers import Endpoint
from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.networks import FakeNetwork
from .._state.values import new_id
from .._wire import Answer, FakeRequest, empty_response, json_response
from .args import fake_of

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = [
    "network_connect",
    "network_create",
    "network_disconnect",
    "network_inspect",
    "network_list",
    "network_remove",
]


def _network_matches(n: FakeNetwork, filters: dict[str, list[str]]) -> bool:
    if "name" in filters and not any(v in n.name for v in filters["name"]):
        return False
    if "id" in filters and not any(n.id.startswith(v) for v in filters["id"]):
        return False
    if "driver" in filters and n.driver not in filters["driver"]:
        return False
    if "label" in filters and not labels_match(n.labels, filters["label"]):
        return False
    if "type" in filters:
        kind = "builtin" if n.builtin else "custom"
        if kind not in filters["type"]:
            return False
    return not ("scope" in filters and n.scope not in filters["scope"])


async def network_list(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("dangling", "driver", "id", "label", "name", "scope", "type"))
    items = [_network_doc(fake, n) for n in fake.networks.values() if _network_matches(n, filters)]
    return json_response(items)


def _network_doc(fake: FakeDocker, net: FakeNetwork) -> dict[str, Any]:
    doc = net.inspect()
    _, address = net.addresses()
    # Only running containers have an endpoint (an address) on the network.
    doc["Containers"] = {
        c.id: {
            "Name": c.name,
            "EndpointID": "",
            "MacAddress": "",
            "IPv4Address": f"{(c.endpoints[net.id].ipam or {}).get('IPv4Address') or address}/16",
            "IPv6Address": "",
        }
        for c in fake.containers.values()
        if c.running and net.id in c.endpoints
    }
    return doc


async def network_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    return json_response(_network_doc(fake, fake._network(req.params["id"])))


def _endpoint_request(req: FakeRequest) -> tuple[FakeNetwork, dict[str, Any]]:
    fake = fake_of(req)
    content_type = req.headers.get("Content-Type", "")
    if content_type and content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise Answer(400, f"Content-Type specified ({content_type}) must be 'application/json'")
    if not req.body.strip():
        raise Answer(400, "got EOF while reading request body")
    body = req.json_object()
    net = fake._network(req.params["id"])
    return net, body


_HOST_NETWORK = "container cannot be disconnected from host network or connected to host network"


async def network_connect(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    net, body = _endpoint_request(req)
    c = fake._container(str(body.get("Container") or ""))
    if net.name == "host" or c.network_mode() == "host":
        raise Answer(400, _HOST_NETWORK)
    endpoint = Endpoint.from_config(body.get("EndpointConfig"))
    if c.running:
        if net.id in c.endpoints:
            raise Answer(403, f"endpoint with name {c.name} already exists in network {net.name}")
        endpoint.joined = True
        c.endpoints[net.id] = endpoint
        fake._network_event(c, net.id, "connect")
    else:
        # A stopped container only records the wish; the start joins it.
        c.endpoints[net.id] = endpoint
    fake._notify()
    return web.Response(status=200)


async def network_disconnect(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    net, body = _endpoint_request(req)
    ref = str(body.get("Container") or "")
    c = fake._find_container(ref)
    if c is None:
        if body.get("Force"):
            raise Answer(404, f"endpoint {ref} not found")
        raise Answer(404, f"No such container: {ref}")
    if net.name == "host":
        raise Answer(400, _HOST_NETWORK)
    if net.id not in c.endpoints:
        the = "" if c.running else "the "
        raise Answer(500, f"container {c.id} is not connected to {the}network {net.name}")
    del c.endpoints[net.id]
    fake._network_event(c, net.id, "disconnect")
    fake._notify()
    return web.Response(status=200)


async def network_create(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    body = req.json_object()
    name = body.get("Name")
    if not name:
        raise Answer(400, "network name is required")
    existing = [n for n in fake.networks.values() if n.name == name]
    warning = ""
    if existing:
        if body.get("CheckDuplicate") or any(n.builtin for n in existing):
            raise Answer(409, f"network with name {name} already exists")
        warning = f"Network with name {name} (id : {existing[0].id}) already exists"
    ipam = body.get("IPAM") or {"Driver": "default", "Options": None, "Config": []}
    net = FakeNetwork(
        id=new_id(),
        name=str(name),
        driver=str(body.get("Driver") or "bridge"),
        internal=bool(body.get("Internal", False)),
        attachable=bool(body.get("Attachable", False)),
        ingress=bool(body.get("Ingress", False)),
        enable_ipv6=bool(body.get("EnableIPv6", False)),
        ipam={"Driver": "default", "Options": None, "Config": [], **ipam},
        options=dict(body.get("Options") or {}),
        labels=dict(body.get("Labels") or {}),
    )
    fake.networks[net.id] = net
    fake.emit_event("network", "create", net.id, {"name": net.name, "type": net.driver})
    return json_response({"Id": net.id, "Warning": warning}, 201)


async def network_remove(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    net = fake._network(req.params["id"])
    if net.builtin:
        raise Answer(403, f"{net.name} is a pre-defined network and cannot be removed")
    if any(c.running and net.id in c.endpoints for c in fake.containers.values()):
        raise Answer(
            403,
            f"error while removing network: network {net.name} id {net.id} has active endpoints",
        )
    for c in fake.containers.values():
        c.endpoints.pop(net.id, None)
    del fake.networks[net.id]
    fake.emit_event("network", "destroy", net.id, {"name": net.name, "type": net.driver})
    return empty_response(204)
