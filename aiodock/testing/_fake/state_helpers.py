"""What tests read and put in ``FakeDocker``'s store directly: images, containers, files,
requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._files import FakeFile, FileTree
from .._state.containers import FakeContainer
from .._state.images import DEFAULT_PATH_ENV, FakeImage, image_id_for
from .._state.values import normalize_ref, now_ns
from .._wire import RecordedRequest, Rule
from .server import FakeServer

__all__ = ["FakeStateHelpers"]


class FakeStateHelpers(FakeServer):
    """What tests read and put in :class:`FakeDocker`'s store directly: images,
    containers, their files, and the recorded requests."""

    # -- state helpers usable from tests ----------------------------------------------

    def add_built_image(
        self,
        image_id: str,
        *,
        labels: dict[str, str] | None,
        env: Sequence[str],
        cmd: Sequence[str] | None,
        entrypoint: Sequence[str] | None,
        working_dir: str,
    ) -> FakeImage:
        """Store an image a build produced (untagged until the build tags it).

        Args:
            image_id: the new image's id.
            labels: its labels.
            env: its environment, ``K=v`` entries.
            cmd: its default command.
            entrypoint: its entrypoint.
            working_dir: its working directory.
        """
        image = FakeImage(
            id=image_id,
            tags=[],
            created=now_ns() // 1_000_000_000,
            labels=labels,
            cmd=list(cmd) if cmd is not None else None,
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            env=list(env),
            working_dir=working_dir,
        )
        self.images[image.id] = image
        return image

    def add_image(
        self,
        ref: str,
        *,
        labels: dict[str, str] | None = None,
        cmd: Sequence[str] | None = ("sh",),
        entrypoint: Sequence[str] | None = None,
        env: Sequence[str] = (DEFAULT_PATH_ENV,),
        size: int = 1985472,
    ) -> FakeImage:
        """Put an image in the store (or add ``ref`` as a tag of the image it names).

        Args:
            ref: the image reference (``"myapp:dev"``) or ``repo@digest``.
            labels: the image's labels.
            cmd: the image's default command.
            entrypoint: the image's entrypoint.
            env: the image's environment, ``["K=v"]``.
            size: the size it reports, in bytes.
        """
        ref = normalize_ref(ref)
        existing = self._find_image(ref)
        if existing is not None:
            return existing
        image = FakeImage(
            id=image_id_for(ref),
            tags=[] if "@" in ref else [ref],
            created=now_ns() // 1_000_000_000,
            labels=labels,
            cmd=list(cmd) if cmd is not None else None,
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            env=list(env),
            size=size,
        )
        if "@" in ref:
            image.digests.append(ref)
        self.images[image.id] = image
        return image

    def add_container(
        self,
        image: str = "busybox:latest",
        *,
        name: str | None = None,
        cmd: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        tty: bool = False,
        running: bool = False,
        **config: Any,
    ) -> FakeContainer:
        """Create a container directly (events are emitted as for the API).

        Args:
            image: the image reference; it must be in the fake's store.
            name: the container's name; the daemon-style random one when ``None``.
            cmd: the command it runs (see :meth:`on_exec` for what the fake can run).
            labels: the container's labels.
            tty: give it a TTY (raw, unframed output).
            running: start it too.
            **config: PascalCase ``Config`` fields (``Env=[...]``, ``HostConfig={...}``).
        """
        body: dict[str, Any] = {"Image": image, "Tty": tty, **config}
        if cmd is not None:
            body["Cmd"] = list(cmd)
        if labels is not None:
            body["Labels"] = labels
        c = self.create_container(body, name)
        if running:
            self._start_now(c)
        return c

    def container(self, ref: str) -> FakeContainer:
        """The container with this id, id prefix or name (``KeyError`` if none).

        Args:
            ref: an id, an id prefix or a name.
        """
        found = self._find_container(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def files(self, container: str) -> FileTree:
        """The in-memory file tree of ``container`` (id, id prefix or name).

        ``PUT /containers/{id}/archive`` unpacks into it and ``GET``/``HEAD``
        read it; a new container starts with a small busybox-like skeleton
        (``/etc``, ``/tmp``, ...). Tests may read ``tree.nodes`` or use
        :meth:`write_file` and :meth:`read_file`.

        Args:
            container: the container's id, id prefix or name.

        Raises:
            KeyError: no such container.
        """
        c = self.container(container)
        tree = self._files.get(c.id)
        if tree is None:
            tree = self._files[c.id] = FileTree(str(c.config.get("Hostname") or ""))
        return tree

    def write_file(self, container: str, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Create or replace a regular file in ``container`` (parents are created).

        Args:
            container: the container's id, id prefix or name.
            path: absolute path inside the container.
            data: the file's content.
            mode: permission bits.
        """
        self.files(container).write(path, FakeFile("file", mode, data=bytes(data)))

    def read_file(self, container: str, path: str) -> bytes:
        """The content of a regular file in ``container`` (KeyError when there is none).

        Args:
            container: the container's id, id prefix or name.
            path: absolute path inside the container.
        """
        node = self.files(container).get(path)
        if node is None or node.kind != "file":
            raise KeyError(path)
        return node.data

    def image(self, ref: str) -> FakeImage:
        """The image with this reference or id (``KeyError`` if none).

        Args:
            ref: a reference or an id.
        """
        found = self._find_image(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def requests_to(self, method: str = "*", path_glob: str = "*") -> list[RecordedRequest]:
        """The recorded requests matching ``method`` and ``path_glob``.

        Args:
            method: the HTTP method, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix.
        """
        probe = Rule("match", method.upper(), path_glob, 1)
        return [r for r in self.requests if probe.matches(r.method, r.path)]
