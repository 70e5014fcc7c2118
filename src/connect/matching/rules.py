"""The matching contract as pure functions (PROTOCOL.md, "Matching rules").

A :class:`Ticket` is one visitor waiting. Whether two tickets may be paired
is decided here and nowhere else; each store (memory, Redis Lua) applies
these same rules, and the unit tests pin them.

Compatibility is the conjunction of hard rules and each side's *own*
criteria, widened by that side's own waiting time:

* hard: same mode; not the same client, device or (unless allowed) IP hash;
  not a pair that skipped each other within the recent-pair window; not a
  pair either side asked never to meet again (the avoid list, below);
* interests: a visitor who gave interests first accepts only someone who
  shares one; after ``interest_widen_s`` of waiting they accept anyone
  (shared interests are how "preferred" is realised: it is a requirement
  that lapses, not a score that could starve a visitor);
* region, then language: when both sides state one they must agree, until
  the visitor has waited ``region_widen_s`` (region) or
  ``language_widen_s`` (language; ``None`` means never);
* countries: a visitor who chose countries accepts only someone whose
  country is one of them, until it has waited ``country_widen_s`` (``None``,
  the default, means never, like language: the ``match-timeout`` notice
  offers the widen instead). The rule is the region rule made one-sided:
  region asks "do we agree", a country choice asks "are you from there".
  Someone who hides their country counts as having none here, so a choice
  can never be used to learn a hidden country; an unknown country never
  satisfies a choice.

A pair is compatible only if *both* sides accept each other, so a newcomer
who asked for a region is never handed to someone else merely because that
other person has been waiting long. Among compatible candidates the one who
has waited longest is chosen (see the stores).

The avoid list ("don't match me with this person again", from ``next`` with
``avoid`` or a report) outlives the 10-minute recent-pair memory: each
subject (the typed ``guest:<device>`` / ``user:<account>`` key, so an account
carries its list to every device) keeps the subjects it avoided until
``avoid_s`` has passed, at most ``avoid_cap`` of them, the least recently
added dropped first. An entry is written only to the avoider's own list and
a pair is refused when *either* list names the other: somebody who is
avoided by many cannot push their victims' entries out of the victims'
lists. Each store checks a candidate with two O(1) look-ups, after the pure
rules here have allowed the pair, so a join costs what it did plus a
constant per candidate, never the queue length times the list length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["video", "text"]
Criterion = Literal["language", "country", "interests"]


@dataclass(frozen=True, slots=True)
class Ticket:
    client_id: str
    device_id: str
    ip_hash: str
    mode: Mode
    language: str | None
    region: str | None
    interests: frozenset[str]
    since: float
    country: str | None = None
    countries: frozenset[str] = frozenset()
    hide_country: bool = False

    @property
    def shown_country(self) -> str | None:
        """The country others may see and choose by (None when hidden or unknown)."""
        return None if self.hide_country else self.country


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    allow_same_ip: bool = False
    interest_widen_s: float = 5.0
    region_widen_s: float = 15.0
    language_widen_s: float | None = None
    country_widen_s: float | None = None
    recent_pair_s: float = 600.0
    avoid_s: float = 30 * 86_400.0
    avoid_cap: int = 500


def accepts(me: Ticket, other: Ticket, now: float, policy: MatchPolicy) -> bool:
    """Whether ``me``'s criteria, widened by how long ``me`` has waited, accept ``other``."""
    waited = now - me.since
    if me.interests and waited < policy.interest_widen_s and not (me.interests & other.interests):
        return False
    if me.region and other.region and me.region != other.region and waited < policy.region_widen_s:
        return False
    if (
        me.countries
        and other.shown_country not in me.countries
        and (policy.country_widen_s is None or waited < policy.country_widen_s)
    ):
        return False
    return not (
        me.language
        and other.language
        and me.language != other.language
        and (policy.language_widen_s is None or waited < policy.language_widen_s)
    )


def narrowing(me: Ticket, now: float, policy: MatchPolicy) -> list[Criterion]:
    """Which of ``me``'s own criteria still restrict whom it may meet (in a fixed order).

    The ``narrow`` hint of ``queue-status`` and the ``suggest`` list of
    ``match-timeout``: what the visitor could drop to be matched sooner.
    Region is not listed: it always widens by itself within seconds.
    """
    waited = now - me.since
    out: list[Criterion] = []
    if me.language and (policy.language_widen_s is None or waited < policy.language_widen_s):
        out.append("language")
    if me.countries and (policy.country_widen_s is None or waited < policy.country_widen_s):
        out.append("country")
    if me.interests and waited < policy.interest_widen_s:
        out.append("interests")
    return out


def hard_compatible(a: Ticket, b: Ticket, policy: MatchPolicy) -> bool:
    """The rules that never widen."""
    if a.mode != b.mode or a.client_id == b.client_id or a.device_id == b.device_id:
        return False
    return policy.allow_same_ip or a.ip_hash != b.ip_hash


def compatible(
    a: Ticket, b: Ticket, now: float, policy: MatchPolicy, *, recently_paired: bool
) -> bool:
    return (
        not recently_paired
        and hard_compatible(a, b, policy)
        and accepts(a, b, now, policy)
        and accepts(b, a, now, policy)
    )


def common_interests(a: Ticket, b: Ticket) -> list[str]:
    return sorted(a.interests & b.interests)


def pair_key(device_a: str, device_b: str) -> str:
    """Order-independent key of a device pair, for the recent-pair memory."""
    return "|".join(sorted((device_a, device_b)))
