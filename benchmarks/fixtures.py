"""What the scenarios need on the engine and on disk, made once per run by the parent."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._engine import Engine

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


FULL = Sizes(
    requests_c1=2000,
    requests_c32=2000,
    inspects=1000,
    list_containers=300,
    list_calls=10,
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


async def prepare(engine: Engine, run_id: str, scenarios: set[str], sizes: Sizes) -> dict[str, Any]:
    """Create what the chosen scenarios need; return the worker parameters per scenario."""
    params: dict[str, Any] = {}
    label = f"aiodock-bench.role=list-{run_id}"
    binds = [f"{DATA_DIR}:/data:ro"]
    params["ping-c1"] = {"requests": sizes.requests_c1, "concurrency": 1}
    params["ping-c32"] = {"requests": sizes.requests_c32, "concurrency": 32}
    if scenarios & {"inspect-c1", "inspect-c32", "list"}:
        count = sizes.list_containers if "list" in scenarios else 1
        ids = await engine.create_many(run_id, count, role=f"list-{run_id}")
        params["inspect-c1"] = {"container": ids[0], "requests": sizes.inspects, "concurrency": 1}
        params["inspect-c32"] = {"container": ids[0], "requests": sizes.inspects, "concurrency": 32}
        params["list"] = {"label": label, "calls": sizes.list_calls, "containers": count}
    if "logs" in scenarios:
        out = data_file("stdout", sizes.logs_stdout)
        err = data_file("stderr", sizes.logs_stderr)
        cmd = f"cat /data/{out['file']} && cat /data/{err['file']} >&2"
        cid = await engine.create(
            run_id, ["sh", "-c", cmd], role="logs", binds=binds, log_config=LOCAL_LOGS
        )
        await engine.start(cid)
        status = await engine.wait(cid)
        if status != 0:
            raise RuntimeError(f"the logs container exited with {status}")
        params["logs"] = {"container": cid, "expected": expected(out, err)}
    if scenarios & {"exec-rt", "exec-out"}:
        blob = data_file("exec", sizes.exec_output)
        cid = await engine.create(run_id, ["sleep", "86400"], role="exec", binds=binds)
        await engine.start(cid)
        params["exec-rt"] = {"container": cid, "calls": sizes.exec_calls}
        params["exec-out"] = {
            "container": cid,
            "calls": sizes.exec_output_calls,
            "path": f"/data/{blob['file']}",
            "expected": expected(blob, None),
        }
    params["events"] = {"count": sizes.events, "timeout": 60}
    return params


async def make_events(engine: Engine, prefix: str, count: int) -> None:
    """``count`` volume events (create, then destroy), one after another."""
    for i in range(count // 2):
        name = f"{prefix}{i}"
        await engine.create_volume(name)
        await engine.remove_volume(name)
