"""Frame moderation's policy on an injected clock, and the test-only classifier's decoding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connect.clock import FakeClock
from connect.errors import ConnectError
from connect.framecheck.classifier import TEST_LABEL, TestColourClassifier, UndecodableFrame
from connect.framecheck.policy import FramePolicy, Thresholds, top_score
from connect.framecheck.service import check_jpeg
from tests.support import frames

FLAGGED = frozenset({TEST_LABEL, "OTHER"})
T = Thresholds(
    review=0.3,
    action=0.7,
    ban_enabled=False,
    ban_hours=1,
    escalate_hits=3,
    escalate_window_s=600,
    report_window_s=300,
)


def policy(**changes: object) -> tuple[FramePolicy, FakeClock]:
    clock = FakeClock()
    return FramePolicy(replace(T, **changes), clock), clock  # type: ignore[arg-type]


def test_below_review_nothing_happens_and_unflagged_labels_do_not_count() -> None:
    p, _ = policy()
    d = p.decide("guest:a", "s1", {TEST_LABEL: 0.29, "FACE_FEMALE": 0.99}, FLAGGED)
    assert not d.hit
    assert (d.report, d.hide, d.ban) == (False, False, False)
    assert top_score({"FACE_FEMALE": 0.99}, FLAGGED) == (None, 0.0)
    assert top_score({TEST_LABEL: 0.4, "OTHER": 0.6}, FLAGGED) == ("OTHER", 0.6)


def test_review_reports_once_per_session_and_device_within_the_window() -> None:
    p, clock = policy(escalate_hits=100)
    first = p.decide("guest:a", "s1", {TEST_LABEL: 0.5}, FLAGGED)
    assert (first.label, first.report, first.hide, first.ban) == (TEST_LABEL, True, False, False)
    assert not p.decide("guest:a", "s1", {TEST_LABEL: 0.5}, FLAGGED).report
    # another session of the same device, or another device: reported
    assert p.decide("guest:a", "s2", {TEST_LABEL: 0.5}, FLAGGED).report
    assert p.decide("guest:b", "s1", {TEST_LABEL: 0.5}, FLAGGED).report
    clock.advance(299)
    assert not p.decide("guest:a", "s1", {TEST_LABEL: 0.5}, FLAGGED).report
    clock.advance(300)
    assert p.decide("guest:a", "s1", {TEST_LABEL: 0.5}, FLAGGED).report


def test_action_hides_and_bans_only_when_the_operator_enabled_it() -> None:
    p, _ = policy()
    d = p.decide("guest:a", "s1", {TEST_LABEL: 0.7}, FLAGGED)
    assert (d.report, d.hide, d.ban) == (True, True, False)
    p, _ = policy(ban_enabled=True)
    d = p.decide("guest:a", "s1", {TEST_LABEL: 0.95}, FLAGGED)
    assert (d.report, d.hide, d.ban) == (True, True, True)
    d = p.decide("guest:b", "s2", {TEST_LABEL: 0.5}, FLAGGED)
    assert (d.hide, d.ban) == (False, False)


def test_repeated_hits_within_the_window_escalate() -> None:
    p, clock = policy(ban_enabled=True)
    a = p.decide("guest:a", "s1", {TEST_LABEL: 0.4}, FLAGGED)
    clock.advance(100)
    b = p.decide("guest:a", "s2", {TEST_LABEL: 0.4}, FLAGGED)
    assert [a.escalated, b.escalated, a.hide, b.hide] == [False] * 4
    clock.advance(100)
    c = p.decide("guest:a", "s2", {TEST_LABEL: 0.4}, FLAGGED)
    assert c.escalated
    assert c.hits == 3
    assert (c.hide, c.ban) == (True, True)
    assert c.report  # escalation files even inside the deduplication window
    # hits outside the window no longer count
    clock.advance(601)
    d = p.decide("guest:a", "s3", {TEST_LABEL: 0.4}, FLAGGED)
    assert (d.escalated, d.hits, d.hide) == (False, 1, False)


def test_prune_forgets_old_hits_and_marks() -> None:
    p, clock = policy()
    p.decide("guest:a", "s1", {TEST_LABEL: 0.5}, FLAGGED)
    assert p.prune() == 0
    clock.advance(700)
    assert p.prune() == 2  # the hit list and the report mark


def test_the_test_classifier_decodes_and_scores_redness() -> None:
    c = TestColourClassifier()
    assert c.classify(frames.GREY)[TEST_LABEL] < 0.05
    assert c.classify(frames.gradient())[TEST_LABEL] < 0.3
    assert 0.3 < c.classify(frames.MID_RED)[TEST_LABEL] < 0.7
    assert c.classify(frames.RED)[TEST_LABEL] > 0.9
    with pytest.raises(UndecodableFrame):
        c.classify(frames.RED[: len(frames.RED) // 3])
    with pytest.raises(UndecodableFrame):
        c.classify(b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9")


def test_check_jpeg_refuses_what_is_not_a_frame() -> None:
    check_jpeg(frames.GREY, "image/jpeg")
    check_jpeg(frames.GREY, "Image/JPEG; charset=binary")
    for body, ctype in (
        (frames.GREY, "image/png"),
        (frames.GREY, None),
        (b"", "image/jpeg"),
        (b"GIF89a", "image/jpeg"),
        (frames.GREY[:200], "image/jpeg"),
        (frames.solid((1, 2, 3), size=(5000, 8)), "image/jpeg"),
    ):
        with pytest.raises(ConnectError) as exc:
            check_jpeg(body, ctype)
        assert (exc.value.status, exc.value.code) == (400, "invalid_frame")


def test_hits_other_nodes_reported_count_toward_escalation() -> None:
    """``prior``: automatic reports about the device in other sessions, from the shared
    database; one node that saw a single frame still escalates a device seen elsewhere."""
    p, _ = policy()
    assert p.is_hit({TEST_LABEL: 0.3}, FLAGGED)
    assert not p.is_hit({TEST_LABEL: 0.29}, FLAGGED)
    d = p.decide("guest:a", "s3", {TEST_LABEL: 0.4}, FLAGGED, prior=1)
    assert (d.hits, d.escalated, d.hide) == (2, False, False)
    d = p.decide("guest:b", "s3", {TEST_LABEL: 0.4}, FLAGGED, prior=2)
    assert (d.hits, d.escalated, d.hide) == (3, True, True)
    # below review nothing is counted, whatever the database says
    assert not p.decide("guest:c", "s3", {TEST_LABEL: 0.1}, FLAGGED, prior=5).hit
