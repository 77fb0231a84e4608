"""Tables for counselors, their shifts, pages, notes and the outbox.

Escalations themselves live in bot.storage.models (the pipeline creates them);
the columns added there for claiming and paging are migrated together with
these tables in 0003.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

__all__ = ["Counselor", "Note", "OutboxItem", "Page", "Shift", "StaffSession"]


class Counselor(Base):
    """A staff account: counselor, supervisor, reviewer or admin."""

    __tablename__ = "counselors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # counselor | supervisor | reviewer | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where pages go: console (live), telegram, sms (later channels).
    page_channel: Mapped[str] = mapped_column(String(16), default="console")
    page_address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselors.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Shift(Base):
    """On-call time: weekly (weekday + local times in a time zone) or one-off cover (UTC)."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselors.id", ondelete="CASCADE"))
    position: Mapped[str] = mapped_column(String(16))  # primary | backup | supervisor
    weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 Monday .. 6 Sunday
    start_local: Mapped[str | None] = mapped_column(String(5))  # "09:00"
    end_local: Mapped[str | None] = mapped_column(String(5))  # "17:00" (may wrap midnight)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[datetime | None]  # one-off cover
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Page(Base):
    """One attempt to reach a counselor about an escalation; unique per step and person."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("escalation_id", "step", "counselor_id", name="uq_page_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselors.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(SmallInteger)  # 0 primary, 1 backup, 2 supervisor, 3 all
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]


class Note(Base):
    """A counselor's private note on an escalation; never shown to the survivor."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    counselor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="SET NULL")
    )
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class OutboxItem(Base):
    """A message to send later (counselor relay, check-ins), sent once by its key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
