"""Tables of the SMS channel (migration 0030).

``sms_threads``: the numbered choices last shown to a contact, so a reply of
"2" means what the person saw (encrypted; one row per contact, erased with it).
``sms_deliveries``: each Twilio message sent from the outbox (one per part of a
long text) with the status Twilio last reported: queued, sent, delivered,
undelivered, failed. A part already recorded is not sent again on a retry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

__all__ = ["SmsDelivery", "SmsThread"]


class SmsThread(Base):
    __tablename__ = "sms_threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    # JSON [[label, value], ...], encrypted.
    choices_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class SmsDelivery(Base):
    __tablename__ = "sms_deliveries"
    __table_args__ = (UniqueConstraint("outbox_id", "part", name="uq_sms_deliveries_part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer, default=0)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # queued | sending | sent | delivered | undelivered | failed | read
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
