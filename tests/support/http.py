"""HTTP clients for the tests: every server they talk to is plain HTTP on loopback.

A new httpx client builds a fresh SSL context and loads the CA bundle into it
(tens of milliseconds of CPU), even for a plain ``http://`` URL. The suites
build a client per request in thousands of places: profiling an integration
worker showed three quarters of its CPU in ``ssl.create_default_context``. One
context, made once, serves every client here, and ``trust_env=False`` keeps a
proxy configured in the environment from ever seeing test traffic.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

_TLS = ssl.create_default_context()


def loopback_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for a test server (same arguments)."""
    return httpx.AsyncClient(verify=_TLS, trust_env=False, **kwargs)


def loopback_sync_client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` for a test server (same arguments)."""
    return httpx.Client(verify=_TLS, trust_env=False, **kwargs)


def loopback_get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get`` for a test server."""
    with loopback_sync_client() as http:
        return http.get(url, **kwargs)
