"""The exec namespace against the real engine: exit codes, byte-exact output and stdin."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import AsyncIterator, Awaitable

import pytest

from aiodock import DockerClient, StreamType
from aiodock.errors import Conflict, ContainerNotFound, InvalidArgument, NotFound

MiB = 1 << 20


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def running(
    docker: DockerClient, busybox: str, test_label: dict[str, str]
) -> AsyncIterator[str]:
    """A running container (``sleep``) to exec into."""
    container = await docker.containers.create(
        image=busybox, cmd=["sleep", "600"], labels=test_label, stop_timeout=0
    )
    try:
        await docker.containers.start(container.id)
        yield container.id
    finally:
        with contextlib.suppress(NotFound):
            await docker.containers.remove(container.id, force=True)


async def test_run_returns_exit_code_and_output(docker: DockerClient, running: str) -> None:
    result = await docker.exec.run(running, ["sh", "-c", "echo out; echo err >&2; exit 42"])
    assert (result.exit_code, bytes(result.stdout), bytes(result.stderr)) == (
        42,
        b"out\n",
        b"err\n",
    )
    ok = await docker.exec.run(running, "sh -c 'printf %s \"$GREETING\"'", env={"GREETING": "hi"})
    assert (ok.exit_code, bytes(ok.stdout)) == (0, b"hi")
    where = await docker.exec.run(running, ["sh", "-c", "pwd; id -u"], working_dir="/bin", user="7")
    assert where.stdout == b"/bin\n7\n"
    missing = await docker.exec.run(running, ["/no/such/binary"])
    assert missing.exit_code in (126, 127)
    same = await docker.containers.exec_run(running, ["sh", "-c", "exit 3"])
    assert same.exit_code == 3


async def test_binary_output_is_byte_exact(docker: DockerClient, running: str) -> None:
    out, err = os.urandom(10 * MiB + 3), os.urandom(10 * MiB + 5)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("out", out), ("err", err)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    await docker.containers.put_archive(running, path="/", data=buf.getvalue())
    result = await docker.exec.run(running, ["sh", "-c", "cat /out & cat /err >&2; wait"])
    assert result.exit_code == 0
    assert (len(result.stdout), sha(result.stdout)) == (len(out), sha(out))
    assert (len(result.stderr), sha(result.stderr)) == (len(err), sha(err))


async def test_stdin_round_trips_to_both_streams(docker: DockerClient, running: str) -> None:
    data = os.urandom(10 * MiB + 1)
    result = await docker.exec.run(running, ["tee", "/dev/stderr"], stdin=data)
    assert result.exit_code == 0
    assert sha(result.stdout) == sha(data) and sha(result.stderr) == sha(data)
    # A process that exits without reading all its input is not an error. (The engine
    # may hold the connection for seconds when stdin cannot be delivered: keep it small.)
    early = await docker.exec.run(running, ["sh", "-c", "head -c 5; exit 9"], stdin=data[:100_000])
    assert (early.exit_code, bytes(early.stdout)) == (9, data[:5])


async def test_exit_code_after_streaming(docker: DockerClient, running: str) -> None:
    script = "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2; exit 7"
    async with await docker.exec.spawn(running, ["sh", "-c", script]) as process:
        frames = [(frame.stream, frame.data) async for frame in process]
        code = await process.wait(timeout=10)
    assert code == 7
    assert b"".join(d for s, d in frames if s == StreamType.STDOUT) == b"line1\nline2\nline3\n"
    assert b"".join(d for s, d in frames if s == StreamType.STDERR) == b"bye\n"
    info = await docker.exec.inspect(process.id)
    assert info.exit_code == 7 and not info.running and info.container_id == running


async def test_interactive_stdin(docker: DockerClient, running: str) -> None:
    process = await docker.exec.spawn(running, ["sh", "-c", "read x; echo got:$x; cat"], stdin=True)
    async with process:
        await process.write(b"first\n")
        first = await process.__anext__()
        assert first == (StreamType.STDOUT, b"got:first\n")
        await process.write(b"\x00rest")
        await process.close_stdin()
        rest = await process.demux()
    assert rest.stdout == b"\x00rest"
    assert await process.wait() == 0


async def test_tty_exec_create_start_resize_inspect(docker: DockerClient, running: str) -> None:
    created = await docker.exec.create(
        running, cmd=["sh", "-c", "sleep 0.3; stty size; echo err >&2"], tty=True
    )
    info = await docker.exec.inspect(created.id)
    assert info.process_config is not None and info.process_config.tty and not info.running
    stream = await docker.exec.start(created.id)  # tty looked up
    async with stream:
        assert stream.tty
        await docker.exec.resize(created.id, height=33, width=101)
        output = await stream.demux()
    assert output.stderr == b""  # a TTY has one stream
    assert output.stdout == b"33 101\r\nerr\r\n"
    assert await docker.exec.exit_code(created.id) == 0


async def test_detached_exec(docker: DockerClient, running: str) -> None:
    created = await docker.exec.create(running, cmd=["sh", "-c", "echo done > /marker"])
    started: Awaitable[object] = docker.exec.start(created.id, detach=True)
    assert await started is None
    assert await docker.exec.exit_code(created.id, timeout=10) == 0
    assert (await docker.exec.run(running, ["cat", "/marker"])).stdout == b"done\n"


async def test_exec_errors(docker: DockerClient, busybox: str, test_label: dict[str, str]) -> None:
    with pytest.raises(ContainerNotFound, match="no-such-container"):
        await docker.exec.run("aiodock-no-such-container", ["true"])
    with pytest.raises(NotFound, match="no-such-exec"):
        await docker.exec.inspect("no-such-exec")
    with pytest.raises(InvalidArgument):
        await docker.exec.run("x", [])
    stopped = await docker.containers.create(image=busybox, cmd=["true"], labels=test_label)
    try:
        with pytest.raises(Conflict, match="not running"):
            await docker.exec.create(stopped.id, cmd=["true"])
    finally:
        await docker.containers.remove(stopped.id, force=True)


async def test_concurrent_runs(docker: DockerClient, running: str) -> None:
    results = await asyncio.gather(
        *(docker.exec.run(running, ["sh", "-c", f"echo {i}; exit {i}"]) for i in range(20))
    )
    assert [(r.exit_code, bytes(r.stdout)) for r in results] == [
        (i, b"%d\n" % i) for i in range(20)
    ]
