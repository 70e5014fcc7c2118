"""Schemathesis hooks for tests/api (``SCHEMATHESIS_HOOKS=tests.api.fuzz_auth``).

The fuzzer calls every route, ``/api/auth/logout`` included, which ends the
very login it is using; this provider fetches a fresh token every few
seconds, so the rest of the run stays authenticated.
An account logs in with ``CONNECT_FUZZ_EMAIL``/``CONNECT_FUZZ_PASSWORD``; without
them a guest token is fetched for ``CONNECT_FUZZ_DEVICE``.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis


# Not refetched on every 401 (schemathesis' default): the fuzzer's own wrong-password
# logins and missing-token probes answer 401 too, and a login per probe would spend the
# run hashing passwords. A fresh token every few seconds bounds what a logout costs.
@schemathesis.auth(refresh_interval=5, retry_on=[])
class ConnectToken:
    def get(self, case: Any, context: Any) -> str:
        base = os.environ["CONNECT_FUZZ_URL"]
        email = os.environ.get("CONNECT_FUZZ_EMAIL")
        if email:
            r = httpx.post(
                f"{base}/api/auth/login",
                json={"email": email, "password": os.environ["CONNECT_FUZZ_PASSWORD"]},
                timeout=10,
            )
            r.raise_for_status()
            return str(r.json()["accessToken"])
        r = httpx.post(
            f"{base}/api/auth/token",
            json={"deviceId": os.environ["CONNECT_FUZZ_DEVICE"]},
            timeout=10,
        )
        r.raise_for_status()
        return str(r.json()["token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
