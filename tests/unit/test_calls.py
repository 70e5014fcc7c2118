"""The direct-call state machine, and ring timeouts on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from connect.calls.machine import next_status
from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.gateway.connection import Connection
from connect.identity.service import Principal
from connect.ratelimit import TokenBucket
from connect.services import Services


class _Socket:
    """A socket that takes every frame: enough for the hub to hold a live place."""

    def send_text(self, text: str) -> None: ...

    def buffered(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None: ...

    def abort(self) -> None: ...


async def online(svc: Services, clock: FakeClock, account_id: str) -> None:
    """Give the account a gateway place (a callee with no place is answered callee_offline)."""
    principal = Principal(subject=account_id, kind="access", ip_hash="iph", expires_at=0.0)
    conn = Connection(_Socket(), 1 << 20, TokenBucket(30, 60, clock), "iph")
    await svc.hub.attach_new(principal, "iph", conn)


@pytest.mark.parametrize(
    ("status", "action", "role", "result"),
    [
        ("ringing", "accept", "callee", "accepted"),
        ("ringing", "reject", "callee", "rejected"),
        ("ringing", "cancel", "caller", "cancelled"),
        ("ringing", "timeout", "clock", "missed"),
        ("accepted", "hangup", "caller", "ended"),
        ("accepted", "hangup", "callee", "ended"),
    ],
)
def test_allowed_transitions(status: str, action: str, role: str, result: str) -> None:
    assert next_status(status, action, role) == result  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "action", "role", "code", "reason"),
    [
        ("ringing", "accept", "caller", "not_your_call", "call_callee_only"),
        ("ringing", "cancel", "callee", "not_your_call", "call_caller_only"),
        ("ringing", "hangup", "caller", "invalid_call_state", "call_not_answered"),
        ("accepted", "accept", "callee", "invalid_call_state", "call_already_answered"),
        ("missed", "accept", "callee", "invalid_call_state", "call_over"),
        ("ended", "hangup", "caller", "invalid_call_state", "call_over"),
        ("rejected", "reject", "callee", "invalid_call_state", "call_over"),
        ("busy", "accept", "callee", "invalid_call_state", "call_over"),
    ],
)
def test_refused_transitions(status: str, action: str, role: str, code: str, reason: str) -> None:
    """Each refusal names why (docs/protocol.md, contacts reasons), not only its code."""
    with pytest.raises(ConnectError) as exc:
        next_status(status, action, role)  # type: ignore[arg-type]
    assert (exc.value.code, exc.value.reason) == (code, reason)
    assert exc.value.params["action"] == action
    if code == "invalid_call_state":
        assert exc.value.params["status"] == status


async def test_unanswered_call_is_missed_after_the_ring_timeout(
    svc: Services, clock: FakeClock
) -> None:
    caller = await svc.accounts.create("caller@example.test", "correct horse battery", "Caller")
    callee = await svc.accounts.create("callee@example.test", "correct horse battery", "Callee")
    with pytest.raises(ConnectError) as offline:
        await svc.calls.invite(caller.id, callee.id, "video", None)
    assert offline.value.code == "callee_offline"
    await online(svc, clock, callee.id)
    call = await svc.calls.invite(caller.id, callee.id, "video", None)
    clock.advance(svc.settings.call_ring_timeout_s - 1)
    assert await svc.calls.expire_ringing() == 0
    assert (await svc.calls.get(caller.id, call.id)).status == "ringing"
    clock.advance(1)
    assert await svc.calls.expire_ringing() == 1
    missed = await svc.calls.get(callee.id, call.id)
    assert missed.status == "missed"
    assert missed.end_reason == "missed"
    with pytest.raises(ConnectError) as exc:
        await svc.calls.respond(callee.id, call.id, True, None)
    assert exc.value.code == "invalid_call_state"


async def test_busy_callee_and_self_calls(svc: Services, clock: FakeClock) -> None:
    a = await svc.accounts.create("a@example.test", "correct horse battery", "A")
    b = await svc.accounts.create("b@example.test", "correct horse battery", "B")
    c = await svc.accounts.create("c@example.test", "correct horse battery", "C")
    for user in (a, b, c):
        await online(svc, clock, user.id)
    with pytest.raises(ConnectError) as exc:
        await svc.calls.invite(a.id, a.id, "audio", None)
    assert exc.value.code == "cannot_call_self"
    await svc.calls.invite(a.id, b.id, "audio", None)
    with pytest.raises(ConnectError) as exc:
        await svc.calls.invite(c.id, b.id, "video", None)
    assert exc.value.code == "busy"
    with pytest.raises(ConnectError) as exc:
        await svc.calls.invite(a.id, c.id, "video", None)
    assert exc.value.code == "already_in_call"
    history = await svc.calls.history(c.id, 10)
    assert [h.status for h in history] == ["busy"]


async def test_cancel_and_reject_while_ringing(svc: Services, clock: FakeClock) -> None:
    a = await svc.accounts.create("a2@example.test", "correct horse battery", "A")
    b = await svc.accounts.create("b2@example.test", "correct horse battery", "B")
    await online(svc, clock, b.id)
    call = await svc.calls.invite(a.id, b.id, "video", None)
    with pytest.raises(ConnectError) as exc:
        await svc.calls.respond(a.id, call.id, True, None)
    assert exc.value.code == "not_your_call"
    cancelled = await svc.calls.end(a.id, call.id)
    assert cancelled.status == "cancelled"
    call2 = await svc.calls.invite(a.id, b.id, "video", None)
    rejected = await svc.calls.respond(b.id, call2.id, False, None)
    assert rejected.status == "rejected"
    stranger = await svc.accounts.create("s@example.test", "correct horse battery", "S")
    with pytest.raises(ConnectError) as exc:
        await svc.calls.get(stranger.id, call2.id)
    assert exc.value.status == 404


async def test_both_sides_gone_at_once_end_the_call_once(svc: Services, clock: FakeClock) -> None:
    """Caller and callee disconnect together: each one's departure tries to end the call,
    one of them finds it ended already. That is a race, not a fault: neither raises, the
    call ends once."""
    a = await svc.accounts.create("a3@example.test", "correct horse battery", "A")
    b = await svc.accounts.create("b3@example.test", "correct horse battery", "B")
    for user in (a, b):
        await online(svc, clock, user.id)
    call = await svc.calls.invite(a.id, b.id, "audio", None)
    accepted = await svc.calls.respond(b.id, call.id, True, None)
    assert accepted.status == "accepted"
    clients = [c for c in svc.hub.clients() if c.principal.subject in (a.id, b.id)]
    assert len(clients) == 2
    # Both departures read the call as accepted before either ends it: the real store's
    # reads, held until both have read (the interleaving a loaded node produces).
    store = svc.calls._store
    read = store.get
    both_read = asyncio.Barrier(2)
    reads = 0

    async def get_together(call_id: str) -> object:
        nonlocal reads
        found = await read(call_id)
        reads += 1
        if reads <= 2:
            await asyncio.wait_for(both_read.wait(), 10)
        return found

    store.get = get_together  # type: ignore[method-assign]
    await asyncio.gather(*(svc.calls.on_gone(c) for c in clients))
    store.get = read  # type: ignore[method-assign]
    history = await svc.calls.history(a.id, 10)
    assert [h.status for h in history] == ["ended"]
