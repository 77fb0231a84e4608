"""The measurable rules of ../shared/writing-guide.md, shared by every text lint."""

from __future__ import annotations

import re

import textstat

from dialogs.normalize import fold

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
    return float(textstat.flesch_kincaid_grade(text))


def banned_in(text: str, locale: str) -> list[str]:
    lowered = text.casefold()
    folded = fold(text)
    found = []
    for phrase in BANNED["en"] + BANNED.get(locale, []) if locale != "en" else BANNED["en"]:
        pattern = r"\b" + re.escape(phrase.casefold()) + r"\b"
        if re.search(pattern, lowered) or re.search(
            r"\b" + re.escape(fold(phrase)) + r"\b", folded
        ):
            found.append(phrase)
    return found


def asks_without_way_out(text: str, locale: str) -> bool:
    if "?" not in text:
        return False
    lowered = text.casefold()
    return not any(way in lowered for way in WAYS_OUT[locale])


def problems(text: str, locale: str) -> list[str]:
    issues = [f"banned phrase {p!r}" for p in banned_in(text, locale)]
    if locale == "en" and len(text.split()) >= MIN_WORDS_FOR_GRADE and grade(text) > MAX_GRADE:
        issues.append(f"grade {grade(text):.1f} > {MAX_GRADE}")
    if asks_without_way_out(text, locale):
        issues.append("asks a question without a way to skip or stop")
    return issues
