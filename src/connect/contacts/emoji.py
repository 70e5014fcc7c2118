"""Is this string one emoji? A reaction may be any emoji, but only one, and only an emoji.

A small structural check instead of a table of every emoji: one *emoji
sequence* as Unicode TR51 builds them — a flag (two regional indicators), a
keycap (``0-9#*`` + VS16? + U+20E3), or pictographic characters joined by
ZWJ, each with an optional variation selector and skin tone, the first
optionally followed by a tag sequence (subdivision flags). New emoji of
future Unicode versions fall inside the pictographic blocks and pass; text,
digits, several emoji in a row or control characters do not.
"""

from __future__ import annotations

MAX_CODE_POINTS = 16

_ZWJ = 0x200D
_VS16 = 0xFE0F
_KEYCAP = 0x20E3
_TAG_END = 0xE007F

_PICTOGRAPHIC: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F1E5),
    (0x1F200, 0x1F3FA),
    (0x1F400, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def _pictographic(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _PICTOGRAPHIC)


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _skin(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


def _tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007E


def is_emoji(text: str) -> bool:
    """True when ``text`` is exactly one emoji (at most :data:`MAX_CODE_POINTS` code points)."""
    cps = [ord(c) for c in text]
    if not cps or len(cps) > MAX_CODE_POINTS:
        return False
    if len(cps) == 2 and _regional(cps[0]) and _regional(cps[1]):
        return True
    if chr(cps[0]) in "0123456789#*":
        return cps[1:] in ([_KEYCAP], [_VS16, _KEYCAP])
    i, first = 0, True
    while True:
        if i >= len(cps) or not _pictographic(cps[i]):
            return False
        i += 1
        if i < len(cps) and cps[i] == _VS16:
            i += 1
        if i < len(cps) and _skin(cps[i]):
            i += 1
        if first and i < len(cps) and _tag(cps[i]):
            while i < len(cps) and _tag(cps[i]):
                i += 1
            if i >= len(cps) or cps[i] != _TAG_END:
                return False
            i += 1
        first = False
        if i == len(cps):
            return True
        if cps[i] != _ZWJ:
            return False
        i += 1
