"""The reasons the server itself writes into automatic bans, as codes with parameters.

A ban's ``reason`` is free text: staff type it in their own language, and the
banned visitor sees it as typed. Automatic bans are worded by the server, in
English, so their text is built here from a template per code, and read back
into ``(code, params)`` for the wire (``reasonCode``/``reasonParams``) so that
the web apps can say it in the visitor's or moderator's language. The stored
text stays the English fallback, and rows written before codes existed are
recognised all the same (the templates are the ones those rows were written from).
"""

from __future__ import annotations

import re
from typing import Literal

BanReason = Literal["auto_reported", "auto_frame_check"]

TEMPLATES: dict[BanReason, str] = {
    "auto_reported": "suspended pending review: reported by {reporters} people",
    "auto_frame_check": "automatic frame check: {label} {score}",
}
_PATTERNS: dict[BanReason, re.Pattern[str]] = {
    "auto_reported": re.compile(r"suspended pending review: reported by (?P<reporters>\d+) people"),
    "auto_frame_check": re.compile(
        r"automatic frame check: (?P<label>[A-Za-z0-9_.-]+) (?P<score>\d+(?:\.\d+)?)"
    ),
}
_INTEGERS = {"reporters"}


def automatic_reason(code: BanReason, **params: str | int) -> str:
    """The English reason stored with an automatic ban."""
    return TEMPLATES[code].format(**params)


def reason_code(reason: str, automatic: bool) -> tuple[BanReason, dict[str, str | int]] | None:
    """``(code, params)`` of a reason this server wrote; None for one staff typed."""
    if not automatic:
        return None
    for code, pattern in _PATTERNS.items():
        match = pattern.fullmatch(reason)
        if match is not None:
            params: dict[str, str | int] = {
                k: int(v) if k in _INTEGERS else v for k, v in match.groupdict().items()
            }
            return code, params
    return None
