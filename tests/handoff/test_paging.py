"""Escalation, paging with acknowledgement, warm handoff: real storage, injected clock."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.outbox import OutboxDispatcher, SendResult, take_for_contact
from bot.runtime import Runtime
from bot.storage.models import Contact, Conversation, Escalation, Message
from dialogs.texts import get_texts
from escalation import service
from escalation.models import Counselor, OutboxItem, Page, Shift
from escalation.service import EscalationError
from tests.bot.helpers import event_types, joined, say
from tests.conftest import Clock

TEXTS = {"joined": "A counselor is here now.", "closed": "The counselor has left this chat."}


async def add_counselor(
    runtime: Runtime, name: str, *, position: str | None = None, on_call: bool = False,
    role: str = "counselor", channel: str = "console", address: str | None = None,
    locale: str = "en",
) -> Counselor:  # fmt: skip
    now = runtime.pipeline.clock()
    address_enc = runtime.pipeline.cipher.encrypt(address) if address else None
    async with runtime.db.sessions() as session, session.begin():
        counselor = Counselor(
            name=name, password_hash="x", role=role, active=True, on_call=on_call,
            page_channel=channel, page_address_enc=address_enc, locale=locale,
            failed_logins=0, created_at=now,
        )  # fmt: skip
        session.add(counselor)
        await session.flush()
        if position:
            session.add(
                Shift(
                    counselor_id=counselor.id,
                    position=position,
                    timezone="UTC",
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(days=30),
                    created_at=now,
                )
            )
    return counselor


async def say_paged(runtime: Runtime, text: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Say ``text``: the page events the turn itself published (a new alarm's first page)."""
    seen: list[dict[str, Any]] = []
    hand_over = runtime.pipeline.first_paged

    def record(published: service.Published) -> None:
        seen.extend(published.events)
        hand_over(published)

    runtime.pipeline.first_paged = record
    try:
        await say(runtime, text, **kwargs)
    finally:
        runtime.pipeline.first_paged = hand_over
    return seen


async def pages(runtime: Runtime) -> list[tuple[int, int]]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(select(Page.step, Page.counselor_id).order_by(Page.id))
        return [(int(s), int(c)) for s, c in rows.all()]


async def escalation_row(runtime: Runtime) -> Escalation:
    async with runtime.db.sessions() as session:
        row = await session.scalar(select(Escalation))
    assert row is not None
    return row


async def test_primary_is_paged_at_once_then_backup_supervisor_all(
    runtime: Runtime, clock: Clock
) -> None:
    primary = await add_counselor(runtime, "pri", position="primary")
    backup = await add_counselor(runtime, "bak", position="backup")
    boss = await add_counselor(runtime, "sup", position="supervisor", role="supervisor")
    extra = await add_counselor(runtime, "extra", on_call=True)
    events = await say_paged(runtime, "I'm going to kill myself tonight, I have the pills")
    # The first page goes out with the turn that raised the alarm, in its transaction.
    assert [e["counselor_id"] for e in events] == [primary.id]
    assert await pages(runtime) == [(0, primary.id)]
    assert await runtime.paging.run_once() == []  # Not paged twice, not due again yet.
    clock.advance(seconds=61)  # Imminent: 60 s to acknowledge.
    assert [e["counselor_id"] for e in await runtime.paging.run_once()] == [backup.id]
    clock.advance(seconds=61)
    assert [e["counselor_id"] for e in await runtime.paging.run_once()] == [boss.id]
    clock.advance(seconds=61)
    everyone = {e["counselor_id"] for e in await runtime.paging.run_once()}
    assert extra.id in everyone
    assert len(await pages(runtime)) == 3 + len(everyone)


async def test_acknowledgement_stops_re_paging(runtime: Runtime, clock: Clock) -> None:
    primary = await add_counselor(runtime, "pri", position="primary")
    await add_counselor(runtime, "bak", position="backup")
    await say(runtime, "he has a knife and says he will kill me tonight")
    await runtime.paging.run_once()
    escalation = await escalation_row(runtime)
    async with runtime.db.sessions() as session, session.begin():
        published = await service.acknowledge(session, escalation.id, primary, clock())
    assert published.events[0]["type"] == "escalation.acknowledged"
    clock.advance(minutes=30)
    assert await runtime.paging.run_once() == []
    assert len(await pages(runtime)) == 1


async def test_high_risk_waits_three_minutes(runtime: Runtime, clock: Clock) -> None:
    await add_counselor(runtime, "pri", position="primary")
    await add_counselor(runtime, "bak", position="backup")
    await say(runtime, "I want to die")
    await runtime.paging.run_once()
    clock.advance(seconds=120)
    assert await runtime.paging.run_once() == []
    clock.advance(seconds=61)
    assert len(await runtime.paging.run_once()) == 1


async def test_nobody_on_call_is_told_honestly_and_escalation_waits(runtime: Runtime) -> None:
    result = await say(runtime, "I want to kill myself")
    assert "No counselor is free right now" in joined(result)
    assert "988" in joined(result)
    assert "escalation.created" in event_types(result)
    assert await runtime.paging.run_once() == []
    escalation = await escalation_row(runtime)
    assert escalation.status == "open" and escalation.next_page_at is not None


async def test_a_second_alarm_raises_the_open_escalation(runtime: Runtime) -> None:
    await say(runtime, "hi")
    await say(runtime, "talk to a person")
    result = await say(runtime, "I have the pills in my hand")
    assert "escalation.updated" in event_types(result)
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Escalation)) == 1
    assert (await escalation_row(runtime)).level == "imminent"


async def test_queue_is_ordered_by_risk_then_waiting_time(runtime: Runtime, clock: Clock) -> None:
    viewer = await add_counselor(runtime, "sup", role="supervisor")
    await say(runtime, "talk to a person", address="a")
    clock.advance(seconds=5)
    await say(runtime, "I want to die", address="b")
    clock.advance(seconds=5)
    await say(runtime, "I have the pills in my hand right now", address="c")
    clock.advance(seconds=5)
    await say(runtime, "talk to a person", address="d")
    async with runtime.db.sessions() as session:
        items = await service.queue(session, viewer, clock())
    assert [i.level for i in items] == ["imminent", "high", "none", "none"]
    assert items[2].waiting_seconds > items[3].waiting_seconds


async def test_warm_handoff_relays_both_ways_and_closes_gently(
    runtime: Runtime, clock: Clock
) -> None:
    counselor = await add_counselor(runtime, "pri", position="primary")
    await say(runtime, "hi")
    await say(runtime, "talk to a person")
    escalation = await escalation_row(runtime)
    cipher = runtime.pipeline.cipher
    async with runtime.db.sessions() as session, session.begin():
        published = await service.claim(session, escalation.id, counselor, clock(), cipher, TEXTS)
    assert "handoff.started" in [e["type"] for e in published.events]

    relayed = await say(runtime, "I'm scared he will find me")
    assert relayed.replies == []  # The counselor answers, not the bot.
    assert "handoff.message" in event_types(relayed)
    async with runtime.db.sessions() as session, session.begin():
        await service.relay_to_survivor(
            session, escalation.id, counselor, "I'm here with you.", cipher, clock(), "k1"
        )
        # A retried send with the same key is not queued twice.
        await service.relay_to_survivor(
            session, escalation.id, counselor, "I'm here with you.", cipher, clock(), "k1"
        )
    from bot.outbox import take_for_contact

    who = runtime.pipeline.identity("web", "person-1")
    delivered = await take_for_contact(runtime.db, cipher, who, clock())
    assert delivered == [TEXTS["joined"], "I'm here with you."]
    assert await take_for_contact(runtime.db, cipher, who, clock()) == []  # Once only.

    danger = await say(runtime, "he is at the door with a knife")
    assert "escalation.updated" in event_types(danger)  # Flagged to the counselor.

    async with runtime.db.sessions() as session, session.begin():
        await service.close(session, escalation.id, counselor, "resolved", clock(), cipher, TEXTS)
    assert await take_for_contact(runtime.db, cipher, who, clock()) == [TEXTS["closed"]]
    after = await say(runtime, "menu")
    assert after.replies  # Back with the bot.
    async with runtime.db.sessions() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.handoff_escalation_id is None
        # No consent was given: the handoff transcript went with the handoff.
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize("channel", ["web", "telegram"])
async def test_watched_phone_gets_neutral_handoff_texts_on_every_channel(
    runtime: Runtime, clock: Clock, channel: str
) -> None:
    """Discreet mode: "a counselor joined" must not show on a locked screen, any channel."""
    counselor = await add_counselor(runtime, "pri", position="primary")
    await say(runtime, "hi", channel=channel)
    await say(runtime, "discreet on", channel=channel)
    await say(runtime, "talk to a person", channel=channel)
    escalation = await escalation_row(runtime)
    cipher = runtime.pipeline.cipher
    async with runtime.db.sessions() as session, session.begin():
        await service.claim(session, escalation.id, counselor, clock(), cipher, TEXTS)
        await service.relay_to_survivor(
            session, escalation.id, counselor, "Hi, I'm Sam.", cipher, clock()
        )
    async with runtime.db.sessions() as session, session.begin():
        await service.close(session, escalation.id, counselor, "resolved", clock(), cipher, TEXTS)
    async with runtime.db.sessions() as session:
        rows = (await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    texts = [json.loads(cipher.decrypt(r.payload_enc))["text"] for r in rows]
    neutral = get_texts("en")
    # A person's own words pass as written; what the service says of itself does not.
    assert texts == [neutral("discreet.joined"), "Hi, I'm Sam.", neutral("discreet.closed")]
    for revealing in ("counselor", "Harborline", "traffick", "abuse"):
        assert revealing.lower() not in (texts[0] + texts[2]).lower()


async def test_only_one_counselor_can_claim(runtime: Runtime, clock: Clock) -> None:
    one = await add_counselor(runtime, "one", on_call=True)
    two = await add_counselor(runtime, "two", on_call=True)
    await say(runtime, "talk to a person")
    escalation = await escalation_row(runtime)
    cipher = runtime.pipeline.cipher
    async with runtime.db.sessions() as session, session.begin():
        await service.claim(session, escalation.id, one, clock(), cipher, TEXTS)
    with pytest.raises(EscalationError):
        async with runtime.db.sessions() as session, session.begin():
            await service.claim(session, escalation.id, two, clock(), cipher, TEXTS)
    with pytest.raises(EscalationError):
        async with runtime.db.sessions() as session, session.begin():
            await service.relay_to_survivor(session, escalation.id, two, "hi", cipher, clock())
    async with runtime.db.sessions() as session, session.begin():
        await service.transfer(session, escalation.id, one, two, clock())
    async with runtime.db.sessions() as session, session.begin():
        await service.relay_to_survivor(session, escalation.id, two, "hello", cipher, clock())
    async with runtime.db.sessions() as session:
        outbox = await session.scalar(select(func.count()).select_from(OutboxItem))
    assert outbox == 2  # "joined" and "hello".


async def test_stop_during_handoff_ends_it(runtime: Runtime, clock: Clock) -> None:
    counselor = await add_counselor(runtime, "pri", on_call=True)
    await say(runtime, "talk to a person")
    escalation = await escalation_row(runtime)
    async with runtime.db.sessions() as session, session.begin():
        await service.claim(
            session, escalation.id, counselor, clock(), runtime.pipeline.cipher, TEXTS
        )
    result = await say(runtime, "stop")
    assert "handoff.ended" in event_types(result)
    assert (await escalation_row(runtime)).status == "closed"


# -- pages on the counselor's own channel -----------------------------------------------------

NUMBER = "+12025550143"
WORDS = "I'm going to kill myself tonight, I have the pills"


@dataclass
class FakeSms:
    """The outbox's SMS sender seen from outside: what went to which number."""

    results: list[SendResult] = field(default_factory=list)
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, address: str, text: str, key: str) -> SendResult:
        self.sent.append((address, text, key))
        return self.results.pop(0) if self.results else SendResult(ok=True)


async def page_rows(runtime: Runtime) -> list[tuple[int, int, str, bool]]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(Page.step, Page.counselor_id, Page.channel, Page.delivered_at).order_by(Page.id)
        )
        return [(int(s), int(c), str(ch), d is not None) for s, c, ch, d in rows.all()]


async def outbox_rows(runtime: Runtime) -> list[OutboxItem]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


async def test_sms_pages_go_through_the_outbox_in_the_counselors_language(
    runtime: Runtime, clock: Clock
) -> None:
    primary = await add_counselor(
        runtime, "pri", position="primary", channel="sms", address=NUMBER, locale="es"
    )
    backup = await add_counselor(runtime, "bak", position="backup")
    events = await say_paged(runtime, WORDS)
    assert [(e["counselor_id"], e["channel"]) for e in events] == [(primary.id, "sms")]
    assert await runtime.paging.run_once() == []  # Marks the console page delivered.
    escalation = await escalation_row(runtime)

    [item] = await outbox_rows(runtime)
    assert (item.contact_id, item.counselor_id, item.channel) == (None, primary.id, "sms")
    assert item.idempotency_key == f"page:{escalation.id}:{primary.id}:0"
    cipher = runtime.pipeline.cipher
    assert item.address_enc is not None and cipher.decrypt(item.address_enc) == NUMBER
    text = json.loads(cipher.decrypt(item.payload_enc))["text"]
    assert text == get_texts("es")("escalation.page.imminent")
    survivor_words = {w for w in re.findall(r"[a-z]{4,}", WORDS.lower())}
    assert not survivor_words & set(re.findall(r"[a-z]{4,}", text.lower()))
    # Console now (published), SMS once the outbox has sent it.
    assert await page_rows(runtime) == [
        (0, primary.id, "console", True),
        (0, primary.id, "sms", False),
    ]

    sms = FakeSms()
    outbox = OutboxDispatcher(runtime.db, cipher, {"sms": sms}, clock)
    assert await outbox.run_once() == 1
    assert await outbox.run_once() == 0  # Sent once.
    assert [(address, body) for address, body, _ in sms.sent] == [(NUMBER, text)]
    assert await page_rows(runtime) == [
        (0, primary.id, "console", True),
        (0, primary.id, "sms", True),
    ]
    # The survivor never receives a counselor's page.
    assert (
        await take_for_contact(
            runtime.db, cipher, runtime.pipeline.identity("web", "person-1"), clock()
        )
        == []
    )

    clock.advance(seconds=61)  # Nobody acknowledged: the backup, on the console only.
    assert [(e["counselor_id"], e["channel"]) for e in await runtime.paging.run_once()] == [
        (backup.id, "console")
    ]
    assert len(await outbox_rows(runtime)) == 1


async def test_every_repeat_of_the_everyone_step_is_its_own_page(
    runtime: Runtime, clock: Clock
) -> None:
    anyone = await add_counselor(runtime, "any", on_call=True, channel="sms", address=NUMBER)
    assert [e["step"] for e in await say_paged(runtime, WORDS)] == [3]  # Nobody holds 0-2.
    clock.advance(seconds=61)
    assert [e["step"] for e in await runtime.paging.run_once()] == [4]
    clock.advance(seconds=30)
    assert await runtime.paging.run_once() == []
    escalation = await escalation_row(runtime)
    keys = [item.idempotency_key for item in await outbox_rows(runtime)]
    assert keys == [f"page:{escalation.id}:{anyone.id}:{step}" for step in (3, 4)]
    sms = FakeSms()
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"sms": sms}, clock)
    await outbox.run_once()
    await outbox.run_once()
    assert len(sms.sent) == 2


async def test_a_counselor_paged_by_telegram_gets_the_console_page_and_an_event(
    runtime: Runtime,
) -> None:
    primary = await add_counselor(
        runtime, "pri", position="primary", channel="telegram", address="123456789"
    )
    [event] = await say_paged(runtime, WORDS)
    assert await runtime.paging.run_once() == []  # Marks the console page delivered.
    # The Telegram channel sends the card from this event (and records its own page row).
    assert (event["type"], event["counselor_id"], event["channel"]) == (
        "page",
        primary.id,
        "telegram",
    )
    assert await page_rows(runtime) == [(0, primary.id, "console", True)]
    assert await outbox_rows(runtime) == []


async def test_an_sms_page_that_cannot_be_delivered_stops_nobody(
    runtime: Runtime, clock: Clock
) -> None:
    await add_counselor(runtime, "pri", position="primary", channel="sms", address=NUMBER)
    await say(runtime, WORDS)
    await runtime.paging.run_once()
    sms = FakeSms([SendResult(ok=False, unreachable=True)])
    outbox = OutboxDispatcher(runtime.db, runtime.pipeline.cipher, {"sms": sms}, clock)
    await outbox.run_once()
    [item] = await outbox_rows(runtime)
    assert item.status == "failed"
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(Contact.stopped)) is False  # The survivor is fine.
    again = await say(runtime, "are you there?")
    assert again.replies  # The survivor is still answered.
