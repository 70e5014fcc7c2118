"""ICE server lists with TURN REST API credentials.

coturn's ``use-auth-secret`` mode (the "TURN REST API" draft) lets the app
mint credentials coturn can check without a shared database: the username is
``<expiry-unix-time>:<subject>`` and the password is
``base64(HMAC-SHA1(shared_secret, username))``. coturn recomputes the HMAC
and refuses the username once its expiry has passed, so a leaked credential
is only good until then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from connect.clock import Clock
from connect.turn.schemas import IceConfig, IceServer


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TurnService:
    def __init__(
        self, secret: str, turn_urls: list[str], stun_urls: list[str], ttl_s: int, clock: Clock
    ) -> None:
        self._secret = secret
        self._turn_urls = list(turn_urls)
        self._stun_urls = list(stun_urls)
        self.ttl_s = ttl_s
        self._clock = clock

    def ice_config(self, subject: str) -> IceConfig:
        servers: list[IceServer] = []
        if self._stun_urls:
            servers.append(IceServer(urls=self._stun_urls))
        if self._turn_urls:
            username = f"{int(self._clock.now()) + self.ttl_s}:{subject}"
            servers.append(
                IceServer(
                    urls=self._turn_urls,
                    username=username,
                    credential=turn_credential(self._secret, username),
                )
            )
        return IceConfig(ice_servers=servers, ttl=self.ttl_s)
