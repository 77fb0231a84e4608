"""The SMS channel end to end with the real twilio library (SQLite).

Webhooks are signed by Twilio's own RequestValidator and posted through the ASGI
app; outbound REST calls go through twilio's Client and aiohttp client to a
local fake of the Messages API (tests/channels/twilio_fake.py).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.channels.sms import PATH, STATUS_PATH, normalize_number
from bot.channels.sms_store import SmsOptOut, SmsPart
from bot.channels.sms_text import (
    ChoiceWords,
    choice_value,
    classify_keyword,
    segments,
    shape_turn,
    split_for_sms,
)
from bot.runtime import Runtime, build_runtime
from bot.storage.models import Base, Contact, Escalation, InboxItem
from bot.types import Choice, Reply
from bot.web.app import create_app
from dialogs.texts import get_texts
from escalation import service
from escalation.models import Counselor, OutboxItem
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.channels.twilio_fake import FakeTwilio, StatusCallback
from tests.conftest import Clock, make_settings

SID = "AC" + "0" * 32
TOKEN = "test-twilio-auth-token"
FROM = "+15005550006"
PUBLIC = "https://sms.harborline.example"
PHONE = "+14155552671"
CRISIS = "I have the pills in my hand and I want to die tonight"

# -- pure: segments, splitting, keywords, numbered choices ------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("ñÑüé¿¡" * 26, "GSM-7", 1),  # Spanish letters inside GSM-7: 156 septets.
        ("€" * 80, "GSM-7", 1),  # Extension characters cost two septets: 160.
        ("€" * 81, "GSM-7", 2),
        ("{" * 81, "GSM-7", 2),  # 162 septets: 76 pairs, then 5.
        # 306 septets would fill 2 parts, but an escape pair is never split: 3.
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 3),
        ("á" + "a" * 69, "UCS-2", 1),  # One accent outside GSM-7: 70 per message.
        ("á" + "a" * 70, "UCS-2", 2),
        ("á" * 201, "UCS-2", 3),  # 67 per part once concatenated.
        ("á" * 202, "UCS-2", 4),
        ("😀" * 35, "UCS-2", 1),  # An emoji is two UTF-16 units.
        ("😀" * 36, "UCS-2", 2),  # 33 emoji fill 66 of 67 units; a pair is never split.
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # 134 units, yet 3 parts.
        ("Sí", "UCS-2", 1),
        ("I’m here", "UCS-2", 1),  # A curly apostrophe alone switches encoding...
    ],
)
def test_segment_counting(text: str, encoding: str, count: int) -> None:
    found = segments(text)
    assert (found.encoding, found.count) == (encoding, count)


def test_smart_characters_become_gsm7_when_shaped() -> None:
    # ...so outgoing text replaces typographic look-alikes, as Twilio's smart encoding.
    assert split_for_sms("I’m here – “really”…") == ['I\'m here - "really"...']
    assert segments(split_for_sms("I’m here")[0]).encoding == "GSM-7"


def test_long_text_splits_at_sentences_within_the_segment_budget() -> None:
    sentence = "This sentence has exactly eight words in it. "
    text = sentence * 20  # About 900 characters: 6 GSM-7 segments.
    parts = split_for_sms(text, max_segments=3)
    assert len(parts) == 2
    assert all(segments(p).count <= 3 for p in parts)
    assert all(p.endswith(".") for p in parts)  # Cut between sentences.
    assert " ".join(parts).split() == text.split()


def test_ucs2_text_splits_sooner_and_a_huge_word_is_cut_safely() -> None:
    text = "Información " * 30  # UCS-2: 360 units, 6 segments of 67.
    parts = split_for_sms(text, max_segments=2)
    assert all(segments(p).count <= 2 for p in parts)
    assert " ".join(parts).split() == text.split()
    word = "😀" * 100
    cut = split_for_sms(word, max_segments=1)
    assert "".join(cut) == word
    assert all(segments(p).count == 1 for p in cut)


@pytest.mark.parametrize(
    ("text", "stopped", "kind", "locale"),
    [
        ("STOP", False, "stop", None),
        ("  stop. ", False, "stop", None),
        ("StopAll", False, "stop", None),
        ("UNSUBSCRIBE", False, "stop", None),
        ("cancel", False, "stop", None),
        ("END", False, "stop", None),
        ("quit!", False, "stop", None),
        ("PARAR", False, "stop", "es"),
        ("Alto", False, "stop", "es"),
        ("detener", False, "stop", "es"),
        ("START", False, "start", None),
        ("unstop", False, "start", None),
        ("Comenzar", False, "start", "es"),
        ("EMPEZAR", False, "start", "es"),
        ("HELP", False, "help", None),
        ("info", False, "help", None),
        ("Ayuda", False, "help", "es"),
        ("REVOKE", False, "stop", None),
        ("optout", False, "stop", None),
        ("Opt-Out", False, "stop", None),
        ("stop all", False, "stop", None),
        ("cancelar", False, "stop", "es"),
        ("yes", True, "start", None),  # Twilio opts a stopped number back in on YES.
        ("Sí", True, "start", "es"),
        ("yes", False, None, None),
        ("sí", False, None, None),  # Otherwise an answer to the dialog's question.
        ("stop texting me about rent", False, None, None),  # Only the whole message.
        ("help me please", False, None, None),
    ],
)
def test_carrier_keywords(text: str, stopped: bool, kind: str | None, locale: str | None) -> None:
    found = classify_keyword(text, stopped=stopped)
    assert (found.kind if found else None, found.locale if found else None) == (kind, locale)


def test_numbered_choices_across_a_turn_and_back() -> None:
    replies = [
        Reply("Hello."),
        Reply("Can I keep this?", (Choice("Yes", "/yes"), Choice("No", "/no"))),
        Reply("Or:", (Choice("Talk to a person", "/person"),)),
    ]
    messages, choices = shape_turn(replies, ChoiceWords("Reply", "for"))
    assert messages == [
        "Hello.\n\nCan I keep this?\nReply 1 for Yes\nReply 2 for No\n\nOr:\n"
        "Reply 3 for Talk to a person"
    ]
    assert [choice_value(t, choices) for t in ("1", " 2. ", "#3", "4", "12 apples", "")] == [
        "/yes",
        "/no",
        "/person",
        None,
        None,
        None,
    ]


def test_phone_numbers_are_normalised_to_e164() -> None:
    assert normalize_number("+1 (415) 555-2671") == PHONE
    assert normalize_number("415 555 2671", "US") == PHONE
    assert normalize_number("+34 612 34 56 78") == "+34612345678"
    assert normalize_number("hello") is None


# -- end to end -------------------------------------------------------------------------------


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio(SID, TOKEN, clock)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(
    tmp_path: Path,
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    fake: FakeTwilio,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        tmp_path,
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM_NUMBER=FROM,
        TWILIO_API_BASE=fake.base_url,
        PUBLIC_BASE_URL=PUBLIC,
    )
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    # The app is reached at an internal address: only PUBLIC_BASE_URL is signed.
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5")
    client.runtime = runtime  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
        await runtime.close()


def rt(http: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = http.runtime  # type: ignore[attr-defined]
    return runtime


_sids = iter(range(1, 10_000))


def _signed(path: str, params: dict[str, str]) -> dict[str, str]:
    return signed_url(PUBLIC + path, params)


def signed_url(url: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}


async def deliver_callback(http: httpx.AsyncClient, callback: StatusCallback) -> httpx.Response:
    """POST a status callback as Twilio would: to the public URL it was given, signed."""
    assert callback.url.startswith(PUBLIC + STATUS_PATH)
    path = callback.url[len(PUBLIC) :]
    return await http.post(
        path, data=callback.params, headers=signed_url(callback.url, callback.params)
    )


async def text(
    http: httpx.AsyncClient,
    body: str,
    sender: str = PHONE,
    sid: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid or f"SM{next(_sids):032x}",
        "NumMedia": "0",
        "From": sender,
        "To": FROM,
        "Body": body,
        "NumSegments": "1",
        "AccountSid": SID,
        "ApiVersion": "2010-04-01",
    }
    params["MessageSid"] = params["SmsMessageSid"]
    return await http.post(
        PATH, data=params, headers=_signed(PATH, params) if headers is None else headers
    )


def twiml(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


async def count(http: httpx.AsyncClient, model: type[Base]) -> int:
    async with rt(http).db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def contact(http: httpx.AsyncClient, phone: str = PHONE) -> Contact:
    runtime = rt(http)
    async with runtime.db.sessions() as session:
        found = await session.scalar(
            select(Contact).where(Contact.address_hash == runtime.pipeline.identity("sms", phone))
        )
    assert found is not None
    return found


async def start_chat(http: httpx.AsyncClient, phone: str = PHONE) -> None:
    """Welcome, then skip the consent question by number."""
    first = twiml(await text(http, "hi", phone))
    assert any("Reply 3 for Skip" in m for m in first)
    twiml(await text(http, "3", phone))


async def counselor_claims(http: httpx.AsyncClient) -> int:
    runtime = rt(http)
    texts = get_texts("en")
    now = runtime.pipeline.clock()
    async with runtime.db.sessions() as session, session.begin():
        counselor = Counselor(
            name="sam",
            password_hash="!",
            role="counselor",
            active=True,
            on_call=True,
            page_channel="console",
            failed_logins=0,
            created_at=now,
        )
        session.add(counselor)
        await session.flush()
        escalation_id = await session.scalar(select(Escalation.id).order_by(Escalation.id.desc()))
        assert escalation_id is not None
        handoff = {"joined": texts("handoff.joined"), "closed": texts("handoff.closed")}
        await service.claim(
            session, escalation_id, counselor, now, runtime.pipeline.cipher, handoff
        )
        await service.relay_to_survivor(
            session,
            escalation_id,
            counselor,
            "Hi, I'm Sam. I'm here.",
            runtime.pipeline.cipher,
            now,
        )
    return escalation_id


async def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    http: httpx.AsyncClient,
) -> None:
    assert (await text(http, "hi", headers={})).status_code == 403
    assert (await text(http, "hi", headers={"X-Twilio-Signature": "bm9wZQ=="})).status_code == 403
    # Signed for the URL the request arrived at (Host), not the public one: refused.
    params = {"MessageSid": "SM" + "1" * 32, "From": PHONE, "Body": "hi"}
    wrong = RequestValidator(TOKEN).compute_signature("http://10.0.0.5" + PATH, params)
    refused = await http.post(PATH, data=params, headers={"X-Twilio-Signature": wrong})
    assert refused.status_code == 403
    # Another body under a valid signature: refused.
    tampered = await http.post(
        PATH, data={**params, "Body": "other"}, headers=_signed(PATH, params)
    )
    assert tampered.status_code == 403
    assert await count(http, InboxItem) == 0
    assert await count(http, Contact) == 0


async def test_first_message_welcome_numbered_choices_and_encrypted_number(
    http: httpx.AsyncClient,
) -> None:
    messages = twiml(await text(http, "hi", sender="+1 (415) 555-2671"))
    joined = "\n".join(messages)
    assert "automated assistant" in joined
    assert "Reply 1 for Yes\nReply 2 for No\nReply 3 for Skip" in joined
    assert all(segments(m).count <= 3 for m in messages)
    found = await contact(http)  # Normalised to E.164 before hashing.
    assert found.address_enc is not None
    assert rt(http).pipeline.cipher.decrypt(found.address_enc) == PHONE
    assert PHONE.encode() not in found.address_enc
    # "1" is "Yes" to the consent question.
    twiml(await text(http, "1"))
    assert (await contact(http)).consent is True


async def test_duplicate_message_sid_answers_the_same_without_a_second_turn(
    http: httpx.AsyncClient,
) -> None:
    first = await text(http, "hi", sid="SM" + "a" * 32)
    again = await text(http, "hi", sid="SM" + "a" * 32)
    assert twiml(again) == twiml(first)
    assert await count(http, InboxItem) == 1
    # Still "new" once: the retry did not run the welcome turn again.
    third = twiml(await text(http, "1"))
    assert "Thank you" in "\n".join(third)


async def test_stop_then_silence_then_help_then_start(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    stopped = twiml(await text(http, "STOP"))
    assert stopped == [get_texts("en")("sms.stopped")]
    assert (await contact(http)).stopped is True
    # Writing again is not START: the turn runs (risk screen) but nothing is sent.
    assert twiml(await text(http, "hello?")) == []
    assert (await contact(http)).stopped is True
    # HELP is always answered, and does not opt back in.
    help_ = twiml(await text(http, "HELP"))
    assert len(help_) == 1 and "STOP" in help_[0] and "911" in help_[0]
    assert (await contact(http)).stopped is True
    # Nothing the service starts reaches a stopped number.
    async with rt(http).db.sessions() as session, session.begin():
        item = await service.enqueue_for_survivor(
            session, (await contact(http)).id, "check-in", rt(http).pipeline.cipher,
            rt(http).pipeline.clock(),
        )  # fmt: skip
        assert item is None
    await rt(http).outbox.run_once()
    assert fake.sent == []
    assert await count(http, SmsOptOut) == 1
    # START: reachable again, and told plainly what that means and how to end it.
    started = twiml(await text(http, "START"))
    assert started == [get_texts("en")("sms.started")]
    assert "STOP" in started[0]
    assert (await contact(http)).stopped is False
    assert await count(http, SmsOptOut) == 0
    async with rt(http).db.sessions() as session, session.begin():
        item = await service.enqueue_for_survivor(
            session, (await contact(http)).id, "Hi again.", rt(http).pipeline.cipher,
            rt(http).pipeline.clock(),
        )  # fmt: skip
        assert item is not None
    assert await rt(http).outbox.run_once() == 1
    assert [m["Body"] for m in fake.sent] == ["Hi again."]


async def test_stop_after_something_was_queued_cancels_it(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    runtime = rt(http)
    async with runtime.db.sessions() as session, session.begin():
        await service.enqueue_for_survivor(
            session, (await contact(http)).id, "later", runtime.pipeline.cipher,
            runtime.pipeline.clock(), "queued-before-stop",
        )  # fmt: skip
    twiml(await text(http, "unsubscribe"))
    await runtime.outbox.run_once()
    assert fake.sent == []
    async with runtime.db.sessions() as session:
        item = await session.scalar(select(OutboxItem))
    assert item is not None and item.status == "failed"


async def test_spanish_keywords(http: httpx.AsyncClient) -> None:
    await start_chat(http)
    stopped = twiml(await text(http, "PARAR"))
    assert stopped == [get_texts("es")("sms.stopped")]
    assert "COMENZAR" in stopped[0]
    help_ = twiml(await text(http, "AYUDA"))
    assert "PARAR" in help_[0]
    started = twiml(await text(http, "Comenzar"))
    assert started == [get_texts("es")("sms.started")]
    assert "PARAR" in started[0]
    assert (await contact(http)).stopped is False
    # Numbered lines in Spanish.
    menu = "\n".join(twiml(await text(http, "menú")))
    assert "Responde 1 para" in menu


async def test_crisis_escalates_and_stop_is_still_honoured(http: httpx.AsyncClient) -> None:
    await start_chat(http)
    crisis = "\n".join(twiml(await text(http, CRISIS)))
    assert "911" in crisis and "988" in crisis
    assert await count(http, Escalation) == 1
    # STOP right after distress: one confirmation, with where to turn now.
    stopped = twiml(await text(http, "stop"))
    assert len(stopped) == 1
    assert stopped[0].startswith(get_texts("en")("sms.stopped"))
    assert (await contact(http)).stopped is True
    assert await count(http, Escalation) == 1  # The counselors still have it.


async def test_stopped_number_in_distress_still_reaches_the_counselors(
    http: httpx.AsyncClient,
) -> None:
    await start_chat(http)
    twiml(await text(http, "STOP"))
    assert twiml(await text(http, CRISIS)) == []  # Carrier rules: nothing sent.
    assert await count(http, Escalation) == 1
    assert (await contact(http)).stopped is True


async def test_counselor_relay_goes_out_by_rest_with_status_callbacks(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    twiml(await text(http, CRISIS))
    await counselor_claims(http)
    assert await rt(http).outbox.run_once() == 2
    assert [m["Body"] for m in fake.sent] == [
        get_texts("en")("handoff.joined"),
        "Hi, I'm Sam. I'm here.",
    ]
    assert all(m["To"] == PHONE and m["From"] == FROM for m in fake.sent)
    # Each part's callback URL names its row, so a callback can settle a lost answer.
    assert all(m["StatusCallback"].startswith(PUBLIC + STATUS_PATH + "?part=") for m in fake.sent)
    assert len({m["StatusCallback"] for m in fake.sent}) == 2
    assert await rt(http).outbox.run_once() == 0  # Never twice.
    # The survivor's answer goes to the counselor, not to the bot.
    assert twiml(await text(http, "thank you")) == []

    assert await part_statuses(http) == {m["sid"]: "queued" for m in fake.messages}
    first, second = (m["sid"] for m in fake.messages)
    # A late "sent" does not undo "delivered".
    for status in ("sent", "delivered", "sent"):
        assert (await deliver_callback(http, fake.progress(first, status))).status_code == 204
    # Undelivered and failed are recorded with Twilio's error code.
    callback = fake.progress(second, "undelivered", 30005)
    assert (await deliver_callback(http, callback)).status_code == 204
    async with rt(http).db.sessions() as session:
        part = await session.scalar(select(SmsPart).where(SmsPart.message_sid == second))
    assert part is not None and (part.status, part.error_code) == ("undelivered", 30005)
    # Unsigned: refused, nothing changes.
    forged = {"MessageSid": first, "MessageStatus": "failed"}
    assert (await http.post(STATUS_PATH, data=forged)).status_code == 403
    assert await part_statuses(http) == {first: "delivered", second: "undelivered"}
    # Bad input: 400, never a crash.
    for bad in ({"MessageSid": first}, {"MessageSid": first, "MessageStatus": "intent"}):
        assert (
            await http.post(STATUS_PATH, data=bad, headers=_signed(STATUS_PATH, bad))
        ).status_code == 400


async def part_statuses(http: httpx.AsyncClient) -> dict[str | None, str]:
    async with rt(http).db.sessions() as session:
        parts = (await session.execute(select(SmsPart).order_by(SmsPart.id))).scalars()
        return {p.message_sid: p.status for p in parts}


async def test_failed_callback_for_an_unsubscribed_number_stops_it_until_start(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    runtime = rt(http)
    async with runtime.db.sessions() as session, session.begin():
        await service.enqueue_for_survivor(
            session, (await contact(http)).id, "Hello.", runtime.pipeline.cipher,
            runtime.pipeline.clock(),
        )  # fmt: skip
    assert await runtime.outbox.run_once() == 1
    # The person sent STOP to another number of the pool: Twilio fails the message.
    callback = fake.progress(fake.messages[0]["sid"], "failed", 21610)
    assert (await deliver_callback(http, callback)).status_code == 204
    assert (await contact(http)).stopped is True
    assert await count(http, SmsOptOut) == 1
    assert twiml(await text(http, "hello?")) == []  # Stopped: nothing but HELP.
    assert twiml(await text(http, "START")) == [get_texts("en")("sms.started")]
    assert await count(http, SmsOptOut) == 0
    assert (await contact(http)).stopped is False


async def test_rate_limits_and_server_errors_are_retried_with_backoff(
    http: httpx.AsyncClient, fake: FakeTwilio, clock: Clock
) -> None:
    await start_chat(http)
    twiml(await text(http, CRISIS))
    fake.fail_next(429, 20429, "Too Many Requests", retry_after=7)
    await counselor_claims(http)
    outbox = rt(http).outbox
    assert await outbox.run_once() == 1  # The first waits 7 s; the relay goes.
    async with rt(http).db.sessions() as session:
        waiting = await session.scalar(select(OutboxItem).where(OutboxItem.status == "pending"))
    assert waiting is not None
    assert (waiting.next_attempt_at - clock()).total_seconds() == pytest.approx(7)
    fake.fail_next(500, None, "Internal Server Error")
    clock.advance(seconds=8)
    assert await outbox.run_once() == 0  # 500: back off again.
    clock.advance(seconds=600)
    assert await outbox.run_once() == 1
    assert len(fake.sent) == 2 and fake.requests == 4


async def test_unsubscribed_number_is_unreachable_and_stopped(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    twiml(await text(http, CRISIS))
    fake.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    await counselor_claims(http)
    await rt(http).outbox.run_once()
    assert (await contact(http)).stopped is True
    assert fake.sent == []  # The relay behind it is not sent to a stopped number either.


async def test_discreet_mode_makes_service_started_messages_neutral(
    http: httpx.AsyncClient, fake: FakeTwilio
) -> None:
    await start_chat(http)
    twiml(await text(http, "discreet on"))
    assert (await contact(http)).discreet is True
    twiml(await text(http, "modo discreto no"))
    assert (await contact(http)).discreet is False
    on = "\n".join(twiml(await text(http, "Discreet mode")))
    assert "Discreet mode is on" in on
    assert (await contact(http)).discreet is True
    twiml(await text(http, CRISIS))
    await counselor_claims(http)
    await rt(http).outbox.run_once()
    joined = fake.sent[0]["Body"]
    assert joined == get_texts("en")("discreet.joined")
    for revealing in ("counselor", "Harborline", "traffick", "abuse", "service"):
        assert revealing.lower() not in joined.lower()
    assert fake.sent[1]["Body"] == "Hi, I'm Sam. I'm here."  # A person's words pass as written.


async def test_safe_word_escalates_silently(http: httpx.AsyncClient, fake: FakeTwilio) -> None:
    await start_chat(http)
    assert twiml(await text(http, "safe word stop")) == [
        get_texts("en")("discreet.safe_word_taken")
    ]
    saved = twiml(await text(http, "safe word Sunflower"))
    assert saved == [get_texts("en")("discreet.safe_word_set")]
    stored = (await contact(http)).safe_word_hash
    assert stored is not None and "sunflower" not in stored.lower() and len(stored) == 64
    assert await count(http, Escalation) == 0

    visible = twiml(await text(http, "sunflower!"))
    assert visible == [get_texts("en")("discreet.noted")]
    async with rt(http).db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
    assert escalation is not None
    assert (escalation.reason, escalation.level) == ("safe_word", "high")
    # The next ordinary message is not read as a crisis.
    assert "911" not in "\n".join(twiml(await text(http, "ok")))
    # Bot-started texts after a safe word are neutral even without discreet mode.
    await counselor_claims(http)
    await rt(http).outbox.run_once()
    assert fake.sent[0]["Body"] == get_texts("en")("discreet.joined")


async def test_safe_word_in_spanish_and_removed(http: httpx.AsyncClient) -> None:
    await start_chat(http)
    twiml(await text(http, "palabra clave girasol"))
    assert (await contact(http)).safe_word_hash is not None
    twiml(await text(http, "palabra clave no"))
    assert (await contact(http)).safe_word_hash is None
    twiml(await text(http, "girasol"))
    assert await count(http, Escalation) == 0


async def test_the_phone_number_and_text_never_reach_the_logs(
    http: httpx.AsyncClient, fake: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await start_chat(http)
    twiml(await text(http, CRISIS))
    await counselor_claims(http)
    await rt(http).outbox.run_once()
    logged = "\n".join(
        f"{r.getMessage()} {json.dumps(r.args, default=str)}" for r in caplog.records
    )
    for secret in (PHONE, PHONE[1:], "5552671", "pills in my hand", TOKEN):
        assert secret not in logged
