"""Hands due check-ins to the outbox, exactly once each, and records misses.

One transaction per batch: claim due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers split the work; SQLite runs one dispatcher and
serialises writers), write the outbox row with the key
``checkin:<id>:<sequence>`` (unique), mark the check-in sent, commit. A worker
killed before the commit leaves nothing behind: the row is still due and the
next round sends it. A worker killed after it has already sent it. Either way
the outbox holds exactly one row per occurrence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from aftercare import service
from aftercare.models import Checkin, CheckinPreferences
from bot.crypto import Cipher
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact
from dialogs.texts import get_texts
from escalation.service import enqueue_for_survivor

__all__ = ["CheckinDispatcher", "checkin_text", "outbox_key"]

log = logging.getLogger("harborline.aftercare")


def outbox_key(checkin_id: int, sequence: int) -> str:
    return f"checkin:{checkin_id}:{sequence}"


def checkin_text(locale: str | None, discreet: bool) -> str:
    texts = get_texts(locale or "en")
    return texts("checkins.message_discreet" if discreet else "checkins.message")


class CheckinDispatcher:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        clock: Callable[[], datetime],
        *,
        batch: int = 500,
        poll_seconds: float = 1.0,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.on_enqueued = on_enqueued  # Nudges push senders (the outbox dispatcher).
        # Tests: called after the batch is written and before it commits (a crash point).
        self.before_commit: Callable[[], Awaitable[None]] | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> list[dict[str, Any]]:
        """Send everything due now, then record misses. Events carry ``contact_id``."""
        events: list[dict[str, Any]] = []
        while True:
            sent, batch_events = await self._send_batch()
            events.extend(batch_events)
            if sent < self.batch:
                break
        events.extend(await self._mark_missed())
        if any(e["type"] == "checkin.sent" for e in events):
            self.on_enqueued()
        return events

    def _claim(self, statement: Any) -> Any:
        if not self.db.is_sqlite:
            return statement.with_for_update(skip_locked=True, of=Checkin)
        return statement

    async def _send_batch(self) -> tuple[int, list[dict[str, Any]]]:
        now = self.clock()
        events: list[dict[str, Any]] = []
        async with self.db.sessions() as session, session.begin():
            statement = self._claim(
                select(Checkin, Contact)
                .join(Contact, Contact.id == Checkin.contact_id)
                .where(Checkin.status == "scheduled", Checkin.due_at <= now)
                .order_by(Checkin.due_at, Checkin.id)
                .limit(self.batch)
            )
            rows = (await session.execute(statement)).all()
            for checkin, contact in rows:
                events.append(await self._send_one(session, checkin, contact, now))
            if self.before_commit is not None:
                await self.before_commit()
        return len(rows), events

    async def _send_one(
        self, session: AsyncSession, checkin: Checkin, contact: Contact, now: datetime
    ) -> dict[str, Any]:
        checkin.updated_at = now
        if contact.stopped or contact.address_enc is None:
            # Said STOP or unreachable: never send; the rule ends here.
            checkin.status = "cancelled"
            return {
                "type": "checkin.cancelled",
                "checkin_id": checkin.id,
                "contact_id": contact.id,
                "reason": "stopped",
            }
        checkin.sequence += 1
        checkin.attempts += 1
        text = checkin_text(contact.locale, checkin.discreet)
        key = outbox_key(checkin.id, checkin.sequence)
        await enqueue_for_survivor(session, contact.id, text, self.cipher, now, key)
        lateness = (now - checkin.due_at).total_seconds()
        checkin.status = "sent"
        checkin.sent_at = now
        checkin.answer_due_at = now + service.window(checkin)
        return {
            "type": "checkin.sent",
            "checkin_id": checkin.id,
            "contact_id": contact.id,
            "sequence": checkin.sequence,
            "lateness_seconds": round(lateness, 3),
        }

    async def _mark_missed(self) -> list[dict[str, Any]]:
        now = self.clock()
        events: list[dict[str, Any]] = []
        async with self.db.sessions() as session, session.begin():
            statement = self._claim(
                select(Checkin, Contact.stopped)
                .join(Contact, Contact.id == Checkin.contact_id)
                .where(Checkin.status == "sent", Checkin.answer_due_at <= now)
                .order_by(Checkin.answer_due_at)
                .limit(self.batch)
            )
            for checkin, stopped in (await session.execute(statement)).all():
                checkin.updated_at = now
                if stopped:  # Said STOP after it was sent: not a miss, and nothing more.
                    checkin.status = "cancelled"
                    events.append(
                        {
                            "type": "checkin.cancelled",
                            "checkin_id": checkin.id,
                            "contact_id": checkin.contact_id,
                            "reason": "stopped",
                        }
                    )
                    continue
                checkin.status = "missed"
                events.append(
                    {
                        "type": "checkin.missed",
                        "checkin_id": checkin.id,
                        "contact_id": checkin.contact_id,
                        "sequence": checkin.sequence,
                    }
                )
                events.extend(await self._maybe_tell_counselor(session, checkin, now))
                service.move_on(checkin, now)
        return events

    async def _maybe_tell_counselor(
        self, session: AsyncSession, checkin: Checkin, now: datetime
    ) -> list[dict[str, Any]]:
        prefs = await session.get(CheckinPreferences, checkin.contact_id)
        if prefs is None:
            return []  # No preferences: never opted in.
        prefs.missed_in_row += 1
        limit = prefs.notify_after_missed
        if limit is None or prefs.missed_in_row < limit:
            return []
        escalation = await service.missed_escalation(session, checkin.contact_id, now)
        prefs.missed_in_row = 0
        if escalation is None:
            return []
        return [
            {
                "type": "escalation.created",
                "escalation_id": escalation.id,
                "contact_id": checkin.contact_id,
                "reason": "missed_checkins",
                "level": escalation.level,
                "categories": [],
            }
        ]

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # The next round retries; rows are the truth.
                log.error("check-in round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()


def from_runtime(runtime: Any) -> CheckinDispatcher:
    """The dispatcher for a running system (app lifespan, scripted chats)."""
    dispatcher = CheckinDispatcher(
        runtime.db, runtime.pipeline.cipher, runtime.pipeline.clock,
        on_enqueued=runtime.outbox.wake,
    )  # fmt: skip
    return dispatcher
