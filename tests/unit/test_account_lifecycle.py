"""Account lifecycle rules on a fake clock: reset tokens expire and are single-use, logins
(families) end their access tokens, the mail transport follows the settings."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.identity.mail import OutboxMailer, SmtpMailer, build_mailer, reset_message
from connect.moderation.audit import Actor
from connect.services import Services
from connect.settings import Settings

PASSWORD = "correct horse battery"
STRONG = {
    "jwt_secret": "j" * 40,
    "turn_secret": "t" * 40,
    "ip_hash_salt": "s" * 40,
    "captcha_secret": "c" * 40,
}


async def _mailed_token(svc: Services, address: str) -> str:
    svc.accounts.request_reset(address)
    await svc.accounts.drain()
    outbox = svc.settings.data_dir / "outbox"
    mails = sorted(outbox.glob("*.eml"))
    assert mails, "a mail in the dev outbox"
    message = email.message_from_bytes(mails[-1].read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(r"#/contacts/reset/([A-Za-z0-9_-]+)", body.get_content())
    assert match is not None
    return match.group(1)


async def test_reset_token_expires_on_the_clock(svc: Services, clock: FakeClock) -> None:
    await svc.accounts.create("a@example.test", PASSWORD, "A")
    token = await _mailed_token(svc, "a@example.test")
    clock.advance(svc.settings.password_reset_ttl_s)
    with pytest.raises(ConnectError) as exc:
        await svc.accounts.confirm_reset(token, "a new password!")
    assert exc.value.code == "invalid_reset_token"
    await svc.accounts.login("a@example.test", PASSWORD)  # unchanged

    token = await _mailed_token(svc, "a@example.test")
    clock.advance(svc.settings.password_reset_ttl_s - 1)
    await svc.accounts.confirm_reset(token, "a new password!")
    await svc.accounts.login("a@example.test", "a new password!")
    with pytest.raises(ConnectError):
        await svc.accounts.confirm_reset(token, "yet another one")


async def test_no_mail_for_unknown_or_disabled_accounts(svc: Services) -> None:
    account = await svc.accounts.create("b@example.test", PASSWORD, "B")
    svc.accounts.request_reset("nobody@example.test")
    await svc.accounts.drain()
    assert not (svc.settings.data_dir / "outbox").exists()
    await svc.accounts.change_standing(await _an_admin(svc), account.id, role=None, disabled=True)
    svc.accounts.request_reset("b@example.test")
    await svc.accounts.drain()
    assert not (svc.settings.data_dir / "outbox").exists()


async def _an_admin(svc: Services) -> Actor:
    admin = await svc.accounts.create("root@example.test", PASSWORD, "Root", "admin")
    return Actor(admin.id, admin.role)


async def test_a_password_change_voids_outstanding_reset_links(svc: Services) -> None:
    await svc.accounts.create("c@example.test", PASSWORD, "C")
    token = await _mailed_token(svc, "c@example.test")
    pair = await svc.accounts.login("c@example.test", PASSWORD)
    principal = svc.tokens.verify(pair.access_token)
    await svc.accounts.change_password(principal, PASSWORD, "changed password")
    with pytest.raises(ConnectError) as exc:
        await svc.accounts.confirm_reset(token, "reset password!")
    assert exc.value.code == "invalid_reset_token"


async def test_access_tokens_name_their_login_and_die_with_it(svc: Services) -> None:
    await svc.accounts.create("d@example.test", PASSWORD, "D")
    one = await svc.accounts.login("d@example.test", PASSWORD)
    two = await svc.accounts.login("d@example.test", PASSWORD)
    p1, p2 = svc.tokens.verify(one.access_token), svc.tokens.verify(two.access_token)
    assert p1.family is not None
    assert p2.family is not None
    assert p1.family != p2.family
    rotated = await svc.accounts.refresh(one.refresh_token)
    p1b = svc.tokens.verify(rotated.access_token)
    assert p1b.family == p1.family, "a refresh stays in its login"
    await svc.accounts.logout(rotated.refresh_token)
    for gone in (p1, p1b):
        with pytest.raises(ConnectError) as exc:
            await svc.accounts.authorize(gone, ("user",))
        assert exc.value.status == 401
    await svc.accounts.authorize(p2, ("user",))


def test_mail_transport_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(build_mailer(None, "dev", tmp_path), OutboxMailer)
    assert build_mailer(None, "prod", tmp_path) is None
    smtp = build_mailer("smtps://us%40er:p%3Ass@mail.example.test", "prod", tmp_path)
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.host, smtp.port, smtp.use_tls) == ("mail.example.test", 465, True)
    assert (smtp.username, smtp.password) == ("us@er", "p:ss")
    plain = SmtpMailer("smtp://127.0.0.1:2525")
    assert (plain.port, plain.use_tls, plain.username) == (2525, False, None)
    with pytest.raises(ValueError, match="smtp"):
        SmtpMailer("http://mail.example.test")


def test_mail_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="CONNECT_SMTP_URL"):
        Settings(_env_file=None, smtp_url="mail.example.test:25")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="CONNECT_PUBLIC_URL"):
        Settings(_env_file=None, public_url="connect.example.test")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="CONNECT_PUBLIC_URL must be set"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, env="prod", smtp_url="smtp://mail.example.test", **STRONG
        )
    prod = Settings(_env_file=None, env="prod", **STRONG)  # type: ignore[call-arg]
    assert prod.smtp_url is None, "prod without SMTP still starts (resets answer 503)"
    dev = Settings(_env_file=None, public_url="https://c.example.test/")  # type: ignore[call-arg]
    assert dev.web_origin == "https://c.example.test"


def test_reset_mail_carries_the_link_and_the_validity() -> None:
    message = reset_message(
        sender="Connect <noreply@c.example.test>",
        to="x@example.test",
        link="https://c.example.test/#/contacts/reset/TOKEN" + "x" * 60,
        valid_minutes=30,
    )
    raw = message.as_string()
    assert "\nhttps://c.example.test/#/contacts/reset/TOKEN" + "x" * 60 + "\n" in raw
    assert "30 minutes" in raw
    assert message["Message-ID"].endswith("@c.example.test>")
