"""Masking of unwanted words in chat text.

Words are matched case-insensitively on word boundaries, also when the
sender pads letters with separators or repeats them ("f.u.c.k", "fuuuck"):
each word compiles to a pattern in which every letter may repeat and be
followed by up to two non-word characters. A match is replaced by asterisks
of the same length, so the conversation keeps its shape and nobody's message
is silently dropped.

Cost (issue 19: Connect's CPU per chat line grew with the line's length, the
reference's barely did; this regex was the piece that grew). The general
pattern starts with assertions, so the regex engine tries the whole pattern at
every position of the line: about 131,000 instructions for a line of 20-300
characters (callgrind, the bench's chat lines). For an ASCII line and ASCII
words (the default list) a second pattern runs on the lowercased line: no
IGNORECASE, and every alternative begins with a literal letter, so the engine
scans for the words' first letters in C and checks the word boundary right
after the first letter; 61,000 instructions for the same lines, the same
matches (the pattern tests compare both on obfuscated and random lines). Any
other line uses the general pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

DEFAULT_WORDS_FILE = Path(__file__).with_name("default_words.txt")


def _word_pattern(word: str) -> str:
    parts = [re.escape(ch) + "+" for ch in word]
    return r"[\W_]{0,2}".join(parts)


def _ascii_pattern(words: list[str]) -> re.Pattern[str]:
    """The general pattern for lowercase ASCII text, grouped by first letter.

    ``f(?<!\\w.)f*...`` is ``(?<!\\w)f+...``: after the first letter, the two
    characters behind are not "a word character, then anything", i.e. the one
    before the letter is no word character (or there is none).
    """
    groups: dict[str, list[str]] = {}
    for w in words:  # longest first, as in the general alternation
        groups.setdefault(w[0], []).append(w)

    def rest(w: str) -> str:
        parts = [re.escape(w[0]) + "*"] + [re.escape(ch) + "+" for ch in w[1:]]
        return r"[\W_]{0,2}".join(parts)

    alternation = "|".join(
        rf"{re.escape(c)}(?<!\w.)(?:{'|'.join(rest(w) for w in ws)})" for c, ws in groups.items()
    )
    return re.compile(rf"(?:{alternation})(?!\w)")


class TextFilter:
    def __init__(self, words: Iterable[str]) -> None:
        cleaned = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        self.words = cleaned
        self._ascii: re.Pattern[str] | None = None
        if cleaned:
            alternation = "|".join(_word_pattern(w) for w in cleaned)
            # Every match starts with some word's first letter: asserting that
            # before the alternation lets the engine skip the other positions
            # (measured: 18 -> 6.7 µs for a 126-character line, 19 words).
            firsts = "".join(sorted({re.escape(w[0]) for w in cleaned}))
            self._regex: re.Pattern[str] | None = re.compile(
                rf"(?<!\w)(?=[{firsts}])(?:{alternation})(?!\w)", re.IGNORECASE
            )
            # Only for words of ASCII letters and digits: lowercasing is then exactly what
            # IGNORECASE does for an ASCII line (outside ASCII, U+0131 and U+017F also match i, s).
            if all(w.isascii() and w.isalnum() for w in cleaned):
                self._ascii = _ascii_pattern(cleaned)
        else:
            self._regex = None

    @classmethod
    def from_settings(cls, words_file: Path | None, extra_words: Iterable[str]) -> TextFilter:
        path = words_file or DEFAULT_WORDS_FILE
        lines = path.read_text(encoding="utf-8").splitlines()
        words = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        return cls([*words, *extra_words])

    def mask(self, text: str) -> str:
        if self._regex is None:
            return text
        fast = self._ascii
        if fast is None or not text.isascii():
            return self._regex.sub(lambda m: "*" * len(m.group(0)), text)
        # Same positions in the lowercased copy (ASCII: one character for one).
        out: list[str] = []
        last = 0
        for m in fast.finditer(text.lower()):
            start, end = m.span()
            out.append(text[last:start])
            out.append("*" * (end - start))
            last = end
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)
