"""The durable outbox: each message sent once, retried with back-off, never lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.outbox import OutboxDispatcher, SendResult, backoff
from bot.runtime import Runtime
from bot.storage.models import Contact
from escalation.models import OutboxItem
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


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n, None).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff(20, None).total_seconds() == 300
    assert backoff(3, 42).total_seconds() == 42
