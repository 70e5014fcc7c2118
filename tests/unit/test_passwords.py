"""Password hashing: the login's dummy hash (same cost as a real one, matched by no
password), and hashing off the event loop in a bounded pool."""

from __future__ import annotations

import asyncio
import threading

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import VerifyMismatchError

from connect.identity.passwords import Passwords, dummy_hash


def test_dummy_hash_has_the_hashers_parameters() -> None:
    hasher = PasswordHasher()
    real = extract_parameters(hasher.hash("correct horse battery"))
    assert extract_parameters(dummy_hash(hasher)) == real
    assert dummy_hash(hasher) != dummy_hash(hasher)


def test_the_dummy_is_really_verified() -> None:
    """A malformed dummy would be refused at once (InvalidHashError): a fast "no" that
    tells an unknown email from a known one. A well-formed one costs a full hash."""
    hasher = PasswordHasher()
    with pytest.raises(VerifyMismatchError):
        hasher.verify(dummy_hash(hasher), "anything at all")


async def test_no_password_passes_for_an_unknown_account() -> None:
    passwords = Passwords()
    assert await passwords.verify(None, "anything at all") is False
    assert await passwords.verify(None, "") is False
    stored = await passwords.hash("correct horse battery")
    assert await passwords.verify(stored, "correct horse battery") is True
    assert await passwords.verify(stored, "wrong horse battery") is False


async def test_the_loop_runs_while_a_password_is_verified() -> None:
    """A login's argon2 verification (64 MiB, tens to hundreds of ms) must not freeze
    the node's sockets. A task on the loop counts turns of the loop until a verification
    returns: on the loop it would count none (the verification would hold the loop until
    it ended), off the loop with the GIL released it counts many."""
    passwords = Passwords()
    stored = await passwords.hash("correct horse battery")
    turns = 0
    done = asyncio.Event()

    async def count() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count())
    assert await passwords.verify(stored, "wrong horse battery") is False
    done.set()
    await counter
    assert turns >= 100, f"the loop turned only {turns} times during a verification"


async def test_at_most_threads_hashes_run_at_once() -> None:
    """The pool bounds hashing's memory (64 MiB each): with two threads, six logins at
    once hash two at a time, the rest wait their turn."""
    passwords = Passwords(threads=2)
    stored = await passwords.hash("correct horse battery")
    running = 0
    most = 0
    lock = threading.Lock()
    real = passwords._verify

    def counted(stored_hash: str | None, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return real(stored_hash, password)
        finally:
            with lock:
                running -= 1

    passwords._verify = counted  # type: ignore[method-assign]
    results = await asyncio.gather(*(passwords.verify(stored, f"guess {i}") for i in range(6)))
    assert results == [False] * 6
    assert most == 2
