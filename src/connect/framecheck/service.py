"""Frame moderation: accept a sampled frame, classify it off the loop, act on the result.

The route (:mod:`connect.framecheck.api`) hands a frame to :meth:`FrameCheckService.submit`,
which checks who sent it and for which session, and puts it on a bounded queue;
when the queue is full the frame is dropped and counted, never waited for (a
sampled frame is worth less than the node's latency). ``workers`` tasks take
frames off the queue and await the :class:`~connect.framecheck.pool.FramePool`,
each frame bounded by ``timeout_s``. The scores go through
:class:`~connect.framecheck.policy.FramePolicy`; what it decides is done here:
``video-hidden`` to the partner and ``video-flagged`` to the sender (through the
hub, which forwards to the node that holds each client), an automatic report
with the frame as evidence, a temporary automatic ban.

Frames live in memory only, from the request to the decision, and are written
nowhere unless they become a report's evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from connect.clock import Clock
from connect.delivery import Deliverer
from connect.errors import ConnectError, bad_request, conflict, forbidden, not_found
from connect.framecheck import classifier as classifiers
from connect.framecheck.policy import Decision, FramePolicy, Thresholds, top_score
from connect.framecheck.pool import FramePool, ProcessFramePool
from connect.framecheck.schemas import FrameCheck, VideoFlagged, VideoHidden
from connect.identity.service import Principal
from connect.moderation.audit import SYSTEM, Actor, AuditLog
from connect.moderation.ban_reasons import automatic_reason
from connect.moderation.bans import BanService, ban_target
from connect.moderation.evidence import JPEG_START
from connect.moderation.reports import ReportService
from connect.observability.metrics import Metrics
from connect.ratelimit import RateLimiter, Rule
from connect.sessions.models import Member, Session
from connect.sessions.service import SessionService
from connect.settings import Settings
from connect.storage.models import Report

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    session_id: str
    sender: Member
    partner: Member
    jpeg: bytes
    arrived: float  # clock.monotonic()


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        review=settings.framecheck_review_threshold,
        action=settings.framecheck_action_threshold,
        ban_enabled=settings.framecheck_ban_enabled,
        ban_hours=settings.framecheck_ban_hours,
        escalate_hits=settings.framecheck_escalate_hits,
        escalate_window_s=settings.framecheck_escalate_window_s,
        report_window_s=settings.framecheck_report_window_s,
    )


def check_jpeg(body: bytes, content_type: str | None) -> None:
    """Refuse with 400 ``invalid_frame`` what is not a decodable JPEG of sane size.

    The frame is decoded at a quarter scale (the JPEG's DCT scaling, a fraction
    of a millisecond for 320 px): a truncated or corrupt frame is refused here,
    to the client, rather than failing later in a worker.
    """
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "image/jpeg":
        raise bad_request("the body must be a JPEG (Content-Type: image/jpeg)", "invalid_frame")
    if not body.startswith(JPEG_START):
        raise bad_request("the body is not a JPEG image", "invalid_frame")
    try:
        classifiers.decode(body)
    except classifiers.UndecodableFrame as exc:
        raise bad_request(f"the JPEG could not be decoded: {exc}"[:200], "invalid_frame") from exc


class FrameCheckService:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: SessionService,
        reports: ReportService,
        bans: BanService,
        deliverer: Deliverer,
        limiter: RateLimiter,
        metrics: Metrics,
        clock: Clock,
        audit: AuditLog | None = None,
        pool: FramePool | None = None,
    ) -> None:
        self._audit = audit
        self.classifier = settings.framecheck_classifier
        installed = classifiers.installed(self.classifier)
        self.active = settings.framecheck_enabled and installed
        if settings.framecheck_enabled and not installed:
            log.warning(
                "frame checking is OFF: the classifier is not installed "
                "(pip install 'connect[moderation-ai]' for nudenet)",
                classifier=self.classifier,
            )
        self.flagged = classifiers.flagged_labels(self.classifier)
        self.policy = FramePolicy(thresholds_from(settings), clock)
        self.metrics = metrics.framecheck
        self._settings = settings
        self._sessions = sessions
        self._reports = reports
        self._bans = bans
        self._deliver = deliverer
        self._limiter = limiter
        self._clock = clock
        self._rule = Rule.parse("frames", settings.rate_frames)
        self._queue: asyncio.Queue[Job] = asyncio.Queue(settings.framecheck_queue)
        self._pool: FramePool | None = pool
        if self._pool is None and self.active:
            self._pool = ProcessFramePool(self.classifier, settings.framecheck_workers)
        self._tasks: list[asyncio.Task[None]] = []
        self._offer = FrameCheck(
            first_after_ms=settings.framecheck_first_after_ms,
            mean_interval_ms=settings.framecheck_mean_interval_ms,
            max_width=settings.framecheck_max_width,
            jpeg_quality=settings.framecheck_jpeg_quality,
        )

    # -- lifecycle ---------------------------------------------------------------

    def policy_record(self) -> dict[str, object]:
        """What the operator set, as the audit log records it when it changes."""
        s = self._settings
        return {
            "enabled": s.framecheck_enabled,
            "active": self.active,
            "classifier": self.classifier,
            "reviewThreshold": s.framecheck_review_threshold,
            "actionThreshold": s.framecheck_action_threshold,
            "banEnabled": s.framecheck_ban_enabled,
            "banHours": s.framecheck_ban_hours,
            "escalateHits": s.framecheck_escalate_hits,
            "escalateWindowS": s.framecheck_escalate_window_s,
            "reportWindowS": s.framecheck_report_window_s,
            "firstAfterMs": s.framecheck_first_after_ms,
            "meanIntervalMs": s.framecheck_mean_interval_ms,
            "maxWidth": s.framecheck_max_width,
            "jpegQuality": s.framecheck_jpeg_quality,
            "rateFrames": s.rate_frames,
        }

    async def audit_policy(self) -> bool:
        """Append ``framecheck.policy`` to the audit log when the settings changed.

        Thresholds and actions are environment settings (Connect has no runtime
        settings route): the first node to start with a changed policy records
        it, by ``system``, so every change has its entry in the hash-chained log.
        True when an entry was written.
        """
        if self._audit is None:
            return False
        record = self.policy_record()
        last = await self._audit.latest("framecheck.policy")
        if last is not None and last.details == record:
            return False
        await self._audit.append(SYSTEM, "framecheck.policy", "settings", "framecheck", record)
        return True

    async def start(self) -> None:
        try:
            await self.audit_policy()
        except Exception as exc:  # the database may still be coming up: never block start-up
            log.warning("frame check policy not audited", error=type(exc).__name__)
        if not self.active or self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._work(), name=f"framecheck-{i}")
            for i in range(self._settings.framecheck_workers)
        ]
        log.info(
            "frame checking on",
            classifier=self.classifier,
            workers=self._settings.framecheck_workers,
            review=self.policy.thresholds.review,
            action=self.policy.thresholds.action,
            ban=self.policy.thresholds.ban_enabled,
        )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._pool is not None:
            await self._pool.close()

    # -- the matched offer and the upload ----------------------------------------

    def offer(self, mode: str) -> FrameCheck | None:
        """``matched.frameCheck`` for a new stranger session of ``mode``."""
        return self._offer if self.active and mode == "video" else None

    async def submit(
        self, principal: Principal, session_id: str, body: bytes, content_type: str | None
    ) -> bool:
        """Check and queue one frame; False when the queue was full (dropped, counted)."""
        if len(body) > self._settings.framecheck_max_bytes:
            raise ConnectError(
                "payload_too_large",
                f"a frame is limited to {self._settings.framecheck_max_bytes} bytes",
                status=413,
            )
        session = await self._sessions.get(session_id)
        if session is None:
            raise not_found("no such session")
        me = session.member_by_subject(principal.key)
        if me is None:
            raise forbidden("only a member of the session may send its frames")
        if not self._sampled(session):
            raise forbidden("frames are not checked in this session")
        if session.ended_at is not None:
            raise conflict("this session has ended", "session_ended")
        await self._limiter.hit(self._rule, principal.key)
        check_jpeg(body, content_type)
        partner = session.partner_of(me.client_id)
        assert partner is not None
        self.metrics.frames.labels("received").inc()
        try:
            self._queue.put_nowait(Job(session.id, me, partner, body, self._clock.monotonic()))
        except asyncio.QueueFull:
            self.metrics.frames.labels("dropped").inc()
            return False
        self.metrics.queue.set(self._queue.qsize())
        return True

    def _sampled(self, session: Session) -> bool:
        return self.active and session.kind == "random" and session.mode == "video"

    # -- the workers -------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self.metrics.queue.set(self._queue.qsize())
            try:
                await self.handle(job)
            except Exception as exc:
                log.warning("frame check failed", error=type(exc).__name__)

    async def handle(self, job: Job) -> Decision | None:
        """Classify one frame and act on it; None when it could not be classified."""
        assert self._pool is not None
        try:
            scores = await asyncio.wait_for(
                self._pool.classify(job.jpeg), self._settings.framecheck_timeout_s
            )
        except TimeoutError:
            self.metrics.frames.labels("timeout").inc()
            return None
        except Exception as exc:
            self.metrics.frames.labels("failed").inc()
            log.info("frame not classified", error=type(exc).__name__)
            return None
        self.metrics.frames.labels("classified").inc()
        self.metrics.latency.observe(max(0.0, self._clock.monotonic() - job.arrived))
        prior = 0
        if self.policy.is_hit(scores, self.flagged):
            prior = await self._reports.auto_sessions_about(
                job.sender.subject, self.policy.thresholds.escalate_window_s, job.session_id
            )
        decision = self.policy.decide(
            job.sender.subject, job.session_id, scores, self.flagged, prior
        )
        if decision.hit:
            await self._act(job, scores, decision)
        return decision

    async def _act(self, job: Job, scores: dict[str, float], decision: Decision) -> None:
        label = decision.label or "unknown"
        if decision.hide:
            self.metrics.actions.labels("hide", label).inc()
            hidden = VideoHidden(session_id=job.session_id, reason="nudity")
            flagged = VideoFlagged(session_id=job.session_id, reason="nudity")
            self._deliver.deliver(job.partner.client_id, "video-hidden", hidden.wire())
            self._deliver.deliver(job.sender.client_id, "video-flagged", flagged.wire())
        if decision.escalated:
            self.metrics.actions.labels("escalate", label).inc()
        report: Report | None = None
        if decision.report:
            session = await self._sessions.get(job.session_id)
            if session is not None:
                shown = {k: v for k, v in scores.items() if k in self.flagged and v > 0}
                report = await self._reports.file_auto(
                    session,
                    job.sender,
                    frame=job.jpeg,
                    scores=shown,
                    comment=self._comment(decision),
                )
                if report is not None:
                    self.metrics.auto_reports.labels(label).inc()
        if decision.ban:
            await self._ban(job.sender.subject, label, decision, report)

    def _comment(self, decision: Decision) -> str:
        text = f"automatic ({self.classifier}): {decision.label} {decision.score:.2f}"
        if decision.escalated:
            window_min = self.policy.thresholds.escalate_window_s / 60
            text += f"; escalated: {decision.hits} hits within {window_min:g} min"
        return text

    async def _ban(
        self, subject: str, label: str, decision: Decision, report: Report | None
    ) -> None:
        scope, value = ban_target(subject)
        if scope == "device" and await self._bans.active_for(device_id=value) is not None:
            return
        try:
            await self._bans.ban(
                SYSTEM,
                scope,
                value,
                reason=automatic_reason(
                    "auto_frame_check", label=label, score=f"{decision.score:.2f}"
                ),
                duration_hours=self.policy.thresholds.ban_hours,
                report_id=report.id if report is not None else None,
                automatic=True,
            )
        except ConnectError as exc:  # e.g. a staff account: never banned automatically
            log.info("automatic frame ban refused", code=exc.code)
            return
        self.metrics.actions.labels("ban", label).inc()

    # -- moderators --------------------------------------------------------------

    async def false_positive(self, actor: Actor, report_id: str) -> Report:
        """Mark an automatic report wrong (audited) and count it by its top label."""
        report = await self._reports.mark_false_positive(actor, report_id)
        label, _ = top_score(dict(report.scores or {}), frozenset(report.scores or {}))
        self.metrics.false_positives.labels(label or "unknown").inc()
        return report

    def prune(self) -> int:
        return self.policy.prune()
