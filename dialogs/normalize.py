"""Text normalisation shared by command matching and NLU."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_inbound", "fold"]

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_PUNCT = re.compile(r"[^\w\s/]+")
_SPACES = re.compile(r"\s+")


def clean_inbound(text: str) -> str:
    """Drop control and direction-override characters, lone surrogates; trim."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Lowercase, strip accents and punctuation: 'Olvídame!' -> 'olvidame'."""
    folded = text.casefold()
    if not folded.isascii():  # ASCII has no accents: skip the per-character pass.
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _PUNCT.sub(" ", folded)
    return _SPACES.sub(" ", stripped).strip()
