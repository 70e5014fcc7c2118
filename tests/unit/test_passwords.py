"""The login's dummy hash: same cost as a real one, matched by no password."""

from __future__ import annotations

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


def test_no_password_passes_for_an_unknown_account() -> None:
    passwords = Passwords()
    assert passwords.verify(None, "anything at all") is False
    assert passwords.verify(None, "") is False
    stored = passwords.hash("correct horse battery")
    assert passwords.verify(stored, "correct horse battery") is True
    assert passwords.verify(stored, "wrong horse battery") is False
