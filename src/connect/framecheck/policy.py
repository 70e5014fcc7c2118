"""What a frame's scores lead to: nothing, an automatic report, hiding the video, a ban.

Only the classifier's *flagged* labels count; the frame's score is the best of
them. Below ``review`` nothing happens. At or above ``review`` an automatic
report is filed, once per (session, device) within ``report_window_s`` (the
database also keeps one automatic report per session and reported member). At
or above ``action`` the partner's view of the video is hidden at once and the
sender is told, and, when the operator enabled it, the device is banned for
``ban_hours``.

Repeated hits escalate: a device with ``escalate_hits`` hits (at or above
``review``) within ``escalate_window_s`` is treated as above ``action`` even
when the last frame alone is not, and its report is filed even inside the
deduplication window. A node counts the hits it saw itself and, from the
shared database, the other sessions the device was automatically reported in
within the window (``prior``, one hit each): a cluster's load balancer
spreads one visitor's frames over its nodes, and escalation must not need
N times the hits on N nodes.

Pure logic on an injected clock: the unit tests drive it without processes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from connect.clock import Clock


@dataclass(frozen=True, slots=True)
class Thresholds:
    review: float = 0.5
    action: float = 0.8
    ban_enabled: bool = False
    ban_hours: float = 24.0
    escalate_hits: int = 3
    escalate_window_s: float = 600.0
    report_window_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Decision:
    label: str | None
    score: float
    report: bool = False
    hide: bool = False
    ban: bool = False
    escalated: bool = False
    hits: int = 0

    @property
    def hit(self) -> bool:
        return self.label is not None


NOTHING = Decision(None, 0.0)


def top_score(scores: dict[str, float], flagged: frozenset[str]) -> tuple[str | None, float]:
    """The best flagged label and its score (``None, 0.0`` when none was seen)."""
    best: tuple[str | None, float] = (None, 0.0)
    for label, score in scores.items():
        if label in flagged and score > best[1]:
            best = (label, score)
    return best


class FramePolicy:
    def __init__(self, thresholds: Thresholds, clock: Clock) -> None:
        self.thresholds = thresholds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._reported: dict[tuple[str, str], float] = {}

    def is_hit(self, scores: dict[str, float], flagged: frozenset[str]) -> bool:
        label, score = top_score(scores, flagged)
        return label is not None and score >= self.thresholds.review

    def decide(
        self,
        subject: str,
        session_id: str,
        scores: dict[str, float],
        flagged: frozenset[str],
        prior: int = 0,
    ) -> Decision:
        """``prior``: other sessions this device was automatically reported in within the
        escalation window, as the shared database knows them (0 on one node is fine)."""
        t = self.thresholds
        label, score = top_score(scores, flagged)
        if label is None or score < t.review:
            return NOTHING
        now = self._clock.monotonic()
        hits = self._hits.setdefault(subject, deque())
        hits.append(now)
        while hits and hits[0] <= now - t.escalate_window_s:
            hits.popleft()
        count = max(len(hits), prior + 1)
        escalated = count >= t.escalate_hits
        hide = score >= t.action or escalated
        key = (session_id, subject)
        last = self._reported.get(key)
        report = escalated or last is None or now - last >= t.report_window_s
        if report:
            self._reported[key] = now
        return Decision(
            label,
            score,
            report=report,
            hide=hide,
            ban=hide and t.ban_enabled,
            escalated=escalated,
            hits=count,
        )

    def prune(self) -> int:
        """Forget hits and report marks outside their windows; how many keys went."""
        now = self._clock.monotonic()
        t = self.thresholds
        gone = 0
        for subject in list(self._hits):
            hits = self._hits[subject]
            while hits and hits[0] <= now - t.escalate_window_s:
                hits.popleft()
            if not hits:
                del self._hits[subject]
                gone += 1
        for key, at in list(self._reported.items()):
            if now - at >= t.report_window_s:
                del self._reported[key]
                gone += 1
        return gone
