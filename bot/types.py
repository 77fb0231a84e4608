"""Plain message types shared by channels, NLU, dialogs and domain packages.

This module imports nothing from the project, so every package can use it
without import cycles. Channels translate provider payloads into these types
and back; nothing else knows which channel a message came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

__all__ = [
    "Choice",
    "Event",
    "InboundMessage",
    "Intent",
    "Reply",
    "RiskAssessment",
    "RiskLevel",
]


class RiskLevel(IntEnum):
    """Ordered so that ``max()`` picks the most urgent level."""

    NONE = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3
    IMMINENT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> RiskLevel:
        return cls[value.strip().upper()]


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: RiskLevel = RiskLevel.NONE
    categories: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()

    @property
    def escalates(self) -> bool:
        """High and imminent risk bring a counselor in."""
        return self.level >= RiskLevel.HIGH

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.label,
            "categories": list(self.categories),
            "cues": list(self.cues),
        }


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    confidence: float = 1.0
    entities: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a survivor, already verified and parsed by a channel.

    ``address`` is the raw reachable address (chat id, phone number, web
    session token). It is hashed for identity and encrypted at rest; it must
    never be logged.
    """

    channel: str
    address: str
    text: str
    provider_id: str
    received_at: datetime
    locale_hint: str | None = None
    # Web chat and Telegram: any message after "stop" is a return. SMS: only START
    # is, as carriers require; other words are read but leave the contact stopped.
    resume_on_any_message: bool = True


@dataclass(frozen=True, slots=True)
class Choice:
    """A button on channels that have them, a numbered line on those that don't."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    # Discreet replies reveal nothing about the service if someone else reads them.
    discreet: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}
