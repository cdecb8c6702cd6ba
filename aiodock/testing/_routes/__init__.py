"""The built-in routes of the fake engine: HTTP in, state changes and engine-shaped JSON out.

One module per family of routes; this table puts them in the order they are tried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _build, _build_buildkit
from .._registry import image_push
from .._wire import FakeRequest
from .archive import archive_get, archive_put
from .container_streams import container_attach, container_logs, container_stats
from .containers import (
    container_create,
    container_inspect,
    container_kill,
    container_list,
    container_pause,
    container_remove,
    container_rename,
    container_resize,
    container_restart,
    container_start,
    container_stop,
    container_top,
    container_unpause,
    container_wait,
)
from .events import events
from .exec import exec_create, exec_inspect, exec_resize, exec_start
from .images import image_inspect, image_list, image_pull, image_remove, image_tag
from .networks import (
    network_connect,
    network_create,
    network_disconnect,
    network_inspect,
    network_list,
    network_remove,
)
from .prune import build_prune, container_prune, image_prune, network_prune, volume_prune
from .system import info, ping, system_df, version
from .volumes import volume_create, volume_inspect, volume_list, volume_remove

__all__ = ["builtin_routes"]

Handler = Callable[[FakeRequest], Any]


def builtin_routes() -> list[tuple[str, str, Handler]]:
    """``(method, pattern, handler)`` for every built-in route, most specific first."""
    return [
        ("GET", "/_ping", ping),
        ("HEAD", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
        ("GET", "/events", events),
        ("GET", "/system/df", system_df),
        ("POST", "/containers/prune", container_prune),
        ("POST", "/images/prune", image_prune),
        ("POST", "/networks/prune", network_prune),
        ("POST", "/volumes/prune", volume_prune),
        ("POST", "/build/prune", build_prune),
        ("POST", "/containers/create", container_create),
        ("GET", "/containers/json", container_list),
        ("GET", "/containers/{id}/json", container_inspect),
        ("POST", "/containers/{id}/start", container_start),
        ("POST", "/containers/{id}/stop", container_stop),
        ("POST", "/containers/{id}/restart", container_restart),
        ("POST", "/containers/{id}/kill", container_kill),
        ("POST", "/containers/{id}/pause", container_pause),
        ("POST", "/containers/{id}/unpause", container_unpause),
        ("POST", "/containers/{id}/rename", container_rename),
        ("POST", "/containers/{id}/wait", container_wait),
        ("GET", "/containers/{id}/logs", container_logs),
        ("GET", "/containers/{id}/top", container_top),
        ("GET", "/containers/{id}/stats", container_stats),
        ("POST", "/containers/{id}/resize", container_resize),
        ("POST", "/containers/{id}/attach", container_attach),
        ("POST", "/containers/{id}/exec", exec_create),
        ("GET", "/containers/{id}/archive", archive_get),
        ("HEAD", "/containers/{id}/archive", archive_get),
        ("PUT", "/containers/{id}/archive", archive_put),
        ("DELETE", "/containers/{id}", container_remove),
        ("POST", "/exec/{id}/start", exec_start),
        ("POST", "/exec/{id}/resize", exec_resize),
        ("GET", "/exec/{id}/json", exec_inspect),
        ("POST", "/build", _build.build),
        ("POST", "/build/cancel", _build.build_cancel),
        ("POST", "/session", _build_buildkit.session),
        ("GET", "/images/json", image_list),
        ("POST", "/images/create", image_pull),
        ("GET", "/images/{name:.+}/json", image_inspect),
        ("POST", "/images/{name:.+}/tag", image_tag),
        ("POST", "/images/{name:.+}/push", image_push),
        ("DELETE", "/images/{name:.+}", image_remove),
        ("GET", "/networks", network_list),
        ("POST", "/networks/create", network_create),
        ("GET", "/networks/{id}", network_inspect),
        ("DELETE", "/networks/{id}", network_remove),
        ("POST", "/networks/{id}/connect", network_connect),
        ("POST", "/networks/{id}/disconnect", network_disconnect),
        ("GET", "/volumes", volume_list),
        ("POST", "/volumes/create", volume_create),
        ("GET", "/volumes/{name}", volume_inspect),
        ("DELETE", "/volumes/{name}", volume_remove),
    ]
