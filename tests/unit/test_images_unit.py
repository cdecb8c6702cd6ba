"""The images and distribution namespaces against FakeDocker and its request recording.

Checks what goes on the wire (paths, query parameters, auth headers, request
bodies, the build context tar), validation before any request, and the
on-the-fly tar of a build context.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import stat
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aiodock import DockerClient
from aiodock._registry.auth import AuthConfig
from aiodock._tar.dockerignore import PatternMatcher
from aiodock._tar.tarstream import aiter_sync, body_stream, tar_directory
from aiodock.errors import (
    APIVersionError,
    BuildError,
    ImageNotFound,
    InvalidArgument,
    RegistryAuthError,
    ServerError,
)
from aiodock.models import ContainerConfig
from aiodock.resources.images import auth_login
from aiodock.testing import FakeDocker, FakeRequest, RecordedRequest
from tests._wait import eventually
from tests.unit._server import ping_app, serve

SECRET = "s3cr3t-pa55"


Answer = Any  # a JSON value, JSON-lines bytes, or a function of the request making one


def on(fake: FakeDocker, method: str, path: str, answer: Answer) -> None:
    """Answer ``method path`` (the decoded path, exactly; later scripts win) with ``answer``."""

    def handler(req: FakeRequest) -> Any:
        if req.path != path:
            return NotImplemented
        value = answer(req) if callable(answer) else answer
        if isinstance(value, bytes):
            return web.Response(body=value, content_type="application/json")
        return value

    fake.add_route(method, "/{path:.+}", handler)


def one(request: RecordedRequest, key: str) -> str:
    """The value of query parameter ``key``, which must have been sent exactly once."""
    [value] = request.query[key]
    return value


def sent(fake: FakeDocker) -> list[RecordedRequest]:
    """The recorded requests apart from the version negotiation's pings."""
    return [r for r in fake.requests if r.path != "/_ping"]


def jsonlines(*objects: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\r\n" for o in objects)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeDocker, DockerClient]]:
    async with FakeDocker() as daemon, daemon.client() as client:
        yield daemon, client


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def decode_auth(value: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(value))
    return decoded


# --- simple calls ----------------------------------------------------------------------


async def test_list_sends_filters_and_flags(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "GET", "/images/json", [{"Id": "sha256:1", "RepoTags": ["a:1"], "Size": 3}])
    images = await client.images.list(all=True, filters={"label": {"a": "b"}, "dangling": False})
    assert images[0].id == "sha256:1" and images[0].repo_tags == ["a:1"]
    q = sent(daemon)[-1]
    assert one(q, "all") == "1"
    assert json.loads(one(q, "filters")) == {"label": ["a=b"], "dangling": ["false"]}
    assert "digests" not in q.query and "shared-size" not in q.query


async def test_newer_options_fail_before_any_request(
    fake: tuple[FakeDocker, DockerClient],
) -> None:
    daemon, client = fake
    with pytest.raises(APIVersionError, match=r"shared_size needs Engine API 1\.42"):
        await client.images.list(shared_size=True)
    with pytest.raises(APIVersionError, match="manifests"):
        await client.images.inspect("x", manifests=True)
    with pytest.raises(APIVersionError, match="platform"):
        await client.images.history("x", platform="linux/amd64")
    with pytest.raises(APIVersionError, match="platforms"):
        await client.images.remove("x", platforms=["linux/arm64"])
    with pytest.raises(APIVersionError, match="attestations"):
        await client.images.attestations("x")
    with pytest.raises(APIVersionError, match="reserved_space"):
        await client.images.build_prune(reserved_space=1)
    with pytest.raises(APIVersionError, match="platform"):
        await client.images.push("127.0.0.1:5000/a", platform="linux/amd64", auth={}).wait()
    with pytest.raises(APIVersionError):
        await client.images.save("x", platform="linux/amd64").collect()
    assert sent(daemon) == []


async def test_newer_options_are_sent_on_a_newer_api() -> None:
    async with FakeDocker(api_version="1.55") as daemon, daemon.client() as client:
        on(daemon, "GET", "/images/x/json", {"Id": "sha256:1"})
        on(daemon, "DELETE", "/images/x", [{"Untagged": "x:latest"}])
        on(daemon, "GET", "/images/x/attestations", [{"PredicateType": "p"}])
        on(daemon, "POST", "/build/prune", {"CachesDeleted": ["c"], "SpaceReclaimed": 5})
        await client.images.inspect("x", platform={"os": "linux", "architecture": "arm64"})
        await client.images.remove("x", platforms=["linux/arm64/v8", "linux/amd64"])
        statements = await client.images.attestations("x", types=["a", "b"], statement=True)
        pruned = await client.images.build_prune(reserved_space=10, all=True)
    inspect, remove, attest, prune = sent(daemon)
    assert {r.version for r in (inspect, remove, attest, prune)} == {"1.55"}
    assert json.loads(one(inspect, "platform")) == {"os": "linux", "architecture": "arm64"}
    assert [json.loads(p) for p in remove.query["platforms"]] == [
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
        {"os": "linux", "architecture": "amd64"},
    ]
    assert attest.query["type"] == ["a", "b"] and one(attest, "statement") == "1"
    assert statements[0].predicate_type == "p"
    assert one(prune, "reserved-space") == "10" and "keep-storage" not in prune.query
    assert pruned.caches_deleted == ["c"] and pruned.space_reclaimed == 5


async def test_inspect_missing_image_is_image_not_found(
    fake: tuple[FakeDocker, DockerClient],
) -> None:
    daemon, client = fake
    with pytest.raises(ImageNotFound):
        await client.images.inspect("nope:1")
    assert not await client.images.exists("nope:1")
    daemon.add_image("yes")  # then the fake's own inspect finds it
    assert await client.images.exists("yes")
    assert [r.path for r in sent(daemon)] == ["/images/nope:1/json"] * 2 + ["/images/yes/json"]


async def test_names_are_quoted_into_one_path_segment(
    fake: tuple[FakeDocker, DockerClient],
) -> None:
    daemon, client = fake
    image = daemon.add_image("127.0.0.1:5000/a/b:1")
    assert (await client.images.inspect("127.0.0.1:5000/a/b:1")).id == image.id
    # The recording decodes the path; the raw request line kept the slashes escaped.
    assert sent(daemon)[-1].path == "/images/127.0.0.1:5000/a/b:1/json"
    assert sent(daemon)[-1].raw_path == "/images/127.0.0.1%3A5000%2Fa%2Fb%3A1/json"
    with pytest.raises(InvalidArgument):
        await client.images.inspect("")


async def test_tag_splits_repository_and_tag(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    daemon.add_image("src")  # the fake's own tag route answers 201
    await client.images.tag("src", "127.0.0.1:5000/team/app:v1")
    await client.images.tag("src", "team/app", tag="v2")
    await client.images.tag("src", "team/app")
    q1, q2, q3 = sent(daemon)
    assert (one(q1, "repo"), one(q1, "tag")) == ("127.0.0.1:5000/team/app", "v1")
    assert (one(q2, "repo"), one(q2, "tag")) == ("team/app", "v2")
    assert one(q3, "repo") == "team/app" and "tag" not in q3.query
    src = daemon.image("src").id
    for tagged in ("127.0.0.1:5000/team/app:v1", "team/app:v2", "team/app:latest"):
        assert daemon.image(tagged).id == src
    for bad in ("Team/App", "app:v1:v2", "app@sha256:" + "a" * 64):
        with pytest.raises(InvalidArgument):
            await client.images.tag("src", bad)
    with pytest.raises(InvalidArgument, match="already names a tag"):
        await client.images.tag("src", "app:v1", tag="v2")
    assert len(sent(daemon)) == 3


async def test_remove_prune_search_history(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "DELETE", "/images/x", [{"Untagged": "x:latest"}, {"Deleted": "sha256:1"}])
    on(daemon, "POST", "/images/prune", {"ImagesDeleted": [{"Deleted": "a"}], "SpaceReclaimed": 9})
    on(daemon, "GET", "/images/search", [{"name": "busybox", "star_count": 3, "is_official": True}])
    on(daemon, "GET", "/images/x/history", [{"Id": "sha256:1", "CreatedBy": "RUN x", "Size": 1}])
    removed = await client.images.remove("x", force=True, noprune=True)
    assert [r.untagged or r.deleted for r in removed] == ["x:latest", "sha256:1"]
    pruned = await client.images.prune(filters={"dangling": False, "until": "24h"})
    assert pruned.space_reclaimed == 9 and pruned.images_deleted[0].deleted == "a"
    found = await client.images.search("busybox", limit=5, auth={"username": "u", "password": "p"})
    assert found[0].name == "busybox" and found[0].star_count == 3
    history = await client.images.history("x")
    assert history[0].created_by == "RUN x"
    rm, prune, search, _ = sent(daemon)
    assert one(rm, "force") == "1" and one(rm, "noprune") == "1"
    assert json.loads(one(prune, "filters")) == {"dangling": ["false"], "until": ["24h"]}
    assert one(search, "term") == "busybox" and one(search, "limit") == "5"
    assert decode_auth(search.headers["X-Registry-Auth"]) == {"username": "u", "password": "p"}
    with pytest.raises(InvalidArgument):
        await client.images.search("")
    with pytest.raises(InvalidArgument):
        await client.images.search("x", limit=0)


async def test_commit(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "POST", "/commit", lambda req: (201, {"Id": "sha256:new"}))
    result = await client.images.commit(
        "ctr1",
        "team/app:snap",
        comment="c",
        author="me",
        pause=False,
        changes=['CMD ["sh"]', "ENV A=1"],
        config=ContainerConfig(labels={"aiodock-test": "1"}),
    )
    assert result.id == "sha256:new"
    seen = sent(daemon)[-1]
    assert one(seen, "container") == "ctr1"
    assert (one(seen, "repo"), one(seen, "tag")) == ("team/app", "snap")
    assert one(seen, "pause") == "0"
    assert seen.query["changes"] == ['CMD ["sh"]', "ENV A=1"]
    assert json.loads(seen.body) == {"Labels": {"aiodock-test": "1"}}
    await client.images.commit("ctr1")
    assert json.loads(sent(daemon)[-1].body) == {}
    with pytest.raises(InvalidArgument):
        await client.images.commit("ctr1", tag="x")
    with pytest.raises(InvalidArgument):
        await client.images.commit("ctr1", changes=[""])


# --- pull / push and credentials -------------------------------------------------------------


PULL_OK = jsonlines(
    {"status": "Pulling from team/app", "id": "1"},
    {"status": "Digest: sha256:" + "a" * 64},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/team/app:1"},
)


async def test_pull_parameters_and_explicit_auth(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/create", PULL_OK)
    auth = AuthConfig(username="u", password=SECRET, serveraddress="127.0.0.1:5000")
    stream = client.images.pull("127.0.0.1:5000/team/app:1", auth=auth, platform="linux/amd64")
    assert sent(daemon) == []  # lazy until awaited or iterated
    await stream.wait()
    assert stream.digest == "sha256:" + "a" * 64
    seen = sent(daemon)[-1]
    assert one(seen, "fromImage") == "127.0.0.1:5000/team/app"
    assert one(seen, "tag") == "1"
    assert one(seen, "platform") == "linux/amd64"
    assert decode_auth(seen.headers["X-Registry-Auth"]) == {
        "username": "u",
        "password": SECRET,
        "serveraddress": "127.0.0.1:5000",
    }


async def test_pull_default_tag_digest_and_all_tags(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/create", PULL_OK)
    digest = "sha256:" + "b" * 64
    await client.images.pull("team/app").wait()
    await client.images.pull(f"team/app@{digest}").wait()
    await client.images.pull("team/app", all_tags=True).wait()
    await client.images.pull("team/app", tag="2").wait()
    q = sent(daemon)
    assert [x.param("tag") for x in q] == ["latest", digest, None, "2"]
    assert {one(x, "fromImage") for x in q} == {"team/app"}
    # No stored credentials: an empty auth object is sent.
    assert decode_auth(sent(daemon)[0].headers["X-Registry-Auth"]) == {}
    bad_pulls: list[tuple[str, dict[str, Any]]] = [
        ("Team/App", {}),
        ("app:1", {"tag": "2"}),
        ("app:1", {"all_tags": True}),
        ("app", {"platform": "linux//amd64"}),
        ("app", {"auth": {"user": "x"}}),
    ]
    for bad, kwargs in bad_pulls:
        with pytest.raises(InvalidArgument):
            client.images.pull(bad, **kwargs)
    assert len(sent(daemon)) == 4


async def test_pull_auth_from_config_json(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/create", PULL_OK)
    token = base64.b64encode(f"cfguser:{SECRET}".encode()).decode()
    (no_docker_config / "config.json").write_text(
        json.dumps({"auths": {"http://127.0.0.1:5000/v2/": {"auth": token}}})
    )
    await client.images.pull("127.0.0.1:5000/team/app:1").wait()
    auth = decode_auth(sent(daemon)[-1].headers["X-Registry-Auth"])
    assert auth["username"] == "cfguser" and auth["password"] == SECRET


async def test_pull_auth_from_credential_helper(
    fake: tuple[FakeDocker, DockerClient],
    no_docker_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/create", PULL_OK)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fakehelper"
    helper.write_text(
        "#!/bin/sh\n"
        'read server\n[ "$1" = get ] || exit 1\n'
        f'printf \'{{"ServerURL":"%s","Username":"helperuser","Secret":"{SECRET}"}}\' "$server"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    (no_docker_config / "config.json").write_text(
        json.dumps({"credHelpers": {"127.0.0.1:5000": "fakehelper"}})
    )
    await client.images.pull("127.0.0.1:5000/team/app:1").wait()
    auth = decode_auth(sent(daemon)[-1].headers["X-Registry-Auth"])
    assert auth == {"username": "helperuser", "password": SECRET, "serveraddress": "127.0.0.1:5000"}


async def test_pull_http_errors(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    daemon.fail_next("POST", "/images/create", 500, "Head x: no basic auth credentials")
    with pytest.raises(RegistryAuthError) as info:
        await client.images.pull("127.0.0.1:5000/team/app:1", auth={"password": SECRET}).wait()
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    daemon.fail_next("POST", "/images/create", 404, "manifest unknown")
    with pytest.raises(ImageNotFound):
        await client.images.pull("team/app:nope").wait()


async def test_push_path_tag_and_failure(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    digest = "sha256:" + "c" * 64
    on(
        daemon,
        "POST",
        "/images/127.0.0.1:5000/team/app/push",
        jsonlines(
            {"status": "Pushing", "progressDetail": {"current": 1, "total": 2}, "id": "l"},
            {"status": "Pushed", "progressDetail": {}, "id": "l"},
            {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": digest, "Size": 1}},
        ),
    )
    stream = client.images.push("127.0.0.1:5000/team/app:v1", auth={"username": "u"})
    messages = await stream.collect()
    assert stream.digest == digest and len(messages) == 3
    assert stream.tracker.layers_done == 1
    assert one(sent(daemon)[-1], "tag") == "v1"
    await client.images.push("127.0.0.1:5000/team/app").wait()
    assert one(sent(daemon)[-1], "tag") == "latest"
    await client.images.push("127.0.0.1:5000/team/app", all_tags=True).wait()
    assert "tag" not in sent(daemon)[-1].query
    with pytest.raises(InvalidArgument, match="digest"):
        client.images.push("team/app@sha256:" + "d" * 64)

    on(
        daemon,
        "POST",
        "/images/127.0.0.1:5000/team/app/push",
        jsonlines(
            {"status": "Preparing", "progressDetail": {}, "id": "l"},
            {"errorDetail": {"message": "no basic auth credentials"}, "error": "x"},
        ),
    )
    with pytest.raises(RegistryAuthError, match="no basic auth credentials"):
        await client.images.push("127.0.0.1:5000/team/app:v1").wait()
    daemon.fail_next(
        "POST",
        "/images/127.0.0.1:5000/team/app/push",
        404,
        "An image does not exist locally with the tag: x",
    )
    with pytest.raises(ImageNotFound):
        await client.images.push("127.0.0.1:5000/team/app:v1").wait()


async def test_distribution_inspect(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    digest = "sha256:" + "e" * 64
    on(
        daemon,
        "GET",
        "/distribution/127.0.0.1:5000/team/app:1/json",
        {
            "Descriptor": {"mediaType": "m", "digest": digest, "size": 7},
            "Platforms": [{"architecture": "amd64", "os": "linux"}],
        },
    )
    info = await client.distribution.inspect(
        "127.0.0.1:5000/team/app:1", auth={"username": "u", "password": SECRET}
    )
    assert info.descriptor is not None and info.descriptor.digest == digest
    assert info.platforms[0].architecture == "amd64"
    assert decode_auth(sent(daemon)[-1].headers["X-Registry-Auth"])["username"] == "u"
    daemon.fail_next(
        "GET",
        "/distribution/127.0.0.1:5000/team/app:1/json",
        500,
        "Head x: no basic auth credentials",
    )
    with pytest.raises(RegistryAuthError):
        await client.distribution.inspect("127.0.0.1:5000/team/app:1")
    with pytest.raises(InvalidArgument):
        await client.distribution.inspect("BadName")


async def test_auth_login(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "POST", "/auth", {"Status": "Login Succeeded", "IdentityToken": ""})
    answer = await auth_login(client, username="u", password=SECRET, registry="127.0.0.1:5000")
    assert answer.status == "Login Succeeded"
    assert json.loads(sent(daemon)[-1].body) == {
        "username": "u",
        "password": SECRET,
        "serveraddress": "127.0.0.1:5000",
    }
    await auth_login(client, {"Username": "u", "Password": SECRET})
    assert json.loads(sent(daemon)[-1].body) == {"username": "u", "password": SECRET}
    daemon.fail_next(
        "POST", "/auth", 500, "login attempt to http://r/v2/ failed with status: 401 Unauthorized"
    )
    with pytest.raises(RegistryAuthError) as info:
        await auth_login(client, username="u", password=SECRET)
    assert SECRET not in str(info.value)
    daemon.fail_next("POST", "/auth", 500, "disk on fire")
    with pytest.raises(ServerError):
        await auth_login(client, username="u", password="p")
    with pytest.raises(InvalidArgument):
        await auth_login(client)
    with pytest.raises(InvalidArgument):
        await auth_login(client, {"username": "u"}, password="p")


def test_auth_config_repr_hides_secrets() -> None:
    auth = AuthConfig(username="u", password=SECRET, identitytoken=SECRET)
    assert SECRET not in repr(auth) and SECRET not in str(auth)


# --- save / load / import -----------------------------------------------------------------------


async def test_save_streams_bytes_and_save_many_repeats_names(
    fake: tuple[FakeDocker, DockerClient],
) -> None:
    daemon, client = fake
    payload = os.urandom(300_000)

    async def tar(req: FakeRequest) -> web.StreamResponse:
        writer = await daemon.open_stream(req, "application/x-tar")
        for i in range(0, len(payload), 65536):
            await writer.write(payload[i : i + 65536])
        return await writer.finish()

    on(daemon, "GET", "/images/a:1/get", tar)
    on(daemon, "GET", "/images/get", tar)
    got = b"".join(await client.images.save("a:1").collect())
    assert got == payload
    got = b"".join([chunk async for chunk in client.images.save_many(["a:1", "b", "c:2"])])
    assert got == payload
    assert sent(daemon)[-1].query["names"] == ["a:1", "b", "c:2"]
    with pytest.raises(InvalidArgument):
        client.images.save_many([])
    with pytest.raises(ImageNotFound):
        await client.images.save("missing").collect()


async def test_load_streams_the_body_from_each_kind_of_source(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path
) -> None:
    daemon, client = fake
    on(
        daemon,
        "POST",
        "/images/load",
        jsonlines(
            {"status": "Loading layer", "progressDetail": {"current": 5, "total": 5}, "id": "l"},
            {"stream": "Loaded image: a:1\n"},
        ),
    )
    data = os.urandom(3 << 20)
    path = tmp_path / "image.tar"
    path.write_bytes(data)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 1 << 20):
            yield data[i : i + (1 << 20)]

    with path.open("rb") as fh:
        sources: list[Any] = [data, fh, chunks()]
        for source in sources:
            stream = client.images.load(source)
            await stream.wait()
            assert stream.loaded == ["a:1"]
            seen = sent(daemon)[-1]
            assert seen.body == data
            assert one(seen, "quiet") == "0"
            assert seen.headers["Content-Type"] == "application/x-tar"
    with pytest.raises(InvalidArgument):
        client.images.load("not bytes")
    with pytest.raises(InvalidArgument, match="binary"):
        client.images.load(io.StringIO("text"))


async def test_import_from_body_and_url(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/create", jsonlines({"status": "sha256:" + "f" * 64}))
    stream = client.images.import_image(
        b"tar bytes", repository="team/rootfs:1", message="m", changes="ENV A=1"
    )
    await stream.wait()
    assert stream.image_id == "sha256:" + "f" * 64
    seen = sent(daemon)[-1]
    assert one(seen, "fromSrc") == "-" and seen.body == b"tar bytes"
    assert (one(seen, "repo"), one(seen, "tag")) == ("team/rootfs", "1")
    assert seen.query["changes"] == ["ENV A=1"]
    await client.images.import_image(url="http://127.0.0.1:1/rootfs.tar").wait()
    assert one(sent(daemon)[-1], "fromSrc") == "http://127.0.0.1:1/rootfs.tar"
    with pytest.raises(InvalidArgument):
        client.images.import_image()
    with pytest.raises(InvalidArgument):
        client.images.import_image(b"x", url="http://x")


async def test_failing_body_raises_its_own_error(fake: tuple[FakeDocker, DockerClient]) -> None:
    daemon, client = fake
    on(daemon, "POST", "/images/load", jsonlines({"stream": "ok"}))

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        await asyncio.sleep(0.01)
        raise RuntimeError("my iterator broke")

    with pytest.raises(RuntimeError, match="my iterator broke"):
        await client.images.load(broken()).wait()


# --- build ---------------------------------------------------------------------------------------


BUILD_OK = jsonlines(
    {"stream": "Step 1/1 : FROM scratch\n"},
    {"aux": {"ID": "sha256:" + "9" * 64}},
    {"stream": "Successfully built 999999999999\n"},
)


def members(body: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name.rstrip("/"): m for m in tar.getmembers()}


def make_context(root: Path) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (root / ".dockerignore").write_text(
        "# comment\n*.log\n!keep.log\nsecrets\n/build\n**/cache\ndocs/**\n!docs/README.md\n"
    )
    (root / "app.py").write_text("print(1)\n")
    (root / "a.log").write_text("x")
    (root / "keep.log").write_text("x")
    (root / "secrets").mkdir()
    (root / "secrets" / "key").write_text(SECRET)
    (root / "build").mkdir()
    (root / "build" / "out.o").write_text("x")
    (root / "src" / "cache").mkdir(parents=True)
    (root / "src" / "cache" / "blob").write_text("x")
    (root / "src" / "main.py").write_text("x")
    (root / "src" / "build").mkdir()
    (root / "src" / "build" / "kept").write_text("x")
    (root / "docs").mkdir()
    (root / "docs" / "README.md").write_text("x")
    (root / "docs" / "other.md").write_text("x")
    (root / "link").symlink_to("app.py")
    os.link(root / "app.py", root / "hardlink.py")
    return root


async def test_build_context_directory_honours_dockerignore(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path, no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    ctx = make_context(tmp_path / "ctx")
    stream = client.images.build(
        ctx,
        tags=["aiodock-test/a:1", "aiodock-test/a:latest"],
        build_args={"A": "1", "UNSET": None},
        labels={"aiodock-test": "1"},
        target="final",
        network_mode="none",
        cache_from=["aiodock-test/a:0"],
        platform="linux/amd64",
        pull=True,
        extra_hosts={"db": "127.0.0.1"},
    )
    assert await stream.result() == "sha256:" + "9" * 64
    seen = sent(daemon)[-1]
    names = set(members(seen.body))
    assert names == {
        ".dockerignore",
        "Dockerfile",
        "app.py",
        "keep.log",
        "src",
        "src/main.py",
        "src/build",
        "src/build/kept",
        "docs",  # ``docs/**`` matches what is below docs, not docs itself
        "docs/README.md",
        "link",
        "hardlink.py",
    }
    assert stream.context_bytes == len(seen.body)
    q = seen
    assert q.query["t"] == ["aiodock-test/a:1", "aiodock-test/a:latest"]
    assert json.loads(one(q, "buildargs")) == {"A": "1", "UNSET": None}
    assert json.loads(one(q, "labels")) == {"aiodock-test": "1"}
    assert json.loads(one(q, "cachefrom")) == ["aiodock-test/a:0"]
    assert (one(q, "rm"), one(q, "forcerm"), one(q, "pull")) == ("1", "1", "1")
    assert (one(q, "target"), one(q, "networkmode"), one(q, "platform")) == (
        "final",
        "none",
        "linux/amd64",
    )
    assert q.query["extrahosts"] == ["db:127.0.0.1"]
    assert "dockerfile" not in q.query
    assert seen.headers["Content-Type"] == "application/x-tar"
    assert "X-Registry-Config" not in seen.headers  # nothing stored


async def test_build_ignored_dockerfile_is_still_sent(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path, no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "sub" / "Dockerfile.dev").write_text("FROM scratch\n")
    (ctx / "sub" / "other").write_text("x")
    (ctx / "top").write_text("x")
    (ctx / ".dockerignore").write_text("*\n")
    await client.images.build(ctx, dockerfile="sub/Dockerfile.dev").result()
    seen = sent(daemon)[-1]
    assert set(members(seen.body)) == {".dockerignore", "sub/Dockerfile.dev"}
    assert one(seen, "dockerfile") == "sub/Dockerfile.dev"
    # dockerignore=False sends everything
    await client.images.build(ctx, dockerfile="sub/Dockerfile.dev", dockerignore=False).result()
    assert {"top", "sub/other"} <= set(members(sent(daemon)[-1].body))


async def test_build_dockerfile_outside_the_context(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path, no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "file").write_text("x")
    outside = tmp_path / "elsewhere.Dockerfile"
    outside.write_text("FROM scratch\nCOPY file /\n")
    await client.images.build(ctx, dockerfile=outside).result()
    seen = sent(daemon)[-1]
    name = one(seen, "dockerfile")
    assert name.startswith(".dockerfile.")
    with tarfile.open(fileobj=io.BytesIO(seen.body)) as tar:
        content = tar.extractfile(name)
        assert content is not None and content.read() == outside.read_bytes()
    # An absolute path inside the context becomes relative.
    (ctx / "Dockerfile.x").write_text("FROM scratch\n")
    await client.images.build(ctx, dockerfile=ctx / "Dockerfile.x").result()
    assert one(sent(daemon)[-1], "dockerfile") == "Dockerfile.x"


async def test_build_from_tar_file_bytes_and_iterator(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path, no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        df = b"FROM scratch\n"
        info.size = len(df)
        tar.addfile(info, io.BytesIO(df))
    data = buf.getvalue()
    path = tmp_path / "ctx.tar"
    path.write_bytes(data)

    async def chunks() -> AsyncIterator[bytes]:
        yield data[:100]
        yield data[100:]

    with path.open("rb") as fh:
        for source in (path, data, fh, chunks()):
            stream = client.images.build(source)
            await stream.result()
            assert sent(daemon)[-1].body == data
            assert stream.context_bytes == len(data)


async def test_build_remote_and_registry_config(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    await client.images.build(
        remote="https://example.invalid/repo.git",
        registry_auth={"127.0.0.1:5000": {"username": "u", "password": SECRET}},
    ).result()
    seen = sent(daemon)[-1]
    assert one(seen, "remote") == "https://example.invalid/repo.git"
    assert seen.body == b""
    assert decode_auth(seen.headers["X-Registry-Config"]) == {
        "127.0.0.1:5000": {"username": "u", "password": SECRET}
    }


async def test_build_sends_stored_credentials(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path, tmp_path: Path
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build", BUILD_OK)
    token = base64.b64encode(f"cfguser:{SECRET}".encode()).decode()
    (no_docker_config / "config.json").write_text(
        json.dumps({"auths": {"127.0.0.1:5000": {"auth": token}}})
    )
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM 127.0.0.1:5000/base\n")
    await client.images.build(ctx).result()
    config = decode_auth(sent(daemon)[-1].headers["X-Registry-Config"])
    assert config["127.0.0.1:5000"]["username"] == "cfguser"


async def test_build_validation_happens_before_any_request(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path
) -> None:
    daemon, client = fake
    empty = tmp_path / "empty"
    empty.mkdir()
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (None, {}, "context"),
        (tmp_path / "missing", {}, "no such directory"),
        (empty, {}, "no Dockerfile"),
        (ctx, {"dockerfile": "nope"}, "not found"),
        (ctx, {"dockerfile": "../x"}, "inside the context"),
        (ctx, {"tags": ["Bad:Tag"]}, "tags"),
        (ctx, {"tags": ["a@sha256:" + "a" * 64]}, "digest"),
        (ctx, {"build_args": {"A": 1}}, "strings"),
        (ctx, {"memory": -1}, "memory"),
        (ctx, {"extra_hosts": ["nocolon"]}, "host:ip"),
        (ctx, {"remote": "https://x"}, "either"),
        (b"x", {"dockerfile": "/abs/Dockerfile"}, "context directory"),
        ("some text", {}, "no such directory"),
    ]
    for context, kwargs, message in cases:
        with pytest.raises(InvalidArgument, match=message):
            client.images.build(context, **kwargs)
    (ctx / ".dockerignore").write_text("a[b\n")
    with pytest.raises(InvalidArgument, match="unclosed"):
        client.images.build(ctx)
    assert sent(daemon) == []


async def test_build_failure_raises_build_error(
    fake: tuple[FakeDocker, DockerClient], tmp_path: Path, no_docker_config: Path
) -> None:
    daemon, client = fake
    on(
        daemon,
        "POST",
        "/build",
        jsonlines(
            {"stream": "Step 1/2 : RUN false\n"},
            {"errorDetail": {"code": 1, "message": "returned a non-zero code: 1"}, "error": "x"},
        ),
    )
    with pytest.raises(BuildError) as info:
        await client.images.build(b"not really a tar").result()
    assert info.value.log == "Step 1/2 : RUN false\n"


async def test_build_prune_sends_keep_storage_to_old_daemons(
    fake: tuple[FakeDocker, DockerClient],
) -> None:
    daemon, client = fake
    on(daemon, "POST", "/build/prune", {"CachesDeleted": None, "SpaceReclaimed": 0})
    result = await client.images.build_prune(filters={"until": "1h"})
    assert result.caches_deleted == []
    q = sent(daemon)[-1]
    assert one(q, "keep-storage") == "0"
    assert json.loads(one(q, "filters")) == {"until": ["1h"]}


# --- the context tar itself ----------------------------------------------------------


def test_tar_directory_entries(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx")
    big = ctx / "big.bin"
    big.write_bytes(os.urandom(3 * 65536 + 123))
    os.utime(ctx / "app.py", (1_600_000_000, 1_600_000_000))
    data = b"".join(tar_directory(ctx, chunk_size=65536, extra_files={".extra": b"E"}))
    assert len(data) % 512 == 0
    found = members(data)
    assert found[".extra"].size == 1
    app = found["app.py"]
    assert (app.uid, app.gid, app.uname, app.gname) == (0, 0, "", "")
    assert app.mtime == 1_600_000_000
    assert found["link"].issym() and found["link"].linkname == "app.py"
    # app.py sorts before hardlink.py: the second name is the hard link
    assert found["hardlink.py"].islnk() and found["hardlink.py"].linkname == "app.py"
    assert found["secrets/key"].isfile()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("big.bin")
        assert member is not None and member.read() == big.read_bytes()


def test_tar_directory_chunks_are_bounded(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for i in range(50):
        (ctx / f"small{i}").write_bytes(os.urandom(1000))
    (ctx / "big").write_bytes(os.urandom(1 << 20))
    sizes = [len(c) for c in tar_directory(ctx, chunk_size=64 * 1024)]
    assert max(sizes) <= 64 * 1024 + 2 * 512 + 1024
    assert len(sizes) > 10


def test_tar_directory_skips_special_files_and_keeps_empty_dirs(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "empty").mkdir(parents=True)
    os.mkfifo(ctx / "fifo")
    names = set(members(b"".join(tar_directory(ctx))))
    assert names == {"empty"}


def test_tar_directory_excluded_dir_is_not_walked(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "node_modules" / "deep").mkdir(parents=True)
    (ctx / "node_modules" / "deep" / "f").write_text("x")
    (ctx / "node_modules" / "deep").chmod(0)  # would fail if walked (when not root)
    try:
        names = set(
            members(b"".join(tar_directory(ctx, excludes=PatternMatcher(["node_modules"]))))
        )
    finally:
        (ctx / "node_modules" / "deep").chmod(0o755)
    assert names == set()


def test_tar_directory_rejects_non_directories(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        next(tar_directory(tmp_path / "missing"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="not a directory"):
        next(tar_directory(tmp_path / "file"))


async def test_aiter_sync_closes_the_generator_when_abandoned() -> None:
    closed: list[bool] = []

    def chunks() -> Any:
        try:
            for i in range(100):
                yield bytes([i]) * 10
        finally:
            closed.append(True)

    counted: list[int] = []
    it = aiter_sync(chunks(), on_chunk=counted.append)
    got = [await it.__anext__() for _ in range(3)]
    assert got[0] == b"\x00" * 10 and counted == [10, 10, 10]
    await it.aclose()  # type: ignore[attr-defined]
    await eventually(lambda: closed)  # the generator is closed in its worker thread
    assert closed == [True]


async def test_body_stream_kinds() -> None:
    assert body_stream(bytearray(b"ab")) == b"ab"
    with pytest.raises(InvalidArgument):
        body_stream(42)

    async def bad() -> AsyncIterator[Any]:
        yield "text"

    with pytest.raises(InvalidArgument, match="must yield bytes"):
        async for _ in body_stream(bad()):  # type: ignore[union-attr]
            pass


async def test_cancelled_upload_closes_the_body_at_once(tmp_path: Path) -> None:
    # A daemon that reads request bodies slowly, so the upload is still going on.
    app = ping_app()
    received: dict[str, int] = {}

    async def slow(request: web.Request) -> web.StreamResponse:
        chunk = b"-"
        while chunk:
            chunk = await request.content.read(4096)
            received[request.path] = received.get(request.path, 0) + len(chunk)
            await asyncio.sleep(0.01)  # the slow reader this test needs
        return web.Response(body=BUILD_OK)

    app.router.add_route("POST", "/v1.41/build", slow)
    app.router.add_route("POST", "/v1.41/images/load", slow)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    with (ctx / "big").open("wb") as fh:
        fh.truncate(64 << 20)

    def open_context_files() -> list[str]:
        fds = Path("/proc/self/fd")
        found = []
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(str(ctx)):
                found.append(target)
        return found

    finished: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 65536
        finally:
            finished.append(True)

    async with serve(app) as url, DockerClient(url) as client:
        for path, stream in (
            ("/v1.41/build", client.images.build(ctx)),
            ("/v1.41/images/load", client.images.load(body())),
        ):
            task = asyncio.create_task(stream.wait())
            # Well into the body: for the build, past the Dockerfile into the big file.
            await eventually(lambda: received.get(path, 0) > 65536)  # noqa: B023 (awaited here)
            assert not task.done()  # the upload is under way
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        # Closed at once, not whenever the garbage collector gets to it.
        assert finished == [True]
        assert open_context_files() == []
        await client.system.ping()


async def test_newer_daemons_401_is_a_registry_auth_error(
    fake: tuple[FakeDocker, DockerClient], no_docker_config: Path
) -> None:
    daemon, client = fake
    daemon.fail_next("POST", "/images/create", 401, "authentication required")
    daemon.fail_next("GET", "/distribution/127.0.0.1:5000/a:1/json", 401, "auth required")
    daemon.fail_next("POST", "/auth", 401, "incorrect credentials")
    with pytest.raises(RegistryAuthError) as info:
        await client.images.pull("127.0.0.1:5000/a:1").wait()
    assert info.value.http_status == 401
    with pytest.raises(RegistryAuthError):
        await client.distribution.inspect("127.0.0.1:5000/a:1")
    with pytest.raises(RegistryAuthError):
        await auth_login(client, username="u", password=SECRET)
