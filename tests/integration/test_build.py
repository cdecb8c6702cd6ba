"""Image builds against the real engine (classic builder; bases are local only).

Every Dockerfile starts ``FROM aiodock-test/busybox:latest`` or ``FROM scratch``; built
images are labelled ``aiodock-test=1``, tagged ``aiodock-test/img-<uuid>`` and removed in
``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from aiodock import DockerClient
from aiodock.errors import BuildError, NotFound

LABEL = {"aiodock-test": "1"}
REPO_ROOT = Path(__file__).resolve().parents[2]


def unique() -> str:
    return f"aiodock-test/img-{uuid.uuid4().hex[:12]}"


async def remove_image(docker: DockerClient, *names: str | None) -> None:
    for name in names:
        if not name:
            continue
        with contextlib.suppress(NotFound):
            await docker.images.remove(name, force=True)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


async def test_build_honours_dockerignore(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                f"FROM {busybox}\nCOPY . /ctx\nRUN cd /ctx && find . | sort | sed 's/^/LISTED /'\n"
            ),
            ".dockerignore": (
                "# keep the context small\n"
                "*.log\n"
                "!important.log\n"
                "/secrets\n"
                "**/node_modules\n"
                "docs/**\n"
                "!docs/README.md\n"
                "Dockerfile\n"  # ignored, but the CLI (and aiodock) sends it anyway
            ),
            "app.py": "print('hi')\n",
            "debug.log": "x",
            "important.log": "x",
            "secrets/token": "do-not-send",
            "src/main.py": "x",
            "src/node_modules/dep/index.js": "x",
            "node_modules/top.js": "x",
            "docs/README.md": "x",
            "docs/internal.md": "x",
        },
    )
    tag = f"{unique()}:1"
    image_id = None
    try:
        stream = docker.images.build(ctx, tags=[tag], labels=LABEL)
        result = await stream  # awaiting the build runs it to its end
        image_id = result.image_id
        assert result.tags == (tag,)
        assert await stream.result() == image_id  # the older spelling
        listed = {
            line[len("LISTED ") :].strip()
            for line in stream.log.splitlines()
            if line.startswith("LISTED ")
        }
        assert listed == {
            ".",
            "./.dockerignore",
            "./app.py",
            "./important.log",
            "./src",
            "./src/main.py",
            "./docs",
            "./docs/README.md",
        }
        # The ignored Dockerfile was sent (the build needed it); the daemon then leaves
        # it out of the context the way the .dockerignore says.
        assert "COPY . /ctx" in stream.log
        assert stream.tags == [tag]
        info = await docker.images.inspect(tag)
        assert info.id == image_id
        assert info.config is not None and info.config.labels["aiodock-test"] == "1"
        assert stream.context_bytes > 0
    finally:
        await remove_image(docker, tag, image_id)


async def test_failed_run_raises_build_error_and_cleans_up(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": (f'FROM {busybox}\nRUN echo "about to fail" && exit 3\nRUN echo never\n')},
    )
    with pytest.raises(BuildError) as info:
        await docker.images.build(ctx, labels=LABEL)
    error = info.value
    assert error.code == 3
    assert "returned a non-zero code: 3" in error.message
    assert "Step 2/" in error.log and "about to fail" in error.log
    assert "never" not in error.log
    # forcerm is the default: the failed step's container is gone.
    match = re.search(r"Running in ([0-9a-f]{12})", error.log)
    assert match is not None
    with pytest.raises(NotFound):
        await docker.request("GET", f"/containers/{match.group(1)}/json")


async def test_build_args_target_and_outside_dockerfile(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"data.txt": "from the context\n"})
    dockerfile = tmp_path / "elsewhere" / "Build.dockerfile"
    write(
        dockerfile.parent,
        {
            dockerfile.name: (
                f"FROM {busybox} AS base\n"
                "ARG GREETING=unset\n"
                "COPY data.txt /data.txt\n"
                'RUN echo "greeting=$GREETING" && cat /data.txt\n'
                "FROM base AS final\n"
                "RUN echo final-stage\n"
                "FROM base AS skipped\n"
                "RUN echo skipped-stage\n"
            )
        },
    )
    tag = f"{unique()}:args"
    image_id = None
    try:
        stream = docker.images.build(
            ctx,
            dockerfile=dockerfile,
            tags=tag,
            build_args={"GREETING": "hello"},
            target="final",
            labels=LABEL,
            network_mode="none",
        )
        image_id = await stream.result()
        assert "greeting=hello" in stream.log
        assert "from the context" in stream.log
        assert "final-stage" in stream.log
        assert "skipped-stage" not in stream.log
    finally:
        await remove_image(docker, tag, image_id)


async def test_quiet_build_and_tar_context(
    docker: DockerClient, busybox: str, tmp_path: Path
) -> None:
    import io
    import tarfile

    dockerfile = f'FROM scratch\nLABEL aiodock-test="1" aiodock-quiet="{uuid.uuid4().hex}"\n'
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    image_id = None
    try:
        stream = docker.images.build(buf.getvalue(), quiet=True)
        messages = await stream.collect()
        image_id = stream.image_id
        assert image_id is not None and image_id.startswith("sha256:")
        assert not any("Step" in m.stream for m in messages)
        inspected = await docker.images.inspect(image_id)
        assert inspected.config is not None and inspected.config.labels["aiodock-test"] == "1"
    finally:
        await remove_image(docker, image_id)


_MEMORY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys, time
    import aiodock

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def main(ctx):
        async with aiodock.DockerClient() as docker:
            await docker.system.ping()
            before = peak_mib()
            start = time.perf_counter()
            stream = docker.images.build(ctx, labels={"aiodock-test": "1"})
            image_id = await stream.result()
            elapsed = time.perf_counter() - start
            await docker.images.remove(image_id, force=True)
            print(json.dumps({
                "before": before, "after": peak_mib(), "sent": stream.context_bytes,
                "seconds": elapsed,
            }))

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.slow
def test_large_context_is_streamed_with_bounded_memory(busybox: str, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM scratch\nLABEL aiodock-test=1 run={uuid.uuid4().hex}\n")
    size = 200 << 20
    # Mostly one big file (sparse, so it costs no disk), plus real data and many small files.
    with (ctx / "big.bin").open("wb") as fh:
        fh.truncate(size - (4 << 20) - 100 * 4096)
    (ctx / "random.bin").write_bytes(os.urandom(4 << 20))
    small = ctx / "small"
    small.mkdir()
    for i in range(100):
        (small / f"f{i}").write_bytes(os.urandom(4096))
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, str(ctx)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["sent"] >= size
    growth = result["after"] - result["before"]
    # A buffered 200 MiB context would add >= 200 MiB; streaming adds a few chunks.
    assert growth < 40, result


def test_build_progress_example_runs(busybox: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "build_progress.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sent build context:" in proc.stdout
    assert "main.sh" in proc.stdout and "scratch.tmp" not in proc.stdout
    assert "built sha256:" in proc.stdout
