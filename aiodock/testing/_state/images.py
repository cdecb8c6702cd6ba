"""Images in the fake's store and their Engine JSON."""

from __future__ import annotations

import hashlib
from typing import Any

import attrs

from .values import ZERO_TIME, rfc3339

__all__ = ["DEFAULT_PATH_ENV", "FakeImage", "image_id_for"]

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@attrs.define(eq=False)
class FakeImage:
    """An image in the fake's store."""

    id: str
    tags: list[str]
    created: int
    labels: dict[str, str] | None = None
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    env: list[str] = attrs.Factory(lambda: [DEFAULT_PATH_ENV])
    size: int = 1985472
    digests: list[str] = attrs.Factory(list)
    working_dir: str = ""

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]

    def summary(self) -> dict[str, Any]:
        """The image as ``GET /images/json`` lists it (Engine JSON)."""
        return {
            "Containers": -1,
            "Created": self.created,
            "Id": self.id,
            "Labels": self.labels,
            "ParentId": "",
            "RepoDigests": self.digests or None,
            "RepoTags": self.tags or None,
            "SharedSize": -1,
            "Size": self.size,
            "VirtualSize": self.size,
        }

    def config(self) -> dict[str, Any]:
        """The image's ``Config`` (Engine JSON)."""
        return {
            "Hostname": "",
            "Domainname": "",
            "User": "",
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": False,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": list(self.env),
            "Cmd": self.cmd,
            "Image": "",
            "Volumes": None,
            "WorkingDir": self.working_dir,
            "Entrypoint": self.entrypoint,
            "OnBuild": None,
            "Labels": self.labels,
        }

    def inspect(self) -> dict[str, Any]:
        """The image as ``GET /images/{name}/json`` answers (Engine JSON)."""
        layer = "sha256:" + hashlib.sha256(self.id.encode()).hexdigest()
        return {
            "Id": self.id,
            "RepoTags": list(self.tags),
            "RepoDigests": list(self.digests),
            "Parent": "",
            "Comment": "",
            "Created": rfc3339(self.created * 1_000_000_000),
            "Container": "",
            "ContainerConfig": self.config(),
            "DockerVersion": "20.10.24",
            "Author": "",
            "Config": self.config(),
            "Architecture": "amd64",
            "Os": "linux",
            "Size": self.size,
            "VirtualSize": self.size,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": [layer]},
            "Metadata": {"LastTagTime": ZERO_TIME},
        }


def image_id_for(ref: str) -> str:
    return "sha256:" + hashlib.sha256(f"aiodock-fake:{ref}".encode()).hexdigest()
