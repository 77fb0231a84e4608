"""Hands due check-ins to the outbox, exactly once each, and records misses.

One transaction per batch, in a few set-based statements whatever its size: claim
due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers split the
work; SQLite runs one dispatcher and serialises writers) with their contacts'
settings, insert their outbox rows with the key ``checkin:<id>:<sequence>``
(unique; a key already there is skipped), mark them sent, commit. A worker
killed before the commit leaves nothing behind: the rows are still due and the
next round sends them. After the commit they are sent. Either way the outbox
holds exactly one row per occurrence.

Batches start at ``batch`` rows and double, up to ``MAX_GROWTH`` times that, while
they come back full: a crowd due at one moment (30,000 at 9:00) goes out in a
few large transactions instead of many small ones, and an ordinary round stays
one small batch.

The wording is decided here, for every channel: neutral ("Hi, just checking
in.") unless the survivor chose named check-ins, and always neutral while their
discreet mode is on. Everyone with the same wording and language gets the same
encrypted payload, made once per round (the text is our own template, the same
for everyone).

Between rounds the loop waits the poll interval, or less when a check-in falls
due sooner (``next_wait``), so a crowd due at 9:00 starts at 9:00.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare import service
from aftercare.models import Checkin, CheckinPreferences
from bot.crypto import Cipher
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact, UTCDateTime
from dialogs.texts import LOCALES, get_texts

__all__ = ["CheckinDispatcher", "checkin_text", "outbox_key", "wording_is_neutral"]

log = logging.getLogger("harborline.aftercare")

# Shortest pause between rounds (seconds) while rows are due but locked by another worker.
MIN_GAP = 0.2
# Batches grow up to this many times ``batch`` while many rows are due at once.
MAX_GROWTH = 4

# The hot path is plain SQL, one statement per step, for both databases (the same
# columns and meaning as the models in aftercare.models and escalation.models).
#
# Claim: the due rows, oldest first, straight from the (status, due_at) index (no
# sort, however many share one due time), with their contacts and settings. On
# PostgreSQL the contacts are fetched by primary key for exactly the claimed ids
# (``= ANY`` of the claimed set): a plain join is planned as a hash join over the
# whole contacts table, tens of milliseconds per batch at 100,000 contacts.
_CLAIM_COLUMNS = """
    c.id, c.contact_id, c.sequence, c.due_at, c.window_minutes,
    COALESCE(p.discreet, c.discreet) AS plain,
    k.discreet AS discreet_mode, k.stopped, k.address_enc IS NULL AS unreachable,
    k.locale, k.channel
"""
_POSTGRES_CLAIM = f"""
WITH c AS (
    SELECT id, contact_id, sequence, due_at, window_minutes, discreet
    FROM checkins
    WHERE status = 'scheduled' AND due_at <= $1
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE OF checkins SKIP LOCKED
)
SELECT {_CLAIM_COLUMNS}
FROM c
JOIN contacts AS k
    ON k.id = c.contact_id
    AND k.id = ANY(CAST((SELECT array_agg(contact_id) FROM c) AS integer[]))
LEFT JOIN checkin_preferences AS p ON p.contact_id = c.contact_id
"""  # noqa: S608 - constant text, no values
_SQLITE_CLAIM = f"""
WITH c AS (
    SELECT id, contact_id, sequence, due_at, window_minutes, discreet
    FROM checkins
    WHERE status = 'scheduled' AND due_at <= ?
    ORDER BY due_at
    LIMIT ?
)
SELECT {_CLAIM_COLUMNS}
FROM c
JOIN contacts AS k ON k.id = c.contact_id
LEFT JOIN checkin_preferences AS p ON p.contact_id = c.contact_id
"""  # noqa: S608 - constant text, no values
_OUTBOX_COLUMNS = (
    "contact_id, channel, payload_enc, idempotency_key, status, attempts, next_attempt_at, "
    "created_at"
)
# PostgreSQL, one statement: the outbox rows ($1-$4, arrays; a key already there is
# skipped), the sent check-ins ($6) and the cancelled ones ($7), all at time $5.
_POSTGRES_WRITE = f"""
WITH outbox_rows AS (
    INSERT INTO outbox ({_OUTBOX_COLUMNS})
    SELECT r.contact_id, r.channel, r.payload, r.key, 'pending', 0, $5, $5
    FROM unnest($1::integer[], $2::varchar[], $3::bytea[], $4::varchar[])
        AS r(contact_id, channel, payload, key)
    ON CONFLICT (idempotency_key) DO NOTHING
),
cancelled AS (
    UPDATE checkins SET status = 'cancelled', updated_at = $5
    WHERE id = ANY($7::integer[])
)
UPDATE checkins SET
    status = 'sent', sequence = sequence + 1, attempts = attempts + 1, sent_at = $5,
    answer_due_at = $5 + make_interval(mins => window_minutes), updated_at = $5
WHERE id = ANY($6::integer[])
"""  # noqa: S608 - constant text, no values
# SQLite: one executemany for the outbox rows (one prepared statement stepped per row),
# one update per answer window and one for the cancelled, ids as a JSON array. Times
# are passed in SQLAlchemy's stored form for the column type (see ``_Times``).
_SQLITE_OUTBOX = f"""
INSERT INTO outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
"""  # noqa: S608 - constant text, no values
_SQLITE_SENT = """
UPDATE checkins SET
    status = 'sent', sequence = sequence + 1, attempts = attempts + 1, sent_at = ?,
    answer_due_at = ?, updated_at = ?
WHERE id IN (SELECT value FROM json_each(?))
"""
_SQLITE_CANCELLED = """
UPDATE checkins SET status = 'cancelled', updated_at = ?
WHERE id IN (SELECT value FROM json_each(?))
"""

# One claimed row: what the survivor gets and how long an answer is waited for.
_Sent = tuple[int, int, str, bytes, str, int]  # id, contact, channel, payload, key, window


def outbox_key(checkin_id: int, sequence: int) -> str:
    return f"checkin:{checkin_id}:{sequence}"


def wording_is_neutral(named_chosen: bool, discreet_mode: bool) -> bool:
    """Neutral unless the survivor chose named check-ins and discreet mode is off."""
    return discreet_mode or not named_chosen


def checkin_text(locale: str | None, discreet: bool) -> str:
    texts = get_texts(locale or "en")
    return texts("checkins.message_discreet" if discreet else "checkins.message")


class _Times:
    """Datetimes to and from SQLite as SQLAlchemy's column type stores them (text), so
    plain SQL compares and writes exactly what the ORM does elsewhere."""

    def __init__(self, conn: AsyncConnection) -> None:
        column = UTCDateTime().dialect_impl(conn.dialect)
        self._to = column.bind_processor(conn.dialect)
        self._from = column.result_processor(conn.dialect, None)
        self._parsed: dict[Any, datetime] = {}

    def store(self, moment: datetime) -> Any:
        return self._to(moment) if self._to is not None else moment

    def load(self, stored: Any) -> datetime:
        # Many rows share one due time (a crowd at 9:00): parse each value once.
        moment = self._parsed.get(stored)
        if moment is None:
            moment = cast(datetime, self._from(stored) if self._from is not None else stored)
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            self._parsed[stored] = moment
        return moment


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
        # Write transactions: on SQLite they take the write lock when they begin.
        self._writer = db.engine.execution_options(begin_immediate=True)
        self._payloads: dict[tuple[str, bool], bytes] = {}
        self._times: _Times | None = None
        self._size = batch  # This batch's size.
        self._claimed_up_to: datetime | None = None  # The last claim took rows due until then.

    def wake(self) -> None:
        self._wake.set()

    def prepare(self) -> None:
        """Load the message templates (once per process) before the first crowd is due."""
        for locale in LOCALES:
            for neutral in (True, False):
                checkin_text(locale, neutral)

    async def run_once(self) -> list[dict[str, Any]]:
        """Send everything due now, then record misses. Events carry ``contact_id``."""
        events: list[dict[str, Any]] = []
        self._payloads = {}  # Encrypted afresh each round.
        self._size = self.batch
        while True:
            size = self._size
            claimed, batch_events = await self.send_batch()
            events.extend(batch_events)
            if claimed < size:
                break
            self._size = min(size * 2, self.batch * MAX_GROWTH)  # Full: more are waiting.
        events.extend(await self._mark_missed())
        if any(e["type"] == "checkin.sent" for e in events):
            self.on_enqueued()
        return events

    def _claim(self, statement: Any) -> Any:
        if not self.db.is_sqlite:
            return statement.with_for_update(skip_locked=True, of=Checkin)
        return statement

    def _payload(self, locale: str, neutral: bool) -> bytes:
        """The encrypted message for one language and wording."""
        payload = self._payloads.get((locale, neutral))
        if payload is None:
            payload = self.cipher.encrypt(json.dumps({"text": checkin_text(locale, neutral)}))
            self._payloads[(locale, neutral)] = payload
        return payload

    async def send_batch(self) -> tuple[int, list[dict[str, Any]]]:
        """One transaction: up to ``batch`` due check-ins (more while a crowd is being
        sent, see ``run_once``) into the outbox. (claimed, events)"""
        now = self.clock()
        limit = self._size
        self._claimed_up_to = now
        events: list[dict[str, Any]] = []
        async with self.db.writing(), self._writer.begin() as conn:
            if self.db.is_sqlite:
                times = self._sqlite_times(conn)
                found = await conn.exec_driver_sql(_SQLITE_CLAIM, (times.store(now), limit))
                load: Callable[[Any], datetime] = times.load
            else:
                found = await conn.exec_driver_sql(_POSTGRES_CLAIM, (now, limit))
                load = _identity
            rows: Sequence[Any] = found.all()
            sent: list[_Sent] = []
            cancelled: list[int] = []
            for cid, contact_id, sequence, due_at, window, plain, discreet_mode, stopped, \
                    unreachable, locale, channel in rows:  # fmt: skip
                if stopped or unreachable:
                    # Said STOP, erased or unreachable: never send; the rule ends here.
                    cancelled.append(cid)
                    events.append(_event("cancelled", cid, contact_id, reason="stopped"))
                    continue
                neutral = wording_is_neutral(not plain, bool(discreet_mode))
                payload = self._payload(locale or "en", neutral)
                sent.append(
                    (cid, contact_id, channel, payload, outbox_key(cid, sequence + 1), window)
                )
                lateness = round((now - load(due_at)).total_seconds(), 3)
                events.append(
                    _event(
                        "sent", cid, contact_id, sequence=sequence + 1, lateness_seconds=lateness
                    )
                )
            if sent or cancelled:
                if self.db.is_sqlite:
                    await self._write_sqlite(conn, now, sent, cancelled)
                else:
                    await self._write_postgres(conn, now, sent, cancelled)
            if self.before_commit is not None:
                await self.before_commit()
        return len(rows), events

    def _sqlite_times(self, conn: AsyncConnection) -> _Times:
        if self._times is None:
            self._times = _Times(conn)
        return self._times

    async def _write_sqlite(
        self, conn: AsyncConnection, now: datetime, sent: list[_Sent], cancelled: list[int]
    ) -> None:
        times = self._sqlite_times(conn)
        stamp = times.store(now)
        if sent:
            await conn.exec_driver_sql(
                _SQLITE_OUTBOX, [(c, ch, p, key, stamp, stamp) for _, c, ch, p, key, _ in sent]
            )
        by_window: dict[int, list[int]] = defaultdict(list)
        for cid, *_, window in sent:
            by_window[window].append(cid)
        for window, ids in by_window.items():
            answer_due = times.store(now + timedelta(minutes=window))
            await conn.exec_driver_sql(_SQLITE_SENT, (stamp, answer_due, stamp, json.dumps(ids)))
        if cancelled:
            await conn.exec_driver_sql(_SQLITE_CANCELLED, (stamp, json.dumps(cancelled)))

    async def _write_postgres(
        self, conn: AsyncConnection, now: datetime, sent: list[_Sent], cancelled: list[int]
    ) -> None:
        # The write's plan is made once for any batch size (by primary key): a plan for
        # the actual arrays of thousands of ids takes milliseconds to make and scans the
        # whole table. (Not for the claim, whose own plan is better.) Ends with the batch.
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.exec_driver_sql(
            _POSTGRES_WRITE,
            (
                [row[1] for row in sent],
                [row[2] for row in sent],
                [row[3] for row in sent],
                [row[4] for row in sent],
                now,
                [row[0] for row in sent],
                cancelled,
            ),
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
        """Seconds until the next round: the poll interval, or exactly until the next
        check-in falls due if that is sooner (a burst at 9:00 starts at 9:00). A row that
        fell due since the last claim goes at once; one due before it and not claimed is
        locked by another worker, whose it is: look again after ``MIN_GAP``."""
        async with self.db.sessions() as session:
            due = await session.scalar(
                select(func.min(Checkin.due_at)).where(Checkin.status == "scheduled")
            )
        if due is None:
            return self.poll_seconds
        until = (due - self.clock()).total_seconds()
        if until > 0:
            return min(self.poll_seconds, until)
        if self._claimed_up_to is None or due > self._claimed_up_to:
            return 0.0
        return min(self.poll_seconds, MIN_GAP)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def run_forever(self, pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Rounds until cancelled. ``pause`` waits between rounds (the benchmark gives
        a virtual one); by default a real wait that ``wake()`` cuts short."""
        wait = pause or self._pause
        self.prepare()
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


def _identity(value: Any) -> Any:
    return value
