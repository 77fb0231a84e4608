"""Counselors on Telegram: linking, cards in direct messages, claims and the relay,
cards that survive restarts and lost events, one card however many workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels import telegram_cli
from bot.channels.telegram_counselors import make_link_code
from bot.channels.telegram_store import TelegramCard, TelegramLink, TelegramLinkCode
from bot.channels.telegram_text import new_link_code, normalise_link_code, parse_claim
from bot.settings import get_settings
from bot.storage.db import Database
from bot.storage.models import Escalation
from dialogs.texts import get_texts
from escalation import cli as escalation_cli
from escalation.models import Counselor, Page
from tests.channels.telegram_fake import (
    CHAT,
    COUNSELOR_TG,
    GROUP,
    FakeTelegram,
    Sent,
    World,
    Worlds,
    eventually,
)
from tests.conftest import Clock

MARIA_TG = 888  # maria's Telegram user id; her private chat with the bot has the same id
EN = get_texts("en")
CRISIS = "I want to kill myself tonight"


async def add_counselor(world: World, name: str, *, on_call: bool = True) -> int:
    async with world.runtime.db.sessions() as session, session.begin():
        counselor = Counselor(
            name=name,
            password_hash="!",
            role="counselor",
            active=True,
            on_call=on_call,
            page_channel="console",
            failed_logins=0,
            created_at=world.runtime.pipeline.clock(),
        )
        session.add(counselor)
        await session.flush()
        return counselor.id


async def new_code(world: World, name: str) -> str:
    async with world.runtime.db.write_sessions() as session, session.begin():
        counselor = await session.scalar(select(Counselor).where(Counselor.name == name))
        assert counselor is not None
        return await make_link_code(session, counselor, world.runtime.pipeline.clock(), "test")


async def link(world: World, name: str = "maria", user: int = MARIA_TG) -> None:
    code = await new_code(world, name)
    assert await world.say(f"/link {code}", chat=user) == [EN("telegram.counselor.linked")]


async def crisis(world: World) -> int:
    """A survivor in crisis: the escalation's id."""
    await world.say("hi")
    await world.tap("/no")
    await world.say(CRISIS)
    async with world.runtime.db.sessions() as session:
        escalation_id = await session.scalar(select(Escalation.id))
    assert escalation_id is not None
    return int(escalation_id)


async def delivered_page(world: World) -> Page:
    """The Telegram page row, once the card's sender has recorded it."""
    for _ in range(250):
        async with world.runtime.db.sessions() as session:
            page = await session.scalar(select(Page).where(Page.channel == "telegram"))
        if page is not None and page.delivered_at is not None:
            return page
        await asyncio.sleep(0.02)
    raise AssertionError("no delivered Telegram page")


async def counselor_id(world: World, name: str) -> int:
    async with world.runtime.db.sessions() as session:
        found = await session.scalar(select(Counselor.id).where(Counselor.name == name))
    assert found is not None
    return int(found)


def cards(fake: FakeTelegram, chat: int) -> list[Sent]:
    return [s for s in fake.to(chat) if any(v.startswith("claim:") for _, v in s.buttons)]


async def count_cards(world: World, **where: Any) -> int:
    async with world.runtime.db.sessions() as session:
        rows = await session.scalars(select(TelegramCard).filter_by(**where))
        return len(list(rows))


# -- linking --------------------------------------------------------------------------------


async def test_a_code_links_once_and_only_while_fresh(
    worlds: Worlds, fake: FakeTelegram, clock: Clock
) -> None:
    world = await worlds.build()
    maria = await add_counselor(world, "maria")
    code = await new_code(world, "maria")
    async with world.runtime.db.sessions() as session:
        stored = list(await session.scalars(select(TelegramLinkCode.code_hash)))
    assert stored == [hashlib.sha256(code.encode()).hexdigest()]  # Never the code itself.

    assert await world.say("/link 2345-6789-AB", chat=MARIA_TG) == [
        EN("telegram.counselor.link_failed")
    ]
    assert await world.say(f"/link {code.lower().replace('-', ' ')}", chat=MARIA_TG) == [
        EN("telegram.counselor.linked")
    ]
    async with world.runtime.db.sessions() as session:
        linked = await session.scalar(select(TelegramLink))
        counselor = await session.get(Counselor, maria)
    assert linked is not None and (linked.counselor_id, linked.user_id) == (maria, MARIA_TG)
    assert counselor is not None and counselor.page_channel == "telegram"

    # Used once: someone else can't reuse it.
    assert await world.say(f"/link {code}", chat=999) == [EN("telegram.counselor.link_failed")]
    # A code past its 15 minutes does nothing.
    late = await new_code(world, "maria")
    clock.advance(minutes=16)
    assert await world.say(f"/link {late}", chat=999) == [EN("telegram.counselor.link_failed")]
    assert await world.count(TelegramLink) == 1


async def test_link_tries_are_limited(worlds: Worlds, fake: FakeTelegram) -> None:
    world = await worlds.build()
    answers = [(await world.say("/link AAAAA-BBBBB", chat=999))[0] for _ in range(6)]
    assert answers[:5] == [EN("telegram.counselor.link_failed")] * 5
    assert answers[5] == EN("telegram.counselor.link_wait")


async def test_people_who_are_not_linked_are_survivors(worlds: Worlds, fake: FakeTelegram) -> None:
    world = await worlds.build()
    await add_counselor(world, "maria")
    await link(world)
    texts = await world.say("hi", chat=MARIA_TG)
    assert all("automated assistant" not in t for t in texts)  # Maria: not a survivor turn.
    assert texts == [EN("telegram.counselor.which")]
    assert any("automated assistant" in t for t in await world.say("hi", chat=999))

    assert await world.say("/unlink", chat=MARIA_TG) == [EN("telegram.counselor.unlinked")]
    async with world.runtime.db.sessions() as session:
        counselor = await session.scalar(select(Counselor))
    assert counselor is not None and counselor.page_channel == "console"
    assert await world.count(TelegramLink) == 0


# -- pages in direct messages ---------------------------------------------------------------


async def test_a_page_reaches_a_linked_counselor_once_and_the_relay_works_both_ways(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    world = await worlds.build()
    await add_counselor(world, "maria")
    await link(world)
    escalation_id = await crisis(world)
    await world.runtime.paging.run_once()  # Maria was paged by the crisis turn: marks it.
    await eventually(lambda: len(cards(fake, MARIA_TG)) == 1)
    card = cards(fake, MARIA_TG)[0]
    assert card.buttons == [(EN("telegram.card.claim"), f"claim:{escalation_id}")]
    assert f"#{escalation_id}" in card.text
    assert "kill" not in card.text and str(CHAT) not in card.text  # No words, no identity.
    page = await delivered_page(world)  # Recorded right after the send.
    assert page.counselor_id == await counselor_id(world, "maria")

    # The sweep and another round send nothing more.
    assert await world.channel.desk.reconcile() == 0
    await world.runtime.paging.run_once()
    assert len(cards(fake, MARIA_TG)) == 1

    # Maria claims in her DMs.
    assert await world.tap(card.buttons[0][1], chat=MARIA_TG, user_id=MARIA_TG) == 200
    async with world.runtime.db.sessions() as session:
        escalation = await session.get(Escalation, escalation_id)
    assert escalation is not None and escalation.status == "claimed"
    assert fake.edited and fake.edited[-1][1] == card.message_id
    await world.runtime.outbox.run_once()
    assert "counselor is here" in fake.to(CHAT)[-1].text

    # Her words reach the survivor from the bot, once even when redelivered.
    words = fake.message(MARIA_TG, "I'm here with you.")
    assert await world.post(words) == 200
    assert await world.post(words) == 200
    await world.runtime.outbox.run_once()
    to_survivor = [s.text for s in fake.to(CHAT)]
    assert to_survivor.count("I'm here with you.") == 1

    # The survivor's words come back to her DMs as replies to the card.
    await world.say("thank you, I am at home")
    await eventually(lambda: any("at home" in s.text for s in fake.to(MARIA_TG)))
    relayed = next(s for s in fake.to(MARIA_TG) if "at home" in s.text)
    assert relayed.reply_to == card.message_id
    assert str(CHAT) not in relayed.text
    # Neither side sees the other's account.
    assert all("maria" not in t and str(MARIA_TG) not in t for t in to_survivor)
    # Forwarded once, whatever the sweep does.
    await world.channel.desk.reconcile()
    assert sum("at home" in s.text for s in fake.to(MARIA_TG)) == 1


async def test_a_page_whose_event_was_lost_is_sent_by_the_sweep(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    world = await worlds.build(TELEGRAM_COUNSELOR_CHAT_ID=None)
    await add_counselor(world, "maria")
    await link(world)

    class Lost:
        async def publish(self, event: dict[str, Any]) -> None:
            return None  # The worker died between the page commit and the publish.

    world.runtime.pipeline.bus = Lost()  # The crisis turn writes the first page.
    await crisis(world)
    await world.runtime.paging.run_once()
    await asyncio.sleep(0.2)
    assert cards(fake, MARIA_TG) == []
    assert await world.channel.desk.reconcile() == 1
    assert len(cards(fake, MARIA_TG)) == 1
    assert await world.channel.desk.reconcile() == 0


async def test_a_worker_dying_before_the_card_went_out_is_covered_by_the_lease(
    worlds: Worlds, fake: FakeTelegram, clock: Clock
) -> None:
    world = await worlds.build(TELEGRAM_COUNSELOR_CHAT_ID=None)
    await add_counselor(world, "maria")
    await link(world)

    class Quiet:
        async def publish(self, event: dict[str, Any]) -> None:
            return None

    world.runtime.pipeline.bus = Quiet()  # The crisis turn writes the first page.
    await crisis(world)
    await world.runtime.paging.run_once()
    fake.stall("sendMessage")
    dying = asyncio.create_task(world.channel.desk.deliver_pages())
    await eventually(lambda: not any(fake.stalls.values()), seconds=60)
    await asyncio.sleep(0.05)
    dying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dying
    assert cards(fake, MARIA_TG) == []
    assert await count_cards(world, status="sending") == 1

    assert await world.channel.desk.reconcile() == 0  # Its lease still runs.
    clock.advance(seconds=61)
    assert await world.channel.desk.reconcile() == 1
    assert len(cards(fake, MARIA_TG)) == 1
    assert await count_cards(world, status="sent") == 1
    assert await world.channel.desk.reconcile() == 0


async def test_workers_racing_for_a_page_send_one_card(
    worlds: Worlds, fake: FakeTelegram, backend: tuple[str, str]
) -> None:
    url, redis = backend
    extra = {"TELEGRAM_COUNSELOR_CHAT_ID": None}
    one = await worlds.build("svc", database_url=url, redis_url=redis, **extra)
    two = await worlds.build("svc", database_url=url, redis_url=redis, **extra)
    await add_counselor(one, "maria")
    await link(one)

    class Quiet:
        async def publish(self, event: dict[str, Any]) -> None:
            return None

    one.runtime.pipeline.bus = Quiet()  # The crisis turn writes the first page.
    await crisis(one)
    await one.runtime.paging.run_once()
    sent = await asyncio.gather(
        one.channel.desk.deliver_pages(),
        two.channel.desk.deliver_pages(),
        one.channel.desk.reconcile(),
        two.channel.desk.reconcile(),
    )
    assert sum(sent) == 1
    assert len(cards(fake, MARIA_TG)) == 1
    async with one.runtime.db.sessions() as session:
        pages = list(await session.scalars(select(Page).where(Page.channel == "telegram")))
    assert len(pages) == 1


async def test_an_inactive_or_unlinked_counselor_gets_no_card(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    world = await worlds.build(TELEGRAM_COUNSELOR_CHAT_ID=None)
    maria = await add_counselor(world, "maria")
    await link(world)
    await world.say("/unlink", chat=MARIA_TG)
    await add_counselor(world, "luis")
    await link(world, "luis", user=889)
    async with world.runtime.db.sessions() as session, session.begin():
        luis = await session.scalar(select(Counselor).where(Counselor.name == "luis"))
        assert luis is not None
        luis.active = False
    await crisis(world)  # Maria is paged on the console (the turn writes the first page).
    async with world.runtime.db.sessions() as session:
        paged = set(await session.scalars(select(Page.counselor_id)))
    assert maria in paged
    await world.channel.desk.reconcile()
    assert cards(fake, MARIA_TG) == [] and cards(fake, 889) == []


# -- the counselors' group ------------------------------------------------------------------


async def test_the_group_card_link_survives_a_restart(worlds: Worlds, fake: FakeTelegram) -> None:
    first = await worlds.build("svc")
    await add_counselor(first, "ana")
    escalation_id = await crisis(first)
    await eventually(lambda: len(cards(fake, GROUP)) == 1)
    card = cards(fake, GROUP)[0]
    assert await first.tap(card.buttons[0][1], chat=GROUP, user_id=COUNSELOR_TG) == 200
    await worlds.stop(first)

    restarted = await worlds.build("svc")
    await restarted.say("are you still there")
    await eventually(lambda: any("still there" in s.text for s in fake.to(GROUP)))
    relayed = next(s for s in fake.to(GROUP) if "still there" in s.text)
    assert relayed.reply_to == card.message_id  # Threaded under the card after a restart.
    assert relayed.text.startswith(f"#{escalation_id} ")

    answer = fake.message(GROUP, "Yes, I am here.", user_id=COUNSELOR_TG, reply_to=relayed)
    assert await restarted.post(answer) == 200
    await restarted.runtime.outbox.run_once()
    assert fake.to(CHAT)[-1].text == "Yes, I am here."


async def test_a_group_card_whose_event_was_lost_is_posted_by_the_sweep(
    worlds: Worlds, fake: FakeTelegram
) -> None:
    world = await worlds.build()

    class Lost:
        async def publish(self, event: dict[str, Any]) -> None:
            return None  # The turn committed; its worker died before the publish.

    world.runtime.pipeline.bus = Lost()
    await crisis(world)
    await asyncio.sleep(0.2)
    assert cards(fake, GROUP) == []
    assert await world.channel.desk.reconcile() == 1
    assert len(cards(fake, GROUP)) == 1
    assert await world.channel.desk.reconcile() == 0


# -- the command line -----------------------------------------------------------------------


def test_the_command_line_makes_codes_and_unlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATABASE_URL", "ENCRYPTION_KEYS", "ADDRESS_HASH_KEY", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARBORLINE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    parser = argparse.ArgumentParser(prog="harborline")
    sub = parser.add_subparsers()
    escalation_cli.register(sub)
    telegram_cli.register(sub)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = parser.parse_args(argv)
        code = int(args.handler(args))
        out, err = capsys.readouterr()
        return code, out, err

    try:
        assert run("user", "add", "maria", stdin="correct horse battery staple\n")[0] == 0
        code, out, _ = run("telegram", "link", "maria")
        assert code == 0
        found = re.search(r"/link ([A-Z0-9]{5}-[A-Z0-9]{5})", out)
        assert found is not None

        async def stored() -> list[str]:
            db = Database(get_settings().effective_database_url)
            try:
                async with db.sessions() as session:
                    return list(await session.scalars(select(TelegramLinkCode.code_hash)))
            finally:
                await db.close()

        assert asyncio.run(stored()) == [hashlib.sha256(found[1].encode()).hexdigest()]
        assert run("telegram", "link", "nobody")[0] == 1
        failed, _, err = run("telegram", "unlink", "maria")
        assert failed == 1 and "no linked Telegram account" in err
        listed = run("telegram", "links")
        assert listed[0] == 0 and listed[1].splitlines() == ["NAME  ACTIVE  PAGES  LINKED AT"]
    finally:
        get_settings.cache_clear()


def test_link_codes_are_unambiguous_and_read_back_as_typed() -> None:
    codes = {new_link_code() for _ in range(200)}
    assert len(codes) == 200  # Random, not a counter.
    for code in codes:
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", code)
        assert normalise_link_code(code.lower().replace("-", " ")) == code
    for typed in ("", "ABCDE", "ABCDE-FGHI0", "ABCDE-FGHJK-L", "ABCDE-FGHJ1"):
        assert normalise_link_code(typed) is None
    assert parse_claim("claim:12") == 12
    for data in (None, "", "claim:", "claim:x", "claim:0", "claim:-1", "other:12"):
        assert parse_claim(data) is None
