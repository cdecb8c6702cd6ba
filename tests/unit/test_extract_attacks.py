"""Regression tests for the extraction findings of the security review (issue 13).

Each test reproduces one finding that extraction allowed before: the assertions say
what must hold now (nothing outside the target changes, no entry resolves outside,
bounds hold, input is refused with an error of aiodock's tree).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodock import ArchiveLimitError, InvalidArgument
from aiodock._tar.archive import ArchiveExtractionError, UnsafeArchiveError, extract_archive
from aiodock._tar.extract import MAX_HEADER_BYTES

from .test_archive import kind, make_tar, reg

Member = tuple[tarfile.TarInfo, bytes | None]


def extract_and_wait(archive: bytes, dest: Path, **options: object) -> list[str]:
    return asyncio.run(extract_archive(archive, dest, **options))  # type: ignore[arg-type]


def escapes(dest: Path) -> list[str]:
    """Entries below ``dest`` whose fully resolved path lies outside it."""
    root = os.path.realpath(dest)
    bad = []
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in dirnames + filenames:
            resolved = os.path.realpath(os.path.join(dirpath, name))
            if resolved != root and not resolved.startswith(root + os.sep):
                bad.append(os.path.relpath(os.path.join(dirpath, name), dest))
    return bad


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[Path]:
    """A 0600 file beside the target; the test fails if its mode, time or bytes change."""
    path = tmp_path / "victim"
    path.write_bytes(b"do not touch")
    path.chmod(0o600)
    os.utime(path, (1_500_000_000, 1_500_000_000))
    yield path
    st = path.lstat()
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, "the victim's mode was changed"
    assert st.st_mtime == 1_500_000_000, "the victim's mtime was changed"
    assert path.read_bytes() == b"do not touch"


def test_a_directory_member_never_re_modes_through_a_link(tmp_path: Path, victim: Path) -> None:
    # Finding 1: 'p' passes the old realpath check while 's' points inside; 's' is then
    # replaced by a link to the target's parent, and the directory member recorded at
    # 'p' had its mode and mtime applied, at the end, through the link to the victim.
    # Before the fix the victim became 0777 with mtime 0 and no error was raised.
    archive = make_tar(
        kind("x/y/q", tarfile.DIRTYPE),
        kind("x/y/victim", tarfile.DIRTYPE),
        kind("x/y/s", tarfile.SYMTYPE, "q"),
        kind("x/y/p", tarfile.SYMTYPE, "s/../victim"),
        kind("x/y/p", tarfile.DIRTYPE, mode=0o777),
        kind("x/y/s", tarfile.SYMTYPE, "../.."),
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match=r"'\.\.' after a name") as refused:
        extract_and_wait(archive, dest)
    assert refused.value.member == "x/y/p"
    assert escapes(dest) == []


def test_a_directory_member_over_a_link_is_refused_even_when_the_link_is_safe(
    tmp_path: Path, victim: Path
) -> None:
    archive = make_tar(
        kind("d", tarfile.DIRTYPE),
        kind("p", tarfile.SYMTYPE, "d"),
        kind("p", tarfile.DIRTYPE, mode=0o777),
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="symbolic link stands") as refused:
        extract_and_wait(archive, dest)
    assert refused.value.member == "p"
    assert stat.S_IMODE((dest / "d").stat().st_mode) != 0o777
    assert os.readlink(dest / "p") == "d"


def test_links_that_combine_to_leave_the_target_are_not_left_on_disk(tmp_path: Path) -> None:
    # Finding 2: 'l -> s/..' was checked while 's' did not exist; 's -> ..' then made
    # 'l' resolve to the target's parent.
    archive = make_tar(
        kind("data", tarfile.DIRTYPE),
        kind("data/l", tarfile.SYMTYPE, "s/.."),
        kind("data/s", tarfile.SYMTYPE, ".."),
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError) as refused:
        extract_and_wait(archive, dest)
    assert refused.value.member == "data/l"
    skipped = tmp_path / "skipped"
    names = extract_and_wait(archive, skipped, skip_unsafe_links=True)
    assert names == ["data", "data/s"]
    assert escapes(skipped) == []


def test_two_archives_into_one_destination_cannot_combine_into_an_escape(
    tmp_path: Path, victim: Path
) -> None:
    # The two-container form of findings 1 and 2: each archive alone looks harmless.
    first = make_tar(kind("data", tarfile.DIRTYPE), kind("data/p", tarfile.SYMTYPE, "a/../victim"))
    second = make_tar(
        kind("data", tarfile.DIRTYPE),
        kind("data/a", tarfile.SYMTYPE, ".."),
        kind("data/p", tarfile.DIRTYPE, mode=0o777),
    )
    dest = tmp_path / "dest"
    assert extract_and_wait(first, dest, skip_unsafe_links=True) == ["data"]
    assert extract_and_wait(second, dest, skip_unsafe_links=True) == [
        "data",
        "data/a",
        "data/p",
    ]
    assert (dest / "data/p").is_dir() and not (dest / "data/p").is_symlink()
    assert escapes(dest) == []


@pytest.mark.parametrize(
    ("link", "depth_ok"),
    [
        ("../x", False),
        ("a/../x", False),
        ("./a/./b", True),
        ("a/b/", True),
        ("", False),
        ("/x", False),
    ],
)
def test_symbolic_link_targets_at_the_root(tmp_path: Path, link: str, depth_ok: bool) -> None:
    archive = make_tar(kind("l", tarfile.SYMTYPE, link))
    if depth_ok:
        assert extract_and_wait(archive, tmp_path / "d") == ["l"]
        assert os.readlink(tmp_path / "d" / "l") == link
    else:
        with pytest.raises(UnsafeArchiveError):
            extract_and_wait(archive, tmp_path / "d")


def test_deep_links_may_climb_as_far_as_the_target(tmp_path: Path) -> None:
    archive = make_tar(
        reg("top.txt", b"top"),
        kind("a/b/c/up", tarfile.SYMTYPE, "../../../top.txt"),
    )
    extract_and_wait(archive, tmp_path / "d")
    assert (tmp_path / "d/a/b/c/up").read_bytes() == b"top"
    with pytest.raises(UnsafeArchiveError, match="leaves the target"):
        extract_and_wait(
            make_tar(kind("a/b/c/up", tarfile.SYMTYPE, "../../../../x")), tmp_path / "e"
        )


def test_a_hard_link_to_a_symbolic_link_is_checked_from_its_new_place(
    tmp_path: Path, victim: Path
) -> None:
    # 'a/b/l -> ../../victim'... is refused; 'a/l -> ../x' is fine where it is, but a
    # hard link to it at the root would read '../x' from the root: outside.
    archive = make_tar(
        kind("a/l", tarfile.SYMTYPE, "../victim"),
        kind("h", tarfile.LNKTYPE, "a/l"),
    )
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="hard link to a symbolic link") as refused:
        extract_and_wait(archive, dest)
    assert refused.value.member == "h"
    assert escapes(dest) == []


def test_a_member_under_a_link_is_refused_even_when_the_link_points_inside(
    tmp_path: Path,
) -> None:
    archive = make_tar(
        kind("real", tarfile.DIRTYPE),
        kind("alias", tarfile.SYMTYPE, "real"),
        reg("alias/f", b"x"),
    )
    with pytest.raises(UnsafeArchiveError, match="passes through the symbolic link 'alias'"):
        extract_and_wait(archive, tmp_path / "d")
    assert os.listdir(tmp_path / "d" / "real") == []


# --- bounds ---------------------------------------------------------------------------


def gnu_sparse_tar(tmp_path: Path, fmt: str) -> bytes:
    """A tar (GNU tar's own sparse encoding) of a 512 MiB file holding one byte."""
    src = tmp_path / f"src-{fmt}"
    src.mkdir()
    with open(src / "big", "wb") as f:
        f.truncate(512 * 1024 * 1024)
        f.seek(300_000_000)
        f.write(b"X")
    tar = shutil.which("tar")
    if tar is None:
        pytest.fail("GNU tar is needed to build a sparse archive (apt-get install tar)")
    out = subprocess.run(
        [tar, "--sparse", f"--format={fmt}", "-cf", "-", "-C", str(src), "big"],
        check=True,
        capture_output=True,
    )
    return out.stdout


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_sparse_members_are_written_sparse(tmp_path: Path, fmt: str) -> None:
    # Finding 3: a 10 KB archive wrote 512 MiB of real data.
    archive = gnu_sparse_tar(tmp_path, fmt)
    assert len(archive) < 64 * 1024
    dest = tmp_path / "dest"
    assert extract_and_wait(archive, dest, max_bytes=64 * 1024) == ["big"]  # data, not holes
    st = (dest / "big").stat()
    assert st.st_size == 512 * 1024 * 1024
    assert st.st_blocks * 512 < 1024 * 1024, "holes were written as data"
    with open(dest / "big", "rb") as f:
        f.seek(300_000_000 - 1)
        assert f.read(3) == b"\x00X\x00"


def test_compressed_archives_need_decompress(tmp_path: Path) -> None:
    # Finding 3: a 521 KB gzip tar became 512 MiB without being asked to.
    plain = make_tar(reg("zeros", bytes(8 * 1024 * 1024)))
    packed = gzip.compress(plain)
    assert len(packed) < 64 * 1024
    with pytest.raises(ArchiveExtractionError, match="gz-compressed; pass decompress=True"):
        extract_and_wait(packed, tmp_path / "a")
    assert os.listdir(tmp_path / "a") == []
    with pytest.raises(ArchiveLimitError) as limited:
        extract_and_wait(packed, tmp_path / "b", decompress=True, max_bytes=1024 * 1024)
    assert limited.value.limit == "max_bytes" and limited.value.member == "zeros"
    assert os.listdir(tmp_path / "b") == []
    assert extract_and_wait(packed, tmp_path / "c", decompress=True) == ["zeros"]
    assert (tmp_path / "c/zeros").stat().st_size == 8 * 1024 * 1024


def test_max_bytes_counts_across_members_and_stops_before_writing(tmp_path: Path) -> None:
    archive = make_tar(reg("a", b"1" * 600), reg("b", b"2" * 600), reg("c", b"3"))
    with pytest.raises(ArchiveLimitError, match=r"more than max_bytes=1000 bytes") as limited:
        extract_and_wait(archive, tmp_path / "d", max_bytes=1000)
    assert limited.value.member == "b" and limited.value.value == 1000
    assert sorted(os.listdir(tmp_path / "d")) == ["a"]
    assert extract_and_wait(archive, tmp_path / "e", max_bytes=1201) == ["a", "b", "c"]
    assert extract_and_wait(archive, tmp_path / "f", max_bytes=None) == ["a", "b", "c"]


def test_max_members(tmp_path: Path) -> None:
    archive = make_tar(*(reg(f"f{i}", b"") for i in range(5)))
    with pytest.raises(ArchiveLimitError, match="more than max_members=3 members") as limited:
        extract_and_wait(archive, tmp_path / "d", max_members=3)
    assert limited.value.member == "f3"
    assert extract_and_wait(archive, tmp_path / "e", max_members=5) == [f"f{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_bytes", -1), ("max_bytes", 1.5), ("max_members", True), ("max_members", "9")],
)
async def test_limits_are_checked(tmp_path: Path, name: str, value: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await extract_archive(b"", tmp_path, **{name: value})  # type: ignore[arg-type]
    assert caught.value.parameter == name and caught.value.value == value


def test_an_oversized_extended_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    info = tarfile.TarInfo("f")
    info.pax_headers = {"comment": "x" * (MAX_HEADER_BYTES + 10)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveExtractionError, match="extended header of"):
        extract_and_wait(buf.getvalue(), tmp_path / "d")


# --- names ----------------------------------------------------------------------------


def pax_link(name: str, type_: bytes, target: str) -> Member:
    """A link whose target travels in a PAX header, where a NUL survives."""
    info, _ = kind(name, type_, "placeholder")
    info.pax_headers = {"linkpath": target}
    return info, None


@pytest.mark.parametrize(
    "member",
    [
        pax_link("l", tarfile.SYMTYPE, "a\x00b"),  # a raw ValueError before the fix
        kind("l", tarfile.SYMTYPE, "a\nb"),
        reg("bad\x1bname", b""),
        reg("del\x7f", b""),
        pax_link("h", tarfile.LNKTYPE, "x\x00"),
    ],
    ids=["nul-link", "newline-link", "escape-name", "del-name", "nul-hard-link"],
)
def test_control_characters_are_refused(tmp_path: Path, member: Member) -> None:
    info, _ = member
    archive = make_tar(member)
    with pytest.raises(UnsafeArchiveError, match="control character") as refused:
        extract_and_wait(archive, tmp_path / "d")
    assert refused.value.member == info.name
    assert os.listdir(tmp_path / "d") == []
