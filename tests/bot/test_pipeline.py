"""The whole pipeline against real storage: SQLite, and PostgreSQL + Redis."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.storage.models import Contact, Conversation, Escalation, InboxItem, Message
from escalation.models import Page
from escalation.service import Published, claim
from tests.bot.helpers import event_types, joined, say
from tests.conftest import Clock
from tests.handoff.test_paging import TEXTS, add_counselor


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_first_message_gets_the_welcome(runtime: Runtime) -> None:
    result = await say(runtime, "hi")
    assert result.status == "ok"
    assert "automated assistant" in joined(result)
    assert "contact.created" in event_types(result)


async def test_without_consent_no_message_text_is_kept(runtime: Runtime) -> None:
    await say(runtime, "hi")
    await say(runtime, "no")
    await say(runtime, "what is a t visa")
    assert await count(runtime, Message) == 0
    async with runtime.db.sessions() as session:
        payloads = (await session.execute(select(InboxItem.payload_enc))).scalars().all()
    assert payloads and all(p is None for p in payloads)


async def test_with_consent_the_transcript_is_kept_encrypted(runtime: Runtime) -> None:
    await say(runtime, "hi")
    assert "consent.given" in event_types(await say(runtime, "yes"))
    await say(runtime, "where can i find a lawyer")
    async with runtime.db.sessions() as session:
        rows = (await session.execute(select(Message))).scalars().all()
    texts = [runtime.pipeline.cipher.decrypt(r.text_enc) for r in rows]
    assert "where can i find a lawyer" in texts
    assert all(b"lawyer" not in r.text_enc for r in rows)


async def test_address_is_stored_only_hashed_and_encrypted(runtime: Runtime) -> None:
    await say(runtime, "hi", address="+15551234567")
    async with runtime.db.sessions() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert "5551234567" not in contact.address_hash
    assert contact.address_enc and b"5551234567" not in contact.address_enc
    assert runtime.pipeline.cipher.decrypt(contact.address_enc) == "+15551234567"


async def test_retried_message_is_answered_once_with_the_same_replies(runtime: Runtime) -> None:
    await say(runtime, "hi", provider_id="a")
    first = await say(runtime, "talk to a person", provider_id="b")
    again = await say(runtime, "talk to a person", provider_id="b")
    assert again.status == "duplicate"
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    assert await count(runtime, Escalation) == 1


async def test_crisis_creates_an_escalation_even_without_consent(runtime: Runtime) -> None:
    result = await say(runtime, "I have the pills in my hand and I want to die tonight")
    assert "911" in result.replies[0].text
    assert "988" in joined(result)
    assert "escalation.created" in event_types(result)
    async with runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
    assert escalation is not None
    assert escalation.level in ("high", "imminent")
    assert escalation.cues
    assert "pills" in runtime.pipeline.cipher.decrypt(escalation.excerpt_enc or b"")
    assert await count(runtime, Message) == 0


async def test_follow_up_is_read_in_context(runtime: Runtime) -> None:
    await say(runtime, "hi")
    await say(runtime, "no")
    first = await say(runtime, "I don't want to live anymore")
    assert "escalation.created" in event_types(first)
    follow = await say(runtime, "I have them right here")
    risk = next(e for e in follow.events if e.type == "risk.detected")
    assert risk.data["level"] in ("high", "imminent")


async def test_forget_me_erases_everything_linked(runtime: Runtime) -> None:
    await say(runtime, "hi")
    await say(runtime, "yes")
    await say(runtime, "I want to kill myself")
    await say(runtime, "forget me")
    result = await say(runtime, "yes")
    assert "contact.erased" in event_types(result)
    for model in (Contact, Conversation, Message, Escalation):
        assert await count(runtime, model) == 0, model.__name__
    async with runtime.db.sessions() as session:
        inbox = (await session.execute(select(InboxItem))).scalars().all()
    # Inbox rows keep only provider ids for de-duplication: no text, no link.
    assert all(i.payload_enc is None for i in inbox)
    again = await say(runtime, "hello")
    assert "contact.created" in event_types(again)


async def test_stop_then_any_message_resumes(runtime: Runtime) -> None:
    await say(runtime, "hi")
    assert "contact.stopped" in event_types(await say(runtime, "STOP"))
    async with runtime.db.sessions() as session:
        assert (await session.scalar(select(Contact.stopped))) is True
    assert "contact.resumed" in event_types(await say(runtime, "hola"))


async def test_spanish_speaker_gets_spanish(runtime: Runtime) -> None:
    result = await say(runtime, "hola, necesito ayuda por favor")
    assert result.locale == "es"
    assert "asistente automático" in joined(result)


async def test_language_switch_event_and_persistence(runtime: Runtime) -> None:
    await say(runtime, "hi there")
    result = await say(runtime, "/es")
    assert "language.changed" in event_types(result)
    later = await say(runtime, "what is a t visa")  # English words, chosen language wins.
    assert later.locale == "es"


async def test_two_quick_messages_never_race(runtime: Runtime) -> None:
    await say(runtime, "hi")
    results = await asyncio.gather(*(say(runtime, f"question {i}") for i in range(8)))
    assert all(r.status == "ok" for r in results)
    async with runtime.db.sessions() as session:
        item_count = await session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.status == "done")
        )
    assert item_count == 9


async def test_many_conversations_at_once_all_get_answers(runtime: Runtime) -> None:
    # Each turn reads, then writes. On SQLite two such transactions used to fail with
    # "database is locked" (a degraded reply) instead of waiting their turn.
    people = [f"person-{i}" for i in range(80)]
    await asyncio.gather(*(say(runtime, "hi", address=p) for p in people))
    await asyncio.gather(*(say(runtime, "yes", address=p) for p in people))
    rounds = ["what is a t visa", "he took my passport and I am scared", "menu"]
    results = await asyncio.gather(
        *(say(runtime, text, address=p) for text in rounds for p in people)
    )
    assert [r.status for r in results] == ["ok"] * len(results)
    async with runtime.db.sessions() as session:
        pending = await session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.status != "done")
        )
    assert pending == 0


async def test_flood_is_limited_but_distress_always_gets_through(runtime: Runtime) -> None:
    limit = runtime.settings.rate_limit_per_minute
    statuses = [(await say(runtime, "hello again")).status for _ in range(limit + 3)]
    assert statuses.count("rate_limited") == 3
    urgent = await say(runtime, "he is outside with a knife, he will kill me")
    assert urgent.status == "ok"
    assert "escalation.created" in event_types(urgent)


async def test_a_message_is_stored_before_it_waits_for_its_conversation(
    runtime: Runtime,
) -> None:
    """Another turn of the same conversation holds the lock: this one is kept meanwhile."""
    await say(runtime, "hi", address="busy")
    who = runtime.pipeline.identity("web", "busy")
    async with runtime.state.lock(who):
        waiting = asyncio.create_task(say(runtime, "what is a t visa", address="busy"))
        for _ in range(200):
            statuses = await inbox_statuses(runtime)
            if statuses.count("pending") == 1:
                break
            await asyncio.sleep(0.01)
        assert statuses.count("pending") == 1  # Stored, waiting for its turn.
        assert not waiting.done()
    assert (await waiting).status == "ok"
    assert await inbox_statuses(runtime) == ["done", "done"]


async def inbox_statuses(runtime: Runtime) -> list[str]:
    async with runtime.db.sessions() as session:
        return list((await session.scalars(select(InboxItem.status).order_by(InboxItem.id))).all())


async def test_very_long_message_gets_a_kind_reply(runtime: Runtime) -> None:
    await say(runtime, "hi")
    result = await say(runtime, "word " * 2000)
    assert result.status == "ok"
    assert "long message" in joined(result)


async def test_long_message_with_distress_at_the_end_still_escalates(runtime: Runtime) -> None:
    result = await say(runtime, "hello " * 1500 + " I am going to kill myself tonight")
    assert "escalation.created" in event_types(result)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02", "\ud800 broken", "🙂" * 50])
async def test_odd_input_gets_a_reply_not_a_crash(runtime: Runtime, text: str) -> None:
    await say(runtime, "hi")
    result = await say(runtime, text)
    assert result.status == "ok"
    assert result.replies


async def test_a_new_alarm_is_paged_in_its_turn_and_the_pager_woken_only_when_raised(
    runtime: Runtime,
) -> None:
    """A new escalation's first page commits with it; waking the pager costs a write."""
    primary = await add_counselor(runtime, "pri", position="primary")
    wakes = 0
    first_pages: list[dict[str, object]] = []

    def wake() -> None:
        nonlocal wakes
        wakes += 1

    hand_over = runtime.pipeline.first_paged

    def paged(published: Published) -> None:
        first_pages.extend(published.events)
        hand_over(published)

    runtime.pipeline.wake_paging = wake
    runtime.pipeline.first_paged = paged
    await say(runtime, "hi")
    await say(runtime, "I feel so alone lately")  # Moderate: no escalation.
    assert wakes == 0 and first_pages == []
    await say(runtime, "my boss keeps my passport")  # High: a new escalation, paged now.
    assert wakes == 0
    assert [(e["type"], e["counselor_id"], e["step"]) for e in first_pages] == [
        ("page", primary.id, 0)
    ]
    assert await count(runtime, Page) == 1
    await say(runtime, "he took my passport and says I owe him")  # The same level again.
    assert wakes == 0 and len(first_pages) == 1
    await say(runtime, "I have the pills in my hand right now")  # Raised to imminent.
    assert wakes == 1 and len(first_pages) == 1
    async with runtime.db.sessions() as session:
        levels = (await session.scalars(select(Escalation.level))).all()
    assert levels == ["imminent"]
    # The raised alarm is the dispatcher's: it pages the next step, once.
    assert [e["level"] for e in await runtime.paging.run_once()] == ["imminent"]
    assert await runtime.paging.run_once() == []
    async with runtime.db.sessions() as session:
        delivered = (await session.scalars(select(Page.delivered_at))).all()
    assert len(delivered) == 2 and None not in delivered  # Both published and marked.


async def test_a_rehearsal_leaves_nothing_behind_and_pages_no_one(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import pipeline
    from bot.warmup import REHEARSAL

    escalated: list[str] = []
    real_escalate = pipeline._TurnContext._escalate

    async def spy(self: pipeline._TurnContext, *args: object) -> object:
        escalated.append(self.text)
        return await real_escalate(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline._TurnContext, "_escalate", spy)
    await add_counselor(runtime, "pri", position="primary")  # Someone a page would reach.
    woken: list[int] = []
    runtime.pipeline.wake_paging = lambda: woken.append(1)
    runtime.pipeline.first_paged = lambda published: woken.append(2)
    # A rehearsal that reaches a person and an escalation, in both languages.
    await runtime.pipeline.rehearse([*REHEARSAL["en"], "i want to die tonight"], "en")
    await runtime.pipeline.rehearse(REHEARSAL["es"], "es")
    assert "i want to die tonight" in escalated  # the escalation path did run
    for model in (Contact, Conversation, Message, Escalation, InboxItem, Page):
        assert await count(runtime, model) == 0, model
    assert woken == []
    # The real conversation afterwards starts from scratch, as usual.
    result = await say(runtime, "hi", address="rehearsal-then-real")
    assert result.replies and await count(runtime, Contact) == 1


async def test_a_failed_warm_up_does_not_stop_the_server(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.warmup import warm_up

    async def unreachable(*_: object) -> None:
        raise OperationalError("rehearsal", None, ConnectionRefusedError())

    monkeypatch.setattr(runtime.pipeline, "rehearse", unreachable)
    await warm_up(runtime)  # logged and skipped, not raised
    result = await say(runtime, "hi", address="after-a-failed-warm-up")
    assert result.status == "ok" and result.replies


async def _conversation(runtime: Runtime) -> Conversation:
    async with runtime.db.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None
    return conversation


async def test_the_conversation_row_holds_each_turn_s_state(runtime: Runtime) -> None:
    # Plain turns write state, data and last risk with one UPDATE of their own.
    await say(runtime, "hi")
    await say(runtime, "yes")
    await say(runtime, "what is a t visa")
    answered = await _conversation(runtime)
    assert answered.data.get("last_article")
    await say(runtime, "i have nowhere to sleep tonight")
    moderate = await _conversation(runtime)
    assert moderate.last_risk["level"] == "moderate"
    assert moderate.updated_at >= answered.updated_at
    await say(runtime, "menu")
    assert (await _conversation(runtime)).state == "menu"


async def test_the_conversation_row_holds_state_written_beside_a_handoff_change(
    runtime: Runtime, clock: Clock
) -> None:
    # Ending a handoff changes the row through the ORM too; both land together.
    counselor = await add_counselor(runtime, "pri", on_call=True)
    await say(runtime, "talk to a person")
    async with runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
    assert escalation is not None
    async with runtime.db.sessions() as session, session.begin():
        await claim(session, escalation.id, counselor, clock(), runtime.pipeline.cipher, TEXTS)
    assert (await _conversation(runtime)).handoff_escalation_id == escalation.id
    await say(runtime, "stop")
    after = await _conversation(runtime)
    assert after.handoff_escalation_id is None
    assert after.state != "handoff"
