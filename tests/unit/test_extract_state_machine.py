"""A hypothesis state machine that attacks extraction with random archives.

Each example builds archives from random sequences of directories, files, symbolic
links (relative, absolute, through other links, climbing with ``..``), hard links and
duplicates over a small alphabet of names (so members collide and refer to each
other), and unpacks them one after another into one destination, some twice. After
every step nothing outside the destination may have changed (content, mode, mtime,
new or removed entries) and no entry below the destination may resolve outside it.

``AIODOCK_EXTRACT_EXAMPLES`` sets the number of examples (2,000 by default, drawn
deterministically so that a CI failure reproduces); ``nox -s fuzz`` runs many more
with fresh random draws.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from aiodock._tar.extract import extract_fileobj
from aiodock.errors import DockerError

EXAMPLES = int(os.environ.get("AIODOCK_EXTRACT_EXAMPLES", "2000"))
RANDOM = os.environ.get("AIODOCK_EXTRACT_RANDOM", "") not in ("", "0")
# Memory-backed when the machine has it: thousands of small trees are made and removed.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
BASE = "@BASE@"  # replaced by the absolute path of the directory holding the target

# Few names and shallow paths, so that members collide, links refer to each other and
# ".." meets "victim" often enough for a random search to find escapes that need two
# or three cooperating members.
NAMES = st.sampled_from(["a", "s", "victim"])
PATHS = st.lists(NAMES, min_size=1, max_size=2).map("/".join)
CLIMBING = st.lists(st.sampled_from(["..", "..", "a", "s", "victim"]), min_size=1, max_size=3).map(
    "/".join
)
ABSOLUTE = st.sampled_from(["", "/", "/etc", BASE, BASE + "/victim", BASE + "/vdir"])
MODES = st.sampled_from([0o755, 0o777, 0o700, 0o555, 0o4755, 0o000])


def snapshot(base: Path, skip: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry below ``base`` except ``skip``: (mode, mtime_ns, content digest)."""
    out: dict[str, tuple[int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        if Path(dirpath) == base:
            dirnames[:] = [d for d in dirnames if base / d != skip]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st_ = os.lstat(path)
            if stat.S_ISREG(st_.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st_.st_mode):
                digest = os.readlink(path)
            else:
                digest = ""
            out[os.path.relpath(path, base)] = (st_.st_mode, st_.st_mtime_ns, digest)
    return out


class ExtractionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # base/dest is the target; base/victim and base/vdir are what must not change.
        self.base = Path(tempfile.mkdtemp(prefix="aiodock-extract-", dir=SCRATCH))
        self.dest = self.base / "dest"
        (self.base / "victim").write_bytes(b"precious")
        (self.base / "victim").chmod(0o600)
        (self.base / "vdir").mkdir(mode=0o700)
        (self.base / "vdir" / "inner").write_bytes(b"inner")
        for path in (self.base / "victim", self.base / "vdir"):
            os.utime(path, (1_000_000_000, 1_000_000_000))
        self.before = snapshot(self.base, self.dest)
        self.members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        self.last_archive: bytes | None = None

    def _add(self, name: str, type_: bytes, mode: int, link: str = "", data: bytes = b"") -> None:
        info = tarfile.TarInfo(name)
        info.type = type_
        info.mode = mode
        info.mtime = 1_234_567_890
        info.linkname = link.replace(BASE, str(self.base))
        self.members.append((info, data if type_ == tarfile.REGTYPE else None))

    @rule(path=PATHS, mode=MODES)
    def add_dir(self, path: str, mode: int) -> None:
        self._add(path, tarfile.DIRTYPE, mode)

    @rule(path=PATHS, mode=MODES, data=st.binary(max_size=64))
    def add_file(self, path: str, mode: int, data: bytes) -> None:
        self._add(path, tarfile.REGTYPE, mode, data=data)

    @rule(path=PATHS, link=CLIMBING)
    def add_relative_symlink(self, path: str, link: str) -> None:
        self._add(path, tarfile.SYMTYPE, 0o777, link=link)

    @rule(path=PATHS, link=ABSOLUTE)
    def add_absolute_symlink(self, path: str, link: str) -> None:
        self._add(path, tarfile.SYMTYPE, 0o777, link=link)

    @rule(path=PATHS, link=st.one_of(PATHS, CLIMBING, ABSOLUTE))
    def add_hard_link(self, path: str, link: str) -> None:
        self._add(path, tarfile.LNKTYPE, 0o644, link=link)

    @rule(index=st.integers(min_value=0, max_value=30))
    def duplicate(self, index: int) -> None:
        if self.members:
            info, data = self.members[index % len(self.members)]
            self.members.append((info, data))

    def _extract(self, archive: bytes, skip_unsafe_links: bool) -> None:
        with contextlib.suppress(DockerError):  # refusing is allowed; nothing else is
            extract_fileobj(
                io.BytesIO(archive), str(self.dest), skip_unsafe_links=skip_unsafe_links
            )

    @rule(skip_unsafe_links=st.booleans())
    def extract(self, skip_unsafe_links: bool) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in self.members:
                info.size = len(data) if data is not None else 0
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        self.members = []
        self.last_archive = buf.getvalue()
        self._extract(self.last_archive, skip_unsafe_links)

    @rule(skip_unsafe_links=st.booleans())
    def extract_again(self, skip_unsafe_links: bool) -> None:
        if self.last_archive is not None:
            self._extract(self.last_archive, skip_unsafe_links)

    @invariant()
    def nothing_outside_changed(self) -> None:
        assert snapshot(self.base, self.dest) == self.before

    @invariant()
    def nothing_resolves_outside(self) -> None:
        root = os.path.realpath(self.dest)
        for dirpath, dirnames, filenames in os.walk(self.dest):
            for name in dirnames + filenames:
                resolved = os.path.realpath(os.path.join(dirpath, name))
                assert resolved == root or resolved.startswith(root + os.sep), (
                    f"{os.path.join(dirpath, name)} resolves to {resolved}"
                )

    def teardown(self) -> None:
        for dirpath, dirnames, _ in os.walk(self.base):
            for name in dirnames:  # so that a non-root run can remove 0o000 directories
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o700)
        shutil.rmtree(self.base)


ExtractionMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=16,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=[HealthCheck.too_slow],
)
test_extraction_state_machine = ExtractionMachine.TestCase
