"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 "low memory").

Login is timing-safe: an unknown email is verified against a dummy hash of
the same parameters, so response time does not reveal which emails exist.
The dummy is made of random bytes in argon2's encoding, not by hashing: one
hash needs 64 MiB, which at start-up was the node's memory peak (VmHWM 198 MB
against 137 MB resident once serving). Verifying against it costs a real hash.

Hashing runs off the event loop, in a small pool of its own threads. One argon2id
hash or verification with these parameters takes 64 MiB and 60-250 ms of CPU
(measured on this project's 2-core machine, quiet to loaded); run on the loop, every
login, sign-up or password change froze every socket of the node for that long (no
relay, no ping, no match). argon2-cffi releases the GIL while it hashes, so the loop
goes on meanwhile. The pool's size bounds the memory that hashing can take at once
(``threads`` x 64 MiB) and the CPU it can take from relaying; requests beyond it wait
their turn in the pool's queue (their number is bounded by the login and sign-up
rate limits).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 10


class Passwords:
    def __init__(self, threads: int = 2) -> None:
        self._hasher = PasswordHasher()
        self._dummy = dummy_hash(self._hasher)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")

    async def hash(self, password: str) -> str:
        """The argon2id hash of ``password``, computed in the pool (see the module)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password`` in the pool; with no stored hash, spend the same time and
        say no."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return (
                self._hasher.verify(stored_hash or self._dummy, password)
                and stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def dummy_hash(hasher: PasswordHasher) -> str:
    """An argon2id hash string with ``hasher``'s parameters that no password matches
    (random salt and digest), made without the memory and time of hashing."""

    def b64(n: int) -> str:
        return base64.b64encode(secrets.token_bytes(n)).decode().rstrip("=")

    params = f"m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
    return f"$argon2id$v=19${params}${b64(hasher.salt_len)}${b64(hasher.hash_len)}"
