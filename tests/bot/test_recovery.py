"""A crash mid-turn loses nothing; storage outages still give crisis text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.maintenance import purge, recover_pending
from bot.runtime import Runtime
from bot.storage.models import Contact, Escalation, InboxItem, Message
from dialogs import flow
from tests.bot.helpers import event_types, say
from tests.conftest import Clock


async def test_crash_mid_turn_keeps_the_message_and_a_retry_finishes_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await say(runtime, "hi", provider_id="p0")
    real_step = flow.step

    def broken(turn: flow.Turn) -> flow.Decision:
        raise RuntimeError("boom")

    monkeypatch.setattr(flow, "step", broken)
    crashed = await say(runtime, "talk to a person", provider_id="p1")
    assert crashed.status in ("unavailable", "degraded")
    async with runtime.db.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.provider_id == "p1"))
    assert item is not None and item.status == "pending" and item.payload_enc

    monkeypatch.setattr(flow, "step", real_step)
    retried = await say(runtime, "talk to a person", provider_id="p1")
    assert "handoff.requested" in event_types(retried)


async def test_recovery_job_finishes_interrupted_turns(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    def broken(turn: flow.Turn) -> flow.Decision:
        raise RuntimeError("boom")

    real_step = flow.step
    monkeypatch.setattr(flow, "step", broken)
    await say(runtime, "I want to kill myself", provider_id="x1")
    monkeypatch.setattr(flow, "step", real_step)
    clock.now = datetime.now(UTC) + timedelta(minutes=1)  # Channels stamp real time.
    assert await recover_pending(runtime.pipeline) == 1
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(Escalation.level)) in ("high", "imminent")
        item = await session.scalar(select(InboxItem))
    assert item is not None and item.status == "done" and item.payload_enc is None


async def test_database_down_still_returns_the_crisis_text(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    for way_in in ("sessions", "write_sessions", "connect"):
        monkeypatch.setattr(runtime.db, way_in, down)
    result = await say(runtime, "I'm going to jump off the bridge tonight")
    assert result.status == "degraded"
    assert "911" in result.replies[0].text and "988" in result.replies[0].text
    calm = await say(runtime, "what is a t visa")
    assert calm.status == "unavailable"


async def test_retention_purge_removes_old_transcripts_and_quiet_contacts(
    runtime: Runtime, clock: Clock
) -> None:
    await say(runtime, "hi")
    await say(runtime, "yes")
    await say(runtime, "how do i find a lawyer")
    clock.advance(days=runtime.settings.retention_days + 1)
    counts = await purge(runtime.db, clock(), runtime.settings.retention_days)
    assert counts.messages > 0 and counts.contacts == 1
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(Message)) is None
        assert await session.scalar(select(Contact)) is None
        results = (await session.execute(select(InboxItem.result_enc))).scalars().all()
    assert all(r is None for r in results)


async def test_purge_keeps_recent_conversations(runtime: Runtime, clock: Clock) -> None:
    await say(runtime, "hi")
    await say(runtime, "yes")
    clock.advance(days=1)
    counts = await purge(runtime.db, clock(), runtime.settings.retention_days)
    assert counts.messages == 0 and counts.contacts == 0
