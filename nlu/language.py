"""Per-message language detection among the supported languages.

lingua is built for short texts; we restrict it to English and Spanish and
only trust it when it is clearly sure, so "ok" never flips the language.
"""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["detect_language"]

_CODES = {Language.ENGLISH: "en", Language.SPANISH: "es"}
_SPANISH_MARKS = frozenset("ñ¿¡áéíóú")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CODES).with_preloaded_language_models().build()


def detect_language(text: str, min_confidence: float = 0.80) -> str | None:
    """'en', 'es', or None when the text is too short or mixed to tell."""
    sample = text[:500]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 4:
        return None
    if any(ch in _SPANISH_MARKS for ch in sample.lower()):
        return "es"
    values = _detector().compute_language_confidence_values(sample)
    if not values:
        return None
    top = values[0]
    if top.value < min_confidence or (len(sample.split()) < 2 and top.value < 0.95):
        return None
    return _CODES.get(top.language)
