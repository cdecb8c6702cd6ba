"""The :class:`Images` namespace (``docker.images``): the Engine's image calls."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ... import _rules, models
from ..._convert import unstructure
from ..._filters import Filters, encode_filters
from ..._http.request import NO_LIMIT, Repeated, Request, quote_path
from ..._registry.auth import AuthLike, all_auths, encode_registry_auth, encode_registry_config
from ..._rules import PlatformLike
from ..._streams.frames import JSONStreamDecoder
from ..._streams.progress import (
    BodyGuard,
    BuildStream,
    PullStream,
    PushStream,
    check_auth,
    registry_stream,
)
from ..._tar.dockerignore import PatternMatcher, context_excludes, parse_dockerignore
from ..._tar.tarstream import aiter_sync, body_stream, tar_directory
from ...errors import ImageNotFound, InvalidArgument
from ._archives import ImageArchives, _repeated
from ._context import _ByteCounter, _dockerfile_in, _open_tar

if TYPE_CHECKING:
    from ..._buildkit.secrets import SecretLike
    from ...models import (
        AttestationStatement,
        BuildPruneResponse,
        IDResponse,
        ImageDeleteResponseItem,
        ImageHistoryResponseItem,
        ImageInspect,
        ImagePruneResponse,
        ImageSearchResponseItem,
        ImageSummary,
    )


_BARE_ID = re.compile(r"[0-9a-f]{64}")
_TAR = "application/x-tar"


class Images(ImageArchives):
    """Operations on images (``docker image ...``, ``docker build``, ``docker pull/push``)."""

    __slots__ = ()

    # -- local images -------------------------------------------------------------

    async def list(
        self,
        *,
        all: bool = False,
        filters: Filters | None = None,
        digests: bool = False,
        shared_size: bool = False,
        manifests: bool = False,
        identity: bool = False,
    ) -> list[ImageSummary]:
        """Images on the daemon (``docker image ls``).

        Args:
            all: include intermediate images.
            filters: ``reference``, ``dangling``, ``label``, ``before``, ``since``,
                ``until`` (e.g. ``{"label": {"app": "web"}, "dangling": True}``).
            digests: include the repository digests.
            shared_size: compute the size shared with other images; needs API 1.42.
            manifests: include the manifests of multi-platform images; needs API 1.47.
            identity: include the image's identity (signatures, pull sources); needs API 1.53.
        """
        c = self._client
        if shared_size:
            await c._require_api("shared_size", "1.42")
        if manifests:
            await c._require_api("manifests", "1.47")
        if identity:
            await c._require_api("identity", "1.53")
        params = {
            "all": all or None,
            "filters": encode_filters(filters),
            "digests": digests or None,
            "shared-size": shared_size or None,
            "manifests": manifests or None,
            "identity": identity or None,
        }
        return await c._models(Request("GET", "/images/json", params=params), models.ImageSummary)

    async def inspect(
        self, name: str, *, manifests: bool = False, platform: PlatformLike | None = None
    ) -> ImageInspect:
        """Low-level information about one image (``docker image inspect``).

        A missing image raises :class:`~aiodock.errors.ImageNotFound`.

        Args:
            name: an image reference or id.
            manifests: include the manifests of a multi-platform image; needs API 1.48.
            platform: the platform variant to inspect, ``"os/arch[/variant]"`` or an OCI
                mapping; needs API 1.49.
        """
        path = f"/images/{quote_path(name, 'name')}/json"
        platform_json = _rules.platform_json(platform)
        c = self._client
        if manifests:
            await c._require_api("manifests", "1.48")
        if platform_json is not None:
            await c._require_api("platform", "1.49")
        params = {"manifests": manifests or None, "platform": platform_json}
        return await c._model(
            Request("GET", path, params=params, not_found=ImageNotFound), models.ImageInspect
        )

    async def exists(self, name: str) -> bool:
        """Whether an image with this name or id is on the daemon.

        Args:
            name: an image reference or id.
        """
        try:
            await self.inspect(name)
        except ImageNotFound:
            return False
        return True

    async def history(
        self, name: str, *, platform: PlatformLike | None = None
    ) -> builtins.list[ImageHistoryResponseItem]:
        """The layers an image was built from, newest first (``docker image history``).

        Args:
            name: an image reference or id.
            platform: the platform variant, ``"os/arch[/variant]"`` or an OCI
                mapping; needs API 1.48.
        """
        path = f"/images/{quote_path(name, 'name')}/history"
        platform_json = _rules.platform_json(platform)
        if platform_json is not None:
            await self._client._require_api("platform", "1.48")
        items = await self._client._models(
            Request("GET", path, params={"platform": platform_json}, not_found=ImageNotFound),
            models.ImageHistoryResponseItem,
        )
        # Podman sends bare hex ids; Docker's (and inspect's) carry the algorithm.
        return [
            attrs.evolve(item, id=f"sha256:{item.id}") if _BARE_ID.fullmatch(item.id) else item
            for item in items
        ]

    async def tag(self, name: str, target: str, *, tag: str | None = None) -> None:
        """Give image ``name`` the reference ``target`` (``docker tag``).

        Args:
            name: the image reference or id to tag.
            target: the new reference, ``repo[:tag]``.
            tag: the tag, when it is not in ``target``.
        """
        path = f"/images/{quote_path(name, 'name')}/tag"
        repo, api_tag = _rules.split_target(target, tag, "target")
        await self._client._status(
            Request("POST", path, params={"repo": repo, "tag": api_tag}, not_found=ImageNotFound)
        )

    async def remove(
        self,
        name: str,
        *,
        force: bool = False,
        noprune: bool = False,
        platforms: PlatformLike | Sequence[PlatformLike] | None = None,
    ) -> builtins.list[ImageDeleteResponseItem]:
        """Remove an image or a tag of it (``docker image rm``).

        Returns what was untagged and what was deleted.

        Args:
            name: an image reference or id.
            force: remove it even if containers use it, and every tag of it.
            noprune: keep its untagged parent images.
            platforms: remove only these platform variants (API 1.50).
        """
        path = f"/images/{quote_path(name, 'name')}"
        selected = _repeated(_rules.platforms(platforms, "platforms"))
        if selected is not None:
            await self._client._require_api("platforms", "1.50")
        params = {"force": force or None, "noprune": noprune or None, "platforms": selected}
        items = await self._client._models(
            Request("DELETE", path, params=params, not_found=ImageNotFound, timeout=NO_LIMIT),
            models.ImageDeleteResponseItem,
        )
        # Podman sends bare hex ids in "Deleted"; Docker's carry the algorithm.
        return [
            attrs.evolve(item, deleted=f"sha256:{item.deleted}")
            if item.deleted and _BARE_ID.fullmatch(item.deleted)
            else item
            for item in items
        ]

    async def prune(self, *, filters: Filters | None = None) -> ImagePruneResponse:
        """Remove unused images (dangling only unless ``filters={"dangling": False}``).

        Args:
            filters: ``dangling``, ``until``, ``label`` (``label!`` to exclude).
        """
        return await self._client._model(
            Request(
                "POST",
                "/images/prune",
                params={"filters": encode_filters(filters)},
                timeout=NO_LIMIT,
            ),
            models.ImagePruneResponse,
        )

    async def search(
        self,
        term: str,
        *,
        limit: int | None = None,
        filters: Filters | None = None,
        auth: AuthLike | None = None,
    ) -> builtins.list[ImageSearchResponseItem]:
        """Search the registry index (Docker Hub) for repositories matching ``term``.

        Args:
            term: the text to search for.
            limit: at most this many results.
            filters: ``is-official``, ``stars``.
            auth: credentials for the index, sent only when given.
        """
        if not isinstance(term, str) or not term:
            raise InvalidArgument("term", term, "expected a non-empty string")
        if limit is not None:
            _rules.integer(limit, "limit", minimum=1)
        headers = None if auth is None else {"X-Registry-Auth": encode_registry_auth(auth)}
        return await self._client._models(
            Request(
                "GET",
                "/images/search",
                params={"term": term, "limit": limit, "filters": encode_filters(filters)},
                headers=headers,
                timeout=NO_LIMIT,
            ),
            models.ImageSearchResponseItem,
        )

    async def attestations(
        self,
        name: str,
        *,
        platform: PlatformLike | None = None,
        types: Sequence[str] | None = None,
        statement: bool = False,
    ) -> builtins.list[AttestationStatement]:
        """Attestations (SBOM, provenance...) attached to an image (API 1.55).

        Args:
            name: an image reference or id.
            platform: the platform variant, ``"os/arch[/variant]"`` or an OCI mapping.
            types: only these in-toto predicate types.
            statement: include the statement bodies.
        """
        path = f"/images/{quote_path(name, 'name')}/attestations"
        platform_json = _rules.platform_json(platform)
        type_list = None
        if types is not None:
            type_list = [types] if isinstance(types, str) else list(types)
        await self._client._require_api("attestations", "1.55")
        params = {
            "platform": platform_json,
            "type": Repeated(type_list) if type_list else None,
            "statement": statement or None,
        }
        return await self._client._models(
            Request("GET", path, params=params, not_found=ImageNotFound),
            models.AttestationStatement,
        )

    async def commit(
        self,
        container: str,
        repository: str | None = None,
        *,
        tag: str | None = None,
        comment: str | None = None,
        author: str | None = None,
        pause: bool = True,
        changes: Sequence[str] | str | None = None,
        config: Any = None,
    ) -> IDResponse:
        """Create an image from a container's changes (``docker commit``).

        Args:
            container: the container's id or name.
            repository: the new image's repository; it may carry the tag (``repo:tag``).
            tag: the tag, when it is not in ``repository``.
            comment: the commit message.
            author: the author, e.g. ``"Jane <jane@example.com>"``.
            pause: pause the container while committing.
            changes: Dockerfile instructions applied to the image
                (``["CMD ...", "ENV a=b"]``, or one per line in a string).
            config: a ``ContainerConfig`` (model or mapping) for the image.
        """
        quote_path(container, "container")  # validates the id
        repo, api_tag = _rules.optional_target(repository, tag)
        body: Any = {}
        if config is not None:
            if attrs.has(type(config)):
                body = unstructure(config)
            elif isinstance(config, Mapping):
                body = dict(config)
            else:
                raise InvalidArgument("config", config, "expected a ContainerConfig or a mapping")
        params = {
            "container": container,
            "repo": repo,
            "tag": api_tag,
            "comment": comment,
            "author": author,
            "pause": pause,
            "changes": _repeated(_rules.changes(changes)),
        }
        return await self._client._model(
            Request("POST", "/commit", params=params, body=body, timeout=NO_LIMIT),
            models.IDResponse,
        )

    # -- registry ------------------------------------------------------------------

    def pull(
        self,
        image: str,
        *,
        tag: str | None = None,
        all_tags: bool = False,
        platform: PlatformLike | None = None,
        auth: AuthLike | None = None,
    ) -> PullStream:
        """Pull an image (``docker pull``).

        ``await docker.images.pull("app:1")`` returns once the image is present,
        with a :class:`~aiodock.models.PullResult`; ``async for message in
        docker.images.pull("app:1")`` streams the progress first.

        Args:
            image: ``[registry/]repo[:tag|@digest]``; without a tag, ``latest`` is pulled.
            tag: the tag, when it is not in ``image``.
            all_tags: pull every tag of the repository.
            platform: the platform to pull, ``"os/arch[/variant]"`` or an OCI mapping.
            auth: an :class:`~aiodock.AuthConfig` or a mapping of its fields; when
                ``None``, credentials come from the docker config.
        """
        ref, api_tag = _rules.name_and_tag(image, tag, "image")
        api_tag = _rules.tag_or_all(image, api_tag, all_tags, "a tag or digest")
        check_auth(auth)
        params = {
            "fromImage": _rules.repository_text(image, ref),
            "tag": api_tag,
            "platform": _rules.platform_str(platform),
        }
        return registry_stream(
            self._client,
            "/images/create",
            PullStream,
            registry=ref.registry_for_auth,
            reference=image if tag is None else f"{image}:{tag}",
            auth=auth,
            not_found=ImageNotFound,
            params=params,
        )

    def push(
        self,
        image: str,
        *,
        tag: str | None = None,
        all_tags: bool = False,
        platform: PlatformLike | None = None,
        auth: AuthLike | None = None,
    ) -> PushStream:
        """Push an image to its registry (``docker push``).

        ``await docker.images.push("reg/app:1")`` returns a
        :class:`~aiodock.models.PushResult` (the pushed manifest's digest and
        size) once the registry has the image. A failed push raises: a refused
        login as :class:`~aiodock.errors.RegistryAuthError`, anything else as
        :class:`~aiodock.errors.StreamError`.

        Args:
            image: ``[registry/]repo[:tag]``; without a tag, ``latest`` is pushed.
            tag: the tag, when it is not in ``image``.
            all_tags: push every tag of the repository.
            platform: push only this platform variant, ``"os/arch[/variant]"`` or an OCI mapping.
            auth: an :class:`~aiodock.AuthConfig` or a mapping of its fields; when
                ``None``, credentials come from the docker config.
        """
        ref, api_tag = _rules.name_and_tag(image, tag, "image")
        if ref.digest is not None:
            raise InvalidArgument("image", image, "cannot push by digest")
        api_tag = _rules.tag_or_all(image, api_tag, all_tags, "a tag")
        platform_json = _rules.platform_json(platform)
        check_auth(auth)
        path = f"/images/{quote_path(_rules.repository_text(image, ref), 'image')}/push"
        return registry_stream(
            self._client,
            path,
            PushStream,
            registry=ref.registry_for_auth,
            reference=image if tag is None else f"{image}:{tag}",
            auth=auth,
            not_found=ImageNotFound,
            requirement=None if platform_json is None else ("platform", "1.46"),
            params={"tag": api_tag, "platform": platform_json},
        )

    # -- build -----------------------------------------------------------------------

    def build(
        self,
        context: str | os.PathLike[str] | Any = None,
        *,
        dockerfile: str | os.PathLike[str] | None = None,
        tags: str | Sequence[str] = (),
        build_args: Mapping[str, str | None] | None = None,
        labels: Mapping[str, str] | Sequence[str] | None = None,
        target: str | None = None,
        network_mode: str | None = None,
        cache_from: Sequence[str] = (),
        platform: PlatformLike | None = None,
        pull: bool = False,
        nocache: bool = False,
        rm: bool = True,
        forcerm: bool = True,
        quiet: bool = False,
        extra_hosts: Mapping[str, str] | Sequence[str] | None = None,
        shm_size: int | str | None = None,
        ulimits: Mapping[str, int | tuple[int, int]] | Sequence[Any] | None = None,
        memory: int | str | None = None,
        memswap: int | str | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        squash: bool = False,
        remote: str | None = None,
        registry_auth: Mapping[str, AuthLike] | None = None,
        dockerignore: bool = True,
        chunk_size: int = 1 << 20,
        buildkit: bool | None = None,
        secrets: Mapping[str, SecretLike] | None = None,
        ssh: Mapping[str, str | os.PathLike[str] | None] | None = None,
        outputs: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Any] | None = None,
    ) -> BuildStream:
        """Build an image (``docker build``, classic builder or BuildKit).

        ``await docker.images.build(ctx)`` returns a
        :class:`~aiodock.models.BuildResult` (the image id and tags); iterate
        the :class:`~aiodock.BuildStream` for the output as it comes. A failed
        build raises :class:`~aiodock.errors.BuildError` with the log.

        ``buildkit=True`` builds through BuildKit like ``DOCKER_BUILDKIT=1
        docker build`` (needs ``pip install aiodock[buildkit]`` and a context
        directory): the context is sent on request over a session, and the
        stream (a :class:`~aiodock.BuildKitStream`) decodes the build's progress
        into ``stream.progress`` (steps, timings, cache hits, per-step logs); a
        failed step raises ``BuildError`` with ``step`` and that step's ``log``.
        Under BuildKit, ``registry_auth`` (else the docker config) answers the
        daemon's credential requests for base images.

        Args:
            context: a directory (sent as a tar made on the fly, honouring its
                ``.dockerignore``), a path to a tar file, a binary file object or
                bytes holding a tar (optionally compressed), or an async iterator of
                tar bytes. Leave it out when ``remote`` is given.
            dockerfile: the Dockerfile, relative to the context root; an absolute
                path outside a context directory is sent along under a generated name.
            tags: one ``repo[:tag]`` or several.
            build_args: ``ARG`` values; ``None`` takes the value from the daemon's
                environment.
            labels: labels for the image.
            target: the build stage to stop at.
            network_mode: the network of the ``RUN`` steps (``"host"``, ``"none"``...).
            cache_from: images to use as cache sources.
            platform: the platform to build for, ``"os/arch[/variant]"`` or an OCI mapping.
            pull: always pull newer versions of base images.
            nocache: do not use the build cache.
            rm: remove intermediate containers after a successful build.
            forcerm: remove intermediate containers even when the build fails.
            quiet: suppress the build output (the stream still gives the image id).
            extra_hosts: ``/etc/hosts`` entries for ``RUN`` steps, ``{"host": "ip"}``
                or ``["host:ip"]``.
            shm_size: size of ``/dev/shm``, bytes or a string such as ``"64m"``.
            ulimits: resource limits of ``RUN`` steps, ``{"nofile": (soft, hard)}``
                (one number sets both, -1 is unlimited) or a list of
                :class:`~aiodock.models.ResourcesUlimits`, of mappings
                (``name``/``soft``/``hard``) or of ``"nofile=1024:2048"`` strings.
            memory: memory limit of ``RUN`` steps, bytes or a string such as ``"512m"``.
            memswap: memory plus swap limit, bytes or a string; ``-1`` is unlimited.
            cpu_shares: relative CPU weight of ``RUN`` steps.
            cpuset_cpus: CPUs ``RUN`` steps may use, e.g. ``"0-1"``.
            cpu_period: CPU CFS period in microseconds.
            cpu_quota: CPU CFS quota in microseconds.
            squash: squash the new layers into one (experimental daemons).
            remote: a Git or HTTP URL the daemon fetches the context from, instead of
                ``context``.
            registry_auth: credentials for base images, registry -> auth; by default
                every credential in the docker config.
            dockerignore: honour the context directory's ``.dockerignore``.
            chunk_size: bytes per chunk of the uploaded context.
            buildkit: ``True`` builds through BuildKit, ``False`` with the classic
                builder; ``None`` does what the daemon advertises in ``/_ping``
                (``Builder-Version: 2``), as the docker CLI does, and BuildKit whenever
                ``secrets`` or ``ssh`` are given.
            secrets: BuildKit secrets, id (``RUN --mount=type=secret,id=...``) ->
                :class:`~aiodock.BuildSecret` (``BuildSecret(b"...")``,
                ``BuildSecret.from_file(path)``, ``BuildSecret.from_env(name)``) or
                raw bytes; a value is read only when the build asks and never shows
                in a repr, log or error.
            ssh: SSH agents to forward, id (``RUN --mount=type=ssh``, ``default``
                unless named) -> an agent socket path, or ``None`` for
                ``$SSH_AUTH_SOCK``.
            outputs: export the result instead of storing an image (BuildKit only,
                like ``docker build --output``): ``"type=local,dest=DIR"`` (or just
                ``DIR``) writes the final stage's files below ``DIR``;
                ``"type=tar,dest=FILE"`` writes them as one tar (``dest`` may also be
                a writable binary file object, in the mapping form
                ``{"type": "tar", "dest": fileobj}``). The result's ``image_id`` is
                then ``""``.
        """
        if buildkit is not None and not isinstance(buildkit, bool):
            raise InvalidArgument("buildkit", buildkit, "expected True, False or None")
        if buildkit is False and (secrets or ssh or outputs is not None):
            raise InvalidArgument(
                "secrets" if secrets else "ssh" if ssh else "outputs",
                "...",
                "needs BuildKit (buildkit=False was given)",
            )
        body: Any = None
        extra: dict[str, bytes] = {}
        dockerfile_name: str | None = None
        context_dir: str | None = None
        if dockerfile is not None:
            dockerfile_name = os.fspath(dockerfile)
            if not dockerfile_name:
                raise InvalidArgument("dockerfile", dockerfile, "expected a non-empty path")
        if remote is not None:
            if context is not None:
                raise InvalidArgument("remote", remote, "give either a context or a remote")
            if not isinstance(remote, str) or not remote:
                raise InvalidArgument("remote", remote, "expected a URL")
        elif context is None:
            raise InvalidArgument("context", None, "a build needs a context (or remote=)")
        elif isinstance(context, (str, os.PathLike)):
            path = os.path.abspath(os.fspath(context))
            if os.path.isdir(path):
                context_dir = path
            elif os.path.isfile(path):
                body = _open_tar(path, chunk_size)
            else:
                raise InvalidArgument("context", context, "no such directory or tar file")
        if context_dir is not None:
            dockerfile_name = _dockerfile_in(context_dir, dockerfile_name, extra)
        elif dockerfile_name is not None and os.path.isabs(dockerfile_name):
            raise InvalidArgument(
                "dockerfile", dockerfile, "an absolute path needs a context directory"
            )
        tag_list = _rules.tags(tags)
        cache_list = [cache_from] if isinstance(cache_from, str) else list(cache_from)
        for name in cache_list:
            _rules.reference(name, "cache_from")
        registry_config = None
        if registry_auth is not None:
            registry_config = encode_registry_config(registry_auth)
        for parameter, value in (
            ("cpu_shares", cpu_shares),
            ("cpu_period", cpu_period),
            ("cpu_quota", cpu_quota),
        ):
            _rules.non_negative(value, parameter)
        shm_size = _rules.optional_bytes(shm_size, "shm_size")
        ulimit_list = None if ulimits is None else _rules.ulimits(ulimits)
        memory = _rules.optional_bytes(memory, "memory")
        memswap = _rules.optional_bytes(memswap, "memswap", allow_unlimited=True)
        excludes: PatternMatcher | None = None
        patterns: list[str] = []
        if context_dir is not None and dockerignore:
            ignore_file = os.path.join(context_dir, ".dockerignore")
            try:
                with open(ignore_file, "rb") as fh:
                    patterns = parse_dockerignore(fh.read())
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise InvalidArgument(
                    "context", ignore_file, f"cannot be read: {exc.strerror or exc}"
                ) from None
            patterns = context_excludes(patterns, dockerfile_name or "Dockerfile")
            excludes = PatternMatcher(patterns)
        params = {
            "dockerfile": dockerfile_name,
            "t": Repeated(tag_list) if tag_list else None,
            "extrahosts": None
            if extra_hosts is None
            else Repeated(_rules.extra_hosts(extra_hosts)),
            "remote": remote,
            "q": quiet or None,
            "nocache": nocache or None,
            "cachefrom": cache_list or None,
            "pull": pull or None,
            "rm": rm,
            "forcerm": forcerm,
            "memory": memory,
            "memswap": memswap,
            "cpushares": cpu_shares,
            "cpusetcpus": cpuset_cpus,
            "cpuperiod": cpu_period,
            "cpuquota": cpu_quota,
            "buildargs": _rules.str_map(build_args, "build_args", allow_none=True),
            "shmsize": shm_size,
            "ulimits": ulimit_list or None,
            "squash": squash or None,
            "labels": _rules.labels(labels, "labels"),
            "networkmode": network_mode,
            "platform": _rules.platform_str(platform),
            "target": target,
        }
        counter = _ByteCounter()
        if context_dir is not None:
            body = aiter_sync(
                tar_directory(
                    context_dir, excludes=excludes, extra_files=extra, chunk_size=chunk_size
                ),
                on_chunk=counter,
            )
        elif body is not None:
            body = aiter_sync(body, on_chunk=counter)
        elif context is not None:
            body = body_stream(
                context, parameter="context", chunk_size=chunk_size, on_chunk=counter
            )
        guard = BodyGuard()
        if body is not None and not isinstance(body, bytes):
            body = guard.wrap(body)
        headers: dict[str, str] = {"Content-Type": _TAR}

        async def prepare() -> None:
            if registry_config is not None:
                headers["X-Registry-Config"] = registry_config
            else:
                stored = await all_auths()
                if stored:
                    headers["X-Registry-Config"] = encode_registry_config(stored)

        plan = None
        if buildkit is not False:
            from ..._buildkit.stream import BuildKitStream, plan_build

            plan = plan_build(
                self._client,
                buildkit=buildkit,
                context=context_dir,
                dockerfile=dockerfile,
                ignore_patterns=patterns if dockerignore else None,
                params=params,
                registry_auth=registry_auth,
                secrets=secrets,
                ssh=ssh,
                remote=remote,
                outputs=outputs,
                classic_only={
                    "squash": squash or None,
                    "shm_size": shm_size,
                    # The Engine 20.10 BuildKit ignores ulimits (checked: RUN sees the defaults).
                    "ulimits": ulimit_list or None,
                    "memory": memory,
                    "memswap": memswap,
                    "cpu_shares": cpu_shares,
                    "cpuset_cpus": cpuset_cpus,
                    "cpu_period": cpu_period,
                    "cpu_quota": cpu_quota,
                },
            )
        request = Request("POST", "/build", params=params, data=body, headers=headers)
        stream: BuildStream
        if plan is None:
            stream = self._client._stream(
                request, JSONStreamDecoder(), stream_class=BuildStream, context_counter=counter
            )
        else:
            stream = self._client._stream(
                request,
                JSONStreamDecoder(),
                stream_class=BuildKitStream,
                context_counter=counter,
                plan=plan,
            )
        stream._setup(prepare=prepare, body=guard)
        return stream

    async def build_prune(
        self,
        *,
        all: bool = False,
        filters: Filters | None = None,
        keep_storage: int | None = None,
        reserved_space: int | None = None,
        max_used_space: int | None = None,
        min_free_space: int | None = None,
    ) -> BuildPruneResponse:
        """Remove build cache (``docker builder prune``).

        Args:
            all: remove all unused cache, not only dangling entries.
            filters: ``until``, ``id``, ``parent``, ``type``, ``description``,
                ``inuse``, ``shared``, ``private``.
            keep_storage: bytes of cache to keep (APIs before 1.48).
            reserved_space: bytes of cache always kept; needs API 1.48.
            max_used_space: the most bytes the cache may use; needs API 1.48.
            min_free_space: bytes of disk to keep free; needs API 1.48.
        """
        for parameter, value in (
            ("keep_storage", keep_storage),
            ("reserved_space", reserved_space),
            ("max_used_space", max_used_space),
            ("min_free_space", min_free_space),
        ):
            _rules.non_negative(value, parameter)
        c = self._client
        newer = await c._api_at_least("1.48")
        if not newer:
            for option, value in (
                ("reserved_space", reserved_space),
                ("max_used_space", max_used_space),
                ("min_free_space", min_free_space),
            ):
                if value is not None:
                    await c._require_api(option, "1.48")
            if keep_storage is None:
                keep_storage = 0  # older daemons refuse a request without it
        params = {
            "all": all or None,
            "filters": encode_filters(filters),
            "keep-storage": keep_storage,
            "reserved-space": reserved_space,
            "max-used-space": max_used_space,
            "min-free-space": min_free_space,
        }
        return await c._model(
            Request("POST", "/build/prune", params=params, timeout=NO_LIMIT),
            models.BuildPruneResponse,
        )
