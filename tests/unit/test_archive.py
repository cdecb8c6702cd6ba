"""Tar helpers: safe extraction refuses escapes, packing streams without buffering."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import tarfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from aiodock._tar.archive import (
    CHUNK_SIZE,
    ArchiveExtractionError,
    UnsafeArchiveError,
    extract_archive,
    pack_path,
)
from aiodock.errors import DockerError
from tests._wait import eventually


def make_tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def reg(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = 1_600_000_000
    return info, data


def kind(
    name: str, type_: bytes, linkname: str = "", mode: int = 0o755
) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = type_
    info.linkname = linkname
    info.mode = mode
    return info, None


def listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[i : i + size]


SOURCES: list[Callable[[bytes], object]] = [
    lambda data: data,
    lambda data: io.BytesIO(data),
    lambda data: chunked(data, 1000),
]


@pytest.mark.parametrize("source", SOURCES, ids=["bytes", "fileobj", "async"])
async def test_extracts_files_dirs_and_links(
    tmp_path: Path, source: Callable[[bytes], object]
) -> None:
    blob = os.urandom(300_000)
    archive = make_tar(
        kind("top", tarfile.DIRTYPE),
        reg("top/blob.bin", blob, 0o4755),
        reg("./top/sub/deep.txt", b"deep\n"),
        kind("top/link", tarfile.SYMTYPE, "sub/deep.txt"),
        kind("top/sub/up", tarfile.SYMTYPE, "../blob.bin"),
        kind("top/hard", tarfile.LNKTYPE, "top/blob.bin"),
        kind("top/fifo", tarfile.FIFOTYPE),
        kind("top/dev", tarfile.CHRTYPE),
    )
    names = await extract_archive(source(archive), tmp_path / "out")  # type: ignore[arg-type]
    out = tmp_path / "out"
    assert names == [
        "top",
        "top/blob.bin",
        "top/sub/deep.txt",
        "top/link",
        "top/sub/up",
        "top/hard",
    ]
    assert (out / "top/blob.bin").read_bytes() == blob
    assert stat.S_IMODE((out / "top/blob.bin").stat().st_mode) == 0o755  # set-id dropped
    assert (out / "top/blob.bin").stat().st_mtime == 1_600_000_000
    assert os.readlink(out / "top/link") == "sub/deep.txt"
    assert (out / "top/link").read_bytes() == b"deep\n"
    assert (out / "top/sub/up").read_bytes() == blob
    assert (out / "top/hard").stat().st_ino == (out / "top/blob.bin").stat().st_ino
    assert not (out / "top/fifo").exists() and not (out / "top/dev").exists()


ESCAPES = [
    ("absolute path", [reg("/etc/evil", b"x")]),
    ("dot-dot path", [reg("../evil", b"x")]),
    ("dot-dot inside", [reg("a/../../evil", b"x")]),
    ("absolute symlink", [kind("l", tarfile.SYMTYPE, "/etc/passwd")]),
    ("escaping symlink", [kind("a/l", tarfile.SYMTYPE, "../../outside")]),
    ("hard link out", [kind("h", tarfile.LNKTYPE, "../outside/file")]),
    ("absolute hard link", [kind("h", tarfile.LNKTYPE, "/etc/passwd")]),
]


@pytest.mark.parametrize(("what", "members"), ESCAPES, ids=[e[0] for e in ESCAPES])
@pytest.mark.parametrize("source", SOURCES, ids=["bytes", "fileobj", "async"])
async def test_refuses_members_escaping_the_target(
    tmp_path: Path,
    what: str,
    members: list[tuple[tarfile.TarInfo, bytes | None]],
    source: Callable[[bytes], object],
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_bytes(b"secret")
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError) as info:
        await extract_archive(source(make_tar(*members)), dest)  # type: ignore[arg-type]
    assert info.value.member == members[0][0].name
    assert listing(tmp_path) == ["dest", "outside"]
    assert listing(dest) == []
    assert (outside / "file").read_bytes() == b"secret"


async def test_refuses_writing_through_an_existing_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "evil").symlink_to(outside)
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        await extract_archive(make_tar(reg("evil/planted", b"x")), dest)
    assert listing(outside) == []


async def test_refuses_links_chained_to_escape(tmp_path: Path) -> None:
    # "a" points at "b/c" (inside); "a/../../x" would leave through the chain.
    archive = make_tar(
        kind("b/c", tarfile.DIRTYPE),
        kind("a", tarfile.SYMTYPE, "b/c"),
        kind("a/l", tarfile.SYMTYPE, "../../../outside"),
    )
    with pytest.raises(UnsafeArchiveError):
        await extract_archive(archive, tmp_path / "dest")
    assert not (tmp_path / "outside").exists()


async def test_a_regular_file_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    target = tmp_path / "dest" / "real.txt"
    archive = make_tar(
        reg("real.txt", b"original"),
        kind("alias", tarfile.SYMTYPE, "real.txt"),
        reg("alias", b"replaced"),
    )
    await extract_archive(archive, tmp_path / "dest")
    assert target.read_bytes() == b"original"
    assert not (tmp_path / "dest" / "alias").is_symlink()
    assert (tmp_path / "dest" / "alias").read_bytes() == b"replaced"


async def test_skip_unsafe_links(tmp_path: Path) -> None:
    archive = make_tar(
        reg("etc/hostname", b"box\n"),
        kind("etc/mtab", tarfile.SYMTYPE, "/proc/mounts"),
        kind("etc/ok", tarfile.SYMTYPE, "hostname"),
    )
    names = await extract_archive(archive, tmp_path, skip_unsafe_links=True)
    assert names == ["etc/hostname", "etc/ok"]
    assert "mtab" not in listing(tmp_path / "etc")
    with pytest.raises(UnsafeArchiveError):
        await extract_archive(make_tar(reg("/abs", b"")), tmp_path, skip_unsafe_links=True)


async def test_refusal_stops_reading_and_closes_the_source(tmp_path: Path) -> None:
    archive = make_tar(reg("../evil", b"x"), reg("big", os.urandom(4 * CHUNK_SIZE)))
    pulled = 0
    closed = False

    class Source:
        def __aiter__(self) -> Source:
            return self

        async def __anext__(self) -> bytes:
            nonlocal pulled
            start = pulled * 4096
            if start >= len(archive):
                raise StopAsyncIteration
            pulled += 1
            return archive[start : start + 4096]

        async def aclose(self) -> None:
            nonlocal closed
            closed = True

    with pytest.raises(UnsafeArchiveError):
        await extract_archive(Source(), tmp_path)
    assert closed
    assert pulled * 4096 < len(archive) // 2


async def test_source_error_propagates_and_worker_ends(tmp_path: Path) -> None:
    archive = make_tar(reg("a", os.urandom(100_000)), reg("b", os.urandom(100_000)))

    async def broken() -> AsyncIterator[bytes]:
        yield archive[:50_000]
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(extract_archive(broken(), tmp_path), 5)
    # The worker thread was told to stop: a later extraction is unaffected.
    assert await extract_archive(archive, tmp_path / "again") == ["a", "b"]


async def test_truncated_archive_raises(tmp_path: Path) -> None:
    archive = make_tar(reg("a", os.urandom(100_000)))
    with pytest.raises(ArchiveExtractionError, match="not a valid tar stream") as caught:
        await extract_archive(chunked(archive[:60_000], 7000), tmp_path)
    assert isinstance(caught.value.__cause__, tarfile.ReadError)


@pytest.mark.parametrize("make_source", SOURCES)
async def test_malformed_archives_raise_one_docker_error_naming_the_member(
    tmp_path: Path, make_source: Callable[[bytes], object]
) -> None:
    # A regular file, then a member that uses it as a directory.
    file_as_dir = make_tar(reg("x", b"file"), reg("x/y", b"inside a file"))
    with pytest.raises(ArchiveExtractionError) as caught:
        await extract_archive(make_source(file_as_dir), tmp_path / "a")  # type: ignore[arg-type]
    assert caught.value.member == "x/y"
    assert isinstance(caught.value, DockerError) and isinstance(caught.value, OSError)
    # A symbolic link loop, then a member below it.
    loop = make_tar(
        kind("l1", tarfile.SYMTYPE, "l2"),
        kind("l2", tarfile.SYMTYPE, "l1"),
        reg("l1/f", b"through the loop"),
    )
    with pytest.raises((ArchiveExtractionError, UnsafeArchiveError)) as looped:
        await extract_archive(make_source(loop), tmp_path / "b")  # type: ignore[arg-type]
    assert isinstance(looped.value, (ArchiveExtractionError, UnsafeArchiveError))
    assert looped.value.member == "l1/f"
    # Not a tar stream at all.
    with pytest.raises(ArchiveExtractionError, match="not a valid tar stream"):
        await extract_archive(make_source(b"\x00garbage" * 200), tmp_path / "c")  # type: ignore[arg-type]


# --- packing ---------------------------------------------------------------------------


def build_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"alpha\n",
        "bin/blob": os.urandom(3 * CHUNK_SIZE + 17),
        "bin/empty": b"",
        "deep/er/still/x": b"x",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "emptydir").mkdir()
    (root / "link").symlink_to("a.txt")
    return files


async def test_pack_directory_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    files = build_tree(src)
    chunks = [chunk async for chunk in pack_path(src)]
    assert len(chunks) > 3 and max(len(c) for c in chunks) <= CHUNK_SIZE
    names = await extract_archive(chunked(b"".join(chunks), 65536), tmp_path / "dst")
    assert "emptydir" in names and "link" in names
    for name, data in files.items():
        assert (tmp_path / "dst" / name).read_bytes() == data
    assert os.readlink(tmp_path / "dst" / "link") == "a.txt"
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        assert {(m.uid, m.gid, m.uname) for m in tar.getmembers()} == {(0, 0, "")}
        assert not any(m.name.startswith(("/", ".")) for m in tar.getmembers())


async def test_pack_single_file_uses_its_name(tmp_path: Path) -> None:
    (tmp_path / "one.bin").write_bytes(b"\x00\x01")
    data = b"".join([chunk async for chunk in pack_path(tmp_path / "one.bin")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["one.bin"]


async def test_abandoned_pack_stops_its_thread(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(os.urandom(40 * CHUNK_SIZE))
    gen = pack_path(tmp_path)
    first = await gen.__anext__()
    assert first
    assert any(t.name == "aiodock-tar-pack" for t in threading.enumerate())
    await gen.aclose()
    await eventually(lambda: not any(t.name == "aiodock-tar-pack" for t in threading.enumerate()))


async def test_pack_error_surfaces(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        async for _ in pack_path(tmp_path / "missing"):
            pass
