"""Moderation rules on a fake clock: ban expiry, auto-suspension, report spam, CAPTCHA signals,
the audit chain, refresh-token families, and rate-limit rules."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import altcha
import pytest

from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.moderation.abuse import CaptchaRequired
from connect.moderation.audit import SYSTEM, Actor
from connect.moderation.bans import BannedError
from connect.ratelimit import MemoryRateLimiter, RateLimiter, Rule, SharedRateLimiter
from connect.services import Services
from connect.storage.models import Report
from connect.storage.redis import connect as connect_redis
from connect.storage.redis import limits_storage

MOD = Actor("mod-1", "moderator")


async def test_temporary_ban_expires_on_the_clock(svc: Services, clock: FakeClock) -> None:
    await svc.bans.ban(MOD, "device", "devA", reason="r", duration_hours=2)
    with pytest.raises(BannedError) as exc:
        await svc.bans.refuse_if_banned(device_id="devA")
    assert exc.value.payload["until"] is not None
    clock.advance(2 * 3600 - 1)
    assert await svc.bans.active_for(device_id="devA") is not None
    clock.advance(1)
    assert await svc.bans.active_for(device_id="devA") is None
    await svc.bans.refuse_if_banned(device_id="devA")


async def test_permanent_ban_until_lifted_and_ip_scope(svc: Services, clock: FakeClock) -> None:
    ban = await svc.bans.ban(MOD, "ip", "hash1", reason="r", duration_hours=None)
    clock.advance(10 * 365 * 86400)
    assert await svc.bans.active_for(device_id="anyone", ip_hash="hash1") is not None
    await svc.bans.lift(MOD, ban.id)
    assert await svc.bans.active_for(ip_hash="hash1") is None
    with pytest.raises(ConnectError) as exc:
        await svc.bans.lift(MOD, ban.id)
    assert exc.value.code == "already_lifted"


def _report(svc: Services, clock: FakeClock, reporter: str, reported: str) -> Report:
    return Report(
        id=uuid.uuid4().hex,
        session_id=uuid.uuid4().hex,
        reporter_subject=reporter,
        reporter_ip_hash="r-" + reporter,
        reported_subject=reported,
        reported_kind="guest",
        reported_ip_hash="ip-" + reported,
        reason="spam",
        status="pending",
        session_mode="video",
        session_started_at=datetime.fromtimestamp(clock.now(), UTC),
        common_interests=[],
        created_at=datetime.fromtimestamp(clock.now(), UTC),
    )


async def _file(svc: Services, clock: FakeClock, reporter: str, reported: str) -> None:
    from connect.moderation.store import ReportStore

    report = _report(svc, clock, reporter, reported)
    await ReportStore(svc.db).add(report)
    await svc.abuse.report_filed(report)


async def test_auto_suspend_needs_distinct_reporters_within_the_window(
    svc: Services, clock: FakeClock
) -> None:
    for _ in range(5):
        await _file(svc, clock, "same-reporter", "target")
        await _file(svc, clock, "same-reporter", "target")
    assert await svc.bans.active_for(device_id="target") is None, "one angry reporter is not enough"
    await _file(svc, clock, "second", "target")
    clock.advance(3601)
    await _file(svc, clock, "third", "target")
    assert await svc.bans.active_for(device_id="target") is None, (
        "reports outside the window do not add up"
    )
    await _file(svc, clock, "fourth", "target")
    await _file(svc, clock, "fifth", "target")
    ban = await svc.bans.active_for(device_id="target")
    assert ban is not None
    assert ban.automatic
    assert ban.created_by == "system"


async def test_report_spam_flags_the_reporter_and_demands_captcha(
    svc: Services, clock: FakeClock
) -> None:
    for i in range(2):
        await _file(svc, clock, "spammer", f"victim{i}")
    svc.abuse.check("spammer", "ip-x")
    await _file(svc, clock, "spammer", "victim2")
    flags = await svc.flags.about("spammer")
    assert [f.kind for f in flags] == ["report_spam"]
    with pytest.raises(CaptchaRequired):
        svc.abuse.check("spammer", "ip-x")


async def test_fast_skipper_passes_but_a_bot_streak_needs_captcha(
    svc: Services, clock: FakeClock
) -> None:
    for _ in range(30):
        svc.abuse.session_skipped("human", session_age_s=4.0)
        clock.advance(5)
    svc.abuse.check("human", "ip-h")
    for _ in range(4):
        svc.abuse.session_skipped("bot", session_age_s=0.5)
        clock.advance(1)
    svc.abuse.check("bot", "ip-b")
    svc.abuse.session_skipped("bot", session_age_s=0.5)
    with pytest.raises(CaptchaRequired) as exc:
        svc.abuse.check("bot", "ip-b")
    challenge = altcha.Challenge.from_dict(exc.value.challenge)
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    with pytest.raises(ConnectError):
        svc.abuse.solve("bot", "bm90IGEgcGF5bG9hZA==")
    svc.abuse.solve("bot", altcha.Payload(challenge, solution).to_base64())
    svc.abuse.check("bot", "ip-b")


async def test_token_churn_on_one_ip_demands_captcha_of_its_devices(svc: Services) -> None:
    for i in range(3):
        await svc.abuse.token_issued("ip-churn", f"dev{i}")
    svc.abuse.check("dev0", "ip-churn")
    await svc.abuse.token_issued("ip-churn", "dev3")
    with pytest.raises(CaptchaRequired):
        svc.abuse.check("dev0", "ip-churn")
    svc.abuse.check("elsewhere", "ip-other")


async def test_token_churn_counts_only_devices_inside_the_window(
    svc: Services, clock: FakeClock
) -> None:
    window = svc.settings.token_churn_window_s
    for i in range(3):
        await svc.abuse.token_issued("ip-slow", f"old{i}")
        clock.advance(1)
    await svc.abuse.token_issued("ip-slow", "old0")  # a repeat refreshes, does not add
    clock.advance(window - 0.5)
    await svc.abuse.token_issued("ip-slow", "new0")  # old1 and old2 have left the window
    await svc.abuse.token_issued("ip-slow", "new1")
    svc.abuse.check("new0", "ip-slow")
    await svc.abuse.token_issued("ip-slow", "new2")  # old0, new0, new1, new2: four
    with pytest.raises(CaptchaRequired):
        svc.abuse.check("new0", "ip-slow")


async def test_audit_chain_verifies_and_names_the_first_tampered_row(
    svc: Services, clock: FakeClock
) -> None:
    for i in range(5):
        await svc.audit.append(MOD if i % 2 else SYSTEM, "ban.create", "ban", f"b{i}", {"i": i})
        clock.advance(1)
    check = await svc.audit.verify()
    assert (check.ok, check.checked, check.first_broken_seq) == (True, 5, None)
    db = sqlite3.connect(svc.settings.data_dir / "connect.db")
    db.execute("UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 3")
    db.commit()
    check = await svc.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 3)
    assert check.problem is not None
    db.execute("UPDATE audit_log SET actor_id = 'system' WHERE seq = 3")
    db.execute("DELETE FROM audit_log WHERE seq = 4")
    db.commit()
    db.close()
    check = await svc.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 5)


async def test_refresh_token_reuse_revokes_the_family(svc: Services, clock: FakeClock) -> None:
    await svc.accounts.create("a@example.test", "correct horse battery", "A", "moderator")
    first = await svc.accounts.login("a@example.test", "correct horse battery")
    second = await svc.accounts.refresh(first.refresh_token)
    third = await svc.accounts.refresh(second.refresh_token)
    with pytest.raises(ConnectError) as exc:
        await svc.accounts.refresh(first.refresh_token)
    assert exc.value.code == "refresh_reused"
    with pytest.raises(ConnectError):
        await svc.accounts.refresh(third.refresh_token)
    other = await svc.accounts.login("a@example.test", "correct horse battery")
    assert (await svc.accounts.refresh(other.refresh_token)).access_token


async def test_refresh_tokens_expire(svc: Services, clock: FakeClock) -> None:
    await svc.accounts.create("b@example.test", "correct horse battery", "B")
    pair = await svc.accounts.login("b@example.test", "correct horse battery")
    clock.advance(svc.settings.refresh_token_ttl_s + 1)
    with pytest.raises(ConnectError) as exc:
        await svc.accounts.refresh(pair.refresh_token)
    assert exc.value.status == 401


async def test_access_token_role_is_checked_against_the_account(svc: Services) -> None:
    account = await svc.accounts.create("u@example.test", "correct horse battery", "U", "user")
    pair = await svc.accounts.login("u@example.test", "correct horse battery")
    principal = svc.tokens.verify(pair.access_token)
    with pytest.raises(ConnectError) as exc:
        await svc.accounts.authorize(principal, ("moderator", "admin"))
    assert exc.value.status == 403
    assert (await svc.accounts.authorize(principal, ("user",))).id == account.id


@pytest.fixture(params=["memory", "shared"])
async def limiter(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[RateLimiter]:
    """The one-node limiter on the fake clock, and the shared one on a real Redis."""
    if request.param == "memory":
        yield MemoryRateLimiter(clock)
        return
    url = request.getfixturevalue("redis_url")
    client = connect_redis(url)
    await client.flushdb()
    yield SharedRateLimiter(limits_storage(url, client))
    await client.aclose()


async def test_rate_limit_rule_refuses_over_the_limit_with_retry_after(
    limiter: RateLimiter,
) -> None:
    rule = Rule.parse("test", "3/minute;5/hour")
    for _ in range(3):
        await limiter.hit(rule, "k")
    with pytest.raises(ConnectError) as exc:
        await limiter.hit(rule, "k")
    assert exc.value.code == "rate_limited"
    assert exc.value.retry_after_ms is not None
    assert 0 < exc.value.retry_after_ms <= 60_000
    await limiter.hit(rule, "other-key")


async def test_memory_limits_refill_on_the_clock_and_idle_keys_are_forgotten(
    clock: FakeClock,
) -> None:
    limiter = MemoryRateLimiter(clock)
    rule = Rule.parse("join", "2/minute;3/hour")
    await limiter.hit(rule, "a")
    await limiter.hit(rule, "a")
    with pytest.raises(ConnectError):
        await limiter.hit(rule, "a")
    clock.advance(30)  # one token back in the minute bucket; the hour bucket holds one more
    await limiter.hit(rule, "a")
    with pytest.raises(ConnectError) as exc:
        await limiter.hit(rule, "a")
    assert exc.value.retry_after_ms is not None
    assert exc.value.retry_after_ms > 60_000, "the hour's bucket is the one that is empty"
    await limiter.hit(rule, "b")
    assert limiter.prune() == 0, "both keys still hold spent tokens"
    clock.advance(3600)
    assert limiter.prune() == 2
    assert limiter.prune() == 0


async def test_a_cached_clear_answer_never_outlives_a_new_ban(svc: Services) -> None:
    await svc.bans.refuse_if_banned(device_id="devZ", ip_hash="ipZ")
    await svc.bans.refuse_if_banned(device_id="devZ", ip_hash="ipZ")
    await svc.bans.ban(MOD, "device", "devZ", reason="r", duration_hours=1)
    with pytest.raises(BannedError):
        await svc.bans.refuse_if_banned(device_id="devZ", ip_hash="ipZ")


async def test_a_lapsed_ban_index_is_reloaded_once_for_all_requests_waiting_on_it(
    svc: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await svc.bans.ban(MOD, "device", "devQ", reason="r", duration_hours=1)
    store = svc.bans._store
    loads = 0
    real = store.active_subjects

    async def counted(now: datetime) -> set[tuple[str, str]]:
        nonlocal loads
        loads += 1
        return await real(now)

    monkeypatch.setattr(store, "active_subjects", counted)
    clock.advance(60)
    results = await asyncio.gather(
        *(svc.bans.refuse_if_banned(device_id=f"dev{i}", ip_hash="ipQ") for i in range(200)),
        svc.bans.refuse_if_banned(device_id="devQ"),
        return_exceptions=True,
    )
    assert loads == 1
    assert results[:200] == [None] * 200
    assert isinstance(results[200], BannedError)
