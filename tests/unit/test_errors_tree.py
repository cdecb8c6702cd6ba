"""The exception tree: what each error is a kind of, and what it carries.

Users catch these by their bases (``except NotFound``, ``except TimeoutError``), so the
hierarchy is API: a class moved in the tree breaks their handlers without failing a call.
"""

from __future__ import annotations

import builtins

import pytest

from aiodock import errors
from aiodock.errors import (
    APIError,
    APIVersionError,
    BadRequest,
    BuildError,
    ClientClosedError,
    Conflict,
    ContainerError,
    ContainerNotFound,
    ConvergenceError,
    CredentialHelperError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    Forbidden,
    ImageNotFound,
    InvalidArgument,
    NetworkNotFound,
    NodeNotFound,
    NoEngineFound,
    NotFound,
    NotInSwarm,
    PluginNotFound,
    RegistryAuthError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    ServiceNotFound,
    StreamError,
    TruncatedStreamError,
    Unauthorized,
    UsageError,
    VolumeNotFound,
    error_class_for,
)

# Every exported error with all of its bases that users may catch it by (builtins included).
KINDS: dict[type[BaseException], tuple[type[BaseException], ...]] = {
    DockerError: (Exception,),
    UsageError: (DockerError,),
    ClientClosedError: (UsageError, DockerError),
    InvalidArgument: (UsageError, DockerError, builtins.ValueError),
    APIVersionError: (UsageError, DockerError),
    errors.ConfigError: (DockerError,),
    CredentialHelperError: (DockerError,),
    DockerConnectionError: (DockerError, builtins.ConnectionError, OSError),
    NoEngineFound: (DockerConnectionError, DockerError, builtins.ConnectionError),
    ResponseTooLargeError: (DockerConnectionError, DockerError, builtins.ConnectionError),
    DockerTimeoutError: (DockerError, builtins.TimeoutError),
    ResponseValidationError: (DockerError,),
    APIError: (DockerError,),
    BadRequest: (APIError, DockerError),
    Unauthorized: (APIError, DockerError),
    Forbidden: (APIError, DockerError),
    NotFound: (APIError, DockerError),
    ContainerNotFound: (NotFound, APIError),
    ImageNotFound: (NotFound, APIError),
    NetworkNotFound: (NotFound, APIError),
    VolumeNotFound: (NotFound, APIError),
    ServiceNotFound: (NotFound, APIError),
    NodeNotFound: (NotFound, APIError),
    PluginNotFound: (NotFound, APIError),
    Conflict: (APIError, DockerError),
    ServerError: (APIError, DockerError),
    NotInSwarm: (ServerError, APIError, DockerError),
    StreamError: (DockerError,),
    TruncatedStreamError: (StreamError, DockerConnectionError, builtins.ConnectionError),
    RegistryAuthError: (Unauthorized, APIError, StreamError, DockerError),
    BuildError: (StreamError, DockerError),
    ConvergenceError: (DockerError,),
    ContainerError: (DockerError,),
}

# Pairs that must stay apart: catching one must not catch the other.
NOT_KINDS: list[tuple[type[BaseException], type[BaseException]]] = [
    (ResponseValidationError, DockerConnectionError),  # not a network fault: no retry
    (DockerTimeoutError, DockerConnectionError),
    (APIError, DockerConnectionError),
    (StreamError, APIError),
    (BuildError, DockerConnectionError),
    (UsageError, APIError),
    (ClientClosedError, DockerConnectionError),
    (NotInSwarm, NotFound),
    (NotFound, ServerError),
    (ContainerNotFound, ImageNotFound),
    (Conflict, BadRequest),
]


def test_every_exported_error_is_classified_here() -> None:
    exported = {getattr(errors, name) for name in errors.__all__}
    assert exported == set(KINDS)


@pytest.mark.parametrize(
    ("cls", "bases"), list(KINDS.items()), ids=lambda x: getattr(x, "__name__", "")
)
def test_error_is_a_kind_of_its_bases(
    cls: type[BaseException], bases: tuple[type[BaseException], ...]
) -> None:
    for base in bases:
        assert issubclass(cls, base), f"{cls.__name__} is no {base.__name__}"


@pytest.mark.parametrize(("cls", "other"), NOT_KINDS, ids=str)
def test_errors_that_must_stay_apart(cls: type[BaseException], other: type[BaseException]) -> None:
    assert not issubclass(cls, other)


def test_caught_by_builtin_kinds() -> None:
    with pytest.raises(TimeoutError):
        raise DockerTimeoutError("took too long")
    with pytest.raises(ConnectionError):
        raise TruncatedStreamError("cut")
    with pytest.raises(ValueError):
        raise InvalidArgument("n", -1, "must be at least 0")


# --- error_class_for: the status map of every call -----------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (500, ServerError),
        (501, ServerError),
        (503, ServerError),
        (599, ServerError),
        (304, APIError),
        (402, APIError),
        (405, APIError),
        (410, APIError),
        (499, APIError),
    ],
)
def test_error_class_for_status(status: int, expected: type[APIError]) -> None:
    assert error_class_for(status) is expected


def test_error_class_for_404_uses_the_operations_not_found() -> None:
    assert error_class_for(404, ImageNotFound) is ImageNotFound
    assert error_class_for(404, ContainerNotFound) is ContainerNotFound
    # The specialised class is only for 404.
    assert error_class_for(405, ImageNotFound) is APIError
    assert error_class_for(409, ImageNotFound) is Conflict
    assert error_class_for(500, ImageNotFound) is ServerError


# --- what each error carries -----------------------------------------------------------


def test_api_error_attributes_and_message() -> None:
    err = ImageNotFound(404, "No such image: nope:latest", "GET", "/images/nope:latest/json")
    assert (err.status, err.message, err.method, err.path) == (
        404,
        "No such image: nope:latest",
        "GET",
        "/images/nope:latest/json",
    )
    assert str(err) == "GET /images/nope:latest/json failed with 404: No such image: nope:latest"


def test_invalid_argument_names_parameter_and_value() -> None:
    err = InvalidArgument("timeout", -3, "must not be negative")
    assert (err.parameter, err.value, err.reason) == ("timeout", -3, "must not be negative")
    assert str(err) == "invalid timeout=-3: must not be negative"
    assert str(InvalidArgument("name", "a b", "bad")) == "invalid name='a b': bad"


def test_api_version_error() -> None:
    err = APIVersionError("platform", "1.44", "1.41")
    assert (err.option, err.required, err.negotiated) == ("platform", "1.44", "1.41")
    assert str(err) == (
        "platform needs Engine API 1.44 or newer, but this client speaks API 1.41 with the daemon"
    )


def test_credential_helper_error() -> None:
    err = CredentialHelperError("pass", "registry.example:5000", "exit status 1")
    assert (err.helper, err.registry, err.reason) == (
        "pass",
        "registry.example:5000",
        "exit status 1",
    )
    assert str(err) == (
        "credential helper docker-credential-pass failed for registry "
        "'registry.example:5000': exit status 1"
    )


def test_no_engine_found_lists_the_places_tried() -> None:
    tried = [("/var/run/docker.sock", "no such file"), ("/run/podman/podman.sock", "refused")]
    err = NoEngineFound(tried)
    assert err.tried == tried
    assert str(err) == (
        "no Docker or Podman engine found (DOCKER_HOST, DOCKER_CONTEXT and currentContext "
        "are unset); tried /var/run/docker.sock: no such file; /run/podman/podman.sock: refused"
    )


def test_no_engine_found_never_shows_what_is_not_a_place() -> None:
    secret = "token-abc"
    err = NoEngineFound([secret, ("a", "b", "c"), ("/s", "x")])  # type: ignore[list-item]
    assert secret not in str(err)
    assert str(err).endswith("tried <str>; <tuple>; /s: x")


def test_response_too_large_error() -> None:
    err = ResponseTooLargeError("GET", "/containers/json", 1024, 4096)
    assert (err.method, err.path, err.limit, err.size) == ("GET", "/containers/json", 1024, 4096)
    assert str(err) == (
        "GET /containers/json: the daemon's answer is larger than max_response_size=1024 "
        "bytes (announced 4096 bytes); raise it with DockerClient(max_response_size=...) "
        "or client.with_options(max_response_size=...) if the answer is expected"
    )
    chunked = ResponseTooLargeError("GET", "/info", 10)
    assert chunked.size is None
    assert "(sent more than that)" in str(chunked)
    # A size of 0 is announced, not unknown.
    assert "(announced 0 bytes)" in str(ResponseTooLargeError("GET", "/x", 10, 0))


def test_response_validation_error() -> None:
    cause = ValueError("x" * 300)
    err = ResponseValidationError("GET", "/info", "SystemInfo", cause)
    assert (err.method, err.path, err.model, err.error) == ("GET", "/info", "SystemInfo", cause)
    assert str(err) == (
        f"GET /info: the daemon's answer does not fit SystemInfo (ValueError: {'x' * 200})"
    )


def test_response_validation_error_invalid_json_and_detail() -> None:
    err = ResponseValidationError("POST", "/build", "JSON", ValueError("bad"), "at offset 3")
    assert str(err) == "POST /build: the daemon's answer is invalid JSON (at offset 3)"
    # A model that merely contains "JSON" in another case is a model.
    other = ResponseValidationError("GET", "/x", "json", KeyError("k"))
    assert str(other) == "GET /x: the daemon's answer does not fit json (KeyError: 'k')"


def test_response_validation_error_without_a_call() -> None:
    err = ResponseValidationError("", "", "Mount", TypeError("no"))
    assert str(err) == "the daemon's answer does not fit Mount (TypeError: no)"


def test_stream_error() -> None:
    err = StreamError("manifest unknown", code=404)
    assert (err.message, err.code) == ("manifest unknown", 404)
    assert str(err) == "manifest unknown"
    assert StreamError("x").code is None


def test_registry_auth_error() -> None:
    err = RegistryAuthError(
        "unauthorized: authentication required",
        method="POST",
        path="/images/create",
        http_status=500,
        code=7,
    )
    assert err.status == 401  # an Unauthorized, whatever the daemon answered with
    assert err.http_status == 500
    assert (err.message, err.method, err.path, err.code) == (
        "unauthorized: authentication required",
        "POST",
        "/images/create",
        7,
    )
    assert str(err) == (
        "POST /images/create: the registry refused the credentials: "
        "unauthorized: authentication required"
    )
    in_stream = RegistryAuthError("denied", method="POST", path="/images/x/push")
    assert (in_stream.http_status, in_stream.code) == (None, None)


def test_build_error() -> None:
    err = BuildError("exit code 2", log="step 1\nstep 2\n", code=2, step="[2/3] RUN make")
    assert (err.message, err.code, err.log, err.step) == (
        "exit code 2",
        2,
        "step 1\nstep 2\n",
        "[2/3] RUN make",
    )
    assert str(err) == "exit code 2"
    plain = BuildError("failed")
    assert (plain.log, plain.code, plain.step) == ("", None, "")


def test_convergence_error() -> None:
    err = ConvergenceError("svc1", ["rejected: no such image", "failed: exit 1"], [])
    assert (err.service_id, err.errors, err.tasks) == (
        "svc1",
        ["rejected: no such image", "failed: exit 1"],
        [],
    )
    assert str(err) == "service svc1 did not converge: rejected: no such image; failed: exit 1"


def test_container_error() -> None:
    cid = "0123456789abcdef" * 4
    err = ContainerError(cid, 3, b"  boom\n", image="busybox")
    assert (err.container_id, err.exit_code, err.stderr, err.image) == (
        cid,
        3,
        b"  boom\n",
        "busybox",
    )
    assert str(err) == "container 0123456789ab (image busybox) exited with code 3: boom"


def test_container_error_without_stderr_or_image() -> None:
    err = ContainerError("abc", 1, b" \n")
    assert err.image == ""
    assert str(err) == "container abc exited with code 1"


def test_container_error_keeps_the_last_2000_bytes_decoded_leniently() -> None:
    stderr = b"A" + b"b" * 1999 + b"\xff"  # 2001 bytes: the first is cut
    err = ContainerError("abc", 1, stderr)
    assert str(err) == "container abc exited with code 1: " + "b" * 1999 + "\ufffd"
    assert str(ContainerError("abc", 1, stderr[1:])).endswith(": " + "b" * 1999 + "\ufffd")
    assert str(ContainerError("abc", 1, stderr[:-1])).endswith(": A" + "b" * 1999)
