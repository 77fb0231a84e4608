"""Hands due check-ins to the outbox, exactly once each, and records misses.

One transaction per batch (up to 1,000), in set-based statements: claim due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers split the work;
SQLite runs one dispatcher and serialises writers), insert their outbox rows
with ``INSERT ... SELECT`` and the key ``checkin:<id>:<sequence>`` (unique; a key
already there is skipped), mark them sent with one ``UPDATE``, commit. A worker
killed before the commit leaves nothing behind: the rows are still due and the
next round sends them. After the commit they are sent. Either way the outbox
holds exactly one row per occurrence.

The wording is decided here, for every channel: neutral ("Hi, just checking
in.") unless the survivor chose named check-ins, and always neutral while their
discreet mode is on. Rows of one batch with the same wording and language share
one encrypted payload (the text is our own template, the same for everyone).

Between rounds the loop waits the poll interval, or less when a check-in falls
due sooner (``next_wait``), so a crowd due at 9:00 starts at 9:00.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import LargeBinary, String, Table, func, literal, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftercare import service
from aftercare.models import Checkin, CheckinPreferences
from bot.crypto import Cipher
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact, UTCDateTime
from dialogs.texts import get_texts
from escalation.models import OutboxItem

__all__ = ["CheckinDispatcher", "checkin_text", "outbox_key", "wording_is_neutral"]

log = logging.getLogger("harborline.aftercare")

# Shortest pause between rounds (seconds).
MIN_GAP = 0.2

_CHECKINS = cast(Table, Checkin.__table__)
_OUTBOX = cast(Table, OutboxItem.__table__)


def outbox_key(checkin_id: int, sequence: int) -> str:
    return f"checkin:{checkin_id}:{sequence}"


def wording_is_neutral(named_chosen: bool, discreet_mode: bool) -> bool:
    """Neutral unless the survivor chose named check-ins and discreet mode is off."""
    return discreet_mode or not named_chosen


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
        batch: int = 1000,
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
            claimed, batch_events = await self.send_batch()
            events.extend(batch_events)
            if claimed < self.batch:
                break
        events.extend(await self._mark_missed())
        if any(e["type"] == "checkin.sent" for e in events):
            self.on_enqueued()
        return events

    def _claim(self, statement: Any) -> Any:
        if not self.db.is_sqlite:
            return statement.with_for_update(skip_locked=True, of=Checkin)
        return statement

    async def send_batch(self) -> tuple[int, list[dict[str, Any]]]:
        """One transaction: up to ``batch`` due check-ins into the outbox. (claimed, events)"""
        now = self.clock()
        events: list[dict[str, Any]] = []
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
            statement = self._claim(
                select(
                    Checkin.id,
                    Checkin.contact_id,
                    Checkin.sequence,
                    Checkin.due_at,
                    Checkin.window_minutes,
                    # The survivor's current choice; the copy on the row if none is stored.
                    func.coalesce(CheckinPreferences.discreet, Checkin.discreet).label("plain"),
                    Contact.discreet.label("discreet_mode"),
                    Contact.stopped,
                    Contact.address_enc.is_(None).label("unreachable"),
                    Contact.locale,
                    Contact.channel,
                )
                .join(Contact, Contact.id == Checkin.contact_id)
                .outerjoin(CheckinPreferences, CheckinPreferences.contact_id == Checkin.contact_id)
                .where(Checkin.status == "scheduled", Checkin.due_at <= now)
                # Oldest first, straight from the (status, due_at) index: no sort, however
                # many share one due time.
                .order_by(Checkin.due_at)
                .limit(self.batch)
            )
            rows = (await session.execute(statement)).all()
            # The same text for many people: one outbox insert per wording, language and
            # channel, one update per answer window, whatever the batch size.
            by_wording: dict[tuple[str, bool, str], list[int]] = defaultdict(list)
            by_window: dict[int, list[int]] = defaultdict(list)
            cancelled: list[int] = []
            for row in rows:
                cid, contact_id = row.id, row.contact_id
                if row.stopped or row.unreachable:
                    # Said STOP, erased or unreachable: never send; the rule ends here.
                    cancelled.append(cid)
                    events.append(_event("cancelled", cid, contact_id, reason="stopped"))
                    continue
                neutral = wording_is_neutral(not row.plain, bool(row.discreet_mode))
                by_wording[(row.locale or "en", neutral, row.channel)].append(cid)
                by_window[row.window_minutes].append(cid)
                lateness = round((now - row.due_at).total_seconds(), 3)
                events.append(
                    _event(
                        "sent",
                        cid,
                        contact_id,
                        sequence=row.sequence + 1,
                        lateness_seconds=lateness,
                    )
                )
            for (locale, neutral, channel), ids in by_wording.items():
                await session.execute(self._outbox_rows(ids, locale, neutral, channel, now))
            for window, ids in by_window.items():
                await session.execute(
                    update(_CHECKINS)
                    .where(_CHECKINS.c.id.in_(ids))
                    .values(
                        status="sent",
                        sequence=_CHECKINS.c.sequence + 1,
                        attempts=_CHECKINS.c.attempts + 1,
                        sent_at=now,
                        answer_due_at=now + timedelta(minutes=window),
                        updated_at=now,
                    )
                )
            if cancelled:
                await session.execute(
                    update(_CHECKINS)
                    .where(_CHECKINS.c.id.in_(cancelled))
                    .values(status="cancelled", updated_at=now)
                )
            if self.before_commit is not None:
                await self.before_commit()
        return len(rows), events

    def _outbox_rows(
        self, ids: list[int], locale: str, neutral: bool, channel: str, now: datetime
    ) -> Any:
        """INSERT ... SELECT: one outbox row per check-in, key ``checkin:<id>:<sequence+1>``
        (run before the sequence is moved on); a key already there is skipped."""
        payload = self.cipher.encrypt(json.dumps({"text": checkin_text(locale, neutral)}))
        key = (
            literal("checkin:")
            + cast_(Checkin.id, String)
            + literal(":")
            + cast_(Checkin.sequence + 1, String)
        )
        rows = select(
            Checkin.contact_id,
            literal(channel),
            literal(payload, LargeBinary),
            key,
            literal("pending"),
            literal(0),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        ).where(Checkin.id.in_(ids))
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        columns = ["contact_id", "channel", "payload_enc", "idempotency_key", "status",
                   "attempts", "next_attempt_at", "created_at"]  # fmt: skip
        return (
            insert(_OUTBOX)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )

    async def _mark_missed(self) -> list[dict[str, Any]]:
        now = self.clock()
        events: list[dict[str, Any]] = []
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
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
                        _event("cancelled", checkin.id, checkin.contact_id, reason="stopped")
                    )
                    continue
                checkin.status = "missed"
                events.append(
                    _event("missed", checkin.id, checkin.contact_id, sequence=checkin.sequence)
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

    async def next_wait(self) -> float:
        """Seconds until the next round: the poll interval, or less when a check-in
        falls due sooner (a burst at 9:00 starts at 9:00), never below ``MIN_GAP``
        (rows due now but locked by another worker are that worker's)."""
        async with self.db.sessions() as session:
            due = await session.scalar(
                select(func.min(Checkin.due_at)).where(Checkin.status == "scheduled")
            )
        if due is None:
            return self.poll_seconds
        until = (due - self.clock()).total_seconds()
        return min(self.poll_seconds, max(MIN_GAP, until))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def run_forever(self, pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Rounds until cancelled. ``pause`` waits between rounds (the benchmark gives
        a virtual one); by default a real wait that ``wake()`` cuts short."""
        wait = pause or self._pause
        while True:
            delay = self.poll_seconds
            try:
                await self.run_once()
                delay = await self.next_wait()
            except Exception as exc:  # The next round retries; rows are the truth.
                log.error("check-in round failed: %s", type(exc).__name__)
            await wait(delay)


def _event(name: str, checkin_id: int, contact_id: int, **extra: Any) -> dict[str, Any]:
    return {"type": f"checkin.{name}", "checkin_id": checkin_id, "contact_id": contact_id, **extra}


def from_runtime(runtime: Any) -> CheckinDispatcher:
    """The dispatcher for a running system (app lifespan, scripted chats)."""
    dispatcher = CheckinDispatcher(
        runtime.db, runtime.pipeline.cipher, runtime.pipeline.clock,
        on_enqueued=runtime.outbox.wake,
    )  # fmt: skip
    return dispatcher
