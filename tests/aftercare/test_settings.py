"""Check-in settings chosen in chat, stored, carried over and used, on SQLite and
PostgreSQL; the wording decided where check-ins are produced; what a turn costs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import create_async_engine

from aftercare import service
from aftercare.dispatcher import from_runtime
from aftercare.models import Checkin, CheckinPreferences
from bot.runtime import Runtime
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import Contact, Conversation, Escalation
from escalation.models import OutboxItem
from tests.bot.helpers import event_types, joined, say
from tests.conftest import Clock

# The test clock starts on Saturday 2026-11-21 12:00 UTC (07:00 in New York).


async def _contact(runtime: Runtime, address: str, channel: str = "web") -> Contact:
    async with runtime.db.sessions() as session:
        contact = await session.scalar(
            select(Contact).where(
                Contact.address_hash == runtime.pipeline.identity(channel, address)
            )
        )
    assert contact is not None
    return contact


async def _preferences(runtime: Runtime, address: str) -> CheckinPreferences | None:
    contact = await _contact(runtime, address)
    async with runtime.db.sessions() as session:
        return await session.get(CheckinPreferences, contact.id)


async def _checkins(runtime: Runtime) -> list[Checkin]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Checkin).order_by(Checkin.id))).scalars())


async def _chat(
    runtime: Runtime, lines: list[str], address: str = "p", channel: str = "web"
) -> Any:
    result = None
    for line in lines:
        result = await say(runtime, line, address, channel=channel)
    return result


async def test_settings_chosen_before_the_yes_are_stored_and_used(runtime: Runtime) -> None:
    asked = await _chat(runtime, ["hi", "no", "check in with me tomorrow at 6pm"])
    assert "Your check-in settings" in joined(asked)  # First time: shown with the question.
    await _chat(runtime, ["Change settings", "Time zone", "Pacific"])
    assert await _checkins(runtime) == []  # Settings are not a yes.
    await _chat(runtime, ["Change settings", "Hours", "9 AM to 5 PM"])
    done = await say(runtime, "yes", "p")
    assert "checkin.scheduled" in event_types(done)
    prefs = await _preferences(runtime, "p")
    assert prefs is not None
    assert (prefs.timezone, prefs.quiet_start, prefs.quiet_end) == (
        "America/Los_Angeles", "17:00", "09:00",
    )  # fmt: skip
    [checkin] = await _checkins(runtime)
    # 6 PM in Los Angeles is after 5 PM: it waits for 9 AM there on Monday.
    assert checkin.due_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert (checkin.timezone, checkin.quiet_start, checkin.quiet_end) == (
        "America/Los_Angeles", "17:00", "09:00",
    )  # fmt: skip
    again = await say(runtime, "check in with me in 3 days", "p")
    assert "Your check-in settings" not in joined(again)  # Saved: asked once.


async def test_one_yes_takes_the_defaults(runtime: Runtime) -> None:
    await _chat(runtime, ["hi", "no", "check in with me tomorrow", "yes"])
    prefs = await _preferences(runtime, "p")
    assert prefs is not None
    assert (prefs.timezone, prefs.quiet_start, prefs.quiet_end, prefs.discreet) == (
        "America/New_York", "21:00", "08:00", True,
    )  # fmt: skip
    assert prefs.notify_after_missed is None


async def test_saying_no_stores_nothing(runtime: Runtime) -> None:
    await _chat(runtime, ["hi", "no", "check in with me tomorrow", "no"])
    assert await _preferences(runtime, "p") is None
    assert await _checkins(runtime) == []


async def test_new_settings_move_active_checkins(runtime: Runtime, clock: Clock) -> None:
    await _chat(runtime, ["hi", "no", "every Monday at 6pm", "yes"])
    [before] = await _checkins(runtime)
    assert before.due_at == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 6 PM New York
    changed = await _chat(runtime, ["/checkins", "Change settings", "Time zone", "Chicago"])
    assert "checkin.settings" in event_types(changed)
    [moved] = await _checkins(runtime)
    assert moved.timezone == "America/Chicago"
    assert moved.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 6 PM Chicago
    await _chat(runtime, ["Hours", "9 to 5"])
    [quiet] = await _checkins(runtime)
    # Monday 6 PM is now after hours: Tuesday 9 AM Chicago.
    assert quiet.due_at == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    # The next week keeps the rule (Monday 6 PM, moved into the hours again).
    clock.advance(days=3, hours=4)
    await from_runtime(runtime).run_once()
    assert await say(runtime, "1", "p")
    [next_week] = await _checkins(runtime)
    assert next_week.status == "scheduled"
    assert next_week.due_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def _text_sent(runtime: Runtime, contact_id: int) -> str:
    async with runtime.db.sessions() as session:
        payload = await session.scalar(
            select(OutboxItem.payload_enc).where(OutboxItem.contact_id == contact_id)
        )
    assert payload is not None
    return str(json.loads(runtime.pipeline.cipher.decrypt(payload))["text"])


async def test_the_wording_is_decided_for_every_channel(runtime: Runtime, clock: Clock) -> None:
    people = {
        ("web", "plain"): [],
        ("telegram", "plain"): [],
        ("sms", "plain"): [],
        ("web", "named"): ["Wording", "Say it is Harborline"],
        ("sms", "named"): ["Wording", "2"],
        ("telegram", "named but discreet"): ["Wording", "Say it is Harborline", "discreet on"],
        ("web", "spanish"): [],
    }
    for (channel, who), steps in people.items():
        opening = ["hola", "no", "seguimiento", "mañana"] if who == "spanish" else [
            "hi", "no", "check in with me tomorrow",
        ]  # fmt: skip
        yes = "sí" if who == "spanish" else "yes"
        settings = ["Change settings", *steps[:2], yes] if steps else [yes]
        await _chat(runtime, [*opening, *settings, *steps[2:]], who, channel)
    assert len(await _checkins(runtime)) == len(people)
    clock.advance(days=1, hours=1)
    sent = await from_runtime(runtime).run_once()
    assert [e["type"] for e in sent] == ["checkin.sent"] * len(people)
    for (channel, who), _ in people.items():
        contact = await _contact(runtime, who, channel)
        text = await _text_sent(runtime, contact.id)
        if who == "named":
            assert text.startswith("Hi, this is Harborline"), (channel, text)
        elif who == "spanish":
            assert text.startswith("Hola, solo quería"), text
        else:
            assert text.startswith("Hi, just checking in"), (channel, who, text)
            assert "Harborline" not in text


async def test_wording_changed_later_applies_to_the_next_message(
    runtime: Runtime, clock: Clock
) -> None:
    await _chat(runtime, ["hi", "no", "every Monday at 6pm", "yes"])
    await _chat(runtime, ["/checkins", "Change settings", "Wording", "Say it is Harborline"])
    clock.advance(days=2, hours=12)
    await from_runtime(runtime).run_once()
    contact = await _contact(runtime, "p")
    assert (await _text_sent(runtime, contact.id)).startswith("Hi, this is Harborline")


async def test_opt_in_chosen_in_chat_tells_a_counselor_after_n_misses(
    runtime: Runtime, clock: Clock
) -> None:
    await _chat(runtime, ["hi", "no", "every Monday at 6pm", "Change settings",
                          "Missed check-ins", "After 2 missed", "yes"])  # fmt: skip
    prefs = await _preferences(runtime, "p")
    assert prefs is not None and prefs.notify_after_missed == 2
    dispatcher = from_runtime(runtime)
    seen: list[str] = []
    for _ in range(2):
        clock.advance(days=7)
        seen += [e["type"] for e in await dispatcher.run_once()]
        clock.advance(hours=13)
        seen += [e["type"] for e in await dispatcher.run_once()]
    assert seen.count("checkin.missed") == 2
    assert seen.count("escalation.created") == 1  # At the second miss, not the first.
    async with runtime.db.sessions() as session:
        reasons = list((await session.execute(select(Escalation.reason))).scalars())
    assert reasons == ["missed_checkins"]


async def test_without_the_opt_in_nobody_is_told(runtime: Runtime, clock: Clock) -> None:
    await _chat(runtime, ["hi", "no", "every Monday at 6pm", "yes"])
    dispatcher = from_runtime(runtime)
    seen: list[str] = []
    for _ in range(4):
        clock.advance(days=7)
        seen += [e["type"] for e in await dispatcher.run_once()]
        clock.advance(hours=13)
        seen += [e["type"] for e in await dispatcher.run_once()]
    assert seen.count("checkin.missed") == 4
    assert "escalation.created" not in seen


# -- what a turn costs -----------------------------------------------------------------------


class _Queries:
    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.db.engine.sync_engine
        self.count = 0

    def __enter__(self) -> _Queries:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def _facts(runtime: Runtime, contact: Contact, data: dict[str, Any] | None) -> Any:
    async with runtime.db.sessions() as session, session.begin():
        await session.connection()  # As in a turn: the transaction is open already.
        with _Queries(runtime) as queries:
            found = await service.facts(session, contact, runtime.pipeline.clock(), data=data)
    return found, queries.count


async def test_facts_cost_one_query_and_none_without_checkins(runtime: Runtime) -> None:
    await _chat(runtime, ["hi", "no"])
    contact = await _contact(runtime, "p")
    async with runtime.db.sessions() as session:
        data = await session.scalar(
            select(Conversation.data).where(Conversation.contact_id == contact.id)
        )
    assert service.MARK not in data
    found, queries = await _facts(runtime, contact, data)
    assert (found["checkins"], found["saved"], queries) == ([], False, 0)
    await _chat(runtime, ["every Monday at 6pm", "yes"])
    async with runtime.db.sessions() as session:
        data = await session.scalar(
            select(Conversation.data).where(Conversation.contact_id == contact.id)
        )
    assert data[service.MARK] is True  # Set when the check-in was stored.
    found, queries = await _facts(runtime, contact, data)
    assert (len(found["checkins"]), found["saved"], queries) == (1, True, 1)
    _, without_data = await _facts(runtime, contact, None)
    assert without_data == 1  # Without the conversation's data: still one query.


async def test_settings_stored_outside_a_turn_mark_the_conversation(runtime: Runtime) -> None:
    await _chat(runtime, ["hi", "no"])
    contact = await _contact(runtime, "p")
    async with runtime.db.sessions() as session, session.begin():
        await service.set_preferences(session, contact, runtime.pipeline.clock(), discreet=False)
    async with runtime.db.sessions() as session:
        data = await session.scalar(
            select(Conversation.data).where(Conversation.contact_id == contact.id)
        )
    found, queries = await _facts(runtime, contact, data)
    assert (found["plain"], found["saved"], queries) == (False, True, 1)


# -- migration 0060 --------------------------------------------------------------------------


async def _downgrade(url: str, revision: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.downgrade(config, revision)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_migration_marks_conversations_of_people_with_checkins(
    backend: tuple[str, str], tmp_path: Path
) -> None:
    url = backend[0]
    await upgrade(url, "0055")
    engine = create_async_engine(url)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    json_data = sa.bindparam("data", type_=sa.JSON)
    async with engine.begin() as conn:
        for n in (1, 2, 3):
            await conn.execute(
                sa.text(
                    "INSERT INTO contacts (id, address_hash, channel, locale_chosen, country,"
                    " discreet, stopped, created_at, last_seen_at)"
                    " VALUES (:id, :h, 'web', false, 'US', false, false, :at, :at)"
                ),
                {"id": n, "h": f"h{n}", "at": at},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO conversations (id, contact_id, state, data, last_risk, updated_at)"
                    " VALUES (:id, :id, 'menu', :data, :data, :at)"
                ).bindparams(json_data),
                {"id": n, "data": {"last_article": "x"}, "at": at},
            )
        await conn.execute(
            sa.text(
                "INSERT INTO checkins (contact_id, kind, timezone, window_minutes, due_at, status,"
                " sequence, attempts, discreet, created_by, created_at, updated_at)"
                " VALUES (1, 'once', 'UTC', 720, :at, 'scheduled', 0, 0, true, 'x', :at, :at)"
            ),
            {"at": at},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO checkin_preferences (contact_id, discreet, missed_in_row, updated_at)"
                " VALUES (2, true, 0, :at)"
            ),
            {"at": at},
        )

    async def datas() -> dict[int, dict[str, Any]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.select(sa.column("id"), sa.column("data", sa.JSON)).select_from(
                    sa.table("conversations")
                )
            )
            return {i: d for i, d in rows.all()}

    try:
        await upgrade(url, "0060")
        marked = await datas()
        assert marked[1] == marked[2] == {"last_article": "x", service.MARK: True}
        assert marked[3] == {"last_article": "x"}  # Never had check-ins: no mark.
        await _downgrade(url, "0055")
        assert all(d == {"last_article": "x"} for d in (await datas()).values())
    finally:
        await engine.dispose()
