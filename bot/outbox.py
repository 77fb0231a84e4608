"""Messages the service starts (counselor relay, closings, check-ins, pages).

Rows in `outbox` are the source of truth. Pull channels (the web chat) take
them when the page asks; push channels get a sender loop (Telegram, SMS).
Each row is handed out once: claimed under a row lock, marked sent in the
same transaction.

A row goes to a survivor (``contact_id``; the address is the contact's) or to
a counselor (``counselor_id`` with its own encrypted ``address_enc``: pages by
SMS). A counselor's row that is sent marks its page delivered; one that cannot
be delivered never touches any contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update

from bot.crypto import Cipher
from bot.storage.db import Database
from bot.storage.models import Contact
from escalation.models import OutboxItem, Page

__all__ = ["OutboxDispatcher", "SendResult", "Sender", "backoff", "take_for_contact"]

log = logging.getLogger("harborline.outbox")


async def take_for_contact(
    db: Database, cipher: Cipher, address_hash: str, now: datetime, limit: int = 20
) -> list[str]:
    """Pending texts for one contact, oldest first, each returned exactly once.

    The web chat asks often and there is mostly nothing: that is one read, and
    only a contact with something waiting queues for the writer.
    """
    async with db.sessions() as session:
        contact_id = await session.scalar(
            select(Contact.id).where(Contact.address_hash == address_hash)
        )
        waiting = contact_id is not None and await session.scalar(
            select(OutboxItem.id)
            .where(OutboxItem.contact_id == contact_id, OutboxItem.status == "pending")
            .limit(1)
        )
    if not waiting:
        return []
    async with db.writing(), db.write_sessions() as session, session.begin():
        statement = (
            select(OutboxItem)
            .where(OutboxItem.contact_id == contact_id, OutboxItem.status == "pending")
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            statement = statement.with_for_update(skip_locked=True)
        items = (await session.execute(statement)).scalars().all()
        texts = []
        for item in items:
            texts.append(str(json.loads(cipher.decrypt(item.payload_enc))["text"]))
            item.status = "sent"
            item.sent_at = now
            item.attempts += 1
        return texts


# -- push channels -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a channel sender reports for one message."""

    ok: bool
    retry_after: float | None = None  # Seconds; None with ok=False means "gave up for good".
    unreachable: bool = False  # The person blocked us or the number is dead.


class Sender(Protocol):
    async def send(self, address: str, text: str, key: str) -> SendResult: ...


MAX_ATTEMPTS = 8


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Provider's Retry-After when given, else exponential: 2, 4, 8 ... 300 s."""
    if retry_after is not None:
        return timedelta(seconds=max(0.0, retry_after))
    return timedelta(seconds=min(300.0, 2.0**attempts))


class OutboxDispatcher:
    """Sends due outbox rows on push channels, at most once each.

    A row is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL) and marked
    `sending` in its own transaction before the provider is called, so a
    second worker never sends it again; the provider result decides `sent`,
    a retry time, or `failed`. A worker killed between claim and result
    leaves the row `sending`: `requeue_stale` puts it back after a grace
    period, and the idempotency key lets providers that support it drop
    the duplicate.
    """

    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        senders: dict[str, Sender],
        clock: Callable[[], datetime],
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.senders = senders
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def _claim(self) -> list[tuple[int, int | None, str, str, str, int]]:
        now = self.clock()
        if not self.senders or not await self._anything_due(now):
            return []  # An idle round never queues for the writer.
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
            statement = (
                select(OutboxItem, Contact.address_enc)
                .outerjoin(Contact, Contact.id == OutboxItem.contact_id)
                .where(
                    OutboxItem.status == "pending",
                    OutboxItem.next_attempt_at <= now,
                    OutboxItem.channel.in_(tuple(self.senders)),
                )
                .order_by(OutboxItem.next_attempt_at)
                .limit(50)
            )
            if not self.db.is_sqlite:
                statement = statement.with_for_update(skip_locked=True, of=OutboxItem)
            claimed = []
            for item, contact_address_enc in (await session.execute(statement)).all():
                # A survivor's row uses the contact's address; a counselor's row its own.
                address_enc = (
                    contact_address_enc if item.contact_id is not None else item.address_enc
                )
                if address_enc is None:
                    item.status = "failed"
                    continue
                item.status = "sending"
                item.attempts += 1
                item.next_attempt_at = now
                text = str(json.loads(self.cipher.decrypt(item.payload_enc))["text"])
                address = self.cipher.decrypt(address_enc)
                claimed.append(
                    (item.id, item.contact_id, item.channel, address, text, item.attempts)
                )
            return claimed

    async def _anything_due(self, now: datetime) -> bool:
        async with self.db.sessions() as session:
            found = await session.scalar(
                select(OutboxItem.id)
                .where(
                    OutboxItem.status == "pending",
                    OutboxItem.next_attempt_at <= now,
                    OutboxItem.channel.in_(tuple(self.senders)),
                )
                .limit(1)
            )
        return found is not None

    async def run_once(self) -> int:
        sent = 0
        for item_id, contact_id, channel, address, text, attempts in await self._claim():
            key = f"outbox-{item_id}"
            try:
                result = await self.senders[channel].send(address, text, key)
            except Exception as exc:  # A sender bug must not stop the others: retry later.
                log.error("send failed: %s", type(exc).__name__)
                result = SendResult(ok=False, retry_after=backoff(attempts, None).total_seconds())
            await self._record(item_id, contact_id, result, attempts)
            sent += int(result.ok)
        return sent

    async def _record(
        self, item_id: int, contact_id: int | None, result: SendResult, attempts: int
    ) -> None:
        now = self.clock()
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
            item = await session.get(OutboxItem, item_id)
            if item is None:
                return
            if result.ok:
                item.status, item.sent_at = "sent", now
                if item.counselor_id is not None:  # A page: delivered now.
                    await session.execute(
                        update(Page)
                        .where(Page.outbox_id == item.id, Page.delivered_at.is_(None))
                        .values(delivered_at=now)
                    )
            elif result.unreachable or attempts >= MAX_ATTEMPTS or result.retry_after is None:
                item.status = "failed"
                if item.counselor_id is not None:
                    log.warning("page to counselor %d not delivered", item.counselor_id)
                elif result.unreachable and contact_id is not None:
                    contact = await session.get(Contact, contact_id)
                    if contact is not None:
                        contact.stopped = True  # Unreachable: nothing more is sent.
            else:
                item.status = "pending"
                item.next_attempt_at = now + backoff(attempts, result.retry_after)

    async def requeue_stale(self, older_than: timedelta = timedelta(minutes=2)) -> int:
        cutoff = self.clock() - older_than
        stale = (OutboxItem.status == "sending", OutboxItem.next_attempt_at < cutoff)
        async with self.db.sessions() as session:
            if await session.scalar(select(OutboxItem.id).where(*stale).limit(1)) is None:
                return 0
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
            # One conditional UPDATE: a row another worker claimed again meanwhile
            # (``next_attempt_at`` moved on) no longer matches, so it is never sent twice.
            result = await session.execute(
                update(OutboxItem).where(*stale).values(status="pending")
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.requeue_stale()
                await self.run_once()
            except Exception as exc:
                log.error("outbox round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
