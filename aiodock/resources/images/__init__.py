"""The ``images`` namespace: list, inspect, pull, push, build, save, load and friends.

Pull, push, build, load and import return an operation (a
:class:`~aiodock.PullStream`, :class:`~aiodock.PushStream`,
:class:`~aiodock.BuildStream`, :class:`~aiodock.LoadStream`,
:class:`~aiodock.ImportStream`): nothing is sent until it is awaited or
iterated. ``await docker.images.pull(ref)`` runs it to its end and returns its
result; ``async for message in op`` streams the progress first. An operation
dropped after it started warns (``ResourceWarning``): the daemon cancels the
work when the connection goes away early. Errors the daemon reports inside the
stream raise. The rule for every stream is in :mod:`aiodock._streams.progress`.

Registry credentials are looked up like the docker CLI does (``config.json``
``auths``, ``credsStore``, ``credHelpers``; see :mod:`aiodock._registry.auth`) unless
given per call with ``auth=``. A registry refusing them raises
:class:`~aiodock.errors.RegistryAuthError` (an ``Unauthorized``), however
the daemon reports it. Credentials never appear in a repr, a log or an error.
"""

from __future__ import annotations

from ..._registry.auth import AuthLike
from ..._rules import PlatformLike
from .._login import auth_login
from ._namespace import Images

__all__ = ["AuthLike", "Images", "PlatformLike", "auth_login"]
