"""``POST /build`` for the fake engine: a classic-builder run over the received context."""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import secrets
import shlex
import tarfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ._state import DEFAULT_PATH_ENV, Forever, normalize_ref, run_argv
from ._wire import Answer, FakeRequest, json_body

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["BuildPlan", "BuildRecord", "build"]

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
# The classic builder shows a program's stderr in red.
_RED, _RESET = "\x1b[91m", "\x1b[0m"


@attrs.define
class BuildPlan:
    """A scripted outcome for the next ``POST /build`` (see :meth:`FakeDocker.set_build`).

    Args:
        output: lines sent as ``{"stream": ...}`` messages after the steps.
        error: fail in the stream with this message (after the steps).
        code: the ``errorDetail.code`` sent with ``error``.
        status: answer this HTTP status (message ``error``) before any output.
        image_id: the id the build produces (``sha256:...``).
    """

    output: list[str] = attrs.Factory(list)
    error: str | None = None
    code: int | None = None
    status: int | None = None
    image_id: str | None = None


@attrs.define
class BuildRecord:
    """One ``POST /build`` the fake received.

    Args:
        context: the context tar as sent (possibly compressed).
        options: the query parameters, each with all its values.
        dockerfile: the Dockerfile text found in the context (``""`` if none).
        image_id: the image built (``None`` when the build failed).
        tags: the references the image was tagged with.
        error: the failure message, if the build failed.
    """

    context: bytes
    options: dict[str, list[str]]
    dockerfile: str = ""
    image_id: str | None = None
    tags: list[str] = attrs.Factory(list)
    error: str | None = None

    @property
    def files(self) -> dict[str, bytes]:
        """The regular files of the context, by path."""
        return {k: v for k, v in _context_files(self.context).items() if not k.endswith("/")}


def _context_files(context: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not context:
        return out
    with tarfile.open(fileobj=io.BytesIO(context), mode="r:*") as tar:
        for info in tar:
            name = posixpath.normpath(info.name.lstrip("/"))
            if info.isfile():
                extracted = tar.extractfile(info)
                out[name] = extracted.read() if extracted is not None else b""
            elif info.isdir():
                out.setdefault(name + "/", b"")
    return out


@attrs.define
class _Step:
    keyword: str
    args: str
    text: str


def parse_dockerfile(text: str) -> list[_Step]:
    """Instructions with continuation lines joined, comments and blank lines dropped."""
    steps: list[_Step] = []
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
        if keyword.upper() not in _INSTRUCTIONS:
            raise Answer(
                400,
                f"dockerfile parse error line {start + 1}: unknown instruction: {keyword.upper()}",
            )
        steps.append(_Step(keyword.upper(), args.strip(), line))
    if not steps or steps[0].keyword not in ("FROM", "ARG"):
        raise Answer(400, "Dockerfile parse error: no build stage in current context")
    return steps


def _json_or_shell(args: str, shell: Sequence[str] = ("/bin/sh", "-c")) -> list[str]:
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


async def build(req: FakeRequest) -> web.StreamResponse:
    fake: FakeDocker = req.fake
    options = {k: list(v) for k, v in req.query.items()}
    record = BuildRecord(context=req.body, options=options)
    fake.builds.append(record)
    plan = fake._build_plans.pop(0) if fake._build_plans else None
    if plan is not None and plan.status is not None:
        record.error = plan.error or "build failed"
        raise Answer(plan.status, record.error)
    if req.arg("remote"):
        raise Answer(501, "remote build contexts are not supported by FakeDocker")
    if req.arg("version") == "2":
        raise Answer(501, "BuildKit builds (version=2) are not supported by FakeDocker")
    name = req.arg("dockerfile") or "Dockerfile"
    try:
        files = _context_files(req.body)
    except (tarfile.TarError, EOFError):
        raise Answer(500, "Error processing tar file(exit status 1): unexpected EOF") from None
    key = posixpath.normpath(name.lstrip("/"))
    if key not in files:
        raise Answer(500, f"Cannot locate specified Dockerfile: {name}")
    record.dockerfile = files[key].decode("utf-8", "replace")
    steps = parse_dockerfile(record.dockerfile)
    labels_arg = req.arg("labels")
    extra_labels: dict[str, str] = {}
    if labels_arg:
        try:
            extra_labels = {str(k): str(v) for k, v in json.loads(labels_arg).items()}
        except (ValueError, AttributeError):
            raise Answer(400, f"invalid labels: {labels_arg!r}") from None
    # The classic builder adds one LABEL step per label asked for, in key order.
    for k, v in sorted(extra_labels.items()):
        steps.append(_Step("LABEL", f"{k}={v}", f"LABEL {k}={v}"))
    quiet = req.flag("q")
    tags = [normalize_ref(t) for t in req.query.get("t", []) if t]
    writer = await fake.open_stream(req, "application/json")

    async def say(text: str) -> None:
        if not quiet:
            await writer.write(json_body({"stream": text}))

    async def fail(message: str, code: int | None = None) -> web.StreamResponse:
        record.error = message
        detail: dict[str, Any] = {"message": message}
        if code is not None:
            detail = {"code": code, "message": message}
        await writer.write(json_body({"errorDetail": detail, "error": message}))
        return await writer.finish()

    state: dict[str, Any] = {"labels": {}, "env": [DEFAULT_PATH_ENV], "cmd": None}
    state.update(entrypoint=None, workdir="", shell=["/bin/sh", "-c"])
    digest = hashlib.sha256(req.body)
    total = len(steps)
    current = ""
    for number, step in enumerate(steps, 1):
        await say(f"Step {number}/{total} : {step.text}")
        await say("\n")
        digest.update(step.text.encode())
        if step.keyword == "ARG":
            continue
        if step.keyword == "FROM":
            base_ref = step.args.split()[0] if step.args else ""
            base = fake._find_image(base_ref) if base_ref != "scratch" else None
            if base is None and base_ref != "scratch":
                repo = fake.image_repo(base_ref)
                return await fail(
                    f"pull access denied for {repo}, repository does not exist or may require "
                    "'docker login': denied: requested access to the resource is denied"
                )
            if base is not None:
                current = base.id
                state.update(
                    labels=dict(base.labels or {}),
                    env=list(base.env),
                    cmd=base.cmd,
                    entrypoint=base.entrypoint,
                    workdir=base.working_dir,
                )
                await say(f" ---> {base.short_id}\n")
            continue
        container = secrets.token_hex(6)
        if step.keyword not in ("COPY", "ADD"):
            # COPY and ADD change the filesystem without running a container.
            await say(f" ---> Running in {container}\n")
        if step.keyword == "RUN":
            argv = _json_or_shell(step.args, state["shell"])
            code = await _run(argv, say)
            if code:
                if req.flag("forcerm"):
                    await say(f"Removing intermediate container {container}\n")
                shown = " ".join(argv)
                return await fail(f"The command '{shown}' returned a non-zero code: {code}", code)
        elif step.keyword in ("COPY", "ADD"):
            if step.args.startswith("["):
                sources = _json_or_shell(step.args, ())[:-1]
            else:
                sources = [w for w in step.args.split()[:-1] if not w.startswith("--")]
            for source in sources:
                path = posixpath.normpath(source.lstrip("/"))
                if path == "." or "*" in path or "://" in source:
                    continue
                if path not in files and not any(f.startswith(path + "/") for f in files):
                    return await fail(
                        f"{step.keyword} failed: file not found in build context or excluded "
                        f"by .dockerignore: stat {source}: file does not exist"
                    )
        elif step.keyword == "LABEL":
            state["labels"].update(_pairs(step.args))
        elif step.keyword == "ENV":
            for k, v in _pairs(step.args).items():
                state["env"] = [e for e in state["env"] if not e.startswith(k + "=")]
                state["env"].append(f"{k}={v}")
        elif step.keyword == "CMD":
            state["cmd"] = _json_or_shell(step.args, state["shell"])
        elif step.keyword == "ENTRYPOINT":
            state["entrypoint"] = _json_or_shell(step.args, state["shell"])
        elif step.keyword == "WORKDIR":
            state["workdir"] = posixpath.join(state["workdir"] or "/", step.args)
        elif step.keyword == "SHELL":
            state["shell"] = _json_or_shell(step.args, ())
        if step.keyword not in ("COPY", "ADD"):
            await say(f"Removing intermediate container {container}\n")
        current = "sha256:" + hashlib.sha256(digest.digest()).hexdigest()
        await say(f" ---> {current[7:19]}\n")
    if plan is not None:
        for line in plan.output:
            await say(line)
        if plan.error is not None:
            return await fail(plan.error, plan.code)
        if plan.image_id is not None:
            current = plan.image_id
    if not current:
        current = "sha256:" + digest.hexdigest()
    image = fake.images.get(current)
    if image is None:
        image = fake.add_built_image(
            current,
            labels=state["labels"] or None,
            env=state["env"],
            cmd=state["cmd"],
            entrypoint=state["entrypoint"],
            working_dir=state["workdir"],
        )
    if quiet:
        await writer.write(json_body({"stream": current + "\n"}))
    else:
        await writer.write(json_body({"aux": {"ID": current}}))
    await say(f"Successfully built {current[7:19]}\n")
    for tag in tags:
        for other in fake.images.values():
            if tag in other.tags and other is not image:
                other.tags.remove(tag)
        if tag not in image.tags:
            image.tags.append(tag)
        fake.emit_event("image", "tag", image.id, {"name": tag})
        await say(f"Successfully tagged {tag}\n")
    record.image_id = current
    record.tags = tags
    return await writer.finish()


async def _run(argv: list[str], say: Any) -> int:
    async def write(stream: int, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        await say(f"{_RED}{text}{_RESET}" if stream == 2 else text)

    async def read() -> bytes:
        return b""

    async def sleep(seconds: float) -> None:
        return None

    try:
        return await run_argv(
            argv, write=write, read=read, sleep=sleep, unknown_runs_forever=False, stdin_open=False
        )
    except Forever:
        return 0
