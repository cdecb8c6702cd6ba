"""Transport failures: which exceptions they are, and how they enter aiodock's error tree.

One home for ordinary calls, streams, hijacked connections and the attach WebSocket.
"""

from __future__ import annotations

import asyncio

import aiohttp

from ..errors import DockerConnectionError, DockerTimeoutError

__all__ = ["TRANSPORT_ERRORS", "transport_error"]

#: What a failing connection raises: aiohttp's errors, the OS's, and timeouts.
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


def transport_error(exc: BaseException, what: str) -> Exception:
    """Map an aiohttp/OS failure to aiodock's tree (callers ``raise ... from exc``).

    aiohttp's own wording is replaced where it misleads: its payload errors
    carry parser codes that read like HTTP statuses ("TransferEncodingError:
    400") when the daemon sent no such status.
    """
    if isinstance(exc, asyncio.TimeoutError):
        return DockerTimeoutError(f"{what}: timed out ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ClientPayloadError):
        detail = (
            "the connection ended before the daemon finished its answer (the body is "
            "incomplete: did the daemon stop or restart, or a proxy cut the connection?)"
        )
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        detail = "the daemon closed the connection without answering (did it stop or restart?)"
    elif isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # Checked first: before aiohttp 3.12 this subclass has no os_error to read.
        detail = f"the daemon's TLS certificate was refused ({exc.certificate_error})"
    elif isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        detail = f"cannot connect to the daemon ({reason})"
    elif isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp's parser rejecting what it read: not a status the daemon sent.
        detail = f"the daemon's answer is not valid HTTP ({exc.message})"
    else:
        detail = str(exc) or type(exc).__name__
    return DockerConnectionError(f"{what}: {detail}")
