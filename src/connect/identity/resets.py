"""A new password: changed by its owner (knowing the current one) or reset by mail.

Either way other logins end: a change keeps only the login making it (the user
is not thrown out of the page they are on), a reset ends every login of the
account. Both go through logins.py, which closes the sockets too.

Password resets mail a single-use, expiring token whose SHA-256 alone is
stored. Asking for one always answers the same, at once: the lookup, the
token and the mail happen in a background task, so neither the answer nor
its timing says whether an account exists.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import structlog

from connect.clock import Clock, utc_now
from connect.errors import ConnectError
from connect.identity.logins import Logins, token_hash
from connect.identity.mail import Mailer, reset_message
from connect.identity.passwords import Passwords
from connect.identity.store import AccountStore, PasswordResetStore
from connect.storage.models import Account, PasswordReset

log = structlog.get_logger(__name__)

# Expired reset tokens are kept this long (for nothing but a support question), then purged.
RESET_KEEP = timedelta(days=1)


class PasswordResets:
    def __init__(
        self,
        *,
        accounts: AccountStore,
        passwords: Passwords,
        logins: Logins,
        clock: Clock,
        resets: PasswordResetStore | None = None,
        mailer: Mailer | None = None,
        reset_ttl_s: int = 1800,
        web_origin: str = "http://127.0.0.1:8000",
        mail_from: str = "Connect <noreply@localhost>",
    ) -> None:
        self._accounts = accounts
        self._passwords = passwords
        self._logins = logins
        self._clock = clock
        self._resets = resets
        self._mailer = mailer
        self._reset_ttl_s = reset_ttl_s
        self._web_origin = web_origin
        self._mail_from = mail_from
        self._background: set[asyncio.Task[None]] = set()

    async def change(self, account: Account, keep: str | None, current: str, new: str) -> None:
        """Set a new password; every login of the account but ``keep`` ends.

        ``keep`` is the login making the change (a token without ``fam`` keeps none).
        """
        if not await self._passwords.verify(account.password_hash, current):
            raise ConnectError("wrong_password", "the current password is wrong", status=403)
        await self._accounts.set_password(account.id, await self._passwords.hash(new))
        await self._logins.revoke_all(account.id, keep=keep)
        if self._resets is not None:
            await self._resets.invalidate(account.id, utc_now(self._clock))
        await self._logins.end_sockets(account.id, keep=keep, reason="password changed")

    @property
    def can_mail(self) -> bool:
        return self._mailer is not None and self._resets is not None

    def request(self, email: str) -> None:
        """Start a reset for ``email`` in the background; never says whether it exists."""
        if not self.can_mail:
            raise ConnectError(
                "mail_not_configured",
                "password reset by mail is not available on this server; ask an administrator",
                status=503,
            )
        self._spawn(self._send(email.strip().lower()))

    async def _send(self, email: str) -> None:
        assert self._resets is not None
        assert self._mailer is not None
        account = await self._accounts.by_email(email)
        if account is None or account.disabled:
            return
        token = secrets.token_urlsafe(32)
        now = utc_now(self._clock)
        await self._resets.replace(
            PasswordReset(
                id=uuid.uuid4().hex,
                account_id=account.id,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + timedelta(seconds=self._reset_ttl_s),
                used_at=None,
            )
        )
        link = f"{self._web_origin}/#/contacts/reset/{token}"
        await self._mailer.send(
            reset_message(
                sender=self._mail_from,
                to=account.email,
                link=link,
                valid_minutes=self._reset_ttl_s // 60,
            )
        )
        log.info("password_reset_mailed")
        await self._resets.purge(now - RESET_KEEP)

    async def confirm(self, token: str, new_password: str) -> None:
        """Spend a reset token: set the password and end every login of the account."""
        invalid = ConnectError(
            "invalid_reset_token", "this reset link is invalid, used or expired", status=400
        )
        if self._resets is None:
            raise invalid
        account_id = await self._resets.consume(token_hash(token), utc_now(self._clock))
        if account_id is None:
            raise invalid
        account = await self._accounts.by_id(account_id)
        if account is None or account.disabled:
            raise invalid
        await self._accounts.set_password(account.id, await self._passwords.hash(new_password))
        await self._logins.end_every_login(account.id, "password reset")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The error's type only: the message may carry the address or the server's reply.
            log.warning("password_reset_mail_failed", error=type(exc).__name__)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Let mails being sent finish (shutdown), then give up on the rest."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout_s)
