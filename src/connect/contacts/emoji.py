"""Is this string one emoji? A reaction may be any emoji, but only one, and only an emoji.

A small structural check instead of a table of every emoji: one *emoji
sequence* as Unicode TR51 builds them — a flag (two regional indicators), a
keycap (``0-9#*`` + VS16? + U+20E3), or pictographic characters joined by
ZWJ, each with an optional variation selector and skin tone, the first
optionally followed by a tag sequence (subdivision flags). New emoji of
future Unicode versions fall inside the pictographic blocks and pass; text,
digits, several emoji in a row or control characters do not.

One emoji, one string. The same emoji arrives in several spellings that differ
only in U+FE0F (VARIATION SELECTOR-16): 👍 and 👍+FE0F, ❤ and ❤+FE0F. Reactions are
compared as strings (stored, counted, removed, grouped), so :func:`canonical`
turns every spelling into the *fully-qualified* one of Unicode's emoji-test.txt,
the form the web client sends (its ``normaliseEmoji`` drops FE0F after a
character shown as emoji by default; its picker data carries FE0F where it is
needed): FE0F follows each character that defaults to text presentation
(``Emoji=Yes`` but not ``Emoji_Presentation``), unless a skin tone follows it
instead, and no other character. Newly encoded emoji have all been given emoji
presentation by default, so an emoji newer than this table simply loses a FE0F
it never needed; an old symbol that a later Unicode makes a text-default emoji
(as ⚧ in Emoji 13.0) has to be added to ``_TEXT_DEFAULT``.
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


# Emoji=Yes without Emoji_Presentation (emoji-data.txt, Unicode 17.0 as ICU 78.2 has it):
# the characters shown as text unless FE0F follows them.
# fmt: off
_TEXT_DEFAULT: tuple[tuple[int, int], ...] = (
    (0x0023, 0x0023), (0x002A, 0x002A), (0x0030, 0x0039), (0x00A9, 0x00A9), (0x00AE, 0x00AE),
    (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199),
    (0x21A9, 0x21AA), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23ED, 0x23EF), (0x23F1, 0x23F2),
    (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0),
    (0x25FB, 0x25FC), (0x2600, 0x2604), (0x260E, 0x260E), (0x2611, 0x2611), (0x2618, 0x2618),
    (0x261D, 0x261D), (0x2620, 0x2620), (0x2622, 0x2623), (0x2626, 0x2626), (0x262A, 0x262A),
    (0x262E, 0x262F), (0x2638, 0x263A), (0x2640, 0x2640), (0x2642, 0x2642), (0x265F, 0x2660),
    (0x2663, 0x2663), (0x2665, 0x2666), (0x2668, 0x2668), (0x267B, 0x267B), (0x267E, 0x267E),
    (0x2692, 0x2692), (0x2694, 0x2697), (0x2699, 0x2699), (0x269B, 0x269C), (0x26A0, 0x26A0),
    (0x26A7, 0x26A7), (0x26B0, 0x26B1), (0x26C8, 0x26C8), (0x26CF, 0x26CF), (0x26D1, 0x26D1),
    (0x26D3, 0x26D3), (0x26E9, 0x26E9), (0x26F0, 0x26F1), (0x26F4, 0x26F4), (0x26F7, 0x26F9),
    (0x2702, 0x2702), (0x2708, 0x2709), (0x270C, 0x270D), (0x270F, 0x270F), (0x2712, 0x2712),
    (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721), (0x2733, 0x2734),
    (0x2744, 0x2744), (0x2747, 0x2747), (0x2763, 0x2764), (0x27A1, 0x27A1), (0x2934, 0x2935),
    (0x2B05, 0x2B07), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F170, 0x1F171), (0x1F17E, 0x1F17F), (0x1F202, 0x1F202), (0x1F237, 0x1F237),
    (0x1F321, 0x1F321), (0x1F324, 0x1F32C), (0x1F336, 0x1F336), (0x1F37D, 0x1F37D),
    (0x1F396, 0x1F397), (0x1F399, 0x1F39B), (0x1F39E, 0x1F39F), (0x1F3CB, 0x1F3CE),
    (0x1F3D4, 0x1F3DF), (0x1F3F3, 0x1F3F3), (0x1F3F5, 0x1F3F5), (0x1F3F7, 0x1F3F7),
    (0x1F43F, 0x1F43F), (0x1F441, 0x1F441), (0x1F4FD, 0x1F4FD), (0x1F549, 0x1F54A),
    (0x1F56F, 0x1F570), (0x1F573, 0x1F579), (0x1F587, 0x1F587), (0x1F58A, 0x1F58D),
    (0x1F590, 0x1F590), (0x1F5A5, 0x1F5A5), (0x1F5A8, 0x1F5A8), (0x1F5B1, 0x1F5B2),
    (0x1F5BC, 0x1F5BC), (0x1F5C2, 0x1F5C4), (0x1F5D1, 0x1F5D3), (0x1F5DC, 0x1F5DE),
    (0x1F5E1, 0x1F5E1), (0x1F5E3, 0x1F5E3), (0x1F5E8, 0x1F5E8), (0x1F5EF, 0x1F5EF),
    (0x1F5F3, 0x1F5F3), (0x1F5FA, 0x1F5FA), (0x1F6CB, 0x1F6CB), (0x1F6CD, 0x1F6CF),
    (0x1F6E0, 0x1F6E5), (0x1F6E9, 0x1F6E9), (0x1F6F0, 0x1F6F0), (0x1F6F3, 0x1F6F3),
)
# fmt: on


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


def _text_default(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _TEXT_DEFAULT)


def canonical(text: str) -> str:
    """The fully-qualified spelling of an emoji: U+FE0F after each character that
    defaults to text presentation (not before a skin tone), nowhere else.

    Applied to what :func:`is_emoji` accepted, it changes only where FE0F stands, so
    👍, 👍+FE0F → 👍; ❤, ❤+FE0F → ❤+FE0F; ☝+FE0F+🏻 → ☝🏻; 1+U+20E3 → 1+FE0F+U+20E3.
    """
    cps = [ord(c) for c in text if ord(c) != _VS16]
    out: list[str] = []
    for i, cp in enumerate(cps):
        out.append(chr(cp))
        following = cps[i + 1] if i + 1 < len(cps) else None
        if _text_default(cp) and not (following is not None and _skin(following)):
            out.append(chr(_VS16))
    return "".join(out)
