"""System routes: ``/_ping``, ``/version``, ``/info`` and ``/system/df``."""

from __future__ import annotations

import platform

from aiohttp import web

from .._state.stats import MEMORY_TOTAL, STATS_CPUS
from .._state.values import now_ns, rfc3339
from .._wire import FakeRequest, json_response
from .args import fake_of
from .images import image_shape
from .volumes import volume_users

__all__ = ["info", "ping", "system_df", "version"]


async def ping(req: FakeRequest) -> web.StreamResponse:
    builder = fake_of(req).builder_version
    headers = {
        **fake_of(req).common_headers(),
        **({"Builder-Version": builder} if builder else {}),
        "Cache-Control": "no-cache, no-store, must-revalidate",
        "Pragma": "no-cache",
        "Content-Type": "text/plain; charset=utf-8",
    }
    body = b"" if req.method == "HEAD" else b"OK"
    return web.Response(body=body, headers=headers)


async def version(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    details = {
        "ApiVersion": fake.api_version,
        "Arch": "amd64",
        "BuildTime": "2023-01-01T00:00:00.000000000+00:00",
        "Experimental": "true" if fake.experimental else "false",
        "GitCommit": "fake",
        "GoVersion": "go1.19.8",
        "KernelVersion": platform.release(),
        "MinAPIVersion": fake.min_api_version,
        "Os": fake.os_type,
    }
    return json_response(
        {
            "Platform": {"Name": ""},
            "Components": [{"Name": "Engine", "Version": fake.engine_version, "Details": details}],
            "Version": fake.engine_version,
            "ApiVersion": fake.api_version,
            "MinAPIVersion": fake.min_api_version,
            "GitCommit": "fake",
            "GoVersion": "go1.19.8",
            "Os": fake.os_type,
            "Arch": "amd64",
            "KernelVersion": platform.release(),
            "BuildTime": details["BuildTime"],
        }
    )


async def info(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    containers = list(fake.containers.values())
    running = sum(1 for c in containers if c.status == "running")
    paused = sum(1 for c in containers if c.status == "paused")
    return json_response(
        {
            "ID": "FAKE:AIOD:OCK0:0000:0000:0000:0000:0000:0000:0000:0000:0000",
            "Containers": len(containers),
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": len(containers) - running - paused,
            "Images": len(fake.images),
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"]],
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "null"],
                "Authorization": None,
                "Log": ["json-file", "local"],
            },
            "MemoryLimit": True,
            "SwapLimit": True,
            "KernelMemory": True,
            "KernelMemoryTCP": True,
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "CPUShares": True,
            "CPUSet": True,
            "PidsLimit": True,
            "IPv4Forwarding": True,
            "BridgeNfIptables": True,
            "BridgeNfIp6tables": True,
            "Debug": False,
            "OomKillDisable": True,
            "NFd": 20,
            "NGoroutines": 30,
            "SystemTime": rfc3339(now_ns()),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": "1",
            "NEventsListener": fake.listener_count,
            "KernelVersion": platform.release(),
            "OperatingSystem": "aiodock FakeDocker",
            "OSVersion": "",
            "OSType": fake.os_type,
            "Architecture": "x86_64",
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "AllowNondistributableArtifactsCIDRs": [],
                "AllowNondistributableArtifactsHostnames": [],
                "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                "IndexConfigs": {},
                "Mirrors": [],
            },
            "NCPU": STATS_CPUS,
            "MemTotal": MEMORY_TOTAL,
            "GenericResources": None,
            "DockerRootDir": "/var/lib/docker",
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": "fake-docker",
            "Labels": [],
            "ExperimentalBuild": fake.experimental,
            "ServerVersion": fake.engine_version,
            "Runtimes": {"runc": {"path": "runc"}},
            "DefaultRuntime": "runc",
            "Swarm": {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "LiveRestoreEnabled": False,
            "Isolation": "",
            "InitBinary": "docker-init",
            "ContainerdCommit": {"ID": "fake", "Expected": "fake"},
            "RuncCommit": {"ID": "fake", "Expected": "fake"},
            "InitCommit": {"ID": "", "Expected": ""},
            "SecurityOptions": ["name=seccomp,profile=default"],
            "Warnings": None,
        }
    )


async def system_df(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    users: dict[str, int] = {}
    for c in fake.containers.values():
        users[c.image_id] = users.get(c.image_id, 0) + 1
    images = []
    for image in sorted(fake.images.values(), key=lambda i: i.created, reverse=True):
        doc = image_shape(req, image.summary())
        doc["Containers"] = users.get(image.id, 0)
        doc["SharedSize"] = image.size
        doc["RepoTags"] = image.tags or ["<none>:<none>"]
        doc["RepoDigests"] = image.digests or ["<none>@<none>"]
        images.append(doc)
    containers = []
    for c in sorted(fake.containers.values(), key=lambda c: c.created_ns, reverse=True):
        doc = c.summary(fake.networks)
        written = fake.files(c.id).written_bytes() if c.id in fake._files else 0
        if written:
            doc["SizeRw"] = written
        base = fake.images.get(c.image_id)
        doc["SizeRootFs"] = written + (base.size if base is not None else 0)
        containers.append(doc)
    volumes = []
    for vol in fake.volumes.values():
        doc = vol.inspect()
        doc["UsageData"] = {"RefCount": len(volume_users(fake, vol.name)), "Size": 0}
        volumes.append(doc)
    return json_response(
        {
            "LayersSize": sum(i.size for i in fake.images.values()),
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": list(fake.build_cache),
            "BuilderSize": sum(int(r.get("Size") or 0) for r in fake.build_cache),
        }
    )
