"""Automatic defences: auto-suspension, report-spam flags, and CAPTCHA on abuse signals.

Signals and what they trigger:

* **Reports from several people.** When ``autosuspend_reporters`` distinct
  reporters report one device within ``autosuspend_window_s``, the device is
  suspended (an automatic, temporary device ban) until a moderator reviews
  it. Distinct reporters, not reports, so one angry visitor cannot suspend
  anyone.
* **Report spam.** A device that files ``report_spam_per_hour`` reports in an
  hour is flagged for moderators and must solve a CAPTCHA before matching
  again.
* **Rapid Next streaks.** Only skips of sessions shorter than
  ``next_streak_short_s`` count, and only ``next_streak_count`` of them within
  ``next_streak_window_s`` trigger a CAPTCHA — a person who looks at each
  stranger for a few seconds never gets there; a bot cycling through
  partners does.
* **Token churn.** ``token_churn_devices`` distinct device ids minted from one
  IP hash within ``token_churn_window_s`` means someone is minting
  identities; every device on that IP hash must then solve a CAPTCHA.

The CAPTCHA is ALTCHA's self-hosted proof of work: the server signs a
challenge (HMAC) whose answer is a counter the browser must find by hashing;
verification is one hash. A solved challenge lets the device through for
``captcha_pass_s``. The challenge state is in memory per node.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import deque
from datetime import timedelta
from typing import Any

import altcha
import structlog

from connect.clock import Clock, utc_now
from connect.errors import ConnectError
from connect.moderation.audit import SYSTEM
from connect.moderation.ban_reasons import automatic_reason
from connect.moderation.bans import BanService, ban_target
from connect.moderation.store import FlagStore, ReportStore
from connect.observability.metrics import Metrics
from connect.settings import Settings
from connect.storage.models import Flag, Report

log = structlog.get_logger(__name__)


class CaptchaRequired(ConnectError):
    def __init__(self, challenge: dict[str, Any]) -> None:
        super().__init__("captcha_required", "solve the verification challenge first", status=403)
        self.challenge = challenge


class AbuseGuard:
    def __init__(
        self,
        *,
        settings: Settings,
        reports: ReportStore,
        flags: FlagStore,
        bans: BanService,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._s = settings
        self._reports = reports
        self._flags = flags
        self._bans = bans
        self._clock = clock
        self._metrics = metrics
        self._short_skips: dict[str, deque[float]] = {}
        self._tokens_by_ip: dict[str, dict[str, float]] = {}
        self._required: dict[str, str] = {}
        self._passed: dict[str, float] = {}

    # -- signals ---------------------------------------------------------------

    async def report_filed(self, report: Report) -> None:
        now = utc_now(self._clock)
        since = now - timedelta(seconds=self._s.autosuspend_window_s)
        reporters = await self._reports.distinct_reporters(report.reported_subject, since)
        scope, bare = ban_target(report.reported_subject)
        if reporters >= self._s.autosuspend_reporters and scope == "device":
            active = await self._bans.active_for(device_id=bare)
            if active is None:
                self._metrics.abuse_signals.labels("auto_suspend").inc()
                await self._bans.ban(
                    SYSTEM,
                    "device",
                    bare,
                    reason=automatic_reason("auto_reported", reporters=reporters),
                    duration_hours=self._s.autosuspend_hours,
                    report_id=report.id,
                    automatic=True,
                )
        filed = await self._reports.filed_by(report.reporter_subject, now - timedelta(hours=1))
        if filed == self._s.report_spam_per_hour:
            self._metrics.abuse_signals.labels("report_spam").inc()
            await self._flags.add(
                Flag(
                    id=uuid.uuid4().hex,
                    subject=report.reporter_subject,
                    kind="report_spam",
                    detail=f"{filed} reports within an hour",
                    created_at=now,
                )
            )
            self.require(f"subject:{report.reporter_subject}", "report_spam")

    def session_skipped(self, device_id: str, session_age_s: float) -> None:
        if session_age_s >= self._s.next_streak_short_s:
            return
        now = self._clock.monotonic()
        window = self._short_skips.setdefault(device_id, deque())
        window.append(now)
        while window and window[0] < now - self._s.next_streak_window_s:
            window.popleft()
        if len(window) >= self._s.next_streak_count:
            window.clear()
            self._metrics.abuse_signals.labels("next_streak").inc()
            self.require(f"subject:{device_id}", "next_streak")

    async def token_issued(self, ip_hash: str, device_id: str) -> None:
        now = self._clock.monotonic()
        seen = self._tokens_by_ip.setdefault(ip_hash, {})
        # Kept in order of last request (re-inserted at the end), so the expired
        # ones are at the front and leave in O(1) each, however many devices.
        seen.pop(device_id, None)
        seen[device_id] = now
        horizon = now - self._s.token_churn_window_s
        oldest = next(iter(seen))
        while seen[oldest] < horizon:
            del seen[oldest]
            oldest = next(iter(seen))
        if len(seen) >= self._s.token_churn_devices and f"ip:{ip_hash}" not in self._required:
            self._metrics.abuse_signals.labels("token_churn").inc()
            self.require(f"ip:{ip_hash}", "token_churn")

    def require(self, key: str, signal: str) -> None:
        log.info("captcha_required", key_kind=key.split(":", 1)[0], signal=signal)
        self._required[key] = signal

    # -- the gate ----------------------------------------------------------------

    def check(self, device_id: str, ip_hash: str) -> None:
        """Raise :class:`CaptchaRequired`, with a fresh challenge, if a CAPTCHA is demanded."""
        if self._passed.get(device_id, 0.0) > self._clock.monotonic():
            return
        if f"subject:{device_id}" in self._required or f"ip:{ip_hash}" in self._required:
            self._metrics.captchas.labels("challenged").inc()
            raise CaptchaRequired(self.challenge())

    def challenge(self) -> dict[str, Any]:
        challenge = altcha.create_challenge(
            "SHA-256",
            1,
            counter=secrets.randbelow(self._s.captcha_max_number),
            # altcha checks expiry against the real wall clock, so it is set from it too.
            expires_at=int(time.time()) + 600,
            hmac_secret=self._s.captcha_secret,
        )
        result: dict[str, Any] = challenge.to_dict()
        return result

    def solve(self, device_id: str, payload: str) -> None:
        try:
            result = altcha.verify_solution(payload, self._s.captcha_secret)
        except Exception as exc:
            self._metrics.captchas.labels("invalid").inc()
            raise ConnectError("captcha_invalid", "the verification payload is malformed") from exc
        if not result.verified:
            self._metrics.captchas.labels("failed").inc()
            raise ConnectError(
                "captcha_invalid", "verification failed" + (" (expired)" if result.expired else "")
            )
        self._metrics.captchas.labels("solved").inc()
        self._required.pop(f"subject:{device_id}", None)
        self._passed[device_id] = self._clock.monotonic() + self._s.captcha_pass_s

    def prune(self) -> None:
        now = self._clock.monotonic()
        for dev in [d for d, until in self._passed.items() if until <= now]:
            del self._passed[dev]
        for dev in [
            d
            for d, w in self._short_skips.items()
            if not w or w[-1] < now - self._s.next_streak_window_s
        ]:
            del self._short_skips[dev]
        for ip in [
            i
            for i, seen in self._tokens_by_ip.items()
            if max(seen.values(), default=0) < now - self._s.token_churn_window_s
        ]:
            del self._tokens_by_ip[ip]
