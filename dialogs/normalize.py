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
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _PUNCT.sub(" ", stripped)
    return _SPACES.sub(" ", stripped).strip()
