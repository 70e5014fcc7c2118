"""Automatic ban reasons: worded from one template per code and read back the same."""

from __future__ import annotations

from connect.moderation.ban_reasons import TEMPLATES, automatic_reason, reason_code


def test_every_automatic_reason_reads_back_as_its_code_and_parameters() -> None:
    text = automatic_reason("auto_reported", reporters=4)
    assert text == "suspended pending review: reported by 4 people"
    assert reason_code(text, automatic=True) == ("auto_reported", {"reporters": 4})
    text = automatic_reason("auto_frame_check", label="FEMALE_BREAST_EXPOSED", score="0.93")
    assert reason_code(text, automatic=True) == (
        "auto_frame_check",
        {"label": "FEMALE_BREAST_EXPOSED", "score": "0.93"},
    )
    assert set(TEMPLATES) == {"auto_reported", "auto_frame_check"}


def test_a_moderators_words_are_never_read_as_a_code() -> None:
    staff = "suspended pending review: reported by 4 people"
    assert reason_code(staff, automatic=False) is None, "a staff ban is shown as typed"
    assert reason_code("automatic frame check: something else entirely", automatic=True) is None
