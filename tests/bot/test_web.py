"""The web chat and health endpoints through the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from bot.web.app import create_app
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings

SESSION = "s" * 24


@pytest.fixture
async def client(
    tmp_path: Path, kb: KnowledgeBase, intents: IntentClassifier | None, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    from bot.runtime import build_runtime

    settings = make_settings(tmp_path)
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        http.runtime = runtime  # type: ignore[attr-defined]
        yield http
    await runtime.close()


def frame(text: str, msg_id: str = "1", session: str = SESSION) -> dict[str, str]:
    return {"session": session, "id": msg_id, "text": text}


async def test_chat_page_is_served_without_third_party_requests(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "Exit" in page.text
    assert "http://" not in page.text.replace('data-url="https://', "")
    assert "cdn" not in page.text.lower()
    script = await client.get("/static/chat.js")
    assert script.status_code == 200 and "sessionStorage" in script.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_readiness_fails_when_the_database_is_gone(client: httpx.AsyncClient) -> None:
    runtime: Runtime = client.runtime  # type: ignore[attr-defined]
    original = runtime.db.ping

    async def broken() -> None:
        raise OSError("gone")

    runtime.db.ping = broken  # type: ignore[method-assign]
    try:
        response = await client.get("/readyz")
    finally:
        runtime.db.ping = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


async def test_a_conversation_over_http(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/chat", json=frame("/start", "1"))
    assert first.status_code == 200
    body = first.json()
    assert "automated assistant" in body["replies"][0]["text"]
    assert body["replies"][-1]["choices"][0]["value"] == "/yes"
    crisis = await client.post("/api/chat", json=frame("i want to end my life tonight", "2"))
    assert crisis.status_code == 200
    assert "911" in crisis.json()["replies"][0]["text"]


async def test_retry_with_the_same_id_returns_the_same_replies(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    one = await client.post("/api/chat", json=frame("help", "2"))
    two = await client.post("/api/chat", json=frame("help", "2"))
    assert one.json()["replies"] == two.json()["replies"]
    assert two.json()["status"] == "duplicate"


async def test_quick_exit_tells_the_page_to_leave(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    body = (await client.post("/api/chat", json=frame("/exit", "2"))).json()
    assert body["exit"] is True


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        b'{"session": "short", "id": "1", "text": "hi"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "../../etc", "text": "hi"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1", "text": 5}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1", "text": "\xff\xfe bad utf8"}',
    ],
)
async def test_malformed_frames_get_a_clear_4xx(client: httpx.AsyncClient, payload: bytes) -> None:
    response = await client.post(
        "/api/chat", content=payload, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


async def test_oversized_body_is_refused_before_reading(client: httpx.AsyncClient) -> None:
    huge = {"session": SESSION, "id": "1", "text": "a" * 100_000}
    response = await client.post("/api/chat", json=huge)
    assert response.status_code == 413


async def test_long_but_allowed_message_gets_a_kind_reply(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    response = await client.post("/api/chat", json=frame("please help " * 500, "2"))
    assert response.status_code == 200
    assert "long message" in " ".join(r["text"] for r in response.json()["replies"])


async def test_flooding_gets_429_with_a_kind_text(client: httpx.AsyncClient) -> None:
    runtime: Runtime = client.runtime  # type: ignore[attr-defined]
    codes = []
    for i in range(runtime.settings.rate_limit_per_minute + 2):
        response = await client.post("/api/chat", json=frame("hello", f"f{i}"))
        codes.append(response.status_code)
    assert codes[-1] == 429
    assert "wait a moment" in response.json()["replies"][0]["text"]


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
