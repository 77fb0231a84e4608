"""The Telegram channel end to end: the real aiogram Bot against a fake Bot API server.

The app runs with its lifespan (the channel's starter registers commands, the
webhook and the outbox sender); updates are posted to ``/telegram/webhook`` as
Telegram would, or served by the fake's getUpdates for long polling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.telegram import (
    MAX_CHARS,
    PATH,
    TelegramSender,
    locale_hint,
    parse_counselor_ids,
    split_text,
)
from bot.channels.telegram_store import TelegramMessage
from bot.storage.models import Contact, Escalation, InboxItem
from bot.types import Choice, Reply
from escalation.models import Counselor, OutboxItem
from escalation.service import enqueue_for_survivor
from tests.channels.telegram_fake import (
    CHAT,
    COUNSELOR_TG,
    GROUP,
    HEADERS,
    SECRET,
    FakeTelegram,
    World,
    Worlds,
    eventually,
)
from tests.conftest import Clock


@pytest.fixture
def make_world(worlds: Worlds) -> Callable[..., Awaitable[World]]:
    return worlds.build


@pytest.fixture
async def world(worlds: Worlds) -> World:
    return await worlds.build()


async def start_chat(world: World, chat: int = CHAT) -> None:
    """Welcome, then decline keeping the chat: the menu."""
    await world.say("hi", chat)
    await world.tap("/no", chat)


# -- pure pieces ----------------------------------------------------------------------------


def test_split_text_cuts_at_sentence_ends_within_the_limit() -> None:
    sentence = "This is one short sentence. "
    text = sentence * 400  # about 11,200 characters
    parts = split_text(text)
    assert len(parts) == 3
    assert all(len(p) <= MAX_CHARS for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text.strip()
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert split_text("short") == ["short"]


def test_locale_hint_and_counselor_ids() -> None:
    assert locale_hint("es-MX") == "es"
    assert locale_hint("ES") == "es"
    assert locale_hint("en") == "en"
    assert locale_hint(None) == "en"
    assert parse_counselor_ids(" 1:Ana, bad, 2:luis,:x") == {1: "ana", 2: "luis"}


# -- survivors ------------------------------------------------------------------------------


async def test_start_up_registers_commands_and_the_webhook(world: World) -> None:
    await eventually(lambda: "es" in world.fake.commands and bool(world.fake.webhook))
    english = {c["command"]: c["description"] for c in world.fake.commands[""]}
    spanish = {c["command"]: c["description"] for c in world.fake.commands["es"]}
    assert {"start", "menu", "exit", "forget", "person"} <= set(english)
    assert english["menu"] != spanish["menu"]
    assert world.fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
    assert world.fake.webhook["secret_token"] == SECRET


async def test_welcome_with_buttons_and_an_exit_button(world: World) -> None:
    texts = await world.say("hi")
    assert any("automated assistant" in t for t in texts)
    last = world.fake.to(CHAT)[-1]
    values = [value for _, value in last.buttons]
    assert values[-1] == "/exit"
    assert "/yes" in values and "/no" in values
    assert await world.count(InboxItem) == 1


async def test_spanish_from_the_telegram_language(world: World) -> None:
    texts = await world.say("/start", language="es-MX")
    assert any("asistente automático" in t for t in texts)
    assert world.fake.to(CHAT)[-1].buttons[-1] == ("Salir", "/exit")


async def test_knowledge_base_answer(world: World) -> None:
    await start_chat(world)
    texts = await world.say("what is a t visa")
    assert any("T visa" in t or "T-visa" in t for t in texts)
    assert any(value == "/more" for s in world.fake.to(CHAT) for _, value in s.buttons)
    assert world.fake.answered  # the button tap was answered


async def test_crisis_escalates_and_gives_the_emergency_number(world: World) -> None:
    await start_chat(world)
    texts = await world.say("I want to kill myself tonight")
    assert any("911" in t for t in texts)
    async with world.runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
    assert escalation is not None and escalation.level in ("high", "imminent")


async def test_quick_exit_deletes_every_message_then_one_neutral_line(world: World) -> None:
    await start_chat(world)
    await world.say("what is a t visa")
    bot_ids = [s.message_id for s in world.fake.to(CHAT)]
    async with world.runtime.db.sessions() as session:
        stored = set(await session.scalars(select(TelegramMessage.message_id)))
    assert set(bot_ids) <= stored
    assert len(stored) > len(bot_ids)  # the person's messages too
    exit_update = world.fake.message(CHAT, "/exit")
    assert await world.post(exit_update) == 200
    deleted = {m for c, m in world.fake.deleted if c == CHAT}
    assert stored | {exit_update["message"]["message_id"]} <= deleted
    assert world.fake.to(CHAT)[-1].text == "Done."
    async with world.runtime.db.sessions() as session:
        left = list(await session.scalars(select(TelegramMessage.message_id)))
    assert left == [world.fake.to(CHAT)[-1].message_id]


async def test_the_exit_button_does_the_same(world: World) -> None:
    await world.say("hola", language="es")
    assert await world.tap("/exit") == 200
    assert len(world.fake.deleted) >= 2
    assert world.fake.to(CHAT)[-1].text in ("Done.", "Listo.")


async def test_forget_me_erases_the_contact_and_its_message_ids(world: World) -> None:
    await start_chat(world)
    assert await world.count(TelegramMessage) > 0
    await world.say("forget me")
    await world.tap("/yes")
    assert await world.count(Contact) == 0
    assert await world.count(TelegramMessage) == 0


async def test_message_ids_are_purged_after_48_hours(world: World, clock: Clock) -> None:
    await start_chat(world)
    assert await world.count(TelegramMessage) > 0
    clock.advance(hours=47)
    assert await world.channel.purge() == 0
    clock.advance(hours=2)
    assert await world.channel.purge() > 0
    assert await world.count(TelegramMessage) == 0


# -- the webhook ----------------------------------------------------------------------------


async def test_webhook_secret_wrong_or_missing_is_401_and_nothing_is_stored(
    world: World,
) -> None:
    update = world.fake.message(CHAT, "hi")
    assert await world.post(update, headers={}) == 401
    assert await world.post(update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}) == 401
    assert await world.count(InboxItem) == 0
    assert world.fake.to(CHAT) == []


async def test_webhook_refuses_malformed_bodies_with_400(world: World) -> None:
    for body in (b"{not json", b"[1, 2]", b'"text"', b'{"update_id": "x"}', b"\xff\xfe"):
        response = await world.http.post(PATH, content=body, headers=HEADERS)
        assert response.status_code == 400, body
    assert await world.count(InboxItem) == 0


async def test_a_duplicate_update_is_processed_once(world: World) -> None:
    update = world.fake.message(CHAT, "hi")
    assert await world.post(update) == 200
    sent = len(world.fake.to(CHAT))
    assert await world.post(update) == 200
    assert len(world.fake.to(CHAT)) == sent
    assert await world.count(InboxItem) == 1


async def test_non_text_updates_get_one_kind_reply_and_nothing_else_is_kept(
    world: World,
) -> None:
    photo = world.fake.message(
        CHAT, extra={"photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}
    )
    location = world.fake.message(CHAT, extra={"location": {"latitude": 1.0, "longitude": 2.0}})
    edited = world.fake.message(CHAT, "changed", kind="edited_message")
    group = world.fake.message(-100555, "hello bot", chat_type="group", user_id=99)
    for update in (photo, location, edited, group):
        assert await world.post(update) == 200
        assert await world.post(update) == 200  # a redelivery: no second reply
    assert [s.text for s in world.fake.to(CHAT)] == [
        "I can only read text here. Please type your message.",
        "I can only read text here. Please type your message.",
        "I can't read edited messages. Please send your words again as a new message.",
    ]
    assert len(world.fake.to(-100555)) == 1
    assert await world.count(Contact) == 0
    async with world.runtime.db.sessions() as session:
        payloads = list(await session.scalars(select(InboxItem.payload_enc)))
    assert payloads == [None] * 4


# -- limits and the outbox ------------------------------------------------------------------


async def _outbox_item(world: World, text: str) -> int:
    who = world.runtime.pipeline.identity("telegram", str(CHAT))
    async with world.runtime.db.sessions() as session, session.begin():
        contact_id = await session.scalar(select(Contact.id).where(Contact.address_hash == who))
        assert contact_id is not None
        item = await enqueue_for_survivor(
            session, contact_id, text, world.runtime.pipeline.cipher, world.runtime.pipeline.clock()
        )
        assert item is not None
        await session.flush()
        return item.id


async def test_429_retry_after_is_honoured_by_the_outbox(world: World, clock: Clock) -> None:
    await start_chat(world)
    item_id = await _outbox_item(world, "A counselor wrote to you.")
    world.fake.fail("sendMessage", 429, retry_after=7)
    assert await world.runtime.outbox.run_once() == 0
    async with world.runtime.db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None and item.status == "pending"
        assert item.next_attempt_at == clock.now + timedelta(seconds=7)
    clock.advance(seconds=6)
    assert await world.runtime.outbox.run_once() == 0  # not due yet
    clock.advance(seconds=1)
    assert await world.runtime.outbox.run_once() == 1
    assert world.fake.to(CHAT)[-1].text == "A counselor wrote to you."
    assert await world.runtime.outbox.run_once() == 0  # never twice


async def test_5xx_is_retried_with_back_off(world: World, clock: Clock) -> None:
    await start_chat(world)
    item_id = await _outbox_item(world, "Still here.")
    world.fake.fail("sendMessage", 502)
    assert await world.runtime.outbox.run_once() == 0
    async with world.runtime.db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None and item.status == "pending"
        assert item.next_attempt_at > clock.now
    clock.advance(seconds=5)
    assert await world.runtime.outbox.run_once() == 1


async def test_403_marks_the_contact_unreachable(world: World) -> None:
    await start_chat(world)
    item_id = await _outbox_item(world, "Hello again.")
    world.fake.fail("sendMessage", 403)
    await world.runtime.outbox.run_once()
    async with world.runtime.db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
        contact = await session.scalar(select(Contact))
    assert item is not None and item.status == "failed"
    assert contact is not None and contact.stopped


async def test_a_refused_direct_reply_goes_to_the_outbox(world: World, clock: Clock) -> None:
    await start_chat(world)
    world.fake.fail("sendMessage", 429, retry_after=3, times=1)
    sent_before = len(world.fake.to(CHAT))
    await world.say("menu")
    assert len(world.fake.to(CHAT)) == sent_before  # refused
    assert await world.count(OutboxItem) >= 1
    assert await world.runtime.outbox.run_once() >= 1
    delivered = [s.text for s in world.fake.to(CHAT)[sent_before:]]
    assert any("Pick one" in t for t in delivered)
    assert await world.runtime.outbox.run_once() == 0  # never twice


async def test_a_long_message_is_split(world: World) -> None:
    await start_chat(world)
    sender = TelegramSender(world.channel)
    long_text = "Here is one more sentence about your rights. " * 250  # ~11,000 characters
    result = await sender.send(str(CHAT), long_text, "k1")
    assert result.ok
    parts = world.fake.to(CHAT)[-3:]
    assert all(len(p.text) <= MAX_CHARS for p in parts)
    assert " ".join(p.text for p in parts) == long_text.strip()


async def test_a_long_reply_is_split_with_the_buttons_on_the_last_part(world: World) -> None:
    await start_chat(world)
    reply = Reply("Short sentence here. " * 400, (Choice("Menu", "/menu"),))
    from bot.pipeline import TurnResult
    from dialogs.texts import get_texts

    who = world.runtime.pipeline.identity("telegram", str(CHAT))
    before = len(world.fake.to(CHAT))
    await world.channel.deliver(CHAT, who, TurnResult([reply]), get_texts("en"), 99999, None)
    parts = world.fake.to(CHAT)[before:]
    assert len(parts) == 3
    assert all(len(p.text) <= MAX_CHARS for p in parts)
    assert parts[0].buttons == [] and parts[-1].buttons == [("Menu", "/menu"), ("Exit", "/exit")]


# -- long polling ---------------------------------------------------------------------------


async def test_long_polling_when_no_webhook_url(
    make_world: Callable[..., Awaitable[World]], fake: FakeTelegram
) -> None:
    world = await make_world(TELEGRAM_WEBHOOK_URL="", TELEGRAM_COUNSELOR_CHAT_ID=None)
    world.channel.poll_timeout = 1
    fake.push(fake.message(CHAT, "hi"))
    await eventually(lambda: len(fake.to(CHAT)) >= 2)
    assert any("automated assistant" in s.text for s in fake.to(CHAT))
    assert fake.webhook == {}
    await eventually(lambda: len(fake.called("getUpdates")) >= 2)
    assert int(fake.called("getUpdates")[-1]["offset"]) == 2


# -- counselors in the group ----------------------------------------------------------------


async def _counselor(world: World, name: str = "ana") -> None:
    async with world.runtime.db.sessions() as session, session.begin():
        session.add(
            Counselor(
                name=name,
                password_hash="!",
                role="counselor",
                active=True,
                on_call=True,
                page_channel="console",
                failed_logins=0,
                created_at=world.runtime.pipeline.clock(),
            )
        )


async def test_counselor_claims_in_the_group_and_the_relay_works_both_ways(
    world: World,
) -> None:
    await _counselor(world)
    await start_chat(world)
    crisis = "I want to kill myself tonight"
    await world.say(crisis)
    await eventually(lambda: len(world.fake.to(GROUP)) == 1)
    card = world.fake.to(GROUP)[0]
    assert card.buttons[0][1].startswith("claim:")
    assert "kill" not in card.text and str(CHAT) not in card.text  # no words, no identity

    # Someone not on the list can't claim.
    assert await world.tap(card.buttons[0][1], chat=GROUP, user_id=12345) == 200
    async with world.runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
        assert escalation is not None and escalation.claimed_by is None

    assert await world.tap(card.buttons[0][1], chat=GROUP, user_id=COUNSELOR_TG) == 200
    async with world.runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
        assert escalation is not None and escalation.status == "claimed"
    assert world.fake.edited and world.fake.edited[-1][1] == card.message_id
    await world.runtime.outbox.run_once()
    assert "counselor is here" in world.fake.to(CHAT)[-1].text

    # The counselor answers the card in the group: the survivor gets it, from the bot.
    answer = world.fake.message(GROUP, "I'm here with you.", user_id=COUNSELOR_TG, reply_to=card)
    assert await world.post(answer) == 200
    assert await world.post(answer) == 200  # redelivered: relayed once
    await world.runtime.outbox.run_once()
    to_survivor = [s.text for s in world.fake.to(CHAT)]
    assert to_survivor.count("I'm here with you.") == 1

    # The survivor writes back: it appears in the group as a reply to the card.
    await world.say("thank you, I am at home")
    await eventually(lambda: any("at home" in s.text for s in world.fake.to(GROUP)))
    relayed = next(s for s in world.fake.to(GROUP) if "at home" in s.text)
    assert relayed.reply_to == card.message_id
    assert str(CHAT) not in relayed.text

    # Ordinary group talk is not relayed.
    chatter = world.fake.message(GROUP, "coffee?", user_id=COUNSELOR_TG)
    assert await world.post(chatter) == 200
    await world.runtime.outbox.run_once()
    assert "coffee?" not in [s.text for s in world.fake.to(CHAT)]
