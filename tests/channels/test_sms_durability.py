"""SMS sends survive crashes, restarts and STOP, on SQLite and on PostgreSQL.

Real twilio library against the local fake Twilio (tests/channels/twilio_fake.py),
webhooks signed with Twilio's RequestValidator and posted through the ASGI app.
A crash is a ``BaseException`` raised from the sender's hooks right before or
right after Twilio's create call: it escapes the outbox loop as a killed worker
would, leaving the outbox row ``sending`` and the part an ``intent``. A restart
is a new ``TwilioSender`` (nothing kept in memory) and the outbox's stale-row
requeue, two minutes later on the test's clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from aftercare.dispatcher import from_runtime
from bot.channels.sms import PATH, STATUS_PATH
from bot.channels.sms_sender import IN_FLIGHT_GRACE, MAX_TRIES, TwilioHttpClient, TwilioSender
from bot.channels.sms_store import SmsOptOut, SmsPart, SmsSend, purge_finished
from bot.channels.sms_text import segments, split_for_sms
from bot.runtime import build_runtime
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import Contact
from bot.web.app import create_app
from dialogs.texts import get_texts
from escalation import service
from escalation.models import OutboxItem
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.channels.test_sms import (
    FROM,
    PHONE,
    PUBLIC,
    SID,
    TOKEN,
    contact,
    count,
    deliver_callback,
    rt,
    start_chat,
    text,
    twiml,
)
from tests.channels.twilio_fake import FakeTwilio
from tests.conftest import Clock, make_settings

COUNSELOR_PHONE = "+14155550199"
SERVICE_SID = "MG" + "1" * 32


class Crash(BaseException):
    """The worker dies here (not an Exception: nothing in the app catches it)."""


async def crash() -> None:
    raise Crash


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio(SID, TOKEN, clock)
    await server.start()
    yield server
    await server.stop()


@asynccontextmanager
async def sms_app(
    tmp_path: Path,
    backend: tuple[str, str],
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    fake: FakeTwilio,
    **extra: str,
) -> AsyncIterator[httpx.AsyncClient]:
    database_url, redis_url = backend
    values = {
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": fake.base_url,
        "PUBLIC_BASE_URL": PUBLIC,
        **extra,
    }
    settings = make_settings(tmp_path, database_url, redis_url, **values)
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5")
    client.runtime = runtime  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
        await runtime.close()


@pytest.fixture
async def http(
    tmp_path: Path,
    backend: tuple[str, str],
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    fake: FakeTwilio,
) -> AsyncIterator[httpx.AsyncClient]:
    async with sms_app(tmp_path, backend, kb, intents, clock, fake) as client:
        yield client


def sender(http: httpx.AsyncClient) -> TwilioSender:
    found = rt(http).outbox.senders["sms"]
    assert isinstance(found, TwilioSender)
    return found


async def restart(http: httpx.AsyncClient) -> TwilioSender:
    """A new process: a new sender with nothing in memory."""
    runtime = rt(http)
    await sender(http).close()
    fresh = TwilioSender.create(runtime)
    runtime.outbox.senders["sms"] = fresh
    return fresh


async def queue(http: httpx.AsyncClient, body: str, key: str | None = None) -> int:
    runtime = rt(http)
    async with runtime.db.sessions() as session, session.begin():
        item = await service.enqueue_for_survivor(
            session, (await contact(http)).id, body, runtime.pipeline.cipher,
            runtime.pipeline.clock(), key,
        )  # fmt: skip
        assert item is not None
        await session.flush()
        return item.id


async def outbox_status(http: httpx.AsyncClient, item_id: int) -> str:
    async with rt(http).db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None
        return item.status


async def parts(http: httpx.AsyncClient) -> list[SmsPart]:
    async with rt(http).db.sessions() as session:
        return list((await session.execute(select(SmsPart).order_by(SmsPart.part))).scalars())


async def the_send(http: httpx.AsyncClient, key: str) -> SmsSend:
    async with rt(http).db.sessions() as session:
        found = await session.scalar(select(SmsSend).where(SmsSend.send_key == key))
    assert found is not None
    return found


async def crash_and_restart(http: httpx.AsyncClient, clock: Clock) -> TwilioSender:
    with pytest.raises(Crash):
        await rt(http).outbox.run_once()
    fresh = await restart(http)
    clock.advance(minutes=3)
    assert await rt(http).outbox.requeue_stale() == 1
    return fresh


# -- never twice, never lost ------------------------------------------------------------------


@pytest.mark.parametrize("moved_on", [False, True], ids=["still-queued", "already-sent"])
async def test_crash_after_create_is_reconciled_not_sent_twice(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock, moved_on: bool
) -> None:
    await start_chat(http)
    item_id = await queue(http, "A person is here to chat.")
    sender(http).after_create = crash
    with pytest.raises(Crash):
        await rt(http).outbox.run_once()
    assert fake.requests == 1 and len(fake.messages) == 1
    [intent] = await parts(http)
    assert (intent.status, intent.message_sid) == ("intent", None)
    assert await outbox_status(http, item_id) == "sending"
    if moved_on:  # Found through DateSent; still queued, it has none: the newest page.
        fake.progress(fake.messages[0]["sid"], "sent")
    await restart(http)
    clock.advance(minutes=3)
    assert await rt(http).outbox.requeue_stale() == 1
    assert await rt(http).outbox.run_once() == 1
    assert fake.requests == 1  # Not created again.
    assert fake.reads >= 1  # Twilio's list was read to find it.
    [settled] = await parts(http)
    assert settled.message_sid == fake.messages[0]["sid"]
    assert settled.status == ("sent" if moved_on else "queued")
    assert await outbox_status(http, item_id) == "sent"
    done = await the_send(http, f"outbox-{item_id}")
    assert (done.status, done.text_enc) == ("sent", None)  # The text is not kept.


async def test_a_long_message_crashing_mid_way_sends_each_part_once_in_order(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    sentence = "This is one of many plain sentences from your counselor today. "
    body = (sentence * 18).strip()
    expected = split_for_sms(body)
    assert len(expected) == 3 and all(segments(p).count <= 3 for p in expected)
    await queue(http, body)
    calls = 0

    async def crash_on_second() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Crash

    sender(http).after_create = crash_on_second
    await crash_and_restart(http, clock)
    assert await rt(http).outbox.run_once() == 1
    assert [m["Body"] for m in fake.sent] == expected  # Each once, in order.
    assert fake.requests == 3
    assert [(p.part, p.message_sid) for p in await parts(http)] == [
        (i, m["sid"]) for i, m in enumerate(fake.messages)
    ]
    assert " ".join(m["Body"] for m in fake.sent).split() == body.split()


async def test_crash_before_create_sends_once_after_the_grace(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Checking in.")
    sender(http).before_create = crash
    with pytest.raises(Crash):
        await rt(http).outbox.run_once()
    assert fake.requests == 0
    fresh = await restart(http)
    # Straight away, the intent may still be in flight: wait, never guess.
    result = await fresh.send(PHONE, "Checking in.", f"outbox-{item_id}")
    assert not result.ok and result.retry_after == pytest.approx(IN_FLIGHT_GRACE.total_seconds())
    assert fake.requests == 0
    clock.advance(seconds=IN_FLIGHT_GRACE.total_seconds() + 1)
    assert (await fresh.send(PHONE, "Checking in.", f"outbox-{item_id}")).ok
    assert fake.requests == 1 and [m["Body"] for m in fake.sent] == ["Checking in."]
    # Asked again (a second caller, a stale requeue): answered from the ledger.
    assert (await fresh.send(PHONE, "Checking in.", f"outbox-{item_id}")).ok
    assert fake.requests == 1


async def test_a_lost_answer_is_found_not_resent(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Hi, it's Sam.")
    fake.lose_next_response()  # Twilio creates it; the 502 says nothing.
    assert await rt(http).outbox.run_once() == 0
    assert len(fake.messages) == 1
    async with rt(http).db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
    assert item is not None and item.status == "pending"
    # A maybe-sent part is looked for no sooner than the grace.
    wait = (item.next_attempt_at - clock()).total_seconds()
    assert wait >= IN_FLIGHT_GRACE.total_seconds()
    clock.advance(seconds=wait)
    assert await rt(http).outbox.run_once() == 1
    assert fake.requests == 1
    assert [p.message_sid for p in await parts(http)] == [fake.messages[0]["sid"]]


async def test_the_status_callback_marker_settles_a_part_without_a_lookup(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    await queue(http, "Thanks for the chat.")
    sender(http).after_create = crash
    with pytest.raises(Crash):
        await rt(http).outbox.run_once()
    # Twilio reports on the message while the worker is down.
    callback = fake.progress(fake.messages[0]["sid"], "delivered")
    assert "?part=" in callback.url
    assert (await deliver_callback(http, callback)).status_code == 204
    [part] = await parts(http)
    assert (part.message_sid, part.status) == (fake.messages[0]["sid"], "delivered")
    await restart(http)
    clock.advance(minutes=3)
    await rt(http).outbox.requeue_stale()
    assert await rt(http).outbox.run_once() == 1
    assert fake.requests == 1 and fake.reads == 0
    assert [p.status for p in await parts(http)] == ["delivered"]


async def test_when_twilio_list_fails_nothing_is_sent_until_it_answers(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Still here.")
    sender(http).after_create = crash
    await crash_and_restart(http, clock)
    fake.fail_next_list(503)
    assert await rt(http).outbox.run_once() == 0
    assert fake.requests == 1
    assert (await the_send(http, f"outbox-{item_id}")).attempts == 1
    clock.advance(minutes=10)
    assert await rt(http).outbox.run_once() == 1
    assert fake.requests == 1


async def test_through_a_messaging_service_the_pool_number_is_matched(
    tmp_path: Path,
    backend: tuple[str, str],
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    fake: FakeTwilio,
) -> None:
    async with sms_app(
        tmp_path, backend, kb, intents, clock, fake, TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID
    ) as http:
        await start_chat(http)
        await queue(http, "A person is here.")
        sender(http).after_create = crash
        await crash_and_restart(http, clock)
        assert await rt(http).outbox.run_once() == 1
        assert fake.requests == 1
        assert fake.sent[0]["MessagingServiceSid"] == SERVICE_SID
        assert "From" not in fake.sent[0]
        assert [p.message_sid for p in await parts(http)] == [fake.messages[0]["sid"]]


# -- retries and back-off, durable ------------------------------------------------------------


async def test_backoff_counts_survive_restarts_and_hold_between_calls(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Hello.")
    key = f"outbox-{item_id}"
    waits = []
    for _ in range(3):
        fake.fail_next(429, 20429, "Too Many Requests")  # No Retry-After: our back-off.
        fresh = await restart(http)
        result = await fresh.send(PHONE, "Hello.", key)
        assert not result.ok and result.retry_after is not None
        waits.append(result.retry_after)
        # Asked again too soon (any caller, any process): the remaining wait, no call.
        before = fake.requests
        early = await (await restart(http)).send(PHONE, "Hello.", key)
        assert early.retry_after == pytest.approx(result.retry_after)
        assert fake.requests == before
        clock.advance(seconds=result.retry_after)
    assert waits == [2.0, 4.0, 8.0]
    stored = await the_send(http, key)
    assert (stored.attempts, stored.last_error, stored.status) == (3, 20429, "sending")
    assert await parts(http) == []  # A 429 created nothing: no intent left.
    assert (await sender(http).send(PHONE, "Hello.", key)).ok
    assert fake.requests == 4 and len(fake.sent) == 1


async def test_retry_after_is_honoured_and_a_send_gives_up_after_max_tries(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Hello.")
    key = f"outbox-{item_id}"
    fake.fail_next(429, 20429, "Too Many Requests", retry_after=30)
    first = await sender(http).send(PHONE, "Hello.", key)
    assert first.retry_after == 30
    for _ in range(MAX_TRIES - 1):
        clock.advance(seconds=600)
        fake.fail_next(429, 20429, "Too Many Requests")
        result = await sender(http).send(PHONE, "Hello.", key)
    assert not result.ok and result.retry_after is None  # Given up for good.
    clock.advance(seconds=600)
    requests = fake.requests
    assert not (await sender(http).send(PHONE, "Hello.", key)).ok
    assert fake.requests == requests == MAX_TRIES
    assert (await the_send(http, key)).status == "failed"


async def test_server_errors_wait_for_the_grace_and_then_send_once(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Hello.")
    fake.fail_next(500, None, "Internal Server Error")
    assert await rt(http).outbox.run_once() == 0
    async with rt(http).db.sessions() as session:
        item = await session.get(OutboxItem, item_id)
    assert item is not None
    assert (item.next_attempt_at - clock()).total_seconds() >= IN_FLIGHT_GRACE.total_seconds()
    clock.advance(minutes=2)
    assert await rt(http).outbox.run_once() == 1
    assert fake.requests == 2 and len(fake.sent) == 1
    assert (await the_send(http, f"outbox-{item_id}")).attempts == 1


async def test_a_refused_message_gives_up_and_leaves_no_intent(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    item_id = await queue(http, "Hello.")
    fake.fail_next(400, 21408, "Permission to send an SMS has not been enabled")
    assert await rt(http).outbox.run_once() == 0
    assert await outbox_status(http, item_id) == "failed"
    assert await parts(http) == []
    stored = await the_send(http, f"outbox-{item_id}")
    assert (stored.status, stored.last_error) == ("failed", 21408)
    assert (await contact(http)).stopped is False  # Not the person's doing.


# -- STOP means nothing more, until START -------------------------------------------------------


async def test_opted_out_number_gets_nothing_even_if_the_contact_flag_was_undone(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    twiml(await text(http, "STOP"))
    # The dialog resumes a stopped contact on any message; the channel stops it again
    # after the turn. A crash in between leaves the flag undone: the opt-out holds.
    runtime = rt(http)
    async with runtime.db.sessions() as session, session.begin():
        found = await session.get(Contact, (await contact(http)).id)
        assert found is not None
        found.stopped = False
    item_id = await queue(http, "A person is here.")
    assert await runtime.outbox.run_once() == 0
    assert fake.requests == 0
    assert await outbox_status(http, item_id) == "failed"
    assert (await contact(http)).stopped is True  # Mended by the sender's answer.


async def test_a_message_from_a_stopped_number_does_not_reopen_it(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    twiml(await text(http, "quit"))
    assert twiml(await text(http, "are you there")) == []
    assert (await contact(http)).stopped is True
    assert await count(http, SmsOptOut) == 1
    # Even a counselor's words queued by hand find the number closed.
    result = await sender(http).send(PHONE, "Hello?", "relay-by-hand")
    assert not result.ok and result.unreachable
    assert fake.requests == 0


async def test_checkins_are_not_sent_after_stop_and_are_after_start(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    asked = "\n".join(twiml(await text(http, "check in with me tomorrow")))
    assert "Reply 1 for" in asked
    twiml(await text(http, "1"))
    twiml(await text(http, "STOP"))
    dispatcher = from_runtime(rt(http))
    clock.advance(days=1, hours=1)
    events = await dispatcher.run_once()
    assert [e["type"] for e in events] == ["checkin.cancelled"]
    await rt(http).outbox.run_once()
    assert fake.requests == 0
    # START, a new check-in, and it arrives.
    assert twiml(await text(http, "START")) == [get_texts("en")("sms.started")]
    twiml(await text(http, "check in with me tomorrow"))
    twiml(await text(http, "1"))
    clock.advance(days=1, hours=1)
    assert [e["type"] for e in await dispatcher.run_once()] == ["checkin.sent"]
    assert await rt(http).outbox.run_once() == 1
    assert len(fake.sent) == 1 and fake.sent[0]["To"] == PHONE


async def test_a_checkin_set_before_stop_comes_after_start(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    # "sms.started" says check-ins come again: one still scheduled does.
    await start_chat(http)
    twiml(await text(http, "check in with me tomorrow"))
    twiml(await text(http, "1"))
    twiml(await text(http, "STOP"))
    twiml(await text(http, "START"))
    clock.advance(days=1, hours=1)
    assert [e["type"] for e in await from_runtime(rt(http)).run_once()] == ["checkin.sent"]
    assert await rt(http).outbox.run_once() == 1
    assert len(fake.sent) == 1


async def test_twilio_unsubscribed_on_create_records_the_opt_out(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    fake.block(PHONE)  # STOP reached Twilio (another number of ours, or a lost webhook).
    item_id = await queue(http, "Hello.")
    assert await rt(http).outbox.run_once() == 0
    assert await outbox_status(http, item_id) == "failed"
    assert await count(http, SmsOptOut) == 1
    assert (await contact(http)).stopped is True
    fake.unblock(PHONE)
    assert twiml(await text(http, "UNSTOP")) == [get_texts("en")("sms.started")]
    await queue(http, "Welcome back.")
    assert await rt(http).outbox.run_once() == 1


# -- a phone that is not a contact (paging a counselor) ---------------------------------------


async def test_paging_a_counselor_phone_and_its_stop(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    paged = await sender(http).send(
        "(415) 555-0199", "New escalation #4. Open the console.", "page-4"
    )
    assert paged.ok
    assert [(m["To"], m["Body"]) for m in fake.sent] == [
        (COUNSELOR_PHONE, "New escalation #4. Open the console.")
    ]
    assert (await the_send(http, "page-4")).outbox_id is None
    assert (await sender(http).send(COUNSELOR_PHONE, "again", "page-4")).ok  # Once per key.
    assert fake.requests == 1
    # The counselor texts STOP from that phone: pages stop too, until START.
    twiml(await text(http, "STOP", sender=COUNSELOR_PHONE))
    refused = await sender(http).send(COUNSELOR_PHONE, "New escalation #5.", "page-5")
    assert not refused.ok and refused.unreachable
    assert fake.requests == 1
    twiml(await text(http, "START", sender=COUNSELOR_PHONE))
    assert (await sender(http).send(COUNSELOR_PHONE, "New escalation #6.", "page-6")).ok
    assert fake.requests == 2


async def test_finished_sends_are_purged_with_their_parts_and_open_ones_kept(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    assert (await sender(http).send(COUNSELOR_PHONE, "Page one.", "page-1")).ok
    fake.fail_next(429, 20429, "Too Many Requests")
    assert not (await sender(http).send(COUNSELOR_PHONE, "Page two.", "page-2")).ok
    clock.advance(days=31)
    async with rt(http).db.sessions() as session, session.begin():
        assert await purge_finished(session, clock() - timedelta(days=30)) == 1
    assert await count(http, SmsPart) == 0
    assert (await the_send(http, "page-2")).status == "sending"  # Still to send: kept.


# -- signatures behind a proxy that strips a path prefix ---------------------------------------


async def test_signatures_hold_behind_a_proxy_with_a_path_prefix(
    tmp_path: Path,
    backend: tuple[str, str],
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    fake: FakeTwilio,
) -> None:
    public = "https://example.org/harborline"
    async with sms_app(tmp_path, backend, kb, intents, clock, fake, PUBLIC_BASE_URL=public) as http:
        validator = RequestValidator(TOKEN)
        params = {"MessageSid": "SM" + "b" * 32, "From": PHONE, "To": FROM, "Body": "hi"}
        # Twilio signs the URL it called (with the prefix); the app sees /sms/twilio.
        good = validator.compute_signature(public + PATH, params)
        answered = await http.post(PATH, data=params, headers={"X-Twilio-Signature": good})
        assert "automated assistant" in "\n".join(twiml(answered))
        unprefixed = validator.compute_signature(
            PUBLIC + PATH, {**params, "MessageSid": "SM" + "c" * 32}
        )
        refused = await http.post(
            PATH,
            data={**params, "MessageSid": "SM" + "c" * 32},
            headers={"X-Twilio-Signature": unprefixed},
        )
        assert refused.status_code == 403
        # The status callback URL carries the prefix and the part marker, both signed.
        await queue(http, "Hello.")
        assert await rt(http).outbox.run_once() == 1
        callback = fake.progress(fake.messages[0]["sid"], "delivered")
        assert callback.url.startswith(public + STATUS_PATH + "?part=")
        path = callback.url[len(public) :]
        signature = validator.compute_signature(callback.url, callback.params)
        done = await http.post(
            path, data=callback.params, headers={"X-Twilio-Signature": signature}
        )
        assert done.status_code == 204
        assert [p.status for p in await parts(http)] == ["delivered"]
        # The marker is part of what is signed: another part number is refused.
        moved = path.replace("?part=", "?part=9")
        forged = await http.post(
            moved, data=callback.params, headers={"X-Twilio-Signature": signature}
        )
        assert forged.status_code == 403


# -- the fake answers as Twilio does (through the twilio library) ------------------------------


async def test_the_fake_lists_filters_pages_and_fetches_like_twilio(
    fake: FakeTwilio, clock: Clock
) -> None:
    http = TwilioHttpClient(fake.base_url)
    client = Client(SID, TOKEN, http_client=http)
    try:
        start = clock()
        for i in range(5):
            to = PHONE if i % 2 == 0 else COUNSELOR_PHONE
            await client.messages.create_async(to=to, from_=FROM, body=f"m{i}")
            clock.advance(minutes=1)
        first = fake.messages[0]["sid"]
        fake.progress(first, "sent")  # Sent last, at start + 5 min.
        reads = fake.reads
        mine = await client.messages.list_async(to=PHONE, from_=FROM, page_size=2)
        assert [m.body for m in mine] == ["m0", "m4", "m2"]  # Newest first, over two pages.
        assert fake.reads - reads == 2
        assert all(m.to == PHONE and m.direction == "outbound-api" for m in mine)
        dated = await client.messages.list_async(
            to=PHONE, date_sent_after=start + timedelta(minutes=4)
        )
        assert [m.body for m in dated] == ["m0"]  # Queued ones have no DateSent yet.
        before = await client.messages.list_async(date_sent_before=start)
        assert before == []
        fetched = await client.messages(first).fetch_async()
        assert (fetched.sid, fetched.status, fetched.body) == (first, "sent", "m0")
        assert fetched.date_sent == (start + timedelta(minutes=5)).replace(microsecond=0)
        with pytest.raises(TwilioRestException) as missing:
            await client.messages("SM" + "0" * 32).fetch_async()
        assert (missing.value.status, missing.value.code) == (404, 20404)
    finally:
        await http.close()


# -- the migration carries the old records over -----------------------------------------------


async def _alembic(url: str, action: str, revision: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                getattr(command, action)(config, revision)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_migration_0055_carries_deliveries_and_stops_both_ways(
    backend: tuple[str, str], clock: Clock
) -> None:
    url, _ = backend
    await upgrade(url, "0050")
    now = clock()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for i, (channel, stopped) in enumerate([("sms", True), ("sms", False), ("web", True)]):
                await conn.exec_driver_sql(
                    "INSERT INTO contacts (id, address_hash, channel, locale_chosen, country,"
                    " discreet, stopped, created_at, last_seen_at)"
                    f" VALUES ({i + 1}, 'h{i + 1}', '{channel}', false, 'US', false,"
                    f" {'true' if stopped else 'false'}, '{now.isoformat()}', '{now.isoformat()}')"
                )
            for oid, status in ((1, "sent"), (2, "pending")):
                await conn.exec_driver_sql(
                    "INSERT INTO outbox (id, contact_id, channel, payload_enc, idempotency_key,"
                    f" status, attempts, next_attempt_at, created_at) VALUES ({oid}, 2, 'sms',"
                    f" '', 'k{oid}', '{status}', 1, '{now.isoformat()}', '{now.isoformat()}')"
                )
            for i, (oid, part) in enumerate(((1, 0), (1, 1), (2, 0))):
                await conn.exec_driver_sql(
                    "INSERT INTO sms_deliveries (outbox_id, part, message_sid, status,"
                    f" created_at, updated_at) VALUES ({oid}, {part}, 'SM{i}', 'delivered',"
                    f" '{now.isoformat()}', '{now.isoformat()}')"
                )
        await _alembic(url, "upgrade", "0055")
        async with engine.connect() as conn:
            opted = (await conn.exec_driver_sql("SELECT address_hash FROM sms_opt_outs")).all()
            assert [r[0] for r in opted] == ["h1"]  # Only the stopped SMS number.
            sends = (
                await conn.exec_driver_sql(
                    "SELECT send_key, outbox_id, status FROM sms_sends ORDER BY outbox_id"
                )
            ).all()
            assert [tuple(r) for r in sends] == [
                ("outbox-1", 1, "sent"),
                ("outbox-2", 2, "sending"),
            ]
            carried = (
                await conn.exec_driver_sql(
                    "SELECT s.outbox_id, p.part, p.message_sid FROM sms_parts p"
                    " JOIN sms_sends s ON s.id = p.send_id ORDER BY p.message_sid"
                )
            ).all()
            assert [tuple(r) for r in carried] == [(1, 0, "SM0"), (1, 1, "SM1"), (2, 0, "SM2")]
        await _alembic(url, "downgrade", "0050")
        async with engine.connect() as conn:
            back = (
                await conn.exec_driver_sql(
                    "SELECT outbox_id, part, message_sid FROM sms_deliveries ORDER BY message_sid"
                )
            ).all()
            assert [tuple(r) for r in back] == [(1, 0, "SM0"), (1, 1, "SM1"), (2, 0, "SM2")]
            still = (
                await conn.exec_driver_sql("SELECT address_hash FROM contacts WHERE stopped")
            ).all()
            assert sorted(r[0] for r in still) == ["h1", "h3"]
        await _alembic(url, "upgrade", "0055")  # And up again.
        async with engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(SmsPart.__table__))
            assert total == 3
    finally:
        await engine.dispose()
