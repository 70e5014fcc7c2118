"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 "low memory").

Login is timing-safe: an unknown email is verified against a dummy hash of
the same parameters, so response time does not reveal which emails exist.
The dummy is made of random bytes in argon2's encoding, not by hashing: one
hash needs 64 MiB, which at start-up was the node's memory peak (VmHWM 198 MB
against 137 MB resident once serving). Verifying against it costs a real hash.
"""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 10


class Passwords:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._dummy = dummy_hash(self._hasher)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password``; with no stored hash, spend the same time and say no."""
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
