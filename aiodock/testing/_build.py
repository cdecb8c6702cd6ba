"""FakeDocker's ``POST /build``: what both builders share.

A build is recorded as a :class:`BuildRecord` (``fake.builds``) and may follow
a :class:`BuildPlan` queued with :meth:`FakeDocker.set_build`. A classic build
(a tar body) runs the Dockerfile like the engine's classic builder
(:mod:`._build_classic`); a BuildKit build (``version=2``) fetches the
Dockerfile, the context and the secrets through the client's session and
answers with ``moby.buildkit.trace`` progress (:mod:`._build_buildkit`). Both
parse the Dockerfile and give the image the config it sets in the same way.
"""

from __future__ import annotations

import io
import json
import posixpath
import shlex
import tarfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from aiohttp import web

from ._state.images import DEFAULT_PATH_ENV, FakeImage
from ._state.values import normalize_ref
from ._wire import Answer, FakeRequest

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["BuildPlan", "BuildRecord", "build", "build_cancel"]

_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)


@attrs.define
class BuildPlan:
    """A scripted outcome for one ``POST /build`` (see :meth:`FakeDocker.set_build`).

    Attributes:
        output: lines sent after the steps (classic: ``stream`` messages;
            BuildKit: the last step's log).
        error: fail with this message, at ``failing_step`` or after the steps.
        code: the ``errorDetail.code`` sent with ``error``.
        status: answer this HTTP status (message ``error``) before any output.
        image_id: the id the build produces (``sha256:...``).
        failing_step: index (0-based) of the Dockerfile instruction that fails
            with ``error``; ``None``: after the last one.
        log: the output of the failing step, or of the last step when none fails.
    """

    output: list[str] = attrs.Factory(list)
    error: str | None = None
    code: int | None = None
    status: int | None = None
    image_id: str | None = None
    failing_step: int | None = None
    log: bytes = b""


@attrs.define
class BuildRecord:
    """One ``POST /build`` the fake received, classic or BuildKit.

    Attributes:
        options: the query parameters, each with all its values.
        buildkit: whether it was a BuildKit build (``version=2``).
        context: the context tar as sent (classic builds; possibly compressed).
        dockerfile: the Dockerfile text (``""`` if none was found).
        files: the context's regular files by path (for BuildKit, after
            ``.dockerignore``, as the session sent them).
        modes: every context entry's mode (Go ``os.FileMode`` bits for
            BuildKit, tar modes for classic).
        links: the context's links, path to target.
        secrets: the values the session gave for the secrets the Dockerfile
            mounts (BuildKit; hidden from the repr).
        image_id: the image built (``None`` when the build failed).
        tags: the references the image was tagged with.
        error: the failure message, if the build failed.
        cancelled: a ``POST /build/cancel`` named this build.
        session_methods: the gRPC methods the BuildKit session offered.
    """

    options: dict[str, list[str]]
    buildkit: bool = False
    context: bytes = b""
    dockerfile: str = ""
    files: dict[str, bytes] = attrs.Factory(dict)
    modes: dict[str, int] = attrs.Factory(dict)
    links: dict[str, str] = attrs.Factory(dict)
    secrets: dict[str, bytes | None] = attrs.field(factory=dict, repr=False)
    image_id: str | None = None
    tags: list[str] = attrs.Factory(list)
    error: str | None = None
    cancelled: bool = False
    session_methods: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, each with its last value."""
        return {key: values[-1] for key, values in self.options.items() if values}


def read_context(record: BuildRecord, body: bytes) -> None:
    """Fill ``record``'s files, modes and links from a context tar (normalized paths)."""
    if not body:
        return
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
        for info in tar:
            name = posixpath.normpath(info.name.lstrip("/"))
            record.modes[name] = info.mode
            if info.isfile():
                extracted = tar.extractfile(info)
                record.files[name] = extracted.read() if extracted is not None else b""
            elif info.issym() or info.islnk():
                record.links[name] = info.linkname


@attrs.define
class Step:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str
    text: str


def parse_dockerfile(text: str, *, strict: bool = True) -> list[Step]:
    """Instructions with continuation lines joined, comments and blank lines dropped.

    ``strict`` raises the engine's parse errors (unknown instruction, no
    ``FROM``); BuildKit builds pass anything on to their trace.
    """
    steps: list[Step] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start = index
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.rstrip().endswith("\\") and index < len(lines):
            follow = lines[index]
            index += 1
            if follow.lstrip().startswith("#"):
                continue
            line = line.rstrip()[:-1] + follow
        line = line.strip()
        keyword, _, args = line.partition(" ")
        if strict and keyword.upper() not in _INSTRUCTIONS:
            raise Answer(
                400,
                f"dockerfile parse error line {start + 1}: unknown instruction: {keyword.upper()}",
            )
        steps.append(Step(keyword.upper(), args.strip(), line))
    if strict and (not steps or steps[0].keyword not in ("FROM", "ARG")):
        raise Answer(400, "Dockerfile parse error: no build stage in current context")
    return steps


def json_or_shell(args: str, shell: Sequence[str] = ("/bin/sh", "-c")) -> list[str]:
    """An instruction's exec form (JSON array) or its shell form run by ``shell``."""
    if args.startswith("["):
        try:
            value = json.loads(args)
        except ValueError:
            pass
        else:
            if isinstance(value, list):
                return [str(v) for v in value]
    return [*shell, args]


def _pairs(args: str) -> dict[str, str]:
    """``LABEL a=b "c d"=e`` / ``ENV K V`` into a mapping."""
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    out = {}
    for word in words:
        key, _, value = word.partition("=")
        out[key] = value
    return out


def extra_labels(req: FakeRequest) -> dict[str, str]:
    """The ``labels`` query parameter (JSON object), checked."""
    labels_arg = req.arg("labels")
    if not labels_arg:
        return {}
    try:
        return {str(k): str(v) for k, v in json.loads(labels_arg).items()}
    except (ValueError, AttributeError):
        raise Answer(400, f"invalid labels: {labels_arg!r}") from None


@attrs.define
class ImageConfig:
    """The config the Dockerfile gives the image, instruction by instruction."""

    labels: dict[str, str] = attrs.Factory(dict)
    env: list[str] = attrs.Factory(lambda: [DEFAULT_PATH_ENV])
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    workdir: str = ""
    shell: list[str] = attrs.Factory(lambda: ["/bin/sh", "-c"])

    def start_from(self, base: FakeImage) -> None:
        """Take over the base image's config (``FROM``)."""
        self.labels = dict(base.labels or {})
        self.env = list(base.env)
        self.cmd = base.cmd
        self.entrypoint = base.entrypoint
        self.workdir = base.working_dir

    def apply(self, step: Step) -> None:
        """Apply a config instruction (others change nothing here)."""
        if step.keyword == "LABEL":
            self.labels.update(_pairs(step.args))
        elif step.keyword == "ENV":
            for k, v in _pairs(step.args).items():
                self.env = [e for e in self.env if not e.startswith(k + "=")]
                self.env.append(f"{k}={v}")
        elif step.keyword == "CMD":
            self.cmd = json_or_shell(step.args, self.shell)
        elif step.keyword == "ENTRYPOINT":
            self.entrypoint = json_or_shell(step.args, self.shell)
        elif step.keyword == "WORKDIR":
            self.workdir = posixpath.join(self.workdir or "/", step.args)
        elif step.keyword == "SHELL":
            self.shell = json_or_shell(step.args, ())


def store_image(fake: FakeDocker, image_id: str, config: ImageConfig) -> FakeImage:
    """The built image, added to the store with ``config`` unless it is there already."""
    image = fake.images.get(image_id)
    if image is None:
        image = fake.add_built_image(
            image_id,
            labels=config.labels or None,
            env=config.env,
            cmd=config.cmd,
            entrypoint=config.entrypoint,
            working_dir=config.workdir,
        )
    return image


def requested_tags(req: FakeRequest) -> list[str]:
    """The ``t`` query parameters, normalized."""
    return [normalize_ref(t) for t in req.query.get("t", []) if t]


def tag_image(fake: FakeDocker, image: FakeImage, tag: str) -> None:
    """Move ``tag`` to ``image`` (from whichever image had it), with the engine's event."""
    for other in fake.images.values():
        if tag in other.tags and other is not image:
            other.tags.remove(tag)
    if tag not in image.tags:
        image.tags.append(tag)
    fake.emit_event("image", "tag", image.id, {"name": tag})


async def build(req: FakeRequest) -> web.StreamResponse:
    """``POST /build``: BuildKit through the session for ``version=2``, else classic."""
    # The builders import this module's types, so they are imported when first used.
    from ._build_buildkit import build_buildkit
    from ._build_classic import build_classic

    fake: FakeDocker = req.fake
    options = {k: list(v) for k, v in req.query.items()}
    buildkit = req.arg("version") == "2"
    record = BuildRecord(options=options, buildkit=buildkit)
    fake.builds.append(record)
    plan = fake._build_plans.pop(0) if fake._build_plans else BuildPlan()
    if plan.status is not None:
        record.error = plan.error or "build failed"
        raise Answer(plan.status, record.error)
    # BuildKit names its context "client-session": the session serves it.
    if req.arg("remote") and not (buildkit and req.arg("remote") == "client-session"):
        raise Answer(501, "remote build contexts are not supported by FakeDocker")
    if buildkit:
        return await build_buildkit(req, record, plan)
    return await build_classic(req, record, plan)


async def build_cancel(req: FakeRequest) -> web.StreamResponse:
    """``POST /build/cancel``: marks the build with that ``buildid`` cancelled."""
    build_id = req.arg("id") or ""
    for record in req.fake.builds:
        if record.params.get("buildid") == build_id:
            record.cancelled = True
    return web.Response(status=200)
