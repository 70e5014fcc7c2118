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
    assert translated == set(CONTACT_REASONS)
