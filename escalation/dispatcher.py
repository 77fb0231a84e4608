"""The paging loop: pages due escalations, re-pages when nobody acknowledges.

A new escalation's first page is written by the turn that raised it
(``page_at_once``, in the turn's transaction) and handed here through
``published``; this loop pages every later step, and a raised alarm at once.
Runs in every worker. On PostgreSQL each due escalation is claimed with
FOR UPDATE SKIP LOCKED, so one worker pages it; a step's rows (the step
itself, a console page row per person, and an outbox row per SMS page) are
written in one transaction, so a worker killed mid-page leaves either the
whole step or none of it, never a double page.

The console hears a page through the bus after the commit. A console page row
is marked delivered once its event is published: in the next round's write
while pages keep coming (a round woken for a raised alarm waits for no extra
transaction), or after ``settle_seconds`` of quiet. A worker killed between the
commit and the mark leaves rows that are not, and any worker's sweep publishes
those again after ``republish_after`` (the event then carries
``"redelivered": true``). So a committed page reaches the consoles at least
once, and the pages table holds it exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.crypto import Cipher
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Escalation
from escalation.bus import Bus
from escalation.models import Counselor, Page
from escalation.service import PagePolicy, page_due

__all__ = ["PagingDispatcher"]

log = logging.getLogger("harborline.paging")

ACTIVE = ("open", "paged")


class PagingDispatcher:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Callable[[], datetime],
        policy: PagePolicy,
        cipher: Cipher,
        poll_seconds: float = 1.0,
        republish_after: timedelta = timedelta(seconds=10),
        batch: int = 50,
        settle_seconds: float = 0.05,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.policy = policy
        self.cipher = cipher
        self.poll_seconds = poll_seconds
        self.republish_after = republish_after
        self.batch = batch  # Escalations paged per transaction.
        self.settle_seconds = settle_seconds  # Quiet this long: write the marks.
        # Called after a round wrote outbox rows (SMS pages): the outbox sends them now.
        self.on_enqueued: Callable[[], None] = lambda: None
        self._wake = asyncio.Event()
        self._swept_at: datetime | None = None
        # Console pages published but not yet marked delivered (done in the next write).
        self._published: list[int] = []

    def wake(self) -> None:
        self._wake.set()

    def published(self, page_ids: list[int]) -> None:
        """Console pages another part published after its commit (``page_at_once``).

        They are marked delivered in this dispatcher's next write; until then the
        sweep treats them like those of a worker that died before marking.
        """
        self._published.extend(page_ids)

    async def run_once(self, *, lean: bool = False) -> list[dict[str, Any]]:
        """One round: page what is due, mark what was published, sweep (once a second).

        ``lean`` (a round the pipeline woke, while survivors wait) leaves the marks
        to the next round's transaction unless the sweep is due anyway.
        """
        events = await self.page_round(look_first=not lean)
        now = self.clock()
        sweep = self._swept_at is None or now - self._swept_at >= timedelta(seconds=1)
        if not lean or sweep:
            await self.mark_published()
        if sweep:
            self._swept_at = now
            events += await self.republish_unpublished()
        return events

    async def page_round(self, *, look_first: bool = False) -> list[dict[str, Any]]:
        """Page what is due in one transaction, then publish its events.

        The transaction waits for the process's turn at SQLite's single writer
        (``Database.writing``), in the line of work already under way.
        ``look_first`` (the once-a-second round) first reads whether anything is
        due at all, so an idle round never queues for the writer.
        """
        now = self.clock()
        if look_first and not self._published and not await self._anything_due(now):
            return []
        marks, self._published = self._published, []
        try:
            # Ahead of new messages waiting to be stored: an alarm already due is
            # work under way, and a flood of new chats must not hold it back.
            async with (
                self.db.writing(ahead=True),
                self.db.write_sessions() as session,
                session.begin(),
            ):
                published = await page_due(
                    session,
                    now,
                    self.policy,
                    self.cipher,
                    skip_locked=not self.db.is_sqlite,
                    limit=self.batch,
                )
                if marks:  # The last round's publishes ride this round's write.
                    await _mark(session, marks, now)
        except BaseException:
            self._published = marks + self._published
            raise
        if published.enqueued:
            self.on_enqueued()
        for event in published.events:
            await self.bus.publish(event)
        # Only once all went out: a cut here leaves them to the sweep (at least once).
        self._published.extend(published.pages)
        return published.events

    async def _anything_due(self, now: datetime) -> bool:
        async with self.db.sessions() as session:
            found = await session.scalar(
                select(Escalation.id)
                .where(
                    Escalation.status.in_(ACTIVE),
                    Escalation.next_page_at.is_not(None),
                    Escalation.next_page_at <= now,
                )
                .limit(1)
            )
        return found is not None

    async def mark_published(self) -> None:
        if not self._published:
            return
        marks, self._published = self._published, []
        try:
            async with self.db.writing(), self.db.write_sessions() as session, session.begin():
                await _mark(session, marks, self.clock())
        except BaseException:
            self._published = marks + self._published
            raise

    async def republish_unpublished(self) -> list[dict[str, Any]]:
        """Console pages committed but never published (their worker died): publish them.

        Pages of escalations no longer waiting (acknowledged, claimed, closed) are
        only marked: nobody needs the alarm any more.
        """
        now = self.clock()
        unpublished = (
            Page.delivered_at.is_(None),
            Page.channel == "console",
            Page.sent_at <= now - self.republish_after,
        )
        async with self.db.sessions() as session:  # Almost always none: no writer needed.
            if await session.scalar(select(Page.id).where(*unpublished).limit(1)) is None:
                return []
        statement = (
            select(Page, Escalation.level, Escalation.status, Counselor.page_channel)
            .join(Escalation, Escalation.id == Page.escalation_id)
            .join(Counselor, Counselor.id == Page.counselor_id)
            .where(*unpublished)
            .order_by(Page.id)
            .limit(100)
        )
        if not self.db.is_sqlite:
            statement = statement.with_for_update(skip_locked=True, of=Page)
        events: list[dict[str, Any]] = []
        async with self.db.writing(), self.db.write_sessions() as session, session.begin():
            for page, level, status, channel in (await session.execute(statement)).all():
                if status in ACTIVE:
                    event = {
                        "type": "page",
                        "escalation_id": page.escalation_id,
                        "counselor_id": page.counselor_id,
                        "level": level,
                        "step": page.step,
                        "channel": channel,
                        "redelivered": True,
                    }
                    # Published under the row lock: a second worker skips the row.
                    await self.bus.publish(event)
                    events.append(event)
                page.delivered_at = now
        if events:
            log.info("republished %d page(s) a stopped worker left", len(events))
        return events

    async def run_forever(self) -> None:
        woken = False
        while True:
            try:
                await self.run_once(lean=woken)
                if self._published:
                    # Marks wait for the next round's write while pages keep coming;
                    # after a quiet moment they are written at once, so a worker that
                    # dies leaves little for the sweep to send twice.
                    woken = await self._sleep(self.settle_seconds)
                    if woken:
                        continue
                    await self.mark_published()
            except Exception as exc:  # A bad round must not stop paging for good.
                log.error("paging round failed: %s", type(exc).__name__)
            woken = await self._sleep(self.poll_seconds)

    async def _sleep(self, seconds: float) -> bool:
        """Until woken (True) or ``seconds`` pass (False).

        asyncio.timeout, not wait_for: no extra task, so a wake-up resumes the
        loop in one step of the event loop (a raised alarm's page waits on it).
        """
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            return False
        finally:
            self._wake.clear()
        return True


async def _mark(session: AsyncSession, page_ids: list[int], now: datetime) -> None:
    await session.execute(
        update(Page)
        .where(Page.id.in_(page_ids), Page.delivered_at.is_(None))
        .values(delivered_at=now)
    )
