"""The images namespace against the real engine: local operations, save/load, import, commit.

Everything here is local: images come from ``aiodock-test/busybox:latest`` (tagged under
unique ``aiodock-test/img-<uuid>`` names) or are created from scratch; nothing is pulled.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from aiodock import DockerClient, LoadResult
from aiodock.errors import (
    APIError,
    APIVersionError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    ServerError,
)

LABEL = {"aiodock-test": "1"}


def unique(prefix: str = "img") -> str:
    return f"aiodock-test/{prefix}-{uuid.uuid4().hex[:12]}"


def short(name: str) -> str:
    """A name as Docker shows it: Podman qualifies names (localhost/, docker.io/)."""
    for prefix in ("localhost/", "docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


async def untag(docker: DockerClient, *names: str) -> None:
    for name in names:
        with contextlib.suppress(NotFound):
            await docker.images.remove(name, force=True)


@pytest.mark.engines
async def test_list_inspect_history_exists(
    docker: DockerClient,
    busybox: str,
    engine_kind: str,
    engine_difference: Callable[[str], None],
) -> None:
    listed = await docker.images.list(filters={"reference": busybox})
    if engine_kind == "podman":
        assert [image.repo_tags for image in listed] == [[f"localhost/{busybox}"]]
        engine_difference("image names come back qualified (localhost/..., docker.io/...)")
    else:
        assert [image.repo_tags for image in listed] == [[busybox]]
    info = await docker.images.inspect(busybox)
    assert info.id == listed[0].id and info.id.startswith("sha256:")
    assert info.os == "linux" and info.size > 1_000_000
    assert info.root_fs is not None and info.root_fs.layers
    history = await docker.images.history(busybox)
    assert history[0].id == info.id
    assert any("busybox" in item.created_by for item in history)
    assert await docker.images.exists(busybox)
    assert not await docker.images.exists(unique("missing"))
    with pytest.raises(ImageNotFound):
        await docker.images.inspect(unique("missing") + ":nope")
    with pytest.raises(APIVersionError):
        await docker.images.list(shared_size=True)  # needs 1.42; the engine speaks 1.41


@pytest.mark.engines
async def test_tag_and_remove(docker: DockerClient, busybox: str) -> None:
    name = unique()
    try:
        await docker.images.tag(busybox, f"{name}:one")
        await docker.images.tag(busybox, name, tag="two")
        info = await docker.images.inspect(busybox)
        tagged = await docker.images.inspect(f"{name}:two")
        assert tagged.id == info.id
        assert {f"{name}:one", f"{name}:two"} <= {short(t) for t in tagged.repo_tags}
        removed = await docker.images.remove(f"{name}:one")
        assert [short(r.untagged or "") for r in removed] == [f"{name}:one"]
        assert not any(r.deleted for r in removed)  # busybox itself stays
        assert await docker.images.exists(busybox)
        with pytest.raises(ImageNotFound):
            await docker.images.tag(unique("missing"), f"{name}:three")
    finally:
        await untag(docker, f"{name}:one", f"{name}:two")


@pytest.mark.engines
async def test_save_load_round_trip(docker: DockerClient, busybox: str, tmp_path: Path) -> None:
    name = f"{unique()}:saved"
    other = f"{unique()}:also"
    try:
        await docker.images.tag(busybox, name)
        await docker.images.tag(busybox, other)
        original = await docker.images.inspect(name)
        archive = tmp_path / "image.tar"
        chunks = 0
        with archive.open("wb") as fh:
            async with docker.images.save(name) as stream:
                async for chunk in stream:
                    chunks += 1
                    fh.write(chunk)
        assert archive.stat().st_size > 1_000_000
        with tarfile.open(archive) as tar:
            assert "manifest.json" in tar.getnames()
        await docker.images.remove(name)
        assert not await docker.images.exists(name)

        with archive.open("rb") as src:
            load = docker.images.load(src)
            loaded = await load
        assert [short(n) for n in load.loaded] == [name]
        assert loaded == LoadResult(tags=tuple(load.loaded))
        assert (await docker.images.inspect(name)).id == original.id

        # Several images in one archive, each named once with ``names=``.
        data = b"".join(await docker.images.save_many([name, other]).collect())
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            manifest = tar.extractfile("manifest.json")
            assert manifest is not None
            text = manifest.read().decode()
        assert name in text and other in text
        await untag(docker, name, other)

        async def chunked() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 100_000):
                yield data[i : i + 100_000]

        loaded = await docker.images.load(chunked(), quiet=True)
        assert sorted(short(n) for n in loaded.tags) == sorted([name, other])
        assert loaded.image_ids == ()
    finally:
        await untag(docker, name, other)


@pytest.mark.engines
async def test_save_missing_image_raises_before_iteration(docker: DockerClient) -> None:
    with pytest.raises(ImageNotFound):
        await docker.images.save(unique("missing") + ":x")


@pytest.mark.engines
async def test_load_garbage_raises(docker: DockerClient) -> None:
    from aiodock.errors import DockerError

    with pytest.raises(DockerError):
        await docker.images.load(b"this is not a tar archive" * 100).wait()


def rootfs_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in (("hello.txt", b"hello from import\n"), ("etc/release", b"x\n")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@pytest.mark.engines
async def test_import_image(
    docker: DockerClient, engine_kind: str, engine_difference: Callable[[str], None]
) -> None:
    name = unique("imported")
    if engine_kind == "podman":
        # Podman 4.3 tags an import :latest whatever tag it is asked for.
        engine_difference("import ignores the tag (always :latest)")
        try:
            stream = docker.images.import_image(rootfs_tar(), repository=f"{name}:1")
            await stream.wait()
            assert stream.image_id is not None and stream.image_id.startswith("sha256:")
            assert not await docker.images.exists(f"{name}:1")
            assert (await docker.images.inspect(f"{name}:latest")).id == stream.image_id
        finally:
            await untag(docker, f"{name}:latest")
        return
    try:
        stream = docker.images.import_image(
            rootfs_tar(),
            repository=f"{name}:1",
            message="made by aiodock",
            changes=['LABEL aiodock-test="1"', 'CMD ["/hello.txt"]'],
        )
        imported = await stream
        assert imported.image_id.startswith("sha256:") and imported.image_id == stream.image_id
        info = await docker.images.inspect(f"{name}:1")
        assert info.id == imported.image_id
        assert info.config is not None
        assert info.config.labels.get("aiodock-test") == "1"
        assert info.config.cmd == ["/hello.txt"]
        history = await docker.images.history(info.id)
        assert history[0].comment == "made by aiodock"
    finally:
        await untag(docker, f"{name}:1")


async def test_commit_container(docker: DockerClient, busybox: str) -> None:
    name = unique("committed")
    created = await docker.request(
        "POST",
        "/containers/create",
        json={"Image": busybox, "Cmd": ["sh", "-c", "echo hi > /made"], "Labels": LABEL},
    )
    container = created["Id"]
    try:
        await docker.request("POST", f"/containers/{container}/start")
        await docker.request("POST", f"/containers/{container}/wait")
        result = await docker.images.commit(
            container,
            f"{name}:1",
            comment="snapshot",
            author="aiodock tests",
            changes=["ENV FROM_COMMIT=1", 'LABEL aiodock-test="1"'],
        )
        info = await docker.images.inspect(f"{name}:1")
        assert info.id == result.id
        assert info.author == "aiodock tests" and info.comment == "snapshot"
        assert info.config is not None and "FROM_COMMIT=1" in info.config.env
        assert info.config.labels.get("aiodock-test") == "1"
    finally:
        await docker.request("DELETE", f"/containers/{container}", params={"force": 1})
        await untag(docker, f"{name}:1")


@pytest.mark.engines
async def test_prune_only_touches_matching_images(
    docker: DockerClient, engine_kind: str, engine_difference: Callable[[str], None]
) -> None:
    marker = uuid.uuid4().hex
    name = unique("prunable")
    stream = docker.images.import_image(
        rootfs_tar(), repository=f"{name}:1", changes=[f'LABEL aiodock-prune="{marker}"']
    )
    await stream.wait()
    image_id = stream.image_id
    assert image_id is not None
    try:
        # Tagged images are not dangling: nothing with this label goes by default.
        kept = await docker.images.prune(filters={"label": {"aiodock-prune": marker}})
        assert kept.images_deleted == []
        if engine_kind == "podman":
            # Podman adds dangling=true itself, then refuses the caller's dangling=false.
            with pytest.raises(ServerError, match="dangling"):
                await docker.images.prune(
                    filters={"label": {"aiodock-prune": marker}, "dangling": False}
                )
            engine_difference("prune with dangling=false is refused (500)")
            return
        pruned = await docker.images.prune(
            filters={"label": {"aiodock-prune": marker}, "dangling": False}
        )
        assert any(item.deleted == image_id for item in pruned.images_deleted)
        assert not await docker.images.exists(image_id)
    finally:
        await untag(docker, f"{name}:1")


async def test_build_prune_answers(docker: DockerClient) -> None:
    result = await docker.images.build_prune(filters={"id": "aiodock-test-no-such-record"})
    assert result.caches_deleted == []


@pytest.mark.engines
async def test_invalid_arguments_never_reach_the_engine(docker: DockerClient) -> None:
    with pytest.raises(InvalidArgument):
        docker.images.pull("Not/A Valid Ref")
    with pytest.raises(InvalidArgument):
        docker.images.push("aiodock-test/x@sha256:" + "0" * 64)
    with pytest.raises(InvalidArgument):
        await docker.images.tag("aiodock-test/busybox", "bad tag")


async def test_search_goes_only_to_the_named_registry(docker: DockerClient, registry: Any) -> None:
    # The local v2 registry answers the engine's v1 search with 404, which the engine
    # reports as a 500: the request reached the named registry, not Docker Hub.
    with pytest.raises(APIError) as info:
        await docker.images.search(f"{registry.url}/aiodock-test", limit=5)
    assert info.value.status == 500
    assert "404" in info.value.message


async def test_attestations_needs_a_newer_api_than_the_engine(docker: DockerClient) -> None:
    with pytest.raises(APIVersionError) as info:
        await docker.images.attestations("aiodock-test/busybox:latest")
    assert info.value.required == "1.55"
    assert info.value.negotiated == "1.41"
