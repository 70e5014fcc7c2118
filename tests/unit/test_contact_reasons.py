"""Every contacts refusal reason is documented in the wire contract and translated by the
web app, and its code and English sentence come from one table."""

from __future__ import annotations

import re
from pathlib import Path

from connect.contacts import reasons
from connect.contacts.reasons import CONTACT_REASONS, refused

ROOT = Path(__file__).parents[2]


def test_every_reason_has_one_code_and_its_english_sentence() -> None:
    assert set(reasons._CODES) == set(CONTACT_REASONS)
    exc = refused("call_over", action="hangup", status="ended")
    assert (exc.code, exc.status, exc.reason) == ("invalid_call_state", 409, "call_over")
    assert exc.params == {"action": "hangup", "status": "ended"}
    assert exc.message == "cannot hangup a call that is ended"
    assert exc.body()["error"]["params"] == {"action": "hangup", "status": "ended"}


def test_every_reason_is_in_the_protocol_and_the_web_catalogue() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    table = protocol.split("**Refusal reasons (ext).**", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"^\|[^|]*\| `(\w+)`", table, re.M))
    assert documented == set(CONTACT_REASONS)
    catalogue = (ROOT / "web" / "src" / "i18n" / "contacts" / "en.ts").read_text()
    translated = set(re.findall(r"'messenger\.err\.reason\.(\w+)'", catalogue))
    assert translated == set(CONTACT_REASONS) | {"avatar_not_found", "login_not_found"}


def test_identity_reasons_are_documented_and_translated() -> None:
    """The account routes' not_found reasons: in the contract's Conventions, the two the
    contacts app shows in its catalogue, the dashboard's in the admin catalogue."""
    from connect.identity.reasons import IDENTITY_REASONS, missing

    exc = missing("login_not_found")
    assert (exc.code, exc.status, exc.reason, exc.params) == (
        "not_found",
        404,
        "login_not_found",
        {},
    )
    assert exc.message == "no such session"
    conventions = (ROOT / "docs" / "protocol.md").read_text().split("## REST", 1)[0]
    for reason in IDENTITY_REASONS:
        assert f"`{reason}`" in conventions
    web = ROOT / "web" / "src" / "i18n"
    contacts = set(
        re.findall(r"'messenger\.err\.reason\.(\w+)'", (web / "contacts" / "en.ts").read_text())
    )
    admin = set(
        re.findall(r"'admin\.errors\.reason\.(\w+)'", (web / "admin" / "en.ts").read_text())
    )
    assert {"avatar_not_found", "login_not_found"} <= contacts
    assert "account_not_found" in admin
