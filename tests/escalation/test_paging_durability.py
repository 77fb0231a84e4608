"""A page is never lost and never doubled when a worker stops mid-page.

The cuts a killed worker can make, each played on SQLite and PostgreSQL:

- before the commit: nothing of the step is left, and the next round pages it;
- after the commit, before the bus publish: the pages exist once; consoles get
  the event later from any worker's sweep, once;
- after the publish, before the mark: the sweep publishes again (flagged
  ``redelivered``), still without a second page;
- two workers at once: on PostgreSQL they split the due escalations (FOR UPDATE
  SKIP LOCKED) and never collide; on SQLite the unique page key is the backstop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.crypto import Cipher
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact, Conversation, Escalation
from escalation.bus import LocalBus
from escalation.dispatcher import PagingDispatcher
from escalation.models import Counselor, OutboxItem, Page, Shift
from escalation.service import PagePolicy, page_at_once, page_due
from tests.conftest import FIXED_KEY, Clock

CIPHER = Cipher([FIXED_KEY])
NUMBER = "+12025550143"


class Died(Exception):
    """Stands for the process ending at this point."""


class DyingBus(LocalBus):
    """A bus in a worker that dies as it starts to publish: nothing goes out."""

    async def publish(self, event: dict[str, Any]) -> None:
        raise Died


async def seed(db: Database, now: datetime, escalations: int) -> tuple[int, list[int]]:
    """A primary who is paged by SMS too, and due escalations from different people."""
    async with db.sessions() as session, session.begin():
        primary = Counselor(
            name="pri",
            password_hash="!",
            role="counselor",
            active=True,
            on_call=False,
            page_channel="sms",
            page_address_enc=CIPHER.encrypt(NUMBER),
            locale="en",
            failed_logins=0,
            created_at=now,
        )
        session.add(primary)
        await session.flush()
        session.add(
            Shift(
                counselor_id=primary.id,
                position="primary",
                timezone="UTC",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=1),
                created_at=now,
            )
        )
        ids = await add_escalations(session, now, escalations, "first")
        return primary.id, ids


async def page_rows(db: Database) -> list[tuple[int, int, int, str]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Page.escalation_id, Page.step, Page.counselor_id, Page.channel)
        )
        return [(int(e), int(s), int(c), str(ch)) for e, s, c, ch in rows.all()]


async def outbox_keys(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.execute(select(OutboxItem.idempotency_key))).scalars())


def dispatcher(db: Database, clock: Clock, bus: LocalBus | None = None) -> PagingDispatcher:
    return PagingDispatcher(db, bus or LocalBus(), clock, PagePolicy(), CIPHER)


async def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_cut_before_the_commit_leaves_nothing_and_the_next_round_pages(
    db: Database, clock: Clock
) -> None:
    primary, ids = await seed(db, clock(), 3)
    with pytest.raises(Died):
        async with db.sessions() as session, session.begin():
            written = await page_due(session, clock(), PagePolicy(), CIPHER, skip_locked=False)
            assert len(written.pages) == 3  # The step was written ...
            raise Died  # ... and the worker died before COMMIT.
    assert await page_rows(db) == [] and await outbox_keys(db) == []

    events = await dispatcher(db, clock).run_once()
    assert sorted(e["escalation_id"] for e in events) == ids
    rows = await page_rows(db)
    assert sorted(rows) == sorted(
        (e, 0, primary, channel) for e in ids for channel in ("console", "sms")
    )
    assert sorted(await outbox_keys(db)) == sorted(f"page:{e}:{primary}:0" for e in ids)


async def test_cut_after_the_commit_is_published_later_once_and_never_paged_again(
    db: Database, clock: Clock
) -> None:
    primary, ids = await seed(db, clock(), 4)
    dying = dispatcher(db, clock, DyingBus())
    with pytest.raises(Died):
        await dying.page_round()  # Committed, then died before the publish.
    committed = await page_rows(db)
    assert len(committed) == 2 * len(ids)  # Console and SMS, once each.
    assert len(await outbox_keys(db)) == len(ids)  # The SMS pages are durable already.

    bus = LocalBus()
    survivor = dispatcher(db, clock, bus)
    async with bus.subscribe() as consoles:
        # Too early to tell a dead worker from a slow one: nothing is republished.
        assert await survivor.run_once() == []
        clock.advance(seconds=11)
        republished = await survivor.run_once()
        assert sorted(e["escalation_id"] for e in republished) == ids
        assert all(e["redelivered"] and e["counselor_id"] == primary for e in republished)
        assert all(e["step"] == 0 and e["channel"] == "sms" for e in republished)
        clock.advance(seconds=11)
        assert await survivor.run_once() == []  # Published once is enough.
        heard = await drain(consoles)
    assert Counter(e["escalation_id"] for e in heard) == Counter(ids)
    assert sorted(await page_rows(db)) == sorted(committed)  # The sweep wrote no page.
    assert len(await outbox_keys(db)) == len(ids)


async def test_a_cut_page_is_not_republished_once_someone_acknowledged(
    db: Database, clock: Clock
) -> None:
    _, ids = await seed(db, clock(), 2)
    with pytest.raises(Died):
        await dispatcher(db, clock, DyingBus()).page_round()
    async with db.sessions() as session, session.begin():
        escalation = await session.get(Escalation, ids[0])
        assert escalation is not None
        escalation.status, escalation.next_page_at = "acknowledged", None
    clock.advance(seconds=11)
    republished = await dispatcher(db, clock).run_once()
    assert [e["escalation_id"] for e in republished] == [ids[1]]
    clock.advance(seconds=11)
    assert await dispatcher(db, clock).run_once() == []  # Both marked.


async def test_two_workers_page_every_escalation_exactly_once(
    backend: tuple[str, str], db: Database, clock: Clock
) -> None:
    url, _ = backend
    primary, ids = await seed(db, clock(), 40)
    # Two engines: two connection pools, as two worker processes have.
    other = Database(url)
    failures: list[str] = []

    async def work(worker: PagingDispatcher) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for _ in range(60):
            try:
                events += await worker.page_round()
            except Exception as exc:  # Collected: on PostgreSQL there must be none.
                failures.append(type(exc).__name__)
            await asyncio.sleep(0)
        return events

    try:
        one = PagingDispatcher(db, LocalBus(), clock, PagePolicy(), CIPHER, batch=3)
        two = PagingDispatcher(other, LocalBus(), clock, PagePolicy(), CIPHER, batch=3)
        first, second = await asyncio.gather(work(one), work(two))
    finally:
        await other.close()

    paged = Counter(e["escalation_id"] for e in first + second)
    assert paged == Counter(ids)  # Every escalation published once, by one worker.
    rows = await page_rows(db)
    assert Counter(rows).most_common(1)[0][1] == 1
    assert sorted(rows) == sorted(
        (e, 0, primary, channel) for e in ids for channel in ("console", "sms")
    )
    assert sorted(await outbox_keys(db)) == sorted(f"page:{e}:{primary}:0" for e in ids)
    if not db.is_sqlite:
        assert failures == []  # SKIP LOCKED: the workers never collide.
    async with db.sessions() as session:
        undelivered = await session.scalar(
            select(func.count())
            .select_from(Page)
            .where(Page.channel == "console", Page.delivered_at.is_(None))
        )
    assert undelivered == 0


async def console_delivered(db: Database) -> list[bool]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Page.delivered_at).where(Page.channel == "console").order_by(Page.id)
        )
        return [at is not None for at in rows.scalars()]


async def test_marks_ride_the_next_rounds_write_and_a_cut_before_is_republished(
    db: Database, clock: Clock
) -> None:
    _, ids = await seed(db, clock(), 2)
    first_bus = LocalBus()
    first = dispatcher(db, clock, first_bus)
    async with first_bus.subscribe() as heard_first:
        assert len(await first.page_round()) == 2  # Published ...
        assert await console_delivered(db) == [False, False]  # ... marked in the next write.
        assert await first.page_round() == []
        assert await console_delivered(db) == [True, True]
        assert len(await drain(heard_first)) == 2

    # A worker that published and died before its next write: the events went out
    # once; the sweep of another worker sends them again, flagged, and no page is added.
    more = await seed_more(db, clock(), 1)
    dying = dispatcher(db, clock)
    assert [e["escalation_id"] for e in await dying.page_round()] == more
    clock.advance(seconds=11)
    again = await dispatcher(db, clock).run_once()
    assert [(e["escalation_id"], e["redelivered"]) for e in again] == [(more[0], True)]
    assert len(await page_rows(db)) == 2 * (len(ids) + len(more))


async def seed_more(db: Database, now: datetime, escalations: int) -> list[int]:
    """More due escalations for the counselor seeded already."""
    async with db.sessions() as session, session.begin():
        return await add_escalations(session, now, escalations, "more")


async def add_escalations(
    session: AsyncSession, now: datetime, count: int, prefix: str
) -> list[int]:
    """Due escalations (never paged), each from a different person."""
    ids = []
    for i in range(count):
        contact = Contact(
            address_hash=f"{prefix}-{i}", channel="web", created_at=now, last_seen_at=now
        )
        session.add(contact)
        await session.flush()
        conversation = Conversation(contact_id=contact.id, updated_at=now)
        session.add(conversation)
        await session.flush()
        escalation = Escalation(
            contact_id=contact.id, conversation_id=conversation.id, reason="risk",
            level="imminent", categories=["suicide"], cues=[], status="open", created_at=now,
            page_step=-1, next_page_at=now,
        )  # fmt: skip
        session.add(escalation)
        await session.flush()
        ids.append(escalation.id)
    return ids


async def test_a_first_page_written_with_its_escalation_is_not_paged_again(
    db: Database, clock: Clock
) -> None:
    primary, _ = await seed(db, clock(), 0)
    # What the pipeline's turn does: the escalation and its first page in one transaction.
    async with db.sessions() as session, session.begin():
        [escalation_id] = await add_escalations(session, clock(), 1, "turn")
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None
        first = await page_at_once(session, escalation, clock(), PagePolicy(), CIPHER)
        # Once paged, it is the dispatcher's: a second call writes nothing.
        assert (await page_at_once(session, escalation, clock(), PagePolicy(), CIPHER)).pages == []
    assert [(e["escalation_id"], e["step"]) for e in first.events] == [(escalation_id, 0)]
    assert first.enqueued == 1 and len(first.pages) == 1
    assert sorted(await page_rows(db)) == [
        (escalation_id, 0, primary, "console"),
        (escalation_id, 0, primary, "sms"),
    ]

    paging = dispatcher(db, clock)
    paging.published(first.pages)  # The pipeline published the events after its commit.
    assert await paging.run_once() == []  # Not due again, and marked.
    clock.advance(seconds=11)
    assert await paging.run_once() == []  # Nothing for the sweep.
    assert await console_delivered(db) == [True]
    assert len(await outbox_keys(db)) == 1


async def test_a_first_page_never_reported_published_is_published_by_the_sweep(
    db: Database, clock: Clock
) -> None:
    await seed(db, clock(), 0)
    async with db.sessions() as session, session.begin():
        [escalation_id] = await add_escalations(session, clock(), 1, "turn")
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None
        await page_at_once(session, escalation, clock(), PagePolicy(), CIPHER)
    # The worker died after the commit, before publishing: the sweep sends it.
    clock.advance(seconds=11)
    again = await dispatcher(db, clock).run_once()
    assert [(e["escalation_id"], e["redelivered"]) for e in again] == [(escalation_id, True)]
    assert len(await page_rows(db)) == 2


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_due_page_is_written_before_new_messages_waiting_for_the_writer(
    db: Database, clock: Clock
) -> None:
    """SQLite's writer is taken in turns: an alarm already due goes before new work."""
    await seed(db, clock(), 1)
    pages_when_the_store_ran: list[int] = []

    async def store_a_new_message() -> None:
        async with db.writing():
            pages_when_the_store_ran.append(len(await page_rows(db)))

    async with db.writing():  # Busy: both wait, the new message first in time.
        store = asyncio.create_task(store_a_new_message())
        await asyncio.sleep(0)
        paging = asyncio.create_task(dispatcher(db, clock).page_round())
        for _ in range(5):
            await asyncio.sleep(0)
    await asyncio.gather(store, paging)
    assert pages_when_the_store_ran == [2]  # The console and SMS pages, already written.
