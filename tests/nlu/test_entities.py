"""Entities as tables: places, languages, relative times (en and es)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlu.entities import extract_entities

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # A Saturday, noon UTC.


def values(text: str, kind: str) -> list[object]:
    return [e.value for e in extract_entities(text, NOW) if e.entity == kind]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is there a shelter in Texas", ["US-TX"]),
        ("abogado en California", ["US-CA"]),
        ("i live in new mexico", ["US-NM"]),  # Not Mexico.
        ("estoy en Nueva York", ["US-NY"]),
        ("vivo en mexico", ["MX"]),
        ("I'm in the UK", ["UK"]),
        ("im in scotland", ["UK"]),
        ("I live in the US", ["US"]),
        ("estoy en españa", ["ES"]),
        ("mi familia esta en guatemala", ["GT"]),
        ("tell us more", []),  # "us" the word is not a place.
        ("what can you do", []),
    ],
)
def test_locations(text: str, expected: list[str]) -> None:
    assert values(text, "location") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can you speak spanish", ["es"]),
        ("en español por favor", ["es"]),
        ("english please", ["en"]),
        ("hablame en ingles", ["en"]),
        ("where is the shelter", []),
    ],
)
def test_languages(text: str, expected: list[str]) -> None:
    assert values(text, "language") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("check in with me tomorrow", "2026-11-22T12:00:00+00:00"),
        ("mañana", "2026-11-22T12:00:00+00:00"),
        ("manana por la tarde", "2026-11-22T15:00:00+00:00"),
        ("tomorrow morning", "2026-11-22T09:00:00+00:00"),
        ("in 3 days", "2026-11-24T12:00:00+00:00"),
        ("en tres días", "2026-11-24T12:00:00+00:00"),
        ("in two hours", "2026-11-21T14:00:00+00:00"),
        ("next Monday", "2026-11-23T12:00:00+00:00"),
        ("el lunes a las 6 de la tarde", "2026-11-23T18:00:00+00:00"),
        ("every monday at 6pm", "2026-11-23T18:00:00+00:00"),
        ("pasado mañana", "2026-11-23T12:00:00+00:00"),
        ("tonight", "2026-11-21T21:00:00+00:00"),
        ("at 9am", "2026-11-22T09:00:00+00:00"),  # 9am today has passed: tomorrow.
    ],
)
def test_relative_times(text: str, expected: str) -> None:
    assert values(text, "time") == [expected]


def test_no_time_in_an_ordinary_question() -> None:
    assert values("what is a t visa", "time") == []
