"""Check-ins end to end on SQLite and PostgreSQL: schedule, send once, answer, miss."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from aftercare import service
from aftercare.dispatcher import MIN_GAP, CheckinDispatcher, checkin_text, from_runtime
from aftercare.models import Checkin
from aftercare.rules import Rule
from bot.runtime import Runtime
from bot.storage.db import Database
from bot.storage.models import Contact, Escalation
from escalation.models import OutboxItem
from tests.bot.helpers import event_types, say
from tests.conftest import Clock


async def _schedule_tomorrow(runtime: Runtime, address: str = "person-1") -> None:
    await say(runtime, "hi", address)
    await say(runtime, "no", address)
    asked = await say(runtime, "check in with me tomorrow", address)
    assert "Is that OK?" in asked.replies[-1].text
    done = await say(runtime, "yes", address)
    assert "checkin.scheduled" in event_types(done)


async def _outbox_keys(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.execute(select(OutboxItem.idempotency_key))).scalars())


async def _statuses(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.execute(select(Checkin.status).order_by(Checkin.id))).scalars())


async def test_schedule_send_once_and_answer_ok(runtime: Runtime, clock: Clock) -> None:
    await _schedule_tomorrow(runtime)
    dispatcher = from_runtime(runtime)
    assert await dispatcher.run_once() == []  # Not due yet.
    clock.advance(days=1, hours=1)
    events = await dispatcher.run_once()
    assert [e["type"] for e in events] == ["checkin.sent"]
    assert await dispatcher.run_once() == []  # Never twice.
    assert await _outbox_keys(runtime.db) == ["checkin:1:1"]
    answered = await say(runtime, "1")
    assert "checkin.answered" in event_types(answered)
    assert await _statuses(runtime.db) == ["answered"]


async def test_two_means_talk_to_someone(runtime: Runtime, clock: Clock) -> None:
    await _schedule_tomorrow(runtime)
    clock.advance(days=1, hours=1)
    await from_runtime(runtime).run_once()
    result = await say(runtime, "2")
    assert {"checkin.answered", "escalation.created"} <= set(event_types(result))


async def test_stop_cancels_at_due_time(runtime: Runtime, clock: Clock) -> None:
    await _schedule_tomorrow(runtime)
    await say(runtime, "stop")
    clock.advance(days=1, hours=1)
    events = await from_runtime(runtime).run_once()
    assert [(e["type"], e.get("reason")) for e in events] == [("checkin.cancelled", "stopped")]
    assert await _outbox_keys(runtime.db) == []


async def test_forget_me_removes_checkins(runtime: Runtime, clock: Clock) -> None:
    await _schedule_tomorrow(runtime)
    await say(runtime, "forget me")
    await say(runtime, "yes")
    assert await _statuses(runtime.db) == []


async def test_missed_tells_a_counselor_only_with_opt_in(runtime: Runtime, clock: Clock) -> None:
    await _schedule_tomorrow(runtime, "a")
    await _schedule_tomorrow(runtime, "b")
    async with runtime.db.sessions() as session, session.begin():
        contact = await session.scalar(
            select(Contact).where(Contact.address_hash == runtime.pipeline.identity("web", "b"))
        )
        assert contact is not None
        await service.set_preferences(session, contact, clock(), notify_after_missed=1)
    dispatcher = from_runtime(runtime)
    clock.advance(days=1, hours=1)
    await dispatcher.run_once()
    clock.advance(hours=13)
    events = await dispatcher.run_once()
    assert sorted(e["type"] for e in events) == [
        "checkin.missed",
        "checkin.missed",
        "escalation.created",
    ]
    async with runtime.db.sessions() as session:
        reasons = list((await session.execute(select(Escalation.reason))).scalars())
    assert reasons == ["missed_checkins"]


async def test_weekly_moves_on_after_a_miss(runtime: Runtime, clock: Clock) -> None:
    async with runtime.db.sessions() as session, session.begin():
        await say(runtime, "hi")
        contact = await session.scalar(select(Contact))
        assert contact is not None
        await service.schedule(
            session, contact, Rule("weekly", weekday=0, local_time="18:00"), clock()
        )
    dispatcher = from_runtime(runtime)
    for _ in range(3):
        clock.advance(days=7)
        await dispatcher.run_once()
        clock.advance(days=1)
        await dispatcher.run_once()
    assert len(await _outbox_keys(runtime.db)) == 3
    assert await _statuses(runtime.db) == ["scheduled"]


async def _many(runtime: Runtime, clock: Clock, n: int) -> None:
    async with runtime.db.sessions() as session, session.begin():
        for i in range(n):
            contact = Contact(
                address_hash=f"h{i}", channel="web", address_enc=b"x", country="US",
                locale="en", locale_chosen=False, discreet=False, stopped=False,
                created_at=clock(), last_seen_at=clock(),
            )  # fmt: skip
            session.add(contact)
            await session.flush()
            await service.schedule(
                session, contact, Rule("once", at=clock() + timedelta(hours=2)), clock()
            )


async def test_a_crash_before_commit_leaves_nothing_and_the_next_round_sends(
    runtime: Runtime, clock: Clock
) -> None:
    await _many(runtime, clock, 30)
    clock.advance(hours=3)
    crashing = from_runtime(runtime)

    async def crash() -> None:
        raise KeyboardInterrupt  # Stands in for kill -9 between claim and commit.

    crashing.before_commit = crash
    with pytest.raises(KeyboardInterrupt):
        await crashing.run_once()
    assert await _outbox_keys(runtime.db) == []
    await from_runtime(runtime).run_once()
    keys = await _outbox_keys(runtime.db)
    assert len(keys) == len(set(keys)) == 30


async def _kill_mid_batch(runtime: Runtime, clock: Clock, tmp_path: Path, crash_at: int) -> None:
    """Run a dispatcher process, kill -9 it inside batch ``crash_at`` before its commit."""
    marker = tmp_path / f"claimed-{crash_at}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.aftercare.crash_worker", runtime.db.url,
        runtime.settings.fernet_keys[0], clock().isoformat(), str(marker), "10", str(crash_at),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    for _ in range(600):  # Up to a minute for the process to start and claim.
        if marker.exists() or process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    if not marker.exists():
        _, err = await process.communicate()
        pytest.fail(f"the dispatcher process never reached the commit: {err.decode()[-2000:]}")
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


@pytest.mark.parametrize("crash_at", [1, 2])
async def test_kill_9_mid_dispatch_still_sends_each_exactly_once(
    runtime: Runtime, clock: Clock, tmp_path: Path, crash_at: int
) -> None:
    await _many(runtime, clock, 30)
    clock.advance(hours=3)
    await _kill_mid_batch(runtime, clock, tmp_path, crash_at)
    # Batches before the killed one committed; the killed one left no trace.
    committed = await _outbox_keys(runtime.db)
    assert len(committed) == len(set(committed)) == 10 * (crash_at - 1)
    # PostgreSQL frees the dead worker's row locks once it notices the closed
    # connection, a moment after the kill; until then SKIP LOCKED passes them by.
    survivor, sent = from_runtime(runtime), 0
    for _ in range(100):
        events = await survivor.run_once()
        sent += len([e for e in events if e["type"] == "checkin.sent"])
        if sent >= 30 - len(committed):
            break
        await asyncio.sleep(0.1)
    assert sent == 30 - len(committed)
    assert [e for e in await survivor.run_once() if e["type"] == "checkin.sent"] == []
    keys = await _outbox_keys(runtime.db)
    assert sorted(keys) == sorted(f"checkin:{i}:1" for i in range(1, 31))
    assert await _statuses(runtime.db) == ["sent"] * 30
    assert await from_runtime(runtime).run_once() == []  # Nothing left to send twice.


async def test_two_dispatchers_at_once_send_each_exactly_once(
    runtime: Runtime, clock: Clock
) -> None:
    if runtime.db.is_sqlite:
        pytest.skip("SQLite runs a single dispatcher")
    await _many(runtime, clock, 200)
    clock.advance(hours=3)
    first = CheckinDispatcher(Database(runtime.db.url), runtime.pipeline.cipher, clock, batch=20)
    second = CheckinDispatcher(Database(runtime.db.url), runtime.pipeline.cipher, clock, batch=20)
    a, b = await asyncio.gather(first.run_once(), second.run_once())
    await first.db.close()
    await second.db.close()
    sent = [e["checkin_id"] for e in a + b if e["type"] == "checkin.sent"]
    assert len(sent) == len(set(sent)) == 200
    assert a and b  # Both did some of the work.
    async with runtime.db.sessions() as session:
        count = await session.scalar(select(func.count(func.distinct(OutboxItem.idempotency_key))))
        total = await session.scalar(select(func.count(OutboxItem.id)))
    assert count == total == 200


async def _people(runtime: Runtime, clock: Clock, people: list[dict[str, object]]) -> list[int]:
    """One contact and one check-in (due within 3 hours) per entry; ``named`` stores the
    choice of named check-ins, the other keys are contact columns. Contact ids in order."""
    ids = []
    async with runtime.db.sessions() as session, session.begin():
        for i, person in enumerate(people):
            values: dict[str, object] = {
                "channel": "web", "address_enc": b"x", "locale": "en", "discreet": False,
                "stopped": False,
            }  # fmt: skip
            values.update({k: v for k, v in person.items() if k != "named"})
            contact = Contact(
                address_hash=f"p{i}", country="US", locale_chosen=False,
                created_at=clock(), last_seen_at=clock(), **values,
            )  # fmt: skip
            session.add(contact)
            await session.flush()
            if person.get("named"):
                await service.set_preferences(session, contact, clock(), discreet=False)
            await service.schedule(
                session, contact, Rule("once", at=clock() + timedelta(hours=2)), clock()
            )
            ids.append(contact.id)
    return ids


async def test_each_person_gets_their_wording_in_one_batch_and_the_stopped_nothing(
    runtime: Runtime, clock: Clock
) -> None:
    people: list[dict[str, object]] = [
        {"locale": "en"},
        {"locale": "es", "channel": "sms"},
        {"locale": "en", "named": True},
        {"locale": "es", "named": True, "channel": "telegram"},
        {"locale": "en", "named": True, "discreet": True},  # Discreet mode on: neutral.
        {"locale": None, "named": True},
        {"locale": "en", "stopped": True},
        {"locale": "es", "named": True, "address_enc": None},  # Unreachable.
    ]
    contacts = await _people(runtime, clock, people)
    clock.advance(hours=3)
    events = await from_runtime(runtime).run_once()
    kinds = {e["contact_id"]: e["type"] for e in events}
    assert [kinds[c] for c in contacts] == ["checkin.sent"] * 6 + ["checkin.cancelled"] * 2
    async with runtime.db.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxItem.contact_id, OutboxItem.channel, OutboxItem.payload_enc)
            )
        ).all()
    cipher = runtime.pipeline.cipher
    got = {c: (channel, json.loads(cipher.decrypt(p))["text"]) for c, channel, p in rows}
    expected = [
        ("web", checkin_text("en", True)),
        ("sms", checkin_text("es", True)),
        ("web", checkin_text("en", False)),
        ("telegram", checkin_text("es", False)),
        ("web", checkin_text("en", True)),
        ("web", checkin_text("en", False)),
    ]
    assert [got.get(c) for c in contacts] == [*expected, None, None]
    assert checkin_text("en", True) != checkin_text("en", False)
    assert await _statuses(runtime.db) == ["sent"] * 6 + ["cancelled"] * 2


async def test_a_crowd_goes_out_in_growing_batches_each_once_with_its_times(
    runtime: Runtime, clock: Clock
) -> None:
    await _many(runtime, clock, 150)
    clock.advance(hours=3)
    now = clock()
    dispatcher = CheckinDispatcher(runtime.db, runtime.pipeline.cipher, clock, batch=10)
    sizes: list[int] = []
    real_send = dispatcher.send_batch

    async def send_batch() -> tuple[int, list[dict[str, Any]]]:
        claimed, events = await real_send()
        sizes.append(claimed)
        return claimed, events

    dispatcher.send_batch = send_batch  # type: ignore[method-assign]
    events = await dispatcher.run_once()
    assert sizes == [10, 20, 40, 40, 40, 0]  # Doubling while full, up to 4 x batch.
    sent = [e["checkin_id"] for e in events if e["type"] == "checkin.sent"]
    assert len(sent) == len(set(sent)) == 150
    assert {e["lateness_seconds"] for e in events} == {3600.0}  # Due 2 h in, sent at 3 h.
    async with runtime.db.sessions() as session:
        checkins = list((await session.execute(select(Checkin))).scalars())
        items = list((await session.execute(select(OutboxItem))).scalars())
        # The outbox sender's own question: what may go now (stored times compare right).
        ready = await session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now
            )
        )
        early = await session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.next_attempt_at <= now - timedelta(microseconds=1)
            )
        )
    assert ready == 150 and early == 0
    assert {(c.status, c.sequence, c.attempts) for c in checkins} == {("sent", 1, 1)}
    assert {(c.sent_at, c.answer_due_at, c.updated_at) for c in checkins} == {
        (now, now + timedelta(minutes=720), now)
    }
    assert {(i.status, i.attempts, i.next_attempt_at, i.created_at) for i in items} == {
        ("pending", 0, now, now)
    }
    assert sorted(i.idempotency_key for i in items) == sorted(f"checkin:{c}:1" for c in sent)
    assert await dispatcher.run_once() == []


async def test_next_wait_wakes_at_the_due_moment(runtime: Runtime, clock: Clock) -> None:
    dispatcher = from_runtime(runtime)
    assert await dispatcher.next_wait() == dispatcher.poll_seconds  # Nothing scheduled.
    await _many(runtime, clock, 1)
    async with runtime.db.sessions() as session:
        due = await session.scalar(select(Checkin.due_at))
    assert due is not None
    clock.now = due - timedelta(seconds=0.05)
    assert await dispatcher.run_once() == []
    assert await dispatcher.next_wait() == pytest.approx(0.05)  # Not the 0.2 s floor.
    clock.now = due + timedelta(seconds=0.01)  # Fell due after the last claim: go now.
    assert await dispatcher.next_wait() == 0.0
    if not runtime.db.is_sqlite:
        # Due at the last claim but not claimed: another worker holds it; look again soon.
        other = Database(runtime.db.url)
        try:
            async with other.sessions() as session, session.begin():
                await session.execute(select(Checkin.id).with_for_update())
                assert await dispatcher.run_once() == []
                assert await dispatcher.next_wait() == MIN_GAP
        finally:
            await other.close()
    assert [e["type"] for e in await dispatcher.run_once()] == ["checkin.sent"]
    assert await dispatcher.next_wait() == dispatcher.poll_seconds
