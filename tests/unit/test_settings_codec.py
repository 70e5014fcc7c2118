"""Settings validation and the frame codec."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, cast

import pytest
from pydantic import ValidationError

from connect.gateway import codec
from connect.gateway.link import Item, Link, Pending
from connect.settings import DEV_JWT_SECRET, Settings

STRONG = {
    "jwt_secret": "j" * 40,
    "turn_secret": "t" * 40,
    "ip_hash_salt": "i" * 40,
    "captcha_secret": "c" * 40,
}


def test_dev_runs_with_defaults() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.env == "dev"
    assert s.jwt_secret == DEV_JWT_SECRET
    assert s.sqlalchemy_url.startswith("sqlite+aiosqlite:///")


def test_prod_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="CONNECT_JWT_SECRET must be set"):
        Settings(_env_file=None, env="prod")  # type: ignore[call-arg]


def test_prod_refuses_short_and_reused_secrets() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, env="prod", **{**STRONG, "turn_secret": "short"})  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="must all differ"):
        Settings(_env_file=None, env="prod", **{**STRONG, "turn_secret": "j" * 40})  # type: ignore[call-arg]
    assert Settings(_env_file=None, env="prod", **STRONG).env == "prod"  # type: ignore[call-arg]


def test_urls_are_parsed_from_comma_lists_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECT_TURN_URLS", "turn:a:3478, turns:b:5349")
    monkeypatch.setenv("CONNECT_STUN_URLS", "stun:a:3478")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.turn_urls == ["turn:a:3478", "turns:b:5349"]
    assert s.stun_urls == ["stun:a:3478"]
    monkeypatch.setenv("CONNECT_TURN_URLS", "http://nope")
    with pytest.raises(ValidationError, match="turn: or turns:"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_codec_roundtrip_and_refusals() -> None:
    frame = codec.decode('{"event":"next","id":7}')
    assert (frame.event, frame.data, frame.id) == ("next", {}, 7)
    assert codec.ack(7, {"queued": True}) == '{"ack":7,"ok":true,"queued":true}'
    assert codec.event("pong", {}) == '{"event":"pong","data":{}}'
    for raw, code in [
        ("x", "invalid_json"),
        ("1", "invalid_frame"),
        ('{"event":"a","id":-1}', "invalid_frame"),
        ('{"event":"a","id":true}', "invalid_frame"),
        ('{"event":""}', "invalid_frame"),
    ]:
        with pytest.raises(codec.FrameError) as exc:
            codec.decode(raw)
        assert exc.value.code == code


def test_env_example_documents_every_setting() -> None:
    from pathlib import Path

    example = Path(__file__).parents[2] / ".env.example"
    documented = {
        line.split("=", 1)[0].removeprefix("CONNECT_").lower()
        for line in example.read_text().splitlines()
        if line.startswith("CONNECT_")
    }
    assert documented == set(Settings.model_fields)


async def test_link_hands_over_frames_in_order_then_the_close_code() -> None:
    overflowed: list[int] = []
    link = Link(max_pending=3, overflow=lambda: overflowed.append(1))
    waiting = asyncio.ensure_future(link.next())
    link.received("a")
    assert await waiting == "a"
    for item in ("b", b"c", "d"):
        link.received(item)
    link.received("dropped: more than three waiting")
    link.received("dropped too")
    assert overflowed == [1]
    link.received(1001)
    link.received("after the end")
    assert [await link.next() for _ in range(4)] == ["b", b"c", "d", 1001]
    assert link.drained


def _park(link: Link) -> Coroutine[Any, Any, Item]:
    """Run ``link.next()`` up to where it waits, as the frame loop does."""
    step = link.next()
    step.send(None)
    return step


def _resume(step: Coroutine[Any, Any, Item]) -> Item:
    try:
        step.send(None)
    except StopIteration as stop:
        return cast(Item, stop.value)
    raise AssertionError("the link is still waiting")


async def test_link_hands_frames_to_the_direct_path_only_when_nothing_is_ahead() -> None:
    link = Link(max_pending=8, overflow=lambda: None)
    direct_saw: list[str] = []
    ran: list[str] = []

    async def slow_rest() -> None:
        ran.append("slow")

    def direct(text: str) -> Pending | None:
        direct_saw.append(text)
        return slow_rest if text == "slow" else None

    link.handle_directly(direct)
    # Nobody waits yet: the frame is queued for the loop, not handled in the callback.
    link.received("early")
    assert direct_saw == []
    assert await link.next() == "early"

    step = _park(link)
    link.received("fast")
    assert direct_saw == ["fast"]
    link.received("slow")  # the direct path leaves work: it goes to the loop...
    link.received("behind")  # ...and a frame arriving behind it queues raw, in order
    assert direct_saw == ["fast", "slow"]
    pending = _resume(step)
    assert callable(pending)
    await pending()
    assert ran == ["slow"]
    assert await link.next() == "behind"
    link.received(1000)
    assert await link.next() == 1000
    assert link.drained


async def test_a_cancelled_loop_leaves_no_waiter_for_the_direct_path() -> None:
    link = Link(max_pending=8, overflow=lambda: None)
    seen: list[str] = []

    def direct(text: str) -> None:
        seen.append(text)

    link.handle_directly(direct)
    step = _park(link)
    with pytest.raises(asyncio.CancelledError):
        step.throw(asyncio.CancelledError())
    link.received("after the loop is gone")
    assert seen == []
    assert await link.next() == "after the loop is gone"


def test_frames_carrying_nul_are_refused_and_look_alikes_are_not() -> None:
    with pytest.raises(codec.FrameError) as refused:
        codec.decode('{"event":"send-message","data":{"text":"a\\u0000b"}}')
    assert refused.value.code == "invalid_frame"
    looks_like = codec.decode('{"event":"send-message","data":{"text":"a\\\\u0000b"}}')
    assert looks_like.data["text"] == "a\\u0000b"
