"""SMS shaping as pure functions: encodings, segments, splitting, numbered choices, keywords.

An SMS travels as GSM-7 when every character is in the GSM 03.38 alphabet
(160 septets alone, 153 per part once concatenated; ``^{}\\[~]|€`` cost two),
otherwise as UCS-2 (70 UTF-16 units alone, 67 per part; an emoji costs two and
is never cut in half). One accent outside GSM-7 ("í", "á") or one emoji moves
the whole message to UCS-2. Nothing here does I/O; the tables in
tests/channels/test_sms.py pin the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from bot.types import Choice, Reply
from dialogs.normalize import fold

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENDED",
    "MAX_SEGMENTS",
    "Keyword",
    "Segments",
    "choice_value",
    "classify_keyword",
    "fits",
    "normalize_number",
    "segments",
    "shape_turn",
    "smart_encode",
    "split_for_sms",
]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + character: two septets each, never split across parts.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
# A message longer than this many segments is sent as several messages.
MAX_SEGMENTS = 3

# What Twilio's "smart encoding" does: typographic look-alikes that would force
# UCS-2 become their plain GSM-7 twins. Accents and emoji are meaning: kept.
_SMART = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2026": "...",
        "\u2022": "-",
    }
)


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "GSM-7" | "UCS-2"
    count: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def smart_encode(text: str) -> str:
    return text.translate(_SMART)


def _is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _units(text: str, gsm: bool) -> list[int]:
    """The cost of each character, which must stay whole inside one part."""
    if gsm:
        return [2 if c in GSM7_EXTENDED else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def segments(text: str) -> Segments:
    """How many SMS segments ``text`` takes, and in which encoding."""
    gsm = _is_gsm7(text)
    costs = _units(text, gsm)
    total = sum(costs)
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    encoding = "GSM-7" if gsm else "UCS-2"
    if total == 0:
        return Segments(encoding, 0, 0)
    if total <= single:
        return Segments(encoding, 1, total)
    count, used = 1, 0
    for cost in costs:  # A character is never cut: an escape pair or emoji opens the next part.
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return Segments(encoding, count, total)


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    return segments(text).count <= max_segments


_SEPARATORS = (
    re.compile(r"(?<=\n\n)"),  # paragraphs
    re.compile(r"(?<=\n)"),  # lines
    re.compile(r"(?<=[.!?])(?=\s)"),  # sentences
    re.compile(r"(?=\s)"),  # words
)


def split_for_sms(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Parts of at most ``max_segments`` segments each, cut at the cleanest boundary.

    Paragraphs first, then lines, sentences, words; a single word longer than a
    part is cut by characters (never inside an escape pair or an emoji).
    """
    text = smart_encode(text).strip()
    if not text:
        return []
    if fits(text, max_segments):
        return [text]
    for separator in _SEPARATORS:
        pieces = [p for p in separator.split(text) if p]
        if len(pieces) > 1:
            return _pack(pieces, max_segments)
    return _hard_split(text, max_segments)


def _pack(pieces: Iterable[str], max_segments: int) -> list[str]:
    out: list[str] = []
    current = ""
    for piece in pieces:
        candidate = current + piece if current else piece.lstrip()
        if fits(candidate.strip(), max_segments):
            current = candidate
            continue
        if current.strip():
            out.append(current.strip())
        if fits(piece.strip(), max_segments):
            current = piece.lstrip()
        else:
            out.extend(split_for_sms(piece, max_segments))
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def _hard_split(text: str, max_segments: int) -> list[str]:
    out: list[str] = []
    start = 0
    while start < len(text):
        end = start + 1
        while end < len(text) and fits(text[start : end + 1], max_segments):
            end += 1
        out.append(text[start:end])
        start = end
    return out


def normalize_number(raw: str, default_region: str = "US") -> str | None:
    """E.164 (+15551234567) for a possible phone number, else None."""
    raw = raw.strip()
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# -- a turn's replies as SMS ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChoiceWords:
    """'Reply 1 for Yes' in the reply's language."""

    reply: str = "Reply"
    for_: str = "for"

    def line(self, number: int, label: str) -> str:
        return f"{self.reply} {number} {self.for_} {label}"


def shape_turn(
    replies: Sequence[Reply], words: ChoiceWords, max_segments: int = MAX_SEGMENTS
) -> tuple[list[str], list[Choice]]:
    """The messages to send and the choices their numbers stand for.

    Choices are numbered across the whole turn (1, 2, 3 ...), so a reply of
    "2" means one thing. Short replies are joined into one message while it
    stays within ``max_segments``: fewer messages, and they can't arrive out of
    order.
    """
    numbered: list[Choice] = []
    blocks: list[str] = []
    for reply in replies:
        lines = [smart_encode(reply.text).strip()]
        for choice in reply.choices:
            numbered.append(choice)
            lines.append(words.line(len(numbered), choice.label))
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if fits(candidate, max_segments):
            current = candidate
            continue
        if current:
            messages.append(current)
        parts = split_for_sms(block, max_segments)
        current = parts.pop() if parts else ""
        messages.extend(parts)
    if current:
        messages.append(current)
    return messages, numbered


_NUMBER = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


def choice_value(text: str, choices: Sequence[Choice]) -> str | None:
    """The value of the numbered choice a reply like "2" or "2." picks, else None."""
    match = _NUMBER.match(text)
    if match is None:
        return None
    number = int(match[1])
    if 1 <= number <= len(choices):
        return choices[number - 1].value
    return None


# -- carrier keywords -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Keyword:
    kind: str  # "stop" | "start" | "help"
    locale: str | None  # "es" for Spanish words, None for English or shared

    @property
    def command(self) -> str:
        """The dialog's own word for it, so every synonym means the same to the pipeline."""
        return _COMMANDS[self.kind, self.locale == "es"]


_COMMANDS = {
    ("stop", False): "stop",
    ("stop", True): "parar",
    ("start", False): "start",
    ("start", True): "comenzar",
    ("help", False): "help",
    ("help", True): "ayuda",
}

# Matched against the whole message (trimmed, any case, accents and punctuation
# ignored), as carriers and Twilio's opt-out handling do: Twilio's default
# opt-out words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT),
# opt-in words (START, UNSTOP, and YES from a stopped number) and HELP/INFO; the
# Spanish words carriers ask Spanish programs to honour (ALTO, AYUDA) and their
# common twins. "Stop please" is a sentence, not a keyword, as at the carrier.
_KEYWORDS: dict[str, Keyword] = {
    **{
        w: Keyword("stop", None)
        for w in (
            "stop",
            "stopall",
            "stop all",
            "unsubscribe",
            "cancel",
            "end",
            "quit",
            "revoke",
            "optout",
            "opt out",
        )
    },
    **{w: Keyword("stop", "es") for w in ("parar", "alto", "detener", "cancelar")},
    **{w: Keyword("start", None) for w in ("start", "unstop")},
    **{w: Keyword("start", "es") for w in ("comenzar", "empezar")},
    **{w: Keyword("help", None) for w in ("help", "info")},
    "ayuda": Keyword("help", "es"),
}
# Only from a stopped number: otherwise they answer the dialog's questions.
_OPT_IN_WHEN_STOPPED = {"yes": Keyword("start", None), "si": Keyword("start", "es")}


def classify_keyword(text: str, *, stopped: bool = False) -> Keyword | None:
    """STOP / START / HELP family, or None. A stopped number also opts in with YES (SÍ)."""
    folded = fold(text)
    found = _KEYWORDS.get(folded)
    if found is None and stopped:
        return _OPT_IN_WHEN_STOPPED.get(folded)  # Twilio re-subscribes a number on YES too.
    return found
