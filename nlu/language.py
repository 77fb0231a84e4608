"""Per-message language detection among the supported languages.

lingua is built for short texts; we restrict it to English and Spanish and
only trust it when it is clearly sure, so "ok" never flips the language.
"""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from dialogs.normalize import fold

__all__ = ["detect_language"]

_CODES = {Language.ENGLISH: "en", Language.SPANISH: "es"}
_SPANISH_MARKS = frozenset("ñ¿¡áéíóú")
# Short messages defeat statistical detection ("hola", "help"); these common
# words settle them when lingua is unsure.
_MARKER_WORDS = {
    "es": frozenset(
        "hola buenas buenos gracias ayuda ayudame quiero necesito tengo estoy puedo donde "
        "como que porque pero tambien usted ustedes nada nadie mucho miedo trabajo casa "
        "abogado papeles dinero hijos".split()
    ),
    "en": frozenset(
        "hi hello hey thanks thank help please need want have am can where how what why "
        "the my you your with job money lawyer kids home".split()
    ),
}


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Low-accuracy mode keeps ~13 MB of models instead of ~95 MB; short texts are
    # settled by the marker words below when lingua is unsure.
    return (
        LanguageDetectorBuilder.from_languages(*_CODES)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str, min_confidence: float = 0.80) -> str | None:
    """'en', 'es', or None when the text is too short or mixed to tell."""
    sample = text[:500]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 2:
        return None
    if any(ch in _SPANISH_MARKS for ch in sample.lower()):
        return "es"
    values = _detector().compute_language_confidence_values(sample) if letters >= 4 else []
    if values:
        top = values[0]
        sure = top.value >= min_confidence and (len(sample.split()) >= 2 or top.value >= 0.95)
        if sure:
            return _CODES.get(top.language)
    return _by_marker_words(sample)


def _by_marker_words(sample: str) -> str | None:
    words = set(fold(sample).split())
    hits = {code: len(words & markers) for code, markers in _MARKER_WORDS.items()}
    if hits["es"] > hits["en"]:
        return "es"
    if hits["en"] > hits["es"]:
        return "en"
    return None
