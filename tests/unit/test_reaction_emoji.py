"""One emoji, one reaction: the spellings that differ only in U+FE0F become the
fully-qualified one (what the web client sends), on add and on remove."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from connect.clock import FakeClock
from connect.contacts.emoji import canonical, is_emoji
from connect.contacts.schemas import MessageIn
from connect.contacts.store import ContactStore
from connect.services import Services
from connect.storage.models import Reaction

VS16 = "\ufe0f"
THUMBS = "\U0001f44d"  # 👍 shown as emoji by default: no FE0F
HEART = "\u2764"  # ❤ shown as text by default: FE0F makes it an emoji

SPELLINGS = [
    # (as a client may send it, the fully-qualified form)
    (THUMBS, THUMBS),
    (THUMBS + VS16, THUMBS),
    (HEART, HEART + VS16),
    (HEART + VS16, HEART + VS16),
    (THUMBS + "\U0001f3fd", THUMBS + "\U0001f3fd"),  # 👍🏽
    ("\u261d" + VS16 + "\U0001f3fb", "\u261d\U0001f3fb"),  # ☝🏻: the skin tone qualifies it
    ("1\u20e3", "1" + VS16 + "\u20e3"),  # keycap 1
    ("1" + VS16 + "\u20e3", "1" + VS16 + "\u20e3"),
    ("\U0001f3f3\u200d\U0001f308", "\U0001f3f3" + VS16 + "\u200d\U0001f308"),  # 🏳️‍🌈
    ("\U0001f441\u200d\U0001f5e8", "\U0001f441" + VS16 + "\u200d\U0001f5e8" + VS16),  # 👁️‍🗨️
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f468\u200d\U0001f469\u200d\U0001f467"),
    ("\U0001f1e9\U0001f1ea", "\U0001f1e9\U0001f1ea"),  # 🇩🇪
    (
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    ),  # 🏴 Scotland
    # The web client's quick row, as it sends it: already canonical.
    *[(e, e) for e in ["👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "🔥", "👏", "😍", "🤔", "👎"]],
]


@pytest.mark.parametrize(("sent", "stored"), SPELLINGS)
def test_every_spelling_becomes_the_fully_qualified_one(sent: str, stored: str) -> None:
    assert is_emoji(sent)
    assert canonical(sent) == stored
    assert canonical(stored) == stored
    assert is_emoji(stored)


async def _message(svc: Services) -> tuple[str, str, str, str]:
    ann = await svc.accounts.create("ann@example.test", "correct horse battery", "Ann")
    bob = await svc.accounts.create("bob@example.test", "correct horse battery", "Bob")
    channel = await svc.contacts.open_channel(ann.id, bob.id)
    message, _ = await svc.contacts.send(
        ann.id, channel.id, MessageIn(text="react to me", client_id="c1")
    )
    return ann.id, bob.id, channel.id, message.id


async def _reactions(svc: Services, me: str, channel_id: str) -> dict[str, set[str]]:
    (view,) = (await svc.contacts.history(me, channel_id, 0, 10)).messages
    return {r.emoji: set(r.user_ids) for r in view.reactions}


async def test_both_spellings_are_one_reaction_and_either_removes_it(svc: Services) -> None:
    ann, bob, cid, mid = await _message(svc)
    await svc.contacts.react(bob, mid, THUMBS + VS16, add=True)
    await svc.contacts.react(bob, mid, THUMBS, add=True)
    await svc.contacts.react(bob, mid, HEART, add=True)
    await svc.contacts.react(ann, mid, HEART + VS16, add=True)
    assert await _reactions(svc, ann, cid) == {THUMBS: {bob}, HEART + VS16: {bob, ann}}
    await svc.contacts.react(bob, mid, THUMBS + VS16, add=False)
    await svc.contacts.react(bob, mid, HEART, add=False)
    assert await _reactions(svc, ann, cid) == {HEART + VS16: {ann}}


async def test_a_reaction_stored_in_another_spelling_before_can_still_be_removed(
    svc: Services, clock: FakeClock
) -> None:
    """Rows written before reactions were canonical keep their spelling; the client
    shows that spelling and removes the reaction with it."""
    ann, bob, cid, mid = await _message(svc)
    legacy = Reaction(
        id=uuid.uuid4().hex,
        message_id=mid,
        user_id=bob,
        emoji=THUMBS + VS16,
        created_at=datetime.fromtimestamp(clock.now(), UTC),
    )
    assert await ContactStore(svc.db).add_reaction(legacy)
    assert await _reactions(svc, ann, cid) == {THUMBS + VS16: {bob}}
    await svc.contacts.react(bob, mid, THUMBS + VS16, add=False)
    assert await _reactions(svc, ann, cid) == {}
