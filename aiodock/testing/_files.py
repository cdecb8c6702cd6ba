"""A container's file tree in memory, filled by ``PUT /archive`` and read back as tar."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import posixpath
import tarfile
from typing import Any

import attrs

from ._state.values import now_ns, rfc3339
from ._wire import Answer

__all__ = ["FakeFile", "FileTree"]

# Go's os.FileMode bits, which the engine puts in X-Docker-Container-Path-Stat.
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27
_DIR_SIZE = 4096
_TAR_TYPE_BITS = {"dir": 0o040000, "file": 0o100000, "symlink": 0o120000}

# What a fresh busybox-like container has, so that common targets (/tmp, /etc) exist.
_SKELETON_DIRS = ("/bin", "/dev", "/etc", "/home", "/proc", "/root", "/sys", "/tmp", "/usr", "/var")
_SKELETON_FILES = ("/.dockerenv", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf")


@attrs.define(eq=False)
class FakeFile:
    """One node of a container's file tree.

    Args:
        kind: ``"file"``, ``"dir"`` or ``"symlink"``.
        mode: permission bits (``0o644``).
        data: a file's content.
        link: a symlink's target.
        mtime_ns: modification time, nanoseconds since the epoch.
        uid: owner user id.
        gid: owner group id.
    """

    kind: str
    mode: int
    data: bytes = b""
    link: str = ""
    mtime_ns: int = attrs.Factory(now_ns)
    uid: int = 0
    gid: int = 0

    def stat(self, name: str) -> dict[str, Any]:
        """The engine's path stat for this node.

        Args:
            name: the base name the stat reports.
        """
        if self.kind == "dir":
            mode, size = _MODE_DIR | self.mode, _DIR_SIZE
        elif self.kind == "symlink":
            mode, size = _MODE_SYMLINK | self.mode, len(self.link)
        else:
            mode, size = self.mode, len(self.data)
        return {
            "name": name,
            "size": size,
            "mode": mode,
            "mtime": rfc3339(self.mtime_ns),
            "linkTarget": self.link,
        }


class FileTree:
    """Absolute normalized paths to :class:`FakeFile` nodes; ``/`` always exists.

    Args:
        hostname: the container's host name, written to ``/etc/hostname``.
    """

    def __init__(self, hostname: str = "") -> None:
        self.nodes: dict[str, FakeFile] = {"/": FakeFile("dir", 0o755)}
        for path in _SKELETON_DIRS:
            self.nodes[path] = FakeFile("dir", 0o755)
        for path in _SKELETON_FILES:
            self.nodes[path] = FakeFile("file", 0o644)
        self.nodes["/etc/hostname"].data = (hostname + "\n").encode() if hostname else b""

    # -- lookups ---------------------------------------------------------------------

    @staticmethod
    def normalize(path: str) -> str:
        """``etc/x/../y`` -> ``/etc/y``; nothing climbs above ``/``.

        Args:
            path: the path as a request gave it.
        """
        return posixpath.normpath("/" + path).replace("//", "/")

    def get(self, path: str) -> FakeFile | None:
        """The node at ``path``, or ``None``.

        Args:
            path: the path as a request gave it.
        """
        return self.nodes.get(self.normalize(path))

    def children(self, path: str) -> list[str]:
        """Every path below directory ``path``, in the order a walk visits them.

        Args:
            path: the directory.
        """
        prefix = path.rstrip("/") + "/"
        return sorted(p for p in self.nodes if p.startswith(prefix) and p != prefix)

    def lookup(self, path: str, container_id: str) -> tuple[str, FakeFile]:
        """The node ``path`` names, or the engine's error for it.

        Args:
            path: the path as a request gave it.
            container_id: the container, named in the error.
        """
        if path.endswith("/") and path.strip("/"):
            # A trailing slash asserts a directory.
            node = self.get(path)
            if node is not None and node.kind != "dir":
                # The engine lstat's the path in the rootfs: ENOTDIR, a 500.
                merged = (
                    "/var/lib/docker/overlay2/" + hashlib.sha256(container_id.encode()).hexdigest()
                )
                raise Answer(500, f"lstat {merged}/merged{self.normalize(path)}/: not a directory")
            if node is None or node.kind != "dir":
                raise _missing(path, container_id)
        full = self.normalize(path)
        node = self.nodes.get(full)
        if node is None:
            raise _missing(path, container_id)
        return full, node

    # -- writing ---------------------------------------------------------------------

    def write(self, path: str, node: FakeFile, *, no_overwrite_dir_non_dir: bool = False) -> None:
        """Put ``node`` at ``path``, creating missing parents (0755) like the engine's untar.

        Args:
            path: where to put it.
            node: the file, directory or link.
            no_overwrite_dir_non_dir: refuse to replace a directory with a non-directory
                or the reverse, like the engine's query option.
        """
        full = self.normalize(path)
        if full == "/":
            return
        self._parents(full)
        old = self.nodes.get(full)
        if old is not None:
            if old.kind == "dir" and node.kind == "dir":
                old.mode, old.mtime_ns, old.uid, old.gid = (
                    node.mode,
                    node.mtime_ns,
                    node.uid,
                    node.gid,
                )
                return
            if no_overwrite_dir_non_dir and (old.kind == "dir") != (node.kind == "dir"):
                what = (
                    ("directory", "non-directory")
                    if old.kind == "dir"
                    else ("non-directory", "directory")
                )
                raise Answer(
                    500,
                    f"Error processing tar file(exit status 1): cannot overwrite {what[0]} "
                    f'"{full}" with {what[1]} "{posixpath.dirname(full)}"',
                )
            for child in self.children(full):
                del self.nodes[child]
        self.nodes[full] = node

    def _parents(self, full: str) -> None:
        parent = posixpath.dirname(full)
        missing: list[str] = []
        while parent not in self.nodes:
            missing.append(parent)
            parent = posixpath.dirname(parent)
        if self.nodes[parent].kind != "dir":
            raise Answer(
                500, f"Error processing tar file(exit status 1): mkdir {full}: not a directory"
            )
        for path in reversed(missing):
            self.nodes[path] = FakeFile("dir", 0o755)

    def extract(
        self, into: str, data: bytes, container_id: str, *, no_overwrite_dir_non_dir: bool = False
    ) -> None:
        """``PUT /containers/{id}/archive``: unpack tar ``data`` into directory ``into``.

        Args:
            into: the directory to unpack into.
            data: the tar archive.
            container_id: the container, named in errors.
            no_overwrite_dir_non_dir: as for :meth:`write`.
        """
        full, node = self.lookup(into, container_id)
        if node.kind != "dir":
            raise Answer(500, "extraction point is not a directory")
        if not data:
            return
        try:
            members = _read_tar(data)
        except (tarfile.TarError, EOFError) as exc:
            reason = "unexpected EOF" if len(data) < 512 else "archive/tar: invalid tar header"
            raise Answer(500, f"Error processing tar file(exit status 1): {reason}") from exc
        for info, content in members:
            target = self.normalize(posixpath.join(full, info.name.lstrip("/")))
            if info.isdir():
                item = FakeFile("dir", info.mode & 0o7777)
            elif info.issym():
                item = FakeFile("symlink", 0o777, link=info.linkname)
            elif info.islnk():
                linked = self.nodes.get(self.normalize(posixpath.join(full, info.linkname)))
                item = FakeFile("file", info.mode & 0o7777, data=linked.data if linked else b"")
            elif info.isfile():
                item = FakeFile("file", info.mode & 0o7777, data=content)
            else:
                continue  # devices and fifos: nothing a test can read back
            item.mtime_ns = int(info.mtime * 1_000_000_000)
            item.uid, item.gid = info.uid, info.gid
            self.write(target, item, no_overwrite_dir_non_dir=no_overwrite_dir_non_dir)

    # -- reading ---------------------------------------------------------------------

    def archive(self, path: str, container_id: str) -> tuple[bytes, dict[str, Any]]:
        """``GET /containers/{id}/archive``: the tar of ``path`` and its stat.

        Args:
            path: what to archive.
            container_id: the container, named in errors.
        """
        full, node = self.lookup(path, container_id)
        stat = node.stat(_shown_name(path, full))
        # ``dir/.`` sends the directory's content under ``./``; otherwise under its name.
        stripped = path.rstrip("/")
        top = "." if stripped.endswith("/.") or stripped == "." else _base_name(full)
        if full == "/":
            top = "/"
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
            _add(tar, top, node)
            if node.kind == "dir":
                base = "" if full == "/" else full
                for child in self.children(full):
                    rel = child[len(base) :].lstrip("/")
                    name = posixpath.join(top, rel) if top != "/" else "/" + rel
                    _add(tar, name, self.nodes[child])
        return buffer.getvalue(), stat

    def written_bytes(self) -> int:
        """Bytes of file content added since the container was created (its ``SizeRw``)."""
        return sum(
            len(n.data)
            for p, n in self.nodes.items()
            if n.kind == "file" and p not in _SKELETON_FILES
        )

    def stat(self, path: str, container_id: str) -> dict[str, Any]:
        """``HEAD /containers/{id}/archive``: the stat of ``path``.

        Args:
            path: the path to stat.
            container_id: the container, named in errors.
        """
        full, node = self.lookup(path, container_id)
        return node.stat(_shown_name(path, full))


def stat_header(stat: dict[str, Any]) -> str:
    """The ``X-Docker-Container-Path-Stat`` value: base64 of the stat JSON."""
    raw = json.dumps(stat, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def _base_name(full: str) -> str:
    return "/" if full == "/" else posixpath.basename(full)


def _shown_name(path: str, full: str) -> str:
    """The stat name: the last element of the path as given (``.`` for ``dir/.``)."""
    last = posixpath.basename(path.rstrip("/"))
    return last if last in (".", "..") else _base_name(full)


def _missing(path: str, container_id: str) -> Answer:
    return Answer(404, f"Could not find the file {path} in container {container_id}")


def _read_tar(data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    out: list[tuple[tarfile.TarInfo, bytes]] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            content = b""
            if info.isfile():
                extracted = tar.extractfile(info)
                content = extracted.read() if extracted is not None else b""
            out.append((info, content))
    return out


class _GoTarInfo(tarfile.TarInfo):
    """A header whose mode field keeps the file type bits (0o100644, 0o40755), as Go's
    tar writer does; Python's keeps only the permission bits."""

    type_bits = 0

    def tobuf(self, *args: Any, **kw: Any) -> bytes:
        buf = bytearray(super().tobuf(*args, **kw))
        head = len(buf) - tarfile.BLOCKSIZE  # the member's own header is the last block
        buf[head + 100 : head + 108] = b"%07o\0" % ((self.mode & 0o7777) | self.type_bits)
        buf[head + 148 : head + 156] = b" " * 8
        buf[head + 148 : head + 156] = b"%06o\0 " % sum(buf[head : head + tarfile.BLOCKSIZE])
        return bytes(buf)


def _add(tar: tarfile.TarFile, name: str, node: FakeFile) -> None:
    info = _GoTarInfo(name + "/" if node.kind == "dir" and not name.endswith("/") else name)
    info.type_bits = _TAR_TYPE_BITS[node.kind]
    info.mode = node.mode
    info.mtime = node.mtime_ns // 1_000_000_000
    info.uid, info.gid = node.uid, node.gid
    info.uname = info.gname = "root" if node.uid == 0 else ""
    if node.kind == "dir":
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif node.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = node.link
        tar.addfile(info)
    else:
        info.size = len(node.data)
        tar.addfile(info, io.BytesIO(node.data))
