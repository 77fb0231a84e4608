"""Tables for counselors, their shifts, pages, notes and the outbox.

Escalations themselves live in bot.storage.models (the pipeline creates them);
the columns added there for claiming and paging are migrated together with
these tables in 0010. Paging channels, counselor-addressed outbox rows and one
page row per channel came in 0080.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base

__all__ = ["PAGE_CHANNELS", "Counselor", "Note", "OutboxItem", "Page", "Shift", "StaffSession"]

# Where a counselor's pages go besides the console, which always gets them live.
PAGE_CHANNELS = ("console", "sms", "telegram")


class Counselor(Base):
    """A staff account: counselor, supervisor, reviewer or admin."""

    __tablename__ = "counselors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # counselor | supervisor | reviewer | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where pages go besides the console (always live): console | sms | telegram.
    page_channel: Mapped[str] = mapped_column(String(16), default="console")
    # Encrypted with the Cipher: an E.164 number (sms) or a Telegram user id (telegram).
    page_address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The language of texts sent to this counselor (pages by SMS): en | es.
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
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
    """One attempt to reach a counselor about an escalation on one channel.

    Unique per escalation, step, person and channel: a step pages a person at
    most once on each channel. Console pages are marked delivered once
    published on the bus; SMS pages once the outbox row (``outbox_id``) is sent.
    """

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint(
            "escalation_id", "step", "counselor_id", "channel", name="uq_page_step_channel"
        ),
        Index("ix_pages_delivered", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselors.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(SmallInteger)  # 0 primary, 1 backup, 2 supervisor, 3 all
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL", name="fk_pages_outbox")
    )
    # Set when the page is written, never loaded (async sessions don't lazy-load).
    outbox: Mapped[OutboxItem | None] = relationship(lazy="raise")


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
    """A message to send later, sent once by its key.

    To a survivor (``contact_id``: counselor relay, closings, check-ins; the
    address is the contact's) or to a counselor (``counselor_id`` and
    ``address_enc``, no contact: pages by SMS).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint(
            "contact_id IS NOT NULL OR (counselor_id IS NOT NULL AND address_enc IS NOT NULL)",
            name="ck_outbox_target",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    counselor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="CASCADE", name="fk_outbox_counselor")
    )
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel: Mapped[str] = mapped_column(String(16))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
