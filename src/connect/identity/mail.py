"""Outgoing mail (password resets): SMTP in production, an outbox directory in dev.

``CONNECT_SMTP_URL`` picks the transport: ``smtp://[user:pass@]host[:port]``
(port 25 by default; STARTTLS when the server offers it) or
``smtps://[user:pass@]host[:port]`` (TLS from the first byte, port 465).
Without it, dev writes each mail as an ``.eml`` file under
``<data dir>/outbox/`` so a developer (or a test) can read the reset link
without running a mail server; prod has no mailer at all and the reset
endpoint says so (503 ``mail_not_configured``) rather than pretending to send.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

SMTP_TIMEOUT_S = 15.0


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Sends through one SMTP server given as a URL (credentials optional)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "CONNECT_SMTP_URL must look like smtp://host:port or smtps://host:port"
            )
        self.use_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=SMTP_TIMEOUT_S,
        )


class OutboxMailer:
    """Writes each mail to ``<dir>/<time>-<random>.eml`` (dev without SMTP).

    Written under a temporary name and renamed, so a reader polling the
    directory never sees half a mail.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message.as_bytes())

    def _write(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{secrets.token_hex(4)}"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.directory / f"{name}.eml")


def build_mailer(smtp_url: str | None, env: str, data_dir: Path) -> Mailer | None:
    """The mailer the settings ask for; None in prod without SMTP (resets refused)."""
    if smtp_url:
        return SmtpMailer(smtp_url)
    if env == "dev":
        return OutboxMailer(data_dir / "outbox")
    return None


def reset_message(*, sender: str, to: str, link: str, valid_minutes: int) -> EmailMessage:
    """The password-reset mail: plain text, the link on a line of its own."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Reset your Connect password"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    text = (
        "Someone (hopefully you) asked to reset the password of your Connect account.\n"
        "\n"
        f"Open this link to choose a new password (valid for {valid_minutes} minutes, once):\n"
        "\n"
        f"{link}\n"
        "\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )
    # 7bit keeps the long link on one line in the raw mail (an .eml in the dev outbox
    # reads as it is); quoted-printable would fold it.
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return message
