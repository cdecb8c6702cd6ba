"""FakeDocker's classic builder: runs the Dockerfile of a tar context like the engine.

A ``Step n/m`` line per instruction, ``RUN`` through the fake's built-in
interpreter (stderr in red, a non-zero code failing the build), ``COPY``/``ADD``
sources checked against the context, one ``LABEL`` step per label asked for,
``q`` (quiet) sending only the image id, and the engine's errors for a
missing Dockerfile, a parse error or a base image it does not have.
"""

from __future__ import annotations

import hashlib
import posixpath
import secrets
import tarfile
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._build import (
    BuildPlan,
    BuildRecord,
    ImageConfig,
    Step,
    extra_labels,
    json_or_shell,
    parse_dockerfile,
    read_context,
    requested_tags,
    store_image,
    tag_image,
)
from ._programs import Forever, run_argv
from ._wire import Answer, FakeRequest, json_body

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["build_classic"]

# The classic builder shows a program's stderr in red.
_RED, _RESET = "\x1b[91m", "\x1b[0m"


async def build_classic(
    req: FakeRequest, record: BuildRecord, plan: BuildPlan
) -> web.StreamResponse:
    """Run the context's Dockerfile; ``plan`` may add output, fail a step or pick the id."""
    fake: FakeDocker = req.fake
    record.context = req.body
    name = req.arg("dockerfile") or "Dockerfile"
    try:
        read_context(record, req.body)
    except (tarfile.TarError, EOFError):
        raise Answer(500, "Error processing tar file(exit status 1): unexpected EOF") from None
    files = record.files
    key = posixpath.normpath(name.lstrip("/"))
    if key not in files:
        raise Answer(500, f"Cannot locate specified Dockerfile: {name}")
    record.dockerfile = files[key].decode("utf-8", "replace")
    steps = parse_dockerfile(record.dockerfile)
    # The classic builder adds one LABEL step per label asked for, in key order.
    for k, v in sorted(extra_labels(req).items()):
        steps.append(Step("LABEL", f"{k}={v}", f"LABEL {k}={v}"))
    quiet = req.flag("q")
    tags = requested_tags(req)
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

    config = ImageConfig()
    digest = hashlib.sha256(req.body)
    total = len(steps)
    # Without a failing step, the scripted log is the last step's output.
    log_at = plan.failing_step if plan.failing_step is not None else total - 1
    current = ""
    for index, step in enumerate(steps):
        await say(f"Step {index + 1}/{total} : {step.text}")
        await say("\n")
        digest.update(step.text.encode())
        if index == log_at and plan.log:
            await say(plan.log.decode("utf-8", "replace"))
        if index == plan.failing_step and plan.error is not None:
            return await fail(plan.error, plan.code)
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
                config.start_from(base)
                await say(f" ---> {base.short_id}\n")
            continue
        container = secrets.token_hex(6)
        if step.keyword not in ("COPY", "ADD"):
            # COPY and ADD change the filesystem without running a container.
            await say(f" ---> Running in {container}\n")
        if step.keyword == "RUN":
            argv = json_or_shell(step.args, config.shell)
            code = await _run(argv, say)
            if code:
                if req.flag("forcerm"):
                    await say(f"Removing intermediate container {container}\n")
                shown = " ".join(argv)
                return await fail(f"The command '{shown}' returned a non-zero code: {code}", code)
        elif step.keyword in ("COPY", "ADD"):
            missing = _missing_source(step, record)
            if missing is not None:
                return await fail(
                    f"{step.keyword} failed: file not found in build context or excluded "
                    f"by .dockerignore: stat {missing}: file does not exist"
                )
        else:
            config.apply(step)
        if step.keyword not in ("COPY", "ADD"):
            await say(f"Removing intermediate container {container}\n")
        current = "sha256:" + hashlib.sha256(digest.digest()).hexdigest()
        await say(f" ---> {current[7:19]}\n")
    for line in plan.output:
        await say(line)
    if plan.error is not None:
        return await fail(plan.error, plan.code)
    if plan.image_id is not None:
        current = plan.image_id
    if not current:
        current = "sha256:" + digest.hexdigest()
    image = store_image(fake, current, config)
    if quiet:
        await writer.write(json_body({"stream": current + "\n"}))
    else:
        await writer.write(json_body({"aux": {"ID": current}}))
    await say(f"Successfully built {current[7:19]}\n")
    for tag in tags:
        tag_image(fake, image, tag)
        await say(f"Successfully tagged {tag}\n")
    record.image_id = current
    record.tags = tags
    return await writer.finish()


def _missing_source(step: Step, record: BuildRecord) -> str | None:
    """The first ``COPY``/``ADD`` source the context lacks (globs and URLs pass)."""
    if step.args.startswith("["):
        sources = json_or_shell(step.args, ())[:-1]
    else:
        sources = [w for w in step.args.split()[:-1] if not w.startswith("--")]
    for source in sources:
        path = posixpath.normpath(source.lstrip("/"))
        if path == "." or "*" in path or "://" in source:
            continue
        if path not in record.modes and not any(f.startswith(path + "/") for f in record.modes):
            return source
    return None


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
