"""Database tables. The same models run on SQLite and PostgreSQL.

Personal data is stored only encrypted (``*_enc`` columns). A contact's
identity is the keyed hash of its address; erasing a contact deletes every
row that links to it (ON DELETE CASCADE, enforced in code as well because
SQLite needs a pragma for it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AuditEvent",
    "Base",
    "Contact",
    "Conversation",
    "Escalation",
    "InboxItem",
    "Message",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    locale: Mapped[str | None] = mapped_column(String(8))
    locale_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    country: Mapped[str] = mapped_column(String(8), default="US")
    # None: not asked or not answered yet; False: said no; True: said yes.
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None]
    discreet: Mapped[bool] = mapped_column(Boolean, default=False)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # HMAC of the survivor's chosen safe word (ADDRESS_HASH_KEY), never the word.
    safe_word_hash: Mapped[str | None] = mapped_column(String(64))


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(32), default="new")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Risk of the previous message, so a follow-up is read in context.
    last_risk: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    # During a warm handoff, the survivor's messages go to this escalation's counselor.
    handoff_escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "escalations.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_conversations_handoff_escalation",
        )
    )


class Message(Base):
    """The transcript, kept only with consent and only for the retention period."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(8))  # "in" | "out" (bot) | "staff"
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    risk_level: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]


class InboxItem(Base):
    """Every inbound message, persisted before the provider is acknowledged.

    The unique (channel, provider_id) pair de-duplicates retries. The encrypted
    payload lives only until the turn is processed; the stored result lets a
    retried request get the same replies without running the turn twice.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_inbox_provider"),
        Index("ix_inbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    result_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))  # "risk" | "requested"
    level: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(default=list)
    cues: Mapped[list[str]] = mapped_column(default=list)
    excerpt_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # open -> paged -> acknowledged -> claimed -> closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    # Paging: the next escalation step is due at next_page_at unless acknowledged.
    page_step: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    next_page_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="SET NULL", name="fk_escalations_acknowledged_by")
    )
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="SET NULL", name="fk_escalations_claimed_by")
    )
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(32))


class AuditEvent(Base):
    """Who did what and when. Never holds message text or addresses."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# Tables of other packages register on the same metadata when imported; the ORM
# needs them all to resolve foreign keys, so they load with this module.
def load_all_models() -> None:
    import aftercare.models  # noqa: F401
    import bot.channels.sms_store
    import bot.channels.telegram_store  # noqa: F401
    import escalation.models  # noqa: F401
    import resources_kb.models  # noqa: F401


load_all_models()
