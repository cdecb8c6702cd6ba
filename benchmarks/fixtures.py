"""What the scenarios need on the engine and on disk, made once per run by the parent."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._engine import Engine, EngineError

DATA_DIR = Path(os.environ.get("AIODOCK_BENCH_DATA", "/tmp/aiodock-bench-data"))
LOCAL_LOGS = {
    # The json-file driver stores lines as JSON strings and replaces invalid
    # UTF-8; the local driver keeps bytes exactly, so binary output survives.
    "Type": "local",
    "Config": {"max-size": "1g", "max-file": "1", "compress": "false"},
}


@dataclass(frozen=True)
class Sizes:
    requests_c1: int
    requests_c32: int
    inspects: int
    list_containers: int
    list_calls: int
    logs_stdout: int
    logs_stderr: int
    events: int
    exec_calls: int
    exec_output: int
    exec_output_calls: int
    stream_seconds: float = 30.0
    stats_streams: int = 200
    logs_streams: int = 100
    stream_containers: int = 10
    growth: tuple[int, ...] = (10, 50)


FULL = Sizes(
    requests_c1=2000,
    requests_c32=2000,
    inspects=1000,
    list_containers=300,
    # Enough calls that the garbage collector's occasional full collections are
    # averaged in, as a long-running service pays them, not caught or missed by chance.
    list_calls=60,
    logs_stdout=200_000_000,
    logs_stderr=50_000_000,
    events=400,
    exec_calls=100,
    exec_output=20 * 2**20,
    exec_output_calls=5,
)
QUICK = Sizes(
    requests_c1=400,
    requests_c32=400,
    inspects=200,
    list_containers=60,
    list_calls=5,
    logs_stdout=20_000_000,
    logs_stderr=5_000_000,
    events=100,
    exec_calls=20,
    exec_output=4 * 2**20,
    exec_output_calls=3,
    stream_seconds=3.0,
    stats_streams=20,
    logs_streams=10,
    stream_containers=3,
    growth=(5,),
)


def _digest(path: Path) -> dict[str, Any]:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
    return {"bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def data_file(name: str, size: int) -> dict[str, Any]:
    """A file of ``size`` random bytes with no newline (the daemon's log copier splits
    lines, so a newline-free body comes back byte for byte), made once and reused."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}-{size}.bin"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if meta.get("bytes") == size and path.stat().st_size == size:
            return {**meta, "file": path.name}
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 1 << 24)).replace(b"\n", b"\x0b")
            f.write(block)
            left -= len(block)
    tmp.rename(path)
    meta = _digest(path)
    meta_path.write_text(json.dumps(meta))
    return {**meta, "file": path.name}


def expected(stdout: dict[str, Any] | None, stderr: dict[str, Any] | None) -> dict[str, Any]:
    empty = hashlib.sha256().hexdigest()
    return {
        "stdout_bytes": stdout["bytes"] if stdout else 0,
        "stdout_sha256": stdout["sha256"] if stdout else empty,
        "stderr_bytes": stderr["bytes"] if stderr else 0,
        "stderr_sha256": stderr["sha256"] if stderr else empty,
    }


class Fixtures:
    """The engine objects of one run, made when a scenario first needs them and made
    again if they disappeared (another test session sweeping labelled containers)."""

    def __init__(self, engine: Engine, run_id: str, sizes: Sizes) -> None:
        self.engine = engine
        self.run_id = run_id
        self.sizes = sizes
        self._made: dict[str, dict[str, Any]] = {}
        self.remade = 0  # how many times a fixture had to be made again
        self.binds = [f"{DATA_DIR}:/data:ro"]

    async def params(self, scenario: str) -> dict[str, Any]:
        """Worker parameters for ``scenario``, with its containers checked or (re)made."""
        sizes = self.sizes
        if scenario in ("ping-c1", "ping-c32"):
            requests = sizes.requests_c1 if scenario == "ping-c1" else sizes.requests_c32
            return {"requests": requests, "concurrency": 1 if scenario == "ping-c1" else 32}
        if scenario == "events":
            return {"count": sizes.events, "timeout": 60}
        if scenario == "list":
            made = await self._fixture("list", self._make_list, self._check_list)
            return {
                "label": made["label"],
                "calls": sizes.list_calls,
                "containers": len(made["ids"]),
            }
        if scenario in ("inspect-c1", "inspect-c32", "cold-start"):
            made = await self._fixture("inspect", self._make_one, self._check_exists)
            return {
                "container": made["container"],
                "requests": sizes.inspects,
                "concurrency": 32 if scenario == "inspect-c32" else 1,
            }
        if scenario in ("logs", "logs-raw", "logs-collect"):
            made = await self._fixture("logs", self._make_logs, self._check_exists)
            return {"container": made["container"], "expected": made["expected"]}
        if scenario in ("exec-rt", "exec-out", "exec-out-raw"):
            made = await self._fixture("exec", self._make_exec, self._check_running)
            if scenario == "exec-rt":
                return {"container": made["container"], "calls": sizes.exec_calls}
            return {
                "container": made["container"],
                "calls": sizes.exec_output_calls,
                "path": made["path"],
                "expected": made["expected"],
            }
        if scenario.startswith("stats-"):
            made = await self._fixture("stats", self._make_sleepers, self._check_all_running)
            return {
                "containers": made["ids"],
                "streams": int(scenario.split("-")[1]),
                "seconds": sizes.stream_seconds,
            }
        if scenario.startswith("logs-"):
            made = await self._fixture("writers", self._make_writers, self._check_all_running)
            return {
                "containers": made["ids"],
                "streams": int(scenario.split("-")[1]),
                "seconds": sizes.stream_seconds,
            }
        raise ValueError(f"no fixture for {scenario!r}")

    async def _make_running(self, role: str, cmd: list[str]) -> dict[str, Any]:
        ids = []
        for _ in range(self.sizes.stream_containers):
            cid = await self.engine.create(self.run_id, cmd, role=role, log_config=LOCAL_LOGS)
            await self.engine.start(cid)
            ids.append(cid)
        return {"ids": ids}

    async def _make_sleepers(self) -> dict[str, Any]:
        return await self._make_running("stats", ["sleep", "86400"])

    async def _make_writers(self) -> dict[str, Any]:
        # About 10 KB/s per container: a 100-byte line every 10 ms.
        line = "x" * 99
        return await self._make_running(
            "writer", ["sh", "-c", f"while :; do echo {line}; usleep 10000; done"]
        )

    async def _check_all_running(self, made: dict[str, Any]) -> bool:
        for cid in made["ids"]:
            try:
                info = await self.engine.call("GET", f"/containers/{cid}/json")
            except EngineError:
                return False
            if not info["State"]["Running"]:
                return False
        return True

    async def _fixture(self, name: str, make: Any, check: Any) -> dict[str, Any]:
        made = self._made.get(name)
        if made is not None and await check(made):
            return made
        if made is not None:
            self.remade += 1
            print(f"  fixture {name!r} disappeared: making it again", flush=True)
        made = self._made[name] = await make()
        return made

    async def _make_one(self) -> dict[str, Any]:
        # A created (never started) container, like most a client inspects.
        return {"container": await self.engine.create(self.run_id, ["true"], role="inspect")}

    async def _make_list(self) -> dict[str, Any]:
        # Everything of this run carries aiodock-bench=<run id>; the listed
        # containers also carry a role label no other container has.
        role = f"list-{self.run_id}"
        ids = await self.engine.create_many(self.run_id, self.sizes.list_containers, role=role)
        return {"ids": ids, "label": f"aiodock-bench.role={role}"}

    async def _check_list(self, made: dict[str, Any]) -> bool:
        found = await self.engine.call(
            "GET",
            "/containers/json",
            params={"all": "1", "filters": json.dumps({"label": [made["label"]]})},
        )
        return {c["Id"] for c in found} == set(made["ids"])

    async def _check_exists(self, made: dict[str, Any]) -> bool:
        try:
            await self.engine.call("GET", f"/containers/{made['container']}/json")
        except EngineError:
            return False
        return True

    async def _check_running(self, made: dict[str, Any]) -> bool:
        try:
            info = await self.engine.call("GET", f"/containers/{made['container']}/json")
        except EngineError:
            return False
        return bool(info["State"]["Running"])

    async def _make_logs(self) -> dict[str, Any]:
        out = data_file("stdout", self.sizes.logs_stdout)
        err = data_file("stderr", self.sizes.logs_stderr)
        cmd = f"cat /data/{out['file']} && cat /data/{err['file']} >&2"
        cid = await self.engine.create(
            self.run_id, ["sh", "-c", cmd], role="logs", binds=self.binds, log_config=LOCAL_LOGS
        )
        await self.engine.start(cid)
        status = await self.engine.wait(cid)
        if status != 0:
            raise RuntimeError(f"the logs container exited with {status}")
        return {"container": cid, "expected": expected(out, err)}

    async def _make_exec(self) -> dict[str, Any]:
        blob = data_file("exec", self.sizes.exec_output)
        cid = await self.engine.create(
            self.run_id, ["sleep", "86400"], role="exec", binds=self.binds
        )
        await self.engine.start(cid)
        return {
            "container": cid,
            "path": f"/data/{blob['file']}",
            "expected": expected(blob, None),
        }


async def make_events(engine: Engine, prefix: str, count: int) -> None:
    """``count`` volume events (create, then destroy), one after another."""
    for i in range(count // 2):
        name = f"{prefix}{i}"
        await engine.create_volume(name)
        await engine.remove_volume(name)
