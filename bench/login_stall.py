"""What a burst of logins does to everyone else's sockets on the same node.

A login verifies an argon2id hash (64 MiB, tens to hundreds of ms of CPU). This
starts a real server (SQLite, memory state), signs one account up, opens one
guest socket, and measures ``ping`` round trips on that socket without pause
while ``--logins`` wrong-password logins are sent at once (``--rounds`` times,
one after another). Reported: the round trips' p50, p99 and max while logins
were in flight, and how long each burst took. Before issue 19's third session
the hash ran on the event loop, so every socket waited for every hash.

    .venv/bin/python -m bench.login_stall --logins 4 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.client import Peer, guest_token
from tests.support.http import loopback_client
from tests.support.server import start_server

MAX_PINGS = 200_000  # bound on the measuring loop, whatever the server does
# The login limit and the socket's event budget out of the way: this measures stalls.
SETTINGS = {
    "CONNECT_RATE_LOGIN": "100000/minute",
    "CONNECT_EVENT_RATE_PER_S": "1000000",
    "CONNECT_EVENT_BURST": "1000000",
    "CONNECT_LOG_LEVEL": "warning",
}


async def _burst(http: str, email: str, logins: int) -> float:
    started = time.perf_counter()
    async with loopback_client(base_url=http, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post("/api/auth/login", json={"email": email, "password": "wrong " * 3})
                for _ in range(logins)
            )
        )
    assert all(r.status_code == 401 for r in answers), [r.status_code for r in answers]
    return time.perf_counter() - started


async def _run(logins: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), SETTINGS)
        try:
            email = f"stall-{secrets.token_hex(4)}@example.test"
            async with loopback_client(base_url=server.http) as client:
                password = secrets.token_urlsafe(12)
                account = {"email": email, "password": password, "displayName": "S"}
                r = await client.post("/api/auth/signup", json=account)
                assert r.status_code == 201, r.text
            peer = await Peer.connect(server.ws, await guest_token(server.http))
            rtts: list[float] = []
            bursts: list[float] = []
            for _ in range(rounds):
                burst = asyncio.create_task(_burst(server.http, email, logins))
                while not burst.done() and len(rtts) < MAX_PINGS:
                    sent = time.perf_counter()
                    await peer.request("ping")
                    rtts.append((time.perf_counter() - sent) * 1000)
                bursts.append(await burst)
            await peer.close()
        finally:
            server.stop()
    rtts.sort()
    return {
        "logins": logins,
        "rounds": rounds,
        "pings": len(rtts),
        "pingP50Ms": statistics.median(rtts),
        "pingP99Ms": rtts[int(len(rtts) * 0.99)],
        "pingMaxMs": rtts[-1],
        "burstMedianMs": statistics.median(bursts) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(min(args.logins, 50), min(args.rounds, 50))), indent=2))


if __name__ == "__main__":
    main()
