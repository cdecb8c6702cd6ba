"""Bare aiohttp decoding JSON with the standard library (``ClientResponse.json()``).

A secondary row: aiohttp's default decoding, for comparison with earlier runs.
Everything but JSON decoding is :mod:`benchmarks.client_aiohttp`.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from . import client_aiohttp

NAME = "aiohttp-json"


class Client(client_aiohttp.Client):
    @staticmethod
    async def decode(resp: aiohttp.ClientResponse) -> Any:
        return await resp.json()
