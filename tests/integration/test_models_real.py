"""Models structured from the real engine's answers are what eager structuring gives.

Nested parts are structured on first read and string lists and maps are kept as
decoded when every item is a string (both for speed). Here the answers of a real
engine, read raw, are structured in this process (the fast paths) and in a fresh
interpreter with every part structured at once; the fully resolved forms must be
equal, and the typed results of the client's own calls must equal both.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from aiodock import DockerClient, NotFound
from aiodock._convert import structure, structure_list
from aiodock._http.request import Request
from aiodock.models import (
    ContainerInspectResponse,
    ContainerSummary,
    ImageInspect,
    ImageSummary,
    NetworkInspect,
    SystemInfo,
    SystemVersion,
)
from tests._eager import eager_forms, resolved_form


async def test_real_answers_structure_as_eagerly(
    docker: DockerClient, busybox: str, test_label: dict[str, str], tmp_path: Path
) -> None:
    labels = {**test_label, "aiodock-test.models": "1", "empty": ""}
    created: list[str] = []
    try:
        # Created, never started: their answers do not change between two reads.
        for options in (
            {"ports": {"80/tcp": ("127.0.0.1", None)}, "volumes": ["/anon"]},
            {"env": {"A": "1"}, "tmpfs": {"/scratch": "size=1m"}, "network_disabled": True},
        ):
            made = await docker.containers.create(
                image=busybox, cmd=["true"], labels=labels, **options
            )
            created.append(made.id)
        filters = json.dumps({"label": ["aiodock-test.models=1"]})
        calls: dict[str, tuple[str, dict[str, str], type[Any], bool]] = {
            "list.json": (
                "/containers/json",
                {"all": "1", "filters": filters},
                ContainerSummary,
                True,
            ),
            "inspect0.json": (
                f"/containers/{created[0]}/json",
                {},
                ContainerInspectResponse,
                False,
            ),
            "inspect1.json": (
                f"/containers/{created[1]}/json",
                {},
                ContainerInspectResponse,
                False,
            ),
            "images.json": ("/images/json", {}, ImageSummary, True),
            "image.json": (f"/images/{busybox}/json", {}, ImageInspect, False),
            "network.json": ("/networks/bridge", {}, NetworkInspect, False),
            "version.json": ("/version", {}, SystemVersion, False),
            "info.json": ("/info", {}, SystemInfo, False),
        }
        cases: dict[str, tuple[type[Any], bool]] = {}
        fast: dict[str, str] = {}
        for name, (path, params, cls, many) in calls.items():
            raw = await docker._json(Request("GET", path, params=params))
            (tmp_path / name).write_text(json.dumps(raw))
            cases[name] = (cls, many)
            fast[name] = resolved_form(structure_list(raw, cls) if many else structure(raw, cls))
        eager = eager_forms(cases, tmp_path)
        assert fast == eager
        listed = await docker.containers.list(
            all=True, filters={"label": ["aiodock-test.models=1"]}
        )
        assert len(listed) == 2
        assert resolved_form(listed) == eager["list.json"]
        assert listed[0].labels == labels and listed[0].ports is not None
        inspected = await docker.containers.inspect(created[0])
        assert resolved_form(inspected) == eager["inspect0.json"]
        assert inspected.host_config is not None and inspected.host_config.port_bindings
    finally:
        for cid in created:
            with contextlib.suppress(NotFound):
                await docker.containers.remove(cid, force=True, volumes=True)
