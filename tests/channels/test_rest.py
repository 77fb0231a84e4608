"""The Rasa-compatible REST channel through the real ASGI app (SQLite)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.rest import MAX_BODY_BYTES, PATH, RestWebhookFastPath
from bot.runtime import Runtime, build_runtime
from bot.storage.models import Base, Contact, Conversation, Escalation, InboxItem
from bot.web.app import create_app
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings

TOKEN = "test-rest-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SENDER = "rasa-sender-0001-abcdef"


@pytest.fixture
async def make_client(
    tmp_path: Path, kb: KnowledgeBase, intents: IntentClassifier | None, clock: Clock
) -> AsyncIterator[Callable[..., Any]]:
    """Build an app with the given settings; everything is closed at the end."""
    opened: list[tuple[Runtime, httpx.AsyncClient, Any]] = []

    async def build(**extra: object) -> httpx.AsyncClient:
        settings = make_settings(tmp_path / f"app{len(opened)}", **extra)
        runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
        app = create_app(settings, runtime)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        http.runtime = runtime  # type: ignore[attr-defined]
        opened.append((runtime, http, lifespan))
        return http

    yield build
    for runtime, http, lifespan in reversed(opened):
        await http.aclose()
        await lifespan.__aexit__(None, None, None)
        await runtime.close()


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> httpx.AsyncClient:
    http: httpx.AsyncClient = await make_client(REST_CHANNEL_ENABLED=True, REST_CHANNEL_TOKEN=TOKEN)
    return http


def rt(http: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = http.runtime  # type: ignore[attr-defined]
    return runtime


async def say(
    http: httpx.AsyncClient,
    message: str,
    sender: str = SENDER,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    body = {"sender": sender, "message": message, **extra}
    return await http.post(PATH, json=body, headers=AUTH if headers is None else headers)


async def rows(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# -- Rasa shapes -----------------------------------------------------------------------------


async def test_first_message_gets_rasa_shaped_replies_with_buttons(
    client: httpx.AsyncClient,
) -> None:
    response = await say(client, "hi")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, list) and len(body) >= 2
    assert all(item["recipient_id"] == SENDER for item in body)
    assert "automated assistant" in body[0]["text"]
    assert set(body[0]) == {"recipient_id", "text"}  # No choices: no "buttons" key at all.
    consent = body[-1]
    assert {"title": "Yes", "payload": "/yes"} in consent["buttons"]
    assert set(consent["buttons"][0]) == {"title", "payload"}


async def test_buttons_are_the_choices_the_web_chat_shows(client: httpx.AsyncClient) -> None:
    rest = (await say(client, "hi")).json()
    web = await client.post("/api/chat", json={"session": "w" * 24, "id": "1", "text": "hi"})
    web_choices = [
        [{"title": c["label"], "payload": c["value"]} for c in r["choices"]]
        for r in web.json()["replies"]
    ]
    assert [item.get("buttons", []) for item in rest] == web_choices


async def test_button_payload_sent_back_as_message_continues_the_dialog(
    client: httpx.AsyncClient,
) -> None:
    first = (await say(client, "hi")).json()
    payload = first[-1]["buttons"][0]["payload"]
    second = await say(client, payload)
    assert second.status_code == 200
    runtime = rt(client)
    async with runtime.db.sessions() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None and contact.consent is True


async def test_same_sender_continues_one_conversation(client: httpx.AsyncClient) -> None:
    runtime = rt(client)
    await say(client, "hi")
    await say(client, "what is a t visa")
    await say(client, "menu")
    other = "another-sender-000000"
    await say(client, "hi", sender=other)
    assert await rows(runtime, Contact) == 2
    assert await rows(runtime, Conversation) == 2
    async with runtime.db.sessions() as session:
        contacts = list(await session.scalars(select(Contact)))
    assert {c.channel for c in contacts} == {"rest"}
    # Pseudonymised like any address: keyed hash for identity, the id only encrypted.
    assert {c.address_hash for c in contacts} == {
        runtime.pipeline.identity("rest", SENDER),
        runtime.pipeline.identity("rest", other),
    }
    for contact in contacts:
        assert contact.address_enc is not None and SENDER.encode() not in contact.address_enc


async def test_crisis_message_escalates(client: httpx.AsyncClient) -> None:
    response = await say(client, "I have the pills in my hand and I want to die tonight")
    assert response.status_code == 200
    texts = " ".join(item["text"] for item in response.json())
    assert "911" in texts and "988" in texts
    runtime = rt(client)
    async with runtime.db.sessions() as session:
        escalation = await session.scalar(select(Escalation))
    assert escalation is not None
    assert escalation.reason == "risk" and escalation.level in ("high", "imminent")


async def test_metadata_message_id_makes_resends_idempotent(client: httpx.AsyncClient) -> None:
    runtime = rt(client)
    await say(client, "hi")
    meta = {"message_id": "m-42", "anything": {"else": [1, 2]}}
    one = await say(client, "talk to a person", metadata=meta)
    two = await say(client, "talk to a person", metadata=meta)
    assert one.status_code == two.status_code == 200
    assert one.json() == two.json()
    assert await rows(runtime, Escalation) == 1  # One turn, not two.
    async with runtime.db.sessions() as session:
        provider_ids = list(await session.scalars(select(InboxItem.provider_id)))
    assert len(provider_ids) == 2
    assert all(SENDER not in p and "m-42" not in p for p in provider_ids)


async def test_without_message_id_every_request_is_a_new_message(
    client: httpx.AsyncClient,
) -> None:
    await say(client, "hi")
    await say(client, "menu")
    await say(client, "menu", metadata=None)
    assert await rows(rt(client), InboxItem) == 3


async def test_long_but_allowed_message_gets_a_kind_reply(client: httpx.AsyncClient) -> None:
    await say(client, "hi")
    response = await say(client, "please help " * 500)
    assert response.status_code == 200
    assert "long message" in " ".join(item["text"] for item in response.json())


async def test_unknown_fields_like_rasa_input_channel_are_ignored(
    client: httpx.AsyncClient,
) -> None:
    response = await say(client, "hi", input_channel="rest")
    assert response.status_code == 200


# -- off, auth -------------------------------------------------------------------------------


async def test_channel_is_a_404_when_not_enabled(make_client: Callable[..., Any]) -> None:
    http: httpx.AsyncClient = await make_client(REST_CHANNEL_TOKEN=TOKEN)
    response = await say(http, "hi")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
    bad = await http.post(PATH, content=b"{not json", headers=AUTH)
    assert bad.status_code == 404  # Off means off: nothing about the body is revealed.
    assert await rows(rt(http), InboxItem) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Token": TOKEN},
    ],
)
async def test_missing_or_wrong_token_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await say(client, "I want to die tonight", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong bearer token"}
    assert response.headers["www-authenticate"] == "Bearer"
    runtime = rt(client)
    for model in (InboxItem, Contact, Conversation, Escalation):
        assert await rows(runtime, model) == 0


async def test_auth_is_checked_before_the_body_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, content=b"{not json")
    assert response.status_code == 401


async def test_enabled_without_a_token_refuses_everyone(make_client: Callable[..., Any]) -> None:
    http: httpx.AsyncClient = await make_client(REST_CHANNEL_ENABLED=True)
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
        assert (await say(http, "hi", headers=headers)).status_code == 401
    assert await rows(rt(http), InboxItem) == 0


# -- senders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "",
        "short",
        "a" * 15,
        "a" * 129,
        "has a space in it ok",
        "tab\there-0123456789",
        "newline\n0123456789",
        "nul\x00-0123456789abc",
        "bidi\u202e-0123456789abc",
        "zero\u200bwidth-0123456789",
        "lone\ud800surrogate-0123456",
        "usuario-ñandú-0001",
        "cyrillic-а-look-alike-01",
    ],
)
async def test_bad_sender_ids_are_400_and_nothing_is_stored(
    client: httpx.AsyncClient, sender: str
) -> None:
    body = json.dumps({"sender": sender, "message": "hi"}).encode()  # ASCII, \u escapes
    response = await client.post(
        PATH, content=body, headers={**AUTH, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "sender" in response.json()["error"]
    assert await rows(rt(client), InboxItem) == 0


@pytest.mark.parametrize(
    "sender",
    ["a" * 16, "b" * 128, "3f2a9c1e-7d4b-4e8a-9f00-123456789abc", "user@example.org|+1(555)!~"],
)
async def test_good_sender_ids(client: httpx.AsyncClient, sender: str) -> None:
    response = await say(client, "hi", sender=sender)
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == sender


# -- odd bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"", 422),
        (b"{not json", 422),
        (b"null", 422),
        (b"[]", 422),
        (b'"hi"', 422),
        (b"{}", 422),
        (b'{"sender": "' + SENDER.encode() + b'"}', 422),
        (b'{"message": "hi"}', 422),
        (b'{"sender": 1234567890123456789, "message": "hi"}', 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": 5}', 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": null}', 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": ["hi"]}', 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": "hi", "metadata": 3}', 422),
        (
            b'{"sender": "' + SENDER.encode() + b'", "message": "hi", "metadata": '
            b'{"message_id": 7}}',
            422,
        ),
        (b'{"sender": "' + SENDER.encode() + b'", "message": "\xff\xfe bad utf8"}', 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": "' + b"a" * 20_001 + b'"}', 422),
        (b"[" * 30_000 + b"]" * 30_000, 422),
        (b'{"sender": "' + SENDER.encode() + b'", "message": "' + b"a" * 70_000 + b'"}', 413),
    ],
)
async def test_odd_bodies_get_a_clear_4xx_json_error(
    client: httpx.AsyncClient, payload: bytes, status: int
) -> None:
    response = await client.post(
        PATH, content=payload, headers={**AUTH, "content-type": "application/json"}
    )
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)
    assert await rows(rt(client), InboxItem) == 0


async def test_chunked_body_without_length_is_capped_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"sender": "' + SENDER.encode() + b'", "message": "'
        for _ in range(20):
            yield b"a" * 4096
        yield b'"}'

    response = await client.post(PATH, content=chunks(), headers=AUTH)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {"error": "body too large"}


async def test_odd_but_valid_text_gets_replies(client: httpx.AsyncClient) -> None:
    await say(client, "hi")
    for text in ["", "   ", "\x00\x01", "\ud800 broken", "🙂" * 50, "<script>x</script>"]:
        body = json.dumps({"sender": SENDER, "message": text}).encode()  # ASCII, \u escapes
        response = await client.post(PATH, content=body, headers=AUTH)
        assert response.status_code == 200, text
        assert response.json(), text


# -- limits and failures ---------------------------------------------------------------------


async def test_flooding_one_sender_gets_429_with_the_kind_text(
    client: httpx.AsyncClient,
) -> None:
    limit = rt(client).settings.rate_limit_per_minute
    codes = [(await say(client, "hello")).status_code for _ in range(limit)]
    assert set(codes) == {200}
    response = await say(client, "hello")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    body = response.json()
    assert body["error"] == "too many messages"
    assert body["messages"][0]["recipient_id"] == SENDER
    assert "wait a moment" in body["messages"][0]["text"]
    # Another sender is not held back, and distress never is.
    assert (await say(client, "hello", sender="someone-else-000001")).status_code == 200
    crisis = await say(client, "I want to kill myself tonight")
    assert crisis.status_code == 200
    assert "911" in " ".join(item["text"] for item in crisis.json())


async def test_storage_down_is_503_with_the_crisis_text_on_distress(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError("database gone")

    for way_in in ("sessions", "write_sessions", "connect"):
        monkeypatch.setattr(rt(client).pipeline.db, way_in, broken)
    crisis = await say(client, "I want to kill myself tonight")
    assert crisis.status_code == 503
    body = crisis.json()
    assert body["error"] == "service unavailable"
    assert "911" in body["messages"][0]["text"]
    plain = await say(client, "what is a t visa")
    assert plain.status_code == 503
    assert "send your message again" in plain.json()["messages"][0]["text"]


async def test_a_bug_in_a_turn_is_a_503_json_not_a_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def bug(message: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(rt(client).pipeline, "handle", bug)
    response = await say(client, "hi")
    assert response.status_code == 503
    assert response.json()["error"] == "service unavailable"
    assert response.json()["messages"][0]["recipient_id"] == SENDER


async def test_the_endpoint_is_described_in_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][PATH]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "404", "413", "422", "429", "503"}
    assert operation["security"] == [{"HTTPBearer": []}]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["sender", "message"]
    assert body["properties"]["sender"]["minLength"] == 16
    assert MAX_BODY_BYTES == 64 * 1024


# -- the fast path past the router -------------------------------------------------------------


def _without_fast_path(http: httpx.AsyncClient) -> None:
    """Take the fast path out of an app not yet called: requests then go through the router."""
    app = http._transport.app  # type: ignore[attr-defined]
    assert app.middleware_stack is None  # Built at the first request, from this list.
    app.user_middleware = [m for m in app.user_middleware if m.cls is not RestWebhookFastPath]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"sender": "fast-path-sender-0001", "message": "hi"}', AUTH),
        (b'{"sender": "fast-path-sender-0002", "message": "I want to die tonight"}', AUTH),
        (b'{"sender": "short", "message": "hi"}', AUTH),
        (b"{not json", AUTH),
        (b'{"sender": "fast-path-sender-0003"}', AUTH),
        (b'{"sender": "fast-path-sender-0004", "message": "hi"}', {}),
        (b'{"sender": "fast-path-sender-0005", "message": "hi"}', {"Authorization": "Basic x"}),
    ],
)
async def test_the_fast_path_answers_as_the_routed_endpoint_does(
    make_client: Callable[..., Any], body: bytes, headers: dict[str, str]
) -> None:
    # Two apps with equal settings: one conversation each, so equal replies.
    fast = await make_client(REST_CHANNEL_ENABLED=True, REST_CHANNEL_TOKEN=TOKEN)
    routed = await make_client(REST_CHANNEL_ENABLED=True, REST_CHANNEL_TOKEN=TOKEN)
    _without_fast_path(routed)
    fast_app = fast._transport.app  # type: ignore[attr-defined]
    assert any(m.cls is RestWebhookFastPath for m in fast_app.user_middleware)
    by_fast_path = await fast.post(PATH, content=body, headers=headers)
    by_router = await routed.post(PATH, content=body, headers=headers)
    assert by_fast_path.status_code == by_router.status_code
    assert by_fast_path.json() == by_router.json()
    assert by_fast_path.headers.get("www-authenticate") == by_router.headers.get("www-authenticate")
    assert await rows(rt(fast), InboxItem) == await rows(rt(routed), InboxItem)


async def test_only_a_post_to_the_exact_path_takes_the_fast_path(client: httpx.AsyncClient) -> None:
    assert (await client.get(PATH, headers=AUTH)).status_code == 405
    assert (await client.put(PATH, json={}, headers=AUTH)).status_code == 405
    slash = await client.post(PATH + "/", json={"sender": SENDER, "message": "hi"}, headers=AUTH)
    assert slash.status_code in (307, 404)  # The router's answer, not a turn.
    assert await rows(rt(client), InboxItem) == 0


async def test_an_oversized_body_is_refused_before_the_fast_path_reads_it(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"sender": "' + b"x" * MAX_BODY_BYTES + b'", "message": "hi"}'
    response = await client.post(PATH, content=body, headers=AUTH)
    assert response.status_code == 413
    assert await rows(rt(client), InboxItem) == 0
