"""Check-in tables. Rows are the source of truth; due times are UTC.

Both tables cascade with the contact: "forget me" removes every check-in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

__all__ = ["Checkin", "CheckinPreferences"]

STATUSES = ("scheduled", "paused", "sent", "answered", "missed", "cancelled")
ACTIVE = ("scheduled", "paused", "sent")


class Checkin(Base):
    """One check-in rule and its current occurrence.

    scheduled -> sent -> answered | missed; a weekly one then goes back to
    scheduled with the next due time. ``sequence`` counts occurrences sent: the
    outbox key ``checkin:<id>:<sequence>`` makes each one enqueued once.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_due", "status", "due_at"),
        Index("ix_checkins_answer_due", "status", "answer_due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # once | weekly
    weekday: Mapped[int | None] = mapped_column(SmallInteger)
    local_time: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    # How long an answer is waited for before the check-in counts as missed.
    window_minutes: Mapped[int] = mapped_column(Integer, default=720)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    discreet: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(32), default="survivor")
    sent_at: Mapped[datetime | None]
    answer_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(16))  # ok | talk | stop | other
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CheckinPreferences(Base):
    """A contact's choices for check-ins; missing row = the defaults."""

    __tablename__ = "checkin_preferences"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    discreet: Mapped[bool] = mapped_column(Boolean, default=True)
    # Opt-in: tell a counselor after this many missed check-ins in a row (None: never).
    notify_after_missed: Mapped[int | None] = mapped_column(Integer)
    missed_in_row: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
