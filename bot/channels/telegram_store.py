"""Telegram message ids of a conversation, kept only so quick exit can delete them.

Bots may delete messages in a private chat for 48 hours, so rows older than that
are useless and purged. Each row holds the contact's address hash, one message id
and when it was sent: no text, no chat id. Erasing the contact deletes its rows
(ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import AsyncSession
from bot.storage.models import Base

__all__ = ["DELETABLE_FOR", "TelegramMessage", "forget_ids", "message_ids", "purge_old", "remember"]

# Telegram lets a bot delete messages in private chats for 48 hours.
DELETABLE_FOR = timedelta(hours=48)


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


async def remember(
    session: AsyncSession, contact_id: int, who: str, ids: list[int], now: datetime
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


async def forget_ids(session: AsyncSession, who: str) -> None:
    await session.execute(delete(TelegramMessage).where(TelegramMessage.address_hash == who))


async def purge_old(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(TelegramMessage).where(TelegramMessage.sent_at <= now - DELETABLE_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)
