"""The measurable rules of the writing guide (../shared/writing-guide.md).

One copy, used where text is written and where it is tested: the admin checks
an article's short answer on save, submit and publish (`resources_kb.validate.
check_article`), and the tests lint every dialog text and short answer with the
same functions (tests/writing_rules.py re-exports them).

- English texts of six words or more read at Flesch–Kincaid grade 7 or lower;
- no banned phrase (blame, pressure, promises, dehumanising words), in English
  and in the text's own language;
- a text that asks a question offers a way out in the same message ("skip",
  "stop", "you don't have to").
"""

from __future__ import annotations

import re
from functools import lru_cache

from dialogs.normalize import fold

__all__ = [
    "BANNED",
    "MAX_GRADE",
    "MIN_WORDS_FOR_GRADE",
    "WAYS_OUT",
    "asks_without_way_out",
    "banned_in",
    "grade",
    "problems",
]

BANNED = {
    "en": [
        "why didn't you",
        "why did you",
        "you should have",
        "you shouldn't have",
        "your fault",
        "you let them",
        "you chose to",
        "calm down",
        "just relax",
        "at least you",
        "everything happens for a reason",
        "you must",
        "hurry",
        "prostitute",
        "illegal alien",
        "illegal immigrant",
        "an illegal",
        "committed suicide",
        "guarantee",
        "i promise",
        "you will be safe",
        "nothing bad will happen",
    ],
    "es": [
        "por qué no",
        "deberías haber",
        "tu culpa",
        "cálmate",
        "tranquilízate",
        "al menos tú",
        "tienes que",
        "prostituta",
        "ilegal",
        "se suicidó",
        "te garantizo",
        "te prometo",
        "estarás a salvo",
    ],
}
# A question must come with a way out: one of these in the same message.
WAYS_OUT = {
    "en": ["skip", "stop", "don't have to", "or no", "no to", "not now"],
    "es": ["saltar", "parar", "o no", "no para", "ahora no"],
}
MAX_GRADE = 7.0
# Flesch-Kincaid is meaningless on labels of a few words.
MIN_WORDS_FOR_GRADE = 6


def grade(text: str) -> float:
    """The Flesch–Kincaid grade of an English text."""
    # Imported here: only an English text long enough to grade needs it.
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


@lru_cache(maxsize=64)
def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(phrase) + r"\b")


def banned_in(text: str, locale: str) -> list[str]:
    """The banned phrases in `text`: the English ones, and the locale's own."""
    lowered = text.casefold()
    folded = fold(text)
    phrases = BANNED["en"] + (BANNED.get(locale, []) if locale != "en" else [])
    return [
        phrase
        for phrase in phrases
        if _pattern(phrase.casefold()).search(lowered) or _pattern(fold(phrase)).search(folded)
    ]


def asks_without_way_out(text: str, locale: str) -> bool:
    """Whether `text` asks a question without offering a way to skip or stop."""
    if "?" not in text:
        return False
    lowered = text.casefold()
    return not any(way in lowered for way in WAYS_OUT.get(locale, WAYS_OUT["en"]))


def problems(text: str, locale: str) -> list[str]:
    """What in `text` breaks the writing rules, in words a reviewer can act on."""
    issues = [f"banned phrase {p!r}" for p in banned_in(text, locale)]
    if locale == "en" and len(text.split()) >= MIN_WORDS_FOR_GRADE:
        level = grade(text)
        if level > MAX_GRADE:
            issues.append(f"grade {level:.1f} > {MAX_GRADE}")
    if asks_without_way_out(text, locale):
        issues.append("asks a question without a way to skip or stop")
    return issues
