"""Telegram replies survive a worker that dies between the committed turn and the send.

A crash is played for real: the fake Bot API holds a call open (``stall``), the
webhook request is cancelled at that point (nothing after it runs, and Telegram
got no 200), the app is stopped, and a new app on the same storage gets the
update again, as Telegram delivers it after a failed webhook call.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from sqlalchemy import func, select

from bot.channels.telegram import TelegramSender
from bot.channels.telegram_store import TelegramMessage, TelegramSend
from bot.pipeline import TurnResult
from bot.storage.models import InboxItem
from dialogs.texts import get_texts
from escalation.models import OutboxItem
from tests.channels.telegram_fake import CHAT, FakeTelegram, World, Worlds, eventually
from tests.conftest import REDIS_TEST_URL, need_service


async def start_chat(world: World, chat: int = CHAT) -> None:
    """Welcome, then decline keeping the chat: the menu."""
    await world.say("hi", chat)
    await world.tap("/no", chat)


async def crash_at_stall(worlds: Worlds, world: World, update: dict[str, Any]) -> None:
    """Post ``update``; when the stalled Bot API call is reached, the worker dies."""
    request = asyncio.create_task(world.post(update))
    await eventually(lambda: not any(world.fake.stalls.values()), seconds=60)
    await asyncio.sleep(0.05)  # The call is in flight at the fake.
    request.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await request
    await worlds.stop(world)


async def stored_result(world: World, update: dict[str, Any]) -> TurnResult:
    """What the pipeline committed for this update (the inbox row's result)."""
    async with world.runtime.db.sessions() as session:
        item = await session.scalar(
            select(InboxItem).where(
                InboxItem.channel == "telegram",
                InboxItem.provider_id == str(update["update_id"]),
            )
        )
    assert item is not None and item.status == "done" and item.result_enc is not None
    return TurnResult.from_json(world.runtime.pipeline.cipher.decrypt(item.result_enc), "dup")


def texts_to(fake: FakeTelegram, chat: int, since: int) -> list[str]:
    return [s.text for s in fake.to(chat)[since:]]


async def test_replies_lost_to_a_crash_after_the_commit_go_out_on_redelivery(
    worlds: Worlds, fake: FakeTelegram, backend: tuple[str, str]
) -> None:
    url, redis = backend
    first = await worlds.build("svc", database_url=url, redis_url=redis)
    await start_chat(first)
    update = fake.message(CHAT, "what is a t visa")
    before = len(fake.to(CHAT))
    fake.stall("sendMessage")  # The first reply never reaches Telegram.
    await crash_at_stall(worlds, first, update)
    assert len(fake.to(CHAT)) == before  # Nothing went out ...

    restarted = await worlds.build("svc", database_url=url, redis_url=redis)
    result = await stored_result(restarted, update)  # ... but the turn was committed.
    expected = [reply.text for reply in result.replies]
    assert expected and all(len(t) < 4096 for t in expected)
    assert await restarted.post(update) == 200  # Telegram delivers it again.
    assert texts_to(fake, CHAT, before) == expected
    assert fake.to(CHAT)[-1].buttons[-1] == ("Exit", "/exit")  # The keyboard came too.

    assert await restarted.post(update) == 200  # And again: nothing more.
    assert texts_to(fake, CHAT, before) == expected
    async with restarted.runtime.db.sessions() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.provider_id == str(update["update_id"]))
        )
        kept = set(await session.scalars(select(TelegramMessage.message_id)))
    assert rows == 1  # One turn, however often the update came.
    assert {s.message_id for s in fake.to(CHAT)[before:]} <= kept  # Quick exit can delete them.


async def test_a_crash_between_two_pieces_sends_only_the_rest(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    first = await worlds.build("svc")
    await start_chat(first)
    await first.say("what is a t visa")
    more = fake.callback(CHAT, "/more")
    before = len(fake.to(CHAT))
    fake.stall("sendMessage", after=1)  # The first piece goes out, the second is cut.
    await crash_at_stall(worlds, first, more)
    assert len(fake.to(CHAT)) == before + 1

    restarted = await worlds.build("svc")
    expected = [reply.text for reply in (await stored_result(restarted, more)).replies]
    assert len(expected) >= 2
    assert await restarted.post(more) == 200
    assert texts_to(fake, CHAT, before) == expected  # Each piece once, in order.


async def test_the_same_update_twice_at_once_is_answered_once(
    worlds: Worlds, fake: FakeTelegram, backend: tuple[str, str]
) -> None:
    url, redis = backend
    world = await worlds.build(database_url=url, redis_url=redis)
    await start_chat(world)
    update = fake.message(CHAT, "what is a t visa")
    before = len(fake.to(CHAT))
    assert list(await asyncio.gather(world.post(update), world.post(update))) == [200, 200]
    expected = [reply.text for reply in (await stored_result(world, update)).replies]
    assert texts_to(fake, CHAT, before) == expected


async def test_two_workers_given_the_same_update_answer_it_once(
    worlds: Worlds, fake: FakeTelegram, pg_url: str
) -> None:
    need_service("Redis", REDIS_TEST_URL)
    shared = {"REDIS_PREFIX": f"test-{uuid.uuid4().hex[:10]}"}  # One deployment.
    one = await worlds.build(database_url=pg_url, redis_url=REDIS_TEST_URL, **shared)
    two = await worlds.build(database_url=pg_url, redis_url=REDIS_TEST_URL, **shared)
    await start_chat(one)
    for text in ("what is a t visa", "menu", "I need a lawyer"):
        update = fake.message(CHAT, text)
        before = len(fake.to(CHAT))
        assert list(await asyncio.gather(one.post(update), two.post(update))) == [200, 200]
        expected = [reply.text for reply in (await stored_result(one, update)).replies]
        assert texts_to(fake, CHAT, before) == expected


async def test_an_interrupted_quick_exit_finishes_on_redelivery(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    first = await worlds.build("svc")
    await start_chat(first)
    await first.say("what is a t visa")
    shown = {s.message_id for s in fake.to(CHAT)}
    leave = fake.message(CHAT, "/exit")
    fake.stall("sendMessage")  # Deleted, then the worker dies before "Done.".
    await crash_at_stall(worlds, first, leave)
    assert shown <= {m for c, m in fake.deleted if c == CHAT}
    assert fake.to(CHAT)[-1].text != "Done."

    restarted = await worlds.build("svc")
    assert await restarted.post(leave) == 200
    assert fake.to(CHAT)[-1].text == "Done."
    assert await restarted.post(leave) == 200
    assert [s.text for s in fake.to(CHAT)].count("Done.") == 1
    assert leave["message"]["message_id"] in {m for c, m in fake.deleted if c == CHAT}
    async with restarted.runtime.db.sessions() as session:
        left = list(await session.scalars(select(TelegramMessage.message_id)))
    assert left == [fake.to(CHAT)[-1].message_id]


async def test_an_older_update_redelivered_after_quick_exit_stays_silent(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    first = await worlds.build("svc")
    await start_chat(first)
    question = fake.message(CHAT, "what is a t visa")
    fake.stall("sendMessage")
    await crash_at_stall(worlds, first, question)

    restarted = await worlds.build("svc")
    await restarted.say("/exit")  # The person left before Telegram retried.
    assert fake.to(CHAT)[-1].text == "Done."
    assert await restarted.post(question) == 200
    assert fake.to(CHAT)[-1].text == "Done."  # Nothing shows up after the exit.


async def test_a_refused_reply_is_queued_once_even_when_redelivered(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    world = await worlds.build()
    await start_chat(world)
    update = fake.message(CHAT, "menu")
    fake.fail("sendMessage", 429, retry_after=3)
    before = len(fake.to(CHAT))
    assert await world.post(update) == 200
    queued = await world.count(OutboxItem)
    assert queued >= 1 and len(fake.to(CHAT)) == before
    assert await world.post(update) == 200  # Redelivered: not sent, not queued again.
    assert await world.count(OutboxItem) == queued
    assert len(fake.to(CHAT)) == before
    assert await world.runtime.outbox.run_once() == queued
    expected = [reply.text for reply in (await stored_result(world, update)).replies]
    delivered = texts_to(fake, CHAT, before)
    assert len(delivered) == len(expected)
    assert all(d.startswith(e) for d, e in zip(delivered, expected, strict=True))


async def test_the_outbox_sender_resumes_a_split_message_after_a_crash(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    first = await worlds.build("svc")
    await start_chat(first)
    text = "Here is one more sentence about your rights. " * 250  # three parts
    before = len(fake.to(CHAT))
    fake.stall("sendMessage", after=1)
    sending = asyncio.create_task(TelegramSender(first.channel).send(str(CHAT), text, "k7"))
    await eventually(lambda: not any(fake.stalls.values()), seconds=60)
    await asyncio.sleep(0.05)
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    await worlds.stop(first)
    assert len(fake.to(CHAT)) == before + 1

    restarted = await worlds.build("svc")
    result = await TelegramSender(restarted.channel).send(str(CHAT), text, "k7")  # a retry
    assert result.ok
    parts = texts_to(fake, CHAT, before)
    assert len(parts) == 3 and " ".join(parts) == text.strip()
    assert await restarted.count(TelegramSend) >= 3


async def test_a_kind_reply_cut_by_a_crash_goes_out_once_on_redelivery(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    first = await worlds.build("svc")
    photo = fake.message(
        CHAT, extra={"photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}
    )
    fake.stall("sendMessage")
    await crash_at_stall(worlds, first, photo)
    assert fake.to(CHAT) == []

    restarted = await worlds.build("svc")
    assert await restarted.post(photo) == 200
    assert await restarted.post(photo) == 200
    assert [s.text for s in fake.to(CHAT)] == [get_texts("en")("telegram.not_text")]
