"""Tables of the SMS channel (migrations 0030 and 0055) and the few queries on them.

``sms_threads``: the numbered choices last shown to a contact, so a reply of
"2" means what the person saw (encrypted; one row per contact, erased with it).

``sms_opt_outs``: numbers that said STOP (or that Twilio reports as
unsubscribed), by the keyed hash the contacts table uses, never the number.
This is the channel's own record, written before the turn runs, so nothing is
sent to the number until START, whatever the dialog does with the contact.
START deletes the row: only active opt-outs are kept. It is not tied to a
contact row: STOP outlives "forget me" (as carriers keep it), and it covers
numbers that are not contacts (a counselor's phone being paged).

``sms_sends``: one row per message handed to the sender (its ``key``), with
the retry counter and the time of the next try (back-off survives a restart),
the text frozen once the first part was attempted (encrypted; cleared when
done), and ``outbox_id`` when the key is an outbox row (erased with it).

``sms_parts``: one row per part of a send. The row is written with status
``intent`` *before* Twilio's create call and gets the ``MessageSid`` after it,
so a crash between the two leaves an intent that is reconciled with Twilio's
Message list before anything is sent again. ``digest`` is a keyed hash of the
part's text (to match it in that list), never the text itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

__all__ = [
    "SmsOptOut",
    "SmsPart",
    "SmsSend",
    "SmsThread",
    "is_opted_out",
    "opt_in",
    "opt_out",
    "purge_finished",
]


class SmsThread(Base):
    __tablename__ = "sms_threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    # JSON [[label, value], ...], encrypted.
    choices_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class SmsOptOut(Base):
    __tablename__ = "sms_opt_outs"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # keyword | carrier
    created_at: Mapped[datetime]


class SmsSend(Base):
    __tablename__ = "sms_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    send_key: Mapped[str] = mapped_column(String(128), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), index=True
    )
    # sending | sent | failed
    status: Mapped[str] = mapped_column(String(16))
    # Failed tries so far (429, 5xx, network): the exponent of the back-off.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Twilio's error code, else the HTTP status, of the last failed try.
    last_error: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    # The text as first attempted, encrypted; None until then and once done.
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SmsPart(Base):
    __tablename__ = "sms_parts"
    __table_args__ = (UniqueConstraint("send_id", "part", name="uq_sms_parts_part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("sms_sends.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    # None while the create call may be in flight (status "intent").
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # intent | accepted | queued | sending | sent | delivered | undelivered | failed | read
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    # When the create call for this part was last started.
    intent_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


async def is_opted_out(session: AsyncSession, address_hash: str) -> bool:
    found = await session.scalar(
        select(SmsOptOut.address_hash).where(SmsOptOut.address_hash == address_hash)
    )
    return found is not None


async def opt_out(session: AsyncSession, address_hash: str, source: str, now: datetime) -> None:
    """Record STOP for a number (idempotent; the caller commits)."""
    if await is_opted_out(session, address_hash):
        return
    try:
        async with session.begin_nested():
            session.add(SmsOptOut(address_hash=address_hash, source=source, created_at=now))
    except IntegrityError:
        pass  # Recorded at the same moment by another request: the same outcome.


async def opt_in(session: AsyncSession, address_hash: str) -> bool:
    """START: forget the opt-out. True when there was one."""
    result = await session.execute(delete(SmsOptOut).where(SmsOptOut.address_hash == address_hash))
    return bool(getattr(result, "rowcount", 0))


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Forget sends that ended (sent or given up) before ``before``, with their parts.

    Rows of outbox messages go with the outbox row anyway; this bounds the rest
    (pages to counselors' phones). For the maintenance job, with the retention period.
    """
    result = await session.execute(
        delete(SmsSend).where(SmsSend.status.in_(("sent", "failed")), SmsSend.updated_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
