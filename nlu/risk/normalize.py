"""Text normalisation shared by messages and lexicon patterns.

Messages and patterns go through the same folding (accents, case, repeated
letters, emoji tokens) so a lexicon author writes plain accent-free lowercase
words and still matches "QUIERO MORIRMEEE", "kil myself" or "💊💊".
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["HEAD_CHARS", "TAIL_CHARS", "Folded", "Normalizer", "clip", "fold_pattern"]

# Long inputs are pasted documents; the urgent part of a message is almost
# always near its start or its very end, and bounded work keeps the screen fast.
HEAD_CHARS = 20_000
TAIL_CHARS = 2_000

# Punctuation that carries meaning, handled before non-ASCII is dropped.
_PRE_TABLE: dict[int, str | None] = {
    ord("¿"): " . ",
    ord("¡"): " . ",
    ord("…"): " ",
    ord("\u2019"): None,  # typographic apostrophe: "don’t" -> "dont"
    ord("\u2018"): None,
    ord("'"): None,
    ord("`"): None,
    ord("\u00b4"): None,
    ord("\ufe0f"): None,  # emoji variation selector
    ord("\u200d"): None,  # zero-width joiner
}
_ELLIPSIS = re.compile(r"\.{2,}")  # hesitation, not a sentence end
_STOP = re.compile(r"[.!?;:\r\n]+")
_COMMA = re.compile(r",+")
_OTHER = re.compile(r"[^a-z0-9., ]+")
_REPEAT = re.compile(r"([a-z])\1+")
# In patterns, leave escapes such as "\bb" alone.
_PATTERN_REPEAT = re.compile(r"(?<!\\)([a-z])\1+")
# Unambiguous text-speak tokens, spelled out before matching ("dnt want 2 b
# alive nemore" -> "dont want to be alive anymore"); keys are looked up with
# repeated letters collapsed. Single letters and digits stay as written except
# in the fixed pairs below ("2 b" is "to be"; a lone "2" may be a count).
# Spellings the lexicon already lists as variants ("kiero") stay as written.
_TXT = {
    "dnt": "dont",
    "cnt": "cant",
    "wnt": "want",
    "wna": "wanna",
    "gna": "gonna",
    "nemore": "anymore",
    "anymor": "anymore",
    "nymore": "anymore",
    "nomore": "no more",
    "no1": "no one",
    "ne1": "anyone",
    "sum1": "someone",
    "some1": "someone",
    "evry1": "everyone",
    "every1": "everyone",
    "myslf": "myself",
    "mysef": "myself",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "2moro": "tomorrow",
    "2morow": "tomorrow",
    "2day": "today",
    "2nite": "tonight",
    "2night": "tonight",
    "b4": "before",
    "xq": "porque",
    "pq": "porque",
    "q": "que",
    "aki": "aqui",
    "mxo": "mucho",
    "nadien": "nadie",
    # Seventh pass: misspellings seen in crisis texting.
    "ded": "dead",
    "rists": "wrists",
    "rist": "wrist",
    "pastiyas": "pastillas",
    "pastiya": "pastilla",
}
_TXT_PAIRS = re.compile(
    r"(?<![a-z0-9])(2|to|wanna|wana|gonna|gona|will|wil|cant|dont|wont|should|could|would|must|might)"
    r" b(?![a-z0-9])"
)
_UPPER = re.compile(r"(?<!\\)[A-Z]")


def clip(text: str) -> str:
    """Bound the work on very long input: keep the head and the tail."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def _ascii_fold(text: str) -> str:
    # NFKD splits accents off letters (and maps full-width forms); dropping
    # what is left outside ASCII also drops lone surrogates safely.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _emoji_key(emoji: str) -> str:
    return emoji.replace("\ufe0f", "").replace("\u200d", "")


@dataclass(frozen=True, slots=True)
class Folded:
    """The matching form of a message plus a readable form for cue text.

    ``text`` has repeated letters collapsed; ``display`` is the same text
    before collapsing ("pills", not "pils"). ``_marks``/``_shifts`` map
    offsets in ``text`` back to ``display``.
    """

    text: str
    display: str
    _marks: tuple[int, ...] = ()
    _shifts: tuple[int, ...] = ()

    def _to_display(self, pos: int) -> int:
        i = bisect_right(self._marks, pos)
        return pos + (self._shifts[i - 1] if i else 0)

    def shown(self, start: int, end: int) -> str:
        return self.display[self._to_display(start) : self._to_display(end)]


def _collapse(display: str) -> Folded:
    parts: list[str] = []
    marks: list[int] = []
    shifts: list[int] = []
    last = out_len = removed = 0
    for m in _REPEAT.finditer(display):
        kept = display[last : m.start() + 1]
        parts.append(kept)
        out_len += len(kept)
        removed += m.end() - m.start() - 1
        marks.append(out_len)
        shifts.append(removed)
        last = m.end()
    parts.append(display[last:])
    return Folded("".join(parts), display, tuple(marks), tuple(shifts))


class Normalizer:
    """Fold a message into space-separated tokens of ``[a-z0-9]``, '.' and ','.

    '.' marks a sentence end and ',' a clause break; both are separate tokens
    so patterns (joined by single spaces) never match across them.
    """

    def __init__(self, emoji: Mapping[str, str]) -> None:
        self._table: dict[int, str | None] = dict(_PRE_TABLE)
        self._multi: list[tuple[str, str]] = []
        for raw, token in emoji.items():
            key = _emoji_key(raw)
            if len(key) == 1:
                self._table[ord(key)] = f" {token} "
            elif key:
                self._multi.append((key, f" {token} "))

    def __call__(self, text: str) -> str:
        return self.fold(text).text

    def fold(self, text: str) -> Folded:
        text = clip(text)
        for key, token in self._multi:
            if key in text:
                text = text.replace(key, token)
        # Emoji expand to word tokens; clip again so work stays bounded.
        text = _ascii_fold(clip(text.translate(self._table))).lower()
        text = _ELLIPSIS.sub(" ", text)
        text = _STOP.sub(" . ", text)
        text = _COMMA.sub(" , ", text)
        text = _OTHER.sub(" ", text)
        text = _TXT_PAIRS.sub(lambda m: f"{'to' if m[1] == '2' else m[1]} be", text)
        words = [_TXT.get(_REPEAT.sub(r"\1", w), w) for w in text.split()]
        return _collapse(" ".join(words))


def fold_pattern(pattern: str, emoji: Mapping[str, str]) -> str:
    """Apply the message folding to a regex fragment from the lexicon."""
    for raw, token in emoji.items():
        key = _emoji_key(raw)
        if key:
            pattern = pattern.replace(key, token)
    pattern = _ascii_fold(pattern.replace("'", ""))
    if _UPPER.search(pattern):
        raise ValueError(f"lexicon patterns must be lowercase: {pattern!r}")
    return _PATTERN_REPEAT.sub(r"\1", pattern)
