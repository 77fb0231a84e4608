"""Pure pieces of the Telegram channel: splitting, keyboards, cards, link codes.

No I/O here; each function is tested with a table of cases.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.types import Reply
from dialogs.texts import Texts

__all__ = [
    "CALLBACK_MAX_BYTES",
    "CLAIM_PREFIX",
    "EXIT_VALUE",
    "LINK_CODE_ALPHABET",
    "LINK_COMMAND",
    "MAX_CHARS",
    "as_plain_text",
    "card_markup",
    "card_text",
    "keyboard",
    "locale_hint",
    "new_link_code",
    "normalise_link_code",
    "parse_claim",
    "parse_counselor_ids",
    "split_text",
]

MAX_CHARS = 4096  # Telegram's limit for one message.
CALLBACK_MAX_BYTES = 64  # Telegram's limit for callback_data.
EXIT_VALUE = "/exit"
CLAIM_PREFIX = "claim:"
# No 0/O or 1/I: read aloud or typed from a screen without mistakes. 10 characters of
# 32 symbols are 50 bits; a code is good for minutes and tries are rate limited.
LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 10
# "/link ABCDE-FGHJK" (also "/link@harborline_bot abcdefghjk").
LINK_COMMAND = re.compile(r"^/link(?:@\w+)?\s+([A-Za-z0-9][A-Za-z0-9 -]{7,20})\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters.

    Cuts after the last sentence end (or line break) that fits; a sentence
    longer than ``limit`` is cut at the last space, then hard.
    """
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = max(
            (m.end() for m in _SENTENCE_END.finditer(window) if m.start() <= limit), default=0
        )
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        head = text[:cut].rstrip()
        if head:
            parts.append(head[:limit])
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def locale_hint(language_code: str | None) -> str:
    """Telegram's user language: any Spanish ("es", "es-MX") -> "es", else "en"."""
    return "es" if (language_code or "").lower().startswith("es") else "en"


def parse_counselor_ids(raw: str) -> dict[int, str]:
    """``"123:ana,456:luis"`` -> ``{123: "ana", 456: "luis"}``; malformed items are skipped."""
    found: dict[int, str] = {}
    for item in raw.split(","):
        user_id, _, name = item.strip().partition(":")
        if user_id.strip().lstrip("-").isdigit() and name.strip():
            found[int(user_id)] = name.strip().lower()
    return found


def parse_claim(data: str | None) -> int | None:
    """``"claim:12"`` -> 12; anything else -> None."""
    rest = (data or "").removeprefix(CLAIM_PREFIX)
    if not (data or "").startswith(CLAIM_PREFIX) or not rest.isdigit() or len(rest) > 12:
        return None
    return int(rest) or None


def keyboard(reply: Reply, exit_label: str | None) -> InlineKeyboardMarkup | None:
    """Choices as one button per row; the Exit button last when asked for."""
    rows = [
        [InlineKeyboardButton(text=c.label, callback_data=c.value)]
        for c in reply.choices
        if 0 < len(c.value.encode()) <= CALLBACK_MAX_BYTES
    ]
    if exit_label:
        rows.append([InlineKeyboardButton(text=exit_label, callback_data=EXIT_VALUE)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def as_plain_text(reply: Reply) -> str:
    """A reply without buttons (the outbox carries text): choices as numbered lines."""
    if not reply.choices:
        return reply.text
    lines = "\n".join(f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1))
    return f"{reply.text}\n{lines}"


def card_text(
    escalation_id: int, level: str, categories: Iterable[str], waiting_minutes: int, texts: Texts
) -> str:
    """What counselors see of a new request: never its words, never who it is."""
    topics = ", ".join(categories) or "-"
    return (
        f"{texts('telegram.card.title')} #{escalation_id}\n"
        f"{texts('telegram.card.level')}: {level}\n"
        f"{texts('telegram.card.topics')}: {topics}\n"
        f"{texts('telegram.card.waiting')}: {waiting_minutes}"
    )


def card_markup(escalation_id: int, texts: Texts) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=texts("telegram.card.claim"), callback_data=f"{CLAIM_PREFIX}{escalation_id}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def new_link_code() -> str:
    """A one-time code to link a Telegram account, e.g. ``"K7QXM-2RDPA"``."""
    code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def normalise_link_code(text: str) -> str | None:
    """What a person typed -> the code as made (``"k7qxm 2rdpa"`` -> ``"K7QXM-2RDPA"``)."""
    code = re.sub(r"[\s-]+", "", text).upper()
    if len(code) != LINK_CODE_LENGTH or any(c not in LINK_CODE_ALPHABET for c in code):
        return None
    return f"{code[:5]}-{code[5:]}"
