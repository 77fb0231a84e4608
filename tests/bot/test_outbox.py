"""The durable outbox: each message sent once, retried with back-off, never lost."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.outbox import OutboxDispatcher, SendResult, backoff, take_for_contact
from bot.runtime import Runtime
from bot.storage.models import Contact
from escalation.models import Counselor, OutboxItem
from escalation.service import enqueue_for_survivor
from tests.bot.helpers import say
from tests.conftest import Clock


@dataclass
class FakeSender:
    """Answers from a script of results, records every call."""

    results: list[SendResult]
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, address: str, text: str, key: str) -> SendResult:
        self.calls.append((address, text, key))
        return self.results.pop(0) if self.results else SendResult(ok=True)


async def queue_one(runtime: Runtime, text: str = "hello from a counselor") -> None:
    await say(runtime, "hi", address="+15550001111", channel="fake")
    async with runtime.db.sessions() as session, session.begin():
        contact_id = await session.scalar(select(Contact.id))
        assert contact_id is not None
        await enqueue_for_survivor(
            session, contact_id, text, runtime.pipeline.cipher, runtime.pipeline.clock()
        )


async def status(runtime: Runtime) -> list[str]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(OutboxItem.status))).scalars())


async def test_sent_once_with_the_real_address(runtime: Runtime, clock: Clock) -> None:
    await queue_one(runtime)
    sender = FakeSender([])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": sender}, clock)
    assert await outbox.run_once() == 1
    assert await outbox.run_once() == 0
    assert sender.calls == [("+15550001111", "hello from a counselor", sender.calls[0][2])]
    assert await status(runtime) == ["sent"]


async def test_rate_limit_and_server_errors_are_retried(runtime: Runtime, clock: Clock) -> None:
    await queue_one(runtime)
    sender = FakeSender([SendResult(ok=False, retry_after=30), SendResult(ok=False, retry_after=5)])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": sender}, clock)
    await outbox.run_once()
    assert await status(runtime) == ["pending"]
    clock.advance(seconds=10)
    assert await outbox.run_once() == 0 and len(sender.calls) == 1  # Waits for Retry-After.
    clock.advance(seconds=25)
    await outbox.run_once()
    clock.advance(seconds=60)
    assert await outbox.run_once() == 1
    assert len(sender.calls) == 3 and await status(runtime) == ["sent"]
    assert len({key for _, _, key in sender.calls}) == 1  # One idempotency key throughout.


async def test_unreachable_contact_is_marked_and_not_retried(
    runtime: Runtime, clock: Clock
) -> None:
    await queue_one(runtime)
    sender = FakeSender([SendResult(ok=False, unreachable=True)])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": sender}, clock)
    await outbox.run_once()
    assert await status(runtime) == ["failed"]
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(Contact.stopped)) is True


async def test_a_claimed_row_left_by_a_dead_worker_is_requeued(
    runtime: Runtime, clock: Clock
) -> None:
    await queue_one(runtime)
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": FakeSender([])}, clock)
    claimed = await outbox._claim()  # A worker claims, then dies before sending.
    assert len(claimed) == 1 and await status(runtime) == ["sending"]
    assert await outbox.run_once() == 0  # Nobody sends it twice meanwhile.
    clock.advance(minutes=3)
    assert await outbox.requeue_stale() == 1
    assert await outbox.run_once() == 1


async def queue_for_counselor(runtime: Runtime, number: str, key: str) -> None:
    """A row addressed to a counselor (a page by SMS): no contact, its own address."""
    now, cipher = runtime.pipeline.clock(), runtime.pipeline.cipher
    payload = cipher.encrypt(json.dumps({"text": "open the console"}))
    async with runtime.db.sessions() as session, session.begin():
        counselor = Counselor(
            name="maria", password_hash="!", role="counselor", active=True, on_call=True,
            page_channel="fake", failed_logins=0, created_at=now,
        )  # fmt: skip
        session.add(counselor)
        await session.flush()
        session.add(
            OutboxItem(
                contact_id=None, counselor_id=counselor.id, address_enc=cipher.encrypt(number),
                channel="fake", payload_enc=payload,
                idempotency_key=key, status="pending", attempts=0, next_attempt_at=now,
                created_at=now,
            )
        )  # fmt: skip


async def test_a_counselors_row_goes_to_their_number_and_never_to_a_survivor(
    runtime: Runtime, clock: Clock
) -> None:
    await queue_one(runtime)  # The survivor at +15550001111 has one message waiting.
    await queue_for_counselor(runtime, "+12025550143", "page:1:1:0")
    who = runtime.pipeline.identity("fake", "+15550001111")
    assert await take_for_contact(runtime.db, runtime.pipeline.cipher, who, clock()) == [
        "hello from a counselor"
    ]
    sender = FakeSender([])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": sender}, clock)
    assert await outbox.run_once() == 1
    assert [(address, text) for address, text, _ in sender.calls] == [
        ("+12025550143", "open the console")
    ]
    assert await outbox.run_once() == 0
    assert sorted(await status(runtime)) == ["sent", "sent"]


async def test_an_unreachable_counselor_number_stops_no_survivor(
    runtime: Runtime, clock: Clock
) -> None:
    await say(runtime, "hi", address="+15550001111", channel="fake")
    await queue_for_counselor(runtime, "+12025550143", "page:1:1:0")
    sender = FakeSender([SendResult(ok=False, unreachable=True)])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"fake": sender}, clock)
    assert await outbox.run_once() == 0
    assert await status(runtime) == ["failed"]
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(Contact.stopped)) is False


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n, None).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff(20, None).total_seconds() == 300
    assert backoff(3, 42).total_seconds() == 42
