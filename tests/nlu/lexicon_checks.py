"""Checks shared by the lexicon passes' case tables (test_risk_*pass*.py).

Each pass keeps its own table of phrasings written for it; these say what a
row must do, the same way for every pass. Lexicon only: no classifier.
"""

from __future__ import annotations

from bot.types import RiskLevel
from nlu.risk import RiskScreen


def escalates(screen: RiskScreen, lang: str, text: str, category: str) -> None:
    """High or above, with the row's category."""
    result = screen.assess(text)
    assert result.level >= RiskLevel.HIGH, (lang, text, result)
    assert category in result.categories, (lang, text, result)


def asks(screen: RiskScreen, lang: str, text: str, category: str) -> None:
    """At least a gentle question (moderate), with the row's category."""
    result = screen.assess(text)
    assert result.level >= RiskLevel.MODERATE, (lang, text, result)
    assert category in result.categories, (lang, text, result)


def stays_at_most(screen: RiskScreen, lang: str, text: str, ceiling: RiskLevel) -> None:
    """A look-alike of a cue: no higher than ``ceiling``."""
    result = screen.assess(text)
    assert result.level <= ceiling, (lang, text, result)
