"""The exception tree of aiodock.

Everything aiodock raises on purpose derives from :class:`DockerError`.
HTTP answers from the daemon become :class:`APIError` subclasses picked by
status code; transport failures become :class:`DockerConnectionError` or
:class:`DockerTimeoutError` chained ``from`` the underlying aiohttp/OS error;
errors the daemon reports inside a stream become :class:`StreamError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Task

__all__ = [
    "APIError",
    "APIVersionError",
    "BadRequest",
    "BuildError",
    "ClientClosedError",
    "ConfigError",
    "Conflict",
    "ContainerError",
    "ContainerNotFound",
    "ConvergenceError",
    "CredentialHelperError",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeoutError",
    "Forbidden",
    "ImageNotFound",
    "InvalidArgument",
    "NetworkNotFound",
    "NoEngineFound",
    "NodeNotFound",
    "NotFound",
    "NotInSwarm",
    "PluginNotFound",
    "RegistryAuthError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "ServiceNotFound",
    "StreamError",
    "TruncatedStreamError",
    "Unauthorized",
    "UsageError",
    "VolumeNotFound",
]


class DockerError(Exception):
    """Base class of every error aiodock raises on purpose."""


# --- client misuse -----------------------------------------------------------


class UsageError(DockerError):
    """The client was used in a way it does not support (for example after close)."""


class ClientClosedError(UsageError):
    """A call was made on a :class:`~aiodock.DockerClient` that was closed."""


class InvalidArgument(UsageError, ValueError):
    """An argument was rejected before any request was sent.

    Args:
        parameter: the name of the argument.
        value: what was given (shown in the message with ``repr``).
        reason: what is wrong with it.
    """

    def __init__(self, parameter: str, value: object, reason: str) -> None:
        self.parameter = parameter
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {parameter}={value!r}: {reason}")


class APIVersionError(UsageError):
    """An option needs a newer Engine API than the one negotiated with the daemon.

    Args:
        option: the option (parameter or feature) that needs the newer API.
        required: the oldest API version that has it, e.g. ``"1.42"``.
        negotiated: the API version the client speaks with this daemon.
    """

    def __init__(self, option: str, required: str, negotiated: str) -> None:
        self.option = option
        self.required = required
        self.negotiated = negotiated
        super().__init__(
            f"{option} needs Engine API {required} or newer, "
            f"but this client speaks API {negotiated} with the daemon"
        )


# --- configuration and credentials -------------------------------------------


class ConfigError(DockerError):
    """The docker configuration (environment, config.json, contexts, TLS files) is unusable.

    The message names the file or variable at fault; it never contains key material.
    """


class CredentialHelperError(DockerError):
    """A ``docker-credential-*`` helper could not be run or gave an unusable answer.

    The message says which helper failed, doing what, and its exit status; it
    never contains the helper's output (helpers print tokens in their errors)
    nor any other secret.

    Args:
        helper: the helper's name (the part after ``docker-credential-``).
        registry: the server address the helper was asked about.
        reason: what went wrong.
    """

    def __init__(self, helper: str, registry: str, reason: str) -> None:
        self.helper = helper
        self.registry = registry
        self.reason = reason
        super().__init__(
            f"credential helper docker-credential-{helper} failed for registry "
            f"{registry!r}: {reason}"
        )


# --- transport ----------------------------------------------------------------


class DockerConnectionError(DockerError, ConnectionError):
    """The daemon could not be reached, or the connection broke mid-request."""


class NoEngineFound(DockerConnectionError):
    """Discovery (``DockerClient.from_env`` with nothing configured) found no engine.

    Args:
        tried: a (socket path, why it failed) pair for each place looked at.
    """

    def __init__(self, tried: list[tuple[str, str]]) -> None:
        self.tried = tried
        places = "; ".join(
            f"{item[0]}: {item[1]}"
            if isinstance(item, tuple) and len(item) == 2
            else f"<{type(item).__name__}>"  # never show an object that is not a place
            for item in tried
        )
        super().__init__(
            "no Docker or Podman engine found (DOCKER_HOST, DOCKER_CONTEXT and "
            f"currentContext are unset); tried {places}"
        )


class ResponseTooLargeError(DockerConnectionError):
    """An ordinary answer was larger than the client's ``max_response_size``.

    Raised before more than the limit is read (from ``Content-Length`` when the
    daemon announces one). Streams (logs, events, pull, archives...) are not limited.

    Args:
        method: the call's HTTP method.
        path: the call's path.
        limit: the cap in bytes.
        size: the announced length (``None`` for a chunked answer).
    """

    def __init__(self, method: str, path: str, limit: int, size: int | None = None) -> None:
        self.method = method
        self.path = path
        self.limit = limit
        self.size = size
        got = f"announced {size} bytes" if size is not None else "sent more than that"
        super().__init__(
            f"{method} {path}: the daemon's answer is larger than max_response_size="
            f"{limit} bytes ({got}); raise it with DockerClient(max_response_size=...) "
            "or client.with_options(max_response_size=...) if the answer is expected"
        )


class DockerTimeoutError(DockerError, TimeoutError):
    """A request or a stream took longer than the configured timeout."""


# --- answers the client cannot use --------------------------------------------


class ResponseValidationError(DockerError):
    """The daemon answered, but the answer does not fit what the call expects.

    Invalid JSON, or JSON that does not have the shape of the model the call
    returns. This is not a network fault (it is no
    :class:`DockerConnectionError`): retrying gets the same answer, so it
    points at a daemon or client bug (or an API version mismatch).

    Args:
        method: the request's HTTP method.
        path: the request's path.
        model: the name of the expected type (``"JSON"`` when the body did not
            even parse).
        error: the underlying exception (also chained as ``__cause__``).
        detail: where in the answer it went wrong, when known.
    """

    def __init__(
        self, method: str, path: str, model: str, error: BaseException, detail: str = ""
    ) -> None:
        self.method = method
        self.path = path
        self.model = model
        self.error = error
        what = "is invalid JSON" if model == "JSON" else f"does not fit {model}"
        reason = detail or f"{type(error).__name__}: {str(error)[:200]}"
        # A nested part structured on first read no longer knows its call: no prefix.
        call = f"{method} {path}: " if method else ""
        super().__init__(f"{call}the daemon's answer {what} ({reason})")


# --- HTTP status errors --------------------------------------------------------


class APIError(DockerError):
    """The daemon answered with an error status.

    Args:
        status: the HTTP status.
        message: the daemon's own explanation (its JSON ``message`` field, or the
            body text when there is none).
        method: the HTTP method of the failed request.
        path: the path of the failed request.
    """

    status: int

    def __init__(self, status: int, message: str, method: str, path: str) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{method} {path} failed with {status}: {message}")


class BadRequest(APIError):
    """400: the daemon rejected the parameters."""


class Unauthorized(APIError):
    """401: credentials are missing or wrong."""


class Forbidden(APIError):
    """403: the operation is not allowed."""


class NotFound(APIError):
    """404: the object does not exist."""


class ContainerNotFound(NotFound):
    """404 on a container operation."""


class ImageNotFound(NotFound):
    """404 on an image operation."""


class NetworkNotFound(NotFound):
    """404 on a network operation."""


class VolumeNotFound(NotFound):
    """404 on a volume operation."""


class ServiceNotFound(NotFound):
    """404 on a service operation."""


class NodeNotFound(NotFound):
    """404 on a node operation."""


class PluginNotFound(NotFound):
    """404 on a plugin operation."""


class Conflict(APIError):
    """409: the object is in a state that forbids the operation (or the name is taken)."""


class ServerError(APIError):
    """5xx: the daemon failed to carry out the request."""


class NotInSwarm(ServerError):
    """503: the node is not part of a swarm (or not a manager)."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def error_class_for(status: int, not_found: type[NotFound] = NotFound) -> type[APIError]:
    """Pick the exception class for an HTTP error status."""
    if status == 404:
        return not_found
    cls = _STATUS_CLASSES.get(status)
    if cls is not None:
        return cls
    if status >= 500:
        return ServerError
    return APIError


# --- in-band stream errors ----------------------------------------------------


class StreamError(DockerError):
    """The daemon reported an error inside a stream (log frame type 3, ``errorDetail``).

    Args:
        message: the error the daemon reported.
        code: the error code the daemon gave with it, if any.
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.message = message
        self.code = code
        super().__init__(message)


class TruncatedStreamError(StreamError, DockerConnectionError):
    """A stream ended in the middle of a frame or a JSON document."""


class RegistryAuthError(Unauthorized, StreamError):
    """The registry refused the credentials (or needed some and got none).

    The daemon reports this in different ways (inside a push stream, as an HTTP
    500 for a pull or a login); all of them raise this one class, which is both
    an :class:`~aiodock.errors.Unauthorized` and a
    :class:`~aiodock.errors.StreamError`. ``status`` is 401. The message never
    contains the credentials.

    Args:
        message: the registry's or daemon's explanation.
        method: the HTTP method of the request.
        path: the path of the request.
        http_status: the status the daemon actually answered with (``None`` when
            the error came inside a stream).
        code: the error code reported in the stream, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        http_status: int | None = None,
        code: int | None = None,
    ) -> None:
        self.status = 401
        self.http_status = http_status
        self.message = message
        self.method = method
        self.path = path
        self.code = code
        Exception.__init__(
            self, f"{method} {path}: the registry refused the credentials: {message}"
        )


class BuildError(StreamError):
    """An image build failed.

    For a BuildKit build, ``step`` names the step that failed and ``log`` is that
    step's output.

    Args:
        message: the error the build reported.
        log: the build output received before the error.
        code: the error code reported with it, if any.
        step: the BuildKit step that failed (empty for the classic builder).
    """

    def __init__(
        self, message: str, *, log: str = "", code: int | None = None, step: str = ""
    ) -> None:
        super().__init__(message, code=code)
        self.log = log
        self.step = step


class ConvergenceError(DockerError):
    """A service's tasks failed instead of reaching the desired state.

    Args:
        service_id: the service's id.
        errors: one line per failed task: its state and the engine's ``Status.Err``.
        tasks: the failed tasks themselves.
    """

    def __init__(self, service_id: str, errors: list[str], tasks: list[Task]) -> None:
        self.service_id = service_id
        self.errors = errors
        self.tasks = tasks
        super().__init__(f"service {service_id} did not converge: " + "; ".join(errors))


class ContainerError(DockerError):
    """A container run by :meth:`~aiodock.resources.containers.Containers.run` exited non-zero.

    Args:
        container_id: the container's id.
        exit_code: its exit code.
        stderr: what it wrote to stderr (the end of it is in the message).
        image: the image it ran.
    """

    def __init__(self, container_id: str, exit_code: int, stderr: bytes, image: str = "") -> None:
        self.container_id = container_id
        self.exit_code = exit_code
        self.stderr = stderr
        self.image = image
        tail = stderr[-2000:].decode("utf-8", "replace").strip()
        where = f" (image {image})" if image else ""
        super().__init__(
            f"container {container_id[:12]}{where} exited with code {exit_code}"
            + (f": {tail}" if tail else "")
        )
