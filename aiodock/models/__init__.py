"""Typed models of the Docker Engine API.

Every class is a frozen, keyword-only attrs class generated from the Engine API
spec by ``tools/gen_models.py`` (see ``_generated.py``). Field names are
snake_case; the JSON key of each field is in its ``metadata["wire"]`` and
:mod:`aiodock._convert` maps between the two. Every field has a default, so
``HostConfig(memory=64 * 2**20)`` is a complete value and unset fields are left
out of request bodies.
"""

from ._generated import *  # noqa: F403
from ._generated import __all__ as __all__
