"""What the Telegram channel keeps: message ids, sent markers, cards, counselor links.

- ``telegram_messages`` (0020): message ids of a survivor's chat, kept only so quick
  exit can delete them. Bots may delete messages in a private chat for 48 hours, so
  older rows are purged. No text, no chat id. Erasing the contact deletes them.
- ``telegram_sends`` (0050): one row per reply piece that reached Telegram (or was
  handed to the outbox), written right after the send. A redelivered update sends
  only the pieces without a row. Keys, message ids and times only; purged after two
  days, like the inbox's provider ids.
- ``telegram_cards`` (0050): escalation cards in the counselors' group and in
  counselors' direct messages, one row per card key (unique), claimed before the
  card is sent. The row links the card's message id to its escalation, records who
  claimed through it and how far the survivor's words were relayed to it.
- ``telegram_counselors`` and ``telegram_link_codes`` (0050): a counselor account
  linked to one Telegram account with a one-time code (only its SHA-256 is stored).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import AsyncSession
from bot.storage.models import Base

__all__ = [
    "DELETABLE_FOR",
    "MARKERS_KEPT_FOR",
    "TelegramCard",
    "TelegramLink",
    "TelegramLinkCode",
    "TelegramMessage",
    "TelegramSend",
    "code_hash",
    "exited_after",
    "forget_ids",
    "message_ids",
    "purge_old",
    "remember",
    "sent_parts",
    "take_card",
]

# Telegram lets a bot delete messages in private chats for 48 hours.
DELETABLE_FOR = timedelta(hours=48)
# Sent markers live as long as the inbox remembers the update id (a later
# redelivery is a new update anyway).
MARKERS_KEPT_FOR = timedelta(days=2)


class TelegramMessage(Base):
    __tablename__ = "telegram_messages"
    __table_args__ = (
        Index("ix_telegram_messages_address", "address_hash"),
        Index("ix_telegram_messages_sent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime]


class TelegramSend(Base):
    """A piece of a reply that went out once: ``reply:<update>:<n>``, ``exit:<update>``,
    ``outbox:<item>:<n>``. ``message_id`` is None when the piece went to the outbox."""

    __tablename__ = "telegram_sends"
    __table_args__ = (
        Index("ix_telegram_sends_sent", "sent_at"),
        Index("ix_telegram_sends_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Quick-exit rows only: later redeliveries of older updates of this chat stay silent.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE", name="fk_telegram_sends_contact")
    )
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime]


class TelegramCard(Base):
    """An escalation card: ``group:<escalation>`` or ``page:<escalation>:<step>:<counselor>``.

    status: sending (claimed by a worker; ``updated_at`` is its lease) -> sent | failed.
    """

    __tablename__ = "telegram_cards"
    __table_args__ = (
        Index("ix_telegram_cards_escalation", "escalation_id"),
        Index("ix_telegram_cards_message", "chat_id", "message_id"),
        Index("ix_telegram_cards_status", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE", name="fk_telegram_cards_escalation")
    )
    # The paged counselor (direct-message cards); None for the group's card.
    counselor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="CASCADE", name="fk_telegram_cards_counselor")
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="sending")
    # Who claimed the escalation through this card: the survivor's words come here.
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("counselors.id", ondelete="SET NULL", name="fk_telegram_cards_claimed_by")
    )
    forwarded_up_to: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TelegramLink(Base):
    """A counselor account's Telegram account: pages arrive there as cards."""

    __tablename__ = "telegram_counselors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counselor_id: Mapped[int] = mapped_column(
        ForeignKey("counselors.id", ondelete="CASCADE", name="fk_telegram_counselors_counselor"),
        unique=True,
    )
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    linked_at: Mapped[datetime]


class TelegramLinkCode(Base):
    """A one-time code that links the Telegram account that sends it; SHA-256 only."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counselor_id: Mapped[int] = mapped_column(
        ForeignKey("counselors.id", ondelete="CASCADE", name="fk_telegram_link_codes_counselor")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# -- quick-exit message ids -----------------------------------------------------------------


async def remember(
    session: AsyncSession, contact_id: int, who: str, ids: Iterable[int], now: datetime
) -> None:
    for message_id in ids:
        session.add(
            TelegramMessage(
                contact_id=contact_id, address_hash=who, message_id=message_id, sent_at=now
            )
        )


async def message_ids(session: AsyncSession, who: str, now: datetime) -> list[int]:
    """Ids still deletable (newer than 48 hours), oldest first."""
    rows = await session.scalars(
        select(TelegramMessage.message_id)
        .where(TelegramMessage.address_hash == who, TelegramMessage.sent_at > now - DELETABLE_FOR)
        .order_by(TelegramMessage.id)
    )
    return list(rows)


async def forget_ids(session: AsyncSession, who: str, ids: Iterable[int] | None = None) -> None:
    """Forget the chat's message ids (only ``ids`` when given: those deleted just now)."""
    statement = delete(TelegramMessage).where(TelegramMessage.address_hash == who)
    if ids is not None:
        statement = statement.where(TelegramMessage.message_id.in_(list(ids)))
    await session.execute(statement)


# -- sent markers ---------------------------------------------------------------------------


async def sent_parts(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of ``keys`` went out already."""
    if not keys:
        return set()
    rows = await session.scalars(select(TelegramSend.key).where(TelegramSend.key.in_(keys)))
    return set(rows)


async def exited_after(session: AsyncSession, contact_id: int, update_id: int) -> bool:
    """Did this chat use quick exit in an update later than ``update_id``?"""
    found = await session.scalar(
        select(TelegramSend.id)
        .where(TelegramSend.contact_id == contact_id, TelegramSend.update_id > update_id)
        .limit(1)
    )
    return found is not None


# -- cards ----------------------------------------------------------------------------------


async def take_card(
    session: AsyncSession,
    key: str,
    *,
    escalation_id: int,
    counselor_id: int | None,
    chat_id: int,
    now: datetime,
    lease: timedelta,
) -> int | None:
    """Claim the right to send the card ``key``: its row id, or None if someone has it.

    The first caller inserts the row (unique key). A row left ``sending`` longer than
    ``lease`` (its worker died before the send, or the send failed for now) is taken
    over by exactly one caller: the conditional UPDATE moves the lease.
    """
    card = TelegramCard(
        key=key,
        escalation_id=escalation_id,
        counselor_id=counselor_id,
        chat_id=chat_id,
        message_id=None,
        status="sending",
        claimed_by=None,
        forwarded_up_to=0,
        created_at=now,
        updated_at=now,
    )
    session.add(card)
    try:
        await session.commit()
        return card.id
    except IntegrityError:
        await session.rollback()
    result = await session.execute(
        update(TelegramCard)
        .where(
            TelegramCard.key == key,
            TelegramCard.status == "sending",
            TelegramCard.updated_at < now - lease,
        )
        .values(updated_at=now)
        .returning(TelegramCard.id)
    )
    taken = result.scalar()
    await session.commit()
    return taken


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# -- purge ----------------------------------------------------------------------------------


async def purge_old(session: AsyncSession, now: datetime) -> int:
    """Message ids past 48 hours, sent markers past two days, expired link codes."""
    result = await session.execute(
        delete(TelegramMessage).where(TelegramMessage.sent_at <= now - DELETABLE_FOR)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    result = await session.execute(
        delete(TelegramSend).where(TelegramSend.sent_at <= now - MARKERS_KEPT_FOR)
    )
    count += int(getattr(result, "rowcount", 0) or 0)
    await session.execute(delete(TelegramLinkCode).where(TelegramLinkCode.expires_at <= now))
    return count
