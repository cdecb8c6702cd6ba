"""The one module ``__getattr__`` behind aiodock's lazy exports.

``import aiodock`` (and ``aiodock.models``, ``aiodock.testing``...) imports almost
nothing: each public name is imported from its home module the first time it is
used, then cached in the package, so later lookups cost a plain attribute read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name of ``where`` on first use.

    Args:
        namespace: the module's ``globals()``; imported values are cached there.
        where: public name -> its home module, relative to the module's package
            (``"._client"``); ``"module:other"`` takes attribute ``other`` of it,
            ``"module:"`` is the module itself.
    """
    module_name = namespace["__name__"]
    package = namespace["__package__"]

    def __getattr__(name: str) -> Any:
        target = where.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        source, colon, attribute = target.partition(":")
        module = importlib.import_module(source, package)
        value = module if colon and not attribute else getattr(module, attribute or name)
        namespace[name] = value
        return value

    return __getattr__
