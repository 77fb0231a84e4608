"""The writing rules every text lint uses: one copy, in resources_kb/writing.py."""

from __future__ import annotations

from resources_kb.writing import (
    BANNED,
    MAX_GRADE,
    MIN_WORDS_FOR_GRADE,
    WAYS_OUT,
    asks_without_way_out,
    banned_in,
    grade,
    problems,
)

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
