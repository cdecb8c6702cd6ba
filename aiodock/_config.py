"""Where to connect and how: the docker CLI's configuration rules, as pure logic.

:func:`resolve` reads the same sources as the ``docker`` command line, in the
same order, and returns a :class:`ResolvedConfig`:

1. ``DOCKER_HOST`` (non-empty) selects the *default* context with that host;
2. otherwise ``DOCKER_CONTEXT``, otherwise ``currentContext`` in ``config.json``,
   names a context stored under ``<config dir>/contexts``;
3. the *default* context talks to ``unix:///var/run/docker.sock`` (or
   ``tcp://localhost:2376`` when TLS is switched on by the environment).

With ``discover=True`` (what ``DockerClient.from_env`` asks for), step 3 looks for
an engine instead, in the order of :data:`DEFAULT_SOCKETS`: rootful Docker, rootless
Docker, rootless Podman, rootful Podman; the first socket that accepts a
connection wins. When none does, :class:`NoEngineFound` lists each place tried
and why it failed.

TLS for the default context comes from ``DOCKER_TLS_VERIFY`` / ``DOCKER_TLS`` and
``DOCKER_CERT_PATH``; a named context carries its own TLS files and its
``SkipTLSVerify`` flag. ``DOCKER_API_VERSION`` pins the API version and
``HttpHeaders`` in ``config.json`` become headers sent with every request.

Nothing here opens a network connection; :meth:`TLSConfig.ssl_context` only
builds an :class:`ssl.SSLContext`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import ssl
import stat
import tempfile
import types
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import attrs

from ._names import unusable
from .errors import (
    APIVersionError,
    ConfigError,
    DockerConnectionError,
    InvalidArgument,
    NoEngineFound,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_SOCKETS",
    "DEFAULT_TLS_HOST",
    "MAX_API_VERSION",
    "MIN_API_VERSION",
    "ConfigError",
    "InsecureTLSWarning",
    "NoEngineFound",
    "ResolvedConfig",
    "TLSConfig",
    "config_dir_from_env",
    "discover_host",
    "negotiate_api_version",
    "parse_api_version",
    "read_config_file",
    "resolve",
]

DEFAULT_HOST = "unix:///var/run/docker.sock"
#: The CLI's default host when TLS is switched on but no host is given.
DEFAULT_TLS_HOST = "tcp://localhost:2376"
DEFAULT_CONTEXT = "default"

#: Where discovery looks for an engine, in order, when nothing names one: rootful
#: Docker, rootless Docker, rootless Podman, rootful Podman. ``$XDG_RUNTIME_DIR`` is
#: the environment's (entries using it are skipped, and said so, when it is unset).
DEFAULT_SOCKETS: list[tuple[str, str]] = [
    ("/var/run/docker.sock", "Docker"),
    ("$XDG_RUNTIME_DIR/docker.sock", "rootless Docker"),
    ("$XDG_RUNTIME_DIR/podman/podman.sock", "rootless Podman"),
    ("/run/podman/podman.sock", "Podman"),
]
#: Seconds a discovery probe waits for a socket to accept (a unix connect is instant).
PROBE_TIMEOUT = 1.0

MAX_API_VERSION = "1.56"
MIN_API_VERSION = "1.24"

CONFIG_FILE_NAME = "config.json"
CA_FILE, CERT_FILE, KEY_FILE = "ca.pem", "cert.pem", "key.pem"

#: A path to a PEM file, or the PEM (or DER, for a CA) data itself.
PemSource: TypeAlias = "str | os.PathLike[str] | bytes"


class InsecureTLSWarning(UserWarning):
    """TLS is in use but the daemon's certificate is not verified."""


# --- API versions ---------------------------------------------------------------

_API_VERSION_RE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def parse_api_version(version: str) -> tuple[int, int]:
    """Turn ``"1.41"`` into ``(1, 41)``; anything else raises :class:`InvalidArgument`."""
    if not isinstance(version, str):
        raise InvalidArgument("api_version", version, "expected a string like '1.41'")
    match = _API_VERSION_RE.fullmatch(version)
    if match is None:
        raise InvalidArgument("api_version", version, "expected MAJOR.MINOR, like '1.41'")
    return int(match.group(1)), int(match.group(2))


def negotiate_api_version(server_version: str, where: str) -> str:
    """The API version to speak with the daemon at ``where``, given its ``/_ping`` header.

    It is the lower of the daemon's version and :data:`MAX_API_VERSION`. A daemon
    that reports nothing gets :data:`MIN_API_VERSION`, like the Go client gives
    daemons too old to send the header; one older than that is refused
    (:class:`~aiodock.errors.APIVersionError`), and a malformed header is a
    :class:`~aiodock.errors.DockerConnectionError`.
    """
    if not server_version:
        return MIN_API_VERSION
    try:
        server = parse_api_version(server_version)
    except InvalidArgument:
        raise DockerConnectionError(
            f"daemon at {where} sent an invalid API-Version {server_version!r}"
        ) from None
    if server < parse_api_version(MIN_API_VERSION):
        raise APIVersionError("aiodock", MIN_API_VERSION, server_version)
    return server_version if server < parse_api_version(MAX_API_VERSION) else MAX_API_VERSION


# --- TLS ------------------------------------------------------------------------


def _describe_pem(value: PemSource | None) -> str:
    """repr() of a PEM source that never shows in-memory contents."""
    if value is None:
        return "None"
    if isinstance(value, bytes):
        return "<in-memory PEM>"
    return repr(os.fspath(value))


def _pem_label(value: PemSource) -> str:
    if isinstance(value, bytes):
        return "in-memory data"
    return os.fspath(value)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@contextlib.contextmanager
def _pem_file(value: PemSource) -> Iterator[str]:
    """A file path holding ``value`` for the duration of the block.

    Paths are passed through. In-memory data goes to an anonymous memory file
    (``memfd``, never on disk) where the platform has one, else to a 0600 file
    inside a fresh 0700 directory that is removed as soon as the block ends.
    """
    if not isinstance(value, bytes):
        yield os.fspath(value)
        return
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            fd = memfd_create("aiodock-pem", getattr(os, "MFD_CLOEXEC", 0))
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                _write_all(fd, value)
                path = f"/proc/self/fd/{fd}"
                usable = os.path.exists(path)
                if usable:
                    yield path
            finally:
                os.close(fd)
            if usable:
                return
    directory = tempfile.mkdtemp(prefix="aiodock-tls-")  # mode 0700
    path = os.path.join(directory, "material.pem")
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        try:
            _write_all(fd, value)
        finally:
            os.close(fd)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.rmdir(directory)


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key.
    return b""


@attrs.frozen
class TLSConfig:
    """TLS settings for a ``tcp://`` daemon.

    ``ca_cert``, ``client_cert`` and ``client_key`` are each a path or the PEM
    data itself (bytes). ``ca_cert=None`` trusts the system's certificate
    store. ``client_cert`` may hold both certificate and key, then leave
    ``client_key`` unset. ``server_hostname`` is the name the daemon's
    certificate must carry when it differs from the host in the URL (the
    transport passes it on to the connection). ``verify=False`` accepts any
    certificate and warns with :class:`InsecureTLSWarning` each time a context
    is built. The repr never shows in-memory PEM data.
    """

    ca_cert: PemSource | None = attrs.field(default=None, repr=_describe_pem)
    client_cert: PemSource | None = attrs.field(default=None, repr=_describe_pem)
    client_key: PemSource | None = attrs.field(default=None, repr=_describe_pem)
    verify: bool = True
    server_hostname: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise InvalidArgument(
                "client_key",
                _describe_pem(self.client_key),
                "a client key needs a client_cert to go with it",
            )

    def ssl_context(self) -> ssl.SSLContext:
        """Build a client :class:`ssl.SSLContext` (TLS 1.2 or newer) from these settings."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.verify:
            ctx.check_hostname = True
            ctx.verify_mode = ssl.CERT_REQUIRED
            self._load_ca(ctx)
        else:
            warnings.warn(
                "TLS certificate verification of the Docker daemon is switched off "
                "(verify=False / DOCKER_TLS without DOCKER_TLS_VERIFY / SkipTLSVerify); "
                "the connection can be intercepted",
                InsecureTLSWarning,
                stacklevel=2,
            )
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.client_cert is not None:
            self._load_client_cert(ctx, self.client_cert, self.client_key)
        return ctx

    def _load_ca(self, ctx: ssl.SSLContext) -> None:
        ca = self.ca_cert
        if ca is None:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
            return
        try:
            if isinstance(ca, bytes):
                if ca.lstrip().startswith(b"-----BEGIN"):
                    ctx.load_verify_locations(cadata=ca.decode("ascii"))
                else:
                    ctx.load_verify_locations(cadata=ca)  # DER
            else:
                ctx.load_verify_locations(cafile=os.fspath(ca))
        except (OSError, ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(
                f"cannot load the TLS CA certificate from {_pem_label(ca)}: {_reason(exc)}"
            ) from None

    @staticmethod
    def _load_client_cert(ctx: ssl.SSLContext, cert: PemSource, key: PemSource | None) -> None:
        what = f"certificate {_pem_label(cert)}" + (
            f" and key {_pem_label(key)}" if key is not None else ""
        )
        try:
            with _pem_file(cert) as cert_path:
                if key is None:
                    ctx.load_cert_chain(cert_path, password=_no_passphrase)
                else:
                    with _pem_file(key) as key_path:
                        ctx.load_cert_chain(cert_path, key_path, password=_no_passphrase)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigError(f"cannot load the TLS client {what}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- config.json ------------------------------------------------------------------


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def _check_path_variable(name: str, value: str) -> None:
    reason = unusable(value, os_path=True)
    if reason is not None:
        raise ConfigError(f"{name}={value!r} is not a usable directory: it {reason}")


def config_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """``DOCKER_CONFIG`` if set, else ``~/.docker``."""
    env = os.environ if environ is None else environ
    explicit = env.get("DOCKER_CONFIG")
    if explicit:
        _check_path_variable("DOCKER_CONFIG", explicit)
        return Path(explicit)
    return _home(env) / ".docker"


def read_config_file(config_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse ``<config_dir>/config.json``; a missing or empty file is ``{}``."""
    path = Path(config_dir) / CONFIG_FILE_NAME
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read docker config file {path}: {_reason(exc)}") from None
    except ValueError:  # a NUL in the path (HOME, for one)
        raise ConfigError(
            f"cannot read docker config file {str(path)!r}: the path holds a NUL byte"
        ) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"docker config file {path} is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"docker config file {path} must hold a JSON object, not {type(data).__name__}"
        )
    return data


def _http_headers(config: Mapping[str, Any], config_dir: Path) -> Mapping[str, str]:
    raw = config.get("HttpHeaders")
    if raw is None:
        return types.MappingProxyType({})
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigError(
            f"HttpHeaders in {config_dir / CONFIG_FILE_NAME} must map header names to strings"
        )
    for name, value in raw.items():
        # A tab is allowed inside a value; the value is never shown (it may be a token).
        if not name or ":" in name or unusable(name) or unusable(value.replace("\t", " ")):
            raise ConfigError(
                f"HttpHeaders in {config_dir / CONFIG_FILE_NAME}: the header {name!r} has "
                "control characters (or a ':') in its name or value"
            )
    return types.MappingProxyType(dict(raw))


# --- resolution -------------------------------------------------------------------


def _shown_host(host: str) -> str:
    from ._http.transport import redact_host  # the one masking function for addresses

    return redact_host(host)


def _freeze_headers(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


@attrs.frozen
class ResolvedConfig:
    """Everything a client needs to reach the daemon, as :func:`resolve` found it.

    ``context`` is the name of the docker context in use, or ``None`` for the
    default context (``DOCKER_HOST`` or the local socket). ``source`` says
    where ``host`` came from, for error messages. ``config_dir`` is where
    ``config.json`` (and so registry auth) lives.
    """

    host: str = attrs.field(default=DEFAULT_HOST, repr=lambda host: repr(_shown_host(host)))
    tls: TLSConfig | None = None
    api_version: str | None = None
    http_headers: Mapping[str, str] = attrs.field(
        factory=dict, converter=_freeze_headers, hash=False
    )
    context: str | None = None
    source: str = "default"
    config_dir: str | None = None


def _context_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _truthy(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "") != ""


def _default_context(env: Mapping[str, str], config_dir: Path) -> tuple[str, TLSConfig | None, str]:
    tls: TLSConfig | None = None
    verify = _truthy(env, "DOCKER_TLS_VERIFY")
    if verify or _truthy(env, "DOCKER_TLS"):
        if env.get("DOCKER_CERT_PATH"):
            _check_path_variable("DOCKER_CERT_PATH", env["DOCKER_CERT_PATH"])
        cert_path = Path(env.get("DOCKER_CERT_PATH") or config_dir)
        ca = cert_path / CA_FILE
        cert = cert_path / CERT_FILE
        key = cert_path / KEY_FILE
        has_cert, has_key = cert.is_file(), key.is_file()
        if has_cert != has_key:
            present, missing = (cert, key) if has_cert else (key, cert)
            raise ConfigError(
                f"TLS client files are incomplete in DOCKER_CERT_PATH={cert_path}: "
                f"found {present.name} but not {missing.name}"
            )
        if verify and not ca.is_file():
            raise ConfigError(
                f"DOCKER_TLS_VERIFY is set but the CA certificate {ca} does not exist "
                "(set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem)"
            )
        tls = TLSConfig(
            ca_cert=str(ca) if verify else None,
            client_cert=str(cert) if has_cert else None,
            client_key=str(key) if has_key else None,
            verify=verify,
        )
    host = env.get("DOCKER_HOST", "").strip()
    if host:
        return host, tls, "DOCKER_HOST"
    return (DEFAULT_TLS_HOST if tls is not None else DEFAULT_HOST), tls, "default"


def _load_json_file(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {_reason(exc)}") from None


def _named_context(name: str, source: str, config_dir: Path) -> tuple[str, TLSConfig | None]:
    context_id = _context_id(name)
    meta_path = config_dir / "contexts" / "meta" / context_id / "meta.json"
    if not meta_path.is_file():
        raise ConfigError(
            f"docker context {name!r} (selected by {source}) does not exist: no {meta_path}"
        )
    meta = _load_json_file(meta_path, f"metadata of docker context {name!r}")
    endpoint = None
    if isinstance(meta, dict):
        endpoints = meta.get("Endpoints")
        if isinstance(endpoints, dict):
            endpoint = endpoints.get("docker")
    if not isinstance(endpoint, dict):
        raise ConfigError(f"docker context {name!r} has no docker endpoint in {meta_path}")
    host = endpoint.get("Host")
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f"docker context {name!r} has no docker host in {meta_path}")
    skip_verify = endpoint.get("SkipTLSVerify") is True

    tls_dir = config_dir / "contexts" / "tls" / context_id / "docker"
    ca, cert, key = (tls_dir / f for f in (CA_FILE, CERT_FILE, KEY_FILE))
    has_ca, has_cert, has_key = ca.is_file(), cert.is_file(), key.is_file()
    tls: TLSConfig | None = None
    if has_ca or has_cert or has_key or skip_verify:
        pair = has_cert and has_key  # the CLI ignores half a key pair in a context
        tls = TLSConfig(
            ca_cert=str(ca) if has_ca and not skip_verify else None,
            client_cert=str(cert) if pair else None,
            client_key=str(key) if pair else None,
            verify=not skip_verify,
        )
    return host.strip(), tls


def _api_version(env: Mapping[str, str]) -> str | None:
    raw = env.get("DOCKER_API_VERSION", "").strip()
    if not raw:
        return None
    version = raw[1:] if raw[:1] in "vV" else raw
    try:
        parse_api_version(version)
    except InvalidArgument:
        raise InvalidArgument(
            "DOCKER_API_VERSION", raw, "expected MAJOR.MINOR, like '1.41'"
        ) from None
    return version


def _probe(path: str) -> str | None:
    """None when a unix socket at ``path`` accepts a connection, else why not."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot stat it: {_reason(exc)}"
    if not stat.S_ISSOCK(mode):
        return "is not a socket"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(PROBE_TIMEOUT)
        sock.connect(path)
    except OSError as exc:
        return f"does not accept connections ({_reason(exc)})"
    finally:
        sock.close()
    return None


def discover_host(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The first socket of :data:`DEFAULT_SOCKETS` that accepts a connection.

    Returns ``(host, source)``, e.g. ``("unix:///run/user/1000/podman/podman.sock",
    "rootless Podman socket")``. Raises :class:`NoEngineFound` listing every
    place tried and why it failed.
    """
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR", "")
    tried: list[tuple[str, str]] = []
    for template, engine in DEFAULT_SOCKETS:
        if "$XDG_RUNTIME_DIR" in template:
            if not runtime or unusable(runtime, os_path=True) is not None:
                tried.append((template, "XDG_RUNTIME_DIR is not set"))
                continue
            path = template.replace("$XDG_RUNTIME_DIR", runtime.rstrip("/") or "/")
        else:
            path = template
        why = _probe(path)
        if why is None:
            return f"unix://{path}", f"{engine} socket {path} (discovered)"
        tried.append((path, why))
    raise NoEngineFound(tried)


def resolve(
    environ: Mapping[str, str] | None = None,
    *,
    config_dir: str | os.PathLike[str] | None = None,
    discover: bool = False,
) -> ResolvedConfig:
    """Work out the daemon address, TLS, API version and headers like the docker CLI.

    ``environ`` defaults to :data:`os.environ`; ``config_dir`` overrides
    ``DOCKER_CONFIG``. Raises :class:`ConfigError` for an unknown context, a
    broken ``config.json`` or missing TLS files, and :class:`InvalidArgument`
    for a malformed ``DOCKER_API_VERSION``. With ``discover``, a default context
    without TLS looks for an engine (:func:`discover_host`) instead of assuming
    ``/var/run/docker.sock``, and raises :class:`NoEngineFound` when none answers.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    if config_dir is not None:
        reason = unusable(os.fspath(config_dir), os_path=True)
        if reason is not None:
            raise InvalidArgument("config_dir", config_dir, reason)
    cdir = Path(config_dir) if config_dir is not None else config_dir_from_env(env)
    config = read_config_file(cdir)
    headers = _http_headers(config, cdir)
    api_version = _api_version(env)

    name: str = DEFAULT_CONTEXT
    source = "default"
    if env.get("DOCKER_HOST", "").strip():
        pass  # DOCKER_HOST always means the default context
    elif env.get("DOCKER_CONTEXT"):
        name, source = env["DOCKER_CONTEXT"], "DOCKER_CONTEXT"
    else:
        current = config.get("currentContext")
        if isinstance(current, str) and current:
            name, source = current, f"currentContext in {cdir / CONFIG_FILE_NAME}"

    if (reason := unusable(name)) is not None:
        raise ConfigError(f"the docker context name {name!r} (from {source}) {reason}")
    if name == DEFAULT_CONTEXT:
        host, tls, host_source = _default_context(env, cdir)
        if discover and host_source == "default" and tls is None:
            host, host_source = discover_host(env)
        return ResolvedConfig(
            host=host,
            tls=tls,
            api_version=api_version,
            http_headers=headers,
            context=None,
            source=host_source,
            config_dir=str(cdir),
        )
    host, tls = _named_context(name, source, cdir)
    return ResolvedConfig(
        host=host,
        tls=tls,
        api_version=api_version,
        http_headers=headers,
        context=name,
        source=f"docker context {name!r}",
        config_dir=str(cdir),
    )
