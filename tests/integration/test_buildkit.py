"""BuildKit builds (``images.build(..., buildkit=True)``) against the real engine.

Bases are local only (``aiodock-test/busybox``, or the test registry on
127.0.0.1:5000); the Dockerfile frontend is the daemon's built-in one. Built
images are labelled ``aiodock-test=1`` and removed in ``finally``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiodock import BuildKitStream, BuildSecret, DockerClient
from aiodock.errors import BuildError, InvalidArgument, NotFound

try:
    from . import _infra
except ImportError:  # rootdir-relative import mode without packages
    import _infra  # type: ignore[no-redef,import-not-found]

pytest.importorskip("h2")

LABEL = {"aiodock-test": "1"}


def unique() -> str:
    return f"aiodock-test/bk-{uuid.uuid4().hex[:12]}"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


async def remove_image(docker: DockerClient, *names: str | None) -> None:
    for name in names:
        if name:
            with contextlib.suppress(NotFound):
                await docker.images.remove(name, force=True)


def lines_with(log: str, marker: str) -> list[str]:
    """Lines of a BuildKit log (``#N text``) whose text starts with ``marker``."""
    found = []
    for line in log.splitlines():
        text = line.partition(" ")[2]
        if text.startswith(marker):
            found.append(text[len(marker) :].strip())
    return found


async def test_multi_stage_with_independent_stages(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox} AS left\n"
                "RUN echo left-stage > /left\n"
                f"FROM {busybox} AS right\n"
                "COPY data.txt /right\n"
                f"FROM {busybox}\n"
                "COPY --from=left /left /left\n"
                "COPY --from=right /right /right\n"
                "RUN cat /left /right\n"
            ),
            "data.txt": "right-stage\n",
        },
    )
    tag = f"{unique()}:multi"
    image_id = None
    try:
        stream = docker.images.build(ctx, tags=tag, labels=LABEL, buildkit=True, nocache=True)
        assert isinstance(stream, BuildKitStream)
        statuses = [status async for status in stream.statuses()]
        image_id = stream.image_id
        assert image_id is not None and image_id.startswith("sha256:")
        # Typed events as they came: both stages' RUN/COPY steps started and completed.
        names = {v.name for status in statuses for v in status.vertexes}
        assert "[left 2/2] RUN echo left-stage > /left" in names
        assert "[right 2/2] COPY data.txt /right" in names
        logs = b"".join(log.data for status in statuses for log in status.logs)
        assert b"left-stage" in logs
        assert stream.uses_buildkit is True
        assert "left-stage" in stream.log and "right-stage" in stream.log
        steps = {step.name: step for step in stream.progress.steps.values()}
        run_left = steps["[left 2/2] RUN echo left-stage > /left"]
        final = next(s for name, s in steps.items() if name.endswith("RUN cat /left /right"))
        assert run_left.done and run_left.duration is not None and run_left.duration >= 0
        assert final.log.split() == ["left-stage", "right-stage"]
        assert stream.progress.failed == []
        assert stream.progress.completed == len(stream.progress.steps)
        info = await docker.images.inspect(tag)
        assert info.id == image_id
        assert info.config is not None and info.config.labels["aiodock-test"] == "1"
    finally:
        await remove_image(docker, tag, image_id)


async def test_secret_hash_lands_in_image_and_bytes_do_not(
    docker: DockerClient,
    busybox: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}".encode()
    digest = hashlib.sha256(secret).hexdigest()
    secret_file = tmp_path / "token"
    secret_file.write_bytes(secret)
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\n"
                "RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d' ' -f1 "
                "> /hash\n"
                "RUN --mount=type=secret,id=raw cat /run/secrets/raw | sha256sum | cut -d' ' -f1 "
                "> /hash2\n"
                "RUN echo HASH $(cat /hash) $(cat /hash2)\n"
            )
        },
    )
    tag = f"{unique()}:secret"
    image_id = None
    caplog.set_level(logging.DEBUG)
    try:
        stream = docker.images.build(
            ctx,
            tags=tag,
            labels=LABEL,
            nocache=True,
            secrets={"tok": BuildSecret.from_file(secret_file), "raw": secret},
        )
        assert isinstance(stream, BuildKitStream)
        assert stream.uses_buildkit is None  # decided at start: secrets make it BuildKit
        image_id = await stream.result()
        assert stream.uses_buildkit is True
        assert lines_with(stream.log, "HASH") == [f"{digest} {digest}"]
        assert secret.decode() not in stream.log
        assert secret.decode() not in repr(stream) + repr(stream.progress)
        assert "s3cr3t" not in repr(BuildSecret(secret)) and "s3cr3t" not in repr(
            BuildSecret.from_file(secret_file)
        )
        assert all(secret.decode() not in record.getMessage() for record in caplog.records)
        saved = b"".join([chunk async for chunk in docker.images.save(tag)])
        assert len(saved) > 100_000
        assert secret not in saved
        assert digest.encode() in saved  # the hash file is in a layer
    finally:
        await remove_image(docker, tag, image_id)


async def test_missing_secret_fails_the_step_without_the_value(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\n"
                "RUN --mount=type=secret,id=absent,required cat /run/secrets/absent\n"
            )
        },
    )
    with pytest.raises(BuildError) as info:
        await docker.images.build(
            ctx, labels=LABEL, secrets={"other": b"hidden-value-123"}
        ).result()
    assert "absent" in str(info.value)
    assert "hidden-value-123" not in str(info.value) + info.value.log


async def test_cache_mount_content_survives_into_the_next_build(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    # This engine's BuildKit (20.10) gives a no-cache build an empty cache mount, so
    # the first build is the no-cache one and the second re-runs the step through a
    # changed build argument; what the first wrote must be there.
    cache_id = f"aiodock-test-{uuid.uuid4().hex[:12]}"
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\n"
                "ARG RUN_NAME\n"
                f"RUN --mount=type=cache,id={cache_id},target=/cache "
                'echo "$RUN_NAME" >> /cache/runs && sed "s/^/SEEN /" /cache/runs\n'
            )
        },
    )
    images: list[str] = []
    try:
        for name, nocache in (("first", True), ("second", False)):
            stream = docker.images.build(
                ctx, labels=LABEL, buildkit=True, nocache=nocache, build_args={"RUN_NAME": name}
            )
            assert isinstance(stream, BuildKitStream)
            images.append(await stream.result())
            step = next(s for s in stream.progress.steps.values() if "RUN" in s.name)
            assert not step.cached
        assert lines_with(stream.log, "SEEN") == ["first", "second"]
    finally:
        await remove_image(docker, *images)


async def test_dockerignore_and_context_entries(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\nCOPY . /ctx\n"
                "RUN cd /ctx && find . | sort | sed 's/^/LISTED /' && "
                "stat -c 'MODE %n %a' run.sh && readlink link.txt | sed 's/^/LINK /' && "
                "stat -c 'MTIME %Y' app.py && wc -c < big.bin | sed 's/^/SIZE /'\n"
            ),
            ".dockerignore": (
                "*.log\n!important.log\n/secrets\n**/node_modules\ndocs/**\n!docs/README.md\n"
            ),
            "app.py": "print('hi')\n",
            "debug.log": "x",
            "important.log": "x",
            "secrets/token": "do-not-send",
            "src/main.py": "x",
            "src/node_modules/dep/index.js": "x",
            "docs/README.md": "x",
            "docs/internal.md": "x",
            "run.sh": "#!/bin/sh\n",
            "big.bin": bytes(range(256)) * 20_000,  # 5 MB: many DATA chunks
        },
    )
    (ctx / "run.sh").chmod(0o751)
    (ctx / "link.txt").symlink_to("app.py")
    os.utime(ctx / "app.py", (1_600_000_000, 1_600_000_000))
    stream = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    image_id = await stream.result()
    try:
        assert set(lines_with(stream.log, "LISTED")) == {
            ".",
            "./.dockerignore",
            "./Dockerfile",
            "./app.py",
            "./big.bin",
            "./important.log",
            "./link.txt",
            "./run.sh",
            "./src",
            "./src/main.py",
            "./docs",
            "./docs/README.md",
        }
        assert lines_with(stream.log, "MODE") == ["run.sh 751"]
        assert lines_with(stream.log, "LINK") == ["app.py"]
        assert lines_with(stream.log, "MTIME") == ["1600000000"]
        assert lines_with(stream.log, "SIZE") == ["5120000"]
    finally:
        await remove_image(docker, image_id)


async def test_dockerfile_outside_the_context(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"data.txt": "from the context\n", "other.txt": "x"})
    dockerfile = (
        write(
            tmp_path / "elsewhere",
            {
                "Build.dockerfile": (
                    f"FROM {busybox} AS base\nARG GREETING=unset\nCOPY data.txt /data.txt\n"
                    'RUN echo "greeting=$GREETING" && cat /data.txt\n'
                    "FROM base AS final\nRUN echo final-stage\n"
                    "FROM base AS skipped\nRUN echo skipped-stage\n"
                ),
                "unrelated-secret.txt": "not for the daemon",
            },
        )
        / "Build.dockerfile"
    )
    stream = docker.images.build(
        ctx,
        dockerfile=dockerfile,
        labels=LABEL,
        buildkit=True,
        nocache=True,
        build_args={"GREETING": "hello"},
        target="final",
    )
    image_id = await stream.result()
    try:
        assert "greeting=hello" in stream.log
        assert "from the context" in stream.log
        assert "final-stage" in stream.log and "skipped-stage" not in stream.log
    finally:
        await remove_image(docker, image_id)


async def test_failing_step_raises_build_error_with_its_log(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\nRUN echo setup-ok\n"
                'RUN echo "about to fail" && echo "to stderr" >&2 && exit 3\nRUN echo never\n'
            )
        },
    )
    stream = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    with pytest.raises(BuildError) as info:
        await stream.result()
    error = info.value
    assert error.step == '[3/4] RUN echo "about to fail" && echo "to stderr" >&2 && exit 3'
    assert "about to fail" in error.log and "to stderr" in error.log
    assert "setup-ok" not in error.log and "never" not in error.log
    assert "exit code: 3" in error.message
    assert docker._shared.streams == set() or all(
        getattr(s, "_closed", True) for s in docker._shared.streams
    )


def _running(marker: str) -> bool:
    """Whether a process on this host (where the engine runs) has ``marker`` in its command line."""
    wanted = marker.replace(" ", "\0").encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if wanted in (entry / "cmdline").read_bytes():
                    return True
    return False


async def test_cancelling_the_task_cancels_the_build(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    seconds = 3000 + uuid.uuid4().int % 500
    marker = f"sleep {seconds}"
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": f"FROM {busybox}\nRUN echo started && {marker}\n"},
    )
    stream = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    assert isinstance(stream, BuildKitStream)
    tasks_before = asyncio.all_tasks()
    task = asyncio.ensure_future(stream.result())
    for _ in range(300):
        await asyncio.sleep(0.1)
        if any("started" in s.log for s in stream.progress.steps.values()):
            break
    else:
        pytest.fail(f"the build did not reach its RUN step: {stream.log}")
    for _ in range(50):
        if _running(marker):
            break
        await asyncio.sleep(0.1)
    assert _running(marker), "the step's process should be running on the engine host"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if not _running(marker):
            break
        await asyncio.sleep(0.1)
    assert not _running(marker), "the build's process outlived the cancellation"
    assert stream._session is None and stream._server_task is None
    assert stream.response is None
    live = {s for s in docker._shared.streams if not getattr(s, "_closed", True)}
    assert live == set()
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - tasks_before if t is not asyncio.current_task()]
    assert [t for t in leftover if not t.done()] == []


async def test_cancelling_during_the_context_transfer(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx"
    write(ctx, {"Dockerfile": f"FROM {busybox}\nCOPY . /ctx\n"})
    block = os.urandom(1 << 20)
    for i in range(150):  # 150 MB: the transfer takes a while
        (ctx / f"f{i:03d}.bin").write_bytes(block[i:] + block[:i])
    stream = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    assert isinstance(stream, BuildKitStream)
    task = asyncio.ensure_future(stream.result())

    def transferring() -> bool:
        return any(
            s.name == "[internal] load build context" and s.transferred > 0
            for s in stream.progress.steps.values()
        )

    for _ in range(300):
        await asyncio.sleep(0.05)
        if transferring() or task.done():
            break
    assert not task.done(), "the build ended before the transfer could be cancelled"
    assert transferring(), stream.log
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream._session is None and stream._server_task is None
    live = {s for s in docker._shared.streams if not getattr(s, "_closed", True)}
    assert live == set()
    # The daemon is fine and builds again at once.
    write(ctx, {"Dockerfile": f"FROM {busybox}\nRUN echo after-cancel\n"})
    for f in ctx.glob("*.bin"):
        f.unlink()
    again = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    await remove_image(docker, await again.result())
    assert "after-cancel" in again.log


# --- registry credentials through the session's Auth service ---------------------------


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG, so that no stored credential is used by accident."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


@pytest.fixture
async def private_base(
    docker: DockerClient, busybox: str, registry: _infra.Registry, docker_config: Path
) -> AsyncIterator[str]:
    """busybox pushed as ``127.0.0.1:5000/private/base-<uuid>:1``, no longer tagged locally."""
    name = f"{registry.url}/private/base-{uuid.uuid4().hex[:12]}:1"
    await docker.images.tag(busybox, name)
    await docker.images.push(name, auth=registry.auth_config).wait()
    await docker.images.remove(name)
    try:
        yield name
    finally:
        await remove_image(docker, name)


async def test_base_image_from_a_private_registry_gets_credentials(
    docker: DockerClient,
    registry: _infra.Registry,
    docker_config: Path,
    private_base: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiodock.buildkit")
    ctx = write(tmp_path / "ctx", {"Dockerfile": f"FROM {private_base}\nRUN echo pulled-ok\n"})

    # Without credentials the daemon's pull is refused.
    with pytest.raises(BuildError) as info:
        await docker.images.build(ctx, labels=LABEL, buildkit=True).result()
    assert "401" in str(info.value) or "unauthorized" in str(info.value).lower()

    # From config.json, as pull and push find them.
    token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {f"http://{registry.url}": {"auth": token}}})
    )
    stream = docker.images.build(ctx, labels=LABEL, buildkit=True, nocache=True)
    first = await stream.result()
    try:
        assert "pulled-ok" in stream.log
        assert registry.password not in stream.log
    finally:
        await remove_image(docker, first, private_base)

    asked = [r.getMessage() for r in caplog.records if "credentials for" in r.getMessage()]
    assert asked == [
        f"session: credentials for {registry.url} asked: none",
        f"session: credentials for {registry.url} asked: given",
    ]
    assert all(registry.password not in r.getMessage() for r in caplog.records)

    # Given explicitly (the config is emptied first).
    caplog.clear()
    (docker_config / "config.json").write_text("{}")
    stream = docker.images.build(
        ctx,
        labels=LABEL,
        buildkit=True,
        nocache=True,
        registry_auth={registry.url: registry.auth_config},
    )
    second = await stream.result()
    await remove_image(docker, second)
    assert "pulled-ok" in stream.log
    asked = [r.getMessage() for r in caplog.records if "credentials for" in r.getMessage()]
    assert asked == [f"session: credentials for {registry.url} asked: given"]


# --- SSH agent forwarding --------------------------------------------------------------


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real ssh-agent holding one new key: ``(socket path, key fingerprint)``."""
    sock = tmp_path / "agent.sock"
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "aiodock-test", "-f", str(key)],
        check=True,
    )
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        fingerprint = subprocess.run(
            ["ssh-keygen", "-l", "-f", str(key)], capture_output=True, text=True, check=True
        ).stdout.split()[1]
        yield str(sock), fingerprint
    finally:
        agent.terminate()
        agent.wait(10)


def _copy_with_libraries(binary: str, dest: Path) -> None:
    """Put ``binary`` and the shared libraries it needs under ``dest`` (busybox has no ssh-add)."""
    dest.mkdir(parents=True)
    shutil.copy(binary, dest / os.path.basename(binary))
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            shutil.copy(path, dest / os.path.basename(path))


async def test_ssh_agent_is_forwarded(
    docker: DockerClient, busybox: str, tmp_path: Path, ssh_agent: tuple[str, str]
) -> None:
    socket_path, fingerprint = ssh_agent
    ctx = tmp_path / "ctx"
    ssh_add = shutil.which("ssh-add")
    assert ssh_add is not None
    _copy_with_libraries(ssh_add, ctx / "tools")
    loader = next(p.name for p in (ctx / "tools").iterdir() if p.name.startswith("ld-linux"))
    write(
        ctx,
        {
            "Dockerfile": (
                f"FROM {busybox}\n"
                "COPY tools /tools\n"
                "RUN --mount=type=ssh test -S $SSH_AUTH_SOCK && "
                f"/tools/{loader} --library-path /tools /tools/ssh-add -l | sed 's/^/AGENT /'\n"
            )
        },
    )
    stream = docker.images.build(ctx, labels=LABEL, nocache=True, ssh={"default": socket_path})
    image_id = await stream.result()
    try:
        listed = lines_with(stream.log, "AGENT")
        assert len(listed) == 1 and fingerprint in listed[0], stream.log
    finally:
        await remove_image(docker, image_id)


async def test_ssh_mount_without_an_agent_fails_the_step(
    docker: DockerClient, busybox: str, tmp_path: Path, ssh_agent: tuple[str, str]
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\nRUN --mount=type=ssh,id=other,required test -S $SSH_AUTH_SOCK\n"
            )
        },
    )
    with pytest.raises(BuildError) as info:
        await docker.images.build(
            ctx, labels=LABEL, nocache=True, ssh={"default": ssh_agent[0]}
        ).result()
    assert "other" in str(info.value)


# --- options and the default builder ----------------------------------------------------


async def test_default_follows_the_daemon_which_builds_classic_here(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    # Engine 20.10 sends no Builder-Version header: the CLI's default is the classic builder.
    ctx = write(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox}\nRUN echo classic-default\n"})
    stream = docker.images.build(ctx, labels=LABEL, nocache=True)
    image_id = await stream.result()
    try:
        assert stream.uses_buildkit is False  # type: ignore[attr-defined]
        assert "Step 2/3 : RUN echo classic-default" in stream.log
    finally:
        await remove_image(docker, image_id)


async def test_options_reach_the_build(docker: DockerClient, busybox: str, tmp_path: Path) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox} AS base\n"
                "ARG GREETING\n"
                "RUN grep aiodock-extra /etc/hosts | sed 's/^/HOSTS /' && "
                "echo \"NET $(ls /sys/class/net | tr '\\n' ' ')\" && echo \"ARG $GREETING\"\n"
                "FROM base AS unused\nRUN echo must-not-run\n"
                "FROM base AS chosen\nRUN echo chosen-stage\n"
            )
        },
    )
    tag = f"{unique()}:options"
    stream = docker.images.build(
        ctx,
        tags=[tag],
        labels={**LABEL, "extra": "label"},
        buildkit=True,
        nocache=True,
        pull=False,
        target="chosen",
        platform="linux/amd64",
        network_mode="none",
        extra_hosts={"aiodock-extra": "10.1.2.3"},
        build_args={"GREETING": "hi"},
        cache_from=[busybox],
    )
    image_id = await stream.result()
    try:
        assert lines_with(stream.log, "HOSTS") == ["10.1.2.3\taiodock-extra"]
        assert lines_with(stream.log, "NET") == ["lo"]
        assert lines_with(stream.log, "ARG") == ["hi"]
        assert "chosen-stage" in stream.log and "must-not-run" not in stream.log
        info = await docker.images.inspect(tag)
        assert info.id == image_id
        assert info.config is not None and info.config.labels["extra"] == "label"
        assert info.architecture == "amd64"
    finally:
        await remove_image(docker, tag, image_id)


async def test_ulimits_reach_classic_run_steps_and_buildkit_refuses_them(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": f'FROM {busybox}\nRUN echo "LIMITS $(ulimit -Sn) $(ulimit -Hn)"\n'},
    )
    stream = docker.images.build(
        ctx, labels=LABEL, nocache=True, buildkit=False, ulimits={"nofile": (1024, 2048)}
    )
    image_id = await stream.result()
    try:
        assert [line for line in stream.log.splitlines() if line.startswith("LIMITS")] == [
            "LIMITS 1024 2048"
        ]
    finally:
        await remove_image(docker, image_id)
    # This engine's BuildKit ignores ulimits (RUN steps keep the daemon's defaults),
    # so a BuildKit build with them fails before any request.
    with pytest.raises(InvalidArgument) as info:
        docker.images.build(ctx, buildkit=True, ulimits=["nofile=1024:2048"])
    assert info.value.parameter == "ulimits"


# --- outputs: local directory and tar ---------------------------------------------------


def export_context(root: Path) -> Path:
    ctx = write(
        root,
        {
            "Dockerfile": "FROM scratch\nCOPY files/ /\n",
            "files/hello.txt": "hello\n",
            "files/bin/run.sh": "#!/bin/sh\necho run\n",
            "files/data/big.bin": os.urandom(3 * 1024 * 1024 + 5),
            "files/data/empty": b"",
            "files/data/nested/deep.txt": "deep\n",
        },
    )
    (ctx / "files/bin/run.sh").chmod(0o755)
    (ctx / "files/data/empty").chmod(0o600)
    (ctx / "files/link").symlink_to("hello.txt")
    return ctx


async def test_outputs_local_directory_gets_the_final_stage_files(
    docker: DockerClient, tmp_path: Path
) -> None:
    ctx = export_context(tmp_path / "ctx")
    dest = tmp_path / "out"
    marker = {"aiodock-export": uuid.uuid4().hex}
    stream = docker.images.build(
        ctx, buildkit=True, labels=marker, outputs=f"type=local,dest={dest}"
    )
    result = await stream
    assert result.image_id == ""  # exported, not stored
    assert (
        await docker.images.list(
            all=True, filters={"label": [f"aiodock-export={marker['aiodock-export']}"]}
        )
        == []
    )
    files = ctx / "files"
    expected = sorted(str(p.relative_to(files)) for p in files.rglob("*"))
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == expected
    for rel in expected:
        source, got = files / rel, dest / rel
        if source.is_symlink():
            assert os.readlink(got) == "hello.txt"
        elif source.is_file():
            assert got.read_bytes() == source.read_bytes(), rel
            assert stat_mode(got) == stat_mode(source), rel
        else:
            assert got.is_dir() and not got.is_symlink()


def stat_mode(path: Path) -> int:
    return path.lstat().st_mode & 0o7777


async def test_outputs_tar_to_a_file_and_a_file_object(
    docker: DockerClient, tmp_path: Path
) -> None:
    import io
    import tarfile

    ctx = export_context(tmp_path / "ctx")
    target = tmp_path / "result.tar"
    await docker.images.build(ctx, buildkit=True, outputs=f"type=tar,dest={target}")
    with tarfile.open(target) as tar:
        members = {m.name.rstrip("/"): m for m in tar.getmembers()}
        assert {"hello.txt", "bin/run.sh", "data/big.bin", "data/empty", "link"} <= set(members)
        assert members["link"].issym() and members["link"].linkname == "hello.txt"
        assert members["bin/run.sh"].mode & 0o777 == 0o755
        big = tar.extractfile(members["data/big.bin"])
        assert big is not None
        assert big.read() == (ctx / "files/data/big.bin").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["ctx", "result.tar"]  # no temporary left

    buffer = io.BytesIO()
    await docker.images.build(ctx, buildkit=True, outputs={"type": "tar", "dest": buffer})
    assert buffer.getvalue() == target.read_bytes()


async def test_outputs_local_refuses_a_link_leading_outside(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    from aiodock._tar.extract import UnsafeArchiveError

    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox} AS make\n"
                "RUN mkdir /o && echo ok > /o/fine && ln -s /etc/passwd /o/escape\n"
                "FROM scratch\nCOPY --from=make /o /\n"
            )
        },
    )
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError) as info:
        await docker.images.build(ctx, buildkit=True, nocache=True, outputs=str(dest))
    assert info.value.member == "escape"
    assert not (dest / "escape").is_symlink()
