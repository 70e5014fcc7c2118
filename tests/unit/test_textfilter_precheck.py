"""The word filter's ASCII pattern masks exactly what the general pattern masks.

``TextFilter.mask`` runs a faster pattern on lowercased ASCII lines (see the
module docstring of connect.signaling.textfilter); it must give exactly what
the general, case-insensitive pattern gives: checked on obfuscated spellings
and on random lines built from the words' letters, separators, case changes,
repeats and digits (seeded, bounded).
"""

from __future__ import annotations

import random

from connect.signaling.textfilter import TextFilter


def general(f: TextFilter, text: str) -> str:
    assert f._regex is not None
    return f._regex.sub(lambda m: "*" * len(m.group(0)), text)


def test_obfuscations_are_masked_by_the_ascii_pattern() -> None:
    f = TextFilter.from_settings(None, [])
    assert f._ascii is not None, "the default words are ASCII letters: the fast pattern is on"
    for text in [
        "f.u.c.k you",
        "FuUuCk",
        "sh_i_t happens",
        "what a b!!i t c h",
        "you are a a-s-s-h-o-l-e",
        "kys",
        "(kys)",
        "xkys kysx",
        "hello there, how are you doing today?",
        "cocktail in the back, dickens",
        "x" * 300,
    ]:
        assert f.mask(text) == general(f, text), text
    assert f.mask("f.u.c.k you") == "******* you"
    assert f.mask("Oh SHIT.") == "Oh ****."


def test_random_lines_agree_with_the_general_pattern() -> None:
    f = TextFilter.from_settings(None, [])
    rng = random.Random(19)
    letters = sorted({ch for w in f.words for ch in w})
    alphabet = letters + [ch.upper() for ch in letters] + list(" ._-!*1") + ["  "]
    masked = 0
    for _ in range(5000):
        if rng.random() < 0.5:
            word = rng.choice(f.words)
            parts = [
                ch * rng.randint(1, 3) + rng.choice(["", "", ".", "_", " ", "-!"]) for ch in word
            ]
            core = "".join(c.upper() if rng.random() < 0.3 else c for c in "".join(parts))
            text = "".join(rng.choices(alphabet, k=rng.randint(0, 8))) + core
            text += "".join(rng.choices(alphabet, k=rng.randint(0, 8)))
        else:
            text = "".join(rng.choices(alphabet, k=rng.randint(1, 60)))
        out = f.mask(text)
        assert out == general(f, text), text
        masked += out != text
    assert masked > 250, "the generator does produce lines to mask"


def test_other_words_and_lines_use_the_general_pattern() -> None:
    assert TextFilter(["f-word"])._ascii is None
    assert TextFilter(["şit"])._ascii is None
    assert TextFilter(["f-word"]).mask("the f-word") == "the ******"
    f = TextFilter(["banana"])
    assert f._ascii is not None
    assert f.mask("b.a.n.a.n.a!") == "***********!"
    # A non-ASCII line goes through the general pattern: the dotless i matches i there.
    shit = TextFilter.from_settings(None, [])
    line = "sh\u0131t \U0001f642"
    assert shit.mask(line) == general(shit, line) == "**** \U0001f642"
